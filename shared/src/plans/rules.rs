//! What makes a contract, a plan, an approval or a pre-start check refused
//! (R2, R4, R5, R15, R19). Each problem names its rule and says, in zh-CN
//! and English, what to change. The verifier turns them into
//! `Violation::PlanInvalid` (refused: kept as evidence, no effect).
//!
//! Who may sign is R1's (`RecordKind::required_role`): the owner's
//! representative for contracts, the contractor's engineer for sampling
//! plans, the lab's report signatory for testing plans, the supervising
//! engineer for approvals, an inspector for the pre-start check. Here: what
//! the signed content must hold together with.

use super::{
    Contract, ContractTerms, GuidePrice, MAX_SAMPLINGS_PER_ITEM, MAX_SPECIMENS_PER_SAMPLING, PlanApproval,
    PlanHistory, PreStartCheck, PreStartGap, ProjectPlans, SamplingPlan, TestingPlan,
};
use crate::crypto::Hash;
use crate::lab_registry::LabRegistry;
use crate::model::{Id, OrgRole, Organisation, Project, SpecimenKind};
use crate::record::LabAssignment;
use crate::time::Millis;
use crate::verify::{Lang, Rule};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A day: a contract signed "today" may carry today's date in any time zone.
const DAY_MS: Millis = 24 * 3600 * 1000;

/// What the rules read besides the payload.
#[derive(Debug, Clone, Copy)]
pub struct PlanFacts<'a> {
    pub plans: &'a ProjectPlans,
    /// The project the payload names, if registered.
    pub project: Option<&'a Project>,
    /// The unit projects registered under it.
    pub unit_projects: &'a BTreeSet<Id>,
    /// The author's organisation.
    pub author_org: Option<&'a Organisation>,
    /// Organisations the payload names (a contract's lab or supplier).
    pub named_org: Option<&'a Organisation>,
    /// The labs commissioned on the project (R2), from any path.
    pub lab_assignments: &'a [LabAssignment],
    /// The contract lab's registry in force at the record's time (R3);
    /// `None`: none on file.
    pub lab_registry: Option<&'a LabRegistry>,
    /// The supplier's filed guide prices (R15).
    pub guide_prices: &'a [GuidePrice],
    /// The system's own gaps for the project now (R19), for a check;
    /// `None` when the source cannot tell (a phone).
    pub gaps_now: Option<&'a [PreStartGap]>,
    /// The record's time (its proven latest moment, else the claim).
    pub at_ms: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "problem")]
pub enum PlanProblem {
    // --- contracts (R2, R15) ---
    ProjectUnknown { project: Id },
    NotProjectOwner,
    ContractNumberTaken { number: String },
    ContractNumberEmpty,
    SignedAfterRegistration,
    OrgNotOfRole { org: Id, expected: OrgRole },
    UnitProjectUnknown { unit_project: Id },
    TermsEmpty,
    LabAlreadyCommissioned { unit_project: Id, kind: SpecimenKind, lab: Id },
    OutsideLabScope { parameter: String },
    QuantityZero,
    NoGuidePrice { supplier: Id, year: u16 },
    AboveGuidePrice { price_fen: u32, guide_fen: u32 },
    GuidePriceInvalid,
    // --- plans (R4, R5) ---
    NoItems,
    DuplicateItem { item: Id },
    ImpossibleQuantity { item: Id },
    ImpossibleSpecimens { item: Id },
    PeriodReversed { item: Id },
    BeforeContract { item: Id, contract_ms: Millis },
    FieldEmpty { item: Id, field: String },
    VersionOutOfOrder { expected: u32 },
    SupersedesNotLatest,
    LabNotCommissioned { lab: Id },
    SamplingPlanUnknown,
    SamplingPlanNotApproved,
    ItemNotInSamplingPlan { item: Id },
    TagsTooFew { planned: u32, needed: u32 },
    // --- approvals (R4, R5) ---
    NotAPlanOfProject,
    ReturnedWithoutNote,
    // --- pre-start check (R19) ---
    OutsideJurisdiction,
    PassedWithGaps { gaps: Vec<PreStartGap> },
    RefusedWithoutNote,
}

