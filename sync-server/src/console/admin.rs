//! What administrators do (R21): organisations, people and their letters of
//! authorisation, grants and revocations (R1), devices, enrollment codes,
//! projects and unit projects with their site boundaries, tag batches (R15,
//! R16) and lab assignments (R2); console accounts, the audit log and the
//! server's status are in `accounts`. Every action is the same `admin::Admin` operation as the
//! CLI's — a record signed by the server and judged by the core — and is
//! logged; a refusal comes back as the core's reason, with nothing stored.

use super::session::{AdminUser, check_csrf, random_token};
use super::view::{Chrome, Deny, render, when, when_opt};
use super::{audit, paths, sign_in::qr_svg};
use crate::AppState;
use crate::admin::{Admin, AdminError};
use askama::Template;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use custody_core::model::{
    Id, OrgRole, Organisation, Person, PersonRole, Project, SpecimenKind, UnitProject,
};
use custody_core::place::Datum;
use custody_core::record::LabAssignment;
use custody_core::tag::{BatchKey, SerialRange, TagBatch};
use custody_core::verify::{Lang, org_role_names};
use serde::Deserialize;
use std::collections::HashMap;

pub(super) fn admin_of(state: &AppState) -> Admin<'_> {
    Admin::of(state)
}

/// An admin action's refusal, shown on the page it came from.
pub(super) fn refusal(e: &AdminError) -> (String, String) {
    (e.message_zh(), e.to_string())
}

/// Log an admin action.
pub(super) async fn log(
    state: &AppState,
    u: &AdminUser,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), Deny> {
    let (now, who, ip, a, t, d) = (
        state.now(),
        u.0.audit_name(),
        u.0.client.ip.clone(),
        action.to_owned(),
        target.to_owned(),
        detail.to_owned(),
    );
    state.store.write_async(move |tx| audit(tx, now, &who, &a, &t, &d, &ip)).await?;
    Ok(())
}

pub(super) fn enum_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn parse_enum<T: serde::de::DeserializeOwned>(
    s: &str,
    lang: Lang,
    what_zh: &str,
    what_en: &str,
) -> Result<T, Deny> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| Deny::bad(lang, format!("无效的{what_zh}：{s}"), format!("invalid {what_en}: {s}")))
}

pub(super) fn parse_id(s: &str, lang: Lang) -> Result<Id, Deny> {
    Id::new(s.trim()).map_err(|e| Deny::bad(lang, format!("编号格式错误：{s}"), e.to_string()))
}

/// A role's name in both languages.
pub fn role_label(r: OrgRole, lang: Lang) -> &'static str {
    let (zh, en) = org_role_names(r);
    if lang == Lang::En { en } else { zh }
}

// ---------------------------------------------------------------- organisations

