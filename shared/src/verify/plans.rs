//! Contracts, plans, approvals and pre-start checks (R2, R4, R5, R15, R19),
//! and a sampling's place in the approved plan (R4): the rules are in
//! `crate::plans`; here they meet the record's context.

use super::{Judging, Violation};
use crate::plans::{self, rules};
use crate::record::Payload;

pub(super) fn check(j: &Judging<'_>, v: &mut Vec<Violation>) {
    let Some(src) = j.ctx.plans.as_ref() else { return };
    let f = src.facts(j.t_hi);
    match &j.body.payload {
        Payload::Sampling(s) => {
            if let Some(reason) = plans::sampling_outside_plan(
                &src.plans,
                &s.unit_project,
                s.specimen.kind,
                s.specimen.plan_item.as_ref(),
            ) {
                v.push(Violation::OutsidePlan { reason });
            }
        }
        payload => {
            // A testing contract with a lab that has no registry on file:
            // its scope cannot be checked; said, not refused (R3).
            if let Payload::ContractRegistered(c) = payload
                && let plans::ContractTerms::Testing { lab, .. } = &c.terms
                && f.lab_registry.is_none()
                && src.named_org.is_some()
            {
                v.push(Violation::NoLabRegistry { lab: lab.clone() });
            }
            let problems = rules::check(payload, &f).unwrap_or_default();
            v.extend(problems.into_iter().map(|problem| Violation::PlanInvalid { problem }));
        }
    }
}
