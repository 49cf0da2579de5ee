//! The sync server, driven over HTTP on a port-0 listener.

#[macro_use]
mod common;

use common::*;
use custody_core::Hash;
use custody_core::log::{Receipt, verify_consistency};
use custody_core::protocol::*;
use custody_core::record::{MediaPurpose, ReceiptDecision, SignedRecord};
use reqwest::Method;
use sync_server::demo;
use sync_server::testing::{Backend, config_on};

on_each_backend!(
    r1_enrollment_binds_key_person_and_is_one_time,
    requests_must_be_signed_fresh_and_unreplayed,
    full_flow_idempotent_resend_receipts_and_lab_verdict,
    equivocation_is_refused_and_kept_as_evidence,
    refused_rules_come_back_with_reasons_and_one_bad_record_does_not_block_the_rest,
    r8_witness_before_its_sampling_waits_then_applies,
    r8_r18_late_witness_is_accepted_as_a_violation_regulators_see,
    media_upload_resumes_after_a_cut_connection_and_checks_the_hash,
    r14_an_upload_a_crash_left_unfinished_is_finished_when_the_device_asks,
    r14_restart_keeps_everything_and_the_store_verifies,
    health_metrics_and_clear_errors,
);

async fn r1_enrollment_binds_key_person_and_is_one_time(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let offer = server.offer(demo::SAMPLER);
    // The QR text round-trips and names the person.
    assert_eq!(EnrollmentOffer::from_qr(&offer.to_qr()).unwrap(), offer);
    assert_eq!(offer.person_name, "张伟");
    let mut phone = Phone::new(&server, 2, demo::SAMPLER);
    assert!(phone.enroll(&offer).await.status().is_success());
    let profile = phone.profile.clone().unwrap();
    assert_eq!(profile.person.name, "张伟");
    assert_eq!(profile.grants.len(), 1);
    let project = &profile.projects[0];
    assert_eq!(project.unit_projects.len(), 2);
    assert_eq!(project.tag_batches[0].len(), 2000);
    assert!(
        profile.people.iter().any(|p| p.id.as_str() == demo::WITNESS),
        "the sampler can name the witness"
    );
    // Second use of the same code, by another device: refused in both languages.
    let mut other = Phone::new(&server, 9, demo::SAMPLER);
    let r = other.enroll(&offer).await;
    assert_eq!(r.status(), 403);
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.code, "enroll_code_invalid");
    assert!(e.message_zh.contains("注册码") && e.message_en.contains("enrollment code"));
    // A device that does not hold the key it claims.
    let offer2 = server.offer(demo::SAMPLER);
    let mut req_phone = Phone::new(&server, 10, demo::SAMPLER);
    req_phone.dev.key = custody_core::SigningKey::from_seed(&[11; 32]).unwrap();
    let forged = EnrollRequest {
        code: offer2.code.clone(),
        device: custody_core::SigningKey::from_seed(&[12; 32]).unwrap().public(),
        label: "x".into(),
        platform: "x".into(),
        boot_id: "b".into(),
        mono_ms: 1,
        proof: req_phone.dev.key.sign(custody_core::crypto::Domain::DeviceRequest, offer2.code.as_bytes()),
    };
    let r = req_phone.http.post(format!("{}/v1/enroll", server.url)).json(&forged).send().await.unwrap();
    assert_eq!(r.status(), 400);
    server.stop().await;
}

async fn requests_must_be_signed_fresh_and_unreplayed(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let phone = enrolled(&server, 2, demo::SAMPLER).await;
    // Unsigned.
    let r = phone.http.get(format!("{}/v1/profile", server.url)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<ApiError>().await.unwrap().code, "auth_missing");
    // Replay of one signed request.
    let nonce = random_nonce();
    let now = phone.now();
    let ok = phone.signed_with(Method::GET, "/v1/profile", vec![], now, &nonce, &[]).await;
    assert!(ok.status().is_success());
    let again = phone.signed_with(Method::GET, "/v1/profile", vec![], now, &nonce, &[]).await;
    assert_eq!(again.json::<ApiError>().await.unwrap().code, "replay");
    // A phone whose clock is a day off learns the server's time from the error.
    let r =
        phone.signed_with(Method::GET, "/v1/profile", vec![], now - 86_400_000, &random_nonce(), &[]).await;
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.code, "clock_skew");
    assert!(e.detail.unwrap()["server_ms"].as_i64().unwrap() >= now);
    // A stranger's key.
    let stranger = Phone::new(&server, 77, demo::SAMPLER);
    let r = stranger.signed(Method::GET, "/v1/profile", vec![]).await;
    assert_eq!(r.json::<ApiError>().await.unwrap().code, "device_unknown");
    server.stop().await;
}

