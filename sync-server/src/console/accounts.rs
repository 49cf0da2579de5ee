//! Console accounts, the audit log and the server's status (R21), for
//! administrators; and the first administrator's account, made from the
//! command line. An account is an administrator or a directory person; it
//! starts with a one-time setup link (shown once, stored only as a hash)
//! where its holder sets a password and a second factor. A reset issues a
//! new link and ends the account's sessions; nothing an account did is ever
//! removed (disabled accounts stay, with their audit entries).

use super::admin::{CsrfForm, enum_name, log, parse_id, refusal};
use super::session::{AdminUser, check_csrf, random_token, token_hash};
use super::view::{Chrome, Deny, render, when};
use super::{audit, paths};
use crate::AppState;
use crate::admin::AdminError;
use crate::store::console::AccountRow;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use custody_core::model::{Id, Person};
use serde::Deserialize;

// ---------------------------------------------------------------- accounts

pub struct AccountLine {
    pub id: String,
    pub login: String,
    pub name: String,
    pub kind: String,
    pub person: String,
    pub set_up: bool,
    pub locked: bool,
    pub disabled: bool,
}

#[derive(Template)]
#[template(path = "console/admin/accounts.html")]
struct Accounts {
    c: Chrome,
    accounts: Vec<AccountLine>,
    people: Vec<Person>,
    link: Option<String>,
    error: Option<(String, String)>,
}

async fn accounts_page(
    state: &AppState,
    u: &AdminUser,
    link: Option<String>,
    error: Option<(String, String)>,
) -> Result<Response, Deny> {
    let now = state.now();
    let (accounts, people) = state
        .store
        .read_async(move |tx| {
            let accounts = tx
                .console_accounts()?
                .into_iter()
                .map(|a| AccountLine {
                    id: a.id.clone(),
                    login: a.login.clone(),
                    name: a.display_name.clone(),
                    kind: enum_name(&a.kind),
                    person: a.person.map(|p| p.to_string()).unwrap_or_default(),
                    set_up: a.password_hash.is_some(),
                    locked: a.locked_until_ms.is_some_and(|l| l > now),
                    disabled: a.disabled_ms.is_some(),
                })
                .collect();
            Ok((accounts, tx.people()?))
        })
        .await?;
    Ok(render(&Accounts { c: Chrome::for_user(&u.0, "账号", "Accounts"), accounts, people, link, error }))
}

pub async fn accounts(State(state): State<AppState>, u: AdminUser) -> Result<Response, Deny> {
    accounts_page(&state, &u, None, None).await
}

/// Make an account and its one-time setup link (returned once, never stored).
pub fn create_account(
    state: &AppState,
    login: &str,
    display_name: &str,
    person: Option<Id>,
    by: &str,
) -> Result<String, AdminError> {
    let login = login.trim().to_lowercase();
    if login.len() < 3
        || login.len() > 40
        || !login.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err(AdminError::invalid(
            "登录名应为 3–40 位字母、数字或 . _ -",
            "a login is 3–40 letters, digits or . _ -",
        ));
    }
    if display_name.trim().is_empty() {
        return Err(AdminError::invalid("请填写显示名称", "enter a display name"));
    }
    let now = state.now();
    let mut row = AccountRow::new(
        format!("A-{}", &random_token()[..10]),
        login.clone(),
        display_name.trim().to_owned(),
        person,
        now,
    );
    let link = setup_link(state, &mut row, now);
    let by = by.to_owned();
    state.store.write_or_abort(move |tx| {
        if tx.console_account_by_login(&row.login)?.is_some() {
            return Ok(Err(AdminError::invalid(
                format!("登录名 {} 已被使用", row.login),
                format!("login {} is taken", row.login),
            )));
        }
        if let Some(p) = &row.person
            && tx.person(p)?.is_none()
        {
            return Ok(Err(AdminError::invalid(format!("人员 {p} 不存在"), format!("person {p} not found"))));
        }
        tx.insert_console_account(&row)?;
        audit(tx, now, &by, "create_account", &row.id, &row.login, "-")?;
        Ok(Ok(()))
    })??;
    Ok(link)
}

