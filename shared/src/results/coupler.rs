//! Mechanical rebar couplers (钢筋机械连接接头) by JGJ 107-2016: the joint's
//! tensile strength against its grade, and the acceptance of a batch.
//!
//! * Strength f⁰mst = Fm / the bar's nominal area (not the coupler's), to
//!   1 MPa (*rounding unconfirmed*).
//! * Grade criteria (JGJ 107-2016 Table 3.0.5, *unconfirmed*): I — f⁰mst ≥
//!   fstk when the bar breaks, ≥ 1.10 fstk when the joint breaks; II —
//!   f⁰mst ≥ fstk; III — f⁰mst ≥ 1.25 fyk. The deformation criteria
//!   (residual deformation, Agt of the joint) are not recomputed here.
//! * A batch (§7.0.5–7.0.8): at most 500 joints of one type, grade and
//!   size (1000 after ten consecutive batches passed at the first round);
//!   three specimens; all pass → the batch passes; exactly one fails → six
//!   more, and any failure among them fails the batch; two or more of the
//!   first three fail → the batch fails.

use super::rebar::cross_section;
use super::rounding::{Rounded, increment};
use super::{ResultsError, checked_samples, peak};
use crate::curve::MachineCurve;
use serde::{Deserialize, Serialize};

/// A joint's performance grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JointGrade {
    I,
    II,
    III,
}

/// Where the specimen broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fracture {
    /// The bar broke outside the joint (断于钢筋).
    Bar,
    /// The joint failed: the bar pulled out, the coupler or the bar inside
    /// it broke (断于接头).
    Joint,
}

/// The bar's characteristic strengths, MPa (e.g. HRB400: fyk 400, fstk 540).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BarStrengths {
    pub fyk_mpa: f64,
    pub fstk_mpa: f64,
}

/// One tensile specimen of a joint.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct JointSpecimen {
    pub strength_mpa: f64,
    pub fracture: Fracture,
}

/// A specimen judged: what was required, what it reached.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpecimenJudgement {
    pub specimen: JointSpecimen,
    pub required_mpa: f64,
    pub pass: bool,
}

/// The joint's strength from its curve: Fm over the bar's nominal area
/// (the header's area, else π d² / 4).
pub fn joint_strength(curve: &MachineCurve) -> Result<Rounded, ResultsError> {
    let samples = checked_samples(curve)?;
    let (s0, _) = cross_section(&curve.header)?;
    let (_, fm) = peak(samples)?;
    Rounded::new(fm * 1000.0 / s0, increment::STEEL_MPA)
}

/// The strength a specimen of `grade` must reach, given where it broke.
pub fn required_strength(grade: JointGrade, bar: BarStrengths, fracture: Fracture) -> f64 {
    match (grade, fracture) {
        (JointGrade::I, Fracture::Bar) | (JointGrade::II, _) => bar.fstk_mpa,
        (JointGrade::I, Fracture::Joint) => 1.10 * bar.fstk_mpa,
        (JointGrade::III, _) => 1.25 * bar.fyk_mpa,
    }
}

/// Judges one specimen.
pub fn judge_specimen(
    specimen: JointSpecimen,
    grade: JointGrade,
    bar: BarStrengths,
) -> Result<SpecimenJudgement, ResultsError> {
    for value in [specimen.strength_mpa, bar.fyk_mpa, bar.fstk_mpa] {
        if !(value.is_finite() && value > 0.0) {
            return Err(ResultsError::BadValue { value });
        }
    }
    let required_mpa = required_strength(grade, bar, specimen.fracture);
    // A relative 1e-9: 1.10 × 540 is 594.0000000000001 in binary.
    let pass = specimen.strength_mpa >= required_mpa * (1.0 - 1e-9);
    Ok(SpecimenJudgement { specimen, required_mpa, pass })
}

/// The largest batch: 500 joints, 1000 after ten consecutive batches that
/// passed at the first round (§7.0.8).
pub fn batch_limit(consecutive_first_round_passes: u32) -> u32 {
    if consecutive_first_round_passes >= 10 { 1000 } else { 500 }
}

/// Whether a batch of `joints` may be accepted as one.
pub fn check_batch_size(joints: u32, consecutive_first_round_passes: u32) -> Result<(), ResultsError> {
    let limit = batch_limit(consecutive_first_round_passes);
    if joints > limit { Err(ResultsError::BatchTooLarge { joints, limit }) } else { Ok(()) }
}

/// The batch's state after the specimens given so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchOutcome {
    Pass,
    Fail,
    /// One of the first three failed: six more specimens are due.
    RetestRequired,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CouplerBatch {
    pub grade: JointGrade,
    pub first: Vec<SpecimenJudgement>,
    pub retest: Vec<SpecimenJudgement>,
    pub outcome: BatchOutcome,
}

