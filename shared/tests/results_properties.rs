//! Properties of the recomputation (R12): rounding, group rules, scaling,
//! synthetic curves recovered, and no panic on any input.

mod results_common;

use custody_core::curve::{CurveHeader, MachineCurve, Sample};
use custody_core::results::concrete::{self, ConcreteGrade, GroupRule, ReleaseThresholds};
use custody_core::results::{Agreement, Rounded, batch, compare_reported, coupler, rebar, round_to};
use proptest::prelude::*;
use results_common::*;

const INCREMENTS: [f64; 8] = [0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0, 10.0];

/// Any f64 at all, special values included, often enough to matter.
fn wild_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e3f64..1e3,
        1 => any::<f64>(),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.0),
    ]
}

fn wild_sample() -> impl Strategy<Value = Sample> {
    (wild_f64(), wild_f64(), prop::option::of(wild_f64())).prop_map(|(t_s, force_kn, ext_mm)| Sample {
        t_s,
        force_kn,
        ext_mm,
    })
}

/// Valid-looking samples: time increasing, finite values, anything else goes.
fn tame_samples() -> impl Strategy<Value = Vec<Sample>> {
    prop::collection::vec((0.0f64..0.5, -10.0f64..1000.0, prop::option::of(-1.0f64..50.0)), 0..300).prop_map(
        |rows| {
            let mut t = 0.0;
            rows.into_iter()
                .map(|(dt, force_kn, ext_mm)| {
                    t += dt;
                    Sample { t_s: t, force_kn, ext_mm }
                })
                .collect()
        },
    )
}

fn wild_header() -> impl Strategy<Value = CurveHeader> {
    (
        prop::option::of(wild_f64()),
        prop::option::of(prop_oneof![Just(100.0), Just(150.0), Just(200.0), wild_f64()]),
        prop::option::of(wild_f64()),
        prop::option::of(wild_f64()),
        prop::option::of(wild_f64()),
        prop::option::of(wild_f64()),
    )
        .prop_map(|(area, cube, d, l0, le, lu)| CurveHeader {
            area_mm2: area,
            cube_mm: cube,
            diameter_mm: d,
            gauge_mm: l0,
            extensometer_gauge_mm: le,
            final_gauge_mm: lu,
            ..CurveHeader::default()
        })
}

