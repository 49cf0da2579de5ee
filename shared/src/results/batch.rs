//! Acceptance of a batch (检验批) of concrete by its group values, GB/T
//! 50107-2010 (混凝土强度检验评定标准).
//!
//! * Statistical method with unknown σ, n ≥ 10 groups (§5.1.3):
//!   mean ≥ fcu,k + λ1·S and min ≥ λ2·fcu,k, with λ1 = 1.15 / 1.05 / 0.95
//!   for n = 10–14 / 15–19 / ≥ 20, λ2 = 0.90 for n = 10–14 and 0.85 from 15,
//!   and S the sample standard deviation, at least 2.5 MPa.
//! * Non-statistical method, n < 10 (§5.2.2): mean ≥ λ3·fcu,k with
//!   λ3 = 1.15 below C60 and 1.10 from C60, and min ≥ λ4·fcu,k, λ4 = 0.95.
//!
//! The known-σ method (§5.1.2) needs σ from earlier production and its
//! numbers are *unconfirmed* in our notes: not implemented.
//!
//! Decisions are taken on the raw values (no intermediate rounding, GB/T
//! 8170's "one step"); the result carries the mean to 0.1 MPa and S to
//! 0.01 MPa for display (the standard's stated precisions, *unconfirmed*).

use super::ResultsError;
use super::concrete::ConcreteGrade;
use super::rounding::Rounded;
use serde::{Deserialize, Serialize};

/// The floor on S in the statistical method, MPa.
pub const MIN_STD_DEV_MPA: f64 = 2.5;

/// Which method judged the batch and with which coefficients.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Method {
    /// n ≥ 10.
    Statistical { lambda1: f64, lambda2: f64 },
    /// n < 10.
    NonStatistical { lambda3: f64, lambda4: f64 },
}

/// The two criteria every method checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionName {
    /// The mean against its required value.
    Mean,
    /// The smallest group value against its required value.
    Minimum,
}

/// One criterion: what was required, what the batch has, whether it holds
/// (`actual ≥ required`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub name: CriterionName,
    pub required_mpa: f64,
    pub actual_mpa: f64,
    pub pass: bool,
}

/// The batch verdict and everything that explains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchEvaluation {
    pub grade: ConcreteGrade,
    pub n: usize,
    pub method: Method,
    /// The mean of the group values.
    pub mean_mpa: Rounded,
    /// The sample standard deviation as computed (statistical method only).
    pub std_dev_mpa: Option<Rounded>,
    /// The S used in the criterion: the computed one floored at 2.5 MPa.
    pub std_dev_used_mpa: Option<f64>,
    pub min_mpa: f64,
    pub criteria: Vec<Criterion>,
    pub pass: bool,
}

/// λ1 and λ2 of the statistical method for `n` ≥ 10 groups.
pub fn statistical_coefficients(n: usize) -> (f64, f64) {
    match n {
        0..15 => (1.15, 0.90),
        15..20 => (1.05, 0.85),
        _ => (0.95, 0.85),
    }
}

/// λ3 and λ4 of the non-statistical method for a grade.
pub fn non_statistical_coefficients(grade: ConcreteGrade) -> (f64, f64) {
    if grade.is_high_strength() { (1.10, 0.95) } else { (1.15, 0.95) }
}

