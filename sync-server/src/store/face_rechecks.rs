//! What the server's face re-check (issue 19, R1, R7; `crate::face_recheck`)
//! reads and writes ([`FaceRechecksTx`]): its result per record, and which
//! accepted records are ready for one and have none yet.

use super::Result;
use custody_core::Hash;
use custody_core::model::Id;
use custody_core::verify::face_recheck::ServerFaceCheck;

/// Which records to look at for a re-check.
#[derive(Debug, Clone)]
pub enum Pending {
    /// These records (just accepted).
    Records(Vec<Hash>),
    /// Records whose face photo is this file (its upload just completed).
    Photo(Hash),
    /// Records authored by this person (a reference photo just granted).
    Author(Id),
    /// Any (the periodic sweep), oldest first.
    Any,
}

pub trait FaceRechecksTx {
    /// The server's re-check of `record`, if it ran.
    fn face_recheck(&mut self, record: &Hash) -> Result<Option<ServerFaceCheck>>;
    /// Keep the re-check of `record` unless one is kept already (the first
    /// stands: a finding once shown to regulators is not withdrawn by a
    /// later run), except one that could not compare because the reference
    /// had no usable face, which a re-check against another reference
    /// replaces. Whether this one was kept.
    fn insert_face_recheck(&mut self, record: &Hash, check: &ServerFaceCheck) -> Result<bool>;
    /// Accepted sampling and witnessing records among `which` whose face
    /// photo and author's reference have arrived in full and that have no
    /// re-check yet (or only one against a replaced reference without a
    /// usable face), in log order, at most `limit`.
    fn face_recheck_pending(&mut self, which: &Pending, limit: u32) -> Result<Vec<Hash>>;
    /// How many records the server has re-checked (for `admin status`).
    fn face_recheck_count(&mut self) -> Result<u64>;
}
