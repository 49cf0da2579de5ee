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

mod common;
#[path = "../tests/results_common/mod.rs"]
mod results_common;

use common::rate;
use custody_core::results::rebar;
use std::hint::black_box;

const POINTS: usize = 20_000;

fn main() {
    let curve = results_common::rebar_curve(20.0, POINTS, |e| {
        results_common::yield_stress(e, 440.0, 430.0, 580.0, 2.0)
    });
    let baseline = rate("baseline: sum of the forces", || {
        let sum: f64 = black_box(&curve).samples.iter().map(|s| s.force_kn).sum();
        black_box(sum);
    });
    let tensile = rate("rebar::tensile, every figure", || {
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
