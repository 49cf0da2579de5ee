//! The registry lab signals (R3, R12, R13, R17; A10.2): what a lab's tests,
//! its equipment and staff registers and its reports show of rules broken,
//! one public function per rule; [`super::lab_registry_signals`] runs them
//! all.
//!
//! The input types are what comparable provincial systems exchange with
//! lab software (notes, "How comparable Chinese systems split the work"):
//! the regulator's registers of equipment (with calibration dates) and staff
//! (with qualifications) pushed down, a summary per test with its
//! modification log and the reports pushed up. Times are ms since the Unix
//! epoch; differences are taken in `i128`, so no `i64` overflows. Within a
//! warning, tests are in test time order and reports in issue order (ties by
//! id); equipment items and parameters in id order.

use super::stats::{at_least, below};
use super::{Figure, LabSignal, LabThresholds, LabWarning};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

const HOUR_MS: i128 = 3_600_000;
const DAY_MS: i128 = 24 * HOUR_MS;

/// One test as the lab's software reports it: who tested what, on which
/// equipment, when, and how often the result was changed afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabTest {
    /// Test id: what a warning's evidence names.
    pub id: String,
    pub lab: String,
    /// What was tested, e.g. `concrete_cube_strength`: the codes of
    /// [`super::LabResult::parameter`] and [`StaffQualification::parameter`].
    pub parameter: String,
    /// When the specimen was made (for concrete: moulded on site, the
    /// sampling's time), where its age counts from. `None` when unknown or
    /// when no age applies (rebar).
    pub specimen_made_ms: Option<i64>,
    /// When it was tested.
    pub tested_ms: i64,
    /// The registered item it was tested on ([`Equipment::id`]), usually
    /// the testing machine. `None` when not recorded: such a test is not
    /// judged by `equipment_out_of_calibration`.
    pub equipment: Option<String>,
    /// The persons who tested it ([`StaffQualification::person`]). Empty
    /// when nobody is recorded: then nobody qualified is on record either.
    pub staff: Vec<String>,
    /// The age in whole days at which the standard tests the specimen, e.g.
    /// 28 for concrete cubes (GB/T 50081-2019, standard curing). `None` when
    /// no age applies.
    pub specimen_age_days_required: Option<u32>,
    /// When the result was first entered in the lab's system. Carried for
    /// the evidence view beside `edits`; no rule here judges it yet (an
    /// entry before the test, or long after it, would be a later rule's).
    pub first_entered_ms: i64,
    /// Edits of the result after its first entry, from the lab software's
    /// modification log (0: never edited).
    pub edits: u32,
}

/// One calibration (or verification) certificate of an equipment item in a
/// lab's register (R3). An item recalibrated every year has one row per
/// certificate, all with its id; a test is in calibration when any of them
/// covers its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Equipment {
    /// Equipment item id, as [`LabTest::equipment`] names it.
    pub id: String,
    pub lab: String,
    /// First instant the certificate is valid.
    pub calibrated_from_ms: i64,
    /// Last instant it is valid (inclusive): the end of its last day.
    pub calibrated_until_ms: i64,
}

impl Equipment {
    /// The certificate covers instant `ms` (both ends inclusive).
    pub fn covers(&self, ms: i64) -> bool {
        self.calibrated_from_ms <= ms && ms <= self.calibrated_until_ms
    }
}

/// One person's qualification to test one parameter at one lab (R3's staff
/// register).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StaffQualification {
    /// Person id, as [`LabTest::staff`] names them.
    pub person: String,
    pub lab: String,
    pub parameter: String,
    /// Last instant it is valid (inclusive); `None`: it does not lapse.
    pub valid_until_ms: Option<i64>,
}

impl StaffQualification {
    /// Valid at instant `ms`.
    pub fn valid_at(&self, ms: i64) -> bool {
        self.valid_until_ms.is_none_or(|until| ms <= until)
    }
}

