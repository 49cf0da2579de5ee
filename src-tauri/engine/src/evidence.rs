//! The evidence files records name (photos, videos, signatures), through the
//! engine: stored as captured (faces sealed at rest, PIPL), read back for
//! display and forms, and deleted only once the server holds them.

use crate::engine::Engine;
use crate::error::{EngineError, Result};
use crate::media::MediaError;
use custody_core::Hash;
use custody_core::record::{MediaPurpose, MediaRef};
use std::path::Path;

impl Engine {
    /// Store a captured photo, video frame or drawing; returns the reference
    /// a record names. Face photos are sealed at rest (PIPL).
    pub fn store_media(&self, bytes: &[u8], purpose: MediaPurpose, media_type: &str) -> Result<MediaRef> {
        if bytes.is_empty() {
            return Err(EngineError::invalid("文件为空", "empty file"));
        }
        let sha = self.media.put(bytes, purpose == MediaPurpose::Face)?;
        Ok(MediaRef {
            sha256: sha,
            size: bytes.len() as u64,
            media_type: media_type.into(),
            purpose,
            captured_mono_ms: Some(self.clock.mono_ms()),
        })
    }

    /// Store a large file (a process video) by streaming it.
    pub fn store_media_file(&self, path: &Path, purpose: MediaPurpose, media_type: &str) -> Result<MediaRef> {
        if purpose == MediaPurpose::Face {
            let bytes = std::fs::read(path).map_err(MediaError::Io)?;
            return self.store_media(&bytes, purpose, media_type);
        }
        let (sha, size) = self.media.put_file(path)?;
        Ok(MediaRef {
            sha256: sha,
            size,
            media_type: media_type.into(),
            purpose,
            captured_mono_ms: Some(self.clock.mono_ms()),
        })
    }

    /// The plain bytes of a stored media file (for display, the PDF form …).
    pub fn media_bytes(&self, sha: &Hash) -> Result<Vec<u8>> {
        let sealed = match self.store.media_state(sha)? {
            Some(m) => m.sealed,
            None => self.media.exists(sha, true),
        };
        Ok(self.media.read(sha, sealed)?)
    }

    /// Free space by removing a local copy — only once the server holds it.
    pub fn delete_media(&self, sha: &Hash) -> Result<()> {
        match self.store.media_state(sha)? {
            Some(m) if m.complete => Ok(self.media.remove(sha, m.sealed).map_err(MediaError::Io)?),
            Some(_) => Err(EngineError::invalid(
                "该文件尚未上传到服务器，不能删除",
                "this file has not reached the server yet and cannot be deleted",
            )),
            None => Err(EngineError::invalid("没有这个文件", "no such file")),
        }
    }
}
