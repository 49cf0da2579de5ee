//! The web console (issue 13): everyone who is not on site — operators'
//! admins, regulators at province, city and county level, and the owner,
//! supervisor, contractor, lab and tag-supplier organisations — on an
//! ordinary, often locked-down office PC.
//!
//! Served by the sync server itself: pages rendered on the server from
//! templates checked at compile time (`templates/console/`), assets
//! embedded in the binary (no CDN), every control a real link or form that
//! works without script; `htmx` only makes a few things live (the sign-in
//! QR's wait). Chinese first, English switchable. Handlers gather facts,
//! ask `custody_core::access` who may see what, and render; admin actions go
//! through the same `admin::Admin` operations (and so the same core rules)
//! as the CLI.
//!
//! | module | owns |
//! |---|---|
//! | `paths` | every page and action, who it is for |
//! | `session` | the session cookie, the account, its `access::Viewer`, CSRF |
//! | `sign_in` | password + second factor, setup links, the field app's QR sign-in |
//! | `pages` | what signed-in people read: projects, records, trails, violations, their account |
//! | `plans` | before work starts: contracts, plans, approvals, the pre-start check, progress against plan (issue 15) |
//! | `lab` | the lab desk: received specimens, a test's curve with the recomputed values marked, reviews |
//! | `admin` | what administrators do: the directory, sites, tags, labs |
//! | `registry` | labs' registries (R3): their page, change requests, the operator's queue |
//! | `accounts` | console accounts and their setup links, the audit log, the server's status |
//! | `view` | the layout and small helpers every page shares |
//! | `map`, `totp`, `password` | SVG maps without tiles, one-time codes, Argon2id |

mod accounts;
mod admin;
mod draws;
mod lab;
pub mod map;
mod oversight;
mod pages;
pub mod password;
pub mod paths;
mod plans;
mod public;
mod registry;
mod scope;
pub mod session;
// The device side of its QR sign-in is documented with the device API (openapi.rs).
pub(crate) mod sign_in;
pub mod totp;
mod view;

pub use view::{Chrome, Client, Deny};

use crate::AppState;
use crate::store::Tx;
use crate::store::console::AuditRow;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// The console's routes, mounted at `/console` by the server's router.
pub fn router(state: &AppState) -> Router<AppState> {
    use paths::*;
    let upload = state.config.console.upload_bytes + 64 * 1024;
    Router::new()
        .route(mounted(HOME), get(pages::home))
        .route(mounted(ASSET), get(asset))
        .route(mounted(LOGIN), get(sign_in::page).post(sign_in::password))
        .route(mounted(LOGIN_QR), get(sign_in::qr_wait))
        .route(mounted(SETUP), get(sign_in::setup_page).post(sign_in::setup))
        .route(mounted(LOGOUT), post(sign_in::logout))
        .route(mounted(LOGOUT_ALL), post(sign_in::logout_all))
        .route(mounted(LANG), get(view::switch_lang))
        .route(mounted(ACCOUNT), get(pages::account))
        .route(mounted(PROJECTS), get(pages::projects))
        .route(mounted(PROJECT), get(pages::project))
        .route(mounted(PROJECT_PLANS), get(plans::page))
        .route(mounted(PROJECT_PLANS_DRAFT), post(plans::draft))
        .route(mounted(RECORDS), get(pages::records))
        .route(mounted(RECORDS_CSV), get(pages::records_csv))
        .route(mounted(RECORD), get(pages::record))
        .route(mounted(MEDIA), get(pages::media))
        .route(mounted(TAG), get(pages::tag))
        .route(mounted(VIOLATIONS), get(pages::violations))
        .route(mounted(OVERSIGHT), get(oversight::dashboard))
        .route(mounted(OVERSIGHT_CSV), get(oversight::dashboard_csv))
        .route(mounted(OVERSIGHT_PROJECT), get(oversight::project))
        .route(mounted(OVERSIGHT_EVENTS), get(oversight::events))
        .route(mounted(LAB_DESK), get(lab::desk))
        .route(mounted(LAB_TEST), get(lab::test))
        .route(mounted(DRAWS), get(draws::list).post(draws::announce))
        .route(mounted(DRAW_PUBLIC), get(draws::public))
        .route(mounted(DRAW_JSON), get(draws::public_json))
        .route(mounted(REPORT_CHECK), get(public::report_check))
        .route(mounted(RECORD_PAGE), get(public::record_page))
        .route(mounted(REGISTRY), get(registry::page))
        .route(mounted(REGISTRY_QUEUE), get(registry::queue).post(registry::submit))
        .route(mounted(REGISTRY_APPROVE), post(registry::approve))
        .route(mounted(REGISTRY_REFUSE), post(registry::refuse))
        .route(mounted(ADMIN_ORGS), get(admin::orgs).post(admin::add_org))
        .route(mounted(ADMIN_PEOPLE), get(admin::people).post(admin::add_person))
        .route(mounted(ADMIN_PERSON), get(admin::person))
        .route(mounted(ADMIN_GRANTS), post(admin::grant).layer(axum::extract::DefaultBodyLimit::max(upload)))
        .route(mounted(ADMIN_GRANT_REVOKE), post(admin::revoke_grant))
        .route(mounted(ADMIN_ENROLL), post(admin::enroll))
        .route(mounted(ADMIN_DEVICES), get(admin::devices))
        .route(mounted(ADMIN_DEVICE_REVOKE), post(admin::revoke_device))
        .route(mounted(ADMIN_PROJECTS), get(admin::projects).post(admin::add_project))
        .route(
            mounted(ADMIN_UNITS),
            post(admin::add_unit).layer(axum::extract::DefaultBodyLimit::max(upload)),
        )
        .route(mounted(ADMIN_TAGS), post(admin::add_tags))
        .route(mounted(ADMIN_LABS), post(admin::assign_lab))
        .route(mounted(ADMIN_ACCOUNTS), get(accounts::accounts).post(accounts::add_account))
        .route(mounted(ADMIN_ACCOUNT_RESET), post(accounts::reset))
        .route(mounted(ADMIN_ACCOUNT_DISABLE), post(accounts::disable_account))
        .route(mounted(ADMIN_AUDIT), get(accounts::audit_page))
        .route(mounted(ADMIN_AUDIT_CSV), get(accounts::audit_csv))
        .route(mounted(ADMIN_FACE_READS_CSV), get(accounts::face_reads_csv))
        .route(mounted(ADMIN_STATUS), get(accounts::status))
        .layer(middleware::from_fn(same_origin_posts))
        .layer(middleware::map_response_with_state(state.clone(), hardening_headers))
}

