//! The lab registry (R3) through the real server, on both storage back
//! ends: a lab's person asks for a change, the operator approves it (a
//! signed admin fact in the log) or refuses it with a reason (nothing
//! changes); test data outside the lab's scope, by unqualified staff or on
//! equipment whose calibration has lapsed is flagged with the rule it
//! breaks, and its report is not sealed; a lab cannot approve its own
//! request, and another lab can neither see nor ask for it; the console's
//! pages show the registry, its warnings and the operator's queue.

// Each story reads top to bottom as what a lab and the operator do.
#![allow(clippy::too_many_lines)]

#[macro_use]
mod common;

use common::browser::signed_in;
use common::lab::*;
use common::*;
use custody_core::access::Viewer;
use custody_core::fixtures::{self, id};
use custody_core::lab_registry::{
    CalibrationCertificate, DAY_MS, LabRegistry, RegisteredEquipment, ScopeEntry, StaffQualification, text,
};
use custody_core::model::{OrgRole, Person, PersonRole};
use custody_core::protocol::{Finding, RecordStatus};
use custody_core::record::{MediaPurpose, Payload, TestData};
use custody_core::{Hash, Id};
use sync_server::demo;
use sync_server::facts::device_viewer;
use sync_server::registry::{self, RequestError};
use sync_server::store::registry::RequestState;
use sync_server::testing::{Backend, TestServer};

on_each_backend!(
    r3_an_approved_registry_is_in_the_log_and_every_test_is_checked_against_it,
    r3_a_refused_or_impossible_request_changes_nothing,
    r3_a_lab_cannot_approve_its_own_request_and_another_lab_sees_nothing,
    r3_the_console_shows_the_registry_its_warnings_and_the_queue,
);

const PARAM: &str = "concrete_cube_strength";

fn lab() -> Id {
    id(demo::LAB_ORG)
}

/// The demo lab's registry: qualified for cubes until a year from `now`,
/// its machine M-1 calibrated for a year, M-OLD's calibration ended
/// yesterday, and its receiver qualified for cubes.
fn registry_at(now: i64) -> LabRegistry {
    let cert = |no: &str, until: i64| CalibrationCertificate {
        certificate_no: no.into(),
        valid_from_ms: now - 300 * DAY_MS,
        valid_until_ms: until,
    };
    let machine = |m: &str, c| RegisteredEquipment {
        id: id(m),
        machine: "YAW-2000 压力试验机".into(),
        range: "0–2000 kN".into(),
        certificates: vec![c],
    };
    LabRegistry {
        lab: lab(),
        scope: vec![ScopeEntry {
            parameter: PARAM.into(),
            certificate_no: "CMA-210800-01".into(),
            valid_from_ms: now - 365 * DAY_MS,
            valid_until_ms: now + 365 * DAY_MS,
        }],
        equipment: vec![
            machine("M-1", cert("JL-1", now + 365 * DAY_MS)),
            machine("M-OLD", cert("JL-0", now - DAY_MS)),
        ],
        staff: vec![StaffQualification {
            person: demo::LAB_RECEIVER.into(),
            lab: demo::LAB_ORG.into(),
            parameter: PARAM.into(),
            valid_until_ms: None,
        }],
    }
}

fn lab_viewer(server: &TestServer, person: &str, org: &str) -> Viewer {
    server.state.store.read(|tx| device_viewer(tx, &id(person), &id(org), OrgRole::Lab)).unwrap()
}

fn admin_viewer() -> Viewer {
    Viewer {
        is_admin: true,
        person: id("ADMIN-test"),
        org: id("OPERATOR"),
        org_role: OrgRole::Operator,
        jurisdiction: None,
        grants: vec![],
        lab_assignments: vec![],
    }
}

/// Test data of the chain's specimen for `test` on `equipment`: its findings.
async fn tested_on(
    chain: &mut Chain,
    serial: u32,
    test: &str,
    equipment: Option<&str>,
) -> (Hash, Vec<Finding>) {
    let curve = curve_file(serial);
    let t = TestData {
        tag: fixtures::tag(serial),
        receipt: chain.receipt.id(),
        test: test.into(),
        standard: "GB/T 50081-2019".into(),
        results: vec![],
        curve: Some(Hash::of(&curve)),
        automatic: true,
        equipment: equipment.map(id),
        revises: None,
        reason: None,
    };
    let media = [(MediaPurpose::TestCurve, curve.as_slice())];
    let rec = chain.lab.field_record(Payload::TestData(t), 0.0, 0.0, &media);
    let r = chain.lab.upload(&[&rec]).await.results.remove(0);
    assert_eq!(r.status, RecordStatus::Accepted, "a registry finding never blocks custody: {:?}", r.findings);
    upload_media(&chain.lab, &[(MediaPurpose::TestCurve, curve)]).await;
    (
        rec.id(),
        r.findings
            .into_iter()
            .filter(|f| f.code.starts_with("registry") || f.code == "no_lab_registry")
            .collect(),
    )
}

