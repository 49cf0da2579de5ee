//! The field app's engine against a real sync server (issue 4): whole
//! flows, offline work, cut connections, clocks set wrong, a rolled-back log.

mod support;

use custody_core::record::{MediaPurpose, ReceiptDecision, RejectReason, TagRead, TagReadMethod};
use field_engine::{CommissionInput, EngineError, ReceiptInput, ReportInput, TestDataInput};
use support::*;
use sync_server::demo;

fn stored_count(server: &TestServer) -> u64 {
    server.state.store.read(|tx| tx.record_count()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_flow_from_two_devices_and_a_lab() {
    let (_d, server) = world().await;
    let sampler = Phone::enrolled(&server, demo::SAMPLER).await;
    let witness = Phone::enrolled(&server, demo::WITNESS).await;
    let lab = Phone::enrolled(&server, demo::LAB_RECEIVER).await;
    assert_eq!(sampler.engine.status().unwrap().person_name.as_deref(), Some("张伟"));

    // R6-R7: sampling, signed and committed offline first.
    let s = sampler.engine.create_sampling(sampler.sampling_input(1, 50.0, 60.0), false).unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let st = sampler.engine.status().unwrap();
    assert_eq!((st.pending_records, st.pending_media), (1, 2));
    let open = sampler.engine.open_samplings().unwrap();
    assert_eq!(open.len(), 1);
    assert!(
        open[0].remaining_ms > 19 * 60_000 && open[0].remaining_ms <= 20 * 60_000,
        "{}",
        open[0].remaining_ms
    );
    let rep = sampler.engine.sync_once().await.unwrap();
    assert_eq!((rep.accepted, rep.media_completed), (1, 2));
    assert_eq!(sampler.engine.status().unwrap().pending_records, 0);

    // R8: the witness's phone receives it through its feed and attests it.
    advance_all(&server, &[&sampler, &witness, &lab], 5 * 60_000);
    witness.engine.sync_once().await.unwrap();
    let waiting = witness.engine.open_samplings().unwrap();
    assert_eq!(waiting.len(), 1, "the witness sees the pending sampling");
    assert!(waiting[0].remaining_ms < 16 * 60_000);
    let w = witness.engine.create_witnessing(witness.witness_input(s.id, 1, 52.0, 59.0), false).unwrap();
    let rep = witness.engine.sync_once().await.unwrap();
    assert_eq!(rep.accepted, 1);
    let view = witness.engine.record(&w.id).unwrap().unwrap();
    assert_eq!(view.state, "accepted");
    assert!(view.receipt_verified, "receipt verified against the pinned server key");

    // R10: the commission form, co-signed by the witness.
    sampler.engine.sync_once().await.unwrap();
    assert!(sampler.engine.open_samplings().unwrap().is_empty(), "witnessed: no longer open");
    let c = sampler
        .engine
        .create_commission(
            CommissionInput {
                form_no: "WT-0001".into(),
                lab: id(demo::LAB_ORG),
                witness: id(demo::WITNESS),
                items: vec![(s.id, w.id)],
            },
            false,
        )
        .unwrap();
    sampler.engine.sync_once().await.unwrap();
    witness.engine.sync_once().await.unwrap();
    // R10: before the witness co-signs, the lab's phone refuses — offline,
    // in its own draft check — to receive the specimen from that form.
    let receipt_input = || ReceiptInput {
        tag: custody_core::fixtures::tag(1),
        tag_read: TagRead { method: TagReadMethod::Scanner, decoder: None },
        commission: c.id,
        decision: ReceiptDecision::Accepted,
    };
    lab.engine.sync_once().await.unwrap();
    assert!(lab.engine.record(&c.id).unwrap().is_some(), "the feed brought the form to the lab");
    match lab.engine.create_receipt(receipt_input(), false) {
        Err(EngineError::Refused(f)) => {
            assert!(f.iter().any(|f| f.code == "received_without_cosignature"), "{f:?}")
        }
        other => panic!("an uncosigned form was received: {other:?}"),
    }
    witness.engine.cosign(&c.id).unwrap();
    let rep = witness.engine.sync_once().await.unwrap();
    assert_eq!(rep.cosignatures, 1);
    sampler.engine.sync_once().await.unwrap();
    assert_eq!(sampler.engine.record(&c.id).unwrap().unwrap().cosigners, vec![demo::WITNESS.to_string()]);

    // R11: the lab scans the tag, sees a clean verdict, accepts.
    let trail = lab.engine.verify_tag(&custody_core::fixtures::tag(1).qr_payload()).await.unwrap();
    assert!(trail.ok, "{}", trail.summary_en);
    // The form the lab holds now carries the co-signature (the trail brought
    // it), which the phone attributes by its signature.
    let r = lab.engine.create_receipt(receipt_input(), false).unwrap();
    let rep = lab.engine.sync_once().await.unwrap();
    assert_eq!(rep.accepted, 1);
    assert_eq!(lab.engine.record(&r.id).unwrap().unwrap().state, "accepted");
    let trail = lab.engine.verify_tag(&custody_core::fixtures::tag(1).to_string()).await.unwrap();
    assert_eq!(trail.stage, "received");

    tests_and_reports(&lab, &server).await;
    // The server's own check of its store.
    let report = sync_server::maintenance::verify_store(
        &server.state.store,
        &server.state.blobs,
        &server.state.key.public(),
        Some(&server.state.faces),
    )
    .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    server.stop().await;
}

/// R12-R13 after the receipt: test data with the machine's curve, the
/// report, and its QR checked on the server.
async fn tests_and_reports(lab: &Phone, server: &TestServer) {
    // R12: test data with the machine's curve file, stored unaltered; a
    // specimen this lab never received cannot be tested.
    let tested = |tag: u32, curve: Option<custody_core::record::MediaRef>| TestDataInput {
        tag: custody_core::fixtures::tag(tag),
        test: "concrete_cube_strength".into(),
        standard: "GB/T 50081-2019".into(),
        results: vec![],
        curve,
        automatic: true,
        equipment: None,
        revises: None,
        reason: None,
    };
    let err = lab.engine.create_test_data(tested(2, None), true).unwrap_err();
    assert!(err.to_string().contains("not received"), "{err}");
    let machine = custody_core::curve::sim::cube(&custody_core::curve::sim::CubeParams::new(150.0, 30, 1));
    let curve_file = custody_core::curve::to_file(&machine, custody_core::curve::FileStyle::GbkChinese);
    let curve = lab.engine.store_media(&curve_file, MediaPurpose::TestCurve, "text/csv").unwrap();
    let test = lab.engine.create_test_data(tested(1, Some(curve)), false).unwrap();
    lab.engine.sync_once().await.unwrap();
    // A tester may not approve their own data (R12); a second person does.
    let own = lab.engine.create_review(test.id, custody_core::fixtures::tag(1), true, "", true).unwrap_err();
    assert!(own.to_string().contains("own test data"), "{own}");
    let reviewer = Phone::enrolled(server, demo::LAB_REVIEWER).await;
    reviewer.clock.set_wall(server.state.now()); // the others' clocks moved with the server's
    reviewer.engine.sync_once().await.unwrap(); // a time anchor first, as a phone in use has
    reviewer.engine.create_review(test.id, custody_core::fixtures::tag(1), true, "", false).unwrap();
    assert_eq!(reviewer.engine.sync_once().await.unwrap().accepted, 1);
    // R13: the report with its document; the server seals it once the chain is whole.
    let pdf = b"%PDF-1.7 report WT-BG-0001";
    let document = lab.engine.store_media(pdf, MediaPurpose::ReportDocument, "application/pdf").unwrap();
    let report = lab
        .engine
        .create_report(
            ReportInput {
                report_no: "WT-BG-0001".into(),
                tags: vec![custody_core::fixtures::tag(1)],
                conclusion: "符合 C30 要求".into(),
                document,
                amends: None,
            },
            false,
        )
        .unwrap();
    let rep = lab.engine.sync_once().await.unwrap();
    assert_eq!((rep.accepted, rep.media_completed), (1, 1));
    let seal = lab.engine.report_seal(&report.id).await.unwrap();
    assert!(seal.qr.starts_with(&format!("{}/q/", server.url)), "{}", seal.qr);
    let key = server.state.key.clone();
    let view = server
        .state
        .store
        .write(|tx| {
            let c = sync_server::logtree::checkpoint(tx, &key, server.state.now())?;
            sync_server::reports::check(
                tx,
                &server.state.media(),
                &key,
                &[key.public()],
                &seal.qr,
                &server.url,
                &c,
                &server.state.config.oversight.lab,
            )
        })
        .unwrap()
        .unwrap();
    assert_eq!(view.document_sha256, custody_core::Hash::of(pdf));
    assert_eq!(view.status, custody_core::report_seal::ReportStatus::Valid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_handshake_works_with_no_network_and_syncs_in_either_order() {
    let (_d, server) = world().await;
    let sampler = Phone::enrolled(&server, demo::SAMPLER).await;
    let witness = Phone::enrolled(&server, demo::WITNESS).await;
    // On site, no network: QR from screen to screen.
    let s = sampler.engine.create_sampling(sampler.sampling_input(2, 50.0, 60.0), false).unwrap();
    let qr = sampler.engine.handshake_qr(&s.id).unwrap();
    assert!(qr.len() < 900, "the QR stays scannable: {} chars", qr.len());
    let offer = witness.engine.receive_handshake(&qr).unwrap();
    assert_eq!(offer.author_name, "张伟");
    assert_eq!(witness.engine.open_samplings().unwrap()[0].source, "qr");
    advance_all(&server, &[&sampler, &witness], 4 * 60_000);
    // Scanning the wrong specimen's tag is refused before anything is signed.
    let mut wrong = witness.witness_input(s.id, 2, 51.0, 60.0);
    wrong.tag = custody_core::fixtures::tag(3);
    assert!(matches!(witness.engine.create_witnessing(wrong, true), Err(EngineError::Refused(_))));
    let w = witness.engine.create_witnessing(witness.witness_input(s.id, 2, 51.0, 60.0), false).unwrap();
    // The witness reaches a network first: its record waits for the sampling.
    witness.engine.sync_once().await.unwrap();
    assert_eq!(witness.engine.record(&w.id).unwrap().unwrap().state, "deferred");
    sampler.engine.sync_once().await.unwrap();
    witness.engine.sync_once().await.unwrap();
    assert_eq!(
        witness.engine.record(&w.id).unwrap().unwrap().state,
        "accepted",
        "judged again once the sampling arrived"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_witnessing_is_allowed_but_confirmed_and_flagged() {
    let (_d, server) = world().await;
    let sampler = Phone::enrolled(&server, demo::SAMPLER).await;
    let witness = Phone::enrolled(&server, demo::WITNESS).await;
    let s = sampler.engine.create_sampling(sampler.sampling_input(4, 50.0, 60.0), false).unwrap();
    sampler.engine.sync_once().await.unwrap();
    advance_all(&server, &[&sampler, &witness], 45 * 60_000);
    witness.engine.sync_once().await.unwrap();
    assert!(witness.engine.open_samplings().unwrap()[0].remaining_ms < 0, "the countdown shows it overdue");
    let input = witness.witness_input(s.id, 4, 51.0, 60.0);
    let err = witness.engine.create_witnessing(input.clone(), false).unwrap_err();
    let EngineError::NeedsConfirmation(w) = &err else { panic!("{err:?}") };
    assert!(w.iter().any(|f| f.code == "late_by_device_clock" && f.message_zh.contains("超过 20 分钟")));
    let w = witness.engine.create_witnessing(input, true).unwrap();
    witness.engine.sync_once().await.unwrap();
    let v = witness.engine.record(&w.id).unwrap().unwrap();
    assert_eq!(v.state, "accepted");
    assert!(
        v.findings.iter().any(|f| f.code == "late_witness"),
        "the server proves it late: {:?}",
        v.findings
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_errors_before_signing() {
    let (_d, server) = world().await;
    let sampler = Phone::enrolled(&server, demo::SAMPLER).await;
    let lab = Phone::enrolled(&server, demo::LAB_RECEIVER).await;
    sampler.engine.create_sampling(sampler.sampling_input(5, 50.0, 60.0), false).unwrap();
    // The same tag again, offline: refused on the spot (R6).
    let again = sampler.engine.create_sampling(sampler.sampling_input(5, 50.0, 60.0), false).unwrap_err();
    assert!(matches!(again, EngineError::TagAlreadyUsed { .. }));
    assert!(again.message(custody_core::verify::Lang::ZhCn).contains("不能重复使用"));
    // A tag from no registered batch (R16).
    let mut input = sampler.sampling_input(6, 50.0, 60.0);
    input.tag = custody_core::TagCode::from_parts(999, 26, 1, 6).unwrap();
    assert!(matches!(sampler.engine.create_sampling(input, false), Err(EngineError::UnknownTag(_))));
    // Outside the site: needs the person's confirmation, then flagged.
    let err = sampler.engine.create_sampling(sampler.sampling_input(7, -500.0, 60.0), false).unwrap_err();
    let EngineError::NeedsConfirmation(w) = err else { panic!() };
    assert!(w.iter().any(|f| f.code == "outside_site"));
    // A lab receiver cannot sample (R1).
    let err = lab.engine.create_sampling(lab.sampling_input(8, 50.0, 60.0), false).unwrap_err();
    assert!(matches!(err, EngineError::NotAuthorised { .. }), "{err:?}");
    // Reject "other" without a reason.
    let err = lab
        .engine
        .create_receipt(
            ReceiptInput {
                tag: custody_core::fixtures::tag(5),
                tag_read: TagRead { method: TagReadMethod::Scanner, decoder: None },
                commission: custody_core::Hash::of(b"x"),
                decision: ReceiptDecision::Rejected { reason: RejectReason::Other, note: " ".into() },
            },
            true,
        )
        .unwrap_err();
    assert_eq!(err.code(), "invalid");
    // Media not yet on the server can never be deleted through the API.
    let sha = sampler.engine.history(10).unwrap()[0].media[0].sha256;
    assert!(sampler.engine.delete_media(&sha).is_err());
    sampler.engine.sync_once().await.unwrap();
    sampler.engine.delete_media(&sha).unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_offline_then_sync() {
    let (_d, server) = world().await;
    let sampler = Phone::enrolled(&server, demo::SAMPLER).await;
    let witness = Phone::enrolled(&server, demo::WITNESS).await;
    let before = stored_count(&server);
    let mut pairs = Vec::new();
    for day in 0..7u32 {
        for k in 0..3u32 {
            let serial = 100 + day * 10 + k;
            let s =
                sampler.engine.create_sampling(sampler.sampling_input(serial, 40.0, 40.0), false).unwrap();
            witness.engine.receive_handshake(&sampler.engine.handshake_qr(&s.id).unwrap()).unwrap();
            advance_all(&server, &[&sampler, &witness], 6 * 60_000);
            let w = witness
                .engine
                .create_witnessing(witness.witness_input(s.id, serial, 41.0, 40.0), false)
                .unwrap();
            pairs.push((s.id, w.id));
        }
        advance_all(&server, &[&sampler, &witness], 24 * 3_600_000);
    }
    assert_eq!(sampler.engine.status().unwrap().pending_records, 21);
    let rep = sampler.engine.sync_once().await.unwrap();
    assert_eq!(rep.accepted, 21);
    let rep = witness.engine.sync_once().await.unwrap();
    assert_eq!(rep.accepted, 21);
    // A week without a server: the 20 minutes cannot be proven either way,
    // and the server says so instead of guessing.
    let v = witness.engine.record(&pairs[0].1).unwrap().unwrap();
    assert!(v.findings.iter().any(|f| f.code == "timing_undetermined"), "{:?}", v.findings);
    assert!(!v.findings.iter().any(|f| f.code == "late_witness"));
    assert_eq!(stored_count(&server) - before, 42, "every field record stored once");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_set_back_is_detected_through_anchors() {
    let (_d, server) = world().await;
    let sampler = Phone::enrolled(&server, demo::SAMPLER).await;
    let before = sampler.engine.now_estimate();
    // Someone sets the phone back two hours.
    sampler.clock.set_wall(support::real_now() - 2 * 3_600_000);
    let est = sampler.engine.now_estimate();
    assert!((est - before).abs() < 60_000, "the engine's time comes from the anchor, not the wall clock");
    let s = sampler.engine.create_sampling(sampler.sampling_input(9, 50.0, 60.0), false).unwrap();
    assert!(
        s.notices.iter().any(|f| f.code == "clock_skew"),
        "the person is told to fix the clock: {:?}",
        s.notices
    );
    // Its countdown still runs on trusted time.
    let open = sampler.engine.open_samplings().unwrap();
    assert!(open[0].remaining_ms > 19 * 60_000);
    sampler.engine.sync_once().await.unwrap();
    let v = sampler.engine.record(&s.id).unwrap().unwrap();
    assert!(v.findings.iter().any(|f| f.code == "clock_skew"), "{:?}", v.findings);
    // Signed requests still get through: they carry anchor-based time.
    assert!(sampler.engine.sync_once().await.is_ok());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_rebooted_with_its_clock_an_hour_off_still_syncs() {
    let (_d, server) = world().await;
    let sampler = Phone::enrolled(&server, demo::SAMPLER).await;
    // A reboot loses the anchor's reference (a new boot), and the wall clock
    // is an hour fast: the first request is refused as skewed, the engine
    // learns the server's time from the answer and retries.
    sampler.clock.reboot();
    sampler.clock.set_wall(support::real_now() + 3_600_000);
    let s = sampler.engine.create_sampling(sampler.sampling_input(12, 50.0, 60.0), false).unwrap();
    let rep = sampler.engine.sync_once().await.unwrap();
    assert_eq!(rep.accepted, 1);
    let v = sampler.engine.record(&s.id).unwrap().unwrap();
    assert!(v.findings.iter().any(|f| f.code == "clock_skew"), "{:?}", v.findings);
    server.stop().await;
}

/// Where the proxy forwards to (swappable: "the server moved").
type Upstream = std::sync::Arc<std::sync::Mutex<String>>;

/// A TCP proxy that can cut connections after a number of upstream bytes.
async fn proxy(upstream: Upstream, cut_after: std::sync::Arc<std::sync::atomic::AtomicI64>) -> String {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else { return };
            let up = upstream.lock().unwrap().clone();
            let cut = cut_after.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(&up).await else { return };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let to_server = async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let left = cut.load(Ordering::SeqCst);
                        if left >= 0 {
                            if (n as i64) > left {
                                let _ = sw.write_all(&buf[..left as usize]).await;
                                cut.store(0, Ordering::SeqCst);
                                return; // the line drops
                            }
                            cut.fetch_sub(n as i64, Ordering::SeqCst);
                        }
                        if sw.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                let to_client = async move {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                };
                tokio::select! { _ = to_server => {}, _ = to_client => {} }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_connection_resumes_with_nothing_lost_or_duplicated() {
    use std::sync::atomic::Ordering;
    let (_d, server) = world().await;
    let cut = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(-1));
    let upstream =
        std::sync::Arc::new(std::sync::Mutex::new(server.url.trim_start_matches("http://").to_owned()));
    let via = proxy(upstream, cut.clone()).await;
    let sampler = Phone::enrolled_at(&server, demo::SAMPLER, &via).await;
    // A few records and a 6 MB process video.
    let mut input = sampler.sampling_input(10, 50.0, 60.0);
    let video: Vec<u8> = (0..6_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let path = sampler.dir.path().join("clip.mp4");
    std::fs::write(&path, &video).unwrap();
    let vref = sampler.engine.store_media_file(&path, MediaPurpose::Process, "video/mp4").unwrap();
    input.evidence.media.push(vref.clone());
    sampler.engine.create_sampling(input, false).unwrap();
    for serial in 11..16 {
        sampler.engine.create_sampling(sampler.sampling_input(serial, 50.0, 60.0), false).unwrap();
    }
    let before = stored_count(&server);
    // The link drops again and again partway through.
    for attempt in 0..20 {
        cut.store(700_000, Ordering::SeqCst);
        let r = sampler.engine.sync_once().await;
        if r.is_ok() && sampler.engine.status().unwrap().pending_media == 0 {
            break;
        }
        assert!(attempt < 19, "never finished");
    }
    cut.store(-1, Ordering::SeqCst);
    sampler.engine.sync_once().await.unwrap();
    let st = sampler.engine.status().unwrap();
    assert_eq!((st.pending_records, st.pending_media), (0, 0));
    assert_eq!(stored_count(&server) - before, 6, "each record stored exactly once");
    assert_eq!(server.state.blobs.read(&vref.sha256).unwrap(), video, "the video arrived byte for byte");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_server_log_raises_a_persistent_alarm() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed();
    let upstream =
        std::sync::Arc::new(std::sync::Mutex::new(server.url.trim_start_matches("http://").to_owned()));
    let via = proxy(upstream.clone(), std::sync::Arc::new(std::sync::atomic::AtomicI64::new(-1))).await;
    let sampler = Phone::enrolled_at(&server, demo::SAMPLER, &via).await;
    let backup = tempfile::tempdir().unwrap();
    let bpath = backup.path().join("b");
    let live = sync_server::backup::Live {
        store: &server.state.store,
        blobs: &server.state.blobs,
        faces: &server.state.faces,
    };
    let made = sync_server::backup::make(
        &live,
        (&server.state.config.keys_dir(), None),
        &server.state.key.public(),
        &bpath,
        None,
        server.state.now(),
    )
    .unwrap();
    assert!(made.verified, "{:?}", made.problems);
    let keys_dir = server.state.config.keys_dir();
    for serial in 20..23 {
        sampler.engine.create_sampling(sampler.sampling_input(serial, 50.0, 60.0), false).unwrap();
    }
    sampler.engine.sync_once().await.unwrap();
    assert!(sampler.engine.status().unwrap().alarms.is_empty());
    server.stop().await;

    // The operator restores an older backup (same keys, shorter history), and
    // other devices fill the log again: history has been rewritten.
    let restored_dir = tempfile::tempdir().unwrap();
    let c = sync_server::testing::config(restored_dir.path());
    // The backup holds no private key: the operator's escrowed keys directory.
    let escrow = sync_server::key_custody::KeySource::Escrow(keys_dir.clone());
    sync_server::maintenance::restore(
        &bpath,
        &c.database_path(),
        &c.media_dir(),
        &c.keys_dir(),
        &c.face_key_file(),
        &escrow,
    )
    .unwrap();
    let restored = TestServer::start(restored_dir.path()).await;
    *upstream.lock().unwrap() = restored.url.trim_start_matches("http://").to_owned();
    let other = Phone::enrolled(&restored, demo::SAMPLER).await;
    for serial in 30..40 {
        other.engine.create_sampling(other.sampling_input(serial, 50.0, 60.0), false).unwrap();
    }
    other.engine.sync_once().await.unwrap();

    // The first phone notices at its next sync, loudly, and keeps the alarm.
    sampler.engine.create_sampling(sampler.sampling_input(24, 50.0, 60.0), false).unwrap();
    assert!(sampler.engine.sync_once().await.is_err());
    let st = sampler.engine.status().unwrap();
    let alarm = st.alarms.iter().find(|a| a.kind == "log_inconsistent").expect("alarm raised");
    assert!(alarm.message_zh.contains("防篡改日志"));
    let mut sampler = sampler;
    sampler.reopen();
    assert!(!sampler.engine.status().unwrap().alarms.is_empty(), "the alarm survives a restart");
    restored.stop().await;
}

/// R11 with issue 17: a trail with a finding is received only with the
/// receiver's recorded confirmation — the phone asks, the receipt names
/// what was confirmed, and the server then has nothing to flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r11_a_flagged_trail_is_received_only_with_recorded_confirmations() {
    let (_d, server) = world().await;
    let sampler = Phone::enrolled(&server, demo::SAMPLER).await;
    let witness = Phone::enrolled(&server, demo::WITNESS).await;
    let lab = Phone::enrolled(&server, demo::LAB_RECEIVER).await;
    let s = sampler.engine.create_sampling(sampler.sampling_input(6, 50.0, 60.0), false).unwrap();
    sampler.engine.sync_once().await.unwrap();
    advance_all(&server, &[&sampler, &witness, &lab], 45 * 60_000);
    witness.engine.sync_once().await.unwrap();
    let w = witness.engine.create_witnessing(witness.witness_input(s.id, 6, 51.0, 60.0), true).unwrap();
    witness.engine.sync_once().await.unwrap();
    sampler.engine.sync_once().await.unwrap();
    let input = CommissionInput {
        form_no: "WT-0006".into(),
        lab: id(demo::LAB_ORG),
        witness: id(demo::WITNESS),
        items: vec![(s.id, w.id)],
    };
    let c = sampler.engine.create_commission(input, true).unwrap();
    sampler.engine.sync_once().await.unwrap();
    witness.engine.sync_once().await.unwrap();
    witness.engine.cosign(&c.id).unwrap();
    witness.engine.sync_once().await.unwrap();

    let tag = custody_core::fixtures::tag(6);
    let trail = lab.engine.verify_tag(tag.as_str()).await.unwrap();
    assert!(!trail.ok);
    assert!(trail.to_confirm.iter().any(|f| f.code == "late_witness"), "{:?}", trail.to_confirm);
    let receipt = ReceiptInput {
        tag: tag.clone(),
        tag_read: TagRead { method: TagReadMethod::Scanner, decoder: None },
        commission: c.id,
        decision: ReceiptDecision::Accepted,
    };
    let err = lab.engine.create_receipt(receipt.clone(), false).unwrap_err();
    let EngineError::NeedsConfirmation(asked) = &err else { panic!("{err:?}") };
    assert!(
        asked.iter().any(|f| f.code == "unconfirmed_trail_findings" && f.message_en.contains("late_witness"))
    );
    let r = lab.engine.create_receipt(receipt, true).unwrap();
    let signed = lab.engine.signed_record(&r.id).unwrap().unwrap();
    let custody_core::record::Payload::LabReceipt(p) = &signed.body().payload else { panic!("a receipt") };
    assert!(p.acknowledged.contains(&"late_witness".to_owned()), "{:?}", p.acknowledged);
    lab.engine.sync_once().await.unwrap();
    let v = lab.engine.record(&r.id).unwrap().unwrap();
    assert_eq!(v.state, "accepted");
    assert!(!v.findings.iter().any(|f| f.code == "unconfirmed_trail_findings"), "{:?}", v.findings);
    server.stop().await;
}

/// Issue 18: the operator rotates the server's key; the phone, offline
/// through it, follows the handover the old key signed at its next sync —
/// its anchors and receipts verify under the new key — and a key the
/// server lists without a handover from a key the phone trusts is not
/// trusted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_follows_a_signed_key_handover_and_nothing_else() {
    use custody_core::server_keys::SignedHandover;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.seed();
    let upstream =
        std::sync::Arc::new(std::sync::Mutex::new(server.url.trim_start_matches("http://").to_owned()));
    let via = proxy(upstream.clone(), std::sync::Arc::new(std::sync::atomic::AtomicI64::new(-1))).await;
    let sampler = Phone::enrolled_at(&server, demo::SAMPLER, &via).await;
    let old = server.state.key.public();
    sampler.engine.create_sampling(sampler.sampling_input(60, 50.0, 60.0), false).unwrap();
    assert_eq!(sampler.engine.sync_once().await.unwrap().accepted, 1);
    assert_eq!(sampler.engine.trusted_server_keys().unwrap(), vec![old]);
    let config = (*server.state.config).clone();
    server.stop().await;

    // A key of someone else's, listed with a handover it signed itself …
    let store = sync_server::store::Store::open_sqlite(&config.database_path()).unwrap();
    let stranger = custody_core::SigningKey::from_seed(&[66; 32]).unwrap();
    let accomplice = custody_core::SigningKey::from_seed(&[67; 32]).unwrap().public();
    let forged = SignedHandover::sign(&stranger, accomplice, real_now(), "mine");
    store
        .write(|tx| {
            tx.set_meta(sync_server::keys::HANDOVERS_META, &serde_json::to_string(&[forged]).unwrap())
        })
        .unwrap();
    // … then the operator's real rotation.
    sync_server::keys::rotate(&config.keys_dir(), &store, "routine", real_now()).unwrap();
    drop(store);
    let server = TestServer::start_with(config, None).await;
    let new = server.state.key.public();
    assert!(server.state.server_keys.contains(&accomplice), "the server lists it");
    *upstream.lock().unwrap() = server.url.trim_start_matches("http://").to_owned();

    // Made offline across the rotation, on the old key's anchor.
    let s = sampler.engine.create_sampling(sampler.sampling_input(61, 50.0, 60.0), false).unwrap();
    assert_eq!(sampler.engine.sync_once().await.unwrap().accepted, 1);
    assert_eq!(
        sampler.engine.trusted_server_keys().unwrap(),
        vec![old, new],
        "the stranger's keys are not trusted"
    );
    let view = sampler.engine.record(&s.id).unwrap().unwrap();
    assert!(view.receipt_verified, "the receipt, signed by the new key, verifies on the phone");
    // The next records rest on the new key's anchor.
    sampler.engine.create_sampling(sampler.sampling_input(62, 50.0, 60.0), false).unwrap();
    assert_eq!(sampler.engine.sync_once().await.unwrap().accepted, 1);
    assert!(
        sampler.engine.status().unwrap().alarms.is_empty(),
        "{:?}",
        sampler.engine.status().unwrap().alarms
    );
    server.stop().await;
}
