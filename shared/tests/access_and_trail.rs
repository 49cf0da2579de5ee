//! The rules added where hostile users got through (issue 17) and the
//! admin facts now judged in the pipeline (issue 12), named by requirement:
//! the directory's own rules (R1, R2, R15, R16), co-signatures (R1, R10),
//! the lab's verdict on a trail and its confirmations (R11), and who may
//! see what (`access`: R1, R2, R18, PIPL).

use custody_core::Hash;
use custody_core::access::{self, MediaReference, TrailScope, Viewer};
use custody_core::fixtures::*;
use custody_core::model::{OrgRole, Organisation, Person, PersonRole, Project, SpecimenKind};
use custody_core::protocol::RecordStatus;
use custody_core::record::*;
use custody_core::tag::SerialRange;
use custody_core::trail::{self, TrailEntry, TrailFacts};
use custody_core::verify::{self, DirectoryEntry, Disposition, Grant, Rule, Verdict, Violation};
use proptest::prelude::*;

fn org(i: &str, role: OrgRole) -> Organisation {
    Organisation { id: id(i), name: i.into(), role, credit_code: None, jurisdiction: None }
}

/// Verify an admin fact signed by the world's server key, with `dir` as the
/// directory it names.
fn admin_fact(w: &mut World, payload: Payload, dir: verify::DirectoryFacts) -> Verdict {
    let body = w.server.body(payload, vec![], vec![], w.now);
    let rec = w.server.sign(body);
    let mut ctx = w.context(&rec);
    ctx.chain_tail = None;
    ctx.directory = dir;
    let mut v = verify::verify(&rec, &ctx);
    v.violations.retain(|x| !matches!(x, Violation::Chain { .. }));
    v
}

fn grant(g: &str, role: PersonRole, project: Option<&str>) -> Grant {
    Grant {
        grant: id(g),
        role,
        project: project.map(id),
        valid_from_ms: T0 - 30 * 24 * 3_600_000,
        valid_until_ms: None,
        revoked_at_ms: None,
        face_reference: None,
    }
}

#[test]
fn r16_r15_a_batch_overlapping_another_or_from_an_unfiled_supplier_is_refused() {
    let (mut w, ..) = World::yingkou();
    let mut dir = verify::DirectoryFacts::default();
    dir.orgs.insert(id("ORG-TAG"), org("ORG-TAG", OrgRole::TagSupplier));
    dir.projects.insert(
        id("PRJ-1"),
        Project { id: id("PRJ-1"), name: "p".into(), owner: id("O"), jurisdiction: "210802".into() },
    );
    dir.batches = vec![batch()];
    let mut overlapping = batch();
    overlapping.ranges = vec![SerialRange { first: 900, last: 1100 }];
    let v = admin_fact(&mut w, Payload::TagBatchRegistered(overlapping.clone()), dir.clone());
    let overlap =
        v.violations.iter().find(|x| matches!(x, Violation::BatchOverlap { .. })).expect("overlap found");
    assert_eq!((overlap.rule(), overlap.disposition()), (Rule::R16, Disposition::Refuse));
    // The same batch clear of the registered serials is fine.
    let mut clear = overlapping.clone();
    clear.ranges = vec![SerialRange { first: 1001, last: 2000 }];
    assert_eq!(
        admin_fact(&mut w, Payload::TagBatchRegistered(clear.clone()), dir.clone()).violations,
        vec![]
    );
    // From an organisation that is not a filed tag supplier (R15).
    dir.orgs.insert(id("ORG-TAG"), org("ORG-TAG", OrgRole::Contractor));
    let v = admin_fact(&mut w, Payload::TagBatchRegistered(clear), dir);
    let wrong = v.violations.iter().find(|x| matches!(x, Violation::OrgWrongRole { .. })).expect("refused");
    assert_eq!(wrong.rule(), Rule::R15);
    // An empty batch says so in both languages.
    let mut empty = overlapping;
    empty.ranges.clear();
    let v = admin_fact(&mut w, Payload::TagBatchRegistered(empty), verify::DirectoryFacts::default());
    let e = v.violations.iter().find(|x| matches!(x, Violation::BatchInvalid { .. })).expect("empty refused");
    assert!(e.message(verify::Lang::ZhCn).contains("没有号段"));
}

