//! Face photos encrypted at rest, and every read of one logged (issue 18;
//! PIPL art. 28: a face is sensitive personal information).
//!
//! **Envelope encryption.** Each face photo is sealed with its own random
//! data key (ChaCha20-Poly1305, `crypt`); the data key is wrapped by the
//! key-encryption key (KEK), which lives in a file outside the database and
//! the media store (`[storage] face_key_file`, default
//! `<data_dir>/keys/face-photos.key`, made at first start, owner-only). The
//! three are kept apart: the media store holds only ciphertext
//! (`faces/ab/<sha256>`), the database only wrapped keys (`face_keys`), the
//! key file only the KEK — a stolen bucket, a stolen database dump or both
//! open no face. The photo keeps its identity: the SHA-256 of the bytes the
//! device signed names the sealed object and is bound into both seals, so a
//! ciphertext moved under another photo's name does not open, and what
//! opens is re-hashed against the name.
//!
//! **Which photos.** Any media file a stored record lists as a face
//! (`MediaPurpose::Face`, whatever became of the record), and every
//! administrator's reference face. A face known when its bytes arrive in
//! one request is sealed before anything is written (`put_face`); bytes
//! that arrived before the record that makes them a face (another record
//! listed the hash first, a chunked upload, a deployment older than this)
//! are sealed in place (`seal_stored`): the sealed copy is written, read
//! back and opened, and only then is the copy in the clear removed. What a
//! stop leaves half done, the sweep (`sweep::seal_all`: at start, and
//! `admin faces seal`) finishes; every step can be repeated.
//!
//! **Reading.** Every media read of the server goes through [`FaceVault::read`]
//! (or `read_in` inside a transaction): a sealed object is opened, any other
//! read as stored — a hash someone re-listed as a face keeps working for its
//! other readers (a lab's curve, a report).
//!
//! **Rotation** (`sweep::rotate`, `admin faces rotate-key`): a new KEK
//! re-wraps every data key; no photo is re-encrypted and no object is
//! touched. The old KEK's id is then retired in the store: a key file that
//! holds it is refused.
//!
//! **Read log.** `face_reads` (append-only): who, when, which photo, whose
//! face, through which path ([`Via`]: the device API, the console, an
//! export). Administrators read it in the console's audit pages; a person
//! sees who read their own face photos on their account page.

mod crypt;
pub mod sweep;

pub use crate::store::faces::{FaceKeyRow, FaceReadRow, Via};
pub use crypt::{ALG, DataKey, Kek, TAG_LEN};

use crate::blobs::{BlobError, Blobs};
use crate::store::{Store, StoreError, Tx};
use custody_core::Hash;
use custody_core::model::Id;
use custody_core::record::Payload;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// The KEK's file name in `keys/` (the default) and in a backup's `keys/`.
pub const KEY_FILE: &str = "face-photos.key";
/// The next KEK while a rotation is under way (beside the key file).
pub const NEXT_KEY_FILE: &str = "next-face-photos.key";
/// `meta`: the id of the KEK that wraps new data keys.
const META_CURRENT: &str = "face_kek";
/// `meta`: ids of KEKs a rotation retired, comma-separated.
const META_RETIRED: &str = "face_kek_retired";

