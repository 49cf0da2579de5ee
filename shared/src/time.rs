//! Trusted time. A device's wall clock is only a claim (clocks get set back);
//! what the system can prove about when a record was made comes from evidence
//! the device cannot forge:
//!
//! * **Lower bounds** come from server-signed time anchors. A record that
//!   contains an anchor (or follows, in its device's hash chain, a record that
//!   does) was made after the anchor was signed, because the anchor's
//!   signature could not be known before. A witness record that names the
//!   sampling record's id was made after that record existed.
//! * **Upper bounds** come from the server: the moment it first received the
//!   record, or an anchor it signed whose chain tail covers the record (the
//!   device committed to the record's hash before that moment).
//!
//! Between those, a device that kept the same boot can narrow the estimate
//! with its monotonic clock (time since boot, which the user cannot set)
//! relative to the anchor. That estimate is reported as *claimed*: honest
//! devices make it exact to within drift, but a tampered device could fake
//! monotonic readings, so the 20-minute rule (R8) is only ever decided on the
//! proven interval. When the proven interval cannot decide, the verdict is
//! "undetermined" and says why, with the claimed gap beside it.

use crate::canonical;
use crate::crypto::{Domain, PublicKey, Signature};
use crate::place::Fix;
use crate::policy::Policy;
use crate::record::ChainTail;
use serde::{Deserialize, Serialize};

/// What the server signs when it gives a device the time (issue 3's sync
/// responses carry one). Bound to the device's boot and its chain tail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AnchorBody {
    pub v: u32,
    pub device: PublicKey,
    pub boot_id: String,
    /// The device's monotonic reading when it sent the request (its claim).
    pub device_mono_ms: u64,
    /// Server UTC when it signed, ms since the Unix epoch.
    pub server_ms: i64,
    /// The device's chain head as the device declared it in the request.
    pub tail: Option<ChainTail>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TimeAnchor {
    pub body: AnchorBody,
    pub server_key: PublicKey,
    pub sig: Signature,
}

impl TimeAnchor {
    /// Sign an anchor. Fails only when a number in the body lies outside
    /// the canonical format's range (a device's claimed readings are
    /// checked at the edge first; see `protocol::DeviceState::check`).
    pub fn sign(
        body: AnchorBody,
        key: &crate::crypto::SigningKey,
    ) -> Result<TimeAnchor, canonical::CanonicalError> {
        let bytes = canonical::to_canonical(&body)?;
        Ok(TimeAnchor { sig: key.sign(Domain::Anchor, &bytes), server_key: key.public(), body })
    }

    /// Signature valid and made by one of the keys the verifier trusts.
    pub fn verify(&self, trusted: &[PublicKey]) -> bool {
        if !trusted.contains(&self.server_key) {
            return false;
        }
        match canonical::to_canonical(&self.body) {
            Ok(bytes) => self.server_key.verify(Domain::Anchor, &bytes, &self.sig),
            Err(_) => false,
        }
    }
}

/// An anchor as the device holds it: with the monotonic reading at which the
/// response arrived (the request was sent at `anchor.body.device_mono_ms`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HeldAnchor {
    pub anchor: TimeAnchor,
    pub received_mono_ms: u64,
}

/// Time evidence carried by every record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TimeEvidence {
    /// Device wall clock, ms since the Unix epoch. A claim only.
    pub wall_ms: i64,
    /// Identifies the device's current boot (Linux/Android boot_id; iOS a per-boot UUID).
    pub boot_id: String,
    /// Time since boot including deep sleep (Android elapsedRealtime,
    /// Linux CLOCK_BOOTTIME), ms.
    pub mono_ms: u64,
    /// The most recent server anchor the device holds.
    pub anchor: Option<HeldAnchor>,
}

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Where a bound came from, so a person can follow the reasoning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// A server anchor contained in the record.
    Anchor,
    /// Inherited from the previous record in the device's chain.
    Chain,
    /// The record names another record (e.g. witness -> sampling).
    Reference,
    /// The server's own clock when it first received the record.
    ServerReceipt,
    /// A server anchor whose chain tail covers the record.
    CoveringAnchor,
    /// The record was authored by the server itself.
    Server,
    /// The device's monotonic clock relative to an anchor on the same boot.
    Monotonic,
    /// GNSS time reported with a fix on the same boot.
    Gnss,
    /// The device's wall clock.
    Wall,
}

