//! A testing machine in software (R12): realistic force curves for tests,
//! demos and `field-sim machine`, deterministic from a `u64` seed.
//!
//! Pure like the rest of the crate: no clock (the start time is a
//! parameter), no `rand` (a xorshift64* generator, [`Rng`], is all a curve
//! needs and its sequence never changes under us between versions).
//!
//! # The shapes, and why
//!
//! * **Concrete cube** (GB/T 50081): load control at a stress rate, so force
//!   rises linearly in time after a short toe while the platens seat, with
//!   a servo ripple and noise; the cube fails brittly at the peak and the
//!   force falls irregularly over a fraction of a second until the machine
//!   stops. [`CubeFailure::ManualRelease`] instead decays smoothly and
//!   monotonically after the peak, the shape an operator opening the valve
//!   by hand leaves: fraud tests need it.
//! * **Rebar** (GB/T 228.1): extension over the extensometer gauge Le; an
//!   elastic line with E = 200 GPa; either a yield plateau (upper yield
//!   spike, a dip, then a noisy lower plateau) or a smooth Ramberg–Osgood
//!   yield whose 0.2 % offset stress is the chosen Rp0.2; strain hardening
//!   to Fm at Agt; necking (force falls) and fracture (a drop to about 0).
//!   Strain rates follow the standard's method: the elastic range at a
//!   stress rate, the yield range at 0.00025 /s, then 0.0067 /s, so a test
//!   lasts one to three minutes.
//! * **Coupler** (JGJ 107): a rebar curve whose specimen breaks either in the
//!   bar (as a rebar) or in the joint (during hardening, before necking).
//!
//! Samples are quantised as a machine's export is (1 ms, 1 N, 0.1 µm), so
//! [`super::to_file`] writes them without loss and the parser reads back
//! exactly what was simulated. The header carries what a machine reports
//! (最大力, 抗压强度, 下屈服强度…) in `other`, computed from the samples.

use super::{CurveHeader, ExtSource, MachineCurve, Sample};

/// xorshift64* (Vigna): tiny, fast, and fixed forever, so a seed names a curve.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Any seed, zero included (splitmix64 spreads it to a non-zero state).
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.unit(); // (0, 1]: ln stays finite
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Values as a machine exports them: whole milliseconds, newtons, tenths of a micrometre.
fn quantise(t_s: f64, force_kn: f64, ext_mm: f64) -> Sample {
    Sample {
        t_s: (t_s * 1000.0).round() / 1000.0,
        force_kn: (force_kn * 1000.0).round() / 1000.0,
        ext_mm: Some((ext_mm * 10_000.0).round() / 10_000.0),
    }
}

/// A parameter kept within what a machine can do (no endless loops on
/// absurd input); `default` for NaN.
fn bounded(v: f64, lo: f64, hi: f64, default: f64) -> f64 {
    if v.is_nan() { default } else { v.clamp(lo, hi) }
}

/// Who and when, as the machine was told (all optional, as on a real machine).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Labels {
    pub specimen: Option<String>,
    pub machine: Option<String>,
    /// The machine's own clock at the start (the sim has no clock).
    pub started: Option<String>,
}

/// How a cube's curve ends after the peak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CubeFailure {
    /// The cube crushes: an irregular drop over a fraction of a second.
    Brittle,
    /// A smooth, slow, monotonic decay: the valve opened by hand, no cube broken.
    ManualRelease,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CubeParams {
    /// Edge: 100, 150 or 200 mm.
    pub size_mm: f64,
    /// Strength class fcu,k in MPa (C30 → 30), reported as 强度等级.
    pub grade_mpa: u32,
    /// The stress at which this cube fails.
    pub strength_mpa: f64,
    /// Loading rate in MPa/s (GB/T 50081 bands: [`cube_rate_band`]).
    pub rate_mpa_s: f64,
    /// Sampling rate, 10–50 Hz on compression machines.
    pub hz: f64,
    pub failure: CubeFailure,
    pub seed: u64,
    pub labels: Labels,
}

