//! Column encodings both back ends share: hashes and keys as 32-byte blobs,
//! enums as their serde names, documents as JSON text.

use super::{Result, StoreError};
use custody_core::model::Id;
use custody_core::{Hash, PublicKey};

pub(super) fn hash_col(b: Vec<u8>) -> Result<Hash> {
    let a: [u8; 32] = b.try_into().map_err(|_| StoreError::Corrupt("hash column is not 32 bytes".into()))?;
    Ok(Hash(a))
}
pub(super) fn key_col(b: Vec<u8>) -> Result<PublicKey> {
    let a: [u8; 32] = b.try_into().map_err(|_| StoreError::Corrupt("key column is not 32 bytes".into()))?;
    Ok(PublicKey(a))
}
pub(super) fn json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("stored JSON: {e}")))
}
pub(super) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serialisable")
}
pub(super) fn enum_str<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v).expect("serialisable") {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}
pub(super) fn enum_from<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| StoreError::Corrupt(format!("stored enum {s:?}: {e}")))
}
pub(super) fn id_col(s: String) -> Result<Id> {
    Id::new(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The `records` columns in the order both back ends read them.
pub(super) const RECORD_COLS: &str = "id, log_index, device, seq, kind, author, project, envelope, first_seen_ms, status, verdict, earliest_ms, latest_ms, change_seq";
