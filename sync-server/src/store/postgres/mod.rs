//! The production twin: PostgreSQL (14+), chosen by a `postgres://` URL.
//!
//! The same domain operations as the embedded store, written once
//! ([`SqlTx`](super::tx::SqlTx)), on the same described schema
//! ([`super::schema`]); this module owns what only PostgreSQL does (see
//! [`super::dialect`]). Several server instances may share one database:
//!
//! * every write transaction first takes one transaction-scoped advisory lock
//!   ([`WRITE_LOCK`]). Writes are serialised cluster-wide exactly as SQLite's
//!   `BEGIN IMMEDIATE` serialises them in one process, so the log index, the
//!   change sequence, the chain heads and "is this record already stored?"
//!   (idempotent resend) are decided by one writer at a time on a fresh view
//!   (READ COMMITTED: each statement after the lock sees every earlier commit).
//!   The transparency log is one append-only sequence; its appends cannot be
//!   parallel anyway, and the lock costs one round trip.
//! * no state lives in the process that another instance could contradict:
//!   sequence numbers come from `log_head`/`change_head` rows, nonces and
//!   enrollment codes are rows, anchors are rows.
//! * reads run in REPEATABLE READ, READ ONLY transactions (a consistent
//!   snapshot), on a read replica when one is configured and the caller allows
//!   it ([`PgStore::read_replica`]).
//!
//! The store's interface is synchronous (rules run between reads and writes of
//! one transaction, on a blocking thread). tokio-postgres connections are
//! driven by the process's storage runtime ([`crate::driver`]); the calling
//! thread waits on each query's future with a plain executor (the future only
//! talks to the connection task through a channel), legal on any thread.

mod conn;

use super::dialect::Dialect;
use super::schema::{self, Migration};
use super::sql::Arg;
use super::tx::{NodeCache, SqlTx};
use super::{Result, StoreError, Tx};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Key of the advisory lock every write transaction holds ("jzqy" + 1).
pub const WRITE_LOCK: i64 = 0x6a7a_7179_0000_0001;
/// Key of the advisory lock held while migrating the schema.
const MIGRATE_LOCK: i64 = 0x6a7a_7179_0000_0002;

/// The schema history: a database at version `n` has run the first `n`.
/// Never edit one that has shipped: append.
pub const MIGRATIONS: &[Migration] = &[
    Migration::First,
    // v2
    Migration::Sql(schema::TAG_BATCH_INDEXES),
    // v3: the web console
    schema::CONSOLE,
    // v4: oversight (issue 16)
    schema::OVERSIGHT,
    // v5: issued report PDFs (R13)
    schema::ISSUED_REPORTS,
    // v6: the lab registry (issue 14)
    schema::LAB_REGISTRY,
    // v7: plans before work starts (issue 15)
    schema::PLANS,
    // v8: face photos encrypted at rest, every read logged (issue 18)
    schema::FACES,
    // v9: the server's face re-checks (issue 19)
    schema::FACE_RECHECKS,
];

/// Connections per pool (per server instance). The write lock admits one
/// writer at a time; the rest serve reads.
const POOL_SIZE: usize = 8;

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        // The server's own message (constraint, syntax, connection) when there is one.
        match e.as_db_error() {
            Some(db) => StoreError::Postgres(format!("{} ({})", db.message(), db.code().code())),
            // The cause says what went wrong ("invalid peer certificate: UnknownIssuer").
            None => {
                let mut msg = e.to_string();
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    msg = format!("{msg}: {c}");
                    cause = c.source();
                }
                StoreError::Postgres(msg)
            }
        }
    }
}

