//! R8, A4.1: a sampling that is never witnessed.
//!
//! The most common way round the 20-minute rule is not a late witnessing but
//! none at all: the sampler takes the specimen, nobody from the supervisor
//! ever signs. No record arrives, so a rule that runs when records arrive
//! never fires. This rule runs on the server's clock instead.
//!
//! What can be proven, and when:
//! - The window closes at the sampling's proven *latest* moment plus the
//!   window (`closes_ms`): before that, a witnessing could still come in time.
//! - After it closes, "no witnessing is on the server" is not yet "none was
//!   made": the witness's phone may be offline with the record in its queue.
//!   A phone's records are a hash chain, and every time anchor it fetches
//!   names its chain head; once the server holds that head, it holds every
//!   record the phone made before it asked. So a phone is *covered* up to the
//!   latest anchor whose chain head the server holds.
//! - The sampling names no witness, so every enrolled, unrevoked phone of a
//!   person who may witness on the project could hold the record. When every
//!   one of them is covered past the close (plus `margin_ms`, for a request
//!   in flight), nothing made in time can still arrive: the witnessing is
//!   **missed**. Until then it is **pending**, and the finding names the
//!   phones that have not synced since.
//! - A witnessing that arrives after a missed finding was made after its
//!   phone's last covered moment, i.e. after the window: the sampling turns
//!   **late**.

use crate::Id;
use crate::model::PersonRole;
use crate::time::{Millis, WindowVerdict};
use crate::verify::context::Grant;
use serde::{Deserialize, Serialize};

/// A phone that could hold a witnessing of the sampling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessPhone {
    pub person: Id,
    /// The device key (base64), to tell one person's phones apart.
    pub device: String,
    pub label: String,
    /// Server time of the latest anchor this phone fetched whose chain head
    /// the server holds: every record it made before then is on the server.
    pub covered_until_ms: Option<Millis>,
}

/// What the server knows of a phone, to decide whether it could hold a
/// witnessing.
#[derive(Debug, Clone, Copy)]
pub struct PhoneFacts<'a> {
    pub enrolled_ms: Millis,
    /// Revoked phones can no longer deliver a record (their uploads are
    /// refused), so they cannot keep a sampling pending.
    pub revoked: bool,
    /// Every grant of the phone's person.
    pub grants: &'a [Grant],
}

/// Could this phone hold a witnessing of a sampling on `project` made by
/// `sampling_latest_ms`, in the window that closes at `closes_ms`? Enrolled
/// before the close, not revoked, and its person may witness on the project
/// at some moment between the sampling and the close.
pub fn may_hold_witnessing(
    p: &PhoneFacts<'_>,
    project: &Id,
    sampling_latest_ms: Millis,
    closes_ms: Millis,
) -> bool {
    !p.revoked
        && p.enrolled_ms <= closes_ms
        && p.grants.iter().any(|g| {
            g.covers(PersonRole::Witness, Some(project))
                && g.valid_from_ms <= closes_ms
                && g.end().is_none_or(|e| e > sampling_latest_ms)
        })
}

/// Where a sampling without a witnessing on the server stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WitnessState {
    /// The window has not provably closed (or the sampling has no proven
    /// upper bound yet): a witnessing may still come in time.
    Open { closes_ms: Option<Millis> },
    /// The window closed, but these phones have not synced since: a
    /// witnessing made in time may still be in their queues.
    Pending { closes_ms: Millis, overdue_ms: Millis, unsynced: Vec<WitnessPhone> },
    /// The window closed and every phone that could witness has synced since
    /// without a witnessing (or nobody may witness on the project).
    Missed { closes_ms: Millis, overdue_ms: Millis, phones_checked: usize },
}

impl WitnessState {
    /// A stable code for storage and lists.
    pub fn code(&self) -> &'static str {
        match self {
            WitnessState::Open { .. } => "open",
            WitnessState::Pending { .. } => "pending",
            WitnessState::Missed { .. } => "missed",
        }
    }
}

