//! Before work starts (issue 15: R2, R4, R5, R15, R19, A4.1) through the
//! real server, on both storage back ends: from an empty project through
//! the owner's contracts, the contractor's sampling plan and the lab's
//! testing plan with the supervisor's approvals, and the authority's
//! pre-start check, to a sampling picked from the plan — every step a
//! record signed by the person who answers for it, judged by the one
//! pipeline. Every bad input is refused with its rule in zh-CN and
//! English, and a refused record changes nothing.

#![allow(clippy::too_many_lines)]

#[macro_use]
mod common;

use common::browser::signed_in;
use common::*;
use custody_core::fixtures::{self, id};
use custody_core::model::{OrgRole, Person, PersonRole, Project, SpecimenKind, UnitProject};
use custody_core::plans::progress::{ItemStatus, ProgressPolicy};
use custody_core::plans::{
    Contract, ContractTerms, GuidePrice, Measure, PlanApproval, PlanItem, PreStartCheck, PreStartGap,
    ProjectPlans, QuantityRule, SamplingPlan, TestingPlan, TestingPlanItem,
};
use custody_core::protocol::{Finding, ProjectPlansResponse, RecordStatus};
use custody_core::record::Payload;
use custody_core::tag::{BatchKey, SerialRange, TagBatch};
use custody_core::{Hash, SignedRecord};
use sync_server::demo;
use sync_server::testing::{Backend, TestServer};

on_each_backend!(
    from_an_empty_project_to_a_sampling_picked_from_the_approved_plan,
    the_console_reads_each_persons_plan_forms_and_the_browser_signs_them,
);

const PRJ: &str = "PRJ-NEW-1";
const DAY: i64 = 24 * 3600 * 1000;

fn plans(server: &TestServer) -> ProjectPlans {
    server.state.store.read(|tx| sync_server::plans::project_plans(tx, &id(PRJ))).unwrap()
}

fn now(server: &TestServer) -> i64 {
    use sync_server::Clock;
    server.clock.now_ms()
}

fn gaps(server: &TestServer) -> Vec<PreStartGap> {
    let now = now(server);
    server
        .state
        .store
        .read(|tx| {
            let p = sync_server::plans::project_plans(tx, &id(PRJ))?;
            sync_server::plans::prestart_gaps(tx, &id(PRJ), &p, now)
        })
        .unwrap()
}

/// Upload one record signed by `phone`: its status and findings.
async fn send(phone: &mut Phone, payload: Payload) -> (SignedRecord, RecordStatus, Vec<Finding>) {
    let rec = phone.field_record(payload, 50.0, 60.0, &[]);
    let r = phone.upload(&[&rec]).await;
    let res = &r.results[0];
    (rec, res.status, res.findings.clone())
}

/// The record was refused for `code`/`problem`, in both languages.
fn refused_for(status: RecordStatus, findings: &[Finding], want: &str) {
    assert_eq!(status, RecordStatus::Refused, "{findings:?}");
    let f = findings
        .iter()
        .find(|f| {
            f.code == want
                || f.detail.get("problem").and_then(|p| p.get("problem")).and_then(|p| p.as_str())
                    == Some(want)
        })
        .unwrap_or_else(|| panic!("no {want} in {findings:?}"));
    assert!(!f.message_zh.is_empty() && !f.message_en.is_empty() && f.message_zh != f.message_en, "{f:?}");
}

fn accepted(status: RecordStatus, findings: &[Finding]) {
    assert_eq!(status, RecordStatus::Accepted, "{findings:?}");
}

/// 24 groups (2,350 m³ at one per 100 m³) over 120 days from `from`.
fn item(from: i64) -> PlanItem {
    PlanItem {
        item: id("I-C30-COL"),
        kind: SpecimenKind::ConcreteCube,
        part: "3层 柱".into(),
        grade: "C30".into(),
        tests: vec!["抗压强度".into()],
        unit: "组".into(),
        per_sampling: 3,
        rule: QuantityRule::Per { per: 100, total: 2350, measure: Measure::CubicMetre },
        from_ms: from,
        until_ms: from + 120 * DAY,
        stage: "主体结构".into(),
    }
}

