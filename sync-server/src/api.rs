//! The HTTP API. Handlers are thin: parse, authorise, call the pipeline or
//! the store on a worker thread, answer. Everything a device may not be told
//! about (face photos, other jurisdictions) is filtered here.

use crate::admin;
use crate::auth::{AdminAuth, AuthedDevice};
use crate::error::{AppError, rejection};
use crate::ingest::{Pipeline, decode_stored};
use crate::store::{MediaRow, StoreError};
use crate::{AppState, logtree, trail};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use custody_core::log::{Receipt, SignedCheckpoint};
use custody_core::model::{OrgRole, PersonRole};
use custody_core::protocol::*;
use custody_core::record::{MediaPurpose, Payload};
use custody_core::time::{AnchorBody, TimeAnchor};
use custody_core::{Hash, TagCode};
use serde::Deserialize;
use serde_json::value::RawValue;

type ApiResult<T> = Result<T, AppError>;

fn parse_hash(s: &str) -> ApiResult<Hash> {
    s.parse().map_err(|_| {
        AppError::bad_request(
            "bad_hash",
            "哈希格式错误（应为 64 位小写十六进制）",
            "malformed hash (64 lowercase hex digits)",
        )
    })
}

fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(rejection)
}

fn sign_anchor(
    state: &AppState,
    device: custody_core::PublicKey,
    s: &DeviceState,
    now: i64,
) -> (AnchorBody, TimeAnchor) {
    let body = AnchorBody {
        v: 1,
        device,
        boot_id: s.boot_id.clone(),
        device_mono_ms: s.mono_ms,
        server_ms: now,
        tail: s.tail,
    };
    (body.clone(), TimeAnchor::sign(body, &state.key))
}

#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "the process is alive")))]
pub async fn healthz() -> &'static str {
    "ok"
}

#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "the store answers"), (status = 503, description = "the store does not answer")))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.read_async(|tx| tx.meta("schema")).await {
        Ok(_) => "ready".into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("store unavailable: {e}")).into_response(),
    }
}

