//! Signing in to the console, three ways:
//! * **the field app's QR** (field people): the page shows a one-time QR;
//!   the enrolled phone scans it, shows where the request comes from, and
//!   approves with a signed request; only the browser that asked may take
//!   the approved sign-in (a cookie binds it);
//! * **password and a one-time code** (office accounts): Argon2id, RFC 6238,
//!   accounts locked after repeated failures, addresses slowed down;
//! * **a one-time setup link** from an administrator (or the CLI for the
//!   first one): set a password and enrol the second factor.
//!
//! Every sign-in, failure and sign-out is in the audit log.

use super::session::{
    COOKIE, LOGIN_COOKIE, SetupUser, User, check_csrf, random_token, set_cookie, token_hash,
};
use super::view::{Chrome, Client, Deny, render, urlencode};
use super::{audit, paths, totp};
use crate::AppState;
use crate::api::forbidden;
use crate::auth::AuthedDevice;
use crate::error::AppError;
use crate::store::console::{AccountRow, LoginRow, SessionRow, SessionScope};
use askama::Template;
use axum::Json;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
#[allow(unused_imports)] // ApiError: named by the OpenAPI annotations
use custody_core::protocol::{ApiError, ConsoleApproval, ConsoleLoginInfo, ConsoleLoginOffer};
use serde::Deserialize;

/// Where to go after signing in: only a console page.
fn next_or_home(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with("/console") && !n.starts_with("//")).unwrap_or(paths::HOME).to_owned()
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    qr_svg: String,
    /// The QR's text, for a phone whose camera cannot read the screen.
    qr_text: String,
    qr_wait: String,
    error: Option<(String, String)>,
    login: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

/// A QR the field app scans, as an SVG (no script, prints well).
pub fn qr_svg(text: &str) -> String {
    let Ok(qr) = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) else {
        return String::new();
    };
    let n = qr.width();
    let mut path = String::new();
    for (i, c) in qr.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            path.push_str(&format!("M{} {}h1v1h-1z", i % n + 4, i / n + 4));
        }
    }
    let size = n + 8;
    format!(
        r##"<svg class="qr" viewBox="0 0 {size} {size}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="QR"><rect width="{size}" height="{size}" fill="#fff"/><path d="{path}" fill="#000"/></svg>"##
    )
}

/// A new QR sign-in for this browser, or the one it is already waiting on.
async fn qr_challenge(
    state: &AppState,
    client: &Client,
    browser: Option<String>,
) -> Result<(String, String, Option<String>), Deny> {
    let now = state.now();
    let lang = client.lang;
    if !state.console.allow_challenge(&client.ip, now) {
        return Err(Deny::page(
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            "请求过于频繁，请稍后再试",
            "too many requests; try again later",
        ));
    }
    let (id, secret, browser_secret) =
        (random_token()[..16].to_owned(), random_token(), browser.unwrap_or_else(random_token));
    let row = LoginRow {
        id: id.clone(),
        secret_hash: token_hash(&secret),
        browser_hash: token_hash(&browser_secret),
        ip: client.ip.clone(),
        agent: client.agent.clone(),
        created_ms: now,
        expires_ms: now + state.config.console.qr_login_minutes * 60_000,
        approved_person: None,
        approved_device: None,
        approved_ms: None,
        consumed_ms: None,
    };
    state.store.write_async(move |tx| tx.insert_console_login(&row)).await?;
    let offer = ConsoleLoginOffer { v: 1, server_url: state.public_url(None), id: id.clone(), secret };
    Ok((id, offer.to_qr(), Some(browser_secret)))
}

async fn login_page(
    state: &AppState,
    client: &Client,
    next: String,
    error: Option<(String, String)>,
    login: String,
    status: StatusCode,
) -> Result<Response, Deny> {
    let (id, qr, browser) = qr_challenge(state, client, None).await?;
    let c = Chrome::public(client.lang, "登录", "Sign in");
    let page = LoginPage {
        c,
        qr_svg: qr_svg(&qr),
        qr_text: qr,
        qr_wait: paths::fill(paths::LOGIN_QR, &id),
        next,
        error,
        login,
    };
    let mut r = render(&page);
    *r.status_mut() = status;
    if let Some(b) = browser {
        let v = set_cookie(
            LOGIN_COOKIE,
            &format!("{id}.{b}"),
            client.secure,
            Some(state.config.console.qr_login_minutes * 60),
        );
        if let Ok(h) = v.parse() {
            r.headers_mut().insert(header::SET_COOKIE, h);
        }
    }
    Ok(r)
}

