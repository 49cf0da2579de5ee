//! Load the real server over loopback, on each storage back end, and compare
//! with ceilings measured in the same run.
//!
//! `cargo bench -p sync-server --bench load` (release build; ~2 min; starts
//! its own PostgreSQL and moto S3 server like the tests do)
//!
//! * ingest: signed sampling records from 8 enrolled devices, uploaded
//!   concurrently in batches of 50; every one verified (signature, anchor,
//!   chain, authorisation, tag, custody, place, time) and durably stored
//!   with a log receipt. Ceilings: ring's Ed25519 verify rate (each record
//!   costs two verifications: its signature and its time anchor's) and a raw
//!   insert of the same bytes into the same database with the same
//!   durability and batch size (SQLite WAL + synchronous=FULL; PostgreSQL
//!   fsync + synchronous_commit=on, over loopback).
//! * media: a 64 MB video uploaded in 4 MB chunks (each durable before it is
//!   acknowledged, the whole hashed on completion). Ceilings: the same chunks
//!   POSTed over loopback to a bare axum handler that writes and fsyncs them
//!   (directory), or PUT straight to the bucket (S3).

// A benchmark's steps read top to bottom as the measurement they make.
#![allow(clippy::too_many_lines)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use custody_core::Hash;
use custody_core::protocol::{H_UPLOAD_LENGTH, H_UPLOAD_OFFSET, RecordStatus};
use custody_core::record::{MediaPurpose, SignedRecord};
use custody_core::tag::{BatchKey, SerialRange, TagBatch};
use std::time::Instant;
use sync_server::demo;
use sync_server::testing::{Backend, ceilings};

const DEVICES: usize = 8;
const PER_DEVICE: usize = 400;
const BATCH: usize = 50;

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
    let embedded = rt.block_on(run(Backend::Embedded));
    let postgres = rt.block_on(run(Backend::Postgres));
    report(&embedded, &postgres);
}

struct Figures {
    typical: usize,
    chunks: Vec<Vec<u8>>,
    ingest: f64,
    media: f64,
    raw_insert: f64,
    raw_media: f64,
}

async fn run(backend: Backend) -> Figures {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(backend, dir.path()).await;
    println!("{backend:?}: {}, media in {}", server.state.store.describe(), server.state.blobs.describe());
    server.seed();
    server
        .admin()
        .register_tags(TagBatch {
            key: BatchKey { supplier: 310, year: 26, batch: 8 },
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
                s.tag = custody_core::TagCode::from_parts(310, 26, 8, serial).unwrap();
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
        s.tag = custody_core::TagCode::from_parts(310, 26, 8, 99_999).unwrap();
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

    // This back end's ceilings, measured now on the same machine.
    let (raw_insert, raw_media) = match backend {
        Backend::Embedded => (
            ceilings::raw_sqlite_insert_rate(dir.path(), &records_payload(typical), total, BATCH),
            raw_http_rate(dir.path(), &chunks).await,
        ),
        Backend::Postgres => (
            ceilings::raw_postgres_insert_rate(&records_payload(typical), total, BATCH),
            ceilings::raw_s3_put_rate(&chunks),
        ),
    };
    Figures { typical, chunks, ingest, media, raw_insert, raw_media }
}

fn report(e: &Figures, p: &Figures) {
    let verify = ceilings::ring_verify_rate();
    println!();
    println!(
        "{} devices x {} signed sampling records ({} bytes each), batches of {}; media: {} MB in {} chunks",
        DEVICES,
        PER_DEVICE,
        e.typical,
        BATCH,
        e.chunks.iter().map(Vec::len).sum::<usize>() >> 20,
        e.chunks.len()
    );
    println!("{:<56} {:>14} {:>16}", "measure", "SQLite + dir", "PostgreSQL + S3");
    println!(
        "{:<56} {:>12.0}/s {:>14.0}/s",
        "server: records verified + durably stored + receipted", e.ingest, p.ingest
    );
    println!(
        "{:<56} {:>12.0}/s {:>14.0}/s",
        "ceiling: raw insert, same database and durability", e.raw_insert, p.raw_insert
    );
    println!("{:<56} {:>12.0}/s {:>14}", "ceiling: ring Ed25519 verify (1 core)", verify, "same");
    println!(
        "{:<56} {:>12.0}/s {:>14}",
        "ceiling: ring verify / 2 (record signature + anchor)",
        verify / 2.0,
        "same"
    );
    println!(
        "{:<56} {:>10.1} MB/s {:>12.1} MB/s",
        "server: media upload (4 MB chunks, durable, hashed)", e.media, p.media
    );
    println!(
        "{:<56} {:>10.1} MB/s {:>12.1} MB/s",
        "ceiling: raw chunk write (fsync'd file / bucket PUT)", e.raw_media, p.raw_media
    );
    println!();
    for (name, f) in [("SQLite + dir", e), ("PostgreSQL + S3", p)] {
        println!(
            "{name:<16} ingest = {:>3.0}% of the two-verify ceiling, {:>3.0}% of the raw insert; media = {:>3.0}% of raw",
            100.0 * f.ingest / (verify / 2.0),
            100.0 * f.ingest / f.raw_insert,
            100.0 * f.media / f.raw_media
        );
    }
    println!(
        "(client, server, PostgreSQL and the S3 server share this machine's {} cores)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
}

fn records_payload(len: usize) -> Vec<u8> {
    vec![0x5a; len]
}
