//! What face photos encrypted at rest keep, and who read them (issue 18;
//! PIPL: a face is sensitive personal information): each sealed photo's
//! data key, wrapped by the key-encryption key that lives in a file outside
//! the database and the media store ([`FaceKeyRow`]), and every read of a
//! face photo by anyone, through any path ([`FaceReadRow`], append-only:
//! the store offers no way to change or remove one). Part of every
//! [`Tx`](super::Tx) (`Tx: FacesTx`), written once for both back ends in
//! `tx/faces.rs`.

use super::{RecordRow, Result};
use custody_core::Hash;
use custody_core::model::Id;

/// One face photo's data key, as the key-encryption key (KEK) wrapped it.
/// Written before the sealed object (so an object never exists without its
/// key), never replaced; only a KEK rotation re-wraps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceKeyRow {
    /// SHA-256 of the photo itself: its content address, what the device signed.
    pub sha256: Hash,
    /// Which KEK wrapped the data key (its id, `crate::faces`).
    pub kek: String,
    /// The data key wrapped: nonce ‖ ciphertext ‖ tag, bound to `sha256`.
    pub wrapped_key: Vec<u8>,
    /// The nonce the photo was sealed under (12 bytes).
    pub nonce: Vec<u8>,
    /// The AEAD (`chacha20-poly1305`).
    pub alg: String,
    /// Bytes of the photo.
    pub size: u64,
    /// SHA-256 of the sealed object: checked without the KEK (a restore
    /// drill that holds no key still finds a changed byte).
    pub sealed_sha256: Hash,
    pub created_ms: i64,
    /// When the sealed object was in place, read back, and any copy in the
    /// clear removed. `None`: sealing was interrupted (the sweep finishes it).
    pub sealed_ms: Option<i64>,
}

/// How a face photo left the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The device API (`GET /v1/media/{sha}/content`): a person's own
    /// enrolled reference, to their phone, for the 1:1 check (R1).
    Api,
    /// The web console's file view (`/console/media/{sha}`).
    Console,
    /// An export that carries the photo itself (`admin export`, the
    /// archive of issue 18; the console's CSV exports name hashes only).
    Export,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Api => "api",
            Via::Console => "console",
            Via::Export => "export",
        }
    }
}

/// One read of a face photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceReadRow {
    /// Its place in the log (assigned on insert).
    pub seq: u64,
    pub at_ms: i64,
    /// Which photo.
    pub sha256: Hash,
    /// Whose face it is (the person it shows), when the records say.
    pub subject: Option<Id>,
    /// Who read it: a console account's name, or `device <fingerprint>`.
    pub reader: String,
    /// The directory person behind the reader, if any (administrators have none).
    pub reader_person: Option<Id>,
    /// The path it left by: `api`, `console` or `export` ([`Via`]).
    pub via: String,
    /// The client's address, where the path knows it (`-` otherwise).
    pub ip: String,
}

pub trait FacesTx {
    /// Whether any stored record lists `sha` as a face photo (whatever
    /// became of the record: a refused record's face is still a face).
    fn is_face(&mut self, sha: &Hash) -> Result<bool>;
    fn face_key(&mut self, sha: &Hash) -> Result<Option<FaceKeyRow>>;
    /// Keep `row` unless the photo has a data key already (the first one
    /// written stays: its sealed object may exist).
    fn insert_face_key(&mut self, row: &FaceKeyRow) -> Result<()>;
    /// The sealed object is in place and nothing of the photo is left in the clear.
    fn mark_face_sealed(&mut self, sha: &Hash, now: i64) -> Result<()>;
    /// Replace a data key wrapped by `from` with `wrapped` under `to`;
    /// false if it is no longer wrapped by `from` (re-wrapped meanwhile).
    fn rewrap_face_key(&mut self, sha: &Hash, from: &str, to: &str, wrapped: &[u8]) -> Result<bool>;
    /// Data keys wrapped by any KEK but `kek`, after `after` by photo hash.
    fn face_keys_not_wrapped_by(
        &mut self,
        kek: &str,
        after: Option<&Hash>,
        limit: u32,
    ) -> Result<Vec<FaceKeyRow>>;
    /// How many data keys each KEK wraps.
    fn face_key_counts(&mut self) -> Result<Vec<(String, u64)>>;
    /// Face photos whose bytes have arrived and that are not (or not
    /// completely) sealed, after `after` by hash.
    fn unsealed_faces(&mut self, after: Option<&Hash>, limit: u32) -> Result<Vec<Hash>>;
    /// The stored records that list `sha` as a face photo, in log order.
    fn records_listing_face(&mut self, sha: &Hash) -> Result<Vec<RecordRow>>;

    /// Append to the face-read log.
    fn insert_face_read(&mut self, r: &FaceReadRow) -> Result<()>;
    /// The newest reads before `before` (exclusive; `None`: the newest).
    fn face_reads(&mut self, before: Option<u64>, limit: u32) -> Result<Vec<FaceReadRow>>;
    /// The newest reads of the face photos of `subject`.
    fn face_reads_of(&mut self, subject: &Id, limit: u32) -> Result<Vec<FaceReadRow>>;
}
