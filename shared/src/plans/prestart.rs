//! R19: before work starts, the authority checks that the testing contract
//! and the tag contract exist and that samplers and witnesses are in post;
//! with them, that each unit project's sampling plan (R4) and testing plan
//! (R5) are approved and that the tags contracted cover what the plans
//! need. [`gaps`] is the system's list; the inspector confirms it with a
//! signed [`super::PreStartCheck`], which cannot pass while it is not empty.

use super::{ContractTerms, PlanHistory, PreStartGap, ProjectPlans};
use crate::model::Id;
use crate::verify::Lang;

/// What the server counts for a project besides its plan records.
#[derive(Debug, Clone, Copy)]
pub struct PreStartFacts<'a> {
    pub plans: &'a ProjectPlans,
    /// The project's unit projects.
    pub unit_projects: &'a [Id],
    /// People with a sampler / witness authorisation on the project in
    /// force now and an enrolled, unrevoked phone (R1: authorised and able
    /// to act).
    pub samplers_in_post: u32,
    pub witnesses_in_post: u32,
}

/// R1, R19: how many people are in post for `role` on `project` at `now`:
/// an authorisation for it on the project in force, and an enrolled phone
/// not revoked (a person without one cannot sign a sampling).
pub fn people_in_post(
    grants: &[(Id, crate::verify::Grant)],
    phones: &[(Id, Option<crate::time::Millis>)],
    role: crate::model::PersonRole,
    project: &Id,
    now: crate::time::Millis,
) -> u32 {
    let mut people: Vec<&Id> = grants
        .iter()
        .filter(|(_, g)| g.covers(role, Some(project)) && g.valid_at(now))
        .filter(|(p, _)| phones.iter().any(|(q, revoked)| q == p && revoked.is_none_or(|r| r > now)))
        .map(|(p, _)| p)
        .collect();
    people.sort();
    people.dedup();
    people.len() as u32
}

/// Everything missing before work may start, in a fixed order.
pub fn gaps(f: &PreStartFacts<'_>) -> Vec<PreStartGap> {
    let mut out = Vec::new();
    if f.unit_projects.is_empty() {
        out.push(PreStartGap::NoUnitProject);
    }
    for u in f.unit_projects {
        if f.plans.testing_contracts_for(u).next().is_none() {
            out.push(PreStartGap::TestingContract { unit_project: u.clone() });
        }
    }
    let contracted: u32 = f
        .plans
        .contracts
        .iter()
        .filter_map(|c| match c.contract.terms {
            ContractTerms::TagSupply { quantity, .. } => Some(quantity),
            ContractTerms::Testing { .. } => None,
        })
        .fold(0u32, u32::saturating_add);
    let has_tag_contract =
        f.plans.contracts.iter().any(|c| matches!(c.contract.terms, ContractTerms::TagSupply { .. }));
    if !has_tag_contract {
        out.push(PreStartGap::TagSupplyContract);
    }
    for u in f.unit_projects {
        if f.plans.sampling.get(u).and_then(PlanHistory::in_force).is_none() {
            out.push(PreStartGap::SamplingPlanApproved { unit_project: u.clone() });
        }
    }
    let mut needed = 0u32;
    for u in f.unit_projects {
        match f.plans.testing.get(u).and_then(PlanHistory::in_force) {
            None => out.push(PreStartGap::TestingPlanApproved { unit_project: u.clone() }),
            Some(v) => needed = needed.saturating_add(v.plan.tags_needed),
        }
    }
    if has_tag_contract && contracted < needed {
        out.push(PreStartGap::TagsShort { contracted, needed });
    }
    if f.samplers_in_post == 0 {
        out.push(PreStartGap::SamplerInPost);
    }
    if f.witnesses_in_post == 0 {
        out.push(PreStartGap::WitnessInPost);
    }
    out
}

impl PreStartGap {
    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        let t = |z: String, e: String| if zh { z } else { e };
        match self {
            PreStartGap::NoUnitProject => {
                t("尚未登记单位工程".into(), "no unit project is registered".into())
            }
            PreStartGap::TestingContract { unit_project } => t(
                format!("单位工程 {unit_project} 没有登记检测合同（R2）"),
                format!("unit project {unit_project} has no registered testing contract (R2)"),
            ),
            PreStartGap::TagSupplyContract => t(
                "没有登记标识供应合同（R2、R15）".into(),
                "no tag-supply contract is registered (R2, R15)".into(),
            ),
            PreStartGap::SamplingPlanApproved { unit_project } => t(
                format!("单位工程 {unit_project} 的取样计划未经监理批准（R4）"),
                format!("unit project {unit_project} has no sampling plan approved by the supervisor (R4)"),
            ),
            PreStartGap::TestingPlanApproved { unit_project } => t(
                format!("单位工程 {unit_project} 的检测计划未经监理签认（R5）"),
                format!("unit project {unit_project} has no testing plan signed by the supervisor (R5)"),
            ),
            PreStartGap::SamplerInPost => t(
                "没有已授权并在岗的取样员（R1、R19）".into(),
                "no sampler is authorised and in post (R1, R19)".into(),
            ),
            PreStartGap::WitnessInPost => t(
                "没有已授权并在岗的见证员（R1、R19）".into(),
                "no witness is authorised and in post (R1, R19)".into(),
            ),
            PreStartGap::TagsShort { contracted, needed } => t(
                format!("标识供应合同数量 {contracted} 少于检测计划所需 {needed}（R5、R15）"),
                format!(
                    "the tag contracts hold {contracted} tags, fewer than the {needed} the testing plans need (R5, R15)"
                ),
            ),
        }
    }

    /// A stable code (the serde tag), for links and tests.
    pub fn code(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("gap").and_then(|c| c.as_str().map(str::to_owned)))
            .unwrap_or_default()
    }
}
