//! R17: early warnings about a project, from what the server tallies as
//! records and findings arrive, and the project's score.
//!
//! Each warning is its own rule with a stable code, the requirement it
//! serves, its words in zh-CN and English and a threshold from
//! configuration; it reports the figure it measured beside the threshold,
//! so a regulator can see why it fired. The evidence (the records behind
//! the figure) is found by the caller from the same finding codes
//! ([`ProjectSignal::finding_codes`]). The score is the sum of its visible
//! components: no black box.

use crate::verify::{Lang, Rule};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the server has counted for one project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectTally {
    /// Accepted samplings.
    pub samplings: u64,
    /// Samplings whose witnessing is decided: in time, late, undetermined, missed.
    pub in_time: u64,
    pub late: u64,
    pub undetermined: u64,
    pub missed: u64,
    /// Window closed, witness phones not synced since.
    pub pending: u64,
    /// Findings stored for the project's records, by finding code.
    pub findings: BTreeMap<String, u64>,
    /// Sampler-witness pairs: (samplings together, of them at odd hours).
    pub pairs: BTreeMap<String, (u64, u64)>,
    /// Specimens received longer ago than `received_untested_days` with no
    /// test data (A4.1: no test may be missed).
    pub received_untested: u64,
    /// Specimens tested longer ago than `tested_unreported_days` with no report.
    pub tested_unreported: u64,
    /// Items of the approved sampling plans behind or overdue (A4.1, R4).
    pub plan_items_behind: u64,
}

impl ProjectTally {
    fn count(&self, codes: &[&str]) -> u64 {
        codes.iter().map(|c| self.findings.get(*c).copied().unwrap_or(0)).sum()
    }
}

/// The project rules. Codes are stable: configuration and links use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectSignal {
    /// Share of decided samplings witnessed late or never (R8).
    WitnessLateOrMissed,
    /// Attempts the rules refused: a tag used twice or from elsewhere, a
    /// person without a grant (R1, R6, R16).
    RefusedAttempts,
    /// Samplings off the site or with the witness elsewhere (R7, R9).
    OffSiteOrApart,
    /// A phone reported a mocked location (R9).
    MockLocation,
    /// A phone offered two different records for one place in its chain:
    /// someone tried to rewrite history (R14).
    Equivocation,
    /// One sampler and one witness, together at odd hours again and again.
    SamePairOddHours,
    /// Specimens the lab received but never tested (A4.1, R12).
    ReceivedNotTested,
    /// Specimens tested but never reported (R13).
    TestedNotReported,
    /// Items of the approved sampling plans falling behind or past their
    /// period short of the plan (A4.1: no test may be missed; R4).
    PlanItemsBehind,
}

