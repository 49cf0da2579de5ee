//! Tests of the registry lab signals (R3, R12, R13, R17, A10.2) and of the
//! lab's score: for every rule a history where it fires, one where it does
//! not, and its edges; odd data; never a panic.
//!
//! Lab "A" in Yingkou tests C30 concrete cubes (28 days) on a 2000 kN
//! compression machine and rebar tensile specimens on a 600 kN universal
//! machine, both calibrated yearly; times are China Standard Time (UTC+8).

use super::tests_score::warning;
use super::*;
use crate::verify::{Lang, Rule};
use proptest::prelude::*;

const CUBE: &str = "concrete_cube_strength";
const REBAR: &str = "rebar_tensile";
const CTM: &str = "CTM-2000-01";
const UTM: &str = "UTM-600-01";
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// 2026-03-02 15:00 CST: the first cubes are moulded.
const T0: i64 = 1_772_434_800_000;
/// 2026-01-11 00:00 CST: the compression machine's second certificate starts.
const CTM_RENEWED: i64 = 1_768_060_800_000;
/// 2026-06-02 00:00 CST: the first instant after the universal machine's
/// certificate (2025-06-02 to 2026-06-01).
const UTM_LAPSED: i64 = 1_780_329_600_000;
/// 2026-04-15 12:00 CST: when the honest lab is judged.
const NOW: i64 = T0 + 44 * DAY - 3 * HOUR;

/// A cube of group `i`, moulded half a day after the one before, tested at
/// 09:00 on the 28th day after: 27 days 18 hours by the clock.
fn cube(i: usize) -> LabTest {
    let made = T0 + i as i64 * DAY / 2;
    let tested = made + 28 * DAY - 6 * HOUR;
    LabTest {
        id: format!("T-{i:04}"),
        lab: "A".to_owned(),
        parameter: CUBE.to_owned(),
        specimen_made_ms: Some(made),
        tested_ms: tested,
        equipment: Some(CTM.to_owned()),
        staff: vec!["zhang.wei".to_owned(), "li.na".to_owned()],
        specimen_age_days_required: Some(28),
        first_entered_ms: tested + 10 * 60_000,
        edits: 0,
    }
}

/// A rebar tensile test, `i` days after T0: no age applies.
fn rebar(i: usize) -> LabTest {
    LabTest {
        id: format!("T-{:04}", 500 + i),
        parameter: REBAR.to_owned(),
        specimen_made_ms: None,
        specimen_age_days_required: None,
        tested_ms: T0 + i as i64 * DAY,
        equipment: Some(UTM.to_owned()),
        staff: vec!["wang.fang".to_owned(), "zhao.lei".to_owned()],
        ..cube(0)
    }
}

/// 40 cube groups and 20 rebar tests, one cube edited once.
fn honest_tests() -> Vec<LabTest> {
    let mut tests: Vec<LabTest> = (0..40).map(cube).chain((0..20).map(rebar)).collect();
    tests[7].edits = 1;
    tests
}

fn certificate(id: &str, lab: &str, from: i64, until: i64) -> Equipment {
    Equipment { id: id.to_owned(), lab: lab.to_owned(), calibrated_from_ms: from, calibrated_until_ms: until }
}

/// The compression machine's last two yearly certificates, the universal
/// machine's current one.
fn register() -> Vec<Equipment> {
    vec![
        certificate(CTM, "A", CTM_RENEWED - 365 * DAY, CTM_RENEWED - 1),
        certificate(CTM, "A", CTM_RENEWED, CTM_RENEWED + 365 * DAY - 1),
        certificate(UTM, "A", UTM_LAPSED - 365 * DAY, UTM_LAPSED - 1),
    ]
}

fn qualification(person: &str, lab: &str, parameter: &str, until: Option<i64>) -> StaffQualification {
    StaffQualification {
        person: person.to_owned(),
        lab: lab.to_owned(),
        parameter: parameter.to_owned(),
        valid_until_ms: until,
    }
}

/// Two people for cubes (one certificate lapsing at the end of 2026), two
/// for rebar, and one of the cube testers for rebar too.
fn staff() -> Vec<StaffQualification> {
    let end_2026 = 1_798_732_800_000 - 1;
    vec![
        qualification("zhang.wei", "A", CUBE, None),
        qualification("li.na", "A", CUBE, Some(end_2026)),
        qualification("wang.fang", "A", REBAR, None),
        qualification("zhao.lei", "A", REBAR, None),
        qualification("zhang.wei", "A", REBAR, None),
    ]
}

fn report(i: usize) -> LabReport {
    LabReport {
        id: format!("YK-2026-{i:05}"),
        lab: "A".to_owned(),
        issued_ms: T0 + 29 * DAY + i as i64 * HOUR,
        replaces: None,
        revoked: false,
    }
}

