//! A fleet of field devices syncing to one server, on each of the server's
//! storage back ends, beside ceilings measured in the same run.
//!
//! `cargo bench -p e2e-tests --bench fleet` (release build; the run itself
//! takes ~70 s on a 2-core machine)
//!
//! Each device is the real headless engine the app runs (`field_engine::Engine`,
//! its own data directory, keys and clock), enrolled for the demo sampler
//! through an enrollment offer like a phone scanning the QR. Before the timed
//! part every device creates its sampling records — two photos each (a face
//! photo, sealed on the device, and a process photo; distinct pseudo-random
//! bytes, so nothing compresses or deduplicates), every shared rule run,
//! signed, committed — because creating them is the phone's work, not the
//! server's.
//!
//! Timed: all devices sync at once, each on its own task, calling
//! `sync_once` until nothing is pending — profile, time anchor, records in
//! the engine's upload batches, photos in resumable chunks, then the feed
//! (every device on the project receives every other device's records, so
//! the fleet pulls 16 × 375 records back down). That is wall time from the
//! first request to the last device done, giving records/s and MB/s of media
//! over the same interval. Two points inside it are watched from outside:
//! when the server holds every record (record ingest alone), and when every
//! device has every photo uploaded (the rest is the feed). Afterwards the
//! bench fails unless the server stored exactly the fleet's records, every
//! one is accepted on its device, and every photo is complete on the server.
//!
//! Back ends: embedded (SQLite, WAL + synchronous=FULL, and a media directory)
//! and postgres (a PostgreSQL cluster with production durability and an S3
//! bucket served by `moto_server`, both started by the test harness). The
//! ceilings, measured right after each back end's fleet, with the server
//! stopped:
//! * ring Ed25519 verify / 2 (each record costs two verifications: its
//!   signature and its time anchor's), on one core;
//! * a raw insert of an envelope-sized row into that back end's database,
//!   with its durability, in transactions the size of the devices' uploads;
//! * a raw write of the same photo bytes to that back end's media store:
//!   write + fsync one file per photo in a directory, or one create-only PUT
//!   per photo to a fresh bucket (each photo is below the engine's 512 KB
//!   chunk, so the engine also sends each in one request).
//!
//! The devices, the server, PostgreSQL and moto all share this machine's
//! cores, so the figures are a floor for a real deployment. The fleet is
//! 16 devices × 25 samplings (400 records, ~104 MB of photos per back end),
//! sized to keep the whole run within ~3 minutes on 2 cores.

// A story reads top to bottom as the flow it checks; cut into pieces it
// would hide the order that matters.
#![allow(clippy::too_many_lines)]

use custody_core::fixtures;
use custody_core::record::{FaceCheck, MediaPurpose, MediaRef, TagRead, TagReadMethod};
use custody_core::{Hash, Id};
use field_engine::clock::DeviceClock;
use field_engine::vault::{FileSecretStore, Vault};
use field_engine::{Engine, FieldEvidence, SamplingInput};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use sync_server::demo;
use sync_server::testing::{Backend, TestServer, ceilings};

const DEVICES: usize = 16;
const RECORDS_PER_DEVICE: usize = 25;
const FACE_PHOTO_BYTES: usize = 60_000;
const PROCESS_PHOTO_BYTES: usize = 200_000;
/// Records per upload request in this fleet: each device's 25 fit in one
/// engine batch; the raw insert ceilings commit in transactions of this size.
const RECORDS_PER_UPLOAD: usize = if RECORDS_PER_DEVICE < field_engine::UPLOAD_BATCH {
    RECORDS_PER_DEVICE
} else {
    field_engine::UPLOAD_BATCH
};
/// Rows for each raw insert ceiling: more than the fleet's 400, for a steady rate.
const RAW_INSERT_ROWS: usize = 2_000;
/// A device that still has work after this many sync passes is stuck.
const MAX_SYNC_PASSES: usize = 10;

/// A phone's clocks, running in real time as a phone's do: its requests
/// during the minute-long sync carry the current time, and the server's
/// 20-minute window (R8) is judged on the real interval.
struct PhoneClock {
    boot_id: String,
    booted: Instant,
}

impl DeviceClock for PhoneClock {
    fn wall_ms(&self) -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_millis()
            as i64
    }
    fn boot_id(&self) -> String {
        self.boot_id.clone()
    }
    fn mono_ms(&self) -> u64 {
        // Booted an hour before the bench began.
        3_600_000 + self.booted.elapsed().as_millis() as u64
    }
}