async fn full_flow_idempotent_resend_receipts_and_lab_verdict(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let mut witness = enrolled(&server, 3, demo::WITNESS).await;
    let mut lab = enrolled(&server, 4, demo::LAB_RECEIVER).await;
    let trusted = vec![server.state.key.public()];

    sampler.sync_time().await;
    let sm = media(1, "sampler");
    let s = sampler.field_record(demo_sampling(1), 50.0, 60.0, &as_refs(&sm));
    let resp = sampler.upload(&[&s]).await;
    let r = &resp.results[0];
    assert_eq!(r.status, RecordStatus::Accepted, "{:?}", r.findings);
    assert_eq!(r.missing_media.len(), 2, "media not uploaded yet");
    let receipt: &Receipt = r.receipt.as_ref().unwrap();
    receipt.verify(&trusted).unwrap();
    // Idempotent resend: same record, same bytes, same leaf.
    let again = sampler.upload(&[&s]).await;
    assert_eq!((again.results[0].status, again.results[0].duplicate), (RecordStatus::Accepted, true));
    assert_eq!(again.results[0].receipt.as_ref().unwrap().leaf_index, receipt.leaf_index);
    upload_media(&sampler, &sm).await;

    // The witness's phone receives the pending sampling through its feed.
    let feed: FeedResponse = witness.get_json("/v1/feed?after=0").await;
    let got = feed.items.iter().find_map(|i| {
        let r = SignedRecord::decode_verified(i.envelope.get().as_bytes()).unwrap();
        (r.id() == s.id()).then_some(r)
    });
    let s_from_feed = got.expect("sampling in the witness's feed");
    witness.sync_time().await;
    let wm = media(1, "witness");
    let w = witness.field_record(demo_witnessing(&s_from_feed), 52.0, 61.0, &as_refs(&wm));
    let resp = witness.upload(&[&w]).await;
    assert_eq!(resp.results[0].status, RecordStatus::Accepted, "{:?}", resp.results[0].findings);
    upload_media(&witness, &wm).await;

    // Commission by the sampler, co-signed by the witness through the server (R10).
    sampler.sync_time().await;
    let body = sampler.dev.body(demo_commission(&[(&s, &w)]), vec![], vec![], sampler.now());
    let c = sampler.dev.sign(body);
    let resp = sampler.upload(&[&c]).await;
    assert_eq!(resp.results[0].status, RecordStatus::Accepted);
    assert!(resp.results[0].findings.iter().any(|f| f.code == "awaiting_witness_cosignature"));
    let mut cosigned = c.clone();
    cosigned.cosign(&witness.dev.key, custody_core::fixtures::id(demo::WITNESS));
    let cosig = cosigned.cosigs()[0].clone();
    let r = witness
        .signed(
            Method::POST,
            "/v1/cosignatures",
            serde_json::to_vec(&CosignRequest { record: c.id(), cosig }).unwrap(),
        )
        .await;
    assert!(r.status().is_success());
    let rr: RecordResult = r.json().await.unwrap();
    assert!(!rr.findings.iter().any(|f| f.code == "awaiting_witness_cosignature"), "{:?}", rr.findings);

    // The lab scans the tag: verified trail.
    let tag = custody_core::fixtures::tag(1);
    let trail: TrailResponse = lab.get_json(&format!("/v1/lab/tags/{}", tag.qr_payload())).await;
    assert!(trail.ok, "{}: {:?}", trail.summary_en, trail.checks);
    assert_eq!(trail.stage, "commissioned");
    assert_eq!(trail.records.len(), 3);
    for rec in &trail.records {
        rec.receipt.verify(&trusted).unwrap();
        assert!(
            rec.media.iter().filter(|m| m.purpose == "face").all(|m| m.url.is_none()),
            "face photos are never linked (PIPL)"
        );
    }
    // Process photos can be fetched; face photos cannot.
    let photo = Hash::of(&process_photo(1, "sampler"));
    let r = lab.signed(Method::GET, &format!("/v1/media/{photo}/content"), vec![]).await;
    assert_eq!(r.bytes().await.unwrap().as_ref(), process_photo(1, "sampler").as_slice());
    let r = lab.signed(Method::GET, &format!("/v1/media/{}/content", Hash::of(FACE)), vec![]).await;
    assert_eq!(r.status(), 403);

    // Lab receipt (R11) through the normal upload.
    let body = lab.dev.body(
        custody_core::fixtures::receipt(tag.clone(), c.id(), ReceiptDecision::Accepted),
        vec![],
        vec![],
        lab.now(),
    );
    let rec = lab.dev.sign(body);
    let resp = lab.upload(&[&rec]).await;
    assert_eq!(resp.results[0].status, RecordStatus::Accepted, "{:?}", resp.results[0].findings);

    // Consistency from the sampler's first checkpoint to now (R14).
    let old = receipt.checkpoint.checkpoint;
    let cons: ConsistencyResponse = sampler.get_json(&format!("/v1/log/consistency?from={}", old.size)).await;
    cons.checkpoint.verify(&trusted).unwrap();
    verify_consistency(&old, &cons.checkpoint.checkpoint, &cons.proof).unwrap();
    server.stop().await;
}

