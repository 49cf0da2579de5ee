//! What anyone may check without credentials, and without learning
//! anything personal: a tag's stage and report (R13), a report's seal (the
//! report QR, R13), and one custody record by id — the commission form's
//! QR (R10). The pages for people (`/q/{seal}`, `/r/{id}`) are the
//! console's and show the same answers.

use super::{ApiResult, parse_hash, parse_tag};
use crate::error::AppError;
use crate::ingest::{decode_stored, stored_verdict};
use crate::{AppState, logtree, reports};
use axum::Json;
use axum::extract::{Path, State};
use custody_core::protocol::*;
use custody_core::record::Payload;
use custody_core::verify::Lang;
use custody_core::verify::Violation;

/// R13: anyone may check a tag or report QR; answers carry no personal data.
#[utoipa::path(get, path = "/v1/public/tags/{code}", params(("code" = String, Path,)), responses((status = 200, body = Object), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
pub async fn public_tag(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let tag = parse_tag(&code)?;
    let t = tag.clone();
    let out = state
        .store
        .read_replica_async(move |tx| {
            let state = tx.tag_state(t.as_str())?;
            let mut report = None;
            for r in tx.records_for_tag(t.as_str())? {
                if r.kind == "report" && r.status == RecordStatus::Accepted {
                    let rec = decode_stored(&r)?;
                    if let Payload::Report(rep) = &rec.body().payload {
                        let lab = match tx.person(&rec.body().author)? {
                            Some(p) => tx.org(&p.org)?.map(|o| o.name),
                            None => None,
                        };
                        report = Some(serde_json::json!({"report_no": rep.report_no, "lab": lab, "conclusion": rep.conclusion, "document_sha256": rep.document, "record": r.id}));
                    }
                }
            }
            Ok(state.map(|s| (s, report)))
        })
        .await?;
    let Some((s, report)) = out else {
        return Err(AppError::not_found("tag_unknown", "该标识没有记录", "no records for this tag"));
    };
    Ok(Json(serde_json::json!({
        "tag": tag.printed(), "stage": s.stage.name_en(), "stage_zh": s.stage.name_zh(), "report": report,
    })))
}

/// R10: the public view of one custody record — what the commission form's
/// QR opens. Admin facts (people, organisations, devices) are not public.
#[utoipa::path(get, path = "/v1/public/records/{id}", params(("id" = String, Path, description = "record id")),
    responses((status = 200, body = PublicRecordView), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
pub async fn public_record(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let id = parse_hash(&id)?;
    // A person who opens this address in a browser (an older printed form's
    // QR) gets the page; programs keep getting JSON.
    if wants_html(&headers) {
        return Ok(axum::response::Redirect::to(&custody_core::routes::record_page(&id)).into_response());
    }
    record_view(&state, id)
        .await?
        .map(|v| Json(v).into_response())
        .ok_or_else(|| AppError::not_found("record_unknown", "没有这条公开记录", "no such public record"))
}

/// A browser's navigation asks for HTML first; a program's request does not.
pub(crate) fn wants_html(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.split(',').next().is_some_and(|first| first.trim().starts_with("text/html")))
}

/// The public view of record `id`: `None` when it does not exist or is an
/// admin fact. The JSON route and the page `/r/{id}` both show it.
pub(crate) async fn record_view(
    state: &AppState,
    id: custody_core::Hash,
) -> crate::store::Result<Option<PublicRecordView>> {
    let (key, now) = (state.key.clone(), state.now());
    let view = state
        .store
        .write_async(move |tx| {
            let Some(row) = tx.record(&id)? else { return Ok(None) };
            let rec = decode_stored(&row)?;
            let body = rec.body();
            if body.kind().is_admin_fact() {
                return Ok(None);
            }
            let verdict = stored_verdict(&row)?;
            let project_name = match body.payload.project() {
                Some(p) => tx.project(p)?.map(|p| p.name),
                None => None,
            };
            let (mut form_no, mut lab_name, mut specimens, mut witness_cosigned) = (None, None, None, None);
            if let Payload::Commission(c) = &body.payload {
                form_no = Some(c.form_no.clone());
                lab_name = tx.org(&c.lab)?.map(|o| o.name);
                specimens = Some(c.items.len() as u32);
                witness_cosigned = Some(!verdict.has(|v| matches!(v, Violation::AwaitingWitnessCosignature)));
            }
            // The latest checkpoint if it already covers the record; else sign one.
            let checkpoint = match tx.latest_checkpoint()? {
                Some(c) if c.checkpoint.size > row.log_index => c,
                _ => logtree::checkpoint(tx, &key, now)?,
            };
            let receipt = logtree::receipt(tx, &row.id, row.log_index, &checkpoint)?;
            Ok(Some(PublicRecordView {
                id: row.id,
                kind: body.kind().as_str().into(),
                kind_zh: body.kind().name_zh().into(),
                status: row.status,
                log_index: row.log_index,
                first_seen_ms: row.first_seen_ms,
                proven_earliest_ms: row.earliest_ms,
                proven_latest_ms: row.latest_ms,
                tags: body.payload.tags().iter().map(|t| t.printed()).collect(),
                project_name,
                form_no,
                lab_name,
                specimens,
                witness_cosigned,
                receipt,
            }))
        })
        .await?;
    Ok(view)
}

