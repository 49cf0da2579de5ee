//! The field side: real engines (`field_engine::Engine`, each with its own
//! data directory, keys and real-time clock), enrolled through the proxy
//! like phones scanning a QR, making records while they sync through the
//! faults — samplers sampling with photos (and now and then a video that
//! takes several resumable chunks), a witness witnessing what its feed
//! brings.

use crate::rng::Rng;
use custody_core::fixtures;
use custody_core::record::{FaceCheck, MediaPurpose, TagRead, TagReadMethod};
use custody_core::{Id, TagCode};
use field_engine::clock::DeviceClock;
use field_engine::vault::{FileSecretStore, Vault};
use field_engine::{Engine, FieldEvidence, SamplingInput, WitnessInput};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use sync_server::demo;

/// The tag batch the chaos samplings use (registered with as many serials
/// as the run needs; the demo's own batch 1 has 2,000).
pub const TAG_BATCH: u16 = 3;

pub fn tag(serial: u32) -> TagCode {
    TagCode::from_parts(310, 26, TAG_BATCH, serial).expect("chaos tag")
}

/// How much work goes through the proxy.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// Records made on the devices, samplings and witnessings together.
    pub records: usize,
    /// Media bytes over all records, photos and videos together.
    pub media_bytes: u64,
    /// Sampling devices (one witness device besides).
    pub samplers: usize,
    /// How long the samplers take to make their records (evenly paced, as
    /// a site's day is): the length of the faulty phase.
    pub seconds: u64,
}

impl Workload {
    /// One in six records is a witnessing (of a sampling the witness's feed
    /// brought), the rest samplings.
    pub fn witnessings(&self) -> usize {
        self.records / 6
    }

    pub fn samplings(&self) -> usize {
        self.records - self.witnessings()
    }

    /// Face and process photo of every record: six tenths of the media
    /// budget, at most 90 KB a record (a phone's compressed photos).
    fn photos(&self) -> (usize, usize) {
        let per_record = (self.media_bytes / self.records.max(1) as u64) as usize;
        let photos = (per_record * 6 / 10).clamp(3_000, 90_000);
        (photos / 3, photos - photos / 3)
    }

    /// The rest of the budget as videos: one sampling in a hundred (at
    /// least one) carries one, of equal size, several chunks long.
    fn videos(&self) -> (usize, usize) {
        let (face, process) = self.photos();
        let photos = (self.records * (face + process)) as u64;
        let count = (self.samplings() / 100).max(1);
        let size = self.media_bytes.saturating_sub(photos) / count as u64;
        (count, size as usize)
    }

    /// Does the sampling with this (0-based) index carry a video?
    fn has_video(&self, index: usize) -> bool {
        let (count, size) = self.videos();
        let every = (self.samplings() / count).max(1);
        size > 0 && index.is_multiple_of(every) && index / every < count
    }
}

/// A phone's clocks in real time (the server's is real too): booted an hour
/// before the run, one boot for the whole run.
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
        3_600_000 + self.booted.elapsed().as_millis() as u64
    }
}

pub struct Device {
    pub name: String,
    pub engine: Arc<Engine>,
    clock: Arc<PhoneClock>,
}

impl Device {
    pub fn open(dir: &Path, name: &str) -> Device {
        let clock = Arc::new(PhoneClock { boot_id: format!("chaos-boot-{name}"), booted: Instant::now() });
        let vault = Vault::new(Box::new(FileSecretStore::new(&dir.join("secrets")).expect("secret store")));
        let engine = Engine::open(&dir.join("data"), &vault, clock.clone()).expect("open the engine");
        Device { name: name.to_owned(), engine: Arc::new(engine), clock }
    }

    /// Photos and fixes for one record, at the demo site (north, east
    /// metres into unit project 1).
    fn evidence(
        &self,
        rng: &mut Rng,
        work: &Workload,
        video: bool,
        north: f64,
    ) -> (FieldEvidence, FaceCheck) {
        let (face_len, process_len) = work.photos();
        let store = |bytes: Vec<u8>, purpose, media_type| {
            self.engine.store_media(&bytes, purpose, media_type).expect("store media")
        };
        let face = store(rng.bytes(face_len), MediaPurpose::Face, "image/jpeg");
        let mut media =
            vec![face.clone(), store(rng.bytes(process_len), MediaPurpose::Process, "image/jpeg")];
        if video {
            media.push(store(rng.bytes(work.videos().1), MediaPurpose::Process, "video/mp4"));
        }
        let at = fixtures::site_point(north, 60.0);
        let now = self.clock.mono_ms();
        let fixes =
            vec![fixtures::gnss_fix(at, 4.0, now.saturating_sub(3000)), fixtures::gnss_fix(at, 3.0, now)];
        // Test input standing in for the capture pipeline's face check.
        let check = FaceCheck {
            photo: face.sha256,
            model: "chaos".into(),
            score_milli: 900,
            threshold_milli: 600,
            matched: true,
            liveness: None,
        };
        (FieldEvidence { media, fixes }, check)
    }