/// The problems named by registry findings, as `(code, problem)`.
fn problems(findings: &[Finding]) -> Vec<(String, String)> {
    findings
        .iter()
        .map(|f| {
            let p = f.detail.get("problem").and_then(|p| p.get("problem")).and_then(|p| p.as_str());
            (f.code.clone(), p.unwrap_or_default().to_owned())
        })
        .collect()
}

fn pair(code: &str, problem: &str) -> (String, String) {
    (code.into(), problem.into())
}

async fn r3_an_approved_registry_is_in_the_log_and_every_test_is_checked_against_it(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    // Before the lab has a registry: its tests are noted, not refused.
    let mut chain = received(&server, 11).await;
    let (_, found) = tested_on(&mut chain, 11, PARAM, Some("M-1")).await;
    assert_eq!(problems(&found), [pair("no_lab_registry", "")]);
    assert_eq!(found[0].rule, custody_core::verify::Rule::R3);

    let store = &server.state.store;
    let now = server.state.now();
    let asked = lab_viewer(&server, demo::LAB_RECEIVER, demo::LAB_ORG);
    let req =
        registry::submit(store, &asked, "wangqiang", &lab(), "首次登记", registry_at(now), now).unwrap();
    assert_eq!(req.state, RequestState::Pending);
    assert_eq!(store.read(|tx| tx.registry_versions(&lab())).unwrap(), vec![]);

    let log_before = store.read(|tx| tx.log_size()).unwrap();
    let record = registry::approve(
        store,
        &server.state.key,
        &server.state.config.policy,
        &admin_viewer(),
        "admin",
        &req.id,
        now,
    )
    .unwrap();
    // A signed admin fact in the log, like every other.
    let row = store.read(|tx| tx.record(&record)).unwrap().unwrap();
    assert_eq!((row.kind.as_str(), row.status), ("lab_registry_updated", RecordStatus::Accepted));
    assert_eq!(store.read(|tx| tx.log_size()).unwrap(), log_before + 1);
    let decided = store.read(|tx| tx.registry_request(&req.id)).unwrap().unwrap();
    assert_eq!((decided.state, decided.record), (RequestState::Approved, Some(record)));
    let versions = store.read(|tx| tx.registry_versions(&lab())).unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].registry, registry_at(now));

    // Within the registry: nothing to say.
    let mut chain = received_again(chain, 12).await;
    assert_eq!(tested_on(&mut chain, 12, PARAM, Some("M-1")).await.1, vec![]);
    // Outside the scope, and so by staff not qualified for it.
    let mut chain = received_again(chain, 13).await;
    let (_, found) = tested_on(&mut chain, 13, "rebar_tensile", Some("M-1")).await;
    assert_eq!(
        problems(&found),
        [pair("registry_breach", "outside_scope"), pair("registry_breach", "staff_not_qualified")]
    );
    assert!(found.iter().all(|f| f.disposition == custody_core::verify::Disposition::Flag));
    assert!(
        found[0].message_zh.contains("R3")
            && found[0].message_en.contains("outside the lab's registered scope")
    );
    // On equipment whose calibration has lapsed; and its report is not sealed.
    let mut chain = received_again(chain, 14).await;
    let (test, found) = tested_on(&mut chain, 14, PARAM, Some("M-OLD")).await;
    assert_eq!(problems(&found), [pair("registry_breach", "equipment_out_of_calibration")]);
    let approved = review_of(&mut chain, test, 14).await;
    assert_eq!(approved, RecordStatus::Accepted);
    let (rep, _) = report(&mut chain, &[14], "YK-BG-2026-R3", None).await;
    let r = seal_of(&chain.lab, &rep).await;
    assert_eq!(r.status(), 409);
    let body: serde_json::Value = r.json().await.unwrap();
    let gaps = body["detail"]["gaps"].as_array().cloned().unwrap_or_default();
    assert!(gaps.iter().any(|g| g["gap"] == "registry_broken"), "{body}");
    // Registry findings are violations regulators see.
    let stored = store.read(|tx| tx.violations(None, 0, 100)).unwrap();
    assert!(stored.iter().any(|(_, f)| f.contains("equipment_out_of_calibration")));
    server.stop().await;
}

