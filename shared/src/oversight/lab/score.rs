//! A lab's score (R17): 100 less what each fired signal takes off, every
//! line shown, like a project's (`oversight::project::project_score`).

use super::{Figure, LabSignal, LabWarning};
use serde::{Deserialize, Serialize};

impl LabSignal {
    /// Points the signal takes off a lab's score when it fires at its
    /// threshold; up to twice that when far past it ([`LabWarning::severity`]).
    /// Judgements, by how strongly the signal says the lab's results cannot
    /// be trusted:
    ///
    /// | signal | weight | why |
    /// |---|---|---|
    /// | `near_identical_curves` | 20 | a curve reused for another specimen all but proves a test not run |
    /// | `at_design_value` | 15 | the convicted New York fraud: design values written instead of testing |
    /// | `pass_rate_above_city`, `clustered_above_pass_line` | 10 | results bent towards passing |
    /// | `equipment_out_of_calibration`, `tested_before_age`, `staff_not_matching` | 10 | rules broken outright: the results may be void, if not false |
    /// | `results_edited` | 10 | the Idaho audit's trace of results changed after the fact |
    /// | `too_uniform`, `last_digit_bias` | 5 | statistical leads with innocent explanations (a steady plant, a coarse capture) |
    /// | `reports_replaced` | 5 | reports are corrected honestly too; only many of them matter |
    /// | `equipment_calibration_expiring` | 2 | a reminder, nothing broken yet (up to 4 once ended) |
    ///
    /// Every signal at twice its threshold takes 224 points: the score is
    /// then 0, which it never goes below.
    pub fn weight(self) -> u32 {
        match self {
            LabSignal::NearIdenticalCurves => 20,
            LabSignal::AtDesignValue => 15,
            LabSignal::PassRateAboveCity
            | LabSignal::ClusteredAbovePassLine
            | LabSignal::EquipmentOutOfCalibration
            | LabSignal::TestedBeforeAge
            | LabSignal::StaffNotMatching
            | LabSignal::ResultsEdited => 10,
            LabSignal::TooUniform | LabSignal::LastDigitBias | LabSignal::ReportsReplaced => 5,
            LabSignal::EquipmentCalibrationExpiring => 2,
        }
    }
}

impl LabWarning {
    /// How far past its threshold the warning is, from 1 (at it) to 2 (at
    /// "twice" it or beyond), read the way the figure fires:
    ///
    /// - counts, shares and runs (fire at or above): measured / threshold;
    /// - probabilities (`pass_rate_above_city`, `last_digit_bias`): ln p /
    ///   ln α, orders of magnitude, so p = α² is twice as far as α;
    /// - spread, curve difference, staff per parameter (fire below):
    ///   threshold / measured (a copied curve, difference 0, is 2);
    /// - days of calibration left: 1 + the share of the warning window used
    ///   up (30 days left of 30 is 1, none left or ended is 2).
    ///
    /// An undefined ratio (a threshold of 0, say) counts as 1.
    pub fn severity(&self) -> f64 {
        let (m, t) = (self.measured, self.threshold);
        let ratio = match self.figure {
            Figure::FailureTailProbability | Figure::DigitUniformityP => m.ln() / t.ln(),
            Figure::DaysOfCalibrationLeft => 1.0 + (t - m) / t,
            // Counts and shares fire at or above; spread, curve difference
            // and staff ratio below.
            f if f.fires_at_or_above() => m / t,
            _ => t / m,
        };
        if ratio.is_nan() { 1.0 } else { ratio.clamp(1.0, 2.0) }
    }
}

/// One line of a lab's score: one signal, fired or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabScoreComponent {
    pub signal: LabSignal,
    /// [`LabSignal::weight`].
    pub weight: u32,
    /// Points taken off: 0 when the signal did not fire, else its weight ×
    /// the worst warning's [`LabWarning::severity`], rounded.
    pub deducted: u32,
    /// Warnings of this signal (one per parameter or item, say).
    pub warnings: usize,
    /// The worst warning's figure, measured value and threshold; `None`
    /// when the signal did not fire.
    pub figure: Option<Figure>,
    pub measured: Option<f64>,
    pub threshold: Option<f64>,
}

/// One lab's score: 100 less what each signal takes off, one component per
/// [`LabSignal`] in the order of [`LabSignal::ALL`], quiet ones with 0.
/// A signal takes its weight once, scaled by its worst warning (several
/// parameters over the line count as the worst of them), so the score
/// orders labs by how far past their thresholds they are, not only by how
/// many rules fired. Pass one lab's warnings (from [`super::lab_signals`]
/// and [`super::lab_registry_signals`]); the score never goes below 0.
pub fn lab_score(warnings: &[LabWarning]) -> (u32, Vec<LabScoreComponent>) {
    let mut components = Vec::with_capacity(LabSignal::ALL.len());
    for signal in LabSignal::ALL {
        let mut fired = 0;
        let mut worst: Option<(&LabWarning, f64)> = None;
        for w in warnings.iter().filter(|w| w.signal == signal) {
            fired += 1;
            let severity = w.severity();
            if worst.is_none_or(|(_, s)| severity > s) {
                worst = Some((w, severity));
            }
        }
        let weight = signal.weight();
        components.push(LabScoreComponent {
            signal,
            weight,
            deducted: worst.map_or(0, |(_, s)| (f64::from(weight) * s).round() as u32),
            warnings: fired,
            figure: worst.map(|(w, _)| w.figure),
            measured: worst.map(|(w, _)| w.measured),
            threshold: worst.map(|(w, _)| w.threshold),
        });
    }
    let lost: u32 = components.iter().map(|c| c.deducted).sum();
    (100u32.saturating_sub(lost), components)
}
