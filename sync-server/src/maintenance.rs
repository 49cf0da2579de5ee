//! Keeping everything for the building's life (R14, R21): verify the whole
//! store, back it up, restore it.

use crate::blobs::Blobs;
use crate::faces::FaceVault;
use crate::ingest::decode_stored;
use crate::logtree;
use crate::store::{Store, StoreError};
use custody_core::record::{ChainTail, check_next};
use custody_core::{Hash, PublicKey};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What a full verification found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    pub records: u64,
    pub devices: usize,
    /// Distinct media files stored (in the clear or sealed).
    pub media: usize,
    /// Face photos stored sealed (issue 18).
    pub faces_sealed: usize,
    /// Of those, how many were opened with the KEK and matched their hash
    /// (the others were checked against their sealed bytes' hash only: a
    /// restore drill without the passphrase holds no KEK).
    pub faces_opened: usize,
    /// Face photos still stored in the clear (`admin faces seal` seals them).
    pub faces_plain: usize,
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Check every record's signature and canonical form, every device chain,
/// the log root against the latest signed checkpoint, and every media hash
/// — a sealed face photo's by opening it with the KEK in `faces` (its
/// plaintext must hash to its name), or without one by its sealed bytes'
/// recorded hash.
pub fn verify_store(
    store: &Store,
    blobs: &Blobs,
    server_key: &PublicKey,
    faces: Option<&FaceVault>,
) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport::default();
    let mut tails: BTreeMap<PublicKey, ChainTail> = BTreeMap::new();
    let mut from = 0u64;
    loop {
        let batch = store.read(|tx| tx.records_from(from, 1000))?;
        if batch.is_empty() {
            break;
        }
        for row in &batch {
            report.records += 1;
            if row.log_index != report.records - 1 {
                report
                    .problems
                    .push(format!("log index gap before record {} (index {})", row.id, row.log_index));
            }
            let rec = match decode_stored(row) {
                Ok(r) => r,
                Err(e) => {
                    report.problems.push(e.to_string());
                    continue;
                }
            };
            if rec.id() != row.id {
                report.problems.push(format!("record {} hashes to {}", row.id, rec.id()));
            }
            if let Err(e) = rec.verify_signatures() {
                report.problems.push(format!("record {}: {e}", row.id));
            }
            if let Err(e) = check_next(tails.get(&rec.body().device), rec.body()) {
                report.problems.push(format!("record {}: chain: {e}", row.id));
            }
            tails.insert(rec.body().device, rec.tail());
        }
        from = batch.last().map(|r| r.log_index + 1).unwrap_or(from);
    }
    report.devices = tails.len();
    store.read(|tx| {
        for (device, tail) in &tails {
            match tx.chain(device)? {
                Some((t, _)) if t == *tail => {}
                other => report.problems.push(format!(
                    "chain head of {} is {:?}, records end at {:?}",
                    device.fingerprint(),
                    other.map(|x| x.0),
                    tail
                )),
            }
        }
        let size = tx.log_size()?;
        if size != report.records {
            report
                .problems
                .push(format!("log holds {size} leaves but {} records are stored", report.records));
        }
        if let Some(c) = tx.latest_checkpoint()? {
            // Signed by this key or one it rotated away from (issue 18).
            if c.verify(&crate::keys::known_keys(server_key, &crate::keys::handovers(tx)?)).is_err() {
                report.problems.push("latest checkpoint's signature does not verify".into());
            }
            let root = logtree::root(tx, c.checkpoint.size)?;
            if root != c.checkpoint.root {
                report.problems.push(format!(
                    "log root at size {} differs from the signed checkpoint",
                    c.checkpoint.size
                ));
            }
            // Recompute the root from the records themselves, not the stored nodes.
            let mut leaves = Vec::with_capacity(c.checkpoint.size as usize);
            let mut from = 0;
            while (leaves.len() as u64) < c.checkpoint.size {
                let rows = tx.records_from(from, 5000)?;
                if rows.is_empty() {
                    break;
                }
                for r in &rows {
                    if (leaves.len() as u64) < c.checkpoint.size {
                        leaves.push(custody_core::log::leaf_hash(&r.id));
                    }
                }
                from = rows.last().map(|r| r.log_index + 1).unwrap_or(from);
            }
            let mut oracle = custody_core::log::memory_oracle(&leaves);
            if custody_core::log::root(leaves.len() as u64, &mut oracle) != c.checkpoint.root {
                report.problems.push("the records do not hash to the signed log root".into());
            }
        }
        Ok(())
    })?;
    verify_media(store, blobs, faces, &mut report)?;
    Ok(report)
}

