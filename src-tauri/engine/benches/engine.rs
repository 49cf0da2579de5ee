//! Field engine costs, each beside a ceiling measured in the same run.
//!
//! `cargo bench -p field-engine --bench engine` (release; ~2 min)
//!
//! 1. Creating a sampling record: store its two photos (face sealed), build
//!    the draft, run every shared rule, sign, commit record + media + outbox
//!    in one transaction (WAL, synchronous=FULL) — p50/p99 per record, beside
//!    a raw rusqlite insert of the same envelope with the same durability, and
//!    the same raw insert plus writing and fsyncing the same media bytes.
//! 2. Sync: 1,000 records with 200 MB of photos, uploaded to a real server
//!    over loopback (records in batches, media in 512 KB chunks).

// A benchmark's main reads top to bottom as the measurement it makes.
#![allow(clippy::too_many_lines)]

use custody_core::fixtures;
use custody_core::record::{FaceCheck, MediaPurpose, TagRead, TagReadMethod};
use custody_core::tag::{BatchKey, SerialRange, TagBatch};
use field_engine::clock::{DeviceClock, ManualClock};
use field_engine::vault::{FileSecretStore, Vault};
use field_engine::{Engine, FieldEvidence, SamplingInput};
use std::sync::Arc;
use std::time::Instant;
use sync_server::testing::TestServer;

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn photo(label: &str, size: usize) -> Vec<u8> {
    let seed = custody_core::Hash::of(label.as_bytes());
    (0..size).map(|i| seed.0[i % 32] ^ (i / 32) as u8).collect()
}

fn input(engine: &Engine, clock: &ManualClock, serial: u32, process_size: usize) -> SamplingInput {
    let face = engine
        .store_media(&photo(&format!("face {serial}"), 60_000), MediaPurpose::Face, "image/jpeg")
        .unwrap();
    let process = engine
        .store_media(&photo(&format!("process {serial}"), process_size), MediaPurpose::Process, "image/jpeg")
        .unwrap();
    let mono = clock.mono_ms();
    let at = fixtures::site_point(50.0, 60.0);
    SamplingInput {
        tag: custody_core::TagCode::from_parts(310, 26, 3, serial).unwrap(),
        tag_read: TagRead { method: TagReadMethod::Camera, decoder: Some("bench".into()) },
        seal: None,
        project: custody_core::Id::new(sync_server::demo::PROJECT).unwrap(),
        unit_project: custody_core::Id::new("UP-1").unwrap(),
        specimen: fixtures::specimen(),
        face: FaceCheck {
            photo: face.sha256,
            model: "bench input".into(),
            score_milli: 900,
            threshold_milli: 700,
            matched: true,
            liveness: None,
        },
        evidence: FieldEvidence {
            media: vec![face, process],
            fixes: vec![
                fixtures::gnss_fix(at, 4.0, mono.saturating_sub(2000)),
                fixtures::gnss_fix(at, 3.0, mono),
            ],
        },
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("server")).await;
    server.seed();
    server
        .admin()
        .register_tags(TagBatch {
            key: BatchKey { supplier: 310, year: 26, batch: 3 },
            supplier_org: fixtures::id("ORG-TAG-AF"),
            project: fixtures::id(sync_server::demo::PROJECT),
            ranges: vec![SerialRange { first: 1, last: 10_000 }],
        })
        .unwrap();
    let phone_dir = dir.path().join("phone");
    let clock = Arc::new(ManualClock::new(field_engine_now(), "bench-boot"));
    let vault = Vault::new(Box::new(FileSecretStore::new(&phone_dir.join("secrets")).unwrap()));
    let engine = Arc::new(Engine::open(&phone_dir.join("data"), &vault, clock.clone()).unwrap());
    engine.enroll(&server.offer(sync_server::demo::SAMPLER).to_qr(), "bench", "linux").await.unwrap();

    // 1. Creating records.
    const N: u32 = 300;
    let mut create = Vec::new();
    for serial in 1..=N {
        clock.advance(10);
        let t = Instant::now();
        let i = input(&engine, &clock, serial, 200_000);
        engine.create_sampling(i, true).unwrap();
        create.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let envelope_len = engine
        .history(1)
        .unwrap()
        .first()
        .map(|v| serde_json::to_vec(&v.body).unwrap().len())
        .unwrap_or(2000);
    let (mut raw, mut raw_media) = (Vec::new(), Vec::new());
    {
        let c = rusqlite::Connection::open(dir.path().join("raw.sqlite")).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        c.pragma_update(None, "synchronous", "FULL").unwrap();
        c.execute_batch("CREATE TABLE r(seq INTEGER PRIMARY KEY, body BLOB NOT NULL)").unwrap();
        let body = vec![0x5au8; envelope_len];
        let media_dir = dir.path().join("rawmedia");
        std::fs::create_dir_all(&media_dir).unwrap();
        for i in 0..N as i64 {
            let t = Instant::now();
            c.execute("INSERT INTO r VALUES (?1, ?2)", rusqlite::params![i, body]).unwrap();
            raw.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            for (k, size) in [(0, 60_000), (1, 200_000)] {
                use std::io::Write;
                let mut f = std::fs::File::create(media_dir.join(format!("{i}-{k}"))).unwrap();
                f.write_all(&photo(&format!("raw {i} {k}"), size)).unwrap();
                f.sync_all().unwrap();
            }
            c.execute("INSERT INTO r VALUES (?1, ?2)", rusqlite::params![i + 1_000_000, body]).unwrap();
            raw_media.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }

    // 2. Sync: 1,000 records (these 300 and 700 more), 200 MB of photos in all.
    for serial in N + 1..=1000 {
        clock.advance(10);
        let i = input(&engine, &clock, serial, 200_000);
        engine.create_sampling(i, true).unwrap();
    }
    let st = engine.status().unwrap();
    let t = Instant::now();
    let rep = engine.sync_once().await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(rep.accepted, 1000, "{rep:?}");
    let mb = rep.media_bytes as f64 / 1e6;
    server.stop().await;

    println!(
        "record creation ({N} samplings, photos 60 KB face + 200 KB process, envelope ~{envelope_len} B):"
    );
    println!(
        "  {:<62} p50 {:>7.2} ms  p99 {:>7.2} ms",
        "engine: store media + validate + sign + commit (one tx)",
        pct(&mut create.clone(), 0.5),
        pct(&mut create, 0.99)
    );
    println!(
        "  {:<62} p50 {:>7.2} ms  p99 {:>7.2} ms",
        "raw rusqlite insert, WAL + FULL, one row per tx",
        pct(&mut raw.clone(), 0.5),
        pct(&mut raw, 0.99)
    );
    println!(
        "  {:<62} p50 {:>7.2} ms  p99 {:>7.2} ms",
        "raw: write+fsync the same two photos, then the insert",
        pct(&mut raw_media.clone(), 0.5),
        pct(&mut raw_media, 0.99)
    );
    println!();
    println!(
        "sync over loopback: {} records, {:.0} MB pending before",
        st.pending_records,
        st.pending_media_bytes as f64 / 1e6
    );
    println!(
        "  {:.1} s: {:.0} records/s, {:.1} MB/s of media ({} files)",
        secs,
        rep.uploaded as f64 / secs,
        mb / secs,
        rep.media_completed
    );
    println!("(phone, server and their disks share this machine's 2 cores)");
}

fn field_engine_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}