/// One report a lab issued (R13), with what happened to it since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabReport {
    /// Report id (its number): what a warning's evidence names.
    pub id: String,
    pub lab: String,
    pub issued_ms: i64,
    /// The report this one replaces (a corrected reissue), if any.
    pub replaces: Option<String>,
    /// Withdrawn: its QR now answers "revoked".
    pub revoked: bool,
}

/// The lab's tests that `keep` accepts, in test time order (ties by id).
fn own_tests<'a>(lab: &str, tests: &'a [LabTest], keep: impl Fn(&LabTest) -> bool) -> Vec<&'a LabTest> {
    let mut own: Vec<&LabTest> = tests.iter().filter(|t| t.lab == lab && keep(t)).collect();
    own.sort_by(|a, b| a.tested_ms.cmp(&b.tested_ms).then_with(|| a.id.cmp(&b.id)));
    own
}

/// Tests by parameter, each group keeping the order given.
fn by_parameter<'a>(tests: &[&'a LabTest]) -> BTreeMap<&'a str, Vec<&'a LabTest>> {
    let mut groups: BTreeMap<&str, Vec<&LabTest>> = BTreeMap::new();
    for &t in tests {
        groups.entry(t.parameter.as_str()).or_default().push(t);
    }
    groups
}

fn test_ids(tests: &[&LabTest]) -> Vec<String> {
    tests.iter().map(|t| t.id.clone()).collect()
}

/// The frame of one warning: what it judged, over how many.
struct Judged<'a> {
    signal: LabSignal,
    figure: Figure,
    lab: &'a str,
    parameter: Option<&'a str>,
    n: usize,
}

impl Judged<'_> {
    fn warn(&self, measured: f64, threshold: f64, evidence: Vec<String>) -> LabWarning {
        LabWarning {
            signal: self.signal,
            figure: self.figure,
            lab: self.lab.to_owned(),
            parameter: self.parameter.map(str::to_owned),
            design_value: None,
            measured,
            threshold,
            n: self.n,
            evidence,
        }
    }

    /// Fires when at least `at` (and at least one) items were hit.
    fn count(&self, hits: Vec<String>, at: usize) -> Option<LabWarning> {
        (hits.len() >= at.max(1)).then(|| self.warn(hits.len() as f64, at as f64, hits))
    }

    /// Fires when the hits are at least `threshold` of `n`, `n` ≥ `min_n`.
    fn share(&self, hits: Vec<String>, min_n: usize, threshold: f64) -> Option<LabWarning> {
        if self.n < min_n.max(1) || hits.is_empty() {
            return None;
        }
        let share = hits.len() as f64 / self.n as f64;
        at_least(share, threshold).then(|| self.warn(share, threshold, hits))
    }
}

/// `equipment_out_of_calibration`, over the whole lab: the lab's tests that
/// name their equipment and were run when no certificate of that item in
/// the lab's register covered the test time (lapsed, not yet valid, or no
/// such item registered to the lab); fires when there are at least
/// `calibration_tests`. Tests without equipment are not judged. n: the tests
/// judged. Evidence: the tests hit.
pub fn equipment_out_of_calibration(
    lab: &str,
    tests: &[LabTest],
    equipment: &[Equipment],
    t: &LabThresholds,
) -> Vec<LabWarning> {
    let mut certificates: BTreeMap<&str, Vec<&Equipment>> = BTreeMap::new();
    for e in equipment.iter().filter(|e| e.lab == lab) {
        certificates.entry(e.id.as_str()).or_default().push(e);
    }
    let judged = own_tests(lab, tests, |t| t.equipment.is_some());
    let hits: Vec<&LabTest> = judged
        .iter()
        .copied()
        .filter(|test| {
            test.equipment.as_deref().is_some_and(|item| {
                !certificates.get(item).is_some_and(|cs| cs.iter().any(|c| c.covers(test.tested_ms)))
            })
        })
        .collect();
    let frame = Judged {
        signal: LabSignal::EquipmentOutOfCalibration,
        figure: Figure::TestsOutOfCalibration,
        lab,
        parameter: None,
        n: judged.len(),
    };
    frame.count(test_ids(&hits), t.calibration_tests).into_iter().collect()
}

