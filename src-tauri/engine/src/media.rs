//! Media files (photos, videos, signatures), content-addressed in the app's
//! data folder: `media/ab/<sha256>`, written atomically (temporary file,
//! fsync, rename, fsync of the directory) and hashed once, as they are
//! written. Face photos are sealed at rest with the device's face key (PIPL)
//! and named by the hash of their plain bytes, which is what records sign.

use crate::vault;
use custody_core::Hash;
use custody_core::crypto::Hasher;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("media file: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Vault(#[from] vault::VaultError),
    #[error("media {0} is damaged on disk (hash mismatch)")]
    Damaged(Hash),
}

pub struct MediaStore {
    dir: PathBuf,
    face_key: [u8; 32],
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

impl MediaStore {
    pub fn open(dir: &Path, face_key: [u8; 32]) -> std::io::Result<MediaStore> {
        std::fs::create_dir_all(dir.join("tmp"))?;
        Ok(MediaStore { dir: dir.to_owned(), face_key })
    }

    fn path(&self, sha: &Hash, sealed: bool) -> PathBuf {
        let hex = sha.to_hex();
        self.dir.join(&hex[..2]).join(if sealed { format!("{hex}.sealed") } else { hex })
    }

    fn write_atomic(
        &self,
        dest: &Path,
        write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        if dest.exists() {
            return Ok(());
        }
        let mut b = [0u8; 8];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
        let tmp = self.dir.join("tmp").join(hex::encode(b));
        let mut f = std::fs::File::create(&tmp)?;
        write(&mut f)?;
        f.sync_all()?;
        let parent = dest.parent().expect("media path has a parent");
        std::fs::create_dir_all(parent)?;
        std::fs::rename(&tmp, dest)?;
        sync_dir(parent)
    }

    /// Store bytes; returns their hash. `seal`: encrypt at rest (faces).
    pub fn put(&self, bytes: &[u8], seal: bool) -> Result<Hash, MediaError> {
        let sha = Hash::of(bytes);
        let dest = self.path(&sha, seal);
        if seal {
            let sealed = vault::seal(&self.face_key, bytes, sha.as_bytes())?;
            self.write_atomic(&dest, |f| f.write_all(&sealed))?;
        } else {
            self.write_atomic(&dest, |f| f.write_all(bytes))?;
        }
        Ok(sha)
    }

    /// Store a (possibly large) file by streaming it once: copy and hash together.
    pub fn put_file(&self, src: &Path) -> Result<(Hash, u64), MediaError> {
        let mut b = [0u8; 8];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
        let tmp = self.dir.join("tmp").join(hex::encode(b));
        let mut input = std::fs::File::open(src)?;
        let mut out = std::fs::File::create(&tmp)?;
        let mut h = Hasher::default();
        let mut buf = vec![0u8; 1 << 16];
        let mut n = 0u64;
        loop {
            let k = input.read(&mut buf)?;
            if k == 0 {
                break;
            }
            h.update(&buf[..k]);
            out.write_all(&buf[..k])?;
            n += k as u64;
        }
        out.sync_all()?;
        let sha = h.finish();
        let dest = self.path(&sha, false);
        if dest.exists() {
            std::fs::remove_file(&tmp)?;
        } else {
            let parent = dest.parent().expect("media path has a parent");
            std::fs::create_dir_all(parent)?;
            std::fs::rename(&tmp, &dest)?;
            sync_dir(parent)?;
        }
        Ok((sha, n))
    }

    /// The plain bytes (faces unsealed), checked against their hash.
    pub fn read(&self, sha: &Hash, sealed: bool) -> Result<Vec<u8>, MediaError> {
        let raw = std::fs::read(self.path(sha, sealed))?;
        let plain =
            if sealed { vault::open(&self.face_key, &raw, sha.as_bytes(), "face photo")? } else { raw };
        if Hash::of(&plain) != *sha {
            return Err(MediaError::Damaged(*sha));
        }
        Ok(plain)
    }

    /// A byte range of the plain content (resumable upload).
    pub fn read_range(
        &self,
        sha: &Hash,
        sealed: bool,
        start: u64,
        len: usize,
    ) -> Result<Vec<u8>, MediaError> {
        if sealed {
            let all = self.read(sha, true)?;
            let s = (start as usize).min(all.len());
            return Ok(all[s..(s + len).min(all.len())].to_vec());
        }
        use std::io::Seek;
        let mut f = std::fs::File::open(self.path(sha, false))?;
        f.seek(std::io::SeekFrom::Start(start))?;
        let mut out = vec![0u8; len];
        let mut got = 0;
        while got < len {
            let k = f.read(&mut out[got..])?;
            if k == 0 {
                break;
            }
            got += k;
        }
        out.truncate(got);
        Ok(out)
    }

    pub fn exists(&self, sha: &Hash, sealed: bool) -> bool {
        self.path(sha, sealed).is_file()
    }

    /// Remove the local copy (only ever called once the server holds it).
    pub fn remove(&self, sha: &Hash, sealed: bool) -> std::io::Result<()> {
        match std::fs::remove_file(self.path(sha, sealed)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faces_are_sealed_at_rest_and_everything_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let m = MediaStore::open(dir.path(), [3; 32]).unwrap();
        let face = b"a face photo".to_vec();
        let sha = m.put(&face, true).unwrap();
        let on_disk = std::fs::read(m.path(&sha, true)).unwrap();
        assert!(!on_disk.windows(face.len()).any(|w| w == face.as_slice()), "no plain face bytes on disk");
        assert_eq!(m.read(&sha, true).unwrap(), face);
        let photo: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let p = m.put(&photo, false).unwrap();
        assert_eq!(m.read_range(&p, false, 99_990, 100).unwrap(), photo[99_990..].to_vec());
        // Damage is detected rather than uploaded.
        let path = m.path(&p, false);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[5] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        assert!(matches!(m.read(&p, false), Err(MediaError::Damaged(_))));
    }
}
