//! The embedded default: one SQLite file, WAL, `synchronous=FULL` (a record
//! acknowledged to a device survives a power cut: R14, R21). The domain
//! operations are the shared [`SqlTx`]; this module runs its statements on
//! rusqlite and owns what only SQLite does (see [`super::dialect`]).

use super::dialect::Dialect;
use super::schema::{self, Migration};
use super::sql::{Arg, Conn, Row, Value};
use super::tx::SqlTx;
use super::*;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, Transaction, params};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The schema history: a database at version `n` has run the first `n`.
/// Never edit one that has shipped: append.
pub const MIGRATIONS: &[Migration] = &[
    Migration::First,
    // v2: devices must hear about changes to records they already hold (a
    // deferred record accepted, a co-signature added): the feed pages by a
    // change sequence bumped on every insert and update.
    Migration::Sql(
        r#"
ALTER TABLE records ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
UPDATE records SET change_seq = log_index + 1;
CREATE INDEX records_change ON records(change_seq);
CREATE TABLE change_head(id INTEGER PRIMARY KEY CHECK (id = 0), seq INTEGER NOT NULL);
INSERT INTO change_head SELECT 0, coalesce(max(change_seq), 0) FROM records;
"#,
    ),
    // v3
    Migration::Sql(schema::TAG_BATCH_INDEXES),
    // v4: the web console
    schema::CONSOLE,
    // v5: oversight (issue 16)
    schema::OVERSIGHT,
    // v6: issued report PDFs (R13)
    schema::ISSUED_REPORTS,
    // v7: the lab registry (issue 14)
    schema::LAB_REGISTRY,
    // v8: plans before work starts (issue 15)
    schema::PLANS,
    // v9: face photos encrypted at rest, every read logged (issue 18)
    schema::FACES,
    // v10: the server's face re-checks (issue 19)
    schema::FACE_RECHECKS,
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
    for (to, sql) in schema::pending(MIGRATIONS, version, Dialect::Sqlite)? {
        let tx = c.transaction()?;
        tx.execute_batch(&sql)?;
        tx.pragma_update(None, "user_version", to)?;
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
        let mut c = SqliteConn(conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?);
        let out = f(&mut SqlTx::new(&mut c, None))?;
        c.0.commit()?;
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
        let mut c = SqliteConn(conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?);
        let out = f(&mut SqlTx::new(&mut c, None))?;
        c.0.commit()?;
        Ok(out)
    }

    pub fn backup(&self, to: &Path) -> Result<()> {
        let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let _ = std::fs::remove_file(to);
        conn.execute("VACUUM INTO ?1", params![to.to_string_lossy()])?;
        Ok(())
    }
}

/// One transaction's connection.
struct SqliteConn<'c>(Transaction<'c>);

impl SqliteConn<'_> {
    /// The cached prepared statement (the ingest path runs the same few
    /// statements thousands of times) with `args` bound. SQLite numbers
    /// named parameters in the order they first appear, so each `$N` is
    /// bound by its name, wherever it stands.
    fn bound(&self, sql: &str, args: &[Arg<'_>]) -> Result<rusqlite::CachedStatement<'_>> {
        let mut st = self.0.prepare_cached(sql)?;
        let count = st.parameter_count();
        if count != args.len() {
            return Err(rusqlite::Error::InvalidParameterCount(args.len(), count).into());
        }
        for i in 1..=count {
            let name = st.parameter_name(i).unwrap_or("?");
            let n = name
                .strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| (1..=count).contains(n))
                .ok_or_else(|| rusqlite::Error::InvalidParameterName(name.to_owned()))?;
            st.raw_bind_parameter(i, &args[n - 1])?;
        }
        Ok(st)
    }
}

impl Conn for SqliteConn<'_> {
    const DIALECT: Dialect = Dialect::Sqlite;

    fn rows(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>> {
        let mut st = self.bound(sql, args)?;
        let width = st.column_count();
        let mut rows = st.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let values = (0..width).map(|i| value(r.get_ref(i)?)).collect::<Result<Vec<_>>>()?;
            out.push(Row(values));
        }
        Ok(out)
    }

    fn exec(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        Ok(self.bound(sql, args)?.raw_execute()? as u64)
    }

    fn exec_later(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<()> {
        self.exec(sql, args).map(drop)
    }
}

fn value(v: ValueRef<'_>) -> Result<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Text(t) => Value::Text(
            String::from_utf8(t.to_vec())
                .map_err(|_| StoreError::Corrupt("stored text is not UTF-8".into()))?,
        ),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
        ValueRef::Real(_) => {
            return Err(StoreError::Corrupt("a floating-point value where none is stored".into()));
        }
    })
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use rusqlite::types::Value as V;
        Ok(match self {
            Arg::Null => ToSqlOutput::Owned(V::Null),
            Arg::Int(v) => ToSqlOutput::Owned(V::Integer(*v)),
            Arg::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Arg::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            // No arrays in SQLite: a JSON array, read with json_each (Dialect::FEED).
            Arg::Texts(list) => ToSqlOutput::Owned(V::Text(
                serde_json::to_string(list)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file as the server at schema `version` left it, holding one record.
    fn database_at(version: usize, path: &Path) {
        let mut c = Connection::open(path).unwrap();
        c.execute_batch(include_str!("../../tests/fixtures/schema-v1/sqlite.sql")).unwrap();
        for m in &MIGRATIONS[1..version] {
            let sql = m.sql(Dialect::Sqlite).unwrap_or_else(|| panic!("version {version} is not an upgrade"));
            c.execute_batch(&sql).unwrap();
        }
        c.pragma_update(None, "user_version", version as i64).unwrap();
        let tx = c.transaction().unwrap();
        tx.execute(
            "INSERT INTO records (id, log_index, device, seq, kind, author, project, envelope, first_seen_ms, status, verdict) \
             VALUES (?1, 0, ?2, 0, 'sampling', 'P-1', 'PRJ-1', X'7B7D', 1, 'accepted', '{}')",
            params![[7u8; 32].as_slice(), [8u8; 32].as_slice()],
        )
        .unwrap();
        tx.execute("INSERT INTO record_audience (audience, log_index) VALUES ('project:PRJ-1', 0)", [])
            .unwrap();
        if version >= 2 {
            // A server with change sequences gave the record the first one.
            tx.execute_batch("UPDATE records SET change_seq = 1; UPDATE change_head SET seq = 1;").unwrap();
        }
        tx.commit().unwrap();
    }

    /// A database left at every earlier schema version opens, migrates,
    /// keeps its records and ends up exactly as the description says.
    #[test]
    fn migrates_from_every_earlier_version() {
        for from in 1..MIGRATIONS.len() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("old.sqlite");
            database_at(from, &path);
            let store = SqliteStore::open(&path).unwrap();
            let rows = store.read(|tx| tx.feed(&["project:PRJ-1".into()], 0, 10)).unwrap();
            assert_eq!(rows.len(), 1, "from v{from}");
            assert_eq!(rows[0].change_seq, 1, "existing records get a change sequence");
            // New changes continue after the migrated ones.
            store.write(|tx| tx.update_record(&rows[0])).unwrap();
            let rows = store.read(|tx| tx.feed(&["project:PRJ-1".into()], 1, 10)).unwrap();
            assert_eq!(rows[0].change_seq, 2);
            let drift = schema::check::sqlite(&Connection::open(&path).unwrap());
            assert!(drift.is_empty(), "from v{from}: {drift:#?}");
        }
    }
}