impl PlanProblem {
    pub fn rule(&self) -> Rule {
        use PlanProblem as P;
        match self {
            P::NoGuidePrice { .. } | P::AboveGuidePrice { .. } | P::GuidePriceInvalid => Rule::R15,
            P::OrgNotOfRole { expected: OrgRole::TagSupplier, .. } => Rule::R15,
            P::ProjectUnknown { .. }
            | P::NotProjectOwner
            | P::ContractNumberTaken { .. }
            | P::ContractNumberEmpty
            | P::SignedAfterRegistration
            | P::OrgNotOfRole { .. }
            | P::TermsEmpty
            | P::LabAlreadyCommissioned { .. }
            | P::QuantityZero => Rule::R2,
            P::OutsideLabScope { .. } => Rule::R3,
            P::UnitProjectUnknown { .. }
            | P::NoItems
            | P::DuplicateItem { .. }
            | P::ImpossibleQuantity { .. }
            | P::ImpossibleSpecimens { .. }
            | P::PeriodReversed { .. }
            | P::BeforeContract { .. }
            | P::FieldEmpty { .. }
            | P::VersionOutOfOrder { .. }
            | P::SupersedesNotLatest
            | P::NotAPlanOfProject
            | P::ReturnedWithoutNote => Rule::R4,
            P::LabNotCommissioned { .. }
            | P::SamplingPlanUnknown
            | P::SamplingPlanNotApproved
            | P::ItemNotInSamplingPlan { .. }
            | P::TagsTooFew { .. } => Rule::R5,
            P::OutsideJurisdiction | P::PassedWithGaps { .. } | P::RefusedWithoutNote => Rule::R19,
        }
    }

