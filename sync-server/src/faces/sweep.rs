//! The face photos of a whole store: seal every one still in the clear
//! (`admin faces seal`, and the server at start), and rotate the KEK
//! (`admin faces rotate-key`). Both can stop anywhere and run again.

use super::{FaceError, FaceVault, Kek, META_CURRENT, META_RETIRED, Sealing, promote, read_key_file};
use crate::blobs::Blobs;
use crate::store::Store;
use custody_core::Hash;

const BATCH: u32 = 200;

/// What a sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Photos sealed now (they were stored in the clear).
    pub sealed: usize,
    /// Found sealed already (a sealing interrupted after the object was
    /// written is finished and counted here).
    pub already: usize,
    /// Listed as faces, recorded complete, but with no bytes in the store.
    pub missing: Vec<Hash>,
    /// Could not be sealed, with why (left in the clear, nothing lost).
    pub failed: Vec<(Hash, String)>,
}

/// Seal every face photo stored in the clear — a deployment older than
/// face encryption, a face whose record came after its bytes, a sealing a
/// stop interrupted. Idempotent: a second run finds nothing to do.
pub fn seal_all(vault: &FaceVault, store: &Store, blobs: &Blobs, now: i64) -> Result<SweepReport, FaceError> {
    let mut report = SweepReport::default();
    let mut after: Option<Hash> = None;
    loop {
        let batch = store.read(|tx| tx.unsealed_faces(after.as_ref(), BATCH))?;
        let Some(last) = batch.last().copied() else { break };
        for sha in batch {
            match vault.seal_stored(store, blobs, &sha, now) {
                Ok(Sealing::Sealed) => report.sealed += 1,
                Ok(Sealing::AlreadySealed) => report.already += 1,
                Ok(Sealing::NotArrived) => report.missing.push(sha),
                Err(e) => report.failed.push((sha, e.to_string())),
            }
        }
        after = Some(last);
    }
    Ok(report)
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub old: Vec<String>,
    pub new: String,
    /// Data keys re-wrapped (no photo re-encrypted, no object touched).
    pub rewrapped: usize,
}

/// Rotate the KEK: a new one (the next key file, made owner-only, or the
/// one an interrupted rotation left) re-wraps every data key in batches;
/// then, in one transaction, whatever was wrapped meanwhile is re-wrapped,
/// the store's current KEK becomes the new one and the old is retired;
/// then the next key file replaces the key file (the old KEK is gone from
/// disk). Instances on other machines need the new key file (docs/operations.md).
pub fn rotate(vault: &FaceVault, store: &Store) -> Result<Rotation, FaceError> {
    let files = vault.files().ok_or_else(|| FaceError::KeyFormat { path: "(in memory)".into() })?.clone();
    vault.reload(store)?;
    let new = match read_key_file(&files.next)? {
        Some(k) => k,
        None => {
            let k = Kek::generate();
            crate::keys::write_private(&files.next, k.to_file_text().as_bytes())
                .map_err(super::io_err(&files.next))?;
            k
        }
    };
    let old: Vec<String> = vault.held_ids().into_iter().filter(|id| id != new.id()).collect();
    vault.hold(new.clone());
    let mut rewrapped = 0;
    let mut after: Option<Hash> = None;
    loop {
        let rows = store.read(|tx| tx.face_keys_not_wrapped_by(new.id(), after.as_ref(), BATCH))?;
        let Some(last) = rows.last().map(|r| r.sha256) else { break };
        let mut moved = Vec::with_capacity(rows.len());
        for row in &rows {
            let key = vault.data_key(Some(store), row)?;
            moved.push((row.sha256, row.kek.clone(), new.wrap(&row.sha256, &key.key)));
        }
        rewrapped += store.write(|tx| {
            let mut n = 0;
            for (sha, from, wrapped) in &moved {
                n += usize::from(tx.rewrap_face_key(sha, from, new.id(), wrapped)?);
            }
            Ok(n)
        })?;
        after = Some(last);
    }
    // The switch: nothing wrapped by an old key may remain once it is
    // retired. Writers of new keys check the current KEK in their own
    // transaction, so none slips in after the one that switches; a pass
    // that finds more (written meanwhile) re-wraps them and tries again.
    loop {
        let rows = store.read(|tx| tx.face_keys_not_wrapped_by(new.id(), None, BATCH))?;
        let mut moved = Vec::with_capacity(rows.len());
        for row in &rows {
            let key = vault.data_key(Some(store), row)?;
            moved.push((row.sha256, row.kek.clone(), new.wrap(&row.sha256, &key.key)));
        }
        let (n, switched) = store.write(|tx| {
            let mut n = 0;
            for (sha, from, wrapped) in &moved {
                n += usize::from(tx.rewrap_face_key(sha, from, new.id(), wrapped)?);
            }
            if !tx.face_keys_not_wrapped_by(new.id(), None, 1)?.is_empty() {
                return Ok((n, false));
            }
            let mut retired = super::retired(tx)?;
            for id in &old {
                if !retired.contains(id) {
                    retired.push(id.clone());
                }
            }
            tx.set_meta(META_RETIRED, &retired.join(","))?;
            tx.set_meta(META_CURRENT, new.id())?;
            Ok((n, true))
        })?;
        rewrapped += n;
        if switched {
            break;
        }
    }
    promote(&files)?;
    vault.reload(store)?;
    Ok(Rotation { old, new: new.id().to_owned(), rewrapped })
}

/// At start, in the background: seal what an older version or a stop left
/// in the clear (several instances may do so at once: every step is
/// idempotent and the first data key written for a photo is the one kept).
pub fn spawn(state: crate::AppState) {
    tokio::task::spawn_blocking(move || {
        match seal_all(&state.faces, &state.store, &state.blobs, state.now()) {
            Ok(r) if r.sealed > 0 || !r.failed.is_empty() => tracing::info!(
                sealed = r.sealed,
                already = r.already,
                missing = r.missing.len(),
                failed = r.failed.len(),
                "face photos stored in the clear sealed at start"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "sealing face photos at start failed; `admin faces seal` retries")
            }
        }
    });
}
