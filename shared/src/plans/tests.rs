//! Rule tests, named by the requirement they hold (R2, R4, R5, R15, R19, A4.1).

use super::progress::{self, Counts, ItemStatus, ProgressPolicy};
use super::rules::{self, PlanFacts, PlanProblem};
use super::*;
use crate::lab_registry::{LabRegistry, ScopeEntry};
use crate::model::{OrgRole, Organisation, Project};
use crate::record::LabAssignment;
use crate::verify::Lang;
use proptest::prelude::*;
use std::collections::BTreeSet;

const DAY: Millis = 24 * 3600 * 1000;
/// 2026-12-01 00:00 China Standard Time.
const DEC1: Millis = 1_796_054_400_000;

fn id(s: &str) -> Id {
    Id::new(s).unwrap()
}

fn org(i: &str, role: OrgRole, jurisdiction: Option<&str>) -> Organisation {
    Organisation {
        id: id(i),
        name: i.into(),
        role,
        credit_code: None,
        jurisdiction: jurisdiction.map(Into::into),
    }
}

fn project() -> Project {
    Project {
        id: id("PRJ-1"),
        name: "营口站前小区".into(),
        owner: id("ORG-OWN"),
        jurisdiction: "210802".into(),
    }
}

fn item(i: &str, rule: QuantityRule) -> PlanItem {
    PlanItem {
        item: id(i),
        kind: SpecimenKind::ConcreteCube,
        part: "3层 柱".into(),
        grade: "C30".into(),
        tests: vec!["抗压强度".into()],
        unit: "组".into(),
        per_sampling: 3,
        rule,
        from_ms: DEC1,
        until_ms: DEC1 + 100 * DAY,
        stage: "主体结构".into(),
    }
}

fn per100(total: u32) -> QuantityRule {
    QuantityRule::Per { per: 100, total, measure: Measure::CubicMetre }
}

fn sampling_plan(version: u32, supersedes: Option<Hash>, items: Vec<PlanItem>) -> SamplingPlan {
    SamplingPlan {
        plan: id("SP-UP1"),
        project: id("PRJ-1"),
        unit_project: id("UP-1"),
        version,
        supersedes,
        basis: "结施-01~12".into(),
        note: String::new(),
        items,
    }
}

fn testing_contract(lab: &str, signed_ms: Millis) -> Contract {
    Contract {
        number: format!("JC-{lab}"),
        project: id("PRJ-1"),
        signed_ms,
        terms: ContractTerms::Testing {
            lab: id(lab),
            unit_projects: vec![id("UP-1")],
            kinds: vec![SpecimenKind::ConcreteCube],
            parameters: vec!["concrete_cube_strength".into()],
            estimated_tests: 40,
        },
    }
}

fn h(s: &str) -> Hash {
    Hash::of(s.as_bytes())
}

/// A world of plan records, folded, and the facts the rules read.
struct W {
    plans: ProjectPlans,
    project: Project,
    units: BTreeSet<Id>,
    author: Organisation,
    named: Option<Organisation>,
    assignments: Vec<LabAssignment>,
    registry: Option<LabRegistry>,
    prices: Vec<GuidePrice>,
    gaps: Option<Vec<PreStartGap>>,
}

impl W {
    fn new(records: Vec<PlanRecord>, author: Organisation) -> W {
        W {
            plans: ProjectPlans::fold(records),
            project: project(),
            units: [id("UP-1"), id("UP-2")].into(),
            author,
            named: None,
            assignments: vec![],
            registry: None,
            prices: vec![],
            gaps: None,
        }
    }
    fn facts(&self, at_ms: Millis) -> PlanFacts<'_> {
        PlanFacts {
            plans: &self.plans,
            project: Some(&self.project),
            unit_projects: &self.units,
            author_org: Some(&self.author),
            named_org: self.named.as_ref(),
            lab_assignments: &self.assignments,
            lab_registry: self.registry.as_ref(),
            guide_prices: &self.prices,
            gaps_now: self.gaps.as_deref(),
            at_ms,
        }
    }
}

fn rec(n: &str, author: &str, at_ms: Millis, doc: PlanDoc) -> PlanRecord {
    PlanRecord { record: h(n), author: id(author), at_ms, doc }
}

