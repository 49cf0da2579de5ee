//! A small archive for tests (feature `fixtures`): a server enrolls two
//! phones, they sign samplings with media, the log is signed at several
//! sizes — everything a bag holds, in memory.

use super::*;
use crate::crypto::SigningKey;
use crate::fixtures::{self, Device, T0};
use crate::log::{Checkpoint, consistency_proof, inclusion_proof, leaf_hash, memory_oracle, root};
use crate::record::{DeviceEnrollment, MediaPurpose, Payload, SignedRecord};
use std::collections::BTreeMap;

pub struct Built {
    pub index: ArchiveIndex,
    /// Payload files: path → bytes.
    pub files: BTreeMap<String, Vec<u8>>,
    pub server: SigningKey,
    /// Every record id of the log, in order.
    pub log: Vec<Hash>,
}

pub fn signed(key: &SigningKey, leaves: &[Hash], size: u64, ms: i64) -> SignedCheckpoint {
    let mut o = memory_oracle(leaves);
    SignedCheckpoint::sign(Checkpoint { size, root: root(size, &mut o), server_ms: ms }, key)
}

/// Seven records: two enrollments, three samplings of one phone, two of
/// another; media for the first phone's; checkpoints at 2, 5 and 7.
pub fn build() -> Built {
    let mut server = Device::new(1, "OPERATOR");
    let mut a = Device::new(2, "P-SAMPLER");
    let mut b = Device::new(3, "P-WITNESS");
    let mut records: Vec<SignedRecord> = Vec::new();
    for d in [&a, &b] {
        let body = server.body(
            Payload::DeviceEnrolled(DeviceEnrollment {
                device: d.key.public(),
                person: d.person.clone(),
                label: "phone".into(),
            }),
            vec![],
            vec![],
            T0,
        );
        records.push(server.sign(body));
    }
    let mut media_bytes = BTreeMap::new();
    for i in 0..3u32 {
        let photo = format!("process photo {i}").into_bytes();
        let mut m = fixtures::media(MediaPurpose::Process, "p");
        m.sha256 = Hash::of(&photo);
        m.size = photo.len() as u64;
        media_bytes.insert(m.sha256, (m.clone(), photo));
        let body = a.body(fixtures::sampling(fixtures::tag(100 + i)), vec![m], vec![], T0 + i as i64);
        records.push(a.sign(body));
    }
    for i in 0..2u32 {
        let body = b.body(fixtures::sampling(fixtures::tag(200 + i)), vec![], vec![], T0 + i as i64);
        records.push(b.sign(body));
    }
    let ids: Vec<Hash> = records.iter().map(|r| r.id()).collect();
    let leaves: Vec<Hash> = ids.iter().map(leaf_hash).collect();
    let key = server.key;
    let size = ids.len() as u64;
    let head = signed(&key, &leaves, size, T0 + 100);
    let mut o = memory_oracle(&leaves);
    let history = [2u64, 5, size]
        .iter()
        .map(|&s| HistoryEntry {
            checkpoint: if s == size { head.clone() } else { signed(&key, &leaves, s, T0 + s as i64) },
            consistency: consistency_proof(s, size, &mut o),
        })
        .collect();
    let mut files = BTreeMap::new();
    let mut entries = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let file = record_file(i as u64, &r.id());
        files.insert(file.clone(), r.to_bytes());
        let why = if i < 2 { Inclusion::Directory } else { Inclusion::Scope };
        let proof = inclusion_proof(i as u64, size, &mut o);
        entries.push(RecordEntry {
            id: r.id(),
            log_index: i as u64,
            file,
            why,
            status: "accepted".into(),
            proof,
        });
    }
    let mut media = Vec::new();
    for (sha, (m, bytes)) in media_bytes {
        files.insert(media_file(&sha), bytes);
        media.push(MediaEntry {
            sha256: sha,
            size: m.size,
            media_type: m.media_type,
            file: Some(media_file(&sha)),
        });
    }
    let index = ArchiveIndex {
        format: FORMAT.into(),
        scope: Scope::default(),
        exported_ms: T0 + 200,
        head,
        history,
        server_keys: vec![ServerKey { key: key.public(), from_ms: T0 - 1, until_ms: None }],
        handovers: vec![],
        records: entries,
        media,
        reports: vec![],
    };
    Built { index, files, server: key, log: ids }
}
