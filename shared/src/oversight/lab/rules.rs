//! The result-based lab signals, one public function per rule. Each takes
//! the lab, its results (and the city's where it compares) and the
//! thresholds, and returns its warnings; [`super::lab_signals`] runs them all.

use super::stats::{at_least, below, binomial_cdf, chi_square_sf, mean_sd, slack};
use super::{Figure, LabResult, LabSignal, LabThresholds, LabWarning};
use std::collections::BTreeMap;

/// A result whose numbers the value-based rules can use.
fn usable(r: &LabResult) -> bool {
    r.value.is_finite() && r.pass_line.is_finite() && r.design_value.is_finite()
}

fn passes(r: &LabResult) -> bool {
    at_least(r.value, r.pass_line)
}

/// Design values grouped to 0.001 of their unit, so 30 and 30.000000001 are
/// one grade.
fn design_key(v: f64) -> i64 {
    (v * 1000.0).round() as i64
}

/// The results `keep` accepts, grouped by `key`, each group in test time
/// order (ties by id).
fn group<'a, K: Ord>(
    results: &'a [LabResult],
    keep: impl Fn(&LabResult) -> bool,
    key: impl Fn(&'a LabResult) -> K,
) -> BTreeMap<K, Vec<&'a LabResult>> {
    let mut groups: BTreeMap<K, Vec<&'a LabResult>> = BTreeMap::new();
    for r in results.iter().filter(|r| keep(r)) {
        groups.entry(key(r)).or_default().push(r);
    }
    for g in groups.values_mut() {
        g.sort_by(|a, b| a.tested_ms.cmp(&b.tested_ms).then_with(|| a.id.cmp(&b.id)));
    }
    groups
}

/// The lab's usable results by parameter.
fn own_by_parameter<'a>(lab: &str, results: &'a [LabResult]) -> BTreeMap<&'a str, Vec<&'a LabResult>> {
    group(results, |r| r.lab == lab && usable(r), |r| r.parameter.as_str())
}

fn ids<'a>(results: impl IntoIterator<Item = &'a &'a LabResult>) -> Vec<String> {
    results.into_iter().map(|r| r.id.clone()).collect()
}

/// A share of a group as a warning, when it reaches the threshold.
struct Share<'a> {
    signal: LabSignal,
    figure: Figure,
    lab: &'a str,
    parameter: &'a str,
    n: usize,
    min_n: usize,
    threshold: f64,
}

impl Share<'_> {
    fn judge(&self, hits: Vec<&LabResult>) -> Option<LabWarning> {
        if self.n < self.min_n.max(1) {
            return None;
        }
        let share = hits.len() as f64 / self.n as f64;
        at_least(share, self.threshold).then(|| LabWarning {
            signal: self.signal,
            figure: self.figure,
            lab: self.lab.to_owned(),
            parameter: Some(self.parameter.to_owned()),
            design_value: None,
            measured: share,
            threshold: self.threshold,
            n: self.n,
            evidence: ids(&hits),
        })
    }
}

/// `pass_rate_above_city`, per parameter: with f failures in the lab's n
/// results and the other labs' failure rate p₀ (failures over results,
/// at least `city_min_n` of them), fires when the lab's failure rate is
/// below p₀ and P(X ≤ f) < `pass_rate_alpha` for X ~ Binomial(n, p₀)
/// (exact, [`binomial_cdf`]), with n ≥ `pass_rate_min_n`. A result fails
/// when its value is below its pass line. Measured: P(X ≤ f). Evidence:
/// every result counted (together they are the improbable record).
pub fn pass_rate_above_city(
    lab: &str,
    lab_results: &[LabResult],
    city_results: &[LabResult],
    t: &LabThresholds,
) -> Vec<LabWarning> {
    let city = group(city_results, |r| r.lab != lab && usable(r), |r| r.parameter.as_str());
    let mut out = Vec::new();
    for (parameter, results) in own_by_parameter(lab, lab_results) {
        let Some(reference) = city.get(parameter) else { continue };
        let (n, nc) = (results.len(), reference.len());
        if n < t.pass_rate_min_n.max(1) || nc < t.city_min_n.max(1) {
            continue;
        }
        let failures = results.iter().filter(|r| !passes(r)).count();
        let city_failures = reference.iter().filter(|r| !passes(r)).count();
        // The lab's pass rate must be the higher one: f / n < f_c / n_c.
        if (failures as u128) * (nc as u128) >= (city_failures as u128) * (n as u128) {
            continue;
        }
        let p0 = city_failures as f64 / nc as f64;
        let tail = binomial_cdf(failures as u64, n as u64, p0);
        if tail < t.pass_rate_alpha {
            out.push(LabWarning {
                signal: LabSignal::PassRateAboveCity,
                figure: Figure::FailureTailProbability,
                lab: lab.to_owned(),
                parameter: Some(parameter.to_owned()),
                design_value: None,
                measured: tail,
                threshold: t.pass_rate_alpha,
                n,
                evidence: ids(&results),
            });
        }
    }
    out
}