fn approve(plan: &str, yes: bool) -> PlanDoc {
    PlanDoc::Approval(PlanApproval {
        plan: h(plan),
        project: id("PRJ-1"),
        approved: yes,
        note: "见附件".into(),
    })
}

// ------------------------------------------------------------------ R2

#[test]
fn r2_testing_contract_by_the_owner_for_a_qualified_lab_is_clean() {
    let mut w = W::new(vec![], org("ORG-OWN", OrgRole::Owner, None));
    w.named = Some(org("ORG-LAB", OrgRole::Lab, None));
    w.registry = Some(LabRegistry {
        scope: vec![ScopeEntry {
            parameter: "concrete_cube_strength".into(),
            certificate_no: "CMA-1".into(),
            valid_from_ms: 0,
            valid_until_ms: DEC1 + 400 * DAY,
        }],
        ..LabRegistry::empty(id("ORG-LAB"))
    });
    assert_eq!(rules::contract(&testing_contract("ORG-LAB", DEC1), &w.facts(DEC1)), vec![]);
}

#[test]
fn r2_a_second_lab_for_the_same_unit_project_and_category_is_refused() {
    let mut w = W::new(vec![], org("ORG-OWN", OrgRole::Owner, None));
    w.named = Some(org("ORG-LAB2", OrgRole::Lab, None));
    w.assignments = vec![LabAssignment {
        project: id("PRJ-1"),
        unit_project: id("UP-1"),
        lab: id("ORG-LAB"),
        kinds: vec![SpecimenKind::ConcreteCube],
    }];
    let p = rules::contract(&testing_contract("ORG-LAB2", DEC1), &w.facts(DEC1));
    assert_eq!(
        p,
        vec![PlanProblem::LabAlreadyCommissioned {
            unit_project: id("UP-1"),
            kind: SpecimenKind::ConcreteCube,
            lab: id("ORG-LAB")
        }]
    );
    assert!(p[0].message(Lang::ZhCn).contains("只能委托一家"));
    assert!(p[0].message(Lang::En).contains("one lab per unit project"));
    assert_eq!(p[0].rule(), crate::verify::Rule::R2);
}

#[test]
fn r2_contract_by_someone_not_the_owner_outside_scope_or_misdated_is_refused() {
    let mut w = W::new(vec![], org("ORG-CON", OrgRole::Contractor, None));
    w.named = Some(org("ORG-LAB", OrgRole::Lab, None));
    w.registry = Some(LabRegistry::empty(id("ORG-LAB")));
    let p = rules::contract(&testing_contract("ORG-LAB", DEC1 + 10 * DAY), &w.facts(DEC1));
    assert!(p.contains(&PlanProblem::NotProjectOwner), "{p:?}");
    assert!(p.contains(&PlanProblem::OutsideLabScope { parameter: "concrete_cube_strength".into() }));
    assert!(p.contains(&PlanProblem::SignedAfterRegistration));
    // A lab that is not a lab, a unit project of another project.
    let mut c = testing_contract("ORG-SUP", DEC1);
    if let ContractTerms::Testing { unit_projects, .. } = &mut c.terms {
        unit_projects.push(id("UP-9"));
    }
    w.named = Some(org("ORG-SUP", OrgRole::Supervisor, None));
    let p = rules::contract(&c, &w.facts(DEC1));
    assert!(p.contains(&PlanProblem::OrgNotOfRole { org: id("ORG-SUP"), expected: OrgRole::Lab }));
    assert!(p.contains(&PlanProblem::UnitProjectUnknown { unit_project: id("UP-9") }));
}

#[test]
fn r2_contract_numbers_are_unique_per_project() {
    let first = rec("c1", "P-OWN", DEC1, PlanDoc::Contract(testing_contract("ORG-LAB", DEC1)));
    let mut w = W::new(vec![first], org("ORG-OWN", OrgRole::Owner, None));
    w.named = Some(org("ORG-LAB", OrgRole::Lab, None));
    let p = rules::contract(&testing_contract("ORG-LAB", DEC1), &w.facts(DEC1));
    assert_eq!(p, vec![PlanProblem::ContractNumberTaken { number: "JC-ORG-LAB".into() }]);
}

// ----------------------------------------------------------------- R15

fn tag_contract(price: u32) -> Contract {
    Contract {
        number: "BS-1".into(),
        project: id("PRJ-1"),
        signed_ms: DEC1,
        terms: ContractTerms::TagSupply {
            supplier: id("ORG-TAG"),
            quantity: 500,
            unit_price_fen: price,
            year: 2026,
        },
    }
}

