//! [`Tx`], once, for both back ends: each operation is one statement (or a
//! few) written once, its arguments and the decoding of its rows. The
//! statements that have to differ come from [`Dialect`]; the connection
//! ([`Conn`]) runs them.
//!
//! Every statement on PostgreSQL is a network round trip, so a transaction
//! spares what it can (measured: issue 7, `benches/load.rs`), on either back
//! end since nothing here depends on which:
//! * writes nobody reads back go through [`Conn::exec_later`] (pipelined on
//!   PostgreSQL);
//! * directory rows read again in the same transaction (a batch of 50
//!   records from one device asks for the same device, grants and unit
//!   project 50 times) are remembered until the transaction writes any
//!   directory row;
//! * the log and change heads are read once per write transaction (the
//!   writer holds the write lock until it commits, so they stay its own);
//! * log nodes are written once and never change: those this transaction
//!   read or wrote are remembered, and a store may share the nodes of
//!   committed transactions with every later one ([`NodeCache`]: PostgreSQL
//!   does).

mod console;
mod face_rechecks;
mod faces;
mod oversight;
mod plans;
mod registry;
mod rows;

use super::dialect::Dialect;
use super::sql::{Arg, Conn, args, name_of, select_records, to_json};
use super::*;
use custody_core::access::MediaReference;
use rows::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::collections::HashMap;
use std::sync::Mutex;

/// Log nodes of committed transactions, shared by every later transaction
/// of a store. Bounded: cleared when full (the top levels, the ones every
/// proof needs, come back first).
#[derive(Default)]
pub(super) struct NodeCache(Mutex<HashMap<(u32, u64), Hash>>);

impl NodeCache {
    const CAPACITY: usize = 400_000;

    fn get(&self, level: u32, index: u64) -> Option<Hash> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&(level, index)).copied()
    }

    /// Remember the nodes of a transaction that has committed (only those are facts).
    pub(super) fn extend(&self, nodes: HashMap<(u32, u64), Hash>) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() + nodes.len() > Self::CAPACITY {
            m.clear();
        }
        m.extend(nodes);
    }
}

/// One transaction on connection `C`.
pub(super) struct SqlTx<'c, C: Conn> {
    c: &'c mut C,
    committed_nodes: Option<&'c NodeCache>,
    nodes: HashMap<(u32, u64), Hash>,
    memo: HashMap<String, Box<dyn Any>>,
    /// The log and change heads once this transaction has locked and read them.
    log_head: Option<u64>,
    change_head: Option<i64>,
}

