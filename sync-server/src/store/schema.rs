//! The one description of the store's tables, for both back ends.
//!
//! * A new database is created from it: [`create_all`] renders each back
//!   end's DDL (types and the few other differences from [`Dialect`]).
//! * A database an earlier server made is brought up to date by the
//!   migrations appended since its version ([`Migration`]; never edit one
//!   that has shipped). They must arrive exactly where the description is:
//!   the schema check (`schema/check.rs`, run by the tests on a real SQLite
//!   file and a real PostgreSQL database, new and migrated from every earlier
//!   version) reads each database's catalogue and fails on any difference.
//! * `admin migrate` copies table by table from it ([`TABLES`]).

use super::dialect::Dialect;
use super::{Result, StoreError};

#[cfg(test)]
pub(super) mod check;

/// What a column holds, whatever the database calls it ([`Dialect::sql_type`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Int,
    Text,
    Bytes,
    /// A row number the database assigns on insert (the primary key).
    Serial,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: Type,
    pub nullable: bool,
    /// SQL text of the default value, if the column has one.
    pub default: Option<&'static str>,
}

const fn column(name: &'static str, ty: Type) -> Column {
    Column { name, ty, nullable: false, default: None }
}
const fn int(name: &'static str) -> Column {
    column(name, Type::Int)
}
const fn text(name: &'static str) -> Column {
    column(name, Type::Text)
}
const fn bytes(name: &'static str) -> Column {
    column(name, Type::Bytes)
}

impl Column {
    const fn or_null(self) -> Column {
        Column { nullable: true, ..self }
    }
    const fn default(self, sql: &'static str) -> Column {
        Column { default: Some(sql), ..self }
    }
}

#[derive(Debug)]
pub struct Index {
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

/// What `admin migrate` does with a row the target already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCopy {
    /// Overwrite it: the source is the authority until cut-over.
    Update,
    /// Leave it: rows of this table are written once.
    Keep,
}

#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    pub primary_key: &'static [&'static str],
    pub unique: &'static [&'static [&'static str]],
    /// `CHECK` constraints, as SQL.
    pub checks: &'static [&'static str],
    pub indexes: &'static [Index],
    /// A table without a primary key: the columns that identify a row when
    /// `admin migrate` copies it. A unique key on PostgreSQL only, so a
    /// re-run copy cannot insert a row twice; SQLite files made before it
    /// existed may hold repeated rows, so SQLite has no such key.
    pub copy_key: &'static [&'static str],
    /// Stored by SQLite as a clustered index on the primary key.
    pub without_rowid: bool,
    pub on_copy: OnCopy,
    /// Rows a new database starts with (`VALUES` tuples).
    pub initial_rows: &'static [&'static str],
}

impl Table {
    /// The columns that identify a row when it is copied.
    pub fn copy_columns(&self) -> &'static [&'static str] {
        if self.primary_key.is_empty() { self.copy_key } else { self.primary_key }
    }

    /// The unique keys this table has on `d`.
    pub fn unique_keys(&self, d: Dialect) -> Vec<&'static [&'static str]> {
        let mut keys = self.unique.to_vec();
        if d == Dialect::Postgres && !self.copy_key.is_empty() {
            keys.push(self.copy_key);
        }
        keys
    }

    /// Whether the key is declared on the column itself. SQLite then takes
    /// the rowid for an `INTEGER` key, and the historical `NOT NULL`-less
    /// spelling is kept (see the dialect table).
    fn column_key(&self) -> Option<&'static str> {
        match self.primary_key {
            [one] => Some(one),
            _ => None,
        }
    }

    fn create(&self, d: Dialect) -> String {
        let mut parts: Vec<String> = Vec::new();
        for c in self.columns {
            let mut s = format!("{} {}", c.name, d.sql_type(c.ty));
            if self.column_key() == Some(c.name) {
                s.push_str(" PRIMARY KEY");
            } else if !c.nullable {
                s.push_str(" NOT NULL");
            }
            if let Some(v) = c.default {
                s.push_str(" DEFAULT ");
                s.push_str(v);
            }
            parts.push(s);
        }
        if self.column_key().is_none() && !self.primary_key.is_empty() {
            parts.push(format!("PRIMARY KEY({})", self.primary_key.join(", ")));
        }
        for key in self.unique_keys(d) {
            parts.push(format!("UNIQUE({})", key.join(", ")));
        }
        for c in self.checks {
            parts.push(format!("CHECK ({c})"));
        }
        let clustered = if d == Dialect::Sqlite && self.without_rowid { " WITHOUT ROWID" } else { "" };
        let mut sql = format!("CREATE TABLE {}({}){clustered};\n", self.name, parts.join(", "));
        for i in self.indexes {
            sql.push_str(&format!("CREATE INDEX {} ON {}({});\n", i.name, self.name, i.columns.join(", ")));
        }
        for v in self.initial_rows {
            sql.push_str(&format!("INSERT INTO {} VALUES {v};\n", self.name));
        }
        sql
    }
}