/// 60 reports, one of them replaced by a 61st (a client's name misspelt).
fn honest_reports() -> Vec<LabReport> {
    let mut reports: Vec<LabReport> = (0..60).map(report).collect();
    reports.push(LabReport { replaces: Some(report(7).id), ..report(60) });
    reports
}

fn t() -> LabThresholds {
    LabThresholds::default()
}

fn ids(range: impl IntoIterator<Item = usize>) -> Vec<String> {
    range.into_iter().map(|i| format!("T-{i:04}")).collect()
}

// ---------------------------------------------------------------- equipment_out_of_calibration

#[test]
fn r3_r17_equipment_out_of_calibration_fires_on_a_lapsed_certificate() {
    // The universal machine's certificate ended on 2026-06-01; the lab kept
    // testing rebar on it for five more days.
    let mut tests = honest_tests();
    tests.extend((0..5).map(|i| LabTest { tested_ms: UTM_LAPSED + i as i64 * DAY, ..rebar(100 + i) }));
    let w = equipment_out_of_calibration("A", &tests, &register(), &t());
    assert_eq!(w.len(), 1, "{w:?}");
    let w = &w[0];
    assert_eq!((w.signal, w.figure), (LabSignal::EquipmentOutOfCalibration, Figure::TestsOutOfCalibration));
    assert_eq!((w.measured, w.threshold, w.n), (5.0, 1.0, 65));
    assert_eq!(w.evidence, ids(600..605));
    assert_eq!((w.parameter.as_deref(), w.design_value), (None, None));
}

#[test]
fn r3_r17_equipment_out_of_calibration_quiet_across_a_renewal() {
    // Cubes tested on both sides of the compression machine's renewal.
    let mut tests = honest_tests();
    tests.push(LabTest { tested_ms: CTM_RENEWED - 1, ..cube(90) });
    tests.push(LabTest { tested_ms: CTM_RENEWED, ..cube(91) });
    assert!(equipment_out_of_calibration("A", &tests, &register(), &t()).is_empty());
}

#[test]
fn r3_r17_equipment_out_of_calibration_edges() {
    let t = t();
    let judge =
        |test: LabTest, register: &[Equipment]| equipment_out_of_calibration("A", &[test], register, &t);
    // The last instant of a certificate is inside it, the next one is not.
    assert!(judge(LabTest { tested_ms: UTM_LAPSED - 1, ..rebar(0) }, &register()).is_empty());
    assert_eq!(judge(LabTest { tested_ms: UTM_LAPSED, ..rebar(0) }, &register()).len(), 1);
    // A certificate not yet valid: tested before it starts.
    let early = register()[0].calibrated_from_ms - 1;
    assert_eq!(judge(LabTest { tested_ms: early, ..cube(0) }, &register()).len(), 1);
    // A machine nobody registered, or registered to another lab.
    assert_eq!(judge(LabTest { equipment: Some("CTM-OLD".to_owned()), ..cube(0) }, &register()).len(), 1);
    let elsewhere: Vec<Equipment> =
        register().into_iter().map(|e| Equipment { lab: "B".to_owned(), ..e }).collect();
    assert_eq!(judge(cube(0), &elsewhere).len(), 1);
    // A certificate that ends before it starts covers nothing.
    assert_eq!(judge(cube(0), &[certificate(CTM, "A", T0 + 60 * DAY, T0)]).len(), 1);
    // No equipment recorded: not judged, and not counted in n.
    let unknown = LabTest { equipment: None, tested_ms: UTM_LAPSED, ..rebar(0) };
    let lapsed = LabTest { tested_ms: UTM_LAPSED, ..rebar(1) };
    let w = equipment_out_of_calibration("A", &[unknown, lapsed.clone()], &register(), &t);
    assert_eq!((w[0].n, w[0].evidence.clone()), (1, ids([501])));
    // Another lab's tests are not this lab's.
    assert!(judge(LabTest { lab: "B".to_owned(), ..lapsed.clone() }, &register()).is_empty());
    // A threshold of 2 needs two such tests.
    let two = LabThresholds { calibration_tests: 2, ..t.clone() };
    assert!(equipment_out_of_calibration("A", &[lapsed], &register(), &two).is_empty());
}

// ---------------------------------------------------------------- equipment_calibration_expiring

#[test]
fn r3_r17_equipment_calibration_expiring_warns_a_month_ahead() {
    // 2026-05-10 12:00: the universal machine has 22.5 days left.
    let now = UTM_LAPSED - 22 * DAY - 12 * HOUR;
    let w = equipment_calibration_expiring("A", &register(), now, &t());
    assert_eq!(w.len(), 1, "{w:?}");
    let w = &w[0];
    assert_eq!(
        (w.signal, w.figure),
        (LabSignal::EquipmentCalibrationExpiring, Figure::DaysOfCalibrationLeft)
    );
    assert!((w.measured - (22.5 - 1.0 / DAY as f64)).abs() < 1e-9, "{}", w.measured);
    assert_eq!((w.threshold, w.n, w.evidence.clone()), (30.0, 2, vec![UTM.to_owned()]));
    assert!(
        w.message(Lang::En)
            .starts_with("Equipment calibration ending soon: days of calibration left 22.5 < 30")
    );
}

