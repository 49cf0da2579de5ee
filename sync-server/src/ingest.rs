//! The ingest pipeline: every record that reaches the server goes through
//! here, whether a device uploaded it or the admin CLI made it.
//!
//! 1. decode (canonical bytes, known version) and check every signature —
//!    else **rejected**, before anything is stored or answered;
//! 2. same id already held → **duplicate** (idempotent resend);
//!    another record at the same device `seq` → **equivocation**: rejected,
//!    kept as evidence and listed for regulators, never silently dropped;
//! 3. gather the verification context with the core's one builder
//!    (`custody_core::verify::build`, the store as its fact source) and run
//!    the shared rules (`custody_core::verify`), unchanged;
//! 4. storable records are appended to the device chain and the transparency
//!    log, then **accepted** (custody moves, admin facts take effect, flagged
//!    violations recorded), **refused** (kept as evidence, no effect) or
//!    **deferred** (waiting for a record they name);
//! 5. an accepted record wakes the deferred records that named it.

use crate::facts::{StoreFacts, device_viewer};
use crate::logtree;
use crate::store::{RecordRow, Result, StoreError, Tx};
use custody_core::policy::Policy;
use custody_core::protocol::{Finding, RecordStatus};
use custody_core::record::{ChainTail, Payload, SignedRecord};
use custody_core::verify::{self, Disposition, Situation, Subject, Verdict, VerifyContext};
use custody_core::{Hash, PublicKey, SigningKey, access};

/// What became of one record.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: Hash,
    pub status: RecordStatus,
    pub duplicate: bool,
    pub findings: Vec<Finding>,
    pub log_index: Option<u64>,
}

impl Outcome {
    fn rejected(id: Hash, findings: Vec<Finding>) -> Outcome {
        Outcome { id, status: RecordStatus::Rejected, duplicate: false, findings, log_index: None }
    }
}

/// Shared inputs of the pipeline.
pub struct Pipeline<'a> {
    pub server_key: &'a SigningKey,
    /// Every key the server signed with (`server_key` first): anchors a
    /// device holds from before a key rotation still verify.
    pub known: &'a [PublicKey],
    pub policy: &'a Policy,
    pub now: i64,
}

fn finding(code: &str, zh: &str, en: &str, detail: serde_json::Value) -> Finding {
    Finding {
        code: code.into(),
        rule: verify::Rule::Integrity,
        disposition: Disposition::Reject,
        message_zh: zh.into(),
        message_en: en.into(),
        detail,
    }
}

pub fn status_of(v: &Verdict) -> RecordStatus {
    match v.worst() {
        None | Some(Disposition::Notice | Disposition::Flag) => RecordStatus::Accepted,
        Some(Disposition::Defer) => RecordStatus::Deferred,
        Some(Disposition::Refuse) => RecordStatus::Refused,
        Some(Disposition::Reject) => RecordStatus::Rejected,
    }
}

pub fn findings(v: &Verdict) -> Vec<Finding> {
    v.violations.iter().map(Finding::from).collect()
}

/// Decode a stored envelope (it was canonical and verified when stored).
pub fn decode_stored(row: &RecordRow) -> Result<SignedRecord> {
    SignedRecord::from_bytes(&row.envelope)
        .map_err(|e| StoreError::Corrupt(format!("record {}: {e}", row.id)))
}

pub fn stored_verdict(row: &RecordRow) -> Result<Verdict> {
    serde_json::from_str(&row.verdict).map_err(|e| StoreError::Corrupt(format!("verdict of {}: {e}", row.id)))
}

/// A record decoded and signature-checked before the write transaction:
/// the CPU-heavy part, which can run on any core while another request holds
/// the store's write lock.
pub struct Prepared {
    pub bytes: Vec<u8>,
    pub record: std::result::Result<SignedRecord, custody_core::record::DecodeError>,
    pub signatures_ok: bool,
    /// Whether the record's held time anchor verifies (None: it has none).
    pub anchor_ok: Option<bool>,
}

/// Time anchors already verified. Every record a device makes between two
/// syncs carries the same anchor: check its signature once, not per record.
#[derive(Default)]
pub struct AnchorCache(std::sync::Mutex<std::collections::HashSet<Hash>>);

impl AnchorCache {
    const CAPACITY: usize = 50_000;

