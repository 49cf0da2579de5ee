//! Before work starts (R2, R4, R5, R15, R19) and the owner's duty that no
//! test is missed (A4.1): contracts, tag suppliers' guide prices, the
//! contractor's sampling plan, the lab's testing plan, the supervisor's
//! approvals and the authority's pre-start check — each a signed record in
//! the log — and what they add up to.
//!
//! * The payloads are here ([`Contract`], [`GuidePrice`], [`SamplingPlan`],
//!   [`TestingPlan`], [`PlanApproval`], [`PreStartCheck`]); the record
//!   format only names them.
//! * [`rules`]: what makes each one refused ([`PlanProblem`], every one in
//!   zh-CN and English, naming its requirement), pure over [`ProjectPlans`].
//! * [`ProjectPlans::fold`]: a project's plan records, in log order, folded
//!   into what is in force — the latest approved version of each plan (a
//!   newer draft waits for its own approval and changes nothing until then).
//! * [`prestart`]: what the authority finds missing before work starts.
//! * [`progress`]: planned against sampled, witnessed, tested and reported,
//!   and the items falling behind (A4.1).

pub mod prestart;
pub mod progress;
pub mod rules;
#[cfg(test)]
mod tests;
pub mod text;

use crate::crypto::Hash;
use crate::model::{Id, SpecimenKind};
use crate::time::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use rules::PlanProblem;

/// The most samplings one plan item may ask for: a bound on typos (an
/// extra zero), far above any unit project's real need (a 100,000 m³ pour
/// at one group per 100 m³ is 1,000).
pub const MAX_SAMPLINGS_PER_ITEM: u32 = 10_000;
/// The most specimens one sampling may take (a group of cubes is 3, a
/// rebar sampling 5 bars, a coupler group 3; mortar and masonry up to 15).
pub const MAX_SPECIMENS_PER_SAMPLING: u32 = 100;

/// R2, R15: a contract the owner registers before work starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Contract {
    /// The number printed on the contract (合同编号); one per project.
    pub number: String,
    pub project: Id,
    /// When it was signed (its first day counts).
    pub signed_ms: Millis,
    pub terms: ContractTerms,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ContractTerms {
    /// 检测合同 (R2): one lab for these unit projects and test categories.
    Testing {
        lab: Id,
        unit_projects: Vec<Id>,
        kinds: Vec<SpecimenKind>,
        /// The parameter codes contracted (as the lab registry's scope
        /// names them, e.g. `concrete_cube_strength`).
        parameters: Vec<String>,
        /// The estimated number of tests (工作量).
        estimated_tests: u32,
    },
    /// 标识供应合同 (R15): the supplier the owner chose, the quantity the
    /// testing plan asks for, the price per tag in fen (分).
    TagSupply { supplier: Id, quantity: u32, unit_price_fen: u32, year: u16 },
}

/// R15: a supplier's filed yearly guide price per tag (an operator-signed
/// admin fact: the filing is with the price authority, not the supplier's
/// word).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GuidePrice {
    pub supplier: Id,
    pub year: u16,
    /// Per tag, in fen (分), tax included.
    pub price_fen: u32,
    /// The filing's reference (备案文号).
    pub filing: String,
}

/// A price typed in yuan (`1.5`, `1.50`) in fen; `None` for anything
/// else (more than two decimals, signs, letters, overflow).
pub fn fen_of_yuan(v: &str) -> Option<u32> {
    let v = v.trim();
    let (y, f) = v.split_once('.').unwrap_or((v, ""));
    if y.is_empty() || f.len() > 2 || !y.bytes().chain(f.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let f: u32 = if f.is_empty() { 0 } else { format!("{f:0<2}").parse().ok()? };
    y.parse::<u32>().ok()?.checked_mul(100)?.checked_add(f)
}

/// How many samplings a plan item needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum QuantityRule {
    /// A fixed number of samplings.
    Count { samplings: u32 },
    /// One sampling per `per` of `total` (GB 50204: concrete one group per
    /// 100 m³; rebar per 60 t; couplers per 500): ⌈total / per⌉.
    Per { per: u32, total: u32, measure: Measure },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Measure {
    /// m³ (concrete, mortar)
    CubicMetre,
    /// t (rebar, cement)
    Tonne,
    /// pieces (couplers, welds, blocks)
    Piece,
}

impl Measure {
    pub fn symbol(self) -> &'static str {
        match self {
            Measure::CubicMetre => "m³",
            Measure::Tonne => "t",
            Measure::Piece => "个",
        }
    }
}

