//! R11-R13: the lab desk — where each specimen a lab received stands, and
//! what the curve viewer marks on a machine curve. Pure: the console
//! gathers the records of a tag and the curve's bytes, these functions say
//! what to show.
//!
//! * [`stage`]: received → tested → reviewed (or returned for correction)
//!   → reported, by the same rules that decide a report's seal
//!   ([`crate::report_seal::current_tests`]: a corrected test no longer
//!   counts; the latest review of a test decides).
//! * [`curve_marks`]: the forces at which the system's recomputed values
//!   lie (the peak for a cube's f = F / A; ReH, ReL, Rp0.2 and Rm for a
//!   bar), so a reviewer sees on the curve itself what the numbers say.

use crate::curve::MachineCurve;
use crate::report_seal::{ReviewEntry, TestEntry, current_tests};
use crate::results::{concrete, coupler, rebar};
use crate::verify::Lang;
use serde::{Deserialize, Serialize};

/// Where a received specimen stands in its lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Received; no test data yet.
    AwaitingTest,
    /// A test was returned by the reviewer and not yet corrected.
    Returned,
    /// Tested; some current test has no review yet.
    AwaitingReview,
    /// Every current test approved; no report names the specimen yet.
    AwaitingReport,
    /// A report names it.
    Reported,
}

impl Stage {
    pub fn code(self) -> &'static str {
        match self {
            Stage::AwaitingTest => "awaiting_test",
            Stage::Returned => "returned",
            Stage::AwaitingReview => "awaiting_review",
            Stage::AwaitingReport => "awaiting_report",
            Stage::Reported => "reported",
        }
    }

    pub fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Stage::AwaitingTest, Lang::ZhCn) => "待试验",
            (Stage::AwaitingTest, Lang::En) => "awaiting test",
            (Stage::Returned, Lang::ZhCn) => "已退回待更正",
            (Stage::Returned, Lang::En) => "returned for correction",
            (Stage::AwaitingReview, Lang::ZhCn) => "待复核",
            (Stage::AwaitingReview, Lang::En) => "awaiting review",
            (Stage::AwaitingReport, Lang::ZhCn) => "待出具报告",
            (Stage::AwaitingReport, Lang::En) => "awaiting report",
            (Stage::Reported, Lang::ZhCn) => "已出具报告",
            (Stage::Reported, Lang::En) => "reported",
        }
    }
}

/// R11-R13: the stage of one received specimen from its test data and
/// reviews (in log order) and whether an accepted report names it.
pub fn stage(tests: &[TestEntry], reviews: &[ReviewEntry], reported: bool) -> Stage {
    if reported {
        return Stage::Reported;
    }
    let (current, _) = current_tests(tests, reviews);
    if current.is_empty() {
        return Stage::AwaitingTest;
    }
    let latest = |id| reviews.iter().rev().find(|r| r.test_data == id).map(|r| r.approved);
    if current.iter().any(|t| latest(t.id) == Some(false)) {
        Stage::Returned
    } else if current.iter().any(|t| latest(t.id) != Some(true)) {
        Stage::AwaitingReview
    } else {
        Stage::AwaitingReport
    }
}

/// A recomputed value drawn on the curve: a level of force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// The standard's symbol (`f_cu`, `ReH`, `Rm` …).
    pub name: String,
    /// The recomputed value (rounded) and its unit.
    pub value: f64,
    pub unit: String,
    /// The force at which it lies, kN.
    pub force_kn: f64,
}

