//! Rotating the server's signing key (issue 18; R14) on both back ends, as
//! the operator does it: `admin rotate-key` on the stopped server, then a
//! restart. The old private key is gone; the handover it signed names the
//! new key; everything the old key signed stays valid — a report QR
//! printed before, the checkpoint a phone holds, the anchor a phone uploads
//! with — phones are told the new key only with the handover that proves
//! it; `admin verify`, a backup and its drill pass; an archive exported
//! after verifies for a reader who trusts only the old key.

#![allow(clippy::too_many_lines)]

#[macro_use]
mod common;

use common::lab::*;
use common::*;
use custody_core::archive::Scope;
use custody_core::log::verify_consistency;
use custody_core::protocol::{
    ConsistencyResponse, DeviceProfile, PublicReportView, RecordStatus, ReportSealResponse,
};
use custody_core::report_seal::ReportStatus;
use custody_core::{SigningKey, routes};
use custody_verify::{Options, verify_bag};
use sync_server::Clock;
use sync_server::export::export;
use sync_server::testing::{Backend, TestServer};

on_each_backend!(r14_a_rotated_key_keeps_every_old_signature_valid_and_hands_trust_over);

async fn r14_a_rotated_key_keeps_every_old_signature_valid_and_hands_trust_over(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let old = server.state.key.public();
    let mut chain = received(&server, 51).await;
    tested_and_reviewed(&mut chain, 51).await;
    let (rep, _) = report(&mut chain, &[51], "YK-BG-2026-0051", None).await;
    let sealed: ReportSealResponse = seal_of(&chain.lab, &rep).await.json().await.unwrap();
    let held = chain.sampler.checkpoint.clone().unwrap();
    assert_eq!(held.server_key, old);
    let before = dir.path().join("before.bag");
    let s = &server.state;
    export(
        &s.store,
        &s.media(),
        &s.key,
        Scope { project: Some(sync_server::demo::PROJECT.into()), ..Scope::default() },
        &before,
        server.clock.now_ms(),
    )
    .unwrap();
    let config = server.state.config.as_ref().clone();
    let old_seed = std::fs::read_to_string(config.keys_dir().join("server-signing.key")).unwrap();
    server.stop().await;

    // The operator rotates the key of the stopped server.
    let run = |args: &[&str]| {
        let out = admin_command_for(&config, dir.path())
            .args(args)
            .env("JZQY_BACKUP__DIR", dir.path().join("backups"))
            .output()
            .unwrap();
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    };
    let (ok, text) = run(&["rotate-key", "--reason", " "]);
    assert!(!ok && text.contains("--reason"), "a reason is required: {text}");
    let (ok, text) = run(&["rotate-key", "--reason", "例行轮换 / routine"]);
    assert!(ok, "{text}");
    assert!(
        text.contains("已轮换") && text.contains("rotated") && text.contains(&old.fingerprint()),
        "{text}"
    );
    let keys_dir = config.keys_dir();
    let new_seed = std::fs::read_to_string(keys_dir.join("server-signing.key")).unwrap();
    assert_ne!(new_seed, old_seed);
    // The old private key is nowhere in the keys directory.
    let mut files = vec![keys_dir.clone()];
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            let bytes = std::fs::read(&p).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(old_seed.trim()),
                "old private key left in {}",
                p.display()
            );
        }
    }
    assert!(keys_dir.join("retired").join(format!("{}.handover.json", old.fingerprint())).exists());

    let server = TestServer::start_with(config.clone(), None).await;
    let new = server.state.key.public();
    assert_ne!(new, old);
    assert_eq!(server.state.server_keys.as_slice(), &[new, old]);
    for p in [&mut chain.sampler, &mut chain.witness, &mut chain.lab, &mut chain.reviewer] {
        p.base = server.url.clone();
        p.clock = server.clock.clone();
    }

    // The report QR printed before still checks as valid.
    let (status, text) = check(&server, &sealed.seal).await;
    assert_eq!(status, 200, "{text}");
    let view: PublicReportView = serde_json::from_str(&text).unwrap();
    assert_eq!(view.status, ReportStatus::Valid);

    // The phone is told both keys, and how the old handed over to the new:
    // from the key it enrolled with alone, it reaches the new one.
    let profile: DeviceProfile = chain.sampler.get_json(routes::PROFILE).await;
    assert_eq!(profile.server_keys, vec![new, old]);
    assert_eq!(profile.key_handovers.len(), 1);
    assert_eq!(custody_core::server_keys::trusted(&[old], &profile.key_handovers), vec![old, new]);
    // A key the phone never trusted gains nothing from them.
    let stranger = SigningKey::from_seed(&[77; 32]).unwrap().public();
    assert_eq!(custody_core::server_keys::trusted(&[stranger], &profile.key_handovers), vec![stranger]);

    // A record made on the anchor the old key signed is accepted; the new
    // checkpoint, signed by the new key, extends the one the phone holds.
    let sm = media(52, "sampler");
    let rec = chain.sampler.field_record(demo_sampling(52), 50.0, 60.0, &as_refs(&sm));
    let held_anchor = rec.body().evidence.time.anchor.clone().expect("the phone holds an anchor");
    assert_eq!(held_anchor.anchor.server_key, old);
    let r = chain.sampler.upload(&[&rec]).await;
    assert_eq!(r.results[0].status, RecordStatus::Accepted, "{:?}", r.results[0].findings);
    assert_eq!(r.checkpoint.server_key, new);
    let proof: ConsistencyResponse =
        chain.sampler.get_json(&routes::log_consistency(held.checkpoint.size)).await;
    assert!(held.verify(&[old]).is_ok() && proof.checkpoint.verify(&[new]).is_ok());
    verify_consistency(&held.checkpoint, &proof.checkpoint.checkpoint, &proof.proof).unwrap();
    let (ok, text) = run(&["verify"]);
    assert!(ok && text.contains("store verified"), "{text}");

    // An archive exported now: a reader trusting only the old key follows
    // the handover; one trusting another key does not; the bag made before
    // the rotation is the same history.
    let after = dir.path().join("after.bag");
    let s = &server.state;
    export(
        &s.store,
        &s.media(),
        &s.key,
        Scope { project: Some(sync_server::demo::PROJECT.into()), ..Scope::default() },
        &after,
        server.clock.now_ms(),
    )
    .unwrap();
    let a = verify_bag(&after, &Options { trusted: vec![old], seen: vec![before.clone()] }).unwrap();
    let text = custody_core::archive::check::render(&a);
    assert!(a.ok() && a.has("server_key_handover") && a.has("seen_consistent"), "{text}");
    let a = verify_bag(&after, &Options { trusted: vec![stranger], seen: vec![] }).unwrap();
    assert!(a.flaws().any(|l| l.code == "server_key_untrusted"));

    // A backup after the rotation, and its drill.
    let backup = dir.path().join("backup-after");
    let (ok, text) = run(&["backup", "--to", backup.to_str().unwrap()]);
    assert!(ok, "{text}");
    let (ok, text) = run(&["restore-drill", "--from", backup.to_str().unwrap()]);
    assert!(ok && text.contains("restore drill passed"), "{text}");
    server.stop().await;
}
