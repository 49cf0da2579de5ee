//! Concrete cube compressive strength by GB/T 50081-2019 (混凝土物理力学
//! 性能试验方法标准), recomputed from the compression machine's curve.
//!
//! * One cube: f = F / A, F the peak force of the curve (kN × 1000 → N),
//!   A the bearing area in mm² (the header's measured area, else edge²).
//! * A group of three: the mean; if the max or the min differs from the
//!   median by more than 15 % of the median, the median; if both do, the
//!   group is void. Then × the size factor (100 mm 0.95, 150 mm 1.0,
//!   200 mm 1.05; from C60 a non-standard cube's factor comes from tests),
//!   rounded once to 0.1 MPa.
//! * The loading rate over the main loading phase against the band for
//!   the grade, and a heuristic for a manual pressure release (泄压).

use super::rounding::{Rounded, increment};
use super::{Dimension, Phase, ResultsError, checked_samples, fit_line, peak, positive};
use crate::curve::{MachineCurve, Sample};
use serde::{Deserialize, Serialize};

/// A concrete strength grade: the characteristic cube strength fcu,k in MPa
/// (C30 → 30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ConcreteGrade(pub u16);

impl ConcreteGrade {
    /// Reads `C30` (case-insensitive, surrounding spaces ignored), C10..C100.
    pub fn parse(s: &str) -> Result<ConcreteGrade, ResultsError> {
        let bad = || ResultsError::BadGrade { grade: s.to_owned() };
        let t = s.trim();
        let digits = t.strip_prefix('C').or_else(|| t.strip_prefix('c')).ok_or_else(bad)?;
        let n: u16 = digits.parse().map_err(|_| bad())?;
        if (10..=100).contains(&n) { Ok(ConcreteGrade(n)) } else { Err(bad()) }
    }

    /// fcu,k in MPa.
    pub fn fcu_k(self) -> f64 {
        f64::from(self.0)
    }

    /// From C60 the standard treats concrete as high-strength.
    pub fn is_high_strength(self) -> bool {
        self.0 >= 60
    }
}

/// The factor that converts a cube of `cube_mm` to the 150 mm standard cube.
///
/// Errors: an edge that is not 100, 150 or 200 mm (±0.5 mm: the header
/// states the nominal size), or a non-standard cube from C60.
pub fn size_factor(cube_mm: f64, grade: ConcreteGrade) -> Result<f64, ResultsError> {
    let cube_mm = positive(Dimension::CubeEdge, cube_mm)?;
    let near = |nominal: f64| (cube_mm - nominal).abs() <= 0.5;
    if near(150.0) {
        return Ok(1.0);
    }
    if !near(100.0) && !near(200.0) {
        return Err(ResultsError::UnknownCubeSize { cube_mm });
    }
    if grade.is_high_strength() {
        return Err(ResultsError::SizeFactorFromTests { cube_mm, grade: grade.0 });
    }
    Ok(if near(100.0) { 0.95 } else { 1.05 })
}

/// One cube recomputed from its curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CubeStrength {
    /// The peak force in kN and when it happened.
    pub peak_force_kn: f64,
    pub peak_t_s: f64,
    /// The bearing area used, mm².
    pub area_mm2: f64,
    /// The nominal edge, when the header gives it.
    pub cube_mm: Option<f64>,
    /// F / A of this cube, before any size factor, to 0.1 MPa.
    pub strength_mpa: Rounded,
}

/// The bearing area: the header's measured area, else the nominal edge squared.
fn cube_area(curve: &MachineCurve) -> Result<f64, ResultsError> {
    match (curve.header.area_mm2, curve.header.cube_mm) {
        (Some(a), _) => positive(Dimension::Area, a),
        (None, Some(edge)) => Ok(positive(Dimension::CubeEdge, edge)?.powi(2)),
        (None, None) => Err(ResultsError::MissingArea),
    }
}

/// F / A of one cube from its curve (peak force over the bearing area).
pub fn cube_strength(curve: &MachineCurve) -> Result<CubeStrength, ResultsError> {
    let samples = checked_samples(curve)?;
    let area_mm2 = cube_area(curve)?;
    let (i, peak_force_kn) = peak(samples)?;
    let raw = peak_force_kn * 1000.0 / area_mm2;
    Ok(CubeStrength {
        peak_force_kn,
        peak_t_s: samples[i].t_s,
        area_mm2,
        cube_mm: curve.header.cube_mm,
        strength_mpa: Rounded::new(raw, increment::CONCRETE_MPA)?,
    })
}