/// R12: the recomputed values of test `test` as force levels on its curve.
/// Empty for a test code the system does not recompute or a curve it
/// cannot judge (the check says why).
pub fn curve_marks(test: &str, curve: &MachineCurve) -> Vec<Mark> {
    let peak = curve.samples.iter().map(|s| s.force_kn).fold(f64::NEG_INFINITY, f64::max);
    let mark = |name: &str, value: f64, unit: &str, force_kn: f64| Mark {
        name: name.into(),
        value,
        unit: unit.into(),
        force_kn,
    };
    match test {
        "concrete_cube_strength" => concrete::cube_strength(curve)
            .map(|c| vec![mark("f_cu", c.strength_mpa.rounded, "MPa", peak)])
            .unwrap_or_default(),
        "coupler_tensile" => coupler::joint_strength(curve)
            .map(|v| vec![mark("f_mst", v.rounded, "MPa", peak)])
            .unwrap_or_default(),
        "rebar_tensile" => match rebar::tensile(curve) {
            Ok(t) => {
                let kn = |mpa: f64| mpa * t.s0_mm2 / 1000.0;
                let mut out = Vec::new();
                for (name, v) in [("ReH", &t.reh_mpa), ("ReL", &t.rel_mpa), ("Rp0.2", &t.rp02_mpa)] {
                    if let Some(v) = v.value() {
                        out.push(mark(name, v.rounded, "MPa", kn(v.raw)));
                    }
                }
                out.push(mark("Rm", t.rm_mpa.rounded, "MPa", t.fm_kn));
                out
            }
            Err(_) => vec![],
        },
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hash;
    use crate::curve::sim::{self, CubeParams, RebarGrade, RebarParams};

    fn t(n: u8, revises: Option<u8>) -> TestEntry {
        TestEntry {
            id: Hash([n; 32]),
            test: "concrete_cube_strength".into(),
            revises: revises.map(|r| Hash([r; 32])),
        }
    }

    fn r(n: u8, approved: bool) -> ReviewEntry {
        ReviewEntry { test_data: Hash([n; 32]), approved }
    }

    #[test]
    fn r12_r13_a_specimen_moves_from_received_to_reported() {
        assert_eq!(stage(&[], &[], false), Stage::AwaitingTest);
        assert_eq!(stage(&[t(1, None)], &[], false), Stage::AwaitingReview);
        assert_eq!(stage(&[t(1, None)], &[r(1, false)], false), Stage::Returned);
        // Corrected: the new test waits for its own review.
        assert_eq!(stage(&[t(1, None), t(2, Some(1))], &[r(1, false)], false), Stage::AwaitingReview);
        assert_eq!(
            stage(&[t(1, None), t(2, Some(1))], &[r(1, false), r(2, true)], false),
            Stage::AwaitingReport
        );
        // The latest review decides: approved, then taken back.
        assert_eq!(stage(&[t(1, None)], &[r(1, true), r(1, false)], false), Stage::Returned);
        assert_eq!(stage(&[t(1, None)], &[r(1, true)], true), Stage::Reported);
        assert_eq!(Stage::Returned.name(Lang::ZhCn), "已退回待更正");
    }

    #[test]
    fn r12_the_marks_lie_where_the_recomputed_values_do() {
        let cube = sim::cube(&CubeParams::new(150.0, 30, 3));
        let m = curve_marks("concrete_cube_strength", &cube);
        let peak = cube.samples.iter().map(|s| s.force_kn).fold(0.0, f64::max);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].name.as_str(), m[0].force_kn), ("f_cu", peak));
        // f = F / A: the peak over 150 × 150 mm².
        assert!((m[0].value - peak * 1000.0 / 22_500.0).abs() <= 0.05 + 1e-9, "{m:?}");
        let bar = sim::rebar(&RebarParams::new(20.0, RebarGrade::Hrb400, 5));
        let m = curve_marks("rebar_tensile", &bar);
        let names: Vec<_> = m.iter().map(|x| x.name.as_str()).collect();
        assert!(names.contains(&"Rm") && names.contains(&"ReL"), "{names:?}");
        let rm = m.iter().find(|x| x.name == "Rm").unwrap();
        let rel = m.iter().find(|x| x.name == "ReL").unwrap();
        assert!(rel.force_kn < rm.force_kn && rel.value < rm.value, "{m:?}");
        assert!(curve_marks("slump", &cube).is_empty());
        assert!(curve_marks("rebar_tensile", &MachineCurve::default()).is_empty());
    }
}