async fn from_an_empty_project_to_a_sampling_picked_from_the_approved_plan(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let t0 = now(&server);
    let admin = server.admin();
    // An empty project of the demo's owner, in 站前区 (210802).
    admin
        .add_project(Project {
            id: id(PRJ),
            name: "华兴·锦园二期".into(),
            owner: id("ORG-OWN-HX"),
            jurisdiction: "210802".into(),
        })
        .unwrap();
    admin
        .add_unit_project(UnitProject {
            id: id("UP-N1"),
            project: id(PRJ),
            name: "3#楼".into(),
            boundary: fixtures::site(),
        })
        .unwrap();
    admin
        .register_tags(TagBatch {
            key: BatchKey { supplier: 310, year: 26, batch: 7 },
            supplier_org: id("ORG-TAG-AF"),
            project: id(PRJ),
            ranges: vec![SerialRange { first: 1, last: 100 }],
        })
        .unwrap();
    admin.add_org(org("ORG-LAB-2", OrgRole::Lab, None)).unwrap();
    let letter = (b"letter".as_slice(), "text/plain");
    let people = [
        ("P-OWNREP", "ORG-OWN-HX", Some(PRJ), PersonRole::OwnerRepresentative),
        ("P-CENG", "ORG-CON-ZJ", Some(PRJ), PersonRole::ContractorEngineer),
        ("P-SENG", "ORG-SUP-YJ", Some(PRJ), PersonRole::SupervisingEngineer),
    ];
    for (p, o, _, _) in people {
        admin.add_person(Person { id: id(p), name: p.into(), org: id(o) }).unwrap();
    }
    for (n, (p, _, prj, role)) in people.iter().enumerate() {
        admin
            .grant(id(&format!("G-N{n}")), id(p), prj.map(id), *role, letter, "id".into(), None, None)
            .unwrap();
    }
    let mut owner = enrolled(&server, 41, "P-OWNREP").await;
    let mut engineer = enrolled(&server, 42, "P-CENG").await;
    let mut supervisor = enrolled(&server, 43, "P-SENG").await;
    let mut lab = enrolled(&server, 44, demo::LAB_REVIEWER).await;
    let mut inspector = enrolled(&server, 45, "P-ZHOUJIE").await;
    let mut far_inspector = enrolled(&server, 46, "P-WUHAO").await;
    let mut witness = enrolled(&server, 47, demo::WITNESS).await;
    for p in [
        &mut owner,
        &mut engineer,
        &mut supervisor,
        &mut lab,
        &mut inspector,
        &mut far_inspector,
        &mut witness,
    ] {
        p.sync_time().await;
    }

    // R19: the empty project misses everything; the check cannot pass.
    let g = gaps(&server);
    for want in [
        PreStartGap::TestingContract { unit_project: id("UP-N1") },
        PreStartGap::TagSupplyContract,
        PreStartGap::SamplingPlanApproved { unit_project: id("UP-N1") },
        PreStartGap::TestingPlanApproved { unit_project: id("UP-N1") },
        PreStartGap::SamplerInPost,
        PreStartGap::WitnessInPost,
    ] {
        assert!(g.contains(&want), "{want:?} not in {g:?}");
    }
    let pass = PreStartCheck { project: id(PRJ), passed: true, gaps: vec![], note: String::new() };
    let (_, s, f) = send(&mut inspector, Payload::PreStartChecked(pass.clone())).await;
    refused_for(s, &f, "passed_with_gaps");

    // R2: the owner's testing contract commissions the lab; the contractor cannot.
    let testing = Contract {
        number: "HX-JC-2026-07".into(),
        project: id(PRJ),
        signed_ms: t0 - DAY,
        terms: ContractTerms::Testing {
            lab: id(demo::LAB_ORG),
            unit_projects: vec![id("UP-N1")],
            kinds: vec![SpecimenKind::ConcreteCube],
            parameters: vec!["concrete_cube_strength".into()],
            estimated_tests: 30,
        },
    };
    let (_, s, f) = send(&mut engineer, Payload::ContractRegistered(testing.clone())).await;
    refused_for(s, &f, "not_authorised");
    let before = plans(&server);
    let (_, s, f) = send(&mut owner, Payload::ContractRegistered(testing.clone())).await;
    accepted(s, &f);
    assert!(
        f.iter().any(|x| x.code == "no_lab_registry"),
        "the demo lab has no registry: said, not refused: {f:?}"
    );
    assert_eq!(plans(&server).contracts.len(), before.contracts.len() + 1);
    // A second lab for the same unit project and category is refused, and changes nothing.
    let before = plans(&server);
    let second = Contract {
        number: "HX-JC-2026-08".into(),
        terms: ContractTerms::Testing {
            lab: id("ORG-LAB-2"),
            unit_projects: vec![id("UP-N1")],
            kinds: vec![SpecimenKind::ConcreteCube],
            parameters: vec!["concrete_cube_strength".into()],
            estimated_tests: 30,
        },
        ..testing.clone()
    };
    let (_, s, f) = send(&mut owner, Payload::ContractRegistered(second)).await;
    refused_for(s, &f, "lab_already_commissioned");
    assert_eq!(plans(&server), before, "a refused record changes nothing");

    // R15: the tag contract at or below the filed guide price.
    admin
        .file_guide_price(GuidePrice {
            supplier: id("ORG-TAG-AF"),
            year: 2026,
            price_fen: 150,
            filing: "营价备〔2026〕3号".into(),
        })
        .unwrap();
    let tags = |price| Contract {
        number: "HX-BS-2026-01".into(),
        project: id(PRJ),
        signed_ms: t0 - DAY,
        terms: ContractTerms::TagSupply {
            supplier: id("ORG-TAG-AF"),
            quantity: 60,
            unit_price_fen: price,
            year: 2026,
        },
    };
    let (_, s, f) = send(&mut owner, Payload::ContractRegistered(tags(180))).await;
    refused_for(s, &f, "above_guide_price");
    let (_, s, f) = send(&mut owner, Payload::ContractRegistered(tags(150))).await;
    accepted(s, &f);

    // R4: the contractor's sampling plan; an impossible one is refused.
    let plan = |version, supersedes, items| SamplingPlan {
        plan: id("SP-N1"),
        project: id(PRJ),
        unit_project: id("UP-N1"),
        version,
        supersedes,
        basis: "结施-01~12".into(),
        note: String::new(),
        items,
    };
    let mut zero = item(t0);
    zero.rule = QuantityRule::Count { samplings: 0 };
    let (_, s, f) = send(&mut engineer, Payload::SamplingPlanDrafted(plan(1, None, vec![zero]))).await;
    refused_for(s, &f, "impossible_quantity");
    let mut early = item(t0);
    early.from_ms = t0 - 30 * DAY;
    let (_, s, f) = send(&mut engineer, Payload::SamplingPlanDrafted(plan(1, None, vec![early]))).await;
    refused_for(s, &f, "before_contract");
    let (sp1, s, f) = send(&mut engineer, Payload::SamplingPlanDrafted(plan(1, None, vec![item(t0)]))).await;
    accepted(s, &f);
    // Approval by someone who is not the project's supervising engineer.
    let approve = |plan: Hash, approved: bool, note: &str| {
        Payload::PlanApproved(PlanApproval { plan, project: id(PRJ), approved, note: note.into() })
    };
    let (_, s, f) = send(&mut witness, approve(sp1.id(), true, "")).await;
    refused_for(s, &f, "not_authorised");
    let (_, s, f) = send(&mut supervisor, approve(sp1.id(), false, "")).await;
    refused_for(s, &f, "returned_without_note");
    let (_, s, f) = send(&mut supervisor, approve(sp1.id(), true, "同意")).await;
    accepted(s, &f);
    assert_eq!(plans(&server).sampling[&id("UP-N1")].in_force().map(|v| v.record), Some(sp1.id()));

    // R5: the commissioned lab's testing plan, with enough tags (24 needed).
    let tplan = |tags_needed| TestingPlan {
        plan: id("TP-N1"),
        project: id(PRJ),
        unit_project: id("UP-N1"),
        lab: id(demo::LAB_ORG),
        version: 1,
        supersedes: None,
        sampling_plan: sp1.id(),
        note: String::new(),
        items: vec![TestingPlanItem {
            plan_item: id("I-C30-COL"),
            parameters: vec!["concrete_cube_strength".into()],
            tests: 24,
        }],
        tags_needed,
    };
    let (_, s, f) = send(&mut lab, Payload::TestingPlanDrafted(tplan(10))).await;
    refused_for(s, &f, "tags_too_few");
    let (tp1, s, f) = send(&mut lab, Payload::TestingPlanDrafted(tplan(26))).await;
    accepted(s, &f);
    let (_, s, f) = send(&mut supervisor, approve(tp1.id(), true, "签认")).await;
    accepted(s, &f);

    // R19: nobody in post yet (the demo's sampler and witness hold grants on
    // the demo project only).
    let g = gaps(&server);
    assert_eq!(g, vec![PreStartGap::SamplerInPost, PreStartGap::WitnessInPost], "{g:?}");
    for (n, (p, role)) in
        [(demo::SAMPLER, PersonRole::Sampler), (demo::WITNESS, PersonRole::Witness)].iter().enumerate()
    {
        admin
            .grant(id(&format!("G-NP{n}")), id(p), Some(id(PRJ)), *role, letter, "id".into(), None, None)
            .unwrap();
    }
    let mut sampler = enrolled(&server, 48, demo::SAMPLER).await;
    sampler.sync_time().await;
    assert_eq!(gaps(&server), vec![]);
    // Another district's inspector may not check it; ours may.
    let (_, s, f) = send(&mut far_inspector, Payload::PreStartChecked(pass.clone())).await;
    refused_for(s, &f, "outside_jurisdiction");
    let (_, s, f) = send(&mut inspector, Payload::PreStartChecked(pass)).await;
    accepted(s, &f);
    assert!(plans(&server).latest_check().unwrap().check.passed);

    // The sampler samples from the plan item: no finding about the plan.
    let sampling = |serial: u32, plan_item: Option<&str>| {
        let mut p = fixtures::sampling(custody_core::TagCode::from_parts(310, 26, 7, serial).unwrap());
        if let Payload::Sampling(s) = &mut p {
            s.project = id(PRJ);
            s.unit_project = id("UP-N1");
            s.face.photo = Hash::of(FACE);
            s.specimen.plan_item = plan_item.map(id);
            s.specimen.quantity = 3;
        }
        p
    };
    let m = media(1, "sampler");
    let rec = sampler.field_record(sampling(1, Some("I-C30-COL")), 50.0, 60.0, &as_refs(&m));
    let r = sampler.upload(&[&rec]).await;
    accepted(r.results[0].status, &r.results[0].findings);
    assert!(!r.results[0].findings.iter().any(|f| f.code == "outside_plan"), "{:?}", r.results[0].findings);
    // Outside the plan: possible, and marked.
    let m = media(2, "sampler");
    let rec = sampler.field_record(sampling(2, None), 50.0, 60.0, &as_refs(&m));
    let r = sampler.upload(&[&rec]).await;
    accepted(r.results[0].status, &r.results[0].findings);
    let outside =
        r.results[0].findings.iter().find(|f| f.code == "outside_plan").expect("marked outside the plan");
    assert!(outside.message_zh.contains("计划外取样") && outside.message_en.contains("outside the plan"));
    // Naming the item but of another kind: outside too, and not counted
    // against the item (the rule that marks it is the rule that counts).
    let m = media(3, "sampler");
    let mut rebar = sampling(3, Some("I-C30-COL"));
    if let Payload::Sampling(s) = &mut rebar {
        s.specimen.kind = SpecimenKind::Rebar;
    }
    let rec = sampler.field_record(rebar, 50.0, 60.0, &as_refs(&m));
    let r = sampler.upload(&[&rec]).await;
    accepted(r.results[0].status, &r.results[0].findings);
    assert!(r.results[0].findings.iter().any(|f| f.code == "outside_plan"), "{:?}", r.results[0].findings);

    // A4.1: progress against plan counts the sampling against its item.
    let now = now(&server);
    let progress = server
        .state
        .store
        .read(|tx| {
            let p = sync_server::plans::project_plans(tx, &id(PRJ))?;
            sync_server::plans::progress(tx, &id(PRJ), &p, now, ProgressPolicy::default())
        })
        .unwrap();
    assert_eq!(progress.items.len(), 1);
    let it = &progress.items[0];
    assert_eq!((it.planned, it.counts.sampled, it.counts.witnessed), (24, 1, 0));
    assert!(matches!(it.status, ItemStatus::OnTrack | ItemStatus::NotStarted), "{it:?}");
    assert_eq!(progress.outside[&id("UP-N1")].sampled, 2, "no item, and the item of another kind");

    // The same through the API, for whoever may see the project (R18):
    // the owner and the district's inspector; not another district's.
    let path = custody_core::routes::project_plans(&id(PRJ));
    for phone in [&owner, &inspector, &supervisor] {
        let view: ProjectPlansResponse = phone.get_json(&path).await;
        assert_eq!(view.gaps, vec![]);
        assert_eq!((view.progress.len(), view.progress[0].counts.sampled), (1, 1));
        assert_eq!(view.plans.contracts.len(), 2);
    }
    let r = far_inspector.signed(reqwest::Method::GET, &path, vec![]).await;
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "project_not_visible");

    // Sixty days on, one sampling of the 12 due: the item is behind, and
    // the oversight pass raises it as the project's warning, with the item
    // as its evidence (A4.1, R4), for the regulator of the district.
    server.clock.advance(60 * DAY);
    server.oversight_pass();
    let mut regulator = signed_in(&server, "zhoujie", Some("P-ZHOUJIE"));
    let page = regulator.get(&format!("/console/oversight/{PRJ}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("plan_items_behind"), "the warning is shown");
    assert!(
        page.body.contains("I-C30-COL") && page.body.contains("应取样 12 次，实际 1 次"),
        "with its item"
    );
    let view: ProjectPlansResponse = owner.get_json(&path).await;
    assert_eq!(view.progress[0].status, ItemStatus::Behind);
}

/// The payload the console's draft check answers, or its errors.
async fn draft(
    b: &mut common::browser::Browser,
    form: &[(&str, &str)],
) -> Result<Payload, Vec<(String, String)>> {
    let path = format!("/console/projects/{}/plans/draft", demo::PROJECT);
    let csrf = b.csrf().await;
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend_from_slice(form);
    let r = b.post(&path, &fields).await;
    let v: serde_json::Value =
        serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{} {}", r.status, r.body));
    if r.status == 200 {
        Ok(serde_json::from_value(v["payload"].clone()).unwrap())
    } else {
        assert_eq!(r.status, 422, "{}", r.body);
        Err(v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["zh"].as_str().unwrap().to_owned(), e["en"].as_str().unwrap().to_owned()))
            .collect())
    }
}

