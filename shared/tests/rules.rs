//! One test (at least) per requirement the shared core enforces, named by its ID.
//! They drive the reference verifier in `fixtures::World` through realistic
//! flows: anchors, uploads, a witness arriving on time or late.

use custody_core::Hash;
use custody_core::TagCode;
use custody_core::custody::{CustodyError, Stage};
use custody_core::fixtures::*;
use custody_core::model::PersonRole;
use custody_core::record::*;
use custody_core::time::{Undetermined, WindowVerdict};
use custody_core::verify::{Disposition, Lang, Missing, RevocationProblem, Violation};

/// Sampler samples tag `serial` at the current world time (anchored a minute
/// before), uploads 30 s later. Returns the sampling record.
fn sample(w: &mut World, s: &mut Device, serial: u32) -> SignedRecord {
    w.advance(-60_000);
    w.sync(s);
    w.advance(60_000);
    let rec = s.field_record(sampling(tag(serial)), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    w.advance(30_000);
    let v = w.submit(&rec);
    assert!(v.applies(), "sampling should apply: {:?}", v.violations);
    rec
}

/// Witness syncs `after_ms` after now, records 2 min later, uploads 1 min later.
fn witness_after(
    w: &mut World,
    wd: &mut Device,
    s: &SignedRecord,
    after_ms: i64,
) -> (SignedRecord, custody_core::verify::Verdict) {
    w.advance(after_ms);
    w.sync(wd);
    w.advance(2 * MIN);
    let rec = wd.field_record(witnessing(s), Hash::of(b"face"), site_point(52.0, 48.0), w.now);
    w.advance(MIN);
    let v = w.submit(&rec);
    (rec, v)
}

fn codes(v: &custody_core::verify::Verdict) -> Vec<String> {
    v.violations.iter().map(|x| x.code()).collect()
}

#[test]
fn r8_witness_within_20_minutes_is_proven_compliant() {
    let (mut w, mut s, mut wd, _) = World::yingkou();
    let rec = sample(&mut w, &mut s, 1);
    let (_, v) = witness_after(&mut w, &mut wd, &rec, 5 * MIN);
    assert!(v.applies(), "{:?}", v.violations);
    assert!(matches!(v.window, Some(WindowVerdict::Compliant { max_gap_ms }) if max_gap_ms <= 20 * MIN));
    assert!(!v.has(|x| x.disposition() >= Disposition::Flag), "{:?}", codes(&v));
    assert_eq!(w.tags[&tag(1)].state.stage, Stage::Witnessed);
}

#[test]
fn r8_late_witness_is_accepted_and_flagged() {
    let (mut w, mut s, mut wd, _) = World::yingkou();
    let rec = sample(&mut w, &mut s, 2);
    let (_, v) = witness_after(&mut w, &mut wd, &rec, 40 * MIN);
    assert!(v.applies(), "late witnessing keeps its evidence and custody effect");
    assert!(v.has(|x| matches!(x, Violation::LateWitness { min_gap_ms } if *min_gap_ms > 20 * MIN)));
    let late = v.violations.iter().find(|x| matches!(x, Violation::LateWitness { .. })).unwrap();
    assert_eq!(late.disposition(), Disposition::Flag);
    assert!(late.message(Lang::ZhCn).contains("见证超时"));
    assert_eq!(w.tags[&tag(2)].state.stage, Stage::Witnessed);
}

#[test]
fn r8_offline_devices_give_undetermined_timing_not_a_false_verdict() {
    let (mut w, mut s, mut wd, _) = World::yingkou();
    // Nobody has ever synced: no anchors anywhere.
    let rec = s.field_record(sampling(tag(3)), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    w.advance(MIN);
    assert!(w.submit(&rec).applies());
    w.advance(10 * MIN);
    let wrec = wd.field_record(witnessing(&rec), Hash::of(b"face"), site_point(50.0, 51.0), w.now);
    let v = w.submit(&wrec);
    assert!(matches!(
        v.window,
        Some(WindowVerdict::Undetermined { reason: Undetermined::SamplingUnanchored, .. })
    ));
    assert!(v.has(|x| matches!(x, Violation::TimingUndetermined { .. })));
    assert!(v.applies());
}

#[test]
fn r8_self_witnessing_is_refused() {
    let (mut w, mut s, _, _) = World::yingkou();
    let rec = sample(&mut w, &mut s, 4);
    let wrec = s.field_record(witnessing(&rec), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    let v = w.submit(&wrec);
    assert!(v.has(|x| *x == Violation::SelfWitness));
    assert!(v.has(|x| matches!(x, Violation::NotAuthorised { role: PersonRole::Witness, .. })));
    assert!(!v.applies() && v.storable());
}

#[test]
fn r8_witness_arriving_before_its_sampling_is_deferred() {
    let (mut w, mut s, mut wd, _) = World::yingkou();
    let rec = s.field_record(sampling(tag(5)), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    let wrec = wd.field_record(witnessing(&rec), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    let v = w.submit(&wrec);
    assert_eq!(v.worst(), Some(Disposition::Defer));
    assert!(v.has(|x| matches!(x, Violation::MissingReference { record } if *record == rec.id())));
}

#[test]
fn r8_clock_set_back_is_detected_through_anchors() {
    let (mut w, mut s, _, _) = World::yingkou();
    w.sync(&mut s);
    w.advance(5 * MIN);
    s.wall_offset_ms = -90 * MIN; // someone set the phone back an hour and a half
    let rec = s.field_record(sampling(tag(6)), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    let v = w.submit(&rec);
    assert!(
        v.has(|x| matches!(x, Violation::ClockSkew { skew_ms } if *skew_ms < -80 * MIN)),
        "{:?}",
        codes(&v)
    );
    // The trusted interval is not fooled by the wall clock.
    let t = v.time.unwrap();
    assert!(t.proven.contains(w.now) && t.proven.earliest_ms.unwrap() > rec.body().evidence.time.wall_ms);
}

#[test]
fn r9_witness_far_from_the_sampler_is_flagged() {
    let (mut w, mut s, mut wd, _) = World::yingkou();
    let rec = sample(&mut w, &mut s, 7);
    w.sync(&mut wd);
    // "Witnessing" from the site office 3 km away.
    let far = custody_core::place::LatLon::from_degrees(40.6920, 122.2350).unwrap();
    let wrec = wd.field_record(witnessing(&rec), Hash::of(b"face"), far, w.now);
    let v = w.submit(&wrec);
    assert!(v.has(|x| matches!(x, Violation::NotTogether { distance_m } if *distance_m > 2500)));
    assert!(v.has(|x| matches!(x, Violation::OutsideSite { .. })));
    assert!(v.applies(), "kept as evidence of the violation");
}

#[test]
fn r9_witness_holding_a_different_record_is_refused() {
    let (mut w, mut s, mut wd, _) = World::yingkou();
    let rec = sample(&mut w, &mut s, 8);
    let mut p = witnessing(&rec);
    if let Payload::Witnessing(x) = &mut p {
        x.sampling_sig = custody_core::Signature([7; 64]);
    }
    let wrec = wd.field_record(p, Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    let v = w.submit(&wrec);
    assert!(v.has(|x| *x == Violation::HandshakeMismatch));
    assert!(!v.applies());
}

#[test]
fn r9_mock_location_and_jumping_track_are_flagged() {
    let (mut w, mut s, _, _) = World::yingkou();
    w.sync(&mut s);
    let mono = s.mono(w.now);
    let mut f1 = gnss_fix(site_point(50.0, 50.0), 3.0, mono - 2000);
    f1.mock = true;
    let f2 = gnss_fix(site_point(5050.0, 50.0), 3.0, mono);
    let mut face = media(MediaPurpose::Face, "face");
    face.sha256 = Hash::of(b"face");
    let body = s.body(sampling(tag(9)), vec![face, media(MediaPurpose::Process, "p")], vec![f1, f2], w.now);
    let rec = s.sign(body);
    let v = w.submit(&rec);
    assert!(v.has(|x| *x == Violation::MockLocation));
    assert!(v.has(|x| matches!(x, Violation::ImplausibleTrack { .. })));
}

#[test]
fn r7_sampling_without_location_photos_or_face_is_refused() {
    let (mut w, mut s, _, _) = World::yingkou();
    let body = s.body(sampling(tag(10)), vec![], vec![], w.now);
    let rec = s.sign(body);
    let v = w.submit(&rec);
    for m in [Missing::FacePhoto, Missing::Location, Missing::ProcessPhoto] {
        assert!(v.has(|x| *x == Violation::MissingEvidence { what: m }), "{m:?}");
    }
    assert!(!v.applies() && v.storable());
    assert_eq!(w.tags[&tag(10)].state.stage, Stage::Unbound, "a refused record binds nothing");
}

#[test]
fn r7_poor_accuracy_is_flagged() {
    let (mut w, mut s, _, _) = World::yingkou();
    let mono = s.mono(w.now);
    let mut face = media(MediaPurpose::Face, "face");
    face.sha256 = Hash::of(b"face");
    let body = s.body(
        sampling(tag(11)),
        vec![face, media(MediaPurpose::Process, "p")],
        vec![gnss_fix(site_point(75.0, 100.0), 400.0, mono)],
        w.now,
    );
    let v = w.submit(&s.sign(body));
    assert!(v.has(|x| matches!(x, Violation::PoorAccuracy { accuracy_m: 400 })));
    assert!(v.has(|x| matches!(x, Violation::SiteUncertain { .. })));
}

#[test]
fn r1_unauthorised_or_revoked_people_are_refused() {
    let (mut w, mut s, _, _) = World::yingkou();
    w.grants.remove(&id("P-SAMPLER"));
    let rec = s.field_record(sampling(tag(12)), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    let v = w.submit(&rec);
    assert!(v.has(|x| matches!(x, Violation::NotAuthorised { role: PersonRole::Sampler, .. })));
    assert!(!v.applies());

    let (mut w, mut s, _, _) = World::yingkou();
    w.grants.get_mut(&id("P-SAMPLER")).unwrap()[0].revoked_at_ms = Some(T0 - MIN);
    w.sync(&mut s);
    let rec = s.field_record(sampling(tag(13)), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    let v = w.submit(&rec);
    assert!(v.has(|x| matches!(x, Violation::AuthorisationInvalidAtTime { .. })), "{:?}", codes(&v));
    assert!(v.violations.iter().any(|x| x.message(Lang::En).contains("revoked")));
}

#[test]
fn r1_face_mismatch_and_failed_liveness_are_flagged() {
    let (mut w, mut s, _, _) = World::yingkou();
    let mut p = sampling(tag(14));
    if let Payload::Sampling(x) = &mut p {
        x.face.score_milli = 310;
        x.face.matched = false;
        x.face.liveness = Some(Liveness { challenge: "blink".into(), passed: false, frames: 30 });
    }
    let rec = s.field_record(p, Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    let v = w.submit(&rec);
    assert!(v.has(|x| matches!(x, Violation::FaceMismatch { score_milli: 310, .. })));
    assert!(v.has(|x| *x == Violation::LivenessFailed));
}

#[test]
fn r1_sampler_must_belong_to_a_contractor() {
    let (mut w, mut s, _, _) = World::yingkou();
    w.devices.get_mut(&s.key.public()).unwrap().org_role = custody_core::model::OrgRole::Lab;
    let rec = s.field_record(sampling(tag(15)), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    assert!(w.submit(&rec).has(|x| matches!(x, Violation::OrgCannotHoldRole { .. })));
}

#[test]
fn r6_a_tag_binds_once_and_forever() {
    let (mut w, mut s, _, _) = World::yingkou();
    let first = sample(&mut w, &mut s, 16);
    let again = s.field_record(sampling(tag(16)), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    let v = w.submit(&again);
    assert!(v.has(|x| matches!(x, Violation::Custody { error: CustodyError::TagAlreadyBound { bound_by }, .. } if *bound_by == first.id())));
    assert!(!v.applies());
    let msg =
        v.violations.iter().find(|x| matches!(x, Violation::Custody { .. })).unwrap().message(Lang::ZhCn);
    assert!(msg.contains("不能重复使用"), "{msg}");
}

#[test]
fn r6_tag_from_another_project_is_refused() {
    let (mut w, mut s, _, _) = World::yingkou();
    w.tags.get_mut(&tag(17)).unwrap().batch.as_mut().unwrap().project = id("PRJ-OTHER");
    let rec = s.field_record(sampling(tag(17)), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    assert!(w.submit(&rec).has(|x| matches!(x, Violation::TagOtherProject { .. })));
}

#[test]
fn r6_unknown_unit_project_is_refused_and_manual_entry_noticed() {
    let (mut w, mut s, _, _) = World::yingkou();
    let mut p = sampling(tag(18));
    if let Payload::Sampling(x) = &mut p {
        x.unit_project = id("UP-9");
        x.tag_read.method = TagReadMethod::Manual;
    }
    let rec = s.field_record(p, Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    let v = w.submit(&rec);
    assert!(v.has(|x| matches!(x, Violation::UnknownUnitProject { .. })));
    assert!(v.has(|x| *x == Violation::ManualTagEntry));
}

#[test]
fn r16_unknown_tag_is_refused() {
    let (mut w, mut s, _, _) = World::yingkou();
    let stranger = custody_core::TagCode::from_parts(999, 26, 1, 5).unwrap();
    let rec = s.field_record(sampling(stranger.clone()), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    let v = w.submit(&rec);
    assert!(v.has(|x| *x == Violation::TagUnknown { tag: stranger.clone() }));
    assert_eq!(
        v.violations.iter().find(|x| matches!(x, Violation::TagUnknown { .. })).unwrap().rule(),
        custody_core::verify::Rule::R16
    );
}

#[test]
fn r17_sampling_outside_the_site_is_kept_and_flagged() {
    let (mut w, mut s, _, _) = World::yingkou();
    let rec = s.field_record(sampling(tag(19)), Hash::of(b"face"), site_point(-400.0, 50.0), w.now);
    let v = w.submit(&rec);
    assert!(
        v.has(|x| matches!(x, Violation::OutsideSite { distance_m } if (390..=410).contains(distance_m)))
    );
    assert!(v.applies());
}

/// Runs sampling -> witnessing -> commission (co-signed) for `serial`.
fn through_commission(
    w: &mut World,
    s: &mut Device,
    wd: &mut Device,
    serial: u32,
    cosign: bool,
) -> (SignedRecord, SignedRecord, SignedRecord) {
    let rec = sample(w, s, serial);
    let (wrec, v) = witness_after(w, wd, &rec, 3 * MIN);
    assert!(v.applies());
    w.sync(s);
    let body = s.body(commission(&[(&rec, &wrec)]), vec![], vec![], w.now);
    let mut c = s.sign(body);
    if cosign {
        c.cosign(&wd.key, id("P-WITNESS"));
    }
    let v = w.submit(&c);
    assert!(v.applies(), "{:?}", v.violations);
    assert_eq!(v.has(|x| *x == Violation::AwaitingWitnessCosignature), !cosign);
    (rec, wrec, c)
}

#[test]
fn r10_commission_requires_witnessing_and_a_witness_cosignature() {
    let (mut w, mut s, mut wd, _) = World::yingkou();
    // Before witnessing: out of order.
    let rec = sample(&mut w, &mut s, 20);
    let fake_witness = rec.clone();
    let body = s.body(commission(&[(&rec, &fake_witness)]), vec![], vec![], w.now);
    let c = s.sign(body);
    let v = w.submit(&c);
    assert!(
        v.has(|x| matches!(
            x,
            Violation::Custody { error: CustodyError::OutOfOrder { stage: Stage::Sampled, .. }, .. }
        )),
        "{:?}",
        v.violations
    );
    // Proper order, not yet co-signed: accepted with a notice.
    let (mut w, mut s, mut wd2, mut lab) = World::yingkou();
    let (_, _, c) = through_commission(&mut w, &mut s, &mut wd2, 21, false);
    let _ = &mut wd;
    // R10: the lab cannot receive the specimen as complete from that form:
    // refused, kept as evidence, custody unchanged …
    let body = lab.body(receipt(tag(21), c.id(), ReceiptDecision::Accepted), vec![], vec![], w.now);
    let v = w.submit(&lab.sign(body));
    assert!(v.has(|x| *x == Violation::ReceivedWithoutCosignature), "{:?}", v.violations);
    assert!(v.storable() && !v.applies());
    assert_eq!(w.tags[&tag(21)].state.stage, Stage::Commissioned);
    let refused = v.violations.iter().find(|x| **x == Violation::ReceivedWithoutCosignature).unwrap();
    assert!(refused.message(custody_core::verify::Lang::ZhCn).contains("会签"));
    assert!(refused.message(custody_core::verify::Lang::En).contains("co-signature"));
    // … and once the witness co-signs, the same lab receives it.
    w.attach_cosignature(c.id(), {
        let mut cc = c.clone();
        cc.cosign(&wd2.key, id("P-WITNESS"));
        cc.cosigs()[0].clone()
    });
    let body = lab.body(receipt(tag(21), c.id(), ReceiptDecision::Accepted), vec![], vec![], w.now);
    let v = w.submit(&lab.sign(body));
    assert!(v.applies(), "{:?}", v.violations);
    assert_eq!(w.tags[&tag(21)].state.stage, Stage::Received);
}

#[test]
fn r2_commission_to_a_lab_the_owner_did_not_commission_is_refused() {
    let (mut w, mut s, mut wd, _) = World::yingkou();
    w.lab_assignments.clear();
    let rec = sample(&mut w, &mut s, 22);
    let (wrec, _) = witness_after(&mut w, &mut wd, &rec, 3 * MIN);
    let body = s.body(commission(&[(&rec, &wrec)]), vec![], vec![], w.now);
    let v = w.submit(&s.sign(body));
    assert!(v.has(|x| matches!(x, Violation::LabNotCommissioned { .. })));
    assert!(!v.applies());
}

#[test]
fn r11_lab_receipt_checks_the_commission_and_rejected_specimens_are_never_tested() {
    let (mut w, mut s, mut wd, mut lab) = World::yingkou();
    let (_, _, c) = through_commission(&mut w, &mut s, &mut wd, 23, true);
    // A tag that is not on this commission form.
    let body = lab.body(receipt(tag(24), c.id(), ReceiptDecision::Accepted), vec![], vec![], w.now);
    let v = w.submit(&lab.sign(body));
    assert!(v.has(|x| matches!(x, Violation::TagNotOnCommission { .. })));
    // Rejection with a reason.
    let body = lab.body(
        receipt(
            tag(23),
            c.id(),
            ReceiptDecision::Rejected { reason: RejectReason::TagDamaged, note: "标识撕裂".into() },
        ),
        vec![],
        vec![],
        w.now,
    );
    let r = lab.sign(body);
    let v = w.submit(&r);
    assert!(v.applies(), "{:?}", v.violations);
    assert!(!v.has(|x| *x == Violation::AwaitingWitnessCosignature));
    assert_eq!(w.tags[&tag(23)].state.stage, Stage::Rejected);
    // Test data for a rejected specimen.
    let body = lab.body(
        test_data(tag(23), r.id(), true),
        vec![media(MediaPurpose::TestCurve, "curve")],
        vec![],
        w.now,
    );
    let v = w.submit(&lab.sign(body));
    assert!(v.has(|x| matches!(x, Violation::Custody { error: CustodyError::RejectedSpecimen { .. }, .. })));
}

fn test_data(t: custody_core::TagCode, receipt: Hash, automatic: bool) -> Payload {
    Payload::TestData(TestData {
        tag: t,
        receipt,
        test: "抗压强度".into(),
        standard: "GB/T 50081-2019".into(),
        results: vec![Measurement { name: "抗压强度".into(), value_milli: 35_200, unit: "MPa".into() }],
        curve: Some(Hash::of(b"curve")),
        automatic,
        equipment: None,
        revises: None,
        reason: None,
    })
}

#[test]
fn r11_r12_r13_full_trail_to_a_report() {
    let (mut w, mut s, mut wd, mut lab) = World::yingkou();
    let (_, _, c) = through_commission(&mut w, &mut s, &mut wd, 25, true);
    let body = lab.body(receipt(tag(25), c.id(), ReceiptDecision::Accepted), vec![], vec![], w.now);
    let r = lab.sign(body);
    assert!(w.submit(&r).applies());
    // R12: typed-in data for a mechanical test is flagged, still recorded.
    let body = lab.body(
        test_data(tag(25), r.id(), false),
        vec![media(MediaPurpose::TestCurve, "curve")],
        vec![],
        w.now,
    );
    let v = w.submit(&lab.sign(body));
    assert!(v.has(|x| *x == Violation::TestDataNotAutomatic) && v.applies());
    // R13: a report without its document is refused; with it, accepted.
    let report = |doc: Hash| {
        Payload::Report(Report {
            report_no: "BG-2026-0001".into(),
            tags: vec![tag(25)],
            conclusion: "符合 C30 要求".into(),
            document: doc,
            amends: None,
        })
    };
    let body = lab.body(report(Hash::of(b"pdf")), vec![], vec![], w.now);
    let v = w.submit(&lab.sign(body));
    assert!(v.has(|x| *x == Violation::MissingEvidence { what: Missing::ReportDocument }));
    let mut doc = media(MediaPurpose::ReportDocument, "pdf");
    doc.sha256 = Hash::of(b"pdf");
    let body = lab.body(report(Hash::of(b"pdf")), vec![doc], vec![], w.now);
    let rec = lab.sign(body);
    let v = w.submit(&rec);
    assert!(v.applies(), "{:?}", v.violations);
    assert_eq!(w.tags[&tag(25)].state.stage, Stage::Reported);
    // R13: a revocation names the report, its very tags and a reason; it
    // moves no custody (the specimens stay reported).
    let revoke = |report: Hash, tags: Vec<TagCode>, reason: &str| {
        Payload::ReportRevoked(ReportRevocation { report, tags, reason: reason.into() })
    };
    let problem = |what| move |x: &Violation| *x == Violation::RevocationInvalid { what };
    let body = lab.body(revoke(rec.id(), vec![tag(25)], " "), vec![], vec![], w.now);
    assert!(w.submit(&lab.sign(body)).has(problem(RevocationProblem::NoReason)));
    let body = lab.body(revoke(rec.id(), vec![tag(25), tag(26)], "录入错误"), vec![], vec![], w.now);
    assert!(w.submit(&lab.sign(body)).has(problem(RevocationProblem::TagsDiffer)));
    let body = lab.body(revoke(r.id(), vec![tag(25)], "录入错误"), vec![], vec![], w.now);
    assert!(w.submit(&lab.sign(body)).has(problem(RevocationProblem::NotAReport)));
    let body = lab.body(revoke(rec.id(), vec![tag(25)], "录入错误"), vec![], vec![], w.now);
    let v = w.submit(&lab.sign(body));
    assert!(v.applies() && v.violations.is_empty(), "{:?}", v.violations);
    assert_eq!(w.tags[&tag(25)].state.stage, Stage::Reported);
}

#[test]
fn integrity_forged_unknown_and_out_of_chain_records_are_rejected() {
    let (mut w, mut s, _, _) = World::yingkou();
    // Unknown device.
    let mut stranger = Device::new(9, "P-SAMPLER");
    let rec = stranger.field_record(sampling(tag(30)), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    assert!(w.submit(&rec).has(|x| *x == Violation::UnknownDevice));
    // Chain gap: the device skips a sequence number.
    s.seq = 3;
    s.prev = Some(Hash::of(b"x"));
    let rec = s.field_record(sampling(tag(31)), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    let v = w.submit(&rec);
    assert!(v.has(|x| matches!(x, Violation::Chain { .. })));
    assert!(!v.storable());
    // Admin facts from a field device.
    let (mut w, mut s, _, _) = World::yingkou();
    let body = s.body(Payload::TagBatchRegistered(batch()), vec![], vec![], w.now);
    assert!(w.submit(&s.sign(body)).has(|x| *x == Violation::AdminFactFromDevice));
}

#[test]
fn messages_exist_in_both_languages_for_every_finding() {
    let (mut w, mut s, _, _) = World::yingkou();
    let body = s.body(sampling(tag(40)), vec![], vec![], w.now);
    let v = w.submit(&s.sign(body));
    for x in &v.violations {
        let zh = x.message(Lang::ZhCn);
        let en = x.message(Lang::En);
        assert!(zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{zh}");
        assert!(en.is_ascii() || en.contains('±'), "{en}");
        assert!(!x.code().is_empty());
    }
}