/// `clustered_above_pass_line`, per parameter: the share of the lab's
/// results with pass line ≤ value < pass line × (1 + `cluster_band`); fires
/// when it is at least `cluster_share`, with at least `cluster_min_n`
/// results. Results whose pass line is not positive are skipped (the band is
/// relative to it). Evidence: the results in the band.
pub fn clustered_above_pass_line(lab: &str, lab_results: &[LabResult], t: &LabThresholds) -> Vec<LabWarning> {
    let groups =
        group(lab_results, |r| r.lab == lab && usable(r) && r.pass_line > 0.0, |r| r.parameter.as_str());
    let mut out = Vec::new();
    for (parameter, results) in groups {
        let hits: Vec<&LabResult> = results
            .iter()
            .copied()
            .filter(|r| {
                at_least(r.value, r.pass_line) && below(r.value, r.pass_line * (1.0 + t.cluster_band))
            })
            .collect();
        let judge = Share {
            signal: LabSignal::ClusteredAbovePassLine,
            figure: Figure::ShareInBand,
            lab,
            parameter,
            n: results.len(),
            min_n: t.cluster_min_n,
            threshold: t.cluster_share,
        };
        out.extend(judge.judge(hits));
    }
    out
}

/// `at_design_value`, per parameter: the share of the lab's results with
/// |value − design value| ≤ `design_tolerance`; fires when it is at least
/// `design_share`, with at least `design_min_n` results (the New York case:
/// design values written instead of testing). Evidence: those results.
pub fn at_design_value(lab: &str, lab_results: &[LabResult], t: &LabThresholds) -> Vec<LabWarning> {
    let mut out = Vec::new();
    for (parameter, results) in own_by_parameter(lab, lab_results) {
        let hits: Vec<&LabResult> = results
            .iter()
            .copied()
            .filter(|r| (r.value - r.design_value).abs() <= t.design_tolerance + slack(r.design_value))
            .collect();
        let judge = Share {
            signal: LabSignal::AtDesignValue,
            figure: Figure::ShareAtDesign,
            lab,
            parameter,
            n: results.len(),
            min_n: t.design_min_n,
            threshold: t.design_share,
        };
        out.extend(judge.judge(hits));
    }
    out
}

/// The longest run of consecutive items `inside` accepts: (start, length),
/// the first one if several tie.
fn longest_run<T>(items: &[T], inside: impl Fn(&T) -> bool) -> (usize, usize) {
    let (mut best, mut start, mut len) = ((0, 0), 0, 0);
    for (i, item) in items.iter().enumerate() {
        if inside(item) {
            if len == 0 {
                start = i;
            }
            len += 1;
            if len > best.1 {
                best = (start, len);
            }
        } else {
            len = 0;
        }
    }
    best
}

