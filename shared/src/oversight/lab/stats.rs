//! The arithmetic behind the lab signals, written out so a reviewer can
//! check every number: an exact binomial tail, the chi-square survival
//! function (through the regularized upper incomplete gamma function), a
//! mean and sample standard deviation, and the tolerant comparisons the
//! rules share.
//!
//! Every function here returns a number for any input: NaN in gives NaN (or
//! `None`) out, never a panic.

/// Relative slack for comparisons of decimal values held as binary floats:
/// 30 × 1.05 is 31.500000000000004 in `f64`, and a reported 31.5 must not
/// land inside a band that ends at 31.5.
const REL_EPS: f64 = 1e-9;

/// The slack allowed around `line` (at least an absolute 1e-9).
pub(super) fn slack(line: f64) -> f64 {
    REL_EPS * line.abs().max(1.0)
}

/// `v ≥ line`, allowing [`slack`]: a reported 30.0 passes a pass line of 30.
pub(super) fn at_least(v: f64, line: f64) -> bool {
    v >= line - slack(line)
}

/// `v < line`, allowing [`slack`]: the open upper end of a band.
pub(super) fn below(v: f64, line: f64) -> bool {
    v < line - slack(line)
}

/// Mean and sample standard deviation (divisor n − 1) of finite values;
/// `None` below two values or if a value is not finite.
pub(super) fn mean_sd(values: &[f64]) -> Option<(f64, f64)> {
    if values.len() < 2 || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let ss = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>();
    let sd = (ss / (n - 1.0)).sqrt();
    (mean.is_finite() && sd.is_finite()).then_some((mean, sd))
}

/// ln(e^a + e^b) without overflow; `-inf` is the empty sum.
fn ln_add_exp(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// P(X ≤ k) for X ~ Binomial(n, p), computed exactly term by term in log
/// space (no normal approximation, so it stays right in the far tail where
/// the rules decide, down to the smallest `f64`).
///
/// The terms come from the recurrence
/// ln P(X = i + 1) = ln P(X = i) + ln((n − i)/(i + 1)) + ln(p/(1 − p)),
/// starting at ln P(X = 0) = n·ln(1 − p), and are summed with
/// log-sum-exp. Cost: k + 1 terms. NaN when p is not in [0, 1].
pub fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if k >= n || p == 0.0 {
        return 1.0;
    }
    if p == 1.0 {
        return 0.0; // all n trials succeed, and k < n
    }
    let ln_q = (-p).ln_1p();
    let ln_odds = p.ln() - ln_q;
    let mut term = n as f64 * ln_q;
    let mut acc = f64::NEG_INFINITY;
    for i in 0..=k {
        acc = ln_add_exp(acc, term);
        term += ((n - i) as f64).ln() - ((i + 1) as f64).ln() + ln_odds;
    }
    acc.exp().min(1.0)
}

/// ln Γ(x) for x > 0: the Lanczos approximation with g = 7 and nine
/// coefficients (Godfrey's; relative error below 1e-15 for x > 0), and the
/// reflection formula below ½. NaN for x ≤ 0 or NaN.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x < 0.5 {
        // Γ(x)Γ(1 − x) = π / sin(πx); sin(πx) > 0 for 0 < x < ½.
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

const GAMMA_EPS: f64 = 1e-15;
const GAMMA_MAX_ITER: usize = 1_000;

/// Q(a, x) = Γ(a, x) / Γ(a), the regularized upper incomplete gamma
/// function, for a > 0 and x ≥ 0 (NaN otherwise).
///
/// As in Numerical Recipes (§6.2): for x < a + 1 the power series of the
/// lower function P(a, x) = e^{−x} x^a / Γ(a + 1) · Σ xⁿ / ((a + 1)…(a + n))
/// converges fast and Q = 1 − P (Q is not small there, so nothing is lost);
/// otherwise Legendre's continued fraction for Q, evaluated with the
/// modified Lentz method. Both stop at a relative step of 1e-15.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if a.is_nan() || x.is_nan() || a <= 0.0 || x < 0.0 || a.is_infinite() {
        return f64::NAN;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    let ln_prefix = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        let mut ap = a;
        let mut del = 1.0 / a;
        let mut sum = del;
        for _ in 0..GAMMA_MAX_ITER {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * GAMMA_EPS {
                break;
            }
        }
        (1.0 - sum * ln_prefix.exp()).clamp(0.0, 1.0)
    } else {
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..GAMMA_MAX_ITER {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < GAMMA_EPS {
                break;
            }
        }
        (ln_prefix.exp() * h).clamp(0.0, 1.0)
    }
}

