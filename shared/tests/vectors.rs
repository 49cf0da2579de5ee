//! Golden test vectors: the frozen byte format. Other implementations (a
//! regulator's verifier, a lab system in another language) can check
//! themselves against the files in `tests/vectors/`.
//!
//! The test rebuilds every vector from fixed seeds and compares it with the
//! committed file, byte for byte: any change to the encoding fails here. If
//! a format change is intended, it needs a new format version; regenerate
//! with `REGENERATE_VECTORS=1 cargo test -p custody-core --features fixtures --test vectors`.

use custody_core::canonical;
use custody_core::crypto::{Domain, SigningKey};
use custody_core::fixtures::{self, Device, MIN, T0, World};
use custody_core::log::{self, Checkpoint, SignedCheckpoint};
use custody_core::record::*;
use custody_core::time::{AnchorBody, TimeAnchor};
use custody_core::{Hash, SignedRecord};
use serde_json::{Value, json};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn check_or_write(name: &str, value: &Value) {
    let path = dir().join(name);
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("REGENERATE_VECTORS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with REGENERATE_VECTORS=1 once)", path.display()));
    assert_eq!(committed, text, "vector {name} changed: the byte format is frozen");
}

fn record_vector(description: &str, seed: u8, rec: &SignedRecord) -> Value {
    json!({
        "description": description,
        "device_seed_hex": hex::encode([seed; 32]),
        "device_public_key": rec.body().device.to_b64(),
        "body_canonical": String::from_utf8(rec.body_bytes().to_vec()).unwrap(),
        "id_sha256_hex": rec.id().to_hex(),
        "signed_message_hex": hex::encode(Domain::Record.message(rec.id().as_bytes())),
        "signature": rec.sig().to_b64(),
        "envelope": String::from_utf8(rec.to_bytes()).unwrap(),
    })
}

/// The standard flow, deterministic: a sampling with an anchor, its witnessing,
/// and a commission co-signed by the witness.
fn flow() -> (SignedRecord, SignedRecord, SignedRecord) {
    let (mut w, mut s, mut wd, _) = World::yingkou();
    w.sync(&mut s);
    w.advance(MIN);
    let rec = s.field_record(
        fixtures::sampling(fixtures::tag(1)),
        Hash::of(b"face"),
        fixtures::site_point(50.0, 50.0),
        w.now,
    );
    w.advance(MIN);
    w.submit(&rec);
    w.sync(&mut wd);
    w.advance(3 * MIN);
    let wrec = wd.field_record(
        fixtures::witnessing(&rec),
        Hash::of(b"face"),
        fixtures::site_point(52.0, 49.0),
        w.now,
    );
    w.submit(&wrec);
    let body = s.body(fixtures::commission(&[(&rec, &wrec)]), vec![], vec![], w.now);
    let mut c = s.sign(body);
    c.cosign(&wd.key, fixtures::id("P-WITNESS"));
    (rec, wrec, c)
}

#[test]
fn golden_records() {
    let (rec, wrec, c) = flow();
    check_or_write(
        "sampling.json",
        &record_vector(
            "R6-R7 sampling record, first in the device chain, with a server time anchor",
            2,
            &rec,
        ),
    );
    check_or_write(
        "witnessing.json",
        &record_vector("R8 witnessing record naming the sampling record's id and signature", 3, &wrec),
    );
    let mut v =
        record_vector("R10 commission form signed by the sampler and co-signed by the witness", 2, &c);
    v["cosign_message_hex"] = json!(hex::encode(
        Domain::Cosign.message(&Cosignature::message(&c.id(), &fixtures::id("P-WITNESS")))
    ));
    v["cosigner_seed_hex"] = json!(hex::encode([3u8; 32]));
    check_or_write("commission_cosigned.json", &v);

    // Every committed envelope decodes, verifies and re-encodes to itself.
    for name in ["sampling.json", "witnessing.json", "commission_cosigned.json"] {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(dir().join(name)).unwrap()).unwrap();
        let env = v["envelope"].as_str().unwrap().as_bytes();
        let r = SignedRecord::decode_verified(env).unwrap();
        assert_eq!(r.id().to_hex(), v["id_sha256_hex"].as_str().unwrap());
        assert_eq!(Hash::of(v["body_canonical"].as_str().unwrap().as_bytes()), r.id());
        assert_eq!(r.to_bytes(), env);
    }
    verify_chain(&[rec, c]).unwrap(); // the sampler's chain: sampling (seq 0), commission (seq 1)
}