    // One arm per problem, each its sentence in two languages: splitting
    // it would only scatter the words a reviewer compares side by side.
    #[allow(clippy::too_many_lines)]
    pub fn message(&self, lang: Lang) -> String {
        use PlanProblem as P;
        let zh = lang == Lang::ZhCn;
        let t = |z: String, e: String| if zh { z } else { e };
        match self {
            P::ProjectUnknown { project } => {
                t(format!("项目 {project} 未登记"), format!("project {project} is not registered"))
            }
            P::NotProjectOwner => t(
                "只有本项目的建设单位可以登记合同（R2）".into(),
                "only the project's owner registers its contracts (R2)".into(),
            ),
            P::ContractNumberTaken { number } => t(
                format!("合同编号 {number} 在本项目已登记（R2）"),
                format!("contract number {number} is already registered on this project (R2)"),
            ),
            P::ContractNumberEmpty => {
                t("合同编号不能为空（R2）".into(), "the contract number is empty (R2)".into())
            }
            P::SignedAfterRegistration => t(
                "合同签订日期晚于登记日期，请核对（R2）".into(),
                "the contract is dated after it was registered; check the date (R2)".into(),
            ),
            P::OrgNotOfRole { org, expected } => {
                let (z, e) = match expected {
                    OrgRole::Lab => ("检测机构", "a testing lab"),
                    OrgRole::TagSupplier => ("已备案的标识供应商", "a filed tag supplier"),
                    OrgRole::Regulator => ("质量监督部门", "a regulator"),
                    OrgRole::Supervisor => ("监理单位", "a supervisor"),
                    OrgRole::Contractor => ("施工单位", "a contractor"),
                    OrgRole::Owner => ("建设单位", "an owner"),
                    OrgRole::Operator => ("运营方", "the operator"),
                };
                t(format!("{org} 不是{z}"), format!("{org} is not {e}"))
            }
            P::UnitProjectUnknown { unit_project } => t(
                format!("单位工程 {unit_project} 不属于本项目"),
                format!("unit project {unit_project} is not one of this project's"),
            ),
            P::TermsEmpty => t(
                "检测合同须列明单位工程、检测类别和检测参数（R2）".into(),
                "a testing contract names its unit projects, test categories and parameters (R2)".into(),
            ),
            P::LabAlreadyCommissioned { unit_project, kind, lab } => t(
                format!(
                    "单位工程 {unit_project} 的{}已委托检测机构 {lab}：每个单位工程每个检测类别只能委托一家（R2）",
                    kind.name_zh()
                ),
                format!(
                    "{} on unit project {unit_project} is already commissioned to lab {lab}: one lab per unit project and category (R2)",
                    kind.name_en()
                ),
            ),
            P::OutsideLabScope { parameter } => t(
                format!("检测参数 {parameter} 不在该检测机构登记的资质范围内（R2、R3）"),
                format!("parameter {parameter} is outside the lab's registered scope (R2, R3)"),
            ),
            P::QuantityZero => t("数量必须大于零".into(), "the quantity must be more than zero".into()),
            P::NoGuidePrice { supplier, year } => t(
                format!("标识供应商 {supplier} 没有 {year} 年度的备案指导价（R15）"),
                format!("tag supplier {supplier} has no filed guide price for {year} (R15)"),
            ),
            P::AboveGuidePrice { price_fen, guide_fen } => t(
                format!("单价 {} 元高于备案指导价 {} 元（R15）", yuan(*price_fen), yuan(*guide_fen)),
                format!(
                    "the price {} yuan is above the filed guide price {} yuan (R15)",
                    yuan(*price_fen),
                    yuan(*guide_fen)
                ),
            ),
            P::GuidePriceInvalid => t(
                "备案指导价须大于零、年份有效并注明备案文号（R15）".into(),
                "a filed guide price is more than zero, for a real year, with its filing reference (R15)"
                    .into(),
            ),
            P::NoItems => t("计划没有任何条目（R4、R5）".into(), "the plan has no items (R4, R5)".into()),
            P::DuplicateItem { item } => t(format!("条目 {item} 重复"), format!("item {item} appears twice")),
            P::ImpossibleQuantity { item } => t(
                format!(
                    "条目 {item} 的取样数量不可能：须在 1 到 {MAX_SAMPLINGS_PER_ITEM} 次之间，频率的基数须大于零（R4）"
                ),
                format!(
                    "item {item}: impossible quantity — between 1 and {MAX_SAMPLINGS_PER_ITEM} samplings, and a frequency's step must be more than zero (R4)"
                ),
            ),
            P::ImpossibleSpecimens { item } => t(
                format!("条目 {item} 每次取样的试件数须在 1 到 {MAX_SPECIMENS_PER_SAMPLING} 之间（R4）"),
                format!(
                    "item {item}: specimens per sampling must be between 1 and {MAX_SPECIMENS_PER_SAMPLING} (R4)"
                ),
            ),
            P::PeriodReversed { item } => t(
                format!("条目 {item} 的计划结束日期早于开始日期（R4）"),
                format!("item {item}: the planned period ends before it starts (R4)"),
            ),
            P::BeforeContract { item, contract_ms } => t(
                format!(
                    "条目 {item} 的计划日期早于检测合同签订日期 {}（R2、R4）",
                    crate::calendar::date_cst(*contract_ms)
                ),
                format!(
                    "item {item}: planned before the testing contract was signed on {} (R2, R4)",
                    crate::calendar::date_cst(*contract_ms)
                ),
            ),
            P::FieldEmpty { item, field } => t(
                format!("条目 {item} 的“{}”不能为空", field_zh(field)),
                format!("item {item}: {field} is empty"),
            ),
            P::VersionOutOfOrder { expected } => t(
                format!("版本号应为 {expected}：每次修改为下一个版本，并注明所替换的版本（R4、R5）"),
                format!(
                    "the version should be {expected}: each change is the next version and names the one it replaces (R4, R5)"
                ),
            ),
            P::SupersedesNotLatest => t(
                "新版本必须替换当前最新的版本（R4、R5）".into(),
                "a new version replaces the latest version (R4, R5)".into(),
            ),
            P::LabNotCommissioned { lab } => t(
                format!("检测机构 {lab} 没有受委托承担该单位工程的检测（R2、R5）"),
                format!("lab {lab} is not commissioned for this unit project (R2, R5)"),
            ),
            P::SamplingPlanUnknown => t(
                "检测计划所依据的不是本单位工程的取样计划（R5）".into(),
                "the testing plan is not drawn from a sampling plan of this unit project (R5)".into(),
            ),
            P::SamplingPlanNotApproved => t(
                "检测计划所依据的取样计划尚未经监理批准（R4、R5）".into(),
                "the sampling plan it is drawn from is not approved by the supervisor (R4, R5)".into(),
            ),
            P::ItemNotInSamplingPlan { item } => t(
                format!("条目 {item} 不在所依据的取样计划中（R5）"),
                format!("item {item} is not in the sampling plan it is drawn from (R5)"),
            ),
            P::TagsTooFew { planned, needed } => t(
                format!("预计标识数量 {planned} 少于取样计划所需的 {needed}（R5）"),
                format!("{planned} tags estimated, fewer than the {needed} the sampling plan needs (R5)"),
            ),
            P::NotAPlanOfProject => t(
                "审批的对象不是本项目的取样计划或检测计划（R4、R5）".into(),
                "what is approved is not a sampling or testing plan of this project (R4, R5)".into(),
            ),
            P::ReturnedWithoutNote => t(
                "退回计划必须说明原因（R4、R5）".into(),
                "a plan is returned only with a reason (R4, R5)".into(),
            ),
            P::OutsideJurisdiction => t(
                "该项目不在本监督机构的辖区内（R18、R19）".into(),
                "the project is outside this regulator's jurisdiction (R18, R19)".into(),
            ),
            P::PassedWithGaps { gaps } => t(
                format!("仍有 {} 项未满足，开工前检查不能通过（R19）", gaps.len()),
                format!("{} conditions are not met: the pre-start check cannot pass (R19)", gaps.len()),
            ),
            P::RefusedWithoutNote => t(
                "开工前检查不通过时必须说明原因（R19）".into(),
                "a pre-start check that does not pass says why (R19)".into(),
            ),
        }
    }
}