/// GB/T 50081-2019 loading-rate band (MPa/s) for a strength class.
pub fn cube_rate_band(grade_mpa: u32) -> (f64, f64) {
    match grade_mpa {
        0..30 => (0.3, 0.5),
        30..60 => (0.5, 0.8),
        _ => (0.8, 1.0),
    }
}

impl CubeParams {
    /// A typical cube of a class: strength 1.05–1.35 × fcu,k, the rate in
    /// the middle of its band, 10 Hz, brittle failure.
    pub fn new(size_mm: f64, grade_mpa: u32, seed: u64) -> CubeParams {
        let mut rng = Rng::new(seed ^ 0xC0BE);
        let (lo, hi) = cube_rate_band(grade_mpa);
        CubeParams {
            size_mm,
            grade_mpa,
            strength_mpa: f64::from(grade_mpa) * rng.range(1.05, 1.35),
            rate_mpa_s: (lo + hi) / 2.0,
            hz: 10.0,
            failure: CubeFailure::Brittle,
            seed,
            labels: Labels::default(),
        }
    }
}

/// A concrete cube's compression curve; see the module doc for its shape.
pub fn cube(p: &CubeParams) -> MachineCurve {
    let mut rng = Rng::new(p.seed);
    let size = bounded(p.size_mm, 10.0, 1000.0, 150.0);
    let area = size * size;
    let hz = bounded(p.hz, 1.0, 1000.0, 10.0);
    let peak = (bounded(p.strength_mpa, 1.0, 200.0, 30.0) * area).round() / 1000.0;
    let rate = bounded(p.rate_mpa_s, 0.01, 100.0, 0.5) * area / 1000.0; // kN/s
    let toe = rng.range(1.5, 3.0); // s while the platens seat
    // Platen travel: the cube (E ≈ 30 GPa) in series with the machine frame,
    // softening as cracks open near the peak.
    let stiffness = rng.range(900.0, 1500.0) * (size / 150.0); // kN/mm
    let seat_mm = rng.range(0.03, 0.08);
    let crack_mm = rng.range(0.08, 0.2);
    let (ripple_period, ripple_phase) = (rng.range(0.6, 1.5), rng.range(0.0, std::f64::consts::TAU));
    let ripple = 0.0006 * peak;
    let noise = 0.0003 * peak + 0.02;
    let travel =
        |f: f64, t: f64| seat_mm * (t / toe).min(1.0) + f / stiffness + crack_mm * (f / peak).powi(6);

    let mut samples = Vec::new();
    let mut k = 0u32;
    let (t_peak, d_peak) = loop {
        let t = f64::from(k) / hz;
        k += 1;
        let ideal = if t < toe { rate * t * t / (2.0 * toe) } else { rate * (t - toe / 2.0) };
        if ideal >= peak {
            let d = travel(peak, t);
            samples.push(quantise(t, peak, d));
            break (t, d);
        }
        let wave = ripple * (std::f64::consts::TAU * t / ripple_period + ripple_phase).sin();
        let f = (ideal + wave * (ideal / peak).min(1.0) + noise * rng.normal()).min(peak * 0.999);
        samples.push(quantise(t, f, travel(f.max(0.0), t) + 0.0005 * rng.normal()));
    };
    match p.failure {
        CubeFailure::Brittle => {
            // Crushing: the force falls by irregular steps, sometimes catching
            // for a moment, until the machine sees the break and stops.
            let stop_below = peak * rng.range(0.3, 0.6);
            let (mut f, mut d) = (peak, d_peak);
            // Bounded: a run of rebounds cannot keep the machine running.
            for _ in 0..200 {
                if f <= stop_below {
                    break;
                }
                let t = f64::from(k) / hz;
                k += 1;
                f *= if rng.unit() < 0.2 { rng.range(1.0, 1.03) } else { rng.range(0.55, 0.95) };
                d += rng.range(0.01, 0.08) * 10.0 / hz;
                samples.push(quantise(t, f.min(peak * 0.999), d));
            }
        }
        CubeFailure::ManualRelease => {
            // A smooth exponential decay, no noise: the platens follow the
            // elastic unloading back.
            let tau = rng.range(3.0, 8.0);
            loop {
                let t = f64::from(k) / hz;
                k += 1;
                let f = peak * (-(t - t_peak) / tau).exp();
                samples.push(quantise(t, f, seat_mm + f / stiffness));
                if f < 0.05 * peak {
                    break;
                }
            }
        }
    }
    let fm = samples.iter().map(|s| s.force_kn).fold(0.0, f64::max);
    MachineCurve {
        header: CurveHeader {
            specimen: p.labels.specimen.clone(),
            machine: p.labels.machine.clone(),
            test: Some("concrete_cube_strength".into()),
            area_mm2: Some(area),
            cube_mm: Some(size),
            rate: Some(format!("{} MPa/s", p.rate_mpa_s)),
            started: p.labels.started.clone(),
            units: vec!["s".into(), "kN".into(), "mm".into()],
            other: vec![
                ("强度等级".into(), format!("C{}", p.grade_mpa)),
                ("最大力(kN)".into(), format!("{fm:.2}")),
                ("抗压强度(MPa)".into(), format!("{:.1}", fm * 1000.0 / area)),
            ],
            ext_source: Some(ExtSource::Crosshead),
            ..CurveHeader::default()
        },
        samples,
    }
}

