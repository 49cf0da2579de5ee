//! A PostgreSQL store copied into a new SQLite file, as one consistent
//! snapshot: the backup format is the same for both back ends (issue 20).
//!
//! * One `REPEATABLE READ READ ONLY` transaction reads every table of the
//!   one schema description ([`schema::TABLES`]), so the copy is the store
//!   as it stood at one instant while the servers keep writing.
//! * The file is first created by [`SqliteStore::open`] (the current schema,
//!   the same `user_version`), then filled table by table; the schema check
//!   proves both back ends hold each table column for column, which is what
//!   makes the copy lossless.
//! * Rows stream through (`for_each_row`): memory stays flat at any size.

use super::postgres::PgStore;
use super::schema::{self, Type};
use super::sqlite::SqliteStore;
use super::{Result, StoreError};
use rusqlite::types::Value;
use std::path::Path;

pub fn postgres_to_sqlite(pg: &PgStore, to: &Path) -> Result<u64> {
    if to.exists() {
        return Err(StoreError::Conflict(format!(
            "{} exists: a snapshot goes into a new file",
            to.display()
        )));
    }
    drop(SqliteStore::open(to)?);
    let mut dst = rusqlite::Connection::open(to)?;
    let out = dst.transaction()?;
    let mut copied = 0;
    pg.with_conn(|c| {
        c.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let result = (|| {
            for table in schema::TABLES {
                let names: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
                let marks = vec!["?"; names.len()].join(", ");
                let mut insert = out.prepare(&format!(
                    "INSERT OR REPLACE INTO {} ({}) VALUES ({marks})",
                    table.name,
                    names.join(", ")
                ))?;
                copied +=
                    c.for_each_row(&format!("SELECT {} FROM {}", names.join(", "), table.name), |row| {
                        let mut values = Vec::with_capacity(names.len());
                        for (i, col) in table.columns.iter().enumerate() {
                            let bad = |e: tokio_postgres::Error| {
                                StoreError::Corrupt(format!("{}.{}: {e}", table.name, col.name))
                            };
                            values.push(match col.ty {
                                Type::Int | Type::Serial => row
                                    .try_get::<_, Option<i64>>(i)
                                    .map_err(bad)?
                                    .map_or(Value::Null, Value::Integer),
                                Type::Text => row
                                    .try_get::<_, Option<String>>(i)
                                    .map_err(bad)?
                                    .map_or(Value::Null, Value::Text),
                                Type::Bytes => row
                                    .try_get::<_, Option<Vec<u8>>>(i)
                                    .map_err(bad)?
                                    .map_or(Value::Null, Value::Blob),
                            });
                        }
                        insert.execute(rusqlite::params_from_iter(values))?;
                        Ok(())
                    })?;
            }
            Ok(())
        })();
        let _ = c.batch("COMMIT");
        result
    })?;
    out.commit()?;
    Ok(copied)
}
