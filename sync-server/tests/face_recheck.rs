//! The server re-checks faces (issue 19, R1, R7): the uploaded face photo
//! against the person's reference, with the field app's own pipeline and
//! models (`capture`), never taking the phone's word. Tried as a hostile
//! user would — random bytes uploaded as the face photo with a forged
//! "matched, 0.95, liveness passed", another person's face with a claimed
//! match — and as an honest sampler, on both storage back ends. The photos
//! are real: the test faces `scripts/lib/models.sh` installs beside the
//! models (public-domain White House portraits of two people).

#[macro_use]
mod common;

use capture::face::{FaceChecker, FaceConfig, FaceModels, default_models_dir};
use capture::frame::Frame;
use common::*;
use custody_core::fixtures::id;
use custody_core::model::PersonRole;
use custody_core::protocol::*;
use custody_core::record::{FaceCheck, Liveness, MediaPurpose, Payload, SignedRecord};
use custody_core::verify::face_recheck::{FaceAbsence, ServerFaceOutcome};
use custody_core::{Hash, routes};
use std::sync::Arc;
use sync_server::demo;
use sync_server::store::face_rechecks::Pending;
use sync_server::testing::Backend;

on_each_backend!(
    r1_r7_random_bytes_with_a_forged_match_fail_the_labs_face_check,
    r1_r7_a_genuine_face_is_re_checked_and_passes,
    r1_r7_another_persons_face_with_a_claimed_match_is_flagged_with_both_scores,
    r1_r7_a_reference_granted_after_the_photo_is_re_checked_by_the_sweep,
    r1_r7_a_server_without_models_says_so_and_never_claims_it_checked,
);

fn test_face(name: &str) -> Vec<u8> {
    let p = default_models_dir().join("faces").join(name);
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!("{}: {e} (run scripts/test, or `source scripts/lib/models.sh && setup_models`)", p.display())
    })
}

/// The checker a phone runs (the field app's own, same models).
fn phone_checker() -> FaceChecker {
    let models = FaceModels::load(&default_models_dir()).expect("face models");
    FaceChecker::new(Arc::new(models), FaceConfig::from_policy(&Default::default()))
}

/// What an honest phone records for `photo` against `reference`.
fn honest_claim(reference: &[u8], photo: &[u8]) -> FaceCheck {
    let c = phone_checker();
    let template = c.enroll(&Frame::decode(reference).unwrap()).expect("reference enrols");
    let (mut check, _) =
        c.check(&template, &Frame::decode(photo).unwrap(), Hash::of(photo), None).expect("photo checks");
    check.liveness = passed_liveness();
    check
}

fn passed_liveness() -> Option<Liveness> {
    Some(Liveness { challenge: "blink".into(), passed: true, frames: 30 })
}

/// The demo world, with the sampler's real-name check carrying a reference
/// photo (`reference`: none yet when `None`).
async fn world(b: Backend, reference: Option<&[u8]>) -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    if let Some(r) = reference {
        grant_reference(&server, r);
    }
    (dir, server)
}

fn grant_reference(server: &TestServer, reference: &[u8]) {
    grant_reference_as(server, "G-ZW-S-FACE", reference)
}

fn grant_reference_as(server: &TestServer, grant: &str, reference: &[u8]) {
    server
        .admin()
        .grant(
            id(grant),
            id(demo::SAMPLER),
            Some(id(demo::PROJECT)),
            PersonRole::Sampler,
            (b"letter".as_slice(), "text/plain"),
            "身份证+人脸".into(),
            Some((reference, "image/jpeg")),
            None,
        )
        .unwrap();
}

/// Sample tag `serial` with `photo` as the face photo and `claim` as the
/// phone's face result (its photo set to `photo`'s hash), upload the record
/// then its media.
async fn sample(sampler: &mut Phone, serial: u32, photo: &[u8], mut claim: FaceCheck) -> SignedRecord {
    claim.photo = Hash::of(photo);
    let mut payload = demo_sampling(serial);
    if let Payload::Sampling(s) = &mut payload {
        s.face = claim;
    }
    let m = vec![(MediaPurpose::Face, photo.to_vec()), (MediaPurpose::Process, process_photo(serial, "s"))];
    let s = sampler.field_record(payload, 50.0, 60.0, &as_refs(&m));
    let r = sampler.upload(&[&s]).await;
    assert_eq!(r.results[0].status, RecordStatus::Accepted, "{:?}", r.results[0].findings);
    upload_media(sampler, &m).await;
    s
}