#[derive(Deserialize)]
pub struct AccountForm {
    pub csrf: String,
    pub login: String,
    pub name: String,
    #[serde(default)]
    pub person: String,
}

pub async fn add_account(
    State(state): State<AppState>,
    u: AdminUser,
    Form(f): Form<AccountForm>,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    check_csrf(&u.0.session, &f.csrf, lang)?;
    let person = if f.person.trim().is_empty() { None } else { Some(parse_id(&f.person, lang)?) };
    let (st, who) = (state.clone(), u.0.audit_name());
    let out = tokio::task::spawn_blocking(move || create_account(&st, &f.login, &f.name, person, &who))
        .await
        .map_err(|e| Deny::internal(lang, e))?;
    show_link(&state, &u, out).await
}

/// The accounts page with a new setup link shown once, or why there is none.
async fn show_link(
    state: &AppState,
    u: &AdminUser,
    out: Result<String, AdminError>,
) -> Result<Response, Deny> {
    match out {
        Ok(path) => accounts_page(state, u, Some(format!("{}{path}", state.public_url(None))), None).await,
        Err(e) => accounts_page(state, u, None, Some(refusal(&e))).await,
    }
}

/// The setup link of an account: a new one-time token (its hash stored).
fn setup_link(state: &AppState, a: &mut AccountRow, now: i64) -> String {
    let token = random_token();
    a.setup_hash = Some(token_hash(&token));
    a.setup_expires_ms = Some(now + state.config.console.setup_hours * 3_600_000);
    format!("{}?token={token}", paths::SETUP)
}

/// Reset an account: its password and second factor are cleared, its
/// sessions end, and a new setup link is returned (shown once).
pub fn reset_account(state: &AppState, id: &str, by: &str, ip: &str) -> Result<String, AdminError> {
    let now = state.now();
    let (id, by, ip) = (id.to_owned(), by.to_owned(), ip.to_owned());
    let st = state.clone();
    state.store.write_or_abort(move |tx| {
        let Some(mut a) = tx.console_account(&id)? else {
            return Ok(Err(AdminError::invalid(format!("账号 {id} 不存在"), format!("no account {id}"))));
        };
        if a.disabled_ms.is_some() {
            return Ok(Err(AdminError::invalid(
                "账号已停用，不能重置",
                "the account is disabled and cannot be reset",
            )));
        }
        let link = setup_link(&st, &mut a, now);
        a.password_hash = None;
        a.totp_secret = None;
        a.totp_last_step = None;
        a.failed = 0;
        a.locked_until_ms = None;
        tx.update_console_account(&a)?;
        tx.revoke_console_sessions_of(&a.id, now)?;
        audit(tx, now, &by, "reset_account", &a.id, &a.login, &ip)?;
        Ok(Ok(link))
    })?
}

/// An account for the command line and the demo: made if missing (with its
/// setup link); for one whose holder never finished setting up, a fresh
/// link; for one already in use, nothing (`None`: it is not taken over).
pub fn ensure_account(
    state: &AppState,
    login: &str,
    display_name: &str,
    person: Option<Id>,
    by: &str,
) -> Result<Option<String>, AdminError> {
    let l = login.trim().to_lowercase();
    let existing = state.store.read(move |tx| tx.console_account_by_login(&l))?;
    match existing {
        None => create_account(state, login, display_name, person, by).map(Some),
        Some(a) if a.password_hash.is_none() && a.disabled_ms.is_none() => {
            reset_account(state, &a.id, by, "-").map(Some)
        }
        Some(_) => Ok(None),
    }
}

pub async fn reset(
    State(state): State<AppState>,
    u: AdminUser,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    check_csrf(&u.0.session, &f.csrf, lang)?;
    let (st, who, ip) = (state.clone(), u.0.audit_name(), u.0.client.ip.clone());
    let out = tokio::task::spawn_blocking(move || reset_account(&st, &id, &who, &ip))
        .await
        .map_err(|e| Deny::internal(lang, e))?;
    show_link(&state, &u, out).await
}

