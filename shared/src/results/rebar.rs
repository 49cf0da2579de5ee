//! Rebar tensile results by GB/T 228.1-2021 (= ISO 6892-1:2019), recomputed
//! from the machine's force–extension curve, and judged against the grade
//! limits of GB/T 1499.2-2018 (*limits unconfirmed*, see [`limits`]).
//!
//! | Figure | How | Rounded to |
//! |---|---|---|
//! | S0 | header area, else π d² / 4 of the nominal diameter | — |
//! | Rm | Fm / S0, Fm the largest force | 1 MPa |
//! | ReH | first maximum followed by a drop, before Fm | 1 MPa |
//! | ReL | lowest valley in the yield phase, initial transient ignored | 1 MPa |
//! | Rp0.2 | line parallel to the elastic slope, offset 0.2 % of Le | 1 MPa |
//! | Agt | extension at Fm / Le × 100 (elastic part included) | 0.5 % |
//! | A | (Lu − L0) / L0 × 100 from the header's hand-measured lengths | 0.5 % |
//!
//! Rounding to 1 MPa and 0.5 % is the 2010 edition's rule; *unconfirmed for
//! the 2021 edition*. The extension column is taken as the extensometer's
//! over Le (a machine's crosshead travel over Le would overstate Agt; the
//! header's extensometer gauge length is what says an extensometer was on).

use super::rounding::{Rounded, increment};
use super::{Dimension, Measured, ResultsError, Unmeasurable, checked_samples, fit_line, peak, positive};
use crate::curve::{CurveHeader, MachineCurve, Sample};
use serde::{Deserialize, Serialize};

/// A force drop of this fraction of Fm is "a drop": below it is load-cell
/// noise. Real yield drops are 1–10 % of the force; noise at 50–100 Hz is
/// about 0.1 %.
pub const DROP_FRACTION: f64 = 0.005;
/// A first maximum below this fraction of Fm is a grip slipping, not the
/// yield point: ReH/Rm is about 0.65–0.85 for reinforcing steel.
pub const MIN_YIELD_FRACTION: f64 = 0.5;
/// The elastic slope is fitted on this band of Fm, before Fm.
pub const ELASTIC_BAND: (f64, f64) = (0.10, 0.40);
/// The offset for Rp0.2, as a fraction of the extensometer gauge length.
pub const PROOF_OFFSET: f64 = 0.002;

/// Where S0 came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaSource {
    /// The header's cross-section.
    Header,
    /// π d² / 4 of the header's nominal diameter (GB/T 1499.2 computes
    /// strengths on the nominal area).
    NominalDiameter,
}

/// The cross-section S0 in mm² and where it came from.
pub fn cross_section(header: &CurveHeader) -> Result<(f64, AreaSource), ResultsError> {
    match (header.area_mm2, header.diameter_mm) {
        (Some(a), _) => Ok((positive(Dimension::Area, a)?, AreaSource::Header)),
        (None, Some(d)) => {
            let d = positive(Dimension::Diameter, d)?;
            Ok((std::f64::consts::PI * d * d / 4.0, AreaSource::NominalDiameter))
        }
        (None, None) => Err(ResultsError::MissingArea),
    }
}

/// Every figure of one tensile test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensileResult {
    pub s0_mm2: f64,
    pub area_source: AreaSource,
    pub fm_kn: f64,
    pub rm_mpa: Rounded,
    pub reh_mpa: Measured,
    pub rel_mpa: Measured,
    pub rp02_mpa: Measured,
    pub agt_percent: Measured,
    pub a_percent: Measured,
    /// The elastic slope fitted for Rp0.2, kN/mm (when there was one).
    pub elastic_slope_kn_per_mm: Option<f64>,
}

impl TensileResult {
    /// The yield strength a grade is judged on: ReL, or Rp0.2 for a bar
    /// without a yield point (GB/T 1499.2).
    pub fn yield_strength(&self) -> Option<Rounded> {
        self.rel_mpa.value().or_else(|| self.rp02_mpa.value())
    }
}

