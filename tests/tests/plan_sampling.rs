//! The field app samples from the approved plan (issue 15, R4), through a
//! real server and real field engines: the contractor's engineer drafts a
//! sampling plan, the supervising engineer approves it, both from their
//! own enrolled devices; the plan records reach the sampler's phone with
//! the feed; the phone lists the items in force and, offline, marks a
//! sampling outside the plan exactly as the server does (a notice, R4).

mod support;

use custody_core::model::{Person, PersonRole, SpecimenKind};
use custody_core::plans::{PlanApproval, PlanItem, QuantityRule, SamplingPlan};
use custody_core::protocol::Finding;
use field_engine::PlanRecordInput;
use support::*;
use sync_server::demo;

const DAY: i64 = 24 * 3_600_000;
const CONTRACTOR_ENGINEER: &str = "P-CHENGONG";
const SUPERVISING_ENGINEER: &str = "P-ZHOUJL";

/// Register a person of a demo organisation with a grant on the demo project.
fn register(server: &TestServer, person: &str, name: &str, org: &str, role: PersonRole) {
    let admin = server.admin();
    admin.add_person(Person { id: id(person), name: name.into(), org: id(org) }).unwrap();
    let letter = format!("%PDF-1.4 letter of authorisation of {person}");
    admin
        .grant(
            id(&format!("G-{person}")),
            id(person),
            Some(id(demo::PROJECT)),
            role,
            (letter.as_bytes(), "application/pdf"),
            "id_card".into(),
            None,
            None,
        )
        .unwrap();
}

fn item(
    item: &str,
    kind: SpecimenKind,
    part: &str,
    grade: &str,
    test: &str,
    unit: &str,
    now: i64,
) -> PlanItem {
    PlanItem {
        item: id(item),
        kind,
        part: part.into(),
        grade: grade.into(),
        tests: vec![test.into()],
        unit: unit.into(),
        per_sampling: 3,
        rule: QuantityRule::Per { per: 100, total: 2_400, measure: custody_core::plans::Measure::CubicMetre },
        from_ms: now - 10 * DAY,
        until_ms: now + 170 * DAY,
        stage: "主体结构".into(),
    }
}

