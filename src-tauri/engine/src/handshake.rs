//! The co-presence handshake (R8-R9), with no network: the sampler's phone
//! shows a QR naming the exact signed sampling record (its id and
//! signature), the specimen's tag, where it was taken and when the witness
//! window closes; the witness's phone scans it and its witness record carries
//! the id and signature. The server later checks they are the real record's,
//! and that the two phones' fixes were close (a witness in the site office
//! cannot scan the sampler's screen).
//!
//! The QR stays small enough to scan in sunlight (~600 characters): the whole
//! record does not travel; the witness's phone gets it later from the server.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use custody_core::model::{Id, SpecimenKind};
use custody_core::place::LatLon;
use custody_core::{Hash, PublicKey, Signature, TagCode};
use serde::{Deserialize, Serialize};

pub const PREFIX: &str = "JZH1:";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HandshakeOffer {
    pub record: Hash,
    pub sig: Signature,
    pub device: PublicKey,
    pub author: Id,
    pub author_name: String,
    pub tag: TagCode,
    pub project: Id,
    pub unit_project: Id,
    pub kind: SpecimenKind,
    /// The sampler's best fix and its accuracy (cm).
    pub pos: Option<LatLon>,
    pub accuracy_cm: Option<u32>,
    /// When the sampling was made and when the witness window closes, by the
    /// sampler's best (anchor-based) estimate. For the countdown only: the
    /// server judges the 20 minutes on proven time.
    pub sampled_ms: i64,
    pub deadline_ms: i64,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("not a sampling handshake QR of this system")]
pub struct NotAHandshake;

impl HandshakeOffer {
    pub fn to_qr(&self) -> String {
        let json = custody_core::canonical::to_canonical(self).expect("offer is canonical-safe");
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }
    pub fn from_qr(text: &str) -> Result<HandshakeOffer, NotAHandshake> {
        let b = text.trim().strip_prefix(PREFIX).ok_or(NotAHandshake)?;
        let bytes = URL_SAFE_NO_PAD.decode(b).map_err(|_| NotAHandshake)?;
        serde_json::from_slice(&bytes).map_err(|_| NotAHandshake)
    }
}