/// Recomputes every tensile figure from the curve.
///
/// Errors are for a curve that cannot be judged at all (empty, non-finite,
/// time backwards, no area, no positive force); a figure the file lacks
/// the data for is [`Measured::Unmeasurable`] instead.
pub fn tensile(curve: &MachineCurve) -> Result<TensileResult, ResultsError> {
    let samples = checked_samples(curve)?;
    let (s0, area_source) = cross_section(&curve.header)?;
    let (fm_i, fm) = peak(samples)?;
    let mpa = |force_kn: f64| force_kn * 1000.0 / s0;
    let strength = |force_kn: f64| Rounded::new(mpa(force_kn), increment::STEEL_MPA);
    let (reh_mpa, rel_mpa) = match yield_forces(&samples[..=fm_i], fm) {
        Some((reh, rel)) => (Measured::Value(strength(reh)?), Measured::Value(strength(rel)?)),
        None => (
            Measured::Unmeasurable(Unmeasurable::NoYieldPoint),
            Measured::Unmeasurable(Unmeasurable::NoYieldPoint),
        ),
    };
    let le = match curve.header.extensometer_gauge_mm {
        Some(le) => Some(positive(Dimension::ExtensometerGauge, le)?),
        None => None,
    };
    let (rp02_mpa, slope) = match proof_force(&samples[..=fm_i], fm, le) {
        Ok((force, slope)) => (Measured::Value(strength(force)?), Some(slope)),
        Err(why) => (Measured::Unmeasurable(why), None),
    };
    let agt_percent = match (le, samples[fm_i].ext_mm) {
        (None, _) => Measured::Unmeasurable(Unmeasurable::NoExtensometerGauge),
        (Some(_), None) => Measured::Unmeasurable(Unmeasurable::NoExtension),
        (Some(le), Some(ext)) => {
            Measured::Value(Rounded::new(ext / le * 100.0, increment::ELONGATION_PERCENT)?)
        }
    };
    let a_percent = match (curve.header.gauge_mm, curve.header.final_gauge_mm) {
        (Some(l0), Some(lu)) => {
            let l0 = positive(Dimension::GaugeLength, l0)?;
            let lu = positive(Dimension::FinalGaugeLength, lu)?;
            Measured::Value(Rounded::new((lu - l0) / l0 * 100.0, increment::ELONGATION_PERCENT)?)
        }
        _ => Measured::Unmeasurable(Unmeasurable::NoGaugeLengths),
    };
    Ok(TensileResult {
        s0_mm2: s0,
        area_source,
        fm_kn: fm,
        rm_mpa: strength(fm)?,
        reh_mpa,
        rel_mpa,
        rp02_mpa,
        agt_percent,
        a_percent,
        elastic_slope_kn_per_mm: slope,
    })
}

/// The forces at the upper and lower yield point, from the samples up to
/// and including Fm; `None` for continuous yielding.
///
/// ReH (GB/T 228.1 graphical rules, *wording unconfirmed for 2021*): the
/// first maximum followed by a drop of at least [`DROP_FRACTION`] of Fm,
/// at no less than [`MIN_YIELD_FRACTION`] of Fm, before Fm.
///
/// ReL: valleys after ReH are found with the same hysteresis (a minimum
/// confirmed by a rise of the drop size). With two or more valleys the
/// first is the initial transient and ReL is the lowest of the others (the
/// standard's rule). With one valley the curve either settles on a smooth
/// plateau — whose lowest force is ReL — or goes straight on into work
/// hardening, and then that valley is ReL (`plateau_after_transient` in
/// the source says how the two are told apart).
pub fn yield_forces(up_to_fm: &[Sample], fm: f64) -> Option<(f64, f64)> {
    let drop = DROP_FRACTION * fm;
    let reh_i = upper_yield_index(up_to_fm, fm, drop)?;
    let reh = up_to_fm[reh_i].force_kn;
    // The yield phase is over once the force climbs a drop above ReH:
    // later dips belong to work hardening (a rate change, a pause).
    let after = &up_to_fm[reh_i..];
    let after = &after[..after.iter().position(|s| s.force_kn > reh + drop).unwrap_or(after.len())];
    let valleys = valleys(after, drop);
    let rel = match valleys.as_slice() {
        // The force never rose a drop above its low again before Fm: the
        // whole rest is the yield phase.
        [] => after.iter().map(|s| s.force_kn).fold(f64::INFINITY, f64::min),
        [(valley_i, recovered_i)] => {
            let valley = after[*valley_i].force_kn;
            plateau_after_transient(after, *recovered_i, drop).filter(|p| *p < reh).unwrap_or(valley)
        }
        [_, rest @ ..] => rest.iter().map(|(i, _)| after[*i].force_kn).fold(f64::INFINITY, f64::min),
    };
    Some((reh, rel))
}