#[test]
fn r3_r17_equipment_calibration_expiring_quiet_when_current_or_renewed() {
    // In April both machines have more than a month; the compression
    // machine's first certificate ended long ago, but it was renewed.
    assert!(equipment_calibration_expiring("A", &register(), NOW, &t()).is_empty());
    // A renewal registered ahead ends the warning before the old one ends.
    let now = UTM_LAPSED - 10 * DAY;
    let mut renewed = register();
    renewed.push(certificate(UTM, "A", UTM_LAPSED, UTM_LAPSED + 365 * DAY - 1));
    assert!(equipment_calibration_expiring("A", &renewed, now, &t()).is_empty());
}

#[test]
fn r3_r17_equipment_calibration_expiring_edges() {
    let t = t();
    let reg = [certificate(UTM, "A", 0, UTM_LAPSED)];
    // Exactly 30 days left does not fire ("fewer than"); a millisecond less does.
    assert!(equipment_calibration_expiring("A", &reg, UTM_LAPSED - 30 * DAY, &t).is_empty());
    assert_eq!(equipment_calibration_expiring("A", &reg, UTM_LAPSED - 30 * DAY + 1, &t).len(), 1);
    // Ended ten days ago: still warned, with negative days.
    let w = equipment_calibration_expiring("A", &reg, UTM_LAPSED + 10 * DAY, &t);
    assert_eq!(w[0].measured, -10.0);
    // Another lab's equipment is not this lab's.
    assert!(equipment_calibration_expiring("B", &reg, UTM_LAPSED, &t).is_empty());
    // A shorter window, per configuration.
    let week = LabThresholds { calibration_warn_days: 7, ..t.clone() };
    assert!(equipment_calibration_expiring("A", &reg, UTM_LAPSED - 8 * DAY, &week).is_empty());
    // Extreme times neither overflow nor panic.
    let odd = [certificate("X", "A", i64::MAX, i64::MIN), certificate("Y", "A", i64::MIN, i64::MAX)];
    let w = equipment_calibration_expiring("A", &odd, i64::MAX, &t);
    assert_eq!(w.iter().map(|w| w.evidence[0].as_str()).collect::<Vec<_>>(), ["X", "Y"]);
    assert!(w.iter().all(|w| w.measured.is_finite()));
}

// ---------------------------------------------------------------- tested_before_age

#[test]
fn r12_r17_tested_before_age_fires_on_cubes_tested_at_7_days() {
    // Three "28-day" groups crushed at 7 days: the report was due.
    let mut tests = honest_tests();
    for test in tests.iter_mut().take(3) {
        test.tested_ms = test.specimen_made_ms.unwrap_or_default() + 7 * DAY;
    }
    let w = tested_before_age("A", &tests, &t());
    assert_eq!(w.len(), 1, "{w:?}");
    let w = &w[0];
    assert_eq!((w.signal, w.figure), (LabSignal::TestedBeforeAge, Figure::TestsBeforeAge));
    assert_eq!(w.parameter.as_deref(), Some(CUBE));
    // n: the 40 cubes; the rebar tests have no age and are not judged.
    assert_eq!((w.measured, w.threshold, w.n), (3.0, 1.0, 40));
    assert_eq!(w.evidence, ids(0..3));
}

#[test]
fn r12_r17_tested_before_age_quiet_for_tests_on_the_28th_day() {
    // 27 days 18 hours by the clock, on the 28th calendar day: within the
    // default tolerance of 20 hours.
    assert!(tested_before_age("A", &honest_tests(), &t()).is_empty());
}

