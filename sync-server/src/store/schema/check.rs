//! The schema check: read a real database's own catalogue (SQLite's
//! `pragma_*` tables, PostgreSQL's `information_schema` and `pg_index`) and
//! list every difference from the description — a table, column, type,
//! nullability, default, key, unique key, index, check or storage choice
//! that one back end has and the description does not say, or the reverse.
//! Run on new databases and on databases migrated from every earlier
//! version of each back end, it fails the tests when a migration or the
//! description drifts.

use super::{TABLES, Table, Type};
use crate::store::dialect::Dialect;
use crate::store::postgres::PgConn;
use std::collections::{BTreeMap, BTreeSet};

/// One table, in the terms both catalogues can be read in.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    /// (name, declared type, not null, default), in order.
    columns: Vec<(String, String, bool, Option<String>)>,
    primary_key: Vec<String>,
    unique: BTreeSet<Vec<String>>,
    indexes: BTreeMap<String, Vec<String>>,
    checks: BTreeSet<String>,
    without_rowid: bool,
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// What the description says `t` looks like on `d`.
fn expected(t: &Table, d: Dialect) -> Shape {
    let columns = t
        .columns
        .iter()
        .map(|c| {
            let key = t.primary_key.contains(&c.name);
            let serial_on_postgres = d == Dialect::Postgres && c.ty == Type::Serial;
            let ty = if serial_on_postgres { "BIGINT" } else { d.sql_type(c.ty) };
            // The quirk named in the dialect table: a one-column key of a
            // rowid table is not NOT NULL unless declared so.
            let sqlite_quirk = key && t.primary_key.len() == 1 && !t.without_rowid;
            let not_null = match d {
                Dialect::Sqlite => !c.nullable && !sqlite_quirk,
                Dialect::Postgres => !c.nullable || key,
            };
            let default = if serial_on_postgres {
                Some(format!("nextval('{}_{}_seq'::regclass)", t.name, c.name))
            } else {
                c.default.map(str::to_owned)
            };
            (c.name.to_owned(), ty.to_owned(), not_null, default)
        })
        .collect();
    Shape {
        columns,
        primary_key: strings(t.primary_key),
        unique: t.unique_keys(d).into_iter().map(strings).collect(),
        indexes: t.indexes.iter().map(|i| (i.name.to_owned(), strings(i.columns))).collect(),
        checks: t.checks.iter().map(|c| c.to_string()).collect(),
        without_rowid: d == Dialect::Sqlite && t.without_rowid,
    }
}

/// Every difference between `actual` and the description on `d`.
fn differences(mut actual: BTreeMap<String, Shape>, d: Dialect) -> Vec<String> {
    let mut out = Vec::new();
    for t in TABLES {
        match actual.remove(t.name) {
            None => out.push(format!("{d:?}: table {} is missing", t.name)),
            Some(shape) => {
                let want = expected(t, d);
                if shape != want {
                    out.push(format!(
                        "{d:?}: table {}\n  is:        {shape:?}\n  described: {want:?}",
                        t.name
                    ));
                }
            }
        }
    }
    out.extend(actual.keys().map(|name| format!("{d:?}: table {name} is not in the description")));
    out
}

/// The differences between a SQLite database and the description.
pub(in crate::store) fn sqlite(c: &rusqlite::Connection) -> Vec<String> {
    differences(sqlite_tables(c).expect("read the SQLite catalogue"), Dialect::Sqlite)
}