/// Decide a sampling that has no witnessing on the server.
///
/// `sampling_latest_ms`: the sampling's proven latest moment;
/// `window_ms`: R8's window; `margin_ms`: how long a sync request may be
/// under way before the server answers it; `phones`: every enrolled,
/// unrevoked phone of a person who may witness on the sampling's project.
pub fn unwitnessed(
    sampling_latest_ms: Option<Millis>,
    window_ms: Millis,
    margin_ms: Millis,
    now_ms: Millis,
    phones: &[WitnessPhone],
) -> WitnessState {
    let Some(latest) = sampling_latest_ms else {
        return WitnessState::Open { closes_ms: None };
    };
    let closes_ms = latest.saturating_add(window_ms);
    if now_ms <= closes_ms {
        return WitnessState::Open { closes_ms: Some(closes_ms) };
    }
    let overdue_ms = now_ms - closes_ms;
    let needed = closes_ms.saturating_add(margin_ms);
    let unsynced: Vec<WitnessPhone> =
        phones.iter().filter(|p| p.covered_until_ms.is_none_or(|c| c <= needed)).cloned().collect();
    if unsynced.is_empty() {
        WitnessState::Missed { closes_ms, overdue_ms, phones_checked: phones.len() }
    } else {
        WitnessState::Pending { closes_ms, overdue_ms, unsynced }
    }
}

/// What a sampling's witnessing came to, once one is on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WitnessOutcome {
    /// Proven within the window.
    InTime,
    /// Proven late, by the record's own time evidence or because it arrived
    /// after the sampling had been found missed.
    Late,
    /// Witnessed, but the evidence cannot decide whether in time.
    Undetermined,
}

impl WitnessOutcome {
    pub fn code(&self) -> &'static str {
        match self {
            WitnessOutcome::InTime => "in_time",
            WitnessOutcome::Late => "late",
            WitnessOutcome::Undetermined => "undetermined",
        }
    }
}

