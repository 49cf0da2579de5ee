//! Face photos encrypted at rest, every read logged (issue 18; PIPL: a face
//! is sensitive personal information), on both back ends (SQLite + a media
//! directory, PostgreSQL + an S3 bucket):
//!
//! * what the directory or bucket holds is never the photo — no JPEG
//!   signature, the plaintext nowhere — whether the face arrived whole,
//!   in chunks, before the record that made it a face, or as an
//!   administrator's reference face;
//! * the API and the console still serve the very bytes the device signed
//!   to those allowed, and each read of a face is logged (who, when, which,
//!   whose, by which path) for administrators and for the person;
//! * a ciphertext swapped for another photo's is refused, and `admin
//!   verify` names it;
//! * an existing deployment's faces in the clear are sealed by `admin faces
//!   seal`, nothing lost, idempotent; `admin faces rotate-key` re-wraps the
//!   data keys without touching a photo, and the old key is refused after;
//! * a backup holds no face key in the clear and no face in the clear; the
//!   drill opens every face with the sealed key; a restore brings it back.

// Each story reads top to bottom as the operator and the people live it.
#![allow(clippy::too_many_lines)]

#[macro_use]
mod common;

use common::browser::signed_in;
use common::*;
use custody_core::Hash;
use custody_core::fixtures::id;
use custody_core::model::PersonRole;
use custody_core::protocol::*;
use custody_core::record::{MediaPurpose, Payload};
use std::path::Path;
use sync_server::console::paths;
use sync_server::demo;
use sync_server::faces::{FaceVault, Via};
use sync_server::store::MediaRow;
use sync_server::testing::Backend;

on_each_backend!(
    pipl_faces_are_sealed_at_rest_served_to_those_allowed_and_every_read_logged,
    pipl_a_deployments_faces_in_the_clear_are_sealed_and_the_key_rotates,
);

/// The signature every JPEG (JFIF) file starts with: a scan of a stolen
/// disk or bucket would look for it.
const JFIF: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00";

/// A face photo as a phone's camera writes it (the JFIF signature first).
fn jpeg_face(n: u32) -> Vec<u8> {
    let mut v = JFIF.to_vec();
    v.extend(format!("face photo {n} of a person on site ").repeat(40).bytes());
    v
}

const PASS: &str = "营口 faces backup passphrase";

/// A sampling whose face photo is `face` (and a process photo).
fn sampling_with(serial: u32, face: &[u8]) -> Payload {
    let mut p = demo_sampling(serial);
    if let Payload::Sampling(s) = &mut p {
        s.face.photo = Hash::of(face);
    }
    p
}

/// Upload a sampling listing `media`; it must be accepted.
async fn sample(phone: &mut Phone, serial: u32, face: &[u8], media: &[(MediaPurpose, Vec<u8>)]) {
    let rec = phone.field_record(sampling_with(serial, face), 50.0, 50.0, &as_refs(media));
    let r = phone.upload(&[&rec]).await;
    assert_eq!(r.results[0].status, RecordStatus::Accepted, "{:?}", r.results[0].findings);
}

/// Upload `bytes` in chunks of `chunk` bytes.
async fn upload_chunked(phone: &Phone, bytes: &[u8], chunk: usize) {
    let sha = Hash::of(bytes);
    let mut offset = 0;
    for part in bytes.chunks(chunk) {
        let r = phone
            .signed_with(
                reqwest::Method::PATCH,
                &format!("/v1/media/{sha}"),
                part.to_vec(),
                phone.now(),
                &random_nonce(),
                &[(H_UPLOAD_OFFSET, offset.to_string()), (H_UPLOAD_LENGTH, bytes.len().to_string())],
            )
            .await;
        assert!(r.status().is_success(), "chunk at {offset}: {}", r.status());
        offset += part.len();
    }
}

