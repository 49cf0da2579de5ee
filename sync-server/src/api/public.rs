//! What anyone may check without credentials, and without learning
//! anything personal: a tag's stage and report (R13), and one custody
//! record by id — the target of the commission form's QR (R10).

use super::{ApiResult, parse_hash, parse_tag};
use crate::error::AppError;
use crate::ingest::{decode_stored, stored_verdict};
use crate::{AppState, logtree};
use axum::Json;
use axum::extract::{Path, State};
use custody_core::protocol::*;
use custody_core::record::Payload;
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
    Path(id): Path<String>,
) -> ApiResult<Json<PublicRecordView>> {
    let id = parse_hash(&id)?;
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
    view.map(Json)
        .ok_or_else(|| AppError::not_found("record_unknown", "没有这条公开记录", "no such public record"))
}
