//! Oversight reads: a tag's verified trail for the lab that receives it
//! (R11) and the regulator of its jurisdiction (R18), and the violations a
//! regulator lists; each with an admin twin. Who may read is decided by
//! `custody_core::access`.

use super::{ApiResult, forbidden, parse_tag, viewer_of};
use crate::auth::{AdminAuth, AuthedDevice};
use crate::ingest::decode_stored;
use crate::store::{StoreError, Tx};
use crate::{AppState, logtree, trail};
use axum::Json;
use axum::extract::{Path, Query, State};
use custody_core::access::{self, Denied};
use custody_core::log::SignedCheckpoint;
use custody_core::protocol::*;
use custody_core::{PublicKey, TagCode};
use serde::Deserialize;

/// One read of a trail for `dev` (`None`: an admin) against checkpoint `c`.
fn read_trail(
    tx: &mut dyn Tx,
    tag: &TagCode,
    c: &SignedCheckpoint,
    server: &PublicKey,
    dev: Option<&AuthedDevice>,
    now: i64,
) -> crate::store::Result<Result<TrailResponse, Denied>> {
    let viewer = match dev {
        Some(d) => Some(viewer_of(tx, d)?),
        None => None,
    };
    trail::trail(tx, tag, c, server, viewer.as_ref().map(|v| (v, now)))
}

/// The trail is proven against a checkpoint signed now, on the primary. Its
/// reads go to the read replica when it has replayed at least that much of
/// the log (so the lab never sees less than what was stored when it asked);
/// otherwise to the primary.
async fn trail_for(state: &AppState, tag: TagCode, dev: Option<AuthedDevice>) -> ApiResult<TrailResponse> {
    let (key, now) = (state.key.clone(), state.now());
    let c = state.store.write_async(move |tx| logtree::checkpoint(tx, &key, now)).await?;
    let server = state.key.public();
    let (t, cp, d) = (tag.clone(), c.clone(), dev.clone());
    let from_replica = state
        .store
        .read_replica_async(move |tx| {
            if tx.log_size()? < cp.checkpoint.size {
                return Ok(None);
            }
            read_trail(tx, &t, &cp, &server, d.as_ref(), now).map(Some)
        })
        .await?;
    let out = match from_replica {
        Some(t) => t,
        None => {
            state.store.read_async(move |tx| read_trail(tx, &tag, &c, &server, dev.as_ref(), now)).await?
        }
    };
    out.map_err(forbidden)
}

/// R11: the lab scans a tag and gets the verified custody trail — if it is
/// the lab commissioned for the specimen; regulators within their
/// jurisdiction (R18).
#[utoipa::path(get, path = "/v1/lab/tags/{code}", params(("code" = String, Path, description = "tag code or QR text")),
    responses((status = 200, body = TrailResponse), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn lab_trail(
    State(state): State<AppState>,
    dev: AuthedDevice,
    Path(code): Path<String>,
) -> ApiResult<Json<TrailResponse>> {
    let tag = parse_tag(&code)?;
    Ok(Json(trail_for(&state, tag, Some(dev)).await?))
}

#[utoipa::path(get, path = "/v1/admin/tags/{code}", params(("code" = String, Path,)), responses((status = 200, body = TrailResponse)), security(("admin_token" = [])))]
pub async fn admin_trail(
    State(state): State<AppState>,
    _a: AdminAuth,
    Path(code): Path<String>,
) -> ApiResult<Json<TrailResponse>> {
    Ok(Json(trail_for(&state, parse_tag(&code)?, None).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ViolationQuery {
    /// Administrative division code prefix (admins only; inspectors see their own).
    pub jurisdiction: Option<String>,
    #[serde(default)]
    pub after_ms: i64,
    /// Items per page (more than the server's page size is served as its page size).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
}

async fn violations_for(
    state: &AppState,
    jurisdiction: Option<String>,
    after_ms: i64,
    limit: u32,
) -> ApiResult<Vec<ViolationView>> {
    Ok(state
        .store
        .read_replica_async(move |tx| {
            let prefix = jurisdiction.as_deref().map(custody_core::model::division_prefix);
            let rows = tx.violations(prefix, after_ms, limit)?;
            let mut out = Vec::with_capacity(rows.len());
            for (id, finding) in rows {
                let Some(r) = tx.record(&id)? else { continue };
                let rec = decode_stored(&r)?;
                let project = r.project.clone();
                let jurisdiction = match &project {
                    Some(p) => tx
                        .project(
                            &custody_core::Id::new(p.clone())
                                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        )?
                        .map(|p| p.jurisdiction),
                    None => None,
                };
                out.push(ViolationView {
                    record: id,
                    kind: r.kind.clone(),
                    project,
                    jurisdiction,
                    tags: rec.body().payload.tags().iter().map(|t| t.to_string()).collect(),
                    author: r.author.clone(),
                    first_seen_ms: r.first_seen_ms,
                    finding: serde_json::from_str(&finding)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                });
            }
            Ok(out)
        })
        .await?)
}

/// R18: a regulator's inspector sees the violations in their own jurisdiction only.
#[utoipa::path(get, path = "/v1/violations", params(ViolationQuery), responses((status = 200, body = Vec<ViolationView>), (status = 403, body = ApiError)))]
pub async fn violations(
    State(state): State<AppState>,
    dev: AuthedDevice,
    Query(q): Query<ViolationQuery>,
) -> ApiResult<Json<Vec<ViolationView>>> {
    let now = state.now();
    let scope = state.store.read_async(move |tx| Ok(access::violations(&viewer_of(tx, &dev)?, now))).await?;
    let prefix = scope.map_err(forbidden)?;
    Ok(Json(violations_for(&state, Some(prefix), q.after_ms, q.limit.unwrap_or(200).min(1000)).await?))
}

#[utoipa::path(get, path = "/v1/admin/violations", params(ViolationQuery), responses((status = 200, body = Vec<ViolationView>)), security(("admin_token" = [])))]
pub async fn admin_violations(
    State(state): State<AppState>,
    _a: AdminAuth,
    Query(q): Query<ViolationQuery>,
) -> ApiResult<Json<Vec<ViolationView>>> {
    Ok(Json(violations_for(&state, q.jurisdiction, q.after_ms, q.limit.unwrap_or(200).min(1000)).await?))
}