fn yuan(fen: u32) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

fn field_zh(field: &str) -> &'static str {
    match field {
        "part" => "工程部位",
        "grade" => "规格/等级",
        "unit" => "单位",
        "tests" => "检测项目",
        "parameters" => "检测参数",
        _ => "字段",
    }
}

fn project_known(project: &Id, f: &PlanFacts<'_>, out: &mut Vec<PlanProblem>) -> bool {
    match f.project {
        Some(p) if &p.id == project => true,
        _ => {
            out.push(PlanProblem::ProjectUnknown { project: project.clone() });
            false
        }
    }
}

/// The rules of whichever plan payload this is (`None`: not a plan
/// payload). The verifier and the console's draft check call this one.
pub fn check(payload: &crate::record::Payload, f: &PlanFacts<'_>) -> Option<Vec<PlanProblem>> {
    use crate::record::Payload as P;
    Some(match payload {
        P::ContractRegistered(c) => contract(c, f),
        P::SamplingPlanDrafted(p) => sampling_plan(p, f),
        P::TestingPlanDrafted(p) => testing_plan(p, f),
        P::PlanApproved(a) => approval(a, f),
        P::PreStartChecked(c) => prestart_check(c, f),
        _ => return None,
    })
}

impl crate::verify::PlanSourceFacts {
    /// The facts the rules read, at `at_ms`.
    pub fn facts(&self, at_ms: Millis) -> PlanFacts<'_> {
        PlanFacts {
            plans: &self.plans,
            project: self.project.as_ref(),
            unit_projects: &self.unit_projects,
            author_org: self.author_org.as_ref(),
            named_org: self.named_org.as_ref(),
            lab_assignments: &self.lab_assignments,
            lab_registry: crate::lab_registry::in_force(&self.lab_registries, at_ms).map(|r| &r.registry),
            guide_prices: &self.guide_prices,
            gaps_now: self.prestart_gaps.as_deref(),
            at_ms,
        }
    }
}