    fn check(&self, anchor: &custody_core::time::TimeAnchor, trusted: &[PublicKey]) -> bool {
        let key = Hash::of(&serde_json::to_vec(anchor).expect("anchor serialises"));
        if self.0.lock().unwrap_or_else(|p| p.into_inner()).contains(&key) {
            return true;
        }
        let ok = anchor.verify(trusted);
        if ok {
            let mut set = self.0.lock().unwrap_or_else(|p| p.into_inner());
            if set.len() >= Self::CAPACITY {
                set.clear();
            }
            set.insert(key);
        }
        ok
    }
}

/// Decode and check every signature (record, co-signatures, time anchor).
pub fn prepare(bytes: &[u8], trusted: &[PublicKey], anchors: &AnchorCache) -> Prepared {
    let record = SignedRecord::from_bytes(bytes);
    let signatures_ok = record.as_ref().is_ok_and(|r| r.verify_signatures().is_ok());
    let anchor_ok = record
        .as_ref()
        .ok()
        .and_then(|r| r.body().evidence.time.anchor.as_ref())
        .map(|h| anchors.check(&h.anchor, trusted));
    Prepared { bytes: bytes.to_vec(), record, signatures_ok, anchor_ok }
}

impl Pipeline<'_> {
    /// Ingest one record given as envelope bytes. `uploader` is the
    /// authenticated device (None for the server's own records).
    pub fn ingest(&self, tx: &mut dyn Tx, bytes: &[u8], uploader: Option<&PublicKey>) -> Result<Outcome> {
        self.ingest_prepared(tx, prepare(bytes, self.known, &AnchorCache::default()), uploader)
    }

    pub fn ingest_prepared(
        &self,
        tx: &mut dyn Tx,
        prepared: Prepared,
        uploader: Option<&PublicKey>,
    ) -> Result<Outcome> {
        let bytes = &prepared.bytes[..];
        let rec = match prepared.record {
            Ok(r) => r,
            Err(e) => {
                return Ok(Outcome::rejected(
                    Hash::of(bytes),
                    vec![finding(
                        "malformed_record",
                        &e.message_zh(),
                        &e.to_string(),
                        serde_json::Value::Null,
                    )],
                ));
            }
        };
        let id = rec.id();
        let body = rec.body();
        if let Some(up) = uploader
            && *up != body.device
        {
            return Ok(Outcome::rejected(
                id,
                vec![finding(
                    "uploader_not_author",
                    "只能上传本设备签发的记录",
                    "a device may only upload records it signed",
                    serde_json::Value::Null,
                )],
            ));
        }

        // Nothing unattributable is stored or answered as if it were known:
        // a resend with a forged signature is not "a duplicate", and a
        // forged second record at a taken seq is not evidence of anything.
        if !prepared.signatures_ok {
            let v = verify::signature_violations(&rec);
            return Ok(Outcome::rejected(id, v.iter().map(Finding::from).collect()));
        }
        if let Some(seen) = self.already_held(tx, &rec, bytes)? {
            return Ok(seen);
        }

        let chain = tx.chain(&body.device)?;
        let mut ctx = self.context(tx, &rec, chain.map(|c| c.0), chain.and_then(|c| c.1), self.now)?;
        ctx.signatures_verified = prepared.signatures_ok;
        ctx.time.anchor_verified = prepared.anchor_ok;
        let verdict = verify::verify(&rec, &ctx);
        let status = status_of(&verdict);
        if status == RecordStatus::Rejected {
            return Ok(Outcome::rejected(id, findings(&verdict)));
        }

        let log_index = logtree::append(tx, &id)?;
        let project_id = verify::project_of(body, &ctx);
        let project = project_id.as_ref().map(|p| p.to_string());
        let row = RecordRow {
            id,
            log_index,
            device: body.device,
            seq: body.seq,
            kind: body.kind().as_str().into(),
            author: body.author.to_string(),
            project: project.clone(),
            envelope: rec.to_bytes(),
            first_seen_ms: self.now,
            status,
            verdict: serde_json::to_string(&verdict).expect("verdict serialises"),
            earliest_ms: verdict.time.as_ref().and_then(|t| t.proven.earliest_ms),
            latest_ms: verdict.time.as_ref().and_then(|t| t.proven.latest_ms),
            change_seq: 0,
        };
        let tags: Vec<String> = body.payload.tags().iter().map(|t| t.to_string()).collect();
        let audiences = access::record_audiences(body, project_id.as_ref());
        tx.insert_record(&row, &tags, &body.payload.references(), &body.evidence.media, &audiences)?;
        tx.set_chain(&body.device, rec.tail(), row.earliest_ms)?;
        metrics::counter!("sync_records_total", "status" => format!("{status:?}").to_lowercase())
            .increment(1);
        crate::status::note_record(status == RecordStatus::Refused);

        if status == RecordStatus::Accepted {
            self.apply(tx, &rec, &verdict, project.as_deref())?;
        }
        self.record_violations(tx, &id, project.as_deref(), &verdict)?;
        if status == RecordStatus::Accepted {
            self.wake_deferred(tx, id)?;
        }
        Ok(Outcome { id, status, duplicate: false, findings: findings(&verdict), log_index: Some(log_index) })
    }

    /// A record whose id or chain position is already taken: an idempotent
    /// resend (its new co-signatures merged) or an equivocation (rejected,
    /// kept as evidence, listed for regulators against the record it
    /// contradicts). `None`: the record is new.
    fn already_held(&self, tx: &mut dyn Tx, rec: &SignedRecord, bytes: &[u8]) -> Result<Option<Outcome>> {
        let (id, body) = (rec.id(), rec.body());
        if let Some(row) = tx.record(&id)? {
            self.merge_cosignatures(tx, row.clone(), rec)?;
            let v = stored_verdict(&row)?;
            return Ok(Some(Outcome {
                id,
                status: row.status,
                duplicate: true,
                findings: findings(&v),
                log_index: Some(row.log_index),
            }));
        }
        let Some(existing) = tx.record_at(&body.device, body.seq)? else { return Ok(None) };
        tx.insert_equivocation(&body.device, body.seq, &existing.id, bytes, self.now)?;
        metrics::counter!("sync_equivocations_total").increment(1);
        let v = verify::Violation::Chain {
            error: custody_core::record::ChainError::Fork { seq: body.seq, existing: Some(existing.id) },
        };
        let f = serde_json::to_string(&Finding::from(&v)).expect("finding serialises");
        tx.insert_violation(&existing.id, existing.project.as_deref(), &f, self.now)?;
        Ok(Some(Outcome::rejected(id, vec![Finding::from(&v)])))
    }

    /// What `verify` needs, gathered from the store by the core's builder.
    pub fn context(
        &self,
        tx: &mut dyn Tx,
        rec: &SignedRecord,
        chain_tail: Option<ChainTail>,
        predecessor_earliest: Option<i64>,
        first_seen: i64,
    ) -> Result<VerifyContext> {
        let server = self.server_key.public();
        let situation = Situation {
            policy: self.policy.clone(),
            server_keys: self.known.to_vec(),
            chain_tail,
            predecessor_earliest_ms: predecessor_earliest,
            first_seen_ms: Some(first_seen),
            judged_at_ms: Some(self.now),
            draft: false,
        };
        verify::build(Subject::Signed(rec), situation, &mut StoreFacts { tx, server, now: self.now })
    }

    /// The chain position and context of a stored record being judged again.
    fn stored_context(&self, tx: &mut dyn Tx, rec: &SignedRecord, first_seen: i64) -> Result<VerifyContext> {
        let body = rec.body();
        let (tail, pred) = match (body.seq, body.prev) {
            (0, _) | (_, None) => (None, None),
            (seq, Some(prev)) => {
                let e = tx.record_at(&body.device, seq - 1)?.and_then(|r| r.earliest_ms);
                (Some(ChainTail { seq: seq - 1, id: prev }), e)
            }
        };
        self.context(tx, rec, tail, pred, first_seen)
    }

    /// Give an accepted record its effect: custody states and admin facts.
    fn apply(
        &self,
        tx: &mut dyn Tx,
        rec: &SignedRecord,
        verdict: &Verdict,
        project: Option<&str>,
    ) -> Result<()> {
        for (tag, state) in &verdict.custody {
            tx.set_tag_state(tag.as_str(), project, state, self.now)?;
        }
        if rec.body().device != self.server_key.public() {
            return crate::plans::apply(tx, rec, self.now);
        }
        match &rec.body().payload {
            Payload::OrganisationRegistered(o) => tx.upsert_org(o)?,
            Payload::ProjectRegistered(p) => tx.upsert_project(p)?,
            Payload::UnitProjectRegistered(u) => tx.upsert_unit_project(u)?,
            Payload::PersonRegistered(p) => tx.upsert_person(p)?,
            Payload::AuthorisationGranted(g) => tx.insert_grant(&crate::store::GrantRow {
                grant: g.grant.clone(),
                person: g.person.clone(),
                org: g.org.clone(),
                project: g.project.clone(),
                role: g.role,
                letter: g.letter,
                face_reference: g.real_name.face_reference,
                valid_from_ms: g.valid_from_ms,
                valid_until_ms: g.valid_until_ms,
                revoked_ms: None,
            })?,
            Payload::AuthorisationRevoked(r) => tx.revoke_grant(&r.grant, r.effective_ms)?,
            Payload::DeviceEnrolled(d) => {
                tx.insert_device(&d.device, &d.person, &d.label, rec.body().evidence.time.wall_ms)?
            }
            Payload::DeviceRevoked(d) => tx.revoke_device(&d.device, d.effective_ms)?,
            Payload::TagBatchRegistered(b) => tx.insert_batch(b, &rec.id())?,
            Payload::LabCommissioned(a) => tx.insert_lab_assignment(a)?,
            Payload::TagGuidePriceFiled(g) => tx.insert_guide_price(g, &rec.id(), self.now)?,
            // R3: in force from its approval, the server's time of signing.
            Payload::LabRegistryUpdated(c) => {
                tx.insert_registry_version(&custody_core::lab_registry::RegistryVersion {
                    record: rec.id(),
                    effective_ms: rec.body().evidence.time.wall_ms,
                    registry: c.registry.clone(),
                })?
            }
            _ => {}
        }
        Ok(())
    }

    fn record_violations(
        &self,
        tx: &mut dyn Tx,
        id: &Hash,
        project: Option<&str>,
        v: &Verdict,
    ) -> Result<()> {
        for x in &v.violations {
            if x.reported_to_regulators() || x.disposition() == Disposition::Refuse {
                let f = serde_json::to_string(&Finding::from(x)).expect("finding serialises");
                tx.insert_violation(id, project, &f, self.now)?;
            }
        }
        Ok(())
    }

    /// Judge again the deferred records that were waiting for `id`, and in
    /// turn those waiting for them.
    fn wake_deferred(&self, tx: &mut dyn Tx, id: Hash) -> Result<()> {
        let mut work = vec![id];
        while let Some(ready) = work.pop() {
            for waiting in tx.deferred_referencing(&ready)? {
                let Some(mut row) = tx.record(&waiting)? else { continue };
                let rec = decode_stored(&row)?;
                let body = rec.body();
                let ctx = self.stored_context(tx, &rec, row.first_seen_ms)?;
                let verdict = verify::verify(&rec, &ctx);
                let status = status_of(&verdict);
                if status == RecordStatus::Deferred {
                    continue;
                }
                let project = verify::project_of(body, &ctx).map(|p| p.to_string());
                row.status = status;
                row.verdict = serde_json::to_string(&verdict).expect("verdict serialises");
                row.earliest_ms = verdict.time.as_ref().and_then(|t| t.proven.earliest_ms);
                row.latest_ms = verdict.time.as_ref().and_then(|t| t.proven.latest_ms);
                row.project = project.clone();
                tx.update_record(&row)?;
                if status == RecordStatus::Accepted {
                    self.apply(tx, &rec, &verdict, project.as_deref())?;
                    work.push(waiting);
                }
                self.record_violations(tx, &waiting, project.as_deref(), &verdict)?;
            }
        }
        Ok(())
    }

    /// Co-signatures that arrive on a resend (or through the cosign endpoint)
    /// are added to the stored record; they never change its id. Only those
    /// the core lets their device make are kept: in the name of the device's
    /// own person, by someone who may co-sign this record now (R1, R10).
    pub fn merge_cosignatures(
        &self,
        tx: &mut dyn Tx,
        mut row: RecordRow,
        incoming: &SignedRecord,
    ) -> Result<bool> {
        let mut stored = decode_stored(&row)?;
        let mut changed = false;
        for c in incoming.cosigs() {
            if stored.cosigs().iter().any(|x| x.device == c.device) {
                continue;
            }
            let Some(d) = tx.device(&c.device)? else { continue };
            let viewer = device_viewer(tx, &d.person, &d.org, d.org_role)?;
            if access::cosign(&viewer, self.now, &stored.body().payload, &c.author).is_err() {
                continue;
            }
            if stored.attach_cosignature(c.clone()).is_ok() {
                changed = true;
            }
        }
        if changed {
            row.envelope = stored.to_bytes();
            // Re-judge: a co-signature can settle a pending notice (R10).
            let ctx = self.stored_context(tx, &stored, row.first_seen_ms)?;
            let mut verdict = verify::verify(&stored, &ctx);
            // Custody already moved when the record was accepted; keep its states.
            if let Ok(old) = stored_verdict(&row) {
                verdict.custody = old.custody;
                verdict.violations.retain(|v| !matches!(v, verify::Violation::Custody { .. }));
            }
            row.verdict = serde_json::to_string(&verdict).expect("verdict serialises");
            tx.update_record(&row)?;
        }
        Ok(changed)
    }
}