#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("media storage: {0}")]
    Blob(#[from] BlobError),
    #[error(
        "the face key file {path} is missing, but this store's face photos are sealed with face key {id}: restore it (`admin restore` brings it back from a backup with the passphrase, or from the escrowed keys); without it they cannot be opened"
    )]
    KeyMissing { path: String, id: String },
    #[error("{path}: not a face key file (32 bytes in hex)")]
    KeyFormat { path: String },
    #[error(
        "{path} holds face key {id}, which a rotation retired: use the current face key file (key {current})"
    )]
    KeyRetired { path: String, id: String, current: String },
    #[error(
        "{path} holds face key {found}, but this store's face photos are sealed with face key {expected}"
    )]
    KeyMismatch { path: String, found: String, expected: String },
    #[error(
        "face photo {sha}: its data key is wrapped by face key {kek}, which this server does not hold (rotated on another instance? copy the current face key file here)"
    )]
    UnknownKek { sha: Hash, kek: String },
    #[error("face photo {sha} does not open: its sealed bytes or its data key were altered or swapped")]
    DoesNotOpen { sha: Hash },
    #[error("face photo {sha}: the bytes stored in the clear do not hash to its name; not sealed")]
    PlainCorrupt { sha: Hash },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl FaceError {
    /// The same in Chinese, for the operator's terminal.
    pub fn message_zh(&self) -> String {
        match self {
            FaceError::Store(e) => format!("数据库：{e}"),
            FaceError::Blob(e) => format!("媒体存储：{e}"),
            FaceError::KeyMissing { path, id } => format!(
                "人脸密钥文件 {path} 不存在，而本库的人脸照片由密钥 {id} 加密：请恢复该文件（admin restore 可用口令从备份恢复，或从另行保管的密钥目录恢复）；没有它人脸照片无法打开"
            ),
            FaceError::KeyFormat { path } => format!("{path}：不是人脸密钥文件（应为 32 字节十六进制）"),
            FaceError::KeyRetired { path, id, current } => {
                format!("{path} 中的人脸密钥 {id} 已在轮换中停用：请使用当前的人脸密钥文件（密钥 {current}）")
            }
            FaceError::KeyMismatch { path, found, expected } => {
                format!("{path} 中是人脸密钥 {found}，而本库的人脸照片由密钥 {expected} 加密")
            }
            FaceError::UnknownKek { sha, kek } => format!(
                "人脸照片 {sha} 的数据密钥由人脸密钥 {kek} 封装，本服务器没有该密钥（是否在其他实例上轮换过？请复制当前人脸密钥文件）"
            ),
            FaceError::DoesNotOpen { sha } => {
                format!("人脸照片 {sha} 无法解开：加密内容或数据密钥被改动或调换")
            }
            FaceError::PlainCorrupt { sha } => format!("人脸照片 {sha} 的明文与其哈希不符，未加密"),
            FaceError::Io { path, source } => format!("{path}：{source}"),
        }
    }

    /// The file is not there (or no longer: sealed a moment ago).
    pub fn is_not_found(&self) -> bool {
        matches!(self, FaceError::Blob(e) if e.is_not_found())
    }
}

impl From<FaceError> for StoreError {
    fn from(e: FaceError) -> StoreError {
        match e {
            FaceError::Store(e) => e,
            FaceError::Blob(e) => StoreError::Media(e.to_string()),
            other => StoreError::Media(other.to_string()),
        }
    }
}

/// Where the KEK lives, and the next one during a rotation.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    pub current: PathBuf,
    pub next: PathBuf,
}

impl KeyFiles {
    pub fn at(current: &Path) -> KeyFiles {
        let next = current.with_file_name(NEXT_KEY_FILE);
        KeyFiles { current: current.to_owned(), next }
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> FaceError + '_ {
    move |source| FaceError::Io { path: path.display().to_string(), source }
}

/// The KEK in a file, if the file exists.
pub fn read_key_file(path: &Path) -> Result<Option<Kek>, FaceError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Kek::parse(&text)
            .map(Some)
            .ok_or_else(|| FaceError::KeyFormat { path: path.display().to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path)(e)),
    }
}

fn retired(tx: &mut dyn Tx) -> crate::store::Result<Vec<String>> {
    Ok(tx
        .meta(META_RETIRED)?
        .map(|s| s.split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default())
}

struct Keys {
    /// The KEKs this server holds (the key file's, and the next one's
    /// during a rotation), never a retired one.
    held: Vec<Kek>,
    /// The one new data keys are wrapped with: the store's `face_kek`.
    wrapping: String,
}

/// The KEK(s) and everything done with them.
pub struct FaceVault {
    files: Option<KeyFiles>,
    keys: RwLock<Keys>,
}

impl std::fmt::Debug for FaceVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FaceVault({:?})", self.files)
    }
}