/// Young's modulus of steel, MPa.
const E_STEEL: f64 = 200_000.0;
/// Strain rates of GB/T 228.1 method A: over the yield range, and after it.
const YIELD_STRAIN_RATE: f64 = 0.00025;
const HARDENING_STRAIN_RATE: f64 = 0.0067;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebarGrade {
    Hrb400,
    Hrb400E,
    Hrb500,
    Hrb500E,
}

impl RebarGrade {
    pub fn name(self) -> &'static str {
        match self {
            RebarGrade::Hrb400 => "HRB400",
            RebarGrade::Hrb400E => "HRB400E",
            RebarGrade::Hrb500 => "HRB500",
            RebarGrade::Hrb500E => "HRB500E",
        }
    }

    /// Minimum ReL and Rm in MPa, GB/T 1499.2-2018 (numbers unconfirmed, notes).
    pub fn minimum(self) -> (f64, f64) {
        match self {
            RebarGrade::Hrb400 | RebarGrade::Hrb400E => (400.0, 540.0),
            RebarGrade::Hrb500 | RebarGrade::Hrb500E => (500.0, 630.0),
        }
    }
}

/// How the bar yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YieldShape {
    /// Hot-rolled bars: upper yield spike, then a serrated lower plateau (ReH, ReL).
    Plateau,
    /// Cold-worked or high-strength bars: no plateau, judged by Rp0.2.
    Smooth,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RebarParams {
    /// Nominal diameter, mm (S0 from [`nominal_area`]).
    pub diameter_mm: f64,
    pub grade: RebarGrade,
    pub yield_shape: YieldShape,
    /// ReL for a plateau, Rp0.2 for a smooth yield, MPa.
    pub yield_mpa: f64,
    /// ReH / ReL (plateau only), e.g. 1.03.
    pub upper_yield_ratio: f64,
    /// Tensile strength Rm, MPa.
    pub rm_mpa: f64,
    /// Total extension at maximum force Agt, a fraction (0.12 = 12 %).
    pub agt: f64,
    /// Elongation after fracture A over L0, a fraction; more than `agt`.
    pub elongation: f64,
    /// Stress rate over the elastic range, MPa/s (6–60 in GB/T 228.1).
    pub stress_rate_mpa_s: f64,
    /// Sampling rate, 50–100 Hz.
    pub hz: f64,
    /// Extensometer gauge Le, mm.
    pub extensometer_gauge_mm: f64,
    pub seed: u64,
    pub labels: Labels,
}

