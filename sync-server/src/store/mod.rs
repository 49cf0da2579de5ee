//! Storage behind one interface. The ingest pipeline, the API and the admin
//! tools talk to a [`Tx`]: one transaction's worth of domain operations, not
//! SQL.
//!
//! * [`tx`]: `Tx` implemented once for both back ends, every statement
//!   written once; [`sql`]: the arguments, rows and connection it uses.
//! * [`schema`]: the one description of the tables, from which a new
//!   database is created and against which every migration is checked.
//! * [`dialect`]: where SQLite and PostgreSQL differ, named.
//! * [`sqlite`] (the embedded default) and [`postgres`] (the production
//!   twin): connections, transactions, locks and migrations of each.
//!
//! The interface is synchronous on purpose: rules run between reads and
//! writes of one transaction, and a blocking transaction on a worker thread
//! (`spawn_blocking`) is the simplest way to keep them atomic on every back end.

pub mod console;
pub mod dialect;
pub mod face_rechecks;
pub mod faces;
pub mod oversight;
pub mod plans;
pub mod postgres;
pub mod registry;
pub mod schema;
mod snapshot;
mod sql;
pub mod sqlite;
mod tx;

use custody_core::custody::SpecimenState;
use custody_core::log::SignedCheckpoint;
use custody_core::model::{Id, OrgRole, Organisation, Person, PersonRole, Project, UnitProject};
use custody_core::protocol::RecordStatus;
use custody_core::record::{ChainTail, LabAssignment, MediaRef};
use custody_core::tag::TagBatch;
use custody_core::time::AnchorBody;
use custody_core::{Hash, PublicKey};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error(
        "database schema version {found} is newer than this server understands ({supported}); upgrade the server"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("{0}")]
    Conflict(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("worker thread failed: {0}")]
    Join(String),
    #[error("media: {0}")]
    Media(String),
}