/// The reviewer approves test `test` of `serial` (R12).
async fn review_of(chain: &mut Chain, test: Hash, serial: u32) -> RecordStatus {
    let r = custody_core::record::TestReview {
        test_data: test,
        tag: fixtures::tag(serial),
        approved: true,
        note: String::new(),
    };
    let rec = chain.reviewer.field_record(Payload::TestReviewed(r), 0.0, 0.0, &[]);
    chain.reviewer.upload(&[&rec]).await.results.remove(0).status
}

async fn r3_a_refused_or_impossible_request_changes_nothing(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let store = &server.state.store;
    let now = server.state.now();
    let asked = lab_viewer(&server, demo::LAB_RECEIVER, demo::LAB_ORG);
    let (key, policy) = (&server.state.key, &server.state.config.policy);
    let log_before = store.read(|tx| tx.log_size()).unwrap();

    // An impossible registry is refused with the rule it breaks; nothing is stored.
    let mut bad = registry_at(now);
    bad.scope[0].valid_until_ms = bad.scope[0].valid_from_ms - 1;
    bad.equipment.push(bad.equipment[0].clone());
    bad.staff.push(StaffQualification { person: "P-NOBODY".into(), ..bad.staff[0].clone() });
    let Err(RequestError::Invalid(why)) = registry::submit(store, &asked, "wangqiang", &lab(), "x", bad, now)
    else {
        panic!("refused")
    };
    let en: Vec<&str> = why.iter().map(|m| m.1.as_str()).collect();
    assert_eq!(en.len(), 3, "{en:?}");
    assert!(en[0].contains("valid until is before valid from") && en[1].contains("registered twice"));
    assert!(en[2].contains("P-NOBODY is not registered"));
    assert!(why.iter().all(|m| m.0.contains("R3")));
    // Another lab's registry, an empty summary: refused too.
    let mut other = registry_at(now);
    other.lab = id("ORG-LAB-ELSE");
    assert!(matches!(
        registry::submit(store, &asked, "wangqiang", &lab(), "x", other, now),
        Err(RequestError::Invalid(_))
    ));
    assert!(matches!(
        registry::submit(store, &asked, "wangqiang", &lab(), "  ", registry_at(now), now),
        Err(RequestError::Invalid(_))
    ));
    assert_eq!(store.read(|tx| tx.registry_requests_of(&lab())).unwrap(), vec![]);

    // Refused with a reason: kept, shown to the lab; the registry and log unchanged.
    let req =
        registry::submit(store, &asked, "wangqiang", &lab(), "新增设备", registry_at(now), now).unwrap();
    assert!(matches!(
        registry::refuse(store, &admin_viewer(), "admin", &req.id, " ", now),
        Err(RequestError::Invalid(_))
    ));
    registry::refuse(store, &admin_viewer(), "admin", &req.id, "缺少校准证书扫描件", now).unwrap();
    let seen = store.read(|tx| tx.registry_requests_of(&lab())).unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].state, seen[0].reason.as_deref()),
        (RequestState::Refused, Some("缺少校准证书扫描件"))
    );
    assert!(matches!(
        registry::approve(store, key, policy, &admin_viewer(), "admin", &req.id, now),
        Err(RequestError::NotPending)
    ));
    assert_eq!(store.read(|tx| tx.registry_versions(&lab())).unwrap(), vec![]);
    assert_eq!(store.read(|tx| tx.log_size()).unwrap(), log_before);

    server.stop().await;
}

