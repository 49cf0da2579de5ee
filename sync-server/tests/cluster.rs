//! The production twin beyond one process (issue 7): several server instances
//! on one PostgreSQL + one bucket, the migration from the embedded store, and
//! the read replica. Real PostgreSQL and S3 (moto) servers, started by the
//! test harness (`sync_server::testing::services`).

// A story reads top to bottom as the flow it checks; cut into pieces it
// would hide the order that matters.
#![allow(clippy::too_many_lines)]

mod common;

use common::*;
use custody_core::Hash;
use custody_core::log::verify_consistency;
use custody_core::protocol::*;
use custody_core::record::SignedRecord;
use reqwest::Method;
use std::collections::BTreeSet;
use std::path::Path;
use sync_server::blobs::Blobs;
use sync_server::demo;
use sync_server::store::postgres::PgStore;
use sync_server::testing::{Backend, config_on, services};

async fn put_media(phone: &Phone, base: &str, bytes: &[u8]) -> reqwest::StatusCode {
    let sha = Hash::of(bytes);
    phone
        .signed_to(
            base,
            Method::PATCH,
            &format!("/v1/media/{sha}"),
            bytes.to_vec(),
            phone.now(),
            &random_nonce(),
            &[(H_UPLOAD_OFFSET, "0".into()), (H_UPLOAD_LENGTH, bytes.len().to_string())],
        )
        .await
        .status()
}

const PHONES: usize = 6;
const PER_PHONE: usize = 24;
const BATCH: usize = 4;

