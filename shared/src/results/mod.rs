//! Mechanical results recomputed from the machine's raw curve (R12).
//!
//! A lab's report states a strength; the machine's curve is the evidence.
//! These functions recompute every reported figure from the curve alone, so
//! the server can put its own number beside the lab's and flag the ones that
//! differ by more than the rounding increment ([`compare_reported`]).
//!
//! | What | Module | Standard | Reported to |
//! |---|---|---|---|
//! | Cube strength F/A, size factor, loading rate | [`concrete`] | GB/T 50081-2019 | 0.1 MPa |
//! | Group of three cubes (mean / median / void) | [`concrete`], checked in [`group`] | GB/T 50081-2019 | 0.1 MPa |
//! | Manual pressure release (泄压) on a cube | [`concrete`] | heuristic, see there | — |
//! | Batch acceptance of group values | [`batch`] | GB/T 50107-2010 | decisions on raw values |
//! | Rebar ReH, ReL, Rp0.2, Rm | [`rebar`] | GB/T 228.1-2021 | 1 MPa *(unconfirmed for 2021)* |
//! | Rebar Agt, A | [`rebar`] | GB/T 228.1-2021 | 0.5 % *(unconfirmed for 2021)* |
//! | Rebar grade limits | [`rebar`] | GB/T 1499.2-2018 *(unconfirmed)* | rounded values |
//! | Coupler joint grade, batch | [`coupler`] | JGJ 107-2016 *(criteria unconfirmed)* | 1 MPa |
//! | Rounding | [`rounding`] | GB/T 8170-2008 | half to even, one step |
//!
//! Rules shared by every module:
//! * Raw values are never thrown away: a result carries [`Rounded`], the raw
//!   value beside the rounded one, and rounding happens once, from the raw
//!   value (GB/T 8170 forbids successive rounding).
//! * Bad input is an error, never a panic: empty curves, non-finite samples,
//!   time running backwards, zero or missing areas ([`ResultsError`]).
//! * What the curve cannot tell (no extensometer, no final gauge length) is
//!   said as [`Unmeasurable`], not guessed.

pub mod batch;
pub mod check;
pub mod concrete;
pub mod coupler;
pub mod group;
pub mod rebar;
pub mod rounding;

pub use rounding::{Rounded, round_to};

use crate::curve::{MachineCurve, Sample};
use crate::verify::Lang;
use serde::{Deserialize, Serialize};

/// A part of the recomputation that needs enough samples to work on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The cube's loading window (10 %–80 % of the peak force).
    LoadingWindow,
    /// The bar's elastic part (10 %–40 % of Fm) for the modulus slope.
    ElasticFit,
}

/// A dimension taken from the curve header or given by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Area,
    CubeEdge,
    Diameter,
    GaugeLength,
    ExtensometerGauge,
    FinalGaugeLength,
}

/// Why a result could not be recomputed. Every variant is the input's fault
/// (or a gap in it); none is a bug.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum ResultsError {
    /// The curve has no samples.
    EmptyCurve,
    /// Sample `index` (0-based) holds NaN or an infinity. Refused rather
    /// than dropped: a curve that lost a reading is not the evidence it claims.
    NonFiniteSample { index: usize },
    /// Sample `index` is earlier than the sample before it.
    TimeGoesBack { index: usize },
    /// The curve never carries a positive force.
    NoPositiveForce,
    /// Neither the header nor the caller gives the cross-section.
    MissingArea,
    /// A dimension is zero, negative or not a number.
    BadDimension { dimension: Dimension, value: f64 },
    /// A cube edge other than 100, 150 or 200 mm.
    UnknownCubeSize { cube_mm: f64 },
    /// A group's curves must all state the cube edge (the size factor needs it).
    MissingCubeEdge,
    /// The three cubes of a group are not the same size.
    CubeEdgesDiffer,
    /// From C60 a non-standard cube's size factor comes from tests, not a table.
    SizeFactorFromTests { cube_mm: f64, grade: u16 },
    /// Too few samples in a phase to fit a line.
    TooFewPoints { phase: Phase, found: usize },
    /// A group of cubes is exactly three.
    GroupNeedsThree { found: usize },
    /// A batch evaluation needs at least one group value.
    EmptyBatch,
    /// A strength value given by the caller is not a finite positive number.
    BadValue { value: f64 },
    /// A concrete strength grade must look like `C30` (C10..C100).
    BadGrade { grade: String },
    /// A rounding increment must be finite and positive.
    BadIncrement { increment: f64 },
    /// The first coupler round is three specimens.
    FirstRoundNeedsThree { found: usize },
    /// The coupler re-test is six specimens.
    RetestNeedsSix { found: usize },
    /// A re-test was given although the first round did not call for one.
    RetestNotCalledFor,
    /// A coupler batch is larger than the standard allows.
    BatchTooLarge { joints: u32, limit: u32 },
}

