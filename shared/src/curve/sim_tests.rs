//! The simulator's curves look like the machines' (R12) and survive the
//! round trip through a file.

use super::*;
use crate::curve::{FileStyle, parse, to_file};
use proptest::prelude::*;

fn peak(c: &MachineCurve) -> (usize, f64) {
    c.samples
        .iter()
        .enumerate()
        .fold((0, f64::MIN), |best, (i, s)| if s.force_kn > best.1 { (i, s.force_kn) } else { best })
}

fn other<'a>(c: &'a MachineCurve, key: &str) -> Option<&'a str> {
    c.header.other.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[test]
fn r12_sim_is_deterministic_from_its_seed() {
    let p = CubeParams::new(150.0, 30, 7);
    assert_eq!(cube(&p), cube(&p));
    assert_ne!(cube(&p).samples, cube(&CubeParams { seed: 8, ..p.clone() }).samples);
    let mut a = super::Rng::new(0);
    assert_ne!(a.next_u64(), 0);
    let u: Vec<f64> = (0..1000).map(|_| a.unit()).collect();
    assert!(u.iter().all(|x| (0.0..1.0).contains(x)));
    let mean = u.iter().sum::<f64>() / 1000.0;
    assert!((mean - 0.5).abs() < 0.05, "{mean}");
}

#[test]
fn r12_sim_cube_rises_at_its_rate_and_breaks() {
    let p = CubeParams { strength_mpa: 35.0, rate_mpa_s: 0.5, hz: 20.0, ..CubeParams::new(150.0, 30, 1) };
    let c = cube(&p);
    let (i, fm) = peak(&c);
    assert_eq!(fm, 787.5, "35 MPa over 22500 mm²");
    // About 70 s to the peak at 0.5 MPa/s (plus half the toe), 20 Hz.
    let t_peak = c.samples[i].t_s;
    assert!((70.0..72.0).contains(&t_peak), "{t_peak}");
    assert!((1400..1450).contains(&i));
    // The middle of the rise runs at 0.5 MPa/s = 11.25 kN/s.
    let (a, b) = (c.samples[400], c.samples[1000]);
    let slope = (b.force_kn - a.force_kn) / (b.t_s - a.t_s);
    assert!((slope - 11.25).abs() < 0.2, "{slope}");
    // Brittle: within a second the force has fallen below 60 % and the record ends.
    let last = c.samples.last().unwrap();
    assert!(last.force_kn < 0.6 * fm);
    assert!(last.t_s - t_peak < 1.5, "{}", last.t_s - t_peak);
    assert_eq!(other(&c, "最大力(kN)"), Some("787.50"));
    assert_eq!(other(&c, "抗压强度(MPa)"), Some("35.0"));
}

#[test]
fn r12_sim_manual_release_decays_smoothly() {
    let p = CubeParams { failure: CubeFailure::ManualRelease, ..CubeParams::new(100.0, 40, 3) };
    let c = cube(&p);
    let (i, fm) = peak(&c);
    let after = &c.samples[i..];
    assert!(after.windows(2).all(|w| w[1].force_kn <= w[0].force_kn), "monotonic");
    assert!(after.len() > 30, "slow: {} samples", after.len());
    assert!(after.last().unwrap().force_kn < 0.06 * fm);
}

#[test]
fn r12_sim_rebar_plateau_has_the_standard_shape() {
    let p = RebarParams {
        yield_mpa: 450.0,
        rm_mpa: 610.0,
        hz: 100.0,
        ..RebarParams::new(20.0, RebarGrade::Hrb400E, 5)
    };
    let c = rebar(&p);
    let s0 = 314.2;
    assert_eq!(c.header.area_mm2, Some(s0));
    assert!(c.samples.len() < 20_000, "{}", c.samples.len());
    let dur = c.samples.last().unwrap().t_s;
    assert!((60.0..180.0).contains(&dur), "1-3 minutes: {dur}");
    // Elastic slope over Le = 50 mm: E·S0/Le = 200 GPa × 314.2 / 50 ≈ 1256.8 kN/mm.
    let elastic: Vec<_> = c.samples.iter().filter(|s| s.force_kn > 20.0 && s.force_kn < 100.0).collect();
    let (a, b) = (elastic[0], elastic[elastic.len() - 1]);
    let slope = (b.force_kn - a.force_kn) / (b.ext_mm.unwrap() - a.ext_mm.unwrap());
    assert!((slope / 1256.8 - 1.0).abs() < 0.05, "{slope}");
    let (_, fm) = peak(&c);
    assert!((fm * 1000.0 / s0 - 610.0).abs() < 3.0, "Rm {}", fm * 1000.0 / s0);
    let reh: f64 = other(&c, "上屈服强度(MPa)").unwrap().parse().unwrap();
    let rel: f64 = other(&c, "下屈服强度(MPa)").unwrap().parse().unwrap();
    assert!(reh > rel && (440.0..460.0).contains(&rel), "ReH {reh} ReL {rel}");
    // Necking then fracture: the force ends near zero.
    assert!(c.samples.last().unwrap().force_kn.abs() < 0.5);
    assert_eq!(other(&c, "牌号"), Some("HRB400E"));
}

