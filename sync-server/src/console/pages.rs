//! What signed-in people read: their projects, the records of those
//! projects with every piece of evidence, a tag's trail, the violations of
//! their scope, their own account. Every list, detail, export and file goes
//! through the same [`Scope`] (`custody_core::access::console_project`).

use super::map::{MapPoint, Tiles, svg};
use super::scope::Scope;
use super::session::User;
use super::view::{Chrome, Deny, render, when, when_opt};
use super::{audit, paths};
use crate::AppState;
use crate::facts::media_references;
use crate::ingest::{decode_stored, stored_verdict};
use crate::store::{RecordRow, StoreError, Tx};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use custody_core::access::{self, ProjectScope};
use custody_core::model::{Id, Project, UnitProject};
use custody_core::protocol::{Finding, RecordStatus};
use custody_core::record::{MediaPurpose, Payload};
use custody_core::verify::Lang;
use custody_core::{Hash, TagCode};
use serde::Deserialize;

/// A record as a list shows it.
pub struct RecordLine {
    pub id: String,
    pub short: String,
    pub log_index: u64,
    pub when: String,
    pub kind: String,
    pub kind_zh: String,
    pub status: &'static str,
    pub project: String,
    pub author: String,
    pub tags: String,
}

fn status_name(s: RecordStatus) -> &'static str {
    match s {
        RecordStatus::Accepted => "accepted",
        RecordStatus::Refused => "refused",
        RecordStatus::Deferred => "deferred",
        RecordStatus::Rejected => "rejected",
    }
}

/// A finding as a page shows it, in the reader's language.
pub struct FindingLine {
    pub code: String,
    pub rule: String,
    pub disposition: String,
    pub text: String,
}

pub fn finding_line(f: &Finding, lang: Lang) -> FindingLine {
    FindingLine {
        code: f.code.clone(),
        rule: serde_json::to_value(f.rule)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        disposition: serde_json::to_value(f.disposition)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        text: if lang == Lang::En { f.message_en.clone() } else { f.message_zh.clone() },
    }
}

fn line(tx: &mut dyn Tx, row: &RecordRow) -> crate::store::Result<RecordLine> {
    let rec = decode_stored(row)?;
    let body = rec.body();
    let author = tx.person(&body.author)?.map(|p| p.name).unwrap_or_else(|| body.author.to_string());
    Ok(RecordLine {
        id: row.id.to_hex(),
        short: row.id.to_hex()[..12].to_owned(),
        log_index: row.log_index,
        when: when(row.first_seen_ms),
        kind: row.kind.clone(),
        kind_zh: body.kind().name_zh().to_owned(),
        status: status_name(row.status),
        project: row.project.clone().unwrap_or_default(),
        author,
        tags: body.payload.tags().iter().map(|t| t.printed()).collect::<Vec<_>>().join("，"),
    })
}

// ---------------------------------------------------------------- home

#[derive(Template)]
#[template(path = "console/home.html")]
struct Home {
    c: Chrome,
    projects: usize,
    records: Vec<RecordLine>,
    violations: Vec<ViolationLine>,
}

pub async fn home(State(state): State<AppState>, u: User) -> Result<Response, Deny> {
    let (viewer, now, lang) = (u.viewer.clone(), state.now(), u.client.lang);
    let (projects, records, violations) = state
        .store
        .read_async(move |tx| {
            let scope = Scope::of(tx, &viewer, now)?;
            let filter = scope.record_filter();
            let rows = tx.console_records(filter.as_deref(), None, None, 10)?;
            let records = rows.iter().map(|r| line(tx, r)).collect::<crate::store::Result<Vec<_>>>()?;
            let violations = violation_lines(tx, &scope, None, 10, lang)?;
            Ok((scope.projects.len(), records, violations))
        })
        .await?;
    Ok(render(&Home { c: Chrome::for_user(&u, "首页", "Home"), projects, records, violations }))
}

// ---------------------------------------------------------------- projects

pub struct ProjectLine {
    pub id: String,
    pub name: String,
    pub jurisdiction: String,
    pub owner: String,
}

#[derive(Template)]
#[template(path = "console/projects.html")]
struct Projects {
    c: Chrome,
    projects: Vec<ProjectLine>,
}

