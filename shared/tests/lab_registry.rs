//! The lab registry (R3) through the reference verifier and as properties:
//! a test outside the lab's scope, by staff not qualified for the
//! parameter, or on equipment out of calibration is flagged with the rule it
//! breaks; a lab with no registry on file is told, not refused; a registry
//! that contradicts itself is refused as an admin fact.

use custody_core::Hash;
use custody_core::fixtures::*;
use custody_core::lab_registry::{
    self, CalibrationCertificate, DAY_MS, Known, LabRegistry, RegisteredEquipment, RegistryJudgement,
    RegistryProblem, RegistryVersion, ScopeEntry, StaffQualification, judge_test, registry_check,
};
use custody_core::model::OrgRole;
use custody_core::record::*;
use custody_core::verify::{self, Disposition, Rule, Violation};
use proptest::prelude::*;

const PARAM: &str = "concrete_cube_strength";

fn registry(calibrated_until: i64) -> LabRegistry {
    LabRegistry {
        lab: id("ORG-LAB"),
        scope: vec![ScopeEntry {
            parameter: PARAM.into(),
            certificate_no: "CMA-1".into(),
            valid_from_ms: T0 - 365 * DAY_MS,
            valid_until_ms: T0 + 365 * DAY_MS,
        }],
        equipment: vec![RegisteredEquipment {
            id: id("M-1"),
            machine: "YAW-2000".into(),
            range: "0–2000 kN".into(),
            certificates: vec![CalibrationCertificate {
                certificate_no: "JL-1".into(),
                valid_from_ms: T0 - 365 * DAY_MS,
                valid_until_ms: calibrated_until,
            }],
        }],
        staff: vec![StaffQualification {
            person: "P-LAB".into(),
            lab: "ORG-LAB".into(),
            parameter: PARAM.into(),
            valid_until_ms: None,
        }],
    }
}

/// A specimen sampled, witnessed, commissioned and received by the lab;
/// the receipt's id.
fn received(w: &mut World, s: &mut Device, wd: &mut Device, lab: &mut Device, serial: u32) -> Hash {
    w.advance(-60_000);
    w.sync(s);
    w.advance(60_000);
    let rec = s.field_record(sampling(tag(serial)), Hash::of(b"face"), site_point(50.0, 50.0), w.now);
    w.advance(30_000);
    assert!(w.submit(&rec).applies());
    w.sync(wd);
    w.advance(2 * MIN);
    let wrec = wd.field_record(witnessing(&rec), Hash::of(b"face"), site_point(52.0, 48.0), w.now);
    w.advance(MIN);
    assert!(w.submit(&wrec).applies());
    w.sync(s);
    let body = s.body(commission(&[(&rec, &wrec)]), vec![], vec![], w.now);
    let mut c = s.sign(body);
    c.cosign(&wd.key, id("P-WITNESS"));
    assert!(w.submit(&c).applies());
    w.sync(lab);
    let body = lab.body(receipt(tag(serial), c.id(), ReceiptDecision::Accepted), vec![], vec![], w.now);
    let r = lab.sign(body);
    let v = w.submit(&r);
    assert!(v.applies(), "{:?}", v.violations);
    r.id()
}

fn test_data(serial: u32, receipt: Hash, test: &str, equipment: Option<&str>) -> Payload {
    Payload::TestData(TestData {
        tag: tag(serial),
        receipt,
        test: test.into(),
        standard: "GB/T 50081-2019".into(),
        results: vec![Measurement { name: "f_cu".into(), value_milli: 35_200, unit: "MPa".into() }],
        curve: Some(Hash::of(b"curve")),
        automatic: true,
        equipment: equipment.map(id),
        revises: None,
        reason: None,
    })
}

/// The lab tests `serial` a minute after syncing; the verdict's R3 findings.
fn tested(w: &mut World, lab: &mut Device, payload: Payload) -> Vec<Violation> {
    w.sync(lab);
    w.advance(MIN);
    let body = lab.body(payload, vec![media(MediaPurpose::TestCurve, "curve")], vec![], w.now);
    let v = w.submit(&lab.sign(body));
    assert!(v.applies(), "a registry finding never blocks custody: {:?}", v.violations);
    v.violations.into_iter().filter(|x| x.rule() == Rule::R3).collect()
}

#[test]
fn r3_a_lab_without_a_registry_is_told_not_refused() {
    let (mut w, mut s, mut wd, mut lab) = World::yingkou();
    let r = received(&mut w, &mut s, &mut wd, &mut lab, 1);
    let found = tested(&mut w, &mut lab, test_data(1, r, PARAM, Some("M-1")));
    assert_eq!(found, vec![Violation::NoLabRegistry { lab: id("ORG-LAB") }]);
    assert_eq!(found[0].disposition(), Disposition::Notice);
}