/// Every media object's hash, into `report`: an object in the clear
/// re-hashed, a sealed face photo opened with the KEK (or without one
/// checked by its sealed bytes' recorded hash); each must be recorded complete.
fn verify_media(
    store: &Store,
    blobs: &Blobs,
    faces: Option<&FaceVault>,
    report: &mut VerifyReport,
) -> Result<(), StoreError> {
    let listed = blobs.list()?;
    let sealed = blobs.list_sealed()?;
    report.media = listed.iter().chain(&sealed).collect::<BTreeSet<_>>().len();
    for sha in listed {
        match blobs.verify(&sha) {
            Ok(true) => {}
            Ok(false) => report.problems.push(format!("media {sha} does not match its hash")),
            Err(e) => report.problems.push(format!("media {sha}: {e}")),
        }
        let (complete, face) =
            store.read(|tx| Ok((tx.media(&sha)?.is_some_and(|m| m.complete), tx.is_face(&sha)?)))?;
        if !complete {
            report.problems.push(format!("media {sha} is on disk but not recorded as complete"));
        }
        report.faces_plain += usize::from(face);
    }
    for sha in sealed {
        report.faces_sealed += 1;
        let (complete, row) =
            store.read(|tx| Ok((tx.media(&sha)?.is_some_and(|m| m.complete), tx.face_key(&sha)?)))?;
        if !complete {
            report.problems.push(format!("media {sha} is on disk but not recorded as complete"));
        }
        let Some(row) = row else {
            report.problems.push(format!("media {sha}: sealed, but the database holds no data key for it"));
            continue;
        };
        let Some(bytes) = blobs.read_sealed(&sha)? else { continue };
        match faces {
            Some(vault) => match vault.open_sealed(&row, &bytes) {
                Ok(_) => report.faces_opened += 1,
                Err(e) => report.problems.push(format!("media {sha}: {e}")),
            },
            None if Hash::of(&bytes) != row.sealed_sha256 => report
                .problems
                .push(format!("media {sha}: its sealed bytes do not match their recorded hash")),
            None => {}
        }
    }
    Ok(())
}

/// Copy every object `to` lacks (write-once and content-addressed: an
/// object already there holds the same bytes). Sealed face photos are
/// copied as they are, never opened (their data keys travel with the
/// database; the verification after a copy opens them). The number copied.
pub fn copy_media(from: &Blobs, to: &Blobs) -> Result<usize, StoreError> {
    let have: BTreeSet<Hash> = to.list()?.into_iter().collect();
    let mut n = 0;
    for sha in from.list()? {
        if have.contains(&sha) {
            continue;
        }
        let bytes = match from.read(&sha) {
            Ok(b) => b,
            // Sealed since it was listed: copied with the sealed ones below.
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e.into()),
        };
        if Hash::of(&bytes) != sha {
            return Err(StoreError::Corrupt(format!("media {sha} does not match its hash at the source")));
        }
        to.put_whole(&bytes)?;
        n += 1;
    }
    let have: BTreeSet<Hash> = to.list_sealed()?.into_iter().collect();
    for sha in from.list_sealed()? {
        if have.contains(&sha) {
            continue;
        }
        let bytes = from
            .read_sealed(&sha)?
            .ok_or_else(|| StoreError::Media(format!("sealed media {sha} vanished at the source")))?;
        to.put_sealed(&sha, &bytes)?;
        n += 1;
    }
    Ok(n)
}

/// A directory only its owner can enter (keys, backups, restore drills).
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Restore a backup into an empty data directory. The keys: a data
/// directory that already has its own is kept; otherwise they come from
/// `keys` (`key_custody`: unsealed, from escrow, or the public files only),
/// the face photos' KEK to `face_key` (`[storage] face_key_file`).
pub fn restore(
    backup: &Path,
    database: &Path,
    media_dir: &Path,
    keys_dir: &Path,
    face_key: &Path,
    keys: &crate::key_custody::KeySource,
) -> Result<(), StoreError> {
    if database.exists() {
        return Err(StoreError::Conflict(format!(
            "{} exists: restore only into an empty data directory",
            database.display()
        )));
    }
    if let Some(d) = database.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::copy(backup.join("custody.sqlite"), database)?;
    copy_media(&Blobs::open(&backup.join("media"))?, &Blobs::open(media_dir)?)?;
    if !keys_dir.exists() {
        crate::key_custody::restore_keys(&backup.join("keys"), keys_dir, face_key, keys)
            .map_err(|e| StoreError::Conflict(format!("{e} / {}", e.message_zh())))?;
    }
    Ok(())
}

/// Hash of a file on disk (admin inputs).
pub fn file_sha(path: &Path) -> std::io::Result<Hash> {
    Ok(Hash::of(&std::fs::read(path)?))
}
