//! The thresholds of the lab signals (R17): one configuration, every
//! default with its reason, and [`LabThresholds::check`] for the ranges that
//! make sense.

use crate::verify::Lang;
use serde::{Deserialize, Serialize};

/// Most curves compared per lab and call of `near_identical_curves`; a
/// configured `curve_cap` above this fails [`LabThresholds::check`] and is
/// clamped to it by the rule (50 million pairs at worst).
pub const MAX_CURVE_CAP: usize = 10_000;
/// Most points a curve is resampled to.
pub const MAX_CURVE_POINTS: usize = 10_000;
/// Largest `age_tolerance_hours`: two days, the most ASTM C39 allows at any
/// age (±2 d at 90 days); more would let a 3-day test through on its first.
pub const MAX_AGE_TOLERANCE_HOURS: u32 = 48;

/// Thresholds of every lab signal. The defaults are judgements written down
/// with their reasons; none comes from a standard that prescribes it for this
/// use, so calibrate them on the city's own results once they flow (for
/// example at the city's 99th percentile of labs) and record the edition of
/// the configuration with each warning's figures.
///
/// "n" below is what the rule counts: results, raw readings or curves;
/// tests or reports for the registry rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabThresholds {
    /// Fewest results of the other labs (same parameter, or same parameter
    /// and design value) that make a city reference. Default 100: at a city
    /// failure rate of 8 %, 100 results pin it within about ±5 points (95 %).
    pub city_min_n: usize,

    /// `pass_rate_above_city`: fewest lab results. Default 30: keeps labs with
    /// a handful of results out of the comparison. The test is exact, so at
    /// the default alpha a lab needs about 7 / (city failure rate) results
    /// before even zero failures can fire.
    pub pass_rate_min_n: usize,
    /// `pass_rate_above_city`: one-sided significance level of
    /// P(X ≤ failures). Default 0.001: a city runs about a hundred such tests
    /// per period (tens of labs × a few parameters), so about 0.1 false
    /// warning per period (Bonferroni's reasoning).
    pub pass_rate_alpha: f64,

    /// `clustered_above_pass_line`: width of the band [pass line, pass line ×
    /// (1 + band)). Default 0.05: for C30, 30.0 to 31.5 MPa, about the size of
    /// a nudge that turns a failing group into a passing one. An honest lab
    /// at 38 ± 4 MPa puts about 3 % of its groups there.
    pub cluster_band: f64,
    /// `clustered_above_pass_line`: share in the band at or above which it
    /// fires. Default 0.20: honest labs put 3 % (well-made concrete) to 15 %
    /// (a mix designed close to its grade, 33 ± 3 MPa) there.
    pub cluster_share: f64,
    /// `clustered_above_pass_line`: fewest lab results. Default 30.
    pub cluster_min_n: usize,

    /// `at_design_value`: how close to the design value counts as "equal", in
    /// the parameter's unit. Default 0.05 MPa: half the 0.1 MPa step that
    /// GB/T 50081-2019 reports strengths to, i.e. reported as the design value.
    pub design_tolerance: f64,
    /// `at_design_value`: share at the design value at or above which it
    /// fires. Default 0.10: an honest group lands within ±0.05 MPa of the
    /// grade with probability about 0.1 % (38 ± 4 MPa, C30) to 0.8 % (33 ± 3),
    /// so 3 of 30 happen by chance at worst about once in 600 lab-parameters.
    pub design_share: f64,
    /// `at_design_value`: fewest lab results. Default 30.
    pub design_min_n: usize,

    /// `too_uniform`: coefficient of variation (s / mean) of a lab's group
    /// values for one parameter and design value below which it fires.
    /// Default 0.04: GB/T 50107-2010 floors the standard deviation at 2.5 MPa
    /// because a smaller one is not credible in production, which is 6–8 % of
    /// the mean for C25–C40; a lab's results, pooled over projects and plants,
    /// spread wider still.
    pub uniform_cv: f64,
    /// `too_uniform`: fewest lab results for the coefficient of variation.
    /// Default 20.
    pub uniform_min_n: usize,
    /// `too_uniform`: consecutive results (in test time order) within ±1σ of
    /// the city's mean that fire the run rule. Default 15: rule 7 of the
    /// process-control run rules (Western Electric; Nelson 1984), "15 points
    /// in a row within one sigma". For honest, normal results the chance of
    /// such a run somewhere in n results is roughly 0.001 × n, so judge a
    /// period (a quarter) at a time, not a lab's whole history.
    pub uniform_run: usize,

    /// `last_digit_bias`: resolution the raw readings are captured at, in
    /// their unit; the last digit is the units digit of round(|reading| /
    /// resolution). Default 0.01 (kN to two decimals). Readings captured more
    /// coarsely than this end in 0 and would fire: set it to the capture's
    /// real resolution.
    pub digit_resolution: f64,
    /// `last_digit_bias`: fewest readings. Default 100: 10 expected per digit,
    /// twice Cochran's minimum of 5 per cell for the chi-square approximation.
    pub digit_min_count: usize,
    /// `last_digit_bias`: significance level of the uniformity test. Default
    /// 0.001, for the same reason as `pass_rate_alpha`.
    pub digit_alpha: f64,

    /// `near_identical_curves`: points each curve is resampled to over its
    /// normalised time. Default 100: finer than the features that differ
    /// between real specimens (toe, softening, failure), coarse enough to be
    /// cheap.
    pub curve_points: usize,
    /// `near_identical_curves`: largest absolute difference of the normalised
    /// forces (a fraction of the peak) under which two curves are "near
    /// identical". Default 0.003: a copy, even stretched in time or scaled in
    /// force, differs only by interpolation (about 0), and one with noise of
    /// up to about 0.05 % of the peak added stays below it; two real
    /// specimens differ at least by their independent noise (in the tests'
    /// model, with 0.2 % load noise, the closest of 45,000 pairs of
    /// equal-strength cubes differ by 0.55 %). A forger who adds heavier
    /// noise escapes this rule. Calibrate on the city's curves: well below
    /// the smallest difference between honest specimens.
    pub curve_tolerance: f64,
    /// `near_identical_curves`: peaks must also be within this fraction of
    /// the larger peak. Default 0.005 (0.5 %).
    pub curve_peak_tolerance: f64,
    /// `near_identical_curves`: most curves compared per call (the first
    /// usable ones in the order given). Default 2,000: about 2 million pairs
    /// at worst, a second or two; pass one period's curves at a time.
    pub curve_cap: usize,

    /// `equipment_out_of_calibration`: tests on equipment without a valid
    /// certificate at or above which it fires. Default 1: every such test
    /// breaks A7.1 outright (no statistics needed), and lab software is
    /// meant to refuse it, so any that reaches the platform is worth a look.
    pub calibration_tests: usize,
    /// `equipment_calibration_expiring`: days before a certificate's end
    /// from which it warns. Default 30: comparable provincial systems warn
    /// labs one month before (notes, "How comparable Chinese systems split
    /// the work"), time enough to book a recalibration.
    pub calibration_warn_days: u32,
    /// `tested_before_age`: how many hours short of the required age a test
    /// may be and still count as at that age. Default 20: ASTM C39's
    /// tolerance for 28-day cylinders (±20 h; ±6 h at 7 days, ±2 h at
    /// 3 days). It also covers how labs count ages, by calendar day: a cube
    /// made at 15:00 and tested at 09:00 on the 28th day after is 27 days
    /// 18 hours old by the clock, and at a tolerance of 0 every such honest
    /// test would fire. GB/T 50081-2019's own allowance is not confirmed
    /// here (`monitoring-platform.md` records none): check it and set this
    /// from it. One value serves every age, so for 3- or 7-day parameters
    /// it is generous; a test a whole day or more early still fires.
    pub age_tolerance_hours: u32,
    /// `tested_before_age`: early tests (per parameter) at or above which it
    /// fires. Default 1: a test before the age breaks the standard's method.
    pub early_tests: usize,
    /// `staff_not_matching`: tests by people without a current
    /// qualification (per parameter) at or above which it fires. Default 1:
    /// lab software must refuse such a test (notes), so one is a breach.
    pub unqualified_tests: usize,
    /// `staff_not_matching`: qualified persons per parameter tested below
    /// which it fires (persons holding a current qualification for at least
    /// one parameter the lab tests, over the distinct parameters it tested).
    /// Default 1.0: at least as many qualified people as parameters tested,
    /// A10.2's "staff count not matching test parameters" read as plainly as
    /// it can be. One person may hold several parameters, but every report
    /// needs a tester and a second person who checks it, so a lab below one
    /// person per parameter stretches few people over its whole scope. A
    /// judgement, not a figure from the rules: calibrate on the city's labs.
    pub staff_per_parameter: f64,
    /// `results_edited`: share of the lab's tests edited after first entry
    /// at or above which it fires. Default 0.10: an honest lab corrects a
    /// few per cent of entries at review (a typo, the wrong specimen
    /// details), and curves are captured automatically (R12); one in ten
    /// is more than review explains (the Idaho audit found hundreds of
    /// unexplained corrections per project).
    pub edited_share: f64,
    /// `results_edited`: fewest tests. Default 30.
    pub edited_min_n: usize,
    /// `reports_replaced`: share of the lab's reports replaced or revoked
    /// at or above which it fires. Default 0.05: a report is replaced for a
    /// wrong client detail now and then; one in twenty is more than that.
    pub replaced_share: f64,
    /// `reports_replaced`: fewest reports. Default 30.
    pub replaced_min_n: usize,
}

