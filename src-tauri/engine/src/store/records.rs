//! Records in the local store: this device's own chain and its outbox state,
//! records received from the server (the feed), and the tags they name.

use super::station::StationFile;
use super::{LocalStore, now_wall, serialised, set_meta};
use crate::error::{EngineError, Result};
use custody_core::log::Receipt;
use custody_core::protocol::{Finding, RecordStatus};
use custody_core::record::{ChainTail, MediaPurpose, RecordKind, SignedRecord};
use custody_core::{Hash, PublicKey};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// A record this phone holds, own or received, with its state: for own
/// records the outbox state (pending, accepted, refused, deferred,
/// rejected), for received ones the server's status.
pub(crate) struct HeldRecord {
    pub record: SignedRecord,
    pub mine: bool,
    pub state: String,
}

/// One of this device's records, with what the server answered about it.
pub(crate) struct OwnRecord {
    pub record: SignedRecord,
    pub state: String,
    pub findings: Vec<Finding>,
    pub receipt: Option<Receipt>,
}

/// A record received from the server.
pub(crate) struct PeerRecord {
    pub record: SignedRecord,
    pub state: String,
    pub log_index: Option<u64>,
}

/// A sampling that may still await its witness, and where it came from:
/// "own", or how it arrived ("feed").
pub(crate) struct HeldSampling {
    pub record: SignedRecord,
    pub mine: bool,
    pub source: String,
}

/// The record kinds `plans::ProjectPlans::fold` reads (R2, R4, R5, R19).
pub(crate) const PLAN_KINDS: [RecordKind; 5] = [
    RecordKind::ContractRegistered,
    RecordKind::SamplingPlanDrafted,
    RecordKind::TestingPlanDrafted,
    RecordKind::PlanApproved,
    RecordKind::PreStartChecked,
];

/// A plan record the server accepted, as this phone holds it.
pub(crate) struct HeldPlanRecord {
    pub record: SignedRecord,
    /// Its place in the server's log (`None`: an own record without its receipt).
    pub log_index: Option<u64>,
    /// When it reached this phone (for its own, when the server acknowledged it).
    pub at_ms: i64,
}

/// How many of this device's records are in each outbox state that needs attention.
pub(crate) struct OwnCounts {
    pub pending: u64,
    pub refused: u64,
    pub rejected: u64,
}

/// What the server answered about one uploaded record.
pub(crate) struct UploadAck<'a> {
    pub seq: u64,
    pub status: RecordStatus,
    pub findings: &'a [Finding],
    pub receipt: Option<&'a Receipt>,
}

/// A record status as the tables keep it.
fn status_str(s: RecordStatus) -> &'static str {
    match s {
        RecordStatus::Accepted => "accepted",
        RecordStatus::Refused => "refused",
        RecordStatus::Deferred => "deferred",
        RecordStatus::Rejected => "rejected",
    }
}

pub(crate) fn hash_of(bytes: Vec<u8>, zh: &str, en: &str) -> Result<Hash> {
    Ok(Hash(bytes.try_into().map_err(|_| EngineError::invalid(zh, en))?))
}

pub(super) fn parsed<T: serde::de::DeserializeOwned>(json: Option<String>) -> Option<T> {
    json.and_then(|s| serde_json::from_str(&s).ok())
}

impl LocalStore {
    // ------------------------------------------------------------ own chain

