//! `field-sim plan`: the sampling plan from an engine (R4), for rehearsals
//! and tests. The contractor's engineer drafts a version (a JSON file, or
//! the demo plan of a residential building), the supervising engineer
//! approves or returns it, and any enrolled device lists the items in force
//! that its sampler would pick from — what the field app's sampler screen
//! shows, offline, after a sync.

use custody_core::model::{Id, SpecimenKind};
use custody_core::plans::{Measure, PlanApproval, PlanItem, QuantityRule, SamplingPlan};
use field_engine::clock::{DeviceClock, SystemClock};
use field_engine::{Engine, EngineError, PlanRecordInput};
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum PlanCmd {
    /// Draft a version of a unit project's sampling plan (the contractor's
    /// engineer, R4); prints the record id the approval names.
    Draft {
        /// A SamplingPlan as JSON; without it, the demo plan of `--unit`.
        #[arg(long)]
        file: Option<PathBuf>,
        /// The unit project of the demo plan.
        #[arg(long, default_value = "UP-1")]
        unit: String,
        /// The demo plan's version number (1 for the first; each change the
        /// next). A `--file` plan carries its own.
        #[arg(long, default_value_t = 1)]
        version: u32,
        /// The record of the version the demo plan replaces (from version 2 on).
        #[arg(long)]
        supersedes: Option<String>,
    },
    /// Approve a plan version (the supervising engineer, R4, R5), or return
    /// it with `--return` and a `--note` saying why.
    Approve {
        record: String,
        #[arg(long = "return")]
        returned: bool,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// The approved items in force on this device, one JSON line each.
    Items,
}

const DAY_MS: i64 = 24 * 3_600_000;

/// The demo plan of a residential building's main structure, as a
/// contractor draws it from the design: concrete by pour volume (GB 50204:
/// one group per 100 m³), rebar per 60 t, couplers per 500, mortar a fixed
/// count; due over the next six months.
fn demo_plan(project: Id, unit: &Id, version: u32, supersedes: Option<custody_core::Hash>) -> SamplingPlan {
    let now = SystemClock::default().wall_ms();
    let prefix = unit.as_str().replace('-', "");
    let item = |name: &str, kind, part: &str, grade: &str, tests: &[&str], unit: &str, per_sampling, rule| {
        PlanItem {
            item: Id::new(format!("{prefix}-{name}")).expect("a valid id"),
            kind,
            part: part.into(),
            grade: grade.into(),
            tests: tests.iter().map(|t| (*t).to_owned()).collect(),
            unit: unit.into(),
            per_sampling,
            rule,
            from_ms: now - DAY_MS,
            until_ms: now + 180 * DAY_MS,
            stage: "主体结构".into(),
        }
    };
    let per = |per, total, measure| QuantityRule::Per { per, total, measure };
    SamplingPlan {
        plan: Id::new(format!("SP-{prefix}")).expect("a valid id"),
        project,
        unit_project: unit.clone(),
        version,
        supersedes,
        basis: "结施-01~18、建施-01~12（施工图审查合格书 2026-0315）".into(),
        note: String::new(),
        items: vec![
            item(
                "COL-C30",
                SpecimenKind::ConcreteCube,
                "1~6层 框架柱",
                "C30",
                &["抗压强度"],
                "组",
                1,
                per(100, 1_200, Measure::CubicMetre),
            ),
            item(
                "SLAB-C30",
                SpecimenKind::ConcreteCube,
                "1~6层 梁板",
                "C30",
                &["抗压强度"],
                "组",
                1,
                per(100, 2_400, Measure::CubicMetre),
            ),
            item(
                "BAR-HRB400E",
                SpecimenKind::Rebar,
                "主体结构 钢筋原材",
                "HRB400E Φ20",
                &["屈服强度", "抗拉强度", "断后伸长率", "最大力总延伸率", "弯曲性能"],
                "根",
                5,
                per(60, 540, Measure::Tonne),
            ),
            item(
                "CPL-I",
                SpecimenKind::RebarCoupler,
                "框架柱 直螺纹接头",
                "I级 Φ25",
                &["抗拉强度"],
                "个",
                3,
                per(500, 3_000, Measure::Piece),
            ),
            item(
                "MORTAR-M75",
                SpecimenKind::MortarCube,
                "填充墙 砌筑砂浆",
                "M7.5",
                &["抗压强度"],
                "组",
                1,
                QuantityRule::Count { samplings: 12 },
            ),
        ],
    }
}

pub async fn run(engine: &Engine, cmd: PlanCmd) -> Result<(), EngineError> {
    match cmd {
        PlanCmd::Draft { file, unit, version, supersedes } => {
            let supersedes = supersedes.as_deref().map(super::parse_hash).transpose()?;
            let plan = match file {
                Some(f) => {
                    let text = std::fs::read_to_string(&f).map_err(|e| super::bad("无法读取文件", e))?;
                    serde_json::from_str(&text).map_err(|e| super::bad("取样计划格式错误", e))?
                }
                None => {
                    let unit = Id::new(&unit).map_err(|e| super::bad("编号格式错误", e))?;
                    demo_plan(engine.project_of(unit.as_str())?, &unit, version, supersedes)
                }
            };
            let created = engine.create_plan_record(PlanRecordInput::SamplingPlan(plan), false)?;
            println!("{}", created.id);
            super::say(&created.notices);
        }
        PlanCmd::Approve { record, returned, note } => {
            let plan = super::parse_hash(&record)?;
            let project = engine
                .signed_record(&plan)?
                .and_then(|r| r.body().payload.project().cloned())
                .ok_or_else(|| {
                    super::bad(
                        "本机没有这个计划版本：请先同步",
                        format!("this device holds no plan version {record}: sync first"),
                    )
                })?;
            let approval = PlanApproval { plan, project, approved: !returned, note };
            let created = engine.create_plan_record(PlanRecordInput::Approval(approval), false)?;
            println!("{}", created.id);
            super::say(&created.notices);
        }
        PlanCmd::Items => {
            for item in engine.plan_items()? {
                println!("{}", serde_json::to_string(&item).expect("serialises"));
            }
        }
    }
    Ok(())
}
