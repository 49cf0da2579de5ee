//! The custody steps a device signs, one module each: sampling (R6-R7),
//! witnessing (R8-R9), the commission form and its co-signature (R10), the
//! lab's receipt (R11), and the lab's test data and report (R12-R13). Each builds its payload, checks what only the
//! phone can check, and goes through [`crate::signing`].

mod commission;
mod lab;
mod receipt;
mod sampling;
mod witnessing;

pub use commission::CommissionInput;
pub use lab::{ReportInput, TestDataInput};
pub use receipt::ReceiptInput;
pub use sampling::SamplingInput;
pub use witnessing::WitnessInput;

pub(crate) use sampling::sampled_estimate;

use custody_core::Hash;
use custody_core::place::Fix;
use custody_core::protocol::Finding;
use custody_core::record::MediaRef;
use serde::{Deserialize, Serialize};

/// Sensor results a custody step carries (from the capture pipeline).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FieldEvidence {
    pub media: Vec<MediaRef>,
    pub fixes: Vec<Fix>,
}

/// A record made: its id and what the rules said besides.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Created {
    pub id: Hash,
    pub seq: u64,
    pub kind: String,
    pub warnings: Vec<Finding>,
    pub notices: Vec<Finding>,
}
