//! Lab signals (R17): statistical early warnings about a testing lab,
//! computed from its results, the rest of the city's, and its force curves.
//!
//! R17 asks the platform to analyse what it collects and warn early about
//! labs. Each signal here is a named rule with a stable code
//! ([`LabSignal`]), its requirement, a zh-CN and English title and
//! explanation, a threshold in [`LabThresholds`], the figure it measured
//! ([`Figure`]) and its evidence: the ids of the results or curves that made
//! it fire. A warning is a lead for a spot check (R20), not a verdict: each
//! signal has innocent explanations, and the evidence says where to look.
//!
//! # The signals and why
//!
//! Proven frauds left these traces (docs: `monitoring-platform.md`, "Fraud
//! that was proven, and the signals it left"):
//!
//! | code | measures | why it is suspicious |
//! |---|---|---|
//! | `pass_rate_above_city` | exact binomial P(failures ≤ observed) at the city's failure rate | a lab that almost never fails where others do may pass what it should not |
//! | `clustered_above_pass_line` | share of results in [pass line, pass line × 1.05) | failing results nudged up to just pass pile up there |
//! | `at_design_value` | share of results equal to the design value (±0.05) | writing design values instead of testing (New York, convicted 2010) |
//! | `too_uniform` | coefficient of variation; longest run within ±1σ of the city's mean | made-up numbers vary less than real testing (process-control run rules) |
//! | `last_digit_bias` | chi-square test of the last digit of raw readings | instruments give every digit alike; people typing favour 0 and 5 |
//! | `near_identical_curves` | largest difference of two normalised force curves | real curves always differ in their noise; one test's curve reused |
//!
//! # Thresholds
//!
//! [`LabThresholds::default`] documents each default and its reason. They
//! are judgements (sources named where there is one: GB/T 50081-2019's
//! reporting step, GB/T 50107-2010's floor on the standard deviation, the
//! Western Electric run rules, Cochran's rule for chi-square cells), to be
//! calibrated on the city's data; [`LabThresholds::check`] rejects values
//! outside sensible ranges.
//!
//! # Comparisons and odd data
//!
//! - "The city" is every other lab: results of the lab under test are
//!   dropped from `city_results` (by `lab`), so the reference is independent
//!   of it and the caller may pass all the city's results. A parameter (or
//!   parameter and design value) with fewer than `city_min_n` other results
//!   has no reference, and the rules that need one stay silent.
//! - Entries of `lab_results` and `curves` that belong to another lab are
//!   ignored.
//! - Odd data is skipped, never a panic: a result whose `value`,
//!   `pass_line` or `design_value` is NaN or infinite takes no part in the
//!   rules that use them; non-finite raw readings and curve points are
//!   dropped; a curve with fewer than two usable points, no duration or no
//!   positive peak is not compared. Results without readings simply add none.
//! - Decimal comparisons allow a relative 1e-9 for binary rounding (30 × 1.05
//!   is 31.500000000000004 in `f64`).
//! - Warnings come in a fixed order (rule, then parameter and design value,
//!   then evidence), and within a group results are taken in test time
//!   order (ties by id), so the same input gives the same output.
//!
//! # Purity and where the data comes from
//!
//! Like the rest of the core these are pure functions over plain input
//! types: no clock, no storage. Lab results do not exist in the system yet;
//! the lab-results issue produces them (group values recomputed from curves,
//! GB/T 50081-2019) and maps them onto [`LabResult`] and [`Curve`], and the
//! server calls [`lab_signals`] per lab and period and stores or shows the
//! warnings.

mod curves;
mod rules;
pub mod stats;
#[cfg(test)]
mod tests;
mod thresholds;

use crate::verify::{Lang, Rule};
use serde::{Deserialize, Serialize};