async fn r3_a_lab_cannot_approve_its_own_request_and_another_lab_sees_nothing(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let admin = server.admin();
    admin.add_org(org("ORG-LAB-X", OrgRole::Lab, None)).unwrap();
    admin.add_person(Person { id: id("P-LABX"), name: "别家".into(), org: id("ORG-LAB-X") }).unwrap();
    admin
        .grant(
            id("G-LX"),
            id("P-LABX"),
            None,
            PersonRole::LabReceiver,
            (b"letter".as_slice(), "text/plain"),
            "id".into(),
            None,
            None,
        )
        .unwrap();
    let store = &server.state.store;
    let now = server.state.now();
    let own = lab_viewer(&server, demo::LAB_RECEIVER, demo::LAB_ORG);
    let req = registry::submit(store, &own, "wangqiang", &lab(), "首次登记", registry_at(now), now).unwrap();
    let (key, policy) = (&server.state.key, &server.state.config.policy);
    // The lab cannot approve (or refuse) its own request.
    assert!(matches!(
        registry::approve(store, key, policy, &own, "wangqiang", &req.id, now),
        Err(RequestError::Denied(_))
    ));
    assert!(matches!(
        registry::refuse(store, &own, "wangqiang", &req.id, "no", now),
        Err(RequestError::Denied(_))
    ));
    // Another lab cannot ask for this lab's registry.
    let other = lab_viewer(&server, "P-LABX", "ORG-LAB-X");
    assert!(matches!(
        registry::submit(store, &other, "labx", &lab(), "x", registry_at(now), now),
        Err(RequestError::Denied(_))
    ));
    // Nor the administrator, who only decides.
    assert!(matches!(
        registry::submit(store, &admin_viewer(), "admin", &lab(), "x", registry_at(now), now),
        Err(RequestError::Invalid(_))
    ));

    // In the console: the other lab sees nothing of it, and the lab
    // cannot reach the queue or the approval.
    let mut labx = signed_in(&server, "labx", Some("P-LABX"));
    let page = labx.get(&format!("/console/registry?lab={}", demo::LAB_ORG)).await;
    assert_eq!(page.status, 403);
    let mine = labx.get("/console/registry").await;
    assert_eq!(mine.status, 200);
    assert!(!mine.body.contains(&req.id), "another lab's request is not shown");
    let mut wang = signed_in(&server, "wangqiang", Some(demo::LAB_RECEIVER));
    assert_eq!(wang.get("/console/registry/requests").await.status, 403);
    let csrf = wang.csrf().await;
    let approve =
        wang.post(&format!("/console/registry/requests/{}/approve", req.id), &[("csrf", &csrf)]).await;
    assert_eq!(approve.status, 403);
    assert_eq!(store.read(|tx| tx.registry_request(&req.id)).unwrap().unwrap().state, RequestState::Pending);
    server.stop().await;
}

async fn r3_the_console_shows_the_registry_its_warnings_and_the_queue(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let now = server.state.now();
    let mut wang = signed_in(&server, "wangqiang", Some(demo::LAB_RECEIVER));
    let page = wang.get("/console/registry").await;
    assert_eq!(page.status, 200);
    assert!(page.has("no-registry") && page.has("registry-form"));

    // A form line that cannot be read is named, and nothing is asked.
    let csrf = wang.csrf().await;
    let bad = wang
        .post(
            "/console/registry/requests",
            &[("csrf", &csrf), ("summary", "x"), ("registry", "资质 a | b | 2026-02-30 | x")],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.has("form-error") && bad.body.contains("第 1 行"));

    // The machine's calibration ends in ten days: the lab is warned.
    let mut r = registry_at(now);
    r.equipment[0].certificates[0].valid_until_ms = now + 10 * DAY_MS;
    let form = text::to_text(&r);
    let sent = wang
        .post("/console/registry/requests", &[("csrf", &csrf), ("summary", "年度校准"), ("registry", &form)])
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let page = wang.get("/console/registry").await;
    assert_eq!(page.attrs("request-row", "data-state"), ["pending"]);

    // The operator's queue shows what it changes, and approves it.
    let mut admin = signed_in(&server, "admin", None);
    let queue = admin.get("/console/registry/requests").await;
    assert_eq!(queue.status, 200);
    assert_eq!(queue.attrs("queue-request", "data-lab"), [demo::LAB_ORG]);
    assert_eq!(queue.attrs("diff-row", "data-kind").len(), 4, "scope, two machines and a person are added");
    let id = queue.attrs("queue-request", "data-request").remove(0);
    let csrf = admin.csrf().await;
    let ok = admin.post(&format!("/console/registry/requests/{id}/approve"), &[("csrf", &csrf)]).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(admin.get("/console/registry/requests").await.has("queue-empty"));
    let audit = server.state.store.read(|tx| tx.audit(None, 100)).unwrap();
    assert!(audit.iter().any(|a| a.action == "registry_approve" && a.target == id));
    assert!(audit.iter().any(|a| a.action == "registry_request" && a.target == id));

    // The lab's page: entries in force, the month's warning, the history.
    let page = wang.get("/console/registry").await;
    assert_eq!(page.attrs("request-row", "data-state"), ["approved"]);
    assert_eq!(
        page.attrs("registry-warning", "data-expired"),
        ["true", "false"],
        "M-OLD has ended, M-1 ends in ten days"
    );
    assert!(page.body.contains("class=\"expiring\""));
    assert!(page.body.contains("class=\"expired\""), "M-OLD's calibration has ended");
    assert!(page.body.contains("CMA-210800-01") && page.body.contains("YAW-2000"));
    server.stop().await;
}
