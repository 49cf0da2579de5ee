//! Test support: a real server on a port-0 listener, and a device client
//! that signs every request the way the field app must.
#![allow(dead_code, unused_imports)]

use custody_core::Hash;
use custody_core::crypto::{Domain, SigningKey};
use custody_core::fixtures::{self, Device};
use custody_core::protocol::*;
use custody_core::record::{MediaPurpose, MediaRef, Payload, SignedRecord};
use custody_core::time::HeldAnchor;
use serde_json::value::RawValue;
use sync_server::admin::now_ms;
use sync_server::demo;

pub use sync_server::testing::{TestClock, TestServer, config, crypto};

pub mod browser;
#[allow(dead_code)]
pub mod lab;
#[allow(dead_code)]
pub mod pdf;

/// A simulated phone talking to a real server.
pub struct Phone {
    pub clock: std::sync::Arc<TestClock>,
    pub http: reqwest::Client,
    pub base: String,
    pub dev: Device,
    pub profile: Option<DeviceProfile>,
    pub checkpoint: Option<custody_core::log::SignedCheckpoint>,
}

pub fn device_for(seed: u8, person: &str) -> Device {
    let mut d = Device::new(seed, person);
    let now = now_ms();
    d.boot_at_ms = now - 3_600_000;
    d.boot_id = format!("boot-{seed}-{now}");
    d
}

impl Phone {
    /// The time on the test's shared clock (server and phones agree).
    pub fn now(&self) -> i64 {
        use sync_server::Clock;
        self.clock.now_ms()
    }

    pub fn new(server: &TestServer, seed: u8, person: &str) -> Phone {
        crypto();
        Phone {
            clock: server.clock.clone(),
            http: reqwest::Client::new(),
            base: server.url.clone(),
            dev: device_for(seed, person),
            profile: None,
            checkpoint: None,
        }
    }

    pub fn key(&self) -> &SigningKey {
        &self.dev.key
    }

    pub fn state(&self) -> DeviceState {
        DeviceState {
            boot_id: self.dev.boot_id.clone(),
            mono_ms: self.dev.mono(self.now()),
            tail: self.dev.tail(),
        }
    }

    pub async fn enroll(&mut self, offer: &EnrollmentOffer) -> reqwest::Response {
        let req = EnrollRequest {
            code: offer.code.clone(),
            device: self.dev.key.public(),
            label: "test phone".into(),
            platform: "test".into(),
            boot_id: self.dev.boot_id.clone(),
            mono_ms: self.dev.mono(self.now()),
            proof: self.dev.key.sign(Domain::DeviceRequest, offer.code.as_bytes()),
        };
        let sent = self.dev.mono(self.now());
        let r = self.http.post(format!("{}/v1/enroll", self.base)).json(&req).send().await.unwrap();
        if r.status().is_success() {
            let body: EnrollResponse = r.json().await.unwrap();
            self.dev.anchor = Some(HeldAnchor {
                anchor: body.anchor,
                received_mono_ms: self.dev.mono(self.now()).max(sent),
            });
            self.profile = Some(body.profile);
            self.checkpoint = Some(body.checkpoint);
            return self.http.get(format!("{}/healthz", self.base)).send().await.unwrap();
        }
        r
    }

    /// Send a request signed by this device.
    pub async fn signed(&self, method: reqwest::Method, path: &str, body: Vec<u8>) -> reqwest::Response {
        self.signed_with(method, path, body, self.now(), &random_nonce(), &[]).await
    }

    pub async fn signed_with(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        ts: i64,
        nonce: &str,
        extra: &[(&str, String)],
    ) -> reqwest::Response {
        self.signed_to(&self.base, method, path, body, ts, nonce, extra).await
    }

    /// A signed request to another server instance (several share one database).
    #[allow(clippy::too_many_arguments)]
    pub async fn signed_to(
        &self,
        base: &str,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        ts: i64,
        nonce: &str,
        extra: &[(&str, String)],
    ) -> reqwest::Response {
        self.try_signed_to(base, method, path, body, ts, nonce, extra).await.unwrap()
    }