impl QuantityRule {
    /// The samplings this rule asks for; `None` when it cannot be met
    /// (zero, or a step of zero).
    pub fn samplings(self) -> Option<u32> {
        match self {
            QuantityRule::Count { samplings } => (samplings > 0).then_some(samplings),
            QuantityRule::Per { per, total, .. } => (per > 0 && total > 0).then(|| total.div_ceil(per)),
        }
    }
}

/// One item of a sampling plan: what is taken, how often, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlanItem {
    /// Stable across the plan's versions: samplings name it.
    pub item: Id,
    pub kind: SpecimenKind,
    /// 工程部位, e.g. "3层 柱".
    pub part: String,
    /// 规格/强度等级, e.g. "C30".
    pub grade: String,
    /// Tests asked for, e.g. "抗压强度".
    pub tests: Vec<String>,
    /// 组, 根, 个 …
    pub unit: String,
    /// Specimens per sampling (what the field app prefills).
    pub per_sampling: u32,
    pub rule: QuantityRule,
    /// The planned period (施工阶段): samplings are due evenly across it.
    pub from_ms: Millis,
    pub until_ms: Millis,
    /// 施工阶段, e.g. "主体结构".
    pub stage: String,
}

impl PlanItem {
    /// Planned samplings (0 when the rule cannot be met: refused by the rules).
    pub fn planned(&self) -> u32 {
        self.rule.samplings().unwrap_or(0)
    }
}

/// R4: the contractor's sampling plan for one unit project, from the design.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SamplingPlan {
    /// Stable across versions.
    pub plan: Id,
    pub project: Id,
    pub unit_project: Id,
    /// 1 for the first; each change is the next number.
    pub version: u32,
    /// The version this one replaces (its record), from version 2 on.
    pub supersedes: Option<Hash>,
    /// The design it is drawn from (drawing numbers, 设计文件).
    pub basis: String,
    /// Why this version (a change's reason; may be empty for version 1).
    pub note: String,
    pub items: Vec<PlanItem>,
}

/// One item of a testing plan: the tests the lab will run on a sampling
/// plan item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TestingPlanItem {
    pub plan_item: Id,
    /// Parameter codes, as the lab registry's scope names them.
    pub parameters: Vec<String>,
    /// Tests planned (usually the item's samplings).
    pub tests: u32,
}

/// R5: the commissioned lab's testing plan for one unit project, from the
/// drawings and the approved sampling plan, with the tags it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TestingPlan {
    pub plan: Id,
    pub project: Id,
    pub unit_project: Id,
    pub lab: Id,
    pub version: u32,
    pub supersedes: Option<Hash>,
    /// The sampling plan version (its record) it is drawn from.
    pub sampling_plan: Hash,
    pub note: String,
    pub items: Vec<TestingPlanItem>,
    /// The tags needed (one per sampling: a specimen group carries one).
    pub tags_needed: u32,
}

/// R4, R5: the supervisor's signature on one plan version: approval (for
/// a testing plan, the signature is the approval, and it is reported to
/// the authority with it) or its return with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlanApproval {
    /// The plan version's record.
    pub plan: Hash,
    pub project: Id,
    pub approved: bool,
    pub note: String,
}

/// R19: what the authority may find missing before work starts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "gap")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum PreStartGap {
    /// No unit project registered.
    NoUnitProject,
    /// No testing contract covers this unit project.
    TestingContract { unit_project: Id },
    /// No tag-supply contract.
    TagSupplyContract,
    /// No approved sampling plan.
    SamplingPlanApproved { unit_project: Id },
    /// No approved testing plan.
    TestingPlanApproved { unit_project: Id },
    /// No sampler authorised and in post.
    SamplerInPost,
    /// No witness authorised and in post.
    WitnessInPost,
    /// The tag-supply contracts hold fewer tags than the approved testing
    /// plans need (R5, R15).
    TagsShort { contracted: u32, needed: u32 },
}

