//! The hostile client (issue 17): requests forged the way an attacker
//! would — byte for byte like the field engine, with a key of its own or a
//! person's real one — against the real server on both storage back ends.
//! Each story is a class of attack that once got through, with its
//! neighbours: revoked people (R1), reads across jurisdictions and labs not
//! commissioned (R18, R2), media entitlement hijacked through references
//! (R9, PIPL), attacker-chosen integers, forged resends and equivocations,
//! co-signatures by the wrong person (R10), unprovable witnessing kept from
//! regulators (R8), and error answers outside the one JSON shape.

#[macro_use]
mod common;

use common::*;
use custody_core::fixtures::id;
use custody_core::model::{OrgRole, Person, PersonRole};
use custody_core::protocol::*;
use custody_core::record::{MediaPurpose, MediaRef, ReceiptDecision, SignedRecord};
use custody_core::{Hash, routes};
use reqwest::Method;
use sync_server::demo;
use sync_server::testing::Backend;

on_each_backend!(
    r1_a_revoked_sampler_cannot_complete_a_trail_the_lab_accepts_silently,
    r1_a_revoked_grant_opens_no_feed_media_or_project,
    r18_r2_trails_only_for_the_jurisdiction_and_the_commissioned_lab,
    r9_media_entitlement_cannot_be_hijacked_through_references,
    attacker_integers_get_a_clear_400_never_a_panic,
    forged_resends_and_forged_equivocations_are_not_trusted_and_real_ones_are_seen,
    r10_only_the_named_witness_cosigns_in_their_own_name,
    r8_unprovable_witnessing_is_shown_to_regulators,
    every_error_answers_in_the_one_json_shape,
    r10_the_commission_forms_qr_opens_a_public_page_without_personal_data,
);

/// The demo world, plus a regulator of another city, its inspector, and a
/// lab the owner never commissioned with its receiver.
async fn world(b: Backend) -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let admin = server.admin();
    admin.add_org(org("ORG-REG-PJ", OrgRole::Regulator, Some("211100"))).unwrap();
    admin.add_org(org("ORG-LAB-X", OrgRole::Lab, None)).unwrap();
    for (p, o) in [("P-PJ", "ORG-REG-PJ"), ("P-LABX", "ORG-LAB-X")] {
        admin.add_person(Person { id: id(p), name: p.into(), org: id(o) }).unwrap();
    }
    let letter = (b"letter".as_slice(), "text/plain");
    admin
        .grant(id("G-PJ"), id("P-PJ"), None, PersonRole::Inspector, letter, "id".into(), None, None)
        .unwrap();
    admin
        .grant(id("G-LX"), id("P-LABX"), None, PersonRole::LabReceiver, letter, "id".into(), None, None)
        .unwrap();
    (dir, server)
}

/// Sample tag `serial` (sampler synced first), witness it, commission it.
async fn sample(sampler: &mut Phone, serial: u32) -> SignedRecord {
    let m = media(serial, "sampler");
    let s = sampler.field_record(demo_sampling(serial), 50.0, 60.0, &as_refs(&m));
    let r = sampler.upload(&[&s]).await;
    assert_ne!(r.results[0].status, RecordStatus::Rejected, "{:?}", r.results[0].findings);
    upload_media(sampler, &m).await;
    s
}

async fn witness(witness: &mut Phone, s: &SignedRecord, serial: u32) -> SignedRecord {
    let m = media(serial, "witness");
    let w = witness.field_record(demo_witnessing(s), 52.0, 61.0, &as_refs(&m));
    let r = witness.upload(&[&w]).await;
    assert_eq!(r.results[0].status, RecordStatus::Accepted, "{:?}", r.results[0].findings);
    upload_media(witness, &m).await;
    w
}

async fn commission(sampler: &mut Phone, s: &SignedRecord, w: &SignedRecord) -> SignedRecord {
    let body = sampler.dev.body(demo_commission(&[(s, w)]), vec![], vec![], sampler.now());
    let c = sampler.dev.sign(body);
    let r = sampler.upload(&[&c]).await;
    assert_ne!(r.results[0].status, RecordStatus::Rejected, "{:?}", r.results[0].findings);
    c
}