impl RebarParams {
    /// A typical passing bar of a grade: ReL 1.05–1.2 × its minimum, Rm/ReL
    /// 1.28–1.4, Agt 10–14 %, A Agt + 6–10 %, 20 MPa/s, 50 Hz, Le 50 mm.
    pub fn new(diameter_mm: f64, grade: RebarGrade, seed: u64) -> RebarParams {
        let mut rng = Rng::new(seed ^ 0x5EBA);
        let yield_mpa = grade.minimum().0 * rng.range(1.05, 1.2);
        let agt = rng.range(0.10, 0.14);
        RebarParams {
            diameter_mm,
            grade,
            yield_shape: YieldShape::Plateau,
            yield_mpa,
            upper_yield_ratio: rng.range(1.02, 1.06),
            rm_mpa: yield_mpa * rng.range(1.28, 1.4),
            agt,
            elongation: agt + rng.range(0.06, 0.10),
            stress_rate_mpa_s: 20.0,
            hz: 50.0,
            extensometer_gauge_mm: 50.0,
            seed,
            labels: Labels::default(),
        }
    }
}

/// Nominal cross-section π d² / 4 to four significant figures, as GB/T
/// 1499.2 tabulates it (20 mm → 314.2 mm², 25 mm → 490.9 mm²).
pub fn nominal_area(diameter_mm: f64) -> f64 {
    let exact = std::f64::consts::PI * diameter_mm * diameter_mm / 4.0;
    if !(exact.is_finite() && exact > 0.0) {
        return exact;
    }
    let scale = 10f64.powi(3 - exact.log10().floor() as i32);
    (exact * scale).round() / scale
}

/// A rebar's tensile curve; see the module doc for its shape.
pub fn rebar(p: &RebarParams) -> MachineCurve {
    tensile(p, None)
}

/// Where a coupler specimen broke (JGJ 107 judges the two differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakLocation {
    /// In the bar, away from the joint: the curve of a rebar.
    Bar,
    /// In the joint (thread, sleeve, pull-out), during hardening.
    Joint,
}

/// The header key a coupler's break location is reported under, and its values.
pub const BREAK_KEY: &str = "断裂位置";
pub const BREAK_BAR: &str = "母材";
pub const BREAK_JOINT: &str = "接头";

#[derive(Debug, Clone, PartialEq)]
pub struct CouplerParams {
    /// The bars the joint connects.
    pub rebar: RebarParams,
    pub breaks: BreakLocation,
}

/// A mechanical coupler's tensile curve.
pub fn coupler(p: &CouplerParams) -> MachineCurve {
    tensile(&p.rebar, Some(p.breaks))
}

/// Stress (MPa) at strain `e` before necking, and the strain-time schedule.
struct Tensile {
    shape: YieldShape,
    rel: f64,
    reh: f64,
    rm: f64,
    /// End of the elastic line (plateau: where ReH is reached).
    e_elastic: f64,
    /// End of the upper-yield transient (plateau only).
    e_dip: f64,
    /// End of the slow yield range: plateau end, or past Rp0.2.
    e_yield: f64,
    agt: f64,
    /// Ramberg–Osgood exponent (smooth only): ε = σ/E + 0.002 (σ/Rp)^n.
    n: f64,
    hardening_power: f64,
    necking_drop: f64,
    e_fracture: f64,
}