async fn equivocation_is_refused_and_kept_as_evidence(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let m = media(5, "s");
    let a = sampler.field_record(demo_sampling(5), 50.0, 50.0, &as_refs(&m));
    sampler.upload(&[&a]).await;
    // Rewind the chain and sign something else at the same sequence number.
    sampler.dev.seq = 0;
    sampler.dev.prev = None;
    let b = sampler.field_record(demo_sampling(6), 50.0, 50.0, &as_refs(&m));
    assert_eq!(b.body().seq, a.body().seq);
    let resp = sampler.upload(&[&b]).await;
    assert_eq!(resp.results[0].status, RecordStatus::Rejected);
    assert!(resp.results[0].findings.iter().any(|f| f.code == "chain" && f.message_zh.contains("同一序号")));
    let n = server.state.store.read(|tx| tx.equivocation_count()).unwrap();
    assert_eq!(n, 1, "the conflicting record is kept as evidence");
    server.stop().await;
}

async fn refused_rules_come_back_with_reasons_and_one_bad_record_does_not_block_the_rest(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    sampler.sync_time().await;
    let m = media(7, "s");
    let first = sampler.field_record(demo_sampling(7), 50.0, 50.0, &as_refs(&m));
    let reuse = sampler.field_record(demo_sampling(7), 50.0, 50.0, &as_refs(&m)); // same tag again (R6)
    let stranger_tag = {
        let mut p = demo_sampling(8);
        if let custody_core::record::Payload::Sampling(s) = &mut p {
            s.tag = custody_core::TagCode::from_parts(999, 26, 1, 8).unwrap(); // unknown batch (R16)
        }
        sampler.field_record(p, 50.0, 50.0, &as_refs(&m))
    };
    let fine = sampler.field_record(demo_sampling(9), 50.0, 50.0, &as_refs(&m));
    let resp = sampler.upload(&[&first, &reuse, &stranger_tag, &fine]).await;
    let st: Vec<_> = resp.results.iter().map(|r| r.status).collect();
    assert_eq!(
        st,
        vec![RecordStatus::Accepted, RecordStatus::Refused, RecordStatus::Refused, RecordStatus::Accepted]
    );
    let codes = |i: usize| resp.results[i].findings.iter().map(|f| f.code.clone()).collect::<Vec<_>>();
    assert!(codes(1).contains(&"custody".to_string()));
    assert!(codes(2).contains(&"tag_unknown".to_string()));
    assert!(resp.results[1].findings.iter().any(|f| f.message_zh.contains("不能重复使用")));
    // Refused records are kept (logged, with receipts) as evidence.
    assert!(resp.results[1].receipt.is_some());
    // A record the device did not sign is not accepted from it.
    let mut witness = enrolled(&server, 3, demo::WITNESS).await;
    let resp = witness.upload(&[&fine]).await;
    assert_eq!(resp.results[0].findings[0].code, "uploader_not_author");
    server.stop().await;
}