/// Enroll a device with a one-time code from an enrollment QR (R1).
#[utoipa::path(post, path = "/v1/enroll", request_body = EnrollRequest,
    responses((status = 200, body = EnrollResponse), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
pub async fn enroll(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> ApiResult<Json<EnrollResponse>> {
    let req: EnrollRequest = json_body(&body)?;
    if !req.device.verify(custody_core::crypto::Domain::DeviceRequest, req.code.as_bytes(), &req.proof) {
        return Err(AppError::bad_request(
            "enroll_bad_proof",
            "设备未能证明持有该密钥",
            "the device did not prove it holds the key",
        ));
    }
    let label = req.label.chars().take(80).collect::<String>();
    let st = state.clone();
    let resp = state
        .store
        .write_async(move |tx| {
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
                label: format!("{label} ({})", req.platform),
            });
            if let Err(e) = admin::submit_at(tx, &st.key, &st.config.policy, payload, vec![], now) {
                return Ok(Err(AppError::from(e)));
            }
            let profile = admin::profile(tx, &req.device, &st.key.public(), &st.config.policy)?
                .ok_or_else(|| StoreError::Corrupt("device just enrolled is missing".into()))?;
            let state = DeviceState { boot_id: req.boot_id.clone(), mono_ms: req.mono_ms, tail: None };
            let (ab, anchor) = sign_anchor(&st, req.device, &state, now);
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
    let (key, policy) = (state.key.public(), state.config.policy.clone());
    let p = state.store.read_async(move |tx| admin::profile(tx, &dev.key, &key, &policy)).await?;
    p.map(Json).ok_or_else(|| AppError::unauthorized("device_unknown", "设备未注册", "device not enrolled"))
}

/// A fresh server-signed time anchor bound to the device's boot and chain head.
#[utoipa::path(post, path = "/v1/time", request_body = DeviceState, responses((status = 200, body = TimeResponse)))]
pub async fn time(
    State(state): State<AppState>,
    dev: AuthedDevice,
    body: axum::body::Bytes,
) -> ApiResult<Json<TimeResponse>> {
    let s: DeviceState = json_body(&body)?;
    let (ab, anchor) = sign_anchor(&state, dev.key, &s, state.now());
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
        let trusted = [st.key.public()];
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
        .write_async(move |tx| {
            let now = st.now();
            let p = Pipeline { server_key: &st.key, policy: &st.config.policy, now };
            let mut outcomes = Vec::with_capacity(prepared.len());
            for pr in prepared {
                outcomes.push(p.ingest_prepared(tx, pr, Some(&dev.key))?);
            }
            let (ab, anchor) = sign_anchor(&st, dev.key, &device_state, now);
            tx.insert_anchor(&ab)?;
            let checkpoint = logtree::checkpoint(tx, &st.key, now)?;
            let mut results = Vec::with_capacity(outcomes.len());
            for o in outcomes {
                let receipt = match o.log_index {
                    Some(i) => Some(logtree::receipt(tx, &o.id, i, &checkpoint)?),
                    None => None,
                };
                let missing_media = match o.log_index {
                    Some(_) => tx
                        .media_of_record(&o.id)?
                        .into_iter()
                        .filter(|(_, c)| !c)
                        .map(|(m, _)| m.sha256)
                        .collect(),
                    None => vec![],
                };
                results.push(RecordResult {
                    id: o.id,
                    status: o.status,
                    duplicate: o.duplicate,
                    findings: o.findings,
                    receipt,
                    missing_media,
                });
            }
            Ok(UploadResponse { results, anchor, checkpoint })
        })
        .await?;
    Ok(Json(resp))
}

/// Add a co-signature (the witness co-signing a commission form, R10).
#[utoipa::path(post, path = "/v1/cosignatures", request_body = CosignRequest,
    responses((status = 200, body = RecordResult), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
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
        .write_async(move |tx| {
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
            let p = Pipeline { server_key: &st.key, policy: &st.config.policy, now };
            p.merge_cosignatures(tx, row.clone(), &incoming)?;
            let row = tx.record(&req.record)?.expect("record still there");
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
pub struct FeedQuery {
    #[serde(default)]
    pub after: u64,
    pub limit: Option<u32>,
}

/// Records this device should hold: its projects' custody records (a witness
/// receives the samplings to attest), commissions addressed to its lab —
/// again whenever one changes (accepted after waiting, co-signed).
#[utoipa::path(get, path = "/v1/feed", params(FeedQuery), responses((status = 200, body = FeedResponse)))]
pub async fn feed(
    State(state): State<AppState>,
    dev: AuthedDevice,
    Query(q): Query<FeedQuery>,
) -> ApiResult<Json<FeedResponse>> {
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    let (key, policy) = (state.key.public(), state.config.policy.clone());
    let rows = state
        .store
        .read_async(move |tx| {
            let mut audiences = vec![format!("org:{}", dev.org)];
            if let Some(p) = admin::profile(tx, &dev.key, &key, &policy)? {
                audiences.extend(p.projects.iter().map(|v| format!("project:{}", v.project.id)));
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

/// Where an upload of this media stands (resume from `received`).
#[utoipa::path(get, path = "/v1/media/{sha256}", params(("sha256" = String, Path,)), responses((status = 200, body = MediaStatus), (status = 404, body = ApiError)))]
pub async fn media_status(
    State(state): State<AppState>,
    dev: AuthedDevice,
    Path(sha): Path<String>,
) -> ApiResult<Json<MediaStatus>> {
    let sha = parse_hash(&sha)?;
    let blobs = state.blobs.clone();
    let (row, declared) = state
        .store
        .read_async(move |tx| Ok((tx.media(&sha)?, tx.media_ref_by_device(&sha, &dev.key)?)))
        .await?;
    let size = match (&row, &declared) {
        (Some(r), _) => r.size,
        (None, Some((s, _))) => *s,
        (None, None) => {
            return Err(AppError::not_found(
                "media_unknown",
                "没有记录引用该文件",
                "no record references this media",
            ));
        }
    };
    let received = tokio::task::spawn_blocking(move || blobs.received(&sha))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    Ok(Json(MediaStatus { sha256: sha, size, received, complete: row.is_some_and(|r| r.complete) }))
}

/// Upload one chunk of a media file (resumable, content-addressed, write-once).
#[utoipa::path(patch, path = "/v1/media/{sha256}", params(("sha256" = String, Path,)),
    responses((status = 200, body = MediaStatus), (status = 409, body = ApiError, description = "wrong offset: resume from detail.received"), (status = 422, body = ApiError, description = "hash mismatch")))]
pub async fn media_upload(
    State(state): State<AppState>,
    dev: AuthedDevice,
    Path(sha): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<MediaStatus>> {
    let sha = parse_hash(&sha)?;
    let num = |name: &str| -> ApiResult<u64> {
        headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).ok_or_else(|| {
            AppError::bad_request(
                "bad_upload_header",
                format!("缺少或错误的 {name} 头"),
                format!("missing or malformed {name} header"),
            )
        })
    };
    let offset = num(H_UPLOAD_OFFSET)?;
    let length = num(H_UPLOAD_LENGTH)?;
    let key = dev.key;
    let declared = state.store.read_async(move |tx| tx.media_ref_by_device(&sha, &key)).await?;
    let Some((size, media_type)) = declared else {
        return Err(AppError::not_found(
            "media_not_referenced",
            "请先上传引用该文件的记录",
            "upload the record that references this media first",
        ));
    };
    if length != size {
        return Err(AppError::bad_request(
            "media_length_mismatch",
            format!("文件长度 {length} 与记录中的 {size} 不符"),
            format!("length {length} differs from the {size} bytes the record declares"),
        ));
    }
    if size > state.config.limits.media_file_bytes {
        return Err(AppError::bad_request("media_too_large", "文件超过上限", "media file exceeds the limit"));
    }
    let blobs = state.blobs.clone();
    let chunk_len = body.len() as u64;
    let put = tokio::task::spawn_blocking(move || blobs.put_chunk(&sha, length, offset, &body))
        .await
        .map_err(AppError::internal)?;
    let progress = match put {
        Ok(p) => p,
        Err(crate::blobs::BlobError::Offset { have, .. }) => {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                "upload_offset_mismatch",
                format!("断点位置不符：服务器已收到 {have} 字节"),
                format!("offset mismatch: the server has {have} bytes"),
            )
            .with_detail(serde_json::json!({ "received": have })));
        }
        Err(e @ crate::blobs::BlobError::HashMismatch { .. }) => {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "hash_mismatch",
                "文件内容与哈希不符，已丢弃，请重新上传",
                e.to_string(),
            ));
        }
        Err(e @ crate::blobs::BlobError::TooLong { .. }) => {
            return Err(AppError::bad_request("too_long", "上传超过声明长度", e.to_string()));
        }
        Err(e) => return Err(AppError::internal(e)),
    };
    metrics::counter!("sync_media_bytes_total").increment(chunk_len);
    let (received, complete) = match progress {
        crate::blobs::Progress::Partial(n) => (n, false),
        crate::blobs::Progress::Complete => (size, true),
    };
    let now = state.now();
    state
        .store
        .write_async(move |tx| {
            tx.upsert_media(&MediaRow { sha256: sha, size, media_type, received, complete }, now)
        })
        .await?;
    Ok(Json(MediaStatus { sha256: sha, size, received, complete }))
}

/// Download a media file the device is entitled to: photos of its projects'
/// records, and its own person's face reference; never other faces (PIPL).
#[utoipa::path(get, path = "/v1/media/{sha256}/content", params(("sha256" = String, Path,)), responses((status = 200, description = "the bytes"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn media_content(
    State(state): State<AppState>,
    dev: AuthedDevice,
    Path(sha): Path<String>,
) -> ApiResult<Response> {
    let sha = parse_hash(&sha)?;
    let (key, policy) = (state.key.public(), state.config.policy.clone());
    let allowed = state
        .store
        .read_async(move |tx| {
            let Some(m) = tx.media(&sha)? else { return Ok(None) };
            if !m.complete {
                return Ok(None);
            }
            let projects: Vec<String> = admin::profile(tx, &dev.key, &key, &policy)?
                .map(|p| p.projects.iter().map(|v| v.project.id.to_string()).collect())
                .unwrap_or_default();
            // A person's own enrolled face reference goes to their own devices
            // (for the offline 1:1 check, R1); no other face photo leaves the
            // server except to admins (PIPL).
            if tx
                .grants_of(&dev.person)?
                .iter()
                .any(|g| g.face_reference == Some(sha) && g.revoked_ms.is_none())
            {
                return Ok(Some((m.media_type, true)));
            }
            let refs = tx.records_with_media(&sha)?;
            let face = refs.iter().any(|(_, purpose)| *purpose == MediaPurpose::Face);
            let in_project = refs.iter().any(|(p, _)| p.as_ref().is_some_and(|p| projects.contains(p)));
            Ok(Some((m.media_type, !face && in_project)))
        })
        .await?;
    match allowed {
        None => {
            Err(AppError::not_found("media_unknown", "文件不存在或未上传完成", "media unknown or incomplete"))
        }
        Some((_, false)) => Err(AppError::forbidden(
            "media_forbidden",
            "无权查看该文件（人脸照片仅限管理员）",
            "not entitled to this media (face photos are admin-only)",
        )),
        Some((ty, true)) => {
            let blobs = state.blobs.clone();
            let bytes = tokio::task::spawn_blocking(move || blobs.read(&sha))
                .await
                .map_err(AppError::internal)?
                .map_err(AppError::internal)?;
            Ok(([(header::CONTENT_TYPE, ty)], bytes).into_response())
        }
    }
}

fn parse_tag(code: &str) -> ApiResult<TagCode> {
    TagCode::parse_qr(code)
        .or_else(|_| TagCode::parse_digits(code))
        .map_err(|e| AppError::bad_request("bad_tag", e.message_zh(), e.to_string()))
}

/// The trail is proven against a checkpoint signed now, on the primary. Its
/// reads go to the read replica when it has replayed at least that much of
/// the log (so the lab never sees less than what was stored when it asked);
/// otherwise to the primary.
async fn trail_for(state: &AppState, tag: TagCode) -> ApiResult<TrailResponse> {
    let (key, now) = (state.key.clone(), state.now());
    let c = state.store.write_async(move |tx| logtree::checkpoint(tx, &key, now)).await?;
    let server = state.key.public();
    let (t, cp) = (tag.clone(), c.clone());
    let from_replica = state
        .store
        .read_replica_async(move |tx| {
            if tx.log_size()? < cp.checkpoint.size {
                return Ok(None);
            }
            trail::trail(tx, &t, &cp, &server).map(Some)
        })
        .await?;
    match from_replica {
        Some(t) => Ok(t),
        None => Ok(state.store.read_async(move |tx| trail::trail(tx, &tag, &c, &server)).await?),
    }
}

/// R11: the lab scans a tag and gets the verified custody trail.
#[utoipa::path(get, path = "/v1/lab/tags/{code}", params(("code" = String, Path, description = "tag code or QR text")),
    responses((status = 200, body = TrailResponse), (status = 403, body = ApiError)))]
