//! The oversight pages (issue 16, R17, R18): every project in the viewer's
//! scope with its witness outcomes, its early warnings (measured figure
//! beside the threshold) and its score, worst first; a project's page with
//! each warning's evidence one click from its records; the same as CSV.
//! The rules and the score are the core's (`custody_core::oversight`);
//! the counts are the tallies the oversight pass keeps (`crate::oversight`).

use super::pages::{csv, not_yours};
use super::scope::Scope;
use super::session::User;
use super::view::{Chrome, Deny, render, when_opt};
use super::{audit, paths};
use crate::AppState;
use crate::store::Tx;
use crate::store::oversight::TallyRow;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use custody_core::model::Id;
use custody_core::oversight::missed::WitnessState;
use custody_core::oversight::project::{
    ProjectSignal, ProjectTally, ProjectThresholds, ProjectWarning, ScoreComponent, odd_hour, project_score,
    project_warnings,
};
use custody_core::protocol::Finding;
use custody_core::verify::Lang;
use std::collections::BTreeMap;

/// One project's tally from the pass's rows.
pub fn tally_of(rows: &[&TallyRow]) -> ProjectTally {
    let mut t = ProjectTally::default();
    for r in rows {
        let n = u64::try_from(r.n).unwrap_or(0);
        if let Some(state) = r.key.strip_prefix("state:") {
            let slot = match state {
                "in_time" => &mut t.in_time,
                "late" => &mut t.late,
                "undetermined" => &mut t.undetermined,
                "missed" => &mut t.missed,
                "pending" => &mut t.pending,
                _ => &mut t.samplings, // open: counted below
            };
            *slot += n;
        } else if let Some(code) = r.key.strip_prefix("finding:") {
            t.findings.insert(code.to_owned(), n);
        } else if r.key == "stale:received" {
            t.received_untested = n;
        } else if r.key == "stale:tested" {
            t.tested_unreported = n;
        } else if r.key == crate::oversight::PLAN_BEHIND_KEY {
            t.plan_items_behind = n;
        } else if let Some(pair) = r.key.strip_prefix("pair:") {
            t.pairs.insert(pair.to_owned(), (n, u64::try_from(r.odd).unwrap_or(0)));
        }
    }
    t.samplings += t.in_time + t.late + t.undetermined + t.missed + t.pending;
    t
}

pub struct WarningLine {
    pub code: &'static str,
    pub rule: String,
    pub title: &'static str,
    pub explain: &'static str,
    pub measured: String,
    pub threshold: String,
    pub about: String,
}

fn figure(signal: ProjectSignal, x: f64) -> String {
    match signal {
        ProjectSignal::WitnessLateOrMissed | ProjectSignal::SamePairOddHours => format!("{:.1}%", x * 100.0),
        _ => format!("{x:.0}"),
    }
}

fn warning_line(w: &ProjectWarning, lang: Lang) -> WarningLine {
    WarningLine {
        code: w.signal.code(),
        rule: format!("{:?}", w.signal.requirement()),
        title: w.signal.title(lang),
        explain: w.signal.explain(lang),
        measured: figure(w.signal, w.measured),
        threshold: figure(w.signal, w.threshold),
        about: w.about.clone(),
    }
}

pub struct ProjectLine {
    pub id: String,
    pub name: String,
    pub jurisdiction: String,
    pub t: ProjectTally,
    pub score: u32,
    pub components: Vec<ComponentLine>,
    pub warnings: Vec<WarningLine>,
}

/// One line of a score, as the page shows it.
pub struct ComponentLine {
    pub code: &'static str,
    pub title: &'static str,
    pub deducted: u32,
    pub measured: String,
    pub threshold: String,
}

fn component_line(c: &ScoreComponent, lang: Lang) -> ComponentLine {
    let fired = c.deducted > 0;
    ComponentLine {
        code: c.signal.code(),
        title: c.signal.title(lang),
        deducted: c.deducted,
        measured: if fired { figure(c.signal, c.measured) } else { "—".into() },
        threshold: if fired { figure(c.signal, c.threshold) } else { "—".into() },
    }
}