async fn r8_witness_before_its_sampling_waits_then_applies(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let mut witness = enrolled(&server, 3, demo::WITNESS).await;
    sampler.sync_time().await;
    witness.sync_time().await;
    let m = media(10, "s");
    let s = sampler.field_record(demo_sampling(10), 50.0, 50.0, &as_refs(&m));
    // Offline handshake: the witness holds the sampling record (QR) before the server does.
    let w = witness.field_record(demo_witnessing(&s), 51.0, 50.0, &as_refs(&media(10, "w")));
    let resp = witness.upload(&[&w]).await;
    assert_eq!(resp.results[0].status, RecordStatus::Deferred);
    let resp = sampler.upload(&[&s]).await;
    assert_eq!(resp.results[0].status, RecordStatus::Accepted);
    let row = server.state.store.read(|tx| tx.record(&w.id())).unwrap().unwrap();
    assert_eq!(
        row.status,
        RecordStatus::Accepted,
        "the deferred witness record applied once its sampling arrived"
    );
    let state = server
        .state
        .store
        .read(|tx| tx.tag_state(custody_core::fixtures::tag(10).as_str()))
        .unwrap()
        .unwrap();
    assert_eq!(state.stage, custody_core::custody::Stage::Witnessed);
    server.stop().await;
}