/// P(χ²_df > x), the chi-square survival function: Q(df/2, x/2). 1 for
/// x ≤ 0, NaN for NaN or df = 0.
pub fn chi_square_sf(x: f64, df: u32) -> f64 {
    if x.is_nan() || df == 0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    gamma_q(f64::from(df) / 2.0, x / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(f64::MIN_POSITIVE)
    }

    // Reference values: exact rational sums (Python fractions) for the
    // binomial, mpmath at 30 digits for the gamma functions.

    #[test]
    fn r17_binomial_cdf_matches_exact_sums() {
        let cases = [
            (2, 10, 0.5, 0.054_687_5),
            (0, 20, 0.1, 0.121_576_654_590_569_3),
            (1, 100, 0.08, 0.002_319_315_132_543_938_7),
            (0, 60, 0.08, 0.006_718_458_528_881_649_5),
            (900, 10_000, 0.1, 0.000_385_161_138_072_435_6),
            (3, 500, 0.05, 2.467_547_945_590_103_3e-8),
            (0, 1_000, 0.05, 5.291_822_747_745_047_4e-23),
        ];
        for (k, n, p, want) in cases {
            let got = binomial_cdf(k, n, p);
            assert!(close(got, want, 1e-9), "P(X<={k} | n={n}, p={p}) = {got}, want {want}");
        }
    }

    #[test]
    fn r17_binomial_cdf_edges() {
        assert_eq!(binomial_cdf(5, 5, 0.3), 1.0);
        assert_eq!(binomial_cdf(0, 50, 0.0), 1.0);
        assert_eq!(binomial_cdf(3, 50, 1.0), 0.0);
        assert!(binomial_cdf(3, 50, f64::NAN).is_nan());
        assert!(binomial_cdf(3, 50, 1.5).is_nan());
        // A sum over every term is 1.
        assert!(close(binomial_cdf(99, 100, 0.5) + 0.5f64.powi(100), 1.0, 1e-12));
    }

    #[test]
    fn r17_chi_square_sf_at_the_table_critical_values() {
        // 9 degrees of freedom: the 5% and 1% critical values of the tables.
        assert!((chi_square_sf(16.919, 9) - 0.05).abs() < 1e-5);
        assert!((chi_square_sf(21.666, 9) - 0.01).abs() < 1e-5);
        let cases = [
            (16.919, 9, 0.049_999_640_848_349_8),
            (21.666, 9, 0.009_999_979_883_498_32),
            (0.5, 9, 0.999_969_566_258_839),
            (3.0, 9, 0.964_294_972_685_089),
            (9.0, 9, 0.437_274_188_913_867),
            (30.0, 9, 0.000_438_721_770_979_479),
            (50.0, 9, 1.077_238_202_257_47e-7),
            (100.0, 9, 1.573_517_630_375_39e-17),
            (200.0, 9, 3.312_992_393_909_55e-38),
            (5.0, 1, 0.025_347_318_677_468_3),
        ];
        for (x, df, want) in cases {
            let got = chi_square_sf(x, df);
            assert!(close(got, want, 1e-9), "sf({x}, {df}) = {got}, want {want}");
        }
        // Two degrees of freedom have a closed form: e^{-x/2}.
        for x in [0.1, 1.0, 4.0, 20.0, 80.0] {
            assert!(close(chi_square_sf(x, 2), (-x / 2.0).exp(), 1e-12));
        }
        assert_eq!(chi_square_sf(0.0, 9), 1.0);
        assert_eq!(chi_square_sf(-3.0, 9), 1.0);
        assert_eq!(chi_square_sf(f64::INFINITY, 9), 0.0);
        assert!(chi_square_sf(f64::NAN, 9).is_nan());
    }

    #[test]
    fn r17_ln_gamma_matches_reference() {
        assert!(close(ln_gamma(4.5), 2.453_736_570_842_442_2, 1e-13));
        assert!(close(ln_gamma(0.5), 0.572_364_942_924_700_1, 1e-13));
        assert!(close(ln_gamma(100.5), 361.435_540_467_777_6, 1e-13));
        assert!(close(ln_gamma(0.1), 2.252_712_651_734_206, 1e-12));
        assert!(ln_gamma(0.0).is_nan());
        assert!(ln_gamma(-1.0).is_nan());
    }

    #[test]
    fn r17_mean_sd_and_comparisons() {
        let (m, s) = mean_sd(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert!(close(m, 5.0, 1e-15));
        assert!(close(s, (32.0f64 / 7.0).sqrt(), 1e-15));
        assert!(mean_sd(&[1.0]).is_none());
        assert!(mean_sd(&[1.0, f64::NAN]).is_none());
        assert!(at_least(30.0, 30.0));
        assert!(!at_least(29.9, 30.0));
        assert!(!below(31.5, 30.0 * 1.05));
        assert!(below(31.4, 30.0 * 1.05));
    }
}