/// `size` pseudo-random bytes (splitmix64) seeded by `label`: like a JPEG,
/// incompressible, and distinct for every photo.
fn photo(label: &str, size: usize) -> Vec<u8> {
    let seed = Hash::of(label.as_bytes());
    let mut state = u64::from_le_bytes(seed.0[..8].try_into().expect("8 bytes"));
    let mut bytes = Vec::with_capacity(size + 8);
    while bytes.len() < size {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        bytes.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    bytes.truncate(size);
    bytes
}

/// The photos of one sampling record.
struct Photos {
    face: Vec<u8>,
    process: Vec<u8>,
}

/// One simulated device and what it created.
struct Device {
    engine: Arc<Engine>,
    clock: Arc<PhoneClock>,
    samplings: Vec<Hash>,
    media: Vec<MediaRef>,
}

/// What one back end's fleet did, and its ceilings.
struct Outcome {
    wall: Duration,
    first_device_done: Duration,
    /// When the server held every record of the fleet.
    records_stored: Duration,
    /// When every device had every photo uploaded (the server acknowledged
    /// each complete).
    photos_stored: Duration,
    records: usize,
    media_bytes: u64,
    media_files: usize,
    received_from_feed: usize,
    envelope_bytes: usize,
    verify_half: f64,
    raw_insert: f64,
    raw_media: f64,
}

impl Outcome {
    fn records_per_s(&self) -> f64 {
        self.records as f64 / self.wall.as_secs_f64()
    }
    fn records_stored_per_s(&self) -> f64 {
        self.records as f64 / self.records_stored.as_secs_f64()
    }
    fn media_mb_per_s(&self) -> f64 {
        self.media_bytes as f64 / 1e6 / self.wall.as_secs_f64()
    }
}

fn main() {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let photos: Vec<Vec<Photos>> = (0..DEVICES)
        .map(|d| {
            (0..RECORDS_PER_DEVICE)
                .map(|r| Photos {
                    face: photo(&format!("face d{d} r{r}"), FACE_PHOTO_BYTES),
                    process: photo(&format!("process d{d} r{r}"), PROCESS_PHOTO_BYTES),
                })
                .collect()
        })
        .collect();
    let embedded = run_on(&rt, Backend::Embedded, &photos);
    let postgres = run_on(&rt, Backend::Postgres, &photos);
    report(&embedded, &postgres);
}

fn run_on(rt: &tokio::runtime::Runtime, backend: Backend, photos: &[Vec<Photos>]) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    eprintln!("{backend:?}: starting the server, enrolling {DEVICES} devices");
    let server = rt.block_on(async {
        let server = TestServer::start_on(backend, &dir.path().join("server")).await;
        server.seed();
        server
    });
    let mut devices: Vec<Device> =
        (0..DEVICES).map(|d| open_device(&dir.path().join(format!("phone-{d}")), d)).collect();
    rt.block_on(async {
        for (d, device) in devices.iter().enumerate() {
            // The same person on every device: enrollment allows several
            // devices per person, each with its own key and chain.
            let offer = server.offer(demo::SAMPLER).to_qr();
            device.engine.enroll(&offer, &format!("fleet device {d}"), "linux").await.expect("enroll");
        }
    });

    eprintln!("{backend:?}: creating {} records on the devices", DEVICES * RECORDS_PER_DEVICE);
    std::thread::scope(|s| {
        for (d, (device, photos)) in devices.iter_mut().zip(photos).enumerate() {
            s.spawn(move || create_records(device, d, photos));
        }
    });
    let envelope_bytes = devices[0]
        .engine
        .signed_record(&devices[0].samplings[0])
        .expect("read own record")
        .expect("own record exists")
        .to_bytes()
        .len();

    let records = DEVICES * RECORDS_PER_DEVICE;
    let stored_before = server.state.store.read(|tx| tx.record_count()).expect("count records");
    eprintln!("{backend:?}: syncing");
    // Watch meanwhile when the server holds every record, then when every
    // device has every photo uploaded: what remains after that is the feed.
    let syncing = AtomicBool::new(true);
    let start = Instant::now();
    let ((wall, first_device_done, totals), (records_at, photos_at)) = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut records_at = None;
            while syncing.load(Ordering::Relaxed) {
                if records_at.is_none() {
                    let stored = server.state.store.read(|tx| tx.record_count()).expect("count records");
                    if stored >= stored_before + records as u64 {
                        records_at = Some(start.elapsed());
                    }
                    std::thread::sleep(Duration::from_millis(5));
                } else {
                    // Lighter polling: each look takes every device's store lock.
                    let photos_pending: u64 =
                        devices.iter().map(|d| d.engine.status().expect("status").pending_media).sum();
                    if photos_pending == 0 {
                        return (records_at, Some(start.elapsed()));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            (records_at, None)
        });
        let fleet = rt.block_on(sync_fleet(&devices, start));
        syncing.store(false, Ordering::Relaxed);
        (fleet, watcher.join().expect("progress watcher"))
    });
    let records_stored = records_at.unwrap_or(wall);
    let photos_stored = photos_at.unwrap_or(wall);

    // The work must really be done: every record on the server and accepted,
    // every photo complete there.
    let stored_after = server.state.store.read(|tx| tx.record_count()).expect("count records");
    assert_eq!(stored_after - stored_before, records as u64, "the server stored every record once");
    for device in &devices {
        let status = device.engine.status().expect("status");
        assert_eq!(
            (status.pending_records, status.pending_media, status.refused_records, status.rejected_records),
            (0, 0, 0, 0),
            "{status:?}"
        );
        for id in &device.samplings {
            let view = device.engine.record(id).expect("read record").expect("record exists");
            assert_eq!(view.state, "accepted", "{id}: {:?}", view.findings);
        }
        for m in &device.media {
            assert!(
                server.state.blobs.exists(&m.sha256).expect("ask the media store"),
                "{} missing",
                m.sha256
            );
        }
    }
    assert_eq!(totals.media_files, records * 2, "every photo uploaded to completion");
    rt.block_on(server.stop());
    drop(devices);

    eprintln!("{backend:?}: measuring ceilings");
    let verify_half = ceilings::ring_verify_rate() / 2.0;
    let envelope_sized = vec![0x5a; envelope_bytes];
    let all_photos: Vec<Vec<u8>> =
        photos.iter().flatten().flat_map(|p| [p.face.clone(), p.process.clone()]).collect();
    let (raw_insert, raw_media) = match backend {
        Backend::Embedded => (
            ceilings::raw_sqlite_insert_rate(
                dir.path(),
                &envelope_sized,
                RAW_INSERT_ROWS,
                RECORDS_PER_UPLOAD,
            ),
            raw_file_write_rate(&dir.path().join("raw-media"), &all_photos),
        ),
        Backend::Postgres => (
            ceilings::raw_postgres_insert_rate(&envelope_sized, RAW_INSERT_ROWS, RECORDS_PER_UPLOAD),
            ceilings::raw_s3_put_rate(&all_photos),
        ),
    };
    Outcome {
        wall,
        first_device_done,
        records_stored,
        photos_stored,
        records,
        media_bytes: totals.media_bytes,
        media_files: totals.media_files,
        received_from_feed: totals.received,
        envelope_bytes,
        verify_half,
        raw_insert,
        raw_media,
    }
}