async fn r8_r18_late_witness_is_accepted_as_a_violation_regulators_see(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let mut witness = enrolled(&server, 3, demo::WITNESS).await;
    let inspector = enrolled(&server, 5, demo::INSPECTOR).await;
    sampler.sync_time().await;
    let s = sampler.field_record(demo_sampling(11), 50.0, 50.0, &as_refs(&media(11, "s")));
    assert_eq!(sampler.upload(&[&s]).await.results[0].status, RecordStatus::Accepted);
    // Forty minutes later the witness syncs (its anchor proves the time) and records.
    server.clock.advance(40 * 60_000);
    witness.sync_time().await;
    let w = witness.field_record(demo_witnessing(&s), 51.0, 50.0, &as_refs(&media(11, "w")));
    let resp = witness.upload(&[&w]).await;
    let r = &resp.results[0];
    assert_eq!(r.status, RecordStatus::Accepted, "late witnessing keeps its evidence");
    let late = r.findings.iter().find(|f| f.code == "late_witness").expect("flagged late");
    assert!(late.message_zh.contains("见证超时") && late.message_en.contains("late witnessing"));
    // The regulator sees it in its own jurisdiction (project 210802 under 210800).
    let v: Vec<ViolationView> = inspector.get_json("/v1/violations").await;
    assert!(v.iter().any(|x| x.record == w.id() && x.finding.code == "late_witness"));
    assert_eq!(v[0].jurisdiction.as_deref(), Some("210802"));
    // Someone else's jurisdiction sees nothing; a sampler may not list at all.
    let r = sampler.signed(Method::GET, "/v1/violations", vec![]).await;
    assert_eq!(r.status(), 403);
    let token = server.admin().create_token("test").unwrap();
    let other: Vec<ViolationView> = reqwest::Client::new()
        .get(format!("{}/v1/admin/violations?jurisdiction=110000", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(other.is_empty());
    // The lab's verdict says why it is not clean.
    let lab = enrolled(&server, 4, demo::LAB_RECEIVER).await;
    let trail: TrailResponse =
        lab.get_json(&format!("/v1/lab/tags/{}", custody_core::fixtures::tag(11))).await;
    assert!(!trail.ok);
    assert!(trail.checks.iter().any(|c| c.name == "witnessed_in_time" && !c.ok));
    server.stop().await;
}

async fn media_upload_resumes_after_a_cut_connection_and_checks_the_hash(b: Backend) {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let video: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let sha = Hash::of(&video);
    let m = vec![(MediaPurpose::Face, FACE.to_vec()), (MediaPurpose::Process, video.clone())];
    let s = sampler.field_record(demo_sampling(12), 50.0, 50.0, &as_refs(&m));
    sampler.upload(&[&s]).await;
    let chunk = 1_000_000;
    let put = |offset: usize, bytes: Vec<u8>| {
        let extra = [(H_UPLOAD_OFFSET, offset.to_string()), (H_UPLOAD_LENGTH, video.len().to_string())];
        let sampler = &sampler;
        async move {
            sampler
                .signed_with(
                    Method::PATCH,
                    &format!("/v1/media/{sha}"),
                    bytes,
                    sampler.now(),
                    &random_nonce(),
                    &extra,
                )
                .await
        }
    };
    let r = put(0, video[..chunk].to_vec()).await;
    assert_eq!(r.json::<MediaStatus>().await.unwrap().received, chunk as u64);
    // The second chunk is cut off mid-body: a raw connection that sends half and hangs up.
    {
        let addr = server.url.trim_start_matches("http://");
        let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "PATCH /v1/media/{sha} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {chunk}\r\n{H_UPLOAD_OFFSET}: {chunk}\r\n{H_UPLOAD_LENGTH}: {}\r\n\r\n",
            video.len()
        );
        sock.write_all(head.as_bytes()).await.unwrap();
        sock.write_all(&video[chunk..chunk + chunk / 2]).await.unwrap();
        drop(sock);
    }
    // The device asks where to resume: nothing of the cut chunk was kept.
    let st: MediaStatus = sampler.get_json(&format!("/v1/media/{sha}")).await;
    assert_eq!((st.received, st.complete), (chunk as u64, false));
    // A chunk at a stale offset is refused with the offset to use.
    let r = put(0, video[..10].to_vec()).await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<ApiError>().await.unwrap().detail.unwrap()["received"], chunk);
    let r = put(chunk, video[chunk..2 * chunk].to_vec()).await;
    assert!(r.status().is_success());
    let r = put(2 * chunk, video[2 * chunk..].to_vec()).await;
    let done: MediaStatus = r.json().await.unwrap();
    assert!(done.complete);
    assert_eq!(server.state.blobs.read(&sha).unwrap(), video, "stored byte for byte");
    // Bytes that do not match their name are discarded, never stored.
    let fake = vec![7u8; FACE.len()];
    let r = sampler
        .signed_with(
            Method::PATCH,
            &format!("/v1/media/{}", Hash::of(FACE)),
            fake,
            sampler.now(),
            &random_nonce(),
            &[(H_UPLOAD_OFFSET, "0".into()), (H_UPLOAD_LENGTH, FACE.len().to_string())],
        )
        .await;
    assert_eq!(r.status(), 422);
    // Media no record references cannot be pushed.
    let r = sampler
        .signed_with(
            Method::PATCH,
            &format!("/v1/media/{}", Hash::of(b"x")),
            b"x".to_vec(),
            sampler.now(),
            &random_nonce(),
            &[(H_UPLOAD_OFFSET, "0".into()), (H_UPLOAD_LENGTH, "1".into())],
        )
        .await;
    assert_eq!(r.json::<ApiError>().await.unwrap().code, "media_not_referenced");
    server.stop().await;
}