pub async fn lab_trail(
    State(state): State<AppState>,
    dev: AuthedDevice,
    Path(code): Path<String>,
) -> ApiResult<Json<TrailResponse>> {
    let tag = parse_tag(&code)?;
    if dev.org_role != OrgRole::Lab && dev.org_role != OrgRole::Regulator {
        return Err(AppError::forbidden(
            "lab_only",
            "仅检测机构和监督机构可以核验",
            "only labs and regulators may verify trails",
        ));
    }
    Ok(Json(trail_for(&state, tag).await?))
}

#[utoipa::path(get, path = "/v1/admin/tags/{code}", params(("code" = String, Path,)), responses((status = 200, body = TrailResponse)), security(("admin_token" = [])))]
pub async fn admin_trail(
    State(state): State<AppState>,
    _a: AdminAuth,
    Path(code): Path<String>,
) -> ApiResult<Json<TrailResponse>> {
    Ok(Json(trail_for(&state, parse_tag(&code)?).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ViolationQuery {
    /// Administrative division code prefix (admins only; inspectors see their own).
    pub jurisdiction: Option<String>,
    #[serde(default)]
    pub after_ms: i64,
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
    if dev.org_role != OrgRole::Regulator {
        return Err(AppError::forbidden(
            "regulator_only",
            "仅监督机构可以查看违规记录",
            "only regulators may list violations",
        ));
    }
    let org = dev.org.clone();
    let person = dev.person.clone();
    let (juris, is_inspector) = state
        .store
        .read_async(move |tx| {
            let j = tx.org(&org)?.and_then(|o| o.jurisdiction);
            let inspector = tx
                .grants_of(&person)?
                .iter()
                .any(|g| g.role == PersonRole::Inspector && g.revoked_ms.is_none());
            Ok((j, inspector))
        })
        .await?;
    let Some(juris) = juris.filter(|_| is_inspector) else {
        return Err(AppError::forbidden(
            "no_jurisdiction",
            "未授权为监督员或单位无管辖区域",
            "not an authorised inspector, or no jurisdiction",
        ));
    };
    Ok(Json(violations_for(&state, Some(juris), q.after_ms, q.limit.unwrap_or(200).min(1000)).await?))
}

#[utoipa::path(get, path = "/v1/admin/violations", params(ViolationQuery), responses((status = 200, body = Vec<ViolationView>)), security(("admin_token" = [])))]
pub async fn admin_violations(
    State(state): State<AppState>,
    _a: AdminAuth,
    Query(q): Query<ViolationQuery>,
) -> ApiResult<Json<Vec<ViolationView>>> {
    Ok(Json(violations_for(&state, q.jurisdiction, q.after_ms, q.limit.unwrap_or(200).min(1000)).await?))
}

/// R13: anyone may check a tag or report QR; answers carry no personal data.
#[utoipa::path(get, path = "/v1/public/tags/{code}", params(("code" = String, Path,)), responses((status = 200, body = Object), (status = 404, body = ApiError)))]
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

pub async fn metrics_text(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(h) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], h.render()).into_response(),
        None => (StatusCode::NOT_FOUND, "metrics disabled").into_response(),
    }
}