fn project_lines(tx: &mut dyn Tx, scopes: &[ProjectScope]) -> crate::store::Result<Vec<ProjectLine>> {
    let mut out = Vec::with_capacity(scopes.len());
    for s in scopes {
        let Some(p) = tx.project(&s.project)? else { continue };
        let owner = tx.org(&p.owner)?.map(|o| o.name).unwrap_or_else(|| p.owner.to_string());
        out.push(ProjectLine { id: p.id.to_string(), name: p.name, jurisdiction: p.jurisdiction, owner });
    }
    Ok(out)
}

pub async fn projects(State(state): State<AppState>, u: User) -> Result<Response, Deny> {
    let (viewer, now) = (u.viewer.clone(), state.now());
    let projects = state
        .store
        .read_async(move |tx| {
            let scope = Scope::of(tx, &viewer, now)?;
            project_lines(tx, &scope.projects)
        })
        .await?;
    Ok(render(&Projects { c: Chrome::for_user(&u, "项目", "Projects"), projects }))
}

pub struct UnitLine {
    pub id: String,
    pub name: String,
    pub map: String,
}

pub struct LabLine {
    pub unit: String,
    pub lab: String,
    pub kinds: String,
}

pub struct PersonGrantLine {
    pub person: String,
    pub name: String,
    pub role: String,
    pub state_zh: &'static str,
    pub state_en: &'static str,
}

#[derive(Template)]
#[template(path = "console/project.html")]
struct ProjectPage {
    c: Chrome,
    project: Project,
    owner: String,
    units: Vec<UnitLine>,
    labs: Vec<LabLine>,
    batches: Vec<String>,
    people: Vec<PersonGrantLine>,
    records: Vec<RecordLine>,
}

pub(super) fn not_yours(lang: Lang) -> Deny {
    Deny::page(
        lang,
        StatusCode::FORBIDDEN,
        "该项目不在您可查看的范围内（R18）",
        "this project is outside what you may see (R18)",
    )
}

/// A unit project's boundary as an SVG map.
fn unit_map(u: &UnitProject, tiles: Option<&Tiles>) -> String {
    let mut rings = vec![u.boundary.exterior.clone()];
    rings.extend(u.boundary.holes.iter().cloned());
    svg(&u.name, &[rings], &[], tiles)
}

pub async fn project(
    State(state): State<AppState>,
    u: User,
    Path(id): Path<String>,
) -> Result<Response, Deny> {
    let lang = u.client.lang;
    let pid = Id::new(id).map_err(|_| Deny::not_found(lang))?;
    let (viewer, now, tiles) = (u.viewer.clone(), state.now(), state.config.console.tiles());
    let page = state
        .store
        .read_async(move |tx| {
            let scope = Scope::of(tx, &viewer, now)?;
            if scope.project(&pid).is_none() {
                return Ok(None);
            }
            let Some(project) = tx.project(&pid)? else { return Ok(None) };
            let owner = tx.org(&project.owner)?.map(|o| o.name).unwrap_or_default();
            let units: Vec<UnitLine> = tx
                .unit_projects_of(&pid)?
                .iter()
                .map(|u| UnitLine {
                    id: u.id.to_string(),
                    name: u.name.clone(),
                    map: unit_map(u, tiles.as_ref()),
                })
                .collect();
            let mut labs = Vec::new();
            for a in tx.lab_assignments_of(&pid)? {
                let lab = tx.org(&a.lab)?.map(|o| o.name).unwrap_or_else(|| a.lab.to_string());
                let kinds = a
                    .kinds
                    .iter()
                    .map(|k| if lang == Lang::En { k.name_en() } else { k.name_zh() })
                    .collect::<Vec<_>>()
                    .join("、");
                labs.push(LabLine { unit: a.unit_project.to_string(), lab, kinds });
            }
            let batches = tx
                .batches_of(&pid)?
                .iter()
                .map(|b| {
                    let ranges = b
                        .ranges
                        .iter()
                        .map(|r| format!("{}–{}", r.first, r.last))
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!("{:04}-{:02}-{:04}: {ranges}", b.key.supplier, b.key.year, b.key.batch)
                })
                .collect();
            let mut people = Vec::new();
            for g in tx.grants_on(&pid)? {
                let name = tx.person(&g.person)?.map(|p| p.name).unwrap_or_default();
                let (state_zh, state_en) = match (g.revoked_ms, g.valid_until_ms) {
                    (Some(_), _) => ("已撤销", "revoked"),
                    (None, Some(u)) if u <= now => ("已过期", "expired"),
                    _ => ("有效", "in force"),
                };
                people.push(PersonGrantLine {
                    person: g.person.to_string(),
                    name,
                    role: serde_json::to_value(g.role)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    state_zh,
                    state_en,
                });
            }
            let rows = tx.console_records(Some(&[pid.to_string()]), None, None, 20)?;
            let records = rows.iter().map(|r| line(tx, r)).collect::<crate::store::Result<Vec<_>>>()?;
            Ok(Some((project, owner, units, labs, batches, people, records)))
        })
        .await?;
    let Some((project, owner, units, labs, batches, people, records)) = page else {
        return Err(not_yours(lang));
    };
    let c = Chrome::for_user(&u, project.name.clone(), project.name.clone());
    Ok(render(&ProjectPage { c, project, owner, units, labs, batches, people, records }))
}