/// POST a co-signature made with `signer`'s key in the name of `author`.
async fn cosign_as(signer: &Phone, record: &SignedRecord, author: &str) -> reqwest::Response {
    let mut c = record.clone();
    c.cosign(signer.key(), id(author));
    let cosig = c.cosigs().iter().find(|x| x.device == signer.key().public()).unwrap().clone();
    let body = serde_json::to_vec(&CosignRequest { record: record.id(), cosig }).unwrap();
    signer.signed(Method::POST, routes::COSIGNATURES, body).await
}

async fn error_of(r: reqwest::Response) -> (u16, ApiError) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let e =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not the ApiError shape ({status}): {text}"));
    (status, e)
}

fn trail_path(serial: u32) -> String {
    routes::lab_tag(&custody_core::fixtures::tag(serial))
}

async fn r1_a_revoked_sampler_cannot_complete_a_trail_the_lab_accepts_silently(b: Backend) {
    let (_dir, server) = world(b).await;
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let mut w = enrolled(&server, 3, demo::WITNESS).await;
    let mut lab = enrolled(&server, 4, demo::LAB_RECEIVER).await;
    let inspector = enrolled(&server, 5, demo::INSPECTOR).await;
    sampler.sync_time().await;
    w.sync_time().await;
    // Revoked after the sampler's phone last synced; it still holds that anchor.
    server.clock.advance(60_000);
    server.admin().revoke_grant(id("G-ZW-S"), "离职".into()).unwrap();
    server.clock.advance(2 * 60_000);
    let s = sample(&mut sampler, 101).await;
    let wr = witness(&mut w, &s, 101).await;
    let c = commission(&mut sampler, &s, &wr).await;
    assert!(cosign_as(&w, &c, demo::WITNESS).await.status().is_success());
    // The lab is told, and must confirm each finding to accept anyway.
    let trail: TrailResponse = lab.get_json(&trail_path(101)).await;
    assert!(!trail.ok, "{}", trail.summary_en);
    assert!(trail.checks.iter().any(|c| c.name == "authorisation" && !c.ok), "{:?}", trail.checks);
    assert!(trail.to_confirm.iter().any(|f| f.code == "authorisation_uncertain"));
    // Accepting without confirming is itself a violation regulators see.
    let body = lab.dev.body(
        custody_core::fixtures::receipt(custody_core::fixtures::tag(101), c.id(), ReceiptDecision::Accepted),
        vec![],
        vec![],
        lab.now(),
    );
    let rec = lab.dev.sign(body);
    let r = lab.upload(&[&rec]).await;
    assert!(
        r.results[0].findings.iter().any(|f| f.code == "unconfirmed_trail_findings"),
        "{:?}",
        r.results[0].findings
    );
    let v: Vec<ViolationView> = inspector.get_json(routes::VIOLATIONS).await;
    assert!(v.iter().any(|x| x.record == rec.id() && x.finding.code == "unconfirmed_trail_findings"));
    assert!(v.iter().any(|x| x.finding.code == "authorisation_uncertain"));
    // A revoked witness may not co-sign at all.
    server.admin().revoke_grant(id("G-LN-W"), "离职".into()).unwrap();
    let (status, e) = error_of(cosign_as(&w, &c, demo::WITNESS).await).await;
    assert_eq!((status, e.code.as_str()), (403, "not_authorised"), "{e:?}");
    server.stop().await;
}