/// Judges a batch from its group values (MPa, already converted to the
/// 150 mm cube: [`super::concrete::GroupStrength::value_mpa`], raw or
/// rounded as the caller keeps them). Void groups are not group values and
/// must be left out by the caller.
///
/// Errors: no values, or a value that is not finite and positive.
pub fn evaluate_batch(
    group_values_mpa: &[f64],
    grade: ConcreteGrade,
) -> Result<BatchEvaluation, ResultsError> {
    let n = group_values_mpa.len();
    if n == 0 {
        return Err(ResultsError::EmptyBatch);
    }
    if let Some(&value) = group_values_mpa.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
        return Err(ResultsError::BadValue { value });
    }
    let mean = group_values_mpa.iter().sum::<f64>() / n as f64;
    let min = group_values_mpa.iter().copied().fold(f64::INFINITY, f64::min);
    let fcu_k = grade.fcu_k();
    let (method, std_dev, std_dev_used, mean_required, min_required) = if n >= 10 {
        let (lambda1, lambda2) = statistical_coefficients(n);
        // Two passes (mean first): the textbook Σf² − n·m² loses digits.
        let s = (group_values_mpa.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        let used = s.max(MIN_STD_DEV_MPA);
        (
            Method::Statistical { lambda1, lambda2 },
            Some(Rounded::new(s, 0.01)?),
            Some(used),
            fcu_k + lambda1 * used,
            lambda2 * fcu_k,
        )
    } else {
        let (lambda3, lambda4) = non_statistical_coefficients(grade);
        (Method::NonStatistical { lambda3, lambda4 }, None, None, lambda3 * fcu_k, lambda4 * fcu_k)
    };
    // A relative 1e-9 keeps 1.15 × 30 = 34.5 from failing a mean of exactly 34.5.
    let holds = |actual: f64, required: f64| actual >= required * (1.0 - 1e-9);
    let criteria = vec![
        Criterion {
            name: CriterionName::Mean,
            required_mpa: mean_required,
            actual_mpa: mean,
            pass: holds(mean, mean_required),
        },
        Criterion {
            name: CriterionName::Minimum,
            required_mpa: min_required,
            actual_mpa: min,
            pass: holds(min, min_required),
        },
    ];
    let pass = criteria.iter().all(|c| c.pass);
    Ok(BatchEvaluation {
        grade,
        n,
        method,
        mean_mpa: Rounded::new(mean, 0.1)?,
        std_dev_mpa: std_dev,
        std_dev_used_mpa: std_dev_used,
        min_mpa: min,
        criteria,
        pass,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r12_gbt50107_statistical_passes_and_explains() {
        // Ten groups of C30: mean 38.0, S ≈ 2.11 → floored to 2.5.
        let v = [35.0, 36.0, 37.0, 37.5, 38.0, 38.0, 38.5, 39.0, 40.0, 41.0];
        let e = evaluate_batch(&v, ConcreteGrade(30)).unwrap();
        assert_eq!(e.method, Method::Statistical { lambda1: 1.15, lambda2: 0.90 });
        assert_eq!(e.std_dev_used_mpa, Some(2.5));
        assert!((e.criteria[0].required_mpa - (30.0 + 1.15 * 2.5)).abs() < 1e-12);
        assert!((e.criteria[1].required_mpa - 27.0).abs() < 1e-12);
        assert!(e.pass);
    }

    #[test]
    fn r12_gbt50107_statistical_fails_on_minimum() {
        let mut v = vec![40.0; 15];
        v[0] = 25.0; // 0.85 × 30 = 25.5
        let e = evaluate_batch(&v, ConcreteGrade(30)).unwrap();
        assert_eq!(e.method, Method::Statistical { lambda1: 1.05, lambda2: 0.85 });
        assert!(e.criteria[0].pass);
        assert!(!e.criteria[1].pass);
        assert!(!e.pass);
    }

    #[test]
    fn r12_gbt50107_coefficients_by_n() {
        assert_eq!(statistical_coefficients(10), (1.15, 0.90));
        assert_eq!(statistical_coefficients(14), (1.15, 0.90));
        assert_eq!(statistical_coefficients(15), (1.05, 0.85));
        assert_eq!(statistical_coefficients(19), (1.05, 0.85));
        assert_eq!(statistical_coefficients(20), (0.95, 0.85));
    }

    #[test]
    fn r12_gbt50107_non_statistical_boundary() {
        // C30, 3 groups: mean ≥ 34.5, min ≥ 28.5 — exactly on the line passes.
        let e = evaluate_batch(&[28.5, 37.5, 37.5], ConcreteGrade(30)).unwrap();
        assert_eq!(e.method, Method::NonStatistical { lambda3: 1.15, lambda4: 0.95 });
        assert!(e.pass, "{e:?}");
        let e = evaluate_batch(&[28.4, 37.6, 37.6], ConcreteGrade(30)).unwrap();
        assert!(!e.pass);
        // C60: λ3 = 1.10.
        let e = evaluate_batch(&[66.0, 66.0], ConcreteGrade(60)).unwrap();
        assert_eq!(e.method, Method::NonStatistical { lambda3: 1.10, lambda4: 0.95 });
        assert!(e.pass);
    }

    #[test]
    fn r12_gbt50107_bad_input() {
        assert_eq!(evaluate_batch(&[], ConcreteGrade(30)), Err(ResultsError::EmptyBatch));
        assert!(evaluate_batch(&[30.0, f64::NAN], ConcreteGrade(30)).is_err());
        assert!(evaluate_batch(&[30.0, -1.0], ConcreteGrade(30)).is_err());
    }
}