#[test]
fn golden_anchor_and_checkpoint() {
    let server = SigningKey::from_seed(&[1; 32]).unwrap();
    let d = Device::new(2, "P-SAMPLER");
    let anchor = TimeAnchor::sign(
        AnchorBody {
            v: 1,
            device: d.key.public(),
            boot_id: d.boot_id.clone(),
            device_mono_ms: 3_600_000,
            server_ms: T0,
            tail: None,
        },
        &server,
    )
    .unwrap();
    check_or_write(
        "anchor.json",
        &json!({
            "description": "server time anchor (domain jzqy/anchor/v1 over the canonical anchor body)",
            "server_seed_hex": hex::encode([1u8; 32]),
            "body_canonical": String::from_utf8(canonical::to_canonical(&anchor.body).unwrap()).unwrap(),
            "anchor": String::from_utf8(canonical::to_canonical(&anchor).unwrap()).unwrap(),
        }),
    );
    assert!(anchor.verify(&[server.public()]));

    let ids: Vec<Hash> = (0u8..7).map(|i| Hash::of(&[i])).collect();
    let leaves: Vec<Hash> = ids.iter().map(log::leaf_hash).collect();
    let mut oracle = log::memory_oracle(&leaves);
    let root = log::root(7, &mut oracle);
    let cp = SignedCheckpoint::sign(Checkpoint { size: 7, root, server_ms: T0 }, &server);
    let old_root = log::root(3, &mut oracle);
    check_or_write(
        "log.json",
        &json!({
            "description": "RFC 6962 log over record ids SHA-256([i]) for i in 0..7: leaf = SHA-256(0x00||id), node = SHA-256(0x01||l||r)",
            "record_ids": ids.iter().map(Hash::to_hex).collect::<Vec<_>>(),
            "root_size_7": root.to_hex(),
            "root_size_3": old_root.to_hex(),
            "inclusion_index_5_size_7": log::inclusion_proof(5, 7, &mut oracle).iter().map(Hash::to_hex).collect::<Vec<_>>(),
            "consistency_3_to_7": log::consistency_proof(3, 7, &mut oracle).iter().map(Hash::to_hex).collect::<Vec<_>>(),
            "signed_checkpoint": String::from_utf8(canonical::to_canonical(&cp).unwrap()).unwrap(),
        }),
    );
}

