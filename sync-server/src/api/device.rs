//! What enrolled field devices call: enrollment, their offline profile,
//! time anchors, record upload, co-signatures and the feed.

use super::{ApiResult, forbidden, json_body, out_of_range, sign_anchor, viewer_of};
use crate::auth::AuthedDevice;
use crate::error::AppError;
use crate::ingest::{Pipeline, decode_stored};
use crate::store::StoreError;
use crate::{AppState, admin, logtree};
use axum::Json;
use axum::extract::{Query, State};
use custody_core::Hash;
use custody_core::access;
use custody_core::protocol::*;
use custody_core::record::Payload;
use serde::Deserialize;
use serde_json::value::RawValue;

/// Enroll a device with a one-time code from an enrollment QR (R1).
#[utoipa::path(post, path = "/v1/enroll", request_body = EnrollRequest,
    responses((status = 200, body = EnrollResponse), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn enroll(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> ApiResult<Json<EnrollResponse>> {
    let req: EnrollRequest = json_body(&body)?;
    req.check().map_err(out_of_range)?;
    if !req.device.verify(custody_core::crypto::Domain::DeviceRequest, req.code.as_bytes(), &req.proof) {
        return Err(AppError::bad_request(
            "enroll_bad_proof",
            "设备未能证明持有该密钥",
            "the device did not prove it holds the key",
        ));
    }
    let label = req.label.chars().filter(|c| !c.is_control()).take(80).collect::<String>();
    let platform = req.platform.chars().filter(|c| !c.is_control()).take(40).collect::<String>();
    let st = state.clone();
    // A refusal anywhere rolls the whole enrollment back: the code stays
    // usable and nothing half-done is stored.
    let resp = state
        .store
        .write_or_abort_async(move |tx| {
            let now = st.now();
            if tx.device(&req.device)?.is_some() {
                return Ok(Err(AppError::bad_request(
                    "already_enrolled",
                    "该设备已注册",
                    "this device is already enrolled",
                )));
            }
            let Some(person) =
                tx.take_enrollment_code(&Hash::of(req.code.trim().as_bytes()), &req.device, now)?
            else {
                return Ok(Err(AppError::forbidden(
                    "enroll_code_invalid",
                    "注册码无效、已使用或已过期：请管理员重新生成",
                    "enrollment code invalid, used or expired: ask the admin for a new one",
                )));
            };
            let payload = Payload::DeviceEnrolled(custody_core::record::DeviceEnrollment {
                device: req.device,
                person,
                label: format!("{label} ({platform})"),
            });
            if let Err(e) = admin::submit_at(tx, &st.key, &st.config.policy, payload, vec![], now) {
                return match e {
                    admin::AdminError::Store(e) => Err(e),
                    e => Ok(Err(AppError::from(e))),
                };
            }
            let profile =
                admin::profile(tx, &req.device, (&st.server_keys, &st.handovers), &st.config.policy, now)?
                    .ok_or_else(|| StoreError::Corrupt("device just enrolled is missing".into()))?;
            let state = DeviceState { boot_id: req.boot_id.clone(), mono_ms: req.mono_ms, tail: None };
            let (ab, anchor) = match sign_anchor(&st, req.device, &state, now) {
                Ok(x) => x,
                Err(e) => return Ok(Err(e)),
            };
            tx.insert_anchor(&ab)?;
            let checkpoint = logtree::checkpoint(tx, &st.key, now)?;
            Ok(Ok(EnrollResponse { profile, anchor, checkpoint }))
        })
        .await??;
    tracing::info!(device = %resp.profile.person.id, "device enrolled");
    Ok(Json(resp))
}

/// What the device needs to work offline.
#[utoipa::path(get, path = "/v1/profile", responses((status = 200, body = DeviceProfile), (status = 401, body = ApiError)))]
pub async fn profile(State(state): State<AppState>, dev: AuthedDevice) -> ApiResult<Json<DeviceProfile>> {
    let (keys, handovers) = (state.server_keys.clone(), state.handovers.clone());
    let (policy, now) = (state.config.policy.clone(), state.now());
    let p = state
        .store
        .read_async(move |tx| admin::profile(tx, &dev.key, (&keys, &handovers), &policy, now))
        .await?;
    p.map(Json).ok_or_else(|| AppError::unauthorized("device_unknown", "设备未注册", "device not enrolled"))
}

/// A fresh server-signed time anchor bound to the device's boot and chain head.
#[utoipa::path(post, path = "/v1/time", request_body = DeviceState,
    responses((status = 200, body = TimeResponse), (status = 400, body = ApiError)))]
