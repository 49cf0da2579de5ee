//! Progress against plan (issue 15, A4.1) at 1,000 unit projects, measured
//! in one run beside its baselines:
//! * the raw pass: the project's specimens joined to their custody stages,
//!   counted, nothing grouped or decoded — the least any progress query
//!   must read;
//! * the grouped query alone (by unit project, plan item and stage);
//! * the whole progress as the API computes it: the project's plan records
//!   read and folded (every version, approval, contract), the grouped
//!   query, the core's progress per item;
//! * the API answer end to end (`GET /v1/projects/{id}/plans`, a signed
//!   request from the owner's phone), with the pre-start gaps.
//!
//! The data: one project of 1,000 unit projects, each with an approved
//! five-item sampling plan (5,000 items) and 50 specimens (50,000) spread
//! over its items and outside the plan, at every custody stage — written
//! straight into the projections the ingest keeps (the plan records and
//! samplings are what `plans::apply` writes), since what is measured is the
//! read.
//!
//! `cargo bench -p sync-server --bench plans` (release; SQLite; about a
//! minute). `-- --postgres` runs PostgreSQL too; `-- --units N` another size.

#![allow(clippy::too_many_lines)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use custody_core::custody::{SpecimenState, Stage};
use custody_core::fixtures::id;
use custody_core::model::{PersonRole, Project, SpecimenKind, UnitProject};
use custody_core::plans::progress::ProgressPolicy;
use custody_core::plans::{Measure, PlanApproval, PlanItem, QuantityRule, SamplingPlan};
use custody_core::protocol::ProjectPlansResponse;
use custody_core::record::RecordKind;
use custody_core::{Hash, Id};
use std::time::Instant;
use sync_server::testing::Backend;

const ROUNDS: usize = 30;
const ITEMS: usize = 5;
const SPECIMENS_PER_UNIT: usize = 50;
const PRJ: &str = "PRJ-BENCH";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let units = args
        .iter()
        .position(|a| a == "--units")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    let mut backends = vec![Backend::Embedded];
    if args.iter().any(|a| a == "--postgres") {
        backends.push(Backend::Postgres);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for b in backends {
        rt.block_on(progress(b, units));
    }
}

fn item(n: usize, now: i64) -> PlanItem {
    PlanItem {
        item: id(&format!("I-{n}")),
        kind: SpecimenKind::ConcreteCube,
        part: format!("{}层 柱", n + 1),
        grade: "C30".into(),
        tests: vec!["抗压强度".into()],
        unit: "组".into(),
        per_sampling: 3,
        rule: QuantityRule::Per { per: 100, total: 2350, measure: Measure::CubicMetre },
        from_ms: now - 60 * 86_400_000,
        until_ms: now + 60 * 86_400_000,
        stage: "主体结构".into(),
    }
}

