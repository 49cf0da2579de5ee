//! `near_identical_curves`: two specimens whose force curves are too alike.

use super::thresholds::{MAX_CURVE_CAP, MAX_CURVE_POINTS};
use super::{Curve, Figure, LabSignal, LabThresholds, LabWarning};

/// A curve reduced to its shape: forces over the peak at evenly spaced
/// normalised times.
struct Shape<'a> {
    id: &'a str,
    peak: f64,
    force: Vec<f64>,
}

/// Resamples a curve to `n` (≥ 2) points over normalised time: its finite
/// points sorted by time, time mapped from [first, last] onto [0, 1], force
/// linearly interpolated and divided by the peak force. `None` for fewer than
/// two finite points, no duration, a peak that is not positive, or a
/// resampled value that is not finite.
fn shape(curve: &Curve, n: usize) -> Option<Shape<'_>> {
    let mut pts: Vec<(f64, f64)> =
        curve.points.iter().copied().filter(|(t, f)| t.is_finite() && f.is_finite()).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (t0, t1) = (pts.first()?.0, pts.last()?.0);
    let span = t1 - t0;
    let peak = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    if pts.len() < 2 || !(span > 0.0 && span.is_finite()) || !(peak > 0.0 && peak.is_finite()) {
        return None;
    }
    let last_segment = pts.len() - 2;
    let steps = n.saturating_sub(1).max(1) as f64;
    let mut force = Vec::with_capacity(n);
    let mut j = 0;
    for k in 0..n {
        let tau = t0 + span * (k as f64 / steps);
        // The segment [j, j + 1] whose end is at or after tau (the last one at most).
        while j < last_segment && pts.get(j + 1).is_some_and(|p| p.0 < tau) {
            j += 1;
        }
        let (Some(&(ta, fa)), Some(&(tb, fb))) = (pts.get(j), pts.get(j + 1)) else { return None };
        let f = if tb > ta { fa + (fb - fa) * ((tau - ta) / (tb - ta)).clamp(0.0, 1.0) } else { fb };
        let v = f / peak;
        if !v.is_finite() {
            return None;
        }
        force.push(v);
    }
    Some(Shape { id: &curve.id, peak, force })
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// `near_identical_curves`, over the lab's curves: each is resampled to
/// `curve_points` points over normalised time and divided by its peak
/// force; two curves with different ids whose peaks are within
/// `curve_peak_tolerance` of the larger and whose resampled forces differ by
/// less than `curve_tolerance` everywhere (max |difference|) fire one warning
/// for the pair. Real curves differ in their noise, toe and failure; a copy
/// (even stretched in time or scaled in force) does not.
///
/// Bound: the first `curve_cap` usable curves (at most [`MAX_CURVE_CAP`])
/// are compared, pairs only within the peak tolerance (sorted by peak), so
/// the work is O(cap²·points) at worst and far less for real spreads of
/// strength. Measured: the largest difference. Evidence: the pair's ids.
pub fn near_identical_curves(lab: &str, curves: &[Curve], t: &LabThresholds) -> Vec<LabWarning> {
    let points = t.curve_points.clamp(2, MAX_CURVE_POINTS);
    let mut shapes: Vec<Shape<'_>> = curves
        .iter()
        .filter(|c| c.lab == lab)
        .filter_map(|c| shape(c, points))
        .take(t.curve_cap.min(MAX_CURVE_CAP))
        .collect();
    shapes.sort_by(|a, b| a.peak.total_cmp(&b.peak).then_with(|| a.id.cmp(b.id)));
    let mut out = Vec::new();
    for (i, a) in shapes.iter().enumerate() {
        for b in shapes.iter().skip(i + 1) {
            // Sorted by peak: once b is too far above a, so is every later one.
            if b.peak - a.peak > t.curve_peak_tolerance * b.peak {
                break;
            }
            if a.id == b.id {
                continue;
            }
            let diff = max_abs_diff(&a.force, &b.force);
            if diff < t.curve_tolerance {
                let mut pair = vec![a.id.to_owned(), b.id.to_owned()];
                pair.sort();
                out.push(LabWarning {
                    signal: LabSignal::NearIdenticalCurves,
                    figure: Figure::MaxCurveDifference,
                    lab: lab.to_owned(),
                    parameter: None,
                    design_value: None,
                    measured: diff,
                    threshold: t.curve_tolerance,
                    n: shapes.len(),
                    evidence: pair,
                });
            }
        }
    }
    out.sort_by(|a, b| a.evidence.cmp(&b.evidence));
    out
}