impl Default for LabThresholds {
    fn default() -> Self {
        LabThresholds {
            city_min_n: 100,
            pass_rate_min_n: 30,
            pass_rate_alpha: 0.001,
            cluster_band: 0.05,
            cluster_share: 0.20,
            cluster_min_n: 30,
            design_tolerance: 0.05,
            design_share: 0.10,
            design_min_n: 30,
            uniform_cv: 0.04,
            uniform_min_n: 20,
            uniform_run: 15,
            digit_resolution: 0.01,
            digit_min_count: 100,
            digit_alpha: 0.001,
            curve_points: 100,
            curve_tolerance: 0.003,
            curve_peak_tolerance: 0.005,
            curve_cap: 2_000,
            calibration_tests: 1,
            calibration_warn_days: 30,
            age_tolerance_hours: 20,
            early_tests: 1,
            unqualified_tests: 1,
            staff_per_parameter: 1.0,
            edited_share: 0.10,
            edited_min_n: 30,
            replaced_share: 0.05,
            replaced_min_n: 30,
        }
    }
}

/// A threshold out of its sensible range. `field` is the name in
/// [`LabThresholds`] (and in its serialised form).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ThresholdError {
    /// A significance level or fraction not strictly between 0 and 1.
    NotProbability { field: &'static str, value: f64 },
    /// A share not in (0, 1].
    NotShare { field: &'static str, value: f64 },
    /// A width, tolerance or resolution that is not a positive finite number.
    NotPositive { field: &'static str, value: f64 },
    /// A count below the least that makes the statistic meaningful.
    TooFew { field: &'static str, value: usize, min: usize },
    /// A count above the most the rule allows (work bounds).
    TooMany { field: &'static str, value: usize, max: usize },
}

impl ThresholdError {
    /// What a person reads, in their language.
    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        match self {
            ThresholdError::NotProbability { field, value } => {
                if zh {
                    format!("阈值 {field} = {value} 无效：必须大于 0 且小于 1")
                } else {
                    format!(
                        "threshold {field} = {value} is invalid: it must be greater than 0 and less than 1"
                    )
                }
            }
            ThresholdError::NotShare { field, value } => {
                if zh {
                    format!("阈值 {field} = {value} 无效：比例必须大于 0 且不超过 1")
                } else {
                    format!(
                        "threshold {field} = {value} is invalid: a share must be greater than 0 and at most 1"
                    )
                }
            }
            ThresholdError::NotPositive { field, value } => {
                if zh {
                    format!("阈值 {field} = {value} 无效：必须是正的有限数")
                } else {
                    format!("threshold {field} = {value} is invalid: it must be a positive finite number")
                }
            }
            ThresholdError::TooFew { field, value, min } => {
                if zh {
                    format!("阈值 {field} = {value} 过小：至少为 {min}，否则统计结果没有意义")
                } else {
                    format!(
                        "threshold {field} = {value} is too small: at least {min}, or the statistic means nothing"
                    )
                }
            }
            ThresholdError::TooMany { field, value, max } => {
                if zh {
                    format!("阈值 {field} = {value} 过大：最多为 {max}，以限定计算量")
                } else {
                    format!("threshold {field} = {value} is too large: at most {max}, to bound the work")
                }
            }
        }
    }
}

impl std::fmt::Display for ThresholdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for ThresholdError {}

fn probability(field: &'static str, value: f64) -> Result<(), ThresholdError> {
    if value > 0.0 && value < 1.0 { Ok(()) } else { Err(ThresholdError::NotProbability { field, value }) }
}

fn share(field: &'static str, value: f64) -> Result<(), ThresholdError> {
    if value > 0.0 && value <= 1.0 { Ok(()) } else { Err(ThresholdError::NotShare { field, value }) }
}

fn positive(field: &'static str, value: f64) -> Result<(), ThresholdError> {
    if value > 0.0 && value.is_finite() { Ok(()) } else { Err(ThresholdError::NotPositive { field, value }) }
}

fn count(field: &'static str, value: usize, min: usize, max: usize) -> Result<(), ThresholdError> {
    if value < min {
        Err(ThresholdError::TooFew { field, value, min })
    } else if value > max {
        Err(ThresholdError::TooMany { field, value, max })
    } else {
        Ok(())
    }
}

fn to_usize(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

impl LabThresholds {
    /// Checks every threshold's range; the first one out of range is the
    /// error. Check where the configuration is loaded and show the message:
    /// the rules do not panic on thresholds that fail this, but their
    /// answers then mean nothing.
    ///
    /// Minimum counts: 30 results for a city reference, 10 results for the
    /// share and pass-rate rules, 5 for the coefficient of variation and the
    /// run, 50 readings for the chi-square test (5 expected per digit,
    /// Cochran), 10 resampled points and 2 curves; 10 tests or reports for
    /// the registry shares, 1 for the registry counts; calibration look-ahead
    /// 1 to 366 days, age tolerance at most [`MAX_AGE_TOLERANCE_HOURS`].
    pub fn check(&self) -> Result<(), ThresholdError> {
        const NO_MAX: usize = usize::MAX;
        count("city_min_n", self.city_min_n, 30, NO_MAX)?;
        count("pass_rate_min_n", self.pass_rate_min_n, 10, NO_MAX)?;
        probability("pass_rate_alpha", self.pass_rate_alpha)?;
        share("cluster_band", self.cluster_band)?;
        share("cluster_share", self.cluster_share)?;
        count("cluster_min_n", self.cluster_min_n, 10, NO_MAX)?;
        positive("design_tolerance", self.design_tolerance)?;
        share("design_share", self.design_share)?;
        count("design_min_n", self.design_min_n, 10, NO_MAX)?;
        probability("uniform_cv", self.uniform_cv)?;
        count("uniform_min_n", self.uniform_min_n, 5, NO_MAX)?;
        count("uniform_run", self.uniform_run, 5, NO_MAX)?;
        positive("digit_resolution", self.digit_resolution)?;
        count("digit_min_count", self.digit_min_count, 50, NO_MAX)?;
        probability("digit_alpha", self.digit_alpha)?;
        count("curve_points", self.curve_points, 10, MAX_CURVE_POINTS)?;
        probability("curve_tolerance", self.curve_tolerance)?;
        probability("curve_peak_tolerance", self.curve_peak_tolerance)?;
        count("curve_cap", self.curve_cap, 2, MAX_CURVE_CAP)?;
        count("calibration_tests", self.calibration_tests, 1, NO_MAX)?;
        count("calibration_warn_days", to_usize(self.calibration_warn_days), 1, 366)?;
        let max_hours = to_usize(MAX_AGE_TOLERANCE_HOURS);
        count("age_tolerance_hours", to_usize(self.age_tolerance_hours), 0, max_hours)?;
        count("early_tests", self.early_tests, 1, NO_MAX)?;
        count("unqualified_tests", self.unqualified_tests, 1, NO_MAX)?;
        positive("staff_per_parameter", self.staff_per_parameter)?;
        share("edited_share", self.edited_share)?;
        count("edited_min_n", self.edited_min_n, 10, NO_MAX)?;
        share("replaced_share", self.replaced_share)?;
        count("replaced_min_n", self.replaced_min_n, 10, NO_MAX)?;
        Ok(())
    }
}
