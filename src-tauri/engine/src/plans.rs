//! The approved sampling plan on the phone (R4, A4.1). The feed brings a
//! project's plan records to every phone of its participants — sampling and
//! testing plan versions, the supervisor's approvals, contracts and
//! pre-start checks — and the store keeps them as it keeps every received
//! record. Here they are folded by the core (`plans::ProjectPlans::fold`)
//! into what is in force, offline:
//!
//! * [`Engine::plan_items`]: the approved items the sampler picks from
//!   (kind, part, grade, tests, unit and quantity filled in from the plan),
//!   each with the samplings this phone knows were taken against it;
//! * `project_plans`: what the draft check of a sampling reads, so the
//!   phone marks a sampling outside the plan exactly as the server does
//!   (`verify::plans`, a notice);
//! * [`Engine::create_plan_record`]: a plan version or an approval signed
//!   from an engine (field-sim, tests) through the same draft → check →
//!   sign path as every custody step.

use crate::engine::Engine;
use crate::error::Result;
use crate::steps::{Created, FieldEvidence};
use crate::store::LocalStore;
use custody_core::Hash;
use custody_core::model::Id;
use custody_core::plans::{
    self, PlanApproval, PlanDoc, PlanItem, PlanRecord, ProjectPlans, SamplingPlan, TestingPlan,
};
use custody_core::record::Payload;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One item of an approved sampling plan in force, as the sampler picks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlanItemView {
    pub project: Id,
    pub unit_project: Id,
    pub unit_project_name: String,
    /// The plan version in force (its record) and its number.
    pub plan_record: Hash,
    pub version: u32,
    pub item: PlanItem,
    /// Samplings the plan asks for.
    pub planned: u32,
    /// Samplings taken against it inside the plan that this phone holds:
    /// its own (even not yet uploaded) and those the feed brought — every
    /// accepted sampling of the project reaches its participants' phones, so
    /// this is the site's count as of the last sync plus this phone's since.
    pub sampled: u32,
}

/// A plan record this device signs (R4, R5).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanRecordInput {
    /// The contractor's sampling plan, a version (R4).
    SamplingPlan(SamplingPlan),
    /// The commissioned lab's testing plan, a version (R5).
    TestingPlan(TestingPlan),
    /// The supervisor approves or returns a plan version (R4, R5).
    Approval(PlanApproval),
}

/// What one held plan record is to the fold; `None` for another kind.
fn plan_doc(payload: &Payload) -> Option<PlanDoc> {
    Some(match payload {
        Payload::ContractRegistered(c) => PlanDoc::Contract(c.clone()),
        Payload::SamplingPlanDrafted(p) => PlanDoc::Sampling(p.clone()),
        Payload::TestingPlanDrafted(p) => PlanDoc::Testing(p.clone()),
        Payload::PlanApproved(a) => PlanDoc::Approval(a.clone()),
        Payload::PreStartChecked(c) => PlanDoc::Check(c.clone()),
        _ => return None,
    })
}

/// Every project's plans as this phone holds them, folded.
pub(crate) fn all_project_plans(store: &LocalStore) -> Result<BTreeMap<Id, ProjectPlans>> {
    let mut by_project: BTreeMap<Id, Vec<PlanRecord>> = BTreeMap::new();
    for held in store.accepted_plan_records()? {
        let body = held.record.body();
        let (Some(project), Some(doc)) = (body.payload.project(), plan_doc(&body.payload)) else { continue };
        by_project.entry(project.clone()).or_default().push(PlanRecord {
            record: held.record.id(),
            author: body.author.clone(),
            at_ms: held.at_ms,
            doc,
        });
    }
    Ok(by_project.into_iter().map(|(p, records)| (p, ProjectPlans::fold(records))).collect())
}

/// One project's plans as this phone holds them, folded (empty: none held).
pub(crate) fn project_plans(store: &LocalStore, project: &Id) -> Result<ProjectPlans> {
    Ok(all_project_plans(store)?.remove(project).unwrap_or_default())
}

