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
    let r = rebar::tensile(&rebar_curve(20.0, 4_001, |e| yield_stress(e, 440.0, 430.0, 580.0, 1.0))).unwrap();
    let back: rebar::TensileResult = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
    let e = ResultsError::NonFiniteSample { index: 2 };
    let back: ResultsError = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
    assert_eq!(back, e);
}

// ---- Rebar (GB/T 228.1-2021, GB/T 1499.2-2018) ----

use custody_core::results::rebar::{self, SteelGrade, TensileCheck, Verdict};
use custody_core::results::{Measured, Unmeasurable};

fn value(m: Measured) -> f64 {
    m.value().unwrap_or_else(|| panic!("no value: {m:?}")).raw
}

#[test]
fn r12_rebar_plateau_recovers_reh_rel_rm() {
    // Ripple below the drop threshold (one valley, a smooth plateau) and
    // above it (several valleys, the first one ignored).
    for ripple in [1.0, 6.0] {
        for (reh, rel, rm) in [(430.0, 420.0, 560.0), (455.0, 440.0, 600.0), (540.0, 525.0, 680.0)] {
            let c = rebar_curve(20.0, 40_001, |e| yield_stress(e, reh, rel, rm, ripple));
            let r = rebar::tensile(&c).unwrap();
            let (got_reh, got_rel) = (value(r.reh_mpa), value(r.rel_mpa));
            assert!((got_reh - reh).abs() <= 1.0, "ReH {got_reh} vs {reh} (ripple {ripple})");
            assert!((got_rel - rel).abs() <= 1.0, "ReL {got_rel} vs {rel} (ripple {ripple})");
            assert!((r.rm_mpa.raw - rm).abs() <= 1.0, "Rm {} vs {rm}", r.rm_mpa.raw);
            // Agt at Fm: 12 % strain.
            assert_eq!(r.agt_percent.value().unwrap().rounded, 12.0);
            assert_eq!(r.area_source, rebar::AreaSource::NominalDiameter);
        }
    }
}

#[test]
fn r12_rebar_rp02_matches_ramberg_osgood() {
    for (sigma_y, rm, n) in [(400.0, 520.0, 12.0), (500.0, 640.0, 20.0), (450.0, 600.0, 8.0)] {
        let c = ramberg_osgood_curve(16.0, 20_000, sigma_y, rm, n);
        let r = rebar::tensile(&c).unwrap();
        let rp = value(r.rp02_mpa);
        assert!((rp - sigma_y).abs() / sigma_y < 0.01, "Rp0.2 {rp} vs {sigma_y} (n {n})");
        // A continuous-yielding bar has no ReH/ReL; Rp0.2 stands in for ReL.
        assert_eq!(r.rel_mpa, Measured::Unmeasurable(Unmeasurable::NoYieldPoint));
        assert_eq!(r.yield_strength().unwrap().raw, rp);
        // The slope is E × S0 / Le in kN/mm; a low exponent bends the
        // curve inside the 10–40 % band already, hence 2 %.
        let e_fit = r.elastic_slope_kn_per_mm.unwrap() * 50.0 / r.s0_mm2 * 1000.0;
        assert!((e_fit - 200_000.0).abs() / 200_000.0 < 0.02, "E {e_fit}");
    }
}

#[test]
fn r12_rebar_says_what_it_cannot_measure() {
    let mut c = rebar_curve(20.0, 4_001, |e| yield_stress(e, 430.0, 420.0, 560.0, 1.0));
    c.header.extensometer_gauge_mm = None;
    let r = rebar::tensile(&c).unwrap();
    assert_eq!(r.agt_percent, Measured::Unmeasurable(Unmeasurable::NoExtensometerGauge));
    assert_eq!(r.rp02_mpa, Measured::Unmeasurable(Unmeasurable::NoExtensometerGauge));
    assert_eq!(r.a_percent, Measured::Unmeasurable(Unmeasurable::NoGaugeLengths));
    assert!(r.rel_mpa.value().is_some());
    for s in &mut c.samples {
        s.ext_mm = None;
    }
    c.header.extensometer_gauge_mm = Some(50.0);
    let r = rebar::tensile(&c).unwrap();
    assert_eq!(r.agt_percent, Measured::Unmeasurable(Unmeasurable::NoExtension));
    assert!(Unmeasurable::NoGaugeLengths.message(Lang::En).contains("not measurable from the curve"));
}

#[test]
fn r12_rebar_a_from_gauge_lengths_and_area_from_header() {
    let mut c = rebar_curve(20.0, 4_001, |e| yield_stress(e, 430.0, 420.0, 560.0, 1.0));
    c.header.gauge_mm = Some(100.0);
    c.header.final_gauge_mm = Some(118.3);
    let r = rebar::tensile(&c).unwrap();
    // 18.3 % → 18.5 % (0.5 % increment).
    assert_eq!(r.a_percent.value().unwrap().rounded, 18.5);
    c.header.area_mm2 = Some(314.2);
    let r = rebar::tensile(&c).unwrap();
    assert_eq!((r.s0_mm2, r.area_source), (314.2, rebar::AreaSource::Header));
    c.header.area_mm2 = Some(-1.0);
    assert!(rebar::tensile(&c).is_err());
}