// ---------------------------------------------------------------- records

#[derive(Deserialize, Default)]
pub struct RecordQuery {
    pub project: Option<String>,
    pub kind: Option<String>,
    pub before: Option<u64>,
}

#[derive(Template)]
#[template(path = "console/records.html")]
struct Records {
    c: Chrome,
    records: Vec<RecordLine>,
    project: String,
    /// The kind filter's options: value, Chinese, English, chosen.
    kinds: Vec<(&'static str, &'static str, &'static str, bool)>,
    older: Option<String>,
    csv: String,
}

const KINDS: [(&str, &str, &str); 8] = [
    ("sampling", "取样", "sampling"),
    ("witnessing", "见证", "witnessing"),
    ("commission", "委托", "commission"),
    ("lab_receipt", "收样", "lab receipt"),
    ("test_data", "检测数据", "test data"),
    ("test_reviewed", "检测数据审核", "test data reviewed"),
    ("report", "检测报告", "report"),
    ("report_revoked", "撤销报告", "report revoked"),
];

const PAGE: u32 = 50;

/// The scoped records a list or export shows.
fn scoped_records(
    tx: &mut dyn Tx,
    scope: &Scope,
    q: &RecordQuery,
    limit: u32,
) -> crate::store::Result<Option<Vec<RecordRow>>> {
    let kind = q.kind.as_deref().filter(|k| !k.is_empty());
    let filter = match q.project.as_deref().filter(|p| !p.is_empty()) {
        Some(p) if !scope.has(Some(p)) => return Ok(None),
        Some(p) => Some(vec![p.to_owned()]),
        None => scope.record_filter(),
    };
    Ok(Some(tx.console_records(filter.as_deref(), kind, q.before, limit)?))
}

fn query_string(q: &RecordQuery) -> String {
    let mut parts = Vec::new();
    if let Some(p) = q.project.as_deref().filter(|p| !p.is_empty()) {
        parts.push(format!("project={}", super::view::urlencode(p)));
    }
    if let Some(k) = q.kind.as_deref().filter(|k| !k.is_empty()) {
        parts.push(format!("kind={}", super::view::urlencode(k)));
    }
    parts.join("&")
}

pub async fn records(
    State(state): State<AppState>,
    u: User,
    Query(q): Query<RecordQuery>,
) -> Result<Response, Deny> {
    let lang = u.client.lang;
    let (viewer, now) = (u.viewer.clone(), state.now());
    let qs = query_string(&q);
    let lines = state
        .store
        .read_async(move |tx| {
            let scope = Scope::of(tx, &viewer, now)?;
            let Some(rows) = scoped_records(tx, &scope, &q, PAGE)? else { return Ok(None) };
            Ok(Some((rows.iter().map(|r| line(tx, r)).collect::<crate::store::Result<Vec<_>>>()?, q)))
        })
        .await?;
    let Some((records, q)) = lines else { return Err(not_yours(lang)) };
    let older = (records.len() == PAGE as usize)
        .then(|| records.last().map(|r| format!("{}?{qs}&before={}", paths::RECORDS, r.log_index)))
        .flatten();
    let c = Chrome::for_user(&u, "记录", "Records");
    let csv = format!("{}?{qs}", paths::RECORDS_CSV);
    let kind = q.kind.unwrap_or_default();
    let kinds = KINDS.iter().map(|(v, zh, en)| (*v, *zh, *en, kind == *v)).collect();
    Ok(render(&Records { c, records, project: q.project.unwrap_or_default(), kinds, older, csv }))
}

/// A CSV field, quoted.
pub(super) fn csv(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The same records as the list, as CSV (UTF-8 with a BOM, so Excel reads
/// Chinese): the export is scoped exactly like the page, and logged.
pub async fn records_csv(
    State(state): State<AppState>,
    u: User,
    Query(q): Query<RecordQuery>,
) -> Result<Response, Deny> {
    let lang = u.client.lang;
    let (viewer, now, who, ip) = (u.viewer.clone(), state.now(), u.audit_name(), u.client.ip.clone());
    let detail = query_string(&q);
    let out = state
        .store
        .write_async(move |tx| {
            let scope = Scope::of(tx, &viewer, now)?;
            let Some(rows) = scoped_records(tx, &scope, &q, 10_000)? else { return Ok(None) };
            let mut text =
                String::from("\u{feff}log_index,first_seen,kind,status,project,author,tags,id\r\n");
            for r in &rows {
                let l = line(tx, r)?;
                text.push_str(&format!(
                    "{},{},{},{},{},{},{},{}\r\n",
                    l.log_index,
                    csv(&l.when),
                    csv(&l.kind),
                    l.status,
                    csv(&l.project),
                    csv(&l.author),
                    csv(&l.tags),
                    l.id
                ));
            }
            audit(
                tx,
                now,
                &who,
                "export_records",
                "records.csv",
                &format!("{detail} ({} rows)", rows.len()),
                &ip,
            )?;
            Ok(Some(text))
        })
        .await?;
    let text = out.ok_or_else(|| not_yours(lang))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"records.csv\""),
        ],
        text,
    )
        .into_response())
}