fn sqlite_tables(c: &rusqlite::Connection) -> rusqlite::Result<BTreeMap<String, Shape>> {
    let tables: Vec<(String, String, bool)> = c
        .prepare(
            "SELECT m.name, m.sql, l.wr FROM sqlite_master m JOIN pragma_table_list l ON l.name = m.name \
             WHERE l.schema = 'main' AND m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = BTreeMap::new();
    for (name, sql, without_rowid) in tables {
        let mut primary_key: Vec<(i64, String)> = Vec::new();
        type Col = (String, String, bool, Option<String>);
        let columns = c
            .prepare(
                "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid",
            )?
            .query_map([&name], |r| Ok(((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?), r.get::<_, i64>(4)?)))?
            .collect::<rusqlite::Result<Vec<(Col, i64)>>>()?
            .into_iter()
            .map(|(col, pk)| {
                if pk > 0 {
                    primary_key.push((pk, col.0.clone()));
                }
                col
            })
            .collect();
        primary_key.sort();
        let (mut unique, mut indexes) = (BTreeSet::new(), BTreeMap::new());
        let listed: Vec<(String, String)> = c
            .prepare("SELECT name, origin FROM pragma_index_list(?1)")?
            .query_map([&name], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (index, origin) in listed {
            let cols: Vec<String> = c
                .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?
                .query_map([&index], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            match origin.as_str() {
                "u" => {
                    unique.insert(cols);
                }
                "c" => {
                    indexes.insert(index, cols);
                }
                _ => {} // the primary key's own index
            }
        }
        let shape = Shape {
            columns,
            primary_key: primary_key.into_iter().map(|p| p.1).collect(),
            unique,
            indexes,
            checks: sqlite_checks(&sql),
            without_rowid,
        };
        out.insert(name, shape);
    }
    Ok(out)
}

/// The `CHECK (…)` expressions of a table's `CREATE TABLE` text (SQLite
/// keeps no other record of them).
fn sqlite_checks(sql: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = sql;
    while let Some(at) = rest.find("CHECK (") {
        let body = &rest[at + "CHECK (".len()..];
        let mut depth = 1;
        let end = body
            .char_indices()
            .find(|&(_, ch)| {
                depth += match ch {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map_or(body.len(), |(i, _)| i);
        out.insert(body[..end].to_owned());
        rest = &body[end..];
    }
    out
}

/// The differences between the PostgreSQL database `c` is connected to and
/// the description (the `schema_version` bookkeeping table aside).
pub(in crate::store) fn postgres(c: &mut PgConn) -> Vec<String> {
    differences(postgres_tables(c).expect("read the PostgreSQL catalogue"), Dialect::Postgres)
}

fn postgres_tables(c: &mut PgConn) -> crate::store::Result<BTreeMap<String, Shape>> {
    let names: Vec<String> = c
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_type = 'BASE TABLE' AND table_name <> 'schema_version'",
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = BTreeMap::new();
    for name in names {
        let columns: Vec<(String, String, bool, Option<String>)> = c
            .query(
                "SELECT column_name::text, upper(data_type::text), is_nullable = 'NO', column_default::text \
                 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name::text = $1 \
                 ORDER BY ordinal_position",
                &[&name],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
        let (mut primary_key, mut unique, mut indexes) = (Vec::new(), BTreeSet::new(), BTreeMap::new());
        let listed = c.query(
            "SELECT i.relname::text, x.indisprimary, \
               EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype = 'u'), \
               ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n) \
                     JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n) \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
             WHERE t.relname::text = $1 AND t.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
            &[&name],
        )?;
        for r in listed {
            let (index, primary, constraint, cols): (String, bool, bool, Vec<String>) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            if primary {
                primary_key = cols;
            } else if constraint {
                unique.insert(cols);
            } else {
                indexes.insert(index, cols);
            }
        }
        let checks = c
            .query(
                "SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid \
                 WHERE k.contype = 'c' AND t.relname::text = $1 AND t.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
                &[&name],
            )?
            .iter()
            .map(|r| {
                // "CHECK ((id = 0))" → "id = 0": PostgreSQL wraps the expression once more.
                let def: String = r.get(0);
                let inner = def.strip_prefix("CHECK (").and_then(|d| d.strip_suffix(')')).unwrap_or(&def);
                inner.strip_prefix('(').and_then(|d| d.strip_suffix(')')).unwrap_or(inner).to_owned()
            })
            .collect();
        out.insert(name, Shape { columns, primary_key, unique, indexes, checks, without_rowid: false });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::store::postgres::PgStore;
    use crate::store::sqlite::SqliteStore;
    use crate::testing::services;

    #[test]
    fn a_new_sqlite_database_is_the_description_and_drift_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.sqlite");
        SqliteStore::open(&path).unwrap();
        let c = rusqlite::Connection::open(&path).unwrap();
        assert_eq!(super::sqlite(&c), Vec::<String>::new());
        c.execute_batch("CREATE INDEX meta_value ON meta(value)").unwrap();
        let drift = super::sqlite(&c);
        assert!(drift.len() == 1 && drift[0].contains("table meta"), "{drift:#?}");
    }

    #[test]
    fn a_new_postgres_database_is_the_description_and_drift_is_caught() {
        let url = services::fresh_database();
        let store = PgStore::open(&url, None, services::database_ca().as_deref()).unwrap();
        assert_eq!(store.with_conn(|c| Ok(super::postgres(c))).unwrap(), Vec::<String>::new());
        services::sql_on(&url, "ALTER TABLE meta ADD COLUMN note TEXT");
        let drift = store.with_conn(|c| Ok(super::postgres(c))).unwrap();
        assert!(drift.len() == 1 && drift[0].contains("table meta"), "{drift:#?}");
    }

    /// Shipped migrations are history: databases ran them as they were, and
    /// the tests make old databases from them. A failure here means one was
    /// edited; append a new migration instead, and pin it here.
    #[test]
    fn shipped_migrations_are_as_they_shipped() {
        use crate::store::dialect::Dialect;
        use crate::store::schema::Migration;
        use crate::store::{postgres, sqlite};
        let text = |m: &'static Migration, d: Dialect| -> String {
            m.sql(d).unwrap_or_else(|| panic!("version 1 is the fixture")).into_owned()
        };
        let shipped = [
            (
                "SQLite v1",
                include_str!("../../../tests/fixtures/schema-v1/sqlite.sql").to_owned(),
                "98d4331c3d623edf",
            ),
            ("SQLite v2", text(&sqlite::MIGRATIONS[1], Dialect::Sqlite), "7c0aff95bda7ff2d"),
            ("SQLite v3", text(&sqlite::MIGRATIONS[2], Dialect::Sqlite), "06fe6d94147d3f13"),
            ("SQLite v4", text(&sqlite::MIGRATIONS[3], Dialect::Sqlite), "a1363aabd7344a73"),
            ("SQLite v5", text(&sqlite::MIGRATIONS[4], Dialect::Sqlite), "e698c09897fcc7af"),
            ("SQLite v6", text(&sqlite::MIGRATIONS[5], Dialect::Sqlite), "a2a07a5a9bd75997"),
            ("SQLite v7", text(&sqlite::MIGRATIONS[6], Dialect::Sqlite), "cd36a7ed45feaf9c"),
            ("SQLite v8", text(&sqlite::MIGRATIONS[7], Dialect::Sqlite), "8286a6c86da018ef"),
            ("SQLite v9", text(&sqlite::MIGRATIONS[8], Dialect::Sqlite), "c05a1b901c5a1346"),
            ("SQLite v10", text(&sqlite::MIGRATIONS[9], Dialect::Sqlite), "d0ad9ed31fb20409"),
            (
                "PostgreSQL v1",
                include_str!("../../../tests/fixtures/schema-v1/postgres.sql").to_owned(),
                "f1ed7ea985b41a40",
            ),
            ("PostgreSQL v2", text(&postgres::MIGRATIONS[1], Dialect::Postgres), "06fe6d94147d3f13"),
            ("PostgreSQL v3", text(&postgres::MIGRATIONS[2], Dialect::Postgres), "2550e6cbced23300"),
            ("PostgreSQL v4", text(&postgres::MIGRATIONS[3], Dialect::Postgres), "fb767ff0bc200648"),
            ("PostgreSQL v5", text(&postgres::MIGRATIONS[4], Dialect::Postgres), "bc9b6ddabc3837ab"),
            ("PostgreSQL v6", text(&postgres::MIGRATIONS[5], Dialect::Postgres), "64185a0e31147212"),
            ("PostgreSQL v7", text(&postgres::MIGRATIONS[6], Dialect::Postgres), "195c9695d87a02ed"),
            ("PostgreSQL v8", text(&postgres::MIGRATIONS[7], Dialect::Postgres), "13cc2887240beca1"),
            ("PostgreSQL v9", text(&postgres::MIGRATIONS[8], Dialect::Postgres), "0e74133f5d664071"),
        ];
        for (name, sql, sha256) in shipped {
            let h = hex::encode(custody_core::Hash::of(sql.as_bytes()).as_bytes());
            assert!(h.starts_with(sha256), "{name} is not as it shipped ({})", &h[..16]);
        }
        assert_eq!(
            (sqlite::MIGRATIONS.len(), postgres::MIGRATIONS.len()),
            (10, 9),
            "pin the new migration here"
        );
    }

    #[test]
    fn checks_are_read_from_the_create_table_text() {
        let sql =
            "CREATE TABLE h(id INTEGER PRIMARY KEY CHECK (id = 0), n INTEGER NOT NULL, CHECK (n >= (0)))";
        let checks: Vec<String> = super::sqlite_checks(sql).into_iter().collect();
        assert_eq!(checks, ["id = 0", "n >= (0)"]);
    }
}
