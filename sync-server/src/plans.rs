//! Plans before work starts (issue 15: R2, R4, R5, R15, R19, A4.1), as the
//! server keeps them: it gathers from the store and asks `custody_core::plans`.
//!
//! * [`apply`]: an accepted plan record is projected in log order (the
//!   fold reads them back); a testing contract commissions its lab for each
//!   unit project and category it names, through the same assignments the
//!   operator's `LabCommissioned` writes (R2: one lab per unit project and
//!   category, whichever path); an accepted sampling is kept with the plan
//!   item it names.
//! * [`source_facts`]: what the verifier needs about a project's plans.
//! * [`overview`]: a project's plans, pre-start gaps and progress, for the
//!   console and the API.

use crate::facts::grant_facts;
use crate::store::{Result, Tx};
use custody_core::model::{Id, PersonRole};
use custody_core::plans::progress::{self, Counts, ItemProgress, ProgressPolicy};
use custody_core::plans::{ContractTerms, PreStartGap, ProjectPlans, prestart};
use custody_core::record::{LabAssignment, Payload, SignedRecord};
use custody_core::verify::PlanSourceFacts;
use std::collections::{BTreeMap, BTreeSet};

/// Give an accepted device record its plan effect (nothing for others).
pub fn apply(tx: &mut dyn Tx, rec: &SignedRecord, now: i64) -> Result<()> {
    let body = rec.body();
    let (project, payload_json) = match &body.payload {
        Payload::Sampling(s) => {
            tx.insert_plan_sampling(
                s.tag.as_str(),
                &s.project,
                &s.unit_project,
                s.specimen.plan_item.as_ref(),
                s.specimen.kind,
                now,
            )?;
            return Ok(());
        }
        Payload::ContractRegistered(c) => {
            if let ContractTerms::Testing { lab, unit_projects, kinds, .. } = &c.terms {
                for u in unit_projects {
                    tx.insert_lab_assignment(&LabAssignment {
                        project: c.project.clone(),
                        unit_project: u.clone(),
                        lab: lab.clone(),
                        kinds: kinds.clone(),
                    })?;
                }
            }
            (&c.project, json(c))
        }
        Payload::SamplingPlanDrafted(p) => (&p.project, json(p)),
        Payload::TestingPlanDrafted(p) => (&p.project, json(p)),
        Payload::PlanApproved(a) => (&a.project, json(a)),
        Payload::PreStartChecked(c) => (&c.project, json(c)),
        _ => return Ok(()),
    };
    tx.insert_plan_record(project, &rec.id(), body.kind().as_str(), &body.author, now, &payload_json)
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plan payloads serialise")
}

/// A project's plan records, folded.
pub fn project_plans(tx: &mut dyn Tx, project: &Id) -> Result<ProjectPlans> {
    Ok(ProjectPlans::fold(tx.plan_records(project)?))
}

/// R19: what is missing before work starts on `project` at `now`.
pub fn prestart_gaps(
    tx: &mut dyn Tx,
    project: &Id,
    plans: &ProjectPlans,
    now: i64,
) -> Result<Vec<PreStartGap>> {
    let units: Vec<Id> = tx.unit_projects_of(project)?.into_iter().map(|u| u.id).collect();
    let grants: Vec<(Id, custody_core::verify::Grant)> =
        tx.grants_on(project)?.into_iter().map(|g| (g.person.clone(), grant_facts(g))).collect();
    let people: BTreeSet<&Id> = grants.iter().map(|(p, _)| p).collect();
    let phones: Vec<(Id, Option<i64>)> = tx
        .devices()?
        .into_iter()
        .filter(|d| people.contains(&d.person))
        .map(|d| (d.person, d.revoked_ms))
        .collect();
    let in_post = |role| prestart::people_in_post(&grants, &phones, role, project, now);
    Ok(prestart::gaps(&prestart::PreStartFacts {
        plans,
        unit_projects: &units,
        samplers_in_post: in_post(PersonRole::Sampler),
        witnesses_in_post: in_post(PersonRole::Witness),
    }))
}

/// What the verifier needs to judge a plan record or a sampling of
/// `project` by `author` (and the organisation a contract names).
pub fn source_facts(
    tx: &mut dyn Tx,
    project: &Id,
    author: &Id,
    named_org: Option<&Id>,
    now: i64,
) -> Result<PlanSourceFacts> {
    let plans = project_plans(tx, project)?;
    let prestart_gaps = Some(prestart_gaps(tx, project, &plans, now)?);
    let author_org = match tx.person(author)? {
        Some(p) => tx.org(&p.org)?,
        None => None,
    };
    let (named, lab_registries, guide_prices) = match named_org {
        Some(o) => (tx.org(o)?, tx.registry_versions(o)?, tx.guide_prices(o)?),
        None => (None, Vec::new(), Vec::new()),
    };
    Ok(PlanSourceFacts {
        project: tx.project(project)?,
        unit_projects: tx.unit_projects_of(project)?.into_iter().map(|u| u.id).collect(),
        lab_assignments: tx.lab_assignments_of(project)?,
        prestart_gaps,
        author_org,
        named_org: named,
        lab_registries,
        guide_prices,
        plans,
    })
}

/// A project's progress against plan (A4.1) and what was sampled outside it.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub items: Vec<ItemProgress>,
    /// Per unit project, specimens sampled outside the approved plan
    /// (no item, or an item not in the plan in force).
    pub outside: BTreeMap<Id, Counts>,
}

/// Progress of `project` at `now`: one grouped query, folded by the core.
pub fn progress(
    tx: &mut dyn Tx,
    project: &Id,
    plans: &ProjectPlans,
    now: i64,
    policy: ProgressPolicy,
) -> Result<Progress> {
    let mut counts: BTreeMap<(Id, Id), Counts> = BTreeMap::new();
    let mut outside: BTreeMap<Id, Counts> = BTreeMap::new();
    for row in tx.plan_stage_counts(project)? {
        let c = Counts::at_stage(row.stage, row.count as u32);
        // Counted against its item only when inside the plan, by the rule
        // the verifier marks it with (an item of another kind is outside).
        let inside = |i: &Id| {
            custody_core::plans::sampling_outside_plan(plans, &row.unit_project, row.kind, Some(i)).is_none()
        };
        match row.plan_item.filter(|i| inside(i)) {
            Some(item) => counts.entry((row.unit_project, item)).or_default().add(c),
            None => outside.entry(row.unit_project).or_default().add(c),
        }
    }
    Ok(Progress { items: progress::project_progress(plans, &counts, now, policy), outside })
}