#[test]
fn r12_r17_tested_before_age_edges_tolerance_order_and_skips() {
    let t = t();
    let made = T0;
    let at = |tested: i64| LabTest { specimen_made_ms: Some(made), tested_ms: tested, ..cube(0) };
    // Exactly 28 days less 20 hours is at the age; a millisecond sooner is not.
    assert!(tested_before_age("A", &[at(made + 28 * DAY - 20 * HOUR)], &t).is_empty());
    assert_eq!(tested_before_age("A", &[at(made + 28 * DAY - 20 * HOUR - 1)], &t).len(), 1);
    // With no tolerance, the 28th day's morning test is early.
    let strict = LabThresholds { age_tolerance_hours: 0, ..t.clone() };
    assert_eq!(tested_before_age("A", &honest_tests(), &strict)[0].measured, 40.0);
    assert!(tested_before_age("A", &[at(made + 28 * DAY)], &strict).is_empty());
    // Tested before the specimen was made: early too.
    assert_eq!(tested_before_age("A", &[at(made - DAY)], &t).len(), 1);
    // No made time, or no required age: skipped.
    let no_made = LabTest { specimen_made_ms: None, ..at(made) };
    let no_age = LabTest { specimen_age_days_required: None, ..at(made) };
    assert!(tested_before_age("A", &[no_made, no_age], &t).is_empty());
    // Per parameter: mortar at 28 days is judged apart from the cubes.
    let mortar = LabTest { id: "M-1".to_owned(), parameter: "mortar_strength".to_owned(), ..at(made + DAY) };
    let w = tested_before_age("A", &[at(made + DAY), mortar], &t);
    let params: Vec<Option<&str>> = w.iter().map(|w| w.parameter.as_deref()).collect();
    assert_eq!(params, [Some(CUBE), Some("mortar_strength")]);
    // A threshold of 2 needs two early tests; another lab's do not count.
    let two = LabThresholds { early_tests: 2, ..t.clone() };
    let other = LabTest { lab: "B".to_owned(), ..at(made) };
    assert!(tested_before_age("A", &[at(made), other], &two).is_empty());
    // Extreme ages and times neither overflow nor panic.
    let odd = LabTest {
        specimen_made_ms: Some(i64::MAX),
        tested_ms: i64::MIN,
        specimen_age_days_required: Some(u32::MAX),
        ..cube(0)
    };
    assert_eq!(tested_before_age("A", &[odd], &t).len(), 1);
}

// ---------------------------------------------------------------- staff_not_matching

#[test]
fn a10_2_r3_r17_staff_not_matching_fires_on_tests_by_unqualified_staff() {
    let mut tests = honest_tests();
    // A rebar tester crushing cubes; nobody recorded on another.
    tests[3].staff = vec!["wang.fang".to_owned()];
    tests[4].staff.clear();
    // li.na's cube qualification lapses at the end of 2026.
    tests.push(LabTest { tested_ms: 1_798_732_800_000 + DAY, ..cube(45) });
    let w = staff_not_matching("A", &tests, &staff(), NOW, &t());
    assert_eq!(w.len(), 1, "{w:?}");
    let w = &w[0];
    assert_eq!((w.signal, w.figure), (LabSignal::StaffNotMatching, Figure::TestsByUnqualifiedStaff));
    assert_eq!(w.parameter.as_deref(), Some(CUBE));
    assert_eq!((w.measured, w.threshold, w.n), (3.0, 1.0, 41));
    assert_eq!(w.evidence, ids([3, 4, 45]));
}

#[test]
fn a10_2_r3_r17_staff_not_matching_fires_when_few_staff_cover_many_parameters() {
    // Four parameters tested, two people qualified for any of them.
    let mut tests = honest_tests();
    for (i, p) in ["mortar_strength", "rebar_coupler_tensile"].into_iter().enumerate() {
        tests.push(LabTest { id: format!("X-{i}"), parameter: p.to_owned(), ..cube(0) });
    }
    let staff = vec![
        qualification("zhang.wei", "A", CUBE, None),
        qualification("zhang.wei", "A", REBAR, None),
        qualification("zhang.wei", "A", "mortar_strength", None),
        qualification("zhang.wei", "A", "rebar_coupler_tensile", None),
        qualification("li.na", "A", CUBE, None),
        // Qualified for a parameter the lab does not test: not counted.
        qualification("sun.li", "A", "waterproofing_tensile", None),
        // Lapsed before now: not counted.
        qualification("zhao.lei", "A", REBAR, Some(NOW - 1)),
    ];
    let w = staff_not_matching("A", &tests, &staff, NOW, &t());
    let ratio: Vec<&LabWarning> =
        w.iter().filter(|w| w.figure == Figure::QualifiedStaffPerParameter).collect();
    assert_eq!(ratio.len(), 1, "{w:?}");
    assert_eq!((ratio[0].measured, ratio[0].threshold, ratio[0].n), (0.5, 1.0, 4));
    assert_eq!(ratio[0].parameter, None);
    assert_eq!(ratio[0].evidence, [CUBE, "mortar_strength", "rebar_coupler_tensile", REBAR]);
    // The per-test figure comes first (rule order: tests, then the ratio).
    assert_eq!(w.last().map(|w| w.figure), Some(Figure::QualifiedStaffPerParameter));
}

#[test]
fn a10_2_r3_r17_staff_not_matching_quiet_for_a_registered_lab() {
    assert!(staff_not_matching("A", &honest_tests(), &staff(), NOW, &t()).is_empty());
}