/// The DDL of a new database at the latest version, for `d`.
pub fn create_all(d: Dialect) -> String {
    TABLES.iter().map(|t| t.create(d)).collect()
}

/// One step of a back end's schema history.
#[derive(Debug)]
pub enum Migration {
    /// Version 1, the first schema the back end shipped. A database at
    /// version 0 (a new one) is created from the description at the latest
    /// version instead of replaying history; the DDL version 1 shipped with
    /// is kept under `sync-server/tests/fixtures/schema-v1/`, where the
    /// tests make databases as the first servers left them.
    First,
    /// SQL that takes a database from the previous version to this one.
    Sql(&'static str),
    /// New tables, created from this description (each back end's DDL),
    /// then SQL (dialect-neutral: indexes on existing tables). A table
    /// created this way must not change shape later without freezing its
    /// DDL here first: an old database replays this step.
    Create { tables: &'static [&'static str], then: &'static str },
}

impl Migration {
    /// This step's SQL on `d`.
    pub fn sql(&self, d: Dialect) -> Option<std::borrow::Cow<'static, str>> {
        match self {
            Migration::First => None,
            Migration::Sql(sql) => Some((*sql).into()),
            Migration::Create { tables, then } => {
                let mut out: String =
                    TABLES.iter().filter(|t| tables.contains(&t.name)).map(|t| t.create(d)).collect();
                out.push_str(then);
                Some(out.into())
            }
        }
    }
}

/// What brings a database at `version` up to date: `(version after, SQL)`.
pub(super) fn pending(
    history: &'static [Migration],
    version: i64,
    d: Dialect,
) -> Result<Vec<(i64, std::borrow::Cow<'static, str>)>> {
    let latest = history.len() as i64;
    if version > latest {
        return Err(StoreError::SchemaTooNew { found: version, supported: latest });
    }
    if version <= 0 {
        return Ok(vec![(latest, create_all(d).into())]);
    }
    history
        .iter()
        .zip(1..)
        .skip(version as usize)
        .map(|(m, v)| {
            m.sql(d)
                .map(|sql| (v, sql))
                .ok_or_else(|| StoreError::Corrupt(format!("migration {v} is not an upgrade")))
        })
        .collect()
}

/// The first migration written once for both back ends (SQLite version 3,
/// PostgreSQL version 2). The two hand-kept schemas had drifted: SQLite
/// indexed tag batches by batch key, PostgreSQL by project. Both now index
/// both (`batches` looks a batch up by key, `batches_of` by project).
pub const TAG_BATCH_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS tag_batches_key ON tag_batches(supplier, year, batch);
CREATE INDEX IF NOT EXISTS tag_batches_project ON tag_batches(project);
";

