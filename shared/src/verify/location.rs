//! R7–R9, R17: where a field step happened — a genuine fix (not mocked, no
//! impossible jumps, accurate enough) inside the unit project's site.

use super::{Judging, Verdict, Violation};
use crate::place::{self, Containment};
use crate::record::{Payload, RecordKind};

pub(super) fn check(j: &Judging<'_>, v: &mut Vec<Violation>, verdict: &mut Verdict) {
    let ev = &j.body.evidence;
    if !matches!(j.body.kind(), RecordKind::Sampling | RecordKind::Witnessing) {
        return;
    }
    let Some(best) = place::best_fix(&ev.fixes) else { return };
    let policy = &j.ctx.policy;
    if ev.fixes.iter().any(|f| f.mock) {
        v.push(Violation::MockLocation);
    }
    if let Some(speed) = place::implausible_jump(&ev.fixes, policy.max_plausible_speed_mps) {
        v.push(Violation::ImplausibleTrack { speed_mps: speed.min(1e9).round() as i64 });
    }
    if best.accuracy_m() > policy.max_fix_accuracy_m {
        v.push(Violation::PoorAccuracy { accuracy_m: best.accuracy_m().round() as i64 });
    }
    let unit_project = match &j.body.payload {
        Payload::Sampling(s) => Some(s.unit_project.clone()),
        Payload::Witnessing(w) => {
            j.ctx.referenced.get(&w.sampling).and_then(|r| match &r.record.body().payload {
                Payload::Sampling(s) => Some(s.unit_project.clone()),
                _ => None,
            })
        }
        _ => None,
    };
    if let Some(up) = unit_project.and_then(|u| j.ctx.unit_projects.get(&u)) {
        let c = up.boundary.locate(best, policy.accuracy_sigma);
        match c {
            Containment::Outside { distance_m } => {
                v.push(Violation::OutsideSite { distance_m: distance_m.round() as i64 })
            }
            Containment::Uncertain { edge_distance_m, .. } => {
                v.push(Violation::SiteUncertain { edge_distance_m: edge_distance_m.round() as i64 })
            }
            Containment::Inside { .. } => {}
        }
        verdict.site = Some(c);
    }
}