impl Tensile {
    fn new(p: &RebarParams, rng: &mut Rng) -> Tensile {
        let rel = bounded(p.yield_mpa, 100.0, 2000.0, 450.0);
        let rm = bounded(p.rm_mpa, rel * 1.05, rel * 3.0, rel * 1.3);
        let reh = rel * bounded(p.upper_yield_ratio, 1.0, 1.2, 1.03);
        let agt = bounded(p.agt, rm / E_STEEL + 0.01, 0.5, 0.12);
        let e_fracture = bounded(p.elongation, agt + 0.01, 1.0, agt + 0.08);
        let (e_elastic, e_dip, e_yield) = match p.yield_shape {
            YieldShape::Plateau => {
                let e_elastic = reh / E_STEEL;
                let plateau_end = rng.range(0.015, 0.025).min(agt * 0.5);
                (e_elastic, e_elastic + 0.0004, plateau_end.max(e_elastic + 0.001))
            }
            YieldShape::Smooth => (0.7 * rel / E_STEEL, 0.7 * rel / E_STEEL, rel / E_STEEL + 0.004),
        };
        Tensile {
            shape: p.yield_shape,
            rel,
            reh,
            rm,
            e_elastic,
            e_dip,
            e_yield,
            agt,
            n: ((agt - rm / E_STEEL) / 0.002).ln() / (rm / rel).ln(),
            hardening_power: rng.range(2.0, 3.0),
            necking_drop: rng.range(0.12, 0.25),
            e_fracture,
        }
    }

    /// The stress the bar carries at strain `e`, before noise.
    fn stress(&self, e: f64, rng: &mut Rng) -> f64 {
        if e > self.agt {
            let x = ((e - self.agt) / (self.e_fracture - self.agt)).min(1.0);
            return self.rm * (1.0 - self.necking_drop * x * x);
        }
        match self.shape {
            YieldShape::Smooth => self.ramberg_osgood(e),
            YieldShape::Plateau if e <= self.e_elastic => E_STEEL * e,
            YieldShape::Plateau if e <= self.e_dip => {
                // The upper yield collapses to just under the plateau.
                let x = (e - self.e_elastic) / (self.e_dip - self.e_elastic);
                self.reh + (self.rel * 0.985 - self.reh) * x
            }
            YieldShape::Plateau if e <= self.e_yield => {
                // Lüders bands: serrations around ReL.
                self.rel * (1.003 + 0.003 * (e * std::f64::consts::TAU / 0.0015).sin() + 0.002 * rng.normal())
            }
            YieldShape::Plateau => {
                let x = (e - self.e_yield) / (self.agt - self.e_yield);
                self.rel + (self.rm - self.rel) * (1.0 - (1.0 - x).powf(self.hardening_power))
            }
        }
    }

