//! R12: the system's own check of one test's data — recompute from the raw
//! curve what the standard says, put the lab's reported values beside it,
//! and flag what a person should look at: no curve, a curve that cannot be
//! read, a value that differs, a loading rate outside the band, a descent
//! that looks like a hand-opened valve, the same curve used for another
//! specimen. Each flag names its rule; none is a verdict on its own (R17:
//! leads for a spot check, R20).
//!
//! The test is named by the lab (`TestData::test`); the codes recomputed
//! are `concrete_cube_strength`, `rebar_tensile` and `coupler_tensile`.
//! Reported values are matched by name: the symbols of the standards and
//! the Chinese names lab software prints (see [`canonical_name`]).

use super::concrete::{self, ConcreteGrade, ReleaseThresholds, ReleaseVerdict};
use super::{Agreement, Comparison, Rounded, compare_reported, coupler, rebar};
use crate::curve::{self, MachineCurve};
use crate::record::Measurement;
use crate::verify::Lang;
use serde::{Deserialize, Serialize};

/// What the check needs of one test.
#[derive(Debug, Clone, PartialEq)]
pub struct TestInput<'a> {
    /// The lab's test code.
    pub test: &'a str,
    /// The specimen's grade as the sampler wrote it ("C30", "HRB400E Φ20").
    pub grade: Option<&'a str>,
    /// The raw curve file, when the test data names one and it has arrived.
    pub curve: Option<&'a [u8]>,
    /// The test data names a curve (it may not have arrived yet).
    pub names_curve: bool,
    pub reported: &'a [Measurement],
    /// Other specimens' tags whose test data names the very same curve file.
    pub same_curve_elsewhere: Vec<String>,
}

/// One recomputed figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// Canonical name (`f_cu`, `ReL`, `Rm` …).
    pub name: String,
    pub unit: String,
    pub value: Rounded,
}

/// Something a person should look at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "flag", rename_all = "snake_case")]
pub enum TestFlag {
    NoCurve,
    CurveUnreadable {
        message_zh: String,
        message_en: String,
    },
    /// The curve was read but this figure could not be recomputed from it.
    NotRecomputable {
        message_zh: String,
        message_en: String,
    },
    Mismatch {
        name: String,
        reported: f64,
        recomputed: f64,
        tolerance: f64,
    },
    RateOutOfBand {
        rate_mpa_s: f64,
        low: f64,
        high: f64,
    },
    ManualRelease,
    CurveReused {
        tags: Vec<String>,
    },
    /// Another specimen's curve has the same shape (a copy re-saved or
    /// re-timed): the lab signal `near_identical_curves` ([`super::group`]).
    CurveNearIdentical {
        tags: Vec<String>,
        /// The largest difference of the normalised shapes (share of the peak).
        difference: f64,
    },
    /// A concrete group is three cubes; this tag has another number of
    /// current cube tests (GB/T 50081-2019).
    GroupIncomplete {
        cubes: usize,
    },
    /// Both the largest and the smallest cube stray more than 15 % from the
    /// median: the group is void, not a basis for evaluation.
    GroupVoid {
        values_mpa: [f64; 3],
    },
    /// The lab reports a representative value for a group that is void.
    VoidGroupReported {
        reported: f64,
    },
}

