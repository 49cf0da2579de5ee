//! The lifetime archive at scale (issue 18), measured in one run beside a
//! plain pass over the same bytes (every file of the bag read and hashed
//! once: the floor any check of a bag pays):
//! 1. fill: `--records N` samplings (default 20,000) through the real
//!    ingest, each with its own process photo of `--photo-kb K` (default 20
//!    KB, incompressible) uploaded through the media endpoint;
//! 2. `admin export` of the project (the library call the command makes);
//! 3. baseline: the bag's files read and SHA-256'd;
//! 4. `custody-verify`'s check of the bag (the library call the binary makes).
//!
//! `cargo bench -p sync-server --bench export` (release, SQLite);
//! `-- --postgres` runs it on PostgreSQL + a bucket too.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use custody_core::archive::Scope;
use std::path::Path;
use std::time::Instant;
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
    let records = arg(&args, "--records", 20_000);
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

/// Read and hash every file under `dir`: the floor.
fn plain_pass(dir: &Path) -> (u64, usize) {
    let (mut bytes, mut files) = (0, 0);
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            let (b, f) = plain_pass(&e.path());
            bytes += b;
            files += f;
        } else {
            bytes += custody_verify::hash_file(&e.path()).unwrap().1;
            files += 1;
        }
    }
    (bytes, files)
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
    println!(
        "  fill: {} records in the log in {:.0} s",
        s.store.read(|tx| tx.log_size()).unwrap(),
        t.elapsed().as_secs_f64()
    );

    let bag = dir.path().join("project.bag");
    let t = Instant::now();
    let scope = Scope { project: Some(sync_server::demo::PROJECT.into()), ..Scope::default() };
    let summary = sync_server::export::export(&s.store, &s.media(), &s.key, scope, &bag, s.now()).unwrap();
    let export_s = t.elapsed().as_secs_f64();
    let mb = summary.payload_bytes as f64 / 1e6;
    println!(
        "  export: {} records ({} in scope), {} media, {} checkpoints, {mb:.0} MB in {export_s:.1} s ({:.0} MB/s)",
        summary.records,
        summary.in_scope,
        summary.media,
        summary.checkpoints,
        mb / export_s
    );
    let t = Instant::now();
    let (bytes, files) = plain_pass(&bag);
    let plain_s = t.elapsed().as_secs_f64();
    println!(
        "  baseline: plain pass (read + SHA-256) over the bag: {files} files, {:.0} MB in {plain_s:.1} s",
        bytes as f64 / 1e6
    );
    let t = Instant::now();
    let options = custody_verify::Options { trusted: vec![s.key.public()], seen: vec![] };
    let answer = custody_verify::verify_bag(&bag, &options).unwrap();
    let verify_s = t.elapsed().as_secs_f64();
    assert!(answer.ok(), "{}", custody_core::archive::check::render(&answer));
    println!(
        "  custody-verify: whole, in {verify_s:.1} s = {:.1}× the plain pass ({:.0} records/s); export = {:.1}× the plain pass",
        verify_s / plain_s,
        summary.records as f64 / verify_s,
        export_s / plain_s
    );
    server.stop().await;
}
