//! The lab registry (R3): what a testing lab is qualified to test (its
//! scope, with the certificate and its validity), the equipment it tests on
//! (machine, range and calibration or verification certificates) and its
//! staff's qualifications per parameter — kept current through change
//! requests the operator approves, and checked whenever the lab tests.
//!
//! * A registry is an admin fact like every other: the operator's approval
//!   of a lab's change request signs a `LabRegistryUpdated` record carrying
//!   the **whole** registry as of that change (`record::LabRegistryChange`),
//!   so "what was registered when" is read from the log, never rebuilt from
//!   edits. [`validate`] refuses a contradictory or impossible registry
//!   (validity ending before it starts, an unknown lab, an empty parameter,
//!   duplicate ids …) with a zh-CN/English message naming the rule.
//! * The registry **in force** at an instant is the latest one approved at
//!   or before it ([`in_force`]): a change counts from its approval, not
//!   from the dates typed into it (a certificate renewed on the 1st and
//!   approved on the 3rd leaves tests of the 2nd judged by the old entry).
//! * [`registry_check`] judges one test against one registry: parameter
//!   outside the scope or its certificate not valid, tester not qualified
//!   for the parameter (or the qualification lapsed), equipment not named,
//!   not registered, or out of calibration. [`judge_test`] does so at both
//!   ends of the test's time interval (proven bounds where they exist, the
//!   device's claim otherwise): a problem at both ends is certain, at one
//!   end only uncertain — the same stance as the 20-minute rule (R8): a
//!   decided verdict is never wrong.
//! * [`expiring`] lists what ends within a month (or has ended): the lab is
//!   warned ahead, as comparable provincial systems warn a month ahead.
//! * [`text`]: the registry as the console's request form edits it, and
//!   what a change changes ([`text::diff`]) for the operator approving it.
//!
//! The input types of the lab signals (`oversight::lab`) are reused:
//! [`StaffQualification`] is a registry's staff entry as is, and
//! [`RegisteredEquipment::register`] gives the signals' [`Equipment`] rows,
//! so the registered data feeds `lab_registry_signals` unchanged.

mod check;
#[cfg(test)]
mod tests;
pub mod text;

pub use check::{
    EXPIRY_WARNING_DAYS, ExpiringItem, Expiry, RegistryJudgement, RegistryProblem, RegistryVersion, expiring,
    in_force, judge_test, registry_check,
};

use crate::model::{Id, OrgRole};
pub use crate::oversight::lab::{Equipment, StaffQualification};
use crate::verify::Lang;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A day in milliseconds.
pub const DAY_MS: i64 = 24 * 3_600_000;

/// Entries one registry may hold in each section: more is not a lab's
/// register but a mistake (or an attempt to make every check slow).
pub const MAX_ENTRIES: usize = 2_000;

/// One parameter the lab is qualified to test (检测资质范围): the
/// certificate that says so and when it is valid (both ends inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScopeEntry {
    /// The parameter code tests name (`TestData::test`), e.g.
    /// `concrete_cube_strength`.
    pub parameter: String,
    /// The qualification certificate's number (资质证书编号).
    pub certificate_no: String,
    pub valid_from_ms: i64,
    pub valid_until_ms: i64,
}

impl ScopeEntry {
    pub fn valid_at(&self, ms: i64) -> bool {
        self.valid_from_ms <= ms && ms <= self.valid_until_ms
    }
}

/// One calibration or verification certificate (校准/检定证书) of an
/// equipment item, valid from its first to its last instant (inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CalibrationCertificate {
    pub certificate_no: String,
    pub valid_from_ms: i64,
    pub valid_until_ms: i64,
}

/// One equipment item of the lab (usually a testing machine).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RegisteredEquipment {
    /// As test data names it (`TestData::equipment`: the machine id its
    /// curve files carry).
    pub id: Id,
    /// What it is: make and model, e.g. "WAW-1000B 微机控制万能试验机".
    pub machine: String,
    /// Its measuring range, as the certificate states it, e.g. "0–1000 kN".
    pub range: String,
    /// Every certificate, old ones kept: a test is in calibration when one
    /// of them covers its time.
    pub certificates: Vec<CalibrationCertificate>,
}