/// The lowest force of a plateau after the initial transient, in `after`
/// (which starts at ReH), the transient's valley having been confirmed at
/// `recovered_i`. The transient's duration W (ReH to recovery) sets the
/// scale: the rise back from the valley has slowed to less than half a
/// drop over W at the first such sample, and has ended W later; from there
/// to Fm work hardening only raises the force, so the lowest force from
/// there on is the plateau's. The caller keeps it only when it lies below ReH (else
/// the "plateau" was the flat top of the curve near Fm).
fn plateau_after_transient(after: &[Sample], recovered_i: usize, drop: f64) -> Option<f64> {
    let w = (after[recovered_i].t_s - after[0].t_s).max(f64::MIN_POSITIVE);
    let mut j = recovered_i;
    let settled = (recovered_i..after.len()).find(|&k| {
        while j < after.len() && after[j].t_s < after[k].t_s + w {
            j += 1;
        }
        // Past the end the window is cut short: judge the rise so far.
        let ahead = after[j.min(after.len() - 1)].force_kn;
        ahead - after[k].force_kn < drop / 2.0
    })?;
    // A rise steep enough to gain half a drop over W ends within W of
    // `settled`: skipping W more leaves the last of the rise out.
    let plateau_start = after.iter().position(|s| s.t_s >= after[settled].t_s + w)?;
    after[plateau_start..].iter().map(|s| s.force_kn).reduce(f64::min)
}

/// The index of the upper yield point (see [`yield_forces`]).
fn upper_yield_index(up_to_fm: &[Sample], fm: f64, drop: f64) -> Option<usize> {
    let mut max_i = 0;
    for (i, s) in up_to_fm.iter().enumerate() {
        let top = up_to_fm[max_i].force_kn;
        if s.force_kn > top {
            max_i = i;
        } else if top - s.force_kn >= drop && top >= MIN_YIELD_FRACTION * fm {
            return Some(max_i);
        }
    }
    None
}

/// Valleys of `samples` (which start at a maximum): each as (index of the
/// minimum, index where the force had risen `drop` above it).
fn valleys(samples: &[Sample], drop: f64) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut seeking_min = true;
    let mut extreme_i = 0;
    for (i, s) in samples.iter().enumerate() {
        let extreme = samples[extreme_i].force_kn;
        if seeking_min {
            if s.force_kn < extreme {
                extreme_i = i;
            } else if s.force_kn - extreme >= drop {
                out.push((extreme_i, i));
                seeking_min = false;
                extreme_i = i;
            }
        } else if s.force_kn > extreme {
            extreme_i = i;
        } else if extreme - s.force_kn >= drop {
            seeking_min = true;
            extreme_i = i;
        }
    }
    out
}

