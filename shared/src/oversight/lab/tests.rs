//! Tests of the lab signals (R17): for every rule a crafted history where it
//! fires, one where it does not, and its edges; odd data; never a panic.
//!
//! Honest labs here test C30 concrete (fcu,k = 30 MPa, pass line 30 MPa) at
//! about 38 ± 4 MPa, three 150 mm cubes a group, forces captured to 0.01 kN.

use super::stats::binomial_cdf;
use super::*;
use crate::verify::{Lang, Rule};
use proptest::prelude::*;

const PARAM: &str = "concrete_cube_strength";
/// A 150 mm cube's loaded area, mm².
const AREA: f64 = 22_500.0;
const DAY_MS: i64 = 86_400_000;

/// SplitMix64: small, deterministic, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Normal, by Box–Muller.
    fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

fn round_to(v: f64, step: f64) -> f64 {
    (v / step).round() * step
}

/// A C30 result with a given group value and no readings.
fn result(lab: &str, i: usize, value: f64) -> LabResult {
    LabResult {
        id: format!("{lab}-{i:04}"),
        lab: lab.to_owned(),
        project: format!("P{}", i % 7),
        parameter: PARAM.to_owned(),
        design_value: 30.0,
        pass_line: 30.0,
        value,
        readings: Vec::new(),
        tested_ms: 1_767_225_600_000 + i as i64 * DAY_MS / 4,
    }
}

/// Results with these group values, in this time order.
fn results(lab: &str, values: &[f64]) -> Vec<LabResult> {
    values.iter().enumerate().map(|(i, &v)| result(lab, i, v)).collect()
}

/// An honest lab: groups around `mean ± sd`, each of three cubes (the
/// cubes of a group scatter by 1.2 MPa), forces to 0.01 kN, group value the
/// mean of the cubes to 0.1 MPa.
fn honest(lab: &str, n: usize, mean: f64, sd: f64, seed: u64) -> Vec<LabResult> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            let strength = rng.normal(mean, sd);
            let readings: Vec<f64> =
                (0..3).map(|_| round_to(rng.normal(strength, 1.2) * AREA / 1000.0, 0.01)).collect();
            let value = round_to(readings.iter().sum::<f64>() / 3.0 * 1000.0 / AREA, 0.1);
            LabResult { readings, ..result(lab, i, value) }
        })
        .collect()
}

/// The rest of the city: five honest labs, 100 results each.
fn city() -> Vec<LabResult> {
    ["B", "C", "D", "E", "F"]
        .iter()
        .enumerate()
        .flat_map(|(k, lab)| honest(lab, 100, 38.0, 4.0, 100 + k as u64))
        .collect()
}

fn codes(warnings: &[LabWarning]) -> Vec<(LabSignal, Figure)> {
    warnings.iter().map(|w| (w.signal, w.figure)).collect()
}

// ---------------------------------------------------------------- pass_rate_above_city

/// A city of 1,000 results from two other labs, 80 of them failing (8 %).
fn city_failing_8_percent() -> Vec<LabResult> {
    (0..1000)
        .map(|i| result(if i % 2 == 0 { "B" } else { "C" }, i, if i % 25 < 2 { 27.0 } else { 35.0 }))
        .collect()
}

/// A lab with `n` results of which `failures` fail.
fn lab_with_failures(n: usize, failures: usize) -> Vec<LabResult> {
    (0..n).map(|i| result("A", i, if i < failures { 28.0 } else { 36.0 })).collect()
}

#[test]
fn r17_pass_rate_above_city_fires_when_a_lab_never_fails_where_the_city_does() {
    let t = LabThresholds::default();
    let w = pass_rate_above_city("A", &lab_with_failures(100, 0), &city_failing_8_percent(), &t);
    assert_eq!(w.len(), 1, "{w:?}");
    let w = &w[0];
    assert_eq!((w.signal, w.figure), (LabSignal::PassRateAboveCity, Figure::FailureTailProbability));
    assert_eq!(w.parameter.as_deref(), Some(PARAM));
    // 0 failures in 100 at 8 %: 0.92^100.
    assert!((w.measured - 0.92f64.powi(100)).abs() < 1e-12, "{}", w.measured);
    assert_eq!(w.threshold, 0.001);
    assert_eq!((w.n, w.evidence.len()), (100, 100));
}

#[test]
fn r17_pass_rate_above_city_quiet_for_an_honest_failure_rate() {
    let t = LabThresholds::default();
    // 6 failures in 100 where the city fails 8 %: P(X ≤ 6) ≈ 0.31.
    assert!(pass_rate_above_city("A", &lab_with_failures(100, 6), &city_failing_8_percent(), &t).is_empty());
    // Honest random labs: the same concrete everywhere.
    assert!(pass_rate_above_city("A", &honest("A", 200, 38.0, 4.0, 7), &city(), &t).is_empty());
}