async fn r1_a_revoked_grant_opens_no_feed_media_or_project(b: Backend) {
    let (_dir, server) = world(b).await;
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let w = enrolled(&server, 3, demo::WITNESS).await;
    sampler.sync_time().await;
    let s = sample(&mut sampler, 110).await;
    let photo = Hash::of(&process_photo(110, "sampler"));
    let feed: FeedResponse = w.get_json(&routes::feed(0, 200)).await;
    let ids: Vec<Hash> = feed
        .items
        .iter()
        .map(|i| SignedRecord::from_bytes(i.envelope.get().as_bytes()).unwrap().id())
        .collect();
    assert!(ids.contains(&s.id()), "the witness receives the sampling to attest");
    assert!(w.signed(Method::GET, &routes::media_content(&photo), vec![]).await.status().is_success());
    server.admin().revoke_grant(id("G-LN-W"), "调离".into()).unwrap();
    // Revoked: nothing more from the project, and the profile says why.
    let feed: FeedResponse = w.get_json(&routes::feed(0, 200)).await;
    assert!(feed.items.is_empty(), "a revoked witness still reads the feed");
    let (status, e) = error_of(w.signed(Method::GET, &routes::media_content(&photo), vec![]).await).await;
    assert_eq!((status, e.code.as_str()), (403, "media_forbidden"));
    let p: DeviceProfile = w.get_json(routes::PROFILE).await;
    assert!(p.projects.is_empty());
    assert!(p.grants.iter().all(|g| g.revoked_at_ms.is_some()));
    server.stop().await;
}

async fn r18_r2_trails_only_for_the_jurisdiction_and_the_commissioned_lab(b: Backend) {
    let (_dir, server) = world(b).await;
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    sampler.sync_time().await;
    sample(&mut sampler, 120).await;
    let city = enrolled(&server, 5, demo::INSPECTOR).await;
    let other_city = enrolled(&server, 6, "P-PJ").await;
    let stranger_lab = enrolled(&server, 7, "P-LABX").await;
    let own_lab = enrolled(&server, 4, demo::LAB_RECEIVER).await;
    let ok: TrailResponse = city.get_json(&trail_path(120)).await;
    assert!(!ok.records.is_empty());
    let _: TrailResponse = own_lab.get_json(&trail_path(120)).await;
    for (who, code) in [
        (&other_city, "outside_jurisdiction"),
        (&stranger_lab, "lab_not_commissioned"),
        (&sampler, "lab_only"),
    ] {
        let (status, e) = error_of(who.signed(Method::GET, &trail_path(120), vec![]).await).await;
        assert_eq!((status, e.code.as_str()), (403, code), "{e:?}");
        assert!(!e.message_zh.is_empty() && !e.message_en.is_empty());
    }
    // The other city lists its own violations: none of this city's.
    let v: Vec<ViolationView> = other_city.get_json(routes::VIOLATIONS).await;
    assert!(v.iter().all(|x| x.jurisdiction.as_deref().is_some_and(|j| j.starts_with("2111"))));
    server.stop().await;
}

