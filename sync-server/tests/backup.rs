//! Backups and the restore drill (issue 20; R14, R21) on both back ends:
//! nightly backups verify after they are made, rotate without ever removing
//! the last good one, link unchanged media instead of copying them, restore
//! as a drill that proves the copy, catch a tampered copy by name, and come
//! back into PostgreSQL with `admin migrate`. The operator's commands
//! (`admin backup`, `admin restore-drill`, `admin status`) are run as the
//! packaged timer runs them. No backup holds a private key in the clear
//! (issue 18): sealed with the operator's passphrase, opened by the drill,
//! and a restore that names what it needs without it.

// Each story reads top to bottom as the operator lives it.
#![allow(clippy::too_many_lines)]

#[macro_use]
mod common;

use common::*;
use custody_core::protocol::*;
use std::path::Path;
use sync_server::backup;
use sync_server::demo;
use sync_server::testing::{Backend, services};

on_each_backend!(r14_nightly_backups_verify_rotate_and_restore_drills_prove_them);

const DAY: i64 = 24 * 3600 * 1000;

/// Upload `n` samplings (each with its face and process photo) from `phone`.
async fn sample_n(phone: &mut Phone, from: u32, n: u32) {
    for serial in from..from + n {
        let m = media(serial, "backup");
        let rec = phone.field_record(demo_sampling(serial), 50.0, 50.0, &as_refs(&m));
        let r = phone.upload(&[&rec]).await;
        assert_eq!(r.results[0].status, RecordStatus::Accepted, "{:?}", r.results[0].findings);
        upload_media(phone, &m).await;
    }
}

fn run(server: &TestServer, data: &Path, backups: &Path, args: &[&str]) -> (bool, String) {
    let mut cmd = admin_command(server, data);
    cmd.args(args).env("JZQY_BACKUP__DIR", backups).env("JZQY_BACKUP__KEEP", "2");
    let out = cmd.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// No private key in the clear anywhere in a backup (issue 18): not the
/// signing seed, not the TLS key; only their sealed files and the public key.
fn no_private_key_in_the_clear(backup: &Path, live_keys: &Path) {
    let seed = std::fs::read_to_string(live_keys.join("server-signing.key")).unwrap();
    let tls_key = std::fs::read(live_keys.join("tls-key.pem")).ok();
    let face_key = std::fs::read_to_string(live_keys.join("face-photos.key")).unwrap();
    let mut files = vec![backup.to_owned()];
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            let bytes = std::fs::read(&p).unwrap();
            let found = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
            assert!(!found(seed.trim().as_bytes()), "{} holds the signing key in the clear", p.display());
            assert!(!found(face_key.trim().as_bytes()), "{} holds the face key in the clear", p.display());
            if let Some(k) = &tls_key {
                assert!(!found(&k[..k.len().min(120)]), "{} holds the TLS key in the clear", p.display());
            }
        }
    }
    let mut names: Vec<String> = std::fs::read_dir(backup.join("keys"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        names.iter().any(|n| n == "server-signing.key.sealed")
            && names.iter().any(|n| n == "face-photos.key.sealed")
            && names.iter().any(|n| n == "server-signing.pub"),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n == "server-signing.key" || n == "face-photos.key"), "{names:?}");
}

