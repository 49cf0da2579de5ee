//! Cost of recomputing a rebar tensile result from its curve (R12),
//! against its floor, measured in one run.
//!
//! `cargo bench -p custody-core --bench results`
//!
//! Recomputes every figure of a 20,000-point curve (the largest a rebar
//! test produces: 1–3 min at 50–100 Hz) and prints points per second beside
//! a plain pass over the same samples (summing the force), measured in the
//! same process, and their ratio. A bench binary rather than criterion: the
//! ratio is the figure that matters and it prints directly.

#[path = "../tests/results_common/mod.rs"]
mod results_common;

use custody_core::results::rebar;
use std::hint::black_box;
use std::time::{Duration, Instant};

const POINTS: usize = 20_000;

/// Median runs per second over 15 batches of about 50 ms each.
fn rate(mut op: impl FnMut()) -> f64 {
    let mut n = 1u64;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            op();
        }
        if t.elapsed() > Duration::from_millis(50) {
            break;
        }
        n *= 2;
    }
    let mut rates: Vec<f64> = (0..15)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                op();
            }
            n as f64 / t.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

fn main() {
    let curve = results_common::rebar_curve(20.0, POINTS, |e| {
        results_common::yield_stress(e, 440.0, 430.0, 580.0, 2.0)
    });
    let baseline = rate(|| {
        let sum: f64 = black_box(&curve).samples.iter().map(|s| s.force_kn).sum();
        black_box(sum);
    });
    let tensile = rate(|| {
        let r = rebar::tensile(black_box(&curve));
        black_box(r.is_ok());
    });
    let pts = POINTS as f64;
    println!("rebar curve of {POINTS} points");
    println!("  baseline (sum of forces)   {:>14.0} points/s", baseline * pts);
    println!(
        "  rebar::tensile (all)       {:>14.0} points/s   {:>5.1}x the baseline's time",
        tensile * pts,
        baseline / tensile
    );
    println!("  rebar::tensile per curve   {:>14.3} ms", 1000.0 / tensile);
}
