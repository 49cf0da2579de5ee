//! Face photos encrypted at rest (issue 18): what sealing and opening cost
//! per photo beside storing and reading the same bytes in the clear, on
//! each back end, and what every other media read pays for the check
//! "is this one sealed?". Printed: median and p99 per photo, in ms.
//!
//! `cargo bench -p sync-server --bench faces` (`-- --embedded` for SQLite
//! and a directory only). The photos are `PHOTO_BYTES` of incompressible
//! bytes, the size of a phone's face crop.

use custody_core::Hash;
use std::time::{Duration, Instant};
use sync_server::faces::DataKey;
use sync_server::testing::{Backend, TestServer};

const PHOTOS: usize = 100;
const PHOTO_BYTES: usize = 150 * 1024;

fn photo(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(PHOTO_BYTES + 32);
    let mut h = Hash::of(format!("face {n}").as_bytes());
    while out.len() < PHOTO_BYTES {
        out.extend_from_slice(h.as_bytes());
        h = Hash::of(h.as_bytes());
    }
    out.truncate(PHOTO_BYTES);
    out
}

fn quantiles(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!("p50 {:.3} ms, p99 {:.3} ms", ms(v[v.len() / 2]), ms(v[(v.len() * 99 / 100).min(v.len() - 1)]))
}

fn timed(n: usize, mut f: impl FnMut(usize)) -> Vec<Duration> {
    (0..n)
        .map(|i| {
            let t = Instant::now();
            f(i);
            t.elapsed()
        })
        .collect()
}

fn main() {
    let embedded_only = std::env::args().any(|a| a == "--embedded");
    let (a, b): (Vec<Vec<u8>>, Vec<Vec<u8>>) =
        ((0..PHOTOS).map(photo).collect(), (PHOTOS..2 * PHOTOS).map(photo).collect());
    // The cipher alone, in memory.
    let keys: Vec<DataKey> = (0..PHOTOS).map(|_| DataKey::generate()).collect();
    let shas: Vec<Hash> = a.iter().map(|p| Hash::of(p)).collect();
    let sealed: Vec<Vec<u8>> = (0..PHOTOS).map(|i| keys[i].seal(&shas[i], &a[i])).collect();
    println!("face photos of {} KiB, {PHOTOS} of each:", PHOTO_BYTES / 1024);
    let seal = timed(PHOTOS, |i| {
        let _ = keys[i].seal(&shas[i], &a[i]);
    });
    println!("  seal in memory (ChaCha20-Poly1305):          {}", quantiles(seal));
    let open = timed(PHOTOS, |i| {
        let _ = keys[i].open(&shas[i], &sealed[i]).unwrap();
    });
    println!("  open in memory (+ SHA-256 of the photo):     {}", quantiles(open));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run(Backend::Embedded, &a, &b));
    if !embedded_only {
        rt.block_on(run(Backend::Postgres, &a, &b));
    }
}

async fn run(backend: Backend, plain: &[Vec<u8>], faces: &[Vec<u8>]) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(backend, dir.path()).await;
    let s = server.state.clone();
    let media = s.media();
    let (plain, faces) = (plain.to_vec(), faces.to_vec());
    tokio::task::spawn_blocking(move || {
        println!("{backend:?} ({}, {}):", s.store.describe(), s.blobs.describe());
        let store_plain = timed(PHOTOS, |i| {
            let _ = s.blobs.put_whole(&plain[i]).unwrap();
        });
        let store_face = timed(PHOTOS, |i| {
            let _ = s.faces.put_face(&s.store, &s.blobs, &faces[i], s.now()).unwrap();
        });
        println!("  store in the clear:                          {}", quantiles(store_plain));
        println!("  store a face sealed (key row, seal, write, read back, open): {}", quantiles(store_face));
        let ps: Vec<Hash> = plain.iter().map(|p| Hash::of(p)).collect();
        let fs: Vec<Hash> = faces.iter().map(|p| Hash::of(p)).collect();
        let bare = timed(PHOTOS, |i| {
            let _ = s.blobs.read(&ps[i]).unwrap();
        });
        println!("  read in the clear (bare object):             {}", quantiles(bare));
        let through = timed(PHOTOS, |i| {
            let _ = media.read(&s.store, &ps[i]).unwrap();
        });
        println!("  read in the clear (through the vault):       {}", quantiles(through));
        let face = timed(PHOTOS, |i| {
            let _ = media.read(&s.store, &fs[i]).unwrap();
        });
        println!("  read a face (key row, object, unwrap, open): {}", quantiles(face));
    })
    .await
    .unwrap();
    server.stop().await;
}