/// Every project in scope, worst score first.
pub(super) fn project_lines(
    tx: &mut dyn Tx,
    scope: &Scope,
    th: &ProjectThresholds,
    lang: Lang,
) -> crate::store::Result<Vec<ProjectLine>> {
    let rows = tx.tallies()?;
    let mut by_project: BTreeMap<&str, Vec<&TallyRow>> = BTreeMap::new();
    for r in &rows {
        by_project.entry(r.project.as_str()).or_default().push(r);
    }
    let mut out = Vec::new();
    for p in tx.projects()? {
        if !scope.has(Some(p.id.as_str())) {
            continue;
        }
        let t = tally_of(by_project.get(p.id.as_str()).map(Vec::as_slice).unwrap_or(&[]));
        let warnings = project_warnings(&t, th);
        let (score, components) = project_score(&warnings);
        out.push(ProjectLine {
            id: p.id.to_string(),
            name: p.name,
            jurisdiction: p.jurisdiction,
            t,
            score,
            components: components.iter().map(|c| component_line(c, lang)).collect(),
            warnings: warnings.iter().map(|w| warning_line(w, lang)).collect(),
        });
    }
    out.sort_by(|a, b| a.score.cmp(&b.score).then_with(|| a.id.cmp(&b.id)));
    Ok(out)
}

/// One month (China time) of the scope's samplings.
pub struct MonthLine {
    pub month: String,
    pub samplings: i64,
    /// Witnessed late or never.
    pub flagged: i64,
    pub rate: String,
}

/// The last twelve months with samplings in scope, newest first.
fn month_lines(tx: &mut dyn Tx, scope: &Scope) -> crate::store::Result<Vec<MonthLine>> {
    let mut months: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in tx.tallies()? {
        if let Some(month) = r.key.strip_prefix("month:")
            && scope.has(Some(&r.project))
        {
            let e = months.entry(month.to_owned()).or_default();
            e.0 += r.n;
            e.1 += r.odd;
        }
    }
    Ok(months
        .into_iter()
        .rev()
        .take(12)
        .map(|(month, (samplings, flagged))| MonthLine {
            month,
            samplings,
            flagged,
            rate: if samplings > 0 {
                format!("{:.1}%", 100.0 * flagged as f64 / samplings as f64)
            } else {
                "—".into()
            },
        })
        .collect())
}

/// The months as bars (oldest left): samplings, the part witnessed late or
/// never in the warning colour. SVG drawn here: no script, prints as shown.
fn month_chart(months: &[MonthLine], title: &str) -> String {
    use std::fmt::Write;
    let (w, h, pad) = (640.0_f64, 180.0_f64, 24.0_f64);
    let max = months.iter().map(|m| m.samplings).max().unwrap_or(0).max(1) as f64;
    let n = months.len().max(1) as f64;
    let slot = (w - 2.0 * pad) / n;
    let mut out = format!(
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>"#
    );
    for (i, m) in months.iter().rev().enumerate() {
        let x = pad + i as f64 * slot + slot * 0.15;
        let bw = slot * 0.7;
        let full = (h - 2.0 * pad) * m.samplings as f64 / max;
        let bad = (h - 2.0 * pad) * m.flagged as f64 / max;
        let base = h - pad;
        let _ = write!(
            out,
            r#"<rect class="bar" x="{x:.1}" y="{:.1}" width="{bw:.1}" height="{full:.1}"/><rect class="bar-bad" x="{x:.1}" y="{:.1}" width="{bw:.1}" height="{bad:.1}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            base - full,
            base - bad,
            x,
            h - 6.0,
            &m.month[2..]
        );
    }
    out.push_str("</svg>");
    out
}