#[test]
fn r17_pass_rate_above_city_edges_min_n_alpha_and_direction() {
    let city = city_failing_8_percent();
    let t = LabThresholds { pass_rate_alpha: 0.1, ..LabThresholds::default() };
    // 29 passes: 0.92^29 ≈ 0.089 < 0.1, but below the minimum of 30.
    assert!(pass_rate_above_city("A", &lab_with_failures(29, 0), &city, &t).is_empty());
    // 30 passes: 0.92^30 ≈ 0.082 fires.
    assert_eq!(pass_rate_above_city("A", &lab_with_failures(30, 0), &city, &t).len(), 1);
    // Exactly at alpha: the test is strict.
    let p = binomial_cdf(0, 30, 0.08);
    let at = LabThresholds { pass_rate_alpha: p, ..t.clone() };
    assert!(pass_rate_above_city("A", &lab_with_failures(30, 0), &city, &at).is_empty());
    // One-sided: the lab's rate equal to the city's never fires, even at a
    // permissive alpha where P(X ≤ 8 | 100, 8 %) ≈ 0.59 would.
    let lax = LabThresholds { pass_rate_alpha: 0.99, ..t.clone() };
    assert!(pass_rate_above_city("A", &lab_with_failures(100, 8), &city, &lax).is_empty());
    assert_eq!(pass_rate_above_city("A", &lab_with_failures(100, 7), &city, &lax).len(), 1);
    // A city with no failures gives no reference to beat.
    let flawless: Vec<LabResult> = (0..500).map(|i| result("B", i, 35.0)).collect();
    assert!(pass_rate_above_city("A", &lab_with_failures(100, 0), &flawless, &lax).is_empty());
    // Fewer than city_min_n other results: no reference.
    assert!(pass_rate_above_city("A", &lab_with_failures(100, 0), &city[..99], &t).is_empty());
}

#[test]
fn r17_pass_rate_above_city_ignores_the_labs_own_results_in_the_city() {
    let t = LabThresholds::default();
    let lab = lab_with_failures(100, 0);
    let mut with_own = city_failing_8_percent();
    with_own.extend(lab.iter().cloned());
    assert_eq!(
        pass_rate_above_city("A", &lab, &with_own, &t),
        pass_rate_above_city("A", &lab, &city_failing_8_percent(), &t)
    );
}

// ---------------------------------------------------------------- clustered_above_pass_line

/// `n` results of which `in_band` lie in [30, 31.5), the rest well above.
fn clustered(n: usize, in_band: usize) -> Vec<LabResult> {
    let values: Vec<f64> = (0..n)
        .map(|i| if i < in_band { 30.0 + (i % 15) as f64 * 0.1 } else { 33.0 + (i % 40) as f64 * 0.3 })
        .collect();
    results("A", &values)
}

#[test]
fn r17_clustered_above_pass_line_fires_when_results_pile_up_just_above_it() {
    let w = clustered_above_pass_line("A", &clustered(40, 12), &LabThresholds::default());
    assert_eq!(w.len(), 1);
    assert_eq!((w[0].signal, w[0].figure), (LabSignal::ClusteredAbovePassLine, Figure::ShareInBand));
    assert!((w[0].measured - 0.3).abs() < 1e-12);
    assert_eq!(w[0].evidence, (0..12).map(|i| format!("A-{i:04}")).collect::<Vec<_>>());
}

#[test]
fn r17_clustered_above_pass_line_quiet_for_an_honest_lab() {
    assert!(
        clustered_above_pass_line("A", &honest("A", 200, 38.0, 4.0, 11), &LabThresholds::default())
            .is_empty()
    );
}

#[test]
fn r17_clustered_above_pass_line_edges_share_band_and_min_n() {
    let t = LabThresholds::default();
    // Exactly 20 % (6 of 30) fires; 5 of 30 does not.
    assert_eq!(clustered_above_pass_line("A", &clustered(30, 6), &t).len(), 1);
    assert!(clustered_above_pass_line("A", &clustered(30, 5), &t).is_empty());
    // 29 results, half in the band: below the minimum.
    assert!(clustered_above_pass_line("A", &clustered(29, 15), &t).is_empty());
    // The band is [30.0, 31.5): 30.0 is in, 31.5 (= 30 × 1.05) and 29.9 are out.
    let mut edge = clustered(30, 0);
    for (i, v) in [30.0, 31.5, 31.5, 31.5, 31.5, 31.5, 29.9].into_iter().enumerate() {
        edge[i].value = v;
    }
    assert!(clustered_above_pass_line("A", &edge, &t).is_empty());
    for r in edge.iter_mut().take(6) {
        r.value = 31.4;
    }
    assert_eq!(clustered_above_pass_line("A", &edge, &t).len(), 1);
    // Results whose pass line is not positive are skipped.
    for r in &mut edge {
        r.pass_line = 0.0;
    }
    assert!(clustered_above_pass_line("A", &edge, &t).is_empty());
}

