//! Backups that are proven, kept in rotation, and restored as a drill
//! (issue 20; R14: kept for the building's life, R21: the operator answers
//! for data made untraceable by a fault).
//!
//! * **One format for both back ends**: a directory holding `custody.sqlite`
//!   (a consistent snapshot: SQLite's `VACUUM INTO`, or PostgreSQL copied in
//!   one repeatable-read transaction, [`Store::backup`]), `media/` (every
//!   object, content-addressed), `keys/` and `backup.json` (what was
//!   copied and what its verification found). Anyone can open it with
//!   SQLite alone; `admin migrate` puts it back into PostgreSQL.
//! * **Verified after it is made**: the copy is opened as a store and run
//!   through the same [`verify_store`] as `admin verify` — every record's
//!   signatures and chain, the log against its signed checkpoint, every
//!   media file's hash. A backup that fails is renamed `….failed` and never
//!   counts: retention removes old backups only after a newer one verified,
//!   so the last good one is always there.
//! * **Media are hard-linked** from the previous verified backup when it
//!   already holds the object (write-once and content-addressed, so the same
//!   name is the same bytes): a nightly backup of a large store copies only
//!   the day's new photos, yet every backup directory is complete by itself.
//! * **The restore drill** restores a backup into a scratch directory exactly
//!   as `admin restore` would, opens it with this server version (older
//!   backups are migrated), verifies it in full and compares it with the
//!   manifest: a restore that has never been tried is not a backup.
//!
//! **No private key in the clear** (issue 18, `key_custody`): `keys/` holds
//! the public key and the certificate, and the private keys — the face
//! photos' KEK among them — only sealed with the operator's passphrase
//! (`[backup] key_passphrase_file`), or not at all (then the operator
//! escrows `keys/`). The drill opens the sealed keys when it has the
//! passphrase, and with the KEK opens every face photo of the copy.
//!
//! **Face photos stay sealed** (`crate::faces`): `media/faces/` holds them
//! as the live store does, copied byte for byte and never opened; their
//! data keys travel, wrapped, in the database copy. A face sealed after the
//! snapshot was taken gets its data key copied into the snapshot with it.