/// Every object the media store holds, by name, with its raw bytes: the
/// directory's files, or every object of the test's own bucket.
fn raw_media(server: &TestServer) -> Vec<(String, Vec<u8>)> {
    match &server.state.blobs {
        sync_server::blobs::Blobs::Dir(d) => files_under(d.root()),
        sync_server::blobs::Blobs::S3(s) => {
            use futures_util::TryStreamExt;
            let store = s.object_store();
            sync_server::driver::block_on(async move {
                let metas: Vec<_> = store.list(None).try_collect().await.unwrap();
                let mut out = Vec::new();
                for m in metas {
                    let b = store.get(&m.location).await.unwrap().bytes().await.unwrap();
                    out.push((m.location.to_string(), b.to_vec()));
                }
                out
            })
        }
    }
}

fn files_under(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if p.is_file() {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Nothing stored is a photo in the clear: no JFIF signature, no face's bytes.
fn no_face_in_the_clear(objects: &[(String, Vec<u8>)], faces: &[&[u8]]) {
    for (name, bytes) in objects {
        assert!(!contains(bytes, JFIF), "{name} holds a JPEG in the clear");
        for f in faces {
            assert!(!contains(bytes, &f[20..84]), "{name} holds a face photo's bytes in the clear");
        }
    }
}

/// Overwrite the stored bytes under a name, as someone with write access
/// to the disk or the bucket could.
fn overwrite_raw(server: &TestServer, sha: &Hash, sealed: &[u8]) {
    match &server.state.blobs {
        sync_server::blobs::Blobs::Dir(d) => std::fs::write(d.sealed_path(sha), sealed).unwrap(),
        sync_server::blobs::Blobs::S3(s) => {
            let (_, prefix) = server.state.config.bucket().unwrap();
            let hex = sha.to_hex();
            let key = object_store::path::Path::from(format!("{prefix}/faces/{}/{hex}", &hex[..2]));
            let (store, data) = (s.object_store(), bytes::Bytes::copy_from_slice(sealed));
            sync_server::driver::block_on(async move { store.put(&key, data.into()).await }).unwrap();
        }
    }
}

/// The face-read log, oldest first.
fn reads(server: &TestServer) -> Vec<sync_server::faces::FaceReadRow> {
    let mut r = server.state.store.read(|tx| tx.face_reads(None, 1000)).unwrap();
    r.reverse();
    r
}

async fn pipl_faces_are_sealed_at_rest_served_to_those_allowed_and_every_read_logged(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let s = &server.state;
    // The KEK is a file outside the database and the media store, owner-only.
    let key_file = s.config.face_key_file();
    assert_eq!(key_file, dir.path().join("keys").join("face-photos.key"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let kek_text = std::fs::read_to_string(&key_file).unwrap();

    // An administrator files the sampler's reference face with a grant:
    // sealed before it is stored.
    let reference = jpeg_face(0);
    server
        .admin()
        .grant(
            id("G-ZW-FACE"),
            id(demo::SAMPLER),
            Some(id(demo::PROJECT)),
            PersonRole::Sampler,
            (b"letter of authorisation".as_slice(), "text/plain"),
            "id_card+face".into(),
            Some((&reference, "image/jpeg")),
            None,
        )
        .unwrap();
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    sampler.sync_time().await;

    // A face sent whole; a face sent in chunks; a photo that becomes a
    // face only when a later record lists it so.
    let (f1, f2, p) = (jpeg_face(1), jpeg_face(2), jpeg_face(3));
    let m1 = vec![(MediaPurpose::Face, f1.clone()), (MediaPurpose::Process, process_photo(1, "faces"))];
    sample(&mut sampler, 1, &f1, &m1).await;
    upload_media(&sampler, &m1).await;
    let m2 = vec![(MediaPurpose::Face, f2.clone()), (MediaPurpose::Process, process_photo(2, "faces"))];
    sample(&mut sampler, 2, &f2, &m2).await;
    upload_chunked(&sampler, &f2, 300).await;
    upload_media(&sampler, &m2[1..]).await;
    let mp = vec![(MediaPurpose::Face, f1.clone()), (MediaPurpose::Process, p.clone())];
    sample(&mut sampler, 3, &f1, &mp).await;
    upload_media(&sampler, &mp).await;
    assert!(s.blobs.exists_plain(&Hash::of(&p)).unwrap(), "a process photo is stored as it came");
    sample(
        &mut sampler,
        4,
        &p,
        &[(MediaPurpose::Face, p.clone()), (MediaPurpose::Process, process_photo(4, "faces"))],
    )
    .await;

    let faces: Vec<Hash> = [&reference, &f1, &f2, &p].iter().map(|f| Hash::of(f)).collect();
    let mut sealed = s.blobs.list_sealed().unwrap();
    sealed.sort();
    let mut want = faces.clone();
    want.sort();
    assert_eq!(sealed, want, "every face sealed, the re-listed photo too");
    for sha in &faces {
        assert!(!s.blobs.exists_plain(sha).unwrap(), "{sha} in the clear");
        let row = s.store.read(|tx| tx.face_key(sha)).unwrap().unwrap();
        assert!(row.sealed_ms.is_some() && row.alg == "chacha20-poly1305", "{row:?}");
    }
    let objects = raw_media(&server);
    no_face_in_the_clear(&objects, &[&reference, &f1, &f2, &p]);
    assert!(
        !objects.iter().any(|(n, _)| n.contains("partial/") || n.contains("uploads/")),
        "no staging left"
    );
    for (name, bytes) in &objects {
        assert!(!contains(bytes, kek_text.trim().as_bytes()), "{name} holds the face key");
    }
    // The database holds wrapped keys only: never the KEK.
    let rows: Vec<_> =
        faces.iter().map(|sha| s.store.read(|tx| tx.face_key(sha)).unwrap().unwrap()).collect();
    assert!(
        rows.iter().all(|r| r.kek.len() == 16 && r.wrapped_key.len() == 60 && !kek_text.contains(&r.kek))
    );
    // A resend of a sealed face is answered complete, never stored again in the clear.
    upload_media(&sampler, &m1).await;
    let status: MediaStatus = sampler.get_json(&format!("/v1/media/{}", Hash::of(&f1))).await;
    assert!(status.complete && status.received == f1.len() as u64, "{status:?}");
    assert!(!s.blobs.exists_plain(&Hash::of(&f1)).unwrap());

    // The API: the sampler's phone gets its own reference face, byte for
    // byte — logged; the re-listed process photo still goes to the project's
    // people (it is a process photo to them) — not a face read.
    let r = sampler.signed(reqwest::Method::GET, &format!("/v1/media/{}/content", faces[0]), vec![]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), reference, "the reference face as filed");
    let r = sampler.signed(reqwest::Method::GET, &format!("/v1/media/{}/content", faces[3]), vec![]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), p, "the re-listed photo opens for its readers");
    let r = sampler.signed(reqwest::Method::GET, &format!("/v1/media/{}/content", faces[1]), vec![]).await;
    assert_eq!(r.status(), 403, "no face through the API but one's own reference");

    // The console: the administrator and the sampler open the face; a
    // regulator may not (and nothing is logged for a refusal).
    let mut admin = signed_in(&server, "admin", None);
    let mut own = signed_in(&server, "zhangwei", Some(demo::SAMPLER));
    let mut city = signed_in(&server, "zhaomin", Some(demo::INSPECTOR));
    let path = paths::fill(paths::MEDIA, &faces[1].to_hex());
    assert_eq!(city.get(&path).await.status, 403);
    for browser in [&mut admin, &mut own] {
        let a = browser.get(&path).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.headers["content-type"], "image/jpeg");
    }
    let raw = reqwest::Client::new()
        .get(format!("{}{path}", server.url))
        .header(
            "cookie",
            admin.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(raw.bytes().await.unwrap().to_vec(), f1, "the console serves the signed bytes");

    // Every read is in the log: who, whose, which, by which path.
    let log = reads(&server);
    let seen: Vec<(Hash, Option<String>, String, String)> = log
        .iter()
        .map(|r| (r.sha256, r.subject.as_ref().map(|p| p.to_string()), r.via.clone(), r.reader.clone()))
        .collect();
    let device = format!("device {}", sampler.key().public().fingerprint());
    let sampler_id = Some(demo::SAMPLER.to_owned());
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(seen[0], (faces[0], sampler_id.clone(), Via::Api.as_str().into(), device));
    for (i, who) in [(1, "admin"), (2, "zhangwei"), (3, "admin")] {
        assert_eq!((seen[i].0, &seen[i].1, seen[i].2.as_str()), (faces[1], &sampler_id, "console"), "{i}");
        assert!(seen[i].3.starts_with(who), "{seen:?}");
    }
    assert_eq!(log[0].reader_person.as_ref().map(|p| p.to_string()), sampler_id);
    assert!(log[1].reader_person.is_none() && log[1].ip == "127.0.0.1", "{:?}", log[1]);
    // Administrators read it on the audit page and export it; the sampler
    // sees who read their face photos on their account page.
    let audit = admin.get(paths::ADMIN_AUDIT).await;
    assert_eq!(audit.attrs("face-read-row", "data-via"), ["console", "console", "console", "api"]);
    let csv = admin.get(paths::ADMIN_FACE_READS_CSV).await;
    assert_eq!(csv.body.lines().count(), 5, "{}", csv.body);
    let mine = own.get(paths::ACCOUNT).await;
    assert_eq!(mine.attrs("my-face-read", "data-via"), ["console", "console", "console", "api"]);
    assert!(mine.body.contains("admin"), "the person sees the administrator who looked");
    let theirs = city.get(paths::ACCOUNT).await;
    assert!(theirs.attrs("my-face-read", "data-via").is_empty(), "nobody read the inspector's face");

    // A ciphertext swapped for another face's: refused, and named by `admin verify`.
    let original = s.blobs.read_sealed(&faces[1]).unwrap().unwrap();
    let other = s.blobs.read_sealed(&faces[2]).unwrap().unwrap();
    overwrite_raw(&server, &faces[1], &other);
    assert_eq!(admin.get(&path).await.status, 500, "a swapped photo is never served");
    let e = s.faces.read(&s.store, &s.blobs, &faces[1]).unwrap_err().to_string();
    assert!(e.contains("does not open") && e.contains(&faces[1].to_hex()), "{e}");
    let verify = |with_key: bool| {
        let vault = with_key.then_some(&*s.faces);
        sync_server::maintenance::verify_store(&s.store, &s.blobs, &s.key.public(), vault).unwrap()
    };
    for with_key in [true, false] {
        let r = verify(with_key);
        assert!(r.problems.iter().any(|p| p.contains(&faces[1].to_hex())), "{with_key}: {:?}", r.problems);
    }
    overwrite_raw(&server, &faces[1], &original);
    let r = verify(true);
    assert!(r.ok(), "{:?}", r.problems);
    assert_eq!((r.faces_sealed, r.faces_opened, r.faces_plain), (4, 4, 0));

    // A backup: no face key in the clear, no face in the clear; the drill
    // opens every face with the sealed key; a restore brings it back.
    let bdir = tempfile::tempdir().unwrap();
    let backup = bdir.path().join("b");
    let live = sync_server::backup::Live { store: &s.store, blobs: &s.blobs, faces: &s.faces };
    let m = sync_server::backup::make(
        &live,
        (&s.config.keys_dir(), Some(PASS)),
        &s.key.public(),
        &backup,
        None,
        s.now(),
    )
    .unwrap();
    assert!(m.verified, "{:?}", m.problems);
    assert_eq!((m.face_photos_sealed, m.face_photos_opened), (4, 4));
    let copied = files_under(&backup);
    no_face_in_the_clear(&copied, &[&reference, &f1, &f2, &p]);
    for (name, bytes) in &copied {
        assert!(!contains(bytes, kek_text.trim().as_bytes()), "{name} holds the face key in the clear");
    }
    assert!(
        backup.join("keys/face-photos.key.sealed").is_file() && !backup.join("keys/face-photos.key").exists()
    );
    let scratch = tempfile::tempdir().unwrap();
    let d = sync_server::backup::drill(&backup, &scratch.path().join("d"), Some(PASS)).unwrap();
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    assert_eq!((d.faces_sealed, d.faces_opened, d.key_opened), (4, 4, Some(true)));
    let d = sync_server::backup::drill(&backup, &scratch.path().join("n"), None).unwrap();
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    assert_eq!(
        (d.faces_sealed, d.faces_opened),
        (4, 0),
        "without the key: checked by the sealed bytes' hash"
    );
    server.stop().await;

    let restored = tempfile::tempdir().unwrap();
    let c = sync_server::testing::config(restored.path());
    sync_server::maintenance::restore(
        &backup,
        &c.database_path(),
        &c.media_dir(),
        &c.keys_dir(),
        &c.face_key_file(),
        &sync_server::key_custody::KeySource::Passphrase(PASS.into()),
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(c.face_key_file()).unwrap(), kek_text, "the face key, unsealed");
    let back = TestServer::start(restored.path()).await;
    let r = &back.state;
    for (sha, bytes) in faces.iter().zip([&reference, &f1, &f2, &p]) {
        assert_eq!(&r.faces.read(&r.store, &r.blobs, sha).unwrap(), bytes, "{sha} restored");
    }
    no_face_in_the_clear(&raw_media(&back), &[&reference, &f1, &f2, &p]);
    back.stop().await;
}

/// `sync-server admin …` against the test server's data (and database and
/// bucket), as the operator runs it.
fn admin_cli(server: &TestServer, args: &[&str]) -> (bool, String) {
    let mut cmd = admin_command(server, &server.data);
    cmd.args(args);
    let out = cmd.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

async fn pipl_a_deployments_faces_in_the_clear_are_sealed_and_the_key_rotates(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let s = &server.state;
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    sampler.sync_time().await;

    // What a server older than face encryption left: the records, and the
    // faces stored as they came, in the clear.
    let faces: Vec<Vec<u8>> = (11..14).map(jpeg_face).collect();
    for (i, f) in faces.iter().enumerate() {
        let serial = 11 + i as u32;
        let m = vec![(MediaPurpose::Face, f.clone()), (MediaPurpose::Process, process_photo(serial, "old"))];
        sample(&mut sampler, serial, f, &m).await;
        upload_media(&sampler, &m[1..]).await;
        let sha = s.blobs.put_whole(f).unwrap();
        let row = MediaRow {
            sha256: sha,
            size: f.len() as u64,
            media_type: "image/jpeg".into(),
            received: f.len() as u64,
            complete: true,
        };
        s.store.write(|tx| tx.upsert_media(&row, s.now())).unwrap();
    }
    let shas: Vec<Hash> = faces.iter().map(|f| Hash::of(f)).collect();
    let r =
        sync_server::maintenance::verify_store(&s.store, &s.blobs, &s.key.public(), Some(&s.faces)).unwrap();
    assert!(r.ok() && r.faces_plain == 3 && r.faces_sealed == 0, "{r:?}");
    assert!(
        raw_media(&server).iter().any(|(_, b)| contains(b, JFIF)),
        "the old deployment's faces are plain"
    );
    let before: Vec<(String, Vec<u8>)> =
        raw_media(&server).into_iter().filter(|(_, b)| !contains(b, JFIF)).collect();

    // The operator seals them: nothing lost, nothing left in the clear.
    let (ok, text) = admin_cli(&server, &["faces", "seal"]);
    assert!(ok && text.contains("3 sealed now"), "{text}");
    no_face_in_the_clear(&raw_media(&server), &faces.iter().map(Vec::as_slice).collect::<Vec<_>>());
    for (sha, f) in shas.iter().zip(&faces) {
        assert_eq!(&s.faces.read(&s.store, &s.blobs, sha).unwrap(), f, "{sha} kept byte for byte");
    }
    let after = raw_media(&server);
    for (name, bytes) in &before {
        assert!(after.iter().any(|(n, b)| n == name && b == bytes), "{name}: other media untouched");
    }
    let (ok, text) = admin_cli(&server, &["faces", "seal"]);
    assert!(ok && text.contains("0 sealed now"), "idempotent: {text}");
    let (ok, text) = admin_cli(&server, &["verify"]);
    assert!(ok && text.contains("face photos: 3 sealed (opened and matched), 0 in the clear"), "{text}");

    // Rotation: the data keys re-wrapped, no photo re-encrypted.
    let key_file = s.config.face_key_file();
    let old_key = std::fs::read_to_string(&key_file).unwrap();
    let old_id = s.faces.wrapping_id();
    let sealed_before: Vec<Vec<u8>> = shas.iter().map(|h| s.blobs.read_sealed(h).unwrap().unwrap()).collect();
    let rows_before: Vec<_> =
        shas.iter().map(|h| s.store.read(|tx| tx.face_key(h)).unwrap().unwrap()).collect();
    let (ok, text) = admin_cli(&server, &["faces", "rotate-key"]);
    assert!(ok && text.contains("3 data keys re-wrapped") && text.contains(&old_id), "{text}");
    let new_key = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(new_key, old_key, "the key file holds the new key");
    assert!(!key_file.with_file_name("next-face-photos.key").exists());
    for ((sha, sealed), row) in shas.iter().zip(&sealed_before).zip(&rows_before) {
        assert_eq!(&s.blobs.read_sealed(sha).unwrap().unwrap(), sealed, "the photo was not re-encrypted");
        let now = s.store.read(|tx| tx.face_key(sha)).unwrap().unwrap();
        assert!(
            now.kek != row.kek && now.wrapped_key != row.wrapped_key && now.nonce == row.nonce,
            "{now:?}"
        );
        assert_eq!(now.sealed_sha256, row.sealed_sha256);
    }
    // This server process still held the old key: it reads the new one.
    for (sha, f) in shas.iter().zip(&faces) {
        assert_eq!(&s.faces.read(&s.store, &s.blobs, sha).unwrap(), f);
    }
    assert_ne!(s.faces.wrapping_id(), old_id);
    assert!(!s.faces.held_ids().contains(&old_id), "the retired key is dropped");
    // A face arriving now is sealed under the new key.
    let fresh = jpeg_face(20);
    let m = vec![(MediaPurpose::Face, fresh.clone()), (MediaPurpose::Process, process_photo(20, "new"))];
    sample(&mut sampler, 20, &fresh, &m).await;
    upload_media(&sampler, &m).await;
    let row = s.store.read(|tx| tx.face_key(&Hash::of(&fresh))).unwrap().unwrap();
    assert_eq!(row.kek, s.faces.wrapping_id());

    // The old key is refused from now on; a missing key file too.
    std::fs::write(&key_file, &old_key).unwrap();
    let e = FaceVault::open(&key_file, &s.store).unwrap_err().to_string();
    assert!(e.contains("retired") && e.contains(&old_id), "{e}");
    let (ok, text) = admin_cli(&server, &["verify"]);
    assert!(!ok && text.contains("retired") && text.contains("停用"), "{text}");
    std::fs::remove_file(&key_file).unwrap();
    let e = FaceVault::open(&key_file, &s.store).unwrap_err().to_string();
    assert!(e.contains("missing") && e.contains("admin restore"), "{e}");
    assert!(!key_file.exists(), "a missing key is never silently replaced");
    std::fs::write(&key_file, &new_key).unwrap();
    let (ok, text) = admin_cli(&server, &["verify"]);
    assert!(ok && text.contains("face photos: 4 sealed"), "{text}");
    server.stop().await;
}