/// Judges a batch from the first three specimens and, when one of them
/// failed, the six of the re-test.
///
/// Errors: not three first specimens, a re-test that is not six, a re-test
/// that the first round did not call for, or a bad value.
pub fn judge_batch(
    grade: JointGrade,
    bar: BarStrengths,
    first: &[JointSpecimen],
    retest: Option<&[JointSpecimen]>,
) -> Result<CouplerBatch, ResultsError> {
    if first.len() != 3 {
        return Err(ResultsError::FirstRoundNeedsThree { found: first.len() });
    }
    let judge_all = |specimens: &[JointSpecimen]| {
        specimens.iter().map(|s| judge_specimen(*s, grade, bar)).collect::<Result<Vec<_>, _>>()
    };
    let first = judge_all(first)?;
    let failed = first.iter().filter(|j| !j.pass).count();
    let (retest, outcome) = match (failed, retest) {
        (0, None) => (Vec::new(), BatchOutcome::Pass),
        (1, None) => (Vec::new(), BatchOutcome::RetestRequired),
        (1, Some(more)) if more.len() != 6 => return Err(ResultsError::RetestNeedsSix { found: more.len() }),
        (1, Some(more)) => {
            let more = judge_all(more)?;
            let outcome = if more.iter().all(|j| j.pass) { BatchOutcome::Pass } else { BatchOutcome::Fail };
            (more, outcome)
        }
        (0, Some(_)) => return Err(ResultsError::RetestNotCalledFor),
        // Two or three failures: the batch fails; a re-test changes nothing.
        (_, _) => (Vec::new(), BatchOutcome::Fail),
    };
    Ok(CouplerBatch { grade, first, retest, outcome })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HRB400: BarStrengths = BarStrengths { fyk_mpa: 400.0, fstk_mpa: 540.0 };

    fn s(strength_mpa: f64, fracture: Fracture) -> JointSpecimen {
        JointSpecimen { strength_mpa, fracture }
    }

    #[test]
    fn r12_jgj107_grade_criteria() {
        assert_eq!(required_strength(JointGrade::I, HRB400, Fracture::Bar), 540.0);
        assert!((required_strength(JointGrade::I, HRB400, Fracture::Joint) - 594.0).abs() < 1e-9);
        assert_eq!(required_strength(JointGrade::II, HRB400, Fracture::Joint), 540.0);
        assert_eq!(required_strength(JointGrade::III, HRB400, Fracture::Joint), 500.0);
        assert!(judge_specimen(s(594.0, Fracture::Joint), JointGrade::I, HRB400).unwrap().pass);
        assert!(!judge_specimen(s(593.0, Fracture::Joint), JointGrade::I, HRB400).unwrap().pass);
        assert!(judge_specimen(s(560.0, Fracture::Bar), JointGrade::I, HRB400).unwrap().pass);
        assert!(judge_specimen(s(f64::NAN, Fracture::Bar), JointGrade::I, HRB400).is_err());
    }

    #[test]
    fn r12_jgj107_batch_rounds() {
        let ok = s(600.0, Fracture::Bar);
        let bad = s(500.0, Fracture::Bar);
        let g = JointGrade::I;
        assert_eq!(judge_batch(g, HRB400, &[ok, ok, ok], None).unwrap().outcome, BatchOutcome::Pass);
        assert_eq!(
            judge_batch(g, HRB400, &[ok, bad, ok], None).unwrap().outcome,
            BatchOutcome::RetestRequired
        );
        assert_eq!(
            judge_batch(g, HRB400, &[ok, bad, ok], Some(&[ok; 6])).unwrap().outcome,
            BatchOutcome::Pass
        );
        let mut six = [ok; 6];
        six[4] = bad;
        assert_eq!(judge_batch(g, HRB400, &[ok, bad, ok], Some(&six)).unwrap().outcome, BatchOutcome::Fail);
        assert_eq!(judge_batch(g, HRB400, &[bad, bad, ok], None).unwrap().outcome, BatchOutcome::Fail);
        assert_eq!(
            judge_batch(g, HRB400, &[ok, bad, ok], Some(&[ok; 5])),
            Err(ResultsError::RetestNeedsSix { found: 5 })
        );
        assert_eq!(
            judge_batch(g, HRB400, &[ok, ok], None),
            Err(ResultsError::FirstRoundNeedsThree { found: 2 })
        );
        assert_eq!(
            judge_batch(g, HRB400, &[ok, ok, ok], Some(&[ok; 6])),
            Err(ResultsError::RetestNotCalledFor)
        );
    }

    #[test]
    fn r12_jgj107_batch_size() {
        assert_eq!(check_batch_size(500, 0), Ok(()));
        assert_eq!(check_batch_size(501, 9), Err(ResultsError::BatchTooLarge { joints: 501, limit: 500 }));
        assert_eq!(check_batch_size(1000, 10), Ok(()));
    }
}