/// Fp0.2 in kN and the elastic slope in kN/mm: where the curve meets the
/// line of the elastic slope (least squares over [`ELASTIC_BAND`] of Fm)
/// shifted by [`PROOF_OFFSET`] × Le, interpolated linearly between samples.
/// The fitted line's own zero (not the first sample) anchors the offset, so
/// slack taken up at the start of the test does not shift Rp0.2.
pub fn proof_force(up_to_fm: &[Sample], fm: f64, le_mm: Option<f64>) -> Result<(f64, f64), Unmeasurable> {
    let le = le_mm.ok_or(Unmeasurable::NoExtensometerGauge)?;
    let points: Vec<(f64, f64)> = up_to_fm.iter().filter_map(|s| s.ext_mm.map(|e| (e, s.force_kn))).collect();
    if points.is_empty() {
        return Err(Unmeasurable::NoExtension);
    }
    let (lo, hi) = (ELASTIC_BAND.0 * fm, ELASTIC_BAND.1 * fm);
    // Up to the first sample above the band: the elastic part only, not
    // the later points that fall back into the band after a yield drop.
    let band_end = points.iter().position(|(_, f)| *f > hi).unwrap_or(points.len());
    let band = points[..band_end].iter().copied().filter(|(_, f)| *f >= lo);
    let (slope, intercept) = fit_line(band).ok_or(Unmeasurable::NoElasticSlope)?;
    if !(slope.is_finite() && slope > 0.0) {
        return Err(Unmeasurable::NoElasticSlope);
    }
    let offset = PROOF_OFFSET * le;
    // Positive while the curve is above the offset line.
    let gap = |(e, f): (f64, f64)| f - (slope * (e - offset) + intercept);
    for pair in points.windows(2) {
        let (g0, g1) = (gap(pair[0]), gap(pair[1]));
        if g0 > 0.0 && g1 <= 0.0 {
            let u = g0 / (g0 - g1);
            return Ok((pair[0].1 + u * (pair[1].1 - pair[0].1), slope));
        }
    }
    Err(Unmeasurable::OffsetLineNotCrossed)
}

/// Hot-rolled ribbed bar grades (热轧带肋钢筋).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SteelGrade {
    /// GB/T 1499.2-2007 only: withdrawn by the 2018 edition, kept for old
    /// structures' records.
    Hrb335,
    Hrb400,
    Hrb400E,
    Hrb500,
    Hrb500E,
    Hrb600,
}

impl SteelGrade {
    /// Reads `HRB400E` and the like (case-insensitive; HRBF grades share
    /// the limits of their HRB counterparts).
    pub fn parse(s: &str) -> Option<SteelGrade> {
        let t = s.trim().to_ascii_uppercase().replace("HRBF", "HRB");
        Some(match t.as_str() {
            "HRB335" => SteelGrade::Hrb335,
            "HRB400" => SteelGrade::Hrb400,
            "HRB400E" => SteelGrade::Hrb400E,
            "HRB500" => SteelGrade::Hrb500,
            "HRB500E" => SteelGrade::Hrb500E,
            "HRB600" => SteelGrade::Hrb600,
            _ => return None,
        })
    }
}

/// A grade's tensile limits. `None`: the grade has no such limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GradeLimits {
    /// Characteristic yield strength ReL (or Rp0.2), MPa: the minimum.
    pub rel_min_mpa: f64,
    pub rm_min_mpa: f64,
    pub a_min_percent: Option<f64>,
    pub agt_min_percent: f64,
    /// Seismic grades: actual Rm / actual ReL at least this.
    pub rm_over_rel_min: Option<f64>,
    /// Seismic grades: actual ReL / characteristic ReL at most this.
    pub rel_over_nominal_max: Option<f64>,
}