/// The projects in scope on a map, one point each (the centre of its first
/// unit's site), coloured by score.
fn projects_map(
    tx: &mut dyn Tx,
    lines: &[ProjectLine],
    tiles: Option<&super::map::Tiles>,
    title: &str,
) -> crate::store::Result<String> {
    let mut points = Vec::new();
    for l in lines {
        let Ok(id) = Id::new(l.id.clone()) else { continue };
        let Some(u) = tx.unit_projects_of(&id)?.into_iter().next() else { continue };
        let ring = &u.boundary.exterior;
        if ring.is_empty() {
            continue;
        }
        let k = ring.len() as f64;
        let (lat, lon) = ring.iter().fold((0.0, 0.0), |(a, b), p| (a + p.lat() / k, b + p.lon() / k));
        let Ok(pos) = custody_core::place::LatLon::from_degrees(lat, lon) else { continue };
        let class = match l.score {
            90.. => "score-ok",
            70..=89 => "score-warn",
            _ => "score-bad",
        };
        points.push(super::map::MapPoint {
            pos,
            accuracy_m: 0.0,
            label: format!("{} · {}", l.id, l.score),
            class,
        });
    }
    Ok(if points.is_empty() { String::new() } else { super::map::svg(title, &[], &points, tiles) })
}

#[derive(Template)]
#[template(path = "console/oversight.html")]
struct Dashboard {
    c: Chrome,
    projects: Vec<ProjectLine>,
    months: Vec<MonthLine>,
    chart: String,
    map: String,
    csv: &'static str,
    events: &'static str,
}

pub async fn dashboard(State(state): State<AppState>, u: User) -> Result<Response, Deny> {
    let (viewer, now, lang) = (u.viewer.clone(), state.now(), u.client.lang);
    let th = state.config.oversight.project.clone();
    let tiles = state.config.console.tiles();
    let zh = lang == Lang::ZhCn;
    let (projects, months, map) = state
        .store
        .read_async(move |tx| {
            let scope = Scope::of(tx, &viewer, now)?;
            let projects = project_lines(tx, &scope, &th, lang)?;
            let months = month_lines(tx, &scope)?;
            let title = if zh { "项目分布与评分" } else { "Projects and their scores" };
            let map = projects_map(tx, &projects, tiles.as_ref(), title)?;
            Ok((projects, months, map))
        })
        .await?;
    let title = if zh {
        "按月取样数与超时或缺少见证数"
    } else {
        "Samplings per month, and those witnessed late or never"
    };
    let chart = if months.is_empty() { String::new() } else { month_chart(&months, title) };
    let c = Chrome::for_user(&u, "监管预警", "Oversight");
    Ok(render(&Dashboard {
        c,
        projects,
        months,
        chart,
        map,
        csv: paths::OVERSIGHT_CSV,
        events: paths::OVERSIGHT_EVENTS,
    }))
}

/// The dashboard as CSV (UTF-8 with a BOM for Excel), scoped like the
/// page, and logged.
pub async fn dashboard_csv(State(state): State<AppState>, u: User) -> Result<Response, Deny> {
    let (viewer, now, lang) = (u.viewer.clone(), state.now(), u.client.lang);
    let (who, ip) = (u.audit_name(), u.client.ip.clone());
    let th = state.config.oversight.project.clone();
    let text = state
        .store
        .write_async(move |tx| {
            let scope = Scope::of(tx, &viewer, now)?;
            let lines = project_lines(tx, &scope, &th, lang)?;
            let mut text = String::from(
                "\u{feff}project,name,jurisdiction,samplings,in_time,late,undetermined,missed,pending,score,warnings\r\n",
            );
            for l in &lines {
                let codes: Vec<&str> = l.warnings.iter().map(|w| w.code).collect();
                text.push_str(&format!(
                    "{},{},{},{},{},{},{},{},{},{},{}\r\n",
                    csv(&l.id),
                    csv(&l.name),
                    csv(&l.jurisdiction),
                    l.t.samplings,
                    l.t.in_time,
                    l.t.late,
                    l.t.undetermined,
                    l.t.missed,
                    l.t.pending,
                    l.score,
                    csv(&codes.join(" "))
                ));
            }
            let detail = format!("{} projects", lines.len());
            audit(tx, now, &who, "export_oversight", "oversight.csv", &detail, &ip)?;
            Ok(text)
        })
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"oversight.csv\""),
        ],
        text,
    )
        .into_response())
}

