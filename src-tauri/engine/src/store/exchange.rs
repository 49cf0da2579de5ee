//! What travels beside records: the upload progress of the media they list,
//! handshakes scanned offline (R8-R9), and co-signatures waiting to be sent
//! (R10).

use super::records::{hash_of, parsed};
use super::{LocalStore, now_wall, serialised};
use crate::error::{EngineError, Result};
use crate::handshake::HandshakeOffer;
use custody_core::Hash;
use custody_core::protocol::{ApiError, Finding};
use custody_core::record::Cosignature;
use rusqlite::{OptionalExtension, params};

/// What the store knows of one media file.
pub(crate) struct MediaState {
    pub sealed: bool,
    /// The server holds every byte.
    pub complete: bool,
}

/// A media file the server should receive next.
pub(crate) struct MediaUpload {
    pub sha: Hash,
    pub size: u64,
    pub sealed: bool,
}

impl LocalStore {
    // ------------------------------------------------------------ media

    /// What the store knows of a media file, if a record of this phone lists it.
    pub fn media_state(&self, sha: &Hash) -> Result<Option<MediaState>> {
        let row: Option<(bool, bool)> = self
            .conn()
            .query_row(
                "SELECT sealed, complete FROM media WHERE sha256 = ?1",
                params![sha.as_bytes().as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.map(|(sealed, complete)| MediaState { sealed, complete }))
    }

    /// Media of this device's records the server does not hold yet: (files, bytes).
    pub fn pending_media(&self) -> Result<(u64, u64)> {
        let (n, bytes): (i64, i64) = self.conn().query_row(
            "SELECT count(*), coalesce(sum(m.size - m.uploaded), 0) FROM media m WHERE m.complete = 0 AND EXISTS (SELECT 1 FROM record_media x JOIN own_records o ON o.id = x.record WHERE x.sha256 = m.sha256)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((n as u64, bytes.max(0) as u64))
    }

    /// Incomplete media of records the server holds (only those: it refuses
    /// media no stored record lists).
    pub fn media_to_upload(&self) -> Result<Vec<MediaUpload>> {
        let rows: Vec<(Vec<u8>, i64, bool)> = {
            let c = self.conn();
            let mut st = c.prepare(
                "SELECT m.sha256, m.size, m.sealed FROM media m WHERE m.complete = 0 AND EXISTS (SELECT 1 FROM record_media x JOIN own_records o ON o.id = x.record WHERE x.sha256 = m.sha256 AND o.state IN ('accepted','refused','deferred'))",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?
        };
        rows.into_iter()
            .map(|(sha, size, sealed)| {
                Ok(MediaUpload {
                    sha: hash_of(sha, "本机文件索引损坏", "media index damaged")?,
                    size: size as u64,
                    sealed,
                })
            })
            .collect()
    }

    /// How much of a media file the server holds.
    pub fn media_progress(&self, sha: &Hash, uploaded: u64, complete: bool) -> Result<()> {
        self.conn().execute(
            "UPDATE media SET uploaded = ?2, complete = ?3 WHERE sha256 = ?1",
            params![sha.as_bytes().as_slice(), uploaded as i64, complete],
        )?;
        Ok(())
    }

    // ------------------------------------------------------------ handshakes

    pub fn save_handshake(&self, offer: &HandshakeOffer) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO handshakes (record, offer, received_ms) VALUES (?1,?2,?3)",
            params![offer.record.as_bytes().as_slice(), serialised(offer), now_wall()],
        )?;
        Ok(())
    }

    /// The handshake scanned for a sampling record, if any.
    pub fn handshake(&self, record: &Hash) -> Result<Option<HandshakeOffer>> {
        let s: Option<String> = self
            .conn()
            .query_row(
                "SELECT offer FROM handshakes WHERE record = ?1",
                params![record.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(parsed(s))
    }

    /// Every handshake scanned (unreadable ones left out).
    pub fn handshakes(&self) -> Result<Vec<HandshakeOffer>> {
        let c = self.conn();
        let mut st = c.prepare("SELECT offer FROM handshakes")?;
        let offers: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(offers.into_iter().filter_map(|o| serde_json::from_str(&o).ok()).collect())
    }

    // ------------------------------------------------------------ co-signatures

    /// A co-signature to send at the next sync (replacing an earlier one).
    pub fn save_cosignature(&self, record: &Hash, cosig: &Cosignature) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO cosignatures (record, cosig, state) VALUES (?1,?2,'pending')",
            params![record.as_bytes().as_slice(), serialised(cosig)],
        )?;
        Ok(())
    }

    pub fn pending_cosignatures(&self) -> Result<Vec<(Hash, Cosignature)>> {
        let rows: Vec<(Vec<u8>, String)> = {
            let c = self.conn();
            let mut st = c.prepare("SELECT record, cosig FROM cosignatures WHERE state = 'pending'")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?
        };
        rows.into_iter()
            .map(|(record, cosig)| {
                let record = hash_of(record, "本机会签索引损坏", "co-signature index damaged")?;
                let cosig = serde_json::from_str(&cosig)
                    .map_err(|e| EngineError::invalid("本机会签损坏", e.to_string()))?;
                Ok((record, cosig))
            })
            .collect()
    }

    /// The server took the co-signature, with these findings.
    pub fn cosignature_sent(&self, record: &Hash, findings: &[Finding]) -> Result<()> {
        self.conn().execute(
            "UPDATE cosignatures SET state = 'done', findings = ?2 WHERE record = ?1",
            params![record.as_bytes().as_slice(), serialised(&findings)],
        )?;
        Ok(())
    }

    /// The server refused the co-signature for good.
    pub fn cosignature_failed(&self, record: &Hash, error: &ApiError) -> Result<()> {
        self.conn().execute(
            "UPDATE cosignatures SET state = 'failed', findings = ?2 WHERE record = ?1",
            params![record.as_bytes().as_slice(), serialised(error)],
        )?;
        Ok(())
    }
}
