//! The chaos proxy: plain TCP between the field engines and the sync server,
//! reading just enough of HTTP/1.1 to know where a request or a response
//! starts and how long it is, so that a fault lands where it hurts — inside
//! a batch of records, inside a media chunk, on the answer to either.
//!
//! Each accepted connection draws at most one fault from the run's seed (by
//! the connection's number, so the n-th connection of a replay draws the
//! same). The fault model:
//!
//! | fault | what the engine experiences |
//! |---|---|
//! | `refuse` | the connection closes before a byte of the request is sent |
//! | `cut_request` | the target request is cut part-way (0 bytes to all but one): the server never holds it whole |
//! | `drop_response` | the target request arrives whole and is processed; the connection closes as its answer starts: stored, but the engine does not know |
//! | `truncate` | the answer stops part-way with a clean close (FIN) |
//! | `reset` | the answer stops part-way with a reset (RST): bytes in flight are lost too |
//! | `stall` | the answer pauses part-way, then goes on |
//! | `delay` | every piece of the connection, both ways, arrives late |
//!
//! The target is the connection's first batch of records, its first media
//! chunk, or its first request whatever it is (profile, time, feed). The
//! engine talks HTTP/1.1 without pipelining, so once a target request has
//! started, the next bytes from the server are its answer.
//!
//! The proxy also tells the SIGKILL schedule when a request starts (the
//! `kill_hook`), so the server can be killed while it works on that batch.

use crate::rng::Rng;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// What a request is, as far as chaos cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `POST /v1/records`: a batch of records.
    Records,
    /// `PATCH /v1/media/{sha}`: a media chunk.
    Media,
    /// Anything else (profile, time, feed, media status, co-signatures).
    Other,
}

/// Which request of a connection its fault waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Records,
    Media,
    /// The connection's first request, whatever it is.
    First,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Records => "records",
            Target::Media => "media",
            Target::First => "first",
        }
    }
}

/// One connection's fault. `permille` places the cut within the target
/// message (its head and body, by its Content-Length).
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    Refuse,
    CutRequest { target: Target, permille: u64 },
    DropResponse { target: Target },
    Truncate { target: Target, permille: u64 },
    Reset { target: Target, permille: u64 },
    Stall { target: Target, permille: u64, ms: u64 },
    Delay { ms: u64 },
}

impl Fault {
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Refuse => "refuse",
            Fault::CutRequest { .. } => "cut_request",
            Fault::DropResponse { .. } => "drop_response",
            Fault::Truncate { .. } => "truncate",
            Fault::Reset { .. } => "reset",
            Fault::Stall { .. } => "stall",
            Fault::Delay { .. } => "delay",
        }
    }

    fn target(&self) -> Option<Target> {
        match *self {
            Fault::CutRequest { target, .. }
            | Fault::DropResponse { target }
            | Fault::Truncate { target, .. }
            | Fault::Reset { target, .. }
            | Fault::Stall { target, .. } => Some(target),
            Fault::Refuse | Fault::Delay { .. } => None,
        }
    }

    /// What a connection gets: nothing with probability `1 - rate`, else one
    /// fault, weighted towards those that leave the engine unsure whether
    /// the server stored what it sent.
    pub fn draw(rng: &mut Rng, rate: f64, stall_max_ms: u64) -> Option<Fault> {
        if !rng.chance(rate) {
            return None;
        }
        // Each sync pass is one connection, and many carry no records or
        // media: weighted so that those that do are hit often.
        let target = match rng.range(0, 20) {
            0..=10 => Target::Records,
            11..=17 => Target::Media,
            _ => Target::First,
        };
        let permille = rng.range(0, 1000);
        Some(match rng.range(0, 100) {
            0..=9 => Fault::Refuse,
            10..=29 => Fault::CutRequest { target, permille },
            30..=49 => Fault::DropResponse { target },
            50..=64 => Fault::Truncate { target, permille },
            65..=79 => Fault::Reset { target, permille },
            80..=89 => Fault::Stall { target, permille, ms: rng.range(100, stall_max_ms.max(101)) },
            _ => Fault::Delay { ms: rng.range(5, 150) },
        })
    }
}

