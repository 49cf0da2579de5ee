//! Running a real server in-process, for tests and benchmarks (this crate's
//! and other crates'): a port-0 listener, a data directory, and a clock the
//! test can move forward ("forty minutes later").
//!
//! Only with the `testing` feature, which tests and benchmarks enable through
//! their dev-dependencies: release builds do not compile it.

use crate::admin::{Admin, now_ms};
use crate::config::Config;
use crate::{AppState, Clock, demo};
use custody_core::protocol::EnrollmentOffer;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::oneshot;

/// Real time plus an offset the test pushes forward.
#[derive(Default)]
pub struct TestClock(AtomicI64);

impl TestClock {
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        now_ms() + self.0.load(Ordering::SeqCst)
    }
}

pub struct TestServer {
    pub clock: Arc<TestClock>,
    pub url: String,
    pub state: AppState,
    pub data: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Defaults for a server living in `data`.
pub fn config(data: &Path) -> Config {
    let mut c = Config::default();
    c.server.data_dir = data.to_owned();
    c.server.bind = "127.0.0.1:0".into();
    // Tests run oversight passes themselves, on the test clock, when the
    // story needs one (`oversight::pass`), so nothing changes under them.
    c.oversight.interval_ms = 0;
    // The report PDF's font (R13): Debian's fonts-noto-cjk, the default,
    // where it is installed; else the repository's own (scripts/lib/models.sh).
    if !c.reports.font_file.is_file() {
        let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.models/fonts/NotoSansSC-Regular.ttf");
        if own.is_file() {
            c.reports.font_file = own;
            c.reports.font_index = 0;
        }
    }
    c
}

/// reqwest/rustls clients in tests need the same crypto provider as the server.
pub fn crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl TestServer {
    /// One oversight pass on the test clock (what the server's timer runs).
    pub fn oversight_pass(&self) -> crate::oversight::PassReport {
        let s = &self.state;
        crate::oversight::pass(&s.store, &s.config.policy, &s.config.oversight, s.now())
            .expect("oversight pass")
    }

    pub async fn start(data: &Path) -> TestServer {
        TestServer::start_with(config(data), None).await
    }

    pub async fn start_with(config: Config, tls: Option<crate::keys::TlsMaterial>) -> TestServer {
        crypto();
        let data = config.server.data_dir.clone();
        let mut state = AppState::open(config).expect("open the server's data directory");
        let clock = Arc::new(TestClock::default());
        state.clock = clock.clone();
        state.tls_cert_sha256 = tls.as_ref().map(|t| t.cert_sha256);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let scheme = if tls.is_some() { "https" } else { "http" };
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(crate::serve_on(listener, state.clone(), tls, async move {
            let _ = rx.await;
        }));
        TestServer { clock, url: format!("{scheme}://{addr}"), state, data, stop: Some(tx), task: Some(task) }
    }

    pub fn admin(&self) -> Admin<'_> {
        Admin::of(&self.state)
    }

    /// The demo project (organisations, people, grants, 2000 tags, labs).
    pub fn seed(&self) {
        demo::seed(&self.admin()).expect("seed the demo project");
    }

    /// A one-time enrollment offer for `person`, valid for an hour.
    pub fn offer(&self, person: &str) -> EnrollmentOffer {
        let id = custody_core::Id::new(person).expect("person id");
        self.admin()
            .enrollment_offer(&id, 3_600_000, &self.url, self.state.tls_cert_sha256)
            .expect("enrollment offer")
    }

    /// Graceful stop; waits until the server has finished.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.expect("server task").expect("server ran");
        }
    }
}

/// Which storage a test server runs on: the same story tests run on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite and a media directory (the default deployment).
    Embedded,
    /// PostgreSQL and an S3-compatible bucket (the production twin), both
    /// real servers started for the test process ([`services`]).
    Postgres,
}

/// Defaults for a server living in `data`, on `backend` (a fresh database
/// and bucket of the shared test services for [`Backend::Postgres`]).
pub fn config_on(backend: Backend, data: &Path) -> Config {
    let mut c = config(data);
    if backend == Backend::Postgres {
        c.storage.database = services::fresh_database();
        c.storage.database_ca = services::database_ca();
        if c.storage.database_ca.is_some() {
            // Over TLS, verified against the test cluster's own CA.
            c.storage.database.push_str("?sslmode=require");
        }
        services::fresh_bucket(&mut c);
    }
    c
}