/// R2, R15: a contract the owner registers.
pub fn contract(c: &Contract, f: &PlanFacts<'_>) -> Vec<PlanProblem> {
    use PlanProblem as P;
    let mut out = Vec::new();
    if project_known(&c.project, f, &mut out) && f.author_org.map(|o| &o.id) != f.project.map(|p| &p.owner) {
        out.push(P::NotProjectOwner);
    }
    let number = c.number.trim();
    if number.is_empty() {
        out.push(P::ContractNumberEmpty);
    } else if f.plans.contracts.iter().any(|e| e.contract.number.trim() == number) {
        out.push(P::ContractNumberTaken { number: number.into() });
    }
    if c.signed_ms > f.at_ms + DAY_MS {
        out.push(P::SignedAfterRegistration);
    }
    match &c.terms {
        ContractTerms::Testing { lab, unit_projects, kinds, parameters, estimated_tests } => {
            if f.named_org.map(|o| o.role) != Some(OrgRole::Lab) {
                out.push(P::OrgNotOfRole { org: lab.clone(), expected: OrgRole::Lab });
            }
            if unit_projects.is_empty() || kinds.is_empty() || parameters.iter().all(|p| p.trim().is_empty())
            {
                out.push(P::TermsEmpty);
            }
            if *estimated_tests == 0 {
                out.push(P::QuantityZero);
            }
            for u in unit_projects {
                if !f.unit_projects.contains(u) {
                    out.push(P::UnitProjectUnknown { unit_project: u.clone() });
                }
                for k in kinds {
                    if let Some(other) = f
                        .lab_assignments
                        .iter()
                        .find(|a| &a.unit_project == u && a.kinds.contains(k) && &a.lab != lab)
                    {
                        out.push(P::LabAlreadyCommissioned {
                            unit_project: u.clone(),
                            kind: *k,
                            lab: other.lab.clone(),
                        });
                    }
                }
            }
            if let Some(reg) = f.lab_registry {
                for p in parameters.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
                    if !reg.scope.iter().any(|s| s.parameter == p && s.valid_at(c.signed_ms.max(f.at_ms))) {
                        out.push(P::OutsideLabScope { parameter: p.into() });
                    }
                }
            }
        }
        ContractTerms::TagSupply { supplier, quantity, unit_price_fen, year } => {
            if f.named_org.map(|o| o.role) != Some(OrgRole::TagSupplier) {
                out.push(P::OrgNotOfRole { org: supplier.clone(), expected: OrgRole::TagSupplier });
            }
            if *quantity == 0 {
                out.push(P::QuantityZero);
            }
            match f.guide_prices.iter().rfind(|g| &g.supplier == supplier && g.year == *year) {
                None => out.push(P::NoGuidePrice { supplier: supplier.clone(), year: *year }),
                Some(g) if *unit_price_fen > g.price_fen => {
                    out.push(P::AboveGuidePrice { price_fen: *unit_price_fen, guide_fen: g.price_fen })
                }
                Some(_) => {}
            }
        }
    }
    out
}

/// The version rule shared by both plans: version 1 replaces nothing; each
/// later version is the next number and replaces the latest.
fn version<P>(
    history: Option<&PlanHistory<P>>,
    version: u32,
    supersedes: Option<&Hash>,
    out: &mut Vec<PlanProblem>,
) {
    let latest = history.and_then(PlanHistory::latest);
    let expected = latest.map_or(1, |_| history.map_or(0, |h| h.versions.len() as u32) + 1);
    if version != expected {
        out.push(PlanProblem::VersionOutOfOrder { expected });
    }
    if latest.map(|l| &l.record) != supersedes {
        out.push(PlanProblem::SupersedesNotLatest);
    }
}

/// R4: the contractor's sampling plan.
pub fn sampling_plan(p: &SamplingPlan, f: &PlanFacts<'_>) -> Vec<PlanProblem> {
    use PlanProblem as P;
    let mut out = Vec::new();
    project_known(&p.project, f, &mut out);
    if !f.unit_projects.contains(&p.unit_project) {
        out.push(P::UnitProjectUnknown { unit_project: p.unit_project.clone() });
    }
    version(f.plans.sampling.get(&p.unit_project), p.version, p.supersedes.as_ref(), &mut out);
    if p.items.is_empty() {
        out.push(P::NoItems);
    }
    let contract_ms = f.plans.contract_start_for(&p.unit_project);
    let mut seen = BTreeSet::new();
    for i in &p.items {
        if !seen.insert(&i.item) {
            out.push(P::DuplicateItem { item: i.item.clone() });
        }
        if i.rule.samplings().is_none_or(|n| n > MAX_SAMPLINGS_PER_ITEM) {
            out.push(P::ImpossibleQuantity { item: i.item.clone() });
        }
        if i.per_sampling == 0 || i.per_sampling > MAX_SPECIMENS_PER_SAMPLING {
            out.push(P::ImpossibleSpecimens { item: i.item.clone() });
        }
        if i.until_ms < i.from_ms {
            out.push(P::PeriodReversed { item: i.item.clone() });
        }
        if let Some(c) = contract_ms
            && start_of_day(i.from_ms) < start_of_day(c)
        {
            out.push(P::BeforeContract { item: i.item.clone(), contract_ms: c });
        }
        for (field, empty) in [
            ("part", i.part.trim().is_empty()),
            ("grade", i.grade.trim().is_empty()),
            ("unit", i.unit.trim().is_empty()),
            ("tests", i.tests.iter().all(|t| t.trim().is_empty())),
        ] {
            if empty {
                out.push(P::FieldEmpty { item: i.item.clone(), field: field.into() });
            }
        }
    }
    out
}

