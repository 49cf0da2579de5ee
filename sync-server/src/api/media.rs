//! Media: resumable, content-addressed, write-once uploads by the devices
//! whose records list them; downloads as `custody_core::access::media` allows.

use super::{ApiResult, forbidden, parse_hash, viewer_of};
use crate::AppState;
use crate::auth::AuthedDevice;
use crate::blobs::{Progress, Uploader};
use crate::error::AppError;
use crate::store::MediaRow;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use custody_core::access;
use custody_core::protocol::*;

/// Where an upload of this media stands (resume from `received`).
#[utoipa::path(get, path = "/v1/media/{sha256}", params(("sha256" = String, Path,)), responses((status = 200, body = MediaStatus), (status = 404, body = ApiError)))]
pub async fn media_status(
    State(state): State<AppState>,
    dev: AuthedDevice,
    Path(sha): Path<String>,
) -> ApiResult<Json<MediaStatus>> {
    let sha = parse_hash(&sha)?;
    let key = dev.key;
    let blobs = state.blobs.clone();
    let (row, declared) =
        state.store.read_async(move |tx| Ok((tx.media(&sha)?, tx.media_ref_by_device(&sha, &key)?))).await?;
    // The asking device's own declaration first: another device may have
    // declared the same hash with another size.
    let size = match (&row, &declared) {
        (_, Some((s, _))) => *s,
        (Some(r), None) => r.size,
        (None, None) => {
            return Err(AppError::not_found(
                "media_unknown",
                "没有记录引用该文件",
                "no record references this media",
            ));
        }
    };
    let who = Uploader::device(&key);
    let received = tokio::task::spawn_blocking({
        let (blobs, who) = (blobs.clone(), who.clone());
        move || blobs.received(&sha, &who)
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    let complete = row.as_ref().is_some_and(|r| r.complete);
    if received == size
        && !complete
        && let Some((_, media_type)) = declared
    {
        // Every byte of this device's upload arrived, but the request that
        // brought the last one never finished it: the server was killed
        // between storing the chunk and making the object, or between the
        // object and its row. The device has nothing left to send, so it
        // is finished here, by the same hash check the last chunk runs.
        let finished = tokio::task::spawn_blocking(move || blobs.complete_upload(&sha, &who, size))
            .await
            .map_err(AppError::internal)?;
        return match finished {
            Ok(Progress::Complete) => {
                record_complete(&state, sha, size, &media_type).await?;
                Ok(Json(MediaStatus { sha256: sha, size, received, complete: true }))
            }
            Ok(Progress::Partial(n)) => {
                Ok(Json(MediaStatus { sha256: sha, size, received: n, complete: false }))
            }
            // Bytes that do not hash to the name are discarded: start again.
            Err(crate::blobs::BlobError::HashMismatch { .. }) => {
                Ok(Json(MediaStatus { sha256: sha, size, received: 0, complete: false }))
            }
            Err(e) => Err(AppError::internal(e)),
        };
    }
    Ok(Json(MediaStatus { sha256: sha, size, received, complete }))
}

/// The media row, written once an upload is complete — its bytes matched
/// the hash at exactly the declared size — never by a first chunk from
/// whoever declared the hash. Its type is informational and allowlisted:
/// what is served is decided from the owning record.
async fn record_complete(
    state: &AppState,
    sha: custody_core::Hash,
    size: u64,
    media_type: &str,
) -> ApiResult<()> {
    let now = state.now();
    let media_type = access::served_media_type(media_type).to_owned();
    // Whether it is a face is asked again in the transaction that records it
    // complete: a record declaring it a face commits either before (seen
    // here) or after (it then finds the bytes complete and seals them itself).
    let face = state
        .store
        .write_async(move |tx| {
            tx.upsert_media(
                &MediaRow { sha256: sha, size, media_type, received: size, complete: true },
                now,
            )?;
            tx.is_face(&sha)
        })
        .await?;
    if face {
        face_completed(state, sha, now).await?;
    }
    Ok(())
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
    let (declared, face) = state
        .store
        .read_async(move |tx| Ok((tx.media_ref_by_device(&sha, &key)?, tx.is_face(&sha)?)))
        .await?;
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
    let st = state.clone();
    let chunk_len = body.len() as u64;
    let put = tokio::task::spawn_blocking(move || {
        // A face sent whole is sealed before anything is written (issue 18):
        // its bytes are never stored in the clear.
        if face && offset == 0 && chunk_len == length && !st.blobs.exists(&sha)? {
            let actual = custody_core::Hash::of(&body);
            if actual != sha {
                return Err(crate::blobs::BlobError::HashMismatch { expected: sha, actual });
            }
            st.faces
                .put_face(&st.store, &st.blobs, &body, st.now())
                .map_err(|e| crate::blobs::BlobError::Bucket(e.to_string()))?;
            return Ok(crate::blobs::Progress::Complete);
        }
        st.blobs.put_chunk(&sha, &Uploader::device(&key), length, offset, &body)
    })
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
        Progress::Partial(n) => (n, false),
        Progress::Complete => (size, true),
    };
    if complete {
        record_complete(&state, sha, size, &media_type).await?;
    }
    Ok(Json(MediaStatus { sha256: sha, size, received, complete }))
}

/// A face photo's upload completed: sealed at rest (issue 18), then
/// re-checked by the server against the person's reference before the
/// upload is answered, so a trail read afterwards already holds the result
/// (R1, R7, issue 19).
async fn face_completed(state: &AppState, sha: custody_core::Hash, now: i64) -> ApiResult<()> {
    let st = state.clone();
    tokio::task::spawn_blocking(move || st.faces.seal_stored_all(&st.store, &st.blobs, &[sha], now))
        .await
        .map_err(AppError::internal)?;
    crate::face_recheck::recheck_async(state, crate::store::face_rechecks::Pending::Photo(sha)).await;
    Ok(())
}

/// Download a media file the device is entitled to (`custody_core::access`):
/// photos of the projects it is authorised on now, and its own person's face
/// reference; never another person's face (PIPL). Served with the type the
/// owning record declared, if allowlisted, never sniffed; anything not a
/// picture, video or PDF only as a download.
#[utoipa::path(get, path = "/v1/media/{sha256}/content", params(("sha256" = String, Path,)), responses((status = 200, description = "the bytes"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn media_content(
    State(state): State<AppState>,
    dev: AuthedDevice,
    Path(sha): Path<String>,
) -> ApiResult<Response> {
    let sha = parse_hash(&sha)?;
    let now = state.now();
    let reader = crate::faces::Reader {
        name: format!("device {}", dev.key.fingerprint()),
        person: Some(dev.person.clone()),
        ip: "-".into(),
    };
    let decision = state
        .store
        .read_async(move |tx| {
            let Some(m) = tx.media(&sha)? else { return Ok(None) };
            if !m.complete {
                return Ok(None);
            }
            let viewer = viewer_of(tx, &dev)?;
            let refs = crate::facts::media_references(tx, &sha)?;
            // A face photo's read is logged (PIPL): the device API gives
            // one only to its own person, their enrolled reference (R1).
            let own_face = viewer.grants_in_force(now).any(|g| g.face_reference == Some(sha));
            let face_of = own_face.then(|| viewer.person.clone());
            Ok(Some(access::media(&viewer, now, &sha, &refs).map(|s| (s, face_of))))
        })
        .await?;
    let (served, face_of) = match decision {
        None => {
            return Err(AppError::not_found(
                "media_unknown",
                "文件不存在或未上传完成",
                "media unknown or incomplete",
            ));
        }
        Some(Err(d)) => return Err(forbidden(d)),
        Some(Ok(served)) => served,
    };
    let st = state.clone();
    let bytes = tokio::task::spawn_blocking(move || st.faces.read(&st.store, &st.blobs, &sha))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    if let Some(subject) = face_of {
        state
            .store
            .write_async(move |tx| {
                crate::faces::log_read(tx, &sha, Some(subject), &reader, crate::faces::Via::Api, now)
            })
            .await?;
    }
    let disposition = if access::inline_media_type(served) { "inline" } else { "attachment" };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(served));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(disposition));
    Ok(resp)
}