/// Sample, witness (the witness has no reference: not re-checked) and
/// commission tag `serial`; the lab's trail of it.
async fn trail_of(
    server: &TestServer,
    serial: u32,
    photo: &[u8],
    claim: FaceCheck,
) -> (SignedRecord, TrailResponse) {
    let mut sampler = enrolled(server, 2, demo::SAMPLER).await;
    let mut w = enrolled(server, 3, demo::WITNESS).await;
    let lab = enrolled(server, 4, demo::LAB_RECEIVER).await;
    sampler.sync_time().await;
    w.sync_time().await;
    let s = sample(&mut sampler, serial, photo, claim).await;
    let m = media(serial, "witness");
    let wr = w.field_record(demo_witnessing(&s), 52.0, 61.0, &as_refs(&m));
    assert_eq!(w.upload(&[&wr]).await.results[0].status, RecordStatus::Accepted);
    upload_media(&w, &m).await;
    let body = sampler.dev.body(demo_commission(&[(&s, &wr)]), vec![], vec![], sampler.now());
    let c = sampler.dev.sign(body);
    assert_ne!(sampler.upload(&[&c]).await.results[0].status, RecordStatus::Rejected);
    let trail: TrailResponse = lab.get_json(&routes::lab_tag(&custody_core::fixtures::tag(serial))).await;
    (s, trail)
}

fn faces_check(t: &TrailResponse) -> TrailCheck {
    t.checks.iter().find(|c| c.name == "faces").cloned().expect("a faces check")
}

/// The findings regulators are shown for `record`.
fn regulator_codes(server: &TestServer, record: &Hash) -> Vec<String> {
    let rows = server.state.store.read(|tx| tx.violations(None, 0, 1000)).unwrap();
    rows.into_iter()
        .filter(|(r, _)| r == record)
        .map(|(_, f)| serde_json::from_str::<Finding>(&f).unwrap().code)
        .collect()
}

async fn r1_r7_random_bytes_with_a_forged_match_fail_the_labs_face_check(b: Backend) {
    let (_dir, server) = world(b, Some(&test_face("obama.jpg"))).await;
    let mut random = vec![0u8; 4096];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random).unwrap();
    let forged = FaceCheck {
        photo: Hash::of(&random),
        model: phone_checker().models().id().to_owned(),
        score_milli: 950,
        threshold_milli: 700,
        matched: true,
        liveness: passed_liveness(),
    };
    let (s, trail) = trail_of(&server, 301, &random, forged).await;
    let kept = server.state.store.read(|tx| tx.face_recheck(&s.id())).unwrap().expect("re-checked");
    assert_eq!(kept.outcome, ServerFaceOutcome::NoFace { reason: FaceAbsence::NotAnImage });
    let faces = faces_check(&trail);
    assert!(!trail.ok && !faces.ok, "{faces:?}");
    assert!(faces.message_en.contains("face_not_found"), "{}", faces.message_en);
    assert!(trail.to_confirm.iter().any(|f| f.code == "face_not_found"), "{:?}", trail.to_confirm);
    assert!(regulator_codes(&server, &s.id()).contains(&"face_not_found".to_owned()));
    // The receipt must confirm it like any flag.
    let mut lab = enrolled(&server, 5, demo::LAB_RECEIVER).await;
    let c = trail.records.iter().find(|r| r.kind == "commission").expect("commission").id;
    let body = lab.dev.body(
        custody_core::fixtures::receipt(
            custody_core::fixtures::tag(301),
            c,
            custody_core::record::ReceiptDecision::Accepted,
        ),
        vec![],
        vec![],
        lab.now(),
    );
    let receipt = lab.dev.sign(body);
    let r = lab.upload(&[&receipt]).await;
    let unconfirmed = r.results[0].findings.iter().find(|f| f.code == "unconfirmed_trail_findings");
    assert!(
        unconfirmed.is_some_and(|f| f.message_en.contains("face_not_found")),
        "{:?}",
        r.results[0].findings
    );
}