/// Disable an account: every session ends now; nothing it did is removed.
pub async fn disable_account(
    State(state): State<AppState>,
    u: AdminUser,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    check_csrf(&u.0.session, &f.csrf, lang)?;
    if id == u.0.account.id {
        return accounts_page(
            &state,
            &u,
            None,
            Some(("不能停用自己的账号".into(), "you cannot disable your own account".into())),
        )
        .await;
    }
    let (now, who, ip) = (state.now(), u.0.audit_name(), u.0.client.ip.clone());
    let done = state
        .store
        .write_async(move |tx| {
            let Some(mut a) = tx.console_account(&id)? else { return Ok(false) };
            a.disabled_ms = Some(now);
            tx.update_console_account(&a)?;
            tx.revoke_console_sessions_of(&a.id, now)?;
            audit(tx, now, &who, "disable_account", &a.id, &a.login, &ip)?;
            Ok(true)
        })
        .await?;
    if !done {
        return Err(Deny::not_found(lang));
    }
    Ok(Redirect::to(paths::ADMIN_ACCOUNTS).into_response())
}

// ---------------------------------------------------------------- audit and status

#[derive(Deserialize)]
pub struct BeforeQuery {
    pub before: Option<u64>,
}

#[derive(Template)]
#[template(path = "console/admin/audit.html")]
struct Audit {
    c: Chrome,
    entries: Vec<(u64, String, String, String, String, String, String)>,
    older: Option<String>,
    face_reads: Vec<FaceReadLine>,
}

/// One read of a face photo as the console shows it (`crate::faces`).
pub struct FaceReadLine {
    pub seq: u64,
    pub when: String,
    pub reader: String,
    pub subject: String,
    pub photo: String,
    pub via: String,
    pub ip: String,
}

impl FaceReadLine {
    pub fn of(r: crate::store::faces::FaceReadRow) -> FaceReadLine {
        FaceReadLine {
            seq: r.seq,
            when: when(r.at_ms),
            reader: r.reader,
            subject: r.subject.map(|p| p.to_string()).unwrap_or_default(),
            photo: r.sha256.to_hex(),
            via: r.via,
            ip: r.ip,
        }
    }
}

pub async fn audit_log(
    state: &AppState,
    before: Option<u64>,
    limit: u32,
) -> Result<Vec<crate::store::console::AuditRow>, Deny> {
    Ok(state.store.read_async(move |tx| tx.audit(before, limit)).await?)
}

pub async fn audit_page(
    State(state): State<AppState>,
    u: AdminUser,
    Query(q): Query<BeforeQuery>,
) -> Result<Response, Deny> {
    let rows = audit_log(&state, q.before, 100).await?;
    let older = (rows.len() == 100)
        .then(|| rows.last().map(|r| format!("{}?before={}", paths::ADMIN_AUDIT, r.seq)))
        .flatten();
    let entries = rows
        .into_iter()
        .map(|a| (a.seq, when(a.at_ms), a.account, a.action, a.target, a.detail, a.ip))
        .collect();
    // Every read of a face photo, whatever path it left by (PIPL): the
    // newest here, all of them in the CSV.
    let face_reads = state
        .store
        .read_async(|tx| tx.face_reads(None, 100))
        .await?
        .into_iter()
        .map(FaceReadLine::of)
        .collect();
    Ok(render(&Audit { c: Chrome::for_user(&u.0, "审计日志", "Audit log"), entries, older, face_reads }))
}

/// Every read of a face photo as CSV (the export itself is in the audit log).
pub async fn face_reads_csv(State(state): State<AppState>, u: AdminUser) -> Result<Response, Deny> {
    let rows = state.store.read_async(|tx| tx.face_reads(None, 1_000_000)).await?;
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut text = String::from("\u{feff}seq,at,reader,reader_person,subject,photo,via,ip\r\n");
    for r in &rows {
        text.push_str(&format!(
            "{},{},{},{},{},{},{},{}\r\n",
            r.seq,
            q(&when(r.at_ms)),
            q(&r.reader),
            q(&r.reader_person.as_ref().map(|p| p.to_string()).unwrap_or_default()),
            q(&r.subject.as_ref().map(|p| p.to_string()).unwrap_or_default()),
            r.sha256.to_hex(),
            r.via,
            q(&r.ip)
        ));
    }
    log(&state, &u, "export_face_reads", "face-reads.csv", &format!("{} rows", rows.len())).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"face-reads.csv\""),
        ],
        text,
    )
        .into_response())
}

