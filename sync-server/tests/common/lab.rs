//! A whole chain to a report (R10-R13) through the real server, for the
//! report tests and the report-check benchmark: sampled, witnessed,
//! commissioned, received, tested with a simulated machine's curve, reported.

use super::*;
use custody_core::curve::sim::{self, CubeParams};
use custody_core::curve::{FileStyle, to_file};
use custody_core::fixtures::{self, id};
use custody_core::protocol::{CosignRequest, RecordResult, RecordStatus};
use custody_core::record::{
    Measurement, MediaPurpose, Payload, ReceiptDecision, Report, SignedRecord, TestData, TestReview,
};
use custody_core::{Hash, routes};
use reqwest::Method;
use sync_server::demo;
use sync_server::testing::TestServer;

/// A concrete cube's machine file (R12), as a machine writes it: the
/// simulator's C30 cube of 150 mm, in the GBK export of a Chinese machine.
pub fn curve_file(serial: u32) -> Vec<u8> {
    let mut p = CubeParams::new(150.0, 30, u64::from(serial));
    p.labels.specimen = Some(fixtures::tag(serial).printed());
    to_file(&sim::cube(&p), FileStyle::GbkChinese)
}

/// One cube of a concrete group (R12, GB/T 50081): the simulator's C30
/// cube of 150 mm failing at `strength_mpa`, seeded by `seed`.
pub fn cube_file(serial: u32, strength_mpa: f64, seed: u64) -> Vec<u8> {
    let mut p = CubeParams::new(150.0, 30, seed);
    p.strength_mpa = strength_mpa;
    p.labels.specimen = Some(fixtures::tag(serial).printed());
    to_file(&sim::cube(&p), FileStyle::GbkChinese)
}

/// Test data of one cube with its curve file, reviewed and approved.
pub async fn cube_tested_and_reviewed(
    chain: &mut Chain,
    serial: u32,
    file: &[u8],
    results: Vec<Measurement>,
) -> SignedRecord {
    let t = TestData {
        tag: fixtures::tag(serial),
        receipt: chain.receipt.id(),
        test: "concrete_cube_strength".into(),
        standard: "GB/T 50081-2019".into(),
        results,
        curve: Some(Hash::of(file)),
        automatic: true,
        equipment: None,
        revises: None,
        reason: None,
    };
    let media = [(MediaPurpose::TestCurve, file)];
    let rec = chain.lab.field_record(Payload::TestData(t), 0.0, 0.0, &media);
    accepted(&mut chain.lab, &rec).await;
    upload_media(&chain.lab, &[(MediaPurpose::TestCurve, file.to_vec())]).await;
    let r = review(chain, &rec, true, "").await;
    assert_eq!(r.status, RecordStatus::Accepted, "{:?}", r.findings);
    rec
}

pub struct Chain {
    /// The lab's second person (demo::LAB_REVIEWER), who reviews the tests (R12).
    pub reviewer: Phone,
    pub sampler: Phone,
    pub witness: Phone,
    pub lab: Phone,
    pub commission: SignedRecord,
    pub receipt: SignedRecord,
}

pub async fn accepted(phone: &mut Phone, rec: &SignedRecord) {
    let r = phone.upload(&[rec]).await;
    assert_eq!(r.results[0].status, RecordStatus::Accepted, "{:?}", r.results[0].findings);
}

/// Sampled, witnessed, commissioned (co-signed) and received by the
/// commissioned lab, on three new phones.
pub async fn received(server: &TestServer, serial: u32) -> Chain {
    let sampler = enrolled(server, 2, demo::SAMPLER).await;
    let witness = enrolled(server, 3, demo::WITNESS).await;
    let lab = enrolled(server, 4, demo::LAB_RECEIVER).await;
    let mut reviewer = enrolled(server, 5, demo::LAB_REVIEWER).await;
    reviewer.sync_time().await;
    received_on(sampler, witness, lab, reviewer, serial).await
}

/// The same, for another specimen on the same phones.
pub async fn received_again(c: Chain, serial: u32) -> Chain {
    received_on(c.sampler, c.witness, c.lab, c.reviewer, serial).await
}