impl TestServer {
    pub async fn start_on(backend: Backend, data: &Path) -> TestServer {
        let server = TestServer::start_with(config_on(backend, data), None).await;
        // The story tests must really run where they say they do.
        let on_postgres = matches!(server.state.store, crate::store::Store::Postgres(_))
            && matches!(server.state.blobs, crate::blobs::Blobs::S3(_));
        assert_eq!(on_postgres, backend == Backend::Postgres, "{}", server.state.store.describe());
        server
    }
}

/// Throwaway PostgreSQL and S3 servers for tests and benchmarks, started once
/// per process on loopback ports and stopped when the process ends (the
/// kernel signals them when their parent dies: `setpriv --pdeathsig`).
///
/// * PostgreSQL: `JZQY_TEST_POSTGRES=postgres://…` uses a server you run;
///   otherwise Debian's binaries (`/usr/lib/postgresql/<v>/bin`) make a
///   cluster in a temporary directory, run as the `postgres` user when the
///   tests run as root (PostgreSQL refuses to run as root). Durability is the
///   production default (fsync, synchronous commit).
/// * S3: `JZQY_TEST_S3=http://host:port` uses a server you run; otherwise
///   `moto_server` (PyPI `moto[server]`, found on PATH) — it honours
///   create-only writes (`If-None-Match: *` → 412), which the write-once test
///   relies on.
pub mod services {
    use crate::config::Config;
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{Duration, Instant};

    struct Running {
        url: String,
        _child: Option<Child>,
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
    }

    fn is_root() -> bool {
        std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
    }

    /// `cmd` as a child that dies with this process, optionally as `user`.
    /// Spawned from a thread that never ends: the parent-death signal fires
    /// when the spawning *thread* exits, and test threads come and go.
    fn spawn_tied(program: &Path, args: Vec<String>, user: Option<&str>, signal: &str, log: &Path) -> Child {
        let (tx, rx) = std::sync::mpsc::channel();
        let name = program.display().to_string();
        let (program, log, user, signal) =
            (program.to_owned(), log.to_owned(), user.map(str::to_owned), signal.to_owned());
        std::thread::spawn(move || {
            let mut cmd = Command::new("setpriv");
            if let Some(u) = &user {
                cmd.args(["--reuid", u, "--regid", u, "--init-groups"]);
            }
            cmd.args(["--pdeathsig", &signal, "--"]).arg(&program).args(&args);
            let out = std::fs::File::create(&log).expect("service log file");
            let err = out.try_clone().expect("service log file");
            let child = cmd.stdin(Stdio::null()).stdout(out).stderr(err).spawn();
            let _ = tx.send(child);
            loop {
                std::thread::park();
            }
        });
        rx.recv().expect("spawner thread").unwrap_or_else(|e| panic!("start {name}: {e}"))
    }

    fn wait_until(what: &str, log: &Path, mut ready: impl FnMut() -> bool) {
        let start = Instant::now();
        while !ready() {
            if start.elapsed() > Duration::from_secs(60) {
                let tail = std::fs::read_to_string(log).unwrap_or_default();
                panic!("{what} did not start within 60 s; its log:\n{tail}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn postgres_bin() -> PathBuf {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
            .filter(|(_, p): &(u32, PathBuf)| p.join("initdb").is_file())
            .collect();
        versions.sort();
        versions.pop().map(|v| v.1).unwrap_or_else(|| {
            panic!("PostgreSQL is not installed (apt install postgresql), and JZQY_TEST_POSTGRES is not set")
        })
    }

    fn postgres() -> &'static Running {
        static PG: OnceLock<Running> = OnceLock::new();
        PG.get_or_init(|| {
            if let Ok(url) = std::env::var("JZQY_TEST_POSTGRES") {
                return Running { url, _child: None };
            }
            let bin = postgres_bin();
            remove_stale_clusters();
            let (dir, user) = cluster_dir("pg");
            let data = dir.join("data");
            let out = as_user(user)
                .arg(bin.join("initdb"))
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "-D"])
                .arg(&data)
                .output()
                .expect("run initdb");
            assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
            make_certificates(&dir, user);
            run_postgres(&bin, &dir, &dir, user)
        })
    }

    /// The CA that signed the test cluster's TLS certificate (None for a
    /// server of your own, `JZQY_TEST_POSTGRES`).
    pub fn database_ca() -> Option<PathBuf> {
        postgres()._child.as_ref()?;
        Some(std::env::temp_dir().join(format!("jzqy-test-pg-{}", std::process::id())).join("ca.pem"))
    }