/// A path the router mounts: it must be one of [`paths::ALL`] (which the
/// authorisation-matrix test walks), or the server does not start.
fn mounted(path: &'static str) -> &'static str {
    assert!(paths::ALL.iter().any(|p| p.path == path), "console path {path} is not in paths::ALL");
    path
}

/// The device side of the QR sign-in, mounted with the signed device API.
pub fn device_routes() -> Router<AppState> {
    Router::new()
        .route(custody_core::routes::CONSOLE_LOGIN, get(sign_in::device_info).post(sign_in::device_approve))
}

/// Forms post only from the console's own pages: a POST whose `Origin`
/// (or, without one, `Referer`) names another site is refused (CSRF, with
/// the session's form token as the second lock).
async fn same_origin_posts(req: Request, next: Next) -> Response {
    if req.method() == Method::POST {
        let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let from = req
            .headers()
            .get(header::ORIGIN)
            .or_else(|| req.headers().get(header::REFERER))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let same = from.as_deref().is_some_and(|f| {
            let rest = f.split_once("://").map_or(f, |(_, r)| r);
            rest.split('/').next() == Some(host.as_str())
        });
        if !same {
            let lang = view::lang_of_headers(req.headers());
            return Deny::page(
                lang,
                StatusCode::FORBIDDEN,
                "请求不是来自本系统的页面，已拒绝",
                "the request did not come from this system's pages and was refused",
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// What every console answer carries: no framing by other sites, no type
/// sniffing, no referrer leaking record ids, no caching of personal pages;
/// scripts, styles and forms from the console itself, images also from the
/// configured tile server.
async fn hardening_headers(State(state): State<AppState>, mut resp: Response) -> Response {
    let tiles = state.config.console.tiles().map(|t| format!(" {}", t.origin())).unwrap_or_default();
    let csp = format!(
        "default-src 'self'; img-src 'self' data:{tiles}; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"
    );
    let h = resp.headers_mut();
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// The console's embedded files.
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("console.css", "text/css; charset=utf-8", include_bytes!("../../console-assets/console.css")),
    ("console.js", "text/javascript; charset=utf-8", include_bytes!("../../console-assets/console.js")),
    ("check.js", "text/javascript; charset=utf-8", include_bytes!("../../console-assets/check.js")),
    ("signer.js", "text/javascript; charset=utf-8", include_bytes!("../../console-assets/signer.js")),
    (
        "htmx-2.0.11.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../console-assets/htmx-2.0.11.min.js"),
    ),
];

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, ty, bytes)) => {
            ([(header::CONTENT_TYPE, *ty), (header::CACHE_CONTROL, "public, max-age=86400")], *bytes)
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// Slows down guessing: failed sign-ins and new sign-in QRs per address
/// within a ten-minute window (in memory, per server instance: a shared
/// lockout per account is in the store).
#[derive(Default)]
pub struct Limiter {
    failures: std::sync::Mutex<std::collections::HashMap<String, Vec<i64>>>,
    challenges: std::sync::Mutex<std::collections::HashMap<String, Vec<i64>>>,
}

const WINDOW_MS: i64 = 10 * 60_000;
/// New sign-in QRs one address may ask for per window.
const CHALLENGES_PER_ADDRESS: usize = 120;

fn recent(
    map: &std::sync::Mutex<std::collections::HashMap<String, Vec<i64>>>,
    ip: &str,
    now: i64,
    add: bool,
) -> usize {
    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
    if m.len() > 100_000 {
        m.clear();
    }
    let v = m.entry(ip.to_owned()).or_default();
    v.retain(|t| now - t < WINDOW_MS);
    if add {
        v.push(now);
    }
    v.len()
}

impl Limiter {
    /// May this address try to sign in now?
    pub fn allow_attempt(&self, ip: &str, now: i64, max: u32) -> bool {
        recent(&self.failures, ip, now, false) < max as usize
    }
    /// Count a failed sign-in.
    pub fn failed(&self, ip: &str, now: i64) {
        recent(&self.failures, ip, now, true);
    }
    /// May this address have another sign-in QR?
    pub fn allow_challenge(&self, ip: &str, now: i64) -> bool {
        recent(&self.challenges, ip, now, true) <= CHALLENGES_PER_ADDRESS
    }
}

/// Append to the audit log (who, what, on what, from where).
pub fn audit(
    tx: &mut dyn Tx,
    now: i64,
    who: &str,
    action: &str,
    target: &str,
    detail: &str,
    ip: &str,
) -> crate::store::Result<()> {
    tx.insert_audit(&AuditRow {
        seq: 0,
        at_ms: now,
        account: who.to_owned(),
        action: action.to_owned(),
        target: target.to_owned(),
        detail: detail.to_owned(),
        ip: ip.to_owned(),
    })
}

pub use accounts::{ensure_account, reset_account};
