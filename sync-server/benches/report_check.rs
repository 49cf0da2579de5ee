//! The report QR's check under load (R13): many phones opening `/q/{seal}`
//! at once — each answer verifies the seal, judges every specimen's trail,
//! recomputes its tests from the raw curves, the group value of its three
//! cubes and their near-identical comparison — with `/healthz` asked
//! alongside in the same run as the floor (the same server, connections and
//! loopback, no work). Printed: requests per second and p50/p99 of each.
//!
//! `cargo bench -p sync-server --bench report_check` (release). On each
//! back end; `-- --embedded` for SQLite only. The store holds a sealed
//! report among `BACKGROUND` other samplings, so the check's reads go
//! through indexes of a store that is not empty.

#[path = "../tests/common/mod.rs"]
mod common;

use common::lab::*;
use common::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_server::testing::Backend;

const BACKGROUND: usize = 10_000;
const CLIENTS: usize = 16;
const PER_CLIENT: usize = 100;

fn main() {
    let embedded_only = std::env::args().any(|a| a == "--embedded");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run(Backend::Embedded));
    if !embedded_only {
        rt.block_on(run(Backend::Postgres));
    }
}

/// `CLIENTS` tasks asking `path` `PER_CLIENT` times each, at once.
async fn load(url: Arc<String>, http: reqwest::Client) -> (Vec<Duration>, f64) {
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (url, http) = (url.clone(), http.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(PER_CLIENT);
            for _ in 0..PER_CLIENT {
                let s = Instant::now();
                let r = http.get(url.as_str()).header("accept", "text/html").send().await.unwrap();
                assert!(r.status().is_success(), "{}", r.status());
                r.bytes().await.unwrap();
                lat.push(s.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::with_capacity(CLIENTS * PER_CLIENT);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rate = all.len() as f64 / t.elapsed().as_secs_f64();
    (all, rate)
}

async fn run(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(backend, dir.path()).await;
    println!("{backend:?}: {}", server.state.store.describe());
    server.seed();
    fill_samplings(&server, BACKGROUND, 4, 3).await;
    // A concrete group of three cubes, so each check also recomputes the
    // group value and compares the curves for near-identical copies.
    let mut chain = received(&server, 11).await;
    let cubes = [cube_file(11, 36.0, 110), cube_file(11, 37.0, 111), cube_file(11, 38.5, 112)];
    for c in &cubes {
        cube_tested_and_reviewed(&mut chain, 11, c, vec![]).await;
    }
    let (rep, _) = report(&mut chain, &[11], "BENCH-0001", None).await;
    let sealed: custody_core::protocol::ReportSealResponse =
        seal_of(&chain.lab, &rep).await.json().await.unwrap();
    println!(
        "  a sealed report among {BACKGROUND} samplings; a group of 3 cubes, each curve {} samples, {} bytes",
        custody_core::curve::parse(&cubes[0]).unwrap().samples.len(),
        cubes[0].len()
    );
    let http = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build().unwrap();
    let check = Arc::new(sealed.qr.clone());
    let health = Arc::new(format!("{}/healthz", server.url));
    // Warm both paths (connections, caches), then measure each, twice, in turn.
    load(check.clone(), http.clone()).await;
    load(health.clone(), http.clone()).await;
    for round in 1..=2 {
        for (what, url) in [("check page /q/{seal}", check.clone()), ("/healthz (floor)", health.clone())] {
            let (lat, rate) = load(url, http.clone()).await;
            let (p50, p99) = quantiles(lat);
            println!(
                "  round {round}, {what}: {CLIENTS} clients x {PER_CLIENT}: {rate:.0} req/s, p50 {p50:.2} ms, p99 {p99:.2} ms"
            );
        }
    }
    server.stop().await;
}
