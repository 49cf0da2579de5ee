//! What the screens show: samplings awaiting a witness with their countdowns
//! (R8), the history of records, one record in detail, and the sync status.

use crate::context;
use crate::engine::Engine;
use crate::error::Result;
use crate::steps::sampled_estimate;
use custody_core::Hash;
use custody_core::custody;
use custody_core::log::Receipt;
use custody_core::protocol::{DeviceProfile, Finding, MediaView};
use custody_core::record::{Payload, RecordBody, SignedRecord};
use serde::{Deserialize, Serialize};

/// A sampling waiting for its witness, with its countdown (R8).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OpenSampling {
    pub record: Hash,
    pub tag: String,
    pub tag_printed: String,
    pub kind: String,
    pub author: String,
    pub sampled_ms: i64,
    pub deadline_ms: i64,
    pub remaining_ms: i64,
    pub mine: bool,
    /// Where it came from: "own", "feed" (through the server) or "qr".
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Alarm {
    pub kind: String,
    pub message_zh: String,
    pub message_en: String,
    pub created_ms: i64,
}

/// What the UI shows about syncing, always.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncStatus {
    pub enrolled: bool,
    pub person_name: Option<String>,
    pub org_name: Option<String>,
    pub pending_records: u64,
    pub pending_media: u64,
    pub pending_media_bytes: u64,
    pub refused_records: u64,
    pub rejected_records: u64,
    pub last_sync_ms: Option<i64>,
    pub last_error_zh: Option<String>,
    pub last_error_en: Option<String>,
    pub alarms: Vec<Alarm>,
    /// Whether the device holds a server time anchor for this boot.
    pub time_anchored: bool,
}

/// One record as the history and detail screens show it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RecordView {
    pub id: Hash,
    pub kind: String,
    pub kind_zh: String,
    pub mine: bool,
    pub seq: u64,
    pub author: String,
    pub tags: Vec<String>,
    /// pending, accepted, refused, deferred, rejected (own); the server's status (peers).
    pub state: String,
    pub findings: Vec<Finding>,
    pub created_ms: i64,
    pub receipt_verified: bool,
    pub log_index: Option<u64>,
    pub media: Vec<MediaView>,
    pub body: RecordBody,
    pub cosigners: Vec<String>,
}

/// What this phone knows about a record besides its bytes.
struct Known {
    mine: bool,
    state: String,
    findings: Vec<Finding>,
    receipt: Option<Receipt>,
    log_index: Option<u64>,
}

impl Known {
    fn received(state: String, log_index: Option<u64>) -> Known {
        Known { mine: false, state, findings: vec![], receipt: None, log_index }
    }
}

impl Engine {
    /// Samplings awaiting a witness, with countdowns (R8).
    pub fn open_samplings(&self) -> Result<Vec<OpenSampling>> {
        let profile = self.profile()?;
        let now = self.now_estimate();
        let mut out: Vec<OpenSampling> = Vec::new();
        for held in self.store.samplings_held()? {
            let rec = &held.record;
            let Payload::Sampling(s) = &rec.body().payload else { continue };
            if context::tag_state(&self.store, &s.tag)?.stage != custody::Stage::Sampled {
                continue;
            }
            let sampled = sampled_estimate(rec, &profile);
            let deadline = sampled + profile.policy.witness_window_ms;
            out.push(OpenSampling {
                record: rec.id(),
                tag: s.tag.to_string(),
                tag_printed: s.tag.printed(),
                kind: s.specimen.kind.name_zh().into(),
                author: rec.body().author.to_string(),
                sampled_ms: sampled,
                deadline_ms: deadline,
                remaining_ms: deadline - now,
                mine: held.mine,
                source: held.source,
            });
        }
        // Held only as handshakes (scanned, not yet synced).
        for h in self.store.handshakes()? {
            if out.iter().any(|x| x.record == h.record)
                || context::tag_state(&self.store, &h.tag)?.stage != custody::Stage::Unbound
            {
                continue;
            }
            out.push(OpenSampling {
                record: h.record,
                tag: h.tag.to_string(),
                tag_printed: h.tag.printed(),
                kind: h.kind.name_zh().into(),
                author: h.author_name.clone(),
                sampled_ms: h.sampled_ms,
                deadline_ms: h.deadline_ms,
                remaining_ms: h.deadline_ms - now,
                mine: false,
                source: "qr".into(),
            });
        }
        out.sort_by_key(|o| o.deadline_ms);
        Ok(out)
    }

