//! The lifetime archive (issue 18; R14, R21) on both back ends: a project
//! from sampling to an issued report exported as a BagIt bag, checked from
//! the bytes up by `custody-verify` (with the checkpoint a phone holds
//! compared, and a later one with its consistency proof) and accepted by
//! an independent BagIt validator (Python's `bagit`); a report's bag; the
//! operator's command with a period and whole chains; a server that showed
//! a phone another history caught; a rewritten record caught after the bag
//! was re-sealed; bad requests answered in both languages with nothing
//! written.

#![allow(clippy::too_many_lines)]

#[macro_use]
mod common;

use common::lab::*;
use common::*;
use custody_core::archive::{ArchiveIndex, INDEX_FILE, Inclusion, Scope};
use custody_core::log::{Checkpoint, SignedCheckpoint};
use custody_core::protocol::ConsistencyResponse;
use custody_core::{Hash, routes};
use custody_verify::{Options, verify_bag};
use std::path::Path;
use sync_server::Clock;
use sync_server::demo;
use sync_server::export::{ExportError, export};
use sync_server::testing::{Backend, TestServer};

on_each_backend!(r14_a_project_exported_is_verified_without_the_server);

fn exported(server: &TestServer, scope: Scope, out: &Path) -> sync_server::export::ExportSummary {
    let s = &server.state;
    export(&s.store, &s.media(), &s.key, scope, out, server.clock.now_ms()).unwrap()
}

fn index_of(bag: &Path) -> ArchiveIndex {
    serde_json::from_slice(&std::fs::read(bag.join(INDEX_FILE)).unwrap()).unwrap()
}