pub use curves::near_identical_curves;
pub use rules::{
    at_design_value, clustered_above_pass_line, last_digit, last_digit_bias, pass_rate_above_city,
    too_uniform,
};
pub use thresholds::{LabThresholds, MAX_CURVE_CAP, MAX_CURVE_POINTS, ThresholdError};

/// One group's result as a lab reports it: the evidence key of every
/// result-based signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabResult {
    /// Result (report) id: what a warning's evidence names.
    pub id: String,
    pub lab: String,
    pub project: String,
    /// What was tested, e.g. `concrete_cube_strength`.
    pub parameter: String,
    /// The design value, e.g. fcu,k = 30.0 MPa for C30.
    pub design_value: f64,
    /// The value at or above which the result passes.
    pub pass_line: f64,
    /// The group's reported value (for cubes: the group strength, MPa).
    pub value: f64,
    /// Raw readings as captured, e.g. the three cubes' peak forces in kN.
    pub readings: Vec<f64>,
    /// When it was tested (ms since the Unix epoch).
    pub tested_ms: i64,
}

/// A specimen's force curve as captured from the testing machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// Curve (specimen) id: what a warning's evidence names.
    pub id: String,
    pub lab: String,
    /// (time in s, force in kN), in capture order.
    pub points: Vec<(f64, f64)>,
}

/// The lab signals. The snake_case code is stable: consoles and stored
/// warnings match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabSignal {
    PassRateAboveCity,
    ClusteredAbovePassLine,
    AtDesignValue,
    TooUniform,
    LastDigitBias,
    NearIdenticalCurves,
}

impl LabSignal {
    /// Every signal, in the order [`lab_signals`] runs them.
    pub const ALL: [LabSignal; 6] = [
        LabSignal::PassRateAboveCity,
        LabSignal::ClusteredAbovePassLine,
        LabSignal::AtDesignValue,
        LabSignal::TooUniform,
        LabSignal::LastDigitBias,
        LabSignal::NearIdenticalCurves,
    ];