#[test]
fn r15_a_price_above_the_filed_guide_is_refused_and_at_or_below_it_is_not() {
    let mut w = W::new(vec![], org("ORG-OWN", OrgRole::Owner, None));
    w.named = Some(org("ORG-TAG", OrgRole::TagSupplier, None));
    let p = rules::contract(&tag_contract(180), &w.facts(DEC1));
    assert_eq!(p, vec![PlanProblem::NoGuidePrice { supplier: id("ORG-TAG"), year: 2026 }]);
    w.prices = vec![GuidePrice {
        supplier: id("ORG-TAG"),
        year: 2026,
        price_fen: 150,
        filing: "营价备〔2026〕3号".into(),
    }];
    let p = rules::contract(&tag_contract(180), &w.facts(DEC1));
    assert_eq!(p, vec![PlanProblem::AboveGuidePrice { price_fen: 180, guide_fen: 150 }]);
    assert!(p[0].message(Lang::ZhCn).contains("1.80 元高于备案指导价 1.50 元"));
    assert_eq!(p[0].rule(), crate::verify::Rule::R15);
    assert_eq!(rules::contract(&tag_contract(150), &w.facts(DEC1)), vec![]);
    assert_eq!(rules::contract(&tag_contract(120), &w.facts(DEC1)), vec![]);
}

#[test]
fn r15_prices_are_typed_in_yuan_and_kept_in_fen() {
    assert_eq!(fen_of_yuan("1.5"), Some(150));
    assert_eq!(fen_of_yuan(" 1.50 "), Some(150));
    assert_eq!(fen_of_yuan("2"), Some(200));
    assert_eq!(fen_of_yuan("0.05"), Some(5));
    assert_eq!(fen_of_yuan("1."), Some(100), "a trailing point is a whole yuan");
    for bad in ["1.505", "-1", "1,50", "", ".5", "一元", "99999999999"] {
        assert_eq!(fen_of_yuan(bad), None, "{bad}");
    }
}

// ------------------------------------------------------------------ R4

#[test]
fn r4_quantity_rules_give_the_samplings_the_standards_ask_for() {
    // GB 50204: one group per 100 m³; 2,350 m³ is 24 groups.
    assert_eq!(per100(2350).samplings(), Some(24));
    assert_eq!(per100(100).samplings(), Some(1));
    assert_eq!(per100(1).samplings(), Some(1));
    assert_eq!(QuantityRule::Per { per: 0, total: 5, measure: Measure::Tonne }.samplings(), None);
    assert_eq!(QuantityRule::Count { samplings: 0 }.samplings(), None);
}

#[test]
fn r4_impossible_quantities_reversed_periods_and_dates_before_the_contract_are_refused() {
    let c = rec("c1", "P-OWN", DEC1, PlanDoc::Contract(testing_contract("ORG-LAB", DEC1 + 5 * DAY)));
    let w = W::new(vec![c], org("ORG-CON", OrgRole::Contractor, None));
    let mut zero = item("I-0", QuantityRule::Count { samplings: 0 });
    zero.from_ms = DEC1 + 5 * DAY;
    let mut huge = item("I-H", per100(10_000_000));
    huge.from_ms = DEC1 + 6 * DAY;
    let mut reversed = item("I-R", per100(500));
    reversed.from_ms = DEC1 + 7 * DAY;
    reversed.until_ms = DEC1 + 6 * DAY;
    let early = item("I-E", per100(500)); // from DEC1, contract on DEC1 + 5 days
    let mut blank = item("I-B", per100(500));
    blank.from_ms = DEC1 + 5 * DAY;
    blank.part = "  ".into();
    blank.per_sampling = 0;
    let p = rules::sampling_plan(
        &sampling_plan(1, None, vec![zero, huge, reversed, early, blank]),
        &w.facts(DEC1),
    );
    for want in [
        PlanProblem::ImpossibleQuantity { item: id("I-0") },
        PlanProblem::ImpossibleQuantity { item: id("I-H") },
        PlanProblem::PeriodReversed { item: id("I-R") },
        PlanProblem::BeforeContract { item: id("I-E"), contract_ms: DEC1 + 5 * DAY },
        PlanProblem::FieldEmpty { item: id("I-B"), field: "part".into() },
        PlanProblem::ImpossibleSpecimens { item: id("I-B") },
    ] {
        assert!(p.contains(&want), "missing {want:?} in {p:?}");
    }
    assert_eq!(p.len(), 6, "{p:?}");
    for x in &p {
        assert!(!x.message(Lang::ZhCn).is_empty() && !x.message(Lang::En).is_empty());
    }
    // The same day as the contract, whatever the hour, is not before it.
    let mut same_day = item("I-S", per100(500));
    same_day.from_ms = DEC1 + 5 * DAY + 3_600_000;
    let c_late = rec(
        "c1",
        "P-OWN",
        DEC1,
        PlanDoc::Contract(testing_contract("ORG-LAB", DEC1 + 5 * DAY + 9 * 3_600_000)),
    );
    let w = W::new(vec![c_late], org("ORG-CON", OrgRole::Contractor, None));
    assert_eq!(rules::sampling_plan(&sampling_plan(1, None, vec![same_day]), &w.facts(DEC1)), vec![]);
}