/// Bounds on when a record was made, from evidence the device cannot forge.
/// `earliest == None` is "unanchored": nothing proves it was not made long ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenInterval {
    pub earliest_ms: Option<Millis>,
    pub earliest_basis: Option<Basis>,
    pub latest_ms: Option<Millis>,
    pub latest_basis: Option<Basis>,
}

impl ProvenInterval {
    pub fn is_anchored(&self) -> bool {
        self.earliest_ms.is_some()
    }
    pub fn contains(&self, t: Millis) -> bool {
        self.earliest_ms.is_none_or(|e| t >= e) && self.latest_ms.is_none_or(|l| t <= l)
    }
    /// Distance from `t` to the interval (0 inside).
    pub fn distance(&self, t: Millis) -> Millis {
        match (self.earliest_ms, self.latest_ms) {
            (Some(e), _) if t < e => e - t,
            (_, Some(l)) if t > l => t - l,
            _ => 0,
        }
    }
}

/// The device's own story, narrowed by the monotonic clock where possible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimedInterval {
    pub earliest_ms: Millis,
    pub latest_ms: Millis,
    pub basis: Basis,
}

/// Something about a record's time evidence a reviewer should know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum TimeFinding {
    /// The anchor's signature does not verify with a trusted server key.
    AnchorInvalid,
    /// Monotonic readings go backwards against the anchor on the same boot.
    MonotonicInconsistent,
    /// The device's claimed time lies outside what is proven.
    ClaimOutsideProven { by_ms: Millis },
    /// The wall clock disagrees with the best estimate by more than the tolerance
    /// (positive: the clock runs ahead; negative: it was set back).
    ClockSkew { skew_ms: Millis },
    /// GNSS time disagrees with the best estimate (spoofed or mocked receiver).
    GnssMismatch { by_ms: Millis },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeAssessment {
    pub proven: ProvenInterval,
    pub claimed: ClaimedInterval,
    pub findings: Vec<TimeFinding>,
}

/// Facts outside the record that bound its time (supplied by the verifier).
#[derive(Debug, Clone, Default)]
pub struct TimeContext {
    /// Server keys whose anchors are trusted.
    pub server_keys: Vec<PublicKey>,
    /// Proven earliest of the previous record in the same device chain.
    pub predecessor_earliest_ms: Option<Millis>,
    /// Proven earliest of records this one names (a witness names its sampling).
    pub referenced_earliest_ms: Option<Millis>,
    /// Earliest server time of anchors (for this device) whose tail covers the record.
    pub covering_anchor_ms: Option<Millis>,
    /// When the server first received the record.
    pub first_seen_ms: Option<Millis>,
    /// The record was authored by a trusted server key: its wall clock is the
    /// authority's own.
    pub server_authored: bool,
    /// The caller already checked the held anchor's signature against
    /// `server_keys` (`Some(result)`); `None`: check it here.
    pub anchor_verified: Option<bool>,
}

fn max_opt(a: Option<(Millis, Basis)>, b: Option<(Millis, Basis)>) -> Option<(Millis, Basis)> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.0 > x.0 { y } else { x }),
        (x, None) => x,
        (None, y) => y,
    }
}
fn min_opt(a: Option<(Millis, Basis)>, b: Option<(Millis, Basis)>) -> Option<(Millis, Basis)> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.0 < x.0 { y } else { x }),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Scale a monotonic duration by (1 +- drift).
fn drift(ms: u64, ppm: u32, up: bool) -> Millis {
    let ms = ms as i128;
    let d = ms * i128::from(ppm) / 1_000_000;
    (if up { ms + d + 1 } else { ms - d - 1 }).clamp(0, i128::from(i64::MAX)) as Millis
}