async fn r1_r7_a_genuine_face_is_re_checked_and_passes(b: Backend) {
    let reference = test_face("obama.jpg");
    let (_dir, server) = world(b, Some(&reference)).await;
    let photo = test_face("obama2.jpg");
    let claim = honest_claim(&reference, &photo);
    assert!(claim.matched, "the same person matches on the phone: {}", claim.score_milli);
    let (s, trail) = trail_of(&server, 302, &photo, claim.clone()).await;
    let kept = server.state.store.read(|tx| tx.face_recheck(&s.id())).unwrap().expect("re-checked");
    let ServerFaceOutcome::Scored { score_milli, .. } = kept.outcome else { panic!("{kept:?}") };
    assert!(
        (score_milli - claim.score_milli).abs() <= 5,
        "server {score_milli}, phone {}",
        claim.score_milli
    );
    let faces = faces_check(&trail);
    assert!(faces.ok, "{faces:?}");
    // The witness has no reference photo: the check says one was not re-checked.
    assert!(faces.message_en.contains("not re-checked 1"), "{}", faces.message_en);
    assert!(!trail.to_confirm.iter().any(|f| f.code.starts_with("face")), "{:?}", trail.to_confirm);
    assert!(regulator_codes(&server, &s.id()).is_empty());

    // Figures (printed, not asserted): the server's re-check of one photo
    // beside decoding it alone.
    let n = 5;
    let t = std::time::Instant::now();
    for _ in 0..n {
        Frame::decode(&photo).unwrap();
    }
    let decode = t.elapsed() / n;
    let faces = server.state.face_recheck.clone();
    let t = std::time::Instant::now();
    for _ in 0..n {
        faces.measure(&photo, (Hash::of(&reference), &reference)).unwrap().expect("models");
    }
    let recheck = t.elapsed() / n;
    let t = std::time::Instant::now();
    phone_checker();
    let load = t.elapsed();
    eprintln!("figure: loading the face models {:.0} ms (once per process)", load.as_secs_f64() * 1000.0);
    eprintln!(
        "figure: face re-check per photo {:.1} ms (reference kept), decode alone {:.1} ms ({} bytes, {b:?})",
        recheck.as_secs_f64() * 1000.0,
        decode.as_secs_f64() * 1000.0,
        photo.len()
    );
}

async fn r1_r7_another_persons_face_with_a_claimed_match_is_flagged_with_both_scores(b: Backend) {
    let reference = test_face("obama.jpg");
    let (_dir, server) = world(b, Some(&reference)).await;
    // An honest result for the right person, replayed over another's photo.
    let claim = honest_claim(&reference, &test_face("obama2.jpg"));
    let other = test_face("biden.jpg");
    let (s, trail) = trail_of(&server, 303, &other, claim.clone()).await;
    let kept = server.state.store.read(|tx| tx.face_recheck(&s.id())).unwrap().expect("re-checked");
    let ServerFaceOutcome::Scored { score_milli, threshold_milli } = kept.outcome else { panic!("{kept:?}") };
    assert!(score_milli < threshold_milli, "another person: {score_milli}");
    let f = trail.to_confirm.iter().find(|f| f.code == "face_recheck_disagrees").expect("flagged");
    let (phone, server_score) = (
        format!("{:.3}", f64::from(claim.score_milli) / 1000.0),
        format!("{:.3}", f64::from(score_milli) / 1000.0),
    );
    assert!(f.message_en.contains(&phone) && f.message_en.contains(&server_score), "{}", f.message_en);
    assert!(f.message_zh.contains(&phone) && f.message_zh.contains(&server_score), "{}", f.message_zh);
    assert!(!faces_check(&trail).ok && !trail.ok);
    assert!(regulator_codes(&server, &s.id()).contains(&"face_recheck_disagrees".to_owned()));
}

