//! Lab signals (R17): early warnings about a testing lab, computed from its
//! results, the rest of the city's and its force curves (statistics), and
//! from its tests, equipment, staff and reports (the registers of R3, R12,
//! R13), with the lab's score over them.
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
//! The registers the regulator keeps (R3: equipment with calibration dates,
//! staff with qualifications) and what labs upload (tests with their
//! modification log, reports) show rules broken outright, judged by
//! [`lab_registry_signals`] (the notes' "What lab software must refuse",
//! and the Idaho audit):
//!
//! | code | measures | why it matters |
//! |---|---|---|
//! | `equipment_out_of_calibration` | tests on equipment with no certificate valid at test time (R3) | results from uncalibrated equipment are not valid data |
//! | `equipment_calibration_expiring` | days until an item's latest certificate ends (R3) | labs are warned a month ahead, to recalibrate before testing on it |
//! | `tested_before_age` | tests sooner after making than the required age, less a tolerance (R12) | the result is not the strength at that age; times or data may be untrue |
//! | `staff_not_matching` | tests by staff without a current qualification; qualified staff per parameter tested (A10.2, R3) | staff not matching the parameters is a focus of spot checks (R20) |
//! | `results_edited` | share of tests edited after first entry (R12) | results adjusted after the fact (Idaho audit, 2021) |
//! | `reports_replaced` | share of reports replaced or revoked (R13) | failing reports reissued as passing |
//!
//! [`lab_score`] turns one lab's warnings into a score out of 100, every
//! deduction shown ([`LabSignal::weight`] documents the weights).
//!
//! # Thresholds
//!
//! [`LabThresholds::default`] documents each default and its reason. They
//! are judgements (sources named where there is one: GB/T 50081-2019's
//! reporting step, GB/T 50107-2010's floor on the standard deviation, the
//! Western Electric run rules, Cochran's rule for chi-square cells, ASTM
//! C39's tolerance on test ages, the month-ahead calibration warning of
//! comparable provincial systems), to be calibrated on the city's data;
//! [`LabThresholds::check`] rejects values outside sensible ranges.
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
//! warnings. Likewise tests, the equipment and staff registers and reports
//! arrive with that issue, mapped onto [`LabTest`], [`Equipment`],
//! [`StaffQualification`] and [`LabReport`] for [`lab_registry_signals`],
//! which takes the caller's `now_ms` instead of reading a clock. Odd times
//! (any `i64`, a certificate ending before it starts, a test before its
//! specimen was made) are judged by plain arithmetic without overflow and
//! never panic.

mod curves;
mod registry;
mod rules;
mod score;
pub mod stats;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_registry;
#[cfg(test)]
mod tests_score;
mod thresholds;

use crate::verify::{Lang, Rule};
use serde::{Deserialize, Serialize};

pub use curves::near_identical_curves;
pub use registry::{
    Equipment, LabReport, LabTest, StaffQualification, equipment_calibration_expiring,
    equipment_out_of_calibration, reports_replaced, results_edited, staff_not_matching, tested_before_age,
};
pub use rules::{
    at_design_value, clustered_above_pass_line, last_digit, last_digit_bias, pass_rate_above_city,
    too_uniform,
};
pub use score::{LabScoreComponent, lab_score};
pub use thresholds::{
    LabThresholds, MAX_AGE_TOLERANCE_HOURS, MAX_CURVE_CAP, MAX_CURVE_POINTS, ThresholdError,
};

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
    EquipmentOutOfCalibration,
    EquipmentCalibrationExpiring,
    TestedBeforeAge,
    StaffNotMatching,
    ResultsEdited,
    ReportsReplaced,
}