    /// A CA and a server certificate for 127.0.0.1/localhost signed by it:
    /// the cluster serves TLS like a production one.
    fn make_certificates(dir: &Path, user: Option<&str>) {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "jzqy test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key")).expect("CA");
        let key = KeyPair::generate().expect("server key");
        let cert = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("server params")
            .signed_by(&key, &ca)
            .expect("server certificate");
        std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write ca.pem");
        std::fs::write(dir.join("server.crt"), cert.pem()).expect("write server.crt");
        std::fs::write(dir.join("server.key"), key.serialize_pem()).expect("write server.key");
        // PostgreSQL refuses a key others can read.
        let ok = Command::new("chmod").arg("600").arg(dir.join("server.key")).status();
        assert!(ok.is_ok_and(|s| s.success()), "chmod server.key");
        if user.is_some() {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.join("server.key"))
                .arg(dir.join("server.crt"))
                .status();
            assert!(ok.is_ok_and(|s| s.success()), "chown the certificates to postgres");
        }
    }

    /// A fresh directory for a cluster, owned by the user it runs as.
    fn cluster_dir(kind: &str) -> (PathBuf, Option<&'static str>) {
        let dir = std::env::temp_dir().join(format!("jzqy-test-{kind}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cluster directory");
        let user = is_root().then_some("postgres");
        if user.is_some() {
            let ok = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status();
            assert!(ok.is_ok_and(|s| s.success()), "chown {} to postgres", dir.display());
        }
        (dir, user)
    }

    /// `setpriv [--reuid U …] --`: the program that follows runs as `user`.
    fn as_user(user: Option<&str>) -> Command {
        let mut c = Command::new("setpriv");
        if let Some(u) = user {
            c.args(["--reuid", u, "--regid", u, "--init-groups"]);
        }
        c.arg("--");
        c
    }

    /// Start the cluster in `dir/data` on a free loopback port, with TLS from
    /// `certs` (server.crt, server.key); wait until it answers.
    fn run_postgres(bin: &Path, dir: &Path, certs: &Path, user: Option<&str>) -> Running {
        let port = free_port();
        let log = dir.join("postgres.log");
        let args = vec![
            "-D".into(),
            dir.join("data").display().to_string(),
            "-p".into(),
            port.to_string(),
            "-k".into(),
            dir.display().to_string(),
            "-c".into(),
            "listen_addresses=127.0.0.1".into(),
            "-c".into(),
            "max_connections=300".into(),
            "-c".into(),
            "ssl=on".into(),
            "-c".into(),
            format!("ssl_cert_file={}", certs.join("server.crt").display()),
            "-c".into(),
            format!("ssl_key_file={}", certs.join("server.key").display()),
        ];
        let child = spawn_tied(&bin.join("postgres"), args, user, "SIGQUIT", &log);
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        wait_until("PostgreSQL", &log, || can_connect(&url));
        Running { url, _child: Some(child) }
    }

    /// The URL without its options (the harness's own plain connections).
    fn plain(url: &str) -> &str {
        url.split('?').next().unwrap_or(url)
    }

    fn can_connect(url: &str) -> bool {
        let u = plain(url).to_owned();
        crate::driver::block_on(
            async move { tokio_postgres::connect(&u, tokio_postgres::NoTls).await.is_ok() },
        )
    }

    /// Clusters of test processes that have ended (their servers died with them).
    fn remove_stale_clusters() {
        for e in std::fs::read_dir(std::env::temp_dir()).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name
                .strip_prefix("jzqy-test-pg-")
                .or_else(|| name.strip_prefix("jzqy-test-replica-"))
                .or_else(|| name.strip_prefix("jzqy-test-moto-").and_then(|n| n.strip_suffix(".log")))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(pid) = pid
                && !Path::new(&format!("/proc/{pid}")).exists()
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }

    /// A streaming-replication standby of the test server (started on first
    /// use): every database of the primary, replayed moments later. The URL
    /// of the replica's copy of `database_url`'s database.
    pub fn replica_of(database_url: &str) -> String {
        static REPLICA: OnceLock<Running> = OnceLock::new();
        let primary = postgres();
        assert!(primary._child.is_some(), "the replica test needs the test-started PostgreSQL");
        let replica = REPLICA.get_or_init(|| {
            let bin = postgres_bin();
            let (dir, user) = cluster_dir("replica");
            let primary_port = primary.url.rsplit(':').next().and_then(|p| p.split('/').next()).unwrap_or("");
            // -R writes standby.signal and the connection back to the primary;
            // -c fast: do not wait for the primary's next scheduled checkpoint.
            let out = as_user(user)
                .arg(bin.join("pg_basebackup"))
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    primary_port,
                    "-U",
                    "postgres",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "-R",
                    "-D",
                ])
                .arg(dir.join("data"))
                .output()
                .expect("run pg_basebackup");
            assert!(out.status.success(), "pg_basebackup: {}", String::from_utf8_lossy(&out.stderr));
            let primary_dir = std::env::temp_dir().join(format!("jzqy-test-pg-{}", std::process::id()));
            run_postgres(&bin, &dir, &primary_dir, user)
        });
        // The same database and options (sslmode) on the replica.
        let db = database_url.rsplit('/').next().expect("URL has a database");
        let cut = replica.url.rfind('/').expect("URL has a database");
        let url = format!("{}/{db}", &replica.url[..cut]);
        // A database created on the primary appears once the replica has replayed it.
        let log = std::env::temp_dir().join(format!("jzqy-test-replica-{}/postgres.log", std::process::id()));
        wait_until("the replicated database", &log, || can_connect(&url));
        url
    }

    /// Run SQL on a database; the first column of the first row, as text.
    pub fn sql_on(url: &str, sql: &str) -> Option<String> {
        let (url, text) = (plain(url).to_owned(), sql.to_owned());
        crate::driver::block_on(async move {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
            tokio::spawn(conn);
            let rows = client.simple_query(&text).await?;
            Ok::<_, tokio_postgres::Error>(rows.into_iter().find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
                _ => None,
            }))
        })
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Run SQL on the test server's `postgres` database.
    pub fn admin_sql(sql: &str) {
        let (url, text) = (postgres().url.clone(), sql.to_owned());
        crate::driver::block_on(async move {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
            tokio::spawn(conn);
            client.batch_execute(&text).await
        })
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    static NEXT: AtomicU32 = AtomicU32::new(0);

    fn unique(prefix: &str) -> String {
        format!("{prefix}{}x{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst))
    }

    /// A new, empty database on the test PostgreSQL server; its URL.
    pub fn fresh_database() -> String {
        let name = unique("t");
        admin_sql(&format!("CREATE DATABASE {name}"));
        let base = &postgres().url;
        let cut = base.rfind('/').expect("URL has a database");
        format!("{}/{name}", &base[..cut])
    }

    fn s3() -> &'static Running {
        static S3: OnceLock<Running> = OnceLock::new();
        S3.get_or_init(|| {
            if let Ok(url) = std::env::var("JZQY_TEST_S3") {
                return Running { url, _child: None };
            }
            let moto = std::env::var_os("PATH")
                .iter()
                .flat_map(std::env::split_paths)
                .map(|d| d.join("moto_server"))
                .find(|p| p.is_file())
                .unwrap_or_else(|| {
                    panic!(
                        "moto_server is not on PATH (pip install 'moto[server]'), and JZQY_TEST_S3 is not set"
                    )
                });
            let port = free_port();
            let log = std::env::temp_dir().join(format!("jzqy-test-moto-{}.log", std::process::id()));
            let args = vec!["-H".into(), "127.0.0.1".into(), "-p".into(), port.to_string()];
            let child = spawn_tied(&moto, args, None, "SIGTERM", &log);
            let addr = format!("127.0.0.1:{port}");
            wait_until("moto_server", &log, || http_status(&addr, "GET", "/").is_some());
            Running { url: format!("http://{addr}"), _child: Some(child) }
        })
    }

    /// One plain HTTP/1.1 request (no signature: the test server does not
    /// check them); the status code.
    fn http_status(addr: &str, method: &str, path: &str) -> Option<u16> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).ok()?;
        std::str::from_utf8(&buf[..n]).ok()?.split(' ').nth(1)?.parse().ok()
    }

    /// Point `config` at a new, empty bucket on the test S3 server.
    pub fn fresh_bucket(config: &mut Config) {
        let url = s3().url.clone();
        let name = unique("b");
        let addr = url.trim_start_matches("http://");
        let status = http_status(addr, "PUT", &format!("/{name}"));
        assert_eq!(status, Some(200), "create bucket {name} on {url}");
        config.storage.media_bucket = format!("s3://{name}/media");
        config.storage.s3 = crate::config::S3Config {
            endpoint: url,
            region: "us-east-1".into(),
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
            path_style: true,
        };
    }
}

