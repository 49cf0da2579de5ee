//! Contracts, plans, approvals and pre-start checks (R2, R4, R5, R15, R19),
//! and a sampling's place in the approved plan (R4): the rules are in
//! `crate::plans`; here they meet the record's context.

use super::{Judging, Violation};
use crate::plans;
use crate::plans::rules::{self, PlanFacts};
use crate::record::Payload;

pub(super) fn check(j: &Judging<'_>, v: &mut Vec<Violation>) {
    let Some(src) = j.ctx.plans.as_ref() else { return };
    let lab_registry = crate::lab_registry::in_force(&src.lab_registries, j.t_hi).map(|r| &r.registry);
    let f = PlanFacts {
        plans: &src.plans,
        project: src.project.as_ref(),
        unit_projects: &src.unit_projects,
        author_org: src.author_org.as_ref(),
        named_org: src.named_org.as_ref(),
        lab_assignments: &src.lab_assignments,
        lab_registry,
        guide_prices: &src.guide_prices,
        gaps_now: src.prestart_gaps.as_deref(),
        at_ms: j.t_hi,
    };
    let problems = match &j.body.payload {
        Payload::Sampling(s) => {
            if let Some(reason) = plans::sampling_outside_plan(
                &src.plans,
                &s.unit_project,
                s.specimen.kind,
                s.specimen.plan_item.as_ref(),
            ) {
                v.push(Violation::OutsidePlan { reason });
            }
            return;
        }
        Payload::ContractRegistered(c) => {
            // A testing contract with a lab that has no registry on file:
            // its scope cannot be checked; said, not refused (R3).
            if let plans::ContractTerms::Testing { lab, .. } = &c.terms
                && lab_registry.is_none()
                && src.named_org.is_some()
            {
                v.push(Violation::NoLabRegistry { lab: lab.clone() });
            }
            rules::contract(c, &f)
        }
        Payload::SamplingPlanDrafted(p) => rules::sampling_plan(p, &f),
        Payload::TestingPlanDrafted(p) => rules::testing_plan(p, &f),
        Payload::PlanApproved(a) => rules::approval(a, &f),
        Payload::PreStartChecked(c) => rules::prestart_check(c, &f),
        _ => return,
    };
    v.extend(problems.into_iter().map(|problem| Violation::PlanInvalid { problem }));
}