#[test]
fn r3_tests_breaking_the_registry_are_flagged_with_the_rule_they_break() {
    let (mut w, mut s, mut wd, mut lab) = World::yingkou();
    // Calibrated until a day from now; approved a week ago.
    let version = RegistryVersion {
        record: Hash::of(b"registry"),
        effective_ms: w.now - 7 * DAY_MS,
        registry: registry(w.now + DAY_MS),
    };
    w.registries.insert(id("ORG-LAB"), vec![version]);
    let r = received(&mut w, &mut s, &mut wd, &mut lab, 1);
    assert_eq!(tested(&mut w, &mut lab, test_data(1, r, PARAM, Some("M-1"))), vec![]);

    let r = received(&mut w, &mut s, &mut wd, &mut lab, 2);
    let found = tested(&mut w, &mut lab, test_data(2, r, "rebar_tensile", Some("M-1")));
    assert_eq!(
        found,
        vec![
            Violation::RegistryBreach {
                problem: RegistryProblem::OutsideScope { parameter: "rebar_tensile".into() }
            },
            Violation::RegistryBreach {
                problem: RegistryProblem::StaffNotQualified {
                    person: "P-LAB".into(),
                    parameter: "rebar_tensile".into()
                }
            },
        ]
    );
    assert!(found.iter().all(|f| f.disposition() == Disposition::Flag && f.reported_to_regulators()));
    assert!(found[0].message(verify::Lang::ZhCn).contains("资质范围"));

    // Two days on, the machine's calibration has lapsed.
    w.advance(2 * DAY_MS);
    let r = received(&mut w, &mut s, &mut wd, &mut lab, 3);
    let found = tested(&mut w, &mut lab, test_data(3, r, PARAM, Some("M-1")));
    assert_eq!(
        found,
        vec![Violation::RegistryBreach {
            problem: RegistryProblem::EquipmentOutOfCalibration { equipment: "M-1".into() }
        }]
    );
    let r = received(&mut w, &mut s, &mut wd, &mut lab, 4);
    let found = tested(&mut w, &mut lab, test_data(4, r, PARAM, None));
    assert_eq!(found, vec![Violation::RegistryBreach { problem: RegistryProblem::EquipmentNotNamed }]);
}

#[test]
fn r3_a_registry_that_contradicts_itself_is_refused_as_an_admin_fact() {
    let (mut w, ..) = World::yingkou();
    let mut bad = registry(T0);
    bad.scope[0].valid_until_ms = bad.scope[0].valid_from_ms - 1;
    let change = |registry| {
        Payload::LabRegistryUpdated(LabRegistryChange {
            request: "REQ-1".into(),
            requested_by: id("P-LAB"),
            summary: "年度校准".into(),
            registry,
        })
    };
    let body = w.server.body(change(bad), vec![], vec![], w.now);
    let rec = w.server.sign(body);
    let v = w.submit(&rec);
    // The fixture world knows no directory: the lab and its person are
    // unknown too; the reversed validity is named among them.
    let Some(Violation::LabRegistryInvalid { errors }) =
        v.violations.iter().find(|x| matches!(x, Violation::LabRegistryInvalid { .. }))
    else {
        panic!("refused: {:?}", v.violations)
    };
    let codes: Vec<&str> = errors.iter().map(|e| e.code()).collect();
    assert_eq!(codes, ["unknown_lab", "validity_reversed", "unknown_person"]);
    assert!(!v.applies());
    assert_eq!(
        v.violations.iter().find(|x| x.rule() == Rule::R3).map(Violation::disposition),
        Some(Disposition::Refuse)
    );
}

/// Midnight in China, some day within a year or so of `T0` (08:00 there).
fn day_aligned() -> impl Strategy<Value = i64> {
    (-400i64..400).prop_map(|d| T0 - 8 * 3_600_000 + d * DAY_MS)
}

fn any_registry() -> impl Strategy<Value = LabRegistry> {
    let scope = proptest::collection::vec(
        (prop::sample::select(vec![PARAM, "rebar_tensile", "coupler_tensile"]), day_aligned(), 0i64..300),
        0..3,
    );
    let equipment = proptest::collection::vec((0u8..3, day_aligned(), 0i64..400), 0..4);
    let staff = proptest::collection::vec(
        (
            prop::sample::select(vec!["P-LAB", "P-LAB-2"]),
            prop::sample::select(vec![PARAM, "rebar_tensile"]),
            proptest::option::of(day_aligned()),
        ),
        0..4,
    );
    (scope, equipment, staff).prop_map(|(scope, equipment, staff)| {
        let mut r = LabRegistry::empty(id("ORG-LAB"));
        for (p, from, days) in scope {
            if r.scope.iter().all(|s| s.parameter != p) {
                r.scope.push(ScopeEntry {
                    parameter: p.into(),
                    certificate_no: format!("CMA-{days}"),
                    valid_from_ms: from,
                    valid_until_ms: from + days * DAY_MS + DAY_MS - 1,
                });
            }
        }
        for (n, from, days) in equipment {
            let cert = CalibrationCertificate {
                certificate_no: format!("JL-{days}"),
                valid_from_ms: from,
                valid_until_ms: from + days * DAY_MS + DAY_MS - 1,
            };
            let item = id(&format!("M-{n}"));
            match r.equipment.iter_mut().find(|e| e.id == item) {
                Some(e) => e.certificates.push(cert),
                None => r.equipment.push(RegisteredEquipment {
                    id: item,
                    machine: "YAW-2000".into(),
                    range: "0–2000 kN".into(),
                    certificates: vec![cert],
                }),
            }
        }
        for (person, parameter, until) in staff {
            if r.staff.iter().all(|q| q.person != person || q.parameter != parameter) {
                r.staff.push(StaffQualification {
                    person: person.into(),
                    lab: "ORG-LAB".into(),
                    parameter: parameter.into(),
                    valid_until_ms: until.map(|u| u + DAY_MS - 1),
                });
            }
        }
        r
    })
}