/// The web console (issue 13): accounts, sessions, sign-in challenges for
/// the field app's QR, and the append-only audit log; and two indexes its
/// reads need (a project's records newest first, a device's equivocations).
/// SQLite version 4, PostgreSQL version 3.
pub const CONSOLE: Migration = Migration::Create {
    tables: &["console_accounts", "console_sessions", "console_logins", "audit_log"],
    then: "
CREATE INDEX IF NOT EXISTS records_project_log ON records(project, log_index);
CREATE INDEX IF NOT EXISTS equivocations_device ON equivocations(device);
",
};

/// Oversight (issue 16): samplings watched for their witnessing (R8) and
/// the tallies the early warnings read (R17), spot-check draws (R20), and
/// an index to find specimens left at a stage. SQLite version 5, PostgreSQL
/// version 4.
pub const OVERSIGHT: Migration = Migration::Create {
    tables: &["witness_watch", "oversight_tally", "spot_check_draws"],
    then: "CREATE INDEX tags_stage ON tags(stage, updated_ms);\n",
};

/// The issued report PDFs (R13): each report's PDF as the system first
/// rendered it, kept in the media store, so its SHA-256 never changes.
/// SQLite version 6, PostgreSQL version 5.
pub const ISSUED_REPORTS: Migration = Migration::Create { tables: &["issued_reports"], then: "" };
/// The lab registry (issue 14, R3): approved registries (projections of
/// `LabRegistryUpdated` records) and labs' change requests with the
/// operator's decisions. SQLite version 7, PostgreSQL version 6.
pub const LAB_REGISTRY: Migration =
    Migration::Create { tables: &["lab_registry_versions", "lab_registry_requests"], then: "" };

/// Plans before work starts (issue 15, R2, R4, R5, R15, R19): the
/// accepted plan records in log order, suppliers' filed guide prices, and
/// each accepted sampling's plan item (progress against plan, A4.1).
/// SQLite version 8, PostgreSQL version 7.
pub const PLANS: Migration =
    Migration::Create { tables: &["plan_records", "tag_guide_prices", "plan_samplings"], then: "" };

/// Face photos encrypted at rest and every read of one logged (issue 18,
/// PIPL): each sealed photo's wrapped data key, and the append-only
/// face-read log. SQLite version 9, PostgreSQL version 8.
pub const FACES: Migration = Migration::Create { tables: &["face_keys", "face_reads"], then: "" };

/// The server's own face re-checks (issue 19, R1, R7): one per record,
/// written once. SQLite version 10, PostgreSQL version 9.
pub const FACE_RECHECKS: Migration = Migration::Create { tables: &["face_rechecks"], then: "" };

const TABLE: Table = Table {
    name: "",
    columns: &[],
    primary_key: &[],
    unique: &[],
    checks: &[],
    indexes: &[],
    copy_key: &[],
    without_rowid: false,
    on_copy: OnCopy::Update,
    initial_rows: &[],
};

/// A table whose rows are found by `primary_key` and may change.
const fn keyed(
    name: &'static str,
    columns: &'static [Column],
    primary_key: &'static [&'static str],
) -> Table {
    Table { name, columns, primary_key, ..TABLE }
}

/// An index of records or of the log: written once, read by its primary
/// key, which SQLite keeps clustered.
const fn clustered(
    name: &'static str,
    columns: &'static [Column],
    primary_key: &'static [&'static str],
) -> Table {
    Table { name, columns, primary_key, without_rowid: true, on_copy: OnCopy::Keep, ..TABLE }
}

/// Written once, without a primary key (rows are told apart by `copy_key`).
const fn unkeyed(name: &'static str, columns: &'static [Column], copy_key: &'static [&'static str]) -> Table {
    Table { name, columns, copy_key, on_copy: OnCopy::Keep, ..TABLE }
}

/// A head row: one row, id 0, holding the next position of a sequence.
const fn head(name: &'static str, columns: &'static [Column]) -> Table {
    Table { checks: &["id = 0"], initial_rows: &["(0, 0)"], ..keyed(name, columns, &["id"]) }
}