/// R19: the authority's check of one project before work starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PreStartCheck {
    pub project: Id,
    /// Work may start.
    pub passed: bool,
    /// What the inspector found missing (the system's list, confirmed).
    pub gaps: Vec<PreStartGap>,
    pub note: String,
}

/// A plan record as the log holds it: which version of which plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanVersion<P> {
    pub record: Hash,
    /// When the server first saw it (or the phone received it).
    pub at_ms: Millis,
    pub plan: P,
    /// The supervisor's latest word on this very version.
    pub decision: Option<Decision>,
}

/// A supervisor's decision on one plan version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub record: Hash,
    pub by: Id,
    pub at_ms: Millis,
    pub approved: bool,
    pub note: String,
}

impl<P> PlanVersion<P> {
    pub fn approved(&self) -> bool {
        self.decision.as_ref().is_some_and(|d| d.approved)
    }
}

/// One plan's versions, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanHistory<P> {
    pub versions: Vec<PlanVersion<P>>,
}

impl<P> Default for PlanHistory<P> {
    fn default() -> Self {
        PlanHistory { versions: Vec::new() }
    }
}

impl<P> PlanHistory<P> {
    /// The newest version, approved or not.
    pub fn latest(&self) -> Option<&PlanVersion<P>> {
        self.versions.last()
    }
    /// The version in force: the newest approved one.
    pub fn in_force(&self) -> Option<&PlanVersion<P>> {
        self.versions.iter().rev().find(|v| v.approved())
    }
}

/// A contract as the log holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractEntry {
    pub record: Hash,
    pub at_ms: Millis,
    pub contract: Contract,
}

/// A pre-start check as the log holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckEntry {
    pub record: Hash,
    pub at_ms: Millis,
    pub by: Id,
    pub check: PreStartCheck,
}

/// One accepted plan record of a project, in log order, for [`ProjectPlans::fold`].
#[derive(Debug, Clone)]
pub struct PlanRecord {
    pub record: Hash,
    pub author: Id,
    pub at_ms: Millis,
    pub doc: PlanDoc,
}

/// The payloads [`ProjectPlans::fold`] reads.
#[derive(Debug, Clone)]
pub enum PlanDoc {
    Contract(Contract),
    Sampling(SamplingPlan),
    Testing(TestingPlan),
    Approval(PlanApproval),
    Check(PreStartCheck),
}

/// What is in force on one project: its contracts, each unit project's
/// sampling and testing plans with their versions, the pre-start checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectPlans {
    pub contracts: Vec<ContractEntry>,
    /// By unit project.
    pub sampling: BTreeMap<Id, PlanHistory<SamplingPlan>>,
    pub testing: BTreeMap<Id, PlanHistory<TestingPlan>>,
    pub checks: Vec<CheckEntry>,
}

impl ProjectPlans {
    /// Fold a project's accepted plan records, in log order. Records the
    /// rules refused never reach here (they are kept as evidence but have
    /// no effect); an approval names a version by its record, so one that
    /// names an unknown record changes nothing.
    pub fn fold(records: impl IntoIterator<Item = PlanRecord>) -> ProjectPlans {
        let mut out = ProjectPlans::default();
        for r in records {
            match r.doc {
                PlanDoc::Contract(contract) => {
                    out.contracts.push(ContractEntry { record: r.record, at_ms: r.at_ms, contract })
                }
                PlanDoc::Sampling(plan) => {
                    let h = out.sampling.entry(plan.unit_project.clone()).or_default();
                    h.versions.push(PlanVersion { record: r.record, at_ms: r.at_ms, plan, decision: None });
                }
                PlanDoc::Testing(plan) => {
                    let h = out.testing.entry(plan.unit_project.clone()).or_default();
                    h.versions.push(PlanVersion { record: r.record, at_ms: r.at_ms, plan, decision: None });
                }
                PlanDoc::Approval(a) => {
                    let d = Decision {
                        record: r.record,
                        by: r.author,
                        at_ms: r.at_ms,
                        approved: a.approved,
                        note: a.note,
                    };
                    // A newer word on the same version replaces the older:
                    // the supervisor may return a version approved before.
                    if let Some(slot) = out.decision_mut(&a.plan) {
                        *slot = Some(d);
                    }
                }
                PlanDoc::Check(check) => {
                    out.checks.push(CheckEntry { record: r.record, at_ms: r.at_ms, by: r.author, check })
                }
            }
        }
        out
    }

