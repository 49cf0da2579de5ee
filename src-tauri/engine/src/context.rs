//! The verification context for a draft, gathered from what the phone holds
//! offline. A thin gatherer on purpose: every fact comes from a plain
//! domain method of the local store (device and profile facts, a record by
//! id, the records naming a tag, tag batches, unit projects, lab
//! assignments), so a context builder in `custody-core` taking a fact
//! source can replace this module without touching the store.

use crate::error::Result;
use crate::store::LocalStore;
use custody_core::TagCode;
use custody_core::custody::{self, SpecimenState, Step};
use custody_core::protocol::DeviceProfile;
use custody_core::record::{RecordBody, RecordKind, SignedRecord};
use custody_core::time::{self, TimeAssessment, TimeContext};
use custody_core::verify::{self, TagFacts, VerifyContext};
use std::collections::BTreeMap;

/// The verification context of a draft of `body`.
pub(crate) fn draft_context(store: &LocalStore, body: &RecordBody) -> Result<VerifyContext> {
    let profile = store.enrolled()?.profile.clone();
    let mut tags = BTreeMap::new();
    for t in body.payload.tags() {
        tags.insert(t.clone(), TagFacts { batch: store.tag_batch(t)?, state: tag_state(store, t)? });
    }
    let mut referenced = BTreeMap::new();
    for r in body.payload.references() {
        if let Some(held) = store.record(&r)? {
            let time = assess(&held.record, &profile);
            let cosigners = held.record.cosigs().iter().map(|x| x.author.clone()).collect();
            referenced.insert(r, verify::Referenced { record: held.record, time, cosigners });
        }
    }
    Ok(VerifyContext {
        device: store.device_facts()?,
        chain_tail: None,
        time: time_context(&profile),
        grants: store.grants()?,
        tags,
        referenced,
        unit_projects: store.unit_projects()?,
        lab_assignments: store.lab_assignments()?,
        cosigners: BTreeMap::new(),
        draft: true,
        signatures_verified: false,
        policy: profile.policy,
        server_keys: profile.server_keys,
    })
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
