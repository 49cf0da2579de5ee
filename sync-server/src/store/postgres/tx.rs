//! [`Tx`] on PostgreSQL: the embedded store's operations (`sqlite.rs`) one for
//! one, on the schema in [`super::MIGRATIONS`] (every integer is BIGINT: bound
//! and read as `i64`).

use super::{NodeCache, Owned, Params, PgConn};
use crate::store::columns::*;
use crate::store::*;
use custody_core::access::MediaReference;
use custody_core::record::MediaPurpose;
use std::any::Any;
use std::collections::HashMap;
use tokio_postgres::Row;

/// One transaction. Every statement is a round trip, so what can be is
/// spared: writes nobody reads back are queued and pipelined
/// ([`PgConn::queue`]), log nodes come from the store's cache of committed
/// nodes, and directory rows read again in the same transaction (a batch of
/// 50 records from one device asks for the same device, grants and unit
/// project 50 times) are remembered until the transaction writes any
/// directory row.
pub(super) struct PgTx<'c> {
    c: &'c mut PgConn,
    cache: &'c NodeCache,
    nodes: HashMap<(u32, u64), Hash>,
    memo: HashMap<String, Box<dyn Any + Send>>,
    /// The log and change heads once this transaction has locked and read them.
    log_head: Option<u64>,
    change_head: Option<i64>,
}

/// Owned parameters for a queued write.
macro_rules! owned {
    ($($e:expr),* $(,)?) => { vec![$(Box::new($e) as Owned),*] };
}

impl<'c> PgTx<'c> {
    pub(super) fn new(c: &'c mut PgConn, cache: &'c NodeCache) -> PgTx<'c> {
        PgTx { c, cache, nodes: HashMap::new(), memo: HashMap::new(), log_head: None, change_head: None }
    }

    /// The log nodes this transaction read or wrote (facts once it commits).
    pub(super) fn into_nodes(self) -> HashMap<(u32, u64), Hash> {
        self.nodes
    }

    fn memo<T: Clone + Send + 'static>(
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
}

fn record_row(r: &Row) -> Result<RecordRow> {
    Ok(RecordRow {
        id: hash_col(r.try_get(0)?)?,
        log_index: r.try_get::<_, i64>(1)? as u64,
        device: key_col(r.try_get(2)?)?,
        seq: r.try_get::<_, i64>(3)? as u64,
        kind: r.try_get(4)?,
        author: r.try_get(5)?,
        project: r.try_get(6)?,
        envelope: r.try_get(7)?,
        first_seen_ms: r.try_get(8)?,
        status: enum_from(r.try_get::<_, &str>(9)?)?,
        verdict: r.try_get(10)?,
        earliest_ms: r.try_get(11)?,
        latest_ms: r.try_get(12)?,
        change_seq: r.try_get::<_, i64>(13)? as u64,
    })
}

