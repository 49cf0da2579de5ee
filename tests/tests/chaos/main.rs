//! Chaos (issue 18, R14, R21): real field engines and the real
//! `sync-server` binary with a fault-injecting proxy between them
//! ([`proxy`]: refused connections, requests cut part-way, answers dropped,
//! truncated, reset or stalled, delays) and the server SIGKILLed at random
//! moments while it works on a batch of records or a media chunk, then
//! restarted on the same data. Meanwhile the samplers make samplings with
//! photos and videos, and the witness witnesses what its feed brings.
//! Afterwards, faults off, every queue must drain and [`invariants`] hold:
//! nothing acknowledged lost, nothing stored twice, every chain intact,
//! `admin verify` clean, every media file complete and matching its hash.
//!
//! Everything random comes from one seed, printed first; `CHAOS_SEED=<n>`
//! replays its faults in the same order. Sizes (the test command's are
//! small, to stay within CI's time):
//!
//! | variable | embedded / postgres default | |
//! |---|---|---|
//! | `CHAOS_RECORDS` | 300 / 120 | records the engines make (one in six a witnessing) |
//! | `CHAOS_MEDIA_MB` | 30 / 12 | media over all records: photos, and videos of several chunks |
//! | `CHAOS_KILLS` | 3 / 2 | SIGKILLs of the server, spread over the run |
//! | `CHAOS_DEVICES` | 3 / 2 | sampling devices (one witness device besides) |
//! | `CHAOS_SECONDS` | 45 / 30 | the faulty phase: samplings are paced evenly over it |
//! | `CHAOS_FAULT_RATE` | 0.3 | share of connections given a fault |
//! | `CHAOS_STALL_MAX_MS` | 3000 | longest stall (above 120000 it outlasts the engine's request timeout) |
//! | `CHAOS_DEADLINE_S` | 120 + 2 × `CHAOS_SECONDS` | the faulty phase's limit (a guard against a hang) |
//!
//! The full run (10,000 records, 1 GB of media, many SIGKILLs) is
//! `scripts/chaos`; see the README.
//!
//! The server must be built (`cargo build -p sync-server`; `cargo test
//! --workspace` builds it): another package's binary cannot be a
//! dependency, and SIGKILL needs a process of its own.

mod fleet;
mod invariants;
mod proxy;
mod rng;
mod server;

use fleet::{Device, Progress, Workload};
use proxy::{Kind, Proxy, Settings};
use rng::Rng;
use server::ServerProcess;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use sync_server::config::Config;
use sync_server::demo;
use sync_server::testing::{Backend, config_on};

