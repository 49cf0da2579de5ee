//! A test against the registry in force when it was made, and what is
//! about to lapse (R3).

use super::{DAY_MS, LabRegistry};
use crate::crypto::Hash;
use crate::model::Id;
use crate::verify::Lang;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How far ahead a lab is warned that something ends: one month (the
/// default of `LabThresholds::calibration_warn_days`, which the lab signal
/// `equipment_calibration_expiring` uses too).
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// One approved registry: what it says and from when (the approval's
/// server time, the `LabRegistryUpdated` record's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryVersion {
    /// The record that carries it.
    pub record: Hash,
    pub effective_ms: i64,
    pub registry: LabRegistry,
}

/// The registry in force at `at`: the latest approved at or before it
/// (of two approved at one instant, the later in `versions`).
pub fn in_force(versions: &[RegistryVersion], at: i64) -> Option<&RegistryVersion> {
    versions
        .iter()
        .enumerate()
        .filter(|(_, v)| v.effective_ms <= at)
        .max_by_key(|(i, v)| (v.effective_ms, *i))
        .map(|(_, v)| v)
}

/// One rule of the registry a test breaks (R3). The code is stable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum RegistryProblem {
    /// The parameter is not in the lab's scope at all.
    OutsideScope { parameter: String },
    /// It is, but its certificate was not valid at the test time.
    ScopeNotValid { parameter: String, certificate_no: String },
    /// The tester holds no qualification of this lab for the parameter.
    StaffNotQualified { person: String, parameter: String },
    /// They did, but it had lapsed at the test time.
    StaffQualificationLapsed { person: String, parameter: String },
    /// The test does not say which equipment it was made on.
    EquipmentNotNamed,
    /// The equipment named is not registered to the lab.
    EquipmentUnknown { equipment: String },
    /// Registered, but no certificate covered the test time.
    EquipmentOutOfCalibration { equipment: String },
}

impl RegistryProblem {
    pub fn code(&self) -> &'static str {
        match self {
            RegistryProblem::OutsideScope { .. } => "outside_scope",
            RegistryProblem::ScopeNotValid { .. } => "scope_not_valid",
            RegistryProblem::StaffNotQualified { .. } => "staff_not_qualified",
            RegistryProblem::StaffQualificationLapsed { .. } => "staff_qualification_lapsed",
            RegistryProblem::EquipmentNotNamed => "equipment_not_named",
            RegistryProblem::EquipmentUnknown { .. } => "equipment_unknown",
            RegistryProblem::EquipmentOutOfCalibration { .. } => "equipment_out_of_calibration",
        }
    }

    /// What people read, naming the rule (R3).
    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        match self {
            RegistryProblem::OutsideScope { parameter } => {
                if zh {
                    format!("检测参数 {parameter} 超出本检测机构登记的资质范围（R3）")
                } else {
                    format!("parameter {parameter} is outside the lab's registered scope (R3)")
                }
            }
            RegistryProblem::ScopeNotValid { parameter, certificate_no } => {
                if zh {
                    format!("检测时检测参数 {parameter} 的资质证书 {certificate_no} 不在有效期内（R3）")
                } else {
                    format!(
                        "the lab's certificate {certificate_no} for {parameter} was not valid at the test time (R3)"
                    )
                }
            }
            RegistryProblem::StaffNotQualified { person, parameter } => {
                if zh {
                    format!("检测人员 {person} 没有检测参数 {parameter} 的上岗资格（R3）")
                } else {
                    format!("tester {person} holds no qualification for {parameter} (R3)")
                }
            }
            RegistryProblem::StaffQualificationLapsed { person, parameter } => {
                if zh {
                    format!("检测时检测人员 {person} 的 {parameter} 上岗资格已过期（R3）")
                } else {
                    format!(
                        "tester {person}'s qualification for {parameter} had lapsed at the test time (R3)"
                    )
                }
            }
            RegistryProblem::EquipmentNotNamed => {
                if zh {
                    "检测数据没有注明所用仪器设备，无法核对其校准状态（R3）".into()
                } else {
                    "the test data names no equipment, so its calibration cannot be checked (R3)".into()
                }
            }
            RegistryProblem::EquipmentUnknown { equipment } => {
                if zh {
                    format!("仪器设备 {equipment} 未在本检测机构登记（R3）")
                } else {
                    format!("equipment {equipment} is not registered to the lab (R3)")
                }
            }
            RegistryProblem::EquipmentOutOfCalibration { equipment } => {
                if zh {
                    format!("检测时仪器设备 {equipment} 不在校准/检定有效期内（R3）")
                } else {
                    format!("equipment {equipment} was out of calibration at the test time (R3)")
                }
            }
        }
    }
}