impl From<crate::blobs::BlobError> for StoreError {
    fn from(e: crate::blobs::BlobError) -> StoreError {
        StoreError::Media(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A stored record and what the server decided about it.
#[derive(Debug, Clone)]
pub struct RecordRow {
    pub id: Hash,
    pub log_index: u64,
    pub device: PublicKey,
    pub seq: u64,
    pub kind: String,
    pub author: String,
    pub project: Option<String>,
    /// Canonical envelope, with every co-signature received so far.
    pub envelope: Vec<u8>,
    pub first_seen_ms: i64,
    pub status: RecordStatus,
    /// JSON of `custody_core::verify::Verdict`.
    pub verdict: String,
    pub earliest_ms: Option<i64>,
    pub latest_ms: Option<i64>,
    /// Bumped whenever the stored record changes (status, co-signatures):
    /// what the device feed pages by.
    pub change_seq: u64,
}

/// An enrolled device with its owner's organisation.
#[derive(Debug, Clone)]
pub struct DeviceRow {
    pub key: PublicKey,
    pub person: Id,
    pub label: String,
    pub enrolled_ms: i64,
    pub revoked_ms: Option<i64>,
    pub org: Id,
    pub org_role: OrgRole,
}

#[derive(Debug, Clone)]
pub struct GrantRow {
    pub grant: Id,
    pub person: Id,
    pub org: Id,
    pub project: Option<Id>,
    pub role: PersonRole,
    pub letter: Hash,
    pub face_reference: Option<Hash>,
    pub valid_from_ms: i64,
    pub valid_until_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct MediaRow {
    pub sha256: Hash,
    pub size: u64,
    pub media_type: String,
    pub received: u64,
    pub complete: bool,
}

/// The PDF the system issued for a report (R13): its bytes are the media
/// object `sha256`; the first one rendered is kept for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedPdfRow {
    pub report: Hash,
    pub sha256: Hash,
    pub size: u64,
    /// When it was rendered (the server's clock).
    pub issued_ms: i64,
}

/// One transaction's worth of domain operations (the console's among them).
pub trait Tx:
    console::ConsoleTx
    + oversight::OversightTx
    + registry::RegistryTx
    + plans::PlansTx
    + faces::FacesTx
    + face_rechecks::FaceRechecksTx
{
    // --- records ---
    fn record(&mut self, id: &Hash) -> Result<Option<RecordRow>>;
    fn record_at(&mut self, device: &PublicKey, seq: u64) -> Result<Option<RecordRow>>;
    /// Store a new record with its indexes (tags, references, media, audiences).
    fn insert_record(
        &mut self,
        row: &RecordRow,
        tags: &[String],
        refs: &[Hash],
        media: &[MediaRef],
        audiences: &[String],
    ) -> Result<()>;
    fn update_record(&mut self, row: &RecordRow) -> Result<()>;
    fn deferred_referencing(&mut self, id: &Hash) -> Result<Vec<Hash>>;
    fn records_for_tag(&mut self, tag: &str) -> Result<Vec<RecordRow>>;
    /// Records for these audiences changed after change sequence `after`.
    fn feed(&mut self, audiences: &[String], after: u64, limit: u32) -> Result<Vec<RecordRow>>;
    fn records_from(&mut self, log_index: u64, limit: u32) -> Result<Vec<RecordRow>>;
    fn record_count(&mut self) -> Result<u64>;
    fn insert_equivocation(
        &mut self,
        device: &PublicKey,
        seq: u64,
        existing: &Hash,
        offered: &[u8],
        now: i64,
    ) -> Result<()>;
    fn equivocation_count(&mut self) -> Result<u64>;
    /// How many times this device offered a second record for a taken `seq`.
    fn equivocations_of(&mut self, device: &PublicKey) -> Result<u64>;

    // --- device chains (devices and the server) ---
    fn chain(&mut self, device: &PublicKey) -> Result<Option<(ChainTail, Option<i64>)>>;
    fn set_chain(&mut self, device: &PublicKey, tail: ChainTail, earliest: Option<i64>) -> Result<()>;

    // --- time anchors issued ---
    fn insert_anchor(&mut self, a: &AnchorBody) -> Result<()>;
    /// Earliest server time of an anchor whose tail provably covers `seq`
    /// (its tail is this very record, or a stored record at or after it).
    fn covering_anchor_ms(&mut self, device: &PublicKey, seq: u64, id: &Hash) -> Result<Option<i64>>;

    // --- directory (projections of admin facts) ---
    fn device(&mut self, key: &PublicKey) -> Result<Option<DeviceRow>>;
    fn insert_device(&mut self, key: &PublicKey, person: &Id, label: &str, now: i64) -> Result<()>;
    fn revoke_device(&mut self, key: &PublicKey, at: i64) -> Result<()>;
    fn devices(&mut self) -> Result<Vec<DeviceRow>>;
    fn org(&mut self, id: &Id) -> Result<Option<Organisation>>;
    fn upsert_org(&mut self, o: &Organisation) -> Result<()>;
    fn orgs(&mut self) -> Result<Vec<Organisation>>;
    fn person(&mut self, id: &Id) -> Result<Option<Person>>;
    fn upsert_person(&mut self, p: &Person) -> Result<()>;
    fn people(&mut self) -> Result<Vec<Person>>;
    fn project(&mut self, id: &Id) -> Result<Option<Project>>;
    fn upsert_project(&mut self, p: &Project) -> Result<()>;
    fn projects(&mut self) -> Result<Vec<Project>>;
    fn unit_project(&mut self, id: &Id) -> Result<Option<UnitProject>>;
    fn upsert_unit_project(&mut self, u: &UnitProject) -> Result<()>;
    fn unit_projects_of(&mut self, project: &Id) -> Result<Vec<UnitProject>>;
    fn grants_of(&mut self, person: &Id) -> Result<Vec<GrantRow>>;
    fn grants_on(&mut self, project: &Id) -> Result<Vec<GrantRow>>;
    fn grant(&mut self, grant: &Id) -> Result<Option<GrantRow>>;
    fn insert_grant(&mut self, g: &GrantRow) -> Result<()>;
    fn revoke_grant(&mut self, grant: &Id, at: i64) -> Result<()>;
    fn batches(&mut self, supplier: u16, year: u8, batch: u16) -> Result<Vec<TagBatch>>;
    fn batches_of(&mut self, project: &Id) -> Result<Vec<TagBatch>>;
    fn insert_batch(&mut self, b: &TagBatch, record: &Hash) -> Result<()>;
    fn lab_assignments_of(&mut self, project: &Id) -> Result<Vec<LabAssignment>>;
    /// Every assignment naming this lab, across projects (R2).
    fn lab_assignments_for_lab(&mut self, lab: &Id) -> Result<Vec<LabAssignment>>;
    fn insert_lab_assignment(&mut self, a: &LabAssignment) -> Result<()>;

    // --- custody state per tag ---
    fn tag_state(&mut self, code: &str) -> Result<Option<SpecimenState>>;
    fn set_tag_state(&mut self, code: &str, project: Option<&str>, s: &SpecimenState, now: i64)
    -> Result<()>;

    // --- enrollment codes (stored hashed) ---
    fn insert_enrollment_code(
        &mut self,
        code_hash: &Hash,
        person: &Id,
        expires_ms: i64,
        now: i64,
    ) -> Result<()>;
    /// Consume a code: the person it was for, if unused and unexpired.
    fn take_enrollment_code(&mut self, code_hash: &Hash, device: &PublicKey, now: i64) -> Result<Option<Id>>;

    // --- transparency log ---
    /// Current log size, locking the log head for this transaction.
    fn log_size_for_update(&mut self) -> Result<u64>;
    /// Current log size as this transaction sees it (no lock: read-only
    /// transactions and read replicas).
    fn log_size(&mut self) -> Result<u64>;
    fn set_log_size(&mut self, size: u64) -> Result<()>;
    fn log_node(&mut self, level: u32, index: u64) -> Result<Option<Hash>>;
    fn put_log_node(&mut self, level: u32, index: u64, hash: &Hash) -> Result<()>;
    fn insert_checkpoint(&mut self, c: &SignedCheckpoint) -> Result<()>;
    fn latest_checkpoint(&mut self) -> Result<Option<SignedCheckpoint>>;
    /// Every checkpoint signed up to log size `size`, by size (an export's
    /// history, issue 18).
    fn checkpoints_upto(&mut self, size: u64) -> Result<Vec<SignedCheckpoint>>;

    // --- media ---
    fn media(&mut self, sha: &Hash) -> Result<Option<MediaRow>>;
    fn upsert_media(&mut self, m: &MediaRow, now: i64) -> Result<()>;
    /// How the records of `device` describe this media (size and type), if any does.
    fn media_ref_by_device(&mut self, sha: &Hash, device: &PublicKey) -> Result<Option<(u64, String)>>;
    /// Every media reference of a record, with whether the bytes have arrived.
    fn media_of_record(&mut self, record: &Hash) -> Result<Vec<(MediaRef, bool)>>;
    /// Every stored record that lists a media file: its log index, status,
    /// project, and the purpose and type it declares.
    fn records_with_media(&mut self, sha: &Hash) -> Result<Vec<custody_core::access::MediaReference>>;

    /// The stored records that list `sha` as a test curve (R12: one curve,
    /// one specimen), in log order.
    fn records_with_curve(&mut self, sha: &Hash) -> Result<Vec<RecordRow>>;

    // --- issued report PDFs (R13) ---
    /// The PDF issued for `report`, if one was.
    fn issued_pdf(&mut self, report: &Hash) -> Result<Option<IssuedPdfRow>>;
    /// Keep `row` unless a PDF was issued for its report already; either
    /// way, the one kept (the first is never replaced).
    fn keep_issued_pdf(&mut self, row: &IssuedPdfRow) -> Result<IssuedPdfRow>;

    // --- violations (R8, R17, R18) ---
    fn insert_violation(
        &mut self,
        record: &Hash,
        project: Option<&str>,
        finding: &str,
        now: i64,
    ) -> Result<()>;
    fn violations(
        &mut self,
        jurisdiction: Option<&str>,
        after_ms: i64,
        limit: u32,
    ) -> Result<Vec<(Hash, String)>>;

    // --- request replay protection ---
    fn use_nonce(&mut self, device: &PublicKey, nonce: &str, expires_ms: i64, now: i64) -> Result<bool>;

    // --- admin tokens (stored hashed) ---
    fn insert_admin_token(&mut self, hash: &Hash, label: &str, now: i64) -> Result<()>;
    fn admin_token_valid(&mut self, hash: &Hash) -> Result<bool>;

    // --- metadata ---
    fn meta(&mut self, key: &str) -> Result<Option<String>>;
    /// Every `meta` entry whose key starts with `prefix`, by key.
    fn meta_with_prefix(&mut self, prefix: &str) -> Result<Vec<(String, String)>>;
    fn set_meta(&mut self, key: &str, value: &str) -> Result<()>;
}

/// The configured back end.
#[derive(Clone)]
pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

impl Store {
    pub fn open_sqlite(path: &Path) -> Result<Store> {
        Ok(Store::Sqlite(sqlite::SqliteStore::open(path)?))
    }

    /// `postgres://…` with an optional read replica's URL and a CA file for their TLS.
    pub fn open_postgres(url: &str, replica: Option<&str>, ca: Option<&Path>) -> Result<Store> {
        Ok(Store::Postgres(postgres::PgStore::open(url, replica, ca)?))
    }

    /// Run `f` in one write transaction (committed if it returns Ok).
    pub fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        match self {
            Store::Sqlite(s) => s.write(f),
            Store::Postgres(s) => s.write(f),
        }
    }

    /// Run `f` in one write transaction that is committed only if `f`
    /// returns `Ok(Ok(_))`. On `Ok(Err(e))` — a refusal decided inside the
    /// transaction — everything `f` wrote is rolled back and `e` returned:
    /// nothing half-done is kept.
    pub fn write_or_abort<T, E>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<std::result::Result<T, E>>,
    ) -> Result<std::result::Result<T, E>> {
        let mut refused = None;
        let out = self.write(|tx| match f(tx)? {
            Ok(v) => Ok(v),
            Err(e) => {
                refused = Some(e);
                Err(StoreError::Conflict("aborted: refused inside the transaction".into()))
            }
        });
        match (out, refused) {
            (_, Some(e)) => Ok(Err(e)),
            (out, None) => out.map(Ok),
        }
    }

    pub async fn write_or_abort_async<T: Send + 'static, E: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<std::result::Result<T, E>> + Send + 'static,
    ) -> Result<std::result::Result<T, E>> {
        let s = self.clone();
        tokio::task::spawn_blocking(move || s.write_or_abort(f))
            .await
            .map_err(|e| StoreError::Join(e.to_string()))?
    }

