//! The pages printed QR codes open, for anyone with a phone camera: the
//! report QR's check (R13, `/q/{seal}`) and one custody record's public
//! view (the commission form's QR, R10, `/r/{id}`). They show what the JSON
//! twins answer (`/v1/public/reports/{seal}`, `/v1/public/records/{id}`),
//! never anything personal, and read well on a phone.

use super::view::{Chrome, Deny, lang_of_headers, render, when, when_opt};
use crate::AppState;
use crate::api::{check_report, record_view};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use custody_core::protocol::{PublicRecordView, PublicReportView, RecordStatus};
use custody_core::report_seal::ReportStatus;
use custody_core::routes;
use custody_core::verify::Lang;

#[derive(Template)]
#[template(path = "console/report_check.html")]
struct ReportCheck {
    c: Chrome,
    /// `None`: the seal failed; `failure` says why.
    v: Option<PublicReportView>,
    failure: String,
    status_class: &'static str,
    status_zh: &'static str,
    status_en: &'static str,
    status_detail: String,
    issued: String,
    json: String,
}

fn status_line(v: &PublicReportView, lang: Lang) -> (&'static str, String) {
    match &v.status {
        ReportStatus::Valid => ("ok", String::new()),
        ReportStatus::ReplacedBy { report_no, at_ms, .. } => (
            "warn",
            match lang {
                Lang::ZhCn => format!("已于 {} 被报告 {report_no} 替换，请以新报告为准", when(*at_ms)),
                Lang::En => {
                    format!("replaced by report {report_no} on {}: rely on the new one", when(*at_ms))
                }
            },
        ),
        ReportStatus::Revoked { reason, at_ms } => (
            "bad",
            match lang {
                Lang::ZhCn => format!("已于 {} 撤销，原因：{reason}", when(*at_ms)),
                Lang::En => format!("revoked on {}, reason: {reason}", when(*at_ms)),
            },
        ),
    }
}

/// R13: the report QR's page.
pub async fn report_check(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(seal): Path<String>,
) -> Result<Response, Deny> {
    let lang = lang_of_headers(&headers);
    let json = routes::public_report(&seal);
    let answer = check_report(&state, seal).await.map_err(Deny::from)?;
    let c = Chrome::public(lang, "检测报告防伪核验", "Test report check");
    let page = match answer {
        Ok(v) => {
            let (status_class, status_detail) = status_line(&v, lang);
            ReportCheck {
                status_zh: v.status.label(Lang::ZhCn),
                status_en: v.status.label(Lang::En),
                issued: when(v.issued_ms),
                status_class,
                status_detail,
                failure: String::new(),
                json,
                v: Some(v),
                c,
            }
        }
        Err(f) => {
            let mut r = render(&ReportCheck {
                failure: f.message(lang),
                v: None,
                status_class: "bad",
                status_zh: "无效",
                status_en: "not valid",
                status_detail: String::new(),
                issued: String::new(),
                json,
                c,
            });
            *r.status_mut() = match f {
                crate::reports::CheckFailure::Seal(_) => StatusCode::BAD_REQUEST,
                crate::reports::CheckFailure::Unknown => StatusCode::NOT_FOUND,
                crate::reports::CheckFailure::Mismatch => StatusCode::CONFLICT,
            };
            return Ok(r);
        }
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "console/record_public.html")]
struct RecordPublic {
    c: Chrome,
    v: PublicRecordView,
    first_seen: String,
    earliest: String,
    latest: String,
    json: String,
    checkpoint_size: u64,
    status: &'static str,
}

/// R10: one custody record's public page (the commission form's QR).
pub async fn record_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Deny> {
    let lang = lang_of_headers(&headers);
    let Ok(id) = id.parse::<custody_core::Hash>() else {
        return Err(Deny::bad(lang, "记录编号格式错误", "malformed record id"));
    };
    let v = record_view(&state, id).await.map_err(Deny::from)?.ok_or_else(|| Deny::not_found(lang))?;
    let c = Chrome::public(lang, format!("{}（公开核验）", v.kind_zh), format!("{} (public check)", v.kind));
    let page = RecordPublic {
        first_seen: when(v.first_seen_ms),
        earliest: when_opt(v.proven_earliest_ms),
        latest: when_opt(v.proven_latest_ms),
        json: routes::public_record(&id),
        checkpoint_size: v.receipt.checkpoint.checkpoint.size,
        status: match v.status {
            RecordStatus::Accepted => "accepted",
            RecordStatus::Refused => "refused",
            RecordStatus::Deferred => "deferred",
            RecordStatus::Rejected => "rejected",
        },
        c,
        v,
    };
    Ok(render(&page))
}