// ---------------------------------------------------------------- at_design_value

/// `n` honest-looking results of which `at` equal the design value.
fn with_design_values(n: usize, at: usize) -> Vec<LabResult> {
    let mut lab = honest("A", n, 38.0, 4.0, 21);
    for r in lab.iter_mut().take(at) {
        r.value = 30.0;
    }
    lab
}

#[test]
fn r17_at_design_value_fires_when_results_are_the_design_value() {
    // The New York case: half the reports say exactly 30.0 MPa.
    let w = at_design_value("A", &with_design_values(40, 20), &LabThresholds::default());
    assert_eq!(w.len(), 1);
    assert_eq!((w[0].signal, w[0].figure), (LabSignal::AtDesignValue, Figure::ShareAtDesign));
    assert!((w[0].measured - 0.5).abs() < 1e-12);
    assert_eq!(w[0].evidence.len(), 20);
}

#[test]
fn r17_at_design_value_quiet_for_an_honest_lab() {
    assert!(at_design_value("A", &honest("A", 300, 38.0, 4.0, 5), &LabThresholds::default()).is_empty());
}

#[test]
fn r17_at_design_value_edges_tolerance_share_and_min_n() {
    let t = LabThresholds::default();
    // 3 of 30 (10 %) at the design value within ±0.05 fires.
    let mut lab = with_design_values(30, 0);
    for (r, v) in lab.iter_mut().zip([30.05, 29.95, 30.0]) {
        r.value = v;
    }
    let w = at_design_value("A", &lab, &t);
    assert_eq!(w.len(), 1, "{lab:?}");
    assert_eq!(w[0].evidence, vec!["A-0000", "A-0001", "A-0002"]);
    // 30.06 is outside the tolerance: 2 of 30.
    lab[0].value = 30.06;
    assert!(at_design_value("A", &lab, &t).is_empty());
    // 29 results all at the design value: below the minimum.
    assert!(at_design_value("A", &with_design_values(29, 29), &t).is_empty());
}

// ---------------------------------------------------------------- too_uniform

#[test]
fn r17_too_uniform_fires_on_a_low_coefficient_of_variation() {
    let t = LabThresholds::default();
    let lab = honest("A", 30, 38.0, 0.8, 31);
    // No city: only the coefficient of variation can fire.
    let w = too_uniform("A", &lab, &[], &t);
    assert_eq!(codes(&w), vec![(LabSignal::TooUniform, Figure::CoefficientOfVariation)]);
    assert!(w[0].measured < 0.04 && w[0].measured > 0.01, "{}", w[0].measured);
    assert_eq!((w[0].n, w[0].evidence.len(), w[0].design_value), (30, 30, Some(30.0)));
    // With a city both tests fire, each reported.
    let w = too_uniform("A", &lab, &city(), &t);
    assert_eq!(
        codes(&w),
        vec![
            (LabSignal::TooUniform, Figure::CoefficientOfVariation),
            (LabSignal::TooUniform, Figure::RunWithinOneSigma)
        ]
    );
    assert_eq!(w[1].measured, 30.0);
}

/// Values far from the city's mean around `run` values within it.
fn with_run(run: usize) -> Vec<f64> {
    let wide = [26.0, 50.0, 27.0, 49.0, 25.0];
    let mut values: Vec<f64> = wide.to_vec();
    values.extend((0..run).map(|i| 36.0 + (i % 5) as f64));
    values.extend(wide);
    values.extend(wide);
    values
}

#[test]
fn r17_too_uniform_fires_on_a_run_of_15_within_one_sigma() {
    let t = LabThresholds::default();
    let mut lab = results("A", &with_run(15));
    lab.reverse(); // given out of order: the rule orders by test time
    let w = too_uniform("A", &lab, &city(), &t);
    assert_eq!(codes(&w), vec![(LabSignal::TooUniform, Figure::RunWithinOneSigma)], "{w:?}");
    assert_eq!((w[0].measured, w[0].threshold), (15.0, 15.0));
    assert_eq!(w[0].evidence, (5..20).map(|i| format!("A-{i:04}")).collect::<Vec<_>>());
}

#[test]
fn r17_too_uniform_quiet_for_an_honest_lab() {
    let t = LabThresholds::default();
    // Seed 43's honest lab does hold a run of 15 within ±1σ: the run rule's
    // false-alarm rate (about 0.001 × n), measured in the next test.
    for seed in [40, 41, 42, 44] {
        let lab = honest("A", 40, 38.0, 4.0, seed);
        assert!(too_uniform("A", &lab, &city(), &t).is_empty(), "seed {seed}");
    }
}