#[test]
fn r4_versions_are_numbered_in_order_and_replace_the_latest() {
    let v1 =
        rec("sp1", "P-CE", DEC1, PlanDoc::Sampling(sampling_plan(1, None, vec![item("I-1", per100(500))])));
    let w = W::new(vec![v1], org("ORG-CON", OrgRole::Contractor, None));
    let ok = sampling_plan(2, Some(h("sp1")), vec![item("I-1", per100(800))]);
    assert_eq!(rules::sampling_plan(&ok, &w.facts(DEC1)), vec![]);
    let again_v1 = sampling_plan(1, None, vec![item("I-1", per100(800))]);
    let p = rules::sampling_plan(&again_v1, &w.facts(DEC1));
    assert_eq!(p, vec![PlanProblem::VersionOutOfOrder { expected: 2 }, PlanProblem::SupersedesNotLatest]);
}

#[test]
fn r4_the_approved_version_stays_in_force_until_a_change_is_approved() {
    let v1 =
        rec("sp1", "P-CE", DEC1, PlanDoc::Sampling(sampling_plan(1, None, vec![item("I-1", per100(500))])));
    let a1 = rec("a1", "P-SE", DEC1 + 1, approve("sp1", true));
    let v2 = rec(
        "sp2",
        "P-CE",
        DEC1 + 2,
        PlanDoc::Sampling(sampling_plan(
            2,
            Some(h("sp1")),
            vec![item("I-1", per100(900)), item("I-2", per100(200))],
        )),
    );
    let plans = ProjectPlans::fold(vec![v1.clone(), a1.clone(), v2.clone()]);
    let h1 = &plans.sampling[&id("UP-1")];
    assert_eq!(h1.in_force().unwrap().record, h("sp1"));
    assert_eq!(h1.latest().unwrap().record, h("sp2"));
    assert!(plans.plan_item(&id("UP-1"), &id("I-2")).is_none(), "not approved yet");
    let a2 = rec("a2", "P-SE", DEC1 + 3, approve("sp2", true));
    let plans = ProjectPlans::fold(vec![v1, a1, v2, a2]);
    assert_eq!(plans.sampling[&id("UP-1")].in_force().unwrap().record, h("sp2"));
    assert_eq!(plans.plan_item(&id("UP-1"), &id("I-2")).unwrap().planned(), 2);
}

#[test]
fn r4_a_return_needs_a_reason_and_an_approval_names_a_plan_of_the_project() {
    let v1 =
        rec("sp1", "P-CE", DEC1, PlanDoc::Sampling(sampling_plan(1, None, vec![item("I-1", per100(500))])));
    let w = W::new(vec![v1], org("ORG-SUP", OrgRole::Supervisor, None));
    let ok = PlanApproval { plan: h("sp1"), project: id("PRJ-1"), approved: true, note: String::new() };
    assert_eq!(rules::approval(&ok, &w.facts(DEC1)), vec![]);
    let returned = PlanApproval { approved: false, ..ok.clone() };
    assert_eq!(rules::approval(&returned, &w.facts(DEC1)), vec![PlanProblem::ReturnedWithoutNote]);
    let elsewhere = PlanApproval { plan: h("nope"), ..ok.clone() };
    assert_eq!(rules::approval(&elsewhere, &w.facts(DEC1)), vec![PlanProblem::NotAPlanOfProject]);
    let other_project = PlanApproval { project: id("PRJ-2"), ..ok };
    assert_eq!(rules::approval(&other_project, &w.facts(DEC1)), vec![PlanProblem::NotAPlanOfProject]);
}

