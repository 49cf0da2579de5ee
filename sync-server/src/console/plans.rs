//! Before work starts, in the console (issue 15): one page per project
//! with what the authority will check (R19) — the contracts (R2, R15), each
//! unit project's sampling plan (R4) and testing plan (R5) with their
//! versions and the supervisor's decisions, what is still missing — and
//! progress against plan with the items falling behind (A4.1), for whoever
//! may see the project (`access::console_project`).
//!
//! The people who answer for a plan sign it themselves, in the browser
//! (`console-assets/signer.js`, the lab desk's signing device): the page
//! shows each person the forms their authorisation allows
//! (`access::plan_signer`); a form is sent to [`draft`], which reads it
//! (`plans::text` for plan items), runs the very rules the server will
//! judge the record by (`plans::rules::check`) and answers the payload to
//! sign or every problem in the reader's language; the browser signs the
//! payload and uploads it through the device API like a phone.

use super::pages::not_yours;
use super::paths;
use super::scope::Scope;
use super::session::{User, check_csrf};
use super::view::{Chrome, Deny, render, when};
use crate::AppState;
use askama::Template;
use axum::Json;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use custody_core::Hash;
use custody_core::access::{self, PlanSigner};
use custody_core::calendar::{date_cst, start_of_day_cst};
use custody_core::model::{Id, SpecimenKind};
use custody_core::plans::progress::{ItemProgress, ItemStatus};
use custody_core::plans::{
    Contract, ContractTerms, PlanApproval, PlanHistory, PlanVersion, PreStartCheck, ProjectPlans,
    SamplingPlan, TestingPlan, TestingPlanItem, rules, text,
};
use custody_core::record::Payload;
use custody_core::verify::Lang;
use serde::Deserialize;

pub struct ContractLine {
    pub number: String,
    pub what: String,
    pub signed: String,
}

pub struct VersionLine {
    pub record: String,
    pub version: u32,
    pub drafted: String,
    /// `approved`, `returned` or `pending`.
    pub state: &'static str,
    pub decision: String,
    pub in_force: bool,
}

pub struct UnitPlans {
    pub id: String,
    pub name: String,
    pub sampling: Vec<VersionLine>,
    /// The items of the sampling plan in force (or the latest draft).
    pub items: Vec<(String, String)>,
    pub testing: Vec<VersionLine>,
    /// Form text for a new sampling plan version (the latest version's items).
    pub sampling_text: String,
    /// Form text for a new testing plan (from the sampling plan in force).
    pub testing_text: String,
    pub tags_needed: u32,
    /// The sampling plan version a testing plan would be drawn from.
    pub base: Option<String>,
    /// Versions waiting for the supervisor (record, label).
    pub pending: Vec<(String, String)>,
}

pub struct ProgressLine {
    pub unit: String,
    pub item: String,
    pub part: String,
    pub planned: u32,
    pub due: u32,
    pub sampled: u32,
    pub witnessed: u32,
    pub tested: u32,
    pub reported: u32,
    pub status: &'static str,
    pub status_name: &'static str,
    pub finding: Option<String>,
}

#[derive(Template)]
#[template(path = "console/plans.html")]
struct PlansPage {
    c: Chrome,
    project: String,
    project_name: String,
    draft_href: String,
    gaps: Vec<(String, String)>,
    check: Option<String>,
    contracts: Vec<ContractLine>,
    units: Vec<UnitPlans>,
    progress: Vec<ProgressLine>,
    outside: Vec<(String, u32)>,
    may: PlanSigner,
    signer: Option<String>,
    labs: Vec<(String, String)>,
    suppliers: Vec<(String, String)>,
    today: String,
    /// A first item's planned end in the form's example: a quarter on.
    until: String,
    year: i64,
}