impl<'c, C: Conn> SqlTx<'c, C> {
    /// A transaction on `c`; `committed_nodes`: the store's cache of
    /// committed log nodes, if it keeps one.
    pub(super) fn new(c: &'c mut C, committed_nodes: Option<&'c NodeCache>) -> SqlTx<'c, C> {
        SqlTx {
            c,
            committed_nodes,
            nodes: HashMap::new(),
            memo: HashMap::new(),
            log_head: None,
            change_head: None,
        }
    }

    /// The log nodes this transaction read or wrote (facts once it commits).
    pub(super) fn into_nodes(self) -> HashMap<(u32, u64), Hash> {
        self.nodes
    }

    /// A directory read, remembered until this transaction writes the directory.
    fn remembered<T: Clone + 'static>(
        &mut self,
        key: String,
        load: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        if let Some(v) = self.memo.get(&key).and_then(|b| b.downcast_ref::<T>()) {
            return Ok(v.clone());
        }
        let v = load(self)?;
        self.memo.insert(key, Box::new(v.clone()));
        Ok(v)
    }

    /// A directory write: what this transaction remembered may be stale now.
    fn write_directory(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<()> {
        self.memo.clear();
        self.c.exec(sql, args)?;
        Ok(())
    }

    /// The next change sequence number.
    fn next_change(&mut self) -> Result<i64> {
        let head = match self.change_head {
            Some(h) => h,
            None => self.c.one(Dialect::LOCK_CHANGE_HEAD.get(C::DIALECT), &[])?.int(0)?,
        };
        let next = head + 1;
        self.c.exec_later("UPDATE change_head SET seq = $1 WHERE id = 0", args![next])?;
        self.change_head = Some(next);
        Ok(next)
    }

    fn records(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<RecordRow>> {
        self.c.rows(sql, args)?.into_iter().map(record_row).collect()
    }

    fn grants(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<GrantRow>> {
        self.c.rows(sql, args)?.into_iter().map(grant_row).collect()
    }

    fn devices_where(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<DeviceRow>> {
        self.c.rows(sql, args)?.into_iter().map(device_row).collect()
    }

    /// Documents stored as JSON in the first column.
    fn documents<T: DeserializeOwned>(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<T>> {
        self.c.rows(sql, args)?.into_iter().map(|mut r| r.json(0)).collect()
    }

    /// A directory document by id (remembered).
    fn document<T: DeserializeOwned + Clone + 'static>(
        &mut self,
        table: &DocumentTable,
        id: &Id,
    ) -> Result<Option<T>> {
        self.remembered(format!("{} {id}", table.by_id), |t| Ok(t.documents(table.by_id, args![id])?.pop()))
    }

    /// Store a directory document with the column looked up beside it.
    fn put_document(
        &mut self,
        table: &DocumentTable,
        id: &Id,
        column: Arg<'_>,
        doc: &impl Serialize,
    ) -> Result<()> {
        self.write_directory(table.upsert, args![id, column, to_json(doc)])
    }

    fn count(&mut self, sql: &str) -> Result<u64> {
        self.c.one(sql, &[])?.uint(0)
    }
}

impl<C: Conn> Tx for SqlTx<'_, C> {
    fn record(&mut self, id: &Hash) -> Result<Option<RecordRow>> {
        Ok(self.records(select_records!("WHERE id = $1"), args![id])?.pop())
    }

    fn record_at(&mut self, device: &PublicKey, seq: u64) -> Result<Option<RecordRow>> {
        Ok(self.records(select_records!("WHERE device = $1 AND seq = $2"), args![device, seq])?.pop())
    }

    fn insert_record(
        &mut self,
        row: &RecordRow,
        tags: &[String],
        refs: &[Hash],
        media: &[MediaRef],
        audiences: &[String],
    ) -> Result<()> {
        let change = self.next_change()?;
        self.c.exec_later(
            concat!(
                "INSERT INTO records (",
                super::sql::record_columns!(),
                ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"
            ),
            args![
                &row.id,
                row.log_index,
                &row.device,
                row.seq,
                &row.kind,
                &row.author,
                row.project.as_deref(),
                &row.envelope,
                row.first_seen_ms,
                name_of(&row.status),
                &row.verdict,
                row.earliest_ms,
                row.latest_ms,
                change,
            ],
        )?;
        for t in tags {
            self.c.exec_later(
                "INSERT INTO record_tags (tag, record) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                args![t, &row.id],
            )?;
        }
        for r in refs {
            self.c.exec_later(
                "INSERT INTO record_refs (referenced, record) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                args![r, &row.id],
            )?;
        }
        for m in media {
            self.c.exec_later(
                "INSERT INTO record_media (record, sha256, size, media_type, purpose, captured_mono_ms) \
                 VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
                args![&row.id, &m.sha256, m.size, &m.media_type, name_of(&m.purpose), m.captured_mono_ms],
            )?;
        }
        for a in audiences {
            self.c.exec_later(
                "INSERT INTO record_audience (audience, log_index) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                args![a, row.log_index],
            )?;
        }
        Ok(())
    }

    fn update_record(&mut self, row: &RecordRow) -> Result<()> {
        let change = self.next_change()?;
        self.c.exec_later(
            "UPDATE records SET envelope = $2, status = $3, verdict = $4, earliest_ms = $5, latest_ms = $6, \
             project = $7, change_seq = $8 WHERE id = $1",
            args![
                &row.id,
                &row.envelope,
                name_of(&row.status),
                &row.verdict,
                row.earliest_ms,
                row.latest_ms,
                row.project.as_deref(),
                change,
            ],
        )
    }

    fn deferred_referencing(&mut self, id: &Hash) -> Result<Vec<Hash>> {
        self.c
            .rows(
                "SELECT r.id FROM record_refs x JOIN records r ON r.id = x.record \
                 WHERE x.referenced = $1 AND r.status = 'deferred' ORDER BY r.log_index",
                args![id],
            )?
            .into_iter()
            .map(|mut r| r.hash(0))
            .collect()
    }

    fn records_for_tag(&mut self, tag: &str) -> Result<Vec<RecordRow>> {
        self.records(
            select_records!("WHERE id IN (SELECT record FROM record_tags WHERE tag = $1) ORDER BY log_index"),
            args![tag],
        )
    }

    fn feed(&mut self, audiences: &[String], after: u64, limit: u32) -> Result<Vec<RecordRow>> {
        if audiences.is_empty() {
            return Ok(vec![]);
        }
        self.records(Dialect::FEED.get(C::DIALECT), args![after, limit, audiences])
    }

    fn records_from(&mut self, log_index: u64, limit: u32) -> Result<Vec<RecordRow>> {
        self.records(
            select_records!("WHERE log_index >= $1 ORDER BY log_index LIMIT $2"),
            args![log_index, limit],
        )
    }

    fn record_count(&mut self) -> Result<u64> {
        self.count("SELECT count(*) FROM records")
    }

    fn insert_equivocation(
        &mut self,
        device: &PublicKey,
        seq: u64,
        existing: &Hash,
        offered: &[u8],
        now: i64,
    ) -> Result<()> {
        // The unique key exists only on PostgreSQL (see `dialect`); an exact
        // repeat is dropped there rather than aborting the transaction.
        self.c.exec(
            "INSERT INTO equivocations (device, seq, existing, offered, received_ms) VALUES ($1,$2,$3,$4,$5) \
             ON CONFLICT DO NOTHING",
            args![device, seq, existing, offered, now],
        )?;
        Ok(())
    }

    fn equivocation_count(&mut self) -> Result<u64> {
        self.count("SELECT count(*) FROM equivocations")
    }

    fn equivocations_of(&mut self, device: &PublicKey) -> Result<u64> {
        self.c.one("SELECT count(*) FROM equivocations WHERE device = $1", args![device])?.uint(0)
    }

    fn chain(&mut self, device: &PublicKey) -> Result<Option<(ChainTail, Option<i64>)>> {
        let r = self.c.opt("SELECT seq, id, earliest_ms FROM chains WHERE device = $1", args![device])?;
        r.map(|mut r| Ok((ChainTail { seq: r.uint(0)?, id: r.hash(1)? }, r.opt_int(2)?))).transpose()
    }

    fn set_chain(&mut self, device: &PublicKey, tail: ChainTail, earliest: Option<i64>) -> Result<()> {
        self.c.exec_later(
            "INSERT INTO chains (device, seq, id, earliest_ms) VALUES ($1,$2,$3,$4) ON CONFLICT(device) \
             DO UPDATE SET seq = excluded.seq, id = excluded.id, earliest_ms = excluded.earliest_ms",
            args![device, tail.seq, &tail.id, earliest],
        )
    }

    fn insert_anchor(&mut self, a: &AnchorBody) -> Result<()> {
        // As for equivocations: a unique key only PostgreSQL has.
        self.c.exec_later(
            "INSERT INTO anchors (device, server_ms, boot_id, device_mono_ms, tail_seq, tail_id) \
             VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
            args![
                &a.device,
                a.server_ms,
                &a.boot_id,
                a.device_mono_ms,
                a.tail.map(|t| t.seq),
                a.tail.as_ref().map(|t| &t.id),
            ],
        )
    }

    fn covering_anchor_ms(&mut self, device: &PublicKey, seq: u64, id: &Hash) -> Result<Option<i64>> {
        self.c
            .one(
                "SELECT min(a.server_ms) FROM anchors a WHERE a.device = $1 AND ( (a.tail_seq = $2 AND a.tail_id = $3) OR \
                 (a.tail_seq > $2 AND EXISTS (SELECT 1 FROM records r WHERE r.device = a.device AND r.seq = a.tail_seq AND r.id = a.tail_id)) )",
                args![device, seq, id],
            )?
            .opt_int(0)
    }

    fn device(&mut self, key: &PublicKey) -> Result<Option<DeviceRow>> {
        self.remembered(format!("device {}", key.to_b64()), |t| {
            Ok(t.devices_where(select_devices!("WHERE d.key = $1"), args![key])?.pop())
        })
    }

    fn insert_device(&mut self, key: &PublicKey, person: &Id, label: &str, now: i64) -> Result<()> {
        self.write_directory(
            "INSERT INTO devices (key, person, label, enrolled_ms) VALUES ($1,$2,$3,$4)",
            args![key, person, label, now],
        )
    }

    fn revoke_device(&mut self, key: &PublicKey, at: i64) -> Result<()> {
        self.write_directory("UPDATE devices SET revoked_ms = $2 WHERE key = $1", args![key, at])
    }

    fn devices(&mut self) -> Result<Vec<DeviceRow>> {
        self.devices_where(select_devices!("ORDER BY d.enrolled_ms"), &[])
    }

    fn org(&mut self, id: &Id) -> Result<Option<Organisation>> {
        self.document(&ORGS, id)
    }

    fn upsert_org(&mut self, o: &Organisation) -> Result<()> {
        self.put_document(&ORGS, &o.id, name_of(&o.role).into(), o)
    }

    fn orgs(&mut self) -> Result<Vec<Organisation>> {
        self.documents("SELECT json FROM orgs ORDER BY id", &[])
    }

    fn person(&mut self, id: &Id) -> Result<Option<Person>> {
        self.document(&PERSONS, id)
    }

    fn upsert_person(&mut self, p: &Person) -> Result<()> {
        self.put_document(&PERSONS, &p.id, (&p.org).into(), p)
    }

    fn people(&mut self) -> Result<Vec<Person>> {
        self.documents("SELECT json FROM persons ORDER BY id", &[])
    }

    fn project(&mut self, id: &Id) -> Result<Option<Project>> {
        self.document(&PROJECTS, id)
    }

    fn upsert_project(&mut self, p: &Project) -> Result<()> {
        self.put_document(&PROJECTS, &p.id, (&p.jurisdiction).into(), p)
    }

    fn projects(&mut self) -> Result<Vec<Project>> {
        self.documents("SELECT json FROM projects ORDER BY id", &[])
    }

    fn unit_project(&mut self, id: &Id) -> Result<Option<UnitProject>> {
        self.document(&UNIT_PROJECTS, id)
    }

    fn upsert_unit_project(&mut self, u: &UnitProject) -> Result<()> {
        self.put_document(&UNIT_PROJECTS, &u.id, (&u.project).into(), u)
    }

    fn unit_projects_of(&mut self, project: &Id) -> Result<Vec<UnitProject>> {
        self.remembered(format!("units of {project}"), |t| {
            t.documents("SELECT json FROM unit_projects WHERE project = $1 ORDER BY id", args![project])
        })
    }

    fn grants_of(&mut self, person: &Id) -> Result<Vec<GrantRow>> {
        self.remembered(format!("grants of {person}"), |t| {
            t.grants(select_grants!("WHERE person = $1 ORDER BY valid_from_ms"), args![person])
        })
    }

    fn grants_on(&mut self, project: &Id) -> Result<Vec<GrantRow>> {
        self.remembered(format!("grants on {project}"), |t| {
            t.grants(select_grants!("WHERE project = $1 ORDER BY valid_from_ms"), args![project])
        })
    }

    fn grant(&mut self, grant: &Id) -> Result<Option<GrantRow>> {
        self.remembered(format!("grant {grant}"), |t| {
            Ok(t.grants(select_grants!("WHERE grant_id = $1"), args![grant])?.pop())
        })
    }

    fn insert_grant(&mut self, g: &GrantRow) -> Result<()> {
        self.write_directory(
            "INSERT INTO grants (grant_id, person, org, project, role, letter, face_reference, valid_from_ms, \
             valid_until_ms, revoked_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
            args![
                &g.grant,
                &g.person,
                &g.org,
                g.project.as_ref(),
                name_of(&g.role),
                &g.letter,
                g.face_reference.as_ref(),
                g.valid_from_ms,
                g.valid_until_ms,
                g.revoked_ms,
            ],
        )
    }

    fn revoke_grant(&mut self, grant: &Id, at: i64) -> Result<()> {
        self.write_directory("UPDATE grants SET revoked_ms = $2 WHERE grant_id = $1", args![grant, at])
    }

    fn batches(&mut self, supplier: u16, year: u8, batch: u16) -> Result<Vec<TagBatch>> {
        self.remembered(format!("batch {supplier}-{year}-{batch}"), |t| {
            t.documents(
                "SELECT json FROM tag_batches WHERE supplier = $1 AND year = $2 AND batch = $3",
                args![supplier, year, batch],
            )
        })
    }

    fn batches_of(&mut self, project: &Id) -> Result<Vec<TagBatch>> {
        self.remembered(format!("batches of {project}"), |t| {
            t.documents("SELECT json FROM tag_batches WHERE project = $1", args![project])
        })
    }

    fn insert_batch(&mut self, b: &TagBatch, record: &Hash) -> Result<()> {
        // As for equivocations: a unique key only PostgreSQL has.
        self.write_directory(
            "INSERT INTO tag_batches (supplier, year, batch, project, json, record) VALUES ($1,$2,$3,$4,$5,$6) \
             ON CONFLICT DO NOTHING",
            args![b.key.supplier, b.key.year, b.key.batch, &b.project, to_json(b), record],
        )
    }

    fn lab_assignments_of(&mut self, project: &Id) -> Result<Vec<LabAssignment>> {
        self.remembered(format!("labs of {project}"), |t| {
            t.documents("SELECT json FROM lab_assignments WHERE project = $1", args![project])
        })
    }

    fn lab_assignments_for_lab(&mut self, lab: &Id) -> Result<Vec<LabAssignment>> {
        self.documents("SELECT json FROM lab_assignments WHERE lab = $1", args![lab])
    }

    fn insert_lab_assignment(&mut self, a: &LabAssignment) -> Result<()> {
        // As for equivocations: a unique key only PostgreSQL has.
        self.write_directory(
            "INSERT INTO lab_assignments (project, unit_project, lab, json) VALUES ($1,$2,$3,$4) \
             ON CONFLICT DO NOTHING",
            args![&a.project, &a.unit_project, &a.lab, to_json(a)],
        )
    }

    fn tag_state(&mut self, code: &str) -> Result<Option<SpecimenState>> {
        Ok(self.documents("SELECT state FROM tags WHERE code = $1", args![code])?.pop())
    }

    fn set_tag_state(
        &mut self,
        code: &str,
        project: Option<&str>,
        s: &SpecimenState,
        now: i64,
    ) -> Result<()> {
        self.c.exec_later(
            "INSERT INTO tags (code, project, stage, state, updated_ms) VALUES ($1,$2,$3,$4,$5) \
             ON CONFLICT(code) DO UPDATE SET project = coalesce(excluded.project, tags.project), \
             stage = excluded.stage, state = excluded.state, updated_ms = excluded.updated_ms",
            args![code, project, name_of(&s.stage), to_json(s), now],
        )
    }

    fn insert_enrollment_code(
        &mut self,
        code_hash: &Hash,
        person: &Id,
        expires_ms: i64,
        now: i64,
    ) -> Result<()> {
        self.c.exec(
            "INSERT INTO enrollment_codes (code_hash, person, created_ms, expires_ms) VALUES ($1,$2,$3,$4)",
            args![code_hash, person, now, expires_ms],
        )?;
        Ok(())
    }

    fn take_enrollment_code(&mut self, code_hash: &Hash, device: &PublicKey, now: i64) -> Result<Option<Id>> {
        // Check and consume in one statement: two instances cannot both take a code.
        let r = self.c.opt(
            "UPDATE enrollment_codes SET used_ms = $2, device = $3 \
             WHERE code_hash = $1 AND used_ms IS NULL AND expires_ms > $2 RETURNING person",
            args![code_hash, now, device],
        )?;
        r.map(|mut r| r.id(0)).transpose()
    }

    fn log_size_for_update(&mut self) -> Result<u64> {
        if let Some(n) = self.log_head {
            return Ok(n);
        }
        let n = self.c.one(Dialect::LOCK_LOG_HEAD.get(C::DIALECT), &[])?.uint(0)?;
        self.log_head = Some(n);
        Ok(n)
    }

    fn log_size(&mut self) -> Result<u64> {
        // No row lock: this also runs in read-only transactions and on replicas.
        self.c.one("SELECT size FROM log_head WHERE id = 0", &[])?.uint(0)
    }

    fn set_log_size(&mut self, size: u64) -> Result<()> {
        self.c.exec_later("UPDATE log_head SET size = $1 WHERE id = 0", args![size])?;
        self.log_head = Some(size);
        Ok(())
    }

    fn log_node(&mut self, level: u32, index: u64) -> Result<Option<Hash>> {
        let known = self.nodes.get(&(level, index)).copied();
        if let Some(h) = known.or_else(|| self.committed_nodes.and_then(|c| c.get(level, index))) {
            return Ok(Some(h));
        }
        let h = self
            .c
            .opt("SELECT hash FROM log_nodes WHERE level = $1 AND idx = $2", args![level, index])?
            .map(|mut r| r.hash(0))
            .transpose()?;
        if let Some(h) = h {
            self.nodes.insert((level, index), h);
        }
        Ok(h)
    }

    fn put_log_node(&mut self, level: u32, index: u64, hash: &Hash) -> Result<()> {
        self.c.exec_later(
            "INSERT INTO log_nodes (level, idx, hash) VALUES ($1,$2,$3)",
            args![level, index, hash],
        )?;
        self.nodes.insert((level, index), *hash);
        Ok(())
    }

    fn insert_checkpoint(&mut self, c: &SignedCheckpoint) -> Result<()> {
        self.c.exec_later(
            "INSERT INTO checkpoints (size, json) VALUES ($1,$2) ON CONFLICT DO NOTHING",
            args![c.checkpoint.size, to_json(c)],
        )
    }

    fn latest_checkpoint(&mut self) -> Result<Option<SignedCheckpoint>> {
        Ok(self.documents("SELECT json FROM checkpoints ORDER BY size DESC LIMIT 1", &[])?.pop())
    }

    fn checkpoints_upto(&mut self, size: u64) -> Result<Vec<SignedCheckpoint>> {
        self.documents("SELECT json FROM checkpoints WHERE size <= $1 ORDER BY size", args![size])
    }

    fn media(&mut self, sha: &Hash) -> Result<Option<MediaRow>> {
        let r = self
            .c
            .opt("SELECT size, media_type, received, complete FROM media WHERE sha256 = $1", args![sha])?;
        r.map(|mut r| {
            Ok(MediaRow {
                sha256: *sha,
                size: r.uint(0)?,
                media_type: r.text(1)?,
                received: r.uint(2)?,
                complete: r.int(3)? != 0,
            })
        })
        .transpose()
    }

    fn upsert_media(&mut self, m: &MediaRow, now: i64) -> Result<()> {
        self.c.exec(
            "INSERT INTO media (sha256, size, media_type, received, complete, updated_ms) VALUES ($1,$2,$3,$4,$5,$6) \
             ON CONFLICT(sha256) DO UPDATE SET received = excluded.received, complete = excluded.complete, \
             updated_ms = excluded.updated_ms",
            args![&m.sha256, m.size, &m.media_type, m.received, m.complete, now],
        )?;
        Ok(())
    }

    fn issued_pdf(&mut self, report: &Hash) -> Result<Option<IssuedPdfRow>> {
        let r = self.c.opt(
            "SELECT pdf_sha256, pdf_size, issued_ms FROM issued_reports WHERE report = $1",
            args![report],
        )?;
        r.map(|mut r| {
            Ok(IssuedPdfRow { report: *report, sha256: r.hash(0)?, size: r.uint(1)?, issued_ms: r.int(2)? })
        })
        .transpose()
    }

    fn keep_issued_pdf(&mut self, row: &IssuedPdfRow) -> Result<IssuedPdfRow> {
        self.c.exec(
            "INSERT INTO issued_reports (report, pdf_sha256, pdf_size, issued_ms) VALUES ($1,$2,$3,$4) \
             ON CONFLICT DO NOTHING",
            args![&row.report, &row.sha256, row.size, row.issued_ms],
        )?;
        self.issued_pdf(&row.report)?.ok_or_else(|| StoreError::Corrupt("an issued PDF row vanished".into()))
    }

    fn media_ref_by_device(&mut self, sha: &Hash, device: &PublicKey) -> Result<Option<(u64, String)>> {
        let r = self.c.opt(
            "SELECT m.size, m.media_type FROM record_media m JOIN records r ON r.id = m.record \
             WHERE m.sha256 = $1 AND r.device = $2 LIMIT 1",
            args![sha, device],
        )?;
        r.map(|mut r| Ok((r.uint(0)?, r.text(1)?))).transpose()
    }

    fn media_of_record(&mut self, record: &Hash) -> Result<Vec<(MediaRef, bool)>> {
        self.c
            .rows(
                "SELECT m.sha256, m.size, m.media_type, m.purpose, m.captured_mono_ms, coalesce(x.complete, 0) \
                 FROM record_media m LEFT JOIN media x ON x.sha256 = m.sha256 WHERE m.record = $1",
                args![record],
            )?
            .into_iter()
            .map(|mut m| {
                let media = MediaRef {
                    sha256: m.hash(0)?,
                    size: m.uint(1)?,
                    media_type: m.text(2)?,
                    purpose: m.named(3)?,
                    captured_mono_ms: m.opt_int(4)?.map(|x| x as u64),
                };
                Ok((media, m.int(5)? != 0))
            })
            .collect()
    }

    fn records_with_curve(&mut self, sha: &Hash) -> Result<Vec<RecordRow>> {
        self.records(
            select_records!(
                "WHERE id IN (SELECT record FROM record_media WHERE sha256 = $1 AND purpose = 'test_curve') \
                 ORDER BY log_index"
            ),
            args![sha],
        )
    }

    fn records_with_media(&mut self, sha: &Hash) -> Result<Vec<MediaReference>> {
        self.c
            .rows(
                "SELECT r.log_index, r.status, r.project, m.purpose, m.media_type, r.author, p.jurisdiction \
                 FROM record_media m JOIN records r ON r.id = m.record \
                 LEFT JOIN projects p ON p.id = r.project WHERE m.sha256 = $1",
                args![sha],
            )?
            .into_iter()
            .map(|mut r| {
                Ok(MediaReference {
                    log_index: r.uint(0)?,
                    status: r.named(1)?,
                    project: r.opt_id(2)?,
                    purpose: r.named(3)?,
                    media_type: r.text(4)?,
                    author: r.id(5)?,
                    jurisdiction: r.opt_text(6)?,
                })
            })
            .collect()
    }

    fn insert_violation(
        &mut self,
        record: &Hash,
        project: Option<&str>,
        finding: &str,
        now: i64,
    ) -> Result<()> {
        self.c.exec_later(
            "INSERT INTO violations (record, project, finding, created_ms) VALUES ($1,$2,$3,$4)",
            args![record, project, finding, now],
        )
    }

    fn violations(
        &mut self,
        jurisdiction: Option<&str>,
        after_ms: i64,
        limit: u32,
    ) -> Result<Vec<(Hash, String)>> {
        // CAST: PostgreSQL must know the parameter's type even when it is NULL.
        self.c
            .rows(
                "SELECT v.record, v.finding FROM violations v LEFT JOIN projects p ON p.id = v.project \
                 WHERE v.created_ms > $1 AND (CAST($2 AS TEXT) IS NULL OR p.jurisdiction LIKE CAST($2 AS TEXT) || '%') \
                 ORDER BY v.id LIMIT $3",
                args![after_ms, jurisdiction, limit],
            )?
            .into_iter()
            .map(|mut r| Ok((r.hash(0)?, r.text(1)?)))
            .collect()
    }

    fn use_nonce(&mut self, device: &PublicKey, nonce: &str, expires_ms: i64, now: i64) -> Result<bool> {
        self.c.exec("DELETE FROM nonces WHERE expires_ms < $1", args![now])?;
        let n = self.c.exec(
            "INSERT INTO nonces (device, nonce, expires_ms) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING",
            args![device, nonce, expires_ms],
        )?;
        Ok(n == 1)
    }

    fn insert_admin_token(&mut self, hash: &Hash, label: &str, now: i64) -> Result<()> {
        self.c.exec(
            "INSERT INTO admin_tokens (hash, label, created_ms) VALUES ($1,$2,$3)",
            args![hash, label, now],
        )?;
        Ok(())
    }

    fn admin_token_valid(&mut self, hash: &Hash) -> Result<bool> {
        Ok(self.c.opt("SELECT 1 FROM admin_tokens WHERE hash = $1", args![hash])?.is_some())
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>> {
        self.c.opt("SELECT value FROM meta WHERE key = $1", args![key])?.map(|mut r| r.text(0)).transpose()
    }

    fn meta_with_prefix(&mut self, prefix: &str) -> Result<Vec<(String, String)>> {
        // Prefixes are short fixed words ("instance:"): a range, not LIKE (no escaping).
        let end = format!("{prefix}\u{10ffff}");
        self.c
            .rows(
                "SELECT key, value FROM meta WHERE key >= $1 AND key < $2 ORDER BY key",
                args![prefix, end.as_str()],
            )?
            .into_iter()
            .map(|mut r| Ok((r.text(0)?, r.text(1)?)))
            .collect()
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.c.exec(
            "INSERT INTO meta (key, value) VALUES ($1,$2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            args![key, value],
        )?;
        Ok(())
    }
}