/// One record (or specimen) behind a warning.
pub struct EvidenceLine {
    /// Where the evidence opens: a record's page, or a tag's trail.
    pub href: String,
    pub short: String,
    pub what: String,
    pub when: String,
}

pub struct WarningEvidence {
    pub w: WarningLine,
    pub evidence: Vec<EvidenceLine>,
}

/// A sampling whose window closed while a witness phone had not synced
/// since: what is known, and who has not synced.
pub struct PendingLine {
    pub sampling: String,
    pub short: String,
    pub closed: String,
    pub phones: String,
}

fn pending_lines(tx: &mut dyn Tx, project: &str) -> crate::store::Result<Vec<PendingLine>> {
    let mut out = Vec::new();
    for w in tx.watches_of(project, &["pending"], EVIDENCE_LIMIT)? {
        let state: Option<WitnessState> = serde_json::from_str(&w.detail).ok();
        let Some(WitnessState::Pending { closes_ms, unsynced, .. }) = state else { continue };
        let phones: Vec<String> = unsynced
            .iter()
            .map(|p| format!("{} ({}, {})", p.person, p.label, when_opt(p.covered_until_ms)))
            .collect();
        out.push(PendingLine {
            sampling: w.sampling.to_hex(),
            short: w.sampling.to_hex()[..12].to_owned(),
            closed: when_opt(Some(closes_ms)),
            phones: phones.join("; "),
        });
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "console/oversight_project.html")]
struct ProjectPage {
    c: Chrome,
    p: ProjectLine,
    warnings: Vec<WarningEvidence>,
    pending: Vec<PendingLine>,
    back: &'static str,
}

const EVIDENCE_LIMIT: u32 = 200;

/// The records behind one warning of `project`.
fn evidence(
    tx: &mut dyn Tx,
    project: &str,
    w: &ProjectWarning,
    (th, plans_policy, now): (&ProjectThresholds, custody_core::plans::progress::ProgressPolicy, i64),
    lang: Lang,
) -> crate::store::Result<Vec<EvidenceLine>> {
    let mut out = Vec::new();
    let line = |id: custody_core::Hash, what: String, at: Option<i64>| EvidenceLine {
        href: paths::fill(paths::RECORD, &id.to_hex()),
        short: id.to_hex()[..12].to_owned(),
        what,
        when: when_opt(at),
    };
    match w.signal {
        ProjectSignal::SamePairOddHours => {
            let states = ["in_time", "late", "undetermined"];
            for r in tx.watches_of(project, &states, EVIDENCE_LIMIT)? {
                let pair = format!("{}/{}", r.sampler, r.witness.clone().unwrap_or_default());
                if pair == w.about && r.latest_ms.is_some_and(odd_hour) {
                    out.push(line(r.sampling, pair, r.latest_ms));
                }
            }
        }
        ProjectSignal::WitnessLateOrMissed => {
            for r in tx.watches_of(project, &["missed", "late"], EVIDENCE_LIMIT)? {
                let what = match (lang, r.state.as_str()) {
                    (Lang::ZhCn, "missed") => "缺少见证".to_owned(),
                    (Lang::ZhCn, _) => "见证超时".to_owned(),
                    (Lang::En, s) => s.to_owned(),
                };
                out.push(line(r.sampling, what, r.latest_ms));
            }
        }
        ProjectSignal::ReceivedNotTested | ProjectSignal::TestedNotReported => {
            let stage = if w.signal == ProjectSignal::ReceivedNotTested { "received" } else { "tested" };
            let before = crate::oversight::stale_before(th, stage, now);
            for (code, at) in tx.stale_specimens_of(project, stage, before, EVIDENCE_LIMIT)? {
                out.push(EvidenceLine {
                    href: paths::fill(paths::TAG, &code),
                    short: code,
                    what: w.signal.title(lang).to_owned(),
                    when: when_opt(Some(at)),
                });
            }
        }
        ProjectSignal::PlanItemsBehind => {
            let pid = Id::new(project).map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?;
            let plans = crate::plans::project_plans(tx, &pid)?;
            let p = crate::plans::progress(tx, &pid, &plans, now, plans_policy)?;
            for item in p.items.iter().filter(|i| i.status.is_finding()).take(EVIDENCE_LIMIT as usize) {
                out.push(EvidenceLine {
                    href: paths::fill(paths::PROJECT_PLANS, project),
                    short: format!("{} {}", item.unit_project, item.item),
                    what: item.finding(lang).unwrap_or_default(),
                    when: String::new(),
                });
            }
        }
        signal => {
            let codes = signal.finding_codes();
            for f in tx.findings_of_project(project, EVIDENCE_LIMIT * 5)? {
                let Ok(finding) = serde_json::from_str::<Finding>(&f.finding) else { continue };
                if codes.contains(&finding.code.as_str()) && out.len() < EVIDENCE_LIMIT as usize {
                    let text = if lang == Lang::ZhCn { finding.message_zh } else { finding.message_en };
                    let first_seen = tx.record(&f.record)?.map(|r| r.first_seen_ms);
                    out.push(line(f.record, text, first_seen));
                }
            }
        }
    }
    Ok(out)
}

