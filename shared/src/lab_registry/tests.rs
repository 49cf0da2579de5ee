use super::*;
use crate::verify::Lang;

const T0: i64 = 1_790_000_000_000;
const PARAM: &str = "concrete_cube_strength";

fn id(s: &str) -> Id {
    Id::new(s).unwrap()
}

fn registry() -> LabRegistry {
    LabRegistry {
        lab: id("ORG-LAB"),
        scope: vec![ScopeEntry {
            parameter: PARAM.into(),
            certificate_no: "CMA-2024-001".into(),
            valid_from_ms: T0 - 100 * DAY_MS,
            valid_until_ms: T0 + 100 * DAY_MS,
        }],
        equipment: vec![RegisteredEquipment {
            id: id("WAW-1000B-01"),
            machine: "WAW-1000B 微机控制万能试验机".into(),
            range: "0–1000 kN".into(),
            certificates: vec![CalibrationCertificate {
                certificate_no: "JL-2025-118".into(),
                valid_from_ms: T0 - 300 * DAY_MS,
                valid_until_ms: T0 + 60 * DAY_MS,
            }],
        }],
        staff: vec![StaffQualification {
            person: "P-LAB".into(),
            lab: "ORG-LAB".into(),
            parameter: PARAM.into(),
            valid_until_ms: Some(T0 + 200 * DAY_MS),
        }],
    }
}

fn known() -> Known {
    Known { lab_role: Some(OrgRole::Lab), people: [("P-LAB".to_owned(), id("ORG-LAB"))].into() }
}

fn codes(e: &[RegistryError]) -> Vec<&'static str> {
    e.iter().map(RegistryError::code).collect()
}

#[test]
fn r3_a_registry_that_holds_together_is_accepted() {
    assert_eq!(validate(&registry(), &known()), vec![]);
    assert_eq!(validate(&LabRegistry::empty(id("ORG-LAB")), &known()), vec![]);
}

#[test]
fn r3_each_contradiction_is_refused_naming_its_rule() {
    let mut r = registry();
    r.scope[0].valid_until_ms = r.scope[0].valid_from_ms - 1;
    assert_eq!(codes(&validate(&r, &known())), ["validity_reversed"]);

    let mut r = registry();
    r.equipment[0].certificates[0].valid_until_ms = r.equipment[0].certificates[0].valid_from_ms - 1;
    assert_eq!(codes(&validate(&r, &known())), ["validity_reversed"]);

    let mut r = registry();
    r.scope[0].parameter = "  ".into();
    r.staff[0].parameter = String::new();
    assert_eq!(codes(&validate(&r, &known())), ["empty", "empty"]);

    let mut r = registry();
    r.equipment.push(r.equipment[0].clone());
    r.scope.push(r.scope[0].clone());
    r.staff.push(r.staff[0].clone());
    assert_eq!(codes(&validate(&r, &known())), ["duplicate", "duplicate", "duplicate"]);

    let mut r = registry();
    r.equipment[0].certificates.clear();
    r.equipment[0].range = String::new();
    assert_eq!(codes(&validate(&r, &known())), ["empty", "no_certificate"]);

    let mut r = registry();
    r.staff[0].lab = "ORG-LAB-2".into();
    r.staff.push(StaffQualification { person: "P-NOBODY".into(), ..registry().staff[0].clone() });
    r.staff.push(StaffQualification {
        person: "P-NOBODY".into(),
        parameter: "rebar_tensile".into(),
        ..registry().staff[0].clone()
    });
    let mut k = known();
    k.people.insert("P-OTHER".into(), id("ORG-CON"));
    r.staff.push(StaffQualification { person: "P-OTHER".into(), ..registry().staff[0].clone() });
    // One unknown person is named once, however many entries they have.
    assert_eq!(codes(&validate(&r, &k)), ["other_lab", "unknown_person", "person_of_other_org"]);

    assert_eq!(codes(&validate(&registry(), &Known::default())), ["unknown_lab", "unknown_person"]);
    let contractor = Known { lab_role: Some(OrgRole::Contractor), ..known() };
    assert_eq!(codes(&validate(&registry(), &contractor)), ["not_a_lab"]);

    let mut r = registry();
    r.scope = vec![r.scope[0].clone(); MAX_ENTRIES + 1];
    assert_eq!(codes(&validate(&r, &known())), ["too_many"]);
}

