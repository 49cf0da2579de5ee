//! The media store's own tests: each back end through the same calls.

use super::*;

/// The same story on each media store.
fn resumes_checks_hash_and_never_overwrites(b: &Blobs) {
    let u = &Uploader::device(&custody_core::SigningKey::from_seed(&[7; 32]).unwrap().public());
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let sha = Hash::of(&data);
    assert_eq!(b.put_chunk(&sha, u, 100_000, 0, &data[..30_000]).unwrap(), Progress::Partial(30_000));
    // A resend of an old chunk is refused with where to resume.
    assert!(matches!(
        b.put_chunk(&sha, u, 100_000, 0, &data[..10]),
        Err(BlobError::Offset { have: 30_000, .. })
    ));
    assert_eq!(b.received(&sha, u).unwrap(), 30_000);
    assert!(!b.exists(&sha).unwrap());
    assert_eq!(b.put_chunk(&sha, u, 100_000, 30_000, &data[30_000..]).unwrap(), Progress::Complete);
    assert_eq!(b.read(&sha).unwrap(), data);
    assert_eq!(b.read_range(&sha, 99_990, 100).unwrap(), &data[99_990..]);
    assert!(b.verify(&sha).unwrap());
    // Once complete, any further chunk is answered "complete", nothing rewritten.
    assert_eq!(b.put_chunk(&sha, u, 100_000, 0, b"other").unwrap(), Progress::Complete);
    assert_eq!(b.read(&sha).unwrap(), data);
    // Wrong content under a name: discarded.
    let bad = Hash::of(b"something else");
    assert!(matches!(b.put_chunk(&bad, u, 5, 0, b"hello"), Err(BlobError::HashMismatch { .. })));
    assert_eq!(b.received(&bad, u).unwrap(), 0);
    assert!(!b.exists(&bad).unwrap());
    assert_eq!(b.list().unwrap(), vec![sha]);
}

/// Two devices listing one file upload it separately: one's garbage
/// never reaches the other's upload, and the first correct upload wins.
fn uploaders_are_isolated(b: &Blobs) {
    let key = |seed| Uploader::device(&custody_core::SigningKey::from_seed(&[seed; 32]).unwrap().public());
    let (honest, attacker) = (key(1), key(2));
    let data = b"a witness's process photo".to_vec();
    let sha = Hash::of(&data);
    let n = data.len() as u64;
    assert_eq!(b.put_chunk(&sha, &attacker, n + 10, 0, b"garbage").unwrap(), Progress::Partial(7));
    assert_eq!(b.received(&sha, &honest).unwrap(), 0, "the honest upload has not started");
    assert_eq!(b.put_chunk(&sha, &honest, n, 0, &data[..5]).unwrap(), Progress::Partial(5));
    assert_eq!(b.put_chunk(&sha, &honest, n, 5, &data[5..]).unwrap(), Progress::Complete);
    assert_eq!(b.read(&sha).unwrap(), data);
    assert_eq!(b.put_chunk(&sha, &attacker, n + 10, 7, b"more").unwrap(), Progress::Complete);
    assert_eq!(b.read(&sha).unwrap(), data, "nothing rewritten");
}

/// An upload whose bytes all arrived but whose finishing a crash cut
/// short (issue 18's chaos test) is finished when asked, with the same
/// hash check; bytes that do not match are discarded to be sent again.
fn a_whole_upload_a_crash_left_unfinished_is_finished(b: &Blobs) {
    let u = &Uploader::device(&custody_core::SigningKey::from_seed(&[9; 32]).unwrap().public());
    let data: Vec<u8> = (0..50_000u32).map(|i| (i % 241) as u8).collect();
    let sha = Hash::of(&data);
    assert_eq!(b.stage_chunk(&sha, u, 50_000, 0, &data[..20_000]).unwrap(), 20_000);
    assert_eq!(b.complete_upload(&sha, u, 50_000).unwrap(), Progress::Partial(20_000), "bytes missing");
    assert_eq!(b.stage_chunk(&sha, u, 50_000, 20_000, &data[20_000..]).unwrap(), 50_000);
    assert!(!b.exists(&sha).unwrap(), "killed before the object was made");
    assert_eq!(b.received(&sha, u).unwrap(), 50_000);
    assert_eq!(b.complete_upload(&sha, u, 50_000).unwrap(), Progress::Complete);
    assert_eq!(b.read(&sha).unwrap(), data);
    assert_eq!(b.complete_upload(&sha, u, 50_000).unwrap(), Progress::Complete, "again: nothing rewritten");
    // An empty chunk at the end finishes it too.
    let other: Vec<u8> = data.iter().rev().copied().collect();
    let other_sha = Hash::of(&other);
    assert_eq!(b.stage_chunk(&other_sha, u, 50_000, 0, &other).unwrap(), 50_000);
    assert_eq!(b.put_chunk(&other_sha, u, 50_000, 50_000, &[]).unwrap(), Progress::Complete);
    assert_eq!(b.read(&other_sha).unwrap(), other);
    let bad = Hash::of(b"not these bytes");
    assert_eq!(b.stage_chunk(&bad, u, 5, 0, b"hello").unwrap(), 5);
    assert!(matches!(b.complete_upload(&bad, u, 5), Err(BlobError::HashMismatch { .. })));
    assert_eq!(b.received(&bad, u).unwrap(), 0, "discarded: to be sent again");
    assert!(!b.exists(&bad).unwrap());
}