#[derive(Template)]
#[template(path = "console/admin/orgs.html")]
struct Orgs {
    c: Chrome,
    orgs: Vec<(Organisation, &'static str)>,
    roles: Vec<(String, &'static str)>,
    error: Option<(String, String)>,
}

async fn orgs_page(
    state: &AppState,
    u: &AdminUser,
    error: Option<(String, String)>,
    notice: bool,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    let list = state.store.read_async(|tx| tx.orgs()).await?;
    let orgs = list
        .into_iter()
        .map(|o| {
            let r = role_label(o.role, lang);
            (o, r)
        })
        .collect();
    let roles = [
        OrgRole::Owner,
        OrgRole::Contractor,
        OrgRole::Supervisor,
        OrgRole::Lab,
        OrgRole::TagSupplier,
        OrgRole::Regulator,
    ]
    .into_iter()
    .map(|r| (enum_name(&r), role_label(r, lang)))
    .collect();
    let mut c = Chrome::for_user(&u.0, "单位", "Organisations");
    if notice {
        c = c.notice("已登记", "registered");
    }
    Ok(render(&Orgs { c, orgs, roles, error }))
}

#[derive(Deserialize)]
pub struct DoneQuery {
    pub done: Option<String>,
}

pub async fn orgs(
    State(state): State<AppState>,
    u: AdminUser,
    Query(q): Query<DoneQuery>,
) -> Result<Response, Deny> {
    orgs_page(&state, &u, None, q.done.is_some()).await
}

#[derive(Deserialize)]
pub struct OrgForm {
    pub csrf: String,
    pub id: String,
    pub name: String,
    pub role: String,
    #[serde(default)]
    pub credit_code: String,
    #[serde(default)]
    pub jurisdiction: String,
}

pub async fn add_org(
    State(state): State<AppState>,
    u: AdminUser,
    Form(f): Form<OrgForm>,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    check_csrf(&u.0.session, &f.csrf, lang)?;
    let o = Organisation {
        id: parse_id(&f.id, lang)?,
        name: f.name.trim().to_owned(),
        role: parse_enum(&f.role, lang, "单位类型", "organisation role")?,
        credit_code: Some(f.credit_code.trim().to_owned()).filter(|s| !s.is_empty()),
        jurisdiction: Some(f.jurisdiction.trim().to_owned()).filter(|s| !s.is_empty()),
    };
    if o.name.is_empty() {
        return orgs_page(
            &state,
            &u,
            Some(("请填写单位名称".into(), "enter the organisation's name".into())),
            false,
        )
        .await;
    }
    let id = o.id.to_string();
    let st = state.clone();
    match tokio::task::spawn_blocking(move || admin_of(&st).add_org(o))
        .await
        .map_err(|e| Deny::internal(lang, e))?
    {
        Ok(out) => {
            log(&state, &u, "add_org", &id, &out.id.to_hex()).await?;
            Ok(Redirect::to(&format!("{}?done=1", paths::ADMIN_ORGS)).into_response())
        }
        Err(e) => orgs_page(&state, &u, Some(refusal(&e)), false).await,
    }
}

// ---------------------------------------------------------------- people

pub struct PersonLine {
    pub id: String,
    pub name: String,
    pub org: String,
    pub grants: usize,
    pub in_force: usize,
}

#[derive(Template)]
#[template(path = "console/admin/people.html")]
struct People {
    c: Chrome,
    people: Vec<PersonLine>,
    orgs: Vec<Organisation>,
    error: Option<(String, String)>,
}

async fn people_page(
    state: &AppState,
    u: &AdminUser,
    error: Option<(String, String)>,
) -> Result<Response, Deny> {
    let now = state.now();
    let (people, orgs) = state
        .store
        .read_async(move |tx| {
            let orgs = tx.orgs()?;
            let names: HashMap<String, String> =
                orgs.iter().map(|o| (o.id.to_string(), o.name.clone())).collect();
            let mut out = Vec::new();
            for p in tx.people()? {
                let grants = tx.grants_of(&p.id)?;
                let in_force = grants
                    .iter()
                    .filter(|g| {
                        g.revoked_ms.is_none()
                            && g.valid_from_ms <= now
                            && g.valid_until_ms.is_none_or(|u| u > now)
                    })
                    .count();
                out.push(PersonLine {
                    id: p.id.to_string(),
                    name: p.name,
                    org: names.get(p.org.as_str()).cloned().unwrap_or_else(|| p.org.to_string()),
                    grants: grants.len(),
                    in_force,
                });
            }
            Ok((out, orgs))
        })
        .await?;
    Ok(render(&People {
        c: Chrome::for_user(&u.0, "人员与授权", "People and authorisations"),
        people,
        orgs,
        error,
    }))
}

pub async fn people(State(state): State<AppState>, u: AdminUser) -> Result<Response, Deny> {
    people_page(&state, &u, None).await
}

#[derive(Deserialize)]
pub struct PersonForm {
    pub csrf: String,
    pub id: String,
    pub name: String,
    pub org: String,
}

pub async fn add_person(
    State(state): State<AppState>,
    u: AdminUser,
    Form(f): Form<PersonForm>,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    check_csrf(&u.0.session, &f.csrf, lang)?;
    let p =
        Person { id: parse_id(&f.id, lang)?, name: f.name.trim().to_owned(), org: parse_id(&f.org, lang)? };
    if p.name.is_empty() {
        return people_page(&state, &u, Some(("请填写姓名".into(), "enter the person's name".into()))).await;
    }
    let id = p.id.to_string();
    let st = state.clone();
    match tokio::task::spawn_blocking(move || admin_of(&st).add_person(p))
        .await
        .map_err(|e| Deny::internal(lang, e))?
    {
        Ok(out) => {
            log(&state, &u, "add_person", &id, &out.id.to_hex()).await?;
            Ok(Redirect::to(&paths::fill(paths::ADMIN_PERSON, &id)).into_response())
        }
        Err(e) => people_page(&state, &u, Some(refusal(&e))).await,
    }
}

pub struct GrantLine {
    pub id: String,
    pub role: String,
    pub project: String,
    pub from: String,
    pub until: String,
    pub revoked: Option<String>,
    pub letter: String,
    pub face: Option<String>,
}

pub struct DeviceLine {
    pub key: String,
    pub fingerprint: String,
    pub label: String,
    pub enrolled: String,
    pub revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "console/admin/person.html")]
struct PersonPage {
    c: Chrome,
    person: Person,
    org: String,
    grants: Vec<GrantLine>,
    devices: Vec<DeviceLine>,
    projects: Vec<Project>,
    roles: Vec<(String, &'static str)>,
    error: Option<(String, String)>,
}

fn person_role_label(r: PersonRole, lang: Lang) -> &'static str {
    let (zh, en) = match r {
        PersonRole::Sampler => ("取样员", "sampler"),
        PersonRole::Witness => ("见证员", "witness"),
        PersonRole::LabReceiver => ("收样员", "lab receiver"),
        PersonRole::LabTester => ("检测员", "lab tester"),
        PersonRole::LabReporter => ("报告签发人", "lab reporter"),
        PersonRole::Inspector => ("监督员", "inspector"),
        PersonRole::Admin => ("管理员", "administrator"),
        PersonRole::OwnerRepresentative => ("建设单位项目负责人", "owner's representative"),
        PersonRole::ContractorEngineer => ("施工单位技术负责人", "contractor's engineer"),
        PersonRole::SupervisingEngineer => ("监理工程师", "supervising engineer"),
    };
    if lang == Lang::En { en } else { zh }
}

async fn person_page(
    state: &AppState,
    u: &AdminUser,
    id: &str,
    error: Option<(String, String)>,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    let pid = parse_id(id, lang)?;
    let found = state
        .store
        .read_async(move |tx| {
            let Some(person) = tx.person(&pid)? else { return Ok(None) };
            let org = tx.org(&person.org)?;
            // Who revoked what, and why: the revocation record's reason and
            // the audit log's account.
            let revocations: HashMap<String, String> = tx
                .audit(None, 5000)?
                .into_iter()
                .filter(|a| a.action == "revoke_grant")
                .map(|a| (a.target, format!("{} · {}", a.account, a.detail)))
                .collect();
            let grants = tx
                .grants_of(&pid)?
                .into_iter()
                .map(|g| GrantLine {
                    id: g.grant.to_string(),
                    role: person_role_label(g.role, lang).to_owned(),
                    project: g.project.map(|p| p.to_string()).unwrap_or_else(|| "—".into()),
                    from: when(g.valid_from_ms),
                    until: when_opt(g.valid_until_ms),
                    revoked: g.revoked_ms.map(|r| {
                        let by = revocations.get(g.grant.as_str()).cloned().unwrap_or_default();
                        format!("{} {by}", when(r))
                    }),
                    letter: paths::fill(paths::MEDIA, &g.letter.to_hex()),
                    face: g.face_reference.map(|h| paths::fill(paths::MEDIA, &h.to_hex())),
                })
                .collect();
            let devices = tx
                .devices()?
                .into_iter()
                .filter(|d| d.person == pid)
                .map(|d| DeviceLine {
                    key: d.key.to_b64(),
                    fingerprint: d.key.fingerprint(),
                    label: d.label,
                    enrolled: when(d.enrolled_ms),
                    revoked: d.revoked_ms.map(when),
                })
                .collect();
            Ok(Some((person, org.map(|o| o.name).unwrap_or_default(), grants, devices, tx.projects()?)))
        })
        .await?;
    let Some((person, org, grants, devices, projects)) = found else { return Err(Deny::not_found(lang)) };
    let roles = [
        PersonRole::Sampler,
        PersonRole::Witness,
        PersonRole::LabReceiver,
        PersonRole::LabTester,
        PersonRole::LabReporter,
        PersonRole::Inspector,
        PersonRole::OwnerRepresentative,
        PersonRole::ContractorEngineer,
        PersonRole::SupervisingEngineer,
    ]
    .into_iter()
    .map(|r| (enum_name(&r), person_role_label(r, lang)))
    .collect();
    let c = Chrome::for_user(&u.0, person.name.clone(), person.name.clone());
    Ok(render(&PersonPage { c, person, org, grants, devices, projects, roles, error }))
}

pub async fn person(
    State(state): State<AppState>,
    u: AdminUser,
    Path(id): Path<String>,
) -> Result<Response, Deny> {
    person_page(&state, &u, &id, None).await
}

/// What an uploaded letter or face photo is, by its first bytes (the name
/// and the browser's claim are not evidence).
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

/// The grant form's fields and files.
#[derive(Default)]
struct GrantUpload {
    csrf: String,
    person: String,
    grant: String,
    role: String,
    project: String,
    real_name: String,
    until: String,
    letter: Vec<u8>,
    face: Vec<u8>,
}

async fn read_grant_form(mut m: Multipart, lang: Lang, max: usize) -> Result<GrantUpload, Deny> {
    let mut g = GrantUpload::default();
    while let Some(field) =
        m.next_field().await.map_err(|e| Deny::bad(lang, "上传格式错误", e.to_string()))?
    {
        let name = field.name().unwrap_or("").to_owned();
        let bytes = field.bytes().await.map_err(|_| {
            Deny::bad(
                lang,
                format!("文件过大（上限 {} MB）", max >> 20),
                format!("file too large (limit {} MB)", max >> 20),
            )
        })?;
        let text = || String::from_utf8_lossy(&bytes).trim().to_owned();
        match name.as_str() {
            "csrf" => g.csrf = text(),
            "person" => g.person = text(),
            "grant" => g.grant = text(),
            "role" => g.role = text(),
            "project" => g.project = text(),
            "real_name" => g.real_name = text(),
            "until" => g.until = text(),
            "letter" => g.letter = bytes.to_vec(),
            "face" => g.face = bytes.to_vec(),
            _ => {}
        }
    }
    Ok(g)
}

/// R1: record a grant with its letter of authorisation (and the person's
/// reference face photo, for the phone's 1:1 check).
pub async fn grant(State(state): State<AppState>, u: AdminUser, m: Multipart) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    let max = state.config.console.upload_bytes;
    let g = read_grant_form(m, lang, max).await?;
    check_csrf(&u.0.session, &g.csrf, lang)?;
    let back = g.person.clone();
    let bad = |zh: &str, en: &str| Some((zh.to_owned(), en.to_owned()));
    let problem = if g.letter.is_empty() {
        bad("请上传授权书（PDF、JPEG 或 PNG）", "upload the letter of authorisation (PDF, JPEG or PNG)")
    } else if g.letter.len() > max || g.face.len() > max {
        bad("文件过大", "file too large")
    } else if sniff(&g.letter).is_none() {
        bad("授权书只能是 PDF、JPEG 或 PNG 文件", "the letter must be a PDF, JPEG or PNG file")
    } else if !g.face.is_empty() && !matches!(sniff(&g.face), Some("image/jpeg" | "image/png")) {
        bad("人脸照片只能是 JPEG 或 PNG", "the face photo must be a JPEG or PNG")
    } else if g.real_name.is_empty() {
        bad(
            "请填写实名认证方式（如“身份证+人脸”）",
            "say how the real name was verified (e.g. ID card + face)",
        )
    } else if !g.until.is_empty() && custody_core::calendar::end_of_day_cst(&g.until).is_none() {
        bad("有效期格式应为 YYYY-MM-DD", "valid until must be YYYY-MM-DD")
    } else {
        None
    };
    if problem.is_some() {
        return person_page(&state, &u, &back, problem).await;
    }
    let person = parse_id(&g.person, lang)?;
    let role: PersonRole = parse_enum(&g.role, lang, "角色", "role")?;
    let project = if g.project.is_empty() { None } else { Some(parse_id(&g.project, lang)?) };
    let grant_id =
        if g.grant.is_empty() { format!("G-{}-{}", person, &random_token()[..6]) } else { g.grant.clone() };
    let grant_id = parse_id(&grant_id, lang)?;
    let until = if g.until.is_empty() { None } else { custody_core::calendar::end_of_day_cst(&g.until) };
    let (st, gid, granted) = (state.clone(), grant_id.to_string(), person.clone());
    let out = tokio::task::spawn_blocking(move || {
        let letter_type = sniff(&g.letter).unwrap_or("application/octet-stream");
        let face_type = sniff(&g.face).unwrap_or("image/jpeg");
        let face = (!g.face.is_empty()).then_some((g.face.as_slice(), face_type));
        admin_of(&st).grant(
            grant_id,
            person,
            project,
            role,
            (&g.letter, letter_type),
            g.real_name.clone(),
            face,
            until,
        )
    })
    .await
    .map_err(|e| Deny::internal(lang, e))?;
    match out {
        Ok(o) => {
            log(&state, &u, "grant", &gid, &o.id.to_hex()).await?;
            // A reference photo arriving after the person's records: the
            // server re-checks their faces against it now (R1, R7).
            crate::face_recheck::recheck_async(&state, crate::store::face_rechecks::Pending::Author(granted))
                .await;
            Ok(Redirect::to(&paths::fill(paths::ADMIN_PERSON, &back)).into_response())
        }
        Err(e) => person_page(&state, &u, &back, Some(refusal(&e))).await,
    }
}