/// Found by the chaos test (issue 18): the server SIGKILLed after storing an
/// upload's last bytes but before making the object, or after the object
/// but before its row. The device, asking where to resume, heard "every
/// byte received, not complete" and had nothing left to send: its queue
/// never drained and `admin verify` found an object with no row. Asked now,
/// the server finishes what it had.
async fn r14_an_upload_a_crash_left_unfinished_is_finished_when_the_device_asks(b: Backend) {
    use sync_server::blobs::Uploader;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let video: Vec<u8> = (0..1_500_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let (video_sha, face_sha) = (Hash::of(&video), Hash::of(FACE));
    let m = vec![(MediaPurpose::Face, FACE.to_vec()), (MediaPurpose::Process, video.clone())];
    let s = sampler.field_record(demo_sampling(13), 50.0, 50.0, &as_refs(&m));
    sampler.upload(&[&s]).await;
    let chunk = 1_000_000;
    let r = sampler
        .signed_with(
            Method::PATCH,
            &format!("/v1/media/{video_sha}"),
            video[..chunk].to_vec(),
            sampler.now(),
            &random_nonce(),
            &[(H_UPLOAD_OFFSET, "0".into()), (H_UPLOAD_LENGTH, video.len().to_string())],
        )
        .await;
    assert!(r.status().is_success());
    let me = Uploader::device(&sampler.key().public());
    let blobs = &server.state.blobs;
    // The last chunk stored, the server killed before it made the object.
    let len = video.len() as u64;
    assert_eq!(blobs.stage_chunk(&video_sha, &me, len, chunk as u64, &video[chunk..]).unwrap(), len);
    // The face photo made into an object, the server killed before its row.
    let face_len = FACE.len() as u64;
    blobs.put_chunk(&face_sha, &me, face_len, 0, FACE).unwrap();
    for (sha, size) in [(video_sha, len), (face_sha, face_len)] {
        let st: MediaStatus = sampler.get_json(&format!("/v1/media/{sha}")).await;
        assert_eq!((st.received, st.complete), (size, true), "{sha}: finished when asked");
        let row = server.state.store.read(|tx| tx.media(&sha)).unwrap().unwrap();
        assert_eq!((row.size, row.complete), (size, true));
    }
    assert_eq!(blobs.read(&video_sha).unwrap(), video, "stored byte for byte");
    let report = sync_server::maintenance::verify_store(
        &server.state.store,
        blobs,
        &server.state.key.public(),
        Some(&server.state.faces),
    )
    .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    server.stop().await;
}

async fn r14_restart_keeps_everything_and_the_store_verifies(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    // The same database and media store (file, or PostgreSQL database and bucket) across the restart.
    let cfg = config_on(b, dir.path());
    let server = TestServer::start_with(cfg.clone(), None).await;
    server.seed();
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let s = sampler.field_record(demo_sampling(13), 50.0, 50.0, &as_refs(&media(13, "s")));
    let first = sampler.upload(&[&s]).await;
    upload_media(&sampler, &media(13, "s")).await;
    let old_cp = first.checkpoint.checkpoint;
    server.stop().await;

    let server = TestServer::start_with(cfg, None).await;
    sampler.base = server.url.clone();
    // The same key, the same records, the log continues from where it was.
    let again = sampler.upload(&[&s]).await;
    assert!(again.results[0].duplicate);
    let s2 = sampler.field_record(demo_sampling(14), 50.0, 50.0, &as_refs(&media(14, "s")));
    let resp = sampler.upload(&[&s2]).await;
    assert_eq!(resp.results[0].status, RecordStatus::Accepted);
    resp.results[0].receipt.as_ref().unwrap().verify(&[server.state.key.public()]).unwrap();
    let cons: ConsistencyResponse =
        sampler.get_json(&format!("/v1/log/consistency?from={}", old_cp.size)).await;
    verify_consistency(&old_cp, &cons.checkpoint.checkpoint, &cons.proof).unwrap();
    let report = sync_server::maintenance::verify_store(
        &server.state.store,
        &server.state.blobs,
        &server.state.key.public(),
        Some(&server.state.faces),
    )
    .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    // Backup (either back end: a SQLite snapshot) and restore into a fresh
    // directory verify too.
    let bdir = tempfile::tempdir().unwrap();
    let backup = bdir.path().join("b");
    let live = sync_server::backup::Live {
        store: &server.state.store,
        blobs: &server.state.blobs,
        faces: &server.state.faces,
    };
    let m = sync_server::backup::make(
        &live,
        (&server.state.config.keys_dir(), Some("api test passphrase")),
        &server.state.key.public(),
        &backup,
        None,
        server.state.now(),
    )
    .unwrap();
    assert!(m.verified, "{:?}", m.problems);
    server.stop().await;
    let rdir = tempfile::tempdir().unwrap();
    let c = config(rdir.path());
    let sealed = sync_server::key_custody::KeySource::Passphrase("api test passphrase".into());
    sync_server::maintenance::restore(
        &backup,
        &c.database_path(),
        &c.media_dir(),
        &c.keys_dir(),
        &c.face_key_file(),
        &sealed,
    )
    .unwrap();
    let restored = TestServer::start(rdir.path()).await;
    let report = sync_server::maintenance::verify_store(
        &restored.state.store,
        &restored.state.blobs,
        &restored.state.key.public(),
        Some(&restored.state.faces),
    )
    .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert!(report.faces_opened >= 1 && report.faces_plain == 0, "{report:?}");
    assert_eq!(
        restored.state.key.public(),
        sampler.profile.as_ref().unwrap().server_keys[0],
        "the restored server keeps its identity"
    );
    restored.stop().await;
}

/// Production with a real certificate (`tls.mode = "files"`, issue 20): a
/// CA-issued chain is served, a client trusting only that CA connects, and
/// `admin status` reads the certificate's expiry from the same file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_certificate_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(vec![]).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let mut leaf = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
    leaf.not_after = rcgen::date_time_ymd(2040, 1, 1);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let (cert_file, key_file) = (dir.path().join("fullchain.pem"), dir.path().join("privkey.pem"));
    std::fs::write(&cert_file, format!("{}{}", cert.pem(), ca_pem)).unwrap();
    std::fs::write(&key_file, leaf_key.serialize_pem()).unwrap();

    let mut c = config(&dir.path().join("data"));
    c.tls.mode = sync_server::config::TlsMode::Files;
    c.tls.cert = Some(cert_file.clone());
    c.tls.key = Some(key_file.clone());
    let tls = sync_server::keys::load_tls_files(&cert_file, &key_file).unwrap();
    let server = TestServer::start_with(c, Some(tls)).await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = server.url.replace("127.0.0.1", "localhost");
    assert!(url.starts_with("https://"), "{url}");
    let r = client.get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let status =
        sync_server::status::Status::gather(&server.state.config, &server.state.store, server.state.now())
            .unwrap();
    let days =
        custody_core::calendar::days_from_civil(2040, 1, 1) as f64 - server.state.now() as f64 / 86_400_000.0;
    assert!((status.cert_days.unwrap() - days).abs() < 1.0, "{:?} vs {days}", status.cert_days);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_pinned_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.tls.mode = sync_server::config::TlsMode::SelfSigned;
    let tls = sync_server::keys::load_or_create_self_signed(
        &c.keys_dir(),
        &["localhost".into(), "127.0.0.1".into()],
    )
    .unwrap();
    let pem = tls.cert_pem.clone();
    let fingerprint = tls.cert_sha256;
    let server = TestServer::start_with(c, Some(tls)).await;
    server.seed();
    let offer = server.offer(demo::SAMPLER);
    assert_eq!(offer.tls_cert_sha256, Some(fingerprint), "the QR pins the certificate");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert = reqwest::Certificate::from_pem(pem.as_bytes()).unwrap();
    let mut phone = Phone::new(&server, 2, demo::SAMPLER);
    phone.http =
        reqwest::Client::builder().tls_built_in_root_certs(false).add_root_certificate(cert).build().unwrap();
    assert!(phone.enroll(&offer).await.status().is_success());
    let p: DeviceProfile = phone.get_json("/v1/profile").await;
    assert_eq!(p.person.name, "张伟");
    // Without the pinned certificate, no connection.
    let plain = reqwest::Client::builder().tls_built_in_root_certs(false).build().unwrap();
    assert!(plain.get(format!("{}/healthz", server.url)).send().await.is_err());
    server.stop().await;
}