impl PgTx<'_> {
    /// The next change sequence number (the write transaction holds the lock).
    /// (Only write transactions change records, and they hold the write
    /// lock: the head read once stays ours until commit.)
    fn next_change(&mut self) -> Result<i64> {
        let head = match self.change_head {
            Some(h) => h,
            None => self.c.one("SELECT seq FROM change_head WHERE id = 0 FOR UPDATE", &[])?.try_get(0)?,
        };
        let next = head + 1;
        self.c.queue("UPDATE change_head SET seq = $1 WHERE id = 0", owned![next])?;
        self.change_head = Some(next);
        Ok(next)
    }

    fn records_where(&mut self, sql_tail: &str, p: Params<'_>) -> Result<Vec<RecordRow>> {
        let sql = format!("SELECT {RECORD_COLS} FROM records {sql_tail}");
        self.c.rows(&sql, p)?.iter().map(record_row).collect()
    }

    fn grant_rows(&mut self, sql_tail: &str, p: Params<'_>) -> Result<Vec<GrantRow>> {
        let sql = format!(
            "SELECT grant_id, person, org, project, role, letter, face_reference, valid_from_ms, valid_until_ms, revoked_ms FROM grants {sql_tail}"
        );
        self.c
            .rows(&sql, p)?
            .iter()
            .map(|g| {
                Ok(GrantRow {
                    grant: id_col(g.try_get(0)?)?,
                    person: id_col(g.try_get(1)?)?,
                    org: id_col(g.try_get(2)?)?,
                    project: g.try_get::<_, Option<String>>(3)?.map(id_col).transpose()?,
                    role: enum_from(g.try_get::<_, &str>(4)?)?,
                    letter: hash_col(g.try_get(5)?)?,
                    face_reference: g.try_get::<_, Option<Vec<u8>>>(6)?.map(hash_col).transpose()?,
                    valid_from_ms: g.try_get(7)?,
                    valid_until_ms: g.try_get(8)?,
                    revoked_ms: g.try_get(9)?,
                })
            })
            .collect()
    }

    fn device_rows(&mut self, sql_tail: &str, p: Params<'_>) -> Result<Vec<DeviceRow>> {
        let sql = format!(
            "SELECT d.key, d.person, d.label, d.enrolled_ms, d.revoked_ms, p.org, o.role FROM devices d \
             JOIN persons p ON p.id = d.person JOIN orgs o ON o.id = p.org {sql_tail}"
        );
        self.c
            .rows(&sql, p)?
            .iter()
            .map(|d| {
                Ok(DeviceRow {
                    key: key_col(d.try_get(0)?)?,
                    person: id_col(d.try_get(1)?)?,
                    label: d.try_get(2)?,
                    enrolled_ms: d.try_get(3)?,
                    revoked_ms: d.try_get(4)?,
                    org: id_col(d.try_get(5)?)?,
                    org_role: enum_from(d.try_get::<_, &str>(6)?)?,
                })
            })
            .collect()
    }

    fn json_rows<T: serde::de::DeserializeOwned>(&mut self, sql: &str, p: Params<'_>) -> Result<Vec<T>> {
        self.c.rows(sql, p)?.iter().map(|r| json(r.try_get::<_, &str>(0)?)).collect()
    }

    fn count(&mut self, sql: &str) -> Result<u64> {
        Ok(self.c.one(sql, &[])?.try_get::<_, i64>(0)? as u64)
    }
}