#[derive(Deserialize)]
pub struct ReasonForm {
    pub csrf: String,
    pub reason: String,
    #[serde(default)]
    pub back: String,
}

/// R1: withdraw a grant, with the reason; it takes effect on the phones'
/// next sync, and the person's page shows who did it and why.
pub async fn revoke_grant(
    State(state): State<AppState>,
    u: AdminUser,
    Path(id): Path<String>,
    Form(f): Form<ReasonForm>,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    check_csrf(&u.0.session, &f.csrf, lang)?;
    let reason = f.reason.trim().to_owned();
    if reason.is_empty() {
        return person_page(
            &state,
            &u,
            &f.back,
            Some(("请填写撤销原因".into(), "give the reason for revoking".into())),
        )
        .await;
    }
    let gid = parse_id(&id, lang)?;
    let (st, r) = (state.clone(), reason.clone());
    let out = tokio::task::spawn_blocking(move || admin_of(&st).revoke_grant(gid, r))
        .await
        .map_err(|e| Deny::internal(lang, e))?;
    match out {
        Ok(_) => {
            log(&state, &u, "revoke_grant", &id, &reason).await?;
            Ok(Redirect::to(&paths::fill(paths::ADMIN_PERSON, &f.back)).into_response())
        }
        Err(e) => person_page(&state, &u, &f.back, Some(refusal(&e))).await,
    }
}

