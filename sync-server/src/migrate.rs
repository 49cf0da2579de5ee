//! `sync-server admin migrate`: move a deployment from the embedded store to
//! PostgreSQL (and its media from a directory to a bucket), then prove the
//! copy (R14: everything is kept for the building's life, so a move must not
//! lose or alter a byte).
//!
//! * The source is read in one SQLite read transaction: a consistent
//!   snapshot even while the old server keeps running.
//! * Every table of the one schema description ([`schema::TABLES`]) is
//!   copied row by row into the same-named PostgreSQL table (the schema check
//!   proves both databases hold it column for column). Rows that can change
//!   are upserted — the source is the authority until cut-over — and
//!   write-once rows are inserted unless already present, so a re-run only
//!   catches up.
//! * Refused when the target's log is ahead of the source's or names another
//!   record at the same position: that target is already in service or holds
//!   another history, and overwriting it would lose records.
//! * After the copy, the target is verified like `admin verify` does: every
//!   record's hash and signatures, every device chain, the log root against
//!   the latest signed checkpoint, and the hash of every media object.

use crate::blobs::Blobs;
use crate::faces::FaceVault;
use crate::maintenance::{VerifyReport, copy_media, verify_store};
use crate::store::postgres::{PgConn, PgStore, WRITE_LOCK};
use crate::store::schema::{self, OnCopy, Table, Type};
use crate::store::{Store, StoreError};
use custody_core::PublicKey;
use rusqlite::types::ValueRef;
use std::path::Path;
use tokio_postgres::types::ToSql;

#[derive(Debug, Default)]
pub struct MigrateReport {
    /// (table, rows at the source, rows written or updated at the target)
    pub tables: Vec<(String, u64, u64)>,
    pub media_copied: usize,
    pub verify: VerifyReport,
}