#[test]
fn r17_too_uniform_run_rule_false_alarm_rate_is_as_documented() {
    // LabThresholds::uniform_run: about 0.001 × n for honest labs, so about
    // 6 % of honest labs with 60 results in a period.
    let t = LabThresholds::default();
    let city = city();
    let labs = 400;
    let fired = (0..labs)
        .filter(|&k| !too_uniform("A", &honest("A", 60, 38.0, 4.0, 10_000 + k), &city, &t).is_empty())
        .count();
    let rate = fired as f64 / labs as f64;
    assert!((0.02..=0.10).contains(&rate), "{fired} of {labs}");
}

#[test]
fn r17_too_uniform_edges_run_length_cv_and_min_n() {
    let t = LabThresholds::default();
    // A run of 14 does not fire.
    assert!(too_uniform("A", &results("A", &with_run(14)), &city(), &t).is_empty());
    // No run rule without a city reference of city_min_n results.
    assert!(too_uniform("A", &results("A", &with_run(20)), &city()[..99], &t).is_empty());
    // The coefficient of variation exactly at the threshold does not fire.
    let lab = honest("A", 30, 38.0, 0.8, 31);
    let cv = too_uniform("A", &lab, &[], &t)[0].measured;
    assert!(too_uniform("A", &lab, &[], &LabThresholds { uniform_cv: cv, ..t.clone() }).is_empty());
    // 19 results: below the minimum for the coefficient of variation.
    assert!(too_uniform("A", &lab[..19], &[], &t).is_empty());
}

#[test]
fn r17_too_uniform_groups_by_design_value() {
    let t = LabThresholds::default();
    // Tight C30 and tight C40 results: each grade is judged on its own.
    let mut lab = honest("A", 25, 38.0, 0.8, 51);
    lab.extend(honest("A", 25, 48.0, 0.9, 52).into_iter().map(|r| LabResult {
        id: format!("{}-c40", r.id),
        design_value: 40.0,
        pass_line: 40.0,
        ..r
    }));
    let w = too_uniform("A", &lab, &[], &t);
    let grades: Vec<Option<f64>> = w.iter().map(|w| w.design_value).collect();
    assert_eq!(grades, vec![Some(30.0), Some(40.0)]);
    // Pooled, the two grades would look varied; apart, they do not.
    assert!(w.iter().all(|w| w.n == 25));
}

// ---------------------------------------------------------------- last_digit_bias

#[test]
fn r17_last_digit_is_taken_at_the_capture_resolution() {
    assert_eq!(last_digit(452.37, 0.01), Some(7));
    assert_eq!(last_digit(452.4, 0.01), Some(0));
    assert_eq!(last_digit(452.4, 0.1), Some(4));
    assert_eq!(last_digit(452.37, 0.1), Some(4)); // rounds to 452.4
    assert_eq!(last_digit(-12.35, 0.01), Some(5));
    assert_eq!(last_digit(0.0, 0.01), Some(0));
    assert_eq!(last_digit(855.09, 0.01), Some(9)); // 85508.99999… steps round to 85509
    assert_eq!(last_digit(f64::NAN, 0.01), None);
    assert_eq!(last_digit(f64::INFINITY, 0.01), None);
    assert_eq!(last_digit(1e300, 0.01), None);
    assert_eq!(last_digit(1.0, 0.0), None);
    assert_eq!(last_digit(1.0, f64::NAN), None);
}

/// `n` readings (three per result) typed by a person: to 0.05 kN, so they
/// end in 0 or 5.
fn typed_readings(n: usize) -> Vec<LabResult> {
    let mut lab = honest("A", n.div_ceil(3), 38.0, 4.0, 61);
    let mut left = n;
    for r in &mut lab {
        let keep = left.min(3);
        r.readings.truncate(keep);
        left -= keep;
        for x in &mut r.readings {
            *x = round_to(*x, 0.05);
        }
    }
    lab
}

#[test]
fn r17_last_digit_bias_fires_when_readings_end_in_0_and_5() {
    let w = last_digit_bias("A", &typed_readings(150), &LabThresholds::default());
    assert_eq!(w.len(), 1);
    assert_eq!((w[0].signal, w[0].figure), (LabSignal::LastDigitBias, Figure::DigitUniformityP));
    assert!(w[0].measured < 1e-20, "{}", w[0].measured);
    assert_eq!((w[0].n, w[0].evidence.len()), (150, 50));
}

#[test]
fn r17_last_digit_bias_quiet_for_machine_readings() {
    let t = LabThresholds::default();
    for seed in 0..5 {
        let lab = honest("A", 100, 38.0, 4.0, 70 + seed);
        assert!(last_digit_bias("A", &lab, &t).is_empty(), "seed {seed}");
    }
}