#[derive(Template)]
#[template(path = "console/admin/enroll.html")]
struct EnrollPage {
    c: Chrome,
    name: String,
    qr_svg: String,
    code: String,
    expires: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// A one-time enrollment QR for a person's phone (shown once, logged).
pub async fn enroll(
    State(state): State<AppState>,
    u: AdminUser,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    check_csrf(&u.0.session, &f.csrf, lang)?;
    let pid = parse_id(&id, lang)?;
    let url = state.public_url(None);
    let (st, p) = (state.clone(), pid.clone());
    let offer = tokio::task::spawn_blocking(move || {
        admin_of(&st).enrollment_offer(&p, 24 * 3_600_000, &url, st.tls_cert_sha256)
    })
    .await
    .map_err(|e| Deny::internal(lang, e))?
    .map_err(|e| Deny::bad(lang, e.message_zh(), e.to_string()))?;
    log(&state, &u, "enroll_code", pid.as_str(), "24 h").await?;
    let c = Chrome::for_user(&u.0, "设备注册二维码", "Enrollment QR");
    Ok(render(&EnrollPage {
        c,
        name: offer.person_name.clone(),
        qr_svg: qr_svg(&offer.to_qr()),
        code: offer.code.clone(),
        expires: when(offer.expires_ms),
    }))
}

// ---------------------------------------------------------------- devices

#[derive(Template)]
#[template(path = "console/admin/devices.html")]
struct Devices {
    c: Chrome,
    devices: Vec<(DeviceLine, String, String)>,
}

pub async fn devices(State(state): State<AppState>, u: AdminUser) -> Result<Response, Deny> {
    let devices = state
        .store
        .read_async(|tx| {
            let mut out = Vec::new();
            for d in tx.devices()? {
                let name = tx.person(&d.person)?.map(|p| p.name).unwrap_or_default();
                let person = d.person.to_string();
                out.push((
                    DeviceLine {
                        key: d.key.to_b64(),
                        fingerprint: d.key.fingerprint(),
                        label: d.label,
                        enrolled: when(d.enrolled_ms),
                        revoked: d.revoked_ms.map(when),
                    },
                    person,
                    name,
                ));
            }
            Ok(out)
        })
        .await?;
    Ok(render(&Devices { c: Chrome::for_user(&u.0, "设备", "Devices"), devices }))
}

/// Revoke a lost or replaced phone: its records after now are not its person's.
pub async fn revoke_device(
    State(state): State<AppState>,
    u: AdminUser,
    Path(key): Path<String>,
    Form(f): Form<ReasonForm>,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    check_csrf(&u.0.session, &f.csrf, lang)?;
    let k: custody_core::PublicKey =
        key.parse().map_err(|_| Deny::bad(lang, "设备公钥格式错误", "malformed device key"))?;
    let reason = f.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(Deny::bad(lang, "请填写注销原因", "give the reason"));
    }
    let (st, r) = (state.clone(), reason.clone());
    tokio::task::spawn_blocking(move || admin_of(&st).revoke_device(k, r))
        .await
        .map_err(|e| Deny::internal(lang, e))?
        .map_err(|e| Deny::bad(lang, e.message_zh(), e.to_string()))?;
    log(&state, &u, "revoke_device", &k.fingerprint(), &reason).await?;
    let back = if f.back.is_empty() {
        paths::ADMIN_DEVICES.to_owned()
    } else {
        paths::fill(paths::ADMIN_PERSON, &f.back)
    };
    Ok(Redirect::to(&back).into_response())
}