/// Ceilings for the benchmarks, measured in the same run as the server
/// (`sync-server` bench `load`, `e2e-tests` bench `fleet`): the raw cost of
/// the work the server cannot avoid, on the same machine and back end.
pub mod ceilings {
    use custody_core::Hash;
    use std::time::Instant;

    /// ring's Ed25519 verifications per second on one core.
    pub fn ring_verify_rate() -> f64 {
        use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
        let pair = Ed25519KeyPair::from_seed_unchecked(&[9; 32]).expect("seed");
        let msg = [1u8; 32];
        let sig = pair.sign(&msg);
        let pk = UnparsedPublicKey::new(&ED25519, pair.public_key().as_ref().to_vec());
        let n = 20_000;
        let t = Instant::now();
        for _ in 0..n {
            assert!(pk.verify(std::hint::black_box(&msg), sig.as_ref()).is_ok());
        }
        n as f64 / t.elapsed().as_secs_f64()
    }

    fn id(i: usize) -> Hash {
        Hash::of(&(i as u64).to_le_bytes())
    }

    /// Rows/s: `n` rows of `payload` into SQLite with the server's durability
    /// (WAL, synchronous=FULL), one transaction per `batch`.
    pub fn raw_sqlite_insert_rate(dir: &std::path::Path, payload: &[u8], n: usize, batch: usize) -> f64 {
        let path = dir.join("raw-ceiling.sqlite");
        let _ = std::fs::remove_file(&path);
        let c = rusqlite::Connection::open(&path).expect("open");
        c.pragma_update(None, "journal_mode", "WAL").expect("wal");
        c.pragma_update(None, "synchronous", "FULL").expect("full");
        c.execute_batch("CREATE TABLE r(id BLOB PRIMARY KEY, body BLOB NOT NULL)").expect("table");
        let t = Instant::now();
        for chunk in 0..n / batch {
            let tx = c.unchecked_transaction().expect("tx");
            for i in 0..batch {
                tx.execute(
                    "INSERT INTO r VALUES (?1, ?2)",
                    rusqlite::params![id(chunk * batch + i).as_bytes().as_slice(), payload],
                )
                .expect("insert");
            }
            tx.commit().expect("commit");
        }
        n as f64 / t.elapsed().as_secs_f64()
    }

