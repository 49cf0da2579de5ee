//! A small, realistic world for tests, benchmarks and the demo: one project in
//! Yingkou with a contractor, a supervisor, an owner, a lab and a tag
//! supplier; devices for a sampler, a witness and a lab receiver; and an
//! in-memory reference verifier that applies [`crate::verify::verify`] the way
//! the server does (chain tails, custody states, referenced records).
//!
//! Enabled for this crate's tests and for other crates through the
//! `fixtures` feature. Keys come from fixed seeds so outputs are reproducible.

use crate::crypto::{Hash, PublicKey, SigningKey};
use crate::custody::SpecimenState;
use crate::lab_registry::RegistryVersion;
use crate::model::{Id, OrgRole, Organisation, Person, PersonRole, Project, SpecimenKind, UnitProject};
use crate::place::{Fix, FixProvider, LatLon, SiteBoundary};
use crate::policy::Policy;
use crate::record::*;
use crate::tag::{BatchKey, SerialRange, TagBatch, TagCode};
use crate::time::{AnchorBody, HeldAnchor, Millis, TimeAnchor, TimeAssessment, TimeEvidence};
use crate::verify::{
    self, DeviceFacts, FactSource, Grant, Referenced, Situation, Subject, TagFacts, Verdict, VerifyContext,
    Violation,
};
use std::collections::BTreeMap;

/// 2026-11-02T00:00:00Z (08:00 in Yingkou).
pub const T0: Millis = 1_793_577_600_000;
pub const MIN: Millis = 60_000;

pub fn id(s: &str) -> Id {
    Id::new(s).expect("fixture id")
}

/// South-west corner of the demo site (WGS-84), 营口市站前区.
pub const SITE_SW: (f64, f64) = (40.6650, 122.2350);

/// A 200 m x 150 m site.
pub fn site() -> SiteBoundary {
    let (lat0, lon0) = SITE_SW;
    let dlat = 150.0 / 111_195.0;
    let dlon = 200.0 / (111_195.0 * lat0.to_radians().cos());
    let p = |a: f64, b: f64| LatLon::from_degrees(a, b).expect("fixture coordinate");
    SiteBoundary {
        exterior: vec![
            p(lat0, lon0),
            p(lat0, lon0 + dlon),
            p(lat0 + dlat, lon0 + dlon),
            p(lat0 + dlat, lon0),
        ],
        holes: vec![],
    }
}

/// A point `north_m`/`east_m` metres from the site's south-west corner.
pub fn site_point(north_m: f64, east_m: f64) -> LatLon {
    let (lat0, lon0) = SITE_SW;
    LatLon::from_degrees(lat0 + north_m / 111_195.0, lon0 + east_m / (111_195.0 * lat0.to_radians().cos()))
        .expect("fixture coordinate")
}

pub fn unit_project() -> UnitProject {
    UnitProject { id: id("UP-1"), project: id("PRJ-1"), name: "1#楼".into(), boundary: site() }
}

pub fn batch() -> TagBatch {
    TagBatch {
        key: BatchKey { supplier: 310, year: 26, batch: 1 },
        supplier_org: id("ORG-TAG"),
        project: id("PRJ-1"),
        ranges: vec![SerialRange { first: 1, last: 1000 }],
    }
}

pub fn tag(serial: u32) -> TagCode {
    TagCode::from_parts(310, 26, 1, serial).expect("fixture tag")
}

pub fn gnss_fix(pos: LatLon, accuracy_m: f64, mono_ms: u64) -> Fix {
    Fix {
        pos,
        accuracy_cm: (accuracy_m * 100.0).round() as u32,
        provider: FixProvider::Gnss,
        mono_ms,
        gnss_time_ms: None,
        satellites: Some(12),
        mock: false,
    }
}

/// A media reference with a hash derived from `label` (the bytes are not
/// needed by the rules, only their hash).
pub fn media(purpose: MediaPurpose, label: &str) -> MediaRef {
    MediaRef {
        sha256: Hash::of(label.as_bytes()),
        size: 1000 + label.len() as u64,
        media_type: "image/jpeg".into(),
        purpose,
        captured_mono_ms: None,
    }
}