fn version_lines<P>(
    h: Option<&PlanHistory<P>>,
    names: &std::collections::BTreeMap<Id, String>,
    lang: Lang,
) -> Vec<VersionLine>
where
    P: VersionNumber,
{
    let Some(h) = h else { return Vec::new() };
    let in_force = h.in_force().map(|v| v.record);
    h.versions
        .iter()
        .rev()
        .map(|v| {
            let (state, decision) = match &v.decision {
                None => ("pending", String::new()),
                Some(d) => {
                    let who = names.get(&d.by).cloned().unwrap_or_else(|| d.by.to_string());
                    let word = match (d.approved, lang) {
                        (true, Lang::En) => "approved",
                        (true, _) => "批准",
                        (false, Lang::En) => "returned",
                        (false, _) => "退回",
                    };
                    let note = if d.note.is_empty() { String::new() } else { format!("：{}", d.note) };
                    (
                        if d.approved { "approved" } else { "returned" },
                        format!("{} {who} {word}{note}", when(d.at_ms)),
                    )
                }
            };
            VersionLine {
                record: v.record.to_hex(),
                version: v.plan.number(),
                drafted: when(v.at_ms),
                state,
                decision,
                in_force: Some(v.record) == in_force,
            }
        })
        .collect()
}

/// Both plans carry a version number.
pub trait VersionNumber {
    fn number(&self) -> u32;
}
impl VersionNumber for SamplingPlan {
    fn number(&self) -> u32 {
        self.version
    }
}
impl VersionNumber for TestingPlan {
    fn number(&self) -> u32 {
        self.version
    }
}

fn pending<P: VersionNumber>(h: Option<&PlanHistory<P>>, what: &str) -> Vec<(String, String)> {
    h.and_then(PlanHistory::latest)
        .filter(|v: &&PlanVersion<P>| v.decision.is_none())
        .map(|v| (v.record.to_hex(), format!("{what} v{}", v.plan.number())))
        .into_iter()
        .collect()
}

fn progress_line(p: &ItemProgress, lang: Lang) -> ProgressLine {
    ProgressLine {
        unit: p.unit_project.to_string(),
        item: p.item.to_string(),
        part: p.part.clone(),
        planned: p.planned,
        due: p.due,
        sampled: p.counts.sampled,
        witnessed: p.counts.witnessed,
        tested: p.counts.tested,
        reported: p.counts.reported,
        status: match p.status {
            ItemStatus::NotStarted => "not_started",
            ItemStatus::OnTrack => "on_track",
            ItemStatus::Behind => "behind",
            ItemStatus::Overdue => "overdue",
            ItemStatus::Done => "done",
        },
        status_name: p.status.label(lang),
        finding: p.finding(lang),
    }
}

fn contract_line(c: &Contract, names: &std::collections::BTreeMap<Id, String>, lang: Lang) -> ContractLine {
    let name = |id: &Id| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let en = lang == Lang::En;
    let what = match &c.terms {
        ContractTerms::Testing { lab, unit_projects, kinds, parameters, estimated_tests } => {
            let kinds: Vec<&str> = kinds.iter().map(|k| if en { k.name_en() } else { k.name_zh() }).collect();
            let units: Vec<String> = unit_projects.iter().map(ToString::to_string).collect();
            if en {
                format!(
                    "testing: {} for {} — {} ({}), about {estimated_tests} tests",
                    name(lab),
                    units.join(", "),
                    kinds.join(", "),
                    parameters.join(", ")
                )
            } else {
                format!(
                    "检测合同：{}，单位工程 {}，{}（{}），预计 {estimated_tests} 次",
                    name(lab),
                    units.join("、"),
                    kinds.join("、"),
                    parameters.join("、")
                )
            }
        }
        ContractTerms::TagSupply { supplier, quantity, unit_price_fen, year } => {
            let price = format!("{}.{:02}", unit_price_fen / 100, unit_price_fen % 100);
            if en {
                format!("tag supply: {} — {quantity} tags at {price} yuan ({year})", name(supplier))
            } else {
                format!("标识供应合同：{}，{quantity} 枚，单价 {price} 元（{year} 年）", name(supplier))
            }
        }
    };
    ContractLine { number: c.number.clone(), what, signed: date_cst(c.signed_ms) }
}

