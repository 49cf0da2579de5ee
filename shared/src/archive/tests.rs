//! The archive checks (R14, R21) over the small log of `sample`: each test
//! breaks one thing and names the flaw it expects.

use super::check::{Seen, check};
use super::sample::{Built, build, signed};
use super::*;
use crate::crypto::SigningKey;
use crate::fixtures::{self, Device, T0};
use crate::log::{Checkpoint, consistency_proof, leaf_hash, memory_oracle};
use crate::protocol::ConsistencyResponse;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn run(b: &Built, trusted: &[PublicKey], seen: &[(String, Seen)]) -> Answer {
    let found: BTreeMap<String, (Hash, u64)> =
        b.files.iter().map(|(p, bytes)| (p.clone(), (Hash::of(bytes), bytes.len() as u64))).collect();
    let mut read = |p: &str| b.files.get(p).cloned();
    check(&b.index, &found, &mut read, trusted, seen)
}

fn flaws(a: &Answer) -> Vec<&'static str> {
    a.flaws().map(|l| l.code).collect()
}

#[test]
fn r14_a_whole_archive_proves_every_step() {
    let b = build();
    let a = run(&b, &[b.server.public()], &[]);
    assert!(a.ok(), "{}", check::render(&a));
    for code in ["head_signed", "history_consistent", "records_signed", "records_in_log", "devices_enrolled"]
    {
        assert!(a.has(code), "{code} missing:\n{}", check::render(&a));
    }
    let text = check::render(&a);
    assert!(text.contains("7 条记录") && text.contains("7 records"), "{text}");
    assert!(text.contains("3 个媒体文件") && text.contains("3 media files"), "{text}");
    // Without a key named by the reader, the bag's own is used and said so.
    let a = run(&b, &[], &[]);
    assert!(a.ok() && a.has("server_keys_from_bag"));
}

#[test]
fn r14_an_altered_record_is_named() {
    let mut b = build();
    let file = b.index.records[3].file.clone();
    let mut bytes = b.files[&file].clone();
    let text = String::from_utf8(bytes.clone()).unwrap().replace("P-SAMPLER", "P-SAMPLEX");
    bytes = text.into_bytes();
    b.files.insert(file, bytes);
    let a = run(&b, &[], &[]);
    assert!(flaws(&a).contains(&"record_id_mismatch"), "{:?}", flaws(&a));
}

#[test]
fn r14_a_record_not_in_the_signed_log_is_named() {
    let mut b = build();
    b.index.records[4].proof[0] = Hash::of(b"forged");
    let a = run(&b, &[], &[]);
    assert_eq!(flaws(&a), vec!["record_not_in_log"]);
}

#[test]
fn r14_a_device_without_its_enrollment_is_named() {
    let mut b = build();
    let e = b.index.records.remove(0);
    b.files.remove(&e.file);
    let a = run(&b, &[], &[]);
    assert_eq!(flaws(&a), vec!["device_not_enrolled"]);
}

#[test]
fn r14_a_missing_middle_record_is_a_gap_not_a_flaw_and_a_fork_is_a_flaw() {
    let mut b = build();
    let e = b.index.records.remove(3);
    b.files.remove(&e.file);
    let a = run(&b, &[], &[]);
    assert!(a.ok(), "{}", check::render(&a));
    let gap = a.lines.iter().find(|l| l.code == "chain_gap").expect("gap named");
    assert!(gap.en.contains("positions 1 ") && gap.zh.contains("链位置 1 "), "{}", gap.en);

    // Another record at a position the chain already holds: equivocation.
    let mut b = build();
    let mut a_dev = Device::new(2, "P-SAMPLER");
    let body = a_dev.body(fixtures::sampling(fixtures::tag(999)), vec![], vec![], T0);
    let twin = a_dev.sign(body);
    let file = record_file(99, &twin.id());
    b.files.insert(file.clone(), twin.to_bytes());
    b.index.records.push(RecordEntry {
        id: twin.id(),
        log_index: 99,
        file,
        why: Inclusion::Scope,
        status: "accepted".into(),
        proof: vec![],
    });
    let a = run(&b, &[], &[]);
    assert!(flaws(&a).contains(&"chain_fork"), "{:?}", flaws(&a));
    assert!(flaws(&a).contains(&"record_beyond_head"), "{:?}", flaws(&a));
}

