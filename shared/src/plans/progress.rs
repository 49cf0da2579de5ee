//! A4.1: the owner makes sure no test is missed. For each item of each unit
//! project's approved sampling plan: planned against sampled, witnessed,
//! tested and reported, and whether it is falling behind — a sampling that
//! should have happened by now and did not.
//!
//! "By now" is the item's planned period read evenly: an item of 24
//! samplings over 120 days is due 1 per 5 days, so on day 50 ten are due.
//! Pours do not come evenly, so one short is not yet a finding: an item is
//! **behind** when it is short of what was due by more than the configured
//! slack (`ProgressPolicy::slack_samplings`), and **overdue** once its
//! period has ended short of the plan (always a finding). Counts come from
//! the accepted custody records naming the item (`Specimen::plan_item`).

use super::{PlanHistory, PlanItem, ProjectPlans};
use crate::model::{Id, SpecimenKind};
use crate::time::Millis;
use crate::verify::Lang;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How far along one plan item's specimens are (accepted records only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub sampled: u32,
    pub witnessed: u32,
    pub tested: u32,
    pub reported: u32,
}

impl Counts {
    /// `n` specimens standing at `stage`: each has passed every earlier
    /// step (a rejected specimen was witnessed but will not be tested).
    pub fn at_stage(stage: crate::custody::Stage, n: u32) -> Counts {
        use crate::custody::Stage as S;
        let past = |s: &[S]| if s.contains(&stage) { n } else { 0 };
        Counts {
            sampled: if stage == S::Unbound { 0 } else { n },
            witnessed: past(&[
                S::Witnessed,
                S::Commissioned,
                S::Received,
                S::Rejected,
                S::Tested,
                S::Reported,
            ]),
            tested: past(&[S::Tested, S::Reported]),
            reported: past(&[S::Reported]),
        }
    }

    pub fn add(&mut self, o: Counts) {
        self.sampled += o.sampled;
        self.witnessed += o.witnessed;
        self.tested += o.tested;
        self.reported += o.reported;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Its period has not begun.
    NotStarted,
    OnTrack,
    /// Short of what was due by now by more than the slack (a finding).
    Behind,
    /// Its period has ended short of the plan (a finding).
    Overdue,
    /// Every planned sampling was taken.
    Done,
}

impl ItemStatus {
    /// Whether owners, supervisors and regulators are shown it as a finding.
    pub fn is_finding(self) -> bool {
        matches!(self, ItemStatus::Behind | ItemStatus::Overdue)
    }
    pub fn label(self, lang: Lang) -> &'static str {
        let zh = lang == Lang::ZhCn;
        match self {
            ItemStatus::NotStarted => {
                if zh {
                    "未开始"
                } else {
                    "not started"
                }
            }
            ItemStatus::OnTrack => {
                if zh {
                    "正常"
                } else {
                    "on track"
                }
            }
            ItemStatus::Behind => {
                if zh {
                    "滞后"
                } else {
                    "behind"
                }
            }
            ItemStatus::Overdue => {
                if zh {
                    "逾期未完成"
                } else {
                    "overdue"
                }
            }
            ItemStatus::Done => {
                if zh {
                    "已完成"
                } else {
                    "done"
                }
            }
        }
    }
}

/// The tolerance before an item counts as behind (the server's
/// `[oversight.plans]` configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProgressPolicy {
    /// Samplings short of what was due before it is a finding.
    pub slack_samplings: u32,
}

impl Default for ProgressPolicy {
    fn default() -> Self {
        ProgressPolicy { slack_samplings: 1 }
    }
}

/// One plan item's standing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemProgress {
    pub unit_project: Id,
    pub item: Id,
    pub kind: SpecimenKind,
    pub part: String,
    pub planned: u32,
    /// Samplings due by now (the period read evenly).
    pub due: u32,
    pub counts: Counts,
    /// Samplings short of what was due (0 when on track or ahead).
    pub short: u32,
    pub status: ItemStatus,
}

impl ItemProgress {
    /// The finding's words, naming the figures it rests on.
    pub fn finding(&self, lang: Lang) -> Option<String> {
        let zh = lang == Lang::ZhCn;
        let (item, part) = (&self.item, &self.part);
        let (due, done, planned) = (self.due, self.counts.sampled, self.planned);
        match self.status {
            ItemStatus::Behind => Some(if zh {
                format!(
                    "计划条目 {item}（{part}）滞后：到目前应取样 {due} 次，实际 {done} 次（A4.1 不得漏检）"
                )
            } else {
                format!(
                    "plan item {item} ({part}) is behind: {due} samplings due by now, {done} taken (A4.1: no test may be missed)"
                )
            }),
            ItemStatus::Overdue => Some(if zh {
                format!(
                    "计划条目 {item}（{part}）计划期已过：计划取样 {planned} 次，实际 {done} 次（A4.1 不得漏检）"
                )
            } else {
                format!(
                    "plan item {item} ({part}) is past its period: {planned} samplings planned, {done} taken (A4.1: no test may be missed)"
                )
            }),
            _ => None,
        }
    }
}

/// Samplings of `item` due by `now`: none before its period, all after,
/// evenly in between (rounded down: a sampling is due once its share of
/// the period has fully passed).
pub fn due_by(item: &PlanItem, now: Millis) -> u32 {
    let planned = item.planned();
    if now < item.from_ms {
        return 0;
    }
    if now >= item.until_ms {
        return planned;
    }
    let span = (item.until_ms - item.from_ms).max(1) as i128;
    let elapsed = (now - item.from_ms) as i128;
    (planned as i128 * elapsed / span) as u32
}

/// One item's standing at `now`.
pub fn item_progress(
    unit_project: &Id,
    item: &PlanItem,
    counts: Counts,
    now: Millis,
    policy: ProgressPolicy,
) -> ItemProgress {
    let planned = item.planned();
    let due = due_by(item, now);
    let short = due.saturating_sub(counts.sampled);
    let status = if counts.sampled >= planned {
        ItemStatus::Done
    } else if now >= item.until_ms {
        ItemStatus::Overdue
    } else if now < item.from_ms {
        ItemStatus::NotStarted
    } else if short > policy.slack_samplings {
        ItemStatus::Behind
    } else {
        ItemStatus::OnTrack
    };
    ItemProgress {
        unit_project: unit_project.clone(),
        item: item.item.clone(),
        kind: item.kind,
        part: item.part.clone(),
        planned,
        due,
        counts,
        short,
        status,
    }
}

/// A project's progress: every item of every approved sampling plan in
/// force, with the counts of its specimens (keyed by unit project and
/// item); the counts of specimens sampled outside the plan, per unit
/// project, are the caller's to show beside.
pub fn project_progress(
    plans: &ProjectPlans,
    counts: &BTreeMap<(Id, Id), Counts>,
    now: Millis,
    policy: ProgressPolicy,
) -> Vec<ItemProgress> {
    let mut out = Vec::new();
    for (unit, history) in &plans.sampling {
        let Some(v) = history.in_force() else { continue };
        for item in &v.plan.items {
            let c = counts.get(&(unit.clone(), item.item.clone())).copied().unwrap_or_default();
            out.push(item_progress(unit, item, c, now, policy));
        }
    }
    out
}

/// Whether a unit project has an approved plan at all (a unit project
/// without one cannot fall behind a plan: the pre-start check names it).
pub fn has_plan(plans: &ProjectPlans, unit_project: &Id) -> bool {
    plans.sampling.get(unit_project).and_then(PlanHistory::in_force).is_some()
}