#[test]
fn r3_every_refusal_reads_in_both_languages_with_its_rule() {
    let mut r = registry();
    r.scope[0].valid_until_ms = 0;
    r.scope[0].certificate_no = String::new();
    r.equipment.push(RegisteredEquipment { certificates: vec![], ..r.equipment[0].clone() });
    r.staff[0].lab = "X".into();
    let errors = validate(&r, &Known::default());
    assert!(errors.len() >= 5, "{errors:?}");
    for e in errors {
        let (zh, en) = (e.message(Lang::ZhCn), e.message(Lang::En));
        assert!(zh.contains("R3") && en.contains("R3"), "{zh} / {en}");
        assert_ne!(zh, en);
    }
}

#[test]
fn r3_a_test_within_the_registry_has_no_problem() {
    let r = registry();
    assert_eq!(registry_check(&r, PARAM, &id("P-LAB"), Some(&id("WAW-1000B-01")), T0), vec![]);
}

#[test]
fn r3_a_test_outside_scope_by_unqualified_staff_on_lapsed_equipment_names_each_rule() {
    let r = registry();
    let machine = id("WAW-1000B-01");
    assert_eq!(
        registry_check(&r, "rebar_tensile", &id("P-LAB"), Some(&machine), T0),
        vec![
            RegistryProblem::OutsideScope { parameter: "rebar_tensile".into() },
            RegistryProblem::StaffNotQualified { person: "P-LAB".into(), parameter: "rebar_tensile".into() },
        ]
    );
    assert_eq!(
        registry_check(&r, PARAM, &id("P-OTHER"), Some(&machine), T0),
        vec![RegistryProblem::StaffNotQualified { person: "P-OTHER".into(), parameter: PARAM.into() }]
    );
    // 61 days on: the calibration has lapsed, scope and staff still hold.
    let later = T0 + 61 * DAY_MS;
    assert_eq!(
        registry_check(&r, PARAM, &id("P-LAB"), Some(&machine), later),
        vec![RegistryProblem::EquipmentOutOfCalibration { equipment: machine.to_string() }]
    );
    // 101 days on: the lab's certificate for the parameter too.
    assert_eq!(
        registry_check(&r, PARAM, &id("P-LAB"), Some(&machine), T0 + 101 * DAY_MS),
        vec![
            RegistryProblem::ScopeNotValid { parameter: PARAM.into(), certificate_no: "CMA-2024-001".into() },
            RegistryProblem::EquipmentOutOfCalibration { equipment: machine.to_string() },
        ]
    );
    // 201 days on: and the tester's qualification.
    assert!(registry_check(&r, PARAM, &id("P-LAB"), Some(&machine), T0 + 201 * DAY_MS).contains(
        &RegistryProblem::StaffQualificationLapsed { person: "P-LAB".into(), parameter: PARAM.into() }
    ));
    assert_eq!(registry_check(&r, PARAM, &id("P-LAB"), None, T0), vec![RegistryProblem::EquipmentNotNamed]);
    assert_eq!(
        registry_check(&r, PARAM, &id("P-LAB"), Some(&id("OTHER-MACHINE")), T0),
        vec![RegistryProblem::EquipmentUnknown { equipment: "OTHER-MACHINE".into() }]
    );
    // Each reads in both languages and names R3.
    for p in registry_check(&r, "x", &id("P-X"), Some(&id("Y")), T0 + 1_000 * DAY_MS) {
        assert!(p.message(Lang::ZhCn).contains("R3") && p.message(Lang::En).contains("R3"));
    }
}

#[test]
fn r3_a_renewed_certificate_covers_the_tests_after_it() {
    let mut r = registry();
    r.equipment[0].certificates.push(CalibrationCertificate {
        certificate_no: "JL-2026-007".into(),
        valid_from_ms: T0 + 60 * DAY_MS + 1,
        valid_until_ms: T0 + 425 * DAY_MS,
    });
    assert_eq!(registry_check(&r, PARAM, &id("P-LAB"), Some(&id("WAW-1000B-01")), T0 + 61 * DAY_MS), vec![]);
}

