//! What the engine asks the server for on demand, online: a media file (a
//! trail's photos for the lab), the person's enrolled face reference for the
//! on-device check, and the server's verdict on a scanned tag (R11).

use crate::engine::Engine;
use crate::error::{EngineError, Result};
use custody_core::protocol::TrailResponse;
use custody_core::record::SignedRecord;
use custody_core::verify::Violation;
use custody_core::{Hash, TagCode, routes};

impl Engine {
    /// Download a media file from the server (a trail's photos for the lab).
    pub async fn fetch_media(&self, sha: &Hash) -> Result<Vec<u8>> {
        let e = self.enrolled()?;
        let client = self.client(&e);
        let bytes = client.get_bytes(&self.key, self.now_estimate(), &routes::media_content(sha)).await?;
        if Hash::of(&bytes) != *sha {
            return Err(EngineError::invalid(
                "下载的文件与其哈希不符",
                "downloaded media does not match its hash",
            ));
        }
        Ok(bytes)
    }

    /// The person's enrolled face reference (R1), for the on-device 1:1
    /// check: from the local sealed store, else fetched once and sealed.
    pub async fn face_reference(&self) -> Result<Option<Vec<u8>>> {
        let profile = self.profile()?;
        let now = self.now_estimate();
        let Some(sha) = profile
            .grants
            .iter()
            .filter(|g| g.revoked_at_ms.is_none() && g.valid_until_ms.is_none_or(|u| u > now))
            .find_map(|g| g.face_reference)
        else {
            return Ok(None);
        };
        if self.media.exists(&sha, true) {
            return Ok(Some(self.media.read(&sha, true)?));
        }
        let bytes = self.fetch_media(&sha).await?;
        self.media.put(&bytes, true)?;
        Ok(Some(bytes))
    }

    /// R11: the server's verdict on a scanned tag (lab receivers, online).
    pub async fn verify_tag(&self, code: &str) -> Result<TrailResponse> {
        let e = self.enrolled()?;
        let tag =
            TagCode::parse(code).map_err(|err| EngineError::invalid(err.message_zh(), err.to_string()))?;
        let client = self.client(&e);
        let trail: TrailResponse =
            self.signed(&client, reqwest::Method::GET, &routes::lab_tag(&tag), vec![], &[]).await?;
        // Check the server's evidence ourselves: every receipt against the pinned key.
        for r in &trail.records {
            if r.receipt.verify(&e.profile.server_keys).is_err() || r.receipt.record != r.id {
                return Err(EngineError::invalid(
                    "服务器返回的记录回执无效",
                    "a receipt in the server's answer does not verify",
                ));
            }
        }
        // The records themselves, each verified, kept like feed records: the
        // form's co-signatures as they stand now (R10), so the receipt's
        // check on this phone sees what the server will.
        let mut held = Vec::with_capacity(trail.records.len());
        for r in &trail.records {
            match SignedRecord::decode_verified(r.envelope.get().as_bytes()) {
                Ok(rec) if rec.id() == r.id => held.push((rec, r.status, r.log_index)),
                _ => {
                    return Err(EngineError::invalid(
                        "服务器返回的记录与其编号或签名不符",
                        "a record in the server's answer does not match its id or signature",
                    ));
                }
            }
        }
        self.store.save_trail_records(&self.key.public(), &held)?;
        // What the receiver must confirm to accept it, kept for the receipt (R11).
        let findings: Vec<Violation> =
            trail.to_confirm.iter().filter_map(|f| serde_json::from_value(f.detail.clone()).ok()).collect();
        self.store.save_trail_findings(&tag, &findings)?;
        Ok(trail)
    }
}
