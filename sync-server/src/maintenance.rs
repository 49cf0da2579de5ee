//! Keeping everything for the building's life (R14, R21): verify the whole
//! store, back it up, restore it.

use crate::blobs::Blobs;
use crate::ingest::decode_stored;
use crate::logtree;
use crate::store::{Store, StoreError};
use custody_core::record::{ChainTail, check_next};
use custody_core::{Hash, PublicKey};
use std::collections::BTreeMap;
use std::path::Path;

/// What a full verification found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    pub records: u64,
    pub devices: usize,
    pub media: usize,
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Check every record's signature and canonical form, every device chain,
/// the log root against the latest signed checkpoint, and every media hash.
pub fn verify_store(
    store: &Store,
    blobs: &Blobs,
    server_key: &PublicKey,
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
    let listed = blobs.list()?;
    report.media = listed.len();
    for sha in listed {
        match blobs.verify(&sha) {
            Ok(true) => {}
            Ok(false) => report.problems.push(format!("media {sha} does not match its hash")),
            Err(e) => report.problems.push(format!("media {sha}: {e}")),
        }
        let complete = store.read(|tx| Ok(tx.media(&sha)?.is_some_and(|m| m.complete)))?;
        if !complete {
            report.problems.push(format!("media {sha} is on disk but not recorded as complete"));
        }
    }
    Ok(report)
}

/// Copy every object `to` lacks (write-once and content-addressed: an
/// object already there holds the same bytes). The number copied.
pub fn copy_media(from: &Blobs, to: &Blobs) -> Result<usize, StoreError> {
    let have: std::collections::BTreeSet<Hash> = to.list()?.into_iter().collect();
    let mut n = 0;
    for sha in from.list()? {
        if have.contains(&sha) {
            continue;
        }
        let bytes = from.read(&sha)?;
        if Hash::of(&bytes) != sha {
            return Err(StoreError::Corrupt(format!("media {sha} does not match its hash at the source")));
        }
        to.put_whole(&bytes)?;
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
/// `keys` (`key_custody`: unsealed, from escrow, or the public files only).
pub fn restore(
    backup: &Path,
    database: &Path,
    media_dir: &Path,
    keys_dir: &Path,
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
        crate::key_custody::restore_keys(&backup.join("keys"), keys_dir, keys)
            .map_err(|e| StoreError::Conflict(format!("{e} / {}", e.message_zh())))?;
    }
    Ok(())
}

/// Hash of a file on disk (admin inputs).
pub fn file_sha(path: &Path) -> std::io::Result<Hash> {
    Ok(Hash::of(&std::fs::read(path)?))
}
