//! What the core's benches share: one way to measure a rate.

use std::time::{Duration, Instant};

/// Median operations per second over 15 batches of about 50 ms each,
/// printed under `name` with the time per operation.
pub fn rate(name: &str, mut op: impl FnMut()) -> f64 {
    // Calibrate a batch to ~50 ms.
    let mut n = 16u64;
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
    let median = rates[rates.len() / 2];
    println!("{name:<52} {median:>12.0} /s   {:>8.2} µs/op", 1e6 / median);
    median
}
