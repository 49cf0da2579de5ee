//! The verification context for a draft, gathered by the core's one
//! builder (`custody_core::verify::build`) from what the phone holds
//! offline: the local store as a `FactSource`. Plain lookups only; what a
//! record needs is decided in the core.

use crate::error::{EngineError, Result};
use crate::plans;
use crate::store::LocalStore;
use custody_core::custody::{self, SpecimenState, Step};
use custody_core::lab_registry::RegistryVersion;
use custody_core::model::{Id, Organisation, Person, Project, UnitProject};
use custody_core::protocol::DeviceProfile;
use custody_core::record::{Cosignature, LabAssignment, RecordBody, RecordKind, SignedRecord};
use custody_core::tag::{BatchKey, TagBatch};
use custody_core::time::{self, Millis, TimeAssessment, TimeContext};
use custody_core::verify::{
    self, Cosigner, DeviceFacts, FactSource, Grant, PlanSourceFacts, Situation, Subject, TagFacts,
    VerifyContext, Violation,
};
use custody_core::{Hash, PublicKey, TagCode};

/// The verification context of a draft of `body`.
pub(crate) fn draft_context(store: &LocalStore, body: &RecordBody) -> Result<VerifyContext> {
    let profile = store.enrolled()?.profile.clone();
    let situation = Situation {
        policy: profile.policy.clone(),
        server_keys: profile.server_keys.clone(),
        draft: true,
        ..Situation::default()
    };
    verify::build(Subject::Draft(body), situation, &mut PhoneFacts { store, profile: &profile })
}

/// What the phone knows, as the core's fact source: its own person and
/// device, its profile (projects, batches, boundaries, labs), the records
/// it holds, and what the lab was last shown about a tag. It knows no other
/// device and no directory beyond its profile; the server, which does,
/// judges the signed record again.
struct PhoneFacts<'a> {
    store: &'a LocalStore,
    profile: &'a DeviceProfile,
}

impl FactSource for PhoneFacts<'_> {
    type Error = EngineError;
    fn device(&mut self, _key: &PublicKey) -> Result<Option<DeviceFacts>> {
        // A draft is always this device's own.
        self.store.device_facts()
    }
    fn grants_of(&mut self, person: &Id) -> Result<Vec<Grant>> {
        if person == &self.profile.person.id { self.store.grants() } else { Ok(vec![]) }
    }
    fn cosigner(&mut self, c: &Cosignature) -> Result<Option<Cosigner>> {
        // Offline the phone cannot tie a co-signature to its device: it takes
        // the signed claim, and the server, which can, judges it.
        Ok(Some(Cosigner { person: c.author.clone(), device_revoked_at_ms: None, grants: vec![] }))
    }
    fn referenced(&mut self, id: &Hash) -> Result<Option<(SignedRecord, TimeAssessment)>> {
        Ok(self.store.record(id)?.map(|held| {
            let time = assess(&held.record, self.profile);
            (held.record, time)
        }))
    }
    fn tag(&mut self, tag: &TagCode) -> Result<TagFacts> {
        Ok(TagFacts { batch: self.store.tag_batch(tag)?, state: tag_state(self.store, tag)? })
    }
    fn unit_project(&mut self, id: &Id) -> Result<Option<UnitProject>> {
        Ok(self.store.unit_projects()?.remove(id))
    }
    fn lab_assignments_of(&mut self, project: &Id) -> Result<Vec<LabAssignment>> {
        Ok(self.store.lab_assignments()?.into_iter().filter(|a| &a.project == project).collect())
    }
    fn covering_anchor_ms(&mut self, _: &PublicKey, _: u64, _: &Hash) -> Result<Option<Millis>> {
        Ok(None)
    }
    fn org(&mut self, _: &Id) -> Result<Option<Organisation>> {
        Ok(None)
    }
    fn project(&mut self, _: &Id) -> Result<Option<Project>> {
        Ok(None)
    }
    fn person(&mut self, _: &Id) -> Result<Option<Person>> {
        Ok(None)
    }
    fn grant(&mut self, _: &Id) -> Result<Option<Grant>> {
        Ok(None)
    }
    fn batches(&mut self, _: BatchKey) -> Result<Vec<TagBatch>> {
        Ok(vec![])
    }
    fn trail_findings(&mut self, tag: &TagCode) -> Result<Vec<Violation>> {
        self.store.trail_findings(tag)
    }
    fn lab_registries(&mut self, _: &Id) -> Result<Option<Vec<RegistryVersion>>> {
        // The profile carries no registries: the server judges a test
        // against its lab's registry (R3) when the signed record arrives.
        Ok(None)
    }
    /// The project's plan records the feed brought, folded as the server
    /// folds its own (R4): a sampling outside the approved plan is marked
    /// on the phone, offline, as on the server. A contract (`named_org`) is
    /// judged against the directory — lab registries, filed guide prices —
    /// which the phone does not hold: the server judges it.
    fn plan_facts(
        &mut self,
        project: &Id,
        author: &Id,
        named_org: Option<&Id>,
    ) -> Result<Option<PlanSourceFacts>> {
        if named_org.is_some() {
            return Ok(None);
        }
        let view = self.profile.projects.iter().find(|p| &p.project.id == project);
        Ok(Some(PlanSourceFacts {
            plans: plans::project_plans(self.store, project)?,
            project: view.map(|v| v.project.clone()),
            unit_projects: view
                .map(|v| v.unit_projects.iter().map(|u| u.id.clone()).collect())
                .unwrap_or_default(),
            lab_assignments: view.map(|v| v.labs.clone()).unwrap_or_default(),
            // The phone cannot count who is in post: a pre-start check is
            // judged on it by the server (R19).
            prestart_gaps: None,
            author_org: (author == &self.profile.person.id).then(|| self.profile.org.clone()),
            named_org: None,
            lab_registries: vec![],
            guide_prices: vec![],
        }))
    }
}