impl FaceVault {
    /// At start: the KEK from `path`, made there on first start (owner-only),
    /// checked against the store — refused when it is missing while the
    /// store has sealed faces, retired by a rotation, or not the store's.
    /// A rotation that had switched the store over before it stopped is
    /// finished here (the next key file becomes the key file).
    pub fn open(path: &Path, store: &Store) -> Result<FaceVault, FaceError> {
        let files = KeyFiles::at(path);
        let (current, retired) = store.read(|tx| Ok((tx.meta(META_CURRENT)?, retired(tx)?)))?;
        let mut file = read_key_file(&files.current)?;
        let mut next = read_key_file(&files.next)?;
        if let (Some(n), Some(cur)) = (&next, &current)
            && n.id() == cur
            && file.as_ref().map(Kek::id) != Some(cur)
        {
            promote(&files)?;
            (file, next) = (next.take(), None);
        }
        let file = match (file, &current) {
            (Some(f), _) => f,
            (None, Some(id)) => {
                return Err(FaceError::KeyMissing { path: path.display().to_string(), id: id.clone() });
            }
            (None, None) => {
                let k = Kek::generate();
                // A directory made for it is owner-only; one that exists
                // (`/etc/jzqy`) is left as it is.
                let dir = path.parent().unwrap_or(Path::new("."));
                if !dir.exists() {
                    crate::maintenance::create_private_dir(dir).map_err(io_err(dir))?;
                }
                crate::keys::write_private(path, k.to_file_text().as_bytes()).map_err(io_err(path))?;
                k
            }
        };
        let held: Vec<Kek> = std::iter::once(file.clone()).chain(next).collect();
        for k in &held {
            if retired.iter().any(|r| r == k.id()) {
                return Err(FaceError::KeyRetired {
                    path: path.display().to_string(),
                    id: k.id().to_owned(),
                    current: current.clone().unwrap_or_default(),
                });
            }
        }
        // The store names the KEK at first start; an instance with another
        // key file (made on its own) finds the name taken and stops.
        let wrapping = match current {
            Some(id) => id,
            None => store.write(|tx| {
                if tx.meta(META_CURRENT)?.is_none() {
                    tx.set_meta(META_CURRENT, file.id())?;
                }
                Ok(tx.meta(META_CURRENT)?.unwrap_or_default())
            })?,
        };
        if !held.iter().any(|k| k.id() == wrapping) {
            return Err(FaceError::KeyMismatch {
                path: path.display().to_string(),
                found: file.id().to_owned(),
                expected: wrapping,
            });
        }
        Ok(FaceVault { files: Some(files), keys: RwLock::new(Keys { held, wrapping }) })
    }

    /// KEKs held in memory only (a restore drill opening a backup with its
    /// unsealed key); the first wraps. Nothing on disk is read or made.
    pub fn in_memory(keys: Vec<Kek>) -> FaceVault {
        let wrapping = keys.first().map(|k| k.id().to_owned()).unwrap_or_default();
        FaceVault { files: None, keys: RwLock::new(Keys { held: keys, wrapping }) }
    }

    /// The KEK(s) in the key file at `path` (and its next one), in memory,
    /// without asking any store (`admin migrate` verifies the copy's face
    /// photos with them); `None` when there is no key file.
    pub fn from_key_files(path: &Path) -> Result<Option<FaceVault>, FaceError> {
        let files = KeyFiles::at(path);
        let keys: Vec<Kek> =
            [read_key_file(&files.current)?, read_key_file(&files.next)?].into_iter().flatten().collect();
        Ok((!keys.is_empty()).then(|| FaceVault::in_memory(keys)))
    }

    /// Where the KEK lives (none for a vault in memory).
    pub fn files(&self) -> Option<&KeyFiles> {
        self.files.as_ref()
    }