impl RegisteredEquipment {
    /// The item's certificates as the lab signals' register rows.
    pub fn register(&self, lab: &Id) -> Vec<Equipment> {
        self.certificates
            .iter()
            .map(|c| Equipment {
                id: self.id.as_str().to_owned(),
                lab: lab.as_str().to_owned(),
                calibrated_from_ms: c.valid_from_ms,
                calibrated_until_ms: c.valid_until_ms,
            })
            .collect()
    }
}

/// A lab's whole registry as of one approved change (R3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LabRegistry {
    /// The lab (a registered organisation of role `lab`).
    pub lab: Id,
    /// The parameters it is qualified to test.
    pub scope: Vec<ScopeEntry>,
    pub equipment: Vec<RegisteredEquipment>,
    /// Its staff's qualifications, one entry per person and parameter;
    /// each entry's `lab` is this lab.
    pub staff: Vec<StaffQualification>,
}

impl LabRegistry {
    /// An empty registry for `lab` (what a first request starts from).
    pub fn empty(lab: Id) -> LabRegistry {
        LabRegistry { lab, scope: vec![], equipment: vec![], staff: vec![] }
    }

    /// Every certificate of every item, as the lab signals' register.
    pub fn equipment_register(&self) -> Vec<Equipment> {
        self.equipment.iter().flat_map(|e| e.register(&self.lab)).collect()
    }
}

/// The part of a registry an entry is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Scope,
    Equipment,
    Staff,
}

impl Section {
    fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Section::Scope, Lang::ZhCn) => "资质范围",
            (Section::Scope, Lang::En) => "scope",
            (Section::Equipment, Lang::ZhCn) => "仪器设备",
            (Section::Equipment, Lang::En) => "equipment",
            (Section::Staff, Lang::ZhCn) => "人员资格",
            (Section::Staff, Lang::En) => "staff",
        }
    }
}

/// A field an entry cannot leave empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Parameter,
    CertificateNo,
    Machine,
    Range,
    Person,
}

impl Field {
    fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Field::Parameter, Lang::ZhCn) => "检测参数",
            (Field::Parameter, Lang::En) => "parameter",
            (Field::CertificateNo, Lang::ZhCn) => "证书编号",
            (Field::CertificateNo, Lang::En) => "certificate number",
            (Field::Machine, Lang::ZhCn) => "设备名称型号",
            (Field::Machine, Lang::En) => "machine",
            (Field::Range, Lang::ZhCn) => "测量范围",
            (Field::Range, Lang::En) => "range",
            (Field::Person, Lang::ZhCn) => "人员",
            (Field::Person, Lang::En) => "person",
        }
    }
}

/// Why a registry cannot be stored (R3). Each names its rule and the entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum RegistryError {
    /// The lab is not a registered organisation.
    UnknownLab { lab: Id },
    /// The organisation is registered, but not as a lab.
    NotALab { lab: Id },
    /// A required field is empty (entry: its position, from 1, or its id).
    Empty { section: Section, entry: String, field: Field },
    /// Valid until before valid from.
    ValidityReversed { section: Section, entry: String },
    /// Two scope entries, equipment items or staff entries with one id.
    Duplicate { section: Section, entry: String },
    /// An equipment item without any calibration certificate.
    NoCertificate { equipment: Id },
    /// A staff entry naming another lab.
    OtherLab { person: String, lab: String },
    /// A staff entry naming a person the directory does not know.
    UnknownPerson { person: String },
    /// A staff entry naming a person of another organisation.
    PersonOfOtherOrg { person: String },
    /// More than [`MAX_ENTRIES`] in a section.
    TooMany { section: Section },
}

