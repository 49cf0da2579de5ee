//! "Double random, one public" spot checks (R20): a regulator's inspector
//! (or an administrator) announces a draw over the projects of their
//! jurisdiction — weighted by open early warnings — and the inspectors of
//! it; the spec is fixed and published at once (with its SHA-256); the
//! draw happens when the transparency log has grown past the announcement,
//! seeded by the log's root at the next size, which nobody knew when the
//! spec was fixed. Anyone can recompute it from the public page's JSON
//! (`tests/draw/recompute.py` does, independently of this code). The rule
//! is the core's (`custody_core::oversight::draw`, `access::spot_checks`).

use super::oversight::project_lines;
use super::scope::Scope;
use super::session::{User, check_csrf};
use super::view::{Chrome, Deny, render, when, when_opt};
use super::{audit, paths};
use crate::AppState;
use crate::oversight::{complete_draws, draw_beacon};
use crate::store::Tx;
use crate::store::oversight::DrawRow;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use custody_core::Hash;
use custody_core::access;
use custody_core::model::{Id, OrgRole};
use custody_core::oversight::draw::{
    DrawResult, DrawSpec, DrawTarget, InspectorFacts, inspector_pool, target_weight,
};
use custody_core::verify::Lang;
use serde::Deserialize;
use std::collections::HashMap;

pub struct DrawLine {
    pub id: String,
    pub title: String,
    pub scope: String,
    pub announced: String,
    pub drawn: String,
}

#[derive(Template)]
#[template(path = "console/draws.html")]
struct Draws {
    c: Chrome,
    draws: Vec<DrawLine>,
    targets: usize,
    inspectors: usize,
}

/// The candidates of a new draw over `scope`: the projects the viewer
/// sees and the people of regulators, with the core choosing the weights
/// and the inspector pool (`oversight::draw`).
fn candidates(
    tx: &mut dyn Tx,
    scope: &Scope,
    jurisdiction: Option<&str>,
    th: &custody_core::oversight::project::ProjectThresholds,
    now: i64,
) -> crate::store::Result<(Vec<DrawTarget>, Vec<String>)> {
    let targets = project_lines(tx, scope, th, Lang::ZhCn)?
        .into_iter()
        .map(|p| DrawTarget { id: p.id, weight: target_weight(p.warnings.len()), label: p.name })
        .collect();
    let regulators: HashMap<Id, String> = tx
        .orgs()?
        .into_iter()
        .filter(|o| o.role == OrgRole::Regulator)
        .filter_map(|o| o.jurisdiction.map(|j| (o.id, j)))
        .collect();
    let mut people = Vec::new();
    for p in tx.people()?.into_iter().filter(|p| regulators.contains_key(&p.org)) {
        let grants: Vec<_> = tx.grants_of(&p.id)?.into_iter().map(crate::facts::grant_facts).collect();
        people.push((p, grants));
    }
    let facts: Vec<InspectorFacts<'_>> = people
        .iter()
        .map(|(p, grants)| InspectorFacts {
            person: p.id.as_str(),
            regulator_jurisdiction: regulators.get(&p.org).map(String::as_str),
            grants,
        })
        .collect();
    Ok((targets, inspector_pool(&facts, jurisdiction, now)))
}

async fn list_page(state: &AppState, u: &User, notice: Option<(String, String)>) -> Result<Response, Deny> {
    let (viewer, now, lang) = (u.viewer.clone(), state.now(), u.client.lang);
    let mine = access::spot_checks(&viewer, now).map_err(|d| Deny::forbidden(lang, d))?;
    let th = state.config.oversight.project.clone();
    let (draws, targets, inspectors) = state
        .store
        .read_async(move |tx| {
            let scope = Scope::of(tx, &viewer, now)?;
            let (t, i) = candidates(tx, &scope, mine.as_deref(), &th, now)?;
            let draws = tx
                .spot_check_draws()?
                .into_iter()
                .filter(|d| access::spot_check_listed(mine.as_deref(), d.scope.as_deref()))
                .map(|d| {
                    let title =
                        serde_json::from_str::<DrawSpec>(&d.spec).map(|s| s.title).unwrap_or_default();
                    DrawLine {
                        id: d.id,
                        title,
                        scope: d.scope.unwrap_or_else(|| "*".into()),
                        announced: when(d.announced_ms),
                        drawn: when_opt(d.drawn_ms),
                    }
                })
                .collect::<Vec<_>>();
            Ok((draws, t.len(), i.len()))
        })
        .await?;
    let mut c = Chrome::for_user(u, "双随机抽查", "Spot checks");
    c.notice = notice;
    Ok(render(&Draws { c, draws, targets, inspectors }))
}

pub async fn list(State(state): State<AppState>, u: User) -> Result<Response, Deny> {
    list_page(&state, &u, None).await
}

/// Every field defaults, so that who may draw is answered before what is
/// wrong with the form.
#[derive(Deserialize, Default)]
pub struct DrawForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub target_count: String,
    #[serde(default)]
    pub inspectors_per_target: String,
}

