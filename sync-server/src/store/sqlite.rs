//! The embedded default: one SQLite file, WAL, `synchronous=FULL` (a record
//! acknowledged to a device survives a power cut: R14, R21).

use super::columns::*;
use super::*;
use custody_core::access::MediaReference;
use custody_core::record::MediaPurpose;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Schema migrations, in order. Never edit one that has shipped: add a new one.
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE records(
  id BLOB PRIMARY KEY, log_index INTEGER NOT NULL UNIQUE, device BLOB NOT NULL, seq INTEGER NOT NULL,
  kind TEXT NOT NULL, author TEXT NOT NULL, project TEXT, envelope BLOB NOT NULL,
  first_seen_ms INTEGER NOT NULL, status TEXT NOT NULL, verdict TEXT NOT NULL,
  earliest_ms INTEGER, latest_ms INTEGER, UNIQUE(device, seq));
CREATE INDEX records_status ON records(status);
CREATE TABLE record_tags(tag TEXT NOT NULL, record BLOB NOT NULL, PRIMARY KEY(tag, record)) WITHOUT ROWID;
CREATE TABLE record_refs(referenced BLOB NOT NULL, record BLOB NOT NULL, PRIMARY KEY(referenced, record)) WITHOUT ROWID;
CREATE TABLE record_media(record BLOB NOT NULL, sha256 BLOB NOT NULL, size INTEGER NOT NULL, media_type TEXT NOT NULL,
  purpose TEXT NOT NULL, captured_mono_ms INTEGER, PRIMARY KEY(record, sha256, purpose));
CREATE INDEX record_media_sha ON record_media(sha256);
CREATE TABLE record_audience(audience TEXT NOT NULL, log_index INTEGER NOT NULL, PRIMARY KEY(audience, log_index)) WITHOUT ROWID;
CREATE TABLE equivocations(device BLOB NOT NULL, seq INTEGER NOT NULL, existing BLOB NOT NULL, offered BLOB NOT NULL, received_ms INTEGER NOT NULL);
CREATE TABLE chains(device BLOB PRIMARY KEY, seq INTEGER NOT NULL, id BLOB NOT NULL, earliest_ms INTEGER);
CREATE TABLE anchors(device BLOB NOT NULL, server_ms INTEGER NOT NULL, boot_id TEXT NOT NULL, device_mono_ms INTEGER NOT NULL,
  tail_seq INTEGER, tail_id BLOB);