/// R14/R18: two instances take uploads for the same devices at once — every
/// batch is sent to both simultaneously — and the log still has each record
/// exactly once, at consecutive positions, with one chain per device, and
/// receipts and proofs from either instance agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres_keep_one_log_and_idempotency() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_on(Backend::Postgres, dir.path());
    let a = TestServer::start_with(cfg.clone(), None).await;
    let b = TestServer::start_with(cfg, None).await;
    assert_eq!(a.state.key.public(), b.state.key.public(), "instances share the server key");
    a.seed();
    let trusted = vec![a.state.key.public()];

    let mut tasks = Vec::new();
    for i in 0..PHONES {
        // Enrolled through either instance: the code is used up on both.
        let via = if i % 2 == 0 { &a } else { &b };
        let mut p = enrolled(via, 30 + i as u8, demo::SAMPLER).await;
        p.sync_time().await;
        let recs: Vec<SignedRecord> = (0..PER_PHONE)
            .map(|k| {
                let serial = (i * PER_PHONE + k + 1) as u32;
                p.field_record(demo_sampling(serial), 50.0, 50.0, &as_refs(&media(serial, "s")))
            })
            .collect();
        let (ua, ub) = (a.url.clone(), b.url.clone());
        tasks.push(tokio::spawn(async move {
            let mut firsts = Vec::new();
            let mut receipts = Vec::new();
            for (n, chunk) in recs.chunks(BATCH).enumerate() {
                let batch: Vec<&SignedRecord> = chunk.iter().collect();
                // The same batch to both instances at once (a phone retrying on
                // another node after a timeout does exactly this).
                let (first, second) = if n % 2 == 0 { (&ua, &ub) } else { (&ub, &ua) };
                let (r1, r2) = tokio::join!(p.upload_to(first, &batch), p.upload_to(second, &batch));
                for r in [r1, r2] {
                    assert!(r.status().is_success(), "upload: {}", r.status());
                    let body: UploadResponse = r.json().await.unwrap();
                    for res in body.results {
                        assert_eq!(res.status, RecordStatus::Accepted, "{:?}", res.findings);
                        if !res.duplicate {
                            firsts.push(res.id);
                        }
                        receipts.push(res.receipt.expect("a receipt from either instance"));
                    }
                }
            }
            // A replayed request (same nonce) is refused by the other instance too.
            let nonce = random_nonce();
            let send = |base: String| {
                let n = nonce.clone();
                let p = &p;
                async move { p.signed_to(&base, Method::GET, "/v1/feed?after=0", vec![], p.now(), &n, &[]).await }
            };
            let (x, y) = tokio::join!(send(ua.clone()), send(ub.clone()));
            let ok = [x.status(), y.status()].iter().filter(|s| s.is_success()).count();
            assert_eq!(ok, 1, "one nonce, one request, across instances: {} {}", x.status(), y.status());
            // The same media file to both instances at once: stored once, intact.
            let bytes = process_photo((i * PER_PHONE + 1) as u32, "s");
            let (m1, m2) = tokio::join!(put_media(&p, &ua, &bytes), put_media(&p, &ub, &bytes));
            assert!(m1.is_success() || m2.is_success(), "{m1} {m2}");
            for m in [m1, m2] {
                assert!(m.is_success() || m == 409, "{m}");
            }
            (recs.iter().map(|r| r.id()).collect::<Vec<_>>(), firsts, receipts)
        }));
    }
    let mut all = Vec::new();
    let mut firsts = Vec::new();
    let mut receipts = Vec::new();
    for t in tasks {
        let (ids, f, r) = t.await.unwrap();
        all.extend(ids);
        firsts.extend(f);
        receipts.extend(r);
    }
    let total = PHONES * PER_PHONE;
    // Each record was stored by exactly one of the two concurrent sends.
    assert_eq!(firsts.len(), total, "exactly one non-duplicate acceptance per record");
    assert_eq!(firsts.iter().collect::<BTreeSet<_>>().len(), total);
    assert_eq!(all.iter().collect::<BTreeSet<_>>(), firsts.iter().collect::<BTreeSet<_>>());
    // Both answers for a record name the same log position.
    let mut leaf_of = std::collections::BTreeMap::new();
    for r in &receipts {
        r.verify(&trusted).unwrap();
        let prev = leaf_of.insert(r.record, r.leaf_index);
        assert!(prev.is_none() || prev == Some(r.leaf_index), "one record, one leaf");
    }
    let rows = a.state.store.read(|tx| tx.records_from(0, 10_000)).unwrap();
    // Records, plus the admin records of the seed: positions 0..n without a gap.
    assert!(rows.len() >= total);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.log_index, i as u64, "consecutive log positions");
    }
    let changes: BTreeSet<u64> = rows.iter().map(|r| r.change_seq).collect();
    assert_eq!(changes.len(), rows.len(), "change sequence numbers are unique");
    // Checkpoints from either instance are consistent with each other.
    let phone = enrolled(&a, 90, demo::SAMPLER).await;
    let cp_a: custody_core::log::SignedCheckpoint = phone.get_json("/v1/log/checkpoint").await;
    let cons: ConsistencyResponse = phone
        .signed_to(
            &b.url,
            Method::GET,
            &format!("/v1/log/consistency?from={}", cp_a.checkpoint.size / 2),
            vec![],
            phone.now(),
            &random_nonce(),
            &[],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cons.checkpoint.checkpoint.size, cp_a.checkpoint.size);
    assert_eq!(cons.checkpoint.checkpoint.root, cp_a.checkpoint.root);
    let report = sync_server::maintenance::verify_store(
        &b.state.store,
        &b.state.blobs,
        &b.state.key.public(),
        Some(&b.state.faces),
    )
    .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    a.stop().await;
    b.stop().await;
}

