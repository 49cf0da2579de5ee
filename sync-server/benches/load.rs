//! Load the real server over loopback and compare with ceilings measured in
//! the same run.
//!
//! `cargo bench -p sync-server --bench load` (release build; takes ~1 min)
//!
//! * ingest: signed sampling records from 8 enrolled devices, uploaded
//!   concurrently in batches of 50; every one verified (signature, anchor,
//!   chain, authorisation, tag, custody, place, time) and durably stored
//!   (WAL, synchronous=FULL) with a log receipt. Ceilings: ring's Ed25519
//!   verify rate (each record costs two verifications: its signature and its
//!   time anchor's) and a raw SQLite insert of the same bytes with the same
//!   durability and batch size.
//! * media: a 64 MB video uploaded in 4 MB chunks (each flushed, then the
//!   whole hashed on completion). Ceiling: the same chunks POSTed over
//!   loopback to a bare axum handler that writes and fsyncs them.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use custody_core::Hash;
use custody_core::protocol::{H_UPLOAD_LENGTH, H_UPLOAD_OFFSET, RecordStatus};
use custody_core::record::{MediaPurpose, SignedRecord};
use custody_core::tag::{BatchKey, SerialRange, TagBatch};
use std::time::Instant;
use sync_server::demo;

const DEVICES: usize = 8;
const PER_DEVICE: usize = 400;
const BATCH: usize = 50;