/// R3: what `registry` says of one test of `parameter` by `tester` on
/// `equipment` at `tested_ms`, every problem at once (scope, staff,
/// equipment, in that order). Empty: the test keeps to the registry.
pub fn registry_check(
    registry: &LabRegistry,
    parameter: &str,
    tester: &Id,
    equipment: Option<&Id>,
    tested_ms: i64,
) -> Vec<RegistryProblem> {
    let mut out = Vec::new();
    let scope: Vec<_> = registry.scope.iter().filter(|s| s.parameter.trim() == parameter.trim()).collect();
    if scope.is_empty() {
        out.push(RegistryProblem::OutsideScope { parameter: parameter.to_owned() });
    } else if !scope.iter().any(|s| s.valid_at(tested_ms)) {
        out.push(RegistryProblem::ScopeNotValid {
            parameter: parameter.to_owned(),
            certificate_no: scope.iter().map(|s| s.certificate_no.trim()).collect::<Vec<_>>().join(", "),
        });
    }
    let lab = registry.lab.as_str();
    let quals: Vec<_> = registry
        .staff
        .iter()
        .filter(|q| q.lab == lab && q.person == tester.as_str() && q.parameter.trim() == parameter.trim())
        .collect();
    if quals.is_empty() {
        out.push(RegistryProblem::StaffNotQualified {
            person: tester.to_string(),
            parameter: parameter.to_owned(),
        });
    } else if !quals.iter().any(|q| q.valid_at(tested_ms)) {
        out.push(RegistryProblem::StaffQualificationLapsed {
            person: tester.to_string(),
            parameter: parameter.to_owned(),
        });
    }
    match equipment {
        None => out.push(RegistryProblem::EquipmentNotNamed),
        Some(item) => match registry.equipment.iter().find(|e| &e.id == item) {
            None => out.push(RegistryProblem::EquipmentUnknown { equipment: item.to_string() }),
            Some(e) if !e.register(&registry.lab).iter().any(|c| c.covers(tested_ms)) => {
                out.push(RegistryProblem::EquipmentOutOfCalibration { equipment: item.to_string() })
            }
            Some(_) => {}
        },
    }
    out
}

/// What the registry says of a test made some time in `[lo, hi]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryJudgement {
    /// No registry of the lab was in force at either end: nothing to
    /// check against (labs registered before R3's registry existed).
    NoRegistry,
    Judged {
        /// Problems at both ends: the test broke the registry wherever in
        /// the interval it was made.
        certain: Vec<RegistryProblem>,
        /// Problems at one end only (or with no registry at the other):
        /// it may have, depending on when exactly it was made.
        uncertain: Vec<RegistryProblem>,
    },
}

/// R3: judge a test made at some instant of `[lo, hi]` against the
/// registries in force at `lo` and at `hi` (a registry approved strictly
/// between them and replaced again before `hi` is not consulted: approvals
/// are days apart, proven intervals minutes).
pub fn judge_test(
    versions: &[RegistryVersion],
    parameter: &str,
    tester: &Id,
    equipment: Option<&Id>,
    lo: i64,
    hi: i64,
) -> RegistryJudgement {
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    let at =
        |t: i64| in_force(versions, t).map(|v| registry_check(&v.registry, parameter, tester, equipment, t));
    match (at(lo), at(hi)) {
        (None, None) => RegistryJudgement::NoRegistry,
        (Some(a), None) | (None, Some(a)) => RegistryJudgement::Judged { certain: vec![], uncertain: a },
        (Some(a), Some(b)) => {
            let certain: Vec<RegistryProblem> = a.iter().filter(|p| b.contains(p)).cloned().collect();
            let mut uncertain: Vec<RegistryProblem> =
                a.iter().chain(b.iter()).filter(|p| !certain.contains(p)).cloned().collect();
            uncertain.sort();
            uncertain.dedup();
            RegistryJudgement::Judged { certain, uncertain }
        }
    }
}

/// What ends soon.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "item", rename_all = "snake_case")]
pub enum ExpiringItem {
    /// The lab's qualification for a parameter (its latest certificate).
    Scope { parameter: String, certificate_no: String },
    /// An equipment item's calibration (its latest-ending certificate: a
    /// renewal registered ahead ends the warning).
    Equipment { equipment: String, certificate_no: String },
    /// A person's qualification for a parameter.
    Staff { person: String, parameter: String },
}