/// R14: the embedded store and its media move to PostgreSQL and a bucket;
/// the copy verifies, a re-run only catches up, the server carries on where
/// it was (same key, same log: a pre-migration checkpoint is consistent with
/// the new ones), and once the target is in service a migration refuses to
/// overwrite it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_embedded_to_postgres_and_bucket_verifies_and_reruns() {
    let dir = tempfile::tempdir().unwrap();
    let old = TestServer::start(dir.path()).await;
    old.seed();
    let mut sampler = enrolled(&old, 2, demo::SAMPLER).await;
    let mut witness = enrolled(&old, 3, demo::WITNESS).await;
    sampler.sync_time().await;
    witness.sync_time().await;
    let mut records = Vec::new();
    for t in 1..=5u32 {
        let sm = media(t, "s");
        let s = sampler.field_record(demo_sampling(t), 50.0, 50.0, &as_refs(&sm));
        sampler.upload(&[&s]).await;
        let wm = media(t, "w");
        let w = witness.field_record(demo_witnessing(&s), 51.0, 50.0, &as_refs(&wm));
        witness.upload(&[&w]).await;
        for (_, bytes) in sm.iter().chain(&wm) {
            let st = put_media(&sampler, &old.url, bytes).await;
            let st = if st == 404 { put_media(&witness, &old.url, bytes).await } else { st };
            assert!(st.is_success() || st == 409, "{st}");
        }
        records.push(s);
    }
    let before: custody_core::log::SignedCheckpoint = sampler.get_json("/v1/log/checkpoint").await;
    let old_count = old.state.store.read(|tx| tx.record_count()).unwrap();
    let src_media = old.state.blobs.clone();
    let sqlite = old.state.config.database_path();
    // Migrate while the old server still runs (the source is read as one snapshot).
    let mut cfg = config_on(Backend::Postgres, dir.path());
    let pg = PgStore::open(&cfg.storage.database, None, cfg.storage.database_ca.as_deref()).unwrap();
    let bucket = Blobs::from_config(&cfg).unwrap();
    let report = sync_server::migrate::migrate(
        &sqlite,
        &pg,
        Some((&src_media, &bucket)),
        &bucket,
        Some(&old.state.faces),
    )
    .unwrap();
    assert!(report.verify.ok(), "{:?}", report.verify.problems);
    assert_eq!(report.verify.records, old_count);
    assert_eq!(report.media_copied, src_media.list().unwrap().len() + src_media.list_sealed().unwrap().len());
    assert!(report.media_copied >= 6);
    // The face photo moved sealed, and was opened in the copy (issue 18).
    assert_eq!(
        (report.verify.faces_sealed, report.verify.faces_opened, report.verify.faces_plain),
        (1, 1, 0)
    );
    assert_eq!(bucket.list_sealed().unwrap(), vec![Hash::of(FACE)]);
    old.stop().await;

    // A re-run through the command line: it catches up, copies no media twice.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .args(["admin", "migrate", "--from"])
        .arg(format!("sqlite:{}", sqlite.display()))
        .args(["--to", &cfg.storage.database, "--media-from"])
        .arg(dir.path().join("media"))
        .args(["--media-to", &cfg.storage.media_bucket])
        .env("JZQY_STORAGE__S3__ENDPOINT", &cfg.storage.s3.endpoint)
        .env("JZQY_STORAGE__S3__REGION", &cfg.storage.s3.region)
        .env("JZQY_STORAGE__S3__ACCESS_KEY_ID", &cfg.storage.s3.access_key_id)
        .env("JZQY_STORAGE__S3__SECRET_ACCESS_KEY", &cfg.storage.s3.secret_access_key)
        .env("JZQY_STORAGE__S3__PATH_STYLE", "true")
        .env("JZQY_STORAGE__DATABASE_CA", cfg.storage.database_ca.as_ref().unwrap())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("0 objects copied") && stdout.contains("migrated and verified"), "{stdout}");
    assert_eq!(pg.read(|tx| tx.record_count()).unwrap(), old_count, "a re-run adds nothing");

    // The server now runs on PostgreSQL + bucket, same data dir (same key).
    cfg.server.data_dir = dir.path().to_owned();
    let new = TestServer::start_with(cfg.clone(), None).await;
    sampler.base = new.url.clone();
    let again = sampler.upload(&[&records[0]]).await;
    assert!(again.results[0].duplicate, "records from before the move are known");
    let s6 = sampler.field_record(demo_sampling(6), 50.0, 50.0, &as_refs(&media(6, "s")));
    let resp = sampler.upload(&[&s6]).await;
    assert_eq!(resp.results[0].status, RecordStatus::Accepted);
    resp.results[0].receipt.as_ref().unwrap().verify(&[new.state.key.public()]).unwrap();
    let cons: ConsistencyResponse =
        sampler.get_json(&format!("/v1/log/consistency?from={}", before.checkpoint.size)).await;
    verify_consistency(&before.checkpoint, &cons.checkpoint.checkpoint, &cons.proof).unwrap();
    assert!(new.state.blobs.read(&Hash::of(FACE)).is_err(), "the face is not in the bucket in the clear");
    let face = new.state.faces.read(&new.state.store, &new.state.blobs, &Hash::of(FACE)).unwrap();
    assert_eq!(face, FACE, "media moved byte for byte (the face sealed, opened with the same key)");

    // Now the target is ahead of the old file: migrating again would lose s6.
    let e = sync_server::migrate::migrate(&sqlite, &pg, None, &bucket, None).unwrap_err();
    assert!(e.to_string().contains("already in service"), "{e}");
    assert_eq!(pg.read(|tx| tx.record_count()).unwrap(), old_count + 1, "nothing lost");
    new.stop().await;
}

