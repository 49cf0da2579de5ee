//! The lab registry in the console (R3): a lab's people see their
//! registry — what is in force, what ends within a month or has ended —
//! ask for changes and follow their requests; the operator's
//! administrators see the queue of pending requests, each with what it
//! changes against the registry in force, and approve (the server signs
//! the new registry into the log) or refuse with a reason the lab is shown.
//! Who may do what is `custody_core::access::lab_registry`; the work is
//! `crate::registry`'s.

use super::admin::{log, parse_id};
use super::paths;
use super::session::{User, check_csrf};
use super::view::{Chrome, Deny, render, when, when_opt};
use crate::AppState;
use crate::registry::{self, LabView, RequestError};
use crate::store::registry::{RequestRow, RequestState};
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use custody_core::access::{self, RegistryAccess};
use custody_core::lab_registry::text::{self, Change};
use custody_core::lab_registry::{self, ExpiringItem, Expiry, LabRegistry};
use custody_core::model::{Id, OrgRole};
use custody_core::verify::Lang;
use serde::Deserialize;

/// One warning line: its words and whether it has ended.
pub struct Warning {
    pub expired: bool,
    pub zh: String,
    pub en: String,
}

/// A request as the pages list it.
pub struct RequestLine {
    pub id: String,
    pub lab: String,
    pub person: String,
    pub submitted: String,
    pub summary: String,
    pub state: &'static str,
    pub state_zh: &'static str,
    pub state_en: &'static str,
    pub decided: String,
    pub reason: String,
    pub changes: Vec<Change>,
    /// What the core says of it now (the directory may have changed).
    pub problems: Vec<(String, String)>,
}

fn state_names(s: RequestState) -> (&'static str, &'static str) {
    match s {
        RequestState::Pending => ("待审核", "pending"),
        RequestState::Approved => ("已批准", "approved"),
        RequestState::Refused => ("已退回", "refused"),
    }
}

fn line(r: &RequestRow, changes: Vec<Change>, problems: Vec<(String, String)>) -> RequestLine {
    let (zh, en) = state_names(r.state);
    RequestLine {
        id: r.id.clone(),
        lab: r.lab.to_string(),
        person: r.person.to_string(),
        submitted: when(r.submitted_ms),
        summary: r.summary.clone(),
        state: r.state.as_str(),
        state_zh: zh,
        state_en: en,
        decided: when_opt(r.decided_ms),
        reason: r.reason.clone().unwrap_or_default(),
        changes,
        problems,
    }
}

/// Which entries are warned about, by key, for highlighting.
fn warned(expiring: &[Expiry], item: &ExpiringItem) -> Option<bool> {
    expiring.iter().find(|e| &e.item == item).map(|e| e.expired)
}

/// A registry row with its highlight (`""`, `expiring`, `expired`).
pub struct Entry {
    pub cells: Vec<String>,
    pub class: &'static str,
}

fn class(w: Option<bool>) -> &'static str {
    match w {
        Some(true) => "expired",
        Some(false) => "expiring",
        None => "",
    }
}

fn day(ms: i64) -> String {
    when(ms).get(..10).unwrap_or_default().to_owned()
}

fn entries(r: &LabRegistry, expiring: &[Expiry]) -> (Vec<Entry>, Vec<Entry>, Vec<Entry>) {
    let scope = r
        .scope
        .iter()
        .map(|s| Entry {
            cells: vec![
                s.parameter.clone(),
                s.certificate_no.clone(),
                day(s.valid_from_ms),
                day(s.valid_until_ms),
            ],
            class: class(warned(
                expiring,
                &ExpiringItem::Scope {
                    parameter: s.parameter.clone(),
                    certificate_no: s.certificate_no.clone(),
                },
            )),
        })
        .collect();
    let equipment = r
        .equipment
        .iter()
        .flat_map(|e| {
            e.certificates.iter().map(move |c| Entry {
                cells: vec![
                    e.id.to_string(),
                    e.machine.clone(),
                    e.range.clone(),
                    c.certificate_no.clone(),
                    day(c.valid_from_ms),
                    day(c.valid_until_ms),
                ],
                class: class(warned(
                    expiring,
                    &ExpiringItem::Equipment {
                        equipment: e.id.to_string(),
                        certificate_no: c.certificate_no.clone(),
                    },
                )),
            })
        })
        .collect();
    let staff = r
        .staff
        .iter()
        .map(|q| Entry {
            cells: vec![
                q.person.clone(),
                q.parameter.clone(),
                q.valid_until_ms.map(day).unwrap_or_else(|| "—".into()),
            ],
            class: class(warned(
                expiring,
                &ExpiringItem::Staff { person: q.person.clone(), parameter: q.parameter.clone() },
            )),
        })
        .collect();
    (scope, equipment, staff)
}