/// Turn a record's time evidence and the verifier's context into bounds.
/// Pure: the same inputs always give the same assessment.
pub fn assess(
    ev: &TimeEvidence,
    device: &PublicKey,
    fixes: &[Fix],
    ctx: &TimeContext,
    policy: &Policy,
) -> TimeAssessment {
    let mut findings = Vec::new();

    if ctx.server_authored {
        let p = ProvenInterval {
            earliest_ms: Some(ev.wall_ms),
            earliest_basis: Some(Basis::Server),
            latest_ms: Some(ev.wall_ms),
            latest_basis: Some(Basis::Server),
        };
        return TimeAssessment {
            proven: p,
            claimed: ClaimedInterval { earliest_ms: ev.wall_ms, latest_ms: ev.wall_ms, basis: Basis::Server },
            findings,
        };
    }

    let anchor = ev.anchor.as_ref().filter(|h| {
        let ok = ctx.anchor_verified.unwrap_or_else(|| h.anchor.verify(&ctx.server_keys));
        if !ok {
            findings.push(TimeFinding::AnchorInvalid);
        }
        ok
    });

    let mut lower = anchor.map(|h| (h.anchor.body.server_ms, Basis::Anchor));
    lower = max_opt(lower, ctx.predecessor_earliest_ms.map(|t| (t, Basis::Chain)));
    lower = max_opt(lower, ctx.referenced_earliest_ms.map(|t| (t, Basis::Reference)));
    let mut upper = ctx.first_seen_ms.map(|t| (t, Basis::ServerReceipt));
    upper = min_opt(upper, ctx.covering_anchor_ms.map(|t| (t, Basis::CoveringAnchor)));

    let proven = ProvenInterval {
        earliest_ms: lower.map(|x| x.0),
        earliest_basis: lower.map(|x| x.1),
        latest_ms: upper.map(|x| x.0),
        latest_basis: upper.map(|x| x.1),
    };

    // The claimed estimate: monotonic clock against an anchor on this boot,
    // else GNSS time on this boot, else the wall clock.
    let mono_claim = anchor.and_then(|h| {
        let a = &h.anchor.body;
        if a.device != *device || a.boot_id != ev.boot_id {
            return None;
        }
        if h.received_mono_ms < a.device_mono_ms || ev.mono_ms < h.received_mono_ms {
            findings.push(TimeFinding::MonotonicInconsistent);
            return None;
        }
        Some(ClaimedInterval {
            // Real time at receipt >= server_ms; at sending <= server_ms.
            earliest_ms: a.server_ms + drift(ev.mono_ms - h.received_mono_ms, policy.mono_drift_ppm, false),
            latest_ms: a.server_ms + drift(ev.mono_ms - a.device_mono_ms, policy.mono_drift_ppm, true),
            basis: Basis::Monotonic,
        })
    });
    let gnss_estimate = fixes
        .iter()
        .filter(|f| !f.mock && f.mono_ms <= ev.mono_ms)
        .filter_map(|f| f.gnss_time_ms.map(|g| g + (ev.mono_ms - f.mono_ms) as i64))
        .next_back();
    let claimed = mono_claim.unwrap_or_else(|| match gnss_estimate {
        Some(g) => ClaimedInterval { earliest_ms: g - 1000, latest_ms: g + 1000, basis: Basis::Gnss },
        None => ClaimedInterval { earliest_ms: ev.wall_ms, latest_ms: ev.wall_ms, basis: Basis::Wall },
    });

    let claim_off = proven.distance(claimed.earliest_ms).min(proven.distance(claimed.latest_ms));
    let claim_overlaps = proven.earliest_ms.is_none_or(|e| claimed.latest_ms >= e)
        && proven.latest_ms.is_none_or(|l| claimed.earliest_ms <= l);
    if !claim_overlaps {
        findings.push(TimeFinding::ClaimOutsideProven { by_ms: claim_off });
    }

    // Wall clock and GNSS checked against the best estimate we have.
    let reference = if mono_claim.is_some() && claim_overlaps {
        Some((claimed.earliest_ms + claimed.latest_ms) / 2)
    } else {
        None
    };
    let skew = match reference {
        Some(r) => {
            let half = (claimed.latest_ms - claimed.earliest_ms) / 2;
            let d = ev.wall_ms - r;
            if d.abs() > half { d - d.signum() * half } else { 0 }
        }
        None => {
            let d = proven.distance(ev.wall_ms);
            if proven.earliest_ms.is_some_and(|e| ev.wall_ms < e) { -d } else { d }
        }
    };
    if skew.abs() > policy.clock_skew_tolerance_ms {
        findings.push(TimeFinding::ClockSkew { skew_ms: skew });
    }
    if let Some(g) = gnss_estimate {
        let off = match reference {
            Some(r) => (g - r).abs() - (claimed.latest_ms - claimed.earliest_ms) / 2,
            None => proven.distance(g),
        };
        if off > policy.clock_skew_tolerance_ms {
            findings.push(TimeFinding::GnssMismatch { by_ms: off });
        }
    }

    TimeAssessment { proven, claimed, findings }
}