pub struct MediaLine {
    pub sha: String,
    pub short: String,
    pub purpose: String,
    pub media_type: String,
    pub size: u64,
    pub complete: bool,
    /// Linked (and shown, for pictures) only when the reader may open it.
    pub href: Option<String>,
    pub picture: bool,
}

#[derive(Template)]
#[template(path = "console/record.html")]
struct RecordPage {
    c: Chrome,
    line: RecordLine,
    device: String,
    seq: u64,
    claimed: String,
    proven: String,
    findings: Vec<FindingLine>,
    media: Vec<MediaLine>,
    map: String,
    cosigners: Vec<String>,
    receipt: String,
    envelope: String,
    tags: Vec<String>,
}

/// The record's files, each linked only when the reader may open it.
fn record_media(
    tx: &mut dyn Tx,
    row: &RecordRow,
    viewer: &access::Viewer,
    author: &Id,
) -> crate::store::Result<Vec<MediaLine>> {
    let mut media = Vec::new();
    for (m, complete) in tx.media_of_record(&row.id)? {
        let allowed =
            if m.purpose == MediaPurpose::Face { access::face_photo(viewer, author).is_ok() } else { true };
        media.push(MediaLine {
            sha: m.sha256.to_hex(),
            short: m.sha256.to_hex()[..12].to_owned(),
            purpose: m.purpose.name(),
            media_type: m.media_type.clone(),
            size: m.size,
            complete,
            href: (allowed && complete).then(|| paths::fill(paths::MEDIA, &m.sha256.to_hex())),
            picture: m.media_type.starts_with("image/"),
        });
    }
    Ok(media)
}

