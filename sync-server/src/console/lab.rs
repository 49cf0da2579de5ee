//! The lab desk (R11-R13): for a lab's staff at their desktop, the
//! specimens their lab received and where each stands (`lab_desk::stage`),
//! and one test's page — the raw machine curve drawn with the system's
//! recomputed values marked on it (`lab_desk::curve_marks`), the lab's
//! values beside the system's with every flag (`results::check`), its
//! reviews and corrections. Who may open whose desk is
//! `access::lab_desk`; everything shown is read from signed records.
//!
//! The pages sign nothing on the server: a record the server signed for a
//! person would be the server's word, not theirs (R12: the reviewer's own
//! signature). Instead the browser itself is the lab's signing device
//! (`console-assets/signer.js`): enrolled with a one-time offer like a
//! phone, its Ed25519 key made by WebCrypto and never leaving it, it signs
//! reviews, reports (with their document) and revocations as records and
//! uploads them through the device API, where they are verified exactly
//! like a phone's. The forms here only carry what a record names.

use super::pages::not_yours;
use super::paths;
use super::scope::Scope;
use super::session::User;
use super::view::{Chrome, Deny, render, when};
use crate::AppState;
use crate::ingest::decode_stored;
use crate::store::{RecordRow, Tx};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use custody_core::Hash;
use custody_core::access;
use custody_core::curve::{self, MachineCurve};
use custody_core::lab_desk::{self, Mark, Stage};
use custody_core::model::Id;
use custody_core::protocol::RecordStatus;
use custody_core::record::{Payload, ReceiptDecision};
use custody_core::report_seal::{ReviewEntry, TestEntry};
use custody_core::verify::Lang;
use serde::Deserialize;

/// How many receipts the desk lists (newest first).
const DESK_ROWS: u32 = 500;

#[derive(Deserialize)]
pub struct DeskQuery {
    /// An administrator names the lab.
    pub lab: Option<String>,
}

pub struct TestLink {
    pub href: String,
    pub test: String,
    pub stage: String,
}

/// A report naming a specimen, for the desk's revoke and correct forms.
pub struct ReportLine {
    pub no: String,
    pub id: String,
    pub revoked: bool,
}

pub struct DeskLine {
    pub tag: String,
    /// The tag's 18 digits, as records carry it.
    pub tag_code: String,
    pub tag_href: String,
    pub received: String,
    pub stage: &'static str,
    pub stage_name: &'static str,
    pub tests: Vec<TestLink>,
    pub reports: Vec<ReportLine>,
}