fn open_device(dir: &Path, index: usize) -> Device {
    let clock = Arc::new(PhoneClock { boot_id: format!("fleet-boot-{index}"), booted: Instant::now() });
    let vault = Vault::new(Box::new(FileSecretStore::new(&dir.join("secrets")).expect("secret store")));
    let engine = Engine::open(&dir.join("data"), &vault, clock.clone()).expect("open the engine");
    Device { engine: Arc::new(engine), clock, samplings: Vec::new(), media: Vec::new() }
}

/// The phone's work: store both photos, then the sampling record.
fn create_records(device: &mut Device, index: usize, photos: &[Photos]) {
    let engine = &device.engine;
    for (r, p) in photos.iter().enumerate() {
        let face = engine.store_media(&p.face, MediaPurpose::Face, "image/jpeg").expect("store face photo");
        let process =
            engine.store_media(&p.process, MediaPurpose::Process, "image/jpeg").expect("store process photo");
        // Demo tags 1..=2000: each device its own run of serials.
        let serial = (index * RECORDS_PER_DEVICE + r + 1) as u32;
        let at = fixtures::site_point(50.0, 60.0);
        let now = device.clock.mono_ms();
        let input = SamplingInput {
            tag: fixtures::tag(serial),
            tag_read: TagRead { method: TagReadMethod::Camera, decoder: Some("fleet bench".into()) },
            seal: None,
            project: Id::new(demo::PROJECT).expect("project id"),
            unit_project: Id::new("UP-1").expect("unit project id"),
            specimen: fixtures::specimen(),
            // Bench input standing in for the capture pipeline's face check.
            face: FaceCheck {
                photo: face.sha256,
                model: "fleet bench".into(),
                score_milli: 900,
                threshold_milli: 700,
                matched: true,
                liveness: None,
            },
            evidence: FieldEvidence {
                media: vec![face.clone(), process.clone()],
                fixes: vec![
                    fixtures::gnss_fix(at, 4.0, now.saturating_sub(2000)),
                    fixtures::gnss_fix(at, 3.0, now),
                ],
            },
        };
        let created = engine.create_sampling(input, true).expect("create a sampling record");
        device.samplings.push(created.id);
        device.media.extend([face, process]);
    }
}

/// Totals of every sync pass of every device.
#[derive(Default)]
struct SyncTotals {
    media_bytes: u64,
    media_files: usize,
    received: usize,
}