#[test]
fn a10_2_r3_r17_staff_not_matching_edges() {
    let t = t();
    let lapse = NOW;
    let staff = [qualification("zhang.wei", "A", CUBE, Some(lapse))];
    let by = |tested: i64| LabTest { staff: vec!["zhang.wei".to_owned()], tested_ms: tested, ..cube(0) };
    // Valid through its last instant, not after it.
    assert!(staff_not_matching("A", &[by(lapse)], &staff, lapse, &t).is_empty());
    let w = staff_not_matching("A", &[by(lapse + 1)], &staff, lapse, &t);
    assert_eq!(codes(&w), [Figure::TestsByUnqualifiedStaff]);
    // Judged at now, the lapsed person no longer counts: 0 of 1 parameter.
    let w = staff_not_matching("A", &[by(lapse)], &staff, lapse + 1, &t);
    assert_eq!(codes(&w), [Figure::QualifiedStaffPerParameter]);
    assert_eq!(w[0].measured, 0.0);
    // Another lab's qualification does not count here.
    let elsewhere = [qualification("zhang.wei", "B", CUBE, None)];
    assert_eq!(staff_not_matching("A", &[by(lapse)], &elsewhere, lapse, &t).len(), 2);
    // One person for two parameters: 0.5 fires at 1.0, not at 0.5.
    let two = [by(lapse), LabTest { parameter: REBAR.to_owned(), ..by(lapse) }];
    let both = [qualification("zhang.wei", "A", CUBE, None), qualification("zhang.wei", "A", REBAR, None)];
    assert_eq!(codes(&staff_not_matching("A", &two, &both, lapse, &t)), [Figure::QualifiedStaffPerParameter]);
    let half = LabThresholds { staff_per_parameter: 0.5, ..t.clone() };
    assert!(staff_not_matching("A", &two, &both, lapse, &half).is_empty());
    // No tests: nothing to match.
    assert!(staff_not_matching("A", &[], &both, lapse, &t).is_empty());
    // A threshold of 2 needs two such tests.
    let two_tests = LabThresholds { unqualified_tests: 2, ..t.clone() };
    assert!(
        staff_not_matching("A", &[by(lapse + 1)], &staff, lapse, &two_tests)
            .iter()
            .all(|w| w.figure != Figure::TestsByUnqualifiedStaff)
    );
}

fn codes(w: &[LabWarning]) -> Vec<Figure> {
    w.iter().map(|w| w.figure).collect()
}

// ---------------------------------------------------------------- results_edited

#[test]
fn r12_r17_results_edited_fires_when_many_results_change_after_entry() {
    let mut tests = honest_tests();
    for i in [2, 5, 11, 19, 23, 31, 37, 44] {
        tests[i].edits += 2;
    }
    let w = results_edited("A", &tests, &t());
    assert_eq!(w.len(), 1, "{w:?}");
    let w = &w[0];
    assert_eq!((w.signal, w.figure), (LabSignal::ResultsEdited, Figure::ShareEdited));
    // 9 of 60 (with the one honest correction): 15 %.
    assert!((w.measured - 0.15).abs() < 1e-12);
    assert_eq!((w.threshold, w.n, w.parameter.as_deref()), (0.10, 60, None));
    // In test time order: the rebar tests (daily from T0) interleave with the cubes.
    assert_eq!(w.evidence.len(), 9);
    assert!(w.evidence.contains(&"T-0007".to_owned()));
}

#[test]
fn r12_r17_results_edited_quiet_for_an_occasional_correction() {
    assert!(results_edited("A", &honest_tests(), &t()).is_empty());
}

#[test]
fn r12_r17_results_edited_edges_share_and_min_n() {
    let t = t();
    let edited = |n: usize, k: usize| -> Vec<LabTest> {
        (0..n).map(|i| LabTest { edits: u32::from(i < k), ..cube(i) }).collect()
    };
    // Exactly 10 % (3 of 30) fires; 2 of 30 does not.
    assert_eq!(results_edited("A", &edited(30, 3), &t).len(), 1);
    assert!(results_edited("A", &edited(30, 2), &t).is_empty());
    // 29 tests, all edited: below the minimum.
    assert!(results_edited("A", &edited(29, 29), &t).is_empty());
    // Another lab's tests are not this lab's.
    let other: Vec<LabTest> =
        edited(30, 30).into_iter().map(|x| LabTest { lab: "B".to_owned(), ..x }).collect();
    assert!(results_edited("A", &other, &t).is_empty());
}

// ---------------------------------------------------------------- reports_replaced

#[test]
fn r13_r17_reports_replaced_fires_on_reissued_and_revoked_reports() {
    let mut reports: Vec<LabReport> = (0..40).map(report).collect();
    reports[3].revoked = true;
    reports[9].revoked = true;
    // Two failing reports reissued as passing.
    reports.push(LabReport { replaces: Some(report(12).id), ..report(40) });
    reports.push(LabReport { replaces: Some(report(20).id), ..report(41) });
    let w = reports_replaced("A", &reports, &t());
    assert_eq!(w.len(), 1, "{w:?}");
    let w = &w[0];
    assert_eq!((w.signal, w.figure), (LabSignal::ReportsReplaced, Figure::ShareReplacedOrRevoked));
    assert!((w.measured - 4.0 / 42.0).abs() < 1e-12);
    assert_eq!((w.threshold, w.n), (0.05, 42));
    // The replaced and revoked reports, in issue order; not the reissues.
    let want: Vec<String> = [3, 9, 12, 20].into_iter().map(|i| report(i).id).collect();
    assert_eq!(w.evidence, want);
}