/// One connection and its prepared statements (the ingest path runs the same
/// few statements thousands of times; each is parsed once per connection),
/// and the writes queued for its next round trip.
pub struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
    /// Writes waiting for the next round trip, with the arguments they own.
    queued: Vec<(Statement, Vec<Arg<'static>>)>,
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl PgConn {
    fn connect(config: &tokio_postgres::Config, tls: &MakeRustlsConnect) -> Result<PgConn> {
        let (config, tls) = (config.clone(), tls.clone());
        let client = crate::driver::block_on(async move {
            let (client, connection) = config.connect(tls).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(error = %e, "PostgreSQL connection closed");
                }
            });
            Ok::<_, tokio_postgres::Error>(client)
        })?;
        Ok(PgConn { client, statements: HashMap::new(), queued: Vec::new() })
    }

    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = futures_executor::block_on(self.client.prepare(sql))?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    /// Execute a statement; the number of rows it touched.
    pub fn exec(&mut self, sql: &str, params: Params<'_>) -> Result<u64> {
        self.flush()?;
        let st = self.statement(sql)?;
        Ok(futures_executor::block_on(self.client.execute(&st, params))?)
    }

    /// A write whose outcome the caller does not read: sent with the other
    /// queued writes in one pipelined round trip, before the next statement
    /// that reads (or the commit). Order is kept, so a later read sees it; an
    /// error surfaces there and rolls the whole transaction back.
    fn queue(&mut self, sql: &str, params: Vec<Arg<'static>>) -> Result<()> {
        let st = self.statement(sql)?;
        self.queued.push((st, params));
        if self.queued.len() >= 512 {
            self.flush()?;
        }
        Ok(())
    }

    /// Send every queued write (pipelined: one round trip for all).
    pub fn flush(&mut self) -> Result<()> {
        if self.queued.is_empty() {
            return Ok(());
        }
        let queued = std::mem::take(&mut self.queued);
        let client = &self.client;
        futures_executor::block_on(futures_util::future::try_join_all(
            queued.into_iter().map(|(st, params)| async move { client.execute_raw(&st, params).await }),
        ))?;
        Ok(())
    }

    pub(in crate::store) fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        self.flush()?;
        let st = self.statement(sql)?;
        Ok(futures_executor::block_on(self.client.query(&st, params))?)
    }

    /// Stream a parameterless query's rows through `f` (bulk copies: memory
    /// stays flat however large the table). The number of rows.
    pub(in crate::store) fn for_each_row(
        &mut self,
        sql: &str,
        mut f: impl FnMut(&Row) -> Result<()>,
    ) -> Result<u64> {
        use futures_util::TryStreamExt as _;
        self.flush()?;
        let st = self.statement(sql)?;
        let client = &self.client;
        futures_executor::block_on(async {
            let rows = client.query_raw(&st, std::iter::empty::<i64>()).await?;
            futures_util::pin_mut!(rows);
            let mut n = 0;
            while let Some(row) = rows.try_next().await? {
                f(&row)?;
                n += 1;
            }
            Ok(n)
        })
    }

    pub fn opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>> {
        self.flush()?;
        let st = self.statement(sql)?;
        Ok(futures_executor::block_on(self.client.query_opt(&st, params))?)
    }

    pub fn one(&mut self, sql: &str, params: Params<'_>) -> Result<Row> {
        self.flush()?;
        let st = self.statement(sql)?;
        Ok(futures_executor::block_on(self.client.query_one(&st, params))?)
    }

    /// Several statements without parameters (migrations, BEGIN/COMMIT).
    pub fn batch(&mut self, sql: &str) -> Result<()> {
        self.flush()?;
        Ok(futures_executor::block_on(self.client.batch_execute(sql))?)
    }

    fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

/// A small blocking pool: connections are made on demand up to
/// [`POOL_SIZE`]; a broken one is dropped, not returned.
struct Pool {
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    idle: Mutex<(Vec<PgConn>, usize)>,
    freed: Condvar,
}

struct Lease<'p> {
    pool: &'p Pool,
    conn: Option<PgConn>,
}

impl std::ops::Deref for Lease<'_> {
    type Target = PgConn;
    fn deref(&self) -> &PgConn {
        self.conn.as_ref().expect("leased")
    }
}
impl std::ops::DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut PgConn {
        self.conn.as_mut().expect("leased")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut g = self.pool.idle.lock().unwrap_or_else(|p| p.into_inner());
        match self.conn.take() {
            Some(c) if !c.is_closed() => g.0.push(c),
            _ => g.1 -= 1,
        }
        self.pool.freed.notify_one();
    }
}