fn codes(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r4_a_sampling_picked_from_the_approved_plan_is_inside_it_and_one_outside_is_marked() {
    let (_d, server) = world().await;
    register(&server, CONTRACTOR_ENGINEER, "陈工", "ORG-CON-ZJ", PersonRole::ContractorEngineer);
    register(&server, SUPERVISING_ENGINEER, "周监理", "ORG-SUP-YJ", PersonRole::SupervisingEngineer);
    let contractor = Phone::enrolled(&server, CONTRACTOR_ENGINEER).await;
    let supervisor = Phone::enrolled(&server, SUPERVISING_ENGINEER).await;
    let sampler = Phone::enrolled(&server, demo::SAMPLER).await;
    let now = server.state.now();

    // Before any plan: nothing to pick, and a sampling is outside the plan.
    sampler.engine.sync_once().await.unwrap();
    assert!(sampler.engine.plan_items().unwrap().is_empty());

    // R4: the contractor's engineer drafts the plan of 1#住宅楼 …
    let plan = SamplingPlan {
        plan: id("SP-UP-1"),
        project: id(demo::PROJECT),
        unit_project: id("UP-1"),
        version: 1,
        supersedes: None,
        basis: "结施-01~12, 建施-03".into(),
        note: String::new(),
        items: vec![
            item("UP1-COL-C30", SpecimenKind::ConcreteCube, "3层 柱", "C30", "抗压强度", "组", now),
            item("UP1-SLAB-C30", SpecimenKind::ConcreteCube, "3层 顶板", "C30", "抗压强度", "组", now),
        ],
    };
    let drafted = contractor.engine.create_plan_record(PlanRecordInput::SamplingPlan(plan), false).unwrap();
    assert_eq!(contractor.engine.sync_once().await.unwrap().accepted, 1);
    // … which is not in force until the supervisor approves it.
    sampler.engine.sync_once().await.unwrap();
    assert!(sampler.engine.plan_items().unwrap().is_empty(), "a draft is not the plan");

    // The supervising engineer receives the draft with the feed and approves it.
    supervisor.engine.sync_once().await.unwrap();
    let approval =
        PlanApproval { plan: drafted.id, project: id(demo::PROJECT), approved: true, note: String::new() };
    supervisor.engine.create_plan_record(PlanRecordInput::Approval(approval), false).unwrap();
    assert_eq!(supervisor.engine.sync_once().await.unwrap().accepted, 1);

    // The sampler's phone gets both with its feed: the items are in force.
    sampler.engine.sync_once().await.unwrap();
    let items = sampler.engine.plan_items().unwrap();
    let names: Vec<&str> = items.iter().map(|i| i.item.item.as_str()).collect();
    assert_eq!(names, ["UP1-COL-C30", "UP1-SLAB-C30"]);
    let col = &items[0];
    assert_eq!((col.unit_project.as_str(), col.version, col.plan_record), ("UP-1", 1, drafted.id));
    assert_eq!((col.planned, col.sampled), (24, 0), "⌈2400 m³ / 100 m³⌉ samplings, none taken");
    assert_eq!((col.item.per_sampling, col.item.unit.as_str()), (3, "组"));

    // Offline from here: picked from the plan item, the sampling is inside it.
    let mut picked = sampler.sampling_input(1, 50.0, 60.0);
    picked.specimen.kind = col.item.kind;
    picked.specimen.part = col.item.part.clone();
    picked.specimen.grade = col.item.grade.clone();
    picked.specimen.tests = col.item.tests.clone();
    picked.specimen.unit = col.item.unit.clone();
    picked.specimen.quantity = col.item.per_sampling;
    picked.specimen.plan_item = Some(col.item.item.clone());
    let inside = sampler.engine.create_sampling(picked, false).unwrap();
    assert!(!codes(&inside.notices).contains(&"outside_plan"), "{:?}", inside.notices);
    // Outside the plan: still possible, and marked before it is signed.
    let outside = sampler.engine.create_sampling(sampler.sampling_input(2, 52.0, 61.0), false).unwrap();
    assert!(codes(&outside.notices).contains(&"outside_plan"), "{:?}", outside.notices);
    // An item of another kind than the specimen is outside the plan too.
    let mut wrong_kind = sampler.sampling_input(3, 54.0, 62.0);
    wrong_kind.specimen.kind = SpecimenKind::Rebar;
    wrong_kind.specimen.plan_item = Some(items[1].item.item.clone());
    let wrong = sampler.engine.create_sampling(wrong_kind, false).unwrap();
    assert!(codes(&wrong.notices).contains(&"outside_plan"), "{:?}", wrong.notices);
    // The phone counts what it took against the item, before any upload.
    let held = sampler.engine.plan_items().unwrap();
    assert_eq!((held[0].sampled, held[1].sampled), (1, 0), "only a sampling inside the plan counts");

    // The server accepts all three and judges them as the phone did.
    assert_eq!(sampler.engine.sync_once().await.unwrap().accepted, 3);
    for (created, marked) in [(&inside, false), (&outside, true), (&wrong, true)] {
        let view = sampler.engine.record(&created.id).unwrap().unwrap();
        assert_eq!(view.state, "accepted");
        assert_eq!(codes(&view.findings).contains(&"outside_plan"), marked, "{:?}", view.findings);
    }

    // The site's count reaches every phone with its sync (A4.1): another
    // phone of the sampler's sees the sampling it did not take, and adds
    // its own before they are uploaded.
    let second = Phone::enrolled(&server, demo::SAMPLER).await;
    second.clock.set_wall(server.state.now());
    second.engine.sync_once().await.unwrap();
    let col = second.engine.plan_items().unwrap()[0].clone();
    assert_eq!((col.item.item.as_str(), col.sampled), ("UP1-COL-C30", 1));
    let mut again = second.sampling_input(4, 56.0, 63.0);
    again.specimen.kind = col.item.kind;
    again.specimen.plan_item = Some(col.item.item.clone());
    second.engine.create_sampling(again, false).unwrap();
    assert_eq!(second.engine.plan_items().unwrap()[0].sampled, 2);
    server.stop().await;
}
