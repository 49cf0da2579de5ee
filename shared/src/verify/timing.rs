//! When (R8): the records this one names must be known, and its time is
//! what the evidence proves — anchors, chain and references — beside what
//! the device claims.

use super::{VerifyContext, Violation};
use crate::record::RecordBody;
use crate::time::{self, TimeAssessment, TimeFinding};

/// Assess the record's time; report missing references (defer) and the
/// clock's findings. Returns the assessment and whether a reference is missing.
pub(super) fn assess(
    body: &RecordBody,
    ctx: &VerifyContext,
    server_authored: bool,
    v: &mut Vec<Violation>,
) -> (TimeAssessment, bool) {
    let mut tctx = ctx.time.clone();
    tctx.server_authored = server_authored;
    tctx.server_keys = ctx.server_keys.clone();
    let mut missing_refs = false;
    for r in &body.payload.references() {
        match ctx.referenced.get(r) {
            Some(refd) => {
                if let Some(e) = refd.time.proven.earliest_ms {
                    tctx.referenced_earliest_ms = Some(tctx.referenced_earliest_ms.map_or(e, |x| x.max(e)));
                }
            }
            None => {
                missing_refs = true;
                v.push(Violation::MissingReference { record: *r });
            }
        }
    }
    let assessment =
        time::assess(&body.evidence.time, &body.device, &body.evidence.fixes, &tctx, &ctx.policy);
    for f in &assessment.findings {
        v.push(match f {
            TimeFinding::AnchorInvalid => Violation::AnchorInvalid,
            TimeFinding::MonotonicInconsistent => Violation::MonotonicInconsistent,
            TimeFinding::ClaimOutsideProven { by_ms } => Violation::ClaimOutsideProven { by_ms: *by_ms },
            TimeFinding::ClockSkew { skew_ms } => Violation::ClockSkew { skew_ms: *skew_ms },
            TimeFinding::GnssMismatch { by_ms } => Violation::GnssMismatch { by_ms: *by_ms },
        });
    }
    (assessment, missing_refs)
}