#[test]
fn r2_a_second_lab_for_one_unit_project_and_category_is_refused() {
    let (mut w, ..) = World::yingkou();
    let mut dir = verify::DirectoryFacts::default();
    dir.orgs.insert(id("ORG-LAB2"), org("ORG-LAB2", OrgRole::Lab));
    let second = LabAssignment {
        project: id("PRJ-1"),
        unit_project: id("UP-1"),
        lab: id("ORG-LAB2"),
        kinds: vec![SpecimenKind::ALL[0]],
    };
    let v = admin_fact(&mut w, Payload::LabCommissioned(second.clone()), dir.clone());
    assert!(
        v.has(|x| matches!(x, Violation::LabAlreadyCommissioned { lab } if lab == &id("ORG-LAB"))),
        "{v:?}"
    );
    // Once the first lab no longer holds the category, the second may.
    w.lab_assignments.clear();
    assert_eq!(admin_fact(&mut w, Payload::LabCommissioned(second.clone()), dir).violations, vec![]);
    // A lab that is not registered as one.
    let v = admin_fact(&mut w, Payload::LabCommissioned(second), verify::DirectoryFacts::default());
    assert!(v.has(|x| matches!(x, Violation::OrgWrongRole { expected: OrgRole::Lab, .. })));
}

#[test]
fn r1_grants_only_to_roles_the_organisation_may_hold_and_per_project_outside_labs() {
    let (mut w, ..) = World::yingkou();
    let mut dir = verify::DirectoryFacts::default();
    dir.people.insert(id("P-X"), Person { id: id("P-X"), name: "某人".into(), org: id("ORG-CON") });
    dir.orgs.insert(id("ORG-CON"), org("ORG-CON", OrgRole::Contractor));
    let g = |role, project: Option<&str>| {
        Payload::AuthorisationGranted(AuthorisationGrant {
            grant: id("G-X"),
            person: id("P-X"),
            org: id("ORG-CON"),
            project: project.map(id),
            role,
            letter: Hash::of(b"letter"),
            real_name: RealNameCheck {
                method: "id_card+face".into(),
                verified_at_ms: T0,
                face_reference: None,
            },
            valid_from_ms: T0,
            valid_until_ms: None,
        })
    };
    let v = admin_fact(&mut w, g(PersonRole::Witness, None), dir.clone());
    assert!(v.has(|x| matches!(x, Violation::OrgCannotHoldRole { .. })));
    assert!(v.has(|x| *x == Violation::GrantWithoutProject));
    let v = admin_fact(&mut w, g(PersonRole::Sampler, Some("PRJ-9")), dir.clone());
    assert_eq!(
        v.violations,
        vec![Violation::DirectoryEntryMissing { entry: DirectoryEntry::Project, id: "PRJ-9".into() }]
    );
    dir.projects.insert(
        id("PRJ-1"),
        Project { id: id("PRJ-1"), name: "p".into(), owner: id("O"), jurisdiction: "210802".into() },
    );
    assert_eq!(admin_fact(&mut w, g(PersonRole::Sampler, Some("PRJ-1")), dir.clone()).violations, vec![]);
    dir.grants.insert(id("G-X"), grant("G-X", PersonRole::Sampler, Some("PRJ-1")));
    let v = admin_fact(&mut w, g(PersonRole::Sampler, Some("PRJ-1")), dir);
    assert!(v.has(|x| matches!(x, Violation::DirectoryIdTaken { entry: DirectoryEntry::Grant, .. })));
}

