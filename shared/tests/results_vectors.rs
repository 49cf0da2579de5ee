//! Test vectors for the recomputation of mechanical results (R12): the
//! standards' worked examples and synthetic curves with known answers.

mod results_common;

use custody_core::curve::{CurveHeader, MachineCurve, Sample};
use custody_core::results::concrete::{self, ConcreteGrade, GroupRule, ReleaseThresholds, ReleaseVerdict};
use custody_core::results::{Agreement, ResultsError, Rounded, compare_reported};
use custody_core::verify::Lang;
use results_common::*;

/// A curve that rises linearly to `peak_kn` on a cube of `edge`.
fn ramp(edge: f64, peak_kn: f64) -> MachineCurve {
    cube_curve(edge, peak_kn, 0.5, 10.0, |_, _| None)
}

#[test]
fn r12_worked_example_gbt50081_median_rule() {
    // 420 / 450 / 550 kN on 100 mm cubes: 42.0 / 45.0 / 55.0 MPa; 55 is
    // 22 % above the median, 42 only 6.7 % below → the median, 45 MPa,
    // × 0.95 = 42.75 → 42.8 MPa.
    let curves = [ramp(100.0, 420.0), ramp(100.0, 450.0), ramp(100.0, 550.0)];
    let (cubes, group) = concrete::group_from_curves(&curves, ConcreteGrade(40)).unwrap();
    assert_eq!(cubes.iter().map(|c| c.strength_mpa.rounded).collect::<Vec<_>>(), [42.0, 45.0, 55.0]);
    assert_eq!(group.rule, GroupRule::Median);
    assert_eq!(group.size_factor, 0.95);
    let value = group.value_mpa.unwrap();
    assert!((value.raw - 42.75).abs() < 1e-9);
    assert_eq!(value.rounded, 42.8);
}

#[test]
fn r12_gbt50081_group_mean_and_void() {
    let g = concrete::group_strength([30.0, 33.0, 36.0], 1.0).unwrap();
    assert_eq!(g.rule, GroupRule::Mean);
    assert_eq!(g.value_mpa.unwrap().rounded, 33.0);
    // Exactly 15 % from the median keeps the mean ("more than" is strict).
    let g = concrete::group_strength([34.0, 40.0, 46.0], 1.0).unwrap();
    assert_eq!(g.rule, GroupRule::Mean);
    // Both more than 15 % away: void, no value.
    let g = concrete::group_strength([30.0, 40.0, 50.0], 1.0).unwrap();
    assert_eq!(g.rule, GroupRule::Void);
    assert_eq!(g.value_mpa, None);
}

#[test]
fn r12_gbt50081_size_factors() {
    let c30 = ConcreteGrade(30);
    assert_eq!(concrete::size_factor(100.0, c30), Ok(0.95));
    assert_eq!(concrete::size_factor(150.0, c30), Ok(1.0));
    assert_eq!(concrete::size_factor(200.0, c30), Ok(1.05));
    assert_eq!(concrete::size_factor(150.0, ConcreteGrade(60)), Ok(1.0));
    assert_eq!(
        concrete::size_factor(100.0, ConcreteGrade(60)),
        Err(ResultsError::SizeFactorFromTests { cube_mm: 100.0, grade: 60 })
    );
    assert_eq!(concrete::size_factor(120.0, c30), Err(ResultsError::UnknownCubeSize { cube_mm: 120.0 }));
    assert!(concrete::size_factor(0.0, c30).is_err());
    let e = concrete::size_factor(100.0, ConcreteGrade(60)).unwrap_err();
    assert!(e.message(Lang::En).contains("must come from tests"));
    assert!(e.message(Lang::ZhCn).contains("试验确定"));
}

#[test]
fn r12_grade_parse() {
    assert_eq!(ConcreteGrade::parse("C30"), Ok(ConcreteGrade(30)));
    assert_eq!(ConcreteGrade::parse(" c60 "), Ok(ConcreteGrade(60)));
    assert!(ConcreteGrade::parse("30").is_err());
    assert!(ConcreteGrade::parse("C5").is_err());
    assert!(ConcreteGrade::parse("C").is_err());
}

#[test]
fn r12_cube_area_from_header() {
    let mut c = ramp(150.0, 675.0);
    assert_eq!(concrete::cube_strength(&c).unwrap().strength_mpa.rounded, 30.0);
    // A measured area wins over the nominal edge.
    c.header.area_mm2 = Some(22_000.0);
    let s = concrete::cube_strength(&c).unwrap();
    assert_eq!(s.area_mm2, 22_000.0);
    assert_eq!(s.strength_mpa.rounded, 30.7);
    c.header.area_mm2 = Some(0.0);
    assert!(matches!(concrete::cube_strength(&c), Err(ResultsError::BadDimension { .. })));
    c.header = CurveHeader::default();
    assert_eq!(concrete::cube_strength(&c), Err(ResultsError::MissingArea));
}

#[test]
fn r12_group_needs_three_cubes_of_one_size() {
    let g = ConcreteGrade(30);
    assert_eq!(
        concrete::group_from_curves(&[ramp(150.0, 700.0)], g).unwrap_err(),
        ResultsError::GroupNeedsThree { found: 1 }
    );
    let mixed = [ramp(150.0, 700.0), ramp(100.0, 300.0), ramp(150.0, 700.0)];
    assert_eq!(concrete::group_from_curves(&mixed, g).unwrap_err(), ResultsError::CubeEdgesDiffer);
}