impl RegistryError {
    /// Its stable code.
    pub fn code(&self) -> &'static str {
        match self {
            RegistryError::UnknownLab { .. } => "unknown_lab",
            RegistryError::NotALab { .. } => "not_a_lab",
            RegistryError::Empty { .. } => "empty",
            RegistryError::ValidityReversed { .. } => "validity_reversed",
            RegistryError::Duplicate { .. } => "duplicate",
            RegistryError::NoCertificate { .. } => "no_certificate",
            RegistryError::OtherLab { .. } => "other_lab",
            RegistryError::UnknownPerson { .. } => "unknown_person",
            RegistryError::PersonOfOtherOrg { .. } => "person_of_other_org",
            RegistryError::TooMany { .. } => "too_many",
        }
    }

    /// What the lab manager or operator reads, naming the rule (R3).
    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        match self {
            RegistryError::UnknownLab { lab } => {
                if zh {
                    format!("检测机构 {lab} 未登记（R3）")
                } else {
                    format!("lab {lab} is not registered (R3)")
                }
            }
            RegistryError::NotALab { lab } => {
                if zh {
                    format!("单位 {lab} 不是检测机构，不能登记检测资质（R3）")
                } else {
                    format!("organisation {lab} is not a lab; it cannot hold a lab registry (R3)")
                }
            }
            RegistryError::Empty { section, entry, field } => {
                if zh {
                    format!("{}第 {entry} 项：{}不能为空（R3）", section.name(lang), field.name(lang))
                } else {
                    format!(
                        "{} entry {entry}: the {} cannot be empty (R3)",
                        section.name(lang),
                        field.name(lang)
                    )
                }
            }
            RegistryError::ValidityReversed { section, entry } => {
                if zh {
                    format!("{} {entry}：有效期截止日早于起始日（R3）", section.name(lang))
                } else {
                    format!("{} {entry}: valid until is before valid from (R3)", section.name(lang))
                }
            }
            RegistryError::Duplicate { section, entry } => {
                if zh {
                    format!("{} {entry} 重复登记（R3）", section.name(lang))
                } else {
                    format!("{} {entry} is registered twice (R3)", section.name(lang))
                }
            }
            RegistryError::NoCertificate { equipment } => {
                if zh {
                    format!("设备 {equipment} 没有校准/检定证书（R3）")
                } else {
                    format!("equipment {equipment} has no calibration or verification certificate (R3)")
                }
            }
            RegistryError::OtherLab { person, lab } => {
                if zh {
                    format!("人员 {person} 的资格登记在另一检测机构 {lab} 名下（R3）")
                } else {
                    format!("staff entry for {person} names another lab, {lab} (R3)")
                }
            }
            RegistryError::UnknownPerson { person } => {
                if zh {
                    format!("人员 {person} 未登记（R3）")
                } else {
                    format!("person {person} is not registered (R3)")
                }
            }
            RegistryError::PersonOfOtherOrg { person } => {
                if zh {
                    format!("人员 {person} 不是本检测机构的人员（R3）")
                } else {
                    format!("person {person} is not of this lab (R3)")
                }
            }
            RegistryError::TooMany { section } => {
                if zh {
                    format!("{}超过 {MAX_ENTRIES} 项（R3）", section.name(lang))
                } else {
                    format!("{} has more than {MAX_ENTRIES} entries (R3)", section.name(lang))
                }
            }
        }
    }
}

/// What the directory says about the names a registry uses: the lab's
/// organisation role (`None`: not registered) and, for each staff person
/// the directory knows, their organisation.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub lab_role: Option<OrgRole>,
    pub people: BTreeMap<String, Id>,
}

/// R3: every reason `reg` cannot be stored, in registry order (lab first,
/// then scope, equipment, staff). Empty: it may be stored.
pub fn validate(reg: &LabRegistry, known: &Known) -> Vec<RegistryError> {
    let mut out = Vec::new();
    match known.lab_role {
        None => out.push(RegistryError::UnknownLab { lab: reg.lab.clone() }),
        Some(OrgRole::Lab) => {}
        Some(_) => out.push(RegistryError::NotALab { lab: reg.lab.clone() }),
    }
    for (section, n) in [
        (Section::Scope, reg.scope.len()),
        (Section::Equipment, reg.equipment.len()),
        (Section::Staff, reg.staff.len()),
    ] {
        if n > MAX_ENTRIES {
            out.push(RegistryError::TooMany { section });
        }
    }
    if !out.iter().all(|e| matches!(e, RegistryError::UnknownLab { .. } | RegistryError::NotALab { .. })) {
        return out;
    }
    scope(reg, &mut out);
    equipment(reg, &mut out);
    staff(reg, known, &mut out);
    // A person the directory does not know is named once, however many
    // parameters they hold.
    let mut named = BTreeSet::new();
    out.retain(|e| match e {
        RegistryError::UnknownPerson { person } | RegistryError::PersonOfOtherOrg { person } => {
            named.insert((e.code(), person.clone()))
        }
        _ => true,
    });
    out
}