use crate::blobs::{Blobs, DirBlobs};
use crate::faces::FaceVault;
use crate::key_custody::{self, KeySource};
use crate::maintenance::{VerifyReport, create_private_dir, restore, verify_store};
use crate::store::{Store, StoreError};
use custody_core::{Hash, PublicKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The manifest written beside every backup (`backup.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Format of this directory; a later server reads every earlier one.
    pub format: u32,
    /// When the snapshot was taken (ms since the epoch, server clock).
    pub created_at_ms: i64,
    pub server_version: String,
    /// The store it was taken from (credentials hidden).
    pub source: String,
    pub server_key: String,
    pub records: u64,
    /// The latest signed checkpoint in the copy: its size and root (hex).
    pub checkpoint_size: u64,
    pub checkpoint_root: String,
    pub media_files: usize,
    pub media_bytes: u64,
    /// Media hard-linked from the previous backup rather than copied.
    pub media_linked: usize,
    pub database_bytes: u64,
    pub database_sha256: String,
    pub verified: bool,
    pub problems: Vec<String>,
    /// Time to copy, and time to verify the copy.
    pub copy_seconds: f64,
    pub verify_seconds: f64,
    /// What `keys/` holds of the private keys: `sealed` with the
    /// operator's passphrase, or `left_out` (escrowed elsewhere); empty in
    /// backups made before keys were sealed (they hold them in the clear).
    #[serde(default)]
    pub key_custody: String,
    /// Face photos in the copy, all sealed (issue 18), and how many of them
    /// the verification opened with the KEK and matched.
    #[serde(default)]
    pub face_photos_sealed: usize,
    #[serde(default)]
    pub face_photos_opened: usize,
}

pub const MANIFEST: &str = "backup.json";
const FORMAT: u32 = 1;

/// The live store a backup is made from: its database, media and the
/// face photos' KEK (which verifies the copy's faces and is sealed into it).
pub struct Live<'a> {
    pub store: &'a Store,
    pub blobs: &'a Blobs,
    pub faces: &'a FaceVault,
}

/// Hard-link `from`'s copy of an object into `target` if it has one (the
/// same name is the same bytes: write-once, content-addressed).
fn link_from(previous: Option<&Path>, target: &Path) -> bool {
    let Some(old) = previous.filter(|p| p.is_file()) else { return false };
    std::fs::create_dir_all(target.parent().expect("objects live in a fan-out directory")).is_ok()
        && std::fs::hard_link(old, target).is_ok()
}

/// Make a backup into `dir` (absent or empty), then verify it.
/// `previous`: a verified backup to hard-link unchanged media from.
pub fn make(
    live: &Live<'_>,
    keys: (&Path, Option<&str>),
    server_key: &PublicKey,
    dir: &Path,
    previous: Option<&Path>,
    now_ms: i64,
) -> Result<Manifest, StoreError> {
    let store = live.store;
    let (keys_dir, passphrase) = keys;
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(StoreError::Conflict(format!("backup directory {} is not empty", dir.display())));
    }
    create_private_dir(dir)?;
    let started = Instant::now();
    let db = dir.join("custody.sqlite");
    store.backup(&db)?;
    let (files, bytes, linked) = copy_media(live, dir, &db, previous)?;
    let custody = key_custody::write_backup_keys(keys_dir, live.faces.files(), &dir.join("keys"), passphrase)
        .map_err(|e| StoreError::Conflict(e.to_string()))?;
    let copy_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let (report, found_key, checkpoint) = verify_copy(dir, Some(live.faces))?;
    let mut problems = report.problems;
    if found_key != Some(*server_key) {
        problems.push(format!(
            "the copy's server key is {:?}, the live server's {}",
            found_key.map(|k| k.to_string()),
            server_key
        ));
    }
    if report.media != files {
        problems.push(format!("{files} media objects were copied but the copy holds {}", report.media));
    }
    let manifest = Manifest {
        format: FORMAT,
        created_at_ms: now_ms,
        server_version: env!("CARGO_PKG_VERSION").into(),
        source: store.describe(),
        server_key: server_key.to_string(),
        records: report.records,
        checkpoint_size: checkpoint.0,
        checkpoint_root: checkpoint.1,
        media_files: files,
        media_bytes: bytes,
        media_linked: linked,
        database_bytes: std::fs::metadata(&db)?.len(),
        database_sha256: Hash::of(&std::fs::read(&db)?).to_hex(),
        verified: problems.is_empty(),
        problems,
        copy_seconds,
        verify_seconds: started.elapsed().as_secs_f64(),
        key_custody: custody.name().into(),
        face_photos_sealed: report.faces_sealed,
        face_photos_opened: report.faces_opened,
    };
    std::fs::write(dir.join(MANIFEST), serde_json::to_vec_pretty(&manifest).expect("a manifest serialises"))?;
    Ok(manifest)
}

/// Copy every media object into the backup `dir` (hard-linked from
/// `previous` when it holds it): those in the clear checked against their
/// name, sealed face photos as stored, each with its data key in the copy
/// of the database `db`. (distinct files, bytes, linked)
fn copy_media(
    live: &Live<'_>,
    dir: &Path,
    db: &Path,
    previous: Option<&Path>,
) -> Result<(usize, u64, usize), StoreError> {
    let (store, blobs) = (live.store, live.blobs);
    let dest = DirBlobs::open(&dir.join("media"))?;
    let prev = previous.map(|p| DirBlobs::open(&p.join("media"))).transpose()?;
    let (mut files, mut bytes, mut linked) = (BTreeSet::new(), 0u64, 0usize);
    for sha in blobs.list()? {
        let target = dest.object_path(&sha);
        if target.is_file() {
            bytes += std::fs::metadata(&target)?.len();
            files.insert(sha);
            continue;
        }
        if link_from(prev.as_ref().map(|p| p.object_path(&sha)).as_deref(), &target) {
            bytes += std::fs::metadata(&target)?.len();
            linked += 1;
            files.insert(sha);
            continue;
        }
        let data = match blobs.read(&sha) {
            Ok(d) => d,
            // Sealed since it was listed: it comes with the sealed ones below.
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e.into()),
        };
        if Hash::of(&data) != sha {
            return Err(StoreError::Corrupt(format!(
                "media {sha} does not match its hash in the live store"
            )));
        }
        dest.put_whole(&data).map_err(|e| StoreError::Media(e.to_string()))?;
        bytes += data.len() as u64;
        files.insert(sha);
    }
    // Sealed face photos, as stored; each with its data key in the copy.
    let mut copy: Option<Store> = None;
    for sha in blobs.list_sealed()? {
        let target = dest.sealed_path(&sha);
        if link_from(prev.as_ref().map(|p| p.sealed_path(&sha)).as_deref(), &target) {
            linked += 1;
        } else {
            let data = blobs
                .read_sealed(&sha)?
                .ok_or_else(|| StoreError::Media(format!("sealed media {sha} vanished while copied")))?;
            dest.put_sealed(&sha, &data)?;
        }
        bytes += std::fs::metadata(&target)?.len();
        files.insert(sha);
        if copy.is_none() {
            copy = Some(Store::open_sqlite(db)?);
        }
        let copy = copy.as_ref().expect("opened above");
        if copy.read(|tx| tx.face_key(&sha))?.is_none()
            && let Some(row) = store.read(|tx| tx.face_key(&sha))?
        {
            copy.write(|tx| tx.insert_face_key(&row))?;
        }
    }
    drop(copy);
    Ok((files.len(), bytes, linked))
}

/// Open a backup (or a restored copy) laid out as a data directory and
/// verify it in full. Its server key, from the database and the key file
/// (they must agree), and its latest checkpoint (size, root hex).
/// What verifying a copy found: the report, its server key, its latest
/// checkpoint (size, root hex).
type CopyFindings = (VerifyReport, Option<PublicKey>, (u64, String));

fn verify_copy(dir: &Path, faces: Option<&FaceVault>) -> Result<CopyFindings, StoreError> {
    let store = Store::open_sqlite(&dir.join("custody.sqlite"))?;
    let blobs = Blobs::open(&dir.join("media"))?;
    let in_db: Option<PublicKey> = store.read(|tx| tx.meta("server_key"))?.and_then(|k| k.parse().ok());
    let in_file = key_custody::backup_public_key(&dir.join("keys"));
    let Some(key) = in_db else {
        return Err(StoreError::Corrupt("the copy names no server key: is it a sync-server backup?".into()));
    };
    let mut report = verify_store(&store, &blobs, &key, faces)?;
    if in_file != Some(key) {
        report.problems.push("the public key in keys/ is not the key the database names".into());
    }
    let checkpoint = store.read(|tx| tx.latest_checkpoint())?;
    let checkpoint =
        checkpoint.map_or((0, String::new()), |c| (c.checkpoint.size, c.checkpoint.root.to_hex()));
    Ok((report, Some(key), checkpoint))
}

/// What a scheduled backup did.
#[derive(Debug)]
pub struct Scheduled {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub removed: Vec<PathBuf>,
}

/// The nightly backup into `root` (`backup.dir`): a dated directory made,
/// verified and only then named as a backup; then the oldest verified
/// backups beyond `keep` and leftovers of interrupted runs are removed.
/// One at a time (a lock file in `root`).
pub fn scheduled(
    live: &Live<'_>,
    keys: (&Path, Option<&str>),
    server_key: &PublicKey,
    root: &Path,
    keep: u32,
    now_ms: i64,
) -> Result<Scheduled, StoreError> {
    create_private_dir(root)?;
    let lock = std::fs::File::create(root.join(".lock"))?;
    lock.try_lock().map_err(|_| {
        StoreError::Conflict(format!("another backup into {} is running (lock {})", root.display(), ".lock"))
    })?;
    let name = stamp(now_ms);
    let done = root.join(&name);
    if done.exists() {
        return Err(StoreError::Conflict(format!("{} exists already", done.display())));
    }
    let work = root.join(format!("{name}.partial"));
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    let previous = list(root)?.pop().map(|(p, _)| p);
    let manifest = make(live, keys, server_key, &work, previous.as_deref(), now_ms)?;
    if !manifest.verified {
        let failed = root.join(format!("{name}.failed"));
        std::fs::rename(&work, &failed)?;
        return Err(StoreError::Corrupt(format!(
            "the backup did not verify (kept for inspection in {}):\n{}",
            failed.display(),
            manifest.problems.join("\n")
        )));
    }
    std::fs::rename(&work, &done)?;
    let mut removed = Vec::new();
    let good = list(root)?;
    let excess = good.len().saturating_sub(keep.max(1) as usize);
    for (old, _) in good.into_iter().take(excess) {
        std::fs::remove_dir_all(&old)?;
        removed.push(old);
    }
    // Leftovers of interrupted runs are not backups.
    for e in std::fs::read_dir(root)? {
        let p = e?.path();
        if p.extension().is_some_and(|x| x == "partial") && p != work {
            std::fs::remove_dir_all(&p)?;
            removed.push(p);
        }
    }
    Ok(Scheduled { dir: done, manifest, removed })
}

/// Verified backups in `root`, oldest first.
pub fn list(root: &Path) -> Result<Vec<(PathBuf, Manifest)>, StoreError> {
    let mut out = Vec::new();
    if !root.is_dir() {
        return Ok(out);
    }
    for e in std::fs::read_dir(root)? {
        let p = e?.path();
        let is_dated = p.file_name().and_then(|n| n.to_str()).is_some_and(|n| parse_stamp(n).is_some());
        if !is_dated {
            continue;
        }
        if let Ok(m) = read_manifest(&p)
            && m.verified
        {
            out.push((p, m));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

pub fn read_manifest(dir: &Path) -> Result<Manifest, StoreError> {
    let bytes = std::fs::read(dir.join(MANIFEST))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| StoreError::Corrupt(format!("{}: {e}", dir.join(MANIFEST).display())))
}

/// `20261127T214233Z`: sorts as time does, readable in a file listing.
pub fn stamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = custody_core::calendar::civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

fn parse_stamp(name: &str) -> Option<()> {
    let b = name.as_bytes();
    (b.len() == 16 && b[8] == b'T' && b[15] == b'Z' && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit))
        .then_some(())
}

/// What the restore drill proved.
#[derive(Debug)]
pub struct Drill {
    pub backup: PathBuf,
    pub records: u64,
    pub devices: usize,
    pub media: usize,
    pub restored_bytes: u64,
    pub restore_seconds: f64,
    pub verify_seconds: f64,
    /// Whether the sealed private key was opened (`Some(true)`), could not
    /// be tried (no passphrase given, or none sealed: `None`).
    pub key_opened: Option<bool>,
    /// Face photos in the restore (sealed), and how many were opened with
    /// the backup's own KEK (unsealed with the passphrase) and matched
    /// their hash; without the passphrase they are checked against their
    /// sealed bytes' recorded hash only.
    pub faces_sealed: usize,
    pub faces_opened: usize,
    pub problems: Vec<String>,
}

/// Restore `backup` into `scratch` (absent or empty) as `admin restore`
/// does, open it with this server version, verify everything and compare
/// with the backup's manifest. `scratch` is left for the caller to remove.
pub fn drill(backup: &Path, scratch: &Path, passphrase: Option<&str>) -> Result<Drill, StoreError> {
    let manifest = read_manifest(backup);
    if scratch.exists() && std::fs::read_dir(scratch)?.next().is_some() {
        return Err(StoreError::Conflict(format!("scratch directory {} is not empty", scratch.display())));
    }
    create_private_dir(scratch)?;
    let started = Instant::now();
    // Verifying needs only the public key: the drill restores no private
    // one to disk. The face KEK, unsealed in memory, opens the face photos.
    restore(
        backup,
        &scratch.join("custody.sqlite"),
        &scratch.join("media"),
        &scratch.join("keys"),
        &scratch.join("keys").join(crate::faces::KEY_FILE),
        &KeySource::PublicOnly,
    )?;
    let restore_seconds = started.elapsed().as_secs_f64();
    let mut problems = Vec::new();
    // The sealed key must still open with the passphrase the operator holds.
    let keys = backup.join("keys");
    let (key_opened, faces) = match passphrase {
        Some(p) if key_custody::has_sealed(&keys) => {
            match key_custody::check_sealed(&keys, p).and_then(|()| key_custody::unseal_face_keys(&keys, p)) {
                Ok(keks) => (Some(true), (!keks.is_empty()).then(|| FaceVault::in_memory(keks))),
                Err(e) => {
                    problems.push(format!("the sealed private key does not open: {e}"));
                    (Some(false), None)
                }
            }
        }
        _ => (None, None),
    };
    let started = Instant::now();
    let (report, key, checkpoint) = verify_copy(scratch, faces.as_ref())?;
    problems.extend(report.problems);
    match manifest {
        Ok(m) => {
            if !m.verified {
                problems.push("the backup's own verification failed when it was made".into());
            }
            if Some(m.server_key.clone()) != key.map(|k| k.to_string()) {
                problems.push("the restored server key differs from the manifest's".into());
            }
            if m.records != report.records {
                problems.push(format!(
                    "the manifest lists {} records, the restore holds {}",
                    m.records, report.records
                ));
            }
            if (m.checkpoint_size, m.checkpoint_root.clone()) != checkpoint {
                problems.push("the restored log's signed checkpoint differs from the manifest's".into());
            }
            if m.media_files != report.media {
                problems.push(format!(
                    "the manifest lists {} media files, the restore holds {}",
                    m.media_files, report.media
                ));
            }
        }
        Err(e) => problems.push(format!("no readable manifest ({e}): the copy was verified on its own")),
    }
    Ok(Drill {
        backup: backup.to_owned(),
        records: report.records,
        devices: report.devices,
        media: report.media,
        restored_bytes: dir_size(scratch)?,
        restore_seconds,
        verify_seconds: started.elapsed().as_secs_f64(),
        key_opened,
        faces_sealed: report.faces_sealed,
        faces_opened: report.faces_opened,
        problems,
    })
}

/// Bytes under `dir` (hard links counted at each name).
pub fn dir_size(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            let t = e.file_type()?;
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                total += e.metadata()?.len();
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_sort_as_time_and_are_recognised() {
        assert_eq!(stamp(0), "19700101T000000Z");
        assert_eq!(stamp(1_795_816_953_000), "20261127T220233Z");
        assert!(stamp(1_000_000_000_000) < stamp(1_795_816_953_000));
        assert!(parse_stamp("20261127T185553Z").is_some());
        for not in ["20261127T185553Z.partial", "20261127T185553Z.failed", "latest", "2026112TT185553Z"] {
            assert!(parse_stamp(not).is_none(), "{not}");
        }
    }
}