pub async fn page(State(state): State<AppState>, u: User, Path(id): Path<String>) -> Result<Response, Deny> {
    let lang = u.client.lang;
    let pid = Id::new(id).map_err(|_| Deny::not_found(lang))?;
    let (viewer, now, policy) = (u.viewer.clone(), state.now(), state.config.oversight.plans);
    let draft_href = paths::fill(paths::PROJECT_PLANS_DRAFT, pid.as_str());
    let found = state
        .store
        .read_async(move |tx| {
            let scope = Scope::of(tx, &viewer, now)?;
            let Some(ps) = scope.project(&pid).cloned() else { return Ok(None) };
            let Some(project) = tx.project(&pid)? else { return Ok(None) };
            let plans = crate::plans::project_plans(tx, &pid)?;
            let gaps = crate::plans::prestart_gaps(tx, &pid, &plans, now)?;
            let progress = crate::plans::progress(tx, &pid, &plans, now, policy)?;
            let units = tx.unit_projects_of(&pid)?;
            let mut names = std::collections::BTreeMap::new();
            for o in tx.orgs()? {
                names.insert(o.id.clone(), o.name.clone());
            }
            for p in tx.people()? {
                names.insert(p.id.clone(), p.name.clone());
            }
            let orgs = tx.orgs()?;
            Ok(Some((ps, project, plans, gaps, progress, units, names, orgs)))
        })
        .await?;
    let Some((ps, project, plans, gaps, progress, units, names, orgs)) = found else {
        return Err(not_yours(lang));
    };
    let may = access::plan_signer(&u.viewer, now, &ps);
    let gap_lines = gaps.iter().map(|g| (g.code(), g.message(lang))).collect();
    let check = plans.latest_check().map(|c| {
        let who = names.get(&c.by).cloned().unwrap_or_else(|| c.by.to_string());
        let word = match (c.check.passed, lang) {
            (true, Lang::En) => "passed",
            (true, _) => "通过",
            (false, Lang::En) => "not passed",
            (false, _) => "未通过",
        };
        format!("{} {who}：{word} {}", when(c.at_ms), c.check.note)
    });
    let unit_plans = units.iter().map(|up| unit_plans(&plans, up, &names, lang)).collect();
    let labs = orgs
        .iter()
        .filter(|o| o.role == custody_core::model::OrgRole::Lab)
        .map(|o| (o.id.to_string(), o.name.clone()))
        .collect();
    let suppliers = orgs
        .iter()
        .filter(|o| o.role == custody_core::model::OrgRole::TagSupplier)
        .map(|o| (o.id.to_string(), o.name.clone()))
        .collect();
    let page = PlansPage {
        c: Chrome::for_user(
            &u,
            format!("{} · 开工前与计划", project.name),
            format!("{} · before work starts and plans", project.name),
        ),
        draft_href,
        project: ps.project.to_string(),
        project_name: project.name,
        gaps: gap_lines,
        check,
        contracts: plans.contracts.iter().map(|c| contract_line(&c.contract, &names, lang)).collect(),
        units: unit_plans,
        progress: progress.items.iter().map(|p| progress_line(p, lang)).collect(),
        outside: progress.outside.iter().map(|(u, c)| (u.to_string(), c.sampled)).collect(),
        signer: may.any().then(|| u.viewer.person.to_string()),
        may,
        labs,
        suppliers,
        today: date_cst(now),
        until: date_cst(now + 90 * 24 * 3_600_000),
        year: custody_core::calendar::cst(now).0,
    };
    Ok(render(&page))
}