/// The record's fixes on a map, inside its unit project's site for a sampling.
fn record_map(
    tx: &mut dyn Tx,
    body: &custody_core::RecordBody,
    tiles: Option<&Tiles>,
) -> crate::store::Result<String> {
    let mut points: Vec<MapPoint> = body
        .evidence
        .fixes
        .iter()
        .map(|f| MapPoint {
            pos: f.pos,
            accuracy_m: f.accuracy_m(),
            label: format!("{}{}", if f.mock { "⚠ " } else { "" }, body.kind().name_zh()),
            class: if f.mock { "mock" } else { "fix" },
        })
        .collect();
    points.truncate(50);
    let unit = match &body.payload {
        Payload::Sampling(s) => tx.unit_project(&s.unit_project)?,
        _ => None,
    };
    let boundary: Vec<Vec<Vec<custody_core::place::LatLon>>> = unit
        .iter()
        .map(|u| {
            std::iter::once(u.boundary.exterior.clone()).chain(u.boundary.holes.iter().cloned()).collect()
        })
        .collect();
    Ok(if points.is_empty() && boundary.is_empty() {
        String::new()
    } else {
        svg("定位 / fixes", &boundary, &points, tiles)
    })
}

pub async fn record(
    State(state): State<AppState>,
    u: User,
    Path(id): Path<String>,
) -> Result<Response, Deny> {
    let lang = u.client.lang;
    let id: Hash = id.parse().map_err(|_| Deny::not_found(lang))?;
    let (viewer, now, key, server) = (u.viewer.clone(), state.now(), state.key.clone(), state.key.public());
    let tiles = state.config.console.tiles();
    let page = state
        .store
        .write_async(move |tx| {
            let Some(row) = tx.record(&id)? else { return Ok(None) };
            let scope = Scope::of(tx, &viewer, now)?;
            if !scope.has(row.project.as_deref()) {
                return Ok(Some(Err(())));
            }
            let rec = decode_stored(&row)?;
            let verdict = stored_verdict(&row)?;
            let body = rec.body();
            let mut cosigners = Vec::new();
            for c in rec.cosigs() {
                let name = tx.person(&c.author)?.map(|p| p.name).unwrap_or_else(|| c.author.to_string());
                cosigners.push(format!("{name} ({})", c.device.fingerprint()));
            }
            let checkpoint = crate::logtree::checkpoint(tx, &key, now)?;
            let receipt = crate::logtree::receipt(tx, &row.id, row.log_index, &checkpoint)?;
            let ok = if receipt.verify(&[server]).is_ok() { "✓" } else { "✗" };
            let claimed = verdict
                .time
                .as_ref()
                .map(|t| when((t.claimed.earliest_ms + t.claimed.latest_ms) / 2))
                .unwrap_or_default();
            Ok(Some(Ok(RecordPage {
                // Set below, from the reader.
                c: Chrome::public(lang, "", ""),
                line: line(tx, &row)?,
                device: body.device.fingerprint(),
                seq: body.seq,
                claimed,
                proven: format!("{} — {}", when_opt(row.earliest_ms), when_opt(row.latest_ms)),
                findings: verdict.violations.iter().map(|v| finding_line(&Finding::from(v), lang)).collect(),
                media: record_media(tx, &row, &viewer, &body.author)?,
                map: record_map(tx, body, tiles.as_ref())?,
                cosigners,
                receipt: format!("#{} / {} · {ok}", row.log_index, checkpoint.checkpoint.size),
                envelope: serde_json::from_slice::<serde_json::Value>(&row.envelope)
                    .map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
                    .unwrap_or_default(),
                tags: body.payload.tags().iter().map(|t| t.to_string()).collect(),
            })))
        })
        .await?;
    match page {
        None => Err(Deny::not_found(lang)),
        Some(Err(())) => Err(not_yours(lang)),
        Some(Ok(mut page)) => {
            let short = page.line.short.clone();
            page.c = Chrome::for_user(&u, format!("记录 {short}"), format!("Record {short}"));
            Ok(render(&page))
        }
    }
}