impl ProjectSignal {
    pub const ALL: [ProjectSignal; 9] = [
        ProjectSignal::WitnessLateOrMissed,
        ProjectSignal::RefusedAttempts,
        ProjectSignal::OffSiteOrApart,
        ProjectSignal::MockLocation,
        ProjectSignal::Equivocation,
        ProjectSignal::SamePairOddHours,
        ProjectSignal::ReceivedNotTested,
        ProjectSignal::TestedNotReported,
        ProjectSignal::PlanItemsBehind,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ProjectSignal::WitnessLateOrMissed => "witness_late_or_missed",
            ProjectSignal::RefusedAttempts => "refused_attempts",
            ProjectSignal::OffSiteOrApart => "off_site_or_apart",
            ProjectSignal::MockLocation => "mock_location",
            ProjectSignal::Equivocation => "equivocation",
            ProjectSignal::SamePairOddHours => "same_pair_odd_hours",
            ProjectSignal::ReceivedNotTested => "received_not_tested",
            ProjectSignal::TestedNotReported => "tested_not_reported",
            ProjectSignal::PlanItemsBehind => "plan_items_behind",
        }
    }

    pub fn parse(code: &str) -> Option<ProjectSignal> {
        ProjectSignal::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn requirement(self) -> Rule {
        match self {
            ProjectSignal::WitnessLateOrMissed | ProjectSignal::SamePairOddHours => Rule::R8,
            ProjectSignal::RefusedAttempts => Rule::R6,
            ProjectSignal::OffSiteOrApart | ProjectSignal::MockLocation => Rule::R9,
            ProjectSignal::Equivocation => Rule::Integrity,
            ProjectSignal::ReceivedNotTested => Rule::R12,
            ProjectSignal::TestedNotReported => Rule::R13,
            ProjectSignal::PlanItemsBehind => Rule::R4,
        }
    }

    /// Finding codes (as stored with records) that make up the figure: the
    /// evidence behind a warning is the records carrying them.
    pub fn finding_codes(self) -> &'static [&'static str] {
        match self {
            ProjectSignal::WitnessLateOrMissed => &["late_witness", "witness_missing"],
            ProjectSignal::RefusedAttempts => &[
                "custody",
                "tag_other_project",
                "tag_unknown",
                "not_authorised",
                "authorisation_invalid_at_time",
                "self_witness",
            ],
            ProjectSignal::OffSiteOrApart => &["outside_site", "not_together"],
            ProjectSignal::MockLocation => &["mock_location"],
            ProjectSignal::Equivocation => &["chain"],
            ProjectSignal::SamePairOddHours
            | ProjectSignal::ReceivedNotTested
            | ProjectSignal::TestedNotReported
            | ProjectSignal::PlanItemsBehind => &[],
        }
    }

    pub fn title(self, lang: Lang) -> &'static str {
        let zh = lang == Lang::ZhCn;
        match self {
            ProjectSignal::WitnessLateOrMissed => {
                pick(zh, "见证超时或缺失比例高", "late or missing witnessing")
            }
            ProjectSignal::RefusedAttempts => pick(zh, "被拒绝的违规尝试多", "many refused attempts"),
            ProjectSignal::OffSiteOrApart => {
                pick(zh, "场外取样或见证人不在场", "off site or witness elsewhere")
            }
            ProjectSignal::MockLocation => pick(zh, "模拟定位", "mocked location"),
            ProjectSignal::Equivocation => {
                pick(zh, "企图改写设备记录链", "attempt to rewrite a device's chain")
            }
            ProjectSignal::SamePairOddHours => {
                pick(zh, "同一取样员与见证员经常在非工作时间取样", "same pair, again and again at odd hours")
            }
            ProjectSignal::ReceivedNotTested => {
                pick(zh, "样品收样后未检测", "specimens received, never tested")
            }
            ProjectSignal::TestedNotReported => {
                pick(zh, "样品检测后未出报告", "specimens tested, never reported")
            }
            ProjectSignal::PlanItemsBehind => pick(zh, "取样计划执行滞后", "sampling plan falling behind"),
        }
    }

    /// What the figure is, in a sentence.
    pub fn explain(self, lang: Lang) -> &'static str {
        let zh = lang == Lang::ZhCn;
        match self {
            ProjectSignal::WitnessLateOrMissed => pick(
                zh,
                "已判定的取样中，超过 20 分钟才见证或从未见证的比例（R8）",
                "share of decided samplings witnessed after 20 minutes or never (R8)",
            ),
            ProjectSignal::RefusedAttempts => pick(
                zh,
                "被系统拒绝的标识重复使用、外来标识、无授权人员操作次数（R1、R6、R16）",
                "refused tag reuse, foreign tags and unauthorised people (R1, R6, R16)",
            ),
            ProjectSignal::OffSiteOrApart => pick(
                zh,
                "取样不在工地范围内或见证人与取样人相距过远的次数（R7、R9）",
                "samplings outside the site or with the witness too far away (R7, R9)",
            ),
            ProjectSignal::MockLocation => {
                pick(zh, "手机报告使用模拟定位的次数（R9）", "times a phone reported a mocked location (R9)")
            }
            ProjectSignal::Equivocation => pick(
                zh,
                "设备对同一链位置提交两条不同记录的次数",
                "times a phone offered two different records for one place in its chain",
            ),
            ProjectSignal::SamePairOddHours => pick(
                zh,
                "同一对取样员与见证员在 22:00–06:00（北京时间）共同完成的取样所占比例",
                "share of one sampler-witness pair's samplings made 22:00–06:00 China time",
            ),
            ProjectSignal::ReceivedNotTested => pick(
                zh,
                "检测机构收样已超过规定天数仍无检测数据的样品数（不得漏检，A4.1、R12）",
                "specimens received longer ago than the configured days with no test data (no test may be missed, A4.1, R12)",
            ),
            ProjectSignal::TestedNotReported => pick(
                zh,
                "已检测超过规定天数仍未出具报告的样品数（R13）",
                "specimens tested longer ago than the configured days with no report (R13)",
            ),
            ProjectSignal::PlanItemsBehind => pick(
                zh,
                "经批准的取样计划中，到目前应取样而未取样（超出容差）或计划期已过仍未完成的条目数（不得漏检，A4.1、R4）",
                "items of the approved sampling plans short of what was due by now (beyond the slack) or past their period short of the plan (no test may be missed, A4.1, R4)",
            ),
        }
    }
}

