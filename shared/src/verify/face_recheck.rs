//! R1, R7: the server's own face check beside the phone's claim (issue 19).
//!
//! A record's `FaceCheck` is what the phone says it measured; a hostile
//! phone can say "matched, 0.95, liveness passed" over any bytes. The server
//! runs the same pipeline (the `capture` crate) on the uploaded photo
//! against the person's reference and keeps its own result as a
//! [`ServerFaceCheck`]; [`findings`] decides, as a pure function, whether
//! that result contradicts the claim. The server gathers and stores; the
//! lab's trail (`trail::judge`) and the receipt's confirmations count the
//! findings like any other flag.

use super::Violation;
use crate::crypto::Hash;
use crate::record::{FaceCheck, Payload, RecordBody};
use serde::{Deserialize, Serialize};

/// How far the server's score may sit below the phone's, with the same
/// models, before it counts as a disagreement. The same weights and code
/// give the same score up to float summation order (a few thousandths
/// across CPUs); a forged score is off by far more.
pub const TOLERANCE_MILLI: i32 = 20;

/// Why the server found no face to compare in the uploaded photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaceAbsence {
    /// The bytes are not an image the server can decode.
    NotAnImage,
    /// An image, but no face in it.
    NoFace,
    /// Several faces of similar size: whose check it is would be a guess.
    SeveralFaces,
}

/// What the server measured on one record's face photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ServerFaceOutcome {
    /// A face, compared with the reference.
    Scored {
        /// The server's similarity × 1000 (`1 - d/2`, as the phone's).
        score_milli: i32,
        /// The threshold the server applies × 1000.
        threshold_milli: i32,
    },
    /// No face to compare in the uploaded photo.
    NoFace {
        /// Why.
        reason: FaceAbsence,
    },
    /// The person's reference photo gave the server no usable face: the
    /// photo was not re-checked (not the record's fault; the administrator
    /// must upload a better reference).
    ReferenceUnusable,
}

/// The server's re-check of one record's face photo (stored per record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFaceCheck {
    /// The photo checked (the claim's `photo`).
    pub photo: Hash,
    /// The person's reference photo it was compared with.
    pub reference: Hash,
    /// The server's models (same form as `FaceCheck::model`).
    pub model: String,
    /// What it found.
    pub outcome: ServerFaceOutcome,
    /// When the server checked (server clock).
    pub checked_ms: i64,
}

impl ServerFaceCheck {
    /// Whether the server actually compared the photo with the reference.
    pub fn rechecked(&self) -> bool {
        !matches!(self.outcome, ServerFaceOutcome::ReferenceUnusable)
    }
}

/// The findings of the server's re-check against the phone's claim (R1,
/// R7). A photo without a face is always a finding (the claim names this
/// photo). A score is a finding when the claim is more favourable than the
/// server's measurement: the claim says matched and the server's score is
/// below the higher of both thresholds, or, with the same models, the
/// claimed score exceeds the server's by more than [`TOLERANCE_MILLI`]
/// (other models score in another space; only the verdict compares). A
/// claim less favourable than the server's result is already a face
/// mismatch on the phone's own word, so it adds nothing.
pub fn findings(claim: &FaceCheck, server: &ServerFaceCheck) -> Vec<Violation> {
    if server.photo != claim.photo {
        // Not a re-check of this claim's photo: nothing to compare.
        return Vec::new();
    }
    match server.outcome {
        ServerFaceOutcome::ReferenceUnusable => Vec::new(),
        ServerFaceOutcome::NoFace { reason } => vec![Violation::FaceNotFound { reason }],
        ServerFaceOutcome::Scored { score_milli, threshold_milli } => {
            let threshold = threshold_milli.max(claim.threshold_milli);
            let server_matched = score_milli >= threshold;
            let inflated = server.model == claim.model && claim.score_milli - score_milli > TOLERANCE_MILLI;
            if (claim.matched && !server_matched) || inflated {
                vec![Violation::FaceRecheckDisagrees {
                    claimed_milli: claim.score_milli,
                    server_milli: score_milli,
                    threshold_milli: threshold,
                }]
            } else {
                Vec::new()
            }
        }
    }
}