/// Copy `sqlite` into `pg` (and media `from` → `to`), then verify the
/// target (its sealed face photos opened with `faces` when given).
pub fn migrate(
    sqlite: &Path,
    pg: &PgStore,
    media: Option<(&Blobs, &Blobs)>,
    verify_media: &Blobs,
    faces: Option<&FaceVault>,
) -> Result<MigrateReport, StoreError> {
    if !sqlite.is_file() {
        return Err(StoreError::Conflict(format!("source database {} does not exist", sqlite.display())));
    }
    let mut src = rusqlite::Connection::open_with_flags(sqlite, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    src.busy_timeout(std::time::Duration::from_secs(30))?;
    let version: i64 = src.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version != crate::store::sqlite::MIGRATIONS.len() as i64 {
        return Err(StoreError::Conflict(format!(
            "source schema is version {version}; open it once with this server version (it upgrades itself), then migrate"
        )));
    }
    // One snapshot of the source for the whole copy.
    let snap = src.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
    let server_key: String =
        snap.query_row("SELECT value FROM meta WHERE key = 'server_key'", [], |r| r.get(0)).map_err(
            |_| StoreError::Conflict("the source has no server key: is it a sync-server database?".into()),
        )?;
    let server_key: PublicKey =
        server_key.parse().map_err(|e| StoreError::Corrupt(format!("server key in source: {e}")))?;

    let mut report = MigrateReport::default();
    pg.with_conn(|c| {
        c.batch("BEGIN")?;
        let out = (|| {
            c.exec("SELECT pg_advisory_xact_lock($1)::text", &[&WRITE_LOCK])?;
            check_target_not_ahead(&snap, c)?;
            for table in schema::TABLES {
                let (rows, written) = copy_table(&snap, c, table)?;
                report.tables.push((table.name.to_string(), rows, written));
            }
            // Rows added later continue after the copied ones (violations,
            // the audit and face-read logs, every serial key).
            for table in schema::TABLES {
                for col in table.columns.iter().filter(|c| c.ty == Type::Serial) {
                    let (t, c_) = (table.name, col.name);
                    c.batch(&format!(
                        "SELECT setval(pg_get_serial_sequence('{t}', '{c_}'), greatest((SELECT max({c_}) FROM {t}), 1))"
                    ))?;
                }
            }
            Ok(())
        })();
        match out {
            Ok(()) => c.batch("COMMIT"),
            Err(e) => {
                let _ = c.batch("ROLLBACK");
                Err(e)
            }
        }
    })?;
    drop(snap);
    if let Some((from, to)) = media {
        report.media_copied = copy_media(from, to)?;
    }
    report.verify = verify_store(&Store::Postgres(pg.clone()), verify_media, &server_key, faces)?;
    Ok(report)
}

fn check_target_not_ahead(src: &rusqlite::Transaction<'_>, c: &mut PgConn) -> Result<(), StoreError> {
    let src_size: i64 = src.query_row("SELECT size FROM log_head WHERE id = 0", [], |r| r.get(0))?;
    let dst_size: i64 = c.one("SELECT size FROM log_head WHERE id = 0", &[])?.get(0);
    if dst_size > src_size {
        return Err(StoreError::Conflict(format!(
            "the target's log holds {dst_size} records, the source's {src_size}: the target is already in service; refusing to overwrite it"
        )));
    }
    if dst_size > 0 {
        let at = dst_size - 1;
        let dst: Option<Vec<u8>> =
            c.opt("SELECT id FROM records WHERE log_index = $1", &[&at])?.map(|r| r.get(0));
        let src_id: Option<Vec<u8>> =
            src.query_row("SELECT id FROM records WHERE log_index = ?1", [at], |r| r.get(0)).ok();
        if dst != src_id {
            return Err(StoreError::Conflict(format!(
                "the target holds a different record at log position {at}: it is another deployment's history"
            )));
        }
    }
    Ok(())
}

fn copy_table(
    src: &rusqlite::Transaction<'_>,
    c: &mut PgConn,
    table: &Table,
) -> Result<(u64, u64), StoreError> {
    let name = table.name;
    let keys = table.copy_columns();
    let names: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let rest: Vec<String> =
        names.iter().filter(|n| !keys.contains(n)).map(|n| format!("{n} = EXCLUDED.{n}")).collect();
    let conflict = if table.on_copy == OnCopy::Update && !rest.is_empty() {
        format!("ON CONFLICT ({}) DO UPDATE SET {}", keys.join(", "), rest.join(", "))
    } else {
        format!("ON CONFLICT ({}) DO NOTHING", keys.join(", "))
    };
    let insert =
        format!("INSERT INTO {name} ({}) VALUES ({}) {conflict}", names.join(", "), placeholders.join(", "));
    let mut st = src.prepare(&format!("SELECT {} FROM {name}", names.join(", ")))?;
    let mut rows = st.query([])?;
    let (mut n, mut written) = (0u64, 0u64);
    while let Some(r) = rows.next()? {
        let mut values: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(names.len());
        for (i, col) in table.columns.iter().enumerate() {
            let v = r.get_ref(i)?;
            values.push(match (col.ty, v) {
                (Type::Int | Type::Serial, ValueRef::Integer(x)) => Box::new(x),
                (Type::Int | Type::Serial, ValueRef::Null) => Box::new(None::<i64>),
                (Type::Text, ValueRef::Text(t)) => Box::new(
                    std::str::from_utf8(t)
                        .map_err(|_| StoreError::Corrupt(format!("{name}.{}: text is not UTF-8", col.name)))?
                        .to_owned(),
                ),
                (Type::Text, ValueRef::Null) => Box::new(None::<String>),
                (Type::Bytes, ValueRef::Blob(b)) => Box::new(b.to_vec()),
                (Type::Bytes, ValueRef::Null) => Box::new(None::<Vec<u8>>),
                (_, other) => {
                    return Err(StoreError::Corrupt(format!(
                        "{name}.{}: value of type {:?} in a {:?} column",
                        col.name,
                        other.data_type(),
                        col.ty
                    )));
                }
            });
        }
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|b| b.as_ref()).collect();
        written += c.exec(&insert, &params)?;
        n += 1;
    }
    Ok((n, written))
}