fn empty(s: &str) -> bool {
    s.trim().is_empty()
}

fn scope(reg: &LabRegistry, out: &mut Vec<RegistryError>) {
    let mut seen = BTreeSet::new();
    for (i, s) in reg.scope.iter().enumerate() {
        let entry = if empty(&s.parameter) { (i + 1).to_string() } else { s.parameter.clone() };
        if empty(&s.parameter) {
            out.push(RegistryError::Empty {
                section: Section::Scope,
                entry: entry.clone(),
                field: Field::Parameter,
            });
        }
        if empty(&s.certificate_no) {
            out.push(RegistryError::Empty {
                section: Section::Scope,
                entry: entry.clone(),
                field: Field::CertificateNo,
            });
        }
        if s.valid_until_ms < s.valid_from_ms {
            out.push(RegistryError::ValidityReversed { section: Section::Scope, entry: entry.clone() });
        }
        // One entry per parameter: two would leave "which certificate?" open.
        if !empty(&s.parameter) && !seen.insert(s.parameter.trim()) {
            out.push(RegistryError::Duplicate { section: Section::Scope, entry });
        }
    }
}

fn equipment(reg: &LabRegistry, out: &mut Vec<RegistryError>) {
    let mut seen = BTreeSet::new();
    for e in &reg.equipment {
        let entry = e.id.to_string();
        for (field, value) in [(Field::Machine, &e.machine), (Field::Range, &e.range)] {
            if empty(value) {
                out.push(RegistryError::Empty { section: Section::Equipment, entry: entry.clone(), field });
            }
        }
        if e.certificates.is_empty() {
            out.push(RegistryError::NoCertificate { equipment: e.id.clone() });
        }
        for c in &e.certificates {
            if empty(&c.certificate_no) {
                out.push(RegistryError::Empty {
                    section: Section::Equipment,
                    entry: entry.clone(),
                    field: Field::CertificateNo,
                });
            }
            if c.valid_until_ms < c.valid_from_ms {
                out.push(RegistryError::ValidityReversed {
                    section: Section::Equipment,
                    entry: format!("{entry} {}", c.certificate_no.trim()).trim().to_owned(),
                });
            }
        }
        if !seen.insert(&e.id) {
            out.push(RegistryError::Duplicate { section: Section::Equipment, entry });
        }
    }
}

fn staff(reg: &LabRegistry, known: &Known, out: &mut Vec<RegistryError>) {
    let mut seen = BTreeSet::new();
    for (i, q) in reg.staff.iter().enumerate() {
        let position = (i + 1).to_string();
        if empty(&q.person) {
            out.push(RegistryError::Empty {
                section: Section::Staff,
                entry: position.clone(),
                field: Field::Person,
            });
        }
        if empty(&q.parameter) {
            out.push(RegistryError::Empty {
                section: Section::Staff,
                entry: if empty(&q.person) { position } else { q.person.clone() },
                field: Field::Parameter,
            });
        }
        if empty(&q.person) {
            continue;
        }
        if q.lab != reg.lab.as_str() {
            out.push(RegistryError::OtherLab { person: q.person.clone(), lab: q.lab.clone() });
        }
        match known.people.get(&q.person) {
            None => out.push(RegistryError::UnknownPerson { person: q.person.clone() }),
            Some(org) if org != &reg.lab => {
                out.push(RegistryError::PersonOfOtherOrg { person: q.person.clone() })
            }
            Some(_) => {}
        }
        if !empty(&q.parameter) && !seen.insert((q.person.as_str(), q.parameter.trim())) {
            out.push(RegistryError::Duplicate {
                section: Section::Staff,
                entry: format!("{} {}", q.person, q.parameter.trim()),
            });
        }
    }
}