    /// σ for ε by bisection (ε(σ) is increasing; ε(Rm) = Agt by the choice of n).
    fn ramberg_osgood(&self, e: f64) -> f64 {
        let (mut lo, mut hi) = (0.0, self.rm);
        for _ in 0..60 {
            let mid = (lo + hi) / 2.0;
            if mid / E_STEEL + 0.002 * (mid / self.rel).powf(self.n) < e {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        (lo + hi) / 2.0
    }

    /// Strain at time `t` under the schedule: stress rate, then the slow
    /// yield rate, then the hardening rate.
    fn strain_at(&self, t: f64, stress_rate: f64) -> f64 {
        let elastic_rate = stress_rate / E_STEEL;
        let t_elastic = self.e_elastic / elastic_rate;
        let t_yield = t_elastic + (self.e_yield - self.e_elastic) / YIELD_STRAIN_RATE;
        if t <= t_elastic {
            t * elastic_rate
        } else if t <= t_yield {
            self.e_elastic + (t - t_elastic) * YIELD_STRAIN_RATE
        } else {
            self.e_yield + (t - t_yield) * HARDENING_STRAIN_RATE
        }
    }
}

/// Rebar and coupler curves: one path, ending where the specimen breaks.
fn tensile(p: &RebarParams, joint: Option<BreakLocation>) -> MachineCurve {
    let mut rng = Rng::new(p.seed);
    let shape = Tensile::new(p, &mut rng);
    let diameter = bounded(p.diameter_mm, 4.0, 60.0, 20.0);
    let area = nominal_area(diameter);
    let le = bounded(p.extensometer_gauge_mm, 10.0, 1000.0, 50.0);
    let hz = bounded(p.hz, 1.0, 1000.0, 50.0);
    let stress_rate = bounded(p.stress_rate_mpa_s, 1.0, 100.0, 20.0);
    let e_break = match joint {
        Some(BreakLocation::Joint) => shape.e_yield + (shape.agt - shape.e_yield) * rng.range(0.6, 1.0),
        Some(BreakLocation::Bar) | None => shape.e_fracture,
    };
    let force_noise = 0.0004 * shape.rm * area / 1000.0 + 0.01;

    let mut samples = Vec::new();
    let (mut reh, mut rel) = (f64::MIN, f64::MAX);
    let mut k = 0u32;
    let (mut e, mut f) = (0.0, 0.0);
    loop {
        let t = f64::from(k) / hz;
        let next = shape.strain_at(t, stress_rate);
        if next > e_break {
            break;
        }
        k += 1;
        e = next;
        f = shape.stress(e, &mut rng) * area / 1000.0 + force_noise * rng.normal();
        let sample = quantise(t, f, e * le + 0.0002 * rng.normal());
        if shape.shape == YieldShape::Plateau && e <= shape.e_dip {
            reh = reh.max(sample.force_kn);
        } else if shape.shape == YieldShape::Plateau && e <= shape.e_yield {
            rel = rel.min(sample.force_kn);
        }
        samples.push(sample);
    }
    // Fracture: the force falls to almost nothing within a sample or two;
    // the extensometer springs back by the elastic part and stays.
    let rest = (e - f * 1000.0 / area / E_STEEL).max(0.0) * le;
    let settle = 3 + (rng.unit() * 6.0) as u32;
    for i in 0..=settle {
        let t = f64::from(k) / hz;
        k += 1;
        let left = if i == 0 { f * rng.range(0.005, 0.03) } else { 0.05 * rng.normal() };
        samples.push(quantise(t, left, rest));
    }

    let fm = samples.iter().map(|s| s.force_kn).fold(0.0, f64::max);
    let mpa = |kn: f64| format!("{:.0}", kn * 1000.0 / area);
    let mut other = vec![("牌号".to_owned(), p.grade.name().to_owned())];
    match shape.shape {
        YieldShape::Plateau => {
            other.push(("上屈服强度(MPa)".into(), mpa(reh)));
            other.push(("下屈服强度(MPa)".into(), mpa(rel)));
        }
        YieldShape::Smooth => other.push(("规定塑性延伸强度Rp0.2(MPa)".into(), format!("{:.0}", shape.rel))),
    }
    other.push(("最大力(kN)".into(), format!("{fm:.3}")));
    other.push(("抗拉强度(MPa)".into(), mpa(fm)));
    if joint != Some(BreakLocation::Joint) {
        other.push(("最大力总延伸率Agt(%)".into(), format!("{:.1}", shape.agt * 100.0)));
        other.push(("断后伸长率A(%)".into(), format!("{:.1}", shape.e_fracture * 100.0)));
    }
    if let Some(at) = joint {
        let place = if at == BreakLocation::Joint { BREAK_JOINT } else { BREAK_BAR };
        other.push((BREAK_KEY.into(), place.into()));
    }
    let gauge = (5.0 * diameter * 10.0).round() / 10.0;
    MachineCurve {
        header: CurveHeader {
            specimen: p.labels.specimen.clone(),
            machine: p.labels.machine.clone(),
            test: Some(if joint.is_some() { "coupler_tensile" } else { "rebar_tensile" }.into()),
            area_mm2: Some(area),
            diameter_mm: Some(diameter),
            gauge_mm: Some(gauge),
            extensometer_gauge_mm: Some(le),
            final_gauge_mm: (joint != Some(BreakLocation::Joint))
                .then(|| (gauge * (1.0 + shape.e_fracture) * 10.0).round() / 10.0),
            rate: Some(format!("{} MPa/s", p.stress_rate_mpa_s)),
            started: p.labels.started.clone(),
            units: vec!["s".into(), "kN".into(), "mm".into()],
            other,
            ext_source: Some(ExtSource::Extensometer),
            ..CurveHeader::default()
        },
        samples,
    }
}

#[cfg(test)]
#[path = "sim_tests.rs"]
mod tests;