/// Sampling, witnessing and a commission, co-signed by the witness's device
/// as `author`, with `meanwhile` happening before the co-signature.
fn commission_cosigned_by(
    w: &mut World,
    s: &mut Device,
    wd: &mut Device,
    serial: u32,
    author: &str,
    meanwhile: impl FnOnce(&mut World),
) -> Verdict {
    w.advance(-60_000);
    w.sync(s);
    w.advance(60_000);
    let rec = s.field_record(sampling(tag(serial)), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    w.advance(30_000);
    assert!(w.submit(&rec).applies());
    w.sync(wd);
    w.advance(2 * MIN);
    let wrec = wd.field_record(witnessing(&rec), Hash::of(b"face"), site_point(52.0, 48.0), w.now);
    assert!(w.submit(&wrec).applies());
    w.sync(s);
    let body = s.body(commission(&[(&rec, &wrec)]), vec![], vec![], w.now);
    let mut c = s.sign(body);
    meanwhile(w);
    c.cosign(&wd.key, id(author));
    w.submit(&c)
}

#[test]
fn r1_r10_a_cosignature_counts_only_from_the_enrolled_witness_in_force() {
    // In the witness's own name, authorised: it counts.
    let (mut w, mut s, mut wd, _) = World::yingkou();
    let v = commission_cosigned_by(&mut w, &mut s, &mut wd, 1, "P-WITNESS", |_| {});
    assert!(!v.has(|x| *x == Violation::AwaitingWitnessCosignature), "{:?}", v.violations);
    // Claiming another person's name: not attributable, rejected.
    let (mut w, mut s, mut wd, _) = World::yingkou();
    let v = commission_cosigned_by(&mut w, &mut s, &mut wd, 2, "P-SAMPLER", |_| {});
    assert!(v.has(|x| *x == Violation::CosignatureMisattributed { index: 0 }));
    assert!(!v.storable());
    // A witness whose grant was revoked before co-signing: flagged, not counted.
    let (mut w, mut s, mut wd, _) = World::yingkou();
    let v = commission_cosigned_by(&mut w, &mut s, &mut wd, 3, "P-WITNESS", |w| {
        w.grants.get_mut(&id("P-WITNESS")).unwrap()[0].revoked_at_ms = Some(w.now - 1);
    });
    assert!(
        v.has(|x| matches!(x, Violation::CosignerNotAuthorised { person } if person == &id("P-WITNESS")))
    );
    assert!(v.has(|x| *x == Violation::AwaitingWitnessCosignature));
}

/// A trail entry for a record with the given findings.
fn entry(rec: SignedRecord, violations: Vec<Violation>) -> TrailEntry {
    TrailEntry {
        record: rec,
        status: RecordStatus::Accepted,
        verdict: Verdict {
            violations,
            time: None,
            window: None,
            site: None,
            co_presence: None,
            custody: vec![],
        },
        signatures_ok: true,
        logged: true,
        media_complete: true,
        face_recheck: None,
    }
}

#[test]
fn r11_every_flag_fails_the_lab_verdict_and_must_be_confirmed() {
    let (mut w, mut s, _, _) = World::yingkou();
    let rec = s.field_record(sampling(tag(9)), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    w.advance(MIN);
    let flags = [
        Violation::AuthorisationUncertain { grant: id("G-S") },
        Violation::MockLocation,
        Violation::ClockSkew { skew_ms: 3_600_000 },
        Violation::DeviceRevocationUncertain { effective_ms: T0 },
        Violation::TestDataNotAutomatic,
    ];
    for flag in flags {
        let facts = TrailFacts {
            registered: true,
            state: Default::default(),
            entries: vec![entry(rec.clone(), vec![flag.clone()])],
            equivocating_devices: vec![],
        };
        let j = trail::judge(&facts);
        assert!(!j.ok, "{} must fail the verdict", flag.code());
        assert!(j.to_confirm.iter().any(|f| f.code == flag.code()), "{} to confirm", flag.code());
        assert!(
            j.checks.iter().any(|c| !c.ok && c.message_en.contains(&flag.code())),
            "a failing check names {}",
            flag.code()
        );
    }
    // A notice needs no confirmation; an equivocating device fails the verdict.
    let facts = TrailFacts {
        registered: true,
        state: Default::default(),
        entries: vec![entry(rec.clone(), vec![Violation::ManualTagEntry])],
        equivocating_devices: vec!["ab12".into()],
    };
    let j = trail::judge(&facts);
    assert!(j.to_confirm.is_empty());
    assert!(j.checks.iter().any(|c| c.name == "no_equivocation" && !c.ok));
    // Confirmations: what is acknowledged is no longer outstanding.
    let found =
        vec![Violation::MockLocation, Violation::ManualTagEntry, Violation::LateWitness { min_gap_ms: 1 }];
    assert_eq!(trail::unconfirmed(&found, &[]), vec!["late_witness".to_owned(), "mock_location".to_owned()]);
    assert_eq!(trail::unconfirmed(&found, &["mock_location".into()]), vec!["late_witness".to_owned()]);
}

#[test]
fn r1_r7_r11_the_servers_face_recheck_decides_the_faces_check() {
    use custody_core::verify::face_recheck::{FaceAbsence, ServerFaceCheck, ServerFaceOutcome, claim_of};
    let (mut w, mut s, _, _) = World::yingkou();
    let rec = s.field_record(sampling(tag(9)), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    w.advance(MIN);
    let claim = claim_of(rec.body()).expect("a sampling has a face claim").clone();
    let judge = |recheck: Option<ServerFaceOutcome>| {
        let mut e = entry(rec.clone(), vec![]);
        e.face_recheck = recheck.map(|outcome| ServerFaceCheck {
            photo: claim.photo,
            reference: Hash::of(b"reference"),
            model: claim.model.clone(),
            outcome,
            checked_ms: T0,
        });
        let facts = TrailFacts {
            registered: true,
            state: Default::default(),
            entries: vec![e],
            equivocating_devices: vec![],
        };
        (trail::judge(&facts), trail::entry_findings(&facts.entries[0]))
    };
    let faces = |j: &trail::TrailJudgement| j.checks.iter().find(|c| c.name == "faces").unwrap().clone();
    // Not re-checked: the check passes on the phone's word and says so.
    let (j, _) = judge(None);
    assert!(faces(&j).ok && faces(&j).message_en.contains("not re-checked 1"), "{:?}", faces(&j));
    // Re-checked and agreeing: says the server checked.
    let agreeing = ServerFaceOutcome::Scored { score_milli: claim.score_milli, threshold_milli: 700 };
    let (j, _) = judge(Some(agreeing));
    assert!(faces(&j).ok && faces(&j).message_en.contains("re-checked by the server"), "{:?}", faces(&j));
    // A reference without a face: the server did not re-check, and does not claim to.
    let (j, _) = judge(Some(ServerFaceOutcome::ReferenceUnusable));
    assert!(faces(&j).ok && faces(&j).message_en.contains("not re-checked 1"), "{:?}", faces(&j));
    // No face in the uploaded photo, or a score the server contradicts:
    // the faces check fails, the finding is to confirm, and a receipt that
    // does not confirm it is left with it unconfirmed.
    for (outcome, code) in [
        (ServerFaceOutcome::NoFace { reason: FaceAbsence::NotAnImage }, "face_not_found"),
        (ServerFaceOutcome::Scored { score_milli: 550, threshold_milli: 700 }, "face_recheck_disagrees"),
    ] {
        let (j, found) = judge(Some(outcome));
        assert!(!j.ok && !faces(&j).ok && faces(&j).message_en.contains(code), "{:?}", faces(&j));
        assert!(j.to_confirm.iter().any(|f| f.code == code), "{code} to confirm");
        assert_eq!(trail::unconfirmed(&found, &[]), vec![code.to_owned()]);
    }
}

#[test]
fn r11_receiving_a_flagged_specimen_without_confirming_is_flagged() {
    let (mut w, mut s, mut wd, mut lab) = World::yingkou();
    let v = commission_cosigned_by(&mut w, &mut s, &mut wd, 4, "P-WITNESS", |_| {});
    assert!(v.applies());
    let c =
        w.records.values().find(|r| r.record.body().kind() == RecordKind::Commission).unwrap().record.clone();
    w.findings.entry(tag(4)).or_default().push(Violation::MockLocation);
    let mut make = |ack: Vec<String>| {
        let Payload::LabReceipt(mut r) = receipt(tag(4), c.id(), ReceiptDecision::Accepted) else {
            unreachable!()
        };
        r.acknowledged = ack;
        let body = lab.body(Payload::LabReceipt(r), vec![], vec![], w.now);
        let rec = lab.sign(body);
        let ctx = w.context(&rec);
        lab.seq -= 1;
        lab.prev = ctx.chain_tail.map(|t| t.id);
        verify::verify(&rec, &ctx)
    };
    let v = make(vec![]);
    let f = v
        .violations
        .iter()
        .find(|x| matches!(x, Violation::UnconfirmedTrailFindings { .. }))
        .expect("flagged");
    assert_eq!((f.rule(), f.disposition()), (Rule::R11, Disposition::Flag));
    assert!(
        !make(vec!["mock_location".into()]).has(|x| matches!(x, Violation::UnconfirmedTrailFindings { .. }))
    );
}

fn viewer(role: OrgRole, grants: Vec<Grant>) -> Viewer {
    Viewer {
        is_admin: false,
        person: id("P-V"),
        org: id("ORG-V"),
        org_role: role,
        jurisdiction: None,
        grants,
        lab_assignments: vec![LabAssignment {
            project: id("PRJ-1"),
            unit_project: id("UP-1"),
            lab: id("ORG-V"),
            kinds: vec![SpecimenKind::ALL[0]],
        }],
    }
}

#[test]
fn r1_a_revoked_grant_opens_nothing() {
    let mut g = grant("G-S", PersonRole::Sampler, Some("PRJ-1"));
    let v = viewer(OrgRole::Contractor, vec![g.clone()]);
    assert_eq!(v.projects(T0), vec![id("PRJ-1")]);
    assert_eq!(v.feed_audiences(T0), vec!["org:ORG-V".to_owned(), "project:PRJ-1".to_owned()]);
    g.revoked_at_ms = Some(T0 - 1);
    let v = viewer(OrgRole::Contractor, vec![g]);
    assert!(v.projects(T0).is_empty());
    assert!(v.feed_audiences(T0).is_empty());
    // Lab staff see their lab's commissioned projects only while a lab grant is in force.
    let mut lg = grant("G-L", PersonRole::LabReceiver, None);
    assert_eq!(viewer(OrgRole::Lab, vec![lg.clone()]).projects(T0), vec![id("PRJ-1")]);
    lg.valid_until_ms = Some(T0 - 1);
    assert!(viewer(OrgRole::Lab, vec![lg]).projects(T0).is_empty());
}

fn reference(
    log_index: u64,
    status: RecordStatus,
    project: &str,
    purpose: MediaPurpose,
    ty: &str,
) -> MediaReference {
    MediaReference {
        log_index,
        status,
        project: Some(id(project)),
        jurisdiction: Some("210802".into()),
        purpose,
        media_type: ty.into(),
        author: id("P-SAMPLER"),
    }
}

#[test]
fn r9_media_belongs_to_its_first_accepted_record_and_faces_stay_with_their_person() {
    let sha = Hash::of(b"photo");
    let member = viewer(OrgRole::Contractor, vec![grant("G-S", PersonRole::Sampler, Some("PRJ-1"))]);
    let process = reference(5, RecordStatus::Accepted, "PRJ-1", MediaPurpose::Process, "image/jpeg");
    assert_eq!(access::media(&member, T0, &sha, std::slice::from_ref(&process)), Ok("image/jpeg"));
    // Re-listed later as a face by someone else: still the process photo it was.
    let relisted = reference(9, RecordStatus::Accepted, "PRJ-1", MediaPurpose::Face, "text/html");
    assert_eq!(access::media(&member, T0, &sha, &[relisted.clone(), process.clone()]), Ok("image/jpeg"));
    // A refused record from another jurisdiction naming the hash opens nothing.
    let outsider = viewer(OrgRole::Contractor, vec![grant("G-O", PersonRole::Sampler, Some("PRJ-OTHER"))]);
    let refused = reference(7, RecordStatus::Refused, "PRJ-OTHER", MediaPurpose::Process, "image/jpeg");
    assert!(access::media(&outsider, T0, &sha, &[process.clone(), refused]).is_err());
    // A face photo goes to no project member; a person's own reference goes to them.
    let face = reference(3, RecordStatus::Accepted, "PRJ-1", MediaPurpose::Face, "image/jpeg");
    assert!(access::media(&member, T0, &sha, std::slice::from_ref(&face)).is_err());
    let mut own = grant("G-S", PersonRole::Sampler, Some("PRJ-1"));
    own.face_reference = Some(sha);
    assert!(
        access::media(&viewer(OrgRole::Contractor, vec![own]), T0, &sha, std::slice::from_ref(&face)).is_ok()
    );
    // R18: the regulator whose jurisdiction holds the project sees its
    // process photos (never a face); another district's does not.
    let inspector = |code: &str| Viewer {
        jurisdiction: Some(code.into()),
        ..viewer(OrgRole::Regulator, vec![grant("G-I", PersonRole::Inspector, None)])
    };
    assert_eq!(
        access::media(&inspector("210800"), T0, &sha, std::slice::from_ref(&process)),
        Ok("image/jpeg")
    );
    assert!(access::media(&inspector("210804"), T0, &sha, std::slice::from_ref(&process)).is_err());
    assert!(access::media(&inspector("210800"), T0, &sha, &[face]).is_err());
}

#[test]
fn r18_regulators_read_trails_of_their_jurisdiction_only_and_labs_only_when_commissioned() {
    let scope = TrailScope {
        project: Some(id("PRJ-1")),
        jurisdiction: Some("210802".into()),
        sampled: Some((id("UP-1"), SpecimenKind::ALL[0])),
        lab_assignments: vec![LabAssignment {
            project: id("PRJ-1"),
            unit_project: id("UP-1"),
            lab: id("ORG-V"),
            kinds: vec![SpecimenKind::ALL[0]],
        }],
        commission_labs: vec![],
    };
    let regulator = |code: &str| Viewer {
        jurisdiction: Some(code.into()),
        ..viewer(OrgRole::Regulator, vec![grant("G-I", PersonRole::Inspector, None)])
    };
    assert!(access::trail(&regulator("210800"), T0, &scope).is_ok(), "the city sees its district");
    assert!(access::trail(&regulator("210000"), T0, &scope).is_ok(), "the province sees its city");
    assert!(access::trail(&regulator("211002"), T0, &scope).is_err(), "another city does not");
    assert!(access::trail(&regulator(""), T0, &scope).is_err(), "no code covers nothing");
    assert!(access::trail(&regulator("00"), T0, &scope).is_err(), "a malformed code covers nothing");
    let lab = viewer(OrgRole::Lab, vec![grant("G-L", PersonRole::LabReceiver, None)]);
    assert!(access::trail(&lab, T0, &scope).is_ok());
    let other_lab = Viewer { org: id("ORG-OTHER"), ..lab.clone() };
    assert_eq!(access::trail(&other_lab, T0, &scope).unwrap_err().code, "lab_not_commissioned");
    let contractor = viewer(OrgRole::Contractor, vec![grant("G-S", PersonRole::Sampler, Some("PRJ-1"))]);
    assert!(access::trail(&contractor, T0, &scope).is_err());
    // Records of another project using the tag are counted, not shown.
    assert!(!access::trail_record_shown(&scope, Some(&id("PRJ-2"))));
    assert!(access::trail_record_shown(&scope, Some(&id("PRJ-1"))));
}

#[test]
fn r10_only_the_forms_witness_cosigns_in_their_own_name_while_authorised() {
    let Payload::Commission(c) = commission(&[]) else { unreachable!() };
    let payload = Payload::Commission(c);
    let w = Viewer {
        person: id("P-WITNESS"),
        ..viewer(OrgRole::Supervisor, vec![grant("G-W", PersonRole::Witness, Some("PRJ-1"))])
    };
    assert!(access::cosign(&w, T0, &payload, &id("P-WITNESS")).is_ok());
    assert_eq!(access::cosign(&w, T0, &payload, &id("P-OTHER")).unwrap_err().code, "cosign_not_yours");
    let stranger = Viewer { person: id("P-OTHER"), ..w.clone() };
    assert_eq!(
        access::cosign(&stranger, T0, &payload, &id("P-OTHER")).unwrap_err().code,
        "cosign_not_witness"
    );
    let mut revoked = w.clone();
    revoked.grants[0].revoked_at_ms = Some(T0 - 1);
    assert_eq!(access::cosign(&revoked, T0, &payload, &id("P-WITNESS")).unwrap_err().code, "not_authorised");
    assert!(access::cosign(&w, T0, &sampling(tag(1)), &id("P-WITNESS")).is_err());
}

proptest! {
    /// Whatever a record declares, the server serves an allowlisted type
    /// with no parameters, control characters or markup.
    #[test]
    fn served_media_types_are_always_allowlisted(declared in ".{0,40}") {
        let t = access::served_media_type(&declared);
        prop_assert!(t.bytes().all(|b| b.is_ascii_graphic()));
        prop_assert!(t != "text/html" && !t.contains(';'));
    }

    /// A media file whose capture is a face photo is never served to a
    /// project member, whatever other records name it.
    #[test]
    fn faces_never_reach_project_members(
        later in proptest::collection::vec((1u64..100, 0usize..3, any::<bool>()), 0..6),
    ) {
        let purposes = [MediaPurpose::Process, MediaPurpose::Face, MediaPurpose::Tag];
        let mut refs = vec![reference(0, RecordStatus::Accepted, "PRJ-1", MediaPurpose::Face, "image/jpeg")];
        for (i, p, accepted) in later {
            let status = if accepted { RecordStatus::Accepted } else { RecordStatus::Refused };
            refs.push(reference(i, status, "PRJ-1", purposes[p], "image/jpeg"));
        }
        let member = viewer(OrgRole::Supervisor, vec![grant("G-W", PersonRole::Witness, Some("PRJ-1"))]);
        prop_assert!(access::media(&member, T0, &Hash::of(b"f"), &refs).is_err());
    }
}

fn scope(project: &str, owner: &str, jurisdiction: &str) -> access::ProjectScope {
    access::ProjectScope {
        project: id(project),
        owner: id(owner),
        jurisdiction: jurisdiction.into(),
        participants: vec![id("ORG-CON")],
        labs: vec![id("ORG-LAB")],
        suppliers: vec![id("ORG-TAG")],
    }
}

#[test]
fn r18_the_console_shows_each_party_its_own_projects_and_regulators_their_jurisdiction() {
    let zhanqian = scope("PRJ-ZQ", "ORG-OWN", "210802");
    let bayuquan = scope("PRJ-BYQ", "ORG-OWN2", "210804");
    let dalian = scope("PRJ-DL", "ORG-OWN3", "210202");
    let all = [zhanqian.clone(), bayuquan.clone(), dalian.clone()];
    let names = |v: &Viewer| -> Vec<String> {
        access::console_projects(v, T0, &all).iter().map(|s| s.project.to_string()).collect()
    };
    let inspector = |code: &str| Viewer {
        org: id("ORG-REG"),
        jurisdiction: Some(code.into()),
        ..viewer(OrgRole::Regulator, vec![grant("G-I", PersonRole::Inspector, None)])
    };
    assert_eq!(names(&inspector("210000")), ["PRJ-ZQ", "PRJ-BYQ", "PRJ-DL"], "the province sees its cities");
    assert_eq!(names(&inspector("210800")), ["PRJ-ZQ", "PRJ-BYQ"], "the city sees its counties");
    assert_eq!(names(&inspector("210802")), ["PRJ-ZQ"], "a county sees itself");
    let no_grant = Viewer { jurisdiction: Some("210800".into()), ..viewer(OrgRole::Regulator, vec![]) };
    assert!(names(&no_grant).is_empty(), "no inspector authorisation, nothing");
    let owner = Viewer { org: id("ORG-OWN"), ..viewer(OrgRole::Owner, vec![]) };
    assert_eq!(names(&owner), ["PRJ-ZQ"]);
    for (role, org) in
        [(OrgRole::Contractor, "ORG-CON"), (OrgRole::Lab, "ORG-LAB"), (OrgRole::TagSupplier, "ORG-TAG")]
    {
        let v = Viewer { org: id(org), ..viewer(role, vec![]) };
        assert_eq!(names(&v).len(), 3, "{role:?} sees the projects it works on");
        let stranger = Viewer { org: id("ORG-NONE"), ..viewer(role, vec![]) };
        assert!(names(&stranger).is_empty(), "{role:?} sees no other project");
    }
    let admin = Viewer { is_admin: true, ..viewer(OrgRole::Operator, vec![]) };
    assert_eq!(names(&admin).len(), 3);
    assert!(access::administer(&admin).is_ok() && access::administer(&owner).is_err());
    // Face photos: the person and admins only.
    assert!(access::face_photo(&admin, &id("P-X")).is_ok());
    assert!(access::face_photo(&owner, &id("P-V")).is_ok(), "one's own face");
    assert_eq!(access::face_photo(&inspector("210000"), &id("P-X")).unwrap_err().code, "face_forbidden");
}

#[test]
fn r9_r1_console_files_faces_to_their_person_and_letters_to_admins() {
    let admin = Viewer { is_admin: true, ..viewer(OrgRole::Operator, vec![]) };
    let regulator = Viewer {
        jurisdiction: Some("210802".into()),
        ..viewer(OrgRole::Regulator, vec![grant("G-I", PersonRole::Inspector, None)])
    };
    let contractor = viewer(OrgRole::Contractor, vec![grant("G-S", PersonRole::Sampler, Some("PRJ-1"))]);
    let sampler = Viewer { person: id("P-SAMPLER"), ..contractor.clone() };
    let at = |purpose| reference(3, RecordStatus::Accepted, "PRJ-1", purpose, "image/jpeg");
    let process = [at(MediaPurpose::Process)];
    // A process photo: whoever sees the project.
    assert_eq!(access::console_media(&contractor, &process, true), Ok("image/jpeg"));
    assert_eq!(access::console_media(&contractor, &process, false).unwrap_err().code, "media_forbidden");
    // A face: its person and admins, whoever else sees the project.
    let face = [at(MediaPurpose::Face)];
    assert!(access::console_media(&sampler, &face, true).is_ok());
    assert!(access::console_media(&admin, &face, false).is_ok());
    for v in [&contractor, &regulator] {
        assert_eq!(access::console_media(v, &face, true).unwrap_err().code, "face_forbidden");
    }
    // A letter of authorisation, with a project or none: administrators only.
    for project in [true, false] {
        let mut letter = at(MediaPurpose::Letter);
        if !project {
            letter.project = None;
        }
        assert!(access::console_media(&admin, std::slice::from_ref(&letter), false).is_ok());
        for v in [&regulator, &contractor, &sampler] {
            assert!(access::console_media(v, std::slice::from_ref(&letter), true).is_err());
        }
    }
    // Named by no accepted record: nobody.
    let refused = [reference(3, RecordStatus::Refused, "PRJ-1", MediaPurpose::Process, "image/jpeg")];
    assert!(access::console_media(&admin, &refused, true).is_err());
}