/// `equipment_calibration_expiring`, per equipment item of the lab: the days
/// from `now_ms` to the end of the item's latest-ending certificate (a
/// renewal registered ahead ends the warning); fires when fewer than
/// `calibration_warn_days` are left, including items whose calibration has
/// ended (negative days: take them out of use, recalibrate them, or retire
/// them from the register). Measured: days left. n: the lab's equipment
/// items. Evidence: the item.
pub fn equipment_calibration_expiring(
    lab: &str,
    equipment: &[Equipment],
    now_ms: i64,
    t: &LabThresholds,
) -> Vec<LabWarning> {
    let mut latest: BTreeMap<&str, i64> = BTreeMap::new();
    for e in equipment.iter().filter(|e| e.lab == lab) {
        let end = latest.entry(e.id.as_str()).or_insert(e.calibrated_until_ms);
        *end = (*end).max(e.calibrated_until_ms);
    }
    let warn_days = f64::from(t.calibration_warn_days);
    let mut out = Vec::new();
    for (&item, &until) in &latest {
        let left_days = (i128::from(until) - i128::from(now_ms)) as f64 / DAY_MS as f64;
        if left_days < warn_days {
            let frame = Judged {
                signal: LabSignal::EquipmentCalibrationExpiring,
                figure: Figure::DaysOfCalibrationLeft,
                lab,
                parameter: None,
                n: latest.len(),
            };
            out.push(frame.warn(left_days, warn_days, vec![item.to_owned()]));
        }
    }
    out
}

/// `tested_before_age`, per parameter: of the lab's tests with both a
/// specimen made time and a required age, those tested less than the
/// required age less `age_tolerance_hours` after the specimen was made
/// (tested − made < days × 24 h − tolerance; a test before the specimen was
/// made counts too); fires when there are at least `early_tests`. Tests
/// without a made time or a required age are skipped. n: the tests judged.
/// Evidence: the early tests.
pub fn tested_before_age(lab: &str, tests: &[LabTest], t: &LabThresholds) -> Vec<LabWarning> {
    let tolerance = i128::from(t.age_tolerance_hours) * HOUR_MS;
    let early = |test: &LabTest| match (test.specimen_made_ms, test.specimen_age_days_required) {
        (Some(made), Some(days)) => {
            i128::from(test.tested_ms) - i128::from(made) < i128::from(days) * DAY_MS - tolerance
        }
        _ => false,
    };
    let judged =
        own_tests(lab, tests, |t| t.specimen_made_ms.is_some() && t.specimen_age_days_required.is_some());
    let mut out = Vec::new();
    for (parameter, group) in by_parameter(&judged) {
        let hits: Vec<&LabTest> = group.iter().copied().filter(|test| early(test)).collect();
        let frame = Judged {
            signal: LabSignal::TestedBeforeAge,
            figure: Figure::TestsBeforeAge,
            lab,
            parameter: Some(parameter),
            n: group.len(),
        };
        out.extend(frame.count(test_ids(&hits), t.early_tests));
    }
    out
}