    /// The stable code (the serialised form).
    pub fn code(self) -> &'static str {
        match self {
            LabSignal::PassRateAboveCity => "pass_rate_above_city",
            LabSignal::ClusteredAbovePassLine => "clustered_above_pass_line",
            LabSignal::AtDesignValue => "at_design_value",
            LabSignal::TooUniform => "too_uniform",
            LabSignal::LastDigitBias => "last_digit_bias",
            LabSignal::NearIdenticalCurves => "near_identical_curves",
        }
    }

    /// The requirement the signal serves: R17 (analysis and early warning).
    pub fn requirement(self) -> Rule {
        Rule::R17
    }

    /// A short title.
    pub fn title(self, lang: Lang) -> &'static str {
        let zh = lang == Lang::ZhCn;
        match self {
            LabSignal::PassRateAboveCity => {
                if zh {
                    "合格率异常高于全市"
                } else {
                    "Pass rate above the city's"
                }
            }
            LabSignal::ClusteredAbovePassLine => {
                if zh {
                    "结果集中在合格线上方"
                } else {
                    "Results clustered just above the pass line"
                }
            }
            LabSignal::AtDesignValue => {
                if zh {
                    "结果等于设计值"
                } else {
                    "Results equal to the design value"
                }
            }
            LabSignal::TooUniform => {
                if zh {
                    "结果过于一致"
                } else {
                    "Results too uniform"
                }
            }
            LabSignal::LastDigitBias => {
                if zh {
                    "原始读数末位数字偏倚"
                } else {
                    "Last-digit bias in raw readings"
                }
            }
            LabSignal::NearIdenticalCurves => {
                if zh {
                    "不同试件曲线几乎相同"
                } else {
                    "Near-identical curves of different specimens"
                }
            }
        }
    }

    /// One sentence: what the signal measures and why it is suspicious.
    pub fn explain(self, lang: Lang) -> &'static str {
        let zh = lang == Lang::ZhCn;
        match self {
            LabSignal::PassRateAboveCity => {
                if zh {
                    "按全市其他检测机构同一参数的不合格率，计算该机构出现如此少不合格结果的精确二项概率，概率过小说明它几乎从不判不合格而别人会，可能放行了本应不合格的样品。"
                } else {
                    "The exact binomial probability of so few failures at the other labs' failure rate for the same parameter; when it is tiny the lab almost never fails what others do, and may be passing samples that should fail."
                }
            }
            LabSignal::ClusteredAbovePassLine => {
                if zh {
                    "统计落在合格线至合格线上方一个窄带内的结果比例；真实强度在合格线两侧平滑分布，在此扎堆说明不合格结果可能被抬高到刚好合格。"
                } else {
                    "The share of results in a narrow band at or just above the pass line; real strengths spread smoothly across it, so a pile-up there suggests failing results nudged up to just pass."
                }
            }
            LabSignal::AtDesignValue => {
                if zh {
                    "统计在修约误差内恰好等于设计值的结果比例；真实强度围绕均值离散，很少正好落在设计等级上，而不检测直接填写设计值是已判决的造假手法（纽约，2010 年）。"
                } else {
                    "The share of results equal to the design value within rounding; real strengths scatter around their mean and rarely land on the grade itself, and writing design values instead of testing is a proven fraud (New York, 2010)."
                }
            }
            LabSignal::TooUniform => {
                if zh {
                    "按参数和设计值统计结果的变异系数，以及按检测时间连续落在全市均值 ±1σ 内的最长次数；真实检测的波动更大，编造的数据往往过于接近。"
                } else {
                    "The coefficient of variation of results for one parameter and design value, and the longest run in test order within ±1σ of the city's mean; real testing varies more, and made-up numbers sit too close together."
                }
            }
            LabSignal::LastDigitBias => {
                if zh {
                    "用卡方检验（9 个自由度）检查原始读数末位数字是否均匀分布；仪器输出的各个数字出现机会相同，人工填写的数字则偏好 0 和 5 等。"
                } else {
                    "A chi-square test (9 degrees of freedom) of whether the last recorded digit of raw readings is uniform; instruments give every digit alike, while people typing numbers favour some, such as 0 and 5."
                }
            }
            LabSignal::NearIdenticalCurves => {
                if zh {
                    "将不同试件的力值曲线按时间和峰值归一化后逐点比较；真实曲线的噪声、起始段和破坏点总有差别，几乎相同说明一条曲线被重复用于另一个试件。"
                } else {
                    "Compares the force curves of different specimens after normalising time and force; real curves always differ in their noise, toe and failure, so near-identical ones suggest one test's curve reused for another specimen."
                }
            }
        }
    }
}

/// The figure a warning measured: what `measured` and `threshold` are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// P(X ≤ the lab's failures), X binomial at the city's failure rate.
    FailureTailProbability,
    /// Share of results in [pass line, pass line × (1 + band)).
    ShareInBand,
    /// Share of results equal to the design value.
    ShareAtDesign,
    /// Sample standard deviation over mean.
    CoefficientOfVariation,
    /// Longest run of results within ±1σ of the city's mean.
    RunWithinOneSigma,
    /// p-value of the chi-square test of last-digit uniformity.
    DigitUniformityP,
    /// Largest difference of two normalised curves (fraction of peak).
    MaxCurveDifference,
}

impl Figure {
    /// True when the rule fires at or above the threshold (shares, runs);
    /// false when it fires below it (probabilities, spread, differences).
    pub fn fires_at_or_above(self) -> bool {
        matches!(self, Figure::ShareInBand | Figure::ShareAtDesign | Figure::RunWithinOneSigma)
    }