#[test]
fn r12_sim_smooth_yield_has_no_plateau() {
    let p = RebarParams { yield_shape: YieldShape::Smooth, ..RebarParams::new(16.0, RebarGrade::Hrb500, 9) };
    let c = rebar(&p);
    assert!(other(&c, "规定塑性延伸强度Rp0.2(MPa)").is_some());
    assert!(other(&c, "下屈服强度(MPa)").is_none());
    // Before the peak the force never falls by more than noise (no yield drop).
    let (i, _) = peak(&c);
    let worst = c.samples[..i].windows(2).map(|w| w[0].force_kn - w[1].force_kn).fold(0.0, f64::max);
    assert!(worst < 0.5, "{worst}");
}

#[test]
fn r12_sim_coupler_reports_where_it_broke() {
    let rebar_p = RebarParams::new(25.0, RebarGrade::Hrb400, 11);
    let bar = coupler(&CouplerParams { rebar: rebar_p.clone(), breaks: BreakLocation::Bar });
    let joint = coupler(&CouplerParams { rebar: rebar_p, breaks: BreakLocation::Joint });
    assert_eq!(other(&bar, BREAK_KEY), Some(BREAK_BAR));
    assert_eq!(other(&joint, BREAK_KEY), Some(BREAK_JOINT));
    assert_eq!(joint.header.test.as_deref(), Some("coupler_tensile"));
    assert!(joint.samples.len() < bar.samples.len(), "the joint lets go before necking");
    assert!(joint.samples.last().unwrap().force_kn.abs() < 0.5);
}

#[test]
fn r12_nominal_areas_match_the_table() {
    for (d, a) in [(12.0, 113.1), (16.0, 201.1), (20.0, 314.2), (25.0, 490.9), (32.0, 804.2), (40.0, 1257.0)]
    {
        assert_eq!(nominal_area(d), a, "{d}");
    }
}

/// What a file carries: everything but the parser's own notes on the file.
fn comparable(mut c: MachineCurve) -> MachineCurve {
    c.header.units.clear();
    c.header.encoding = None;
    c
}

fn labels(seed: u64) -> Labels {
    Labels {
        specimen: Some(format!("YK{seed:010}-1")),
        machine: Some("YAW-2000B-0381".into()),
        started: Some("2026-11-20 09:41:07".into()),
    }
}

fn any_curve() -> impl Strategy<Value = MachineCurve> {
    (any::<u64>(), 0u8..5, 0u8..3, 10.0f64..60.0).prop_map(|(seed, kind, size, hz)| match kind {
        0 | 1 => {
            let failure = if kind == 0 { CubeFailure::Brittle } else { CubeFailure::ManualRelease };
            let size = [100.0, 150.0, 200.0][usize::from(size)];
            cube(&CubeParams {
                hz,
                failure,
                labels: labels(seed),
                ..CubeParams::new(size, 20 + u32::from(size as u8 % 5) * 10, seed)
            })
        }
        2 | 3 => {
            let shape = if kind == 2 { YieldShape::Plateau } else { YieldShape::Smooth };
            rebar(&RebarParams {
                yield_shape: shape,
                hz,
                labels: labels(seed),
                ..RebarParams::new(12.0 + f64::from(size) * 6.0, RebarGrade::Hrb400E, seed)
            })
        }
        _ => {
            let breaks = if seed % 2 == 0 { BreakLocation::Bar } else { BreakLocation::Joint };
            coupler(&CouplerParams {
                rebar: RebarParams { hz, ..RebarParams::new(25.0, RebarGrade::Hrb500E, seed) },
                breaks,
            })
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn r12_sim_round_trips_through_both_file_styles(curve in any_curve()) {
        for style in [FileStyle::GbkChinese, FileStyle::Utf8English] {
            let parsed = parse(&to_file(&curve, style));
            prop_assert!(parsed.is_ok(), "{style:?}: {parsed:?}");
            let parsed = parsed.unwrap();
            prop_assert_eq!(parsed.header.units.len(), 3);
            let (parsed, curve) = (comparable(parsed), comparable(curve.clone()));
            prop_assert_eq!(&parsed.header, &curve.header, "{:?}", style);
            prop_assert_eq!(parsed.samples.len(), curve.samples.len());
            let differs = parsed.samples.iter().zip(&curve.samples).position(|(a, b)| a != b);
            prop_assert!(differs.is_none(), "{:?} sample {:?}: {:?} vs {:?}", style, differs,
                differs.map(|i| parsed.samples[i]), differs.map(|i| curve.samples[i]));
        }
    }
}

#[test]
fn r12_file_styles_are_what_labs_write() {
    let c = cube(&CubeParams { labels: labels(1), ..CubeParams::new(150.0, 30, 1) });
    let gbk = to_file(&c, FileStyle::GbkChinese);
    assert!(std::str::from_utf8(&gbk).is_err(), "GBK, not UTF-8");
    let parsed = parse(&gbk).unwrap();
    assert_eq!(parsed.header.encoding, Some(crate::curve::TextEncoding::Gb18030));
    assert_eq!(parsed.header.units, vec!["s", "kN", "mm"]);
    let en = to_file(&c, FileStyle::Utf8English);
    let text = std::str::from_utf8(&en).unwrap();
    assert!(text.contains("Time [ms]\tForce [N]\tDisplacement [mm]\n"));
    assert_eq!(parse(&en).unwrap().header.units, vec!["ms", "N", "mm"]);
}