/// All devices sync at once; wall time, when the first finished, and totals.
async fn sync_fleet(devices: &[Device], start: Instant) -> (Duration, Duration, SyncTotals) {
    let tasks: Vec<_> = devices
        .iter()
        .map(|device| {
            let engine = device.engine.clone();
            tokio::spawn(async move {
                let mut totals = SyncTotals::default();
                for _ in 0..MAX_SYNC_PASSES {
                    let pass = engine.sync_once().await.expect("sync pass");
                    totals.media_bytes += pass.media_bytes;
                    totals.media_files += pass.media_completed;
                    totals.received += pass.received;
                    let status = engine.status().expect("status");
                    if status.pending_records == 0 && status.pending_media == 0 {
                        return (start.elapsed(), totals);
                    }
                }
                panic!("still pending after {MAX_SYNC_PASSES} sync passes: {:?}", engine.status());
            })
        })
        .collect();
    let mut fleet = SyncTotals::default();
    let mut first_done = Duration::MAX;
    for task in tasks {
        let (done, totals) = task.await.expect("device task");
        first_done = first_done.min(done);
        fleet.media_bytes += totals.media_bytes;
        fleet.media_files += totals.media_files;
        fleet.received += totals.received;
    }
    (start.elapsed(), first_done, fleet)
}

/// MB/s: each photo written to its own file and fsynced, as a media
/// directory must at least do.
fn raw_file_write_rate(dir: &Path, photos: &[Vec<u8>]) -> f64 {
    use std::io::Write;
    std::fs::create_dir_all(dir).expect("raw media dir");
    let total: usize = photos.iter().map(Vec::len).sum();
    let start = Instant::now();
    for (i, bytes) in photos.iter().enumerate() {
        let mut f = std::fs::File::create(dir.join(i.to_string())).expect("create raw media file");
        f.write_all(bytes).expect("write raw media file");
        f.sync_all().expect("fsync raw media file");
    }
    total as f64 / 1e6 / start.elapsed().as_secs_f64()
}

fn report(embedded: &Outcome, postgres: &Outcome) {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let both = [embedded, postgres];
    println!();
    println!(
        "fleet: {DEVICES} devices x {RECORDS_PER_DEVICE} samplings (photos {} KB face + {} KB process), envelope ~{} B",
        FACE_PHOTO_BYTES / 1000,
        PROCESS_PHOTO_BYTES / 1000,
        embedded.envelope_bytes
    );
    println!("{:<50} {:>16} {:>16}", "", "embedded", "postgres");
    println!("{:<50} {:>16} {:>16}", "", "SQLite + dir", "PostgreSQL + S3");
    let row = |label: &str, f: &dyn Fn(&Outcome) -> String| {
        println!("{label:<50} {:>16} {:>16}", f(both[0]), f(both[1]));
    };
    row("fleet sync wall time", &|o| format!("{:.1} s", o.wall.as_secs_f64()));
    row("  first device done", &|o| format!("{:.1} s", o.first_device_done.as_secs_f64()));
    row("  every record stored on the server", &|o| format!("{:.1} s", o.records_stored.as_secs_f64()));
    row("  every photo stored on the server", &|o| format!("{:.1} s", o.photos_stored.as_secs_f64()));
    row("  records from the feed (other devices')", &|o| o.received_from_feed.to_string());
    row("  photos uploaded", &|o| o.media_files.to_string());
    row("fleet records/s (over the wall time)", &|o| format!("{:.0}/s", o.records_per_s()));
    row("fleet media (over the wall time)", &|o| format!("{:.1} MB/s", o.media_mb_per_s()));
    row("records/s until every record was stored", &|o| format!("{:.0}/s", o.records_stored_per_s()));
    row("ceiling: ring verify / 2 (1 core)", &|o| format!("{:.0}/s", o.verify_half));
    row(&format!("ceiling: raw insert, batches of {RECORDS_PER_UPLOAD}"), &|o| {
        format!("{:.0}/s", o.raw_insert)
    });
    row("ceiling: raw media write (fsync file / S3 PUT)", &|o| format!("{:.1} MB/s", o.raw_media));
    let pct = |part: f64, whole: f64| format!("{:.1}%", 100.0 * part / whole);
    row("fleet records/s, % of verify / 2", &|o| pct(o.records_per_s(), o.verify_half));
    row("fleet records/s, % of raw insert", &|o| pct(o.records_per_s(), o.raw_insert));
    row("records/s until stored, % of verify / 2", &|o| pct(o.records_stored_per_s(), o.verify_half));
    row("records/s until stored, % of raw insert", &|o| pct(o.records_stored_per_s(), o.raw_insert));
    row("fleet media, % of raw media write", &|o| pct(o.media_mb_per_s(), o.raw_media));
    println!();
    println!(
        "records/s and MB/s are over the same wall time (records, photos and feed together); \
         raw insert is SQLite WAL + FULL or PostgreSQL fsync + synchronous_commit"
    );
    println!("(devices, server, PostgreSQL and moto share this machine's {cores} cores)");
}
