//! Oversight (issue 16), measured in one run:
//! 1. ingest with the oversight pass running against without it — the
//!    pass runs beside ingest, off its path, and must not cost it more than
//!    10 % (goal ≥ 90 %). Runs alternate off/on on fresh stores so drift on
//!    a shared machine hits both alike; the pass runs every second (ten
//!    times the default) to be pessimistic, and must have caught up at the
//!    end (every sampling watched) for a run to count.
//! 2. the dashboard at 1,000,000 samplings: the page (first byte and whole)
//!    and the store reads behind it (the tallies), beside the raw aggregate
//!    over the same data (`GROUP BY` over every watch and finding — what a
//!    dashboard without tallies would run on every view).
//!
//! `cargo bench -p sync-server --bench oversight` (release; SQLite; about
//! ten minutes, most of it filling a million records through the real
//! ingest). `-- --records N` for a smaller second part; `-- --postgres`
//! runs both parts on PostgreSQL too.

#![allow(clippy::too_many_lines)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::browser::signed_in;
use common::*;
use std::time::{Duration, Instant};
use sync_server::console::paths;
use sync_server::testing::Backend;

const INGEST_RECORDS: usize = 20_000;
const DEVICES: usize = 8;
const ROUNDS: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let records = args
        .iter()
        .position(|a| a == "--records")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let mut backends = vec![Backend::Embedded];
    if args.iter().any(|a| a == "--postgres") {
        backends.push(Backend::Postgres);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for b in backends {
        rt.block_on(ingest_rates(b));
        rt.block_on(dashboard(b, records));
    }
}

/// Records/s for `INGEST_RECORDS` samplings, with the pass every second or never.
async fn ingest_rate(backend: Backend, pass_on: bool) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let mut config = sync_server::testing::config_on(backend, dir.path());
    config.oversight.interval_ms = if pass_on { 1_000 } else { 0 };
    let server = TestServer::start_with(config, None).await;
    server.seed();
    let t = Instant::now();
    fill_samplings(&server, INGEST_RECORDS, DEVICES, 4).await;
    let rate = INGEST_RECORDS as f64 / t.elapsed().as_secs_f64();
    if pass_on {
        // The pass kept up (or catches up within seconds): it really ran.
        let mut watched = 0;
        for _ in 0..120 {
            watched = open_watches(&server);
            if watched >= INGEST_RECORDS as i64 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert_eq!(watched, INGEST_RECORDS as i64, "the pass watched every sampling");
    }
    server.stop().await;
    rate
}

fn open_watches(server: &TestServer) -> i64 {
    let rows = server.state.store.read(|tx| tx.tallies()).unwrap();
    rows.iter().filter(|r| r.key == "state:open").map(|r| r.n).sum()
}

async fn ingest_rates(backend: Backend) {
    println!("{backend:?}: ingest of {INGEST_RECORDS} samplings, oversight pass off / every second");
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        off.push(ingest_rate(backend, false).await);
        on.push(ingest_rate(backend, true).await);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("  runs off: {off:.0?} records/s; on: {on:.0?} records/s");
    let (m_off, m_on) = (median(&mut off), median(&mut on));
    println!(
        "  median: off {m_off:.0} records/s, on {m_on:.0} records/s = {:.1} % (goal ≥ 90 %)",
        100.0 * m_on / m_off
    );
}

async fn dashboard(backend: Backend, records: usize) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(backend, dir.path()).await;
    println!("{backend:?}: dashboard at {records} samplings");
    server.seed();
    let t = Instant::now();
    fill_samplings(&server, records, DEVICES, 5).await;
    println!("  filled through the real ingest in {:.0} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let report = server.oversight_pass();
    println!(
        "  first oversight pass over them: {} records in {:.0} s",
        report.records,
        t.elapsed().as_secs_f64()
    );
    assert_eq!(open_watches(&server), records as i64);

    // The raw aggregate over the same data, and the tallies the page reads.
    let mut raw = Vec::new();
    let mut tallies = Vec::new();
    for _ in 0..ROUNDS / 10 {
        let t = Instant::now();
        let n = server.state.store.read(|tx| tx.raw_oversight_aggregate()).unwrap();
        raw.push(t.elapsed());
        assert_eq!(n, records as i64);
    }
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let rows = server.state.store.read(|tx| tx.tallies()).unwrap();
        tallies.push(t.elapsed());
        assert!(!rows.is_empty());
    }
    let ((r50, r99), (t50, t99)) = (quantiles(raw), quantiles(tallies));
    println!("  raw aggregate (GROUP BY over every watch and finding): p50 {r50:.1} ms  p99 {r99:.1} ms");
    println!("  tallies the page reads: p50 {t50:.3} ms  p99 {t99:.3} ms");

    for (login, person, who) in
        [("admin", None, "admin"), ("zhoujie", Some("P-ZHOUJIE"), "Zhanqian (210802)")]
    {
        let browser = signed_in(&server, login, person);
        let cookie = browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let (mut ttfb, mut whole) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let t = Instant::now();
            let r = browser
                .http
                .get(format!("{}{}", server.url, paths::OVERSIGHT))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            ttfb.push(t.elapsed());
            assert_eq!(r.status(), 200);
            let body = r.text().await.unwrap();
            whole.push(t.elapsed());
            assert!(body.contains(&format!("data-project=\"{}\"", sync_server::demo::PROJECT)));
        }
        let ((f50, f99), (w50, w99)) = (quantiles(ttfb), quantiles(whole));
        println!(
            "  dashboard page, {who}: first byte p50 {f50:.2} ms  p99 {f99:.2} ms; whole page p50 {w50:.2} ms  p99 {w99:.2} ms"
        );
    }
    server.stop().await;
}