async fn r1_r7_a_reference_granted_after_the_photo_is_re_checked_by_the_sweep(b: Backend) {
    let (_dir, server) = world(b, None).await;
    let mut random = vec![0u8; 2048];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random).unwrap();
    let mut forged = honest_claim(&test_face("obama.jpg"), &test_face("obama2.jpg"));
    forged.score_milli = 950;
    let (s, trail) = trail_of(&server, 304, &random, forged).await;
    // No reference yet: nothing re-checked, and the trail does not pretend.
    assert!(server.state.store.read(|tx| tx.face_recheck(&s.id())).unwrap().is_none());
    let faces = faces_check(&trail);
    assert!(faces.ok && faces.message_en.contains("not re-checked 2"), "{faces:?}");
    // Records waiting for a reference are no candidates for the sweep (they
    // would fill its batch and starve the ones behind them).
    let waiting = server.state.store.read(|tx| tx.face_recheck_pending(&Pending::Any, 50)).unwrap();
    assert!(waiting.is_empty(), "{waiting:?}");
    // A reference without a usable face arrives: the server cannot compare,
    // keeps that, and the trail still says it has not re-checked.
    let st = &server.state;
    let sweep = || {
        sync_server::face_recheck::recheck(&st.store, &st.media(), &st.face_recheck, &Pending::Any, st.now())
            .unwrap()
    };
    grant_reference_as(&server, "G-ZW-S-BAD", b"a scanned letter, not a face");
    let done: Vec<_> = sweep().into_iter().map(|d| (d.0, d.1.outcome)).collect();
    assert_eq!(done, vec![(s.id(), ServerFaceOutcome::ReferenceUnusable)]);
    let lab = enrolled(&server, 6, demo::LAB_RECEIVER).await;
    let trail: TrailResponse = lab.get_json(&routes::lab_tag(&custody_core::fixtures::tag(304))).await;
    let faces = faces_check(&trail);
    assert!(faces.ok && faces.message_en.contains("not re-checked 2"), "{faces:?}");
    assert!(sweep().is_empty(), "nothing new to compare with");
    // A usable reference arrives last (a grant made later: its own
    // millisecond); the sweep (the oversight tick's) re-checks against it.
    std::thread::sleep(std::time::Duration::from_millis(5));
    grant_reference(&server, &test_face("obama.jpg"));
    let done: Vec<_> = sweep().into_iter().map(|d| (d.0, d.1.outcome)).collect();
    assert_eq!(done, vec![(s.id(), ServerFaceOutcome::NoFace { reason: FaceAbsence::NotAnImage })]);
    let trail: TrailResponse = lab.get_json(&routes::lab_tag(&custody_core::fixtures::tag(304))).await;
    assert!(trail.to_confirm.iter().any(|f| f.code == "face_not_found"), "{:?}", trail.to_confirm);
    assert!(regulator_codes(&server, &s.id()).contains(&"face_not_found".to_owned()));
    // Once is enough: the next sweep has nothing to do.
    assert!(sweep().is_empty());
}

async fn r1_r7_a_server_without_models_says_so_and_never_claims_it_checked(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let mut config = sync_server::testing::config_on(b, dir.path());
    config.faces.models_dir = Some(empty.path().to_owned());
    let server = TestServer::start_with(config.clone(), None).await;
    server.seed();
    grant_reference(&server, &test_face("obama.jpg"));
    assert!(server.state.face_recheck.unavailable().is_some());
    let status =
        sync_server::status::Status::gather(&config, &server.state.store, server.state.now()).unwrap();
    assert!(status.render().contains("OFF: the server does not re-check face photos"), "{}", status.render());
    let forged = FaceCheck {
        photo: Hash::of(b"x"),
        model: "m".into(),
        score_milli: 950,
        threshold_milli: 700,
        matched: true,
        liveness: passed_liveness(),
    };
    let (s, trail) = trail_of(&server, 305, b"not a photo at all", forged).await;
    assert!(server.state.store.read(|tx| tx.face_recheck(&s.id())).unwrap().is_none());
    let faces = faces_check(&trail);
    assert!(faces.ok && faces.message_en.contains("has not re-checked"), "{faces:?}");
    assert!(!faces.message_en.contains("re-checked by the server"), "{faces:?}");
}
