//! The real `sync-server` binary as a child process on a data directory —
//! SIGKILL needs a process of its own — started, killed and restarted on the
//! same data (and the same PostgreSQL database and bucket), and its
//! `admin verify` run as an operator runs it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use sync_server::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `target/debug/sync-server`, beside this test's `deps` folder: cargo
/// builds it for `cargo test --workspace` (the server has tests of its own),
/// which is what scripts/test runs. Another package's binary cannot be a
/// dependency, so a missing or stale one fails here with the command that
/// builds it, rather than testing old code.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/debug/deps")
        .join(format!("sync-server{}", std::env::consts::EXE_SUFFIX));
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("{} is not built: run `cargo build -p sync-server` first", bin.display()));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for src in ["sync-server/src", "sync-server/templates", "sync-server/console-assets", "shared/src"] {
        if let Some((file, changed)) = newest(&root.join(src))
            && changed > built
        {
            panic!(
                "{} is older than {}: run `cargo build -p sync-server` first",
                bin.display(),
                file.display()
            );
        }
    }
    bin
}

/// The most recently modified file under `dir`.
fn newest(dir: &Path) -> Option<(PathBuf, std::time::SystemTime)> {
    let mut best: Option<(PathBuf, std::time::SystemTime)> = None;
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(t) = e.metadata().and_then(|m| m.modified())
                && best.as_ref().is_none_or(|b| t > b.1)
            {
                best = Some((p, t));
            }
        }
    }
    best
}

/// What points the binary at this store: the data directory on the command
/// line, the database and bucket (if any) in `JZQY_*` variables.
fn store_env(c: &Config) -> Vec<(String, String)> {
    let mut env = Vec::new();
    if c.is_postgres() {
        env.push(("JZQY_STORAGE__DATABASE".into(), c.storage.database.clone()));
        if let Some(ca) = &c.storage.database_ca {
            env.push(("JZQY_STORAGE__DATABASE_CA".into(), ca.display().to_string()));
        }
        env.push(("JZQY_STORAGE__MEDIA_BUCKET".into(), c.storage.media_bucket.clone()));
        for (k, v) in [
            ("ENDPOINT", &c.storage.s3.endpoint),
            ("REGION", &c.storage.s3.region),
            ("ACCESS_KEY_ID", &c.storage.s3.access_key_id),
            ("SECRET_ACCESS_KEY", &c.storage.s3.secret_access_key),
        ] {
            env.push((format!("JZQY_STORAGE__S3__{k}"), v.clone()));
        }
        env.push(("JZQY_STORAGE__S3__PATH_STYLE".into(), c.storage.s3.path_style.to_string()));
    }
    env
}

/// Children spawned from a thread that never ends, tied to this process by
/// `setpriv --pdeathsig KILL`: the parent-death signal fires when the
/// spawning *thread* exits, and test threads come and go.
fn spawn_tied(cmd: Command) -> std::io::Result<Child> {
    static SPAWNER: std::sync::OnceLock<std::sync::Mutex<mpsc::Sender<Job>>> = std::sync::OnceLock::new();
    type Job = (Command, mpsc::Sender<std::io::Result<Child>>);
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::spawn(move || {
            for (mut cmd, reply) in rx {
                let _ = reply.send(cmd.spawn());
            }
            loop {
                std::thread::park();
            }
        });
        std::sync::Mutex::new(tx)
    });
    let (tx, rx) = mpsc::channel();
    spawner.lock().unwrap().send((cmd, tx)).expect("spawner thread");
    rx.recv().expect("spawner thread")
}

pub struct ServerProcess {
    bin: PathBuf,
    data: PathBuf,
    env: Vec<(String, String)>,
    pub addr: SocketAddr,
    log: PathBuf,
    child: Option<Child>,
    pub starts: u32,
    pub kills: u32,
    /// Time from each SIGKILL to the restarted server answering.
    pub downtime: Duration,
    /// What each SIGKILL hit: the request that had just reached the server
    /// and how long after.
    pub kill_log: Vec<String>,
}

impl ServerProcess {
    /// A server for the store `config` describes, on a loopback port kept
    /// across restarts (the proxy forwards there).
    pub fn new(config: &Config, log: &Path) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        ServerProcess {
            bin: binary(),
            data: config.server.data_dir.clone(),
            env: store_env(config),
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log: log.to_owned(),
            child: None,
            starts: 0,
            kills: 0,
            downtime: Duration::ZERO,
            kill_log: Vec::new(),
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--pdeathsig", "KILL", "--"]).arg(&self.bin).arg("--data").arg(&self.data);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// `serve`, until `/readyz` answers 200.
    pub async fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("server log");
        let err = out.try_clone().expect("server log");
        let mut cmd = self.command();
        cmd.arg("serve")
            .env("JZQY_SERVER__BIND", self.addr.to_string())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        self.child = Some(spawn_tied(cmd).expect("start sync-server"));
        self.starts += 1;
        let begun = Instant::now();
        while !ready(self.addr).await {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("sync-server exited at start ({status}); its log:\n{}", self.log_tail());
            }
            assert!(
                begun.elapsed() < Duration::from_secs(120),
                "sync-server not ready within 120 s; its log:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL (`Child::kill` sends it on Unix), and reap it.
    pub fn sigkill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("SIGKILL sync-server");
        child.wait().expect("reap sync-server");
        self.kills += 1;
    }

    /// SIGTERM, as systemd stops it; SIGKILL if it has not gone in 30 s.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let begun = Instant::now();
        while child.try_wait().ok().flatten().is_none() {
            if begun.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `sync-server --data DIR admin ARGS…` on the same store: (success, output).
    pub fn admin(&self, args: &[&str]) -> (bool, String) {
        let mut cmd = self.command();
        cmd.arg("admin").args(args).env("RUST_LOG", "warn");
        let out = cmd.output().expect("run sync-server admin");
        let text =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `GET /readyz` answered 200.
async fn ready(addr: SocketAddr) -> bool {
    let probe = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        let req = format!(
            "GET {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
            custody_core::routes::READYZ
        );
        s.write_all(req.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).await.ok()?;
        Some(answer.starts_with(b"HTTP/1.1 200"))
    };
    tokio::time::timeout(Duration::from_secs(5), probe).await.ok().flatten().unwrap_or(false)
}