async fn r9_media_entitlement_cannot_be_hijacked_through_references(b: Backend) {
    let (_dir, server) = world(b).await;
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let mut w = enrolled(&server, 3, demo::WITNESS).await;
    let lab = enrolled(&server, 4, demo::LAB_RECEIVER).await;
    let mut other_city = enrolled(&server, 6, "P-PJ").await;
    sampler.sync_time().await;
    w.sync_time().await;
    let s = sample(&mut sampler, 130).await;
    let photo_bytes = process_photo(130, "sampler");
    let photo = Hash::of(&photo_bytes);
    let content = routes::media_content(&photo);
    // A project member re-lists the sampler's process photo as a face of his own.
    let wm = media(130, "witness");
    let mut body = w.field_body(demo_witnessing(&s), 52.0, 61.0, &as_refs(&wm));
    body.evidence.media.push(MediaRef {
        sha256: photo,
        size: photo_bytes.len() as u64,
        media_type: "image/jpeg".into(),
        purpose: MediaPurpose::Face,
        captured_mono_ms: None,
    });
    let relisted = w.dev.sign(body);
    w.upload(&[&relisted]).await;
    let r = lab.signed(Method::GET, &content, vec![]).await;
    assert_eq!(r.status(), 200, "the lab keeps its evidence");
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    // A regulator of another city gets a refused record stored naming the photo.
    other_city.sync_time().await;
    let mut foreign =
        other_city.field_record(demo_sampling(131), 50.0, 50.0, &[(MediaPurpose::Process, &photo_bytes)]);
    let r = other_city.upload(&[&foreign]).await;
    assert_eq!(r.results[0].status, RecordStatus::Refused, "{:?}", r.results[0].findings);
    let (status, _) = error_of(other_city.signed(Method::GET, &content, vec![]).await).await;
    assert_eq!(status, 403, "a refused record opens nothing");
    // An attacker lists a victim's photo before it is uploaded, declares it
    // HTML with a header injection, starts the upload and poisons it.
    let victim_bytes = process_photo(132, "sampler");
    let victim = Hash::of(&victim_bytes);
    let s2 = sampler.field_record(demo_sampling(132), 50.0, 60.0, &as_refs(&media(132, "sampler")));
    sampler.upload(&[&s2]).await;
    let mut body = other_city.dev.body(demo_sampling(133), vec![], vec![], other_city.now());
    body.evidence.media.push(MediaRef {
        sha256: victim,
        size: victim_bytes.len() as u64 + 10,
        media_type: "text/html\r\nX-Evil: 1".into(),
        purpose: MediaPurpose::Process,
        captured_mono_ms: None,
    });
    foreign = other_city.dev.sign(body);
    other_city.upload(&[&foreign]).await;
    let chunk = |bytes: Vec<u8>, offset: usize, len: usize| {
        let p = &other_city;
        let path = routes::media(&victim);
        async move {
            p.signed_with(
                Method::PATCH,
                &path,
                bytes,
                p.now(),
                &random_nonce(),
                &[(H_UPLOAD_OFFSET, offset.to_string()), (H_UPLOAD_LENGTH, len.to_string())],
            )
            .await
        }
    };
    let len = victim_bytes.len() + 10;
    assert!(chunk(vec![], 0, len).await.status().is_success());
    assert!(chunk(b"garbage".to_vec(), 0, len).await.status().is_success());
    // The victim's upload is its own, untouched; then the photo is served as what it is.
    upload_media(&sampler, &media(132, "sampler")).await;
    let r = lab.signed(Method::GET, &routes::media_content(&victim), vec![]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().as_ref(), victim_bytes.as_slice());
    server.stop().await;
}

async fn attacker_integers_get_a_clear_400_never_a_panic(b: Backend) {
    let (_dir, server) = world(b).await;
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    // A self-made key, no enrollment, request times outside +-(2^53-1).
    let stranger = Phone::new(&server, 40, "P-NOBODY");
    for ts in [1i64 << 53, i64::MAX, -(1i64 << 60)] {
        let r = stranger.signed_with(Method::GET, routes::PROFILE, vec![], ts, &random_nonce(), &[]).await;
        let (status, e) = error_of(r).await;
        assert_eq!((status, e.code.as_str()), (401, "auth_bad_ts"));
    }
    // Readings the server would sign into an anchor.
    let huge = 1u64 << 53;
    let time = |state: DeviceState| serde_json::to_vec(&state).unwrap();
    let mut st = sampler.state();
    st.mono_ms = huge;
    let (status, e) = error_of(sampler.signed(Method::POST, routes::TIME, time(st)).await).await;
    assert_eq!((status, e.code.as_str()), (400, "out_of_range"));
    let mut st = sampler.state();
    st.tail = Some(custody_core::record::ChainTail { seq: 1 << 60, id: Hash::of(b"x") });
    let (status, _) = error_of(sampler.signed(Method::POST, routes::TIME, time(st)).await).await;
    assert_eq!(status, 400);
    // A batch with a bad state is refused whole, before anything is stored.
    sampler.sync_time().await;
    let s = sampler.field_record(demo_sampling(140), 50.0, 60.0, &as_refs(&media(140, "s")));
    let mut st = sampler.state();
    st.mono_ms = huge;
    let req = UploadRequest {
        state: st,
        records: vec![
            serde_json::value::RawValue::from_string(String::from_utf8(s.to_bytes()).unwrap()).unwrap(),
        ],
    };
    let r = sampler.signed(Method::POST, routes::RECORDS, serde_json::to_vec(&req).unwrap()).await;
    assert_eq!(error_of(r).await.0, 400);
    assert!(server.state.store.read(|tx| tx.record(&s.id())).unwrap().is_none());
    // Then the same record with an honest state is stored as usual.
    assert_eq!(sampler.upload(&[&s]).await.results[0].status, RecordStatus::Accepted);
    // Enrollment with an absurd boot reading.
    let offer = server.offer(demo::WITNESS);
    let mut p = Phone::new(&server, 41, demo::WITNESS);
    p.dev.boot_at_ms = p.now() - (1i64 << 62);
    let (status, e) = error_of(p.enroll(&offer).await).await;
    assert_eq!((status, e.code.as_str()), (400, "out_of_range"));
    assert!(reqwest::get(format!("{}{}", server.url, routes::HEALTHZ)).await.unwrap().status().is_success());
    server.stop().await;
}