fn pick(zh: bool, z: &'static str, e: &'static str) -> &'static str {
    if zh { z } else { e }
}

/// Thresholds, from the server's `[oversight]` configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectThresholds {
    /// Decided samplings needed before a rate is judged.
    pub min_samplings: u64,
    /// Share late or missed at or above which it warns (0.05 = 5 %).
    pub late_or_missed_rate: f64,
    /// Refused attempts at or above which it warns.
    pub refused_attempts: u64,
    /// Off-site or apart samplings at or above which it warns.
    pub off_site_or_apart: u64,
    /// Mocked locations at or above which it warns (1: any).
    pub mock_locations: u64,
    /// Equivocations at or above which it warns (1: any).
    pub equivocations: u64,
    /// Samplings one pair must share before its odd hours count.
    pub pair_min_samplings: u64,
    /// Share of a pair's samplings at odd hours at or above which it warns.
    pub pair_odd_hours_rate: f64,
    /// Days after receipt without test data before a specimen counts as not
    /// tested: longer than the oldest common test age (concrete cubes at
    /// 28 days, GB/T 50081) plus a week.
    pub received_untested_days: u64,
    /// Days after the last test without a report.
    pub tested_unreported_days: u64,
    /// Such specimens at or above which it warns (1: any).
    pub stale_specimens: u64,
    /// Plan items behind or overdue at or above which it warns (1: any).
    pub plan_items_behind: u64,
}

impl Default for ProjectThresholds {
    fn default() -> Self {
        ProjectThresholds {
            min_samplings: 10,
            late_or_missed_rate: 0.05,
            refused_attempts: 3,
            off_site_or_apart: 3,
            mock_locations: 1,
            equivocations: 1,
            pair_min_samplings: 5,
            pair_odd_hours_rate: 0.5,
            received_untested_days: 35,
            tested_unreported_days: 7,
            stale_specimens: 1,
            plan_items_behind: 1,
        }
    }
}

/// A threshold that cannot be used, named by its configuration key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("oversight.project.{key}: {why}")]
pub struct ThresholdInvalid {
    pub key: &'static str,
    pub why: &'static str,
}

impl ThresholdInvalid {
    pub fn message(&self, lang: Lang) -> String {
        let why = match (lang, self.why) {
            (Lang::ZhCn, RATE) => "须为 0 到 1 之间（不含 0）的比例",
            (Lang::ZhCn, _) => "须至少为 1",
            (Lang::En, w) => w,
        };
        format!("oversight.project.{}: {why}", self.key)
    }
}

const RATE: &str = "must be a share above 0 and at most 1";
const COUNT: &str = "must be at least 1";

impl ProjectThresholds {
    pub fn check(&self) -> Result<(), ThresholdInvalid> {
        let rates = [
            ("late_or_missed_rate", self.late_or_missed_rate),
            ("pair_odd_hours_rate", self.pair_odd_hours_rate),
        ];
        for (key, r) in rates {
            if !(r > 0.0 && r <= 1.0) {
                return Err(ThresholdInvalid { key, why: RATE });
            }
        }
        let counts = [
            ("min_samplings", self.min_samplings),
            ("refused_attempts", self.refused_attempts),
            ("off_site_or_apart", self.off_site_or_apart),
            ("mock_locations", self.mock_locations),
            ("equivocations", self.equivocations),
            ("pair_min_samplings", self.pair_min_samplings),
            ("received_untested_days", self.received_untested_days),
            ("tested_unreported_days", self.tested_unreported_days),
            ("stale_specimens", self.stale_specimens),
            ("plan_items_behind", self.plan_items_behind),
        ];
        for (key, n) in counts {
            if n == 0 {
                return Err(ThresholdInvalid { key, why: COUNT });
            }
        }
        Ok(())
    }
}

