//! The app's local database: one SQLite file per install, WAL with
//! `synchronous=FULL` — a record the person was told is saved survives a
//! killed app or a pulled battery.
//!
//! Migrations run at open, in order; each one is final once shipped. Tests
//! open databases left at every earlier version and check nothing is lost.
//! The statements that read and write these tables are all in
//! [`crate::store`].

use rusqlite::Connection;
use std::path::Path;

/// Schema migrations. Never edit one that has shipped: append.
pub const MIGRATIONS: &[&str] = &[
    // v1: the first release.
    r#"
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE enrollment(id INTEGER PRIMARY KEY CHECK (id = 0), server_url TEXT NOT NULL, server_key TEXT NOT NULL,
  tls_pin TEXT, person TEXT NOT NULL, profile TEXT NOT NULL, enrolled_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE TABLE own_records(seq INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, kind TEXT NOT NULL, envelope BLOB NOT NULL,
  created_wall_ms INTEGER NOT NULL, state TEXT NOT NULL, findings TEXT, receipt TEXT, attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT, acked_ms INTEGER);
CREATE TABLE peer_records(id BLOB PRIMARY KEY, device BLOB NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL,
  envelope BLOB NOT NULL, status TEXT, log_index INTEGER, source TEXT NOT NULL, received_ms INTEGER NOT NULL);
CREATE TABLE record_tags(tag TEXT NOT NULL, record BLOB NOT NULL, PRIMARY KEY(tag, record));
CREATE TABLE anchors(id INTEGER PRIMARY KEY, boot_id TEXT NOT NULL, received_mono_ms INTEGER NOT NULL, anchor TEXT NOT NULL);
CREATE TABLE checkpoints(size INTEGER PRIMARY KEY, checkpoint TEXT NOT NULL, received_ms INTEGER NOT NULL);
CREATE TABLE media(sha256 BLOB PRIMARY KEY, size INTEGER NOT NULL, media_type TEXT NOT NULL, purpose TEXT NOT NULL,
  sealed INTEGER NOT NULL, uploaded INTEGER NOT NULL DEFAULT 0, complete INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL);
CREATE TABLE record_media(record BLOB NOT NULL, sha256 BLOB NOT NULL, PRIMARY KEY(record, sha256));
CREATE TABLE cosignatures(record BLOB PRIMARY KEY, cosig TEXT NOT NULL, state TEXT NOT NULL, findings TEXT);
"#,
    // v2: handshakes scanned offline, persistent alarms, sync bookkeeping.
    r#"
CREATE TABLE handshakes(record BLOB PRIMARY KEY, offer TEXT NOT NULL, received_ms INTEGER NOT NULL);
CREATE TABLE alarms(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, message_zh TEXT NOT NULL, message_en TEXT NOT NULL,
  detail TEXT, created_ms INTEGER NOT NULL, cleared_ms INTEGER);
CREATE INDEX own_records_state ON own_records(state);
"#,
    // v3: what the lab was shown about a tag and must confirm to accept it (R11).
    r#"
CREATE TABLE trail_findings(tag TEXT PRIMARY KEY, findings TEXT NOT NULL, fetched_ms INTEGER NOT NULL);
"#,
    // v4: machine files the lab station captured (R12), by content: written
    // in the record's own transaction, so a file is never signed twice.
    r#"
CREATE TABLE station_files(sha256 BLOB PRIMARY KEY, record_id BLOB NOT NULL, name TEXT NOT NULL, captured_ms INTEGER NOT NULL);
"#,
];

pub fn configure(c: &Connection) -> rusqlite::Result<()> {
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", "FULL")?;
    c.pragma_update(None, "foreign_keys", "ON")?;
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    c.set_prepared_statement_cache_capacity(64);
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("local database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "local database was written by a newer app (schema {found}, this app knows {supported}): update the app"
    )]
    TooNew { found: i64, supported: i64 },
}

/// Open (creating if needed) and migrate to the newest schema.
pub fn open(path: &Path) -> Result<Connection, DbError> {
    let mut c = Connection::open(path)?;
    configure(&c)?;
    migrate(&mut c, MIGRATIONS.len())?;
    Ok(c)
}

/// Apply migrations up to `target` (tests use lower targets to make old databases).
pub fn migrate(c: &mut Connection, target: usize) -> Result<(), DbError> {
    let version: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > MIGRATIONS.len() as i64 {
        return Err(DbError::TooNew { found: version, supported: MIGRATIONS.len() as i64 });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().take(target).skip(version as usize) {
        let tx = c.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.sqlite");
        {
            let c = Connection::open(&p).unwrap();
            c.pragma_update(None, "user_version", 99).unwrap();
        }
        assert!(matches!(open(&p), Err(DbError::TooNew { found: 99, .. })));
    }
}