/// The face claim a record carries, if its kind has one (sampling,
/// witnessing).
pub fn claim_of(body: &RecordBody) -> Option<&FaceCheck> {
    match &body.payload {
        Payload::Sampling(s) => Some(&s.face),
        Payload::Witnessing(w) => Some(&w.face),
        _ => None,
    }
}

/// The findings of a record's re-check, if it has a face claim and the
/// server re-checked it.
pub fn record_findings(body: &RecordBody, server: Option<&ServerFaceCheck>) -> Vec<Violation> {
    match (claim_of(body), server) {
        (Some(claim), Some(server)) => findings(claim, server),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(score: i32, matched: bool) -> FaceCheck {
        FaceCheck {
            photo: Hash::of(b"photo"),
            model: "m1".into(),
            score_milli: score,
            threshold_milli: 700,
            matched,
            liveness: None,
        }
    }

    fn server(model: &str, outcome: ServerFaceOutcome) -> ServerFaceCheck {
        ServerFaceCheck {
            photo: Hash::of(b"photo"),
            reference: Hash::of(b"reference"),
            model: model.into(),
            outcome,
            checked_ms: 0,
        }
    }

    fn scored(score: i32) -> ServerFaceOutcome {
        ServerFaceOutcome::Scored { score_milli: score, threshold_milli: 700 }
    }

    #[test]
    fn r1_r7_forged_match_over_no_face_is_flagged() {
        let s = server("m1", ServerFaceOutcome::NoFace { reason: FaceAbsence::NotAnImage });
        let v = findings(&claim(950, true), &s);
        assert_eq!(v, vec![Violation::FaceNotFound { reason: FaceAbsence::NotAnImage }]);
        assert_eq!(v[0].disposition(), super::super::Disposition::Flag);
        assert!(v[0].reported_to_regulators());
    }

    #[test]
    fn r1_r7_claimed_match_the_server_scores_below_threshold_is_flagged_with_both_scores() {
        let v = findings(&claim(950, true), &server("other-models", scored(600)));
        assert_eq!(
            v,
            vec![Violation::FaceRecheckDisagrees {
                claimed_milli: 950,
                server_milli: 600,
                threshold_milli: 700
            }]
        );
        let en = v[0].message(super::super::Lang::En);
        assert!(en.contains("0.950") && en.contains("0.600"), "{en}");
        assert!(v[0].message(super::super::Lang::ZhCn).contains("服务器"));
    }

    #[test]
    fn r1_r7_agreeing_scores_are_no_finding() {
        assert!(findings(&claim(812, true), &server("m1", scored(806))).is_empty());
        // Other models: only the verdict is compared.
        assert!(findings(&claim(950, true), &server("m2", scored(760))).is_empty());
        // The phone says no match and the server agrees: the phone's own
        // claim is already a face mismatch.
        assert!(findings(&claim(600, false), &server("m1", scored(610))).is_empty());
    }

    #[test]
    fn r1_r7_inflated_score_with_the_same_models_is_flagged_even_above_threshold() {
        let v = findings(&claim(950, true), &server("m1", scored(760)));
        assert!(matches!(v.as_slice(), [Violation::FaceRecheckDisagrees { server_milli: 760, .. }]));
    }

    #[test]
    fn r1_the_claims_higher_threshold_applies_to_the_server_score() {
        let mut c = claim(900, true);
        c.threshold_milli = 800;
        let v = findings(&c, &server("m2", scored(790)));
        assert!(matches!(v.as_slice(), [Violation::FaceRecheckDisagrees { threshold_milli: 800, .. }]));
    }

    #[test]
    fn r1_unusable_reference_or_another_photo_is_no_finding() {
        assert!(findings(&claim(950, true), &server("m1", ServerFaceOutcome::ReferenceUnusable)).is_empty());
        let mut s = server("m1", ServerFaceOutcome::NoFace { reason: FaceAbsence::NoFace });
        s.photo = Hash::of(b"another photo");
        assert!(findings(&claim(950, true), &s).is_empty());
    }
}