#[test]
fn r13_r17_reports_replaced_quiet_for_a_rare_correction() {
    assert!(reports_replaced("A", &honest_reports(), &t()).is_empty());
}

#[test]
fn r13_r17_reports_replaced_edges() {
    let t = t();
    let base: Vec<LabReport> = (0..40).map(report).collect();
    let with = |extra: Vec<LabReport>, revoked: &[usize]| -> Vec<LabReport> {
        let mut r = base.clone();
        for &i in revoked {
            r[i].revoked = true;
        }
        r.extend(extra);
        r
    };
    // Exactly 5 % (2 of 40) fires; 1 of 40 does not.
    assert_eq!(reports_replaced("A", &with(vec![], &[1, 2]), &t).len(), 1);
    assert!(reports_replaced("A", &with(vec![], &[1]), &t).is_empty());
    // A report naming itself, or one not given, replaces nothing here
    // (1 revoked of 42).
    let odd = vec![
        LabReport { replaces: Some(report(40).id), ..report(40) },
        LabReport { replaces: Some("YK-2025-09999".to_owned()), ..report(41) },
    ];
    assert!(reports_replaced("A", &with(odd, &[1]), &t).is_empty());
    // A replaced report that was also revoked counts once.
    let both = vec![LabReport { replaces: Some(report(1).id), ..report(40) }];
    let w = reports_replaced("A", &with(both, &[1, 2, 3]), &t);
    assert_eq!(w[0].evidence, [report(1).id, report(2).id, report(3).id]);
    assert_eq!((w[0].measured, w[0].n), (3.0 / 41.0, 41));
    // 29 reports, all revoked: below the minimum.
    let few: Vec<LabReport> = (0..29).map(|i| LabReport { revoked: true, ..report(i) }).collect();
    assert!(reports_replaced("A", &few, &t).is_empty());
    // Another lab's reports, and its replacements, are not this lab's.
    let other = vec![LabReport { lab: "B".to_owned(), replaces: Some(report(5).id), ..report(40) }];
    assert!(reports_replaced("A", &with(other, &[1]), &t).is_empty());
}

// ---------------------------------------------------------------- lab_registry_signals

/// A lab that breaks every registered rule.
fn careless_lab() -> (Vec<LabTest>, Vec<LabReport>) {
    let mut tests = honest_tests();
    for (i, test) in tests.iter_mut().enumerate().take(40) {
        if i % 5 == 0 {
            test.edits = 1;
            test.staff = vec!["wang.fang".to_owned()];
        }
        if i % 10 == 0 {
            test.tested_ms = test.specimen_made_ms.unwrap_or_default() + 14 * DAY;
        }
    }
    tests.push(LabTest { tested_ms: UTM_LAPSED + DAY, ..rebar(60) });
    let mut reports = honest_reports();
    for i in [2, 4, 6] {
        reports[i].revoked = true;
    }
    (tests, reports)
}

#[test]
fn r17_lab_registry_signals_runs_every_rule() {
    let (tests, reports) = careless_lab();
    let now = UTM_LAPSED - 5 * DAY;
    // One person for four parameters.
    let mut tests_more = tests.clone();
    for p in ["mortar_strength", "rebar_coupler_tensile"] {
        tests_more.push(LabTest { id: format!("X-{p}"), parameter: p.to_owned(), ..cube(0) });
    }
    let w = lab_registry_signals("A", &tests_more, &register(), &staff()[..1], &reports, now, &t());
    let mut fired: Vec<LabSignal> = w.iter().map(|w| w.signal).collect();
    fired.dedup();
    assert_eq!(fired, LabSignal::REGISTRY.to_vec(), "{w:#?}");
    for w in &w {
        assert_eq!((w.lab.as_str(), w.requirement()), ("A", Rule::R17));
        assert!(!w.evidence.is_empty() && w.signal.requirements().contains(&"R17"));
    }
    let both: Vec<Figure> =
        w.iter().filter(|w| w.signal == LabSignal::StaffNotMatching).map(|w| w.figure).collect();
    assert!(
        both.contains(&Figure::TestsByUnqualifiedStaff) && both.contains(&Figure::QualifiedStaffPerParameter)
    );
}

#[test]
fn r17_lab_registry_signals_quiet_for_an_honest_lab() {
    let w = lab_registry_signals("A", &honest_tests(), &register(), &staff(), &honest_reports(), NOW, &t());
    assert!(w.is_empty(), "{w:#?}");
}

#[test]
fn r17_lab_registry_signals_empty_input_gives_no_warnings() {
    assert!(lab_registry_signals("A", &[], &[], &[], &[], NOW, &t()).is_empty());
}