    fn view(&self, rec: &SignedRecord, known: Known, profile: &DeviceProfile) -> Result<RecordView> {
        let Known { mine, state, findings, receipt, log_index } = known;
        let id = rec.id();
        let mut media = Vec::new();
        for m in &rec.body().evidence.media {
            let complete = self.store.media_state(&m.sha256)?.is_some_and(|s| s.complete);
            media.push(MediaView {
                sha256: m.sha256,
                purpose: m.purpose.name(),
                media_type: m.media_type.clone(),
                size: m.size,
                complete,
                url: None,
            });
        }
        let receipt_verified =
            receipt.as_ref().is_some_and(|r| r.record == id && r.verify(&profile.server_keys).is_ok());
        Ok(RecordView {
            id,
            kind: rec.body().kind().as_str().into(),
            kind_zh: rec.body().kind().name_zh().into(),
            mine,
            seq: rec.body().seq,
            author: rec.body().author.to_string(),
            tags: rec.body().payload.tags().iter().map(|t| t.printed()).collect(),
            state,
            findings,
            created_ms: rec.body().evidence.time.wall_ms,
            receipt_verified,
            log_index: log_index.or(receipt.map(|r| r.leaf_index)),
            media,
            body: rec.body().clone(),
            cosigners: rec.cosigs().iter().map(|x| x.author.to_string()).collect(),
        })
    }

    /// Every record on this phone, newest first (own and received).
    pub fn history(&self, limit: usize) -> Result<Vec<RecordView>> {
        let profile = self.profile()?;
        let mut out = Vec::new();
        for own in self.store.own_records_newest(limit)? {
            let known = Known {
                mine: true,
                state: own.state,
                findings: own.findings,
                receipt: own.receipt,
                log_index: None,
            };
            out.push(self.view(&own.record, known, &profile)?);
        }
        for peer in self.store.peer_records_newest(limit)? {
            out.push(self.view(&peer.record, Known::received(peer.state, peer.log_index), &profile)?);
        }
        out.sort_by_key(|v| std::cmp::Reverse(v.created_ms));
        out.truncate(limit);
        Ok(out)
    }

    /// The signed record itself, own or received.
    pub fn signed_record(&self, id: &Hash) -> Result<Option<SignedRecord>> {
        Ok(self.store.record(id)?.map(|h| h.record))
    }

    pub fn record(&self, id: &Hash) -> Result<Option<RecordView>> {
        let profile = self.profile()?;
        if let Some(own) = self.store.own_record(id)? {
            let known = Known {
                mine: true,
                state: own.state,
                findings: own.findings,
                receipt: own.receipt,
                log_index: None,
            };
            return Ok(Some(self.view(&own.record, known, &profile)?));
        }
        match self.store.record(id)? {
            Some(held) => {
                Ok(Some(self.view(&held.record, Known::received("accepted".into(), None), &profile)?))
            }
            None => Ok(None),
        }
    }

    pub fn status(&self) -> Result<SyncStatus> {
        let e = self.store.enrollment()?;
        let counts = self.store.own_counts()?;
        let (pending_media, pending_media_bytes) = self.store.pending_media()?;
        let outcome = self.store.sync_outcome()?;
        Ok(SyncStatus {
            enrolled: e.is_some(),
            person_name: e.as_ref().map(|e| e.profile.person.name.clone()),
            org_name: e.as_ref().map(|e| e.profile.org.name.clone()),
            pending_records: counts.pending,
            pending_media,
            pending_media_bytes,
            refused_records: counts.refused,
            rejected_records: counts.rejected,
            last_sync_ms: outcome.last_sync_ms,
            last_error_zh: outcome.last_error_zh,
            last_error_en: outcome.last_error_en,
            alarms: self.store.open_alarms()?,
            time_anchored: self.store.has_anchor_of_boot(&self.clock.boot_id())?,
        })
    }
}
