//! The web console's records list at 100,000 records (issue 13): time to
//! first byte and to the whole page over loopback, for an administrator
//! (every record) and a district regulator (their jurisdiction's projects),
//! first page and a deep page, beside the raw store query for the same page
//! measured in the same run.
//!
//! `cargo bench -p sync-server --bench console` (release; a few minutes:
//! 100,000 signed samplings go through the real ingest first). On each
//! back end; `-- --embedded` for SQLite only. `-- --serve` keeps the
//! embedded server running afterwards and prints its console URL and an
//! administrator's setup link (what `scripts/console-timing` measures in
//! Chromium).

// A benchmark's steps read top to bottom as the measurement they make.
#![allow(clippy::too_many_lines)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::browser::signed_in;
use common::*;
use std::time::Instant;
use sync_server::console::paths;
use sync_server::demo;
use sync_server::testing::Backend;

const RECORDS: usize = 100_000;
const DEVICES: usize = 8;
const ROUNDS: usize = 200;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let serve = args.iter().any(|a| a == "--serve");
    let embedded_only = serve || args.iter().any(|a| a == "--embedded");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run(Backend::Embedded, serve));
    if !embedded_only {
        rt.block_on(run(Backend::Postgres, false));
    }
}

async fn run(backend: Backend, serve: bool) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(backend, dir.path()).await;
    println!("{backend:?}: {}", server.state.store.describe());
    server.seed();
    let t = Instant::now();
    fill_samplings(&server, RECORDS, DEVICES, 3).await;
    println!("  filled: {RECORDS} samplings through the real ingest in {:.0} s", t.elapsed().as_secs_f64());
    let count = server.state.store.read(|tx| tx.record_count()).unwrap();
    println!("  {count} records in the store");

    // The raw store query for a page: the same call the handler makes, timed alone.
    let deep = server.state.store.read(|tx| tx.log_size()).unwrap() / 2;
    for (who, filter) in [("admin", None), ("Zhanqian (210802)", Some(vec![demo::PROJECT.to_owned()]))] {
        for (page, before) in [("first page", None), ("deep page", Some(deep))] {
            let mut raw = Vec::with_capacity(ROUNDS);
            for _ in 0..ROUNDS {
                let f = filter.clone();
                let t = Instant::now();
                let rows = server
                    .state
                    .store
                    .read(move |tx| tx.console_records(f.as_deref(), None, before, 50))
                    .unwrap();
                raw.push(t.elapsed());
                assert_eq!(rows.len(), 50);
            }
            let (p50, p99) = quantiles(raw);
            println!("  raw store query, {who}, {page}: p50 {p50:.2} ms  p99 {p99:.2} ms");
        }
    }
    // The pages themselves, over loopback, as a browser asks for them.
    for (login, person, who) in
        [("admin", None, "admin"), ("zhoujie", Some("P-ZHOUJIE"), "Zhanqian (210802)")]
    {
        let browser = signed_in(&server, login, person);
        let cookie = browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        for (page, path) in [
            ("first page", paths::RECORDS.to_owned()),
            ("deep page", format!("{}?before={deep}", paths::RECORDS)),
        ] {
            let (mut ttfb, mut whole) = (Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                let t = Instant::now();
                let r = browser
                    .http
                    .get(format!("{}{path}", server.url))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap();
                ttfb.push(t.elapsed());
                assert_eq!(r.status(), 200);
                let body = r.text().await.unwrap();
                whole.push(t.elapsed());
                assert_eq!(body.matches("data-testid=\"record-row\"").count(), 50);
            }
            let ((f50, f99), (w50, w99)) = (quantiles(ttfb), quantiles(whole));
            println!(
                "  records list, {who}, {page}: first byte p50 {f50:.2} ms  p99 {f99:.2} ms; whole page p50 {w50:.2} ms  p99 {w99:.2} ms"
            );
        }
    }
    if serve {
        let link = sync_server::console::ensure_account(&server.state, "timing", "timing", None, "bench")
            .unwrap()
            .unwrap();
        println!("CONSOLE_URL={}", server.url);
        println!("ADMIN_LINK={}{link}", server.url);
        println!("DEEP_BEFORE={deep}");
        // Until whoever asked closes our input.
        let _ =
            tokio::task::spawn_blocking(|| std::io::Read::read(&mut std::io::stdin(), &mut [0u8; 1])).await;
    }
    server.stop().await;
}