pub async fn received_on(
    mut sampler: Phone,
    mut witness: Phone,
    mut lab: Phone,
    reviewer: Phone,
    serial: u32,
) -> Chain {
    sampler.sync_time().await;
    witness.sync_time().await;
    lab.sync_time().await;
    let sm = media(serial, "sampler");
    let s = sampler.field_record(demo_sampling(serial), 50.0, 60.0, &as_refs(&sm));
    accepted(&mut sampler, &s).await;
    upload_media(&sampler, &sm).await;
    let wm = media(serial, "witness");
    let w = witness.field_record(demo_witnessing(&s), 52.0, 61.0, &as_refs(&wm));
    accepted(&mut witness, &w).await;
    upload_media(&witness, &wm).await;
    let body = sampler.dev.body(demo_commission(&[(&s, &w)]), vec![], vec![], sampler.now());
    let c = sampler.dev.sign(body);
    accepted(&mut sampler, &c).await;
    let mut cosigned = c.clone();
    cosigned.cosign(&witness.dev.key, id(demo::WITNESS));
    let cosig = cosigned.cosigs()[0].clone();
    let r = witness
        .signed(
            Method::POST,
            routes::COSIGNATURES,
            serde_json::to_vec(&CosignRequest { record: c.id(), cosig }).unwrap(),
        )
        .await;
    assert!(r.status().is_success());
    let body = lab.dev.body(
        fixtures::receipt(fixtures::tag(serial), c.id(), ReceiptDecision::Accepted),
        vec![],
        vec![],
        lab.now(),
    );
    let receipt = lab.dev.sign(body);
    accepted(&mut lab, &receipt).await;
    Chain { sampler, witness, lab, reviewer, commission: c, receipt }
}

/// The lab's test data for the chain's specimen, with its machine curve
/// (or without one).
pub async fn tested(chain: &mut Chain, serial: u32, with_curve: bool) -> SignedRecord {
    tested_reporting(chain, serial, with_curve, vec![]).await
}

pub async fn tested_reporting(
    chain: &mut Chain,
    serial: u32,
    with_curve: bool,
    results: Vec<Measurement>,
) -> SignedRecord {
    let curve = curve_file(serial);
    let media: Vec<(MediaPurpose, &[u8])> =
        if with_curve { vec![(MediaPurpose::TestCurve, curve.as_slice())] } else { vec![] };
    let t = TestData {
        tag: fixtures::tag(serial),
        receipt: chain.receipt.id(),
        test: "concrete_cube_strength".into(),
        standard: "GB/T 50081-2019".into(),
        results,
        curve: with_curve.then(|| Hash::of(&curve)),
        automatic: true,
        equipment: None,
        revises: None,
        reason: None,
    };
    let rec = chain.lab.field_record(Payload::TestData(t), 0.0, 0.0, &media);
    accepted(&mut chain.lab, &rec).await;
    upload_media(&chain.lab, &media.iter().map(|(p, b)| (*p, b.to_vec())).collect::<Vec<_>>()).await;
    rec
}

pub async fn report(
    chain: &mut Chain,
    serials: &[u32],
    no: &str,
    amends: Option<Hash>,
) -> (SignedRecord, Vec<u8>) {
    let pdf = format!("%PDF-1.7 report {no}").into_bytes();
    let r = Report {
        report_no: no.into(),
        tags: serials.iter().map(|s| fixtures::tag(*s)).collect(),
        conclusion: "所检项目符合 C30 要求".into(),
        document: Hash::of(&pdf),
        amends,
    };
    let rec = chain.lab.field_record(Payload::Report(r), 0.0, 0.0, &[(MediaPurpose::ReportDocument, &pdf)]);
    accepted(&mut chain.lab, &rec).await;
    upload_media(&chain.lab, &[(MediaPurpose::ReportDocument, pdf.clone())]).await;
    (rec, pdf)
}

pub async fn seal_of(phone: &Phone, report: &SignedRecord) -> reqwest::Response {
    phone.signed(Method::GET, &routes::lab_report_seal(&report.id()), vec![]).await
}

pub async fn check(server: &TestServer, seal: &str) -> (u16, String) {
    let r = reqwest::get(format!("{}{}", server.url, routes::public_report(seal))).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

pub async fn page(server: &TestServer, path: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", server.url))
        .header("accept", "text/html")
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// R12: the lab's second person reviews a test: approves it, or returns it.
pub async fn review(chain: &mut Chain, test: &SignedRecord, approved: bool, note: &str) -> RecordResult {
    let Payload::TestData(t) = &test.body().payload else { panic!("not test data") };
    let r = TestReview { test_data: test.id(), tag: t.tag.clone(), approved, note: note.into() };
    let rec = chain.reviewer.field_record(Payload::TestReviewed(r), 0.0, 0.0, &[]);
    chain.reviewer.upload(&[&rec]).await.results.remove(0)
}

/// Test data approved by the reviewer: what a report needs of each test.
pub async fn tested_and_reviewed(chain: &mut Chain, serial: u32) -> SignedRecord {
    let t = tested(chain, serial, true).await;
    let r = review(chain, &t, true, "").await;
    assert_eq!(r.status, RecordStatus::Accepted, "{:?}", r.findings);
    t
}