#[test]
fn r14_media_are_checked_by_content() {
    let mut b = build();
    let m = b.index.media[0].file.clone().unwrap();
    b.files.insert(m, b"another photo".to_vec());
    let a = run(&b, &[], &[]);
    assert_eq!(flaws(&a), vec!["media_altered"]);

    let mut b = build();
    b.index.media.remove(1);
    let a = run(&b, &[], &[]);
    let f = flaws(&a);
    assert!(f.contains(&"media_unlisted") && f.contains(&"media_file_unindexed"), "{f:?}");
}

#[test]
fn r14_a_rewritten_history_is_caught() {
    let mut b = build();
    // The server claims it signed, at size 5, a root the head does not extend.
    let forged = SignedCheckpoint::sign(
        Checkpoint { size: 5, root: Hash::of(b"another history"), server_ms: T0 },
        &b.server,
    );
    b.index.history[1].checkpoint = forged;
    let a = run(&b, &[], &[]);
    assert_eq!(flaws(&a), vec!["history_inconsistent"]);
}

#[test]
fn r14_a_key_the_reader_does_not_trust_fails_the_head() {
    let b = build();
    let other = SigningKey::from_seed(&[9; 32]).unwrap();
    let a = run(&b, &[other.public()], &[]);
    let f = flaws(&a);
    assert!(f.contains(&"server_key_untrusted") && f.contains(&"head_signature"), "{f:?}");
}

#[test]
fn r14_split_view_checkpoints_seen_elsewhere() {
    let b = build();
    let leaves: Vec<Hash> = b.log.iter().map(leaf_hash).collect();
    // A phone holds the genuine checkpoint at size 5: consistent.
    let genuine = signed(&b.server, &leaves, 5, T0 + 5);
    let a = run(&b, &[], &[("phone".into(), Seen::Checkpoint(genuine))]);
    assert!(a.ok() && a.has("seen_consistent"), "{}", check::render(&a));

    // The server showed the phone another history at size 5.
    let mut other = leaves.clone();
    other[4] = leaf_hash(&Hash::of(b"a record only the phone saw"));
    let forked = signed(&b.server, &other, 5, T0 + 5);
    let a = run(&b, &[], &[("phone".into(), Seen::Checkpoint(forked))]);
    assert_eq!(flaws(&a), vec!["split_view"]);

    // …or at a size its own history lacks.
    let unknown = signed(&b.server, &other, 4, T0 + 4);
    let a = run(&b, &[], &[("phone".into(), Seen::Checkpoint(unknown))]);
    assert_eq!(flaws(&a), vec!["seen_not_in_history"]);

    // A later checkpoint alone cannot be compared; with its proof it can.
    let mut longer = leaves.clone();
    longer.push(leaf_hash(&Hash::of(b"next")));
    let later = signed(&b.server, &longer, 8, T0 + 8);
    let a = run(&b, &[], &[("server".into(), Seen::Checkpoint(later.clone()))]);
    assert!(a.ok() && a.has("seen_later_unproven"));
    let mut o = memory_oracle(&longer);
    let x = ConsistencyResponse { checkpoint: later.clone(), proof: consistency_proof(7, 8, &mut o) };
    let a = run(&b, &[], &[("server".into(), Seen::Extension(x))]);
    assert!(a.ok() && a.has("seen_consistent"), "{}", check::render(&a));
    // A later checkpoint of a rewritten log does not extend this one.
    let mut rewritten = longer.clone();
    rewritten[2] = leaf_hash(&Hash::of(b"rewritten"));
    let bad = signed(&b.server, &rewritten, 8, T0 + 8);
    let mut o = memory_oracle(&rewritten);
    let x = ConsistencyResponse { checkpoint: bad, proof: consistency_proof(7, 8, &mut o) };
    let a = run(&b, &[], &[("server".into(), Seen::Extension(x))]);
    assert_eq!(flaws(&a), vec!["seen_not_extension"]);
}