/// A warning that fired: the figure it measured against its threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectWarning {
    pub signal: ProjectSignal,
    pub measured: f64,
    pub threshold: f64,
    /// For the pair rule, the pair ("sampler/witness"); empty otherwise.
    pub about: String,
}

/// Every project rule over one project's tally.
pub fn project_warnings(t: &ProjectTally, th: &ProjectThresholds) -> Vec<ProjectWarning> {
    let mut out = Vec::new();
    let mut fire = |signal, measured: f64, threshold: f64, about: String| {
        if measured >= threshold {
            out.push(ProjectWarning { signal, measured, threshold, about });
        }
    };
    let decided = t.in_time + t.late + t.undetermined + t.missed;
    if decided >= th.min_samplings {
        let rate = (t.late + t.missed) as f64 / decided as f64;
        fire(ProjectSignal::WitnessLateOrMissed, rate, th.late_or_missed_rate, String::new());
    }
    for (signal, threshold) in [
        (ProjectSignal::RefusedAttempts, th.refused_attempts),
        (ProjectSignal::OffSiteOrApart, th.off_site_or_apart),
        (ProjectSignal::MockLocation, th.mock_locations),
        (ProjectSignal::Equivocation, th.equivocations),
    ] {
        fire(signal, t.count(signal.finding_codes()) as f64, threshold as f64, String::new());
    }
    let stale = th.stale_specimens as f64;
    fire(ProjectSignal::ReceivedNotTested, t.received_untested as f64, stale, String::new());
    fire(ProjectSignal::TestedNotReported, t.tested_unreported as f64, stale, String::new());
    fire(
        ProjectSignal::PlanItemsBehind,
        t.plan_items_behind as f64,
        th.plan_items_behind as f64,
        String::new(),
    );
    for (pair, &(together, odd)) in &t.pairs {
        if together >= th.pair_min_samplings {
            let rate = odd as f64 / together as f64;
            fire(ProjectSignal::SamePairOddHours, rate, th.pair_odd_hours_rate, pair.clone());
        }
    }
    out
}

/// Odd hours for the pair rule: 22:00 to 06:00 China Standard Time.
pub fn odd_hour(ms: i64) -> bool {
    let (_, _, _, hour, _, _) = crate::calendar::cst(ms);
    !(6..22).contains(&hour)
}

/// One line of a project's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreComponent {
    pub signal: ProjectSignal,
    /// Points taken off (0 when the rule did not fire).
    pub deducted: u32,
    pub measured: f64,
    pub threshold: f64,
}