    /// What the figure is, for people.
    pub fn name(self, lang: Lang) -> &'static str {
        let zh = lang == Lang::ZhCn;
        match self {
            Figure::FailureTailProbability => {
                if zh {
                    "按全市不合格率出现如此少不合格的概率"
                } else {
                    "probability of so few failures"
                }
            }
            Figure::ShareInBand => {
                if zh {
                    "合格线上方窄带内的比例"
                } else {
                    "share just above the pass line"
                }
            }
            Figure::ShareAtDesign => {
                if zh {
                    "等于设计值的比例"
                } else {
                    "share at the design value"
                }
            }
            Figure::CoefficientOfVariation => {
                if zh {
                    "变异系数"
                } else {
                    "coefficient of variation"
                }
            }
            Figure::RunWithinOneSigma => {
                if zh {
                    "连续落在全市均值 ±1σ 内的最长次数"
                } else {
                    "longest run within ±1σ of the city's mean"
                }
            }
            Figure::DigitUniformityP => {
                if zh {
                    "末位数字均匀性检验 p 值"
                } else {
                    "p-value of last-digit uniformity"
                }
            }
            Figure::MaxCurveDifference => {
                if zh {
                    "归一化曲线最大差值"
                } else {
                    "largest difference of the normalised curves"
                }
            }
        }
    }
}

/// One fired signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabWarning {
    pub signal: LabSignal,
    /// What `measured` and `threshold` are (for `too_uniform`: which of its
    /// two tests fired).
    pub figure: Figure,
    pub lab: String,
    /// The parameter judged; `None` for curves, which carry none.
    pub parameter: Option<String>,
    /// The design value judged, for rules that group by it (`too_uniform`).
    pub design_value: Option<f64>,
    pub measured: f64,
    pub threshold: f64,
    /// What the rule counted: results, or raw readings (`last_digit_bias`),
    /// or curves compared (`near_identical_curves`).
    pub n: usize,
    /// Ids of the results (or curves) that made it fire.
    pub evidence: Vec<String>,
}

impl LabWarning {
    pub fn requirement(&self) -> Rule {
        self.signal.requirement()
    }

    /// One line for a console: title, parameter, figure against threshold.
    pub fn message(&self, lang: Lang) -> String {
        let cmp = if self.figure.fires_at_or_above() { "≥" } else { "<" };
        let param = self.parameter.as_deref().map(|p| format!(" [{p}]")).unwrap_or_default();
        let (n_label, sep) = if lang == Lang::ZhCn { ("样本数", "：") } else { ("n", ": ") };
        format!(
            "{}{param}{sep}{} {} {cmp} {} ({n_label} = {})",
            self.signal.title(lang),
            self.figure.name(lang),
            fmt_figure(self.measured),
            fmt_figure(self.threshold),
            self.n,
        )
    }
}

/// Numbers as people read them: small probabilities in scientific notation.
fn fmt_figure(v: f64) -> String {
    if v != 0.0 && v.abs() < 0.001 {
        format!("{v:.2e}")
    } else {
        format!("{}", (v * 10_000.0).round() / 10_000.0)
    }
}

/// Runs every lab signal for `lab` and returns the warnings, in the order of
/// [`LabSignal::ALL`].
///
/// `lab_results`: the lab's results for the period judged (entries of other
/// labs are ignored). `city_results`: the city's results for the same period
/// (the lab's own are dropped, see the module doc). `curves`: the lab's
/// curves for the period (at most `curve_cap` are compared). Never panics,
/// whatever the numbers.
pub fn lab_signals(
    lab: &str,
    lab_results: &[LabResult],
    city_results: &[LabResult],
    curves: &[Curve],
    t: &LabThresholds,
) -> Vec<LabWarning> {
    let mut out = pass_rate_above_city(lab, lab_results, city_results, t);
    out.extend(clustered_above_pass_line(lab, lab_results, t));
    out.extend(at_design_value(lab, lab_results, t));
    out.extend(too_uniform(lab, lab_results, city_results, t));
    out.extend(last_digit_bias(lab, lab_results, t));
    out.extend(near_identical_curves(lab, curves, t));
    out
}