/// How often and how hard.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Share of connections that get a fault.
    pub fault_rate: f64,
    /// Longest stall; beyond the engine's 120 s request timeout it also
    /// exercises the timeout.
    pub stall_max_ms: u64,
}

/// What the proxy did, for the report.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub connections: u64,
    /// Faults that actually happened, by kind and target ("reset/records").
    pub fired: BTreeMap<String, u64>,
    /// Connections refused because the server was down (killed, restarting).
    pub upstream_down: u64,
}

impl Tally {
    pub fn fired_total(&self) -> u64 {
        self.fired.values().sum()
    }

    /// Per kind, targets summed.
    pub fn by_kind(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for (k, n) in &self.fired {
            *out.entry(k.split('/').next().unwrap_or(k).to_owned()).or_insert(0) += n;
        }
        out
    }
}

struct Shared {
    upstream: SocketAddr,
    seed: u64,
    settings: Settings,
    faults_on: AtomicBool,
    connections: AtomicU64,
    upstream_down: AtomicU64,
    fired: Mutex<BTreeMap<String, u64>>,
    /// Armed by the SIGKILL schedule: the next request of this kind (any,
    /// when `None`) is reported through the sender as it passes.
    kill_hook: Mutex<Option<(Option<Kind>, oneshot::Sender<Kind>)>>,
}

impl Shared {
    fn fire(&self, fault: &Fault) {
        let key = match fault.target() {
            Some(t) => format!("{}/{}", fault.name(), t.name()),
            None => fault.name().to_owned(),
        };
        *self.fired.lock().unwrap().entry(key).or_insert(0) += 1;
    }

    fn notice(&self, kind: Kind) {
        let mut hook = self.kill_hook.lock().unwrap();
        if hook.as_ref().is_some_and(|(want, _)| want.is_none_or(|w| w == kind))
            && let Some((_, tx)) = hook.take()
        {
            let _ = tx.send(kind);
        }
    }
}

pub struct Proxy {
    pub url: String,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listen on a loopback port and forward to `upstream` (which may be
    /// down: a connection then closes at once, as a dead server's would).
    pub async fn start(upstream: SocketAddr, seed: u64, settings: Settings) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let shared = Arc::new(Shared {
            upstream,
            seed,
            settings,
            faults_on: AtomicBool::new(false),
            connections: AtomicU64::new(0),
            upstream_down: AtomicU64::new(0),
            fired: Mutex::new(BTreeMap::new()),
            kill_hook: Mutex::new(None),
        });
        let s = shared.clone();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { continue };
                let n = s.connections.fetch_add(1, Ordering::SeqCst);
                let fault = if s.faults_on.load(Ordering::SeqCst) {
                    let mut rng = Rng::stream(s.seed, "connection", n);
                    Fault::draw(&mut rng, s.settings.fault_rate, s.settings.stall_max_ms)
                } else {
                    None
                };
                tokio::spawn(connection(client, s.clone(), fault));
            }
        });
        Proxy { url, shared }
    }

    /// Faults on or off. Off: new connections get none, and a fault drawn
    /// earlier no longer fires.
    pub fn set_faults(&self, on: bool) {
        self.shared.faults_on.store(on, Ordering::SeqCst);
    }

    /// Be told when the next request of `kind` (any, if `None`) passes.
    pub fn arm_kill(&self, kind: Option<Kind>) -> oneshot::Receiver<Kind> {
        let (tx, rx) = oneshot::channel();
        *self.shared.kill_hook.lock().unwrap() = Some((kind, tx));
        rx
    }

    pub fn tally(&self) -> Tally {
        Tally {
            connections: self.shared.connections.load(Ordering::SeqCst),
            fired: self.shared.fired.lock().unwrap().clone(),
            upstream_down: self.shared.upstream_down.load(Ordering::SeqCst),
        }
    }
}

