//! A simulated phone: the real engine with a manual clock, in a temporary
//! data directory, talking to a real in-process server.
#![allow(dead_code)]

use custody_core::Hash;
use custody_core::fixtures;
use custody_core::model::Id;
use custody_core::record::{FaceCheck, Liveness, MediaPurpose, TagRead, TagReadMethod};
use field_engine::clock::{DeviceClock, ManualClock};
use field_engine::vault::{FileSecretStore, Vault};
use field_engine::{Engine, FieldEvidence, SamplingInput, WitnessInput};
use std::sync::Arc;
pub use sync_server::testing::TestServer;

pub struct Phone {
    pub engine: Arc<Engine>,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
}

pub fn real_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

impl Phone {
    pub fn new(name: &str) -> Phone {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(real_now(), &format!("boot-{name}")));
        let vault = Vault::new(Box::new(FileSecretStore::new(&dir.path().join("secrets")).unwrap()));
        let engine = Arc::new(Engine::open(&dir.path().join("data"), &vault, clock.clone()).unwrap());
        Phone { engine, clock, dir }
    }

    /// Reopen the same phone (an app restart), same data and keys.
    pub fn reopen(&mut self) {
        let vault = Vault::new(Box::new(FileSecretStore::new(&self.dir.path().join("secrets")).unwrap()));
        self.engine =
            Arc::new(Engine::open(&self.dir.path().join("data"), &vault, self.clock.clone()).unwrap());
    }

    pub async fn enrolled(server: &TestServer, person: &str) -> Phone {
        Phone::enrolled_at(server, person, &server.url).await
    }

    /// Enrolled through `url` (e.g. a proxy in front of the server).
    pub async fn enrolled_at(server: &TestServer, person: &str, url: &str) -> Phone {
        let p = Phone::new(person);
        let mut offer = server.offer(person);
        offer.server_url = url.to_owned();
        p.engine.enroll(&offer.to_qr(), "test phone", "linux").await.unwrap();
        p
    }

    /// A photo's worth of bytes, distinct per label.
    pub fn photo(label: &str) -> Vec<u8> {
        let mut v = format!("JPEG of {label}").into_bytes();
        v.resize(20_000, 0xAB);
        v
    }

    /// Face photo + process photo, stored, and fixes at the demo 1# site.
    pub fn evidence(&self, label: &str, north: f64, east: f64) -> (FieldEvidence, FaceCheck) {
        let face = self
            .engine
            .store_media(&Phone::photo(&format!("face {label}")), MediaPurpose::Face, "image/jpeg")
            .unwrap();
        let process = self
            .engine
            .store_media(&Phone::photo(&format!("process {label}")), MediaPurpose::Process, "image/jpeg")
            .unwrap();
        let at = fixtures::site_point(north, east);
        let now = self.clock.mono_ms();
        let fixes =
            vec![fixtures::gnss_fix(at, 4.0, now.saturating_sub(4000)), fixtures::gnss_fix(at, 3.0, now)];
        // Test input standing in for the capture pipeline's face check.
        let check = FaceCheck {
            photo: face.sha256,
            model: "test-input".into(),
            score_milli: 910,
            threshold_milli: 600,
            matched: true,
            liveness: Some(Liveness { challenge: "blink".into(), passed: true, frames: 30 }),
        };
        (FieldEvidence { media: vec![face, process], fixes }, check)
    }

    pub fn sampling_input(&self, serial: u32, north: f64, east: f64) -> SamplingInput {
        let (evidence, face) = self.evidence(&format!("sampling {serial}"), north, east);
        SamplingInput {
            tag: fixtures::tag(serial),
            tag_read: TagRead { method: TagReadMethod::Camera, decoder: Some("test".into()) },
            seal: None,
            project: Id::new(sync_server::demo::PROJECT).unwrap(),
            unit_project: Id::new("UP-1").unwrap(),
            specimen: fixtures::specimen(),
            face,
            evidence,
        }
    }

    pub fn witness_input(&self, sampling: Hash, serial: u32, north: f64, east: f64) -> WitnessInput {
        let (evidence, face) = self.evidence(&format!("witness {serial}"), north, east);
        WitnessInput {
            sampling,
            tag: fixtures::tag(serial),
            tag_read: TagRead { method: TagReadMethod::Camera, decoder: Some("test".into()) },
            face,
            hand_signature: None,
            remarks: String::new(),
            evidence,
        }
    }
}

/// Move the server and every phone forward together.
pub fn advance_all(server: &TestServer, phones: &[&Phone], ms: u64) {
    server.clock.advance(ms as i64);
    for p in phones {
        p.clock.advance(ms);
    }
}

pub fn id(s: &str) -> custody_core::Id {
    custody_core::Id::new(s).unwrap()
}

/// A real server in-process with the demo project.
pub async fn world() -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed();
    (dir, server)
}