#[test]
fn r14_two_exports_of_one_history_agree_and_of_two_do_not() {
    let b = build();
    // An earlier export: head at 5.
    let leaves: Vec<Hash> = b.log.iter().map(leaf_hash).collect();
    let mut earlier = b.index.clone();
    earlier.head = b.index.history[1].checkpoint.clone();
    let mut o = memory_oracle(&leaves);
    earlier.history = b.index.history[..2]
        .iter()
        .map(|e| HistoryEntry {
            checkpoint: e.checkpoint.clone(),
            consistency: consistency_proof(e.checkpoint.checkpoint.size, 5, &mut o),
        })
        .collect();
    let a = run(&b, &[], &[("earlier.bag".into(), Seen::Archive(Box::new(earlier.clone())))]);
    assert!(a.ok() && a.has("seen_consistent"), "{}", check::render(&a));

    // An export from a server that showed another history at 5.
    let mut other = leaves[..5].to_vec();
    other[3] = leaf_hash(&Hash::of(b"other"));
    let mut forked = earlier;
    forked.head = signed(&b.server, &other, 5, T0 + 5);
    forked.history[1].checkpoint = forked.head.clone();
    let a = run(&b, &[], &[("forked.bag".into(), Seen::Archive(Box::new(forked)))]);
    assert!(flaws(&a).contains(&"split_view"), "{:?}", flaws(&a));
}

#[test]
fn r14_bag_manifests_name_every_difference() {
    use super::bagit::*;
    let mut found = BTreeMap::new();
    found.insert("data/a".to_owned(), Hash::of(b"a"));
    found.insert("data/b".to_owned(), Hash::of(b"b"));
    let text = manifest_text(&found);
    let listed = parse_manifest(MANIFEST_FILE, &text).unwrap();
    assert!(check_manifest(MANIFEST_FILE, &listed, &found).is_empty());
    let mut changed = found.clone();
    changed.insert("data/a".into(), Hash::of(b"A"));
    changed.remove("data/b");
    changed.insert("data/c".into(), Hash::of(b"c"));
    let codes: Vec<_> = check_manifest(MANIFEST_FILE, &listed, &changed).iter().map(|l| l.code).collect();
    assert_eq!(codes, vec!["bag_file_altered", "bag_file_missing", "bag_file_unlisted"]);
    assert_eq!(
        parse_manifest(MANIFEST_FILE, &format!("{}  ../etc/passwd\n", Hash::of(b"x"))).unwrap_err().code,
        "bag_manifest_path"
    );
    assert!(check_declaration(DECLARATION).is_none());
    assert!(check_declaration("BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n").is_some());
    let info = bag_info_text(&[("Source-Organization", "营口".into())], 10, 2);
    assert!(check_payload_oxum(&info, 10, 2).is_none());
    assert_eq!(check_payload_oxum(&info, 10, 3).unwrap().code, "bag_payload_oxum");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Any one byte changed in any record file is a flaw.
    #[test]
    fn r14_any_changed_byte_of_a_record_is_a_flaw(which in 0usize..7, at in any::<prop::sample::Index>(), to in any::<u8>()) {
        let mut b = build();
        let file = b.index.records[which].file.clone();
        let mut bytes = b.files[&file].clone();
        let i = at.index(bytes.len());
        prop_assume!(bytes[i] != to);
        bytes[i] = to;
        b.files.insert(file, bytes);
        let a = run(&b, &[], &[]);
        prop_assert!(!a.ok());
    }
}