#[test]
fn r17_last_digit_bias_edges_min_count_alpha_and_resolution() {
    let t = LabThresholds::default();
    // 99 readings: below the minimum; 100 fire.
    assert!(last_digit_bias("A", &typed_readings(99), &t).is_empty());
    let w = last_digit_bias("A", &typed_readings(100), &t);
    assert_eq!(w.len(), 1);
    // Exactly at alpha: strict.
    let at = LabThresholds { digit_alpha: w[0].measured, ..t.clone() };
    assert!(last_digit_bias("A", &typed_readings(100), &at).is_empty());
    // Non-finite readings are skipped, not counted.
    let mut odd = typed_readings(103);
    odd[0].readings.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY]);
    odd[1].readings.clear();
    let w = last_digit_bias("A", &odd, &t);
    assert_eq!(w.len(), 1);
    assert_eq!((w[0].n, w[0].evidence.len()), (100, 34));
    // Readings captured to 0.1 kN all end in 0 at 0.01: configure the real
    // resolution and honest readings are quiet again.
    let mut coarse = honest("A", 100, 38.0, 4.0, 81);
    for x in coarse.iter_mut().flat_map(|r| r.readings.iter_mut()) {
        *x = round_to(*x, 0.1);
    }
    assert_eq!(last_digit_bias("A", &coarse, &t).len(), 1);
    let at_01 = LabThresholds { digit_resolution: 0.1, ..t.clone() };
    assert!(last_digit_bias("A", &coarse, &at_01).is_empty());
}

// ---------------------------------------------------------------- near_identical_curves

/// A cube loaded at about 0.6 MPa/s to `peak` kN, sampled at `hz`: a seating
/// toe, a ramp that bends over before the peak, failure over 1–4 s, and
/// load-cell noise of 0.2 % of the peak.
fn cube_curve(id: &str, peak: f64, hz: f64, rng: &mut Rng) -> Curve {
    let rate = 13.5 * (0.95 + 0.1 * rng.uniform()); // kN/s
    let t_peak = peak / rate;
    let bend = 0.05 + 0.1 * rng.uniform();
    let toe = 1.0 + 2.0 * rng.uniform();
    let fail = 1.0 + 3.0 * rng.uniform();
    let mut points = Vec::new();
    let mut t = 0.0;
    while t < t_peak + fail {
        let x = (t / t_peak).min(1.0);
        let ramp = peak * (x - bend * x.powi(6)) / (1.0 - bend);
        let seat = if t < toe { t / toe } else { 1.0 };
        let after = if t > t_peak { 1.0 - 0.5 * (t - t_peak) / fail } else { 1.0 };
        points.push((t, ramp * seat * after + rng.normal(0.0, 0.002 * peak)));
        t += 1.0 / hz;
    }
    Curve { id: id.to_owned(), lab: "A".to_owned(), points }
}

fn copy(c: &Curve, id: &str, time: f64, force: f64) -> Curve {
    Curve {
        id: id.to_owned(),
        lab: c.lab.clone(),
        points: c.points.iter().map(|&(t, f)| (t * time, f * force)).collect(),
    }
}

#[test]
fn r17_near_identical_curves_fires_on_a_reused_curve() {
    let t = LabThresholds::default();
    let mut rng = Rng(91);
    let original = cube_curve("S-1", 855.0, 20.0, &mut rng);
    let mut curves = vec![original.clone(), cube_curve("S-2", 856.0, 20.0, &mut rng)];
    curves.push(copy(&original, "S-3", 1.0, 1.0));
    // Stretched in time, scaled in force by 0.3 %, a little noise added.
    let mut disguised = copy(&original, "S-4", 1.1, 1.003);
    for p in &mut disguised.points {
        p.1 += rng.normal(0.0, 0.0005 * 855.0);
    }
    curves.push(disguised);
    let w = near_identical_curves("A", &curves, &t);
    let pairs: Vec<Vec<String>> = w.iter().map(|w| w.evidence.clone()).collect();
    assert_eq!(pairs, vec![vec!["S-1", "S-3"], vec!["S-1", "S-4"], vec!["S-3", "S-4"]]);
    assert_eq!(w[0].measured, 0.0);
    assert!(w.iter().all(|w| w.measured < 0.003 && w.n == 4 && w.parameter.is_none()));
    assert_eq!((w[0].signal, w[0].figure), (LabSignal::NearIdenticalCurves, Figure::MaxCurveDifference));
}

#[test]
fn r17_near_identical_curves_quiet_for_real_specimens_of_equal_strength() {
    let t = LabThresholds::default();
    let mut rng = Rng(92);
    // 40 honest cubes whose peaks all lie within 0.4 %: every pair compared.
    let curves: Vec<Curve> =
        (0..40).map(|i| cube_curve(&format!("S-{i}"), 855.0 + 0.08 * i as f64, 20.0, &mut rng)).collect();
    assert!(near_identical_curves("A", &curves, &t).is_empty());
}