pub async fn project(
    State(state): State<AppState>,
    u: User,
    Path(id): Path<String>,
) -> Result<Response, Deny> {
    let (viewer, now, lang) = (u.viewer.clone(), state.now(), u.client.lang);
    let th = state.config.oversight.project.clone();
    let plans_policy = state.config.oversight.plans;
    let id = Id::new(id).map_err(|_| Deny::not_found(lang))?;
    let found = state
        .store
        .read_async(move |tx| {
            let scope = Scope::of(tx, &viewer, now)?;
            if !scope.has(Some(id.as_str())) {
                return Ok(None);
            }
            let Some(mut p) = project_lines(tx, &scope, &th, lang)?.into_iter().find(|l| l.id == id.as_str())
            else {
                return Ok(None);
            };
            let mut warnings = Vec::new();
            for w in project_warnings(&p.t, &th) {
                let evidence = evidence(tx, id.as_str(), &w, (&th, plans_policy, now), lang)?;
                warnings.push(WarningEvidence { w: warning_line(&w, lang), evidence });
            }
            p.warnings.clear();
            let pending = pending_lines(tx, id.as_str())?;
            Ok(Some((p, warnings, pending)))
        })
        .await?;
    let Some((p, warnings, pending)) = found else { return Err(not_yours(lang)) };
    let c = Chrome::for_user(&u, format!("监管预警 · {}", p.name), format!("Oversight · {}", p.name));
    Ok(render(&ProjectPage { c, p, warnings, pending, back: paths::OVERSIGHT }))
}

// ---------------------------------------------------------------- the live feed

/// What the feed has told one browser so far.
struct FeedState {
    state: AppState,
    viewer: custody_core::access::Viewer,
    token_hash: custody_core::Hash,
    lang: Lang,
    /// The last finding sent (only findings stored after the page opened).
    cursor: u64,
    /// Each project's warning codes as last sent (the first poll only
    /// records them).
    warnings: Option<BTreeMap<String, Vec<&'static str>>>,
}