#[test]
fn golden_rejections() {
    let (rec, _, _) = flow();
    let good = String::from_utf8(rec.to_bytes()).unwrap();
    let cases = vec![
        (
            "future format version",
            good.replacen("\"seq\":0,\"v\":1", "\"seq\":0,\"v\":2", 1),
            "unknown_version",
        ),
        ("whitespace (not canonical)", good.replacen("{\"body\":", "{ \"body\":", 1), "not_canonical"),
        (
            "duplicate member name",
            good.replacen("{\"body\":", "{\"sig\":\"x\",\"body\":", 1),
            "duplicate_or_schema",
        ),
        (
            "members out of order",
            format!(
                "{{\"sig\":\"{}\",\"cosigs\":[],\"body\":{}}}",
                rec.sig().to_b64(),
                String::from_utf8(rec.body_bytes().to_vec()).unwrap()
            ),
            "not_canonical",
        ),
        ("floating-point number", good.replacen("\"seq\":0", "\"seq\":0.0", 1), "float"),
        ("uppercase hex hash", good.replacen("\"sha256\":\"0", "\"sha256\":\"A", 1), "schema"),
        ("body altered after signing", good.replacen("C30", "C35", 1), "bad_signature"),
    ];
    let mut out = Vec::new();
    for (description, envelope, expect) in cases {
        let err = SignedRecord::decode_verified(envelope.as_bytes()).expect_err(description);
        let kind = match &err {
            RecordError::Decode(DecodeError::UnknownVersion { .. }) => "unknown_version",
            RecordError::Decode(DecodeError::Canonical(canonical::CanonicalError::NotCanonical)) => {
                "not_canonical"
            }
            RecordError::Decode(DecodeError::Canonical(canonical::CanonicalError::Float(_))) => "float",
            RecordError::Decode(DecodeError::Canonical(canonical::CanonicalError::Schema(_))) => "schema",
            RecordError::Decode(DecodeError::Canonical(canonical::CanonicalError::DuplicateKey(_))) => {
                "duplicate_or_schema"
            }
            RecordError::Signature(_) => "bad_signature",
            other => panic!("{description}: unexpected {other:?}"),
        };
        assert!(
            expect == kind || (expect == "duplicate_or_schema" && kind == "schema"),
            "{description}: {kind}"
        );
        out.push(json!({"description": description, "envelope": envelope, "error": kind}));
    }
    // The clear message a person sees for a newer format.
    let v2 = good.replacen("\"seq\":0,\"v\":1", "\"seq\":0,\"v\":2", 1);
    let e = SignedRecord::from_bytes(v2.as_bytes()).unwrap_err();
    assert!(e.to_string().contains("version 2 is not supported"));
    assert!(e.message_zh().contains("不受支持"));
    check_or_write(
        "rejections.json",
        &json!({"description": "envelopes every implementation must refuse", "cases": out}),
    );
}

/// R13: the report QR's seal, byte for byte, so a third party's offline
/// checker (a court's, an archive's) can be written from this file alone.
#[test]
fn golden_report_seal() {
    use custody_core::model::Id;
    use custody_core::report_seal::{ReportSeal, SignedSeal, key_id};
    let server = SigningKey::from_seed(&[1; 32]).unwrap();
    let seal = ReportSeal {
        report: Hash::of(b"report record"),
        lab: Id::new("lab-yk-01").unwrap(),
        report_no: "YK-BG-2026-000123".into(),
        document: Hash::of(b"report document"),
        issued_ms: T0,
    };
    let signed = seal.clone().sign(&server).unwrap();
    let bytes = signed.to_bytes().unwrap();
    let signed_len = bytes.len() - 64;
    assert_eq!(
        SignedSeal::decode(&signed.encode().unwrap()).unwrap().verify(&[server.public()]).unwrap(),
        &seal
    );
    check_or_write(
        "report_seal.json",
        &json!({
            "description": "R13 report seal v1: version(1) key_id(8) report(32) document(32) issued_ms(i64 BE, 8) len+lab len+report_no, then Ed25519 over jzqy/report-seal/v1 || 0x00 || those bytes; text = RFC 4648 base32 without padding; QR = <base>/q/<text>",
            "server_seed_hex": hex::encode([1u8; 32]),
            "server_public_key": server.public().to_b64(),
            "key_id_hex": hex::encode(key_id(&server.public())),
            "seal": {
                "report": seal.report.to_hex(),
                "lab": seal.lab.as_str(),
                "report_no": seal.report_no,
                "document": seal.document.to_hex(),
                "issued_ms": seal.issued_ms,
            },
            "signed_bytes_hex": hex::encode(&bytes[..signed_len]),
            "signed_message_hex": hex::encode(Domain::ReportSeal.message(&bytes[..signed_len])),
            "seal_hex": hex::encode(&bytes),
            "text": signed.encode().unwrap(),
            "qr": signed.qr_text("https://jzqy.example.cn").unwrap(),
        }),
    );
}