// ---------------------------------------------------------------- lab_score

#[test]
fn r17_lab_score_of_real_warnings() {
    let (tests, reports) = careless_lab();
    let w = lab_registry_signals("A", &tests, &register(), &staff(), &reports, UTM_LAPSED - 5 * DAY, &t());
    let (score, parts) = lab_score(&w);
    assert!(score < 100 && score > 0, "{score} {parts:#?}");
    let json = serde_json::to_string(&parts).unwrap();
    assert!(json.contains(r#""signal":"results_edited","weight":10"#), "{json}");
}

// ---------------------------------------------------------------- texts, codes, thresholds

#[test]
fn r17_registry_signals_cite_their_requirements_in_both_languages() {
    let want: [(LabSignal, &[&str]); 6] = [
        (LabSignal::EquipmentOutOfCalibration, &["R3", "R17"]),
        (LabSignal::EquipmentCalibrationExpiring, &["R3", "R17"]),
        (LabSignal::TestedBeforeAge, &["R12", "R17"]),
        (LabSignal::StaffNotMatching, &["R3", "R17", "R20"]),
        (LabSignal::ResultsEdited, &["R12", "R17"]),
        (LabSignal::ReportsReplaced, &["R13", "R17"]),
    ];
    for (s, reqs) in want {
        assert_eq!(s.requirements(), reqs);
        assert_eq!(LabSignal::parse(s.code()), Some(s));
    }
    assert!(LabSignal::StaffNotMatching.explain(Lang::ZhCn).contains("A10.2"));
    for s in LabSignal::RESULTS {
        assert_eq!(s.requirements(), ["R17"]);
    }
    assert_eq!(LabSignal::parse("nope"), None);
    let figures = [
        Figure::TestsOutOfCalibration,
        Figure::DaysOfCalibrationLeft,
        Figure::TestsBeforeAge,
        Figure::TestsByUnqualifiedStaff,
        Figure::QualifiedStaffPerParameter,
        Figure::ShareEdited,
        Figure::ShareReplacedOrRevoked,
    ];
    for f in figures {
        assert_ne!(f.name(Lang::ZhCn), f.name(Lang::En));
    }
    let w = warning(LabSignal::ResultsEdited, Figure::ShareEdited, 0.15, 0.1);
    assert_eq!(
        w.message(Lang::En),
        "Results edited after entry: share of tests edited after entry 0.15 ≥ 0.1 (n = 40)"
    );
    assert!(w.message(Lang::ZhCn).starts_with("检测数据录入后被修改：录入后被修改的检测比例 0.15 ≥ 0.1"));
}

#[test]
fn r17_registry_thresholds_check() {
    let d = LabThresholds::default;
    assert_eq!(d().check(), Ok(()));
    let t: LabThresholds =
        serde_json::from_str(r#"{"age_tolerance_hours": 0, "edited_share": 0.2}"#).unwrap();
    assert_eq!(t, LabThresholds { age_tolerance_hours: 0, edited_share: 0.2, ..d() });
    assert_eq!(t.check(), Ok(()));
    let cases: Vec<(LabThresholds, ThresholdError)> = vec![
        (
            LabThresholds { calibration_tests: 0, ..d() },
            ThresholdError::TooFew { field: "calibration_tests", value: 0, min: 1 },
        ),
        (
            LabThresholds { calibration_warn_days: 0, ..d() },
            ThresholdError::TooFew { field: "calibration_warn_days", value: 0, min: 1 },
        ),
        (
            LabThresholds { calibration_warn_days: 400, ..d() },
            ThresholdError::TooMany { field: "calibration_warn_days", value: 400, max: 366 },
        ),
        (
            LabThresholds { age_tolerance_hours: 49, ..d() },
            ThresholdError::TooMany { field: "age_tolerance_hours", value: 49, max: 48 },
        ),
        (
            LabThresholds { early_tests: 0, ..d() },
            ThresholdError::TooFew { field: "early_tests", value: 0, min: 1 },
        ),
        (
            LabThresholds { unqualified_tests: 0, ..d() },
            ThresholdError::TooFew { field: "unqualified_tests", value: 0, min: 1 },
        ),
        (
            LabThresholds { staff_per_parameter: 0.0, ..d() },
            ThresholdError::NotPositive { field: "staff_per_parameter", value: 0.0 },
        ),
        (
            LabThresholds { edited_share: 1.5, ..d() },
            ThresholdError::NotShare { field: "edited_share", value: 1.5 },
        ),
        (
            LabThresholds { edited_min_n: 9, ..d() },
            ThresholdError::TooFew { field: "edited_min_n", value: 9, min: 10 },
        ),
        (
            LabThresholds { replaced_share: 0.0, ..d() },
            ThresholdError::NotShare { field: "replaced_share", value: 0.0 },
        ),
        (
            LabThresholds { replaced_min_n: 3, ..d() },
            ThresholdError::TooFew { field: "replaced_min_n", value: 3, min: 10 },
        ),
    ];
    for (t, want) in cases {
        assert_eq!(t.check(), Err(want));
    }
    let nan = LabThresholds { staff_per_parameter: f64::NAN, ..d() };
    assert!(matches!(nan.check(), Err(ThresholdError::NotPositive { field: "staff_per_parameter", .. })));
}

// ---------------------------------------------------------------- never a panic

fn any_time() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => (T0 - 400 * DAY)..(T0 + 400 * DAY),
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
        1 => Just(0i64),
        1 => any::<i64>(),
    ]
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => 0.0..2.0f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-1.0),
        1 => any::<f64>(),
    ]
}