/// The whole audit log as CSV (the export itself is logged).
pub async fn audit_csv(State(state): State<AppState>, u: AdminUser) -> Result<Response, Deny> {
    let rows = audit_log(&state, None, 100_000).await?;
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut text = String::from("\u{feff}seq,at,account,action,target,detail,ip\r\n");
    for a in &rows {
        text.push_str(&format!(
            "{},{},{},{},{},{},{}\r\n",
            a.seq,
            q(&when(a.at_ms)),
            q(&a.account),
            q(&a.action),
            q(&a.target),
            q(&a.detail),
            q(&a.ip)
        ));
    }
    log(&state, &u, "export_audit", "audit.csv", &format!("{} rows", rows.len())).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
        ],
        text,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "console/admin/status.html")]
struct Status {
    c: Chrome,
    facts: Vec<(&'static str, &'static str, String)>,
}

/// What the operator checks at a glance (R21): the log, the last
/// checkpoint, records and devices, equivocations, storage.
pub async fn status(State(state): State<AppState>, u: AdminUser) -> Result<Response, Deny> {
    let (describe, media) = (state.store.describe(), state.blobs.describe());
    // The operator's view (`admin status`): disks, backups, certificate, replica, alerts.
    let ops = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || {
            crate::status::Status::gather(&state.config, &state.store, state.now())
        })
        .await
        .map_err(|e| crate::store::StoreError::Join(e.to_string()))??
    };
    let mut facts = state
        .store
        .read_async(move |tx| {
            let size = tx.log_size()?;
            let cp = tx.latest_checkpoint()?;
            let devices = tx.devices()?;
            let last = tx
                .console_records(None, None, None, 1)?
                .first()
                .map(|r| when(r.first_seen_ms))
                .unwrap_or_else(|| "—".into());
            Ok(vec![
                ("日志大小", "log size", size.to_string()),
                (
                    "最新检查点",
                    "latest checkpoint",
                    cp.map(|c| format!("{} · {}", c.checkpoint.size, when(c.checkpoint.server_ms)))
                        .unwrap_or_else(|| "—".into()),
                ),
                ("记录数", "records", tx.record_count()?.to_string()),
                ("最近一条记录", "latest record", last),
                (
                    "设备（在用/已注销）",
                    "devices (active/revoked)",
                    format!(
                        "{}/{}",
                        devices.iter().filter(|d| d.revoked_ms.is_none()).count(),
                        devices.iter().filter(|d| d.revoked_ms.is_some()).count()
                    ),
                ),
                ("记录链分叉", "equivocations", tx.equivocation_count()?.to_string()),
                ("数据库", "database", describe),
                ("文件存储", "media storage", media),
            ])
        })
        .await?;
    for d in &ops.disks {
        facts.push((
            "磁盘可用",
            "disk free",
            format!("{} · {:.1} / {:.1} GB", d.what, d.free_bytes as f64 / 1e9, d.total_bytes as f64 / 1e9),
        ));
    }
    facts.push((
        "最近通过校验的备份",
        "newest verified backup",
        match &ops.backup.latest {
            Some((dir, age, n)) => format!("{} · {} h · {n}", dir.display(), age / 3600),
            None if ops.backup.dir.as_os_str().is_empty() => "backup.dir —".into(),
            None => "—".into(),
        },
    ));
    if let Some(days) = ops.cert_days {
        facts.push(("证书剩余天数", "certificate days left", format!("{days:.0}")));
    }
    if let Some((bytes, secs)) = ops.replica_lag {
        facts.push(("只读副本延迟", "replica lag", format!("{bytes:.0} B · {secs:.0} s")));
    }
    let alerts = ops.alerts();
    facts.push((
        "告警",
        "alerts",
        if alerts.is_empty() {
            "无 / none".into()
        } else {
            alerts.iter().map(|a| format!("[{}] {} / {}", a.key, a.zh, a.en)).collect::<Vec<_>>().join("；")
        },
    ));
    Ok(render(&Status { c: Chrome::for_user(&u.0, "系统状态", "Status"), facts }))
}