impl TestFlag {
    pub fn code(&self) -> &'static str {
        match self {
            TestFlag::NoCurve => "no_curve",
            TestFlag::CurveUnreadable { .. } => "curve_unreadable",
            TestFlag::NotRecomputable { .. } => "not_recomputable",
            TestFlag::Mismatch { .. } => "result_mismatch",
            TestFlag::RateOutOfBand { .. } => "rate_out_of_band",
            TestFlag::ManualRelease => "manual_release",
            TestFlag::CurveReused { .. } => "curve_reused",
            TestFlag::CurveNearIdentical { .. } => "curve_near_identical",
            TestFlag::GroupIncomplete { .. } => "group_incomplete",
            TestFlag::GroupVoid { .. } => "group_void",
            TestFlag::VoidGroupReported { .. } => "void_group_reported",
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        match self {
            TestFlag::NoCurve => {
                if zh {
                    "没有试验机曲线（R12）".into()
                } else {
                    "no machine curve (R12)".into()
                }
            }
            TestFlag::CurveUnreadable { message_zh, message_en }
            | TestFlag::NotRecomputable { message_zh, message_en } => {
                let m = if zh { message_zh } else { message_en };
                if zh {
                    format!("曲线无法复核：{m}（R12）")
                } else {
                    format!("the curve cannot be recomputed: {m} (R12)")
                }
            }
            TestFlag::Mismatch { name, reported, recomputed, .. } => {
                if zh {
                    format!("{name} 报告值 {reported} 与系统按曲线复核的 {recomputed} 不符（R12）")
                } else {
                    format!(
                        "{name}: reported {reported}, the system recomputes {recomputed} from the curve (R12)"
                    )
                }
            }
            TestFlag::RateOutOfBand { rate_mpa_s, low, high } => {
                if zh {
                    format!(
                        "加荷速度 {rate_mpa_s:.2} MPa/s 不在标准范围 {low}–{high} MPa/s 内（GB/T 50081，R12）"
                    )
                } else {
                    format!(
                        "loading rate {rate_mpa_s:.2} MPa/s outside the standard's {low}–{high} MPa/s (GB/T 50081, R12)"
                    )
                }
            }
            TestFlag::ManualRelease => {
                if zh {
                    "峰值后力值平滑缓慢下降，疑似人工卸压而非试件破坏（R12）".into()
                } else {
                    "after the peak the force bleeds away smoothly: a hand-opened valve, not a broken specimen? (R12)"
                        .into()
                }
            }
            TestFlag::CurveReused { tags } => {
                if zh {
                    format!("同一曲线文件也用于试件 {}（R12）", tags.join("、"))
                } else {
                    format!("the same curve file is also used for specimen(s) {} (R12)", tags.join(", "))
                }
            }
            TestFlag::CurveNearIdentical { tags, difference } => {
                let pct = difference * 100.0;
                if zh {
                    format!(
                        "曲线形状与试件 {} 的几乎相同（最大差 {pct:.2}% 峰值），疑似复制曲线（R12）",
                        tags.join("、")
                    )
                } else {
                    format!(
                        "the curve has nearly the same shape as specimen(s) {} (largest difference {pct:.2} % of the peak): a copied curve? (R12)",
                        tags.join(", ")
                    )
                }
            }
            TestFlag::GroupIncomplete { cubes } => {
                if zh {
                    format!("一组混凝土试件应为 3 个，现有 {cubes} 个试件的试验数据（GB/T 50081，R12）")
                } else {
                    format!(
                        "a concrete group is three cubes; this specimen has test data for {cubes} (GB/T 50081, R12)"
                    )
                }
            }
            TestFlag::GroupVoid { values_mpa } => {
                let v = values_mpa.map(|x| format!("{x:.1}")).join(" / ");
                if zh {
                    format!(
                        "三个试件强度 {v} MPa 中最大值和最小值与中间值之差均超过 15%，该组结果不作为评定依据（GB/T 50081）"
                    )
                } else {
                    format!(
                        "of the cubes' {v} MPa both the largest and the smallest differ from the median by more than 15 %: the group is void (GB/T 50081)"
                    )
                }
            }
            TestFlag::VoidGroupReported { reported } => {
                if zh {
                    format!("该组无效，实验室却报告了代表值 {reported} MPa（GB/T 50081，R12）")
                } else {
                    format!(
                        "the group is void, yet the lab reports a representative value of {reported} MPa (GB/T 50081, R12)"
                    )
                }
            }
        }
    }
}

/// The check's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCheck {
    pub recomputed: Vec<Figure>,
    pub comparisons: Vec<Comparison>,
    pub flags: Vec<TestFlag>,
}

impl TestCheck {
    /// A reported value differs from the recomputation.
    pub fn has_mismatch(&self) -> bool {
        self.flags.iter().any(|f| matches!(f, TestFlag::Mismatch { .. }))
    }
}

/// The canonical name of a reported value: the standard's symbol for the
/// names lab software prints in Chinese or English.
pub fn canonical_name(name: &str) -> Option<&'static str> {
    let n = name.trim().replace([' ', '_', '.'], "").to_lowercase();
    Some(match n.as_str() {
        "fcu" | "f" | "抗压强度" | "强度" | "strength" | "compressivestrength" => "f_cu",
        "fcugroup" | "代表值" | "强度代表值" | "抗压强度代表值" | "groupstrength" | "representativevalue" => {
            "f_cu_group"
        }
        "reh" | "上屈服强度" | "upperyieldstrength" => "ReH",
        "rel" | "下屈服强度" | "屈服强度" | "lowyieldstrength" | "loweryieldstrength" | "yieldstrength" => {
            "ReL"
        }
        "rp02" | "规定塑性延伸强度" | "proofstrength" => "Rp0.2",
        "rm" | "抗拉强度" | "tensilestrength" => "Rm",
        "a" | "断后伸长率" | "elongation" | "elongationafterfracture" => "A",
        "agt" | "最大力总延伸率" | "最大力总伸长率" | "totalelongationatmaximumforce" => "Agt",
        "fmst" | "接头抗拉强度" | "jointstrength" => "f_mst",
        _ => return None,
    })
}