fn any_test() -> impl Strategy<Value = LabTest> {
    (
        (0..6usize, 0..3usize, 0..3usize),
        (prop::option::of(any_time()), any_time(), any_time()),
        prop::option::of(0..3usize),
        prop::collection::vec(0..4usize, 0..3),
        prop::option::of(prop_oneof![Just(28u32), Just(7), Just(0), any::<u32>()]),
        any::<u32>(),
    )
        .prop_map(|((i, lab, param), (made, tested, entered), equipment, staff, age, edits)| LabTest {
            id: format!("t{i}"),
            lab: ["A", "B", "C"][lab].to_owned(),
            parameter: [CUBE, REBAR, "mortar_strength"][param].to_owned(),
            specimen_made_ms: made,
            tested_ms: tested,
            equipment: equipment.map(|e| format!("E{e}")),
            staff: staff.into_iter().map(|p| format!("p{p}")).collect(),
            specimen_age_days_required: age,
            first_entered_ms: entered,
            edits: edits % 3,
        })
}

fn any_equipment() -> impl Strategy<Value = Equipment> {
    (0..3usize, 0..2usize, any_time(), any_time())
        .prop_map(|(e, lab, from, until)| certificate(&format!("E{e}"), ["A", "B"][lab], from, until))
}

fn any_qualification() -> impl Strategy<Value = StaffQualification> {
    (0..4usize, 0..2usize, 0..3usize, prop::option::of(any_time())).prop_map(|(p, lab, param, until)| {
        qualification(&format!("p{p}"), ["A", "B"][lab], [CUBE, REBAR, "mortar_strength"][param], until)
    })
}

fn any_report() -> impl Strategy<Value = LabReport> {
    (0..8usize, 0..2usize, any_time(), prop::option::of(0..9usize), any::<bool>()).prop_map(
        |(i, lab, issued, replaces, revoked)| LabReport {
            id: format!("r{i}"),
            lab: ["A", "B"][lab].to_owned(),
            issued_ms: issued,
            replaces: replaces.map(|r| format!("r{r}")),
            revoked,
        },
    )
}

fn any_thresholds() -> impl Strategy<Value = LabThresholds> {
    (0..4usize, any::<u32>(), any::<u32>(), any_f64(), any_f64(), 0..40usize).prop_map(
        |(count, days, hours, ratio, share, min_n)| LabThresholds {
            calibration_tests: count,
            calibration_warn_days: days % 1_000,
            age_tolerance_hours: hours,
            early_tests: count,
            unqualified_tests: count,
            staff_per_parameter: ratio,
            edited_share: share,
            edited_min_n: min_n,
            replaced_share: share,
            replaced_min_n: min_n,
            ..LabThresholds::default()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn r17_lab_registry_signals_never_panic(
        tests in prop::collection::vec(any_test(), 0..50),
        equipment in prop::collection::vec(any_equipment(), 0..6),
        staff in prop::collection::vec(any_qualification(), 0..8),
        reports in prop::collection::vec(any_report(), 0..40),
        now in any_time(),
    ) {
        let w = lab_registry_signals("A", &tests, &equipment, &staff, &reports, now, &LabThresholds::default());
        for w in &w {
            prop_assert_eq!(&w.lab, "A");
            prop_assert!(!w.evidence.is_empty());
            prop_assert!(!w.measured.is_nan());
            prop_assert!((1.0..=2.0).contains(&w.severity()));
        }
        let (score, parts) = lab_score(&w);
        prop_assert!(score <= 100);
        prop_assert_eq!(parts.len(), LabSignal::ALL.len());
    }

    #[test]
    fn r17_lab_registry_signals_never_panic_on_any_thresholds(
        tests in prop::collection::vec(any_test(), 0..30),
        equipment in prop::collection::vec(any_equipment(), 0..6),
        staff in prop::collection::vec(any_qualification(), 0..8),
        reports in prop::collection::vec(any_report(), 0..20),
        now in any_time(),
        t in any_thresholds(),
    ) {
        let w = lab_registry_signals("A", &tests, &equipment, &staff, &reports, now, &t);
        let _ = lab_score(&w);
        let _ = t.check();
    }
}