#[test]
fn r14_directory_finishes_an_upload_a_crash_left_whole() {
    let dir = tempfile::tempdir().unwrap();
    a_whole_upload_a_crash_left_unfinished_is_finished(&Blobs::open(dir.path()).unwrap());
}

#[test]
fn r14_bucket_finishes_an_upload_a_crash_left_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = crate::testing::config(dir.path());
    crate::testing::services::fresh_bucket(&mut c);
    a_whole_upload_a_crash_left_unfinished_is_finished(&Blobs::from_config(&c).unwrap());
}

#[test]
fn r9_directory_uploaders_are_isolated() {
    let dir = tempfile::tempdir().unwrap();
    uploaders_are_isolated(&Blobs::open(dir.path()).unwrap());
}

#[test]
fn r9_bucket_uploaders_are_isolated() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = crate::testing::config(dir.path());
    crate::testing::services::fresh_bucket(&mut c);
    uploaders_are_isolated(&Blobs::from_config(&c).unwrap());
}

#[test]
fn r14_directory_resumes_checks_hash_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    resumes_checks_hash_and_never_overwrites(&Blobs::open(dir.path()).unwrap());
}

#[test]
fn r14_bucket_resumes_checks_hash_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = crate::testing::config(dir.path());
    crate::testing::services::fresh_bucket(&mut c);
    let b = Blobs::from_config(&c).unwrap();
    resumes_checks_hash_and_never_overwrites(&b);
    let Blobs::S3(s3) = &b else { panic!("a bucket") };

    // Write-once is the bucket's own rule too: a create-only PUT of other
    // bytes under an existing object's key is refused (412), not applied.
    let photo = b"a process photo".to_vec();
    let sha = b.put_whole(&photo).unwrap();
    let (store, key) = (s3.store.clone(), s3.object_key(&sha));
    let r = crate::driver::block_on(async move {
        store.put_opts(&key, PutPayload::from_static(b"forged"), PutMode::Create.into()).await
    });
    assert!(matches!(r, Err(object_store::Error::AlreadyExists { .. })), "{r:?}");
    assert_eq!(b.read(&sha).unwrap(), photo);

    // A video larger than one PUT: chunks staged as they come (any
    // instance can take the next), then a multipart upload; the staged
    // chunks are gone afterwards.
    let u = &Uploader::admin();
    let video: Vec<u8> =
        (0..(21u32 << 20) + 12345).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let sha = Hash::of(&video);
    let mut offset = 0;
    for chunk in video.chunks(4 << 20) {
        let p = b.put_chunk(&sha, u, video.len() as u64, offset, chunk).unwrap();
        offset += chunk.len() as u64;
        if offset < video.len() as u64 {
            assert_eq!(p, Progress::Partial(offset));
            assert_eq!(b.received(&sha, u).unwrap(), offset, "resume point survives in the bucket");
        } else {
            assert_eq!(p, Progress::Complete);
        }
    }
    assert_eq!(s3.size(&sha).unwrap(), Some(video.len() as u64));
    assert!(b.verify(&sha).unwrap());
    assert_eq!(b.read_range(&sha, 5 << 20, 16).unwrap(), &video[5 << 20..(5 << 20) + 16]);
    let (store, prefix) = (s3.store.clone(), s3.staging_prefix(&sha, u));
    let left = crate::driver::block_on(async move { staged(&*store, &prefix).await }).unwrap();
    assert!(left.is_empty(), "staged chunks removed: {}", left.len());
}