/// The request starting in `chunk`, if one does: where, and what it is.
fn request_start(chunk: &[u8]) -> Option<(usize, Kind)> {
    let find = |needle: &[u8]| chunk.windows(needle.len()).position(|w| w == needle);
    let records = format!("POST {} ", custody_core::routes::RECORDS);
    if let Some(p) = find(records.as_bytes()) {
        return Some((p, Kind::Records));
    }
    if let Some(p) = find(b"PATCH /v1/media/") {
        return Some((p, Kind::Media));
    }
    ["GET /", "POST /", "PATCH /", "PUT /", "DELETE /"]
        .iter()
        .any(|m| chunk.starts_with(m.as_bytes()))
        .then_some((0, Kind::Other))
}

/// A message's whole length (head and body), if its head is in `bytes`.
fn message_len(bytes: &[u8]) -> Option<u64> {
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&bytes[..head_end]).ok()?;
    let body = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<u64>().ok())?
        })
        .unwrap_or(0);
    Some(head_end as u64 + body)
}

/// What to do with a piece read from one side.
enum Step {
    /// Forward this many bytes and go on.
    Pass(usize),
    /// Forward this many bytes, then end the connection with FIN.
    Fin(usize),
    /// Forward this many bytes, then end the connection with RST.
    Rst(usize),
    /// Forward this many bytes, pause, then forward the rest.
    Stall(usize, u64),
}

/// One connection's fault and where it stands.
struct Conn {
    fault: Option<Fault>,
    requests: u64,
    /// The target request has started; a response fault waits for its answer.
    armed: bool,
    /// Bytes of the target request still to let through before the cut.
    up_left: Option<u64>,
    /// Bytes of the answer still to let through before acting.
    down_left: Option<u64>,
}

impl Conn {
    fn off(&mut self, shared: &Shared) -> bool {
        if !shared.faults_on.load(Ordering::SeqCst) {
            self.fault = None;
        }
        self.fault.is_none()
    }

    /// Client → server.
    fn up(&mut self, chunk: &[u8], shared: &Shared) -> Step {
        let start = request_start(chunk);
        if let Some((_, kind)) = start {
            shared.notice(kind);
        }
        let first = self.requests == 0;
        if start.is_some() {
            self.requests += 1;
        }
        if self.off(shared) {
            return Step::Pass(chunk.len());
        }
        let fault = self.fault.expect("checked");
        if let Some(left) = self.up_left {
            return self.cut_at(left, chunk.len(), 0, &fault, shared);
        }
        let (Some(target), Some((pos, kind)), false) = (fault.target(), start, self.armed) else {
            return Step::Pass(chunk.len());
        };
        let hit = match target {
            Target::Records => kind == Kind::Records,
            Target::Media => kind == Kind::Media,
            Target::First => first,
        };
        if !hit {
            return Step::Pass(chunk.len());
        }
        self.armed = true;
        if let Fault::CutRequest { permille, .. } = fault {
            let total = message_len(&chunk[pos..]).unwrap_or((chunk.len() - pos) as u64);
            let cut = (total * permille / 1000).min(total.saturating_sub(1));
            return self.cut_at(cut, chunk.len() - pos, pos, &fault, shared);
        }
        Step::Pass(chunk.len())
    }

    /// Let `left` more bytes of the target request through, out of `len`
    /// in this piece after `pos`.
    fn cut_at(&mut self, left: u64, len: usize, pos: usize, fault: &Fault, shared: &Shared) -> Step {
        if (len as u64) > left {
            shared.fire(fault);
            self.fault = None;
            return Step::Fin(pos + left as usize);
        }
        self.up_left = Some(left - len as u64);
        Step::Pass(pos + len)
    }