/// Every entry point on one curve; only panics matter here.
fn run_everything(curve: &MachineCurve) {
    let _ = concrete::cube_strength(curve);
    let _ = concrete::loading_rate(curve, ConcreteGrade(30));
    let _ = concrete::release_check(curve, &ReleaseThresholds::default());
    let _ = concrete::group_from_curves(&[curve.clone(), curve.clone(), curve.clone()], ConcreteGrade(30));
    if let Ok(r) = rebar::tensile(curve) {
        let _ = rebar::judge(&r, rebar::SteelGrade::Hrb400E);
        let reh = r.reh_mpa.value().map(|v| v.raw);
        let rel = r.rel_mpa.value().map(|v| v.raw);
        if let (Some(reh), Some(rel)) = (reh, rel) {
            assert!(
                rel <= reh + 1e-9 && reh <= r.rm_mpa.raw + 1e-9,
                "ReL {rel} ReH {reh} Rm {}",
                r.rm_mpa.raw
            );
        }
        if let Some(rp) = r.rp02_mpa.value() {
            assert!(rp.raw <= r.rm_mpa.raw + 1e-9);
        }
    }
    let _ = coupler::joint_strength(curve);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn r12_rounding_idempotent_and_within_half_increment(x in -1e6f64..1e6, i in 0usize..INCREMENTS.len()) {
        let inc = INCREMENTS[i];
        let r = round_to(x, inc).unwrap();
        prop_assert_eq!(round_to(r, inc).unwrap(), r);
        prop_assert!((r - x).abs() <= inc / 2.0 * (1.0 + 1e-9) + 1e-9 * x.abs());
        // A multiple of the increment.
        let q = r / inc;
        prop_assert!((q - q.round()).abs() < 1e-6);
    }

    #[test]
    fn r12_rounding_is_symmetric(x in -1e6f64..1e6, i in 0usize..INCREMENTS.len()) {
        let inc = INCREMENTS[i];
        prop_assert_eq!(round_to(-x, inc).unwrap(), -round_to(x, inc).unwrap() + 0.0);
    }

    #[test]
    fn r12_group_value_lies_between_min_and_max(a in 5.0f64..120.0, b in 5.0f64..120.0, c in 5.0f64..120.0) {
        let g = concrete::group_strength([a, b, c], 1.0).unwrap();
        let (lo, hi) = (a.min(b).min(c), a.max(b).max(c));
        match g.value_mpa {
            Some(v) => prop_assert!(v.raw >= lo - 1e-9 && v.raw <= hi + 1e-9),
            None => prop_assert_eq!(g.rule, GroupRule::Void),
        }
    }

    #[test]
    fn r12_scaling_force_scales_strength(peak in 100.0f64..1500.0, k in 0.1f64..10.0, seed in 1u64..1000) {
        let c = breaking_cube(150.0, peak, 0.6, seed);
        let mut scaled = c.clone();
        for s in &mut scaled.samples {
            s.force_kn *= k;
        }
        let (f, g) = (concrete::cube_strength(&c).unwrap(), concrete::cube_strength(&scaled).unwrap());
        prop_assert!((g.strength_mpa.raw - k * f.strength_mpa.raw).abs() <= 1e-9 * g.strength_mpa.raw);
        let (rf, rg) = (
            concrete::loading_rate(&c, ConcreteGrade(30)).unwrap(),
            concrete::loading_rate(&scaled, ConcreteGrade(30)).unwrap(),
        );
        prop_assert!((rg.mpa_per_s - k * rf.mpa_per_s).abs() <= 1e-6 * rg.mpa_per_s);
    }

    #[test]
    fn r12_rebar_plateau_recovered(rel in 380.0f64..620.0, gap in 3.0f64..30.0, hard in 1.2f64..1.45, ripple in 0.0f64..6.0) {
        let (reh, rm) = (rel + gap, rel * hard);
        let c = rebar_curve(16.0, 40_001, |e| yield_stress(e, reh, rel, rm, ripple));
        let r = rebar::tensile(&c).unwrap();
        let got = |m: custody_core::results::Measured| m.value().map(|v| v.raw).unwrap_or(f64::NAN);
        prop_assert!((got(r.reh_mpa) - reh).abs() <= 1.0, "ReH {} vs {}", got(r.reh_mpa), reh);
        prop_assert!((got(r.rel_mpa) - rel).abs() <= 1.0, "ReL {} vs {}", got(r.rel_mpa), rel);
        prop_assert!((r.rm_mpa.raw - rm).abs() <= 1.0);
    }

    #[test]
    fn r12_rp02_recovered_on_ramberg_osgood(sigma_y in 300.0f64..700.0, hard in 1.15f64..1.4, n in 10.0f64..30.0) {
        let c = ramberg_osgood_curve(20.0, 5_000, sigma_y, sigma_y * hard, n);
        let rp = rebar::tensile(&c).unwrap().rp02_mpa.value().unwrap().raw;
        prop_assert!((rp - sigma_y).abs() / sigma_y < 0.01, "Rp0.2 {} vs {}", rp, sigma_y);
    }

    #[test]
    fn r12_batch_verdict_is_its_criteria(values in prop::collection::vec(10.0f64..90.0, 1..40), grade in 10u16..=100) {
        let e = batch::evaluate_batch(&values, ConcreteGrade(grade)).unwrap();
        prop_assert_eq!(e.pass, e.criteria.iter().all(|c| c.pass));
        prop_assert_eq!(e.n, values.len());
        if let Some(s) = e.std_dev_used_mpa {
            prop_assert!(s >= batch::MIN_STD_DEV_MPA);
        }
    }

    #[test]
    fn r12_a_recomputed_value_matches_itself(x in 0.0f64..1000.0, i in 0usize..INCREMENTS.len()) {
        let v = Rounded::new(x, INCREMENTS[i]).unwrap();
        let cmp = compare_reported(&[("v", v)], &[("v", v.rounded)], None);
        prop_assert_eq!(cmp[0].agreement, Agreement::Match);
    }

    #[test]
    fn r12_no_panic_on_wild_samples(header in wild_header(), samples in prop::collection::vec(wild_sample(), 0..60)) {
        run_everything(&MachineCurve { header, samples });
    }

    #[test]
    fn r12_no_panic_on_tame_samples(header in wild_header(), samples in tame_samples()) {
        run_everything(&MachineCurve { header, samples });
    }

    #[test]
    fn r12_no_panic_on_wild_values(values in prop::collection::vec(wild_f64(), 0..30), f in wild_f64()) {
        let _ = batch::evaluate_batch(&values, ConcreteGrade(30));
        if values.len() >= 3 {
            let _ = concrete::group_strength([values[0], values[1], values[2]], f);
        }
        let _ = concrete::size_factor(f, ConcreteGrade(60));
        for inc in [f, 0.1] {
            let _ = round_to(f, inc);
        }
        let spec = coupler::JointSpecimen { strength_mpa: f, fracture: coupler::Fracture::Joint };
        let bar = coupler::BarStrengths { fyk_mpa: 400.0, fstk_mpa: f };
        let _ = coupler::judge_batch(coupler::JointGrade::I, bar, &[spec, spec, spec], Some(&[spec; 6]));
    }
}