/// A size of run: the test command's defaults, each overridable.
struct Size {
    records: usize,
    media_mb: u64,
    kills: u32,
    samplers: usize,
    seconds: u64,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_on_sqlite_and_a_media_directory() {
    run(Backend::Embedded, Size { records: 300, media_mb: 30, kills: 3, samplers: 3, seconds: 45 }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_on_postgresql_and_s3() {
    run(Backend::Postgres, Size { records: 120, media_mb: 12, kills: 2, samplers: 2, seconds: 30 }).await;
}

/// What a run is to do, from its size and the `CHAOS_*` variables.
struct Plan {
    backend: Backend,
    seed: u64,
    work: Workload,
    kills: u32,
    settings: Settings,
    /// A guard against a hang, not a pace: making records may lag behind
    /// the pace on a loaded machine.
    deadline: Duration,
}

impl Plan {
    fn new(backend: Backend, size: Size) -> Plan {
        let seconds = env_or("CHAOS_SECONDS", size.seconds).max(1);
        let plan = Plan {
            backend,
            seed: rng::seed(),
            work: Workload {
                records: env_or("CHAOS_RECORDS", size.records),
                media_bytes: env_or("CHAOS_MEDIA_MB", size.media_mb) << 20,
                samplers: env_or("CHAOS_DEVICES", size.samplers).max(1),
                seconds,
            },
            kills: env_or("CHAOS_KILLS", size.kills),
            settings: Settings {
                fault_rate: env_or("CHAOS_FAULT_RATE", 0.3),
                stall_max_ms: env_or("CHAOS_STALL_MAX_MS", 3_000),
            },
            deadline: Duration::from_secs(env_or("CHAOS_DEADLINE_S", 120 + 2 * seconds)),
        };
        let (w, seed) = (&plan.work, plan.seed);
        eprintln!(
            "chaos on {backend:?}: seed {seed} (replay: CHAOS_SEED={seed}); {} records over {} s, {} MB media, {} SIGKILLs, {} samplers + 1 witness, fault rate {}",
            w.records,
            w.seconds,
            w.media_bytes >> 20,
            plan.kills,
            w.samplers,
            plan.settings.fault_rate
        );
        plan
    }
}

async fn run(backend: Backend, size: Size) {
    let plan = Plan::new(backend, size);
    let began = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config_on(backend, &dir.path().join("server"));
    let mut server = ServerProcess::new(&config, &dir.path().join("server.log"));
    let proxy = Proxy::start(server.addr, plan.seed, plan.settings).await;
    let offers = prepare(&config, &plan.work, &proxy.url);
    server.start().await;
    let devices = enroll(dir.path(), &offers, &plan.work).await;

    proxy.set_faults(true);
    let faulty = faulty_phase(&plan, &proxy, &mut server, &devices).await;
    // Faults stop; every queue must now drain.
    proxy.set_faults(false);
    let drain_began = Instant::now();
    let drained = drain_all(&devices, Duration::from_secs(120 + plan.work.seconds / 4)).await;
    let drain = drain_began.elapsed();
    server.stop().await;

    let with_drain: Vec<(&Device, bool)> = devices.iter().map(|d| d.as_ref()).zip(drained).collect();
    let (mut verdict, figures) = invariants::check(&config, &server, &with_drain);
    verdict.problems.extend(faulty.late.clone());
    if faulty.killed < plan.kills {
        verdict
            .problems
            .push(format!("only {} of {} SIGKILLs happened before the deadline", faulty.killed, plan.kills));
    }
    report(Report {
        plan: &plan,
        figures: &figures,
        proxy: &proxy,
        server: &server,
        faulty: &faulty,
        drain,
        total: began.elapsed(),
        verdict: &verdict,
    });
    assert!(
        verdict.problems.is_empty(),
        "chaos on {backend:?} (replay: CHAOS_SEED={}):\n{}\nserver log tail:\n{}",
        plan.seed,
        verdict.problems.join("\n"),
        server.log_tail()
    );
}

/// Phones enroll through the proxy before the faults begin (an enrollment
/// code is single-use: its own retry story is not this test's).
async fn enroll(dir: &std::path::Path, offers: &[String], work: &Workload) -> Vec<Arc<Device>> {
    let mut devices = Vec::new();
    for (i, offer) in offers.iter().enumerate() {
        let name = if i < work.samplers { format!("sampler-{i}") } else { "witness".into() };
        let d = Device::open(&dir.join(&name), &name);
        d.engine.enroll(offer, &name, "linux").await.expect("enroll through the proxy");
        devices.push(Arc::new(d));
    }
    devices
}

/// What happened while faults were on.
struct Faulty {
    progress: Arc<Progress>,
    elapsed: Duration,
    killed: u32,
    late: Option<String>,
}

/// Devices make their records and sync all along, through the faults and
/// the SIGKILLs, until every record is made.
async fn faulty_phase(
    plan: &Plan,
    proxy: &Proxy,
    server: &mut ServerProcess,
    devices: &[Arc<Device>],
) -> Faulty {
    let (work, seed) = (plan.work, plan.seed);
    let progress = Arc::new(Progress::default());
    let stop_sync = Arc::new(AtomicBool::new(false));
    let abort = Arc::new(AtomicBool::new(false));
    let syncing: Vec<_> = devices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let (engine, progress, stop) = (d.engine.clone(), progress.clone(), stop_sync.clone());
            tokio::spawn(fleet::sync_loop(engine, progress, seed, i as u64, stop))
        })
        .collect();
    let makers: Vec<_> = devices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let (d, abort) = (d.clone(), abort.clone());
            std::thread::spawn(move || {
                if i < work.samplers {
                    d.sample(i, &work, seed, &abort)
                } else {
                    d.witness(&work, seed, &abort)
                }
            })
        })
        .collect();
    let begun = Instant::now();
    let deadline = begun + plan.deadline;
    let killed = kill_schedule(server, proxy, &work, plan.kills, seed, begun, deadline).await;
    let mut late = None;
    while makers.iter().any(|m| !m.is_finished()) {
        if Instant::now() > deadline {
            late = Some(format!("records still being made at the deadline ({} s)", plan.deadline.as_secs()));
            abort.store(true, Ordering::SeqCst);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for m in makers {
        m.join().expect("record maker");
    }
    let elapsed = begun.elapsed();
    stop_sync.store(true, Ordering::SeqCst);
    for s in syncing {
        s.await.expect("sync loop");
    }
    Faulty { progress, elapsed, killed, late }
}

/// Every device syncs until nothing is pending (within `limit`): whether
/// each drained.
async fn drain_all(devices: &[Arc<Device>], limit: Duration) -> Vec<bool> {
    let draining: Vec<_> = devices
        .iter()
        .map(|d| {
            let engine = d.engine.clone();
            tokio::spawn(async move { fleet::drain(&engine, limit).await.1 })
        })
        .collect();
    let mut drained = Vec::new();
    for d in draining {
        drained.push(d.await.expect("drain"));
    }
    drained
}

/// The store made in-process before the binary takes it over: the demo
/// project, a tag batch with a serial for every sampling, and one-time
/// enrollment codes pointing at the proxy (samplers, then the witness).
fn prepare(config: &Config, work: &Workload, url: &str) -> Vec<String> {
    use custody_core::Id;
    use custody_core::tag::{BatchKey, SerialRange, TagBatch};
    let state = sync_server::AppState::open(config.clone()).expect("open the server's store");
    let admin = sync_server::admin::Admin::of(&state);
    demo::seed(&admin).expect("seed the demo project");
    let id = |s: &str| Id::new(s).expect("id");
    admin
        .register_tags(TagBatch {
            key: BatchKey { supplier: 310, year: 26, batch: fleet::TAG_BATCH },
            supplier_org: id("ORG-TAG-AF"),
            project: id(demo::PROJECT),
            ranges: vec![SerialRange { first: 1, last: work.samplings().max(1) as u32 }],
        })
        .expect("register the chaos tag batch");
    let people = std::iter::repeat_n(demo::SAMPLER, work.samplers).chain([demo::WITNESS]);
    // Valid for a day: the full run's devices enroll right away anyway.
    people
        .map(|p| admin.enrollment_offer(&id(p), 86_400_000, url, None).expect("enrollment offer").to_qr())
        .collect()
}

/// SIGKILL the server `kills` times at seeded moments of the faulty phase
/// (5–95 % of the way through), each as a request of a seeded kind (a batch
/// of records, a media chunk, anything) reaches it, plus a seeded 0–60 ms:
/// before, during or just after it stores the batch. Each time it is
/// restarted on the same data after a seeded pause. The number of kills
/// made before `deadline`.
async fn kill_schedule(
    server: &mut ServerProcess,
    proxy: &Proxy,
    work: &Workload,
    kills: u32,
    seed: u64,
    begun: Instant,
    deadline: Instant,
) -> u32 {
    let mut rng = Rng::stream(seed, "sigkill", 0);
    let mut at: Vec<u64> = (0..kills).map(|_| rng.range(work.seconds * 50, work.seconds * 950)).collect();
    at.sort_unstable();
    for (n, ms) in at.into_iter().enumerate() {
        let due = begun + Duration::from_millis(ms);
        if due > deadline {
            return n as u32;
        }
        tokio::time::sleep_until(due.into()).await;
        let want = match rng.range(0, 20) {
            0..=9 => Some(Kind::Records),
            10..=16 => Some(Kind::Media),
            _ => None,
        };
        let passed = match tokio::time::timeout(Duration::from_secs(5), proxy.arm_kill(want)).await {
            Ok(Ok(kind)) => Some(kind),
            // Nothing of that kind is flowing now: the next request at all.
            _ => tokio::time::timeout(Duration::from_secs(10), proxy.arm_kill(None))
                .await
                .ok()
                .and_then(Result::ok),
        };
        let after = rng.range(0, 60);
        tokio::time::sleep(Duration::from_millis(after)).await;
        let killed_at = Instant::now();
        server.sigkill();
        server.kill_log.push(match passed {
            Some(kind) => format!("{kind:?} +{after} ms"),
            None => "idle".into(),
        });
        tokio::time::sleep(Duration::from_millis(rng.range(0, 1_000))).await;
        server.start().await;
        server.downtime += killed_at.elapsed();
    }
    kills
}

struct Report<'a> {
    plan: &'a Plan,
    figures: &'a invariants::Figures,
    proxy: &'a Proxy,
    server: &'a ServerProcess,
    faulty: &'a Faulty,
    drain: Duration,
    total: Duration,
    verdict: &'a invariants::Verdict,
}