fn unit_plans(
    plans: &ProjectPlans,
    up: &custody_core::model::UnitProject,
    names: &std::collections::BTreeMap<Id, String>,
    lang: Lang,
) -> UnitPlans {
    let sampling = plans.sampling.get(&up.id);
    let testing = plans.testing.get(&up.id);
    let shown = sampling.and_then(|h| h.in_force().or(h.latest()));
    let items = shown
        .map(|v| {
            v.plan
                .items
                .iter()
                .map(|i| {
                    let kind = if lang == Lang::En { i.kind.name_en() } else { i.kind.name_zh() };
                    (
                        i.item.to_string(),
                        format!(
                            "{kind} · {} · {} · {} {} × {} · {}–{}",
                            i.part,
                            i.grade,
                            i.per_sampling,
                            i.unit,
                            i.planned(),
                            date_cst(i.from_ms),
                            date_cst(i.until_ms)
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let base = sampling.and_then(PlanHistory::in_force);
    let contract_params: Vec<String> = plans
        .testing_contracts_for(&up.id)
        .flat_map(|c| match &c.terms {
            ContractTerms::Testing { parameters, .. } => parameters.clone(),
            ContractTerms::TagSupply { .. } => vec![],
        })
        .collect();
    let testing_text = match (testing.and_then(PlanHistory::latest), base) {
        (Some(t), _) => text::testing_items_to_text(&t.plan.items),
        (None, Some(b)) => text::testing_items_to_text(
            &b.plan
                .items
                .iter()
                .map(|i| TestingPlanItem {
                    plan_item: i.item.clone(),
                    parameters: contract_params.clone(),
                    tests: i.planned(),
                })
                .collect::<Vec<_>>(),
        ),
        (None, None) => String::new(),
    };
    let mut pending_list = pending(sampling, if lang == Lang::En { "sampling plan" } else { "取样计划" });
    pending_list.extend(pending(testing, if lang == Lang::En { "testing plan" } else { "检测计划" }));
    UnitPlans {
        id: up.id.to_string(),
        name: up.name.clone(),
        sampling: version_lines(sampling, names, lang),
        testing: version_lines(testing, names, lang),
        items,
        sampling_text: text::sampling_items_to_text(
            sampling.and_then(PlanHistory::latest).map(|v| v.plan.items.as_slice()).unwrap_or_default(),
        ),
        testing_text,
        tags_needed: base.map(|b| b.plan.items.iter().map(|i| i.planned()).sum()).unwrap_or(0),
        base: base.map(|b| b.record.to_hex()),
        pending: pending_list,
    }
}

/// What a plan form sends. Every field but `csrf` and `kind` belongs to
/// one form or another; what a form does not send stays empty.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DraftForm {
    pub csrf: String,
    /// `testing_contract`, `tag_contract`, `sampling_plan`, `testing_plan`,
    /// `approval`, `pre_start_check`.
    pub kind: String,
    pub number: String,
    pub signed: String,
    pub lab: String,
    pub unit_projects: String,
    pub kinds: String,
    pub parameters: String,
    pub estimated_tests: String,
    pub supplier: String,
    pub quantity: String,
    pub price: String,
    pub year: String,
    pub unit_project: String,
    pub basis: String,
    pub note: String,
    pub items: String,
    pub sampling_plan: String,
    pub tags_needed: String,
    pub plan: String,
    /// `approve` / `return`; `pass` / `fail`.
    pub decision: String,
}

type Problems = Vec<(String, String)>;

fn problem(zh: impl Into<String>, en: impl Into<String>) -> Problems {
    vec![(zh.into(), en.into())]
}

fn whole(v: &str, zh: &str, en: &str) -> Result<u32, Problems> {
    v.trim().parse().map_err(|_| problem(format!("“{zh}”应为整数"), format!("{en} must be a whole number")))
}

fn ids(v: &str) -> Result<Vec<Id>, Problems> {
    v.split([',', '，', '、', ' '])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| Id::new(x).map_err(|_| problem(format!("编号“{x}”无效"), format!("id “{x}” is invalid"))))
        .collect()
}

fn hash(v: &str) -> Result<Hash, Problems> {
    v.trim().parse().map_err(|_| problem("没有选中计划版本", "no plan version was chosen"))
}

/// A price in yuan → fen (`plans::fen_of_yuan`).
fn fen(v: &str) -> Result<u32, Problems> {
    custody_core::plans::fen_of_yuan(v).ok_or_else(|| {
        problem(
            "单价应为元，最多两位小数（如 1.50）",
            "the price is in yuan with at most two decimals (e.g. 1.50)",
        )
    })
}

/// Test categories as typed: Chinese names or codes, comma-separated.
fn kinds(v: &str) -> Result<Vec<SpecimenKind>, Problems> {
    list(v)
        .iter()
        .map(|k| {
            text::kind_of(k).ok_or_else(|| {
                problem(format!("不认识的检测类别“{k}”"), format!("unknown test category “{k}”"))
            })
        })
        .collect()
}

/// A comma-separated list (Chinese or Latin commas, or 、).
fn list(v: &str) -> Vec<String> {
    v.split([',', '，', '、']).map(str::trim).filter(|x| !x.is_empty()).map(Into::into).collect()
}

/// The payload a form asks for, before the rules.
fn payload(f: &DraftForm, project: &Id, plans: &ProjectPlans, viewer_org: &Id) -> Result<Payload, Problems> {
    let date = |v: &str| {
        start_of_day_cst(v).ok_or_else(|| problem("日期应为 YYYY-MM-DD", "the date should be YYYY-MM-DD"))
    };
    let text_errors = |e: Vec<text::TextError>| -> Problems {
        e.iter().map(|x| (x.message(Lang::ZhCn), x.message(Lang::En))).collect()
    };
    Ok(match f.kind.as_str() {
        "testing_contract" => Payload::ContractRegistered(Contract {
            number: f.number.trim().into(),
            project: project.clone(),
            signed_ms: date(&f.signed)?,
            terms: ContractTerms::Testing {
                lab: Id::new(f.lab.trim()).map_err(|_| problem("请选择检测机构", "choose the lab"))?,
                unit_projects: ids(&f.unit_projects)?,
                kinds: kinds(&f.kinds)?,
                parameters: list(&f.parameters),
                estimated_tests: whole(&f.estimated_tests, "预计检测次数", "estimated tests")?,
            },
        }),
        "tag_contract" => Payload::ContractRegistered(Contract {
            number: f.number.trim().into(),
            project: project.clone(),
            signed_ms: date(&f.signed)?,
            terms: ContractTerms::TagSupply {
                supplier: Id::new(f.supplier.trim())
                    .map_err(|_| problem("请选择标识供应商", "choose the tag supplier"))?,
                quantity: whole(&f.quantity, "数量", "quantity")?,
                unit_price_fen: fen(&f.price)?,
                year: whole(&f.year, "年度", "year")?
                    .try_into()
                    .map_err(|_| problem("年度无效", "invalid year"))?,
            },
        }),
        "sampling_plan" => {
            let unit = Id::new(f.unit_project.trim())
                .map_err(|_| problem("请选择单位工程", "choose the unit project"))?;
            let (version, supersedes) = plans.next_version(&unit, false);
            Payload::SamplingPlanDrafted(SamplingPlan {
                plan: Id::new(format!("SP-{unit}"))
                    .map_err(|_| problem("单位工程编号过长", "unit project id too long"))?,
                project: project.clone(),
                unit_project: unit,
                version,
                supersedes,
                basis: f.basis.trim().into(),
                note: f.note.trim().into(),
                items: text::parse_sampling_items(&f.items).map_err(text_errors)?,
            })
        }
        "testing_plan" => {
            let unit = Id::new(f.unit_project.trim())
                .map_err(|_| problem("请选择单位工程", "choose the unit project"))?;
            let (version, supersedes) = plans.next_version(&unit, true);
            Payload::TestingPlanDrafted(TestingPlan {
                plan: Id::new(format!("TP-{unit}"))
                    .map_err(|_| problem("单位工程编号过长", "unit project id too long"))?,
                project: project.clone(),
                unit_project: unit,
                lab: viewer_org.clone(),
                version,
                supersedes,
                sampling_plan: hash(&f.sampling_plan)?,
                note: f.note.trim().into(),
                items: text::parse_testing_items(&f.items).map_err(text_errors)?,
                tags_needed: whole(&f.tags_needed, "预计标识数量", "tags needed")?,
            })
        }
        "approval" => Payload::PlanApproved(PlanApproval {
            plan: hash(&f.plan)?,
            project: project.clone(),
            approved: f.decision == "approve",
            note: f.note.trim().into(),
        }),
        "pre_start_check" => Payload::PreStartChecked(PreStartCheck {
            project: project.clone(),
            passed: f.decision == "pass",
            gaps: vec![],
            note: f.note.trim().into(),
        }),
        _ => return Err(problem("未知的表单", "unknown form")),
    })
}

/// Whether the viewer may sign this kind of form here.
fn allowed(may: PlanSigner, kind: &str) -> bool {
    match kind {
        "testing_contract" | "tag_contract" => may.contracts,
        "sampling_plan" => may.sampling_plan,
        "testing_plan" => may.testing_plan,
        "approval" => may.approve,
        "pre_start_check" => may.prestart,
        _ => false,
    }
}

/// A plan form read and judged: `{"payload": …}` for the browser to sign,
/// or 422 `{"errors": [{"zh", "en"}]}` with every problem; nothing stored.
pub async fn draft(
    State(state): State<AppState>,
    u: User,
    Path(id): Path<String>,
    Form(f): Form<DraftForm>,
) -> Result<Response, Deny> {
    let lang = u.client.lang;
    check_csrf(&u.session, &f.csrf, lang)?;
    let pid = Id::new(id).map_err(|_| Deny::not_found(lang))?;
    let (viewer, now) = (u.viewer.clone(), state.now());
    let out = state
        .store
        .read_async(move |tx| {
            let scope = Scope::of(tx, &viewer, now)?;
            let Some(ps) = scope.project(&pid).cloned() else { return Ok(None) };
            if !allowed(access::plan_signer(&viewer, now, &ps), &f.kind) {
                return Ok(Some(Err(problem(
                    "您没有在本项目签署此项的授权（R1）",
                    "you are not authorised to sign this on this project (R1)",
                ))));
            }
            let plans = crate::plans::project_plans(tx, &pid)?;
            let payload = match payload(&f, &pid, &plans, &viewer.org) {
                Ok(p) => p,
                Err(e) => return Ok(Some(Err(e))),
            };
            let named = match &payload {
                Payload::ContractRegistered(c) => Some(match &c.terms {
                    ContractTerms::Testing { lab, .. } => lab.clone(),
                    ContractTerms::TagSupply { supplier, .. } => supplier.clone(),
                }),
                _ => None,
            };
            let facts = crate::plans::source_facts(tx, &pid, &viewer.person, named.as_ref(), now)?;
            let problems = rules::check(&payload, &facts.facts(now)).unwrap_or_default();
            if problems.is_empty() {
                Ok(Some(Ok(payload)))
            } else {
                Ok(Some(Err(problems.iter().map(|p| (p.message(Lang::ZhCn), p.message(Lang::En))).collect())))
            }
        })
        .await?;
    match out {
        None => Err(not_yours(lang)),
        Some(Ok(payload)) => Ok(Json(serde_json::json!({ "payload": payload })).into_response()),
        Some(Err(errors)) => {
            let errors: Vec<_> =
                errors.into_iter().map(|(zh, en)| serde_json::json!({ "zh": zh, "en": en })).collect();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(serde_json::json!({ "errors": errors })))
                .into_response())
        }
    }
}