pub fn face_check(photo: Hash) -> FaceCheck {
    FaceCheck {
        photo,
        model: "blazeface-short-v1+dlib-resnet-v1".into(),
        score_milli: 930,
        threshold_milli: 600,
        matched: true,
        liveness: Some(Liveness { challenge: "blink".into(), passed: true, frames: 30 }),
    }
}

pub fn specimen() -> Specimen {
    Specimen {
        kind: SpecimenKind::ConcreteCube,
        part: "3层 柱 C轴".into(),
        grade: "C30".into(),
        batch_no: "20261102-01".into(),
        quantity: 1,
        unit: "组".into(),
        tests: vec!["抗压强度".into()],
        plan_item: None,
    }
}

/// A simulated phone: key, owner, boot, clocks and its chain position.
pub struct Device {
    pub key: SigningKey,
    pub person: Id,
    pub boot_id: String,
    /// World time at which this boot started (mono = now - boot_at).
    pub boot_at_ms: Millis,
    /// Wall clock error (positive: ahead; negative: set back).
    pub wall_offset_ms: Millis,
    pub seq: u64,
    pub prev: Option<Hash>,
    pub anchor: Option<HeldAnchor>,
}

impl Device {
    pub fn new(seed: u8, person: &str) -> Device {
        Device {
            key: SigningKey::from_seed(&[seed; 32]).expect("seed"),
            person: id(person),
            boot_id: format!("boot-{seed}-1"),
            boot_at_ms: T0 - 3_600_000,
            wall_offset_ms: 0,
            seq: 0,
            prev: None,
            anchor: None,
        }
    }

    pub fn mono(&self, now: Millis) -> u64 {
        (now - self.boot_at_ms) as u64
    }

    pub fn time(&self, now: Millis) -> TimeEvidence {
        TimeEvidence {
            wall_ms: now + self.wall_offset_ms,
            boot_id: self.boot_id.clone(),
            mono_ms: self.mono(now),
            anchor: self.anchor.clone(),
        }
    }

    /// Reboot: new boot id, monotonic clock restarts, anchors no longer refine.
    pub fn reboot(&mut self, now: Millis) {
        self.boot_at_ms = now;
        self.boot_id = format!("{}-r", self.boot_id);
    }

    pub fn tail(&self) -> Option<ChainTail> {
        self.prev.map(|id| ChainTail { seq: self.seq - 1, id })
    }

    /// Build the next body in this device's chain (does not advance it).
    pub fn body(&self, payload: Payload, media: Vec<MediaRef>, fixes: Vec<Fix>, now: Millis) -> RecordBody {
        RecordBody {
            v: FORMAT_VERSION,
            device: self.key.public(),
            author: self.person.clone(),
            seq: self.seq,
            prev: self.prev,
            payload,
            evidence: Evidence { media, fixes, time: self.time(now) },
        }
    }

    /// Sign the next record and advance the chain.
    pub fn sign(&mut self, body: RecordBody) -> SignedRecord {
        let rec = SignedRecord::sign(body, &self.key).expect("device key");
        self.seq += 1;
        self.prev = Some(rec.id());
        rec
    }

    /// A field record with the usual evidence taken at `now` on the site.
    pub fn field_record(
        &mut self,
        payload: Payload,
        face_photo: Hash,
        at: LatLon,
        now: Millis,
    ) -> SignedRecord {
        let mono = self.mono(now);
        let mut face = media(MediaPurpose::Face, "face");
        face.sha256 = face_photo;
        let media =
            vec![face, media(MediaPurpose::Process, &format!("process-{}-{}", self.person, self.seq))];
        let fixes = vec![gnss_fix(at, 4.0, mono.saturating_sub(5000)), gnss_fix(at, 3.0, mono)];
        let body = self.body(payload, media, fixes, now);
        self.sign(body)
    }
}