/// Every table, in the order `admin migrate` copies them: the directory,
/// then records and what hangs off them, then the log.
pub const TABLES: &[Table] = &[
    keyed("meta", &[text("key"), text("value")], &["key"]),
    keyed("orgs", &[text("id"), text("role"), text("json")], &["id"]),
    keyed("persons", &[text("id"), text("org"), text("json")], &["id"]),
    keyed("projects", &[text("id"), text("jurisdiction"), text("json")], &["id"]),
    keyed("unit_projects", &[text("id"), text("project"), text("json")], &["id"]),
    keyed(
        "devices",
        &[bytes("key"), text("person"), text("label"), int("enrolled_ms"), int("revoked_ms").or_null()],
        &["key"],
    ),
    Table {
        indexes: &[
            Index { name: "grants_person", columns: &["person"] },
            Index { name: "grants_project", columns: &["project"] },
        ],
        ..keyed(
            "grants",
            &[
                text("grant_id"),
                text("person"),
                text("org"),
                text("project").or_null(),
                text("role"),
                bytes("letter"),
                bytes("face_reference").or_null(),
                int("valid_from_ms"),
                int("valid_until_ms").or_null(),
                int("revoked_ms").or_null(),
            ],
            &["grant_id"],
        )
    },
    Table {
        indexes: &[
            Index { name: "tag_batches_key", columns: &["supplier", "year", "batch"] },
            Index { name: "tag_batches_project", columns: &["project"] },
        ],
        ..unkeyed(
            "tag_batches",
            &[int("supplier"), int("year"), int("batch"), text("project"), text("json"), bytes("record")],
            &["supplier", "year", "batch", "record"],
        )
    },
    unkeyed(
        "lab_assignments",
        &[text("project"), text("unit_project"), text("lab"), text("json")],
        &["project", "unit_project", "lab", "json"],
    ),
    keyed(
        "enrollment_codes",
        &[
            bytes("code_hash"),
            text("person"),
            int("created_ms"),
            int("expires_ms"),
            int("used_ms").or_null(),
            bytes("device").or_null(),
        ],
        &["code_hash"],
    ),
    keyed("admin_tokens", &[bytes("hash"), text("label"), int("created_ms")], &["hash"]),
    Table {
        unique: &[&["log_index"], &["device", "seq"]],
        indexes: &[
            Index { name: "records_status", columns: &["status"] },
            Index { name: "records_change", columns: &["change_seq"] },
            Index { name: "records_project_log", columns: &["project", "log_index"] },
        ],
        ..keyed(
            "records",
            &[
                bytes("id"),
                int("log_index"),
                bytes("device"),
                int("seq"),
                text("kind"),
                text("author"),
                text("project").or_null(),
                bytes("envelope"),
                int("first_seen_ms"),
                text("status"),
                text("verdict"),
                int("earliest_ms").or_null(),
                int("latest_ms").or_null(),
                int("change_seq").default("0"),
            ],
            &["id"],
        )
    },
    clustered("record_tags", &[text("tag"), bytes("record")], &["tag", "record"]),
    clustered("record_refs", &[bytes("referenced"), bytes("record")], &["referenced", "record"]),
    Table {
        indexes: &[Index { name: "record_media_sha", columns: &["sha256"] }],
        ..keyed(
            "record_media",
            &[
                bytes("record"),
                bytes("sha256"),
                int("size"),
                text("media_type"),
                text("purpose"),
                int("captured_mono_ms").or_null(),
            ],
            &["record", "sha256", "purpose"],
        )
    },
    clustered("record_audience", &[text("audience"), int("log_index")], &["audience", "log_index"]),
    Table {
        indexes: &[Index { name: "equivocations_device", columns: &["device"] }],
        ..unkeyed(
            "equivocations",
            &[bytes("device"), int("seq"), bytes("existing"), bytes("offered"), int("received_ms")],
            &["device", "seq", "existing", "received_ms"],
        )
    },
    keyed("chains", &[bytes("device"), int("seq"), bytes("id"), int("earliest_ms").or_null()], &["device"]),
    Table {
        indexes: &[Index { name: "anchors_device", columns: &["device", "tail_seq"] }],
        ..unkeyed(
            "anchors",
            &[
                bytes("device"),
                int("server_ms"),
                text("boot_id"),
                int("device_mono_ms"),
                int("tail_seq").or_null(),
                bytes("tail_id").or_null(),
            ],
            &["device", "server_ms", "boot_id", "device_mono_ms"],
        )
    },
    Table {
        // Oversight finds specimens left at a stage (issue 16).
        indexes: &[Index { name: "tags_stage", columns: &["stage", "updated_ms"] }],
        ..keyed(
            "tags",
            &[text("code"), text("project").or_null(), text("stage"), text("state"), int("updated_ms")],
            &["code"],
        )
    },
    keyed(
        "media",
        &[
            bytes("sha256"),
            int("size"),
            text("media_type"),
            int("received"),
            int("complete"),
            int("updated_ms"),
        ],
        &["sha256"],
    ),
    Table {
        indexes: &[Index { name: "violations_created", columns: &["created_ms"] }],
        on_copy: OnCopy::Keep,
        ..keyed(
            "violations",
            &[
                column("id", Type::Serial),
                bytes("record"),
                text("project").or_null(),
                text("finding"),
                int("created_ms"),
            ],
            &["id"],
        )
    },
    keyed("nonces", &[bytes("device"), text("nonce"), int("expires_ms")], &["device", "nonce"]),
    clustered("log_nodes", &[int("level"), int("idx"), bytes("hash")], &["level", "idx"]),
    Table { on_copy: OnCopy::Keep, ..keyed("checkpoints", &[int("size"), text("json")], &["size"]) },
    head("log_head", &[int("id"), int("size")]),
    head("change_head", &[int("id"), int("seq")]),
    // --- oversight (issue 16) ---
    Table {
        indexes: &[
            Index { name: "witness_watch_due", columns: &["state", "latest_ms"] },
            Index { name: "witness_watch_project", columns: &["project", "state"] },
        ],
        ..keyed(
            "witness_watch",
            &[
                bytes("sampling"),
                text("project"),
                text("sampler"),
                int("latest_ms").or_null(),
                text("state"),
                bytes("witnessing").or_null(),
                text("witness").or_null(),
                text("detail"),
                int("updated_ms"),
            ],
            &["sampling"],
        )
    },
    keyed(
        "spot_check_draws",
        &[
            text("id"),
            text("scope").or_null(),
            text("created_by"),
            text("spec"),
            bytes("spec_sha256"),
            int("announced_ms"),
            int("log_size"),
            bytes("beacon").or_null(),
            text("result").or_null(),
            int("drawn_ms").or_null(),
        ],
        &["id"],
    ),
    keyed(
        "oversight_tally",
        &[text("project"), text("key"), int("n"), int("odd").default("0")],
        &["project", "key"],
    ),
    // --- issued report PDFs (R13) ---
    Table {
        on_copy: OnCopy::Keep,
        ..keyed(
            "issued_reports",
            &[bytes("report"), bytes("pdf_sha256"), int("pdf_size"), int("issued_ms")],
            &["report"],
        )
    },
    // --- the server's face re-checks (issue 19) ---
    Table {
        on_copy: OnCopy::Keep,
        ..keyed(
            "face_rechecks",
            &[bytes("record"), bytes("photo"), bytes("reference"), int("checked_ms"), text("json")],
            &["record"],
        )
    },
    // --- plans before work starts (issue 15) ---
    Table {
        indexes: &[Index { name: "plan_records_project", columns: &["project", "seq"] }],
        on_copy: OnCopy::Keep,
        ..keyed(
            "plan_records",
            &[
                column("seq", Type::Serial),
                text("project"),
                bytes("record"),
                text("kind"),
                text("author"),
                int("at_ms"),
                text("json"),
            ],
            &["seq"],
        )
    },
    Table {
        indexes: &[Index { name: "tag_guide_prices_supplier", columns: &["supplier", "seq"] }],
        on_copy: OnCopy::Keep,
        ..keyed(
            "tag_guide_prices",
            &[column("seq", Type::Serial), text("supplier"), bytes("record"), int("at_ms"), text("json")],
            &["seq"],
        )
    },
    Table {
        indexes: &[Index {
            name: "plan_samplings_project",
            columns: &["project", "unit_project", "plan_item"],
        }],
        on_copy: OnCopy::Keep,
        ..keyed(
            "plan_samplings",
            &[
                text("tag"),
                text("project"),
                text("unit_project"),
                text("plan_item").or_null(),
                text("kind"),
                int("sampled_ms"),
            ],
            &["tag"],
        )
    },
    // --- the lab registry (issue 14) ---
    Table {
        indexes: &[Index { name: "lab_registry_versions_lab", columns: &["lab", "effective_ms"] }],
        on_copy: OnCopy::Keep,
        ..keyed(
            "lab_registry_versions",
            &[column("seq", Type::Serial), text("lab"), bytes("record"), int("effective_ms"), text("json")],
            &["seq"],
        )
    },
    Table {
        indexes: &[
            Index { name: "lab_registry_requests_lab", columns: &["lab", "submitted_ms"] },
            Index { name: "lab_registry_requests_state", columns: &["state", "submitted_ms"] },
        ],
        ..keyed(
            "lab_registry_requests",
            &[
                text("id"),
                text("lab"),
                text("person"),
                text("account"),
                int("submitted_ms"),
                text("summary"),
                text("registry"),
                bytes("base").or_null(),
                text("state"),
                text("decided_by").or_null(),
                int("decided_ms").or_null(),
                text("reason").or_null(),
                bytes("record").or_null(),
            ],
            &["id"],
        )
    },
    // --- the console (issue 13) ---
    Table {
        unique: &[&["login"]],
        ..keyed(
            "console_accounts",
            &[
                text("id"),
                text("login"),
                text("display_name"),
                text("kind"),
                text("person").or_null(),
                text("password_hash").or_null(),
                bytes("totp_secret").or_null(),
                int("totp_last_step").or_null(),
                bytes("setup_hash").or_null(),
                int("setup_expires_ms").or_null(),
                int("created_ms"),
                int("disabled_ms").or_null(),
                int("failed").default("0"),
                int("locked_until_ms").or_null(),
            ],
            &["id"],
        )
    },
    Table {
        indexes: &[Index { name: "console_sessions_account", columns: &["account"] }],
        ..keyed(
            "console_sessions",
            &[
                bytes("token_hash"),
                text("account"),
                text("scope"),
                text("csrf"),
                int("created_ms"),
                int("expires_ms"),
                int("last_seen_ms"),
                int("revoked_ms").or_null(),
                text("ip"),
                text("agent"),
            ],
            &["token_hash"],
        )
    },
    keyed(
        "console_logins",
        &[
            text("id"),
            bytes("secret_hash"),
            bytes("browser_hash"),
            text("ip"),
            text("agent"),
            int("created_ms"),
            int("expires_ms"),
            text("approved_person").or_null(),
            bytes("approved_device").or_null(),
            int("approved_ms").or_null(),
            int("consumed_ms").or_null(),
        ],
        &["id"],
    ),
    Table {
        indexes: &[Index { name: "audit_log_at", columns: &["at_ms"] }],
        on_copy: OnCopy::Keep,
        ..keyed(
            "audit_log",
            &[
                column("seq", Type::Serial),
                int("at_ms"),
                text("account"),
                text("action"),
                text("target"),
                text("detail"),
                text("ip"),
            ],
            &["seq"],
        )
    },
    // --- face photos encrypted at rest, and who read them (issue 18, PIPL) ---
    // A rotation of the key-encryption key re-wraps rows: they may change.
    keyed(
        "face_keys",
        &[
            bytes("sha256"),
            text("kek"),
            bytes("wrapped_key"),
            bytes("nonce"),
            text("alg"),
            int("size"),
            bytes("sealed_sha256"),
            int("created_ms"),
            int("sealed_ms").or_null(),
        ],
        &["sha256"],
    ),
    Table {
        indexes: &[Index { name: "face_reads_subject", columns: &["subject", "seq"] }],
        on_copy: OnCopy::Keep,
        ..keyed(
            "face_reads",
            &[
                column("seq", Type::Serial),
                int("at_ms"),
                bytes("sha256"),
                text("subject").or_null(),
                text("reader"),
                text("reader_person").or_null(),
                text("via"),
                text("ip"),
            ],
            &["seq"],
        )
    },
];