    /// Sampler `index` of `work.samplers`: its share of the samplings, one
    /// tag each (serials index+1, index+1+samplers, …).
    pub fn sample(&self, index: usize, work: &Workload, seed: u64, stop: &AtomicBool) {
        let begun = Instant::now();
        let each = Duration::from_millis(
            work.seconds * 1000 * work.samplers as u64 / work.samplings().max(1) as u64,
        );
        for (k, n) in (index..work.samplings()).step_by(work.samplers).enumerate() {
            if let Some(wait) = (each * k as u32).checked_sub(begun.elapsed()) {
                std::thread::sleep(wait);
            }
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let mut rng = Rng::stream(seed, "sampling", n as u64);
            let (evidence, face) = self.evidence(&mut rng, work, work.has_video(n), 50.0);
            let input = SamplingInput {
                tag: tag(n as u32 + 1),
                tag_read: TagRead { method: TagReadMethod::Camera, decoder: Some("chaos".into()) },
                seal: None,
                project: Id::new(demo::PROJECT).expect("project id"),
                unit_project: Id::new("UP-1").expect("unit project id"),
                specimen: fixtures::specimen(),
                face,
                evidence,
            };
            self.engine.create_sampling(input, true).expect("create a sampling");
        }
    }

    /// The witness: witness samplings as its feed brings them, until it has
    /// made `work.witnessings()`.
    pub fn witness(&self, work: &Workload, seed: u64, stop: &AtomicBool) {
        let mut made = 0;
        while made < work.witnessings() && !stop.load(Ordering::SeqCst) {
            let open = self.engine.open_samplings().expect("open samplings");
            let mut fresh = open.iter().filter(|o| !o.mine && o.source == "feed").peekable();
            if fresh.peek().is_none() {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            for o in fresh.take(work.witnessings() - made) {
                let mut rng = Rng::stream(seed, "witnessing", made as u64);
                let (evidence, face) = self.evidence(&mut rng, work, false, 52.0);
                let input = WitnessInput {
                    sampling: o.record,
                    tag: TagCode::parse(&o.tag).expect("the sampling's tag"),
                    tag_read: TagRead { method: TagReadMethod::Camera, decoder: Some("chaos".into()) },
                    face,
                    hand_signature: None,
                    remarks: String::new(),
                    evidence,
                };
                self.engine.create_witnessing(input, true).expect("create a witnessing");
                made += 1;
            }
        }
    }
}

/// What the sync loops saw.
#[derive(Default)]
pub struct Progress {
    /// Records answered by the server (a resent one counts again).
    pub records_answered: AtomicU64,
    pub media_bytes_sent: AtomicU64,
    pub passes_ok: AtomicU64,
    pub passes_failed: AtomicU64,
}

/// Sync as the app does after each record and on a timer, only sooner
/// after a failure than the app's backoff (2 s … 5 min), so the run stays
/// short: the engine's sync pass is under test, not its backoff.
pub async fn sync_loop(
    engine: Arc<Engine>,
    progress: Arc<Progress>,
    seed: u64,
    index: u64,
    stop: Arc<AtomicBool>,
) {
    let mut rng = Rng::stream(seed, "sync pauses", index);
    while !stop.load(Ordering::SeqCst) {
        match engine.sync_once().await {
            Ok(r) => {
                progress.passes_ok.fetch_add(1, Ordering::SeqCst);
                progress
                    .records_answered
                    .fetch_add((r.accepted + r.refused + r.deferred) as u64, Ordering::SeqCst);
                progress.media_bytes_sent.fetch_add(r.media_bytes, Ordering::SeqCst);
            }
            Err(_) => {
                progress.passes_failed.fetch_add(1, Ordering::SeqCst);
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.range(20, 400))).await;
    }
}

/// Once faults have stopped: sync until nothing is pending, within `limit`.
/// The status it ended with, and whether it drained.
pub async fn drain(engine: &Engine, limit: Duration) -> (field_engine::SyncStatus, bool) {
    let begun = Instant::now();
    loop {
        let pass = engine.sync_once().await;
        let status = engine.status().expect("status");
        if pass.is_ok() && status.pending_records == 0 && status.pending_media == 0 {
            return (status, true);
        }
        if begun.elapsed() > limit {
            return (status, false);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