/// Python's `bagit` (RFC 8493's reference implementation's successor),
/// installed by the test command (`setup_bagit`, scripts/lib/setup.sh).
fn python_bagit_validates(bag: &Path) -> (bool, String) {
    let out = std::process::Command::new("bagit.py").arg("--validate").arg(bag).output().unwrap_or_else(|e| {
        panic!("bagit.py not found ({e}): run `source scripts/lib/setup.sh && setup_bagit` (scripts/test does)")
    });
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn trust(server: &TestServer) -> Options {
    Options { trusted: vec![server.state.key.public()], seen: vec![] }
}

async fn r14_a_project_exported_is_verified_without_the_server(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let mut chain = received(&server, 41).await;
    tested_and_reviewed(&mut chain, 41).await;
    let (rep, _) = report(&mut chain, &[41], "YK-BG-2026-0041", None).await;
    assert_eq!(seal_of(&chain.lab, &rep).await.status(), 200, "the seal issues the PDF");
    // Another specimen, sampled and witnessed only.
    chain = received_again(chain, 42).await;
    // What the sampler's phone holds from its last upload: seen elsewhere.
    let phone_saw = chain.sampler.checkpoint.clone().expect("the phone holds a checkpoint");

    // The project.
    let bag = dir.path().join("project.bag");
    let s = exported(&server, Scope { project: Some(demo::PROJECT.into()), ..Scope::default() }, &bag);
    println!("project bag: {s:?}");
    assert!(s.in_scope >= 10 && s.records > s.in_scope, "{s:?}");
    assert_eq!(s.reports, 1, "{s:?}");
    assert!(s.media >= 8 && s.media_missing == 0, "{s:?}");
    let index = index_of(&bag);
    assert!(index.records.iter().any(|r| r.why == Inclusion::Directory));
    assert!(index.records.iter().filter(|r| r.why == Inclusion::Scope).all(|r| r.status == "accepted"));
    let seen_file = dir.path().join("phone-checkpoint.json");
    std::fs::write(&seen_file, serde_json::to_vec(&phone_saw).unwrap()).unwrap();
    let opts = Options { seen: vec![seen_file.clone()], ..trust(&server) };
    let a = verify_bag(&bag, &opts).unwrap();
    let text = custody_core::archive::check::render(&a);
    println!("{text}");
    assert!(a.ok(), "{text}");
    for code in [
        "bag_manifests",
        "head_signed",
        "history_consistent",
        "records_signed",
        "records_in_log",
        "devices_enrolled",
        "chains_linked",
        "media_by_content",
        "reports_held",
        "seen_consistent",
    ] {
        assert!(a.has(code), "{code} not proved:\n{text}");
    }
    let (ok, why) = python_bagit_validates(&bag);
    assert!(ok, "Python bagit refuses the bag: {why}");
    // The face photos went out through the vault, each read logged (PIPL),
    // and the bag holds them opened: their names are their hashes.
    let face = Hash::of(FACE);
    assert!(
        index.media.iter().any(|m| m.sha256 == face && m.file.is_some()),
        "the sampler's face is in the bag"
    );
    assert_eq!(std::fs::read(bag.join(custody_core::archive::media_file(&face))).unwrap(), FACE);
    let reads = server.state.store.read(|tx| tx.face_reads(None, 100)).unwrap();
    assert!(reads.iter().any(|r| r.sha256 == face && r.via == "export"), "{reads:?}");

    // The report alone: its records, fewer than the project's.
    let rbag = dir.path().join("report.bag");
    let r = exported(&server, Scope { report: Some(rep.id()), ..Scope::default() }, &rbag);
    assert!(r.in_scope < s.in_scope && r.reports == 1, "{r:?}");
    let ri = index_of(&rbag);
    assert!(ri.records.iter().any(|e| e.id == rep.id() && e.why == Inclusion::Scope));
    // The other specimen's commission is not the report's.
    assert!(!ri.records.iter().any(|e| e.id == chain.commission.id()));
    assert!(verify_bag(&rbag, &trust(&server)).unwrap().ok());
    assert!(python_bagit_validates(&rbag).0);

    // The log grows; the server answers a consistency proof from the
    // bag's head, and the verifier carries the bag's history to it.
    chain = received_again(chain, 43).await;
    let proof: ConsistencyResponse =
        chain.sampler.get_json(&routes::log_consistency(index.head.checkpoint.size)).await;
    assert!(proof.checkpoint.checkpoint.size > index.head.checkpoint.size);
    let later = dir.path().join("later.json");
    std::fs::write(&later, serde_json::to_vec(&proof).unwrap()).unwrap();
    let a = verify_bag(&bag, &Options { seen: vec![later, rbag.clone()], ..trust(&server) }).unwrap();
    assert!(
        a.ok() && a.lines.iter().filter(|l| l.code == "seen_consistent").count() == 2,
        "{}",
        custody_core::archive::check::render(&a)
    );

    // A server that showed a phone another history (its key signed a
    // different root at a size this history holds) is caught.
    let size = phone_saw.checkpoint.size;
    let other = SignedCheckpoint::sign(
        Checkpoint { size, root: Hash::of(b"another history"), server_ms: phone_saw.checkpoint.server_ms },
        &server.state.key,
    );
    let forked = dir.path().join("forked.json");
    std::fs::write(&forked, serde_json::to_vec(&other).unwrap()).unwrap();
    let a = verify_bag(&bag, &Options { seen: vec![forked], ..trust(&server) }).unwrap();
    assert_eq!(a.flaws().map(|l| l.code).collect::<Vec<_>>(), vec!["split_view"]);

    // The operator's command: a period (today, China Standard Time) with
    // whole chains, then the same destination again refused.
    let today = custody_core::calendar::date_cst(server.clock.now_ms());
    let cbag = dir.path().join("today.bag");
    let run = |args: &[&str]| {
        let out = admin_command(&server, dir.path()).args(args).output().unwrap();
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    };
    let cb = cbag.to_str().unwrap();
    let (ok, text) = run(&["export", "--out", cb, "--from", &today, "--to", &today, "--whole-chains"]);
    assert!(ok, "{text}");
    assert!(
        text.contains("已导出到") && text.contains("exported to") && text.contains("custody-verify"),
        "{text}"
    );
    let a = verify_bag(&cbag, &trust(&server)).unwrap();
    assert!(a.ok() && !a.has("chain_gap"), "{}", custody_core::archive::check::render(&a));
    assert!(python_bagit_validates(&cbag).0);
    let (ok, text) = run(&["export", "--out", cb, "--project", demo::PROJECT]);
    assert!(!ok && text.contains("已存在") && text.contains("never overwrites"), "{text}");
    let (ok, text) = run(&["export", "--out", "/tmp/never-written.bag", "--from", "2026-13-01"]);
    assert!(!ok && text.contains("YYYY-MM-DD"), "{text}");
    assert!(!Path::new("/tmp/never-written.bag").exists());
    let nothing = dir.path().join("nothing.bag");
    match export(
        &server.state.store,
        &server.state.media(),
        &server.state.key,
        Scope { project: Some("PRJ-NONE".into()), ..Scope::default() },
        &nothing,
        server.clock.now_ms(),
    ) {
        Err(ExportError::Invalid { zh, en }) => {
            assert!(zh.contains("没有任何记录") && en.contains("nothing"), "{zh} {en}")
        }
        other => panic!("{other:?}"),
    }
    assert!(!nothing.exists() && !nothing.with_extension("partial").exists());

    // A forger who rewrites a record and re-seals the bag passes BagIt —
    // and is caught by the record's own id and signature.
    let e = index.records.iter().find(|r| r.why == Inclusion::Scope && r.id == rep.id()).unwrap();
    let f = bag.join(&e.file);
    let text = std::fs::read_to_string(&f).unwrap().replace("YK-BG-2026-0041", "YK-BG-2026-9999");
    std::fs::write(&f, text).unwrap();
    custody_verify::seal_bag(&bag, &[]).unwrap();
    assert!(python_bagit_validates(&bag).0, "BagIt alone cannot see it");
    let a = verify_bag(&bag, &trust(&server)).unwrap();
    // (and so the report it was is no longer in the bag)
    assert_eq!(
        a.flaws().map(|l| l.code).collect::<Vec<_>>(),
        vec!["record_id_mismatch", "report_incomplete"]
    );
    server.stop().await;
}