// ---------------------------------------------------------------- sites, tags, labs

#[derive(Template)]
#[template(path = "console/admin/projects.html")]
struct Sites {
    c: Chrome,
    projects: Vec<(Project, Vec<UnitProject>)>,
    owners: Vec<Organisation>,
    suppliers: Vec<Organisation>,
    labs: Vec<Organisation>,
    kinds: Vec<(String, &'static str)>,
    error: Option<(String, String)>,
}

async fn sites_page(
    state: &AppState,
    u: &AdminUser,
    error: Option<(String, String)>,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    let (projects, orgs) = state
        .store
        .read_async(|tx| {
            let mut projects = Vec::new();
            for p in tx.projects()? {
                let units = tx.unit_projects_of(&p.id)?;
                projects.push((p, units));
            }
            Ok((projects, tx.orgs()?))
        })
        .await?;
    let of = |r: OrgRole| orgs.iter().filter(|o| o.role == r).cloned().collect::<Vec<_>>();
    let kinds = SpecimenKind::ALL
        .iter()
        .map(|k| (enum_name(k), if lang == Lang::En { k.name_en() } else { k.name_zh() }))
        .collect();
    let c = Chrome::for_user(&u.0, "项目登记", "Sites");
    Ok(render(&Sites {
        c,
        owners: of(OrgRole::Owner),
        suppliers: of(OrgRole::TagSupplier),
        labs: of(OrgRole::Lab),
        projects,
        kinds,
        error,
    }))
}

pub async fn projects(State(state): State<AppState>, u: AdminUser) -> Result<Response, Deny> {
    sites_page(&state, &u, None).await
}

/// Run an admin operation; on refusal show the sites page with the reason.
async fn on_sites<T: Send + 'static>(
    state: &AppState,
    u: &AdminUser,
    action: &str,
    target: &str,
    op: impl FnOnce(&Admin<'_>) -> Result<T, AdminError> + Send + 'static,
    to: String,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    let st = state.clone();
    match tokio::task::spawn_blocking(move || op(&admin_of(&st)))
        .await
        .map_err(|e| Deny::internal(lang, e))?
    {
        Ok(_) => {
            log(state, u, action, target, "").await?;
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => sites_page(state, u, Some(refusal(&e))).await,
    }
}

#[derive(Deserialize)]
pub struct ProjectForm {
    pub csrf: String,
    pub id: String,
    pub name: String,
    pub owner: String,
    pub jurisdiction: String,
}

pub async fn add_project(
    State(state): State<AppState>,
    u: AdminUser,
    Form(f): Form<ProjectForm>,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    check_csrf(&u.0.session, &f.csrf, lang)?;
    let code = f.jurisdiction.trim().to_owned();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return sites_page(
            &state,
            &u,
            Some((
                "管辖区域应为 6 位行政区划代码（如 210802）".into(),
                "the jurisdiction is a 6-digit division code (e.g. 210802)".into(),
            )),
        )
        .await;
    }
    let p = Project {
        id: parse_id(&f.id, lang)?,
        name: f.name.trim().to_owned(),
        owner: parse_id(&f.owner, lang)?,
        jurisdiction: code,
    };
    let (id, to) = (p.id.to_string(), paths::fill(paths::PROJECT, p.id.as_str()));
    on_sites(&state, &u, "add_project", &id, move |a| a.add_project(p), to).await
}

#[derive(Deserialize)]
pub struct UnitForm {
    pub csrf: String,
    pub id: String,
    pub project: String,
    pub name: String,
    pub datum: String,
    pub geojson: String,
}

/// A unit project and its site boundary, imported from GeoJSON or corner
/// points copied from a map's coordinate picker, in the datum the map tool
/// used (WGS-84, GCJ-02 for AMap/Tencent, BD-09 for Baidu).
pub async fn add_unit(
    State(state): State<AppState>,
    u: AdminUser,
    Form(f): Form<UnitForm>,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    check_csrf(&u.0.session, &f.csrf, lang)?;
    let datum: Datum = parse_enum(&f.datum, lang, "坐标系", "datum")?;
    let boundary = match custody_core::geojson::site_boundary_text(&f.geojson, datum) {
        Ok(b) => b,
        Err(e) => return sites_page(&state, &u, Some((e.message_zh, e.message_en))).await,
    };
    let unit = UnitProject {
        id: parse_id(&f.id, lang)?,
        project: parse_id(&f.project, lang)?,
        name: f.name.trim().to_owned(),
        boundary,
    };
    let (id, to) = (unit.id.to_string(), paths::fill(paths::PROJECT, unit.project.as_str()));
    on_sites(&state, &u, "add_unit", &id, move |a| a.add_unit_project(unit), to).await
}

#[derive(Deserialize)]
pub struct TagsForm {
    pub csrf: String,
    pub supplier_org: String,
    pub project: String,
    pub supplier: u16,
    pub year: u8,
    pub batch: u16,
    pub ranges: String,
}

/// R15, R16: a supplier's batch of tags for a project.
pub async fn add_tags(
    State(state): State<AppState>,
    u: AdminUser,
    Form(f): Form<TagsForm>,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    check_csrf(&u.0.session, &f.csrf, lang)?;
    let mut ranges = Vec::new();
    for r in f.ranges.split([',', '，', '\n']).map(str::trim).filter(|r| !r.is_empty()) {
        let (a, b) = r.split_once('-').unwrap_or((r, r));
        let (Ok(first), Ok(last)) = (a.trim().parse(), b.trim().parse()) else {
            return sites_page(
                &state,
                &u,
                Some((format!("号段格式应为 起-止：{r}"), format!("a range is FIRST-LAST: {r}"))),
            )
            .await;
        };
        ranges.push(SerialRange { first, last });
    }
    let batch = TagBatch {
        key: BatchKey { supplier: f.supplier, year: f.year, batch: f.batch },
        supplier_org: parse_id(&f.supplier_org, lang)?,
        project: parse_id(&f.project, lang)?,
        ranges,
    };
    let to = paths::fill(paths::PROJECT, batch.project.as_str());
    let target = format!("{:04}-{:02}-{:04}", f.supplier, f.year, f.batch);
    on_sites(&state, &u, "register_tags", &target, move |a| a.register_tags(batch), to).await
}

/// R2: commission a lab for a unit project and test categories (the form
/// sends `kinds` once per ticked box).
pub async fn assign_lab(
    State(state): State<AppState>,
    u: AdminUser,
    body: axum::body::Bytes,
) -> Result<Response, Deny> {
    let lang = u.0.client.lang;
    let fields: Vec<(String, String)> = form_pairs(&body);
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    check_csrf(&u.0.session, &get("csrf"), lang)?;
    let mut kinds = Vec::new();
    for (_, v) in fields.iter().filter(|(n, _)| n == "kinds") {
        kinds.push(parse_enum::<SpecimenKind>(v, lang, "样品类型", "specimen kind")?);
    }
    if kinds.is_empty() {
        return sites_page(
            &state,
            &u,
            Some(("请至少选择一类检测".into(), "choose at least one test category".into())),
        )
        .await;
    }
    let a = LabAssignment {
        project: parse_id(&get("project"), lang)?,
        unit_project: parse_id(&get("unit"), lang)?,
        lab: parse_id(&get("lab"), lang)?,
        kinds,
    };
    let (to, target) =
        (paths::fill(paths::PROJECT, a.project.as_str()), format!("{} → {}", a.unit_project, a.lab));
    on_sites(&state, &u, "assign_lab", &target, move |ad| ad.assign_lab(a), to).await
}

/// `application/x-www-form-urlencoded` pairs, repeated names kept.
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &str| -> String {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && i + 2 < bytes.len()
                && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_known_by_their_bytes_not_their_name() {
        assert_eq!(sniff(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"<html><script>"), None);
    }

    #[test]
    fn forms_keep_repeated_fields_and_decode_chinese() {
        let f = form_pairs("kinds=concrete_cube&kinds=rebar&name=%E7%8E%8B+%E5%BC%BA".as_bytes());
        assert_eq!(f[0], ("kinds".into(), "concrete_cube".into()));
        assert_eq!(f[1].1, "rebar");
        assert_eq!(f[2].1, "王 强");
    }
}