#[test]
fn r4_sampling_outside_the_plan_is_named() {
    let v1 =
        rec("sp1", "P-CE", DEC1, PlanDoc::Sampling(sampling_plan(1, None, vec![item("I-1", per100(500))])));
    let unapproved = ProjectPlans::fold(vec![v1.clone()]);
    let cube = SpecimenKind::ConcreteCube;
    let (up, i1) = (id("UP-1"), id("I-1"));
    assert_eq!(sampling_outside_plan(&unapproved, &up, cube, Some(&i1)), Some(OutsidePlan::NoApprovedPlan));
    let plans = ProjectPlans::fold(vec![v1, rec("a1", "P-SE", DEC1, approve("sp1", true))]);
    assert_eq!(sampling_outside_plan(&plans, &up, cube, Some(&i1)), None);
    assert_eq!(sampling_outside_plan(&plans, &up, cube, None), Some(OutsidePlan::NoItem));
    assert_eq!(sampling_outside_plan(&plans, &up, cube, Some(&id("I-9"))), Some(OutsidePlan::UnknownItem));
    assert_eq!(
        sampling_outside_plan(&plans, &up, SpecimenKind::Rebar, Some(&i1)),
        Some(OutsidePlan::KindDiffers)
    );
}

// ------------------------------------------------------------------ R5

fn testing_plan(sampling: &str, tags: u32, items: &[&str]) -> TestingPlan {
    TestingPlan {
        plan: id("TP-UP1"),
        project: id("PRJ-1"),
        unit_project: id("UP-1"),
        lab: id("ORG-LAB"),
        version: 1,
        supersedes: None,
        sampling_plan: h(sampling),
        note: String::new(),
        items: items
            .iter()
            .map(|i| TestingPlanItem {
                plan_item: id(i),
                parameters: vec!["concrete_cube_strength".into()],
                tests: 5,
            })
            .collect(),
        tags_needed: tags,
    }
}

#[test]
fn r5_the_commissioned_lab_plans_from_the_approved_sampling_plan_with_enough_tags() {
    let v1 =
        rec("sp1", "P-CE", DEC1, PlanDoc::Sampling(sampling_plan(1, None, vec![item("I-1", per100(500))])));
    let mut w = W::new(vec![v1.clone()], org("ORG-LAB", OrgRole::Lab, None));
    w.assignments = vec![LabAssignment {
        project: id("PRJ-1"),
        unit_project: id("UP-1"),
        lab: id("ORG-LAB"),
        kinds: vec![SpecimenKind::ConcreteCube],
    }];
    // Not yet approved.
    let p = rules::testing_plan(&testing_plan("sp1", 5, &["I-1"]), &w.facts(DEC1));
    assert_eq!(p, vec![PlanProblem::SamplingPlanNotApproved]);
    w.plans = ProjectPlans::fold(vec![v1, rec("a1", "P-SE", DEC1, approve("sp1", true))]);
    assert_eq!(rules::testing_plan(&testing_plan("sp1", 5, &["I-1"]), &w.facts(DEC1)), vec![]);
    let p = rules::testing_plan(&testing_plan("sp1", 4, &["I-1", "I-7"]), &w.facts(DEC1));
    assert_eq!(
        p,
        vec![
            PlanProblem::ItemNotInSamplingPlan { item: id("I-7") },
            PlanProblem::TagsTooFew { planned: 4, needed: 5 }
        ]
    );
    // Another lab, not commissioned, cannot plan it.
    w.author = org("ORG-LAB2", OrgRole::Lab, None);
    let p = rules::testing_plan(&testing_plan("sp1", 5, &["I-1"]), &w.facts(DEC1));
    assert_eq!(p, vec![PlanProblem::LabNotCommissioned { lab: id("ORG-LAB") }]);
}

// ----------------------------------------------------------------- R19

