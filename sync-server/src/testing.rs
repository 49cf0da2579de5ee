//! Running a real server in-process, for tests and benchmarks (this crate's
//! and other crates'): a port-0 listener, a data directory, and a clock the
//! test can move forward ("forty minutes later").

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
    c
}

/// reqwest/rustls clients in tests need the same crypto provider as the server.
pub fn crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl TestServer {
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
        Admin {
            store: &self.state.store,
            blobs: &self.state.blobs,
            key: &self.state.key,
            policy: &self.state.config.policy,
        }
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
