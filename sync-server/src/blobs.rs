//! Content-addressed, write-once media storage: a local directory (the
//! default) or an S3-compatible bucket, behind the same calls.
//!
//! Every uploader has its own upload in progress ([`Uploader`]): several
//! devices may list one file (a shared photo), and none can poison another's
//! upload with bytes of its own; whoever completes a correct upload first
//! makes the object, and the others' then answer "complete".
//!
//! Directory: an upload in progress lives in `partial/<sha256>.<uploader>`
//! and grows chunk by chunk, each chunk flushed to disk before it is
//! acknowledged, so a cut connection resumes where it stopped. On completion the bytes are
//! hashed; only a match is renamed to `objects/ab/<sha256>`, and an object
//! that exists is never overwritten.
//!
//! Bucket: see [`S3Blobs`] — the same layout as keys, chunks staged as their
//! own objects (shared by every server instance), the finished object written
//! create-only after its hash is checked.
//!
//! Sealed face photos (issue 18, `crate::faces`) live beside the objects,
//! under `faces/ab/<sha256>` — named by the photo's own hash, holding its
//! ciphertext. This layer stores and lists their bytes and never opens
//! them; a sealed object counts as the file being there (an upload of it is
//! answered "complete" and never writes it again in the clear).

use bytes::Bytes;
use custody_core::Hash;
use custody_core::crypto::Hasher;
use futures_util::TryStreamExt;
use object_store::path::Path as Key;
use object_store::{ObjectStore, PutMode, PutOptions, PutPayload, WriteMultipart};
use std::io::{Read, Seek, SeekFrom, Write};

/// Whose upload a chunk belongs to: the uploading device's key, in hex
/// (the admin's whole-file uploads use [`Uploader::ADMIN`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploader(String);

impl Uploader {
    pub const ADMIN: &'static str = "admin";
    pub fn device(key: &custody_core::PublicKey) -> Uploader {
        Uploader(hex::encode(key.0))
    }
    pub fn admin() -> Uploader {
        Uploader(Uploader::ADMIN.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("upload offset {given} does not match the {have} bytes received")]
    Offset { given: u64, have: u64 },
    #[error("upload would exceed the declared length {length}")]
    TooLong { length: u64 },
    #[error("content hash {actual} does not match the name {expected}: upload discarded")]
    HashMismatch { expected: Hash, actual: Hash },
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("object storage: {0}")]
    Bucket(String),
}

