//! Rounding by GB/T 8170-2008 (数值修约规则): to a rounding increment
//! (修约间隔) such as 0.1, 0.5, 1 or 5, exact halves to the even multiple
//! (四舍六入五成双), negative numbers by their absolute value, and always
//! in one step from the raw value — never successively (不得连续修约).
//!
//! Increments of the form 0.5 and 0.2 units follow the standard's recipe
//! (double, or multiply by five, round to the unit, undo), which is the same
//! as rounding `x / increment` to an integer: that is what is done here.
//!
//! Binary floats cannot hold most decimals: 45 × 0.95 is stored as
//! 42.749999999999993, which naive code rounds to 42.7 while the standard's
//! worked example (a decimal computation) gets 42.75 → 42.8. A quotient
//! within a relative 1e-9 of an exact half is therefore taken as the half.
//! Test readings carry four or five significant digits, so no honest value
//! lives within 1e-9 of a half without being one.

use super::ResultsError;
use serde::{Deserialize, Serialize};

/// Common increments, named for where they are used.
pub mod increment {
    /// Concrete cube and group strength (GB/T 50081-2019).
    pub const CONCRETE_MPA: f64 = 0.1;
    /// Rebar strengths (GB/T 228.1; 1 MPa since the 2010 edition, *unconfirmed for 2021*).
    pub const STEEL_MPA: f64 = 1.0;
    /// Elongations A and Agt in percent (GB/T 228.1, *unconfirmed for 2021*).
    pub const ELONGATION_PERCENT: f64 = 0.5;
}

/// Relative slack inside which a quotient counts as an exact half.
const TIE_SLACK: f64 = 1e-9;

/// A value as computed and as reported: the raw one is kept so a later
/// rule set can re-round it, and a reader can see what was rounded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rounded {
    pub raw: f64,
    pub rounded: f64,
    pub increment: f64,
}

impl Rounded {
    /// Rounds `raw` to `increment` (see [`round_to`]).
    pub fn new(raw: f64, increment: f64) -> Result<Rounded, ResultsError> {
        Ok(Rounded { raw, rounded: round_to(raw, increment)?, increment })
    }
}

/// `value` rounded to a multiple of `increment`, half to even, in one step.
///
/// Errors: a non-finite value ([`ResultsError::BadValue`]) or an increment
/// that is not finite and positive ([`ResultsError::BadIncrement`]).
///
/// The result is the decimal nearest to the multiple: for increments
/// 1/k (0.1, 0.01, 0.5 …) it is computed as `n / k`, so 428 × 0.1 comes
/// out as 42.8 and not 42.800000000000004.
pub fn round_to(value: f64, increment: f64) -> Result<f64, ResultsError> {
    if !(increment.is_finite() && increment > 0.0) {
        return Err(ResultsError::BadIncrement { increment });
    }
    if !value.is_finite() {
        return Err(ResultsError::BadValue { value });
    }
    // Increments below 1 are usually the reciprocal of an integer; dividing
    // by that integer is exact where multiplying by 0.1 is not.
    let reciprocal = (1.0 / increment).round();
    let by_reciprocal = increment < 1.0 && ((reciprocal * increment) - 1.0).abs() < 1e-12;
    let quotient = if by_reciprocal { value * reciprocal } else { value / increment };
    let n = half_to_even(quotient);
    let rounded = if by_reciprocal { n / reciprocal } else { n * increment };
    if !rounded.is_finite() {
        return Err(ResultsError::BadValue { value });
    }
    // `+ 0.0` turns −0 into 0: a reader should never see "-0.0 MPa".
    Ok(rounded + 0.0)
}

/// `q` rounded to an integer, exact halves (within [`TIE_SLACK`]) to even.
fn half_to_even(q: f64) -> f64 {
    let floor = q.floor();
    let fraction = q - floor;
    let slack = TIE_SLACK * q.abs().max(1.0);
    if (fraction - 0.5).abs() <= slack {
        if floor.rem_euclid(2.0) == 0.0 { floor } else { floor + 1.0 }
    } else if fraction > 0.5 {
        floor + 1.0
    } else {
        floor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(v: f64, inc: f64) -> f64 {
        round_to(v, inc).unwrap()
    }

    /// GB/T 8170-2008 §3.2–3.3 examples.
    #[test]
    fn r12_gbt8170_examples() {
        // 3.2: 0.1 increment.
        assert_eq!(r(12.1498, 0.1), 12.1);
        assert_eq!(r(1268.0, 10.0), 1270.0);
        assert_eq!(r(10.502, 1.0), 11.0);
        // Exact halves to even.
        assert_eq!(r(1.050, 0.1), 1.0);
        assert_eq!(r(0.35, 0.1), 0.4);
        assert_eq!(r(2500.0, 1000.0), 2000.0);
        assert_eq!(r(3500.0, 1000.0), 4000.0);
        assert_eq!(r(0.0325, 0.001), 0.032);
        // Negative numbers by their absolute value.
        assert_eq!(r(-355.0, 10.0), -360.0);
        assert_eq!(r(-325.0, 10.0), -320.0);
        assert_eq!(r(-0.0365, 0.001), -0.036);
        // 0.5-unit increments (multiply by 2, round, halve).
        assert_eq!(r(60.25, 0.5), 60.0);
        assert_eq!(r(60.38, 0.5), 60.5);
        assert_eq!(r(60.28, 0.5), 60.5);
        assert_eq!(r(-60.75, 0.5), -61.0);
        // 0.2-unit increments (multiply by 5, round, divide).
        assert_eq!(r(830.0, 20.0), 840.0);
        assert_eq!(r(842.0, 20.0), 840.0);
        assert_eq!(r(-930.0, 20.0), -920.0);
    }

    #[test]
    fn r12_binary_float_ties_are_decimal_ties() {
        // 45 × 0.95 is 42.749999999999993 in binary; the standard's example says 42.8.
        assert_eq!(r(45.0 * 0.95, 0.1), 42.8);
        assert_eq!(r(2.675, 0.01), 2.68);
        assert_eq!(r(0.125, 0.01), 0.12);
        assert_eq!(r(1.15, 0.1), 1.2);
        assert_eq!(r(1.25, 0.1), 1.2);
    }

    #[test]
    fn r12_never_successive() {
        // 15.4546 → 15 in one step; successive rounding would give 16.
        assert_eq!(r(15.4546, 1.0), 15.0);
    }

    #[test]
    fn r12_bad_increment_and_value_are_errors() {
        assert!(round_to(1.0, 0.0).is_err());
        assert!(round_to(1.0, -0.1).is_err());
        assert!(round_to(1.0, f64::NAN).is_err());
        assert!(round_to(f64::NAN, 0.1).is_err());
        assert!(round_to(f64::INFINITY, 1.0).is_err());
        assert_eq!(r(-0.04, 0.1), 0.0);
        assert!(r(-0.04, 0.1).is_sign_positive());
    }
}