    fn decision_mut(&mut self, record: &Hash) -> Option<&mut Option<Decision>> {
        let sampling = self
            .sampling
            .values_mut()
            .flat_map(|h| h.versions.iter_mut())
            .map(|v| (v.record, &mut v.decision));
        let testing = self
            .testing
            .values_mut()
            .flat_map(|h| h.versions.iter_mut())
            .map(|v| (v.record, &mut v.decision));
        sampling.chain(testing).find(|(r, _)| r == record).map(|(_, d)| d)
    }

    /// The sampling plan version with this record, wherever it is.
    pub fn sampling_version(&self, record: &Hash) -> Option<&PlanVersion<SamplingPlan>> {
        self.sampling.values().flat_map(|h| &h.versions).find(|v| &v.record == record)
    }

    /// The testing plan version with this record, wherever it is.
    pub fn testing_version(&self, record: &Hash) -> Option<&PlanVersion<TestingPlan>> {
        self.testing.values().flat_map(|h| &h.versions).find(|v| &v.record == record)
    }

    /// The testing contracts covering a unit project.
    pub fn testing_contracts_for<'a>(
        &'a self,
        unit_project: &'a Id,
    ) -> impl Iterator<Item = &'a Contract> + 'a {
        self.contracts.iter().map(|c| &c.contract).filter(move |c| match &c.terms {
            ContractTerms::Testing { unit_projects, .. } => unit_projects.contains(unit_project),
            ContractTerms::TagSupply { .. } => false,
        })
    }

    /// The earliest signing of a contract covering a unit project: plan
    /// dates before it are impossible (R4, R5).
    pub fn contract_start_for(&self, unit_project: &Id) -> Option<Millis> {
        self.testing_contracts_for(unit_project).map(|c| c.signed_ms).min()
    }

    /// The approved sampling plan item in force, by its id.
    pub fn plan_item(&self, unit_project: &Id, item: &Id) -> Option<&PlanItem> {
        self.sampling.get(unit_project)?.in_force()?.plan.items.iter().find(|i| &i.item == item)
    }

    /// The version number and the record a new version of a unit
    /// project's sampling (or, with `testing`, testing) plan replaces.
    pub fn next_version(&self, unit_project: &Id, testing: bool) -> (u32, Option<Hash>) {
        let latest = if testing {
            self.testing.get(unit_project).map(|h| (h.versions.len(), h.latest().map(|v| v.record)))
        } else {
            self.sampling.get(unit_project).map(|h| (h.versions.len(), h.latest().map(|v| v.record)))
        };
        match latest {
            Some((n, record)) => (n as u32 + 1, record),
            None => (1, None),
        }
    }

    /// The latest pre-start check, if any.
    pub fn latest_check(&self) -> Option<&CheckEntry> {
        self.checks.last()
    }
}

/// Why a sampling is marked outside the approved plan (R4): possible (a
/// site cannot wait for paperwork) but visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum OutsidePlan {
    /// The unit project has no approved sampling plan.
    NoApprovedPlan,
    /// The sampling names no plan item.
    NoItem,
    /// The item it names is not in the approved plan in force.
    UnknownItem,
    /// The item is of another specimen kind.
    KindDiffers,
}

/// R4: is this sampling outside the approved plan, and why? `None`: inside.
pub fn sampling_outside_plan(
    plans: &ProjectPlans,
    unit_project: &Id,
    kind: SpecimenKind,
    plan_item: Option<&Id>,
) -> Option<OutsidePlan> {
    if plans.sampling.get(unit_project).and_then(PlanHistory::in_force).is_none() {
        return Some(OutsidePlan::NoApprovedPlan);
    }
    let Some(item) = plan_item else { return Some(OutsidePlan::NoItem) };
    match plans.plan_item(unit_project, item) {
        None => Some(OutsidePlan::UnknownItem),
        Some(i) if i.kind != kind => Some(OutsidePlan::KindDiffers),
        Some(_) => None,
    }
}