async fn forged_resends_and_forged_equivocations_are_not_trusted_and_real_ones_are_seen(b: Backend) {
    let (_dir, server) = world(b).await;
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let inspector = enrolled(&server, 5, demo::INSPECTOR).await;
    let lab = enrolled(&server, 4, demo::LAB_RECEIVER).await;
    sampler.sync_time().await;
    let s = sample(&mut sampler, 150).await;
    // The stored record's bytes with another signature: not "a duplicate".
    let forge = |rec: &SignedRecord| {
        let mut v: serde_json::Value = serde_json::from_slice(&rec.to_bytes()).unwrap();
        let other = custody_core::SigningKey::from_seed(&[99; 32]).unwrap();
        let sig = other.sign(custody_core::crypto::Domain::Record, rec.id().as_bytes());
        v["sig"] = serde_json::Value::String(sig.to_b64());
        custody_core::canonical::to_canonical(&v).unwrap()
    };
    let raw = |state: DeviceState, bytes: Vec<u8>| {
        let req = UploadRequest {
            state,
            records: vec![
                serde_json::value::RawValue::from_string(String::from_utf8(bytes).unwrap()).unwrap(),
            ],
        };
        serde_json::to_vec(&req).unwrap()
    };
    let r: UploadResponse = sampler
        .signed(Method::POST, routes::RECORDS, raw(sampler.state(), forge(&s)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((r.results[0].status, r.results[0].duplicate), (RecordStatus::Rejected, false));
    assert!(r.results[0].findings.iter().any(|f| f.code == "bad_signature"));
    // A forged record at a taken seq is not kept as "evidence" of anything.
    sampler.dev.seq = s.body().seq;
    sampler.dev.prev = s.body().prev;
    let other = sampler.field_record(demo_sampling(151), 50.0, 60.0, &as_refs(&media(151, "s")));
    let r: UploadResponse = sampler
        .signed(Method::POST, routes::RECORDS, raw(sampler.state(), forge(&other)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r.results[0].status, RecordStatus::Rejected);
    assert_eq!(server.state.store.read(|tx| tx.equivocation_count()).unwrap(), 0);
    // A real equivocation is kept, and regulators and labs see it.
    let r = sampler.upload(&[&other]).await;
    assert!(r.results[0].findings.iter().any(|f| f.code == "chain"));
    assert_eq!(server.state.store.read(|tx| tx.equivocation_count()).unwrap(), 1);
    let v: Vec<ViolationView> = inspector.get_json(routes::VIOLATIONS).await;
    assert!(v.iter().any(|x| x.record == s.id() && x.finding.code == "chain"), "{v:?}");
    let trail: TrailResponse = lab.get_json(&trail_path(150)).await;
    assert!(trail.checks.iter().any(|c| c.name == "no_equivocation" && !c.ok));
    server.stop().await;
}

async fn r10_only_the_named_witness_cosigns_in_their_own_name(b: Backend) {
    let (_dir, server) = world(b).await;
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let mut w = enrolled(&server, 3, demo::WITNESS).await;
    let lab = enrolled(&server, 4, demo::LAB_RECEIVER).await;
    sampler.sync_time().await;
    w.sync_time().await;
    let s = sample(&mut sampler, 160).await;
    let wr = witness(&mut w, &s, 160).await;
    let c = commission(&mut sampler, &s, &wr).await;
    for (who, author, code) in
        [(&lab, demo::LAB_RECEIVER, "cosign_not_witness"), (&w, demo::SAMPLER, "cosign_not_yours")]
    {
        let (status, e) = error_of(cosign_as(who, &c, author).await).await;
        assert_eq!((status, e.code.as_str()), (403, code));
    }
    let (status, _) = error_of(cosign_as(&w, &s, demo::WITNESS).await).await;
    assert_eq!(status, 403, "only commission forms are co-signed");
    // A record uploaded with a co-signature claiming another person: rejected.
    let body = sampler.dev.body(demo_commission(&[(&s, &wr)]), vec![], vec![], sampler.now());
    let mut c2 = sampler.dev.sign(body);
    c2.cosign(w.key(), id(demo::LAB_RECEIVER));
    let r = sampler.upload_raw(&[&c2]).await;
    let r: UploadResponse = r.json().await.unwrap();
    assert_eq!(r.results[0].status, RecordStatus::Rejected);
    assert!(r.results[0].findings.iter().any(|f| f.code == "cosignature_misattributed"));
    // The stored form was not touched by any of it.
    let row = server.state.store.read(|tx| tx.record(&c.id())).unwrap().unwrap();
    assert!(SignedRecord::from_bytes(&row.envelope).unwrap().cosigs().is_empty());
    // The lab cannot receive the specimen as complete from a form its witness
    // has not co-signed: refused, kept, custody unchanged (R10) …
    let mut lab = lab;
    lab.sync_time().await;
    let receive = |lab: &mut Phone| {
        let body = lab.dev.body(
            custody_core::fixtures::receipt(
                custody_core::fixtures::tag(160),
                c.id(),
                ReceiptDecision::Accepted,
            ),
            vec![],
            vec![],
            lab.now(),
        );
        lab.dev.sign(body)
    };
    let early = receive(&mut lab);
    let r = lab.upload(&[&early]).await;
    assert_eq!(r.results[0].status, RecordStatus::Refused, "{:?}", r.results[0].findings);
    let f = r.results[0].findings.iter().find(|f| f.code == "received_without_cosignature").expect("named");
    assert!(f.message_zh.contains("会签") && f.message_en.contains("co-signature"));
    let state =
        server.state.store.read(|tx| tx.tag_state(custody_core::fixtures::tag(160).as_str())).unwrap();
    assert_eq!(state.unwrap().stage, custody_core::custody::Stage::Commissioned);
    // … and once the witness co-signs, it is received.
    assert!(cosign_as(&w, &c, demo::WITNESS).await.status().is_success());
    let late = receive(&mut lab);
    let r = lab.upload(&[&late]).await;
    assert_eq!(r.results[0].status, RecordStatus::Accepted, "{:?}", r.results[0].findings);
    server.stop().await;
}

async fn r8_unprovable_witnessing_is_shown_to_regulators(b: Backend) {
    let (_dir, server) = world(b).await;
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let mut w = enrolled(&server, 3, demo::WITNESS).await;
    let inspector = enrolled(&server, 5, demo::INSPECTOR).await;
    // The witness holds an anchor from before the sampling ...
    w.sync_time().await;
    server.clock.advance(60_000);
    sampler.sync_time().await;
    let s = sample(&mut sampler, 170).await;
    // ... and forty minutes later claims, through a faked monotonic clock,
    // to have witnessed right away.
    server.clock.advance(40 * 60_000);
    w.dev.boot_at_ms += 39 * 60_000;
    let m = media(170, "witness");
    let wr = w.field_record(demo_witnessing(&s), 52.0, 61.0, &as_refs(&m));
    let r = w.upload(&[&wr]).await;
    assert!(
        r.results[0].findings.iter().any(|f| f.code == "timing_undetermined" || f.code == "late_witness"),
        "{:?}",
        r.results[0].findings
    );
    let v: Vec<ViolationView> = inspector.get_json(routes::VIOLATIONS).await;
    assert!(
        v.iter().any(|x| x.record == wr.id()
            && matches!(x.finding.code.as_str(), "timing_undetermined" | "late_witness")),
        "the regulator sees it: {v:?}"
    );
    server.stop().await;
}

async fn every_error_answers_in_the_one_json_shape(b: Backend) {
    let (_dir, server) = world(b).await;
    let sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", server.url);
    // A method the route does not take.
    let (status, e) = error_of(http.post(url(routes::HEALTHZ)).send().await.unwrap()).await;
    assert_eq!((status, e.code.as_str()), (405, "method_not_allowed"));
    // A body over the limit.
    let big = vec![b'x'; 200 * 1024];
    let (status, e) = error_of(http.post(url(routes::ENROLL)).body(big).send().await.unwrap()).await;
    assert_eq!(status, 413, "{e:?}");
    // A query of the wrong type, signed.
    let (status, e) = error_of(sampler.signed(Method::GET, "/v1/feed?after=abc", vec![]).await).await;
    assert_eq!((status, e.code.as_str()), (400, "bad_request"));
    // Malformed JSON, an unknown path, a malformed hash and tag.
    let (status, _) = error_of(http.post(url(routes::ENROLL)).body("{").send().await.unwrap()).await;
    assert_eq!(status, 400);
    let (status, _) = error_of(http.get(url("/v1/nothing")).send().await.unwrap()).await;
    assert_eq!(status, 404);
    let (status, e) = error_of(http.get(url("/v1/public/records/xyz")).send().await.unwrap()).await;
    assert_eq!((status, e.code.as_str()), (400, "bad_hash"));
    let (status, e) = error_of(http.get(url("/v1/public/tags/123")).send().await.unwrap()).await;
    assert_eq!((status, e.code.as_str()), (400, "bad_tag"));
    assert!(!e.message_zh.is_empty() && !e.message_en.is_empty());
    // Every listed route is mounted: none answers the fallback's "no such endpoint".
    for r in routes::ALL {
        let path = r
            .path
            .replace("{id}", &"0".repeat(64))
            .replace("{sha256}", &"0".repeat(64))
            .replace("{code}", custody_core::fixtures::tag(1).as_str());
        let method = Method::from_bytes(r.method.as_str().as_bytes()).unwrap();
        let resp = http.request(method, url(&path)).send().await.unwrap();
        if resp.status() == 404 {
            let e: ApiError = resp.json().await.unwrap();
            assert_ne!(
                e.code,
                "no_such_endpoint",
                "{} {} is listed but not mounted",
                r.method.as_str(),
                r.path
            );
        }
    }
    server.stop().await;
}

async fn r10_the_commission_forms_qr_opens_a_public_page_without_personal_data(b: Backend) {
    let (_dir, server) = world(b).await;
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let mut w = enrolled(&server, 3, demo::WITNESS).await;
    sampler.sync_time().await;
    w.sync_time().await;
    let s = sample(&mut sampler, 180).await;
    let wr = witness(&mut w, &s, 180).await;
    let c = commission(&mut sampler, &s, &wr).await;
    let get = |p: String| reqwest::get(format!("{}{p}", server.url));
    let before: PublicRecordView = get(routes::public_record(&c.id())).await.unwrap().json().await.unwrap();
    assert_eq!(before.witness_cosigned, Some(false));
    assert!(cosign_as(&w, &c, demo::WITNESS).await.status().is_success());
    let r = get(routes::public_record(&c.id())).await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let view: PublicRecordView = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (view.kind.as_str(), view.witness_cosigned, view.specimens),
        ("commission", Some(true), Some(1))
    );
    view.receipt.verify(&[server.state.key.public()]).unwrap();
    for personal in ["张伟", "李娜", demo::SAMPLER, demo::WITNESS, "fixes", "\"lat\""] {
        assert!(!text.contains(personal), "{personal} must not be public: {text}");
    }
    // Admin facts (people, organisations) are not public records.
    let admin_fact = server.state.store.read(|tx| tx.records_from(0, 1)).unwrap()[0].id;
    assert_eq!(get(routes::public_record(&admin_fact)).await.unwrap().status(), 404);
    server.stop().await;
}
