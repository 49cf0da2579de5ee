//! Content-addressed, write-once media storage on the local disk (the
//! default; issue 7 adds S3-compatible object storage behind the same calls).
//!
//! An upload in progress lives in `partial/<sha256>` and grows chunk by
//! chunk, each chunk flushed to disk before it is acknowledged, so a cut
//! connection resumes where it stopped. On completion the bytes are hashed;
//! only a match is renamed to `objects/ab/<sha256>`, and an object that exists
//! is never overwritten.

use custody_core::Hash;
use custody_core::crypto::Hasher;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

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
}

#[derive(Clone)]
pub struct Blobs {
    root: PathBuf,
}

/// Where an upload stands after a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Partial(u64),
    Complete,
}

impl Blobs {
    pub fn open(root: &Path) -> std::io::Result<Blobs> {
        std::fs::create_dir_all(root.join("partial"))?;
        std::fs::create_dir_all(root.join("objects"))?;
        Ok(Blobs { root: root.to_owned() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn object_path(&self, sha: &Hash) -> PathBuf {
        let hex = sha.to_hex();
        self.root.join("objects").join(&hex[..2]).join(hex)
    }

    fn partial_path(&self, sha: &Hash) -> PathBuf {
        self.root.join("partial").join(sha.to_hex())
    }

    pub fn exists(&self, sha: &Hash) -> bool {
        self.object_path(sha).is_file()
    }

    /// Bytes received so far for an upload (the full length when complete).
    pub fn received(&self, sha: &Hash) -> std::io::Result<u64> {
        if let Ok(m) = std::fs::metadata(self.object_path(sha)) {
            return Ok(m.len());
        }
        match std::fs::metadata(self.partial_path(sha)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Append `chunk` at `offset` of an upload of `length` bytes.
    pub fn put_chunk(
        &self,
        sha: &Hash,
        length: u64,
        offset: u64,
        chunk: &[u8],
    ) -> Result<Progress, BlobError> {
        if self.exists(sha) {
            return Ok(Progress::Complete);
        }
        let path = self.partial_path(sha);
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
        let now = have + chunk.len() as u64;
        if now < length {
            return Ok(Progress::Partial(now));
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
            let _ = std::fs::remove_file(self.partial_path(&sha));
            self.put_chunk(&sha, bytes.len() as u64, 0, bytes)?;
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

    /// Every complete object's hash (for backup and verification).
    pub fn list(&self) -> std::io::Result<Vec<Hash>> {
        let mut out = Vec::new();
        for shard in std::fs::read_dir(self.root.join("objects"))? {
            for f in std::fs::read_dir(shard?.path())? {
                if let Some(h) = f?.file_name().to_str().and_then(|s| s.parse().ok()) {
                    out.push(h);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r14_resumes_checks_hash_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let b = Blobs::open(dir.path()).unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let sha = Hash::of(&data);
        assert_eq!(b.put_chunk(&sha, 100_000, 0, &data[..30_000]).unwrap(), Progress::Partial(30_000));
        // A resend of an old chunk is refused with where to resume.
        assert!(matches!(
            b.put_chunk(&sha, 100_000, 0, &data[..10]),
            Err(BlobError::Offset { have: 30_000, .. })
        ));
        assert_eq!(b.received(&sha).unwrap(), 30_000);
        assert_eq!(b.put_chunk(&sha, 100_000, 30_000, &data[30_000..]).unwrap(), Progress::Complete);
        assert_eq!(b.read(&sha).unwrap(), data);
        assert!(b.verify(&sha).unwrap());
        // Wrong content under a name: discarded.
        let bad = Hash::of(b"something else");
        assert!(matches!(b.put_chunk(&bad, 5, 0, b"hello"), Err(BlobError::HashMismatch { .. })));
        assert_eq!(b.received(&bad).unwrap(), 0);
        assert_eq!(b.list().unwrap(), vec![sha]);
    }
}