    /// The id of the KEK that wraps new data keys.
    pub fn wrapping_id(&self) -> String {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).wrapping.clone()
    }

    /// Ids of the KEKs held.
    pub fn held_ids(&self) -> Vec<String> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).held.iter().map(|k| k.id().to_owned()).collect()
    }

    fn kek(&self, id: &str) -> Option<Kek> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).held.iter().find(|k| k.id() == id).cloned()
    }

    /// Read the key files and the store's current KEK again (a rotation
    /// made by another process); retired keys are dropped.
    pub fn reload(&self, store: &Store) -> Result<(), FaceError> {
        let Some(files) = &self.files else { return Ok(()) };
        let (current, retired) = store.read(|tx| Ok((tx.meta(META_CURRENT)?, retired(tx)?)))?;
        let held: Vec<Kek> = [read_key_file(&files.current)?, read_key_file(&files.next)?]
            .into_iter()
            .flatten()
            .filter(|k| !retired.iter().any(|r| r == k.id()))
            .collect();
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        keys.held = held;
        if let Some(c) = current {
            keys.wrapping = c;
        }
        Ok(())
    }

    /// Add a KEK to those held (a rotation's next key).
    fn hold(&self, k: Kek) {
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        if !keys.held.iter().any(|h| h.id() == k.id()) {
            keys.held.push(k);
        }
    }

    /// The KEK named `id`, reading the key files again once if it is not held.
    fn kek_for(&self, store: Option<&Store>, sha: &Hash, id: &str) -> Result<Kek, FaceError> {
        if let Some(k) = self.kek(id) {
            return Ok(k);
        }
        if let Some(store) = store {
            self.reload(store)?;
            if let Some(k) = self.kek(id) {
                return Ok(k);
            }
        }
        Err(FaceError::UnknownKek { sha: *sha, kek: id.to_owned() })
    }

    /// The data key of a row.
    fn data_key(&self, store: Option<&Store>, row: &FaceKeyRow) -> Result<DataKey, FaceError> {
        let sha = row.sha256;
        let kek = self.kek_for(store, &sha, &row.kek)?;
        let bad = |_| FaceError::DoesNotOpen { sha };
        Ok(DataKey {
            key: kek.unwrap(&sha, &row.wrapped_key).map_err(bad)?,
            nonce: crypt::nonce_of(&row.nonce).map_err(bad)?,
        })
    }

    /// Open the sealed bytes of `row`'s photo: exactly the bytes that hash to its name.
    pub fn open_sealed(&self, row: &FaceKeyRow, sealed: &[u8]) -> Result<Vec<u8>, FaceError> {
        let sha = row.sha256;
        if row.alg != ALG || Hash::of(sealed) != row.sealed_sha256 {
            return Err(FaceError::DoesNotOpen { sha });
        }
        self.data_key(None, row)?.open(&sha, sealed).map_err(|_| FaceError::DoesNotOpen { sha })
    }

    fn open_with(&self, store: &Store, row: &FaceKeyRow, sealed: &[u8]) -> Result<Vec<u8>, FaceError> {
        let sha = row.sha256;
        if row.alg != ALG || Hash::of(sealed) != row.sealed_sha256 {
            return Err(FaceError::DoesNotOpen { sha });
        }
        self.data_key(Some(store), row)?.open(&sha, sealed).map_err(|_| FaceError::DoesNotOpen { sha })
    }

    fn read_with(
        &self,
        store: Option<&Store>,
        row: Option<&FaceKeyRow>,
        blobs: &Blobs,
        sha: &Hash,
    ) -> Result<Vec<u8>, FaceError> {
        if let Some(row) = row
            && let Some(sealed) = blobs.read_sealed(sha)?
        {
            return match store {
                Some(s) => self.open_with(s, row, &sealed),
                None => self.open_sealed(row, &sealed),
            };
        }
        Ok(blobs.read(sha)?)
    }

    /// The bytes of stored media `sha`, a sealed face photo opened. Every
    /// media read that leaves the server comes here; a face photo's read is
    /// logged by its caller ([`log_read`]).
    pub fn read(&self, store: &Store, blobs: &Blobs, sha: &Hash) -> Result<Vec<u8>, FaceError> {
        let row = store.read(|tx| tx.face_key(sha))?;
        match self.read_with(Some(store), row.as_ref(), blobs, sha) {
            // Sealed between reading the row and the bytes: the row is there now.
            Err(e) if e.is_not_found() => {
                let row = store.read(|tx| tx.face_key(sha))?;
                self.read_with(Some(store), row.as_ref(), blobs, sha)
            }
            other => other,
        }
    }

    /// [`FaceVault::read`] inside a transaction (report checks read curves there).
    pub fn read_in(&self, tx: &mut dyn Tx, blobs: &Blobs, sha: &Hash) -> Result<Vec<u8>, FaceError> {
        let row = tx.face_key(sha)?;
        self.read_with(None, row.as_ref(), blobs, sha)
    }

    /// The data key of `sha`: the stored one if it has one, else `fresh`,
    /// wrapped by the store's current KEK and written — in the transaction
    /// that checks that KEK is still the store's current one (a rotation
    /// elsewhere makes this process read the key files again and retry).
    /// `sealed`: the photo sealed with `fresh`.
    fn key_for(
        &self,
        store: &Store,
        sha: &Hash,
        fresh: &DataKey,
        sealed: &[u8],
        size: u64,
        now: i64,
    ) -> Result<(FaceKeyRow, DataKey), FaceError> {
        for _ in 0..2 {
            let wrapping = self.wrapping_id();
            let kek = self.kek_for(Some(store), sha, &wrapping)?;
            let row = FaceKeyRow {
                sha256: *sha,
                kek: wrapping.clone(),
                wrapped_key: kek.wrap(sha, &fresh.key),
                nonce: fresh.nonce.to_vec(),
                alg: ALG.into(),
                size,
                sealed_sha256: Hash::of(sealed),
                created_ms: now,
                sealed_ms: None,
            };
            let stored = store.write(|tx| {
                if tx.meta(META_CURRENT)?.as_deref() != Some(wrapping.as_str()) {
                    return Ok(None);
                }
                tx.insert_face_key(&row)?;
                tx.face_key(sha)
            })?;
            match stored {
                Some(kept) if kept == row => return Ok((row, fresh.clone())),
                // Sealed before (or by another instance just now): its key stays.
                Some(kept) => {
                    let dk = self.data_key(Some(store), &kept)?;
                    return Ok((kept, dk));
                }
                None => self.reload(store)?,
            }
        }
        Err(FaceError::UnknownKek { sha: *sha, kek: self.wrapping_id() })
    }

    /// Seal `photo` (whose hash `sha` the caller has checked): the key
    /// first, then the sealed object, read back and opened; then any copy in
    /// the clear goes, and the row says the photo is sealed.
    fn seal_bytes(
        &self,
        store: &Store,
        blobs: &Blobs,
        sha: &Hash,
        photo: &[u8],
        now: i64,
    ) -> Result<(), FaceError> {
        let fresh = DataKey::generate();
        let first = fresh.seal(sha, photo);
        let (row, dk) = self.key_for(store, sha, &fresh, &first, photo.len() as u64, now)?;
        let sealed = if row.nonce == fresh.nonce { first } else { dk.seal(sha, photo) };
        if Hash::of(&sealed) != row.sealed_sha256 {
            return Err(FaceError::DoesNotOpen { sha: *sha });
        }
        blobs.put_sealed(sha, &sealed)?;
        // What the store now holds must open to the photo before the copy
        // in the clear is removed (a sealed object already there is not
        // taken on trust).
        let back = blobs.read_sealed(sha)?.ok_or(FaceError::DoesNotOpen { sha: *sha })?;
        if self.open_with(store, &row, &back)? != photo {
            return Err(FaceError::DoesNotOpen { sha: *sha });
        }
        blobs.remove_plain(sha)?;
        store.write(|tx| tx.mark_face_sealed(sha, now))?;
        Ok(())
    }

    /// Store a face photo that arrived whole (an upload in one request, an
    /// administrator's reference face): nothing of it is written in the clear.
    pub fn put_face(&self, store: &Store, blobs: &Blobs, photo: &[u8], now: i64) -> Result<Hash, FaceError> {
        let sha = Hash::of(photo);
        self.seal_bytes(store, blobs, &sha, photo, now)?;
        Ok(sha)
    }

    /// Seal a face photo whose bytes are stored in the clear (if they are:
    /// nothing to do while they have not arrived, nor once it is sealed).
    pub fn seal_stored(
        &self,
        store: &Store,
        blobs: &Blobs,
        sha: &Hash,
        now: i64,
    ) -> Result<Sealing, FaceError> {
        let row = store.read(|tx| tx.face_key(sha))?;
        let plain = match blobs.read(sha) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => {
                return Ok(match row {
                    Some(r) if blobs.read_sealed(sha)?.is_some() => {
                        if r.sealed_ms.is_none() {
                            store.write(|tx| tx.mark_face_sealed(sha, now))?;
                        }
                        Sealing::AlreadySealed
                    }
                    _ => Sealing::NotArrived,
                });
            }
            Err(e) => return Err(e.into()),
        };
        if Hash::of(&plain) != *sha {
            return Err(FaceError::PlainCorrupt { sha: *sha });
        }
        self.seal_bytes(store, blobs, sha, &plain, now)?;
        Ok(Sealing::Sealed)
    }

    /// [`FaceVault::seal_stored`] for each of `shas`; what could not be
    /// sealed now is logged and left for the sweep (the records are stored
    /// either way).
    pub fn seal_stored_all(&self, store: &Store, blobs: &Blobs, shas: &[Hash], now: i64) {
        for sha in shas {
            if let Err(e) = self.seal_stored(store, blobs, sha, now) {
                tracing::warn!(%sha, error = %e, "face photo left for the sweep to seal");
            }
        }
    }
}