/// A media file for the console: scoped like records; a face photo only
/// to its person and admins, and every such view in the face-read log
/// (PIPL, `crate::faces`), written once its bytes are read and before
/// they leave (no log, no photo).
pub async fn media(
    State(state): State<AppState>,
    u: User,
    Path(sha): Path<String>,
) -> Result<Response, Deny> {
    let lang = u.client.lang;
    let sha: Hash = sha.parse().map_err(|_| Deny::not_found(lang))?;
    let (viewer, now) = (u.viewer.clone(), state.now());
    let reader = crate::faces::Reader {
        name: u.audit_name(),
        person: u.account.person.clone(),
        ip: u.client.ip.clone(),
    };
    let decision = state
        .store
        .read_async(move |tx| {
            let Some(m) = tx.media(&sha)? else { return Ok(Err(None)) };
            if !m.complete {
                return Ok(Err(None));
            }
            let refs = media_references(tx, &sha)?;
            let owner = access::media_owner(&refs).cloned();
            let scope = Scope::of(tx, &viewer, now)?;
            let visible = owner.as_ref().is_some_and(|o| scope.has(o.project.as_ref().map(Id::as_str)));
            Ok(match access::console_media(&viewer, &refs, visible) {
                Ok(served) => Ok((served, owner.is_some_and(|o| o.purpose == MediaPurpose::Face))),
                Err(d) => Err(Some(d)),
            })
        })
        .await?;
    let (served, face) = match decision {
        Ok(s) => s,
        Err(None) => return Err(Deny::not_found(lang)),
        Err(Some(d)) => return Err(Deny::forbidden(lang, d)),
    };
    let st = state.clone();
    let bytes = tokio::task::spawn_blocking(move || st.faces.read(&st.store, &st.blobs, &sha))
        .await
        .map_err(|e| Deny::internal(lang, e))?
        .map_err(|e| Deny::internal(lang, e))?;
    if face {
        state
            .store
            .write_async(move |tx| {
                let subject = crate::faces::subject_of(tx, &sha)?;
                crate::faces::log_read(tx, &sha, subject, &reader, crate::faces::Via::Console, now)
            })
            .await?;
    }
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(served));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let disposition = if access::inline_media_type(served) { "inline" } else { "attachment" };
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(disposition));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(resp)
}

// ---------------------------------------------------------------- trails and violations

#[derive(Template)]
#[template(path = "console/tag.html")]
struct TagPage {
    c: Chrome,
    tag: String,
    stage: String,
    ok: bool,
    summary: String,
    checks: Vec<(bool, String)>,
    to_confirm: Vec<FindingLine>,
    records: Vec<RecordLine>,
}

/// A tag's trail with the core's verdict, for whoever sees its project.
pub async fn tag(State(state): State<AppState>, u: User, Path(code): Path<String>) -> Result<Response, Deny> {
    let lang = u.client.lang;
    let tag = TagCode::parse(&code).map_err(|e| Deny::bad(lang, e.message_zh(), e.to_string()))?;
    let (viewer, now, key, server) = (u.viewer.clone(), state.now(), state.key.clone(), state.key.public());
    let t = tag.clone();
    let out = state
        .store
        .write_async(move |tx| {
            let scope = Scope::of(tx, &viewer, now)?;
            let ts = crate::trail::scope_of(tx, &t)?;
            if !scope.everything && ts.project.as_ref().is_none_or(|p| scope.project(p).is_none()) {
                return Ok(None);
            }
            let checkpoint = crate::logtree::checkpoint(tx, &key, now)?;
            let trail = crate::trail::trail(tx, &t, &checkpoint, &server, None)?
                .map_err(|d| StoreError::Conflict(d.message_en))?;
            let mut records = Vec::new();
            for r in &trail.records {
                if let Some(row) = tx.record(&r.id)? {
                    records.push(line(tx, &row)?);
                }
            }
            Ok(Some((trail, records)))
        })
        .await?;
    let (trail, records) = out.ok_or_else(|| not_yours(lang))?;
    let en = lang == Lang::En;
    let page = TagPage {
        c: Chrome::for_user(&u, format!("标识 {}", trail.tag_printed), format!("Tag {}", trail.tag_printed)),
        tag: trail.tag_printed.clone(),
        stage: if en { trail.stage.clone() } else { trail.stage_zh.clone() },
        ok: trail.ok,
        summary: if en { trail.summary_en.clone() } else { trail.summary_zh.clone() },
        checks: trail
            .checks
            .iter()
            .map(|c| (c.ok, if en { c.message_en.clone() } else { c.message_zh.clone() }))
            .collect(),
        to_confirm: trail.to_confirm.iter().map(|f| finding_line(f, lang)).collect(),
        records,
    };
    Ok(render(&page))
}