pub async fn time(
    State(state): State<AppState>,
    dev: AuthedDevice,
    body: axum::body::Bytes,
) -> ApiResult<Json<TimeResponse>> {
    let s: DeviceState = json_body(&body)?;
    s.check().map_err(out_of_range)?;
    let (ab, anchor) = sign_anchor(&state, dev.key, &s, state.now())?;
    state.store.write_async(move |tx| tx.insert_anchor(&ab)).await?;
    Ok(Json(TimeResponse { anchor }))
}

/// Upload signed records (idempotent), get receipts, an anchor and a checkpoint.
#[utoipa::path(post, path = "/v1/records", request_body = UploadRequest,
    responses((status = 200, body = UploadResponse), (status = 400, body = ApiError), (status = 401, body = ApiError)))]
pub async fn upload(
    State(state): State<AppState>,
    dev: AuthedDevice,
    body: axum::body::Bytes,
) -> ApiResult<Json<UploadResponse>> {
    let req: UploadRequest = json_body(&body)?;
    // Checked before anything is ingested: a bad state must not roll back
    // a batch of good records after the fact.
    req.state.check().map_err(out_of_range)?;
    let device_state = req.state.clone();
    if req.records.len() > state.config.limits.records_per_upload {
        return Err(AppError::bad_request(
            "too_many_records",
            format!("一次最多上传 {} 条记录", state.config.limits.records_per_upload),
            format!("at most {} records per upload", state.config.limits.records_per_upload),
        ));
    }
    // Decode and check signatures before taking the store's write lock.
    let st = state.clone();
    let prepared = tokio::task::spawn_blocking(move || {
        let trusted = st.server_keys.clone();
        req.records
            .iter()
            .map(|raw| crate::ingest::prepare(raw.get().as_bytes(), &trusted, &st.anchors))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(AppError::internal)?;
    let st = state.clone();
    let resp = state
        .store
        .write_or_abort_async(move |tx| {
            let now = st.now();
            let p = Pipeline { server_key: &st.key, known: &st.server_keys, policy: &st.config.policy, now };
            let mut outcomes = Vec::with_capacity(prepared.len());
            for pr in prepared {
                outcomes.push(p.ingest_prepared(tx, pr, Some(&dev.key))?);
            }
            let (ab, anchor) = match sign_anchor(&st, dev.key, &device_state, now) {
                Ok(x) => x,
                Err(e) => return Ok(Err(e)),
            };
            tx.insert_anchor(&ab)?;
            let checkpoint = logtree::checkpoint(tx, &st.key, now)?;
            let mut results = Vec::with_capacity(outcomes.len());
            // Face photos whose bytes came before this record made them
            // faces: sealed once this transaction has committed (issue 18).
            let mut to_seal = Vec::new();
            for o in outcomes {
                let receipt = match o.log_index {
                    Some(i) => Some(logtree::receipt(tx, &o.id, i, &checkpoint)?),
                    None => None,
                };
                let media = match o.log_index {
                    Some(_) => tx.media_of_record(&o.id)?,
                    None => vec![],
                };
                for (m, complete) in &media {
                    if *complete
                        && m.purpose == custody_core::record::MediaPurpose::Face
                        && tx.face_key(&m.sha256)?.is_none_or(|k| k.sealed_ms.is_none())
                    {
                        to_seal.push(m.sha256);
                    }
                }
                let missing_media = media.into_iter().filter(|(_, c)| !c).map(|(m, _)| m.sha256).collect();
                results.push(RecordResult {
                    id: o.id,
                    status: o.status,
                    duplicate: o.duplicate,
                    findings: o.findings,
                    receipt,
                    missing_media,
                });
            }
            Ok(Ok((UploadResponse { results, anchor, checkpoint }, to_seal)))
        })
        .await??;
    let (resp, mut to_seal) = resp;
    to_seal.sort();
    to_seal.dedup();
    if !to_seal.is_empty() {
        let st = state.clone();
        tokio::task::spawn_blocking(move || {
            st.faces.seal_stored_all(&st.store, &st.blobs, &to_seal, st.now())
        })
        .await
        .map_err(AppError::internal)?;
    }
    // Records whose face photo is already here (sent before, or by another
    // route): re-checked now, after the write transaction (R1, R7).
    let accepted: Vec<Hash> =
        resp.results.iter().filter(|r| r.status == RecordStatus::Accepted).map(|r| r.id).collect();
    if !accepted.is_empty() {
        crate::face_recheck::recheck_async(&state, crate::store::face_rechecks::Pending::Records(accepted))
            .await;
    }
    Ok(Json(resp))
}

/// Add a co-signature (the witness co-signing a commission form, R10): only
/// the form's own witness, in their own name, authorised now (R1).
#[utoipa::path(post, path = "/v1/cosignatures", request_body = CosignRequest,
    responses((status = 200, body = RecordResult), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn cosign(
    State(state): State<AppState>,
    dev: AuthedDevice,
    body: axum::body::Bytes,
) -> ApiResult<Json<RecordResult>> {
    let req: CosignRequest = json_body(&body)?;
    if req.cosig.device != dev.key {
        return Err(AppError::bad_request(
            "cosign_not_yours",
            "只能提交本设备的会签",
            "a device may only submit its own co-signature",
        ));
    }
    let st = state.clone();
    let out = state
        .store
        .write_or_abort_async(move |tx| {
            let Some(row) = tx.record(&req.record)? else {
                return Ok(Err(AppError::not_found("record_unknown", "记录不存在", "no such record")));
            };
            let mut incoming = decode_stored(&row)?;
            if let Err(e) = incoming.attach_cosignature(req.cosig.clone()) {
                return Ok(Err(AppError::bad_request(
                    "cosign_invalid",
                    "会签无效",
                    format!("co-signature invalid: {e}"),
                )));
            }
            let now = st.now();
            let viewer = viewer_of(tx, &dev)?;
            if let Err(d) = access::cosign(&viewer, now, &incoming.body().payload, &req.cosig.author) {
                return Ok(Err(forbidden(d)));
            }
            let p = Pipeline { server_key: &st.key, known: &st.server_keys, policy: &st.config.policy, now };
            p.merge_cosignatures(tx, row.clone(), &incoming)?;
            let row = tx
                .record(&req.record)?
                .ok_or_else(|| StoreError::Corrupt("co-signed record vanished".into()))?;
            let v = crate::ingest::stored_verdict(&row)?;
            let checkpoint = logtree::checkpoint(tx, &st.key, now)?;
            let receipt = logtree::receipt(tx, &row.id, row.log_index, &checkpoint)?;
            Ok(Ok(RecordResult {
                id: row.id,
                status: row.status,
                duplicate: false,
                findings: crate::ingest::findings(&v),
                receipt: Some(receipt),
                missing_media: vec![],
            }))
        })
        .await??;
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The change sequence to continue after (0: from the start); at most
    /// 2^53 - 1, the largest integer every JSON reader keeps exact.
    #[serde(default)]
    #[param(maximum = 9007199254740991_u64)]
    pub after: u64,
    /// Items per page (more than the server's page size is served as its page size).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
}

/// Records this device should hold: its projects' custody records (a witness
/// receives the samplings to attest), commissions addressed to its lab —
/// again whenever one changes (accepted after waiting, co-signed). Only
/// authorisations in force open a project (`custody_core::access`).
#[utoipa::path(get, path = "/v1/feed", params(FeedQuery), responses((status = 200, body = FeedResponse)))]
pub async fn feed(
    State(state): State<AppState>,
    dev: AuthedDevice,
    Query(q): Query<FeedQuery>,
) -> ApiResult<Json<FeedResponse>> {
    if q.after > custody_core::canonical::MAX_SAFE_INTEGER {
        return Err(crate::error::AppError::bad_request(
            "out_of_range",
            "after 超出范围（最大 2^53 - 1）",
            "after is out of range (at most 2^53 - 1)",
        ));
    }
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    let now = state.now();
    let rows = state
        .store
        .read_async(move |tx| {
            let audiences = viewer_of(tx, &dev)?.feed_audiences(now);
            if audiences.is_empty() {
                return Ok(Vec::new());
            }
            tx.feed(&audiences, q.after, limit + 1)
        })
        .await?;
    let more = rows.len() > limit as usize;
    let items: Vec<FeedItem> = rows
        .into_iter()
        .take(limit as usize)
        .map(|r| {
            Ok(FeedItem {
                change: r.change_seq,
                log_index: r.log_index,
                status: r.status,
                envelope: RawValue::from_string(String::from_utf8(r.envelope).map_err(AppError::internal)?)
                    .map_err(AppError::internal)?,
            })
        })
        .collect::<ApiResult<_>>()?;
    let next = items.last().map_or(q.after, |i| i.change);
    Ok(Json(FeedResponse { items, next, more }))
}