impl Engine {
    /// The items of the approved sampling plans in force for the person's
    /// unit projects (R4), in the profile's order of unit projects and the
    /// plan's order of items, with the samplings taken against each. Works
    /// offline, from what the last sync brought.
    pub fn plan_items(&self) -> Result<Vec<PlanItemView>> {
        let profile = self.profile()?;
        let plans = all_project_plans(&self.store)?;
        let mut sampled: BTreeMap<(Id, Id), u32> = BTreeMap::new();
        for held in self.store.samplings_held()? {
            let Payload::Sampling(s) = &held.record.body().payload else { continue };
            let (Some(item), Some(p)) = (&s.specimen.plan_item, plans.get(&s.project)) else { continue };
            if plans::sampling_outside_plan(p, &s.unit_project, s.specimen.kind, Some(item)).is_none() {
                *sampled.entry((s.unit_project.clone(), item.clone())).or_default() += 1;
            }
        }
        let mut out = Vec::new();
        for view in &profile.projects {
            let Some(p) = plans.get(&view.project.id) else { continue };
            for unit in &view.unit_projects {
                let Some(v) = p.sampling.get(&unit.id).and_then(|h| h.in_force()) else { continue };
                for item in &v.plan.items {
                    out.push(PlanItemView {
                        project: view.project.id.clone(),
                        unit_project: unit.id.clone(),
                        unit_project_name: unit.name.clone(),
                        plan_record: v.record,
                        version: v.plan.version,
                        item: item.clone(),
                        planned: item.planned(),
                        sampled: sampled.get(&(unit.id.clone(), item.item.clone())).copied().unwrap_or(0),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Sign a plan version or an approval (R4, R5): checked first with the
    /// plans this phone holds (the server, which holds the contracts and the
    /// directory, judges it again), then signed as the next record of this
    /// device's chain. It carries no media or fixes: it is office work.
    pub fn create_plan_record(&self, input: PlanRecordInput, confirm: bool) -> Result<Created> {
        self.enrolled()?;
        let payload = match input {
            PlanRecordInput::SamplingPlan(p) => Payload::SamplingPlanDrafted(p),
            PlanRecordInput::TestingPlan(p) => Payload::TestingPlanDrafted(p),
            PlanRecordInput::Approval(a) => Payload::PlanApproved(a),
        };
        let evidence = FieldEvidence::default();
        let judged = self.draft(payload.clone(), &evidence)?.judge(vec![], &[], confirm)?;
        self.commit(payload, vec![], vec![], judged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_core::fixtures::{self, Device, T0};
    use custody_core::model::SpecimenKind;
    use custody_core::plans::QuantityRule;
    use custody_core::protocol::RecordStatus;
    use custody_core::record::SignedRecord;

    const DAY: i64 = 24 * 3_600_000;

    fn item(id: &str, kind: SpecimenKind) -> PlanItem {
        PlanItem {
            item: fixtures::id(id),
            kind,
            part: "3层 柱".into(),
            grade: "C30".into(),
            tests: vec!["抗压强度".into()],
            unit: "组".into(),
            per_sampling: 3,
            rule: QuantityRule::Count { samplings: 4 },
            from_ms: T0,
            until_ms: T0 + 90 * DAY,
            stage: "主体结构".into(),
        }
    }

    fn plan(version: u32, supersedes: Option<Hash>, items: Vec<PlanItem>) -> Payload {
        Payload::SamplingPlanDrafted(SamplingPlan {
            plan: fixtures::id("SP-UP-1"),
            project: fixtures::id("PRJ-1"),
            unit_project: fixtures::id("UP-1"),
            version,
            supersedes,
            basis: "结施-01~12".into(),
            note: String::new(),
            items,
        })
    }

    fn approval(of: &SignedRecord, approved: bool) -> Payload {
        Payload::PlanApproved(PlanApproval {
            plan: of.id(),
            project: fixtures::id("PRJ-1"),
            approved,
            note: if approved { String::new() } else { "补充钢筋接头".into() },
        })
    }

    fn signed(d: &mut Device, payload: Payload) -> SignedRecord {
        let body = d.body(payload, vec![], vec![], T0);
        d.sign(body)
    }

    #[test]
    fn r4_only_an_approved_version_is_in_force_whatever_order_the_feed_brings_it_in() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(&dir.path().join("field.sqlite")).unwrap();
        let me = Device::new(3, "P-SAMPLER");
        let mut contractor = Device::new(5, "P-CONTRACTOR");
        let mut supervisor = Device::new(6, "P-SUPERVISOR");
        let v1 = signed(&mut contractor, plan(1, None, vec![item("A", SpecimenKind::ConcreteCube)]));
        let ok1 = signed(&mut supervisor, approval(&v1, true));
        let two = vec![item("A", SpecimenKind::ConcreteCube), item("B", SpecimenKind::RebarCoupler)];
        let v2 = signed(&mut contractor, plan(2, Some(v1.id()), two));
        // A refused approval (kept as evidence by the server) has no effect.
        let ok2 = signed(&mut supervisor, approval(&v2, true));

        // The feed pages by change sequence, not log index: here the
        // approval of version 1 comes in a page before version 1 itself.
        let key = me.key.public();
        store.save_feed_page(&key, &[(ok1.clone(), RecordStatus::Accepted, 2)], 1).unwrap();
        // An approval of a version not held changes nothing.
        assert!(project_plans(&store, &fixtures::id("PRJ-1")).unwrap().sampling.is_empty());
        let page = [
            (v1.clone(), RecordStatus::Accepted, 1),
            (v2.clone(), RecordStatus::Accepted, 3),
            (ok2.clone(), RecordStatus::Refused, 4),
        ];
        store.save_feed_page(&key, &page, 5).unwrap();

        let plans = project_plans(&store, &fixtures::id("PRJ-1")).unwrap();
        let unit = fixtures::id("UP-1");
        let history = &plans.sampling[&unit];
        assert_eq!(history.versions.len(), 2);
        assert_eq!(history.in_force().map(|v| v.record), Some(v1.id()), "version 1 is approved, 2 is not");
        assert!(plans.plan_item(&unit, &fixtures::id("A")).is_some());
        assert!(plans.plan_item(&unit, &fixtures::id("B")).is_none(), "B waits for version 2's approval");
        // Another project's plans are not this one's.
        assert!(project_plans(&store, &fixtures::id("PRJ-2")).unwrap().sampling.is_empty());

        // Once the server accepts an approval of version 2, it is in force.
        store.save_feed_page(&key, &[(ok2, RecordStatus::Accepted, 4)], 6).unwrap();
        let plans = project_plans(&store, &fixtures::id("PRJ-1")).unwrap();
        assert_eq!(plans.sampling[&unit].in_force().map(|v| v.record), Some(v2.id()));
        assert!(plans.plan_item(&unit, &fixtures::id("B")).is_some());
    }
}