#[test]
fn r12_gbt50081_loading_rate_band() {
    for (rate, grade, inside) in [
        (0.4, 25, true),
        (0.6, 25, false),
        (0.6, 30, true),
        (0.45, 30, false),
        (0.9, 60, true),
        (0.7, 60, false),
    ] {
        let c = breaking_cube(150.0, 900.0, rate, 7);
        let r = concrete::loading_rate(&c, ConcreteGrade(grade)).unwrap();
        assert!((r.mpa_per_s - rate).abs() < 1e-6, "{r:?}");
        assert_eq!(r.in_band, inside, "{rate} MPa/s for C{grade}");
        assert!(r.points > 10);
    }
}

#[test]
fn r12_loading_rate_needs_a_window() {
    let c = MachineCurve {
        header: cube_header(150.0),
        samples: vec![Sample { t_s: 0.0, force_kn: 100.0, ext_mm: None }],
    };
    assert!(matches!(concrete::loading_rate(&c, ConcreteGrade(30)), Err(ResultsError::TooFewPoints { .. })));
}

#[test]
fn r12_release_detector_passes_real_failures() {
    let t = ReleaseThresholds::default();
    for seed in 1..20 {
        let c = breaking_cube(150.0, 800.0, 0.5, seed);
        let r = concrete::release_check(&c, &t).unwrap();
        assert_eq!(r.verdict, ReleaseVerdict::Failure, "seed {seed}: {r:?}");
    }
}

#[test]
fn r12_release_detector_flags_smooth_slow_decay() {
    let t = ReleaseThresholds::default();
    let r = concrete::release_check(&released_cube(150.0, 800.0, 0.5, 30.0), &t).unwrap();
    assert_eq!(r.verdict, ReleaseVerdict::SuspectedManualRelease, "{r:?}");
    assert!(r.roughness < 0.1 && r.rising_share == 0.0);
    let r = concrete::release_check(&plateau_release_cube(150.0, 800.0, 0.5, 5.0, 40.0), &t).unwrap();
    assert_eq!(r.verdict, ReleaseVerdict::SuspectedManualRelease, "{r:?}");
}

#[test]
fn r12_release_detector_is_inconclusive_without_a_descent() {
    let t = ReleaseThresholds::default();
    // The machine stopped recording at the peak (many do).
    let r = concrete::release_check(&ramp(150.0, 800.0), &t).unwrap();
    assert_eq!(r.verdict, ReleaseVerdict::Inconclusive);
    // A fast smooth drop is a failure, not a release: it is not slow.
    let fast = released_cube(150.0, 800.0, 0.5, 0.5);
    assert_eq!(concrete::release_check(&fast, &t).unwrap().verdict, ReleaseVerdict::Failure);
}

#[test]
fn r12_bad_curves_are_errors() {
    let mut c = ramp(150.0, 700.0);
    c.samples[3].force_kn = f64::NAN;
    assert_eq!(concrete::cube_strength(&c), Err(ResultsError::NonFiniteSample { index: 3 }));
    let mut c = ramp(150.0, 700.0);
    c.samples[5].t_s = -1.0;
    assert_eq!(concrete::cube_strength(&c), Err(ResultsError::TimeGoesBack { index: 5 }));
    let c = MachineCurve { header: cube_header(150.0), samples: vec![] };
    assert_eq!(concrete::cube_strength(&c), Err(ResultsError::EmptyCurve));
    let c = MachineCurve {
        header: cube_header(150.0),
        samples: vec![Sample { t_s: 0.0, force_kn: -1.0, ext_mm: None }],
    };
    assert_eq!(concrete::cube_strength(&c), Err(ResultsError::NoPositiveForce));
}

#[test]
fn r12_compare_reported_flags_more_than_one_increment() {
    let f = Rounded::new(42.75, 0.1).unwrap();
    let cmp = compare_reported(&[("fcu", f)], &[("fcu", 42.7)], None);
    assert_eq!(cmp[0].agreement, Agreement::Match);
    let cmp = compare_reported(&[("fcu", f)], &[("fcu", 42.6)], None);
    assert_eq!(cmp[0].agreement, Agreement::Mismatch);
    let cmp = compare_reported(&[("fcu", f)], &[("fcu", f64::NAN), ("extra", 1.0)], Some(0.5));
    assert_eq!(cmp[0].agreement, Agreement::Mismatch);
    assert_eq!(cmp[1].agreement, Agreement::NotRecomputed);
    let cmp = compare_reported(&[("fcu", f)], &[], None);
    assert_eq!(cmp[0].agreement, Agreement::NotReported);
}

#[test]
fn r12_results_serialise_round_trip() {
    let c = released_cube(150.0, 800.0, 0.5, 30.0);
    let r = concrete::release_check(&c, &ReleaseThresholds::default()).unwrap();
    let back: concrete::ReleaseCheck = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
    let e = ResultsError::NonFiniteSample { index: 2 };
    let back: ResultsError = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
    assert_eq!(back, e);
}