#[test]
fn r17_near_identical_curves_edges_peak_ids_labs_cap_and_odd_points() {
    let t = LabThresholds::default();
    let original = cube_curve("S-1", 855.0, 20.0, &mut Rng(93));
    // Peaks 0.4 % apart fire, 0.6 % apart do not.
    assert_eq!(
        near_identical_curves("A", &[original.clone(), copy(&original, "S-2", 1.0, 1.004)], &t).len(),
        1
    );
    assert!(
        near_identical_curves("A", &[original.clone(), copy(&original, "S-2", 1.0, 1.006)], &t).is_empty()
    );
    // The same curve twice is one specimen, not two.
    assert!(near_identical_curves("A", &[original.clone(), original.clone()], &t).is_empty());
    // Another lab's curve is not this lab's.
    let other = Curve { lab: "B".to_owned(), ..copy(&original, "S-2", 1.0, 1.0) };
    assert!(near_identical_curves("A", &[original.clone(), other], &t).is_empty());
    // The cap: with room for two curves, the copy given third is not compared.
    let mut rng = Rng(94);
    let three =
        [original.clone(), cube_curve("S-2", 700.0, 20.0, &mut rng), copy(&original, "S-3", 1.0, 1.0)];
    assert_eq!(near_identical_curves("A", &three, &t).len(), 1);
    assert!(near_identical_curves("A", &three, &LabThresholds { curve_cap: 2, ..t.clone() }).is_empty());
    // Points out of order, and odd points, do not hide a copy.
    let mut shuffled = copy(&original, "S-4", 1.0, 1.0);
    shuffled.points.reverse();
    shuffled.points.extend([(f64::NAN, 1.0), (3.0, f64::INFINITY), (f64::NEG_INFINITY, 0.0)]);
    assert_eq!(near_identical_curves("A", &[original.clone(), shuffled], &t).len(), 1);
    // Unusable curves are skipped.
    let bad = |id: &str, points: Vec<(f64, f64)>| Curve { id: id.to_owned(), lab: "A".to_owned(), points };
    let odd = [
        bad("empty", vec![]),
        bad("one", vec![(0.0, 5.0)]),
        bad("instant", vec![(1.0, 5.0), (1.0, 5.0)]),
        bad("zero", vec![(0.0, 0.0), (1.0, 0.0)]),
        bad("zero2", vec![(0.0, 0.0), (1.0, 0.0)]),
        bad("nan", vec![(f64::NAN, f64::NAN), (f64::NAN, f64::NAN)]),
        bad("huge", vec![(-f64::MAX, f64::MAX), (f64::MAX, -f64::MAX)]),
        bad("huge2", vec![(0.0, -f64::MAX), (1.0, f64::MAX)]),
    ];
    assert!(near_identical_curves("A", &odd, &t).is_empty());
}

#[test]
fn r17_near_identical_curves_is_bounded_by_the_cap() {
    let t = LabThresholds::default();
    let mut rng = Rng(95);
    let curves: Vec<Curve> = (0..2_100)
        .map(|i| cube_curve(&format!("S-{i}"), rng.normal(855.0, 85.0), 2.0, &mut Rng(1_000 + i)))
        .collect();
    let mut copied = curves.clone();
    copied.push(copy(&curves[0], "late-copy", 1.0, 1.0));
    let w = near_identical_curves("A", &copied, &t);
    // Only the first 2,000 are compared: the late copy is not seen.
    assert!(w.iter().all(|w| w.n == 2_000 && !w.evidence.contains(&"late-copy".to_owned())), "{w:?}");
}

// ---------------------------------------------------------------- lab_signals

/// A lab that does everything wrong: every group passes, most at the design
/// value or just above it, typed readings, a reused curve.
fn fraudulent_lab() -> (Vec<LabResult>, Vec<Curve>) {
    let mut lab = Vec::new();
    for i in 0..400 {
        let value = if i % 4 == 0 { 30.0 } else { 30.5 + (i % 7) as f64 * 0.1 };
        let reading = round_to(value * AREA / 1000.0 + (i % 4) as f64 * 0.35, 0.05);
        lab.push(LabResult { readings: vec![reading; 3], ..result("A", i, value) });
    }
    let original = cube_curve("S-1", 690.0, 20.0, &mut Rng(99));
    (lab, vec![original.clone(), copy(&original, "S-2", 1.05, 1.001)])
}

#[test]
fn r17_lab_signals_runs_every_rule() {
    let (lab, curves) = fraudulent_lab();
    let w = lab_signals("A", &lab, &city(), &curves, &LabThresholds::default());
    let mut fired: Vec<LabSignal> = w.iter().map(|w| w.signal).collect();
    fired.dedup();
    assert_eq!(fired, LabSignal::RESULTS.to_vec(), "{w:#?}");
    assert!(w.iter().all(|w| w.lab == "A" && w.requirement() == Rule::R17 && !w.evidence.is_empty()));
}

#[test]
fn r17_lab_signals_quiet_for_an_honest_lab() {
    let mut rng = Rng(101);
    let curves: Vec<Curve> =
        (0..50).map(|i| cube_curve(&format!("S-{i}"), rng.normal(855.0, 40.0), 20.0, &mut rng)).collect();
    let lab = honest("A", 150, 38.0, 4.0, 102);
    let w = lab_signals("A", &lab, &city(), &curves, &LabThresholds::default());
    assert!(w.is_empty(), "{w:#?}");
}