impl Pool {
    fn new(url: &str, tls: MakeRustlsConnect) -> Result<Pool> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::Postgres(format!("database URL {}: {e}", crate::config::redact_url(url)))
        })?;
        Ok(Pool { config, tls, idle: Mutex::new((Vec::new(), 0)), freed: Condvar::new() })
    }

    fn get(&self) -> Result<Lease<'_>> {
        let mut g = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(c) = g.0.pop() {
                return Ok(Lease { pool: self, conn: Some(c) });
            }
            if g.1 < POOL_SIZE {
                g.1 += 1;
                drop(g);
                return match PgConn::connect(&self.config, &self.tls) {
                    Ok(c) => Ok(Lease { pool: self, conn: Some(c) }),
                    Err(e) => {
                        let mut g = self.idle.lock().unwrap_or_else(|p| p.into_inner());
                        g.1 -= 1;
                        Err(e)
                    }
                };
            }
            g = self.freed.wait(g).unwrap_or_else(|p| p.into_inner());
        }
    }
}

#[derive(Clone)]
pub struct PgStore {
    url: String,
    primary: Arc<Pool>,
    replica: Option<Arc<Pool>>,
    nodes: Arc<NodeCache>,
}

impl PgStore {
    /// Connect, and bring the schema up to date (one instance at a time).
    /// `ca`: a PEM file of CAs trusted for the servers' TLS certificates,
    /// besides the system's roots.
    pub fn open(url: &str, replica: Option<&str>, ca: Option<&Path>) -> Result<PgStore> {
        let tls = tls_connector(ca)?;
        let primary = Arc::new(Pool::new(url, tls.clone())?);
        {
            let mut c = primary.get()?;
            migrate(&mut c)?;
        }
        let replica = replica.map(|r| Pool::new(r, tls.clone())).transpose()?.map(Arc::new);
        Ok(PgStore { url: crate::config::redact_url(url), primary, replica, nodes: Arc::default() })
    }

    /// The URL with its password hidden.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let mut c = self.primary.get()?;
        c.batch("BEGIN")?;
        let mut new_nodes = HashMap::new();
        let out = c.exec("SELECT pg_advisory_xact_lock($1)::text", &[&WRITE_LOCK]).and_then(|_| {
            let mut t = SqlTx::new(&mut *c, Some(&*self.nodes));
            let out = f(&mut t);
            new_nodes = t.into_nodes();
            out
        });
        let out = finish(&mut c, out)?;
        // Only nodes of a committed transaction are facts.
        self.nodes.extend(new_nodes);
        Ok(out)
    }

    pub fn read<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        read_on(&self.primary, &self.nodes, f)
    }

    /// A read that may be served by the replica (lab, regulator and
    /// verification reads: a replica a moment behind is acceptable there,
    /// and it keeps that traffic off the primary). Without one, the primary.
    pub fn read_replica<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        read_on(self.replica.as_ref().unwrap_or(&self.primary), &self.nodes, f)
    }

    /// How far the read replica is behind the primary: WAL bytes not yet
    /// replayed, and seconds since the last replayed transaction when any
    /// are outstanding (an idle primary writes nothing, so age alone would
    /// cry wolf). `None` without a replica.
    pub fn replica_lag(&self) -> Result<Option<(f64, f64)>> {
        let Some(replica) = &self.replica else { return Ok(None) };
        let at: String = self.primary.get()?.one("SELECT pg_current_wal_lsn()::text", &[])?.get(0);
        let row = replica.get()?.one(
            "SELECT coalesce(pg_wal_lsn_diff($1::text::pg_lsn, pg_last_wal_replay_lsn()), 0)::float8, \
             coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)::float8",
            &[&at],
        )?;
        let (bytes, age): (f64, f64) = (row.get(0), row.get(1));
        Ok(Some((bytes.max(0.0), if bytes > 0.0 { age } else { 0.0 })))
    }

    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// A connection for bulk work (`admin migrate`), outside the domain interface.
    pub fn with_conn<T>(&self, f: impl FnOnce(&mut PgConn) -> Result<T>) -> Result<T> {
        let mut c = self.primary.get()?;
        f(&mut c)
    }
}

