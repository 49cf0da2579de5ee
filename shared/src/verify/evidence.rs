//! R7 (and R1 on site): the evidence a field step cannot do without —
//! fixes, process photos, the face photo with its match and liveness — and
//! how the tag was read.

use super::{Judging, Missing, Violation};
use crate::record::{MediaPurpose, Payload, RecordKind, TagReadMethod};

pub(super) fn check(j: &Judging<'_>, v: &mut Vec<Violation>) {
    let ev = &j.body.evidence;
    if matches!(j.body.kind(), RecordKind::Sampling | RecordKind::Witnessing) {
        if ev.fixes.is_empty() {
            v.push(Violation::MissingEvidence { what: Missing::Location });
        }
        if ev.media_with(MediaPurpose::Process).next().is_none() {
            v.push(Violation::MissingEvidence { what: Missing::ProcessPhoto });
        }
    }
    let face = match &j.body.payload {
        Payload::Sampling(s) => Some(&s.face),
        Payload::Witnessing(w) => Some(&w.face),
        _ => None,
    };
    if let Some(face) = face {
        if !ev.media_with(MediaPurpose::Face).any(|m| m.sha256 == face.photo) {
            v.push(Violation::MissingEvidence { what: Missing::FacePhoto });
        }
        let threshold = (j.ctx.policy.face_match_threshold * 1000.0).round() as i32;
        let threshold = threshold.max(face.threshold_milli);
        if !face.matched || face.score_milli < threshold {
            v.push(Violation::FaceMismatch { score_milli: face.score_milli, threshold_milli: threshold });
        }
        match &face.liveness {
            None => v.push(Violation::NoLivenessCheck),
            Some(l) if !l.passed => v.push(Violation::LivenessFailed),
            _ => {}
        }
    }
    let tag_read = match &j.body.payload {
        Payload::Sampling(s) => Some(&s.tag_read),
        Payload::Witnessing(w) => Some(&w.tag_read),
        Payload::LabReceipt(r) => Some(&r.tag_read),
        _ => None,
    };
    if tag_read.is_some_and(|t| t.method == TagReadMethod::Manual) {
        v.push(Violation::ManualTagEntry);
    }
}