/// `staff_not_matching`, two figures reported separately (the warning's
/// [`Figure`] says which fired):
///
/// - per parameter, the lab's tests where nobody is recorded or someone
///   recorded holds no qualification of this lab for the parameter valid at
///   the test time; fires when there are at least `unqualified_tests`.
///   n: the lab's tests of the parameter. Evidence: those tests.
/// - over the lab, S / P: S the persons holding, at `now_ms`, a qualification
///   of this lab for at least one parameter it tested; P the distinct
///   parameters of its tests. Fires when it is below `staff_per_parameter`.
///   n: P. Evidence: the parameters tested (what the staff must cover).
pub fn staff_not_matching(
    lab: &str,
    tests: &[LabTest],
    staff: &[StaffQualification],
    now_ms: i64,
    t: &LabThresholds,
) -> Vec<LabWarning> {
    let own_staff: Vec<&StaffQualification> = staff.iter().filter(|q| q.lab == lab).collect();
    let qualified = |person: &str, parameter: &str, at: i64| {
        own_staff.iter().any(|q| q.person == person && q.parameter == parameter && q.valid_at(at))
    };
    let judged = own_tests(lab, tests, |_| true);
    let groups = by_parameter(&judged);
    let mut out = Vec::new();
    for (&parameter, group) in &groups {
        let hits: Vec<&LabTest> = group
            .iter()
            .copied()
            .filter(|test| {
                test.staff.is_empty() || test.staff.iter().any(|p| !qualified(p, parameter, test.tested_ms))
            })
            .collect();
        let frame = Judged {
            signal: LabSignal::StaffNotMatching,
            figure: Figure::TestsByUnqualifiedStaff,
            lab,
            parameter: Some(parameter),
            n: group.len(),
        };
        out.extend(frame.count(test_ids(&hits), t.unqualified_tests));
    }
    let parameters = groups.len();
    if parameters > 0 {
        let persons: BTreeSet<&str> = own_staff
            .iter()
            .filter(|q| groups.contains_key(q.parameter.as_str()) && q.valid_at(now_ms))
            .map(|q| q.person.as_str())
            .collect();
        let ratio = persons.len() as f64 / parameters as f64;
        if below(ratio, t.staff_per_parameter) {
            let frame = Judged {
                signal: LabSignal::StaffNotMatching,
                figure: Figure::QualifiedStaffPerParameter,
                lab,
                parameter: None,
                n: parameters,
            };
            let evidence = groups.keys().map(|&p| p.to_owned()).collect();
            out.push(frame.warn(ratio, t.staff_per_parameter, evidence));
        }
    }
    out
}

/// `results_edited`, over the lab: the share of its tests edited after
/// their first entry (`edits` > 0); fires when it is at least
/// `edited_share`, with at least `edited_min_n` tests. Evidence: the edited
/// tests.
pub fn results_edited(lab: &str, tests: &[LabTest], t: &LabThresholds) -> Vec<LabWarning> {
    let judged = own_tests(lab, tests, |_| true);
    let hits: Vec<&LabTest> = judged.iter().copied().filter(|test| test.edits > 0).collect();
    let frame = Judged {
        signal: LabSignal::ResultsEdited,
        figure: Figure::ShareEdited,
        lab,
        parameter: None,
        n: judged.len(),
    };
    frame.share(test_ids(&hits), t.edited_min_n, t.edited_share).into_iter().collect()
}

/// `reports_replaced`, over the lab: the share of its reports that were
/// revoked, or replaced by another of its reports given (one whose
/// `replaces` names it); fires when it is at least `replaced_share`, with at
/// least `replaced_min_n` reports. Pass the period's reports and the
/// reports replacing them (a replacement issued after the period still marks
/// its original); a replacement naming a report not given counts nothing
/// here. A report naming itself replaces nothing. Evidence: the reports
/// replaced or revoked.
pub fn reports_replaced(lab: &str, reports: &[LabReport], t: &LabThresholds) -> Vec<LabWarning> {
    let mut own: Vec<&LabReport> = reports.iter().filter(|r| r.lab == lab).collect();
    own.sort_by(|a, b| a.issued_ms.cmp(&b.issued_ms).then_with(|| a.id.cmp(&b.id)));
    let replaced: BTreeSet<&str> =
        own.iter().filter_map(|r| r.replaces.as_deref().filter(|&old| old != r.id)).collect();
    let hits: Vec<String> =
        own.iter().filter(|r| r.revoked || replaced.contains(r.id.as_str())).map(|r| r.id.clone()).collect();
    let frame = Judged {
        signal: LabSignal::ReportsReplaced,
        figure: Figure::ShareReplacedOrRevoked,
        lab,
        parameter: None,
        n: own.len(),
    };
    frame.share(hits, t.replaced_min_n, t.replaced_share).into_iter().collect()
}