fn version(n: u8, effective_ms: i64, registry: LabRegistry) -> RegistryVersion {
    RegistryVersion { record: crate::Hash::of(&[n]), effective_ms, registry }
}

#[test]
fn r3_the_registry_in_force_is_the_latest_approved_at_or_before() {
    let first = registry();
    let mut second = registry();
    second.scope.clear();
    let versions = [version(1, T0, first), version(2, T0 + DAY_MS, second.clone())];
    assert_eq!(in_force(&versions, T0 - 1), None);
    assert_eq!(in_force(&versions, T0).map(|v| v.record), Some(crate::Hash::of(&[1])));
    assert_eq!(in_force(&versions, T0 + DAY_MS).map(|v| &v.registry), Some(&second));
    // Two approvals at one instant: the later one.
    let same = [version(1, T0, registry()), version(2, T0, second)];
    assert_eq!(in_force(&same, T0).map(|v| v.record), Some(crate::Hash::of(&[2])));
}

#[test]
fn r3_a_problem_at_both_ends_is_certain_at_one_end_uncertain() {
    let machine = id("WAW-1000B-01");
    let versions = [version(1, T0, registry())];
    let judge = |lo, hi, param| judge_test(&versions, param, &id("P-LAB"), Some(&machine), lo, hi);
    assert_eq!(judge(T0 - 2, T0 - 1, PARAM), RegistryJudgement::NoRegistry);
    assert_eq!(judge(T0, T0 + 1, PARAM), RegistryJudgement::Judged { certain: vec![], uncertain: vec![] });
    let outside = RegistryProblem::OutsideScope { parameter: "rebar_tensile".into() };
    let RegistryJudgement::Judged { certain, uncertain } = judge(T0, T0 + 1, "rebar_tensile") else {
        panic!("judged")
    };
    assert!(certain.contains(&outside) && uncertain.is_empty());
    // The calibration ends inside the interval: uncertain, not certain.
    let edge = T0 + 60 * DAY_MS;
    let lapsed = RegistryProblem::EquipmentOutOfCalibration { equipment: machine.to_string() };
    assert_eq!(
        judge(edge - 10, edge + 10, PARAM),
        RegistryJudgement::Judged { certain: vec![], uncertain: vec![lapsed.clone()] }
    );
    assert_eq!(
        judge(edge + 1, edge + 10, PARAM),
        RegistryJudgement::Judged { certain: vec![lapsed.clone()], uncertain: vec![] }
    );
    // Registry approved inside the interval: what it says is uncertain.
    let RegistryJudgement::Judged { certain, uncertain } = judge(T0 - 10, T0 + 10, "rebar_tensile") else {
        panic!("judged")
    };
    assert!(certain.is_empty() && uncertain.contains(&outside));
    // Bounds given the wrong way round are the same interval.
    assert_eq!(judge(edge + 10, edge + 1, PARAM), judge(edge + 1, edge + 10, PARAM));
}

#[test]
fn r3_what_ends_within_a_month_is_warned_and_a_renewal_ends_the_warning() {
    let month = EXPIRY_WARNING_DAYS * DAY_MS;
    let r = registry();
    assert_eq!(expiring(&r, T0, month), vec![]);
    // 40 days on the calibration has 20 days left.
    let soon = expiring(&r, T0 + 40 * DAY_MS, month);
    assert_eq!(soon.len(), 1, "{soon:?}");
    assert_eq!(
        soon[0].item,
        ExpiringItem::Equipment { equipment: "WAW-1000B-01".into(), certificate_no: "JL-2025-118".into() }
    );
    assert!(!soon[0].expired);
    assert_eq!(soon[0].days_left, 20);
    assert!(soon[0].message(Lang::ZhCn).contains("20 天后") && soon[0].message(Lang::En).contains("R3"));
    // 80 days on it has ended, and the scope has 20 days left: soonest first.
    let later = expiring(&r, T0 + 80 * DAY_MS, month);
    assert_eq!(later.len(), 2, "{later:?}");
    assert!(later[0].expired && later[0].days_left < 0);
    assert!(matches!(later[1].item, ExpiringItem::Scope { .. }) && !later[1].expired);
    // A renewal registered ahead ends the equipment's warning.
    let mut renewed = r.clone();
    renewed.equipment[0].certificates.push(CalibrationCertificate {
        certificate_no: "JL-2026-007".into(),
        valid_from_ms: T0 + 50 * DAY_MS,
        valid_until_ms: T0 + 415 * DAY_MS,
    });
    assert_eq!(expiring(&renewed, T0 + 40 * DAY_MS, month), vec![]);
    // Staff without an end never lapse.
    let mut forever = r;
    forever.staff[0].valid_until_ms = None;
    assert!(
        expiring(&forever, T0 + 1_000 * DAY_MS, month)
            .iter()
            .all(|e| !matches!(e.item, ExpiringItem::Staff { .. }))
    );
}