/// TLS for the database connections: rustls with ring (as the server's own
/// TLS), the system's root certificates and the configured CA file.
pub(crate) fn tls_connector(ca: Option<&Path>) -> Result<MakeRustlsConnect> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca {
        let bad = |e: String| StoreError::Postgres(format!("CA file {}: {e}", path.display()));
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let mut n = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            roots.add(cert.map_err(|e| bad(e.to_string()))?).map_err(|e| bad(e.to_string()))?;
            n += 1;
        }
        if n == 0 {
            return Err(bad("no PEM certificate in it".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Postgres(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn read_on<T>(pool: &Pool, nodes: &NodeCache, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
    let mut c = pool.get()?;
    c.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
    let mut t = SqlTx::new(&mut *c, Some(nodes));
    let out = f(&mut t);
    // A read-only transaction sees committed nodes only.
    nodes.extend(t.into_nodes());
    finish(&mut c, out)
}

/// Commit on success, roll back otherwise; a failed rollback means the
/// connection is unusable, so it is closed rather than returned to the pool.
fn finish<T>(c: &mut PgConn, out: Result<T>) -> Result<T> {
    match out {
        Ok(v) => {
            c.batch("COMMIT")?;
            Ok(v)
        }
        Err(e) => {
            c.queued.clear();
            if c.batch("ROLLBACK").is_err() {
                c.statements.clear();
            }
            Err(e)
        }
    }
}

fn migrate(c: &mut PgConn) -> Result<()> {
    c.batch("BEGIN")?;
    let out = (|| {
        c.exec("SELECT pg_advisory_xact_lock($1)::text", &[&MIGRATE_LOCK])?;
        c.batch("CREATE TABLE IF NOT EXISTS schema_version(id BIGINT PRIMARY KEY CHECK (id = 0), version BIGINT NOT NULL)")?;
        let version: i64 =
            c.opt("SELECT version FROM schema_version WHERE id = 0", &[])?.map(|r| r.get(0)).unwrap_or(0);
        for (_, sql) in schema::pending(MIGRATIONS, version, Dialect::Postgres)? {
            c.batch(&sql)?;
        }
        c.exec(
            "INSERT INTO schema_version (id, version) VALUES (0, $1) ON CONFLICT (id) DO UPDATE SET version = excluded.version",
            &[&(MIGRATIONS.len() as i64)],
        )?;
        Ok(())
    })();
    finish(c, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::services;

    /// A new database as the server at schema `version` left it, holding one
    /// record (with the change sequence that server gave it); its URL.
    fn database_at(version: usize) -> String {
        let url = services::fresh_database();
        services::sql_on(&url, include_str!("../../../tests/fixtures/schema-v1/postgres.sql"));
        for m in &MIGRATIONS[1..version] {
            let sql =
                m.sql(Dialect::Postgres).unwrap_or_else(|| panic!("version {version} is not an upgrade"));
            services::sql_on(&url, &sql);
        }
        services::sql_on(
            &url,
            &format!(
                "CREATE TABLE schema_version(id BIGINT PRIMARY KEY CHECK (id = 0), version BIGINT NOT NULL);
                 INSERT INTO schema_version VALUES (0, {version});
                 INSERT INTO records (id, log_index, device, seq, kind, author, project, envelope, first_seen_ms,
                   status, verdict, change_seq)
                 VALUES ('\\x{}', 0, '\\x{}', 0, 'sampling', 'P-1', 'PRJ-1', '\\x7B7D', 1, 'accepted', '{{}}', 1);
                 INSERT INTO record_audience (audience, log_index) VALUES ('project:PRJ-1', 0);
                 UPDATE change_head SET seq = 1;",
                hex::encode([7u8; 32]),
                hex::encode([8u8; 32]),
            ),
        );
        url
    }

    /// A database left at every earlier schema version opens, migrates,
    /// keeps its records and ends up exactly as the description says.
    #[test]
    fn migrates_from_every_earlier_version() {
        for from in 1..MIGRATIONS.len() {
            let store = PgStore::open(&database_at(from), None, services::database_ca().as_deref()).unwrap();
            let rows = store.read(|tx| tx.feed(&["project:PRJ-1".into()], 0, 10)).unwrap();
            assert_eq!(rows.len(), 1, "from v{from}");
            assert_eq!(rows[0].change_seq, 1);
            store.write(|tx| tx.update_record(&rows[0])).unwrap();
            let rows = store.read(|tx| tx.feed(&["project:PRJ-1".into()], 1, 10)).unwrap();
            assert_eq!(rows[0].change_seq, 2, "new changes continue after the migrated ones");
            let drift = store.with_conn(|c| Ok(schema::check::postgres(c))).unwrap();
            assert!(drift.is_empty(), "from v{from}: {drift:#?}");
        }
    }
}
