//! Tests of a lab's score (R17): every line shown, weights scaled by how
//! far past the threshold, the worst warning of a signal counted once, a
//! floor at 0, and odd figures never a panic.

use super::*;
use proptest::prelude::*;

/// A warning of `signal` with these figures, on one test.
pub(super) fn warning(signal: LabSignal, figure: Figure, measured: f64, threshold: f64) -> LabWarning {
    LabWarning {
        signal,
        figure,
        lab: "A".to_owned(),
        parameter: None,
        design_value: None,
        measured,
        threshold,
        n: 40,
        evidence: vec!["T-0001".to_owned()],
    }
}

#[test]
fn r17_lab_score_is_100_with_every_line_shown_when_quiet() {
    let (score, parts) = lab_score(&[]);
    assert_eq!(score, 100);
    let signals: Vec<LabSignal> = parts.iter().map(|c| c.signal).collect();
    assert_eq!(signals, LabSignal::ALL.to_vec());
    assert!(parts.iter().all(|c| c.deducted == 0 && c.warnings == 0 && c.figure.is_none()));
    let weights: u32 = parts.iter().map(|c| c.weight).sum();
    assert_eq!(weights, 112);
}

#[test]
fn r17_lab_score_scales_each_weight_by_how_far_past_the_threshold() {
    use Figure as F;
    use LabSignal as S;
    let cases = [
        // At the threshold: the weight; at twice it or beyond: twice.
        (warning(S::ResultsEdited, F::ShareEdited, 0.10, 0.10), 10),
        (warning(S::ResultsEdited, F::ShareEdited, 0.15, 0.10), 15),
        (warning(S::ResultsEdited, F::ShareEdited, 0.90, 0.10), 20),
        (warning(S::EquipmentOutOfCalibration, F::TestsOutOfCalibration, 3.0, 1.0), 20),
        // Probabilities in orders of magnitude: α² is twice as far as α.
        (warning(S::PassRateAboveCity, F::FailureTailProbability, 1e-6, 1e-3), 20),
        (warning(S::LastDigitBias, F::DigitUniformityP, 1e-6, 1e-3), 10),
        // Half of α is only 1.1 times as far (ln 0.0005 / ln 0.001): 5.5, rounded.
        (warning(S::LastDigitBias, F::DigitUniformityP, 1e-3 / 2.0, 1e-3), 6),
        // Firing below: threshold over measured; a copied curve is 2.
        (warning(S::TooUniform, F::CoefficientOfVariation, 0.03, 0.04), 7),
        (warning(S::NearIdenticalCurves, F::MaxCurveDifference, 0.0, 0.003), 40),
        (warning(S::StaffNotMatching, F::QualifiedStaffPerParameter, 0.5, 1.0), 20),
        // Days left: the share of the window used up.
        (warning(S::EquipmentCalibrationExpiring, F::DaysOfCalibrationLeft, 15.0, 30.0), 3),
        (warning(S::EquipmentCalibrationExpiring, F::DaysOfCalibrationLeft, -3.0, 30.0), 4),
    ];
    for (w, deducted) in cases {
        let (score, parts) = lab_score(std::slice::from_ref(&w));
        let line = parts.iter().find(|c| c.signal == w.signal).unwrap();
        assert_eq!(line.deducted, deducted, "{w:?}");
        assert_eq!(score, 100 - deducted);
        assert_eq!(
            (line.figure, line.measured, line.threshold),
            (Some(w.figure), Some(w.measured), Some(w.threshold))
        );
        assert!((1.0..=2.0).contains(&w.severity()));
    }
}

#[test]
fn r17_lab_score_takes_each_signals_worst_warning_once() {
    let w = [
        LabWarning {
            parameter: Some("concrete_cube_strength".to_owned()),
            ..warning(LabSignal::TestedBeforeAge, Figure::TestsBeforeAge, 1.0, 1.0)
        },
        LabWarning {
            parameter: Some("rebar_tensile".to_owned()),
            ..warning(LabSignal::TestedBeforeAge, Figure::TestsBeforeAge, 3.0, 2.0)
        },
        warning(LabSignal::ReportsReplaced, Figure::ShareReplacedOrRevoked, 0.05, 0.05),
    ];
    let (score, parts) = lab_score(&w);
    let early = parts.iter().find(|c| c.signal == LabSignal::TestedBeforeAge).unwrap();
    assert_eq!((early.deducted, early.warnings, early.measured), (15, 2, Some(3.0)));
    assert_eq!(score, 100 - 15 - 5);
    assert_eq!(parts.iter().map(|c| c.deducted).sum::<u32>(), 100 - score);
}

#[test]
fn r17_lab_score_floors_at_0_and_odd_figures_count_as_at_threshold() {
    let all: Vec<LabWarning> =
        LabSignal::ALL.iter().map(|&s| warning(s, Figure::ShareEdited, 1.0, 0.01)).collect();
    let (score, parts) = lab_score(&all);
    assert_eq!(score, 0);
    assert_eq!(parts.iter().map(|c| c.deducted).sum::<u32>(), 224);
    for (m, t) in [(f64::NAN, 0.1), (0.0, 0.0), (1.0, f64::NAN), (-1.0, 0.5)] {
        assert_eq!(warning(LabSignal::ResultsEdited, Figure::ShareEdited, m, t).severity(), 1.0, "{m} {t}");
    }
    assert_eq!(warning(LabSignal::LastDigitBias, Figure::DigitUniformityP, 0.5, 1.0).severity(), 1.0);
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => -2.0..2.0f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.0),
        1 => any::<f64>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn r17_lab_score_never_panics_on_any_figures(
        m in any_f64(),
        th in any_f64(),
        k in 0..12usize,
        f in 0..14usize,
    ) {
        let figures = [
            Figure::FailureTailProbability, Figure::ShareInBand, Figure::ShareAtDesign,
            Figure::CoefficientOfVariation, Figure::RunWithinOneSigma, Figure::DigitUniformityP,
            Figure::MaxCurveDifference, Figure::TestsOutOfCalibration, Figure::DaysOfCalibrationLeft,
            Figure::TestsBeforeAge, Figure::TestsByUnqualifiedStaff, Figure::QualifiedStaffPerParameter,
            Figure::ShareEdited, Figure::ShareReplacedOrRevoked,
        ];
        let w = warning(LabSignal::ALL[k], figures[f], m, th);
        prop_assert!((1.0..=2.0).contains(&w.severity()));
        let (score, _) = lab_score(&[w]);
        prop_assert!(score <= 100);
    }
}