#[derive(Template)]
#[template(path = "console/lab_desk.html")]
struct Desk {
    c: Chrome,
    lab: String,
    labs: Vec<(String, String)>,
    lines: Vec<DeskLine>,
    counts: Vec<(&'static str, usize)>,
    /// The person signed in, when they may sign for the lab here (a lab's
    /// own staff; administrators look, they do not sign for a lab).
    signer: Option<String>,
}

fn author_org(tx: &mut dyn Tx, row: &RecordRow) -> crate::store::Result<Option<Id>> {
    let rec = decode_stored(row)?;
    Ok(tx.person(&rec.body().author)?.map(|p| p.org))
}

/// One received specimen: its stage and current tests.
fn desk_line(
    tx: &mut dyn Tx,
    lab: &Id,
    tag: &str,
    received_ms: i64,
    lang: Lang,
) -> crate::store::Result<DeskLine> {
    let (mut entries, mut reviews, mut reports) = (Vec::new(), Vec::new(), Vec::<ReportLine>::new());
    let mut revoked = Vec::new();
    let mut tests = Vec::new();
    for row in tx.records_for_tag(tag)? {
        if row.status != RecordStatus::Accepted || author_org(tx, &row)?.as_ref() != Some(lab) {
            continue;
        }
        match &decode_stored(&row)?.body().payload {
            Payload::TestData(t) => {
                entries.push(TestEntry { id: row.id, test: t.test.clone(), revises: t.revises });
                tests.push(row.id);
            }
            Payload::TestReviewed(r) => {
                reviews.push(ReviewEntry { test_data: r.test_data, approved: r.approved })
            }
            Payload::Report(r) => {
                reports.push(ReportLine { no: r.report_no.clone(), id: row.id.to_hex(), revoked: false })
            }
            Payload::ReportRevoked(r) => revoked.push(r.report.to_hex()),
            _ => {}
        }
    }
    for r in &mut reports {
        r.revoked = revoked.contains(&r.id);
    }
    let stage = lab_desk::stage(&entries, &reviews, !reports.is_empty());
    let (current, _) = custody_core::report_seal::current_tests(&entries, &reviews);
    let links = current
        .iter()
        .map(|t| {
            let one = lab_desk::stage(std::slice::from_ref(*t), &reviews, false);
            TestLink {
                href: paths::fill(paths::LAB_TEST, &t.id.to_hex()),
                test: t.test.clone(),
                stage: one.name(lang).into(),
            }
        })
        .collect();
    let printed = custody_core::TagCode::parse(tag).map(|t| t.printed()).unwrap_or_else(|_| tag.to_owned());
    Ok(DeskLine {
        tag: printed,
        tag_code: tag.to_owned(),
        tag_href: paths::fill(paths::TAG, tag),
        received: when(received_ms),
        stage: stage.code(),
        stage_name: stage.name(lang),
        tests: links,
        reports,
    })
}

pub async fn desk(
    State(state): State<AppState>,
    u: User,
    Query(q): Query<DeskQuery>,
) -> Result<Response, Deny> {
    let lang = u.client.lang;
    let requested = match q.lab.as_deref().filter(|l| !l.is_empty()) {
        Some(l) => Some(Id::new(l).map_err(|e| Deny::bad(lang, e.to_string(), e.to_string()))?),
        None => None,
    };
    let lab = access::lab_desk(&u.viewer, requested.as_ref()).map_err(|d| Deny::forbidden(lang, d))?;
    let (viewer, now) = (u.viewer.clone(), state.now());
    let l = lab.clone();
    let (lines, labs) = state
        .store
        .read_async(move |tx| {
            let labs: Vec<(String, String)> = tx
                .orgs()?
                .into_iter()
                .filter(|o| o.role == custody_core::model::OrgRole::Lab)
                .map(|o| (o.id.to_string(), o.name))
                .collect();
            let Some(lab) = l else { return Ok((vec![], labs)) };
            let scope = Scope::of(tx, &viewer, now)?;
            let filter = scope.record_filter();
            let mut seen = std::collections::BTreeSet::new();
            let mut lines = Vec::new();
            for row in tx.console_records(filter.as_deref(), Some("lab_receipt"), None, DESK_ROWS)? {
                if row.status != RecordStatus::Accepted || author_org(tx, &row)?.as_ref() != Some(&lab) {
                    continue;
                }
                let rec = decode_stored(&row)?;
                let Payload::LabReceipt(r) = &rec.body().payload else { continue };
                if r.decision != ReceiptDecision::Accepted || !seen.insert(r.tag.as_str().to_owned()) {
                    continue;
                }
                lines.push(desk_line(tx, &lab, r.tag.as_str(), row.first_seen_ms, lang)?);
            }
            Ok((lines, labs))
        })
        .await?;
    let stages =
        [Stage::AwaitingTest, Stage::Returned, Stage::AwaitingReview, Stage::AwaitingReport, Stage::Reported];
    let counts =
        stages.iter().map(|s| (s.name(lang), lines.iter().filter(|l| l.stage == s.code()).count())).collect();
    let lab_name =
        lab.as_ref().and_then(|l| labs.iter().find(|(id, _)| id == l.as_str()).map(|x| x.1.clone()));
    let c = Chrome::for_user(&u, "检测工作台", "Lab desk");
    Ok(render(&Desk {
        c,
        lab: lab_name.or(lab.map(|l| l.to_string())).unwrap_or_default(),
        labs: if u.viewer.is_admin { labs } else { vec![] },
        lines,
        counts,
        signer: (!u.viewer.is_admin).then(|| u.viewer.person.to_string()),
    }))
}

// ---------------------------------------------------------------- one test

pub struct ValueLine {
    pub name: String,
    pub unit: String,
    pub reported: String,
    pub recomputed: String,
    pub agrees: bool,
}

pub struct ReviewLine {
    pub who: String,
    pub when: String,
    pub approved: bool,
    pub note: String,
}

#[derive(Template)]
#[template(path = "console/lab_test.html")]
struct TestPage {
    c: Chrome,
    tag: String,
    tag_href: String,
    test: String,
    standard: String,
    tester: String,
    tested: String,
    automatic: bool,
    equipment: String,
    stage: &'static str,
    values: Vec<ValueLine>,
    flags: Vec<(String, String)>,
    reviews: Vec<ReviewLine>,
    revises: Option<(String, String)>,
    superseded_by: Option<String>,
    curve_href: Option<String>,
    pending: bool,
    plot: Option<String>,
    marks: Vec<Mark>,
    record_href: String,
    /// The record's id and tag as a review names them, and who may sign
    /// one here (a lab's own staff, not for a corrected test).
    test_id: String,
    tag_code: String,
    signer: Option<String>,
}

/// What one test's page shows, read in one transaction.
struct Gathered {
    row: RecordRow,
    t: custody_core::record::TestData,
    tester: Option<String>,
    check: custody_core::results::check::TestCheck,
    pending: bool,
    curve: Option<MachineCurve>,
    reviews: Vec<ReviewLine>,
    superseded_by: Option<String>,
    stage: Stage,
}

/// `None`: no such test data; `Some(None)`: not the viewer's to see.
fn gather(
    tx: &mut dyn Tx,
    media: &crate::faces::Media,
    viewer: &access::Viewer,
    lab: Option<&Id>,
    id: Hash,
    now: i64,
) -> crate::store::Result<Option<Option<Gathered>>> {
    let Some(row) = tx.record(&id)? else { return Ok(None) };
    let rec = decode_stored(&row)?;
    let Payload::TestData(t) = rec.body().payload.clone() else { return Ok(None) };
    let author = tx.person(&rec.body().author)?;
    let scope = Scope::of(tx, viewer, now)?;
    let ours = lab.is_none() || author.as_ref().map(|p| &p.org) == lab;
    if !ours || !scope.has(row.project.as_deref()) {
        return Ok(Some(None));
    }
    let (mut grade, mut reviews, mut superseded_by, mut entries) = (None, Vec::new(), None, Vec::new());
    for r in tx.records_for_tag(t.tag.as_str())? {
        if r.status != RecordStatus::Accepted {
            continue;
        }
        let other = decode_stored(&r)?;
        match &other.body().payload {
            Payload::Sampling(s) => grade = Some(s.specimen.grade.clone()),
            Payload::TestReviewed(v) if v.test_data == id => {
                let who = tx.person(&other.body().author)?.map(|p| p.name).unwrap_or_default();
                reviews.push(ReviewLine {
                    who,
                    when: when(r.first_seen_ms),
                    approved: v.approved,
                    note: v.note.clone(),
                });
                entries.push(ReviewEntry { test_data: v.test_data, approved: v.approved });
            }
            Payload::TestData(o) if o.revises == Some(id) => {
                superseded_by = Some(paths::fill(paths::LAB_TEST, &r.id.to_hex()))
            }
            _ => {}
        }
    }
    let stage = lab_desk::stage(&[TestEntry { id, test: t.test.clone(), revises: None }], &entries, false);
    let (check, pending, bytes) = crate::reports::recompute(tx, media, id, &t, grade.as_deref())?;
    let curve = bytes.as_deref().and_then(|b| curve::parse(b).ok());
    let tester = author.map(|p| p.name);
    Ok(Some(Some(Gathered { row, t, tester, check, pending, curve, reviews, superseded_by, stage })))
}

pub async fn test(State(state): State<AppState>, u: User, Path(id): Path<String>) -> Result<Response, Deny> {
    let lang = u.client.lang;
    let id: Hash = id.parse().map_err(|_| Deny::not_found(lang))?;
    let lab = access::lab_desk(&u.viewer, None).map_err(|d| Deny::forbidden(lang, d))?;
    let (viewer, now, media) = (u.viewer.clone(), state.now(), state.media());
    let out = state.store.read_async(move |tx| gather(tx, &media, &viewer, lab.as_ref(), id, now)).await?;
    let g = out.ok_or_else(|| Deny::not_found(lang))?.ok_or_else(|| not_yours(lang))?;
    let check = &g.check;
    let values = check
        .comparisons
        .iter()
        .map(|c| ValueLine {
            name: c.name.clone(),
            unit: check
                .recomputed
                .iter()
                .find(|f| f.name == c.name)
                .map(|f| f.unit.clone())
                .unwrap_or_default(),
            reported: c.reported.map(|v| v.to_string()).unwrap_or_else(|| "—".into()),
            recomputed: c.recomputed.map(|v| v.to_string()).unwrap_or_else(|| "—".into()),
            agrees: c.agreement != custody_core::results::Agreement::Mismatch,
        })
        .collect();
    let flags = check.flags.iter().map(|f| (f.code().to_owned(), f.message(lang))).collect();
    let marks = g.curve.as_ref().map(|c| lab_desk::curve_marks(&g.t.test, c)).unwrap_or_default();
    let plot = g.curve.as_ref().map(|c| plot_svg(c, &marks, lang == Lang::En));
    let t = &g.t;
    let printed = t.tag.printed();
    let page = TestPage {
        c: Chrome::for_user(&u, format!("试验数据 {printed}"), format!("Test data {printed}")),
        tag: printed,
        tag_href: paths::fill(paths::TAG, t.tag.as_str()),
        test: t.test.clone(),
        standard: t.standard.clone(),
        tester: g.tester.clone().unwrap_or_default(),
        tested: when(g.row.first_seen_ms),
        automatic: t.automatic,
        equipment: t.equipment.as_ref().map(|e| e.to_string()).unwrap_or_default(),
        stage: g.stage.name(lang),
        values,
        flags,
        reviews: g.reviews,
        revises: t
            .revises
            .map(|r| (paths::fill(paths::LAB_TEST, &r.to_hex()), t.reason.clone().unwrap_or_default())),
        superseded_by: g.superseded_by.clone(),
        curve_href: t.curve.filter(|_| !g.pending).map(|s| paths::fill(paths::MEDIA, &s.to_hex())),
        pending: g.pending,
        plot,
        marks,
        record_href: paths::fill(paths::RECORD, &g.row.id.to_hex()),
        test_id: g.row.id.to_hex(),
        tag_code: t.tag.as_str().to_owned(),
        signer: (!u.viewer.is_admin && g.superseded_by.is_none()).then(|| u.viewer.person.to_string()),
    };
    Ok(render(&page))
}

// ---------------------------------------------------------------- the plot

const W: f64 = 720.0;
const H: f64 = 360.0;
const LEFT: f64 = 64.0;
const BOTTOM: f64 = 40.0;
const TOP: f64 = 16.0;
const RIGHT: f64 = 16.0;
/// Enough points for a screen; the raw curve stays one click away.
const MAX_POINTS: usize = 1_500;

/// The curve as SVG: force against displacement when the file has it (a
/// bar's stress-strain shape), else against time (a cube's loading), with
/// each recomputed value's force as a dashed line and its label.
fn plot_svg(c: &MachineCurve, marks: &[Mark], en: bool) -> String {
    let by_ext = c.samples.iter().all(|s| s.ext_mm.is_some()) && !c.samples.is_empty();
    let pts: Vec<(f64, f64)> = c
        .samples
        .iter()
        .map(|s| (if by_ext { s.ext_mm.unwrap_or(0.0) } else { s.t_s }, s.force_kn))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let (x0, x1) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let y1 = pts.iter().map(|p| p.1).chain(marks.iter().map(|m| m.force_kn)).fold(0.0_f64, f64::max) * 1.08;
    let (xs, ys) = (if x1 > x0 { x1 - x0 } else { 1.0 }, if y1 > 0.0 { y1 } else { 1.0 });
    let px = |x: f64| LEFT + (x - x0) / xs * (W - LEFT - RIGHT);
    let py = |y: f64| H - BOTTOM - y.max(0.0) / ys * (H - BOTTOM - TOP);
    let step = pts.len().div_ceil(MAX_POINTS).max(1);
    let peak_i = pts.iter().enumerate().max_by(|a, b| a.1.1.total_cmp(&b.1.1)).map(|p| p.0);
    let line: Vec<String> = pts
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || Some(*i) == peak_i || *i + 1 == pts.len())
        .map(|(_, p)| format!("{:.1},{:.1}", px(p.0), py(p.1)))
        .collect();
    let x_label = match (by_ext, en) {
        (true, true) => "displacement, mm",
        (true, false) => "位移 / mm",
        (false, true) => "time, s",
        (false, false) => "时间 / s",
    };
    let y_label = if en { "force, kN" } else { "力 / kN" };
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" class="curve" role="img" aria-label="{y_label} — {x_label}">"##
    );
    svg.push_str(&format!(
        r##"<line x1="{LEFT}" y1="{b}" x2="{r}" y2="{b}" class="axis"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{b}" class="axis"/>"##,
        b = H - BOTTOM,
        r = W - RIGHT
    ));
    for k in 0..=4 {
        let (fx, fy) = (x0 + xs * f64::from(k) / 4.0, ys * f64::from(k) / 4.0);
        svg.push_str(&format!(
            r##"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">{fx:.1}</text><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{fy:.0}</text>"##,
            px(fx),
            H - BOTTOM + 16.0,
            LEFT - 6.0,
            py(fy) + 4.0
        ));
    }
    svg.push_str(&format!(
        r##"<text x="{:.1}" y="{:.1}" class="label" text-anchor="middle">{x_label}</text><text x="{ylx}" y="{yly}" class="label">{y_label}</text>"##,
        (LEFT + W - RIGHT) / 2.0,
        H - 6.0,
        ylx = LEFT + 6.0,
        yly = TOP + 10.0
    ));
    svg.push_str(&format!(r##"<polyline class="trace" fill="none" points="{}"/>"##, line.join(" ")));
    for m in marks {
        let y = py(m.force_kn);
        svg.push_str(&format!(
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{r}" y2="{y:.1}" class="mark" data-mark="{n}"/><text x="{r}" y="{t:.1}" class="mark-label" text-anchor="end">{n} = {v} {u} ({f:.1} kN)</text>"##,
            r = W - RIGHT,
            t = y - 4.0,
            n = m.name,
            v = m.value,
            u = m.unit,
            f = m.force_kn
        ));
    }
    svg.push_str("</svg>");
    svg
}