fn report(r: Report<'_>) {
    let t = r.proxy.tally();
    let f = r.figures;
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    let (work, progress) = (&r.plan.work, &r.faulty.progress);
    line(format!(
        "chaos report ({:?}), seed {} (replay: CHAOS_SEED={})",
        r.plan.backend, r.plan.seed, r.plan.seed
    ));
    line(format!(
        "  records: {} made on {} devices ({} samplings asked, {} witnessings asked); by device status {:?}; the server holds {} (with the operator's own)",
        f.own_records,
        work.samplers + 1,
        work.samplings(),
        work.witnessings(),
        f.by_status,
        f.server_records
    ));
    line(format!(
        "  media: {} files, {:.1} MB, largest {:.1} MB",
        f.media_files,
        f.media_bytes as f64 / 1e6,
        f.largest_media as f64 / 1e6
    ));
    line(format!(
        "  connections: {}; faults fired: {} {:?}; by kind and target: {:?}; refused while the server was down: {}",
        t.connections,
        t.fired_total(),
        t.by_kind(),
        t.fired,
        t.upstream_down
    ));
    line(format!(
        "  SIGKILLs: {} (server started {} times, down {:.1} s in all); each after the request it hit: {}",
        r.server.kills,
        r.server.starts,
        r.server.downtime.as_secs_f64(),
        r.server.kill_log.join(", ")
    ));
    line(format!(
        "  with faults: {} sync passes completed, {} failed; {} records answered and {:.1} MB of media sent in completed passes (resends included)",
        progress.passes_ok.load(Ordering::SeqCst),
        progress.passes_failed.load(Ordering::SeqCst),
        progress.records_answered.load(Ordering::SeqCst),
        progress.media_bytes_sent.load(Ordering::SeqCst) as f64 / 1e6
    ));
    line(format!(
        "  time: {:.1} s with faults, {:.1} s to drain, {:.1} s in all",
        r.faulty.elapsed.as_secs_f64(),
        r.drain.as_secs_f64(),
        r.total.as_secs_f64()
    ));
    for c in &r.verdict.checked {
        line(format!("  ok: {c}"));
    }
    for p in &r.verdict.problems {
        line(format!("  PROBLEM: {p}"));
    }
    eprint!("{out}");
}