impl ResultsError {
    /// What a person reads about this error, in their language.
    pub fn message(&self, lang: Lang) -> String {
        use ResultsError as E;
        let zh = lang == Lang::ZhCn;
        let pick = |z: String, e: String| if zh { z } else { e };
        match self {
            E::EmptyCurve => pick("曲线没有数据点".into(), "the curve has no samples".into()),
            E::NonFiniteSample { index } => pick(
                format!("第 {} 个数据点不是有效数值（NaN 或无穷大），曲线不予采用", index + 1),
                format!(
                    "sample {} is not a finite number (NaN or infinity); the curve is refused",
                    index + 1
                ),
            ),
            E::TimeGoesBack { index } => pick(
                format!("第 {} 个数据点的时间早于前一个点，曲线时间不单调", index + 1),
                format!("sample {} is earlier than the one before it: time is not monotonic", index + 1),
            ),
            E::NoPositiveForce => {
                pick("曲线没有正的力值".into(), "the curve never shows a positive force".into())
            }
            E::MissingArea => pick(
                "缺少截面积：曲线头没有面积、边长或公称直径".into(),
                "no cross-section: the header gives no area, cube edge or nominal diameter".into(),
            ),
            E::BadDimension { dimension, value } => pick(
                format!("{}无效：{value}", dimension_zh(*dimension)),
                format!("invalid {}: {value}", dimension_en(*dimension)),
            ),
            E::UnknownCubeSize { cube_mm } => pick(
                format!("试件边长 {cube_mm} mm 不是 100、150 或 200 mm"),
                format!("cube edge {cube_mm} mm is not 100, 150 or 200 mm"),
            ),
            E::MissingCubeEdge => pick(
                "曲线头没有试件边长，无法确定尺寸换算系数".into(),
                "a curve does not state the cube edge: no size factor".into(),
            ),
            E::CubeEdgesDiffer => {
                pick("同组三个试件尺寸不一致".into(), "the three cubes of the group differ in size".into())
            }
            E::SizeFactorFromTests { cube_mm, grade } => pick(
                format!("C{grade} 及以上使用 {cube_mm} mm 非标准试件时，换算系数应由试验确定"),
                format!("from C60 (here C{grade}) the factor for a {cube_mm} mm cube must come from tests"),
            ),
            E::TooFewPoints { phase, found } => {
                let (z, e) = match phase {
                    Phase::LoadingWindow => {
                        ("加荷段（峰值的 10%–80%）", "loading window (10 %–80 % of peak)")
                    }
                    Phase::ElasticFit => ("弹性段（Fm 的 10%–40%）", "elastic part (10 %–40 % of Fm)"),
                };
                pick(
                    format!("{z}的数据点太少（{found} 个），无法拟合"),
                    format!("too few samples in the {e} to fit a line: {found}"),
                )
            }
            E::GroupNeedsThree { found } => pick(
                format!("一组试件应为 3 个，实际 {found} 个"),
                format!("a group is three cubes, got {found}"),
            ),
            E::EmptyBatch => pick("检验批没有强度代表值".into(), "the batch has no group values".into()),
            E::BadValue { value } => {
                pick(format!("强度值无效：{value}"), format!("invalid strength value: {value}"))
            }
            E::BadGrade { grade } => pick(
                format!("强度等级“{grade}”无效（应为 C10–C100）"),
                format!("invalid strength grade \"{grade}\" (expected C10..C100)"),
            ),
            E::BadIncrement { increment } => {
                pick(format!("修约间隔无效：{increment}"), format!("invalid rounding increment: {increment}"))
            }
            E::FirstRoundNeedsThree { found } => pick(
                format!("接头首次检验应为 3 个试件，实际 {found} 个"),
                format!("the first coupler round is three specimens, got {found}"),
            ),
            E::RetestNeedsSix { found } => pick(
                format!("接头复检应为 6 个试件，实际 {found} 个"),
                format!("the coupler re-test is six specimens, got {found}"),
            ),
            E::RetestNotCalledFor => {
                pick("首次检验结果不需要复检".into(), "the first round does not call for a re-test".into())
            }
            E::BatchTooLarge { joints, limit } => pick(
                format!("验收批 {joints} 个接头，超过 {limit} 个的上限"),
                format!("a batch of {joints} joints exceeds the limit of {limit}"),
            ),
        }
    }
}

