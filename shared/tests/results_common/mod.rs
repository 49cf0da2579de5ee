//! Deterministic synthetic machine curves for the results tests and
//! properties: no rand dependency, a tiny xorshift for noise.

#![allow(dead_code)]

use custody_core::curve::{CurveHeader, MachineCurve, Sample};

/// xorshift64*: enough for reproducible noise.
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Noise {
        Noise(seed | 1)
    }
    /// Uniform in [-1, 1).
    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

pub fn cube_header(edge: f64) -> CurveHeader {
    CurveHeader { cube_mm: Some(edge), test: Some("concrete_cube_strength".into()), ..CurveHeader::default() }
}

/// A cube loaded at `rate_mpa_s` to `peak_kn` at `hz`, then the descent
/// given by `after(dt_since_peak, peak) -> Option<force>` (None ends it).
pub fn cube_curve(
    edge: f64,
    peak_kn: f64,
    rate_mpa_s: f64,
    hz: f64,
    mut after: impl FnMut(f64, f64) -> Option<f64>,
) -> MachineCurve {
    let area = edge * edge;
    let rate_kn_s = rate_mpa_s * area / 1000.0;
    let dt = 1.0 / hz;
    let mut samples = Vec::new();
    let mut t = 0.0;
    // Linear ramp (slightly rounded near the top, as concrete softens).
    let t_peak = peak_kn / rate_kn_s;
    while t < t_peak {
        samples.push(Sample { t_s: t, force_kn: rate_kn_s * t, ext_mm: None });
        t += dt;
    }
    samples.push(Sample { t_s: t_peak, force_kn: peak_kn, ext_mm: None });
    let mut s = dt;
    while let Some(f) = after(s, peak_kn) {
        samples.push(Sample { t_s: t_peak + s, force_kn: f, ext_mm: None });
        s += dt;
    }
    MachineCurve { header: cube_header(edge), samples }
}

/// A cube that breaks: the force collapses to ~20 % of peak within 0.4 s in
/// irregular steps, then a noisy residual for a second.
pub fn breaking_cube(edge: f64, peak_kn: f64, rate_mpa_s: f64, seed: u64) -> MachineCurve {
    let mut noise = Noise::new(seed);
    cube_curve(edge, peak_kn, rate_mpa_s, 50.0, move |s, p| {
        if s > 1.4 {
            return None;
        }
        let base = if s < 0.4 { p * (1.0 - 2.0 * s) } else { 0.2 * p };
        Some((base + 0.06 * p * noise.next()).max(0.0))
    })
}

/// A hand-opened valve: exponential bleed with a time constant of `tau_s`.
pub fn released_cube(edge: f64, peak_kn: f64, rate_mpa_s: f64, tau_s: f64) -> MachineCurve {
    cube_curve(edge, peak_kn, rate_mpa_s, 20.0, move |s, p| {
        if s > 4.0 * tau_s { None } else { Some(p * (-s / tau_s).exp()) }
    })
}

/// A plateau held for `hold_s`, then a steady linear decline to 10 % over `decline_s`.
pub fn plateau_release_cube(
    edge: f64,
    peak_kn: f64,
    rate_mpa_s: f64,
    hold_s: f64,
    decline_s: f64,
) -> MachineCurve {
    cube_curve(edge, peak_kn, rate_mpa_s, 20.0, move |s, p| {
        if s <= hold_s {
            Some(p * (1.0 - 0.0005 * s))
        } else if s <= hold_s + decline_s {
            Some(p * (1.0 - 0.0005 * hold_s) * (1.0 - 0.9 * (s - hold_s) / decline_s))
        } else {
            None
        }
    })
}

pub fn rebar_header(d: f64) -> CurveHeader {
    CurveHeader {
        diameter_mm: Some(d),
        extensometer_gauge_mm: Some(50.0),
        gauge_mm: Some(5.0 * d),
        test: Some("rebar_tensile".into()),
        ..CurveHeader::default()
    }
}

/// Stress (MPa) against strain of a bar with a yield point: elastic to
/// `reh`, a drop to a transient dip 2 % below `rel`, the plateau at `rel`
/// (with a ripple of `ripple` MPa) to 1.5 % strain, hardening to `rm` at
/// 12 % strain, necking to 85 % of `rm` at 16 %.
pub fn yield_stress(strain: f64, reh: f64, rel: f64, rm: f64, ripple: f64) -> f64 {
    const E: f64 = 200_000.0;
    let ey = reh / E;
    let (e_dip, e_plateau_end, e_m, e_end) = (ey + 0.0005, 0.015, 0.12, 0.16);
    if strain <= ey {
        E * strain
    } else if strain <= e_dip {
        let u = (strain - ey) / (e_dip - ey);
        reh + (0.98 * rel - reh) * u
    } else if strain <= e_dip + 0.0005 {
        let u = (strain - e_dip) / 0.0005;
        0.98 * rel + 0.02 * rel * u
    } else if strain <= e_plateau_end {
        rel + ripple * (strain * 4000.0).sin().abs()
    } else if strain <= e_m {
        let u = (strain - e_plateau_end) / (e_m - e_plateau_end);
        rel + (rm - rel) * (1.0 - (1.0 - u).powi(2))
    } else {
        let u = ((strain - e_m) / (e_end - e_m)).min(1.0);
        rm * (1.0 - 0.15 * u * u)
    }
}

/// A rebar curve sampled at `n` points up to 16 % strain on a 50 mm
/// extensometer, `d` mm bar, from the stress function `stress(strain)`.
pub fn rebar_curve(d: f64, n: usize, stress: impl Fn(f64) -> f64) -> MachineCurve {
    let area = std::f64::consts::PI * d * d / 4.0;
    let le = 50.0;
    let samples = (0..n)
        .map(|i| {
            let strain = 0.16 * i as f64 / (n - 1) as f64;
            Sample {
                t_s: i as f64 * 0.01,
                force_kn: stress(strain) * area / 1000.0,
                ext_mm: Some(strain * le),
            }
        })
        .collect();
    MachineCurve { header: rebar_header(d), samples }
}

/// Ramberg–Osgood: strain = σ/E + 0.002 (σ/σy)^n, so Rp0.2 = σy exactly.
/// Rising in stress to `rm`, then falling to 0.9 rm (necking).
pub fn ramberg_osgood_curve(d: f64, points: usize, sigma_y: f64, rm: f64, n_exp: f64) -> MachineCurve {
    const E: f64 = 200_000.0;
    let area = std::f64::consts::PI * d * d / 4.0;
    let le = 50.0;
    let rising = points * 9 / 10;
    let strain_at = |s: f64| s / E + 0.002 * (s / sigma_y).powf(n_exp);
    let e_m = strain_at(rm);
    let mut samples = Vec::with_capacity(points);
    for i in 0..points {
        let (stress, strain) = if i < rising {
            let s = rm * i as f64 / (rising - 1) as f64;
            (s, strain_at(s))
        } else {
            let u = (i - rising + 1) as f64 / (points - rising) as f64;
            (rm * (1.0 - 0.1 * u), e_m + 0.03 * u)
        };
        samples.push(Sample {
            t_s: i as f64 * 0.01,
            force_kn: stress * area / 1000.0,
            ext_mm: Some(strain * le),
        });
    }
    MachineCurve { header: rebar_header(d), samples }
}