/// What a failed check says, in both languages (the page shows the same).
pub(crate) fn check_failure(f: &reports::CheckFailure) -> AppError {
    let status = match f {
        reports::CheckFailure::Seal(_) => axum::http::StatusCode::BAD_REQUEST,
        reports::CheckFailure::Unknown => axum::http::StatusCode::NOT_FOUND,
        reports::CheckFailure::Mismatch => axum::http::StatusCode::CONFLICT,
    };
    AppError::new(status, f.code(), f.message(Lang::ZhCn), f.message(Lang::En))
}

/// R13: the report QR's check as JSON — the twin of the page `/q/{seal}`:
/// the seal verified by the system's key, the report's status now (valid,
/// replaced by, revoked), lab, number, conclusion, the document's SHA-256
/// and its specimens' custody verdict. No personal data.
#[utoipa::path(get, path = "/v1/public/reports/{seal}", params(("seal" = String, Path, description = "the seal's base32 text (or the whole QR text, URL-encoded)")),
    responses((status = 200, body = PublicReportView), (status = 400, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn public_report(
    State(state): State<AppState>,
    Path(seal): Path<String>,
) -> ApiResult<Json<PublicReportView>> {
    check_report(&state, seal).await?.map(Json).map_err(|f| check_failure(&f))
}

/// The check both the JSON and the page run.
pub(crate) async fn check_report(
    state: &AppState,
    seal: String,
) -> crate::store::Result<Result<PublicReportView, reports::CheckFailure>> {
    let (key, now, base, media) = (state.key.clone(), state.now(), state.public_url(None), state.media());
    // A checkpoint covering the log: the stored one (a read) unless records
    // arrived since, then one signed now (a short write).
    let checkpoint = match state.store.read_async(reports::covering_checkpoint).await? {
        Some(c) => c,
        None => {
            let k = key.clone();
            state.store.write_async(move |tx| logtree::checkpoint(tx, &k, now)).await?
        }
    };
    let keys = state.server_keys.to_vec();
    let lab = state.config.oversight.lab.clone();
    state
        .store
        .read_async(move |tx| reports::check(tx, &media, &key, &keys, &seal, &base, &checkpoint, &lab))
        .await
}

/// R13: the lab fetches its report's seal to print the QR on every page —
/// only the report's own lab, and only when the chain is whole (else 409
/// with every gap named).
#[utoipa::path(get, path = "/v1/lab/reports/{id}/seal", params(("id" = String, Path, description = "the report record's id")),
    responses((status = 200, body = ReportSealResponse), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn lab_report_seal(
    State(state): State<AppState>,
    dev: crate::auth::AuthedDevice,
    Path(id): Path<String>,
) -> ApiResult<Json<ReportSealResponse>> {
    let id = parse_hash(&id)?;
    let (key, now, base) = (state.key.clone(), state.now(), state.public_url(None));
    let (org, media, lab) = (dev.org.clone(), state.media(), state.config.oversight.lab.clone());
    let out = state
        .store
        .write_async(move |tx| reports::seal_for_lab(tx, &media, &key, &lab, &id, &org, now))
        .await?;
    let seal = out.map_err(|e| not_issued(&e))?;
    let text = seal
        .encode()
        .map_err(|e| AppError::bad_request("seal_invalid", e.message(Lang::ZhCn), e.message(Lang::En)))?;
    // First issue: the report PDF is rendered now and kept, so the check
    // page can name its SHA-256 (R13). The seal does not wait on it: a
    // missing font or a document still uploading is logged, and the PDF
    // routes render it once they can.
    match super::report_pdf::issued(&state, text.clone()).await {
        Ok(Ok(_)) => {}
        Ok(Err(r)) => {
            tracing::warn!(code = r.code(), "report PDF not issued with the seal: {}", r.message(Lang::En))
        }
        Err(e) => tracing::warn!("report PDF not issued with the seal: {e:?}"),
    }
    Ok(Json(ReportSealResponse {
        qr: format!("{}{}", base.trim_end_matches('/'), custody_core::routes::report_check(&text)),
        seal: text,
        issued_ms: seal.seal.issued_ms,
    }))
}

/// Why the lab gets no seal (nor PDF): unknown 404, another lab's 403,
/// gaps in the chain 409 with each named.
pub(crate) fn not_issued(e: &reports::NotIssued) -> AppError {
    match e {
        reports::NotIssued::Unknown => {
            AppError::not_found("report_unknown", "没有这份报告记录", "no such report record")
        }
        reports::NotIssued::NotYours => AppError::forbidden(
            "not_your_report",
            "只有出具报告的检测机构可以取得其防伪二维码",
            "only the lab that issued a report may fetch its seal",
        ),
        reports::NotIssued::Gaps(gaps) => AppError::new(
            axum::http::StatusCode::CONFLICT,
            "report_not_issuable",
            gaps.iter().map(|g| g.message(Lang::ZhCn)).collect::<Vec<_>>().join("；"),
            gaps.iter().map(|g| g.message(Lang::En)).collect::<Vec<_>>().join("; "),
        )
        .with_detail(serde_json::json!({ "gaps": gaps })),
    }
}