fn first_token(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or("")
}

fn not_recomputable(e: &impl std::fmt::Display, zh: String) -> TestFlag {
    TestFlag::NotRecomputable { message_zh: zh, message_en: e.to_string() }
}

/// The figures one curve gives for one test code, with the flags of the
/// curve's shape.
fn recompute(test: &str, grade: Option<&str>, c: &MachineCurve, flags: &mut Vec<TestFlag>) -> Vec<Figure> {
    let mut out = Vec::new();
    let mpa = |name: &str, value: Rounded| Figure { name: name.into(), unit: "MPa".into(), value };
    match test {
        "concrete_cube_strength" => {
            match concrete::cube_strength(c) {
                Ok(f) => out.push(mpa("f_cu", f.strength_mpa)),
                Err(e) => flags.push(not_recomputable(&e, e.message(Lang::ZhCn))),
            }
            if let Some(g) = grade.and_then(|g| ConcreteGrade::parse(first_token(g)).ok())
                && let Ok(rate) = concrete::loading_rate(c, g)
                && !rate.in_band
            {
                flags.push(TestFlag::RateOutOfBand {
                    rate_mpa_s: rate.mpa_per_s,
                    low: rate.band.0,
                    high: rate.band.1,
                });
            }
            if let Ok(r) = concrete::release_check(c, &ReleaseThresholds::default())
                && r.verdict == ReleaseVerdict::SuspectedManualRelease
            {
                flags.push(TestFlag::ManualRelease);
            }
        }
        "rebar_tensile" => match rebar::tensile(c) {
            Ok(t) => {
                out.push(mpa("Rm", t.rm_mpa));
                for (name, v) in [("ReH", &t.reh_mpa), ("ReL", &t.rel_mpa), ("Rp0.2", &t.rp02_mpa)] {
                    if let Some(v) = v.value() {
                        out.push(mpa(name, v));
                    }
                }
                for (name, v) in [("A", &t.a_percent), ("Agt", &t.agt_percent)] {
                    if let Some(v) = v.value() {
                        out.push(Figure { name: name.into(), unit: "%".into(), value: v });
                    }
                }
            }
            Err(e) => flags.push(not_recomputable(&e, e.message(Lang::ZhCn))),
        },
        "coupler_tensile" => match coupler::joint_strength(c) {
            Ok(v) => out.push(mpa("f_mst", v)),
            Err(e) => flags.push(not_recomputable(&e, e.message(Lang::ZhCn))),
        },
        _ => {}
    }
    out
}

