//! The transparency log as devices see it: the latest signed checkpoint,
//! proofs that it extends what a device saw, and inclusion proofs.

use super::{ApiResult, parse_hash};
use crate::auth::AuthedDevice;
use crate::error::AppError;
use crate::{AppState, logtree};
use axum::Json;
use axum::extract::{Path, Query, State};
use custody_core::log::{Receipt, SignedCheckpoint};
use custody_core::protocol::*;
use serde::Deserialize;

/// The latest signed checkpoint of the transparency log.
#[utoipa::path(get, path = "/v1/log/checkpoint", responses((status = 200, body = Object)))]
pub async fn checkpoint(
    State(state): State<AppState>,
    _dev: AuthedDevice,
) -> ApiResult<Json<SignedCheckpoint>> {
    let (key, now) = (state.key.clone(), state.now());
    Ok(Json(state.store.write_async(move |tx| logtree::checkpoint(tx, &key, now)).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// Size of the checkpoint the device holds.
    pub from: u64,
}

/// Proof that the current log extends the one the device saw.
#[utoipa::path(get, path = "/v1/log/consistency", params(ConsistencyQuery), responses((status = 200, body = ConsistencyResponse)))]
pub async fn consistency(
    State(state): State<AppState>,
    _dev: AuthedDevice,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<Json<ConsistencyResponse>> {
    let (key, now) = (state.key.clone(), state.now());
    let out = state
        .store
        .write_async(move |tx| {
            let c = logtree::checkpoint(tx, &key, now)?;
            if q.from > c.checkpoint.size {
                return Ok(Err(AppError::bad_request(
                    "log_from_too_large",
                    "设备持有的日志比服务器的还大：日志可能被回滚",
                    "the device holds a larger log than the server: the log may have been rolled back",
                )));
            }
            let proof = logtree::consistency(tx, q.from, c.checkpoint.size)?;
            Ok(Ok(ConsistencyResponse { checkpoint: c, proof }))
        })
        .await??;
    Ok(Json(out))
}

/// A receipt (inclusion proof at the latest checkpoint) for a stored record.
#[utoipa::path(get, path = "/v1/log/receipt/{id}", params(("id" = String, Path, description = "record id")), responses((status = 200, body = Object), (status = 404, body = ApiError)))]
pub async fn receipt(
    State(state): State<AppState>,
    _dev: AuthedDevice,
    Path(id): Path<String>,
) -> ApiResult<Json<Receipt>> {
    let id = parse_hash(&id)?;
    let (key, now) = (state.key.clone(), state.now());
    let r = state
        .store
        .write_async(move |tx| {
            let Some(row) = tx.record(&id)? else { return Ok(None) };
            let c = logtree::checkpoint(tx, &key, now)?;
            Ok(Some(logtree::receipt(tx, &id, row.log_index, &c)?))
        })
        .await?;
    r.map(Json).ok_or_else(|| AppError::not_found("record_unknown", "记录不存在", "no such record"))
}