/// What the phone can establish about a record's time: the server keys it
/// trusts, nothing the server alone knows (first receipt, covering anchors).
pub(crate) fn time_context(profile: &DeviceProfile) -> TimeContext {
    TimeContext { server_keys: profile.server_keys.clone(), ..TimeContext::default() }
}

/// A record's time as far as this phone can assess it.
pub(crate) fn assess(rec: &SignedRecord, profile: &DeviceProfile) -> TimeAssessment {
    let b = rec.body();
    time::assess(&b.evidence.time, &b.device, &b.evidence.fixes, &time_context(profile), &profile.policy)
}

/// The order custody steps apply in when the phone replays a tag's records.
fn kind_order(k: RecordKind) -> u8 {
    match k {
        RecordKind::Sampling => 0,
        RecordKind::Witnessing => 1,
        RecordKind::Commission => 2,
        RecordKind::LabReceipt => 3,
        RecordKind::TestData => 4,
        RecordKind::Report => 5,
        _ => 9,
    }
}

/// A tag's custody state as far as this phone knows (its own records, even
/// unsynced, and what the server sent it; refused, rejected and deferred
/// ones have no custody effect).
pub(crate) fn tag_state(store: &LocalStore, tag: &TagCode) -> Result<SpecimenState> {
    let mut steps: Vec<(u8, u64, Step)> = Vec::new();
    for held in store.records_naming_tag(tag.as_str())? {
        if matches!(held.state.as_str(), "refused" | "rejected" | "deferred") {
            continue;
        }
        let rec = &held.record;
        for (t, step) in Step::from_payload(rec.id(), &rec.body().payload) {
            if &t == tag {
                steps.push((kind_order(rec.body().kind()), rec.body().seq, step));
            }
        }
    }
    steps.sort_by_key(|(k, seq, _)| (*k, *seq));
    let mut s = SpecimenState::UNBOUND;
    for (_, _, step) in &steps {
        if let Ok(next) = custody::apply(&s, step) {
            s = next;
        }
    }
    Ok(s)
}