fn full_world() -> Vec<PlanRecord> {
    let mut tc = testing_contract("ORG-LAB", DEC1);
    if let ContractTerms::Testing { unit_projects, .. } = &mut tc.terms {
        *unit_projects = vec![id("UP-1"), id("UP-2")];
    }
    let mut sp2 = sampling_plan(1, None, vec![item("I-1", per100(500))]);
    sp2.unit_project = id("UP-2");
    let mut tp2 = testing_plan("sp2", 5, &["I-1"]);
    tp2.unit_project = id("UP-2");
    vec![
        rec("c1", "P-OWN", DEC1, PlanDoc::Contract(tc)),
        rec("c2", "P-OWN", DEC1, PlanDoc::Contract(tag_contract(150))),
        rec("sp1", "P-CE", DEC1, PlanDoc::Sampling(sampling_plan(1, None, vec![item("I-1", per100(500))]))),
        rec("sp2", "P-CE", DEC1, PlanDoc::Sampling(sp2)),
        rec("a1", "P-SE", DEC1, approve("sp1", true)),
        rec("a2", "P-SE", DEC1, approve("sp2", true)),
        rec("tp1", "P-LAB", DEC1, PlanDoc::Testing(testing_plan("sp1", 5, &["I-1"]))),
        rec("tp2", "P-LAB", DEC1, PlanDoc::Testing(tp2)),
        rec("a3", "P-SE", DEC1, approve("tp1", true)),
        rec("a4", "P-SE", DEC1, approve("tp2", true)),
    ]
}

#[test]
fn r19_an_empty_project_misses_everything_and_a_complete_one_nothing() {
    let units = [id("UP-1"), id("UP-2")];
    let empty = ProjectPlans::default();
    let f = prestart::PreStartFacts {
        plans: &empty,
        unit_projects: &units,
        samplers_in_post: 0,
        witnesses_in_post: 0,
    };
    let g = prestart::gaps(&f);
    assert_eq!(g.len(), 9, "{g:?}");
    for x in &g {
        assert!(!x.message(Lang::ZhCn).is_empty() && !x.message(Lang::En).is_empty() && !x.code().is_empty());
    }
    let full = ProjectPlans::fold(full_world());
    let f = prestart::PreStartFacts {
        plans: &full,
        unit_projects: &units,
        samplers_in_post: 2,
        witnesses_in_post: 1,
    };
    assert_eq!(prestart::gaps(&f), vec![]);
    // 500 tags contracted, 10 needed; fewer contracted than needed is a gap.
    let mut short = full_world();
    short[1].doc = PlanDoc::Contract(Contract {
        terms: ContractTerms::TagSupply {
            supplier: id("ORG-TAG"),
            quantity: 8,
            unit_price_fen: 150,
            year: 2026,
        },
        ..tag_contract(150)
    });
    let short = ProjectPlans::fold(short);
    let f = prestart::PreStartFacts {
        plans: &short,
        unit_projects: &units,
        samplers_in_post: 2,
        witnesses_in_post: 1,
    };
    assert_eq!(prestart::gaps(&f), vec![PreStartGap::TagsShort { contracted: 8, needed: 10 }]);
}

#[test]
fn r19_a_check_passes_only_with_nothing_missing_and_only_within_jurisdiction() {
    let mut w = W::new(vec![], org("ORG-REG", OrgRole::Regulator, Some("210800")));
    let pass = PreStartCheck { project: id("PRJ-1"), passed: true, gaps: vec![], note: String::new() };
    w.gaps = Some(vec![]);
    assert_eq!(rules::prestart_check(&pass, &w.facts(DEC1)), vec![]);
    w.gaps = Some(vec![PreStartGap::WitnessInPost]);
    assert_eq!(
        rules::prestart_check(&pass, &w.facts(DEC1)),
        vec![PlanProblem::PassedWithGaps { gaps: vec![PreStartGap::WitnessInPost] }]
    );
    let refuse = PreStartCheck { passed: false, ..pass.clone() };
    assert_eq!(rules::prestart_check(&refuse, &w.facts(DEC1)), vec![PlanProblem::RefusedWithoutNote]);
    // A county regulator of another district (鲅鱼圈 210804) does not cover 站前区 210802.
    w.author = org("ORG-REG2", OrgRole::Regulator, Some("210804"));
    w.gaps = Some(vec![]);
    assert_eq!(rules::prestart_check(&pass, &w.facts(DEC1)), vec![PlanProblem::OutsideJurisdiction]);
    // The province (210000) covers it.
    w.author = org("ORG-PROV", OrgRole::Regulator, Some("210000"));
    assert_eq!(rules::prestart_check(&pass, &w.facts(DEC1)), vec![]);
}