    /// [`Phone::signed_to`], with a connection failure returned (an instance
    /// going away in the middle of a test).
    #[allow(clippy::too_many_arguments)]
    pub async fn try_signed_to(
        &self,
        base: &str,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        ts: i64,
        nonce: &str,
        extra: &[(&str, String)],
    ) -> reqwest::Result<reqwest::Response> {
        let auth = RequestAuth {
            method: method.as_str().into(),
            path: path.into(),
            body_sha256: Hash::of(&body),
            ts,
            nonce: nonce.into(),
        };
        let sig = auth.sign(&self.dev.key);
        let mut rb = self
            .http
            .request(method, format!("{base}{path}"))
            .header(H_DEVICE, self.dev.key.public().to_b64())
            .header(H_TS, ts.to_string())
            .header(H_NONCE, nonce)
            .header(H_SIG, sig.to_b64())
            .header("content-type", "application/json");
        for (k, v) in extra {
            rb = rb.header(*k, v);
        }
        rb.body(body).send().await
    }

    /// Fresh anchor from the server (bound to this boot and chain head).
    pub async fn sync_time(&mut self) {
        let sent = self.dev.mono(self.now());
        let r =
            self.signed(reqwest::Method::POST, "/v1/time", serde_json::to_vec(&self.state()).unwrap()).await;
        assert!(r.status().is_success(), "time: {}", r.text().await.unwrap());
        let t: TimeResponse = r.json().await.unwrap();
        self.dev.anchor =
            Some(HeldAnchor { anchor: t.anchor, received_mono_ms: self.dev.mono(self.now()).max(sent) });
    }

    pub async fn upload(&mut self, records: &[&SignedRecord]) -> UploadResponse {
        let r = self.upload_raw(records).await;
        assert!(r.status().is_success(), "upload: {}", r.status());
        let resp: UploadResponse = r.json().await.unwrap();
        self.checkpoint = Some(resp.checkpoint.clone());
        resp
    }

    pub async fn upload_raw(&self, records: &[&SignedRecord]) -> reqwest::Response {
        self.upload_to(&self.base, records).await
    }

    /// Upload to a given instance, without asserting the outcome.
    pub async fn upload_to(&self, base: &str, records: &[&SignedRecord]) -> reqwest::Response {
        self.try_upload_to(base, records).await.unwrap()
    }

    /// [`Phone::upload_to`], with a connection failure returned.
    pub async fn try_upload_to(
        &self,
        base: &str,
        records: &[&SignedRecord],
    ) -> reqwest::Result<reqwest::Response> {
        let req = UploadRequest {
            state: self.state(),
            records: records
                .iter()
                .map(|r| RawValue::from_string(String::from_utf8(r.to_bytes()).unwrap()).unwrap())
                .collect(),
        };
        let body = serde_json::to_vec(&req).unwrap();
        self.try_signed_to(base, reqwest::Method::POST, "/v1/records", body, self.now(), &random_nonce(), &[])
            .await
    }

    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let r = self.signed(reqwest::Method::GET, path, vec![]).await;
        assert!(r.status().is_success(), "GET {path}: {} {}", r.status(), r.text().await.unwrap());
        r.json().await.unwrap()
    }

    /// A field record at a point of the demo's 1# building site, with real
    /// media bytes (so they can be uploaded) and the current time.
    pub fn field_record(
        &mut self,
        payload: Payload,
        north_m: f64,
        east_m: f64,
        media: &[(MediaPurpose, &[u8])],
    ) -> SignedRecord {
        let body = self.field_body(payload, north_m, east_m, media);
        self.dev.sign(body)
    }

    /// The body [`Phone::field_record`] signs, for a test to alter first.
    pub fn field_body(
        &self,
        payload: Payload,
        north_m: f64,
        east_m: f64,
        media: &[(MediaPurpose, &[u8])],
    ) -> custody_core::RecordBody {
        let now = self.now();
        let mono = self.dev.mono(now);
        let refs: Vec<MediaRef> = media
            .iter()
            .map(|(purpose, bytes)| MediaRef {
                sha256: Hash::of(bytes),
                size: bytes.len() as u64,
                media_type: "image/jpeg".into(),
                purpose: *purpose,
                captured_mono_ms: Some(mono),
            })
            .collect();
        let at = fixtures::site_point(north_m, east_m);
        let fixes =
            vec![fixtures::gnss_fix(at, 4.0, mono.saturating_sub(3000)), fixtures::gnss_fix(at, 3.0, mono)];
        self.dev.body(payload, refs, fixes, now)
    }
}

pub fn random_nonce() -> String {
    let mut b = [0u8; 12];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).unwrap();
    hex::encode(b)
}