/// Dates are compared as China Standard Time days: a contract signed on
/// the 3rd allows a plan from the 3rd, whatever the hour typed.
fn start_of_day(ms: Millis) -> Millis {
    const CST: Millis = 8 * 3600 * 1000;
    (ms + CST).div_euclid(DAY_MS) * DAY_MS - CST
}

/// R5: the commissioned lab's testing plan.
pub fn testing_plan(p: &TestingPlan, f: &PlanFacts<'_>) -> Vec<PlanProblem> {
    use PlanProblem as P;
    let mut out = Vec::new();
    project_known(&p.project, f, &mut out);
    if !f.unit_projects.contains(&p.unit_project) {
        out.push(P::UnitProjectUnknown { unit_project: p.unit_project.clone() });
    }
    let commissioned = f.lab_assignments.iter().any(|a| a.unit_project == p.unit_project && a.lab == p.lab);
    if !commissioned || f.author_org.map(|o| &o.id) != Some(&p.lab) {
        out.push(P::LabNotCommissioned { lab: p.lab.clone() });
    }
    version(f.plans.testing.get(&p.unit_project), p.version, p.supersedes.as_ref(), &mut out);
    if p.items.is_empty() {
        out.push(P::NoItems);
    }
    let base = f.plans.sampling_version(&p.sampling_plan).filter(|v| v.plan.unit_project == p.unit_project);
    match base {
        None => out.push(P::SamplingPlanUnknown),
        Some(v) if !v.approved() => out.push(P::SamplingPlanNotApproved),
        Some(_) => {}
    }
    let mut seen = BTreeSet::new();
    for i in &p.items {
        if !seen.insert(&i.plan_item) {
            out.push(P::DuplicateItem { item: i.plan_item.clone() });
        }
        if i.tests == 0 || i.tests > MAX_SAMPLINGS_PER_ITEM {
            out.push(P::ImpossibleQuantity { item: i.plan_item.clone() });
        }
        if i.parameters.iter().all(|x| x.trim().is_empty()) {
            out.push(P::FieldEmpty { item: i.plan_item.clone(), field: "parameters".into() });
        }
        if let Some(v) = base
            && !v.plan.items.iter().any(|s| s.item == i.plan_item)
        {
            out.push(P::ItemNotInSamplingPlan { item: i.plan_item.clone() });
        }
    }
    if let Some(v) = base {
        let needed: u32 = v.plan.items.iter().map(|i| i.planned()).sum();
        if p.tags_needed < needed {
            out.push(P::TagsTooFew { planned: p.tags_needed, needed });
        }
    }
    out
}

/// R4, R5: the supervisor's word on a plan version of this project.
pub fn approval(a: &PlanApproval, f: &PlanFacts<'_>) -> Vec<PlanProblem> {
    let mut out = Vec::new();
    let of_project = f.plans.sampling_version(&a.plan).map(|v| &v.plan.project) == Some(&a.project)
        || f.plans.testing_version(&a.plan).map(|v| &v.plan.project) == Some(&a.project);
    if !of_project {
        out.push(PlanProblem::NotAPlanOfProject);
    }
    if !a.approved && a.note.trim().is_empty() {
        out.push(PlanProblem::ReturnedWithoutNote);
    }
    out
}

/// R19: the authority's pre-start check, by a regulator whose jurisdiction
/// holds the project (R18), consistent with what the system finds missing.
pub fn prestart_check(c: &PreStartCheck, f: &PlanFacts<'_>) -> Vec<PlanProblem> {
    let mut out = Vec::new();
    if project_known(&c.project, f, &mut out) {
        let within = match (f.author_org.and_then(|o| o.jurisdiction.as_deref()), f.project) {
            (Some(j), Some(p)) => {
                crate::access::jurisdiction_covers(crate::model::division_prefix(j), &p.jurisdiction)
            }
            _ => false,
        };
        if !within {
            out.push(PlanProblem::OutsideJurisdiction);
        }
    }
    if c.passed {
        let mut gaps: Vec<PreStartGap> = c.gaps.clone();
        if let Some(now) = f.gaps_now {
            gaps.extend(now.iter().cloned());
        }
        gaps.sort();
        gaps.dedup();
        if !gaps.is_empty() {
            out.push(PlanProblem::PassedWithGaps { gaps });
        }
    } else if c.note.trim().is_empty() {
        out.push(PlanProblem::RefusedWithoutNote);
    }
    out
}