/// Lab, regulator and public verification reads go to the read replica; a
/// lab's scan never sees less than the log held when it asked (it falls back
/// to the primary while the replica lags), and the regulator's list follows
/// the replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_the_replica_and_the_lab_never_sees_a_stale_trail() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config_on(Backend::Postgres, dir.path());
    let replica = services::replica_of(&cfg.storage.database);
    cfg.storage.read_replica = replica.clone();
    let server = TestServer::start_with(cfg, None).await;
    assert!(server.state.store.describe().contains("read replica"));
    server.seed();
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let mut witness = enrolled(&server, 3, demo::WITNESS).await;
    let inspector = enrolled(&server, 5, demo::INSPECTOR).await;
    let lab = enrolled(&server, 4, demo::LAB_RECEIVER).await;
    sampler.sync_time().await;
    let s = sampler.field_record(demo_sampling(11), 50.0, 50.0, &as_refs(&media(11, "s")));
    sampler.upload(&[&s]).await;

    // Replay paused: the replica stops where it is.
    services::sql_on(&replica, "SELECT pg_wal_replay_pause()");
    server.clock.advance(40 * 60_000);
    witness.sync_time().await;
    let w = witness.field_record(demo_witnessing(&s), 51.0, 50.0, &as_refs(&media(11, "w")));
    let r = witness.upload(&[&w]).await;
    assert!(r.results[0].findings.iter().any(|f| f.code == "late_witness"));
    // The lab's scan right after: the replica lags the checkpoint, so the trail comes from the primary.
    let trail: TrailResponse =
        lab.get_json(&format!("/v1/lab/tags/{}", custody_core::fixtures::tag(11))).await;
    assert!(trail.records.iter().any(|r| r.id == w.id()), "the lab sees the witnessing at once");
    // The regulator's list is served by the paused replica: not there yet.
    let v: Vec<ViolationView> = inspector.get_json("/v1/violations").await;
    assert!(!v.iter().any(|x| x.record == w.id()), "served by the replica, which is paused");
    services::sql_on(&replica, "SELECT pg_wal_replay_resume()");
    let mut seen = false;
    for _ in 0..100 {
        let v: Vec<ViolationView> = inspector.get_json("/v1/violations").await;
        if v.iter().any(|x| x.record == w.id() && x.finding.code == "late_witness") {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen, "the replica catches up and the regulator sees the violation");
    server.stop().await;
}

/// The schema migrates itself once, whichever instance starts first, and a
/// server older than the database refuses to run on it rather than guess.
#[test]
fn postgres_schema_migrates_once_and_refuses_a_newer_one() {
    let url = services::fresh_database();
    let ca = services::database_ca();
    let first = PgStore::open(&url, None, ca.as_deref()).unwrap();
    let second = PgStore::open(&url, None, ca.as_deref()).unwrap();
    let version = first.with_conn(|c| Ok(c.one("SELECT version FROM schema_version", &[])?.get::<_, i64>(0)));
    assert_eq!(version.unwrap(), sync_server::store::postgres::MIGRATIONS.len() as i64);
    assert_eq!(second.read(|tx| tx.log_size()).unwrap(), 0);
    services::sql_on(&url, "UPDATE schema_version SET version = 99");
    let e = PgStore::open(&url, None, ca.as_deref()).err().expect("refused");
    assert!(e.to_string().contains("newer than this server"), "{e}");
}

/// TLS to PostgreSQL is verified: without the CA that signed the server's
/// certificate the connection is refused, and says why.
#[test]
fn postgres_tls_is_verified() {
    let url = format!("{}?sslmode=require", services::fresh_database());
    let ca = services::database_ca().expect("the test cluster serves TLS");
    let e = PgStore::open(&url, None, None).err().expect("an unknown CA is refused");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    let store = PgStore::open(&url, None, Some(&ca)).unwrap();
    let ssl = store.with_conn(|c| {
        Ok(c.one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])?.get::<_, bool>(0))
    });
    assert!(ssl.unwrap(), "the store's connection is encrypted");
    let e = PgStore::open(&url, None, Some(Path::new("/nonexistent/ca.pem"))).err().expect("missing CA file");
    assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
}
