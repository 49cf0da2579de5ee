//! R1: a person acts only under a letter of authorisation and a real-name
//! check for this role, on this project, in force at the time of the record.

use super::{Grant, GrantProblem, Judging, Violation};
use crate::model::Id;

pub(super) fn check(j: &Judging<'_>, project: Option<&Id>, v: &mut Vec<Violation>) {
    let Some(role) = j.body.kind().required_role() else { return };
    if let Some(d) = j.device
        && !role.allowed_for(d.org_role)
    {
        v.push(Violation::OrgCannotHoldRole { role, org_role: d.org_role });
    }
    let candidates: Vec<&Grant> = j.ctx.grants.iter().filter(|g| g.covers(role, project)).collect();
    if candidates.is_empty() {
        v.push(Violation::NotAuthorised { role, project: project.cloned() });
        return;
    }
    // Fully valid over the whole interval: fine. Valid for part: uncertain.
    // Valid for none of it: refused with the reason of the closest grant.
    let (t_lo, t_hi) = (j.t_lo, j.t_hi);
    let full = candidates.iter().any(|g| g.valid_from_ms <= t_lo && g.end().is_none_or(|e| e > t_hi));
    if full {
        return;
    }
    let partial = candidates.iter().find(|g| g.valid_from_ms <= t_hi && g.end().is_none_or(|e| e > t_lo));
    match partial {
        Some(g) => v.push(Violation::AuthorisationUncertain { grant: g.grant.clone() }),
        None => {
            let g = candidates[0];
            let why = if g.valid_from_ms > t_hi {
                GrantProblem::NotYetValid
            } else if g.revoked_at_ms.is_some_and(|r| r <= t_lo) {
                GrantProblem::Revoked
            } else {
                GrantProblem::Expired
            };
            v.push(Violation::AuthorisationInvalidAtTime { grant: g.grant.clone(), why });
        }
    }
}