/// An organisation named by its id, for a test's world.
pub fn org(
    i: &str,
    role: custody_core::model::OrgRole,
    jurisdiction: Option<&str>,
) -> custody_core::model::Organisation {
    custody_core::model::Organisation {
        id: fixtures::id(i),
        name: i.into(),
        role,
        credit_code: None,
        jurisdiction: jurisdiction.map(str::to_owned),
    }
}

/// A phone enrolled as `person` through a one-time offer.
pub async fn enrolled(server: &TestServer, seed: u8, person: &str) -> Phone {
    let mut p = Phone::new(server, seed, person);
    let r = p.enroll(&server.offer(person)).await;
    assert!(r.status().is_success(), "enroll {person}");
    p
}

pub fn media(tag: u32, who: &str) -> Vec<(MediaPurpose, Vec<u8>)> {
    vec![(MediaPurpose::Face, FACE.to_vec()), (MediaPurpose::Process, process_photo(tag, who))]
}

pub fn as_refs(m: &[(MediaPurpose, Vec<u8>)]) -> Vec<(MediaPurpose, &[u8])> {
    m.iter().map(|(p, b)| (*p, b.as_slice())).collect()
}

pub const FACE: &[u8] = b"face photo bytes (test)";

pub fn process_photo(tag: u32, who: &str) -> Vec<u8> {
    format!("process photo of tag {tag} by {who}").into_bytes()
}

/// A sampling payload for the demo project (tag serials 1..=2000 are registered).
pub fn demo_sampling(serial: u32) -> Payload {
    let mut p = fixtures::sampling(fixtures::tag(serial));
    if let Payload::Sampling(s) = &mut p {
        s.project = fixtures::id(demo::PROJECT);
        s.face.photo = Hash::of(FACE);
    }
    p
}

pub fn demo_witnessing(s: &SignedRecord) -> Payload {
    let mut p = fixtures::witnessing(s);
    if let Payload::Witnessing(w) = &mut p {
        w.face.photo = Hash::of(FACE);
    }
    p
}

pub fn demo_commission(items: &[(&SignedRecord, &SignedRecord)]) -> Payload {
    let mut p = fixtures::commission(items);
    if let Payload::Commission(c) = &mut p {
        c.project = fixtures::id(demo::PROJECT);
        c.lab = fixtures::id(demo::LAB_ORG);
        c.witness = fixtures::id(demo::WITNESS);
    }
    p
}

/// Every story runs on each storage back end (issue 7): the same test bodies,
/// once on SQLite + a media directory, once on PostgreSQL + an S3 bucket.
#[allow(unused_macros)]
macro_rules! on_each_backend {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(super::Backend::Embedded).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(super::Backend::Postgres).await
            })*
        }
    };
}

/// Upload every media file of a record in one chunk each.
pub async fn upload_media(phone: &Phone, m: &[(MediaPurpose, Vec<u8>)]) {
    for (_, bytes) in m {
        let sha = Hash::of(bytes);
        let r = phone
            .signed_with(
                reqwest::Method::PATCH,
                &format!("/v1/media/{sha}"),
                bytes.clone(),
                phone.now(),
                &random_nonce(),
                &[(H_UPLOAD_OFFSET, "0".into()), (H_UPLOAD_LENGTH, bytes.len().to_string())],
            )
            .await;
        assert!(r.status().is_success() || r.status() == 409, "media upload {}", r.status());
    }
}

/// Fill the demo project with `n` samplings through the real ingest, from
/// `devices` phones uploading batches of 100 at once, on tags of a batch
/// `batch` registered for them (benchmarks).
pub async fn fill_samplings(server: &TestServer, n: usize, devices: usize, batch: u16) {
    fill_samplings_with_photos(server, n, devices, batch, 0).await
}

/// A process photo of `len` incompressible bytes, different for each serial
/// (as camera JPEGs are), or the short test text when `len` is 0.
pub fn sized_photo(serial: u32, len: usize) -> Vec<u8> {
    if len == 0 {
        return process_photo(serial, "bench");
    }
    let mut out = Vec::with_capacity(len + 32);
    let mut h = Hash::of(format!("photo {serial}").as_bytes());
    while out.len() < len {
        out.extend_from_slice(h.as_bytes());
        h = Hash::of(h.as_bytes());
    }
    out.truncate(len);
    out
}