/// R12: check one test's data against its curve.
pub fn check_test(i: &TestInput<'_>) -> TestCheck {
    let mut flags = Vec::new();
    let mut recomputed = Vec::new();
    match (i.names_curve, i.curve) {
        (false, _) => flags.push(TestFlag::NoCurve),
        (true, None) => {}
        (true, Some(bytes)) => match curve::parse(bytes) {
            Ok(c) => recomputed = recompute(i.test, i.grade, &c, &mut flags),
            Err(e) => flags.push(TestFlag::CurveUnreadable {
                message_zh: e.message(Lang::ZhCn),
                message_en: e.message(Lang::En),
            }),
        },
    }
    // The lab's values under their canonical names, in the unit recomputed
    // (value_milli is thousandths of the unit).
    let reported: Vec<(&str, f64)> = i
        .reported
        .iter()
        .filter_map(|m| canonical_name(&m.name).map(|n| (n, m.value_milli as f64 / 1000.0)))
        .collect();
    let pairs: Vec<(&str, Rounded)> = recomputed.iter().map(|f| (f.name.as_str(), f.value)).collect();
    let comparisons = if recomputed.is_empty() { vec![] } else { compare_reported(&pairs, &reported, None) };
    for c in &comparisons {
        if let (Agreement::Mismatch, Some(reported), Some(recomputed)) =
            (c.agreement, c.reported, c.recomputed)
        {
            flags.push(TestFlag::Mismatch {
                name: c.name.clone(),
                reported,
                recomputed,
                tolerance: c.tolerance,
            });
        }
    }
    if !i.same_curve_elsewhere.is_empty() {
        flags.push(TestFlag::CurveReused { tags: i.same_curve_elsewhere.clone() });
    }
    TestCheck { recomputed, comparisons, flags }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::sim::{self, CubeFailure, CubeParams};
    use crate::curve::{FileStyle, to_file};

    fn cube_file(failure: CubeFailure, rate: Option<f64>) -> (Vec<u8>, f64) {
        let mut p = CubeParams::new(150.0, 30, 5);
        p.failure = failure;
        if let Some(r) = rate {
            p.rate_mpa_s = r;
        }
        (to_file(&sim::cube(&p), FileStyle::GbkChinese), p.strength_mpa)
    }

    fn reported(name: &str, v: f64) -> Vec<Measurement> {
        vec![Measurement { name: name.into(), value_milli: (v * 1000.0).round() as i64, unit: "MPa".into() }]
    }

    fn input<'a>(file: Option<&'a [u8]>, reported: &'a [Measurement]) -> TestInput<'a> {
        TestInput {
            test: "concrete_cube_strength",
            grade: Some("C30"),
            curve: file,
            names_curve: true,
            reported,
            same_curve_elsewhere: vec![],
        }
    }

    #[test]
    fn r12_the_curve_gives_the_strength_and_an_honest_value_matches() {
        let (file, _) = cube_file(CubeFailure::Brittle, None);
        let first = check_test(&input(Some(&file), &[]));
        let f = first.recomputed.iter().find(|f| f.name == "f_cu").unwrap().value.rounded;
        assert!(first.flags.is_empty(), "{:?}", first.flags);
        let honest = reported("抗压强度", f);
        let c = check_test(&input(Some(&file), &honest));
        assert_eq!(c.comparisons[0].agreement, Agreement::Match);
        assert!(!c.has_mismatch());
        // A value nudged up by 2 MPa is flagged, with both numbers.
        let nudged = reported("fcu", f + 2.0);
        let c = check_test(&input(Some(&file), &nudged));
        assert!(c.has_mismatch(), "{:?}", c.flags);
        assert!(c.flags[0].message(Lang::ZhCn).contains("不符"));
    }

    #[test]
    fn r12_shape_and_rate_flags() {
        let (file, _) = cube_file(CubeFailure::ManualRelease, None);
        let c = check_test(&input(Some(&file), &[]));
        assert!(c.flags.contains(&TestFlag::ManualRelease), "{:?}", c.flags);
        let (file, _) = cube_file(CubeFailure::Brittle, Some(1.5));
        let c = check_test(&input(Some(&file), &[]));
        assert!(c.flags.iter().any(|f| f.code() == "rate_out_of_band"), "{:?}", c.flags);
    }

    #[test]
    fn r12_missing_unreadable_and_reused_curves_are_flagged() {
        let none = TestInput { names_curve: false, curve: None, ..input(None, &[]) };
        assert_eq!(check_test(&none).flags, vec![TestFlag::NoCurve]);
        // Named but not arrived yet: nothing to say yet.
        assert!(check_test(&input(None, &[])).flags.is_empty());
        let c = check_test(&input(Some(b"time,force\n1,2\n"), &[]));
        assert!(matches!(&c.flags[0], TestFlag::CurveUnreadable { .. }), "{:?}", c.flags);
        let (file, _) = cube_file(CubeFailure::Brittle, None);
        let reused = TestInput { same_curve_elsewhere: vec!["T2".into()], ..input(Some(&file), &[]) };
        assert!(check_test(&reused).flags.iter().any(|f| f.code() == "curve_reused"));
    }

    #[test]
    fn r12_reported_names_map_to_the_standards_symbols() {
        for (n, c) in [
            ("下屈服强度", "ReL"),
            ("Rp0.2", "Rp0.2"),
            ("R_m", "Rm"),
            ("最大力总延伸率", "Agt"),
            ("f_cu", "f_cu"),
        ] {
            assert_eq!(canonical_name(n), Some(c), "{n}");
        }
        assert_eq!(canonical_name("坍落度"), None);
    }
}