#[test]
fn r17_lab_signals_skip_nan_and_infinite_numbers() {
    let (mut lab, mut curves) = fraudulent_lab();
    let clean = lab_signals("A", &lab, &city(), &curves, &LabThresholds::default());
    let odd = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
    for (i, &x) in odd.iter().enumerate() {
        lab.push(LabResult { readings: vec![], ..result("A", 500 + i, x) });
        lab.push(LabResult { pass_line: x, readings: vec![], ..result("A", 510 + i, 31.0) });
        lab.push(LabResult { design_value: x, readings: vec![], ..result("A", 520 + i, 31.0) });
        lab.push(LabResult { readings: vec![x, x], ..result("A", 530 + i, f64::NAN) });
        curves.push(Curve { id: format!("odd-{i}"), lab: "A".to_owned(), points: vec![(x, x), (0.0, x)] });
    }
    let mut city = city();
    city.push(result("B", 999, f64::NAN));
    city.push(LabResult { pass_line: f64::INFINITY, ..result("B", 998, 31.0) });
    let messy = lab_signals("A", &lab, &city, &curves, &LabThresholds::default());
    // Same warnings on the same evidence (the odd results counted nowhere).
    assert_eq!(codes(&messy), codes(&clean));
    for (m, c) in messy.iter().zip(&clean) {
        assert_eq!((&m.evidence, m.n), (&c.evidence, c.n), "{:?}", m.signal);
    }
}

#[test]
fn r17_lab_signals_empty_input_gives_no_warnings() {
    assert!(lab_signals("A", &[], &[], &[], &LabThresholds::default()).is_empty());
}

// ---------------------------------------------------------------- texts, codes, thresholds

#[test]
fn r17_every_signal_has_a_stable_code_and_both_languages() {
    for s in LabSignal::ALL {
        assert_eq!(serde_json::to_value(s).unwrap(), serde_json::Value::String(s.code().to_owned()));
        assert_eq!(s.requirement(), Rule::R17);
        for lang in [Lang::ZhCn, Lang::En] {
            assert!(!s.title(lang).is_empty() && !s.explain(lang).is_empty());
        }
        assert_ne!(s.title(Lang::ZhCn), s.title(Lang::En));
        assert_ne!(s.explain(Lang::ZhCn), s.explain(Lang::En));
    }
    let codes: Vec<&str> = LabSignal::ALL.iter().map(|s| s.code()).collect();
    assert_eq!(
        codes,
        [
            "pass_rate_above_city",
            "clustered_above_pass_line",
            "at_design_value",
            "too_uniform",
            "last_digit_bias",
            "near_identical_curves",
            "equipment_out_of_calibration",
            "equipment_calibration_expiring",
            "tested_before_age",
            "staff_not_matching",
            "results_edited",
            "reports_replaced"
        ]
    );
}