impl Tx for PgTx<'_> {
    fn record(&mut self, id: &Hash) -> Result<Option<RecordRow>> {
        Ok(self.records_where("WHERE id = $1", &[&id.as_bytes().as_slice()])?.pop())
    }

    fn record_at(&mut self, device: &PublicKey, seq: u64) -> Result<Option<RecordRow>> {
        Ok(self
            .records_where("WHERE device = $1 AND seq = $2", &[&device.0.as_slice(), &(seq as i64)])?
            .pop())
    }

    fn insert_record(
        &mut self,
        row: &RecordRow,
        tags: &[String],
        refs: &[Hash],
        media: &[MediaRef],
        audiences: &[String],
    ) -> Result<()> {
        let id = row.id.as_bytes().to_vec();
        let change = self.next_change()?;
        self.c.queue(
            &format!(
                "INSERT INTO records ({RECORD_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"
            ),
            owned![
                id.clone(),
                row.log_index as i64,
                row.device.0.to_vec(),
                row.seq as i64,
                row.kind.clone(),
                row.author.clone(),
                row.project.clone(),
                row.envelope.clone(),
                row.first_seen_ms,
                enum_str(&row.status),
                row.verdict.clone(),
                row.earliest_ms,
                row.latest_ms,
                change,
            ],
        )?;
        for t in tags {
            self.c.queue(
                "INSERT INTO record_tags (tag, record) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                owned![t.clone(), id.clone()],
            )?;
        }
        for r in refs {
            self.c.queue(
                "INSERT INTO record_refs (referenced, record) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                owned![r.as_bytes().to_vec(), id.clone()],
            )?;
        }
        for m in media {
            self.c.queue(
                "INSERT INTO record_media (record, sha256, size, media_type, purpose, captured_mono_ms) VALUES ($1,$2,$3,$4,$5,$6) \
                 ON CONFLICT DO NOTHING",
                owned![
                    id.clone(),
                    m.sha256.as_bytes().to_vec(),
                    m.size as i64,
                    m.media_type.clone(),
                    enum_str(&m.purpose),
                    m.captured_mono_ms.map(|x| x as i64),
                ],
            )?;
        }
        for a in audiences {
            self.c.queue(
                "INSERT INTO record_audience (audience, log_index) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                owned![a.clone(), row.log_index as i64],
            )?;
        }
        Ok(())
    }

    fn update_record(&mut self, row: &RecordRow) -> Result<()> {
        let change = self.next_change()?;
        self.c.queue(
            "UPDATE records SET envelope = $2, status = $3, verdict = $4, earliest_ms = $5, latest_ms = $6, project = $7, change_seq = $8 WHERE id = $1",
            owned![
                row.id.as_bytes().to_vec(),
                row.envelope.clone(),
                enum_str(&row.status),
                row.verdict.clone(),
                row.earliest_ms,
                row.latest_ms,
                row.project.clone(),
                change,
            ],
        )?;
        Ok(())
    }

    fn deferred_referencing(&mut self, id: &Hash) -> Result<Vec<Hash>> {
        self.c
            .rows(
                "SELECT r.id FROM record_refs x JOIN records r ON r.id = x.record WHERE x.referenced = $1 AND r.status = 'deferred' ORDER BY r.log_index",
                &[&id.as_bytes().as_slice()],
            )?
            .iter()
            .map(|r| hash_col(r.try_get(0)?))
            .collect()
    }

    fn records_for_tag(&mut self, tag: &str) -> Result<Vec<RecordRow>> {
        self.records_where(
            "WHERE id IN (SELECT record FROM record_tags WHERE tag = $1) ORDER BY log_index",
            &[&tag],
        )
    }

    fn feed(&mut self, audiences: &[String], after: u64, limit: u32) -> Result<Vec<RecordRow>> {
        if audiences.is_empty() {
            return Ok(vec![]);
        }
        // One text[] parameter instead of SQLite's `IN (?3, ?4, …)`: the statement text stays constant.
        self.records_where(
            "WHERE change_seq > $1 AND log_index IN (SELECT log_index FROM record_audience WHERE audience = ANY($3)) ORDER BY change_seq LIMIT $2",
            &[&(after as i64), &i64::from(limit), &audiences],
        )
    }

    fn records_from(&mut self, log_index: u64, limit: u32) -> Result<Vec<RecordRow>> {
        self.records_where(
            "WHERE log_index >= $1 ORDER BY log_index LIMIT $2",
            &[&(log_index as i64), &i64::from(limit)],
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
        // The unique key exists only here (for re-run migrations); an exact
        // repeat is dropped rather than aborting the transaction.
        self.c.exec(
            "INSERT INTO equivocations (device, seq, existing, offered, received_ms) VALUES ($1,$2,$3,$4,$5) \
             ON CONFLICT DO NOTHING",
            &[&device.0.as_slice(), &(seq as i64), &existing.as_bytes().as_slice(), &offered, &now],
        )?;
        Ok(())
    }

    fn equivocation_count(&mut self) -> Result<u64> {
        self.count("SELECT count(*) FROM equivocations")
    }

    fn equivocations_of(&mut self, device: &PublicKey) -> Result<u64> {
        let r =
            self.c.one("SELECT count(*) FROM equivocations WHERE device = $1", &[&device.0.as_slice()])?;
        Ok(r.try_get::<_, i64>(0)? as u64)
    }

    fn chain(&mut self, device: &PublicKey) -> Result<Option<(ChainTail, Option<i64>)>> {
        let r = self
            .c
            .opt("SELECT seq, id, earliest_ms FROM chains WHERE device = $1", &[&device.0.as_slice()])?;
        r.map(|r| {
            let seq: i64 = r.try_get(0)?;
            Ok((ChainTail { seq: seq as u64, id: hash_col(r.try_get(1)?)? }, r.try_get(2)?))
        })
        .transpose()
    }

    fn set_chain(&mut self, device: &PublicKey, tail: ChainTail, earliest: Option<i64>) -> Result<()> {
        self.c.queue(
            "INSERT INTO chains (device, seq, id, earliest_ms) VALUES ($1,$2,$3,$4) \
             ON CONFLICT(device) DO UPDATE SET seq = excluded.seq, id = excluded.id, earliest_ms = excluded.earliest_ms",
            owned![device.0.to_vec(), tail.seq as i64, tail.id.as_bytes().to_vec(), earliest],
        )?;
        Ok(())
    }

    fn insert_anchor(&mut self, a: &AnchorBody) -> Result<()> {
        // As for equivocations: a unique key only this schema has.
        self.c.queue(
            "INSERT INTO anchors (device, server_ms, boot_id, device_mono_ms, tail_seq, tail_id) VALUES ($1,$2,$3,$4,$5,$6) \
             ON CONFLICT DO NOTHING",
            owned![
                a.device.0.to_vec(),
                a.server_ms,
                a.boot_id.clone(),
                a.device_mono_ms as i64,
                a.tail.map(|t| t.seq as i64),
                a.tail.map(|t| t.id.as_bytes().to_vec()),
            ],
        )?;
        Ok(())
    }

    fn covering_anchor_ms(&mut self, device: &PublicKey, seq: u64, id: &Hash) -> Result<Option<i64>> {
        Ok(self
            .c
            .one(
                "SELECT min(a.server_ms) FROM anchors a WHERE a.device = $1 AND ( (a.tail_seq = $2 AND a.tail_id = $3) OR \
                 (a.tail_seq > $2 AND EXISTS (SELECT 1 FROM records r WHERE r.device = a.device AND r.seq = a.tail_seq AND r.id = a.tail_id)) )",
                &[&device.0.as_slice(), &(seq as i64), &id.as_bytes().as_slice()],
            )?
            .try_get(0)?)
    }

    fn device(&mut self, key: &PublicKey) -> Result<Option<DeviceRow>> {
        self.memo(format!("device {}", key.to_b64()), |t| {
            Ok(t.device_rows("WHERE d.key = $1", &[&key.0.as_slice()])?.pop())
        })
    }

    fn insert_device(&mut self, key: &PublicKey, person: &Id, label: &str, now: i64) -> Result<()> {
        self.memo.clear();
        self.c.exec(
            "INSERT INTO devices (key, person, label, enrolled_ms) VALUES ($1,$2,$3,$4)",
            &[&key.0.as_slice(), &person.as_str(), &label, &now],
        )?;
        Ok(())
    }

    fn revoke_device(&mut self, key: &PublicKey, at: i64) -> Result<()> {
        self.memo.clear();
        self.c.exec("UPDATE devices SET revoked_ms = $2 WHERE key = $1", &[&key.0.as_slice(), &at])?;
        Ok(())
    }

    fn devices(&mut self) -> Result<Vec<DeviceRow>> {
        self.device_rows("ORDER BY d.enrolled_ms", &[])
    }

    fn org(&mut self, id: &Id) -> Result<Option<Organisation>> {
        self.memo(format!("org {id}"), |t| {
            Ok(t.json_rows("SELECT json FROM orgs WHERE id = $1", &[&id.as_str()])?.pop())
        })
    }

    fn upsert_org(&mut self, o: &Organisation) -> Result<()> {
        self.memo.clear();
        self.c.exec(
            "INSERT INTO orgs (id, role, json) VALUES ($1,$2,$3) ON CONFLICT(id) DO UPDATE SET role = excluded.role, json = excluded.json",
            &[&o.id.as_str(), &enum_str(&o.role), &to_json(o)],
        )?;
        Ok(())
    }

    fn orgs(&mut self) -> Result<Vec<Organisation>> {
        self.json_rows("SELECT json FROM orgs ORDER BY id", &[])
    }

    fn person(&mut self, id: &Id) -> Result<Option<Person>> {
        self.memo(format!("person {id}"), |t| {
            Ok(t.json_rows("SELECT json FROM persons WHERE id = $1", &[&id.as_str()])?.pop())
        })
    }

    fn upsert_person(&mut self, p: &Person) -> Result<()> {
        self.memo.clear();
        self.c.exec(
            "INSERT INTO persons (id, org, json) VALUES ($1,$2,$3) ON CONFLICT(id) DO UPDATE SET org = excluded.org, json = excluded.json",
            &[&p.id.as_str(), &p.org.as_str(), &to_json(p)],
        )?;
        Ok(())
    }

    fn people(&mut self) -> Result<Vec<Person>> {
        self.json_rows("SELECT json FROM persons ORDER BY id", &[])
    }

    fn project(&mut self, id: &Id) -> Result<Option<Project>> {
        self.memo(format!("project {id}"), |t| {
            Ok(t.json_rows("SELECT json FROM projects WHERE id = $1", &[&id.as_str()])?.pop())
        })
    }

    fn upsert_project(&mut self, p: &Project) -> Result<()> {
        self.memo.clear();
        self.c.exec(
            "INSERT INTO projects (id, jurisdiction, json) VALUES ($1,$2,$3) \
             ON CONFLICT(id) DO UPDATE SET jurisdiction = excluded.jurisdiction, json = excluded.json",
            &[&p.id.as_str(), &p.jurisdiction, &to_json(p)],
        )?;
        Ok(())
    }

    fn projects(&mut self) -> Result<Vec<Project>> {
        self.json_rows("SELECT json FROM projects ORDER BY id", &[])
    }

    fn unit_project(&mut self, id: &Id) -> Result<Option<UnitProject>> {
        self.memo(format!("unit {id}"), |t| {
            Ok(t.json_rows("SELECT json FROM unit_projects WHERE id = $1", &[&id.as_str()])?.pop())
        })
    }

    fn upsert_unit_project(&mut self, u: &UnitProject) -> Result<()> {
        self.memo.clear();
        self.c.exec(
            "INSERT INTO unit_projects (id, project, json) VALUES ($1,$2,$3) \
             ON CONFLICT(id) DO UPDATE SET project = excluded.project, json = excluded.json",
            &[&u.id.as_str(), &u.project.as_str(), &to_json(u)],
        )?;
        Ok(())
    }

    fn unit_projects_of(&mut self, project: &Id) -> Result<Vec<UnitProject>> {
        self.memo(format!("units of {project}"), |t| {
            t.json_rows("SELECT json FROM unit_projects WHERE project = $1 ORDER BY id", &[&project.as_str()])
        })
    }

    fn grants_of(&mut self, person: &Id) -> Result<Vec<GrantRow>> {
        self.memo(format!("grants of {person}"), |t| {
            t.grant_rows("WHERE person = $1 ORDER BY valid_from_ms", &[&person.as_str()])
        })
    }

    fn grants_on(&mut self, project: &Id) -> Result<Vec<GrantRow>> {
        self.memo(format!("grants on {project}"), |t| {
            t.grant_rows("WHERE project = $1 ORDER BY valid_from_ms", &[&project.as_str()])
        })
    }

    fn grant(&mut self, grant: &Id) -> Result<Option<GrantRow>> {
        self.memo(format!("grant {grant}"), |t| {
            Ok(t.grant_rows("WHERE grant_id = $1", &[&grant.as_str()])?.pop())
        })
    }

    fn insert_grant(&mut self, g: &GrantRow) -> Result<()> {
        self.memo.clear();
        self.c.exec(
            "INSERT INTO grants (grant_id, person, org, project, role, letter, face_reference, valid_from_ms, valid_until_ms, revoked_ms) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
            &[
                &g.grant.as_str(),
                &g.person.as_str(),
                &g.org.as_str(),
                &g.project.as_ref().map(Id::as_str),
                &enum_str(&g.role),
                &g.letter.as_bytes().as_slice(),
                &g.face_reference.map(|h| h.as_bytes().to_vec()),
                &g.valid_from_ms,
                &g.valid_until_ms,
                &g.revoked_ms,
            ],
        )?;
        Ok(())
    }

    fn revoke_grant(&mut self, grant: &Id, at: i64) -> Result<()> {
        self.memo.clear();
        self.c.exec("UPDATE grants SET revoked_ms = $2 WHERE grant_id = $1", &[&grant.as_str(), &at])?;
        Ok(())
    }

    fn batches(&mut self, supplier: u16, year: u8, batch: u16) -> Result<Vec<TagBatch>> {
        self.memo(format!("batch {supplier}-{year}-{batch}"), |t| {
            t.json_rows(
                "SELECT json FROM tag_batches WHERE supplier = $1 AND year = $2 AND batch = $3",
                &[&i64::from(supplier), &i64::from(year), &i64::from(batch)],
            )
        })
    }

    fn batches_of(&mut self, project: &Id) -> Result<Vec<TagBatch>> {
        self.memo(format!("batches of {project}"), |t| {
            t.json_rows("SELECT json FROM tag_batches WHERE project = $1", &[&project.as_str()])
        })
    }

    fn insert_batch(&mut self, b: &TagBatch, record: &Hash) -> Result<()> {
        self.memo.clear();
        // As for equivocations: a unique key only this schema has.
        self.c.exec(
            "INSERT INTO tag_batches (supplier, year, batch, project, json, record) VALUES ($1,$2,$3,$4,$5,$6) \
             ON CONFLICT DO NOTHING",
            &[
                &i64::from(b.key.supplier),
                &i64::from(b.key.year),
                &i64::from(b.key.batch),
                &b.project.as_str(),
                &to_json(b),
                &record.as_bytes().as_slice(),
            ],
        )?;
        Ok(())
    }

    fn lab_assignments_of(&mut self, project: &Id) -> Result<Vec<LabAssignment>> {
        self.memo(format!("labs of {project}"), |t| {
            t.json_rows("SELECT json FROM lab_assignments WHERE project = $1", &[&project.as_str()])
        })
    }

    fn insert_lab_assignment(&mut self, a: &LabAssignment) -> Result<()> {
        self.memo.clear();
        // As for equivocations: a unique key only this schema has.
        self.c.exec(
            "INSERT INTO lab_assignments (project, unit_project, lab, json) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING",
            &[&a.project.as_str(), &a.unit_project.as_str(), &a.lab.as_str(), &to_json(a)],
        )?;
        Ok(())
    }

    fn tag_state(&mut self, code: &str) -> Result<Option<SpecimenState>> {
        Ok(self.json_rows("SELECT state FROM tags WHERE code = $1", &[&code])?.pop())
    }

    fn set_tag_state(
        &mut self,
        code: &str,
        project: Option<&str>,
        s: &SpecimenState,
        now: i64,
    ) -> Result<()> {
        self.c.queue(
            "INSERT INTO tags (code, project, stage, state, updated_ms) VALUES ($1,$2,$3,$4,$5) \
             ON CONFLICT(code) DO UPDATE SET project = coalesce(excluded.project, tags.project), stage = excluded.stage, \
             state = excluded.state, updated_ms = excluded.updated_ms",
            owned![code.to_owned(), project.map(str::to_owned), enum_str(&s.stage), to_json(s), now],
        )?;
        Ok(())
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
            &[&code_hash.as_bytes().as_slice(), &person.as_str(), &now, &expires_ms],
        )?;
        Ok(())
    }

    fn take_enrollment_code(&mut self, code_hash: &Hash, device: &PublicKey, now: i64) -> Result<Option<Id>> {
        // Check and consume in one statement: two instances cannot both take a code.
        let r = self.c.opt(
            "UPDATE enrollment_codes SET used_ms = $2, device = $3 \
             WHERE code_hash = $1 AND used_ms IS NULL AND expires_ms > $2 RETURNING person",
            &[&code_hash.as_bytes().as_slice(), &now, &device.0.as_slice()],
        )?;
        r.map(|r| id_col(r.try_get(0)?)).transpose()
    }

    fn log_size_for_update(&mut self) -> Result<u64> {
        if let Some(n) = self.log_head {
            return Ok(n);
        }
        let r = self.c.one("SELECT size FROM log_head WHERE id = 0 FOR UPDATE", &[])?;
        let n = r.try_get::<_, i64>(0)? as u64;
        self.log_head = Some(n);
        Ok(n)
    }

    fn log_size(&mut self) -> Result<u64> {
        // No row lock: this also runs in READ ONLY transactions and on replicas.
        let r = self.c.one("SELECT size FROM log_head WHERE id = 0", &[])?;
        Ok(r.try_get::<_, i64>(0)? as u64)
    }

    fn set_log_size(&mut self, size: u64) -> Result<()> {
        self.c.queue("UPDATE log_head SET size = $1 WHERE id = 0", owned![size as i64])?;
        self.log_head = Some(size);
        Ok(())
    }

    fn log_node(&mut self, level: u32, index: u64) -> Result<Option<Hash>> {
        if let Some(h) = self.nodes.get(&(level, index)).copied().or_else(|| self.cache.get(level, index)) {
            return Ok(Some(h));
        }
        let h = self
            .c
            .opt(
                "SELECT hash FROM log_nodes WHERE level = $1 AND idx = $2",
                &[&i64::from(level), &(index as i64)],
            )?
            .map(|r| hash_col(r.try_get(0)?))
            .transpose()?;
        if let Some(h) = h {
            self.nodes.insert((level, index), h);
        }
        Ok(h)
    }

    fn put_log_node(&mut self, level: u32, index: u64, hash: &Hash) -> Result<()> {
        self.c.queue(
            "INSERT INTO log_nodes (level, idx, hash) VALUES ($1,$2,$3)",
            owned![i64::from(level), index as i64, hash.as_bytes().to_vec()],
        )?;
        self.nodes.insert((level, index), *hash);
        Ok(())
    }

    fn insert_checkpoint(&mut self, c: &SignedCheckpoint) -> Result<()> {
        self.c.queue(
            "INSERT INTO checkpoints (size, json) VALUES ($1,$2) ON CONFLICT DO NOTHING",
            owned![c.checkpoint.size as i64, to_json(c)],
        )?;
        Ok(())
    }

    fn latest_checkpoint(&mut self) -> Result<Option<SignedCheckpoint>> {
        Ok(self.json_rows("SELECT json FROM checkpoints ORDER BY size DESC LIMIT 1", &[])?.pop())
    }

    fn media(&mut self, sha: &Hash) -> Result<Option<MediaRow>> {
        let r = self.c.opt(
            "SELECT size, media_type, received, complete FROM media WHERE sha256 = $1",
            &[&sha.as_bytes().as_slice()],
        )?;
        r.map(|r| {
            Ok(MediaRow {
                sha256: *sha,
                size: r.try_get::<_, i64>(0)? as u64,
                media_type: r.try_get(1)?,
                received: r.try_get::<_, i64>(2)? as u64,
                complete: r.try_get::<_, i64>(3)? != 0,
            })
        })
        .transpose()
    }

    fn upsert_media(&mut self, m: &MediaRow, now: i64) -> Result<()> {
        self.c.exec(
            "INSERT INTO media (sha256, size, media_type, received, complete, updated_ms) VALUES ($1,$2,$3,$4,$5,$6) \
             ON CONFLICT(sha256) DO UPDATE SET received = excluded.received, complete = excluded.complete, updated_ms = excluded.updated_ms",
            &[
                &m.sha256.as_bytes().as_slice(),
                &(m.size as i64),
                &m.media_type,
                &(m.received as i64),
                &i64::from(m.complete),
                &now,
            ],
        )?;
        Ok(())
    }

    fn media_ref_by_device(&mut self, sha: &Hash, device: &PublicKey) -> Result<Option<(u64, String)>> {
        let r = self.c.opt(
            "SELECT m.size, m.media_type FROM record_media m JOIN records r ON r.id = m.record \
             WHERE m.sha256 = $1 AND r.device = $2 LIMIT 1",
            &[&sha.as_bytes().as_slice(), &device.0.as_slice()],
        )?;
        r.map(|r| Ok((r.try_get::<_, i64>(0)? as u64, r.try_get(1)?))).transpose()
    }

    fn media_of_record(&mut self, record: &Hash) -> Result<Vec<(MediaRef, bool)>> {
        self.c
            .rows(
                "SELECT m.sha256, m.size, m.media_type, m.purpose, m.captured_mono_ms, coalesce(x.complete, 0) \
                 FROM record_media m LEFT JOIN media x ON x.sha256 = m.sha256 WHERE m.record = $1",
                &[&record.as_bytes().as_slice()],
            )?
            .iter()
            .map(|m| {
                let purpose: MediaPurpose = enum_from(m.try_get::<_, &str>(3)?)?;
                Ok((
                    MediaRef {
                        sha256: hash_col(m.try_get(0)?)?,
                        size: m.try_get::<_, i64>(1)? as u64,
                        media_type: m.try_get(2)?,
                        purpose,
                        captured_mono_ms: m.try_get::<_, Option<i64>>(4)?.map(|x| x as u64),
                    },
                    m.try_get::<_, i64>(5)? != 0,
                ))
            })
            .collect()
    }

    fn records_with_media(&mut self, sha: &Hash) -> Result<Vec<MediaReference>> {
        self.c
            .rows(
                "SELECT r.log_index, r.status, r.project, m.purpose, m.media_type FROM record_media m \
                 JOIN records r ON r.id = m.record WHERE m.sha256 = $1",
                &[&sha.as_bytes().as_slice()],
            )?
            .iter()
            .map(|r| {
                Ok(MediaReference {
                    log_index: r.try_get::<_, i64>(0)? as u64,
                    status: enum_from(r.try_get::<_, &str>(1)?)?,
                    project: r.try_get::<_, Option<String>>(2)?.map(id_col).transpose()?,
                    purpose: enum_from(r.try_get::<_, &str>(3)?)?,
                    media_type: r.try_get(4)?,
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
        self.c.queue(
            "INSERT INTO violations (record, project, finding, created_ms) VALUES ($1,$2,$3,$4)",
            owned![record.as_bytes().to_vec(), project.map(str::to_owned), finding.to_owned(), now],
        )?;
        Ok(())
    }

    fn violations(
        &mut self,
        jurisdiction: Option<&str>,
        after_ms: i64,
        limit: u32,
    ) -> Result<Vec<(Hash, String)>> {
        self.c
            .rows(
                "SELECT v.record, v.finding FROM violations v LEFT JOIN projects p ON p.id = v.project \
                 WHERE v.created_ms > $1 AND ($2::text IS NULL OR p.jurisdiction LIKE $2::text || '%') ORDER BY v.id LIMIT $3",
                &[&after_ms, &jurisdiction, &i64::from(limit)],
            )?
            .iter()
            .map(|r| Ok((hash_col(r.try_get(0)?)?, r.try_get(1)?)))
            .collect()
    }

    fn use_nonce(&mut self, device: &PublicKey, nonce: &str, expires_ms: i64, now: i64) -> Result<bool> {
        self.c.exec("DELETE FROM nonces WHERE expires_ms < $1", &[&now])?;
        let n = self.c.exec(
            "INSERT INTO nonces (device, nonce, expires_ms) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING",
            &[&device.0.as_slice(), &nonce, &expires_ms],
        )?;
        Ok(n == 1)
    }

    fn insert_admin_token(&mut self, hash: &Hash, label: &str, now: i64) -> Result<()> {
        self.c.exec(
            "INSERT INTO admin_tokens (hash, label, created_ms) VALUES ($1,$2,$3)",
            &[&hash.as_bytes().as_slice(), &label, &now],
        )?;
        Ok(())
    }

    fn admin_token_valid(&mut self, hash: &Hash) -> Result<bool> {
        Ok(self
            .c
            .opt("SELECT 1 FROM admin_tokens WHERE hash = $1", &[&hash.as_bytes().as_slice()])?
            .is_some())
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>> {
        self.c.opt("SELECT value FROM meta WHERE key = $1", &[&key])?.map(|r| Ok(r.try_get(0)?)).transpose()
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.c.exec(
            "INSERT INTO meta (key, value) VALUES ($1,$2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }
}
