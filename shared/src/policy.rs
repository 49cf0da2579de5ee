//! Thresholds of the rules. They are configuration, not constants buried in
//! code: a city may tighten them. Defaults are documented with their reasons.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Policy {
    /// R8: the witness record must be completed within this long after the
    /// sampling (A6.3: "20 分钟内").
    pub witness_window_ms: i64,
    /// Worst-case rate error of a phone's monotonic clock. Phone crystals are
    /// specified at +-20..50 ppm; 1000 ppm (0.1 %) leaves a wide margin for
    /// temperature on a winter site, and still adds only 1.2 s per 20 min.
    pub mono_drift_ppm: u32,
    /// A wall clock further than this from the trusted time is reported as a
    /// clock that was set wrong (deliberately or not).
    pub clock_skew_tolerance_ms: i64,
    /// How many "accuracy radii" a fix's true position may lie from the
    /// reported one. Android reports a 68 % radius; 2.0 is about 95 %.
    pub accuracy_sigma: f64,
    /// A fix whose reported accuracy is worse than this does not count as a
    /// location for R7/R8 (city blocks, not a site).
    pub max_fix_accuracy_m: f64,
    /// R8-R9: the witness's and the sampler's fixes must be this close.
    pub co_presence_max_m: f64,
    /// Speed between consecutive fixes above which the track is implausible.
    pub max_plausible_speed_mps: f64,
    /// Face-match similarity at or above which a face check counts as a match.
    /// 0.70 is dlib's published same-person distance (d < 0.6) on the
    /// pipeline's `1 - d/2` score; src-tauri/capture/README.md has the
    /// measurements behind it.
    pub face_match_threshold: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            witness_window_ms: 20 * 60 * 1000,
            mono_drift_ppm: 1000,
            clock_skew_tolerance_ms: 2 * 60 * 1000,
            accuracy_sigma: 2.0,
            max_fix_accuracy_m: 50.0,
            co_presence_max_m: 100.0,
            max_plausible_speed_mps: 50.0,
            face_match_threshold: 0.7,
        }
    }
}