/// The sign-in page: the QR for the field app beside the password form.
pub async fn page(
    State(state): State<AppState>,
    client: Client,
    Query(q): Query<NextQuery>,
) -> Result<Response, Deny> {
    login_page(&state, &client, next_or_home(q.next.as_deref()), None, String::new(), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    pub login: String,
    pub password: String,
    #[serde(default)]
    pub code: String,
    pub next: Option<String>,
}

/// Start a session for an account; the response sets its cookie.
async fn start_session(
    state: &AppState,
    account: &AccountRow,
    client: &Client,
    scope: SessionScope,
    to: &str,
) -> Result<Response, Deny> {
    let now = state.now();
    let token = random_token();
    let cfg = &state.config.console;
    let row = SessionRow {
        token_hash: token_hash(&token),
        account: account.id.clone(),
        scope,
        csrf: random_token(),
        created_ms: now,
        expires_ms: now + (cfg.idle_minutes * 60_000).min(cfg.session_hours * 3_600_000),
        last_seen_ms: now,
        revoked_ms: None,
        ip: client.ip.clone(),
        agent: client.agent.clone(),
    };
    state.store.write_async(move |tx| tx.insert_console_session(&row)).await?;
    let c = set_cookie(COOKIE, &token, client.secure, Some(cfg.session_hours * 3600));
    Ok(([(header::SET_COOKIE, c)], Redirect::to(to)).into_response())
}

/// Sign in with login, password and one-time code.
pub async fn password(
    State(state): State<AppState>,
    client: Client,
    Form(f): Form<PasswordForm>,
) -> Result<Response, Deny> {
    let now = state.now();
    let next = next_or_home(f.next.as_deref());
    let lang = client.lang;
    if !state.console.allow_attempt(&client.ip, now, state.config.console.failures_per_address) {
        let e = ("失败次数过多，请十分钟后再试".into(), "too many failed attempts; wait ten minutes".into());
        return login_page(&state, &client, next, Some(e), f.login, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let login = f.login.trim().to_owned();
    let found = {
        let l = login.clone();
        state.store.read_async(move |tx| tx.console_account_by_login(&l)).await?
    };
    let cfg = state.config.console.clone();
    let verdict = match &found {
        Some(a) if a.disabled_ms.is_some() => Err("disabled"),
        Some(a) if a.locked_until_ms.is_some_and(|u| u > now) => Err("locked"),
        Some(a) => match (&a.password_hash, &a.totp_secret) {
            (Some(h), Some(secret)) if super::password::verify(&f.password, h) => {
                totp::check(secret, &f.code, now, a.totp_last_step).ok_or("code")
            }
            _ => Err("password"),
        },
        None => Err("no account"),
    };
    let (ip, who) = (client.ip.clone(), login.clone());
    match verdict {
        Ok(step) => {
            let mut a = found.ok_or_else(|| Deny::internal(lang, "account vanished"))?;
            a.failed = 0;
            a.locked_until_ms = None;
            a.totp_last_step = Some(step);
            let row = a.clone();
            state
                .store
                .write_async(move |tx| {
                    tx.update_console_account(&row)?;
                    audit(
                        tx,
                        now,
                        &format!("{} ({})", row.login, row.id),
                        "sign_in",
                        &row.id,
                        "password+totp",
                        &ip,
                    )
                })
                .await?;
            start_session(&state, &a, &client, SessionScope::Full, &next).await
        }
        Err(why) => {
            state.console.failed(&client.ip, now);
            let locked_now = found.as_ref().map(|a| {
                let mut a = a.clone();
                a.failed += 1;
                if a.failed >= cfg.lockout_failures {
                    a.locked_until_ms = Some(now + cfg.lockout_minutes * 60_000);
                }
                a
            });
            state
                .store
                .write_async(move |tx| {
                    if let Some(a) = &locked_now {
                        tx.update_console_account(a)?;
                    }
                    audit(tx, now, "-", "sign_in_failed", &who, why, &ip)
                })
                .await?;
            let e = (
                "登录名、密码或动态验证码不正确，或账号已被暂时锁定".to_owned(),
                "login, password or one-time code is wrong, or the account is locked for a while".to_owned(),
            );
            login_page(&state, &client, next, Some(e), login, StatusCode::UNAUTHORIZED).await
        }
    }
}

#[derive(Template)]
#[template(path = "console/qr_wait.html")]
struct QrWait {
    c: Chrome,
    state: &'static str,
    href: String,
}

/// The page waiting for the field app: signs this browser in once the
/// phone has approved (polled by htmx; a plain link does the same).
pub async fn qr_wait(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Query(q): Query<NextQuery>,
    headers: HeaderMap,
) -> Result<Response, Deny> {
    let lang = client.lang;
    let now = state.now();
    let next = next_or_home(q.next.as_deref());
    let browser = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|l| l.split(';'))
        .find_map(|kv| kv.trim().strip_prefix(&format!("{LOGIN_COOKIE}=")).map(str::to_owned))
        .and_then(|v| v.split_once('.').filter(|(i, _)| *i == id).map(|(_, b)| b.to_owned()));
    let wait = |st: &'static str| {
        let c = Chrome::public(lang, "扫码登录", "Sign in with the field app");
        render(&QrWait {
            c,
            state: st,
            href: format!("{}?next={}", paths::fill(paths::LOGIN_QR, &id), urlencode(&next)),
        })
    };
    let Some(browser) = browser else { return Ok(wait("expired")) };
    let lid = id.clone();
    let Some(login) = state.store.read_async(move |tx| tx.console_login(&lid)).await? else {
        return Ok(wait("expired"));
    };
    if login.browser_hash != token_hash(&browser) || login.consumed_ms.is_some() || login.expires_ms <= now {
        return Ok(wait("expired"));
    }
    let Some(person) = login.approved_person.clone() else { return Ok(wait("pending")) };
    let (ip, device) =
        (client.ip.clone(), login.approved_device.map(|d| d.fingerprint()).unwrap_or_default());
    let lid = id.clone();
    let account = state
        .store
        .write_or_abort_async(move |tx| {
            if !tx.consume_console_login(&lid, now)? {
                return Ok(Err("used"));
            }
            let account = match tx.console_account_of_person(&person)? {
                Some(a) => a,
                None => {
                    let name = tx.person(&person)?.map(|p| p.name).unwrap_or_else(|| person.to_string());
                    let a = person_account(&person, &name, now);
                    tx.insert_console_account(&a)?;
                    a
                }
            };
            if account.disabled_ms.is_some() {
                return Ok(Err("disabled"));
            }
            audit(
                tx,
                now,
                &format!("{} ({})", account.login, account.id),
                "sign_in",
                &account.id,
                &format!("field app {device}"),
                &ip,
            )?;
            Ok(Ok(account))
        })
        .await?;
    let Ok(account) = account else { return Ok(wait("expired")) };
    let mut r = start_session(&state, &account, &client, SessionScope::Full, &next).await?;
    if headers.contains_key("hx-request") {
        // htmx follows a redirect header instead of swapping the page in.
        r = (StatusCode::OK, [("hx-redirect", next.as_str())], r).into_response();
        *r.status_mut() = StatusCode::OK;
    }
    Ok(r)
}

/// The account of a directory person who signs in with their phone.
fn person_account(person: &custody_core::model::Id, name: &str, now: i64) -> AccountRow {
    AccountRow::new(format!("P-{person}"), person.to_string(), name.to_owned(), Some(person.clone()), now)
}

/// What the field app shows before approving: where the request came from.
#[utoipa::path(get, path = "/v1/console/logins/{id}", params(("id" = String, Path, description = "the sign-in's id, from the console's QR")),
    responses((status = 200, body = ConsoleLoginInfo), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn device_info(
    State(state): State<AppState>,
    _dev: AuthedDevice,
    Path(id): Path<String>,
) -> Result<Json<ConsoleLoginInfo>, AppError> {
    let now = state.now();
    let lid = id.clone();
    let l = state.store.read_async(move |tx| tx.console_login(&lid)).await?;
    let l = l.ok_or_else(|| {
        AppError::not_found("console_login_unknown", "没有这个登录请求", "no such sign-in request")
    })?;
    Ok(Json(ConsoleLoginInfo {
        id,
        ip: l.ip,
        agent: l.agent,
        created_ms: l.created_ms,
        expires_ms: l.expires_ms,
        pending: l.approved_ms.is_none() && l.consumed_ms.is_none() && l.expires_ms > now,
    }))
}

/// The field app approves a console sign-in as its enrolled person, who
/// must hold an authorisation in force (R1).
#[utoipa::path(post, path = "/v1/console/logins/{id}", params(("id" = String, Path, description = "the sign-in's id, from the console's QR")),
    request_body = ConsoleApproval,
    responses((status = 200, body = ConsoleLoginInfo), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn device_approve(
    State(state): State<AppState>,
    dev: AuthedDevice,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<ConsoleLoginInfo>, AppError> {
    let req: ConsoleApproval = serde_json::from_slice(&body).map_err(crate::error::rejection)?;
    let now = state.now();
    let out = state
        .store
        .write_or_abort_async(move |tx| {
            let Some(l) = tx.console_login(&id)? else {
                return Ok(Err(AppError::not_found(
                    "console_login_unknown",
                    "没有这个登录请求",
                    "no such sign-in request",
                )));
            };
            if token_hash(&req.secret) != l.secret_hash {
                return Ok(Err(AppError::forbidden(
                    "console_login_secret",
                    "二维码不匹配",
                    "the QR does not match this sign-in",
                )));
            }
            let viewer = crate::facts::device_viewer(tx, &dev.person, &dev.org, dev.org_role)?;
            if viewer.grants_in_force(now).next().is_none() {
                return Ok(Err(forbidden(custody_core::access::Denied {
                    code: "not_authorised",
                    message_zh: "您没有有效的授权，不能登录管理平台（R1）".into(),
                    message_en: "you hold no authorisation in force and may not sign in to the console (R1)"
                        .into(),
                })));
            }
            if !tx.approve_console_login(&id, &dev.person, &dev.key, now)? {
                return Ok(Err(AppError::bad_request(
                    "console_login_closed",
                    "该登录请求已过期或已处理",
                    "this sign-in request expired or was already answered",
                )));
            }
            audit(tx, now, dev.person.as_str(), "approve_sign_in", &id, &dev.key.fingerprint(), &l.ip)?;
            Ok(Ok(ConsoleLoginInfo {
                id,
                ip: l.ip,
                agent: l.agent,
                created_ms: l.created_ms,
                expires_ms: l.expires_ms,
                pending: false,
            }))
        })
        .await??;
    Ok(Json(out))
}

#[derive(Template)]
#[template(path = "console/setup.html")]
struct SetupPage {
    c: Chrome,
    login: String,
    secret_b32: String,
    qr_svg: String,
    error: Option<(String, String)>,
}

#[derive(Deserialize)]
pub struct SetupQuery {
    pub token: Option<String>,
}

/// The setup link: exchanged for a setup-only session, then the form.
pub async fn setup_page(
    State(state): State<AppState>,
    client: Client,
    Query(q): Query<SetupQuery>,
    request: axum::extract::Request,
) -> Result<Response, Deny> {
    let lang = client.lang;
    let now = state.now();
    if let Some(token) = q.token {
        let h = token_hash(&token);
        let found = state
            .store
            .read_async(move |tx| Ok(tx.console_accounts()?.into_iter().find(|a| a.setup_hash == Some(h))))
            .await?;
        let Some(a) =
            found.filter(|a| a.setup_expires_ms.is_some_and(|e| e > now) && a.disabled_ms.is_none())
        else {
            return Err(Deny::bad(
                lang,
                "设置链接无效或已过期，请联系管理员重新生成",
                "the setup link is invalid or expired: ask an administrator for a new one",
            ));
        };
        return start_session(&state, &a, &client, SessionScope::Setup, paths::SETUP).await;
    }
    let (mut parts, _) = request.into_parts();
    let u = <SetupUser as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &state)
        .await?;
    if u.session.scope != SessionScope::Setup {
        // Only a setup link's session sets credentials: a signed-in session
        // (perhaps a stolen cookie) never sees or replaces the second factor.
        return Ok(Redirect::to(paths::HOME).into_response());
    }
    setup_form(&state, u, None).await
}

async fn setup_form(
    state: &AppState,
    u: SetupUser,
    error: Option<(String, String)>,
) -> Result<Response, Deny> {
    // The candidate second factor stays the same across reloads until setup completes.
    let mut account = u.account.clone();
    if account.totp_secret.is_none() {
        let mut secret = vec![0u8; 20];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret);
        account.totp_secret = Some(secret);
        let row = account.clone();
        state.store.write_async(move |tx| tx.update_console_account(&row)).await?;
    }
    let secret = account.totp_secret.clone().unwrap_or_default();
    let uri = totp::uri(&secret, "见证取样监控平台", &account.login);
    let mut c = Chrome::public(u.client.lang, "设置密码与动态验证码", "Set a password and a one-time code");
    c.csrf = u.session.csrf.clone();
    Ok(render(&SetupPage {
        c,
        login: account.login.clone(),
        secret_b32: totp::base32(&secret),
        qr_svg: qr_svg(&uri),
        error,
    }))
}

#[derive(Deserialize)]
pub struct SetupForm {
    pub csrf: String,
    pub password: String,
    pub password2: String,
    pub code: String,
}

/// Finish setup: a password and a confirmed second factor; then a full session.
pub async fn setup(
    State(state): State<AppState>,
    u: SetupUser,
    Form(f): Form<SetupForm>,
) -> Result<Response, Deny> {
    let lang = u.client.lang;
    check_csrf(&u.session, &f.csrf, lang)?;
    if u.session.scope != SessionScope::Setup {
        return Ok(Redirect::to(paths::HOME).into_response());
    }
    let now = state.now();
    let problem = if f.password != f.password2 {
        Some(("两次输入的密码不一致".to_owned(), "the two passwords differ".to_owned()))
    } else {
        super::password::acceptable(&f.password, &u.account.login).err()
    };
    if let Some(e) = problem {
        return setup_form(&state, u, Some(e)).await;
    }
    let secret = u.account.totp_secret.clone().unwrap_or_default();
    let Some(step) = totp::check(&secret, &f.code, now, None) else {
        let e = ("动态验证码不正确：请用验证器应用扫描二维码后输入当前的 6 位数字".to_owned(), "the one-time code is wrong: scan the QR with an authenticator app and enter its current 6 digits".to_owned());
        return setup_form(&state, u, Some(e)).await;
    };
    let hash = super::password::hash(&f.password).map_err(|e| Deny::internal(lang, e))?;
    let mut a = u.account.clone();
    a.password_hash = Some(hash);
    a.totp_last_step = Some(step);
    a.setup_hash = None;
    a.setup_expires_ms = None;
    a.failed = 0;
    a.locked_until_ms = None;
    let (row, ip, old) = (a.clone(), u.client.ip.clone(), u.session.token_hash);
    state
        .store
        .write_async(move |tx| {
            tx.update_console_account(&row)?;
            tx.revoke_console_session(&old, now)?;
            audit(tx, now, &format!("{} ({})", row.login, row.id), "setup", &row.id, "password+totp", &ip)
        })
        .await?;
    start_session(&state, &a, &u.client, SessionScope::Full, paths::HOME).await
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

fn signed_out(client: &Client) -> Response {
    let c = set_cookie(COOKIE, "", client.secure, Some(0));
    ([(header::SET_COOKIE, c)], Redirect::to(paths::LOGIN)).into_response()
}

/// Sign out of this browser.
pub async fn logout(
    State(state): State<AppState>,
    u: SetupUser,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Deny> {
    check_csrf(&u.session, &f.csrf, u.client.lang)?;
    let (now, h, ip, who) = (
        state.now(),
        u.session.token_hash,
        u.client.ip.clone(),
        format!("{} ({})", u.account.login, u.account.id),
    );
    state
        .store
        .write_async(move |tx| {
            tx.revoke_console_session(&h, now)?;
            audit(tx, now, &who, "sign_out", "-", "", &ip)
        })
        .await?;
    Ok(signed_out(&u.client))
}

/// Sign out everywhere: every session of this account ends now.
pub async fn logout_all(
    State(state): State<AppState>,
    u: User,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Deny> {
    check_csrf(&u.session, &f.csrf, u.client.lang)?;
    let (now, id, ip, who) = (state.now(), u.account.id.clone(), u.client.ip.clone(), u.audit_name());
    state
        .store
        .write_async(move |tx| {
            let n = tx.revoke_console_sessions_of(&id, now)?;
            audit(tx, now, &who, "sign_out_everywhere", &id, &format!("{n} session(s)"), &ip)
        })
        .await?;
    Ok(signed_out(&u.client))
}