#[derive(Template)]
#[template(path = "console/registry.html")]
struct LabPage {
    c: Chrome,
    lab: String,
    lab_name: String,
    may_request: bool,
    approved: String,
    has_registry: bool,
    warnings: Vec<Warning>,
    scope: Vec<Entry>,
    equipment: Vec<Entry>,
    staff: Vec<Entry>,
    form_text: String,
    form_summary: String,
    requests: Vec<RequestLine>,
    errors: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console/registry_labs.html")]
struct LabsPage {
    c: Chrome,
    labs: Vec<(String, String, usize)>,
}

#[derive(Deserialize)]
pub struct LabQuery {
    pub lab: Option<String>,
    pub done: Option<String>,
}

/// The lab this user's registry page is about, and what they may do.
fn lab_of(u: &User, asked: Option<&str>) -> Result<Option<(Id, RegistryAccess)>, Deny> {
    let lang = u.client.lang;
    let lab = match asked {
        Some(l) => parse_id(l, lang)?,
        None if u.viewer.is_admin => return Ok(None),
        None => u.viewer.org.clone(),
    };
    let may = access::lab_registry(&u.viewer, &lab).map_err(|d| Deny::forbidden(lang, d))?;
    Ok(Some((lab, may)))
}

async fn lab_page(
    state: &AppState,
    u: &User,
    lab: Id,
    may: RegistryAccess,
    errors: Vec<(String, String)>,
    form: Option<(String, String)>,
    notice: bool,
) -> Result<Response, Deny> {
    let lang = u.client.lang;
    let now = state.now();
    let l = lab.clone();
    let (view, org): (LabView, _) = state
        .store
        .read_async(move |tx| {
            let view = registry::lab_view(tx, &l, now)?;
            let org = tx.org(&l)?;
            Ok((view, org))
        })
        .await?;
    if org.as_ref().is_none_or(|o| o.role != OrgRole::Lab) {
        return Err(Deny::not_found(lang));
    }
    let current = view.current.as_ref().map(|v| &v.registry);
    let (scope, equipment, staff) = current.map(|r| entries(r, &view.expiring)).unwrap_or_default();
    let warnings = view
        .expiring
        .iter()
        .map(|e| Warning { expired: e.expired, zh: e.message(Lang::ZhCn), en: e.message(Lang::En) })
        .collect();
    let (form_text, form_summary) = form.unwrap_or_else(|| {
        (text::to_text(current.cloned().as_ref().unwrap_or(&LabRegistry::empty(lab.clone()))), String::new())
    });
    let requests = view.requests.iter().map(|r| line(r, vec![], vec![])).collect();
    let mut c = Chrome::for_user(u, "检测机构登记", "Lab registry");
    if notice {
        c = c.notice(
            "变更申请已提交，待系统管理员审核",
            "change request submitted; an administrator will decide it",
        );
    }
    let page = LabPage {
        c,
        lab: lab.to_string(),
        lab_name: org.map(|o| o.name).unwrap_or_default(),
        may_request: may == RegistryAccess::Request,
        approved: view.current.as_ref().map(|v| when(v.effective_ms)).unwrap_or_default(),
        has_registry: view.current.is_some(),
        warnings,
        scope,
        equipment,
        staff,
        form_text,
        form_summary,
        requests,
        errors,
    };
    let mut resp = render(&page);
    if !page.errors.is_empty() {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

/// A lab's registry page; an administrator without `?lab=` gets the labs.
pub async fn page(
    State(state): State<AppState>,
    u: User,
    Query(q): Query<LabQuery>,
) -> Result<Response, Deny> {
    match lab_of(&u, q.lab.as_deref())? {
        Some((lab, may)) => lab_page(&state, &u, lab, may, vec![], None, q.done.is_some()).await,
        None => {
            let labs = state
                .store
                .read_async(|tx| {
                    let mut out = Vec::new();
                    for o in tx.orgs()?.into_iter().filter(|o| o.role == OrgRole::Lab) {
                        let pending = tx
                            .registry_requests_of(&o.id)?
                            .iter()
                            .filter(|r| r.state == RequestState::Pending)
                            .count();
                        out.push((o.id.to_string(), o.name, pending));
                    }
                    Ok(out)
                })
                .await?;
            Ok(render(&LabsPage { c: Chrome::for_user(&u, "检测机构登记", "Lab registries"), labs }))
        }
    }
}

#[derive(Deserialize)]
pub struct RequestForm {
    pub csrf: String,
    #[serde(default)]
    pub registry: String,
    #[serde(default)]
    pub summary: String,
}

/// A lab's person asks for a change: the whole registry as it should be.
pub async fn submit(
    State(state): State<AppState>,
    u: User,
    Form(f): Form<RequestForm>,
) -> Result<Response, Deny> {
    let lang = u.client.lang;
    check_csrf(&u.session, &f.csrf, lang)?;
    let lab = u.viewer.org.clone();
    match access::lab_registry(&u.viewer, &lab).map_err(|d| Deny::forbidden(lang, d))? {
        RegistryAccess::Request => {}
        RegistryAccess::Decide => {
            return Err(Deny::page(
                lang,
                StatusCode::FORBIDDEN,
                "变更申请由检测机构本单位人员提出，系统管理员只审核",
                "changes are asked for by the lab's own people; administrators only decide them",
            ));
        }
    }
    let asked = match text::parse_text(&lab, &f.registry) {
        Ok(r) => r,
        Err(errors) => {
            let errors = errors.iter().map(|e| (e.message(Lang::ZhCn), e.message(Lang::En))).collect();
            let form = Some((f.registry, f.summary));
            return lab_page(&state, &u, lab, RegistryAccess::Request, errors, form, false).await;
        }
    };
    let (st, viewer, account, l, summary, now) =
        (state.clone(), u.viewer.clone(), u.audit_name(), lab.clone(), f.summary.clone(), state.now());
    let out = tokio::task::spawn_blocking(move || {
        registry::submit(&st.store, &viewer, &account, &l, &summary, asked, now)
    })
    .await
    .map_err(|e| Deny::internal(lang, e))?;
    match out {
        Ok(row) => {
            audit(&state, &u, "registry_request", &row.id, &row.summary).await?;
            Ok(Redirect::to(&format!("{}?done=1", paths::REGISTRY)).into_response())
        }
        Err(RequestError::Store(e)) => Err(Deny::internal(lang, e)),
        Err(e) => {
            let errors = match e {
                RequestError::Invalid(m) => m,
                other => vec![(other.message(Lang::ZhCn), other.message(Lang::En))],
            };
            lab_page(&state, &u, lab, RegistryAccess::Request, errors, Some((f.registry, f.summary)), false)
                .await
        }
    }
}

/// Log a lab person's action (the audit log names every account's acts).
async fn audit(state: &AppState, u: &User, action: &str, target: &str, detail: &str) -> Result<(), Deny> {
    let (now, who, ip, a, t, d) = (
        state.now(),
        u.audit_name(),
        u.client.ip.clone(),
        action.to_owned(),
        target.to_owned(),
        detail.to_owned(),
    );
    state.store.write_async(move |tx| super::audit(tx, now, &who, &a, &t, &d, &ip)).await?;
    Ok(())
}

#[derive(Template)]
#[template(path = "console/registry_queue.html")]
struct QueuePage {
    c: Chrome,
    pending: Vec<RequestLine>,
    error: Option<(String, String)>,
}

async fn queue_page(
    state: &AppState,
    u: &User,
    error: Option<(String, String)>,
    notice: Option<(&str, &str)>,
) -> Result<Response, Deny> {
    let pending = state
        .store
        .read_async(|tx| {
            let mut out = Vec::new();
            for r in tx.registry_requests_in(RequestState::Pending)? {
                let asked = registry::asked(&r)?;
                let versions = tx.registry_versions(&r.lab)?;
                let changes = text::diff(versions.last().map(|v| &v.registry), &asked);
                let known = registry::known(tx, &asked)?;
                let problems = lab_registry::validate(&asked, &known)
                    .iter()
                    .map(|e| (e.message(Lang::ZhCn), e.message(Lang::En)))
                    .collect();
                out.push(line(&r, changes, problems));
            }
            Ok(out)
        })
        .await?;
    let mut c = Chrome::for_user(u, "登记变更审核", "Registry requests");
    if let Some((zh, en)) = notice {
        c = c.notice(zh, en);
    }
    let has_error = error.is_some();
    let mut resp = render(&QueuePage { c, pending, error });
    if has_error {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

#[derive(Deserialize)]
pub struct QueueQuery {
    pub done: Option<String>,
}

/// The operator's queue: pending requests with what each changes.
pub async fn queue(
    State(state): State<AppState>,
    u: super::session::AdminUser,
    Query(q): Query<QueueQuery>,
) -> Result<Response, Deny> {
    let notice = match q.done.as_deref() {
        Some("approved") => {
            Some(("已批准，新的登记信息已签发入日志", "approved: the new registry is signed into the log"))
        }
        Some(_) => Some(("已退回，检测机构可以看到理由", "refused: the lab is shown the reason")),
        None => None,
    };
    queue_page(&state, &u.0, None, notice).await
}

#[derive(Deserialize)]
pub struct DecideForm {
    pub csrf: String,
    #[serde(default)]
    pub reason: String,
}

/// Approve: the server signs the lab's new registry into the log.
pub async fn approve(
    State(state): State<AppState>,
    u: super::session::AdminUser,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    check_csrf(&u.0.session, &f.csrf, lang)?;
    let (st, viewer, who, rid, now) =
        (state.clone(), u.0.viewer.clone(), u.0.audit_name(), id.clone(), state.now());
    let out = tokio::task::spawn_blocking(move || {
        registry::approve(&st.store, &st.key, &st.config.policy, &viewer, &who, &rid, now)
    })
    .await
    .map_err(|e| Deny::internal(lang, e))?;
    decided(&state, &u, &id, out.map(|h| h.to_hex()), "registry_approve", "approved").await
}

/// Refuse, with a reason the lab is shown.
pub async fn refuse(
    State(state): State<AppState>,
    u: super::session::AdminUser,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    check_csrf(&u.0.session, &f.csrf, lang)?;
    let (st, viewer, who, rid, reason, now) =
        (state.clone(), u.0.viewer.clone(), u.0.audit_name(), id.clone(), f.reason.clone(), state.now());
    let out =
        tokio::task::spawn_blocking(move || registry::refuse(&st.store, &viewer, &who, &rid, &reason, now))
            .await
            .map_err(|e| Deny::internal(lang, e))?;
    decided(&state, &u, &id, out.map(|()| f.reason.trim().to_owned()), "registry_refuse", "refused").await
}

async fn decided(
    state: &AppState,
    u: &super::session::AdminUser,
    id: &str,
    out: Result<String, RequestError>,
    action: &str,
    done: &str,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    match out {
        Ok(detail) => {
            log(state, u, action, id, &detail).await?;
            Ok(Redirect::to(&format!("{}?done={done}", paths::REGISTRY_QUEUE)).into_response())
        }
        Err(RequestError::Store(e)) => Err(Deny::internal(lang, e)),
        Err(RequestError::Unknown) => Err(Deny::not_found(lang)),
        Err(e) => queue_page(state, &u.0, Some((e.message(Lang::ZhCn), e.message(Lang::En))), None).await,
    }
}