/// Why a migration step would break a rolling upgrade, if it would: while
/// instances are replaced one at a time, the first new instance migrates the
/// shared database and the old ones keep serving on it. That is safe only
/// when a step *expands* the schema — new tables, new indexes, new columns
/// an old INSERT can leave out — and never drops, renames or retypes what
/// the previous version reads and writes.
pub fn breaks_rolling_upgrade(sql: &str) -> Option<String> {
    for statement in sql.split(';') {
        let s = statement.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_uppercase();
        if s.is_empty() {
            continue;
        }
        let words: Vec<&str> = s.split(' ').collect();
        let bad = if words.first() == Some(&"DROP") {
            Some("drops what the previous version uses")
        } else if s.contains(" RENAME ") || s.starts_with("ALTER TABLE") && s.contains(" ALTER COLUMN ") {
            Some("renames or retypes what the previous version uses")
        } else if s.starts_with("ALTER TABLE") && s.contains(" DROP ") {
            Some("drops a column or constraint the previous version uses")
        } else if s.contains(" ADD COLUMN ") && s.contains("NOT NULL") && !s.contains(" DEFAULT ") {
            Some("adds a NOT NULL column without a default: the previous version's inserts would fail")
        } else if words.first() == Some(&"DELETE") || words.first() == Some(&"TRUNCATE") {
            Some("deletes rows (evidence is never removed by a migration)")
        } else {
            None
        };
        if let Some(why) = bad {
            return Some(format!("{why}: {}", statement.trim()));
        }
    }
    None
}