async fn r14_nightly_backups_verify_rotate_and_restore_drills_prove_them(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    sampler.sync_time().await;
    sample_n(&mut sampler, 101, 3).await;
    let s = &server.state;
    let key = s.key.public();
    let root = tempfile::tempdir().unwrap();
    let root = root.path().join("backups");
    // The private keys sealed with the operator's passphrase (issue 18).
    const PASS: &str = "营口 backup passphrase 2026";
    let live = backup::Live { store: &s.store, blobs: &s.blobs, faces: &s.faces };
    let nightly = |at: i64| backup::scheduled(&live, (&s.config.keys_dir(), Some(PASS)), &key, &root, 2, at);

    // Night 1: everything copied, then verified.
    let t0 = s.now();
    let first = nightly(t0).unwrap();
    let m = &first.manifest;
    assert!(m.verified, "{:?}", m.problems);
    let records = s.store.read(|tx| tx.log_size()).unwrap();
    assert_eq!(m.records, records);
    assert!(m.media_files >= 4 && m.media_linked == 0, "{m:?}");
    assert_eq!(backup::read_manifest(&first.dir).unwrap(), *m, "the manifest is on disk beside the copy");
    no_private_key_in_the_clear(&first.dir, &s.config.keys_dir());
    assert_eq!(m.key_custody, "sealed");

    // Night 2: one new sampling; yesterday's photos are linked, not copied.
    sample_n(&mut sampler, 104, 1).await;
    let second = nightly(t0 + DAY).unwrap();
    assert_eq!(second.manifest.media_linked, m.media_files, "unchanged media are hard links");
    assert_eq!(second.manifest.media_files, m.media_files + 1, "the new process photo (same face)");
    assert_eq!(second.manifest.records, records + 1);

    // A backup that does not verify never counts and never removes a good one:
    // here the keys directory holds another server's key.
    let wrong_keys = tempfile::tempdir().unwrap();
    sync_server::keys::load_or_create_signing_key(wrong_keys.path()).unwrap();
    let e = backup::scheduled(&live, (wrong_keys.path(), Some(PASS)), &key, &root, 2, t0 + 2 * DAY)
        .unwrap_err()
        .to_string();
    assert!(e.contains("did not verify") && e.contains("public key in keys/"), "{e}");
    let kept: Vec<_> = backup::list(&root).unwrap().into_iter().map(|(p, _)| p).collect();
    assert_eq!(kept, [first.dir.clone(), second.dir.clone()], "both good backups stay");
    let failed = root.join(format!("{}.failed", backup::stamp(t0 + 2 * DAY)));
    assert!(failed.is_dir(), "kept for inspection");
    let mut config = (*s.config).clone();
    config.backup.dir = root.clone();
    let status = sync_server::status::Status::gather(&config, &s.store, t0 + 2 * DAY).unwrap();
    assert!(status.alerts().iter().any(|a| a.key == "backup_failed"), "{:?}", status.alerts());
    std::fs::remove_dir_all(&failed).unwrap();

    // Night 3: rotation keeps two; the oldest goes only now that a newer one verified.
    let third = nightly(t0 + 3 * DAY).unwrap();
    assert_eq!(third.removed, std::slice::from_ref(&first.dir));
    assert!(!first.dir.exists() && second.dir.exists() && third.dir.exists());

    // The drill restores the newest into scratch and proves it.
    let scratch = tempfile::tempdir().unwrap();
    let drill = backup::drill(&third.dir, &scratch.path().join("r"), Some(PASS)).unwrap();
    assert!(drill.problems.is_empty(), "{:?}", drill.problems);
    assert_eq!(drill.key_opened, Some(true), "the sealed key opens with the passphrase held");
    // A passphrase that no longer opens it is a drill failure, found now.
    let wrong = backup::drill(&third.dir, &scratch.path().join("w"), Some("not it")).unwrap();
    assert_eq!(wrong.key_opened, Some(false));
    assert!(wrong.problems.iter().any(|p| p.contains("does not open")), "{:?}", wrong.problems);
    assert_eq!((drill.records, drill.media), (records + 1, third.manifest.media_files));
    assert!(drill.restored_bytes > third.manifest.database_bytes);

    // Back into service: restore into a data directory; on PostgreSQL, then
    // `admin migrate` into a new database — the same log, verified.
    let restored = tempfile::tempdir().unwrap();
    let c = sync_server::testing::config_on(Backend::Embedded, restored.path());
    use sync_server::key_custody::KeySource;
    let restore = |source: &KeySource| {
        let _ = std::fs::remove_dir_all(restored.path());
        sync_server::maintenance::restore(
            &third.dir,
            &c.database_path(),
            &c.media_dir(),
            &c.keys_dir(),
            &c.face_key_file(),
            source,
        )
    };
    // Without the passphrase or the escrowed keys it says what it needs;
    // with the wrong passphrase it says so; nothing is half-restored into service.
    let e = restore(&KeySource::InTheClear).unwrap_err().to_string();
    assert!(e.contains("--passphrase-file") && e.contains("--keys-from") && e.contains("口令"), "{e}");
    let e = restore(&KeySource::Passphrase("not it".into())).unwrap_err().to_string();
    assert!(e.contains("passphrase does not open"), "{e}");
    // From escrow, and unsealed: the very key the log was signed with.
    restore(&KeySource::Escrow(s.config.keys_dir())).unwrap();
    restore(&KeySource::Passphrase(PASS.into())).unwrap();
    assert_eq!(sync_server::keys::load_signing_key(&c.keys_dir()).unwrap().public(), key);
    if b == Backend::Postgres {
        let pg = sync_server::store::postgres::PgStore::open(
            &services::fresh_database(),
            None,
            services::database_ca().as_deref(),
        )
        .unwrap();
        let media = sync_server::blobs::Blobs::open(&c.media_dir()).unwrap();
        let faces = sync_server::faces::FaceVault::from_key_files(&c.face_key_file()).unwrap();
        let r = sync_server::migrate::migrate(&c.database_path(), &pg, None, &media, faces.as_ref()).unwrap();
        assert!(r.verify.ok(), "{:?}", r.verify.problems);
        assert_eq!(r.verify.records, records + 1);
    }

    // A tampered copy is caught by name: a photo's bytes, then a record's.
    let scratch2 = tempfile::tempdir().unwrap();
    let sha = custody_core::Hash::of(&process_photo(104, "backup"));
    let object = sync_server::blobs::DirBlobs::open(&third.dir.join("media")).unwrap().object_path(&sha);
    std::fs::remove_file(&object).unwrap(); // a hard link: replace, do not edit the shared inode
    std::fs::write(&object, b"a different photo").unwrap();
    // (The restore itself refuses the object, or the verification names it.)
    let found = match backup::drill(&third.dir, &scratch2.path().join("r"), None) {
        Ok(d) => d.problems.join("\n"),
        Err(e) => e.to_string(),
    };
    assert!(found.contains(&sha.to_string()), "{found}");
    let db = rusqlite::Connection::open(second.dir.join("custody.sqlite")).unwrap();
    let mut envelope: Vec<u8> =
        db.query_row("SELECT envelope FROM records WHERE log_index = 2", [], |r| r.get(0)).unwrap();
    let last = envelope.len() - 2;
    envelope[last] ^= 1;
    db.execute("UPDATE records SET envelope = ?1 WHERE log_index = 2", [&envelope]).unwrap();
    drop(db);
    let drill = backup::drill(&second.dir, &scratch2.path().join("r2"), None).unwrap();
    assert!(!drill.problems.is_empty(), "a changed record must not pass");
    server.stop().await;
}