// ---------------------------------------------------------------- A4.1

#[test]
fn a4_1_items_due_by_now_and_falling_behind() {
    let i = item("I-1", per100(2400)); // 24 samplings over 100 days
    assert_eq!(progress::due_by(&i, DEC1 - 1), 0);
    assert_eq!(progress::due_by(&i, DEC1 + 50 * DAY), 12);
    assert_eq!(progress::due_by(&i, DEC1 + 100 * DAY), 24);
    let up = id("UP-1");
    let pol = ProgressPolicy::default();
    let at = |day: i64, sampled: u32| {
        progress::item_progress(&up, &i, Counts { sampled, ..Counts::default() }, DEC1 + day * DAY, pol)
    };
    assert_eq!(at(-1, 0).status, ItemStatus::NotStarted);
    assert_eq!(at(50, 11).status, ItemStatus::OnTrack, "one short is within the slack");
    let behind = at(50, 9);
    assert_eq!((behind.status, behind.short), (ItemStatus::Behind, 3));
    assert!(behind.finding(Lang::ZhCn).unwrap().contains("应取样 12 次，实际 9 次"));
    assert!(behind.finding(Lang::En).unwrap().contains("12 samplings due by now, 9 taken"));
    assert_eq!(at(100, 23).status, ItemStatus::Overdue);
    assert_eq!(at(100, 24).status, ItemStatus::Done);
    assert!(at(100, 24).finding(Lang::ZhCn).is_none());
}

#[test]
fn a4_1_project_progress_covers_each_approved_item_with_its_counts() {
    let plans = ProjectPlans::fold(full_world());
    let mut counts = BTreeMap::new();
    counts.insert((id("UP-1"), id("I-1")), Counts { sampled: 5, witnessed: 5, tested: 4, reported: 3 });
    let p = progress::project_progress(&plans, &counts, DEC1 + 200 * DAY, ProgressPolicy::default());
    assert_eq!(p.len(), 2);
    assert_eq!(
        (p[0].unit_project.as_str(), p[0].status, p[0].counts.reported),
        ("UP-1", ItemStatus::Done, 3)
    );
    assert_eq!((p[1].unit_project.as_str(), p[1].status), ("UP-2", ItemStatus::Overdue));
}

proptest! {
    /// Due never exceeds the plan, never falls as time passes, and reaches
    /// the plan when the period ends (A4.1).
    #[test]
    fn a4_1_due_is_monotone_and_bounded(total in 1u32..200_000, per in 1u32..1000,
                                        span in 1i64..400, a in -50i64..500, b in -50i64..500) {
        let mut i = item("I", QuantityRule::Per { per, total, measure: Measure::Tonne });
        i.until_ms = DEC1 + span * DAY;
        let (a, b) = (a.min(b), a.max(b));
        let (da, db) = (progress::due_by(&i, DEC1 + a * DAY), progress::due_by(&i, DEC1 + b * DAY));
        prop_assert!(da <= db && db <= i.planned());
        prop_assert_eq!(progress::due_by(&i, i.until_ms), i.planned());
    }

    /// Folding never loses a version, and the version in force is always
    /// an approved one (R4).
    #[test]
    fn r4_fold_keeps_every_version_and_only_approved_ones_are_in_force(decisions in proptest::collection::vec(proptest::option::of(any::<bool>()), 1..8)) {
        let mut records = Vec::new();
        let mut prev = None;
        for (n, d) in decisions.iter().enumerate() {
            let name = format!("sp{n}");
            records.push(rec(&name, "P-CE", DEC1, PlanDoc::Sampling(sampling_plan(n as u32 + 1, prev, vec![item("I-1", per100(100))]))));
            if let Some(yes) = d {
                records.push(rec(&format!("a{n}"), "P-SE", DEC1, approve(&name, *yes)));
            }
            prev = Some(h(&name));
        }
        let plans = ProjectPlans::fold(records);
        let hist = &plans.sampling[&id("UP-1")];
        prop_assert_eq!(hist.versions.len(), decisions.len());
        let want = decisions.iter().rposition(|d| *d == Some(true));
        prop_assert_eq!(hist.in_force().map(|v| v.record), want.map(|n| h(&format!("sp{n}"))));
    }
}