fn known() -> Known {
    Known {
        lab_role: Some(OrgRole::Lab),
        people: [("P-LAB".to_owned(), id("ORG-LAB")), ("P-LAB-2".to_owned(), id("ORG-LAB"))].into(),
    }
}

proptest! {
    /// R3: what the generator makes holds together, and the form reads
    /// back exactly what it wrote.
    #[test]
    fn r3_well_formed_registries_are_accepted_and_round_trip(r in any_registry()) {
        prop_assert_eq!(lab_registry::validate(&r, &known()), vec![]);
        let back = lab_registry::text::parse_text(&r.lab, &lab_registry::text::to_text(&r));
        prop_assert_eq!(back.as_ref(), Ok(&r));
        prop_assert_eq!(lab_registry::text::diff(Some(&r), &r), vec![]);
    }

    /// R3: turning any one validity round is always refused.
    #[test]
    fn r3_a_reversed_validity_is_always_refused(r in any_registry(), which in 0usize..8) {
        let mut r = r;
        let n = r.scope.len() + r.equipment.len();
        prop_assume!(n > 0);
        let which = which % n;
        if which < r.scope.len() {
            r.scope[which].valid_until_ms = r.scope[which].valid_from_ms - 1;
        } else {
            let c = &mut r.equipment[which - r.scope.len()].certificates[0];
            c.valid_until_ms = c.valid_from_ms - 1;
        }
        let errors = lab_registry::validate(&r, &known());
        prop_assert!(errors.iter().any(|e| e.code() == "validity_reversed"), "{:?}", errors);
    }

    /// R3: a decided problem holds at both ends of the interval; judged at
    /// one instant, nothing is uncertain and the answer is the check's.
    #[test]
    fn r3_certain_problems_hold_at_both_ends(
        a in any_registry(),
        b in any_registry(),
        approved in day_aligned(),
        lo in day_aligned(),
        span in 0i64..3 * DAY_MS,
        param in prop::sample::select(vec![PARAM, "rebar_tensile"]),
        person in prop::sample::select(vec!["P-LAB", "P-LAB-2", "P-X"]),
        machine in proptest::option::of(prop::sample::select(vec!["M-0", "M-1", "M-9"])),
    ) {
        let versions = [
            RegistryVersion { record: Hash::of(b"a"), effective_ms: approved, registry: a },
            RegistryVersion { record: Hash::of(b"b"), effective_ms: approved + 30 * DAY_MS, registry: b },
        ];
        let (tester, item) = (id(person), machine.map(id));
        let hi = lo + span;
        let at = |t: i64| lab_registry::in_force(&versions, t)
            .map(|v| registry_check(&v.registry, param, &tester, item.as_ref(), t));
        match judge_test(&versions, param, &tester, item.as_ref(), lo, hi) {
            RegistryJudgement::NoRegistry => prop_assert!(at(lo).is_none() && at(hi).is_none()),
            RegistryJudgement::Judged { certain, uncertain } => {
                for p in &certain {
                    prop_assert!(at(lo).is_some_and(|x| x.contains(p)) && at(hi).is_some_and(|x| x.contains(p)));
                }
                for p in &uncertain {
                    prop_assert!(!certain.contains(p));
                }
            }
        }
        if let RegistryJudgement::Judged { certain, uncertain } =
            judge_test(&versions, param, &tester, item.as_ref(), lo, lo)
        {
            prop_assert!(uncertain.is_empty());
            prop_assert_eq!(Some(certain), at(lo));
        }
    }

    /// R3: the warnings are exactly the entries ending within the window,
    /// and "expired" means ended.
    #[test]
    fn r3_warnings_are_exactly_what_ends_within_a_month(r in any_registry(), now in day_aligned()) {
        let month = lab_registry::EXPIRY_WARNING_DAYS * DAY_MS;
        for e in lab_registry::expiring(&r, now, month) {
            prop_assert!(e.until_ms - now < month);
            prop_assert_eq!(e.expired, e.until_ms < now);
        }
        // Every equipment item whose latest certificate ends within the
        // window is warned about.
        for item in &r.equipment {
            let end = item.certificates.iter().map(|c| c.valid_until_ms).max().unwrap();
            let warned = lab_registry::expiring(&r, now, month).iter().any(|e| matches!(
                &e.item,
                lab_registry::ExpiringItem::Equipment { equipment, .. } if equipment == item.id.as_str()
            ));
            prop_assert_eq!(warned, end - now < month);
        }
    }
}