/// Which of the standard's three rules gave the group value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupRule {
    /// No value strays more than 15 % from the median: the mean.
    Mean,
    /// The max or the min strays: the median.
    Median,
    /// Both stray: the group is void (不作为评定的依据).
    Void,
}

/// The strength of a group of three cubes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupStrength {
    /// The three F / A values (raw, unfactored), sorted ascending.
    pub values_mpa: [f64; 3],
    pub mean_mpa: f64,
    pub median_mpa: f64,
    pub rule: GroupRule,
    pub size_factor: f64,
    /// The group value converted to the 150 mm cube, to 0.1 MPa; `None` when void.
    pub value_mpa: Option<Rounded>,
}

/// The group value of three raw F / A strengths (MPa) times `size_factor`.
///
/// "More than 15 %" is strict: a value exactly 15 % from the median keeps
/// the mean (a relative 1e-9 absorbs binary noise in the 15 %). Rounding to
/// 0.1 MPa happens once, after the size factor: the standard's example is
/// 45 × 0.95 = 42.75 → 42.8, which rounding 45 × 0.95 after rounding
/// anything earlier would not reproduce in general.
pub fn group_strength(values_mpa: [f64; 3], size_factor: f64) -> Result<GroupStrength, ResultsError> {
    for v in values_mpa.iter().copied().chain(std::iter::once(size_factor)) {
        if !(v.is_finite() && v > 0.0) {
            return Err(ResultsError::BadValue { value: v });
        }
    }
    let mut sorted = values_mpa;
    sorted.sort_by(f64::total_cmp);
    let [min, median, max] = sorted;
    let mean = (min + median + max) / 3.0;
    let limit = 0.15 * median * (1.0 + 1e-9);
    let rule = match (max - median > limit, median - min > limit) {
        (true, true) => GroupRule::Void,
        (true, false) | (false, true) => GroupRule::Median,
        (false, false) => GroupRule::Mean,
    };
    let value_mpa = match rule {
        GroupRule::Mean => Some(Rounded::new(mean * size_factor, increment::CONCRETE_MPA)?),
        GroupRule::Median => Some(Rounded::new(median * size_factor, increment::CONCRETE_MPA)?),
        GroupRule::Void => None,
    };
    Ok(GroupStrength { values_mpa: sorted, mean_mpa: mean, median_mpa: median, rule, size_factor, value_mpa })
}

/// The group value from the three cubes' curves. The size factor comes from
/// the first header's cube edge (the three must agree) and the grade.
pub fn group_from_curves(
    curves: &[MachineCurve],
    grade: ConcreteGrade,
) -> Result<(Vec<CubeStrength>, GroupStrength), ResultsError> {
    if curves.len() != 3 {
        return Err(ResultsError::GroupNeedsThree { found: curves.len() });
    }
    let cubes = curves.iter().map(cube_strength).collect::<Result<Vec<_>, _>>()?;
    let mut edges = cubes.iter().map(|c| c.cube_mm.ok_or(ResultsError::MissingCubeEdge));
    let edge = edges.next().unwrap_or(Err(ResultsError::MissingCubeEdge))?;
    for e in edges {
        if (e? - edge).abs() > 0.5 {
            return Err(ResultsError::CubeEdgesDiffer);
        }
    }
    let factor = size_factor(edge, grade)?;
    let group = group_strength(
        [cubes[0].strength_mpa.raw, cubes[1].strength_mpa.raw, cubes[2].strength_mpa.raw],
        factor,
    )?;
    Ok((cubes, group))
}

/// The loading-rate band of GB/T 50081-2019 for a grade, MPa/s, inclusive:
/// below C30 0.3–0.5, C30 to below C60 0.5–0.8, from C60 0.8–1.0.
pub fn rate_band(grade: ConcreteGrade) -> (f64, f64) {
    match grade.0 {
        0..30 => (0.3, 0.5),
        30..60 => (0.5, 0.8),
        _ => (0.8, 1.0),
    }
}

/// The loading rate measured on the curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadingRate {
    /// Stress rate in MPa/s (least-squares slope, see [`loading_rate`]).
    pub mpa_per_s: f64,
    /// The same in kN/s, for comparing with the post-peak descent.
    pub kn_per_s: f64,
    /// The window's time span and its number of samples.
    pub window_start_s: f64,
    pub window_end_s: f64,
    pub points: usize,
    /// The band for the grade, MPa/s, inclusive.
    pub band: (f64, f64),
    pub in_band: bool,
}