/// One registry entry ending within the warning window, or ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiry {
    pub item: ExpiringItem,
    pub until_ms: i64,
    /// Ended already (take it out of use, renew it, or retire it).
    pub expired: bool,
    /// Whole days left (0 on its last day; negative once ended).
    pub days_left: i64,
}

impl Expiry {
    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        let (what_zh, what_en) = match &self.item {
            ExpiringItem::Scope { parameter, certificate_no } => (
                format!("检测参数 {parameter} 的资质证书 {certificate_no}"),
                format!("the certificate {certificate_no} for {parameter}"),
            ),
            ExpiringItem::Equipment { equipment, certificate_no } => (
                format!("仪器设备 {equipment} 的校准/检定证书 {certificate_no}"),
                format!("the calibration of equipment {equipment} (certificate {certificate_no})"),
            ),
            ExpiringItem::Staff { person, parameter } => (
                format!("人员 {person} 的 {parameter} 上岗资格"),
                format!("{person}'s qualification for {parameter}"),
            ),
        };
        match (self.expired, zh) {
            (true, true) => format!("{what_zh}已过期，过期后不得再用于检测（R3）"),
            (true, false) => format!("{what_en} has lapsed: it must not be used for testing (R3)"),
            (false, true) if self.days_left == 0 => format!("{what_zh}今天到期，请及时办理（R3）"),
            (false, false) if self.days_left == 0 => format!("{what_en} ends today: renew it in time (R3)"),
            (false, true) => format!("{what_zh}将在 {} 天后到期，请及时办理（R3）", self.days_left),
            (false, false) => format!("{what_en} ends in {} days: renew it in time (R3)", self.days_left),
        }
    }
}

/// R3: every entry of `registry` whose validity ends within `window_ms` of
/// `now_ms` or has ended, soonest first. Per parameter (scope), item
/// (equipment) and person and parameter (staff), the latest-ending entry
/// counts: a renewal registered ahead ends the warning. Staff entries
/// without an end never lapse.
pub fn expiring(registry: &LabRegistry, now_ms: i64, window_ms: i64) -> Vec<Expiry> {
    // Per key (section, id, parameter): the latest-ending entry.
    type Key = (u8, String, String);
    fn later(ends: &mut BTreeMap<Key, (ExpiringItem, i64)>, key: Key, item: ExpiringItem, until: i64) {
        let e = ends.entry(key).or_insert((item.clone(), until));
        if until > e.1 {
            *e = (item, until);
        }
    }
    let mut ends: BTreeMap<Key, (ExpiringItem, i64)> = BTreeMap::new();
    for s in &registry.scope {
        let item =
            ExpiringItem::Scope { parameter: s.parameter.clone(), certificate_no: s.certificate_no.clone() };
        later(&mut ends, (0, s.parameter.clone(), String::new()), item, s.valid_until_ms);
    }
    for e in &registry.equipment {
        for c in &e.certificates {
            let item = ExpiringItem::Equipment {
                equipment: e.id.to_string(),
                certificate_no: c.certificate_no.clone(),
            };
            later(&mut ends, (1, e.id.to_string(), String::new()), item, c.valid_until_ms);
        }
    }
    let mut never = std::collections::BTreeSet::new();
    for q in &registry.staff {
        match q.valid_until_ms {
            None => {
                never.insert((q.person.clone(), q.parameter.clone()));
            }
            Some(until) => {
                let item = ExpiringItem::Staff { person: q.person.clone(), parameter: q.parameter.clone() };
                later(&mut ends, (2, q.person.clone(), q.parameter.clone()), item, until);
            }
        }
    }
    let latest =
        ends.into_iter().filter(|((kind, a, b), _)| !(*kind == 2 && never.contains(&(a.clone(), b.clone()))));
    let mut out: Vec<Expiry> = latest
        .map(|(_, v)| v)
        .filter(|(_, until)| i128::from(*until) - i128::from(now_ms) < i128::from(window_ms))
        .map(|(item, until)| {
            let left = i128::from(until) - i128::from(now_ms);
            let days = left.div_euclid(i128::from(DAY_MS));
            Expiry {
                item,
                until_ms: until,
                expired: left < 0,
                days_left: days.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
            }
        })
        .collect();
    out.sort_by(|a, b| a.until_ms.cmp(&b.until_ms).then_with(|| a.item.cmp(&b.item)));
    out
}