/// The console shows each person the forms their authorisation allows,
/// reads them with the rules the server will judge by (every problem in
/// both languages, nothing stored), and what it answers is what the
/// person's own device signs and the server accepts.
async fn the_console_reads_each_persons_plan_forms_and_the_browser_signs_them(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let page = format!("/console/projects/{}/plans", demo::PROJECT);
    let mut phones = std::collections::BTreeMap::new();
    for (n, (person, ..)) in demo::PLAN_PEOPLE.iter().enumerate() {
        let mut p = enrolled(&server, 70 + n as u8, person).await;
        p.sync_time().await;
        phones.insert(*person, p);
    }

    // Nobody signed in: to the sign-in page. Another district: not theirs.
    let mut anon = common::browser::Browser::new(&server.url);
    assert!(anon.get(&page).await.to_sign_in());
    let mut far = signed_in(&server, "wuhao", Some("P-WUHAO"));
    assert_eq!(far.get(&page).await.status, 403);

    // The owner's representative: the contract forms, nothing else.
    let mut owner = signed_in(&server, "chenjing", Some("P-CHENJING"));
    let r = owner.get(&page).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.has("testing-contract-form") && r.has("tag-contract-form") && r.has("signer"));
    assert!(!r.has("sampling-plan-form") && !r.has("approval-form") && !r.has("prestart-form"));
    assert!(r.attrs("gaps", "data-testid").len() == 1 && r.body.contains("data-gap=\"tag_supply_contract\""));
    // Bad input: every problem, both languages; nothing stored.
    let bad = draft(
        &mut owner,
        &[
            ("kind", "tag_contract"),
            ("number", "BS-1"),
            ("signed", "2026-13-01"),
            ("supplier", "ORG-TAG-AF"),
            ("quantity", "500"),
            ("price", "1.5"),
            ("year", "2026"),
        ],
    )
    .await;
    assert!(bad.unwrap_err()[0].1.contains("YYYY-MM-DD"));
    let over = draft(
        &mut owner,
        &[
            ("kind", "tag_contract"),
            ("number", "BS-1"),
            ("signed", "2026-11-01"),
            ("supplier", "ORG-TAG-AF"),
            ("quantity", "500"),
            ("price", "1.80"),
            ("year", "2026"),
        ],
    )
    .await;
    let e = over.unwrap_err();
    assert!(e[0].0.contains("高于备案指导价") && e[0].1.contains("above the filed guide price"), "{e:?}");
    assert!(plans_of(&server).contracts.is_empty());
    let ok = draft(
        &mut owner,
        &[
            ("kind", "tag_contract"),
            ("number", "BS-1"),
            ("signed", "2026-11-01"),
            ("supplier", "ORG-TAG-AF"),
            ("quantity", "500"),
            ("price", "1.50"),
            ("year", "2026"),
        ],
    )
    .await
    .unwrap();
    let (_, s, f) = send(phones.get_mut("P-CHENJING").unwrap(), ok).await;
    accepted(s, &f);
    // Not the owner's to draft a plan: refused before anything is read.
    let e = draft(&mut owner, &[("kind", "sampling_plan"), ("unit_project", "UP-1"), ("items", "x")])
        .await
        .unwrap_err();
    assert!(e[0].1.contains("not authorised"), "{e:?}");

    // The contractor's engineer: the sampling plan, typed one item per line.
    let mut engineer = signed_in(&server, "huanglei", Some("P-HUANGLEI"));
    assert!(engineer.get(&page).await.has("sampling-plan-form"));
    let e = draft(
        &mut engineer,
        &[
            ("kind", "sampling_plan"),
            ("unit_project", "UP-1"),
            ("items", "I-1 | 混凝土 | 柱 | C30 | 抗压 | 组 | 3 | 24 | 2026-12-01 | 2027-03-31 | 主体"),
        ],
    )
    .await
    .unwrap_err();
    assert!(e[0].0.starts_with("第 1 行") && e[0].1.starts_with("line 1"), "{e:?}");
    let today = custody_core::calendar::date_cst(now(&server));
    let items = format!(
        "I-1 | 混凝土试块 | 3层 柱 | C30 | 抗压强度 | 组 | 3 | 2350/100 m³ | {today} | 2027-12-31 | 主体结构"
    );
    let plan = draft(
        &mut engineer,
        &[("kind", "sampling_plan"), ("unit_project", "UP-1"), ("basis", "结施-01"), ("items", &items)],
    )
    .await
    .unwrap();
    let (rec, s, f) = send(phones.get_mut("P-HUANGLEI").unwrap(), plan).await;
    accepted(s, &f);

    // The supervising engineer sees it waiting and approves it.
    let mut supervisor = signed_in(&server, "xufang", Some("P-XUFANG"));
    let r = supervisor.get(&page).await;
    assert_eq!(r.attrs("approval-form", "data-plan"), vec![rec.id().to_hex()]);
    let e =
        draft(&mut supervisor, &[("kind", "approval"), ("plan", &rec.id().to_hex()), ("decision", "return")])
            .await
            .unwrap_err();
    assert!(e[0].1.contains("reason"), "{e:?}");
    let yes = draft(
        &mut supervisor,
        &[("kind", "approval"), ("plan", &rec.id().to_hex()), ("decision", "approve"), ("note", "同意")],
    )
    .await
    .unwrap();
    let (_, s, f) = send(phones.get_mut("P-XUFANG").unwrap(), yes).await;
    accepted(s, &f);
    let r = supervisor.get(&page).await;
    assert!(!r.has("approval-form"), "nothing waits any more");
    assert!(r.body.contains(&format!("data-record=\"{}\" data-state=\"approved\"", rec.id().to_hex())));
    // Progress shows the approved item; the inspector of the district reads the page too.
    let mut inspector = signed_in(&server, "zhoujie", Some("P-ZHOUJIE"));
    let r = inspector.get(&page).await;
    assert_eq!(r.status, 200);
    assert!(r.has("prestart-form") && !r.has("testing-contract-form"));
    assert_eq!(r.attrs("progress", "data-testid").len(), 1);
    assert!(r.body.contains("data-item=\"I-1\" data-status="));
    // An administrator reads it and signs nothing.
    let mut admin = signed_in(&server, "root", None);
    let r = admin.get(&page).await;
    assert_eq!(r.status, 200);
    assert!(!r.has("signer"));
}

fn plans_of(server: &TestServer) -> ProjectPlans {
    server.state.store.read(|tx| sync_server::plans::project_plans(tx, &id(demo::PROJECT))).unwrap()
}
