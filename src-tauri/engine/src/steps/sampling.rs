//! R6-R7: the sampler binds a tag to a specimen, with face check, fixes and
//! photos; then shows the witness the handshake QR (R8-R9).

use super::{Created, FieldEvidence};
use crate::context;
use crate::engine::Engine;
use crate::error::{EngineError, Result};
use crate::handshake::HandshakeOffer;
use custody_core::model::Id;
use custody_core::place;
use custody_core::protocol::DeviceProfile;
use custody_core::record::{FaceCheck, Payload, Sampling, SignedRecord, Specimen, TagRead};
use custody_core::{Hash, TagCode};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SamplingInput {
    pub tag: TagCode,
    pub tag_read: TagRead,
    pub seal: Option<String>,
    pub project: Id,
    pub unit_project: Id,
    pub specimen: Specimen,
    pub face: FaceCheck,
    pub evidence: FieldEvidence,
}

/// When a sampling was made, by the best evidence this phone has.
pub(crate) fn sampled_estimate(rec: &SignedRecord, profile: &DeviceProfile) -> i64 {
    context::assess(rec, profile).claimed.earliest_ms
}

impl Engine {
    /// R6-R7: bind a tag to a specimen, with face check, fixes and photos.
    pub fn create_sampling(&self, input: SamplingInput, confirm: bool) -> Result<Created> {
        self.enrolled()?;
        self.check_media_present(&input.evidence.media)?;
        let payload = Payload::Sampling(Sampling {
            tag: input.tag,
            tag_read: input.tag_read,
            seal: input.seal,
            project: input.project,
            unit_project: input.unit_project,
            specimen: input.specimen,
            face: input.face,
        });
        let judged = self.draft(payload.clone(), &input.evidence)?.judge(vec![], &[], confirm)?;
        self.commit(payload, input.evidence.media, input.evidence.fixes, judged)
    }

    /// The handshake QR the sampler shows the witness (R8-R9).
    pub fn handshake_qr(&self, sampling: &Hash) -> Result<String> {
        let profile = self.profile()?;
        let Some(held) = self.store.record(sampling)?.filter(|h| h.mine) else {
            return Err(EngineError::invalid(
                "没有这条本机取样记录",
                "no such sampling record of this device",
            ));
        };
        let rec = &held.record;
        let Payload::Sampling(s) = &rec.body().payload else {
            return Err(EngineError::invalid("这不是取样记录", "not a sampling record"));
        };
        let sampled = sampled_estimate(rec, &profile);
        let best = place::best_fix(&rec.body().evidence.fixes);
        Ok(HandshakeOffer {
            record: rec.id(),
            sig: *rec.sig(),
            device: rec.body().device,
            author: rec.body().author.clone(),
            author_name: profile.person.name.clone(),
            tag: s.tag.clone(),
            project: s.project.clone(),
            unit_project: s.unit_project.clone(),
            kind: s.specimen.kind,
            pos: best.map(|f| f.pos),
            accuracy_cm: best.map(|f| f.accuracy_cm),
            sampled_ms: sampled,
            deadline_ms: sampled + profile.policy.witness_window_ms,
        }
        .to_qr())
    }
}