    /// Run `f` in a read transaction (a consistent snapshot).
    pub fn read<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        match self {
            Store::Sqlite(s) => s.read(f),
            Store::Postgres(s) => s.read(f),
        }
    }

    /// A read the lab, regulator and verification endpoints make: served by
    /// the read replica when one is configured (it may lag the primary by
    /// moments), by the primary otherwise. The embedded store has no replica.
    pub fn read_replica<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        match self {
            Store::Sqlite(s) => s.read(f),
            Store::Postgres(s) => s.read_replica(f),
        }
    }

    pub async fn read_replica_async<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let s = self.clone();
        tokio::task::spawn_blocking(move || s.read_replica(f))
            .await
            .map_err(|e| StoreError::Join(e.to_string()))?
    }

    pub async fn write_async<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let s = self.clone();
        tokio::task::spawn_blocking(move || s.write(f)).await.map_err(|e| StoreError::Join(e.to_string()))?
    }

    pub async fn read_async<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let s = self.clone();
        tokio::task::spawn_blocking(move || s.read(f)).await.map_err(|e| StoreError::Join(e.to_string()))?
    }

    /// A consistent copy of the database at `to` (online backup).
    /// A consistent snapshot of the whole store as a new SQLite file (the
    /// backup format for both back ends: a restore drill or an auditor opens
    /// it with nothing but SQLite, and `admin migrate` puts it back into
    /// PostgreSQL). The rows copied (PostgreSQL) or 0 (SQLite's own copy).
    pub fn backup(&self, to: &Path) -> Result<u64> {
        match self {
            Store::Sqlite(s) => s.backup(to).map(|()| 0),
            Store::Postgres(p) => snapshot::postgres_to_sqlite(p, to),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Store::Sqlite(s) => format!("sqlite {}", s.path().display()),
            Store::Postgres(s) => {
                format!("postgres {}{}", s.url(), if s.has_replica() { " (+ read replica)" } else { "" })
            }
        }
    }
}