    /// Server → client.
    fn down(&mut self, chunk: &[u8], shared: &Shared) -> Step {
        if self.off(shared) || !self.armed {
            return Step::Pass(chunk.len());
        }
        let fault = self.fault.expect("checked");
        let permille = match fault {
            Fault::DropResponse { .. } => {
                shared.fire(&fault);
                self.fault = None;
                return Step::Fin(0);
            }
            Fault::Truncate { permille, .. }
            | Fault::Reset { permille, .. }
            | Fault::Stall { permille, .. } => permille,
            _ => return Step::Pass(chunk.len()),
        };
        let left = *self.down_left.get_or_insert_with(|| {
            let total = message_len(chunk).unwrap_or(chunk.len() as u64);
            (total * permille / 1000).min(total.saturating_sub(1))
        });
        if (chunk.len() as u64) <= left {
            self.down_left = Some(left - chunk.len() as u64);
            return Step::Pass(chunk.len());
        }
        shared.fire(&fault);
        self.fault = None;
        let at = left as usize;
        match fault {
            Fault::Truncate { .. } => Step::Fin(at),
            Fault::Reset { .. } => Step::Rst(at),
            Fault::Stall { ms, .. } => Step::Stall(at, ms),
            _ => unreachable!("matched above"),
        }
    }

    fn delay(&self) -> Option<Duration> {
        match self.fault {
            Some(Fault::Delay { ms }) => Some(Duration::from_millis(ms)),
            _ => None,
        }
    }
}

async fn connection(client: TcpStream, shared: Arc<Shared>, fault: Option<Fault>) {
    if let Some(f @ Fault::Refuse) = fault {
        shared.fire(&f);
        let _ = client.set_zero_linger();
        return;
    }
    let server = match tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(shared.upstream)).await
    {
        Ok(Ok(s)) => s,
        _ => {
            shared.upstream_down.fetch_add(1, Ordering::SeqCst);
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    if let Some(f @ Fault::Delay { .. }) = fault {
        shared.fire(&f);
    }
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let mut conn = Conn { fault, requests: 0, armed: false, up_left: None, down_left: None };
    let (mut up, mut down) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    let (mut up_open, mut down_open) = (true, true);
    while up_open || down_open {
        tokio::select! {
            r = cr.read(&mut up), if up_open => match r {
                Ok(0) | Err(_) => {
                    up_open = false;
                    let _ = sw.shutdown().await;
                }
                Ok(n) => {
                    let step = conn.up(&up[..n], &shared);
                    if forward(&mut sw, &up[..n], step, conn.delay()).await != Next::Go {
                        return;
                    }
                }
            },
            r = sr.read(&mut down), if down_open => match r {
                Ok(0) | Err(_) => {
                    down_open = false;
                    let _ = cw.shutdown().await;
                }
                Ok(n) => {
                    let step = conn.down(&down[..n], &shared);
                    match forward(&mut cw, &down[..n], step, conn.delay()).await {
                        Next::Go => {}
                        Next::End => return,
                        Next::Reset => {
                            // Whole again, so that closing sends RST alone
                            // (a dropped write half would send FIN first).
                            if let Ok(s) = cr.reunite(cw) {
                                let _ = s.set_zero_linger();
                            }
                            return;
                        }
                    }
                }
            },
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Next {
    Go,
    /// End the connection (closing both sockets).
    End,
    /// End it with a reset on the engine's side.
    Reset,
}

/// Carry out one step, and say how the connection goes on.
async fn forward(to: &mut OwnedWriteHalf, bytes: &[u8], step: Step, delay: Option<Duration>) -> Next {
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let sent = |r: std::io::Result<()>| if r.is_ok() { Next::Go } else { Next::End };
    match step {
        Step::Pass(n) => sent(to.write_all(&bytes[..n]).await),
        Step::Stall(n, ms) => {
            if to.write_all(&bytes[..n]).await.is_err() {
                return Next::End;
            }
            tokio::time::sleep(Duration::from_millis(ms)).await;
            sent(to.write_all(&bytes[n..]).await)
        }
        Step::Fin(n) => {
            let _ = to.write_all(&bytes[..n]).await;
            let _ = to.shutdown().await;
            Next::End
        }
        Step::Rst(n) => {
            let _ = to.write_all(&bytes[..n]).await;
            let _ = to.flush().await;
            Next::Reset
        }
    }
}