fn dimension_zh(d: Dimension) -> &'static str {
    match d {
        Dimension::Area => "截面积",
        Dimension::CubeEdge => "试件边长",
        Dimension::Diameter => "公称直径",
        Dimension::GaugeLength => "原始标距",
        Dimension::ExtensometerGauge => "引伸计标距",
        Dimension::FinalGaugeLength => "断后标距",
    }
}

fn dimension_en(d: Dimension) -> &'static str {
    match d {
        Dimension::Area => "cross-section area",
        Dimension::CubeEdge => "cube edge",
        Dimension::Diameter => "nominal diameter",
        Dimension::GaugeLength => "original gauge length",
        Dimension::ExtensometerGauge => "extensometer gauge length",
        Dimension::FinalGaugeLength => "final gauge length",
    }
}

impl std::fmt::Display for ResultsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for ResultsError {}

/// Why a figure is absent from a result although the curve was fine: the
/// file lacks what the figure needs. Said, never guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unmeasurable {
    /// The curve has no extension column.
    NoExtension,
    /// The header gives no extensometer gauge length Le.
    NoExtensometerGauge,
    /// The header lacks L0 or Lu (A needs both, measured by hand after fracture).
    NoGaugeLengths,
    /// The bar shows no yield point (continuous yielding): ReH and ReL do not exist.
    NoYieldPoint,
    /// The offset line never met the curve before Fm.
    OffsetLineNotCrossed,
    /// The elastic part has too few points or no slope.
    NoElasticSlope,
}

impl Unmeasurable {
    pub fn message(&self, lang: Lang) -> String {
        let (z, e) = match self {
            Unmeasurable::NoExtension => ("曲线没有变形（引伸计）数据", "the curve has no extension column"),
            Unmeasurable::NoExtensometerGauge => {
                ("曲线头没有引伸计标距 Le", "the header gives no extensometer gauge length Le")
            }
            Unmeasurable::NoGaugeLengths => (
                "断后伸长率需要原始标距和断后标距（断后手工测量），曲线无法给出",
                "A needs L0 and the final gauge length Lu (measured after fracture): not measurable from the curve",
            ),
            Unmeasurable::NoYieldPoint => (
                "无明显屈服（连续屈服），无上、下屈服强度",
                "no yield point (continuous yielding): no ReH or ReL",
            ),
            Unmeasurable::OffsetLineNotCrossed => {
                ("平行线在最大力前未与曲线相交", "the offset line does not meet the curve before Fm")
            }
            Unmeasurable::NoElasticSlope => ("弹性段无法拟合斜率", "no elastic slope could be fitted"),
        };
        if lang == Lang::ZhCn { z.to_owned() } else { e.to_owned() }
    }
}

/// A figure that is either recomputed or names why it cannot be.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measured {
    Value(Rounded),
    Unmeasurable(Unmeasurable),
}

impl Measured {
    /// The value when there is one.
    pub fn value(&self) -> Option<Rounded> {
        match self {
            Measured::Value(v) => Some(*v),
            Measured::Unmeasurable(_) => None,
        }
    }
}

/// The curve's samples after the checks every recomputation needs: not
/// empty, every number finite, time never running backwards (equal
/// timestamps are allowed: fast machines repeat a millisecond).
pub fn checked_samples(curve: &MachineCurve) -> Result<&[Sample], ResultsError> {
    let samples = curve.samples.as_slice();
    if samples.is_empty() {
        return Err(ResultsError::EmptyCurve);
    }
    let mut previous_t = f64::NEG_INFINITY;
    for (index, s) in samples.iter().enumerate() {
        let ext_ok = s.ext_mm.is_none_or(f64::is_finite);
        if !s.t_s.is_finite() || !s.force_kn.is_finite() || !ext_ok {
            return Err(ResultsError::NonFiniteSample { index });
        }
        if s.t_s < previous_t {
            return Err(ResultsError::TimeGoesBack { index });
        }
        previous_t = s.t_s;
    }
    Ok(samples)
}

