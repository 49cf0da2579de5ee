//! R8-R9: the witness attests a sampling, held in full (synced) or only
//! through the sampler's handshake QR (offline).

use super::sampling::sampled_estimate;
use super::{Created, FieldEvidence};
use crate::engine::Engine;
use crate::error::{EngineError, Result};
use crate::handshake::HandshakeOffer;
use custody_core::custody::{self, SpecimenState};
use custody_core::place::{self, CoPresence, Fix};
use custody_core::protocol::Finding;
use custody_core::record::{FaceCheck, HandshakeMethod, MediaPurpose, Payload, TagRead, Witnessing};
use custody_core::verify::{Disposition, Rule, Violation};
use custody_core::{Hash, TagCode};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WitnessInput {
    pub sampling: Hash,
    pub tag: TagCode,
    pub tag_read: TagRead,
    pub face: FaceCheck,
    pub hand_signature: Option<Hash>,
    pub remarks: String,
    pub evidence: FieldEvidence,
}

impl Engine {
    /// The witness scans the sampler's handshake QR: keep it for the witness record.
    pub fn receive_handshake(&self, qr: &str) -> Result<HandshakeOffer> {
        let offer = HandshakeOffer::from_qr(qr)
            .map_err(|_| EngineError::invalid("这不是取样交接二维码", "not a sampling handshake QR"))?;
        let profile = self.enrolled()?;
        if !profile.profile.projects.iter().any(|p| p.project.id == offer.project) {
            return Err(EngineError::invalid(
                "该取样不属于您参与的项目",
                "this sampling is not on a project you work on",
            ));
        }
        self.store.save_handshake(&offer)?;
        Ok(offer)
    }

    /// R8: attest a sampling — one held in full (synced) or only through its
    /// handshake QR (offline).
    pub fn create_witnessing(&self, input: WitnessInput, confirm: bool) -> Result<Created> {
        let profile = self.profile()?;
        self.check_media_present(&input.evidence.media)?;
        let full = self.store.record(&input.sampling)?.map(|h| h.record);
        let shake = self.store.handshake(&input.sampling)?;
        let (sig, handshake) = match (&full, &shake) {
            (_, Some(h)) => (h.sig, HandshakeMethod::Qr),
            (Some(r), None) => (*r.sig(), HandshakeMethod::Synced),
            (None, None) => {
                return Err(EngineError::invalid(
                    "本机没有这条取样记录：请扫描取样人手机上的交接二维码，或联网同步",
                    "this phone does not hold that sampling: scan the sampler's handshake QR or sync",
                ));
            }
        };
        let payload = Payload::Witnessing(Witnessing {
            sampling: input.sampling,
            tag: input.tag.clone(),
            tag_read: input.tag_read,
            handshake,
            sampling_sig: sig,
            face: input.face,
            hand_signature: input.hand_signature,
            remarks: input.remarks,
        });
        if let Some(h) = input.hand_signature
            && !input.evidence.media.iter().any(|m| m.sha256 == h && m.purpose == MediaPurpose::HandSignature)
        {
            return Err(EngineError::invalid("手写签名未保存", "the handwritten signature was not stored"));
        }
        let mut extra = Vec::new();
        let now = self.now_estimate();
        let (deadline, sampler_pos) = match (&full, &shake) {
            (Some(r), _) => (
                sampled_estimate(r, &profile) + profile.policy.witness_window_ms,
                place::best_fix(&r.body().evidence.fixes).cloned(),
            ),
            (None, Some(h)) => {
                if h.tag != input.tag {
                    return Err(EngineError::Refused(vec![Finding::from(
                        &Violation::TagDiffersFromSampling { sampling_tag: h.tag.clone() },
                    )]));
                }
                (h.deadline_ms, h.pos.map(|pos| reported_fix(pos, h.accuracy_cm)))
            }
            (None, None) => unreachable!("handled above"),
        };
        if now > deadline {
            let window = profile.policy.witness_window_ms;
            let late = now - deadline + window;
            extra.push(Finding {
                code: "late_by_device_clock".into(),
                rule: Rule::R8,
                disposition: Disposition::Flag,
                message_zh: format!(
                    "已超过 {} 见证时限（取样后约 {}）：仍可见证，但将被标记为超时",
                    span_zh(window),
                    span_zh(late)
                ),
                message_en: format!(
                    "past the {} witness window (about {} after sampling): you may still witness, marked late",
                    span_en(window),
                    span_en(late)
                ),
                detail: serde_json::Value::Null,
            });
        }
        if full.is_none()
            && let (Some(a), Some(b)) = (sampler_pos.as_ref(), place::best_fix(&input.evidence.fixes))
            && let CoPresence::Apart { distance_m } =
                place::co_presence(a, b, profile.policy.co_presence_max_m, profile.policy.accuracy_sigma)
        {
            extra.push(Finding::from(&Violation::NotTogether { distance_m: distance_m.round() as i64 }));
        }
        let mut draft = self.draft(payload.clone(), &input.evidence)?;
        if full.is_none()
            && let Some(h) = &shake
            && let Some(f) = draft.context.tags.get_mut(&h.tag)
            && f.state.stage == custody::Stage::Unbound
        {
            // Held only as a handshake: the tag's state comes from it.
            f.state = SpecimenState {
                stage: custody::Stage::Sampled,
                sampling: Some(h.record),
                ..SpecimenState::UNBOUND
            };
        }
        let judged = draft.judge(extra, &[input.sampling], confirm)?;
        self.commit(payload, input.evidence.media, input.evidence.fixes, judged)
    }
}

/// The sampler's position as its handshake QR reports it.
fn reported_fix(pos: place::LatLon, accuracy_cm: Option<u32>) -> Fix {
    Fix {
        pos,
        accuracy_cm: accuracy_cm.unwrap_or(5000),
        provider: place::FixProvider::Gnss,
        mono_ms: 0,
        gnss_time_ms: None,
        satellites: None,
        mock: false,
    }
}

/// A duration as a person reads it: "20 分钟", "1 分 30 秒", "45 秒".
fn span_zh(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match (s / 60, s % 60) {
        (0, sec) => format!("{sec} 秒"),
        (m, 0) => format!("{m} 分钟"),
        (m, sec) => format!("{m} 分 {sec} 秒"),
    }
}

fn span_en(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match (s / 60, s % 60) {
        (0, sec) => format!("{sec} s"),
        (m, 0) => format!("{m} min"),
        (m, sec) => format!("{m} min {sec} s"),
    }
}