async fn health_metrics_and_clear_errors(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    let http = reqwest::Client::new();
    assert_eq!(http.get(format!("{}/healthz", server.url)).send().await.unwrap().text().await.unwrap(), "ok");
    assert_eq!(http.get(format!("{}/readyz", server.url)).send().await.unwrap().status(), 200);
    let r = http.get(format!("{}/nope", server.url)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<ApiError>().await.unwrap().code, "no_such_endpoint");
    let r = http.post(format!("{}/v1/enroll", server.url)).body("{not json").send().await.unwrap();
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.code, "bad_request");
    assert!(e.message_zh.contains("请求格式错误"));
    let r = http.get(format!("{}/v1/public/tags/123", server.url)).send().await.unwrap();
    assert_eq!(r.json::<ApiError>().await.unwrap().code, "bad_tag");
    let metrics = http.get(format!("{}/metrics", server.url)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    let rid = http.get(format!("{}/healthz", server.url)).send().await.unwrap();
    assert!(rid.headers().contains_key("x-request-id"));
    server.stop().await;
}

/// The OpenAPI document is generated from the code; this snapshot makes every
/// change to the API visible in review. Regenerate with
/// `UPDATE_OPENAPI=1 cargo test -p sync-server --test api openapi`.
#[test]
fn openapi_snapshot() {
    let spec = sync_server::openapi::spec_json();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &spec).unwrap();
    }
    let committed =
        std::fs::read_to_string(&path).expect("sync-server/openapi.json (UPDATE_OPENAPI=1 to create)");
    assert_eq!(committed, spec, "the API changed: review and regenerate the snapshot");
    let v: serde_json::Value = serde_json::from_str(&spec).unwrap();
    assert!(v["paths"]["/v1/records"]["post"].is_object());
}