/// What the packaged timer and the operator run: `admin backup` into
/// backup.dir (twice: rotation and linking through the CLI), `admin
/// restore-drill` on the newest, and `admin status` before and after —
/// its alerts name the missing backup, then stop naming it. The gauges the
/// alert rules read are on `/metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r14_admin_backup_restore_drill_and_status_as_the_operator_runs_them() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    let mut config = sync_server::testing::config_on(Backend::Embedded, dir.path());
    config.backup.dir = backups.clone();
    let server = TestServer::start_with(config, None).await;
    server.seed();
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    sampler.sync_time().await;
    sample_n(&mut sampler, 201, 2).await;

    let (ok, text) = run(&server, dir.path(), &backups, &["status", "--json"]);
    assert!(!ok, "no backup yet is an alert: {text}");
    let json: serde_json::Value = serde_json::from_str(text.split("错误").next().unwrap()).unwrap();
    let keys: Vec<&str> =
        json["alerts"].as_array().unwrap().iter().map(|a| a["key"].as_str().unwrap()).collect();
    assert!(keys.contains(&"backup_missing"), "{keys:?}");
    let records = server.state.store.read(|tx| tx.log_size()).unwrap();
    assert_eq!(json["status"]["records"], records, "admin facts and the two samplings");
    assert!(json["status"]["instances"].as_array().unwrap().iter().any(|i| i["version"].is_string()));

    let (ok, text) = run(&server, dir.path(), &backups, &["backup"]);
    assert!(
        ok && text.contains("backed up and verified") && text.contains(&format!("{records} records")),
        "{text}"
    );
    let (ok, text) = run(&server, dir.path(), &backups, &["restore-drill"]);
    assert!(
        ok && text.contains("restore drill passed") && text.contains(&format!("{records} records")),
        "{text}"
    );
    assert!(
        std::fs::read_dir(&backups).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".drill")),
        "the scratch copy is removed"
    );
    let (_, text) = run(&server, dir.path(), &backups, &["status"]);
    assert!(text.contains("verified") && !text.contains("[backup_missing]"), "{text}");

    let (ok, text) =
        run(&server, dir.path(), &backups, &["backup", "--to", dir.path().join("media").to_str().unwrap()]);
    assert!(!ok && text.contains("not empty"), "a backup never goes over data: {text}");
    let (ok, text) = run(&server, dir.path(), &backups, &["restore-drill", "--from", "/nonexistent/backup"]);
    assert!(!ok && text.contains("错误") && text.contains("error"), "{text}");

    sync_server::status::refresh(&server.state, server.state.now()).unwrap();
    let metrics = reqwest::get(format!("{}/metrics", server.url)).await.unwrap().text().await.unwrap();
    for gauge in [
        "sync_log_records",
        "sync_log_unsigned_records",
        "sync_disk_free_ratio",
        "sync_backup_age_seconds",
        "sync_device_clock_skew_seconds",
    ] {
        assert!(metrics.contains(gauge), "{gauge} missing from /metrics");
    }
    server.stop().await;
}
