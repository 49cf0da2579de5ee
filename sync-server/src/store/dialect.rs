//! Where SQLite and PostgreSQL differ, named in one place. Everything else —
//! every statement of [`Tx`](super::Tx) but the few below, and the schema —
//! is written once ([`super::tx`], [`super::schema`]).
//!
//! | difference | SQLite | PostgreSQL | where |
//! |---|---|---|---|
//! | column types | `INTEGER`, `BLOB`, `TEXT` | `BIGINT`, `BYTEA`, `TEXT` | [`Dialect::sql_type`] |
//! | a row number the database assigns | `INTEGER PRIMARY KEY` (the rowid) | `BIGSERIAL` | [`Dialect::sql_type`] |
//! | clustered tables | `WITHOUT ROWID` | (no equivalent) | [`Table::without_rowid`](super::schema::Table) |
//! | keys only PostgreSQL has | — | unique keys on the tables without a primary key, so a re-run `admin migrate` cannot copy a row twice | [`Table::copy_key`](super::schema::Table) |
//! | a single-column primary key of an ordinary table | takes NULL unless declared `NOT NULL` (SQLite's compatibility quirk; every write here gives it a value) | never NULL | the schema check |
//! | `$1` parameters | a parameter *named* `$1`, bound by name | native | [`super::sqlite`] |
//! | a list as one argument | a JSON array, read with `json_each` | a `text[]`, matched with `= ANY` | [`Dialect::FEED`], [`Dialect::RECORDS_OF_PROJECTS`], [`Dialect::VIOLATIONS_OF_PROJECTS`] |
//! | serialising writers | `BEGIN IMMEDIATE` on the one writer connection | a transaction-scoped advisory lock ([`WRITE_LOCK`](super::postgres::WRITE_LOCK)), then READ COMMITTED | each store's `write` |
//! | locking the head rows | nothing to add: the database is locked | `FOR UPDATE` | [`Dialect::LOCK_LOG_HEAD`], [`Dialect::LOCK_CHANGE_HEAD`] |
//! | read snapshots | a deferred transaction on one of a few reader connections (WAL) | `REPEATABLE READ READ ONLY`, on a read replica if one is configured | each store's `read` |
//! | writes nobody reads back | executed at once (in-process) | queued, sent in one pipelined round trip | [`Conn::exec_later`](super::sql::Conn::exec_later) |
//! | committed log nodes | read again (the page cache holds them) | remembered by every later transaction (each read is a round trip) | [`NodeCache`](super::tx::NodeCache) |
//! | the schema version | `PRAGMA user_version` | a `schema_version` table, migrated under an advisory lock | each store's `migrate` |
//!
//! What both share, though it is not in every SQL dialect: `INSERT … ON
//! CONFLICT … DO NOTHING / DO UPDATE` (SQLite ≥ 3.24), `UPDATE … RETURNING`
//! (SQLite ≥ 3.35; rusqlite bundles a newer one), `CAST(x AS TEXT)`.

use super::schema::Type;
use super::sql::select_records;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A statement that has to be said differently to each database.
pub(super) struct PerDialect {
    sqlite: &'static str,
    postgres: &'static str,
}

impl PerDialect {
    pub(super) fn get(&self, d: Dialect) -> &'static str {
        match d {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
        }
    }
}

impl Dialect {
    /// The type a column of this logical type is declared with.
    pub fn sql_type(self, t: Type) -> &'static str {
        match (self, t) {
            (Dialect::Sqlite, Type::Int) => "INTEGER",
            (Dialect::Postgres, Type::Int) => "BIGINT",
            (_, Type::Text) => "TEXT",
            (Dialect::Sqlite, Type::Bytes) => "BLOB",
            (Dialect::Postgres, Type::Bytes) => "BYTEA",
            // As the primary key: SQLite's rowid, PostgreSQL's sequence.
            (Dialect::Sqlite, Type::Serial) => "INTEGER",
            (Dialect::Postgres, Type::Serial) => "BIGSERIAL",
        }
    }

    /// Records for any of a list of audiences (`$3`), changed after `$1`.
    /// PostgreSQL takes the list as one `text[]` (the statement text stays
    /// the same for any number of audiences); SQLite has no arrays, so it
    /// takes a JSON array and reads it with `json_each`.
    pub(super) const FEED: PerDialect = PerDialect {
        sqlite: select_records!(
            "WHERE change_seq > $1 AND log_index IN (SELECT log_index FROM record_audience \
             WHERE audience IN (SELECT value FROM json_each($3))) ORDER BY change_seq LIMIT $2"
        ),
        postgres: select_records!(
            "WHERE change_seq > $1 AND log_index IN (SELECT log_index FROM record_audience \
             WHERE audience = ANY($3)) ORDER BY change_seq LIMIT $2"
        ),
    };

    /// The console's records of a list of projects, newest first (as
    /// [`Dialect::FEED`], the list is one argument).
    pub(super) const RECORDS_OF_PROJECTS: PerDialect = PerDialect {
        sqlite: select_records!(
            "WHERE project IN (SELECT value FROM json_each($1)) \
             AND log_index < CAST($2 AS BIGINT) \
             AND (CAST($3 AS TEXT) IS NULL OR kind = CAST($3 AS TEXT)) ORDER BY log_index DESC LIMIT $4"
        ),
        postgres: select_records!(
            "WHERE project = ANY($1) \
             AND log_index < CAST($2 AS BIGINT) \
             AND (CAST($3 AS TEXT) IS NULL OR kind = CAST($3 AS TEXT)) ORDER BY log_index DESC LIMIT $4"
        ),
    };

    /// The violations of a list of projects, newest first.
    pub(super) const VIOLATIONS_OF_PROJECTS: PerDialect = PerDialect {
        sqlite: "SELECT v.id, v.record, v.finding FROM violations v WHERE v.project IN (SELECT value FROM json_each($1)) \
                 AND v.id < CAST($2 AS BIGINT) ORDER BY v.id DESC LIMIT $3",
        postgres: "SELECT v.id, v.record, v.finding FROM violations v WHERE v.project = ANY($1) \
                   AND v.id < CAST($2 AS BIGINT) ORDER BY v.id DESC LIMIT $3",
    };

    /// The log size, for the writer about to append. SQLite's write
    /// transaction (`BEGIN IMMEDIATE`) has locked the database already.
    pub(super) const LOCK_LOG_HEAD: PerDialect = PerDialect {
        sqlite: "SELECT size FROM log_head WHERE id = 0",
        postgres: "SELECT size FROM log_head WHERE id = 0 FOR UPDATE",
    };

    /// The change sequence, for the writer about to bump it.
    pub(super) const LOCK_CHANGE_HEAD: PerDialect = PerDialect {
        sqlite: "SELECT seq FROM change_head WHERE id = 0",
        postgres: "SELECT seq FROM change_head WHERE id = 0 FOR UPDATE",
    };
}