async fn progress(backend: Backend, units: usize) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(backend, dir.path()).await;
    server.seed();
    let admin = server.admin();
    admin
        .add_project(Project {
            id: id(PRJ),
            name: "bench".into(),
            owner: id("ORG-OWN-HX"),
            jurisdiction: "210802".into(),
        })
        .unwrap();
    admin
        .add_person(custody_core::model::Person {
            id: id("P-OWNB"),
            name: "业主".into(),
            org: id("ORG-OWN-HX"),
        })
        .unwrap();
    admin
        .grant(
            id("G-OWNB"),
            id("P-OWNB"),
            Some(id(PRJ)),
            PersonRole::OwnerRepresentative,
            (b"letter".as_slice(), "text/plain"),
            "id".into(),
            None,
            None,
        )
        .unwrap();
    let owner = enrolled(&server, 60, "P-OWNB").await;
    let t = Instant::now();
    let now = {
        use sync_server::Clock;
        server.clock.now_ms()
    };
    let stages = [
        Stage::Sampled,
        Stage::Witnessed,
        Stage::Commissioned,
        Stage::Received,
        Stage::Tested,
        Stage::Reported,
    ];
    let mut serial = 0u64;
    for chunk in (0..units).collect::<Vec<_>>().chunks(50) {
        server
            .state
            .store
            .write(|tx| {
                for &u in chunk {
                    let unit = id(&format!("UP-B{u}"));
                    admin_unit(tx, &unit)?;
                    let plan = SamplingPlan {
                        plan: id(&format!("SP-{u}")),
                        project: id(PRJ),
                        unit_project: unit.clone(),
                        version: 1,
                        supersedes: None,
                        basis: "结施".into(),
                        note: String::new(),
                        items: (0..ITEMS).map(|n| item(n, now)).collect(),
                    };
                    let rec = Hash::of(format!("plan {u}").as_bytes());
                    let json = serde_json::to_string(&plan).unwrap();
                    tx.insert_plan_record(
                        &id(PRJ),
                        &rec,
                        RecordKind::SamplingPlanDrafted.as_str(),
                        &id("P-CE"),
                        now,
                        &json,
                    )?;
                    let a = PlanApproval { plan: rec, project: id(PRJ), approved: true, note: String::new() };
                    let arec = Hash::of(format!("approval {u}").as_bytes());
                    tx.insert_plan_record(
                        &id(PRJ),
                        &arec,
                        RecordKind::PlanApproved.as_str(),
                        &id("P-SE"),
                        now,
                        &serde_json::to_string(&a).unwrap(),
                    )?;
                    for k in 0..SPECIMENS_PER_UNIT {
                        serial += 1;
                        let tag = format!("B{serial:017}");
                        let stage = stages[k % stages.len()];
                        let state = SpecimenState { stage, ..SpecimenState::UNBOUND };
                        tx.set_tag_state(&tag, Some(PRJ), &state, now)?;
                        // Every tenth outside the plan.
                        let item = (k % 10 != 9).then(|| id(&format!("I-{}", k % ITEMS)));
                        tx.insert_plan_sampling(
                            &tag,
                            &id(PRJ),
                            &unit,
                            item.as_ref(),
                            SpecimenKind::ConcreteCube,
                            now,
                        )?;
                    }
                }
                Ok(())
            })
            .unwrap();
    }
    let specimens = (units * SPECIMENS_PER_UNIT) as i64;
    println!(
        "{backend:?}: progress against plan at {units} unit projects ({} plan items, {specimens} specimens); filled in {:.1} s",
        units * ITEMS,
        t.elapsed().as_secs_f64()
    );
    let p = id(PRJ);
    let mut raw = Vec::new();
    let mut grouped = Vec::new();
    let mut whole = Vec::new();
    let mut api = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let n = server.state.store.read(|tx| tx.raw_plan_pass(&p)).unwrap();
        raw.push(t.elapsed());
        assert_eq!(n, specimens);

        let t = Instant::now();
        let rows = server.state.store.read(|tx| tx.plan_stage_counts(&p)).unwrap();
        grouped.push(t.elapsed());
        assert!(!rows.is_empty());

        let t = Instant::now();
        let got = server
            .state
            .store
            .read(|tx| {
                let plans = sync_server::plans::project_plans(tx, &p)?;
                sync_server::plans::progress(tx, &p, &plans, now, ProgressPolicy::default())
            })
            .unwrap();
        whole.push(t.elapsed());
        assert_eq!(got.items.len(), units * ITEMS);
        let counted: u32 = got.items.iter().map(|i| i.counts.sampled).sum::<u32>()
            + got.outside.values().map(|c| c.sampled).sum::<u32>();
        assert_eq!(i64::from(counted), specimens);

        let t = Instant::now();
        let view: ProjectPlansResponse = owner.get_json(&custody_core::routes::project_plans(&p)).await;
        api.push(t.elapsed());
        assert_eq!(view.progress.len(), units * ITEMS);
    }
    let q = |v: Vec<std::time::Duration>| quantiles(v);
    let ((r50, r99), (g50, g99), (w50, w99), (a50, a99)) = (q(raw), q(grouped), q(whole), q(api));
    println!("  raw pass (join, count, no grouping):          p50 {r50:7.2} ms  p99 {r99:7.2} ms");
    println!("  grouped query (unit project, item, stage):    p50 {g50:7.2} ms  p99 {g99:7.2} ms");
    println!(
        "  progress (plans read and folded + grouped):   p50 {w50:7.2} ms  p99 {w99:7.2} ms  = {:.1}× the raw pass",
        w50 / r50
    );
    println!("  API answer, signed GET (with pre-start gaps): p50 {a50:7.2} ms  p99 {a99:7.2} ms");
    server.stop().await;
}

fn admin_unit(tx: &mut dyn sync_server::store::Tx, unit: &Id) -> sync_server::store::Result<()> {
    tx.upsert_unit_project(&UnitProject {
        id: unit.clone(),
        project: id(PRJ),
        name: unit.to_string(),
        boundary: custody_core::fixtures::site(),
    })
}