/// The in-memory reference verifier and its state.
pub struct World {
    pub policy: Policy,
    pub server: Device,
    pub now: Millis,
    pub devices: BTreeMap<PublicKey, DeviceFacts>,
    pub grants: BTreeMap<Id, Vec<Grant>>,
    pub tags: BTreeMap<TagCode, TagFacts>,
    pub unit_projects: BTreeMap<Id, UnitProject>,
    pub lab_assignments: Vec<LabAssignment>,
    pub records: BTreeMap<Hash, Referenced>,
    pub tails: BTreeMap<PublicKey, ChainTail>,
    pub earliest: BTreeMap<PublicKey, Millis>,
    /// Anchors issued: (device, tail seq, server time).
    pub issued: Vec<(PublicKey, u64, Millis)>,
    /// The findings of accepted records, per tag (what a lab is shown).
    pub findings: BTreeMap<TagCode, Vec<Violation>>,
    /// Approved lab registries per lab, in approval order (R3).
    pub registries: BTreeMap<Id, Vec<RegistryVersion>>,
}

/// The world as a fact source for the core's context builder.
struct WorldFacts<'a>(&'a World);

impl FactSource for WorldFacts<'_> {
    type Error = std::convert::Infallible;
    fn device(&mut self, key: &PublicKey) -> Result<Option<DeviceFacts>, Self::Error> {
        Ok(self.0.devices.get(key).cloned())
    }
    fn grants_of(&mut self, person: &Id) -> Result<Vec<Grant>, Self::Error> {
        Ok(self.0.grants.get(person).cloned().unwrap_or_default())
    }
    fn referenced(&mut self, id: &Hash) -> Result<Option<(SignedRecord, TimeAssessment)>, Self::Error> {
        Ok(self.0.records.get(id).map(|r| (r.record.clone(), r.time.clone())))
    }
    fn tag(&mut self, tag: &TagCode) -> Result<TagFacts, Self::Error> {
        Ok(self.0.tags.get(tag).cloned().unwrap_or(TagFacts { batch: None, state: SpecimenState::UNBOUND }))
    }
    fn unit_project(&mut self, id: &Id) -> Result<Option<UnitProject>, Self::Error> {
        Ok(self.0.unit_projects.get(id).cloned())
    }
    fn lab_assignments_of(&mut self, project: &Id) -> Result<Vec<LabAssignment>, Self::Error> {
        Ok(self.0.lab_assignments.iter().filter(|a| &a.project == project).cloned().collect())
    }
    fn covering_anchor_ms(
        &mut self,
        device: &PublicKey,
        seq: u64,
        _: &Hash,
    ) -> Result<Option<Millis>, Self::Error> {
        Ok(self.0.issued.iter().filter(|(k, s, _)| k == device && *s >= seq).map(|x| x.2).min())
    }
    fn org(&mut self, _: &Id) -> Result<Option<Organisation>, Self::Error> {
        Ok(None)
    }
    fn project(&mut self, _: &Id) -> Result<Option<Project>, Self::Error> {
        Ok(None)
    }
    fn person(&mut self, _: &Id) -> Result<Option<Person>, Self::Error> {
        Ok(None)
    }
    fn grant(&mut self, id: &Id) -> Result<Option<Grant>, Self::Error> {
        Ok(self.0.grants.values().flatten().find(|g| &g.grant == id).cloned())
    }
    fn batches(&mut self, key: BatchKey) -> Result<Vec<TagBatch>, Self::Error> {
        let mut out: Vec<TagBatch> =
            self.0.tags.values().filter_map(|f| f.batch.clone()).filter(|b| b.key == key).collect();
        out.dedup();
        Ok(out)
    }
    fn trail_findings(&mut self, tag: &TagCode) -> Result<Vec<Violation>, Self::Error> {
        Ok(self.0.findings.get(tag).cloned().unwrap_or_default())
    }
    fn lab_registries(&mut self, lab: &Id) -> Result<Option<Vec<RegistryVersion>>, Self::Error> {
        Ok(Some(self.0.registries.get(lab).cloned().unwrap_or_default()))
    }
}