/// The media store as the server reads it: objects as stored, a sealed
/// face photo opened (what report checks and other readers inside a
/// transaction are given instead of the bare [`Blobs`]).
#[derive(Clone)]
pub struct Media {
    pub blobs: Blobs,
    pub faces: std::sync::Arc<FaceVault>,
}

impl Media {
    /// The bytes of `sha` inside a transaction.
    pub fn read_in(&self, tx: &mut dyn Tx, sha: &Hash) -> Result<Vec<u8>, FaceError> {
        self.faces.read_in(tx, &self.blobs, sha)
    }

    /// The bytes of `sha`.
    pub fn read(&self, store: &Store, sha: &Hash) -> Result<Vec<u8>, FaceError> {
        self.faces.read(store, &self.blobs, sha)
    }
}

/// What sealing a stored photo did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealing {
    Sealed,
    AlreadySealed,
    /// Its bytes have not arrived.
    NotArrived,
}

/// Rename the next key file over the key file: the old KEK is gone from disk.
fn promote(files: &KeyFiles) -> Result<(), FaceError> {
    std::fs::rename(&files.next, &files.current).map_err(io_err(&files.current))?;
    if let Some(dir) = files.current.parent() {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir))?;
    }
    Ok(())
}

/// Whose face `sha` is: the person a grant's reference face belongs to, or
/// the author of the record that captured it (the first accepted record
/// listing it as a face, else the first stored one).
pub fn subject_of(tx: &mut dyn Tx, sha: &Hash) -> crate::store::Result<Option<Id>> {
    let rows = tx.records_listing_face(sha)?;
    let first =
        rows.iter().find(|r| r.status == custody_core::protocol::RecordStatus::Accepted).or(rows.first());
    let Some(row) = first else { return Ok(None) };
    let rec = crate::ingest::decode_stored(row)?;
    Ok(Some(match &rec.body().payload {
        Payload::AuthorisationGranted(g) if g.real_name.face_reference == Some(*sha) => g.person.clone(),
        _ => rec.body().author.clone(),
    }))
}

/// Who is reading.
#[derive(Debug, Clone)]
pub struct Reader {
    /// A console account as the audit log names it, or `device <fingerprint>`.
    pub name: String,
    /// Their directory person, if any.
    pub person: Option<Id>,
    pub ip: String,
}

/// Append one read of face photo `sha` to the face-read log.
pub fn log_read(
    tx: &mut dyn Tx,
    sha: &Hash,
    subject: Option<Id>,
    reader: &Reader,
    via: Via,
    now: i64,
) -> crate::store::Result<()> {
    tx.insert_face_read(&FaceReadRow {
        seq: 0,
        at_ms: now,
        sha256: *sha,
        subject,
        reader: reader.name.clone(),
        reader_person: reader.person.clone(),
        via: via.as_str().into(),
        ip: reader.ip.clone(),
    })
}
