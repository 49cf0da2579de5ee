//! The domain: who takes part, where, and what is sampled.
//!
//! Names follow the glossary in `REQUIREMENTS.md` (sampler, witness,
//! specimen, tag, commission form, receipt, unit project …).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Identifier assigned by the monitoring system (organisations, people,
/// projects, unit projects, tag batches, tests). Opaque, printable, short.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct Id(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid identifier {0:?}: 1-64 characters of A-Z a-z 0-9 . _ : -")]
pub struct IdError(pub String);

impl Id {
    pub fn new(s: impl Into<String>) -> Result<Id, IdError> {
        let s = s.into();
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
        if ok { Ok(Id(s)) } else { Err(IdError(s)) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Id {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Id::new(s)
    }
}
impl From<Id> for String {
    fn from(id: Id) -> String {
        id.0
    }
}
impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Build an [`Id`] from a literal known to be valid (tests, demo data).
#[macro_export]
macro_rules! id {
    ($s:expr) => {
        $crate::model::Id::new($s).expect("valid id literal")
    };
}

/// The part an organisation plays (A4–A8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum OrgRole {
    /// 建设单位
    Owner,
    /// 施工单位
    Contractor,
    /// 监理单位
    Supervisor,
    /// 检测机构
    Lab,
    /// 二维码标识供应商
    TagSupplier,
    /// 质量监督部门
    Regulator,
    /// 检测监控系统运营方
    Operator,
}

/// What a person is authorised to do on a project (R1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum PersonRole {
    /// 取样员/送试员 (contractor)
    Sampler,
    /// 见证员 (supervisor or owner)
    Witness,
    /// 收样员 (lab): receipt checks (R11)
    LabReceiver,
    /// 检测员 (lab): test data (R12)
    LabTester,
    /// 报告签发 (lab): reports (R13)
    LabReporter,
    /// 监督员 (regulator): read-only
    Inspector,
    /// 系统管理员 (operator)
    Admin,
    /// 建设单位项目负责人 (owner): registers the project's contracts (R2, R15)
    OwnerRepresentative,
    /// 施工单位技术负责人 (contractor): drafts the sampling plan (R4)
    ContractorEngineer,
    /// 监理工程师 (supervisor): approves the sampling and testing plans (R4, R5)
    SupervisingEngineer,
}

impl PersonRole {
    /// Which organisation role may hold this person role.
    pub fn allowed_for(self, org: OrgRole) -> bool {
        use OrgRole as O;
        use PersonRole as P;
        matches!(
            (self, org),
            (P::Sampler, O::Contractor)
                | (P::Witness, O::Supervisor | O::Owner)
                | (P::LabReceiver | P::LabTester | P::LabReporter, O::Lab)
                | (P::Inspector, O::Regulator)
                | (P::Admin, O::Operator)
                | (P::OwnerRepresentative, O::Owner)
                | (P::ContractorEngineer, O::Contractor)
                | (P::SupervisingEngineer, O::Supervisor)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Organisation {
    pub id: Id,
    pub name: String,
    pub role: OrgRole,
    /// 统一社会信用代码 (unified social credit code), 18 characters.
    pub credit_code: Option<String>,
    /// Administrative division code a regulator oversees (R18), e.g. 210800.
    pub jurisdiction: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Person {
    pub id: Id,
    pub name: String,
    pub org: Id,
}

/// A registered device: its key belongs to one person (R1, R9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub key: crate::crypto::PublicKey,
    pub person: Id,
    pub label: String,
}

/// 工程项目: one construction project, under one regulator's jurisdiction (R18).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Project {
    pub id: Id,
    pub name: String,
    pub owner: Id,
    /// Administrative division code of the jurisdiction (e.g. 210800 营口市).
    pub jurisdiction: String,
}

/// 单位工程: a building or structure within a project, with its site boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UnitProject {
    pub id: Id,
    pub project: Id,
    pub name: String,
    pub boundary: crate::place::SiteBoundary,
}

/// What kind of specimen is taken. The list follows the common witnessed
/// sampling items of GB 50204 / GB 50300 practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SpecimenKind {
    /// 混凝土试块
    ConcreteCube,
    /// 砂浆试块
    MortarCube,
    /// 钢筋原材
    Rebar,
    /// 钢筋机械连接接头
    RebarCoupler,
    /// 钢筋焊接接头
    RebarWeld,
    /// 防水材料
    Waterproofing,
    /// 砌块/砖
    Masonry,
    /// 水泥
    Cement,
    /// 其他
    Other,
}

impl SpecimenKind {
    pub const ALL: [SpecimenKind; 9] = [
        SpecimenKind::ConcreteCube,
        SpecimenKind::MortarCube,
        SpecimenKind::Rebar,
        SpecimenKind::RebarCoupler,
        SpecimenKind::RebarWeld,
        SpecimenKind::Waterproofing,
        SpecimenKind::Masonry,
        SpecimenKind::Cement,
        SpecimenKind::Other,
    ];

    pub fn name_zh(self) -> &'static str {
        match self {
            SpecimenKind::ConcreteCube => "混凝土试块",
            SpecimenKind::MortarCube => "砂浆试块",
            SpecimenKind::Rebar => "钢筋原材",
            SpecimenKind::RebarCoupler => "钢筋机械连接接头",
            SpecimenKind::RebarWeld => "钢筋焊接接头",
            SpecimenKind::Waterproofing => "防水材料",
            SpecimenKind::Masonry => "砌块/砖",
            SpecimenKind::Cement => "水泥",
            SpecimenKind::Other => "其他",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            SpecimenKind::ConcreteCube => "Concrete cube",
            SpecimenKind::MortarCube => "Mortar cube",
            SpecimenKind::Rebar => "Rebar",
            SpecimenKind::RebarCoupler => "Rebar coupler",
            SpecimenKind::RebarWeld => "Rebar weld",
            SpecimenKind::Waterproofing => "Waterproofing",
            SpecimenKind::Masonry => "Masonry unit",
            SpecimenKind::Cement => "Cement",
            SpecimenKind::Other => "Other",
        }
    }

    /// Mechanical tests whose data curves must be captured automatically (R12).
    pub fn has_mechanical_curve(self) -> bool {
        matches!(
            self,
            SpecimenKind::ConcreteCube
                | SpecimenKind::Rebar
                | SpecimenKind::RebarCoupler
                | SpecimenKind::RebarWeld
        )
    }
}

/// The prefix of administrative division codes (GB/T 2260) a regulator's own
/// code covers (R18): 210000 (Liaoning) covers `21…`, 210800 (Yingkou) covers
/// `2108…`, 210802 (a district) covers only itself.
pub fn division_prefix(code: &str) -> &str {
    let mut s = code.trim();
    while s.len() > 2 && s.ends_with("00") {
        s = &s[..s.len() - 2];
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r18_division_prefixes() {
        assert_eq!(division_prefix("210000"), "21");
        assert_eq!(division_prefix("210800"), "2108");
        assert_eq!(division_prefix("210802"), "210802");
        assert!("210802".starts_with(division_prefix("210800")));
        assert!(!"211002".starts_with(division_prefix("210800")));
    }
}