impl World {
    /// The standard demo world; returns it with a sampler, a witness and a lab receiver.
    pub fn yingkou() -> (World, Device, Device, Device) {
        let sampler = Device::new(2, "P-SAMPLER");
        let witness = Device::new(3, "P-WITNESS");
        let lab = Device::new(4, "P-LAB");
        let mut w = World {
            policy: Policy::default(),
            server: Device::new(1, "OPERATOR"),
            now: T0,
            devices: BTreeMap::new(),
            grants: BTreeMap::new(),
            tags: BTreeMap::new(),
            unit_projects: BTreeMap::new(),
            lab_assignments: Vec::new(),
            records: BTreeMap::new(),
            tails: BTreeMap::new(),
            earliest: BTreeMap::new(),
            issued: Vec::new(),
            findings: BTreeMap::new(),
            registries: BTreeMap::new(),
        };
        let facts =
            |p: &str, o: &str, r| DeviceFacts { person: id(p), org: id(o), org_role: r, revoked_at_ms: None };
        w.devices.insert(sampler.key.public(), facts("P-SAMPLER", "ORG-CON", OrgRole::Contractor));
        w.devices.insert(witness.key.public(), facts("P-WITNESS", "ORG-SUP", OrgRole::Supervisor));
        w.devices.insert(lab.key.public(), facts("P-LAB", "ORG-LAB", OrgRole::Lab));
        let grant = |g: &str, role, project: Option<&str>| Grant {
            grant: id(g),
            role,
            project: project.map(id),
            valid_from_ms: T0 - 30 * 24 * 3_600_000,
            valid_until_ms: None,
            revoked_at_ms: None,
            face_reference: None,
        };
        w.grants.insert(id("P-SAMPLER"), vec![grant("G-S", PersonRole::Sampler, Some("PRJ-1"))]);
        w.grants.insert(id("P-WITNESS"), vec![grant("G-W", PersonRole::Witness, Some("PRJ-1"))]);
        w.grants.insert(
            id("P-LAB"),
            vec![
                grant("G-L1", PersonRole::LabReceiver, None),
                grant("G-L2", PersonRole::LabTester, None),
                grant("G-L3", PersonRole::LabReporter, None),
            ],
        );
        for serial in 1..=50 {
            w.tags.insert(tag(serial), TagFacts { batch: Some(batch()), state: SpecimenState::UNBOUND });
        }
        w.unit_projects.insert(id("UP-1"), unit_project());
        w.lab_assignments.push(LabAssignment {
            project: id("PRJ-1"),
            unit_project: id("UP-1"),
            lab: id("ORG-LAB"),
            kinds: SpecimenKind::ALL.to_vec(),
        });
        (w, sampler, witness, lab)
    }

    pub fn advance(&mut self, ms: Millis) {
        self.now += ms;
    }

    /// The device syncs: it receives a signed anchor bound to its boot and tail.
    pub fn sync(&mut self, d: &mut Device) {
        let body = AnchorBody {
            v: 1,
            device: d.key.public(),
            boot_id: d.boot_id.clone(),
            device_mono_ms: d.mono(self.now),
            server_ms: self.now,
            tail: d.tail(),
        };
        if let Some(t) = d.tail() {
            self.issued.push((d.key.public(), t.seq, self.now));
        }
        let anchor = TimeAnchor::sign(body, &self.server.key).expect("fixture anchors are in range");
        d.anchor = Some(HeldAnchor { anchor, received_mono_ms: d.mono(self.now) });
    }

    /// The verification context, gathered by the core's one builder from
    /// this world, as the server gathers it from its store.
    pub fn context(&self, rec: &SignedRecord) -> VerifyContext {
        let situation = Situation {
            policy: self.policy.clone(),
            server_keys: vec![self.server.key.public()],
            chain_tail: self.tails.get(&rec.body().device).copied(),
            predecessor_earliest_ms: self.earliest.get(&rec.body().device).copied(),
            first_seen_ms: Some(self.now),
            judged_at_ms: Some(self.now),
            draft: false,
        };
        match verify::build(Subject::Signed(rec), situation, &mut WorldFacts(self)) {
            Ok(ctx) => ctx,
            Err(never) => match never {},
        }
    }