/// 100 less what each fired rule takes off; every line is shown. A fired
/// rule takes its weight, and up to twice that when the figure is at twice
/// its threshold or beyond, so the score orders projects by how far past
/// their thresholds they are, not only by how many rules fired.
pub fn project_score(warnings: &[ProjectWarning]) -> (u32, Vec<ScoreComponent>) {
    let mut components = Vec::new();
    for signal in ProjectSignal::ALL {
        let worst = warnings
            .iter()
            .filter(|w| w.signal == signal)
            .max_by(|a, b| (a.measured / a.threshold).total_cmp(&(b.measured / b.threshold)));
        let weight: u32 = match signal {
            ProjectSignal::WitnessLateOrMissed | ProjectSignal::Equivocation => 20,
            ProjectSignal::RefusedAttempts | ProjectSignal::MockLocation => 15,
            ProjectSignal::OffSiteOrApart | ProjectSignal::SamePairOddHours => 10,
            ProjectSignal::ReceivedNotTested | ProjectSignal::TestedNotReported => 10,
            ProjectSignal::PlanItemsBehind => 10,
        };
        components.push(match worst {
            Some(w) => {
                let over = (w.measured / w.threshold).clamp(1.0, 2.0);
                ScoreComponent {
                    signal,
                    deducted: (f64::from(weight) * over).round() as u32,
                    measured: w.measured,
                    threshold: w.threshold,
                }
            }
            None => ScoreComponent { signal, deducted: 0, measured: 0.0, threshold: 0.0 },
        });
    }
    let lost: u32 = components.iter().map(|c| c.deducted).sum();
    (100u32.saturating_sub(lost), components)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(decided: (u64, u64, u64)) -> ProjectTally {
        let (in_time, late, missed) = decided;
        ProjectTally { samplings: in_time + late + missed, in_time, late, missed, ..Default::default() }
    }

    fn fired(t: &ProjectTally) -> Vec<&'static str> {
        project_warnings(t, &ProjectThresholds::default()).iter().map(|w| w.signal.code()).collect()
    }

    #[test]
    fn r8_late_or_missed_rate_fires_at_its_threshold() {
        assert_eq!(fired(&tally((19, 0, 1))), ["witness_late_or_missed"]); // 5 % exactly
        assert!(fired(&tally((39, 1, 0))).is_empty()); // 2.5 %
        // Below the minimum of decided samplings nothing is judged.
        assert!(fired(&tally((0, 4, 5))).is_empty());
    }

    #[test]
    fn r6_refused_attempts_and_r9_location_signals() {
        let mut t = ProjectTally::default();
        t.findings.insert("custody".into(), 2);
        assert!(fired(&t).is_empty());
        t.findings.insert("tag_other_project".into(), 1);
        t.findings.insert("mock_location".into(), 1);
        t.findings.insert("outside_site".into(), 2);
        assert_eq!(fired(&t), ["refused_attempts", "mock_location"]);
        t.findings.insert("not_together".into(), 1);
        t.findings.insert("chain".into(), 1);
        assert_eq!(fired(&t), ["refused_attempts", "off_site_or_apart", "mock_location", "equivocation"]);
    }

    #[test]
    fn r8_same_pair_at_odd_hours() {
        let mut t = ProjectTally::default();
        t.pairs.insert("s1/w1".into(), (10, 5)); // half at night: fires
        t.pairs.insert("s2/w2".into(), (10, 4));
        t.pairs.insert("s3/w3".into(), (4, 4)); // too few together
        let w = project_warnings(&t, &ProjectThresholds::default());
        assert_eq!(w.len(), 1);
        assert_eq!((w[0].about.as_str(), w[0].measured), ("s1/w1", 0.5));
    }

    #[test]
    fn a4_1_r12_r13_specimens_left_untested_or_unreported() {
        let mut t = ProjectTally::default();
        assert!(fired(&t).is_empty());
        t.received_untested = 1;
        assert_eq!(fired(&t), ["received_not_tested"]);
        t.tested_unreported = 2;
        assert_eq!(fired(&t), ["received_not_tested", "tested_not_reported"]);
        let th = ProjectThresholds { stale_specimens: 3, ..Default::default() };
        assert!(project_warnings(&t, &th).is_empty(), "below the configured count");
    }

    #[test]
    fn odd_hours_are_china_time() {
        // 2026-11-27 14:30 UTC = 22:30 CST; 02:00 UTC = 10:00 CST.
        assert!(odd_hour(1_795_789_800_000));
        assert!(!odd_hour(1_795_744_800_000));
    }

    #[test]
    fn thresholds_are_checked() {
        assert!(ProjectThresholds::default().check().is_ok());
        let bad = ProjectThresholds { late_or_missed_rate: 0.0, ..Default::default() };
        assert_eq!(bad.check().map_err(|e| e.key), Err("late_or_missed_rate"));
        let bad = ProjectThresholds { pair_odd_hours_rate: f64::NAN, ..Default::default() };
        assert!(bad.check().is_err());
        let bad = ProjectThresholds { refused_attempts: 0, ..Default::default() };
        let e = bad.check().expect_err("zero");
        assert!(e.message(Lang::ZhCn).contains("至少"));
    }

    #[test]
    fn score_shows_every_component() {
        assert_eq!(project_score(&[]).0, 100);
        let t = tally((10, 0, 10)); // 50 % against 5 %: capped at twice the weight
        let w = project_warnings(&t, &ProjectThresholds::default());
        let (score, parts) = project_score(&w);
        assert_eq!(score, 60);
        assert_eq!(parts.len(), ProjectSignal::ALL.len());
        assert_eq!(parts.iter().map(|c| c.deducted).sum::<u32>(), 40);
    }

    #[test]
    fn codes_round_trip() {
        for s in ProjectSignal::ALL {
            assert_eq!(ProjectSignal::parse(s.code()), Some(s));
            assert_eq!(serde_json::to_value(s).ok(), Some(serde_json::Value::from(s.code())));
        }
    }
}