    /// The last record of this device's chain.
    pub fn chain_head(&self) -> Result<Option<ChainTail>> {
        let head: Option<(i64, Vec<u8>)> = self
            .conn()
            .query_row("SELECT seq, id FROM own_records ORDER BY seq DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        head.map(|(seq, id)| {
            Ok(ChainTail {
                seq: seq as u64, id: hash_of(id, "本机记录链损坏", "local chain damaged")?
            })
        })
        .transpose()
    }

    /// Append the next record of this device's chain: `sign` gets its `seq`
    /// and `prev` and returns the signed record, which is stored with its
    /// tags, media and outbox entry in one transaction. Holding the write
    /// lock from reading the head to the insert keeps the chain one line.
    #[cfg(test)]
    pub fn append_own_record(
        &self,
        sign: impl FnOnce(u64, Option<Hash>) -> SignedRecord,
    ) -> Result<SignedRecord> {
        self.append_own_record_with(sign, None)
    }

    /// [`Self::append_own_record`], and when `station` is given, the lab
    /// station's note that this machine file is captured by the record, in
    /// the same transaction: the record and the note exist together or not
    /// at all, so a station killed at any instant never signs a file twice.
    pub fn append_own_record_with(
        &self,
        sign: impl FnOnce(u64, Option<Hash>) -> SignedRecord,
        station: Option<&StationFile>,
    ) -> Result<SignedRecord> {
        let mut c = self.conn();
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let head: Option<(i64, Vec<u8>)> = tx
            .query_row("SELECT seq, id FROM own_records ORDER BY seq DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let (seq, prev) = match head {
            Some((s, id)) => (s as u64 + 1, Some(hash_of(id, "本机记录链损坏", "local chain damaged")?)),
            None => (0, None),
        };
        let rec = sign(seq, prev);
        let id = rec.id();
        let body = rec.body();
        tx.execute(
            "INSERT INTO own_records (seq, id, kind, envelope, created_wall_ms, state) VALUES (?1,?2,?3,?4,?5,'pending')",
            params![seq as i64, id.as_bytes().as_slice(), body.kind().as_str(), rec.to_bytes(), body.evidence.time.wall_ms],
        )?;
        for t in body.payload.tags() {
            tx.execute(
                "INSERT OR IGNORE INTO record_tags (tag, record) VALUES (?1,?2)",
                params![t.as_str(), id.as_bytes().as_slice()],
            )?;
        }
        for m in &body.evidence.media {
            tx.execute(
                "INSERT OR IGNORE INTO media (sha256, size, media_type, purpose, sealed, created_ms) VALUES (?1,?2,?3,?4,?5,?6)",
                params![
                    m.sha256.as_bytes().as_slice(),
                    m.size as i64,
                    m.media_type,
                    m.purpose.name(),
                    m.purpose == MediaPurpose::Face,
                    now_wall()
                ],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO record_media (record, sha256) VALUES (?1,?2)",
                params![id.as_bytes().as_slice(), m.sha256.as_bytes().as_slice()],
            )?;
        }
        if let Some(f) = station {
            super::station::insert_station_file(&tx, f, &id)?;
        }
        tx.commit()?;
        Ok(rec)
    }

    /// One of this device's records with the server's answer; a damaged
    /// envelope is an error.
    pub fn own_record(&self, id: &Hash) -> Result<Option<OwnRecord>> {
        type Row = (Vec<u8>, String, Option<String>, Option<String>);
        let row: Option<Row> = self
            .conn()
            .query_row(
                "SELECT envelope, state, findings, receipt FROM own_records WHERE id = ?1",
                params![id.as_bytes().as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        row.map(|(env, state, findings, receipt)| {
            Ok(OwnRecord {
                record: SignedRecord::from_bytes(&env)
                    .map_err(|e| EngineError::invalid("本机记录损坏", e.to_string()))?,
                state,
                findings: parsed(findings).unwrap_or_default(),
                receipt: parsed(receipt),
            })
        })
        .transpose()
    }

    /// This device's newest records (damaged envelopes are left out).
    pub fn own_records_newest(&self, limit: usize) -> Result<Vec<OwnRecord>> {
        let c = self.conn();
        let mut st = c.prepare(
            "SELECT envelope, state, findings, receipt FROM own_records ORDER BY seq DESC LIMIT ?1",
        )?;
        type Row = (Vec<u8>, String, Option<String>, Option<String>);
        let rows: Vec<Row> = st
            .query_map(params![limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(env, state, findings, receipt)| {
                Some(OwnRecord {
                    record: SignedRecord::from_bytes(&env).ok()?,
                    state,
                    findings: parsed(findings).unwrap_or_default(),
                    receipt: parsed(receipt),
                })
            })
            .collect())
    }

    pub fn own_counts(&self) -> Result<OwnCounts> {
        let c = self.conn();
        let count = |state: &str| -> rusqlite::Result<u64> {
            c.query_row("SELECT count(*) FROM own_records WHERE state = ?1", params![state], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
        };
        Ok(OwnCounts { pending: count("pending")?, refused: count("refused")?, rejected: count("rejected")? })
    }

    /// The oldest records waiting to be uploaded, in chain order: (seq, envelope).
    pub fn pending_uploads(&self, limit: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        let c = self.conn();
        let mut st =
            c.prepare("SELECT seq, envelope FROM own_records WHERE state = 'pending' ORDER BY seq LIMIT ?1")?;
        let rows = st
            .query_map(params![limit as i64], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// What the server answered about uploaded records, in one transaction.
    pub fn record_upload_results(&self, acks: &[UploadAck<'_>]) -> Result<()> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        for a in acks {
            tx.execute(
                "UPDATE own_records SET state = ?2, findings = ?3, receipt = ?4, attempts = attempts + 1, acked_ms = ?5 WHERE seq = ?1",
                params![
                    a.seq as i64,
                    status_str(a.status),
                    serialised(&a.findings),
                    a.receipt.map(serialised),
                    now_wall()
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    // ------------------------------------------------------------ any record held

    /// A record by id, own or received.
    pub fn record(&self, id: &Hash) -> Result<Option<HeldRecord>> {
        let c = self.conn();
        let own: Option<(Vec<u8>, String)> = c
            .query_row(
                "SELECT envelope, state FROM own_records WHERE id = ?1",
                params![id.as_bytes().as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((env, state)) = own {
            return Ok(SignedRecord::from_bytes(&env).ok().map(|record| HeldRecord {
                record,
                mine: true,
                state,
            }));
        }
        let peer: Option<(Vec<u8>, String)> = c
            .query_row(
                "SELECT envelope, coalesce(status, 'accepted') FROM peer_records WHERE id = ?1",
                params![id.as_bytes().as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(peer.and_then(|(env, state)| {
            SignedRecord::from_bytes(&env).ok().map(|record| HeldRecord { record, mine: false, state })
        }))
    }

    /// Every record this phone holds that names a tag, own and received.
    pub fn records_naming_tag(&self, tag: &str) -> Result<Vec<HeldRecord>> {
        let c = self.conn();
        let mut st = c.prepare_cached(
            "SELECT o.envelope, 1, o.state FROM record_tags t JOIN own_records o ON o.id = t.record WHERE t.tag = ?1 \
             UNION ALL SELECT p.envelope, 0, coalesce(p.status, 'accepted') FROM record_tags t JOIN peer_records p ON p.id = t.record WHERE t.tag = ?1",
        )?;
        let rows = st.query_map(params![tag], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, bool>(1)?, r.get::<_, String>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (env, mine, state) = row?;
            if let Ok(record) = SignedRecord::from_bytes(&env) {
                out.push(HeldRecord { record, mine, state });
            }
        }
        Ok(out)
    }

    /// Samplings that may await a witness: own ones not refused, received
    /// ones the server accepted.
    pub fn samplings_held(&self) -> Result<Vec<HeldSampling>> {
        let c = self.conn();
        let mut st = c.prepare(
            "SELECT envelope, 1, 'own' FROM own_records WHERE kind = 'sampling' AND state IN ('pending','accepted') \
             UNION ALL SELECT envelope, 0, source FROM peer_records WHERE kind = 'sampling' AND coalesce(status,'accepted') = 'accepted'",
        )?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, bool>(1)?, r.get::<_, String>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (env, mine, source) = row?;
            if let Ok(record) = SignedRecord::from_bytes(&env) {
                out.push(HeldSampling { record, mine, source });
            }
        }
        Ok(out)
    }

    /// The plan records of every project this phone holds that the server
    /// accepted (R2, R4, R5, R19): received through the feed, or this
    /// device's own, each with its log index and when it reached this phone
    /// (its receipt, for its own). Refused, deferred and pending ones have
    /// no effect (`plans::ProjectPlans::fold` reads accepted ones only).
    pub fn accepted_plan_records(&self) -> Result<Vec<HeldPlanRecord>> {
        let c = self.conn();
        let mut st = c.prepare_cached(
            "SELECT envelope, log_index, NULL, received_ms FROM peer_records \
             WHERE kind IN (?1,?2,?3,?4,?5) AND coalesce(status,'accepted') = 'accepted' \
             UNION ALL SELECT envelope, NULL, receipt, coalesce(acked_ms, created_wall_ms) FROM own_records \
             WHERE kind IN (?1,?2,?3,?4,?5) AND state = 'accepted'",
        )?;
        let k = PLAN_KINDS.map(RecordKind::as_str);
        let rows = st.query_map(params![k[0], k[1], k[2], k[3], k[4]], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (env, log_index, receipt, at_ms) = row?;
            let Ok(record) = SignedRecord::from_bytes(&env) else { continue };
            // An own record knows its place in the log from its receipt.
            let log_index =
                log_index.map(|i| i as u64).or_else(|| parsed::<Receipt>(receipt).map(|r| r.leaf_index));
            out.push(HeldPlanRecord { record, log_index, at_ms });
        }
        // Log order: an approval follows the version it names.
        out.sort_by_key(|h| (h.log_index.unwrap_or(u64::MAX), h.at_ms));
        Ok(out)
    }

    /// The newest records received from the server.
    pub fn peer_records_newest(&self, limit: usize) -> Result<Vec<PeerRecord>> {
        let c = self.conn();
        let mut st = c.prepare(
            "SELECT envelope, coalesce(status,'accepted'), log_index FROM peer_records ORDER BY received_ms DESC LIMIT ?1",
        )?;
        let rows: Vec<(Vec<u8>, String, Option<i64>)> = st
            .query_map(params![limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(env, state, idx)| {
                Some(PeerRecord {
                    record: SignedRecord::from_bytes(&env).ok()?,
                    state,
                    log_index: idx.map(|x| x as u64),
                })
            })
            .collect())
    }

    /// One page of the server's feed, with the cursor after it, in one
    /// transaction (one durable commit per page, and the cursor moves with
    /// the data). This device's own records get their current status and
    /// envelope (co-signatures); others are kept as received. Returns how
    /// many others arrived.
    pub fn save_feed_page(
        &self,
        own_device: &PublicKey,
        items: &[(SignedRecord, RecordStatus, u64)],
        next_cursor: u64,
    ) -> Result<usize> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        let received = save_received(&tx, own_device, items, "feed")?;
        set_meta(&tx, "feed_cursor", &next_cursor.to_string())?;
        tx.commit()?;
        Ok(received)
    }

    /// The records of a tag's trail as the server showed them to this lab
    /// (each already checked against its signature and receipt): kept like
    /// feed records, so a form's co-signatures the witness added since the
    /// feed last ran are held when the lab receives from it (R10, R11). The
    /// feed cursor does not move.
    pub fn save_trail_records(
        &self,
        own_device: &PublicKey,
        items: &[(SignedRecord, RecordStatus, u64)],
    ) -> Result<usize> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        let received = save_received(&tx, own_device, items, "trail")?;
        tx.commit()?;
        Ok(received)
    }
}

/// Records the server sent (`source`: "feed" or "trail"): this device's own
/// get their current status and envelope; others are kept, a newer envelope
/// (more co-signatures) replacing the held one. Returns how many others.
fn save_received(
    tx: &rusqlite::Transaction<'_>,
    own_device: &PublicKey,
    items: &[(SignedRecord, RecordStatus, u64)],
    source: &str,
) -> Result<usize> {
    let mut received = 0;
    for (rec, status, log_index) in items {
        let id = rec.id();
        let body = rec.body();
        if body.device == *own_device {
            tx.execute(
                "UPDATE own_records SET state = ?2, envelope = ?3 WHERE id = ?1 AND state != 'pending'",
                params![id.as_bytes().as_slice(), status_str(*status), rec.to_bytes()],
            )?;
            continue;
        }
        tx.execute(
                "INSERT INTO peer_records (id, device, seq, kind, envelope, status, log_index, source, received_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9) \
                 ON CONFLICT(id) DO UPDATE SET envelope = excluded.envelope, status = excluded.status, log_index = excluded.log_index",
                params![
                    id.as_bytes().as_slice(),
                    body.device.0.as_slice(),
                    body.seq as i64,
                    body.kind().as_str(),
                    rec.to_bytes(),
                    status_str(*status),
                    *log_index as i64,
                    source,
                    now_wall()
                ],
            )?;
        for t in body.payload.tags() {
            tx.execute(
                "INSERT OR IGNORE INTO record_tags (tag, record) VALUES (?1,?2)",
                params![t.as_str(), id.as_bytes().as_slice()],
            )?;
        }
        received += 1;
    }
    Ok(received)
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_core::fixtures::{self, Device, T0};

    fn store() -> (tempfile::TempDir, LocalStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(&dir.path().join("field.sqlite")).unwrap();
        (dir, store)
    }

    /// Append a sampling of `serial` by `d`, placed where the store says.
    fn append(store: &LocalStore, d: &Device, serial: u32) -> SignedRecord {
        store
            .append_own_record(|seq, prev| {
                let mut body = d.body(fixtures::sampling(fixtures::tag(serial)), vec![], vec![], T0);
                body.seq = seq;
                body.prev = prev;
                SignedRecord::sign(body, &d.key).unwrap()
            })
            .unwrap()
    }

    #[test]
    fn own_records_form_one_chain_and_are_found_by_id_and_by_tag() {
        let (_dir, store) = store();
        let d = Device::new(3, "P-SAMPLER");
        assert!(store.chain_head().unwrap().is_none());
        let a = append(&store, &d, 1);
        let b = append(&store, &d, 2);
        assert_eq!((a.body().seq, a.body().prev), (0, None));
        assert_eq!((b.body().seq, b.body().prev), (1, Some(a.id())));
        assert_eq!(store.chain_head().unwrap(), Some(ChainTail { seq: 1, id: b.id() }));

        let held = store.record(&b.id()).unwrap().unwrap();
        assert!(held.mine && held.state == "pending" && held.record == b);
        let naming = store.records_naming_tag(fixtures::tag(1).as_str()).unwrap();
        assert_eq!(naming.iter().map(|h| h.record.id()).collect::<Vec<_>>(), [a.id()]);
        assert_eq!(store.pending_uploads(10).unwrap().iter().map(|(s, _)| *s).collect::<Vec<_>>(), [0, 1]);

        let findings = vec![];
        store
            .record_upload_results(&[UploadAck {
                seq: 0,
                status: RecordStatus::Refused,
                findings: &findings,
                receipt: None,
            }])
            .unwrap();
        let counts = store.own_counts().unwrap();
        assert_eq!((counts.pending, counts.refused, counts.rejected), (1, 1, 0));
        assert_eq!(store.own_record(&a.id()).unwrap().unwrap().state, "refused");
    }

    #[test]
    fn a_feed_page_updates_own_records_keeps_others_and_moves_the_cursor() {
        let (_dir, store) = store();
        let me = Device::new(3, "P-SAMPLER");
        let mine = append(&store, &me, 1);
        let mut other = Device::new(4, "P-WITNESS");
        let theirs = other.sign(other.body(fixtures::witnessing(&mine), vec![], vec![], T0));
        let page = [(mine.clone(), RecordStatus::Accepted, 7), (theirs.clone(), RecordStatus::Accepted, 8)];

        // An own record still pending keeps its outbox state.
        assert_eq!(store.save_feed_page(&me.key.public(), &page, 9).unwrap(), 1);
        assert_eq!(store.own_record(&mine.id()).unwrap().unwrap().state, "pending");
        assert_eq!(store.feed_cursor().unwrap(), 9);
        let held = store.record(&theirs.id()).unwrap().unwrap();
        assert!(!held.mine && held.state == "accepted");
        let peers = store.peer_records_newest(10).unwrap();
        assert_eq!(peers.len(), 1);
        assert_eq!(peers[0].log_index, Some(8));
        // The witnessing names the sampled tag too.
        assert_eq!(store.records_naming_tag(fixtures::tag(1).as_str()).unwrap().len(), 2);

        // Once uploaded, the feed's status wins.
        let none = vec![];
        let ack = UploadAck { seq: 0, status: RecordStatus::Deferred, findings: &none, receipt: None };
        store.record_upload_results(&[ack]).unwrap();
        assert_eq!(store.save_feed_page(&me.key.public(), &page[..1], 10).unwrap(), 0);
        assert_eq!(store.own_record(&mine.id()).unwrap().unwrap().state, "accepted");
    }
}
