//! Pulling the battery: the engine is SIGKILLed at random points while it
//! commits records, many times over. After each kill the store must be
//! consistent, the device's hash chain intact, and every record the process
//! reported as saved must be there (issue 4).

use custody_core::SignedRecord;
use rusqlite::Connection;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use sync_server::testing::TestServer;

fn sim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_field-sim"))
}

/// What a killed run left on disk: checks and returns the number of records.
fn check_store(data: &Path, reported: Option<u64>) -> usize {
    let c = Connection::open(data.join("engine/field.sqlite")).unwrap();
    let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    let mut st = c.prepare("SELECT seq, envelope FROM own_records ORDER BY seq").unwrap();
    let rows: Vec<(i64, Vec<u8>)> =
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    let records: Vec<SignedRecord> = rows
        .iter()
        .enumerate()
        .map(|(i, (seq, env))| {
            assert_eq!(*seq as usize, i, "sequence numbers are contiguous");
            SignedRecord::decode_verified(env).expect("every stored record decodes and verifies")
        })
        .collect();
    custody_core::record::verify_chain(&records).expect("the device's hash chain is intact");
    if let Some(seq) = reported {
        assert!(records.len() as u64 > seq, "record {seq} was reported saved but is missing");
    }
    // Every media file a record names is on disk and listed.
    for r in &records {
        for m in &r.body().evidence.media {
            let n: i64 = c
                .query_row(
                    "SELECT count(*) FROM media WHERE sha256 = ?1",
                    [m.sha256.as_bytes().as_slice()],
                    |x| x.get(0),
                )
                .unwrap();
            assert_eq!(n, 1, "media row for {}", m.sha256);
        }
    }
    records.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_transaction_many_times_the_store_stays_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed();
    let data = tempfile::tempdir().unwrap();
    let offer = server.offer(sync_server::demo::SAMPLER).to_qr();
    let d = data.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        sim().arg("--data").arg(&d).args(["enroll", &offer]).output().unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // Deterministic "random" kill times, so a failure can be replayed.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut kills = 0;
    let mut made = 0;
    for round in 0..30 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let delay = Duration::from_millis(40 + x % 400);
        let d = data.path().to_owned();
        // Serials are used in order: start after the last one stored.
        let start = (made + 1).to_string();
        let reported = tokio::task::spawn_blocking(move || {
            let mut child = sim()
                .arg("--data")
                .arg(&d)
                .args(["stress", "--start", &start])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            let reader = std::thread::spawn(move || {
                BufReader::new(stdout)
                    .lines()
                    .map_while(Result::ok)
                    .filter_map(|l| l.parse::<u64>().ok())
                    .last()
            });
            std::thread::sleep(delay);
            child.kill().unwrap(); // SIGKILL: no chance to clean up
            child.wait().unwrap();
            reader.join().unwrap()
        })
        .await
        .unwrap();
        kills += 1;
        let n = check_store(data.path(), reported);
        made = n;
        eprintln!("round {round}: killed after {delay:?}, {n} records intact");
    }
    assert_eq!(kills, 30);
    let n = check_store(data.path(), None);
    assert!(n > 0, "some records were made");

    // And everything that survived syncs: each record stored exactly once.
    let before = server.state.store.read(|tx| tx.record_count()).unwrap();
    let d = data.path().to_owned();
    let out = tokio::task::spawn_blocking(move || sim().arg("--data").arg(&d).arg("sync").output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = server.state.store.read(|tx| tx.record_count()).unwrap();
    assert_eq!((after - before) as usize, n);
    let report = sync_server::maintenance::verify_store(
        &server.state.store,
        &server.state.blobs,
        &server.state.key.public(),
        Some(&server.state.faces),
    )
    .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    server.stop().await;
}