/// One source for every route: the router mounts paths only through
/// `custody_core::routes`, and every path the OpenAPI document describes is
/// listed there with its method (clients build their paths from it). The
/// other direction — every listed route is mounted — is checked against a
/// running server in `hostile.rs`.
#[test]
fn routes_are_named_once() {
    let lib = include_str!("../src/lib.rs");
    for line in lib.lines().filter(|l| l.contains(".route(")) {
        assert!(line.contains(".route(routes::"), "a route path written by hand: {line}");
    }
    let spec: serde_json::Value = serde_json::from_str(&sync_server::openapi::spec_json()).unwrap();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            assert!(
                custody_core::routes::ALL
                    .iter()
                    .any(|r| r.path == path && r.method.as_str().eq_ignore_ascii_case(method)),
                "{method} {path} is documented but not in custody_core::routes::ALL"
            );
        }
    }
    // Prometheus' text exposition (the operator's scraper) and the document itself aside.
    let undocumented = [custody_core::routes::METRICS, custody_core::routes::OPENAPI];
    for r in custody_core::routes::ALL.iter().filter(|r| !undocumented.contains(&r.path)) {
        let documented = spec["paths"][r.path]
            .as_object()
            .is_some_and(|ops| ops.contains_key(&r.method.as_str().to_lowercase()));
        assert!(documented, "{} {} is a route but not in the OpenAPI document", r.method.as_str(), r.path);
    }
}

/// Handlers answer in-process too (no socket): the router is a tower service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oneshot_handlers() {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    let dir = tempfile::tempdir().unwrap();
    let state = sync_server::AppState::open(config(dir.path())).unwrap();
    let app = sync_server::router(state);
    let r = app.clone().oneshot(Request::get("/healthz").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app.clone().oneshot(Request::get("/openapi.json").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(r.status(), 200);
    // A device route without a signature.
    let r = app.clone().oneshot(Request::post("/v1/records").body(Body::from("{}")).unwrap()).await.unwrap();
    assert_eq!(r.status(), 401);
    let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
    let e: ApiError = serde_json::from_slice(&body).unwrap();
    assert_eq!(e.code, "auth_missing");
    // An oversized enrollment body is refused before it is parsed.
    let big = vec![b' '; 200 * 1024];
    let r = app.oneshot(Request::post("/v1/enroll").body(Body::from(big)).unwrap()).await.unwrap();
    assert_eq!(r.status(), 413);
}

/// A panicking handler costs its own request a 500, never the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_never_takes_the_server_down() {
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;
    let app = sync_server::with_common_layers(
        axum::Router::new()
            .route(
                "/boom",
                get(|| async {
                    let items: Vec<&str> = Vec::new();
                    // An out-of-bounds index: a bug in one handler.
                    items[std::hint::black_box(3)]
                }),
            )
            .route("/fine", get(|| async { "fine" })),
    );
    let r = app.clone().oneshot(Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(r.status(), 500);
    let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
    assert_eq!(serde_json::from_slice::<ApiError>(&body).unwrap().code, "internal");
    let r = app.oneshot(Request::get("/fine").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(r.status(), 200);
}
