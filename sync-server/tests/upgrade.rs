//! Upgrades without losing a record (issue 20; R14, R21, A10.3).
//!
//! A rolling upgrade of two instances behind one PostgreSQL database: while
//! phones keep uploading through a load balancer, one instance is stopped,
//! a new one started in its place (it runs the schema migrations under the
//! migration lock while the other serves), then the other. Every upload a
//! phone sent is acknowledged by some instance — a phone whose instance
//! went away retries on the other, as the field app retries — and the log
//! holds each record exactly once, in order, and verifies.
//!
//! What makes the old instance safe on the new schema is that every shipped
//! migration only expands it: `store::schema::breaks_rolling_upgrade`, run
//! over every migration by the store's unit tests.

mod common;

use common::*;
use custody_core::protocol::*;
use custody_core::record::SignedRecord;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use sync_server::demo;
use sync_server::testing::{Backend, config_on};

const PHONES: usize = 3;

/// The balancer's pool: the instances it currently sends to.
type Pool = Arc<RwLock<Vec<String>>>;

/// Send `rec` to the pool, starting at instance `turn`; on a connection
/// failure or a 5xx, the next instance (as a balancer with retries, or the
/// field app's own retry, does). Gives up only after every instance of the
/// pool failed 20 rounds.
async fn send(
    phone: &Phone,
    pool: &Pool,
    turn: usize,
    rec: &SignedRecord,
    retries: &AtomicUsize,
) -> RecordResult {
    for attempt in 0..40 {
        let urls = pool.read().unwrap().clone();
        let url = &urls[(turn + attempt) % urls.len()];
        match phone.try_upload_to(url, &[rec]).await {
            Ok(r) if r.status().is_success() => {
                let mut body: UploadResponse = r.json().await.unwrap();
                return body.results.remove(0);
            }
            Ok(r) if r.status().is_server_error() => {}
            Ok(r) => panic!("upload refused: {} {}", r.status(), r.text().await.unwrap()),
            Err(_) => {}
        }
        retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no instance took the upload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_upgrade_of_two_instances_keeps_serving_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_on(Backend::Postgres, dir.path());
    let a = TestServer::start_with(cfg.clone(), None).await;
    let b = TestServer::start_with(cfg.clone(), None).await;
    a.seed();
    let pool: Pool = Arc::new(RwLock::new(vec![a.url.clone(), b.url.clone()]));
    let stop = Arc::new(AtomicBool::new(false));
    let retries = Arc::new(AtomicUsize::new(0));

    let mut tasks = Vec::new();
    for i in 0..PHONES {
        let mut p = enrolled(&a, 40 + i as u8, demo::SAMPLER).await;
        p.sync_time().await;
        let (pool, stop, retries) = (pool.clone(), stop.clone(), retries.clone());
        tasks.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            let mut n = 0u32;
            // Until told to stop, and at least a few records each.
            while !stop.load(Ordering::Relaxed) || n < 5 {
                let serial = 1000 + (i as u32) * 300 + n;
                let rec = p.field_record(demo_sampling(serial), 50.0, 50.0, &as_refs(&media(serial, "u")));
                let res = send(&p, &pool, n as usize + i, &rec, &retries).await;
                assert_eq!(res.status, RecordStatus::Accepted, "{:?}", res.findings);
                assert_eq!(res.id, rec.id());
                sent.push(rec.id());
                n += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            sent
        }));
    }

    let settle = || tokio::time::sleep(Duration::from_millis(400));
    settle().await;
    // Instance A goes down while still in the pool (the balancer's health
    // check has not noticed yet): phones sent to it retry on B.
    a.stop().await;
    settle().await;
    // The upgraded A' starts (migrating the shared schema under the lock),
    // and the balancer swaps it in.
    let a2 = TestServer::start_with(cfg.clone(), None).await;
    pool.write().unwrap()[0] = a2.url.clone();
    settle().await;
    // Then B: drained from the pool first this time, then replaced.
    pool.write().unwrap().truncate(1);
    b.stop().await;
    let b2 = TestServer::start_with(cfg.clone(), None).await;
    pool.write().unwrap().push(b2.url.clone());
    settle().await;
    stop.store(true, Ordering::Relaxed);

    let mut sent = Vec::new();
    for t in tasks {
        sent.extend(t.await.unwrap());
    }
    let rows = a2.state.store.read(|tx| tx.records_from(0, 100_000)).unwrap();
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.log_index, i as u64, "consecutive log positions");
    }
    let stored: BTreeSet<_> = rows.iter().map(|r| r.id).collect();
    assert_eq!(stored.len(), rows.len(), "each record once");
    for id in &sent {
        assert!(stored.contains(id), "acknowledged record {id} is in the log");
    }
    assert!(sent.len() >= PHONES * 5);
    let report = sync_server::maintenance::verify_store(
        &b2.state.store,
        &b2.state.blobs,
        &b2.state.key.public(),
        Some(&b2.state.faces),
    )
    .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    eprintln!(
        "rolling upgrade: {} records acknowledged through two restarts, {} retries on the other instance",
        sent.len(),
        retries.load(Ordering::Relaxed)
    );
    a2.stop().await;
    b2.stop().await;
}
