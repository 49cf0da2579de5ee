//! Backup and restore at 100,000 records with photos (issue 20), measured
//! in one run beside a plain copy of the same data (the floor any backup
//! pays: every byte read and written once, fsync at the end):
//! 1. fill: `--records N` samplings (default 100,000) through the real
//!    ingest, each with its own process photo of `--photo-kb K` (default 20
//!    KB, incompressible) uploaded through the media endpoint;
//! 2. baseline: the data directory copied file by file;
//! 3. the first nightly backup (everything copied), then verified in full;
//! 4. the next night's backup with nothing new (media hard-linked);
//! 5. the restore drill: restored into scratch and verified in full.
//!
//! `cargo bench -p sync-server --bench backup` (release, SQLite; about
//! `--records`/1000 × 10 s plus the fill). `-- --postgres` runs it on
//! PostgreSQL + a bucket too. Needs about 3 × records × photo size of disk.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use std::path::Path;
use std::time::Instant;
use sync_server::backup;
use sync_server::testing::Backend;

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let records = arg(&args, "--records", 100_000);
    let photo = arg(&args, "--photo-kb", 20) * 1024;
    let mut backends = vec![Backend::Embedded];
    if args.iter().any(|a| a == "--postgres") {
        backends.push(Backend::Postgres);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for b in backends {
        rt.block_on(run(b, records, photo));
    }
}

/// Copy every file under `from` into `to` and fsync them: the floor.
fn plain_copy(from: &Path, to: &Path) -> u64 {
    let mut bytes = 0;
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            bytes += plain_copy(&e.path(), &dest);
        } else {
            bytes += std::fs::copy(e.path(), &dest).unwrap();
            std::fs::File::open(&dest).unwrap().sync_all().unwrap();
        }
    }
    bytes
}

async fn run(backend: Backend, records: usize, photo: usize) {
    let dir = tempfile::tempdir_in(".").unwrap();
    let data = dir.path().join("data");
    let server = TestServer::start_with(sync_server::testing::config_on(backend, &data), None).await;
    server.seed();
    println!(
        "{backend:?}: {} + {}; {records} samplings, each with a {} KB photo",
        server.state.store.describe(),
        server.state.blobs.describe(),
        photo / 1024
    );
    let t = Instant::now();
    fill_samplings_with_photos(&server, records, 8, 9, photo).await;
    let s = &server.state;
    let logged = s.store.read(|tx| tx.log_size()).unwrap();
    println!("  fill: {logged} records in the log in {:.0} s", t.elapsed().as_secs_f64());

    let gb = |b: u64| b as f64 / 1e9;
    if backend == Backend::Embedded {
        let t = Instant::now();
        let bytes = plain_copy(&data, &dir.path().join("plain"));
        let secs = t.elapsed().as_secs_f64();
        println!(
            "  baseline: plain copy of the data directory: {:.2} GB in {secs:.1} s ({:.0} MB/s)",
            gb(bytes),
            bytes as f64 / 1e6 / secs
        );
        std::fs::remove_dir_all(dir.path().join("plain")).unwrap();
    }

    let root = dir.path().join("backups");
    let key = s.key.public();
    let t = Instant::now();
    let live = backup::Live { store: &s.store, blobs: &s.blobs, faces: &s.faces };
    let first = backup::scheduled(&live, (&s.config.keys_dir(), None), &key, &root, 7, s.now()).unwrap();
    let total = t.elapsed().as_secs_f64();
    let m = &first.manifest;
    assert!(m.verified, "{:?}", m.problems);
    println!(
        "  backup (first night): {:.2} GB ({} records, {} media, database {:.0} MB) in {total:.1} s: copy {:.1} s + verify {:.1} s",
        gb(backup::dir_size(&first.dir).unwrap()),
        m.records,
        m.media_files,
        m.database_bytes as f64 / 1e6,
        m.copy_seconds,
        m.verify_seconds
    );
    let t = Instant::now();
    let second =
        backup::scheduled(&live, (&s.config.keys_dir(), None), &key, &root, 7, s.now() + 86_400_000).unwrap();
    println!(
        "  backup (next night, nothing new): {} media linked, in {:.1} s: copy {:.1} s + verify {:.1} s",
        second.manifest.media_linked,
        t.elapsed().as_secs_f64(),
        second.manifest.copy_seconds,
        second.manifest.verify_seconds
    );
    let t = Instant::now();
    let drill = backup::drill(&second.dir, &dir.path().join("drill"), None).unwrap();
    assert!(drill.problems.is_empty(), "{:?}", drill.problems);
    println!(
        "  restore drill: {:.2} GB restored in {:.1} s, verified in {:.1} s ({} records, {} device chains, {} media); total {:.1} s",
        gb(drill.restored_bytes),
        drill.restore_seconds,
        drill.verify_seconds,
        drill.records,
        drill.devices,
        drill.media,
        t.elapsed().as_secs_f64()
    );
    server.stop().await;
}