impl LabSignal {
    /// Every signal: [`LabSignal::RESULTS`], then [`LabSignal::REGISTRY`].
    pub const ALL: [LabSignal; 12] = [
        LabSignal::PassRateAboveCity,
        LabSignal::ClusteredAbovePassLine,
        LabSignal::AtDesignValue,
        LabSignal::TooUniform,
        LabSignal::LastDigitBias,
        LabSignal::NearIdenticalCurves,
        LabSignal::EquipmentOutOfCalibration,
        LabSignal::EquipmentCalibrationExpiring,
        LabSignal::TestedBeforeAge,
        LabSignal::StaffNotMatching,
        LabSignal::ResultsEdited,
        LabSignal::ReportsReplaced,
    ];

    /// The statistical signals over results and curves, in the order
    /// [`lab_signals`] runs them.
    pub const RESULTS: [LabSignal; 6] = [
        LabSignal::PassRateAboveCity,
        LabSignal::ClusteredAbovePassLine,
        LabSignal::AtDesignValue,
        LabSignal::TooUniform,
        LabSignal::LastDigitBias,
        LabSignal::NearIdenticalCurves,
    ];

    /// The signals over tests, equipment, staff and reports, in the order
    /// [`lab_registry_signals`] runs them.
    pub const REGISTRY: [LabSignal; 6] = [
        LabSignal::EquipmentOutOfCalibration,
        LabSignal::EquipmentCalibrationExpiring,
        LabSignal::TestedBeforeAge,
        LabSignal::StaffNotMatching,
        LabSignal::ResultsEdited,
        LabSignal::ReportsReplaced,
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
            LabSignal::EquipmentOutOfCalibration => "equipment_out_of_calibration",
            LabSignal::EquipmentCalibrationExpiring => "equipment_calibration_expiring",
            LabSignal::TestedBeforeAge => "tested_before_age",
            LabSignal::StaffNotMatching => "staff_not_matching",
            LabSignal::ResultsEdited => "results_edited",
            LabSignal::ReportsReplaced => "reports_replaced",
        }
    }

    /// The signal with this code, if any.
    pub fn parse(code: &str) -> Option<LabSignal> {
        LabSignal::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The requirement every signal serves: R17 (analysis and early
    /// warning). The rules a signal also checks are in
    /// [`LabSignal::requirements`].
    pub fn requirement(self) -> Rule {
        Rule::R17
    }

    /// Every requirement the signal serves, by its id in `REQUIREMENTS.md`
    /// (R3 and R20 have no [`Rule`] of their own: the verifier never judges
    /// them on a record). `staff_not_matching` is A10.2's "staff count not
    /// matching test parameters", listed under R20.
    pub fn requirements(self) -> &'static [&'static str] {
        match self {
            LabSignal::PassRateAboveCity
            | LabSignal::ClusteredAbovePassLine
            | LabSignal::AtDesignValue
            | LabSignal::TooUniform
            | LabSignal::LastDigitBias
            | LabSignal::NearIdenticalCurves => &["R17"],
            LabSignal::EquipmentOutOfCalibration | LabSignal::EquipmentCalibrationExpiring => &["R3", "R17"],
            LabSignal::TestedBeforeAge | LabSignal::ResultsEdited => &["R12", "R17"],
            LabSignal::StaffNotMatching => &["R3", "R17", "R20"],
            LabSignal::ReportsReplaced => &["R13", "R17"],
        }
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
            LabSignal::EquipmentOutOfCalibration => {
                if zh {
                    "使用检定/校准失效的设备检测"
                } else {
                    "Tests on equipment out of calibration"
                }
            }
            LabSignal::EquipmentCalibrationExpiring => {
                if zh {
                    "设备检定/校准即将到期"
                } else {
                    "Equipment calibration ending soon"
                }
            }
            LabSignal::TestedBeforeAge => {
                if zh {
                    "未到规定龄期即检测"
                } else {
                    "Tested before the required age"
                }
            }
            LabSignal::StaffNotMatching => {
                if zh {
                    "检测人员与检测参数不匹配"
                } else {
                    "Staff not matching the parameters tested"
                }
            }
            LabSignal::ResultsEdited => {
                if zh {
                    "检测数据录入后被修改"
                } else {
                    "Results edited after entry"
                }
            }
            LabSignal::ReportsReplaced => {
                if zh {
                    "报告被替换或撤销"
                } else {
                    "Reports replaced or revoked"
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
            LabSignal::EquipmentOutOfCalibration => {
                if zh {
                    "统计在没有有效检定/校准证书的设备上完成的检测（证书已过期、尚未生效或设备未登记）；检测机构须登记设备并保持检定有效（A7.1），在失效设备上得到的结果不能作为有效数据。"
                } else {
                    "Counts tests run on equipment with no calibration or verification certificate valid at the time of testing (lapsed, not yet valid, or the equipment not registered); labs must register their equipment and keep it calibrated (A7.1), and results from uncalibrated equipment are not valid data."
                }
            }
            LabSignal::EquipmentCalibrationExpiring => {
                if zh {
                    "登记设备的检定/校准证书在规定天数内到期或已经到期；同类系统提前一个月提醒检测机构，以便及时送检，避免在失效设备上检测。"
                } else {
                    "Registered equipment whose calibration or verification certificate ends within the configured days, or has ended; comparable systems warn labs a month ahead so they recalibrate in time rather than test on lapsed equipment."
                }
            }
            LabSignal::TestedBeforeAge => {
                if zh {
                    "统计从试件制作到检测的时间短于规定龄期（如混凝土立方体 28 天，减去配置的允许偏差）的检测；提前检测的结果不代表该龄期的强度，也可能说明记录的时间或数据不真实。"
                } else {
                    "Counts tests made sooner after the specimen was made than its required age (such as 28 days for concrete cubes, less the configured tolerance); such a result does not show the strength at that age, and may mean the recorded times or data are not true."
                }
            }
            LabSignal::StaffNotMatching => {
                if zh {
                    "统计由未登记相应参数有效资格的人员完成的检测，并比较持证人员数与所检测参数数；人员数量与检测参数不匹配是监督抽查的重点（A10.2）。"
                } else {
                    "Counts tests done by people without a registered, current qualification for that parameter, and compares the number of qualified staff with the number of parameters the lab tests; staff not matching the parameters tested is a focus of spot checks (A10.2)."
                }
            }
            LabSignal::ResultsEdited => {
                if zh {
                    "统计首次录入后又被修改的检测所占比例；偶尔更正属正常，但大量修改（美国爱达荷州 2021 年审计发现每个项目有数百处无说明的更正）说明数据可能被事后调整。"
                } else {
                    "The share of tests whose result was edited after its first entry; an occasional correction is normal, but many (an Idaho audit in 2021 found several hundred unexplained corrections per project) suggest results adjusted after the fact."
                }
            }
            LabSignal::ReportsReplaced => {
                if zh {
                    "统计检测机构的报告中被新报告替换或被撤销的比例；报告签发后频繁更换，可能是把不合格结果改出为合格报告。"
                } else {
                    "The share of a lab's reports replaced by a new report or revoked; reports often changed after issue may be failing results reissued as passing."
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
    /// Tests on equipment with no certificate valid at test time.
    TestsOutOfCalibration,
    /// Days until an equipment item's latest certificate ends (negative:
    /// ended that many days ago).
    DaysOfCalibrationLeft,
    /// Tests sooner after making than the required age less the tolerance.
    TestsBeforeAge,
    /// Tests by people without a current qualification for the parameter.
    TestsByUnqualifiedStaff,
    /// Persons qualified for a parameter the lab tests, per parameter tested.
    QualifiedStaffPerParameter,
    /// Share of tests edited after their first entry.
    ShareEdited,
    /// Share of reports replaced or revoked.
    ShareReplacedOrRevoked,
}

impl Figure {
    /// True when the rule fires at or above the threshold (shares, runs);
    /// false when it fires below it (probabilities, spread, differences).
    pub fn fires_at_or_above(self) -> bool {
        matches!(
            self,
            Figure::ShareInBand
                | Figure::ShareAtDesign
                | Figure::RunWithinOneSigma
                | Figure::TestsOutOfCalibration
                | Figure::TestsBeforeAge
                | Figure::TestsByUnqualifiedStaff
                | Figure::ShareEdited
                | Figure::ShareReplacedOrRevoked
        )
    }

    /// What the figure is, for people.
    pub fn name(self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            Figure::FailureTailProbability => {
                ("按全市不合格率出现如此少不合格的概率", "probability of so few failures")
            }
            Figure::ShareInBand => ("合格线上方窄带内的比例", "share just above the pass line"),
            Figure::ShareAtDesign => ("等于设计值的比例", "share at the design value"),
            Figure::CoefficientOfVariation => ("变异系数", "coefficient of variation"),
            Figure::RunWithinOneSigma => {
                ("连续落在全市均值 ±1σ 内的最长次数", "longest run within ±1σ of the city's mean")
            }
            Figure::DigitUniformityP => ("末位数字均匀性检验 p 值", "p-value of last-digit uniformity"),
            Figure::MaxCurveDifference => {
                ("归一化曲线最大差值", "largest difference of the normalised curves")
            }
            Figure::TestsOutOfCalibration => {
                ("在检定/校准失效设备上的检测数", "tests on equipment out of calibration")
            }
            Figure::DaysOfCalibrationLeft => ("距检定/校准到期天数", "days of calibration left"),
            Figure::TestsBeforeAge => ("未到龄期即检测的次数", "tests before the required age"),
            Figure::TestsByUnqualifiedStaff => {
                ("由无相应有效资格人员完成的检测数", "tests by staff without the qualification")
            }
            Figure::QualifiedStaffPerParameter => {
                ("每个检测参数的持证人员数", "qualified staff per parameter tested")
            }
            Figure::ShareEdited => ("录入后被修改的检测比例", "share of tests edited after entry"),
            Figure::ShareReplacedOrRevoked => {
                ("被替换或撤销的报告比例", "share of reports replaced or revoked")
            }
        };
        if lang == Lang::ZhCn { zh } else { en }
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
    /// The parameter judged; `None` for curves, which carry none, and for
    /// the rules judged over the whole lab (equipment, the staff ratio,
    /// edits, reports).
    pub parameter: Option<String>,
    /// The design value judged, for rules that group by it (`too_uniform`).
    pub design_value: Option<f64>,
    pub measured: f64,
    pub threshold: f64,
    /// What the rule counted: results, or raw readings (`last_digit_bias`),
    /// or curves compared (`near_identical_curves`); for the registry rules
    /// the tests judged, the lab's equipment items, the parameters tested
    /// or the reports (each rule's doc says which).
    pub n: usize,
    /// Ids of the results (or curves, tests, equipment items, reports;
    /// parameters for the staff ratio) that made it fire.
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

/// Runs every registry signal for `lab` and returns the warnings, in the
/// order of [`LabSignal::REGISTRY`].
///
/// `tests`: the lab's tests for the period judged; `equipment`: its
/// equipment register (every certificate, current and past, one row each);
/// `staff`: its staff qualifications; `reports`: its reports for the period
/// and any that replace them. Entries of other labs are ignored. `now_ms`
/// (the caller's clock, ms since the Unix epoch) is when calibrations are
/// looked ahead from and staff counted as qualified. Never panics, whatever
/// the times or thresholds.
pub fn lab_registry_signals(
    lab: &str,
    tests: &[LabTest],
    equipment: &[Equipment],
    staff: &[StaffQualification],
    reports: &[LabReport],
    now_ms: i64,
    t: &LabThresholds,
) -> Vec<LabWarning> {
    let mut out = equipment_out_of_calibration(lab, tests, equipment, t);
    out.extend(equipment_calibration_expiring(lab, equipment, now_ms, t));
    out.extend(tested_before_age(lab, tests, t));
    out.extend(staff_not_matching(lab, tests, staff, now_ms, t));
    out.extend(results_edited(lab, tests, t));
    out.extend(reports_replaced(lab, reports, t));
    out
}