/// Why the 20-minute rule could not be decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Undetermined {
    /// Nothing proves when the sampling happened (no anchor in its chain).
    SamplingUnanchored,
    /// The witness record has no proven upper bound yet (the server has not
    /// received it, and no later anchor covers it).
    WitnessUnbounded,
    /// Both are bounded, but the bounds straddle the window.
    IntervalsTooWide,
}

/// R8: was the witness record completed within the window after sampling?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum WindowVerdict {
    /// Proven: even at the extremes of the evidence the gap is within the window.
    Compliant { max_gap_ms: Millis },
    /// Proven: even at the most favourable reading the gap exceeds the window.
    Late { min_gap_ms: Millis },
    /// The evidence cannot decide; `claimed_gap_ms` is the devices' story.
    Undetermined { reason: Undetermined, claimed_gap_ms: Millis },
}

pub fn witness_window(
    sampling: &TimeAssessment,
    witness: &TimeAssessment,
    window_ms: Millis,
) -> WindowVerdict {
    let claimed_gap_ms = witness.claimed.latest_ms - sampling.claimed.earliest_ms;
    // Late is provable as soon as the witness is known to be after
    // sampling.latest + window, even if the sampling has no lower bound.
    if let (Some(s_latest), Some(w_earliest)) = (sampling.proven.latest_ms, witness.proven.earliest_ms) {
        let min_gap = w_earliest - s_latest;
        if min_gap > window_ms {
            return WindowVerdict::Late { min_gap_ms: min_gap };
        }
    }
    let Some(s_earliest) = sampling.proven.earliest_ms else {
        return WindowVerdict::Undetermined { reason: Undetermined::SamplingUnanchored, claimed_gap_ms };
    };
    let Some(w_latest) = witness.proven.latest_ms else {
        return WindowVerdict::Undetermined { reason: Undetermined::WitnessUnbounded, claimed_gap_ms };
    };
    let max_gap = w_latest - s_earliest;
    if max_gap <= window_ms {
        WindowVerdict::Compliant { max_gap_ms: max_gap }
    } else {
        WindowVerdict::Undetermined { reason: Undetermined::IntervalsTooWide, claimed_gap_ms }
    }
}

/// The moment the witness window closes, by the device's best estimate
/// (used by the app's countdown; the server decides on proven bounds).
pub fn window_deadline(sampling: &TimeAssessment, window_ms: Millis) -> Millis {
    sampling.claimed.earliest_ms + window_ms
}