const FEED_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// One poll: findings stored since the cursor and warnings that appeared
/// or cleared, for this viewer's scope; `None` once the session has ended
/// (signed out, expired, revoked: the stream closes with it).
fn feed_poll(
    tx: &mut dyn Tx,
    f: &mut FeedState,
    th: &ProjectThresholds,
    now: i64,
) -> crate::store::Result<Option<Vec<axum::response::sse::Event>>> {
    use axum::response::sse::Event;
    let live =
        tx.console_session(&f.token_hash)?.is_some_and(|s| s.revoked_ms.is_none() && s.expires_ms > now);
    if !live {
        return Ok(None);
    }
    let scope = Scope::of(tx, &f.viewer, now)?;
    let mut out = Vec::new();
    loop {
        let rows = tx.findings_after(f.cursor, 200)?;
        let more = rows.len() == 200;
        for row in rows {
            f.cursor = row.id;
            if !scope.has(row.project.as_deref()) {
                continue;
            }
            let Ok(finding) = serde_json::from_str::<Finding>(&row.finding) else { continue };
            let text = if f.lang == Lang::ZhCn { finding.message_zh } else { finding.message_en };
            let data = serde_json::json!({
                "record": row.record.to_hex(),
                "project": row.project,
                "code": finding.code,
                "rule": finding.rule,
                "text": text,
            });
            out.push(Event::default().event("finding").id(row.id.to_string()).data(data.to_string()));
        }
        if !more {
            break;
        }
    }
    let now_warnings: BTreeMap<String, Vec<&'static str>> = project_lines(tx, &scope, th, f.lang)?
        .into_iter()
        .map(|p| (p.id, p.warnings.iter().map(|w| w.code).collect()))
        .collect();
    if let Some(before) = &f.warnings {
        for (project, codes) in &now_warnings {
            let was = before.get(project).cloned().unwrap_or_default();
            let raised: Vec<&str> = codes.iter().filter(|c| !was.contains(c)).copied().collect();
            let cleared: Vec<&str> = was.iter().filter(|c| !codes.contains(c)).copied().collect();
            for (change, list) in [("raised", raised), ("cleared", cleared)] {
                for code in list {
                    let data = serde_json::json!({ "project": project, "code": code, "change": change });
                    out.push(Event::default().event("warning").data(data.to_string()));
                }
            }
        }
    }
    f.warnings = Some(now_warnings);
    Ok(Some(out))
}

/// Server-sent events: new findings and warnings in the viewer's scope as
/// they are stored (R18: in real time), polled every two seconds from the
/// store, so every instance behind one database serves the same feed.
#[derive(serde::Deserialize, Default)]
pub struct EventsQuery {
    /// Resume after this finding (what `Last-Event-ID` carries on a reconnect).
    pub after: Option<u64>,
    /// Answer with one poll's events and close (a client that polls).
    pub once: Option<u8>,
}

pub async fn events(
    State(state): State<AppState>,
    u: User,
    headers: axum::http::HeaderMap,
    axum::extract::Query(q): axum::extract::Query<EventsQuery>,
) -> Result<Response, Deny> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures_util::StreamExt;
    // Resume where the browser stopped, else from the newest finding now.
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let start = match resume.or(q.after) {
        Some(id) => id,
        None => state.store.read_async(|tx| tx.last_finding_id()).await?,
    };
    let once = q.once.is_some();
    let f = FeedState {
        state: state.clone(),
        viewer: u.viewer.clone(),
        token_hash: u.session.token_hash,
        lang: u.client.lang,
        cursor: start,
        warnings: None,
    };
    let stream = futures_util::stream::unfold(Some(f), move |f| async move {
        let mut f = f?;
        if once && f.warnings.is_some() {
            return None;
        }
        tokio::time::sleep(if f.warnings.is_none() { std::time::Duration::ZERO } else { FEED_EVERY }).await;
        let st = f.state.clone();
        let th = st.config.oversight.project.clone();
        let now = st.now();
        let polled = tokio::task::spawn_blocking(move || {
            let r = st.store.read(|tx| feed_poll(tx, &mut f, &th, now));
            (f, r)
        })
        .await;
        match polled {
            Ok((f, Ok(Some(events)))) => Some((events, Some(f))),
            // Session over, or the store failed: close (the browser reconnects
            // and signs in again if it must).
            _ => None,
        }
    })
    .flat_map(|events| {
        futures_util::stream::iter(events.into_iter().map(Ok::<Event, std::convert::Infallible>))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}