    /// Rows/s: the same into a fresh database of the test PostgreSQL server,
    /// with its production durability (fsync, synchronous_commit = on), one
    /// transaction per `batch`, one prepared INSERT per row over loopback,
    /// over the same TLS as the server's own connections.
    pub fn raw_postgres_insert_rate(payload: &[u8], n: usize, batch: usize) -> f64 {
        let ca = super::services::database_ca();
        let mode = if ca.is_some() { "require" } else { "prefer" };
        let url = format!("{}?sslmode={mode}", super::services::fresh_database());
        let tls = crate::store::postgres::tls_connector(ca.as_deref()).expect("TLS");
        let payload = payload.to_vec();
        crate::driver::block_on(async move {
            let (client, conn) = tokio_postgres::connect(&url, tls).await.expect("connect");
            tokio::spawn(conn);
            client
                .batch_execute("CREATE TABLE r(id BYTEA PRIMARY KEY, body BYTEA NOT NULL)")
                .await
                .expect("table");
            let st = client.prepare("INSERT INTO r VALUES ($1, $2)").await.expect("prepare");
            let t = Instant::now();
            for chunk in 0..n / batch {
                client.batch_execute("BEGIN").await.expect("begin");
                for i in 0..batch {
                    let k = id(chunk * batch + i);
                    client
                        .execute(&st, &[&k.as_bytes().as_slice(), &payload.as_slice()])
                        .await
                        .expect("insert");
                }
                client.batch_execute("COMMIT").await.expect("commit");
            }
            n as f64 / t.elapsed().as_secs_f64()
        })
    }

    /// MB/s: `chunks` written with create-only PUTs, one object each, to a
    /// fresh bucket of the test S3 server (what a media store must at least
    /// pay per chunk).
    pub fn raw_s3_put_rate(chunks: &[Vec<u8>]) -> f64 {
        use object_store::{ObjectStore, PutMode, PutPayload, path::Path};
        let dir = std::env::temp_dir();
        let mut c = super::config(&dir);
        super::services::fresh_bucket(&mut c);
        let crate::blobs::Blobs::S3(b) = crate::blobs::Blobs::from_config(&c).expect("bucket") else {
            unreachable!("a bucket was configured")
        };
        let store = b.object_store();
        let chunks: Vec<bytes::Bytes> = chunks.iter().map(|c| bytes::Bytes::copy_from_slice(c)).collect();
        let total: usize = chunks.iter().map(|c| c.len()).sum();
        crate::driver::block_on(async move {
            let t = Instant::now();
            for (i, c) in chunks.into_iter().enumerate() {
                store
                    .put_opts(&Path::from(format!("raw/{i}")), PutPayload::from(c), PutMode::Create.into())
                    .await
                    .expect("put");
            }
            total as f64 / 1e6 / t.elapsed().as_secs_f64()
        })
    }
}