/// The window fractions of the peak force over which the rate is fitted.
const RATE_WINDOW: (f64, f64) = (0.10, 0.80);

/// Loading rate over the main loading phase: the samples from the first to
/// reach 10 % of the peak force up to the first to reach 80 % (all before
/// the peak), stress = F / A against time, fitted by least squares.
///
/// Why these choices: below 10 % the platens are still seating; above 80 %
/// the cube cracks and the machine cannot hold the rate. Least squares over
/// every sample in the window rather than its two endpoints, so one noisy
/// sample at either end does not move the figure. The band is inclusive and
/// compared on the raw rate.
pub fn loading_rate(curve: &MachineCurve, grade: ConcreteGrade) -> Result<LoadingRate, ResultsError> {
    let samples = checked_samples(curve)?;
    let area = cube_area(curve)?;
    let (peak_i, fmax) = peak(samples)?;
    let window = loading_window(&samples[..=peak_i], fmax);
    let pts = window.iter().map(|s| (s.t_s, s.force_kn));
    let Some((kn_per_s, _)) = fit_line(pts) else {
        return Err(ResultsError::TooFewPoints { phase: Phase::LoadingWindow, found: window.len() });
    };
    let mpa_per_s = kn_per_s * 1000.0 / area;
    let band = rate_band(grade);
    let (first, last) = match (window.first(), window.last()) {
        (Some(f), Some(l)) => (f.t_s, l.t_s),
        _ => return Err(ResultsError::TooFewPoints { phase: Phase::LoadingWindow, found: 0 }),
    };
    Ok(LoadingRate {
        mpa_per_s,
        kn_per_s,
        window_start_s: first,
        window_end_s: last,
        points: window.len(),
        band,
        in_band: mpa_per_s >= band.0 * (1.0 - 1e-9) && mpa_per_s <= band.1 * (1.0 + 1e-9),
    })
}

/// The samples from the first at or above 10 % of `fmax` to the first at or
/// above 80 % of it (inclusive); empty when the curve never gets there.
fn loading_window(pre_peak: &[Sample], fmax: f64) -> &[Sample] {
    let start = pre_peak.iter().position(|s| s.force_kn >= RATE_WINDOW.0 * fmax);
    let end = pre_peak.iter().position(|s| s.force_kn >= RATE_WINDOW.1 * fmax);
    match (start, end) {
        (Some(a), Some(b)) if a <= b => &pre_peak[a..=b],
        _ => &[],
    }
}

/// What the post-peak descent says about how the test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseVerdict {
    /// The descent looks like a cube failing (fast or irregular).
    Failure,
    /// Smooth, monotonic and slow: looks like a hand-opened valve.
    SuspectedManualRelease,
    /// Too little after the peak to say (many machines stop recording at
    /// the break), or no clear decline.
    Inconclusive,
}

/// Thresholds of the release heuristic. Defaults are conservative (a real
/// failure must look smooth, monotonic *and* slow to be flagged); the
/// server may set its own from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReleaseThresholds {
    /// Fewer post-peak samples than this: inconclusive.
    pub min_points: usize,
    /// A decline smaller than this fraction of the peak: inconclusive.
    pub min_drop_fraction: f64,
    /// The descent is judged down to this fraction of the peak (the tail
    /// near zero is only sensor noise).
    pub floor_fraction: f64,
    /// Largest share of rising steps still called monotonic.
    pub max_rising_share: f64,
    /// Largest roughness (RMS second difference over mean |first
    /// difference|) still called smooth.
    pub max_roughness: f64,
    /// Largest ratio of descent rate to loading rate (both kN/s) still
    /// called slow. A crushed cube loses most of its force within a fraction
    /// of a second, 50–150 times faster than it was loaded; a relief valve
    /// drains over seconds, 3–10 times faster (the machine simulator's
    /// figures, `tests/curves_recomputed.rs`; to be calibrated on the
    /// city's curves). 20 sits between them with room on both sides.
    pub max_descent_to_loading: f64,
}

impl Default for ReleaseThresholds {
    fn default() -> Self {
        ReleaseThresholds {
            min_points: 10,
            min_drop_fraction: 0.2,
            floor_fraction: 0.3,
            max_rising_share: 0.05,
            max_roughness: 0.5,
            max_descent_to_loading: 20.0,
        }
    }
}