/// The outcome of a witnessing given its own window verdict and whether the
/// sampling had already been found missed (see the module's reasoning: such
/// a witnessing was made after every phone was covered past the window). A
/// verdict the record's own evidence proves is kept.
pub fn witnessed(verdict: &WindowVerdict, was_missed: bool) -> WitnessOutcome {
    match verdict {
        // The record's own proof wins over the inference.
        WindowVerdict::Compliant { .. } => WitnessOutcome::InTime,
        WindowVerdict::Late { .. } => WitnessOutcome::Late,
        WindowVerdict::Undetermined { .. } if was_missed => WitnessOutcome::Late,
        WindowVerdict::Undetermined { .. } => WitnessOutcome::Undetermined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Undetermined;

    const MIN: Millis = 60_000;
    const WINDOW: Millis = 20 * MIN;
    const MARGIN: Millis = 2 * MIN;
    const T0: Millis = 1_790_000_000_000;

    fn phone(name: &str, covered: Option<Millis>) -> WitnessPhone {
        WitnessPhone {
            person: Id::new(name).expect("id"),
            device: format!("{name}-key"),
            label: format!("{name}'s phone"),
            covered_until_ms: covered,
        }
    }

    #[test]
    fn r8_open_until_the_window_provably_closes() {
        let phones = [phone("w1", Some(T0 + 30 * MIN))];
        assert_eq!(
            unwitnessed(Some(T0), WINDOW, MARGIN, T0 + WINDOW, &phones),
            WitnessState::Open { closes_ms: Some(T0 + WINDOW) }
        );
        // No proven latest moment: nothing closes.
        assert_eq!(
            unwitnessed(None, WINDOW, MARGIN, T0 + 999 * MIN, &phones),
            WitnessState::Open { closes_ms: None }
        );
    }

    #[test]
    fn r8_pending_while_a_witness_phone_has_not_synced_since() {
        let phones = [phone("w1", Some(T0 + 40 * MIN)), phone("w2", Some(T0 + 5 * MIN)), phone("w3", None)];
        let s = unwitnessed(Some(T0), WINDOW, MARGIN, T0 + 60 * MIN, &phones);
        let WitnessState::Pending { closes_ms, overdue_ms, unsynced } = s else { panic!("{s:?}") };
        assert_eq!((closes_ms, overdue_ms), (T0 + WINDOW, 40 * MIN));
        let names: Vec<&str> = unsynced.iter().map(|p| p.person.as_str()).collect();
        assert_eq!(names, ["w2", "w3"]);
    }

    #[test]
    fn r8_missed_once_every_witness_phone_synced_past_the_window() {
        let phones = [phone("w1", Some(T0 + 40 * MIN)), phone("w2", Some(T0 + WINDOW + MARGIN + 1))];
        assert_eq!(
            unwitnessed(Some(T0), WINDOW, MARGIN, T0 + 60 * MIN, &phones),
            WitnessState::Missed { closes_ms: T0 + WINDOW, overdue_ms: 40 * MIN, phones_checked: 2 }
        );
    }

    #[test]
    fn r8_a_sync_inside_the_margin_does_not_cover() {
        // Edge: an anchor answered exactly at close + margin may carry a
        // chain head from before the close.
        let phones = [phone("w1", Some(T0 + WINDOW + MARGIN))];
        assert_eq!(unwitnessed(Some(T0), WINDOW, MARGIN, T0 + 60 * MIN, &phones).code(), "pending");
    }

    #[test]
    fn r8_nobody_may_witness_is_missed() {
        assert_eq!(unwitnessed(Some(T0), WINDOW, MARGIN, T0 + WINDOW + 1, &[]).code(), "missed");
    }

    #[test]
    fn r8_who_could_hold_a_witnessing() {
        let project = Id::new("P-1").expect("id");
        let grant = |role, project: Option<&str>, from: Millis, revoked: Option<Millis>| Grant {
            grant: Id::new("G").expect("id"),
            role,
            project: project.map(|p| Id::new(p).expect("id")),
            valid_from_ms: from,
            valid_until_ms: None,
            revoked_at_ms: revoked,
            face_reference: None,
        };
        let closes = T0 + WINDOW;
        let phone = |grants: &[Grant], enrolled: Millis, revoked: bool| {
            may_hold_witnessing(&PhoneFacts { enrolled_ms: enrolled, revoked, grants }, &project, T0, closes)
        };
        let witness = [grant(PersonRole::Witness, Some("P-1"), T0 - MIN, None)];
        assert!(phone(&witness, T0 - MIN, false));
        assert!(!phone(&witness, T0 - MIN, true), "a revoked phone cannot deliver");
        assert!(!phone(&witness, closes + 1, false), "enrolled after the close");
        assert!(
            phone(&[grant(PersonRole::Witness, Some("P-1"), T0 + MIN, None)], T0, false),
            "granted in the window"
        );
        assert!(!phone(&[grant(PersonRole::Witness, Some("P-1"), closes + 1, None)], T0, false));
        assert!(
            !phone(&[grant(PersonRole::Witness, Some("P-1"), T0 - MIN, Some(T0 - 1))], T0, false),
            "revoked before"
        );
        assert!(!phone(&[grant(PersonRole::Sampler, Some("P-1"), T0 - MIN, None)], T0, false));
        assert!(!phone(&[grant(PersonRole::Witness, Some("P-2"), T0 - MIN, None)], T0, false));
    }

    #[test]
    fn r8_a_witnessing_after_missed_is_late() {
        let undetermined =
            WindowVerdict::Undetermined { reason: Undetermined::WitnessUnbounded, claimed_gap_ms: 5 * MIN };
        assert_eq!(witnessed(&undetermined, true), WitnessOutcome::Late);
        assert_eq!(witnessed(&undetermined, false), WitnessOutcome::Undetermined);
        assert_eq!(witnessed(&WindowVerdict::Compliant { max_gap_ms: MIN }, false), WitnessOutcome::InTime);
        // A proof from the record's own evidence wins over the inference.
        assert_eq!(witnessed(&WindowVerdict::Compliant { max_gap_ms: MIN }, true), WitnessOutcome::InTime);
        assert_eq!(witnessed(&WindowVerdict::Late { min_gap_ms: 30 * MIN }, false), WitnessOutcome::Late);
    }
}