#[test]
fn r3_registered_equipment_feeds_the_lab_signals_unchanged() {
    let r = registry();
    let rows = r.equipment_register();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].id.as_str(), rows[0].lab.as_str()), ("WAW-1000B-01", "ORG-LAB"));
    assert!(rows[0].covers(T0) && !rows[0].covers(T0 + 61 * DAY_MS));
}

#[test]
fn r3_the_request_form_round_trips_and_names_each_bad_line() {
    let mut r = registry();
    r.equipment[0].certificates.push(CalibrationCertificate {
        certificate_no: "JL-2026-007".into(),
        valid_from_ms: text::parse_text(&r.lab, "设备 A | m | r | c | 2026-01-01 | 2026-01-02")
            .unwrap()
            .equipment[0]
            .certificates[0]
            .valid_from_ms,
        valid_until_ms: crate::calendar::end_of_day_cst("2027-01-01").unwrap(),
    });
    r.staff.push(StaffQualification {
        valid_until_ms: None,
        parameter: "rebar_tensile".into(),
        ..r.staff[0].clone()
    });
    // Dates are whole days in China: the form keeps days, not instants.
    let once = text::parse_text(&r.lab, &text::to_text(&r)).unwrap();
    assert_eq!(text::parse_text(&r.lab, &text::to_text(&once)).unwrap(), once);
    assert_eq!(once.equipment.len(), 1);
    assert_eq!(once.equipment[0].certificates.len(), 2);
    assert_eq!(once.staff[1].valid_until_ms, None);
    assert_eq!(crate::calendar::cst_seconds(once.scope[0].valid_until_ms).get(11..), Some("23:59:59"));
    assert_eq!(crate::calendar::cst_seconds(once.scope[0].valid_from_ms).get(11..), Some("00:00:00"));

    let bad = "# comment\n\nfoo bar\n资质 a | b | c\n资质 a | b | 2026-02-30 | 2026-03-01\n设备 bad id | m | r | c | 2026-01-01 | 2026-01-02\n设备 M1 | m | r | c | 2026-01-01 | 2026-01-02\n设备 M1 | other | r | c | 2026-01-01 | 2026-01-02\n";
    let errors = text::parse_text(&r.lab, bad).unwrap_err();
    let lines: Vec<String> = errors.iter().map(|e| e.message(Lang::En)).collect();
    assert_eq!(errors.len(), 5, "{lines:?}");
    assert!(
        lines[0].starts_with("line 3") && lines[1].starts_with("line 4") && lines[4].starts_with("line 8")
    );
    assert!(errors.iter().all(|e| e.message(Lang::ZhCn).contains("R3")));
}

#[test]
fn r3_the_operator_sees_what_a_change_changes() {
    let old = registry();
    let mut new = old.clone();
    new.scope[0].valid_until_ms += 365 * DAY_MS;
    new.staff.clear();
    new.equipment.push(RegisteredEquipment { id: id("YAW-2000-02"), ..old.equipment[0].clone() });
    let changes = text::diff(Some(&old), &new);
    let kinds: Vec<text::ChangeKind> = changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [text::ChangeKind::Changed, text::ChangeKind::Added, text::ChangeKind::Removed]);
    assert!(changes[1].after.as_deref().is_some_and(|a| a.contains("YAW-2000-02")));
    assert_eq!(text::diff(Some(&old), &old), vec![]);
    assert_eq!(text::diff(None, &old).len(), 3);
}