/// Index and value of the largest force (the first, when it repeats).
pub(crate) fn peak(samples: &[Sample]) -> Result<(usize, f64), ResultsError> {
    let mut best: Option<(usize, f64)> = None;
    for (i, s) in samples.iter().enumerate() {
        if best.is_none_or(|(_, f)| s.force_kn > f) {
            best = Some((i, s.force_kn));
        }
    }
    match best {
        Some((i, f)) if f > 0.0 => Ok((i, f)),
        Some(_) => Err(ResultsError::NoPositiveForce),
        None => Err(ResultsError::EmptyCurve),
    }
}

/// A dimension that must be finite and positive.
pub(crate) fn positive(dimension: Dimension, value: f64) -> Result<f64, ResultsError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(ResultsError::BadDimension { dimension, value })
    }
}

/// Least-squares slope and intercept of y over x. `None` when fewer than two
/// points or all x equal. Centred sums: forces in kN at times in seconds do
/// not lose digits the way raw sums of squares would.
pub(crate) fn fit_line(points: impl Iterator<Item = (f64, f64)> + Clone) -> Option<(f64, f64)> {
    let (mut n, mut sx, mut sy) = (0usize, 0.0, 0.0);
    for (x, y) in points.clone() {
        n += 1;
        sx += x;
        sy += y;
    }
    if n < 2 {
        return None;
    }
    let (mx, my) = (sx / n as f64, sy / n as f64);
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (x, y) in points {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
    }
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    // Absurd magnitudes overflow the sums: no line rather than a NaN one.
    (slope.is_finite() && intercept.is_finite()).then_some((slope, intercept))
}

/// Whether a lab's reported value agrees with the recomputation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    /// Within the tolerance.
    Match,
    /// Differs by more than the tolerance (or the lab's number is not a number).
    Mismatch,
    /// The lab reported a value the curve could not give.
    NotRecomputed,
    /// The recomputation has a value the lab did not report.
    NotReported,
}

/// One value compared: what the curve gives, what the lab said, the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub name: String,
    /// The recomputed value after rounding (the raw one is in the result).
    pub recomputed: Option<f64>,
    pub reported: Option<f64>,
    /// |reported − recomputed| when both exist.
    pub difference: Option<f64>,
    pub tolerance: f64,
    pub agreement: Agreement,
}

/// Puts each recomputed value beside the lab's value of the same name.
///
/// `tolerance`: the largest difference still called a match; `None` uses
/// each value's own rounding increment (a lab may round a borderline raw
/// value the other way, one increment apart, and still be honest; more is
/// a different number). Differences are judged with a relative slack of
/// 1e-9 so that 42.8 vs 42.7 with increment 0.1 is a match despite binary
/// floats. Names in `reported` that were not recomputed come last, in
/// their order, as [`Agreement::NotRecomputed`].
pub fn compare_reported(
    recomputed: &[(&str, Rounded)],
    reported: &[(&str, f64)],
    tolerance: Option<f64>,
) -> Vec<Comparison> {
    let mut out: Vec<Comparison> = recomputed
        .iter()
        .map(|(name, value)| {
            let tol = tolerance.unwrap_or(value.increment);
            let lab = reported.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
            let difference = lab.map(|v| (v - value.rounded).abs());
            let agreement = match difference {
                None => Agreement::NotReported,
                Some(d) if d.is_finite() && d <= tol + 1e-9 * tol.abs().max(value.rounded.abs()) => {
                    Agreement::Match
                }
                Some(_) => Agreement::Mismatch,
            };
            Comparison {
                name: (*name).to_owned(),
                recomputed: Some(value.rounded),
                reported: lab,
                difference,
                tolerance: tol,
                agreement,
            }
        })
        .collect();
    for (name, v) in reported {
        if !recomputed.iter().any(|(n, _)| n == name) {
            out.push(Comparison {
                name: (*name).to_owned(),
                recomputed: None,
                reported: Some(*v),
                difference: None,
                tolerance: tolerance.unwrap_or(0.0),
                agreement: Agreement::NotRecomputed,
            });
        }
    }
    out
}