    /// Verify and, as the server does, store what is storable and apply what applies.
    pub fn submit(&mut self, rec: &SignedRecord) -> Verdict {
        let ctx = self.context(rec);
        let verdict = verify::verify(rec, &ctx);
        if verdict.storable() {
            let body = rec.body();
            self.tails.insert(body.device, rec.tail());
            if let Some(e) = verdict.time.as_ref().and_then(|t| t.proven.earliest_ms) {
                self.earliest.insert(body.device, e);
            }
            if verdict.applies() {
                for (t, state) in &verdict.custody {
                    if let Some(f) = self.tags.get_mut(t) {
                        f.state = state.clone();
                    }
                }
                let cosigners = rec
                    .cosigs()
                    .iter()
                    .filter_map(|c| self.devices.get(&c.device).map(|f| f.person.clone()))
                    .collect();
                for t in body.payload.tags() {
                    self.findings.entry(t.clone()).or_default().extend(verdict.violations.iter().cloned());
                }
                self.records.insert(
                    rec.id(),
                    Referenced {
                        record: rec.clone(),
                        time: verdict.time.clone().expect("time assessed"),
                        cosigners,
                    },
                );
            }
        }
        verdict
    }

    /// Add a co-signature to a stored record (as the server does when one arrives).
    pub fn attach_cosignature(&mut self, record: Hash, c: Cosignature) {
        let person = self.devices.get(&c.device).map(|f| f.person.clone());
        if let Some(r) = self.records.get_mut(&record) {
            r.record.attach_cosignature(c).expect("valid co-signature");
            if let Some(p) = person {
                r.cosigners.push(p);
            }
        }
    }
}

/// Payload builders for the standard flow.
pub fn sampling(t: TagCode) -> Payload {
    Payload::Sampling(Sampling {
        tag: t,
        tag_read: TagRead { method: TagReadMethod::Camera, decoder: Some("rqrr".into()) },
        seal: None,
        project: id("PRJ-1"),
        unit_project: id("UP-1"),
        specimen: specimen(),
        face: face_check(Hash::of(b"face")),
    })
}

pub fn witnessing(s: &SignedRecord) -> Payload {
    let Payload::Sampling(sp) = &s.body().payload else { panic!("not a sampling record") };
    Payload::Witnessing(Witnessing {
        sampling: s.id(),
        tag: sp.tag.clone(),
        tag_read: TagRead { method: TagReadMethod::Camera, decoder: Some("rqrr".into()) },
        handshake: HandshakeMethod::Qr,
        sampling_sig: *s.sig(),
        face: face_check(Hash::of(b"face")),
        hand_signature: None,
        remarks: String::new(),
    })
}

pub fn commission(items: &[(&SignedRecord, &SignedRecord)]) -> Payload {
    Payload::Commission(Commission {
        form_no: "WT-2026-0001".into(),
        project: id("PRJ-1"),
        unit_project: id("UP-1"),
        lab: id("ORG-LAB"),
        witness: id("P-WITNESS"),
        items: items
            .iter()
            .map(|(s, w)| {
                let Payload::Sampling(sp) = &s.body().payload else { panic!("not a sampling record") };
                CommissionItem {
                    tag: sp.tag.clone(),
                    sampling: s.id(),
                    witnessing: w.id(),
                    tests: sp.specimen.tests.clone(),
                }
            })
            .collect(),
    })
}

pub fn receipt(t: TagCode, commission: Hash, decision: ReceiptDecision) -> Payload {
    Payload::LabReceipt(LabReceipt {
        tag: t,
        tag_read: TagRead { method: TagReadMethod::Scanner, decoder: None },
        commission,
        decision,
        acknowledged: vec![],
    })
}