impl BlobError {
    /// The object is not stored (or no longer: it was just sealed).
    pub fn is_not_found(&self) -> bool {
        matches!(self, BlobError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// A sealed object is its photo's bytes plus the AEAD tag (`faces::crypt`).
const SEALED_OVERHEAD: u64 = crate::faces::TAG_LEN as u64;

/// A local directory of media (the embedded default).
#[derive(Clone)]
pub struct DirBlobs {
    root: PathBuf,
}

/// Where an upload stands after a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Partial(u64),
    Complete,
}

impl DirBlobs {
    pub fn open(root: &Path) -> std::io::Result<DirBlobs> {
        std::fs::create_dir_all(root.join("partial"))?;
        std::fs::create_dir_all(root.join("objects"))?;
        Ok(DirBlobs { root: root.to_owned() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn object_path(&self, sha: &Hash) -> PathBuf {
        let hex = sha.to_hex();
        self.root.join("objects").join(&hex[..2]).join(hex)
    }

    /// Where the sealed face photo `sha` lives (`crate::faces`).
    pub fn sealed_path(&self, sha: &Hash) -> PathBuf {
        let hex = sha.to_hex();
        self.root.join("faces").join(&hex[..2]).join(hex)
    }

    fn partial_path(&self, sha: &Hash, who: &Uploader) -> PathBuf {
        self.root.join("partial").join(format!("{}.{}", sha.to_hex(), who.as_str()))
    }

    /// Whether the file is stored, in the clear or sealed.
    pub fn exists(&self, sha: &Hash) -> bool {
        self.object_path(sha).is_file() || self.sealed_path(sha).is_file()
    }

    /// Bytes received so far for an upload (the full length when complete).
    pub fn received(&self, sha: &Hash, who: &Uploader) -> std::io::Result<u64> {
        if let Ok(m) = std::fs::metadata(self.object_path(sha)) {
            return Ok(m.len());
        }
        if let Ok(m) = std::fs::metadata(self.sealed_path(sha)) {
            return Ok(m.len().saturating_sub(SEALED_OVERHEAD));
        }
        match std::fs::metadata(self.partial_path(sha, who)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Append `chunk` at `offset` of an upload of `length` bytes; the
    /// upload is finished when the last byte arrives.
    pub fn put_chunk(
        &self,
        sha: &Hash,
        who: &Uploader,
        length: u64,
        offset: u64,
        chunk: &[u8],
    ) -> Result<Progress, BlobError> {
        if self.exists(sha) {
            return Ok(Progress::Complete);
        }
        let have = self.stage_chunk(sha, who, length, offset, chunk)?;
        if have < length {
            return Ok(Progress::Partial(have));
        }
        self.complete_upload(sha, who, length)
    }

    /// The first half of [`DirBlobs::put_chunk`]: append and flush, without
    /// finishing. The bytes received.
    pub fn stage_chunk(
        &self,
        sha: &Hash,
        who: &Uploader,
        length: u64,
        offset: u64,
        chunk: &[u8],
    ) -> Result<u64, BlobError> {
        let path = self.partial_path(sha, who);
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
        let have = f.metadata()?.len();
        if offset != have {
            return Err(BlobError::Offset { given: offset, have });
        }
        if have + chunk.len() as u64 > length {
            return Err(BlobError::TooLong { length });
        }
        f.write_all(chunk)?;
        f.sync_data()?;
        Ok(have + chunk.len() as u64)
    }

    /// The second half (see [`Blobs::complete_upload`]).
    pub fn complete_upload(&self, sha: &Hash, who: &Uploader, length: u64) -> Result<Progress, BlobError> {
        if self.exists(sha) {
            return Ok(Progress::Complete);
        }
        let path = self.partial_path(sha, who);
        let have = match std::fs::metadata(&path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e.into()),
        };
        if have < length {
            return Ok(Progress::Partial(have));
        }
        self.finish(sha, &path)?;
        Ok(Progress::Complete)
    }

    fn finish(&self, sha: &Hash, partial: &Path) -> Result<(), BlobError> {
        let mut f = std::fs::File::open(partial)?;
        let mut h = Hasher::default();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        let actual = h.finish();
        if actual != *sha {
            std::fs::remove_file(partial)?;
            return Err(BlobError::HashMismatch { expected: *sha, actual });
        }
        let dest = self.object_path(sha);
        std::fs::create_dir_all(dest.parent().expect("object path has a parent"))?;
        if dest.exists() {
            std::fs::remove_file(partial)?;
        } else {
            std::fs::rename(partial, &dest)?;
            // Make the rename itself durable.
            if let Some(dir) = dest.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
        }
        Ok(())
    }

    /// Store a whole file at once (admin uploads: letters, face references).
    pub fn put_whole(&self, bytes: &[u8]) -> Result<Hash, BlobError> {
        let sha = Hash::of(bytes);
        if !self.exists(&sha) {
            let admin = Uploader::admin();
            let _ = std::fs::remove_file(self.partial_path(&sha, &admin));
            self.put_chunk(&sha, &admin, bytes.len() as u64, 0, bytes)?;
        }
        Ok(sha)
    }

    /// Read a byte range of a complete object.
    pub fn read_range(&self, sha: &Hash, start: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let mut f = std::fs::File::open(self.object_path(sha))?;
        f.seek(SeekFrom::Start(start))?;
        let mut out = vec![0u8; len];
        let n = f.read(&mut out)?;
        out.truncate(n);
        Ok(out)
    }

    pub fn read(&self, sha: &Hash) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.object_path(sha))
    }

    /// Re-hash a stored object (store verification, R14).
    pub fn verify(&self, sha: &Hash) -> std::io::Result<bool> {
        let mut f = std::fs::File::open(self.object_path(sha))?;
        let mut h = Hasher::default();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(h.finish() == *sha)
    }

    /// Every complete object's hash in the clear (for backup and verification).
    pub fn list(&self) -> std::io::Result<Vec<Hash>> {
        list_dir(&self.root.join("objects"))
    }

    /// Every sealed face photo's hash.
    pub fn list_sealed(&self) -> std::io::Result<Vec<Hash>> {
        list_dir(&self.root.join("faces"))
    }

    /// Store the sealed bytes of `sha`: written to a temporary file, on
    /// disk, then renamed into place; one already there is kept (a photo's
    /// sealed bytes never change: its data key is written once).
    pub fn put_sealed(&self, sha: &Hash, sealed: &[u8]) -> std::io::Result<()> {
        let dest = self.sealed_path(sha);
        if dest.is_file() {
            return Ok(());
        }
        let dir = dest.parent().expect("sealed objects live in a fan-out directory");
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".{}.{}", sha.to_hex(), std::process::id()));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(sealed)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &dest)?;
        std::fs::File::open(dir)?.sync_all()
    }

    /// The sealed bytes of `sha`, if it is sealed.
    pub fn read_sealed(&self, sha: &Hash) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.sealed_path(sha)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Remove the copy in the clear of a photo now sealed.
    pub fn remove_plain(&self, sha: &Hash) -> std::io::Result<()> {
        let path = self.object_path(sha);
        match std::fs::remove_file(&path) {
            Ok(()) => {
                std::fs::File::open(path.parent().expect("objects live in a fan-out directory"))?.sync_all()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The hashes named in a fan-out directory (`ab/<sha256>`), sorted.
fn list_dir(root: &Path) -> std::io::Result<Vec<Hash>> {
    let mut out = Vec::new();
    let shards = match std::fs::read_dir(root) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for shard in shards {
        for f in std::fs::read_dir(shard?.path())? {
            if let Some(h) = f?.file_name().to_str().and_then(|s| s.parse().ok()) {
                out.push(h);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Media storage chosen by configuration.
#[derive(Clone)]
pub enum Blobs {
    Dir(DirBlobs),
    S3(S3Blobs),
}

impl Blobs {
    /// A media directory (created if missing).
    pub fn open(root: &Path) -> std::io::Result<Blobs> {
        Ok(Blobs::Dir(DirBlobs::open(root)?))
    }

    /// What the configuration names: a bucket, or the media directory.
    pub fn from_config(config: &crate::config::Config) -> Result<Blobs, BlobError> {
        match config.bucket() {
            Some((bucket, prefix)) => Ok(Blobs::S3(S3Blobs::connect(&config.storage.s3, &bucket, &prefix)?)),
            None => Ok(Blobs::open(&config.media_dir())?),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Blobs::Dir(d) => format!("directory {}", d.root().display()),
            Blobs::S3(s) => format!("bucket {}", s.describe()),
        }
    }

    /// Whether the file is stored, in the clear or sealed.
    pub fn exists(&self, sha: &Hash) -> Result<bool, BlobError> {
        match self {
            Blobs::Dir(d) => Ok(d.exists(sha)),
            Blobs::S3(s) => Ok(s.size(sha)?.is_some() || s.sealed_size(sha)?.is_some()),
        }
    }

    /// Bytes received so far of `who`'s upload (the full length when complete).
    pub fn received(&self, sha: &Hash, who: &Uploader) -> Result<u64, BlobError> {
        match self {
            Blobs::Dir(d) => Ok(d.received(sha, who)?),
            Blobs::S3(s) => s.received(sha, who),
        }
    }

    /// Append `chunk` at `offset` of an upload of `length` bytes; durable
    /// before it returns.
    pub fn put_chunk(
        &self,
        sha: &Hash,
        who: &Uploader,
        length: u64,
        offset: u64,
        chunk: &[u8],
    ) -> Result<Progress, BlobError> {
        match self {
            Blobs::Dir(d) => d.put_chunk(sha, who, length, offset, chunk),
            Blobs::S3(s) => s.put_chunk(sha, who, length, offset, chunk),
        }
    }

    /// The first half of [`Blobs::put_chunk`]: the chunk stored durably,
    /// the upload not finished even if it is whole. The bytes received.
    pub fn stage_chunk(
        &self,
        sha: &Hash,
        who: &Uploader,
        length: u64,
        offset: u64,
        chunk: &[u8],
    ) -> Result<u64, BlobError> {
        match self {
            Blobs::Dir(d) => d.stage_chunk(sha, who, length, offset, chunk),
            Blobs::S3(s) => s.stage_chunk(sha, who, length, offset, chunk),
        }
    }

    /// The second half: once all `length` bytes of `who`'s upload have
    /// arrived, hash them, and only a match becomes the object. The last
    /// chunk's request does this; asked again, it finishes an upload a
    /// crash left whole but unfinished (the server killed between storing
    /// the last chunk and making the object). `Partial(received)` while
    /// bytes are missing.
    pub fn complete_upload(&self, sha: &Hash, who: &Uploader, length: u64) -> Result<Progress, BlobError> {
        match self {
            Blobs::Dir(d) => d.complete_upload(sha, who, length),
            Blobs::S3(s) => s.complete_upload(sha, who, length),
        }
    }

    /// Store a whole file at once (admin uploads, migration, restore).
    pub fn put_whole(&self, bytes: &[u8]) -> Result<Hash, BlobError> {
        match self {
            Blobs::Dir(d) => d.put_whole(bytes),
            Blobs::S3(s) => s.put_whole(bytes),
        }
    }

    pub fn read_range(&self, sha: &Hash, start: u64, len: usize) -> Result<Vec<u8>, BlobError> {
        match self {
            Blobs::Dir(d) => Ok(d.read_range(sha, start, len)?),
            Blobs::S3(s) => s.read_range(sha, start, len),
        }
    }

    pub fn read(&self, sha: &Hash) -> Result<Vec<u8>, BlobError> {
        match self {
            Blobs::Dir(d) => Ok(d.read(sha)?),
            Blobs::S3(s) => s.read(sha),
        }
    }

    /// Re-hash a stored object (store verification, R14).
    pub fn verify(&self, sha: &Hash) -> Result<bool, BlobError> {
        match self {
            Blobs::Dir(d) => Ok(d.verify(sha)?),
            Blobs::S3(s) => s.verify(sha),
        }
    }

    /// Every complete object's hash in the clear, sorted.
    pub fn list(&self) -> Result<Vec<Hash>, BlobError> {
        match self {
            Blobs::Dir(d) => Ok(d.list()?),
            Blobs::S3(s) => s.list(),
        }
    }

    /// Whether `sha` is stored in the clear.
    pub fn exists_plain(&self, sha: &Hash) -> Result<bool, BlobError> {
        match self {
            Blobs::Dir(d) => Ok(d.object_path(sha).is_file()),
            Blobs::S3(s) => Ok(s.size(sha)?.is_some()),
        }
    }

    /// Store the sealed bytes of face photo `sha` (create-only).
    pub fn put_sealed(&self, sha: &Hash, sealed: &[u8]) -> Result<(), BlobError> {
        match self {
            Blobs::Dir(d) => Ok(d.put_sealed(sha, sealed)?),
            Blobs::S3(s) => s.put_sealed(sha, sealed),
        }
    }

    /// The sealed bytes of `sha`, if it is sealed (as stored: never opened here).
    pub fn read_sealed(&self, sha: &Hash) -> Result<Option<Vec<u8>>, BlobError> {
        match self {
            Blobs::Dir(d) => Ok(d.read_sealed(sha)?),
            Blobs::S3(s) => s.read_sealed(sha),
        }
    }

    /// Remove the copy in the clear of a face photo now sealed.
    pub fn remove_plain(&self, sha: &Hash) -> Result<(), BlobError> {
        match self {
            Blobs::Dir(d) => Ok(d.remove_plain(sha)?),
            Blobs::S3(s) => s.remove_plain(sha),
        }
    }

    /// Every sealed face photo's hash, sorted.
    pub fn list_sealed(&self) -> Result<Vec<Hash>, BlobError> {
        match self {
            Blobs::Dir(d) => Ok(d.list_sealed()?),
            Blobs::S3(s) => s.list_sealed(),
        }
    }
}

/// Media in an S3-compatible bucket, shared by every server instance.
///
/// * `objects/ab/<sha256>`: finished objects, written create-only
///   (`If-None-Match: *`), never overwritten, only after their bytes hash to
///   their name.
/// * `uploads/<sha256>/<uploader>/<offset>`: a resumable upload's chunks,
///   each its own object, acknowledged to the device once the bucket has
///   stored it. Any instance can take the next chunk (the listing says where
///   to resume).
/// * a file sent whole in one request (most photos) is hashed in memory and
///   written straight to its key, create-only; nothing is staged.
/// * on the last chunk the staged chunks are hashed; a match becomes the
///   object — one create-only PUT when small, otherwise a multipart upload
///   whose parts are the staged chunks (coalesced to the 8 MiB part size S3
///   wants) — and the staged chunks are deleted. A mismatch deletes them.
#[derive(Clone)]
pub struct S3Blobs {
    store: Arc<dyn ObjectStore>,
    bucket: String,
    prefix: String,
}

/// Objects up to this size are written with one create-only PUT.
const SINGLE_PUT_MAX: usize = 16 << 20;
/// Part size of multipart uploads (S3's minimum is 5 MiB).
const PART_BYTES: usize = 8 << 20;

fn bucket_err(e: object_store::Error) -> BlobError {
    BlobError::Bucket(e.to_string())
}

impl S3Blobs {
    pub fn connect(cfg: &crate::config::S3Config, bucket: &str, prefix: &str) -> Result<S3Blobs, BlobError> {
        let mut b = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        if !cfg.endpoint.is_empty() {
            b = b.with_endpoint(&cfg.endpoint).with_allow_http(cfg.endpoint.starts_with("http://"));
        }
        if !cfg.region.is_empty() {
            b = b.with_region(&cfg.region);
        }
        if !cfg.access_key_id.is_empty() {
            b = b.with_access_key_id(&cfg.access_key_id);
        }
        if !cfg.secret_access_key.is_empty() {
            b = b.with_secret_access_key(&cfg.secret_access_key);
        }
        b = b.with_virtual_hosted_style_request(!cfg.path_style);
        let store = b.build().map_err(bucket_err)?;
        Ok(S3Blobs { store: Arc::new(store), bucket: bucket.to_owned(), prefix: prefix.to_owned() })
    }

    /// The underlying client (benchmarks measure it raw).
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    pub fn describe(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    fn key(&self, rest: &str) -> Key {
        if self.prefix.is_empty() { Key::from(rest) } else { Key::from(format!("{}/{rest}", self.prefix)) }
    }

    fn object_key(&self, sha: &Hash) -> Key {
        let hex = sha.to_hex();
        self.key(&format!("objects/{}/{hex}", &hex[..2]))
    }

    fn sealed_key(&self, sha: &Hash) -> Key {
        let hex = sha.to_hex();
        self.key(&format!("faces/{}/{hex}", &hex[..2]))
    }

    fn staging_prefix(&self, sha: &Hash, who: &Uploader) -> Key {
        self.key(&format!("uploads/{}/{}", sha.to_hex(), who.as_str()))
    }

    /// Size of the finished object, if it exists.
    pub fn size(&self, sha: &Hash) -> Result<Option<u64>, BlobError> {
        let (store, key) = (self.store.clone(), self.object_key(sha));
        crate::driver::block_on(async move { object_size(&*store, &key).await })
    }

    /// Size of the sealed face photo, if it is sealed.
    fn sealed_size(&self, sha: &Hash) -> Result<Option<u64>, BlobError> {
        let (store, key) = (self.store.clone(), self.sealed_key(sha));
        crate::driver::block_on(async move { object_size(&*store, &key).await })
    }

    pub fn received(&self, sha: &Hash, who: &Uploader) -> Result<u64, BlobError> {
        if let Some(n) = self.size(sha)? {
            return Ok(n);
        }
        if let Some(n) = self.sealed_size(sha)? {
            return Ok(n.saturating_sub(SEALED_OVERHEAD));
        }
        let (store, prefix) = (self.store.clone(), self.staging_prefix(sha, who));
        crate::driver::block_on(async move { Ok(contiguous(&staged(&*store, &prefix).await?)) })
    }

    pub fn put_chunk(
        &self,
        sha: &Hash,
        who: &Uploader,
        length: u64,
        offset: u64,
        chunk: &[u8],
    ) -> Result<Progress, BlobError> {
        let (store, object, sealed, prefix) =
            (self.store.clone(), self.object_key(sha), self.sealed_key(sha), self.staging_prefix(sha, who));
        let (sha, chunk) = (*sha, Bytes::copy_from_slice(chunk));
        crate::driver::block_on(async move {
            if object_size(&*store, &object).await?.is_some()
                || object_size(&*store, &sealed).await?.is_some()
            {
                return Ok(Progress::Complete);
            }
            if offset == 0 && chunk.len() as u64 == length {
                // The whole file in one request (most photos): check it and
                // write the object; nothing to stage.
                let actual = Hash::of(&chunk);
                if actual != sha {
                    return Err(BlobError::HashMismatch { expected: sha, actual });
                }
                put_create(&*store, &object, chunk).await?;
                return Ok(Progress::Complete);
            }
            // The last chunk stays at hand for the assembly (not read back);
            // an empty one staged nothing.
            let last = (!chunk.is_empty()).then(|| chunk.clone());
            let (parts, have) = stage(&*store, &prefix, length, offset, chunk).await?;
            if have < length {
                return Ok(Progress::Partial(have));
            }
            assemble(&*store, &sha, &object, &parts, last).await?;
            Ok(Progress::Complete)
        })
    }

    /// The first half of [`S3Blobs::put_chunk`]: the chunk staged, the
    /// upload not finished. The bytes received.
    pub fn stage_chunk(
        &self,
        sha: &Hash,
        who: &Uploader,
        length: u64,
        offset: u64,
        chunk: &[u8],
    ) -> Result<u64, BlobError> {
        let (store, prefix) = (self.store.clone(), self.staging_prefix(sha, who));
        let chunk = Bytes::copy_from_slice(chunk);
        crate::driver::block_on(async move { Ok(stage(&*store, &prefix, length, offset, chunk).await?.1) })
    }

    /// The second half (see [`Blobs::complete_upload`]): the staged chunks
    /// assembled once every byte is there.
    pub fn complete_upload(&self, sha: &Hash, who: &Uploader, length: u64) -> Result<Progress, BlobError> {
        let (store, object, prefix) =
            (self.store.clone(), self.object_key(sha), self.staging_prefix(sha, who));
        let sha = *sha;
        crate::driver::block_on(async move {
            if object_size(&*store, &object).await?.is_some() {
                return Ok(Progress::Complete);
            }
            let mut parts = staged(&*store, &prefix).await?;
            let have = contiguous(&parts);
            if have < length {
                return Ok(Progress::Partial(have));
            }
            parts.retain(|p| p.0 < have);
            assemble(&*store, &sha, &object, &parts, None).await?;
            Ok(Progress::Complete)
        })
    }

    pub fn put_whole(&self, bytes: &[u8]) -> Result<Hash, BlobError> {
        let sha = Hash::of(bytes);
        if self.sealed_size(&sha)?.is_some() {
            // Sealed already: never again in the clear.
            return Ok(sha);
        }
        let (store, object, data) =
            (self.store.clone(), self.object_key(&sha), Bytes::copy_from_slice(bytes));
        crate::driver::block_on(async move { put_create(&*store, &object, data).await })?;
        Ok(sha)
    }

    pub fn read_range(&self, sha: &Hash, start: u64, len: usize) -> Result<Vec<u8>, BlobError> {
        let size = self.size(sha)?.ok_or_else(|| not_found(sha))?;
        let end = (start + len as u64).min(size);
        if start >= end {
            return Ok(Vec::new());
        }
        let (store, key) = (self.store.clone(), self.object_key(sha));
        crate::driver::block_on(async move { store.get_range(&key, start..end).await })
            .map(|b| b.to_vec())
            .map_err(bucket_err)
    }

    pub fn read(&self, sha: &Hash) -> Result<Vec<u8>, BlobError> {
        let (store, key) = (self.store.clone(), self.object_key(sha));
        crate::driver::block_on(async move { store.get(&key).await?.bytes().await })
            .map(|b| b.to_vec())
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => not_found(sha),
                e => bucket_err(e),
            })
    }

    pub fn verify(&self, sha: &Hash) -> Result<bool, BlobError> {
        let (store, key) = (self.store.clone(), self.object_key(sha));
        let actual = crate::driver::block_on(async move {
            let mut stream = store.get(&key).await?.into_stream();
            let mut h = Hasher::default();
            while let Some(b) = stream.try_next().await? {
                h.update(&b);
            }
            Ok::<_, object_store::Error>(h.finish())
        })
        .map_err(bucket_err)?;
        Ok(actual == *sha)
    }

    pub fn list(&self) -> Result<Vec<Hash>, BlobError> {
        self.list_under("objects")
    }

    pub fn list_sealed(&self) -> Result<Vec<Hash>, BlobError> {
        self.list_under("faces")
    }

    fn list_under(&self, dir: &str) -> Result<Vec<Hash>, BlobError> {
        let (store, prefix) = (self.store.clone(), self.key(dir));
        let metas: Vec<_> =
            crate::driver::block_on(async move { store.list(Some(&prefix)).try_collect::<Vec<_>>().await })
                .map_err(bucket_err)?;
        let mut out: Vec<Hash> = metas.iter().filter_map(|m| m.location.filename()?.parse().ok()).collect();
        out.sort();
        Ok(out)
    }

    /// Create-only, like every object: a photo's sealed bytes never change.
    pub fn put_sealed(&self, sha: &Hash, sealed: &[u8]) -> Result<(), BlobError> {
        let (store, key, data) = (self.store.clone(), self.sealed_key(sha), Bytes::copy_from_slice(sealed));
        crate::driver::block_on(async move { put_create(&*store, &key, data).await })
    }

    pub fn read_sealed(&self, sha: &Hash) -> Result<Option<Vec<u8>>, BlobError> {
        let (store, key) = (self.store.clone(), self.sealed_key(sha));
        match crate::driver::block_on(async move { store.get(&key).await?.bytes().await }) {
            Ok(b) => Ok(Some(b.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(bucket_err(e)),
        }
    }

    /// Delete the copy in the clear (a bucket that keeps versions keeps the
    /// old one until its lifecycle rule expires it: see docs/operations.md).
    pub fn remove_plain(&self, sha: &Hash) -> Result<(), BlobError> {
        let (store, key) = (self.store.clone(), self.object_key(sha));
        match crate::driver::block_on(async move { store.delete(&key).await }) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(bucket_err(e)),
        }
    }
}

fn not_found(sha: &Hash) -> BlobError {
    BlobError::Io(std::io::Error::new(std::io::ErrorKind::NotFound, format!("media {sha} is not stored")))
}

async fn object_size(store: &dyn ObjectStore, key: &Key) -> Result<Option<u64>, BlobError> {
    match store.head(key).await {
        Ok(m) => Ok(Some(m.size)),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(bucket_err(e)),
    }
}

/// The staged chunks of an upload: (offset, size, key), by offset.
async fn staged(store: &dyn ObjectStore, prefix: &Key) -> Result<Vec<(u64, u64, Key)>, BlobError> {
    let metas: Vec<_> = store.list(Some(prefix)).try_collect().await.map_err(bucket_err)?;
    let mut out: Vec<_> = metas
        .into_iter()
        .filter_map(|m| Some((m.location.filename()?.parse::<u64>().ok()?, m.size, m.location)))
        .collect();
    out.sort_by_key(|c| c.0);
    Ok(out)
}

/// Stage `chunk` at `offset` as an object of its own: the staged chunks
/// with it, and the bytes received.
async fn stage(
    store: &dyn ObjectStore,
    prefix: &Key,
    length: u64,
    offset: u64,
    chunk: Bytes,
) -> Result<(Vec<(u64, u64, Key)>, u64), BlobError> {
    let mut parts = staged(store, prefix).await?;
    let have = contiguous(&parts);
    if offset != have {
        return Err(BlobError::Offset { given: offset, have });
    }
    if have + chunk.len() as u64 > length {
        return Err(BlobError::TooLong { length });
    }
    if chunk.is_empty() {
        // Nothing to stage: an empty object would only claim the offset.
        return Ok((parts, have));
    }
    let key = Key::from(format!("{prefix}/{offset:020}"));
    let n = chunk.len() as u64;
    match store.put_opts(&key, PutPayload::from(chunk), PutMode::Create.into()).await {
        Ok(_) => {}
        // Another instance stored this offset first: the device resumes from its answer.
        Err(object_store::Error::AlreadyExists { .. }) => {
            let have = contiguous(&staged(store, prefix).await?);
            return Err(BlobError::Offset { given: offset, have });
        }
        Err(e) => return Err(bucket_err(e)),
    }
    parts.push((offset, n, key));
    Ok((parts, have + n))
}

/// Bytes received without a gap from offset 0.
fn contiguous(parts: &[(u64, u64, Key)]) -> u64 {
    let mut end = 0;
    for (offset, size, _) in parts {
        if *offset != end {
            break;
        }
        end += size;
    }
    end
}

/// Write-once: an existing object under a content address already holds these bytes.
async fn put_create(store: &dyn ObjectStore, key: &Key, data: Bytes) -> Result<(), BlobError> {
    match store.put_opts(key, PutPayload::from(data), PutOptions::from(PutMode::Create)).await {
        Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
        Err(e) => Err(bucket_err(e)),
    }
}

/// Hash the staged chunks; a match becomes the object, then the chunks go.
async fn assemble(
    store: &dyn ObjectStore,
    sha: &Hash,
    object: &Key,
    parts: &[(u64, u64, Key)],
    last: Option<Bytes>,
) -> Result<(), BlobError> {
    // The last part from the request at hand when it brought it, else from
    // the bucket (finishing an upload a crash interrupted).
    let part = |i: usize, key: &Key| {
        let at_hand = if i + 1 == parts.len() { last.clone() } else { None };
        let key = key.clone();
        async move {
            match at_hand {
                Some(b) => Ok(b),
                None => store.get(&key).await.map_err(bucket_err)?.bytes().await.map_err(bucket_err),
            }
        }
    };

    let total: u64 = parts.iter().map(|p| p.1).sum();
    let small = total as usize <= SINGLE_PUT_MAX;
    let mut h = Hasher::default();
    let mut whole = Vec::with_capacity(if small { total as usize } else { 0 });
    for (i, (_, _, key)) in parts.iter().enumerate() {
        let b = part(i, key).await?;
        h.update(&b);
        if small {
            whole.extend_from_slice(&b);
        }
    }
    let actual = h.finish();
    let result = if actual != *sha {
        Err(BlobError::HashMismatch { expected: *sha, actual })
    } else if small {
        put_create(store, object, Bytes::from(whole)).await
    } else if object_size(store, object).await?.is_none() {
        // Multipart uploads have no create-only form on every S3 server; the
        // bytes are already proven to hash to the key, so a concurrent
        // writer of the same key can only write the same bytes.
        let upload = store.put_multipart(object).await.map_err(bucket_err)?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        for (i, (_, _, key)) in parts.iter().enumerate() {
            w.wait_for_capacity(2).await.map_err(bucket_err)?;
            let b = part(i, key).await?;
            w.write(&b);
        }
        w.finish().await.map(|_| ()).map_err(bucket_err)
    } else {
        Ok(())
    };
    for (_, _, key) in parts {
        // Leftover chunks are harmless (never read once the object exists).
        let _ = store.delete(key).await;
    }
    result
}

#[cfg(test)]
mod tests;