fn ring_verify_rate() -> f64 {
    use ring::signature::{ED25519, Ed25519KeyPair, UnparsedPublicKey};
    let pair = Ed25519KeyPair::from_seed_unchecked(&[9; 32]).unwrap();
    let msg = [1u8; 32];
    let sig = pair.sign(&msg);
    let pk = UnparsedPublicKey::new(&ED25519, ring::signature::KeyPair::public_key(&pair).as_ref().to_vec());
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        assert!(pk.verify(std::hint::black_box(&msg), sig.as_ref()).is_ok());
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn raw_sqlite_rate(dir: &std::path::Path, payload: &[u8], n: usize) -> f64 {
    let c = rusqlite::Connection::open(dir.join("raw.sqlite")).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.pragma_update(None, "synchronous", "FULL").unwrap();
    c.execute_batch("CREATE TABLE r(id BLOB PRIMARY KEY, body BLOB NOT NULL)").unwrap();
    let t = Instant::now();
    for chunk in 0..n / BATCH {
        let tx = c.unchecked_transaction().unwrap();
        for i in 0..BATCH {
            let id = Hash::of(&((chunk * BATCH + i) as u64).to_le_bytes());
            tx.execute("INSERT INTO r VALUES (?1, ?2)", rusqlite::params![id.as_bytes().as_slice(), payload])
                .unwrap();
        }
        tx.commit().unwrap();
    }
    n as f64 / t.elapsed().as_secs_f64()
}

async fn raw_http_rate(dir: &std::path::Path, chunks: &[Vec<u8>]) -> f64 {
    use axum::routing::post;
    let path = dir.join("raw-upload");
    let p2 = path.clone();
    let app = axum::Router::new()
        .route(
            "/up",
            post(move |body: axum::body::Bytes| {
                let p = p2.clone();
                async move {
                    tokio::task::spawn_blocking(move || {
                        use std::io::Write;
                        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(p).unwrap();
                        f.write_all(&body).unwrap();
                        f.sync_data().unwrap();
                    })
                    .await
                    .unwrap();
                    "ok"
                }
            }),
        )
        .layer(axum::extract::DefaultBodyLimit::max(64 << 20));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = reqwest::Client::new();
    let total: usize = chunks.iter().map(Vec::len).sum();
    let t = Instant::now();
    for c in chunks {
        let r = http.post(format!("http://{addr}/up")).body(c.clone()).send().await.unwrap();
        assert!(r.status().is_success());
    }
    total as f64 / 1e6 / t.elapsed().as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed();
    server
        .admin()
        .register_tags(TagBatch {
            key: BatchKey { supplier: 310, year: 26, batch: 2 },
            supplier_org: custody_core::fixtures::id("ORG-TAG-AF"),
            project: custody_core::fixtures::id(demo::PROJECT),
            ranges: vec![SerialRange { first: 1, last: 100_000 }],
        })
        .unwrap();

    // Enroll the devices and pre-sign every record (signing is the phones' work).
    let mut phones = Vec::new();
    let mut records: Vec<Vec<SignedRecord>> = Vec::new();
    let face = FACE.to_vec();
    for d in 0..DEVICES {
        let mut p = Phone::new(&server, 20 + d as u8, demo::SAMPLER);
        assert!(p.enroll(&server.offer(demo::SAMPLER)).await.status().is_success());
        p.sync_time().await;
        let mut recs = Vec::new();
        for i in 0..PER_DEVICE {
            let serial = (d * PER_DEVICE + i + 1) as u32;
            let mut payload = demo_sampling(1);
            if let custody_core::record::Payload::Sampling(s) = &mut payload {
                s.tag = custody_core::TagCode::from_parts(310, 26, 2, serial).unwrap();
            }
            let photo = process_photo(serial, "bench");
            recs.push(p.field_record(
                payload,
                50.0,
                50.0,
                &[(MediaPurpose::Face, &face), (MediaPurpose::Process, &photo)],
            ));
        }
        records.push(recs);
        phones.push(p);
    }
    let typical = records[0][0].to_bytes().len();
    let total = DEVICES * PER_DEVICE;
    println!(
        "ingest: {DEVICES} devices x {PER_DEVICE} signed sampling records ({typical} bytes each), batches of {BATCH}"
    );

    let t = Instant::now();
    let mut tasks = Vec::new();
    for (mut p, recs) in phones.into_iter().zip(records) {
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0;
            for chunk in recs.chunks(BATCH) {
                let refs: Vec<&SignedRecord> = chunk.iter().collect();
                let resp = p.upload(&refs).await;
                accepted += resp.results.iter().filter(|r| r.status == RecordStatus::Accepted).count();
            }
            accepted
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await.unwrap();
    }
    let ingest = total as f64 / t.elapsed().as_secs_f64();
    assert_eq!(accepted, total, "every record accepted");

    // Media: one 64 MB video in 4 MB chunks.
    let mut uploader = Phone::new(&server, 60, demo::SAMPLER);
    assert!(uploader.enroll(&server.offer(demo::SAMPLER)).await.status().is_success());
    let video: Vec<u8> = (0..64u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let sha = Hash::of(&video);
    let mut payload = demo_sampling(1);
    if let custody_core::record::Payload::Sampling(s) = &mut payload {
        s.tag = custody_core::TagCode::from_parts(310, 26, 2, 99_999).unwrap();
    }
    let rec = uploader.field_record(
        payload,
        50.0,
        50.0,
        &[(MediaPurpose::Face, &face), (MediaPurpose::Process, &video)],
    );
    uploader.upload(&[&rec]).await;
    let chunks: Vec<Vec<u8>> = video.chunks(4 << 20).map(<[u8]>::to_vec).collect();
    let t = Instant::now();
    let mut offset = 0;
    for c in &chunks {
        let extra = [(H_UPLOAD_OFFSET, offset.to_string()), (H_UPLOAD_LENGTH, video.len().to_string())];
        let r = uploader
            .signed_with(
                reqwest::Method::PATCH,
                &format!("/v1/media/{sha}"),
                c.clone(),
                uploader.now(),
                &random_nonce(),
                &extra,
            )
            .await;
        assert!(r.status().is_success(), "{}", r.status());
        offset += c.len();
    }
    let media = video.len() as f64 / 1e6 / t.elapsed().as_secs_f64();
    assert_eq!(server.state.blobs.read(&sha).unwrap().len(), video.len());
    server.stop().await;

    // Ceilings, measured now on the same machine.
    let verify = ring_verify_rate();
    let raw_sqlite = raw_sqlite_rate(dir.path(), &records_payload(typical), total);
    let raw_http = raw_http_rate(dir.path(), &chunks).await;

    println!();
    println!("{:<58} {:>12}", "measure", "rate");
    println!("{:<58} {:>10.0}/s", "server: records verified + durably stored + receipted", ingest);
    println!("{:<58} {:>10.0}/s", "ceiling: ring Ed25519 verify (1 core)", verify);
    println!("{:<58} {:>10.0}/s", "ceiling: ring verify / 2 (record signature + its anchor)", verify / 2.0);
    println!("{:<58} {:>10.0}/s", "ceiling: raw SQLite insert, WAL + FULL, batches of 50", raw_sqlite);
    println!("{:<58} {:>8.1} MB/s", "server: media upload (4 MB chunks, fsync, hash)", media);
    println!("{:<58} {:>8.1} MB/s", "ceiling: raw loopback HTTP POST + write + fsync", raw_http);
    println!();
    println!(
        "ingest = {:.0}% of the two-verify ceiling, {:.0}% of raw SQLite insert",
        100.0 * ingest / (verify / 2.0),
        100.0 * ingest / raw_sqlite
    );
    println!("media  = {:.0}% of raw loopback upload", 100.0 * media / raw_http);
    println!(
        "(client and server share this machine's {} cores)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
}

fn records_payload(len: usize) -> Vec<u8> {
    vec![0x5a; len]
}