#[cfg(test)]
mod rolling_upgrade {
    use super::*;

    #[test]
    fn every_shipped_migration_only_expands_the_schema() {
        for (d, migrations) in [
            (Dialect::Sqlite, super::super::sqlite::MIGRATIONS),
            (Dialect::Postgres, super::super::postgres::MIGRATIONS),
        ] {
            for (i, m) in migrations.iter().enumerate().skip(1) {
                let sql = m.sql(d).expect("every step after the first has SQL");
                assert_eq!(
                    breaks_rolling_upgrade(&sql),
                    None,
                    "{d:?} migration to version {}: a rolling upgrade would break; split it into an expanding step now and a contracting one a release later",
                    i + 1
                );
            }
        }
    }

    #[test]
    fn the_check_catches_what_breaks_old_instances() {
        for bad in [
            "DROP TABLE tags",
            "drop index records_change",
            "ALTER TABLE records RENAME COLUMN envelope TO bytes",
            "ALTER TABLE records ALTER COLUMN status TYPE INTEGER",
            "ALTER TABLE records DROP COLUMN verdict",
            "ALTER TABLE records ADD COLUMN origin TEXT NOT NULL",
            "CREATE INDEX a ON b(c);\nDELETE FROM audit_log",
        ] {
            assert!(breaks_rolling_upgrade(bad).is_some(), "{bad}");
        }
        for fine in [
            "ALTER TABLE records ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE records ADD COLUMN note TEXT",
            "CREATE INDEX IF NOT EXISTS x ON y(z)",
            "UPDATE records SET change_seq = log_index + 1",
        ] {
            assert_eq!(breaks_rolling_upgrade(fine), None, "{fine}");
        }
    }
}