/// The measured features of the descent and the verdict drawn from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseCheck {
    pub verdict: ReleaseVerdict,
    /// Samples from the peak to the end of the judged descent.
    pub points: usize,
    /// Fall from the peak to the end of the judged descent, as a fraction of the peak.
    pub drop_fraction: f64,
    /// Share of steps in the descent where the force rose.
    pub rising_share: f64,
    /// RMS of second differences over the mean |first difference|.
    pub roughness: f64,
    /// Mean descent rate over the loading rate (both kN/s); `None` when
    /// the curve has no loading window to measure the rate on.
    pub descent_to_loading: Option<f64>,
}

/// Looks for a manual pressure release: after the peak a real cube breaks
/// and the force collapses within moments, in an irregular series of
/// steps; a hand-opened valve lets the force bleed away smoothly,
/// monotonically and slowly — as a steady decline or a plateau followed by
/// one. The descent is judged from the peak down to `floor_fraction` of it
/// (or the end of the curve). Flagged only when all three hold: monotonic
/// (at most `max_rising_share` rising steps), smooth (roughness at most
/// `max_roughness`) and slow (mean descent rate at most
/// `max_descent_to_loading` × the loading rate).
///
/// A heuristic, not a proof: the flag asks a person to look at the curve.
pub fn release_check(
    curve: &MachineCurve,
    thresholds: &ReleaseThresholds,
) -> Result<ReleaseCheck, ResultsError> {
    let samples = checked_samples(curve)?;
    let (peak_i, fmax) = peak(samples)?;
    let window = loading_window(&samples[..=peak_i], fmax);
    let loading_kn_per_s = fit_line(window.iter().map(|s| (s.t_s, s.force_kn))).map(|(k, _)| k);
    let after = &samples[peak_i..];
    let end =
        after.iter().position(|s| s.force_kn <= thresholds.floor_fraction * fmax).unwrap_or(after.len() - 1);
    let descent = &after[..=end];
    let mut check = descent_features(descent, fmax, loading_kn_per_s);
    let inconclusive = descent.len() < thresholds.min_points
        || check.drop_fraction < thresholds.min_drop_fraction
        || check.descent_to_loading.is_none();
    check.verdict = if inconclusive {
        ReleaseVerdict::Inconclusive
    } else if check.rising_share <= thresholds.max_rising_share
        && check.roughness <= thresholds.max_roughness
        && check.descent_to_loading.is_some_and(|r| r <= thresholds.max_descent_to_loading)
    {
        ReleaseVerdict::SuspectedManualRelease
    } else {
        ReleaseVerdict::Failure
    };
    Ok(check)
}

/// The features of a descent (first sample the peak); verdict left
/// inconclusive for the caller to decide.
fn descent_features(descent: &[Sample], fmax: f64, loading_kn_per_s: Option<f64>) -> ReleaseCheck {
    let first_diffs: Vec<f64> = descent.windows(2).map(|w| w[1].force_kn - w[0].force_kn).collect();
    let rising = first_diffs.iter().filter(|d| **d > 0.0).count();
    let rising_share = if first_diffs.is_empty() { 0.0 } else { rising as f64 / first_diffs.len() as f64 };
    let mean_abs_first = if first_diffs.is_empty() {
        0.0
    } else {
        first_diffs.iter().map(|d| d.abs()).sum::<f64>() / first_diffs.len() as f64
    };
    let second: Vec<f64> = first_diffs.windows(2).map(|w| w[1] - w[0]).collect();
    let rms_second = if second.is_empty() {
        0.0
    } else {
        (second.iter().map(|d| d * d).sum::<f64>() / second.len() as f64).sqrt()
    };
    // A flat descent has no first differences: call it smooth (its drop is
    // zero, so the verdict is inconclusive anyway).
    let roughness = if mean_abs_first > 0.0 { rms_second / mean_abs_first } else { 0.0 };
    let (first, last) = (descent[0], descent[descent.len() - 1]);
    let drop = first.force_kn - last.force_kn;
    let dt = last.t_s - first.t_s;
    // A drop within one timestamp is as fast as a curve can show; f64::MAX
    // stands for "instantaneous" and keeps the result serialisable.
    let descent_rate = if dt > 0.0 { drop / dt } else { f64::MAX };
    let descent_to_loading = match loading_kn_per_s {
        Some(k) if k > 0.0 => Some((descent_rate / k).min(f64::MAX)),
        _ => None,
    };
    ReleaseCheck {
        verdict: ReleaseVerdict::Inconclusive,
        points: descent.len(),
        drop_fraction: drop / fmax,
        rising_share,
        roughness,
        descent_to_loading,
    }
}