pub async fn announce(
    State(state): State<AppState>,
    u: User,
    Form(f): Form<DrawForm>,
) -> Result<Response, Deny> {
    let lang = u.client.lang;
    check_csrf(&u.session, &f.csrf, lang)?;
    let (viewer, now) = (u.viewer.clone(), state.now());
    let mine = access::spot_checks(&viewer, now).map_err(|d| Deny::forbidden(lang, d))?;
    let count = |s: &str| s.trim().parse::<u32>().ok();
    let (Some(target_count), Some(per_target)) = (count(&f.target_count), count(&f.inspectors_per_target))
    else {
        let msg = ("抽取数量须为正整数".to_owned(), "the numbers to draw must be whole numbers".to_owned());
        return list_page(&state, &u, Some(msg)).await.map(|r| with_status(r, StatusCode::BAD_REQUEST));
    };
    let title = f.title.trim().to_owned();
    let th = state.config.oversight.project.clone();
    let (who, ip) = (u.audit_name(), u.client.ip.clone());
    let out = state
        .store
        .write_async(move |tx| {
            let scope = Scope::of(tx, &viewer, now)?;
            let (targets, inspectors) = candidates(tx, &scope, mine.as_deref(), &th, now)?;
            let n = tx.spot_check_draws()?.len() + 1;
            let (y, m, d, ..) = custody_core::calendar::cst(now);
            let spec = DrawSpec {
                draw_id: format!("SC-{y:04}{m:02}{d:02}-{n:04}"),
                title: if title.is_empty() { "双随机抽查".into() } else { title },
                announced_ms: now,
                targets,
                inspectors,
                target_count,
                inspectors_per_target: per_target,
            };
            let bytes = match spec.check().and_then(|()| spec.canonical_bytes()) {
                Ok(b) => b,
                Err(e) => return Ok(Err((e.message(Lang::ZhCn), e.message(Lang::En)))),
            };
            let row = DrawRow {
                id: spec.draw_id.clone(),
                scope: mine,
                created_by: who.clone(),
                spec: String::from_utf8_lossy(&bytes).into_owned(),
                spec_sha256: Hash::of(&bytes),
                announced_ms: now,
                log_size: tx.log_size()?,
                beacon: None,
                result: None,
                drawn_ms: None,
            };
            tx.insert_draw(&row)?;
            audit(tx, now, &who, "announce_spot_check", &row.id, &row.spec_sha256.to_hex(), &ip)?;
            Ok(Ok(row.id))
        })
        .await?;
    match out {
        Ok(id) => Ok(Redirect::to(&paths::fill(paths::DRAW_PUBLIC, &id)).into_response()),
        Err(msg) => list_page(&state, &u, Some(msg)).await.map(|r| with_status(r, StatusCode::BAD_REQUEST)),
    }
}

fn with_status(mut r: Response, s: StatusCode) -> Response {
    *r.status_mut() = s;
    r
}

/// A published draw, drawn first if its beacon now exists; not found in
/// the reader's language.
async fn published(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    id: String,
) -> Result<(DrawRow, DrawSpec, Lang), Deny> {
    let lang = super::view::lang_of_headers(headers);
    let now = state.now();
    let row = state
        .store
        .write_async(move |tx| {
            let Some(d) = tx.spot_check_draw(&id)? else { return Ok(None) };
            if d.result.is_none() && draw_beacon(tx, d.log_size)?.is_some() {
                complete_draws(tx, now)?;
            }
            tx.spot_check_draw(&id)
        })
        .await?;
    row.and_then(|d| serde_json::from_str::<DrawSpec>(&d.spec).ok().map(|s| (d, s, lang)))
        .ok_or_else(|| Deny::not_found(lang))
}

pub struct PickLine {
    pub target: String,
    pub label: String,
    pub inspectors: String,
}

#[derive(Template)]
#[template(path = "console/draw_public.html")]
struct Public {
    c: Chrome,
    d: DrawRow,
    spec: DrawSpec,
    announced: String,
    drawn: String,
    spec_sha256: String,
    beacon_hex: String,
    beacon_size: u64,
    picks: Vec<PickLine>,
    json: String,
    checkpoint: &'static str,
    consistency: &'static str,
}

pub async fn public(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Deny> {
    let (d, spec, lang) = published(&state, &headers, id).await?;
    let result: Option<DrawResult> = d.result.as_deref().and_then(|r| serde_json::from_str(r).ok());
    let picks = result
        .map(|r| {
            r.picks
                .into_iter()
                .map(|p| PickLine {
                    label: spec
                        .targets
                        .iter()
                        .find(|t| t.id == p.target)
                        .map(|t| t.label.clone())
                        .unwrap_or_default(),
                    target: p.target,
                    inspectors: p.inspectors.join("、"),
                })
                .collect()
        })
        .unwrap_or_default();
    let c = Chrome::public(lang, format!("双随机抽查 {}", d.id), format!("Spot check {}", d.id));
    let page = Public {
        c,
        announced: when(d.announced_ms),
        drawn: when_opt(d.drawn_ms),
        spec_sha256: d.spec_sha256.to_hex(),
        beacon_hex: d.beacon.as_deref().map(hex::encode).unwrap_or_default(),
        beacon_size: d.log_size + 1,
        picks,
        json: paths::fill(paths::DRAW_JSON, &d.id),
        checkpoint: custody_core::routes::LOG_CHECKPOINT,
        consistency: custody_core::routes::LOG_CONSISTENCY,
        spec,
        d,
    };
    Ok(render(&page))
}

/// The published inputs and result as JSON, in the form
/// `tests/draw/recompute.py` reads: `{"spec", "beacon_hex", …}`.
pub async fn public_json(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Deny> {
    let (d, spec, _) = published(&state, &headers, id).await?;
    let result: Option<serde_json::Value> = d.result.as_deref().and_then(|r| serde_json::from_str(r).ok());
    let body = serde_json::json!({
        "spec": spec,
        "spec_sha256": d.spec_sha256.to_hex(),
        "beacon": { "rule": "log root at size log_size + 1", "log_size": d.log_size + 1 },
        "beacon_hex": d.beacon.as_deref().map(hex::encode),
        "result": result,
        "drawn_ms": d.drawn_ms,
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response())
}
