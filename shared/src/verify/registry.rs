//! R3: a test against the lab registry in force when it was made.

use super::{Judging, Violation};
use crate::lab_registry::{RegistryJudgement, judge_test};
use crate::record::TestData;

/// The tester's lab is the signing device's organisation, the tester its
/// person; the test was made somewhere in the record's time interval
/// (`t_lo`..`t_hi`). A source that does not hold registries (a phone
/// offline) judges nothing here; the server does, on the signed record.
pub(super) fn check(j: &Judging<'_>, t: &TestData, v: &mut Vec<Violation>) {
    let (Some(device), Some(versions)) = (j.device, j.ctx.lab_registries.as_ref()) else { return };
    match judge_test(versions, &t.test, &j.body.author, t.equipment.as_ref(), j.t_lo, j.t_hi) {
        RegistryJudgement::NoRegistry => v.push(Violation::NoLabRegistry { lab: device.org.clone() }),
        RegistryJudgement::Judged { certain, uncertain } => {
            v.extend(certain.into_iter().map(|problem| Violation::RegistryBreach { problem }));
            v.extend(uncertain.into_iter().map(|problem| Violation::RegistryUncertain { problem }));
        }
    }
}