/// `too_uniform`, per parameter and design value, two tests reported
/// separately (the warning's [`Figure`] says which fired):
///
/// - coefficient of variation: s / mean of the lab's group values below
///   `uniform_cv`, with at least `uniform_min_n` results and a positive
///   mean. Evidence: every result counted.
/// - run rule: μ and σ (sample) of the other labs' values for the same
///   parameter and design value (at least `city_min_n`); fires when the
///   lab's results, in test time order, hold a run of at least `uniform_run`
///   consecutive values within μ ± σ. Measured: the longest run. Evidence:
///   that run.
pub fn too_uniform(
    lab: &str,
    lab_results: &[LabResult],
    city_results: &[LabResult],
    t: &LabThresholds,
) -> Vec<LabWarning> {
    let key = |r: &LabResult| (r.parameter.clone(), design_key(r.design_value));
    let city = group(city_results, |r| r.lab != lab && usable(r), key);
    let mut out = Vec::new();
    for (group_key, results) in group(lab_results, |r| r.lab == lab && usable(r), key) {
        let Some(first) = results.first() else { continue };
        let warn = |figure, measured, threshold, evidence| LabWarning {
            signal: LabSignal::TooUniform,
            figure,
            lab: lab.to_owned(),
            parameter: Some(group_key.0.clone()),
            design_value: Some(first.design_value),
            measured,
            threshold,
            n: results.len(),
            evidence,
        };
        let values: Vec<f64> = results.iter().map(|r| r.value).collect();
        if values.len() >= t.uniform_min_n
            && let Some((mean, sd)) = mean_sd(&values)
            && mean > 0.0
            && sd / mean < t.uniform_cv
        {
            out.push(warn(Figure::CoefficientOfVariation, sd / mean, t.uniform_cv, ids(&results)));
        }
        let reference: Vec<f64> = city.get(&group_key).into_iter().flatten().map(|r| r.value).collect();
        if reference.len() >= t.city_min_n.max(2)
            && let Some((mu, sigma)) = mean_sd(&reference)
            && sigma > 0.0
        {
            let (start, len) = longest_run(&results, |r| (r.value - mu).abs() <= sigma);
            if len >= t.uniform_run.max(1) {
                let run = ids(results.iter().skip(start).take(len));
                out.push(warn(Figure::RunWithinOneSigma, len as f64, t.uniform_run as f64, run));
            }
        }
    }
    out
}

/// The last recorded digit of a raw reading captured at `resolution` (in the
/// reading's unit): the units digit of round(|reading| / resolution). For
/// 452.37 kN at 0.01 kN that is 7; at 0.1 kN (452.4) it is 4. `None` for a
/// non-finite reading, a resolution that is not positive and finite, or a
/// reading too large for f64 to hold its digits (2⁵³ steps).
pub fn last_digit(reading: f64, resolution: f64) -> Option<u8> {
    if !(resolution > 0.0 && resolution.is_finite()) {
        return None;
    }
    let steps = (reading.abs() / resolution).round();
    if !steps.is_finite() || steps >= 9_007_199_254_740_992.0 {
        return None;
    }
    Some((steps % 10.0) as u8)
}

/// `last_digit_bias`, per parameter: the last digits ([`last_digit`] at
/// `digit_resolution`) of every finite raw reading of the lab's results;
/// with N ≥ `digit_min_count` readings, χ² = Σ (observedᵢ − N/10)² / (N/10)
/// over the ten digits and p = P(χ²₉ > χ²) ([`chi_square_sf`]); fires when
/// p < `digit_alpha`. Only the readings matter here, so a result with an odd
/// group value still contributes its readings. Measured: p. Evidence: the
/// results whose readings were counted.
pub fn last_digit_bias(lab: &str, lab_results: &[LabResult], t: &LabThresholds) -> Vec<LabWarning> {
    let mut out = Vec::new();
    for (parameter, results) in group(lab_results, |r| r.lab == lab, |r| r.parameter.as_str()) {
        let mut counts = [0u64; 10];
        let mut counted = Vec::new();
        for r in &results {
            let mut any = false;
            for d in r.readings.iter().filter_map(|&x| last_digit(x, t.digit_resolution)) {
                if let Some(c) = counts.get_mut(usize::from(d)) {
                    *c += 1;
                    any = true;
                }
            }
            if any {
                counted.push(r.id.clone());
            }
        }
        let total: u64 = counts.iter().sum();
        if total == 0 || total < t.digit_min_count as u64 {
            continue;
        }
        let expected = total as f64 / 10.0;
        let chi2: f64 = counts.iter().map(|&o| (o as f64 - expected).powi(2) / expected).sum();
        let p = chi_square_sf(chi2, 9);
        if p < t.digit_alpha {
            out.push(LabWarning {
                signal: LabSignal::LastDigitBias,
                figure: Figure::DigitUniformityP,
                lab: lab.to_owned(),
                parameter: Some(parameter.to_owned()),
                design_value: None,
                measured: p,
                threshold: t.digit_alpha,
                n: usize::try_from(total).unwrap_or(usize::MAX),
                evidence: counted,
            });
        }
    }
    out
}