/// [`fill_samplings`], each sampling with its own process photo of
/// `photo_bytes` uploaded through the media endpoint (0: photos referenced
/// but not uploaded).
pub async fn fill_samplings_with_photos(
    server: &TestServer,
    n: usize,
    devices: usize,
    batch: u16,
    photo_bytes: usize,
) {
    use custody_core::tag::{BatchKey, SerialRange, TagBatch};
    server
        .admin()
        .register_tags(TagBatch {
            key: BatchKey { supplier: 310, year: 26, batch },
            supplier_org: fixtures::id("ORG-TAG-AF"),
            project: fixtures::id(demo::PROJECT),
            ranges: vec![SerialRange { first: 1, last: n as u32 }],
        })
        .unwrap();
    let per = n / devices;
    let mut tasks = Vec::new();
    for d in 0..devices {
        let mut p = Phone::new(server, 30 + d as u8, demo::SAMPLER);
        p.dev.boot_id = format!("{}-{batch}", p.dev.boot_id);
        assert!(p.enroll(&server.offer(demo::SAMPLER)).await.status().is_success());
        p.sync_time().await;
        tasks.push(tokio::spawn(async move {
            for start in (0..per).step_by(100) {
                let serials: Vec<u32> =
                    (start..(start + 100).min(per)).map(|i| (d * per + i + 1) as u32).collect();
                let photos: Vec<Vec<u8>> = serials.iter().map(|s| sized_photo(*s, photo_bytes)).collect();
                let recs: Vec<SignedRecord> = serials
                    .iter()
                    .zip(&photos)
                    .map(|(serial, photo)| {
                        let mut payload = demo_sampling(1);
                        if let Payload::Sampling(s) = &mut payload {
                            s.tag = custody_core::TagCode::from_parts(310, 26, batch, *serial).unwrap();
                        }
                        p.field_record(
                            payload,
                            50.0,
                            50.0,
                            &[(MediaPurpose::Face, FACE), (MediaPurpose::Process, photo)],
                        )
                    })
                    .collect();
                let refs: Vec<&SignedRecord> = recs.iter().collect();
                let r = p.upload(&refs).await;
                assert!(
                    r.results.iter().all(|r| r.status == RecordStatus::Accepted),
                    "{:?}",
                    r.results[0].findings
                );
                if photo_bytes > 0 {
                    let m: Vec<(MediaPurpose, Vec<u8>)> =
                        photos.into_iter().map(|b| (MediaPurpose::Process, b)).collect();
                    upload_media(&p, &m).await;
                }
            }
            if photo_bytes > 0 {
                upload_media(&p, &[(MediaPurpose::Face, FACE.to_vec())]).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Median and 99th percentile of timings, in milliseconds (benchmarks).
pub fn quantiles(mut v: Vec<std::time::Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    (ms(v[v.len() / 2]), ms(v[(v.len() * 99 / 100).min(v.len() - 1)]))
}

/// `sync-server --data <data> admin …` pointed at the test server's store
/// (its PostgreSQL and bucket too), as an operator runs it.
pub fn admin_command(server: &TestServer, data: &std::path::Path) -> std::process::Command {
    admin_command_for(&server.state.config, data)
}

/// The same for a server's configuration (the server may be stopped).
pub fn admin_command_for(c: &sync_server::config::Config, data: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sync-server"));
    cmd.args(["--data", data.to_str().unwrap(), "admin"]);
    if c.is_postgres() {
        cmd.env("JZQY_STORAGE__DATABASE", &c.storage.database);
        if let Some(ca) = &c.storage.database_ca {
            cmd.env("JZQY_STORAGE__DATABASE_CA", ca);
        }
        cmd.env("JZQY_STORAGE__MEDIA_BUCKET", &c.storage.media_bucket);
        for (k, v) in [
            ("ENDPOINT", &c.storage.s3.endpoint),
            ("REGION", &c.storage.s3.region),
            ("ACCESS_KEY_ID", &c.storage.s3.access_key_id),
            ("SECRET_ACCESS_KEY", &c.storage.s3.secret_access_key),
        ] {
            cmd.env(format!("JZQY_STORAGE__S3__{k}"), v);
        }
        cmd.env("JZQY_STORAGE__S3__PATH_STYLE", c.storage.s3.path_style.to_string());
    }
    cmd
}
