//! R12 end to end inside the core: what a simulated machine writes, read
//! back by the parser, recomputed by the standards' functions, gives back
//! the figures the simulation was made with — for every file style.

use custody_core::curve::sim::{self, CubeFailure, CubeParams, RebarGrade, RebarParams};
use custody_core::curve::{FileStyle, parse, to_file};
use custody_core::results::concrete::{self, ConcreteGrade, ReleaseThresholds, ReleaseVerdict};
use custody_core::results::rebar;

#[test]
fn r12_a_simulated_cube_file_recomputes_to_its_strength_and_rate() {
    for (seed, style) in [(1, FileStyle::GbkChinese), (2, FileStyle::Utf8English), (3, FileStyle::GbkChinese)]
    {
        let p = CubeParams::new(150.0, 30, seed);
        let curve = parse(&to_file(&sim::cube(&p), style)).unwrap();
        let f = concrete::cube_strength(&curve).unwrap();
        assert!(
            (f.strength_mpa.raw - p.strength_mpa).abs() < 0.02 * p.strength_mpa,
            "{f:?} vs {}",
            p.strength_mpa
        );
        let rate = concrete::loading_rate(&curve, ConcreteGrade(30)).unwrap();
        assert!((rate.mpa_per_s - p.rate_mpa_s).abs() < 0.1, "{rate:?}");
        assert!(rate.in_band, "{rate:?}");
        let release = concrete::release_check(&curve, &ReleaseThresholds::default()).unwrap();
        assert_ne!(release.verdict, ReleaseVerdict::SuspectedManualRelease, "seed {seed}");
    }
}

#[test]
fn r12_a_hand_released_valve_is_told_from_a_crushed_cube() {
    let mut p = CubeParams::new(150.0, 30, 7);
    p.failure = CubeFailure::ManualRelease;
    let curve = parse(&to_file(&sim::cube(&p), FileStyle::Utf8English)).unwrap();
    let release = concrete::release_check(&curve, &ReleaseThresholds::default()).unwrap();
    assert_eq!(release.verdict, ReleaseVerdict::SuspectedManualRelease, "{release:?}");
}

#[test]
fn r12_a_simulated_bar_file_recomputes_to_its_yield_and_tensile_strength() {
    for seed in 1..=4 {
        let p = RebarParams::new(20.0, RebarGrade::Hrb400E, seed);
        let curve = parse(&to_file(&sim::rebar(&p), FileStyle::Utf8English)).unwrap();
        let t = rebar::tensile(&curve).unwrap();
        assert!((t.rm_mpa.raw - p.rm_mpa).abs() < 0.01 * p.rm_mpa, "Rm {:?} vs {}", t.rm_mpa, p.rm_mpa);
        let rel = t.rel_mpa.value().expect("a plateau gives ReL");
        assert!((rel.raw - p.yield_mpa).abs() < 0.02 * p.yield_mpa, "ReL {rel:?} vs {}", p.yield_mpa);
        let agt = t.agt_percent.value().expect("an extensometer gives Agt");
        assert!((agt.raw - p.agt * 100.0).abs() < 1.0, "Agt {agt:?} vs {}", p.agt * 100.0);
    }
}