#[test]
fn r17_warning_message_and_serde() {
    let (lab, curves) = fraudulent_lab();
    let w = lab_signals("A", &lab, &city(), &curves, &LabThresholds::default());
    let design = w.iter().find(|w| w.signal == LabSignal::AtDesignValue).unwrap();
    assert_eq!(
        design.message(Lang::En),
        "Results equal to the design value [concrete_cube_strength]: share at the design value 0.25 ≥ 0.1 (n = 400)"
    );
    assert!(
        design.message(Lang::ZhCn).starts_with("结果等于设计值 [concrete_cube_strength]：等于设计值的比例")
    );
    let json = serde_json::to_string(&w).unwrap();
    assert!(json.contains(r#""signal":"at_design_value","figure":"share_at_design""#), "{json}");
    // serde_json reads floats to within an ulp or so: compare the rest exactly.
    let back: Vec<LabWarning> = serde_json::from_str(&json).unwrap();
    assert_eq!(back.len(), w.len());
    for (b, w) in back.iter().zip(&w) {
        assert_eq!(
            (b.signal, b.figure, &b.parameter, b.n, &b.evidence),
            (w.signal, w.figure, &w.parameter, w.n, &w.evidence)
        );
        assert!((b.measured - w.measured).abs() <= 1e-12 * w.measured.abs().max(1e-300));
    }
}

#[test]
fn r17_thresholds_default_passes_check_and_partial_config_fills_in() {
    assert_eq!(LabThresholds::default().check(), Ok(()));
    let t: LabThresholds = serde_json::from_str(r#"{"pass_rate_alpha": 0.01}"#).unwrap();
    assert_eq!(t, LabThresholds { pass_rate_alpha: 0.01, ..LabThresholds::default() });
}

#[test]
fn r17_thresholds_check_rejects_out_of_range_values() {
    let d = LabThresholds::default;
    let cases: Vec<(LabThresholds, ThresholdError)> = vec![
        (
            LabThresholds { pass_rate_alpha: 1.0, ..d() },
            ThresholdError::NotProbability { field: "pass_rate_alpha", value: 1.0 },
        ),
        (
            LabThresholds { digit_alpha: 0.0, ..d() },
            ThresholdError::NotProbability { field: "digit_alpha", value: 0.0 },
        ),
        (
            LabThresholds { cluster_share: 1.5, ..d() },
            ThresholdError::NotShare { field: "cluster_share", value: 1.5 },
        ),
        (
            LabThresholds { digit_resolution: -0.01, ..d() },
            ThresholdError::NotPositive { field: "digit_resolution", value: -0.01 },
        ),
        (
            LabThresholds { design_tolerance: f64::INFINITY, ..d() },
            ThresholdError::NotPositive { field: "design_tolerance", value: f64::INFINITY },
        ),
        (
            LabThresholds { digit_min_count: 49, ..d() },
            ThresholdError::TooFew { field: "digit_min_count", value: 49, min: 50 },
        ),
        (
            LabThresholds { uniform_run: 4, ..d() },
            ThresholdError::TooFew { field: "uniform_run", value: 4, min: 5 },
        ),
        (
            LabThresholds { curve_cap: 10_001, ..d() },
            ThresholdError::TooMany { field: "curve_cap", value: 10_001, max: MAX_CURVE_CAP },
        ),
    ];
    for (t, want) in cases {
        assert_eq!(t.check(), Err(want.clone()));
        assert!(want.message(Lang::ZhCn).contains("阈值"));
        assert!(want.message(Lang::En).starts_with("threshold "));
    }
    // NaN is never in range.
    let nan = LabThresholds { uniform_cv: f64::NAN, ..d() };
    assert!(matches!(nan.check(), Err(ThresholdError::NotProbability { field: "uniform_cv", .. })));
    assert_eq!(
        ThresholdError::TooFew { field: "city_min_n", value: 3, min: 30 }.to_string(),
        "threshold city_min_n = 3 is too small: at least 30, or the statistic means nothing"
    );
}

// ---------------------------------------------------------------- never a panic

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => 25.0..45.0f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.0),
        1 => any::<f64>(),
    ]
}

fn any_result() -> impl Strategy<Value = LabResult> {
    (
        0..4usize,
        0..3usize,
        prop_oneof![Just(30.0), any_f64()],
        prop_oneof![Just(30.0), any_f64()],
        any_f64(),
        prop::collection::vec(any_f64(), 0..4),
        any::<i64>(),
    )
        .prop_map(|(i, lab, design_value, pass_line, value, readings, tested_ms)| LabResult {
            id: format!("r{i}"),
            lab: ["A", "B", "C"][lab].to_owned(),
            project: "P".to_owned(),
            parameter: if i % 2 == 0 { PARAM.to_owned() } else { "rebar_tensile".to_owned() },
            design_value,
            pass_line,
            value,
            readings,
            tested_ms,
        })
}

fn any_curve() -> impl Strategy<Value = Curve> {
    (0..3usize, prop::collection::vec((any_f64(), any_f64()), 0..12)).prop_map(|(i, points)| Curve {
        id: format!("c{i}"),
        lab: "A".to_owned(),
        points,
    })
}

fn any_thresholds() -> impl Strategy<Value = LabThresholds> {
    (any_f64(), any_f64(), 0..40usize, any_f64(), 0..20usize, any_f64()).prop_map(|(a, b, n, c, p, r)| {
        LabThresholds {
            pass_rate_alpha: a,
            cluster_band: b,
            cluster_share: c,
            design_tolerance: b,
            design_share: c,
            uniform_cv: a,
            digit_resolution: r,
            digit_alpha: a,
            curve_points: p,
            curve_tolerance: c,
            curve_peak_tolerance: b,
            city_min_n: n,
            pass_rate_min_n: n,
            cluster_min_n: n,
            design_min_n: n,
            uniform_min_n: n,
            uniform_run: n,
            digit_min_count: n,
            curve_cap: n,
            ..LabThresholds::default()
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn r17_lab_signals_never_panic(
        lab in prop::collection::vec(any_result(), 0..60),
        city in prop::collection::vec(any_result(), 0..60),
        curves in prop::collection::vec(any_curve(), 0..6),
    ) {
        let w = lab_signals("A", &lab, &city, &curves, &LabThresholds::default());
        for w in &w {
            prop_assert_eq!(&w.lab, "A");
            prop_assert!(!w.evidence.is_empty());
        }
    }

    #[test]
    fn r17_lab_signals_never_panic_on_any_thresholds(
        lab in prop::collection::vec(any_result(), 0..40),
        city in prop::collection::vec(any_result(), 0..40),
        curves in prop::collection::vec(any_curve(), 0..6),
        t in any_thresholds(),
    ) {
        let _ = lab_signals("A", &lab, &city, &curves, &t);
        let _ = t.check();
    }
}