/// The limits of GB/T 1499.2-2018 Table 6 (*unconfirmed*: from secondary
/// sources; HRB335 from the 2007 edition). For the seismic (E) grades the
/// table is believed to give no A minimum (Agt ≥ 9.0 % instead) —
/// *unconfirmed*.
pub fn limits(grade: SteelGrade) -> GradeLimits {
    let plain = |rel, rm, a, agt| GradeLimits {
        rel_min_mpa: rel,
        rm_min_mpa: rm,
        a_min_percent: Some(a),
        agt_min_percent: agt,
        rm_over_rel_min: None,
        rel_over_nominal_max: None,
    };
    let seismic = |rel, rm| GradeLimits {
        rel_min_mpa: rel,
        rm_min_mpa: rm,
        a_min_percent: None,
        agt_min_percent: 9.0,
        rm_over_rel_min: Some(1.25),
        rel_over_nominal_max: Some(1.30),
    };
    match grade {
        SteelGrade::Hrb335 => plain(335.0, 455.0, 17.0, 7.5),
        SteelGrade::Hrb400 => plain(400.0, 540.0, 16.0, 7.5),
        SteelGrade::Hrb400E => seismic(400.0, 540.0),
        SteelGrade::Hrb500 => plain(500.0, 630.0, 15.0, 7.5),
        SteelGrade::Hrb500E => seismic(500.0, 630.0),
        SteelGrade::Hrb600 => plain(600.0, 730.0, 14.0, 7.5),
    }
}

/// What a criterion checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TensileCheck {
    /// ReL, or Rp0.2 when the bar has no yield point.
    Yield,
    Rm,
    A,
    Agt,
    RmOverRel,
    RelOverNominal,
}

/// One criterion: the limit, the bar's value, the verdict (`None` when
/// the value could not be recomputed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TensileCriterion {
    pub check: TensileCheck,
    /// `true` for a minimum (value ≥ limit), `false` for a maximum.
    pub at_least: bool,
    pub limit: f64,
    pub actual: Option<f64>,
    pub pass: Option<bool>,
}

/// The verdict on a whole bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    /// No criterion failed but some could not be judged from the curve.
    Incomplete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeJudgement {
    pub grade: SteelGrade,
    pub criteria: Vec<TensileCriterion>,
    pub verdict: Verdict,
}

/// Judges a bar against its grade.
///
/// Strengths and elongations are compared as rounded (修约值比较法, GB/T
/// 8170 §4.3.3, which GB/T 1499.2 calls for through YB/T 081 —
/// *unconfirmed*); the seismic ratios from the raw values, since they are
/// ratios of actual strengths (实测值) and rounding both first would move them.
pub fn judge(result: &TensileResult, grade: SteelGrade) -> GradeJudgement {
    let l = limits(grade);
    let yield_strength = result.yield_strength();
    let rm = result.rm_mpa;
    let min = |check, limit, actual: Option<f64>| TensileCriterion {
        check,
        at_least: true,
        limit,
        actual,
        pass: actual.map(|a| a >= limit - 1e-9 * limit.abs()),
    };
    let mut criteria = vec![
        min(TensileCheck::Yield, l.rel_min_mpa, yield_strength.map(|y| y.rounded)),
        min(TensileCheck::Rm, l.rm_min_mpa, Some(rm.rounded)),
    ];
    if let Some(a_min) = l.a_min_percent {
        criteria.push(min(TensileCheck::A, a_min, result.a_percent.value().map(|a| a.rounded)));
    }
    criteria.push(min(TensileCheck::Agt, l.agt_min_percent, result.agt_percent.value().map(|a| a.rounded)));
    if let Some(ratio) = l.rm_over_rel_min {
        let actual = yield_strength.filter(|y| y.raw > 0.0).map(|y| rm.raw / y.raw);
        criteria.push(min(TensileCheck::RmOverRel, ratio, actual));
    }
    if let Some(ratio) = l.rel_over_nominal_max {
        let actual = yield_strength.map(|y| y.raw / l.rel_min_mpa);
        criteria.push(TensileCriterion {
            check: TensileCheck::RelOverNominal,
            at_least: false,
            limit: ratio,
            actual,
            pass: actual.map(|a| a <= ratio + 1e-9 * ratio),
        });
    }
    let verdict = if criteria.iter().any(|c| c.pass == Some(false)) {
        Verdict::Fail
    } else if criteria.iter().any(|c| c.pass.is_none()) {
        Verdict::Incomplete
    } else {
        Verdict::Pass
    };
    GradeJudgement { grade, criteria, verdict }
}