#[test]
fn r12_gbt1499_judgement() {
    let mut c = rebar_curve(20.0, 4_001, |e| yield_stress(e, 440.0, 430.0, 580.0, 1.0));
    c.header.gauge_mm = Some(100.0);
    c.header.final_gauge_mm = Some(120.0);
    let r = rebar::tensile(&c).unwrap();
    let j = rebar::judge(&r, SteelGrade::Hrb400);
    assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
    assert_eq!(j.criteria.len(), 4);
    // HRB500: yield and Rm too low.
    let j = rebar::judge(&r, SteelGrade::Hrb500);
    assert_eq!(j.verdict, Verdict::Fail);
    let failed: Vec<_> = j.criteria.iter().filter(|c| c.pass == Some(false)).map(|c| c.check).collect();
    assert_eq!(failed, [TensileCheck::Yield, TensileCheck::Rm]);
    // HRB400E: Rm/ReL = 580/430 = 1.349 ≥ 1.25, ReL/400 = 1.075 ≤ 1.30, Agt 12 ≥ 9.
    let j = rebar::judge(&r, SteelGrade::parse("hrb400e").unwrap());
    assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
    // A bar too strong for its seismic grade: ReL 540 / 400 = 1.35 > 1.30.
    let strong =
        rebar::tensile(&rebar_curve(20.0, 4_001, |e| yield_stress(e, 550.0, 540.0, 700.0, 1.0))).unwrap();
    let j = rebar::judge(&strong, SteelGrade::Hrb400E);
    assert_eq!(j.verdict, Verdict::Fail);
    let over = j.criteria.iter().find(|c| c.check == TensileCheck::RelOverNominal).unwrap();
    assert_eq!(over.pass, Some(false));
    // Without L0/Lu, plain grades are incomplete, not passed.
    let r = rebar::tensile(&rebar_curve(20.0, 4_001, |e| yield_stress(e, 440.0, 430.0, 580.0, 1.0))).unwrap();
    assert_eq!(rebar::judge(&r, SteelGrade::Hrb400).verdict, Verdict::Incomplete);
    assert_eq!(SteelGrade::parse("HRBF500E"), Some(SteelGrade::Hrb500E));
    assert_eq!(SteelGrade::parse("Q235"), None);
}

#[test]
fn r12_coupler_strength_from_curve() {
    use custody_core::results::coupler;
    let c = rebar_curve(20.0, 4_001, |e| yield_stress(e, 440.0, 430.0, 580.0, 1.0));
    let f = coupler::joint_strength(&c).unwrap();
    assert_eq!(f.rounded, 580.0);
}

#[test]
fn r12_errors_read_in_both_languages() {
    use custody_core::results::{Dimension, Phase};
    let errors = [
        ResultsError::EmptyCurve,
        ResultsError::NonFiniteSample { index: 0 },
        ResultsError::TimeGoesBack { index: 1 },
        ResultsError::NoPositiveForce,
        ResultsError::MissingArea,
        ResultsError::BadDimension { dimension: Dimension::Area, value: 0.0 },
        ResultsError::UnknownCubeSize { cube_mm: 70.7 },
        ResultsError::MissingCubeEdge,
        ResultsError::CubeEdgesDiffer,
        ResultsError::SizeFactorFromTests { cube_mm: 100.0, grade: 60 },
        ResultsError::TooFewPoints { phase: Phase::ElasticFit, found: 1 },
        ResultsError::GroupNeedsThree { found: 2 },
        ResultsError::EmptyBatch,
        ResultsError::BadValue { value: -1.0 },
        ResultsError::BadGrade { grade: "X".into() },
        ResultsError::BadIncrement { increment: 0.0 },
        ResultsError::FirstRoundNeedsThree { found: 1 },
        ResultsError::RetestNeedsSix { found: 5 },
        ResultsError::RetestNotCalledFor,
        ResultsError::BatchTooLarge { joints: 600, limit: 500 },
    ];
    for e in errors {
        let (zh, en) = (e.message(Lang::ZhCn), e.message(Lang::En));
        assert!(!zh.is_empty() && !en.is_empty() && zh != en, "{e:?}");
        assert_eq!(e.to_string(), en);
    }
}

#[test]
fn r12_rebar_tolerates_load_cell_noise() {
    // ±0.4 MPa of noise (about 0.1 % of the force at yield) must not make
    // a yield point of every wiggle.
    for seed in 1..6 {
        let noise = std::cell::RefCell::new(Noise::new(seed));
        let c = rebar_curve(20.0, 20_000, |e| {
            yield_stress(e, 440.0, 430.0, 580.0, 1.0) + 0.4 * noise.borrow_mut().next()
        });
        let r = rebar::tensile(&c).unwrap();
        assert!((value(r.reh_mpa) - 440.0).abs() <= 1.0, "seed {seed}: ReH {}", value(r.reh_mpa));
        assert!((value(r.rel_mpa) - 430.0).abs() <= 1.0, "seed {seed}: ReL {}", value(r.rel_mpa));
        assert!((r.rm_mpa.raw - 580.0).abs() <= 1.0);
    }
}

#[test]
fn r12_release_detector_tolerates_sensor_noise() {
    // ±0.05 kN of noise on a slow bleed: still smooth, still flagged.
    let mut noise = Noise::new(11);
    let mut c = released_cube(150.0, 800.0, 0.5, 30.0);
    for s in &mut c.samples {
        s.force_kn += 0.05 * noise.next();
    }
    let r = concrete::release_check(&c, &ReleaseThresholds::default()).unwrap();
    assert_eq!(r.verdict, ReleaseVerdict::SuspectedManualRelease, "{r:?}");
}