pub struct ViolationLine {
    pub record: String,
    pub short: String,
    pub when: String,
    pub project: String,
    pub finding: FindingLine,
}

fn violation_lines(
    tx: &mut dyn Tx,
    scope: &Scope,
    before: Option<u64>,
    limit: u32,
    lang: Lang,
) -> crate::store::Result<Vec<ViolationLine>> {
    let mut out = Vec::new();
    for v in tx.console_violations(&scope.violations(), before, limit)? {
        let Some(row) = tx.record(&v.record)? else { continue };
        let f: Finding = serde_json::from_str(&v.finding).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        out.push(ViolationLine {
            record: row.id.to_hex(),
            short: row.id.to_hex()[..12].to_owned(),
            when: when(row.first_seen_ms),
            project: row.project.clone().unwrap_or_default(),
            finding: finding_line(&f, lang),
        });
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "console/violations.html")]
struct Violations {
    c: Chrome,
    violations: Vec<ViolationLine>,
    scope_zh: String,
    scope_en: String,
}

pub async fn violations(State(state): State<AppState>, u: User) -> Result<Response, Deny> {
    let (viewer, now, lang) = (u.viewer.clone(), state.now(), u.client.lang);
    let (violations, scope_zh, scope_en) = state
        .store
        .read_async(move |tx| {
            let scope = Scope::of(tx, &viewer, now)?;
            let (zh, en) = match (&scope.everything, &scope.jurisdiction) {
                (true, _) => ("全部".to_owned(), "everything".to_owned()),
                (false, Some(p)) => (format!("管辖区域 {p}…"), format!("jurisdiction {p}…")),
                (false, None) => (
                    format!("{} 个项目", scope.projects.len()),
                    format!("{} project(s)", scope.projects.len()),
                ),
            };
            Ok((violation_lines(tx, &scope, None, 200, lang)?, zh, en))
        })
        .await?;
    Ok(render(&Violations {
        c: Chrome::for_user(&u, "违规", "Violations"), violations, scope_zh, scope_en
    }))
}

// ---------------------------------------------------------------- the account

pub struct SessionLine {
    pub started: String,
    pub last_seen: String,
    pub ip: String,
    pub agent: String,
    pub this_one: bool,
}

#[derive(Template)]
#[template(path = "console/account.html")]
struct Account {
    c: Chrome,
    login: String,
    kind: String,
    person: String,
    sessions: Vec<SessionLine>,
    /// Who read this person's face photos (PIPL: a person may know who
    /// handled their sensitive personal information).
    face_reads: Vec<super::accounts::FaceReadLine>,
}

pub async fn account(State(state): State<AppState>, u: User) -> Result<Response, Deny> {
    let (id, now, me) = (u.account.id.clone(), state.now(), u.session.token_hash);
    let person = u.account.person.clone();
    let (sessions, face_reads) = state
        .store
        .read_async(move |tx| {
            let sessions = tx
                .console_sessions_of(&id)?
                .into_iter()
                .filter(|s| s.revoked_ms.is_none() && s.expires_ms > now)
                .map(|s| SessionLine {
                    started: when(s.created_ms),
                    last_seen: when(s.last_seen_ms),
                    ip: s.ip,
                    agent: s.agent,
                    this_one: s.token_hash == me,
                })
                .collect::<Vec<_>>();
            let reads = match &person {
                Some(p) => tx.face_reads_of(p, 50)?,
                None => vec![],
            };
            Ok((sessions, reads.into_iter().map(super::accounts::FaceReadLine::of).collect()))
        })
        .await?;
    let c = Chrome::for_user(&u, "我的账号", "My account");
    let kind = serde_json::to_value(u.account.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let person = u.account.person.as_ref().map(|p| p.to_string()).unwrap_or_default();
    Ok(render(&Account { c, login: u.account.login.clone(), kind, person, sessions, face_reads }))
}