CREATE INDEX anchors_device ON anchors(device, tail_seq);
CREATE TABLE orgs(id TEXT PRIMARY KEY, role TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE persons(id TEXT PRIMARY KEY, org TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE projects(id TEXT PRIMARY KEY, jurisdiction TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE unit_projects(id TEXT PRIMARY KEY, project TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE devices(key BLOB PRIMARY KEY, person TEXT NOT NULL, label TEXT NOT NULL, enrolled_ms INTEGER NOT NULL, revoked_ms INTEGER);
CREATE TABLE grants(grant_id TEXT PRIMARY KEY, person TEXT NOT NULL, org TEXT NOT NULL, project TEXT, role TEXT NOT NULL,
  letter BLOB NOT NULL, face_reference BLOB, valid_from_ms INTEGER NOT NULL, valid_until_ms INTEGER, revoked_ms INTEGER);
CREATE INDEX grants_person ON grants(person);
CREATE INDEX grants_project ON grants(project);
CREATE TABLE tag_batches(supplier INTEGER NOT NULL, year INTEGER NOT NULL, batch INTEGER NOT NULL, project TEXT NOT NULL,
  json TEXT NOT NULL, record BLOB NOT NULL);
CREATE INDEX tag_batches_key ON tag_batches(supplier, year, batch);
CREATE TABLE tags(code TEXT PRIMARY KEY, project TEXT, stage TEXT NOT NULL, state TEXT NOT NULL, updated_ms INTEGER NOT NULL);
CREATE TABLE lab_assignments(project TEXT NOT NULL, unit_project TEXT NOT NULL, lab TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE enrollment_codes(code_hash BLOB PRIMARY KEY, person TEXT NOT NULL, created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL, used_ms INTEGER, device BLOB);
CREATE TABLE log_head(id INTEGER PRIMARY KEY CHECK (id = 0), size INTEGER NOT NULL);
INSERT INTO log_head VALUES (0, 0);
CREATE TABLE log_nodes(level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY(level, idx)) WITHOUT ROWID;
CREATE TABLE checkpoints(size INTEGER PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE media(sha256 BLOB PRIMARY KEY, size INTEGER NOT NULL, media_type TEXT NOT NULL, received INTEGER NOT NULL,
  complete INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE TABLE violations(id INTEGER PRIMARY KEY, record BLOB NOT NULL, project TEXT, finding TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE INDEX violations_created ON violations(created_ms);
CREATE TABLE nonces(device BLOB NOT NULL, nonce TEXT NOT NULL, expires_ms INTEGER NOT NULL, PRIMARY KEY(device, nonce));
CREATE TABLE admin_tokens(hash BLOB PRIMARY KEY, label TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
"#,
    // v2: devices must hear about changes to records they already hold (a
    // deferred record accepted, a co-signature added): the feed pages by a
    // change sequence bumped on every insert and update.
    r#"
ALTER TABLE records ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
UPDATE records SET change_seq = log_index + 1;
CREATE INDEX records_change ON records(change_seq);
CREATE TABLE change_head(id INTEGER PRIMARY KEY CHECK (id = 0), seq INTEGER NOT NULL);
INSERT INTO change_head SELECT 0, coalesce(max(change_seq), 0) FROM records;
"#,
];

const READERS: usize = 4;

#[derive(Clone)]
pub struct SqliteStore {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Vec<Mutex<Connection>>>,
}

fn configure(c: &Connection) -> Result<()> {
    c.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a commit is on disk before the device is told "stored".
    c.pragma_update(None, "synchronous", "FULL")?;
    c.pragma_update(None, "foreign_keys", "ON")?;
    c.busy_timeout(std::time::Duration::from_secs(30))?;
    // Room for every statement the store uses, so none is parsed twice.
    c.set_prepared_statement_cache_capacity(128);
    Ok(())
}

fn migrate(c: &mut Connection) -> Result<()> {
    let version: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let supported = MIGRATIONS.len() as i64;
    if version > supported {
        return Err(StoreError::SchemaTooNew { found: version, supported });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = c.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut writer = Connection::open(path)?;
        configure(&writer)?;
        migrate(&mut writer)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let c = Connection::open(path)?;
            configure(&c)?;
            readers.push(Mutex::new(c));
        }
        Ok(SqliteStore {
            path: path.to_owned(),
            writer: Arc::new(Mutex::new(writer)),
            readers: Arc::new(readers),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut t = SqliteTx(tx);
        let out = f(&mut t)?;
        t.0.commit()?;
        Ok(out)
    }

    pub fn read<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        // Any free reader; otherwise wait for the first.
        let guard = self
            .readers
            .iter()
            .find_map(|m| m.try_lock().ok())
            .unwrap_or_else(|| self.readers[0].lock().unwrap_or_else(|p| p.into_inner()));
        let mut conn = guard;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
        let mut t = SqliteTx(tx);
        let out = f(&mut t)?;
        t.0.commit()?;
        Ok(out)
    }

    pub fn backup(&self, to: &Path) -> Result<()> {
        let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let _ = std::fs::remove_file(to);
        conn.execute("VACUUM INTO ?1", params![to.to_string_lossy()])?;
        Ok(())
    }
}

struct SqliteTx<'c>(Transaction<'c>);

type RawRecord = (
    Vec<u8>,
    i64,
    Vec<u8>,
    i64,
    String,
    String,
    Option<String>,
    Vec<u8>,
    i64,
    String,
    String,
    Option<i64>,
    Option<i64>,
    i64,
);

fn raw_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
        r.get(13)?,
    ))
}

fn record_row(x: RawRecord) -> Result<RecordRow> {
    Ok(RecordRow {
        id: hash_col(x.0)?,
        log_index: x.1 as u64,
        device: key_col(x.2)?,
        seq: x.3 as u64,
        kind: x.4,
        author: x.5,
        project: x.6,
        envelope: x.7,
        first_seen_ms: x.8,
        status: enum_from(&x.9)?,
        verdict: x.10,
        earliest_ms: x.11,
        latest_ms: x.12,
        change_seq: x.13 as u64,
    })
}

impl SqliteTx<'_> {
    /// Execute with a cached prepared statement (the ingest path runs the
    /// same few statements thousands of times).
    fn exec(&self, sql: &str, p: impl rusqlite::Params) -> rusqlite::Result<usize> {
        self.0.prepare_cached(sql)?.execute(p)
    }

    fn row<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.0.prepare_cached(sql)?.query_row(p, f)
    }

    /// The next change sequence number (the write transaction holds the lock).
    fn next_change(&self) -> rusqlite::Result<i64> {
        self.exec("UPDATE change_head SET seq = seq + 1 WHERE id = 0", [])?;
        self.row("SELECT seq FROM change_head WHERE id = 0", [], |r| r.get(0))
    }

    fn records_where(&mut self, sql_tail: &str, p: impl rusqlite::Params) -> Result<Vec<RecordRow>> {
        let sql = format!("SELECT {RECORD_COLS} FROM records {sql_tail}");
        let mut st = self.0.prepare_cached(&sql)?;
        let raws = st.query_map(p, raw_record)?.collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter().map(record_row).collect()
    }

    fn grant_rows(&mut self, sql_tail: &str, p: impl rusqlite::Params) -> Result<Vec<GrantRow>> {
        let sql = format!(
            "SELECT grant_id, person, org, project, role, letter, face_reference, valid_from_ms, valid_until_ms, revoked_ms FROM grants {sql_tail}"
        );
        let mut st = self.0.prepare_cached(&sql)?;
        type G = (
            String,
            String,
            String,
            Option<String>,
            String,
            Vec<u8>,
            Option<Vec<u8>>,
            i64,
            Option<i64>,
            Option<i64>,
        );
        let raws = st
            .query_map(p, |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<G>>>()?;
        raws.into_iter()
            .map(|g| {
                Ok(GrantRow {
                    grant: id_col(g.0)?,
                    person: id_col(g.1)?,
                    org: id_col(g.2)?,
                    project: g.3.map(id_col).transpose()?,
                    role: enum_from(&g.4)?,
                    letter: hash_col(g.5)?,
                    face_reference: g.6.map(hash_col).transpose()?,
                    valid_from_ms: g.7,
                    valid_until_ms: g.8,
                    revoked_ms: g.9,
                })
            })
            .collect()
    }

    fn device_rows(&mut self, sql_tail: &str, p: impl rusqlite::Params) -> Result<Vec<DeviceRow>> {
        let sql = format!(
            "SELECT d.key, d.person, d.label, d.enrolled_ms, d.revoked_ms, p.org, o.role FROM devices d \
             JOIN persons p ON p.id = d.person JOIN orgs o ON o.id = p.org {sql_tail}"
        );
        let mut st = self.0.prepare_cached(&sql)?;
        type D = (Vec<u8>, String, String, i64, Option<i64>, String, String);
        let raws = st
            .query_map(p, |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
            })?
            .collect::<rusqlite::Result<Vec<D>>>()?;
        raws.into_iter()
            .map(|d| {
                Ok(DeviceRow {
                    key: key_col(d.0)?,
                    person: id_col(d.1)?,
                    label: d.2,
                    enrolled_ms: d.3,
                    revoked_ms: d.4,
                    org: id_col(d.5)?,
                    org_role: enum_from(&d.6)?,
                })
            })
            .collect()
    }

    fn json_rows<T: serde::de::DeserializeOwned>(
        &mut self,
        sql: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<T>> {
        let mut st = self.0.prepare_cached(sql)?;
        let raws = st.query_map(p, |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        raws.iter().map(|s| json(s)).collect()
    }
}

impl Tx for SqliteTx<'_> {
    fn record(&mut self, id: &Hash) -> Result<Option<RecordRow>> {
        Ok(self.records_where("WHERE id = ?1", params![id.as_bytes().as_slice()])?.pop())
    }

    fn record_at(&mut self, device: &PublicKey, seq: u64) -> Result<Option<RecordRow>> {
        Ok(self
            .records_where("WHERE device = ?1 AND seq = ?2", params![device.0.as_slice(), seq as i64])?
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
        let id = row.id.as_bytes().as_slice();
        let change = self.next_change()?;
        self.exec(
            &format!(
                "INSERT INTO records ({RECORD_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"
            ),
            params![
                id,
                row.log_index as i64,
                row.device.0.as_slice(),
                row.seq as i64,
                row.kind,
                row.author,
                row.project,
                row.envelope,
                row.first_seen_ms,
                enum_str(&row.status),
                row.verdict,
                row.earliest_ms,
                row.latest_ms,
                change
            ],
        )?;
        for t in tags {
            self.exec("INSERT OR IGNORE INTO record_tags (tag, record) VALUES (?1, ?2)", params![t, id])?;
        }
        for r in refs {
            self.exec(
                "INSERT OR IGNORE INTO record_refs (referenced, record) VALUES (?1, ?2)",
                params![r.as_bytes().as_slice(), id],
            )?;
        }
        for m in media {
            self.exec(
                "INSERT OR IGNORE INTO record_media (record, sha256, size, media_type, purpose, captured_mono_ms) VALUES (?1,?2,?3,?4,?5,?6)",
                params![id, m.sha256.as_bytes().as_slice(), m.size as i64, m.media_type, enum_str(&m.purpose), m.captured_mono_ms.map(|x| x as i64)],
            )?;
        }
        for a in audiences {
            self.exec(
                "INSERT OR IGNORE INTO record_audience (audience, log_index) VALUES (?1, ?2)",
                params![a, row.log_index as i64],
            )?;
        }
        Ok(())
    }

    fn update_record(&mut self, row: &RecordRow) -> Result<()> {
        let change = self.next_change()?;
        self.exec(
            "UPDATE records SET envelope = ?2, status = ?3, verdict = ?4, earliest_ms = ?5, latest_ms = ?6, project = ?7, change_seq = ?8 WHERE id = ?1",
            params![
                row.id.as_bytes().as_slice(),
                row.envelope,
                enum_str(&row.status),
                row.verdict,
                row.earliest_ms,
                row.latest_ms,
                row.project,
                change
            ],
        )?;
        Ok(())
    }

    fn deferred_referencing(&mut self, id: &Hash) -> Result<Vec<Hash>> {
        let mut st = self.0.prepare_cached(
            "SELECT r.id FROM record_refs x JOIN records r ON r.id = x.record WHERE x.referenced = ?1 AND r.status = 'deferred' ORDER BY r.log_index",
        )?;
        let ids = st
            .query_map(params![id.as_bytes().as_slice()], |r| r.get::<_, Vec<u8>>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        ids.into_iter().map(hash_col).collect()
    }

    fn records_for_tag(&mut self, tag: &str) -> Result<Vec<RecordRow>> {
        self.records_where(
            "WHERE id IN (SELECT record FROM record_tags WHERE tag = ?1) ORDER BY log_index",
            params![tag],
        )
    }

    fn feed(&mut self, audiences: &[String], after: u64, limit: u32) -> Result<Vec<RecordRow>> {
        if audiences.is_empty() {
            return Ok(vec![]);
        }
        let placeholders = (0..audiences.len()).map(|i| format!("?{}", i + 3)).collect::<Vec<_>>().join(",");
        let sql = format!(
            "WHERE change_seq > ?1 AND log_index IN (SELECT log_index FROM record_audience WHERE audience IN ({placeholders})) ORDER BY change_seq LIMIT ?2"
        );
        let mut p: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(after as i64), Box::new(i64::from(limit))];
        for a in audiences {
            p.push(Box::new(a.clone()));
        }
        self.records_where(&sql, rusqlite::params_from_iter(p.iter().map(|b| b.as_ref())))
    }

    fn records_from(&mut self, log_index: u64, limit: u32) -> Result<Vec<RecordRow>> {
        self.records_where(
            "WHERE log_index >= ?1 ORDER BY log_index LIMIT ?2",
            params![log_index as i64, i64::from(limit)],
        )
    }

    fn record_count(&mut self) -> Result<u64> {
        Ok(self.row("SELECT count(*) FROM records", [], |r| r.get::<_, i64>(0))? as u64)
    }

    fn insert_equivocation(
        &mut self,
        device: &PublicKey,
        seq: u64,
        existing: &Hash,
        offered: &[u8],
        now: i64,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO equivocations (device, seq, existing, offered, received_ms) VALUES (?1,?2,?3,?4,?5)",
            params![device.0.as_slice(), seq as i64, existing.as_bytes().as_slice(), offered, now],
        )?;
        Ok(())
    }

    fn equivocation_count(&mut self) -> Result<u64> {
        Ok(self.row("SELECT count(*) FROM equivocations", [], |r| r.get::<_, i64>(0))? as u64)
    }

    fn equivocations_of(&mut self, device: &PublicKey) -> Result<u64> {
        Ok(self.row(
            "SELECT count(*) FROM equivocations WHERE device = ?1",
            params![device.0.as_slice()],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    fn chain(&mut self, device: &PublicKey) -> Result<Option<(ChainTail, Option<i64>)>> {
        let r = self
            .0
            .query_row(
                "SELECT seq, id, earliest_ms FROM chains WHERE device = ?1",
                params![device.0.as_slice()],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, Option<i64>>(2)?)),
            )
            .optional()?;
        r.map(|(seq, id, e)| Ok((ChainTail { seq: seq as u64, id: hash_col(id)? }, e))).transpose()
    }

    fn set_chain(&mut self, device: &PublicKey, tail: ChainTail, earliest: Option<i64>) -> Result<()> {
        self.exec(
            "INSERT INTO chains (device, seq, id, earliest_ms) VALUES (?1,?2,?3,?4) \
             ON CONFLICT(device) DO UPDATE SET seq = excluded.seq, id = excluded.id, earliest_ms = excluded.earliest_ms",
            params![device.0.as_slice(), tail.seq as i64, tail.id.as_bytes().as_slice(), earliest],
        )?;
        Ok(())
    }

    fn insert_anchor(&mut self, a: &AnchorBody) -> Result<()> {
        self.exec(
            "INSERT INTO anchors (device, server_ms, boot_id, device_mono_ms, tail_seq, tail_id) VALUES (?1,?2,?3,?4,?5,?6)",
            params![
                a.device.0.as_slice(),
                a.server_ms,
                a.boot_id,
                a.device_mono_ms as i64,
                a.tail.map(|t| t.seq as i64),
                a.tail.map(|t| t.id.as_bytes().to_vec())
            ],
        )?;
        Ok(())
    }

    fn covering_anchor_ms(&mut self, device: &PublicKey, seq: u64, id: &Hash) -> Result<Option<i64>> {
        Ok(self.row(
            "SELECT min(a.server_ms) FROM anchors a WHERE a.device = ?1 AND ( (a.tail_seq = ?2 AND a.tail_id = ?3) OR \
             (a.tail_seq > ?2 AND EXISTS (SELECT 1 FROM records r WHERE r.device = a.device AND r.seq = a.tail_seq AND r.id = a.tail_id)) )",
            params![device.0.as_slice(), seq as i64, id.as_bytes().as_slice()],
            |r| r.get::<_, Option<i64>>(0),
        )?)
    }

    fn device(&mut self, key: &PublicKey) -> Result<Option<DeviceRow>> {
        Ok(self.device_rows("WHERE d.key = ?1", params![key.0.as_slice()])?.pop())
    }

    fn insert_device(&mut self, key: &PublicKey, person: &Id, label: &str, now: i64) -> Result<()> {
        self.exec(
            "INSERT INTO devices (key, person, label, enrolled_ms) VALUES (?1,?2,?3,?4)",
            params![key.0.as_slice(), person.as_str(), label, now],
        )?;
        Ok(())
    }

    fn revoke_device(&mut self, key: &PublicKey, at: i64) -> Result<()> {
        self.exec("UPDATE devices SET revoked_ms = ?2 WHERE key = ?1", params![key.0.as_slice(), at])?;
        Ok(())
    }

    fn devices(&mut self) -> Result<Vec<DeviceRow>> {
        self.device_rows("ORDER BY d.enrolled_ms", [])
    }

    fn org(&mut self, id: &Id) -> Result<Option<Organisation>> {
        Ok(self.json_rows("SELECT json FROM orgs WHERE id = ?1", params![id.as_str()])?.pop())
    }

    fn upsert_org(&mut self, o: &Organisation) -> Result<()> {
        self.exec(
            "INSERT INTO orgs (id, role, json) VALUES (?1,?2,?3) ON CONFLICT(id) DO UPDATE SET role = excluded.role, json = excluded.json",
            params![o.id.as_str(), enum_str(&o.role), to_json(o)],
        )?;
        Ok(())
    }

    fn orgs(&mut self) -> Result<Vec<Organisation>> {
        self.json_rows("SELECT json FROM orgs ORDER BY id", [])
    }

    fn person(&mut self, id: &Id) -> Result<Option<Person>> {
        Ok(self.json_rows("SELECT json FROM persons WHERE id = ?1", params![id.as_str()])?.pop())
    }

    fn upsert_person(&mut self, p: &Person) -> Result<()> {
        self.exec(
            "INSERT INTO persons (id, org, json) VALUES (?1,?2,?3) ON CONFLICT(id) DO UPDATE SET org = excluded.org, json = excluded.json",
            params![p.id.as_str(), p.org.as_str(), to_json(p)],
        )?;
        Ok(())
    }

    fn people(&mut self) -> Result<Vec<Person>> {
        self.json_rows("SELECT json FROM persons ORDER BY id", [])
    }

    fn project(&mut self, id: &Id) -> Result<Option<Project>> {
        Ok(self.json_rows("SELECT json FROM projects WHERE id = ?1", params![id.as_str()])?.pop())
    }

    fn upsert_project(&mut self, p: &Project) -> Result<()> {
        self.exec(
            "INSERT INTO projects (id, jurisdiction, json) VALUES (?1,?2,?3) \
             ON CONFLICT(id) DO UPDATE SET jurisdiction = excluded.jurisdiction, json = excluded.json",
            params![p.id.as_str(), p.jurisdiction, to_json(p)],
        )?;
        Ok(())
    }

    fn projects(&mut self) -> Result<Vec<Project>> {
        self.json_rows("SELECT json FROM projects ORDER BY id", [])
    }

    fn unit_project(&mut self, id: &Id) -> Result<Option<UnitProject>> {
        Ok(self.json_rows("SELECT json FROM unit_projects WHERE id = ?1", params![id.as_str()])?.pop())
    }

    fn upsert_unit_project(&mut self, u: &UnitProject) -> Result<()> {
        self.exec(
            "INSERT INTO unit_projects (id, project, json) VALUES (?1,?2,?3) \
             ON CONFLICT(id) DO UPDATE SET project = excluded.project, json = excluded.json",
            params![u.id.as_str(), u.project.as_str(), to_json(u)],
        )?;
        Ok(())
    }

    fn unit_projects_of(&mut self, project: &Id) -> Result<Vec<UnitProject>> {
        self.json_rows(
            "SELECT json FROM unit_projects WHERE project = ?1 ORDER BY id",
            params![project.as_str()],
        )
    }

    fn grants_of(&mut self, person: &Id) -> Result<Vec<GrantRow>> {
        self.grant_rows("WHERE person = ?1 ORDER BY valid_from_ms", params![person.as_str()])
    }

    fn grants_on(&mut self, project: &Id) -> Result<Vec<GrantRow>> {
        self.grant_rows("WHERE project = ?1 ORDER BY valid_from_ms", params![project.as_str()])
    }

    fn grant(&mut self, grant: &Id) -> Result<Option<GrantRow>> {
        Ok(self.grant_rows("WHERE grant_id = ?1", params![grant.as_str()])?.pop())
    }

    fn insert_grant(&mut self, g: &GrantRow) -> Result<()> {
        self.exec(
            "INSERT INTO grants (grant_id, person, org, project, role, letter, face_reference, valid_from_ms, valid_until_ms, revoked_ms) \
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
            params![
                g.grant.as_str(),
                g.person.as_str(),
                g.org.as_str(),
                g.project.as_ref().map(Id::as_str),
                enum_str(&g.role),
                g.letter.as_bytes().as_slice(),
                g.face_reference.map(|h| h.as_bytes().to_vec()),
                g.valid_from_ms,
                g.valid_until_ms,
                g.revoked_ms
            ],
        )?;
        Ok(())
    }

    fn revoke_grant(&mut self, grant: &Id, at: i64) -> Result<()> {
        self.exec("UPDATE grants SET revoked_ms = ?2 WHERE grant_id = ?1", params![grant.as_str(), at])?;
        Ok(())
    }

    fn batches(&mut self, supplier: u16, year: u8, batch: u16) -> Result<Vec<TagBatch>> {
        self.json_rows(
            "SELECT json FROM tag_batches WHERE supplier = ?1 AND year = ?2 AND batch = ?3",
            params![supplier, year, batch],
        )
    }

    fn batches_of(&mut self, project: &Id) -> Result<Vec<TagBatch>> {
        self.json_rows("SELECT json FROM tag_batches WHERE project = ?1", params![project.as_str()])
    }

    fn insert_batch(&mut self, b: &TagBatch, record: &Hash) -> Result<()> {
        self.exec(
            "INSERT INTO tag_batches (supplier, year, batch, project, json, record) VALUES (?1,?2,?3,?4,?5,?6)",
            params![b.key.supplier, b.key.year, b.key.batch, b.project.as_str(), to_json(b), record.as_bytes().as_slice()],
        )?;
        Ok(())
    }

    fn lab_assignments_of(&mut self, project: &Id) -> Result<Vec<LabAssignment>> {
        self.json_rows("SELECT json FROM lab_assignments WHERE project = ?1", params![project.as_str()])
    }

    fn insert_lab_assignment(&mut self, a: &LabAssignment) -> Result<()> {
        self.exec(
            "INSERT INTO lab_assignments (project, unit_project, lab, json) VALUES (?1,?2,?3,?4)",
            params![a.project.as_str(), a.unit_project.as_str(), a.lab.as_str(), to_json(a)],
        )?;
        Ok(())
    }

    fn tag_state(&mut self, code: &str) -> Result<Option<SpecimenState>> {
        Ok(self.json_rows("SELECT state FROM tags WHERE code = ?1", params![code])?.pop())
    }

    fn set_tag_state(
        &mut self,
        code: &str,
        project: Option<&str>,
        s: &SpecimenState,
        now: i64,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO tags (code, project, stage, state, updated_ms) VALUES (?1,?2,?3,?4,?5) \
             ON CONFLICT(code) DO UPDATE SET project = coalesce(excluded.project, tags.project), stage = excluded.stage, \
             state = excluded.state, updated_ms = excluded.updated_ms",
            params![code, project, enum_str(&s.stage), to_json(s), now],
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
        self.exec(
            "INSERT INTO enrollment_codes (code_hash, person, created_ms, expires_ms) VALUES (?1,?2,?3,?4)",
            params![code_hash.as_bytes().as_slice(), person.as_str(), now, expires_ms],
        )?;
        Ok(())
    }

    fn take_enrollment_code(&mut self, code_hash: &Hash, device: &PublicKey, now: i64) -> Result<Option<Id>> {
        let person: Option<String> = self
            .0
            .query_row(
                "SELECT person FROM enrollment_codes WHERE code_hash = ?1 AND used_ms IS NULL AND expires_ms > ?2",
                params![code_hash.as_bytes().as_slice(), now],
                |r| r.get(0),
            )
            .optional()?;
        if person.is_some() {
            self.exec(
                "UPDATE enrollment_codes SET used_ms = ?2, device = ?3 WHERE code_hash = ?1",
                params![code_hash.as_bytes().as_slice(), now, device.0.as_slice()],
            )?;
        }
        person.map(id_col).transpose()
    }

    fn log_size_for_update(&mut self) -> Result<u64> {
        // The write transaction is IMMEDIATE: the database is already locked.
        Ok(self.row("SELECT size FROM log_head WHERE id = 0", [], |r| r.get::<_, i64>(0))? as u64)
    }

    fn log_size(&mut self) -> Result<u64> {
        Ok(self.row("SELECT size FROM log_head WHERE id = 0", [], |r| r.get::<_, i64>(0))? as u64)
    }

    fn set_log_size(&mut self, size: u64) -> Result<()> {
        self.exec("UPDATE log_head SET size = ?1 WHERE id = 0", params![size as i64])?;
        Ok(())
    }

    fn log_node(&mut self, level: u32, index: u64) -> Result<Option<Hash>> {
        let mut st = self.0.prepare_cached("SELECT hash FROM log_nodes WHERE level = ?1 AND idx = ?2")?;
        st.query_row(params![level, index as i64], |r| r.get::<_, Vec<u8>>(0))
            .optional()?
            .map(hash_col)
            .transpose()
    }

    fn put_log_node(&mut self, level: u32, index: u64, hash: &Hash) -> Result<()> {
        let mut st = self.0.prepare_cached("INSERT INTO log_nodes (level, idx, hash) VALUES (?1,?2,?3)")?;
        st.execute(params![level, index as i64, hash.as_bytes().as_slice()])?;
        Ok(())
    }

    fn insert_checkpoint(&mut self, c: &SignedCheckpoint) -> Result<()> {
        self.exec(
            "INSERT OR IGNORE INTO checkpoints (size, json) VALUES (?1,?2)",
            params![c.checkpoint.size as i64, to_json(c)],
        )?;
        Ok(())
    }

    fn latest_checkpoint(&mut self) -> Result<Option<SignedCheckpoint>> {
        Ok(self.json_rows("SELECT json FROM checkpoints ORDER BY size DESC LIMIT 1", [])?.pop())
    }

    fn media(&mut self, sha: &Hash) -> Result<Option<MediaRow>> {
        let r = self
            .0
            .query_row(
                "SELECT size, media_type, received, complete FROM media WHERE sha256 = ?1",
                params![sha.as_bytes().as_slice()],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, bool>(3)?,
                    ))
                },
            )
            .optional()?;
        Ok(r.map(|(size, media_type, received, complete)| MediaRow {
            sha256: *sha,
            size: size as u64,
            media_type,
            received: received as u64,
            complete,
        }))
    }

    fn upsert_media(&mut self, m: &MediaRow, now: i64) -> Result<()> {
        self.exec(
            "INSERT INTO media (sha256, size, media_type, received, complete, updated_ms) VALUES (?1,?2,?3,?4,?5,?6) \
             ON CONFLICT(sha256) DO UPDATE SET received = excluded.received, complete = excluded.complete, updated_ms = excluded.updated_ms",
            params![m.sha256.as_bytes().as_slice(), m.size as i64, m.media_type, m.received as i64, m.complete, now],
        )?;
        Ok(())
    }

    fn media_ref_by_device(&mut self, sha: &Hash, device: &PublicKey) -> Result<Option<(u64, String)>> {
        Ok(self
            .0
            .query_row(
                "SELECT m.size, m.media_type FROM record_media m JOIN records r ON r.id = m.record \
                 WHERE m.sha256 = ?1 AND r.device = ?2 LIMIT 1",
                params![sha.as_bytes().as_slice(), device.0.as_slice()],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)),
            )
            .optional()?)
    }

    fn media_of_record(&mut self, record: &Hash) -> Result<Vec<(MediaRef, bool)>> {
        let mut st = self.0.prepare_cached(
            "SELECT m.sha256, m.size, m.media_type, m.purpose, m.captured_mono_ms, coalesce(x.complete, 0) \
             FROM record_media m LEFT JOIN media x ON x.sha256 = m.sha256 WHERE m.record = ?1",
        )?;
        type M = (Vec<u8>, i64, String, String, Option<i64>, bool);
        let raws = st
            .query_map(params![record.as_bytes().as_slice()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
            })?
            .collect::<rusqlite::Result<Vec<M>>>()?;
        raws.into_iter()
            .map(|m| {
                let purpose: MediaPurpose = enum_from(&m.3)?;
                Ok((
                    MediaRef {
                        sha256: hash_col(m.0)?,
                        size: m.1 as u64,
                        media_type: m.2,
                        purpose,
                        captured_mono_ms: m.4.map(|x| x as u64),
                    },
                    m.5,
                ))
            })
            .collect()
    }

    fn records_with_media(&mut self, sha: &Hash) -> Result<Vec<MediaReference>> {
        let mut st = self.0.prepare_cached(
            "SELECT r.log_index, r.status, r.project, m.purpose, m.media_type FROM record_media m \
             JOIN records r ON r.id = m.record WHERE m.sha256 = ?1",
        )?;
        type Raw = (i64, String, Option<String>, String, String);
        let raws = st
            .query_map(params![sha.as_bytes().as_slice()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<Vec<Raw>>>()?;
        raws.into_iter()
            .map(|(log_index, status, project, purpose, media_type)| {
                Ok(MediaReference {
                    log_index: log_index as u64,
                    status: enum_from(&status)?,
                    project: project.map(id_col).transpose()?,
                    purpose: enum_from(&purpose)?,
                    media_type,
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
        self.exec(
            "INSERT INTO violations (record, project, finding, created_ms) VALUES (?1,?2,?3,?4)",
            params![record.as_bytes().as_slice(), project, finding, now],
        )?;
        Ok(())
    }

    fn violations(
        &mut self,
        jurisdiction: Option<&str>,
        after_ms: i64,
        limit: u32,
    ) -> Result<Vec<(Hash, String)>> {
        let mut st = self.0.prepare_cached(
            "SELECT v.record, v.finding FROM violations v LEFT JOIN projects p ON p.id = v.project \
             WHERE v.created_ms > ?1 AND (?2 IS NULL OR p.jurisdiction LIKE ?2 || '%') ORDER BY v.id LIMIT ?3",
        )?;
        let raws = st
            .query_map(params![after_ms, jurisdiction, i64::from(limit)], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter().map(|(h, f)| Ok((hash_col(h)?, f))).collect()
    }

    fn use_nonce(&mut self, device: &PublicKey, nonce: &str, expires_ms: i64, now: i64) -> Result<bool> {
        self.exec("DELETE FROM nonces WHERE expires_ms < ?1", params![now])?;
        let n = self.exec(
            "INSERT OR IGNORE INTO nonces (device, nonce, expires_ms) VALUES (?1,?2,?3)",
            params![device.0.as_slice(), nonce, expires_ms],
        )?;
        Ok(n == 1)
    }

    fn insert_admin_token(&mut self, hash: &Hash, label: &str, now: i64) -> Result<()> {
        self.exec(
            "INSERT INTO admin_tokens (hash, label, created_ms) VALUES (?1,?2,?3)",
            params![hash.as_bytes().as_slice(), label, now],
        )?;
        Ok(())
    }

    fn admin_token_valid(&mut self, hash: &Hash) -> Result<bool> {
        Ok(self
            .0
            .query_row(
                "SELECT 1 FROM admin_tokens WHERE hash = ?1",
                params![hash.as_bytes().as_slice()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>> {
        Ok(self
            .0
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.exec(
            "INSERT INTO meta (key, value) VALUES (?1,?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database left at every earlier schema version opens, migrates and
    /// keeps its records.
    #[test]
    fn migrates_from_every_earlier_version() {
        for from in 1..MIGRATIONS.len() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("old.sqlite");
            {
                let mut c = Connection::open(&path).unwrap();
                for (i, sql) in MIGRATIONS.iter().enumerate().take(from) {
                    c.execute_batch(sql).unwrap();
                    c.pragma_update(None, "user_version", (i + 1) as i64).unwrap();
                }
                let tx = c.transaction().unwrap();
                tx.execute(
                    "INSERT INTO records (id, log_index, device, seq, kind, author, project, envelope, first_seen_ms, status, verdict) \
                     VALUES (?1, 0, ?2, 0, 'sampling', 'P-1', 'PRJ-1', X'7B7D', 1, 'accepted', '{}')",
                    params![[7u8; 32].as_slice(), [8u8; 32].as_slice()],
                )
                .unwrap();
                tx.execute(
                    "INSERT INTO record_audience (audience, log_index) VALUES ('project:PRJ-1', 0)",
                    [],
                )
                .unwrap();
                tx.commit().unwrap();
            }
            let store = SqliteStore::open(&path).unwrap();
            let rows = store.read(|tx| tx.feed(&["project:PRJ-1".into()], 0, 10)).unwrap();
            assert_eq!(rows.len(), 1, "from v{from}");
            assert_eq!(rows[0].change_seq, 1, "existing records get a change sequence");
            // New changes continue after the migrated ones.
            store.write(|tx| tx.update_record(&rows[0])).unwrap();
            let rows = store.read(|tx| tx.feed(&["project:PRJ-1".into()], 1, 10)).unwrap();
            assert_eq!(rows[0].change_seq, 2);
        }
    }
}
