//! Authentication. Devices sign every request with their enrolled key
//! (method, path, body hash, time, nonce; see `protocol::RequestAuth`);
//! replays are refused by nonce. Admins present a bearer token whose hash is
//! in the store.

use crate::AppState;
use crate::error::AppError;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use custody_core::model::{Id, OrgRole};
use custody_core::protocol::{H_DEVICE, H_NONCE, H_SIG, H_TS, REQUEST_SKEW_MS, RequestAuth};
use custody_core::{Hash, PublicKey, Signature};

/// The device a request came from, after its signature checked out.
#[derive(Debug, Clone)]
pub struct AuthedDevice {
    pub key: PublicKey,
    pub person: Id,
    pub org: Id,
    pub org_role: OrgRole,
}

fn header<'a>(parts: &'a Parts, name: &str) -> Result<&'a str, AppError> {
    parts.headers.get(name).and_then(|v| v.to_str().ok()).ok_or_else(|| {
        AppError::unauthorized(
            "auth_missing",
            format!("请求缺少设备签名（{name}）"),
            format!("request is not signed by a device (missing {name})"),
        )
    })
}

/// A method the route does not take is answered 405 before anything is
/// asked of the caller (the route list says which it takes).
fn method_not_taken(req: &Request) -> Option<AppError> {
    let path = req.extensions().get::<axum::extract::MatchedPath>()?.as_str();
    let routes: Vec<&custody_core::routes::Route> =
        custody_core::routes::ALL.iter().filter(|r| r.path == path).collect();
    let method = req.method().as_str();
    if routes.is_empty() || routes.iter().any(|r| r.method.as_str() == method) {
        return None;
    }
    let allow = routes.iter().map(|r| r.method.as_str()).collect::<Vec<_>>().join(", ");
    Some(
        AppError::new(
            axum::http::StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "该接口不支持此请求方法",
            "method not allowed on this endpoint",
        )
        .with_detail(serde_json::json!({ "allow": allow })),
    )
}

/// Middleware: verify the device signature, buffering the body (up to `limit`).
pub async fn device_auth(
    State((state, limit)): State<(AppState, usize)>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    if let Some(e) = method_not_taken(&req) {
        return Err(e);
    }
    let (mut parts, body) = req.into_parts();
    let key: PublicKey = header(&parts, H_DEVICE)?
        .parse()
        .map_err(|_| AppError::unauthorized("auth_bad_key", "设备公钥格式错误", "malformed device key"))?;
    let ts: i64 = header(&parts, H_TS)?
        .parse()
        .ok()
        .filter(|ts| custody_core::protocol::request_time_in_range(*ts))
        .ok_or_else(|| {
            AppError::unauthorized(
                "auth_bad_ts",
                "请求时间格式错误或超出范围",
                "malformed or out-of-range request time",
            )
        })?;
    let nonce = header(&parts, H_NONCE)?.to_owned();
    if nonce.is_empty() || nonce.len() > 64 {
        return Err(AppError::unauthorized(
            "auth_bad_nonce",
            "请求随机数格式错误",
            "malformed request nonce",
        ));
    }
    let sig: Signature = header(&parts, H_SIG)?
        .parse()
        .map_err(|_| AppError::unauthorized("auth_bad_sig", "签名格式错误", "malformed signature"))?;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        AppError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("请求过大（上限 {} KB）", limit / 1024),
            format!("request too large (limit {} KB)", limit / 1024),
        )
    })?;
    let path = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let auth = RequestAuth {
        method: parts.method.as_str().to_owned(),
        path,
        body_sha256: Hash::of(&bytes),
        ts,
        nonce: nonce.clone(),
    };
    if !auth.verify(&key, &sig) {
        return Err(AppError::unauthorized(
            "auth_bad_signature",
            "设备签名无效",
            "device signature does not verify",
        ));
    }
    let now = state.now();
    crate::status::note_clock(ts - now);
    if (ts - now).abs() > REQUEST_SKEW_MS {
        return Err(AppError::unauthorized(
            "clock_skew",
            "设备时间与服务器相差过大：请同步时间后重试",
            "device time is too far from the server's: resync time and retry",
        )
        .with_detail(serde_json::json!({ "server_ms": now })));
    }
    let device = state
        .store
        .write_async(move |tx| {
            let d = tx.device(&key)?;
            let fresh = match &d {
                Some(_) => tx.use_nonce(&key, &nonce, now + 2 * REQUEST_SKEW_MS, now)?,
                None => true,
            };
            Ok((d, fresh))
        })
        .await?;
    let (Some(d), fresh) = device else {
        return Err(AppError::unauthorized(
            "device_unknown",
            "设备未注册：请扫描注册二维码",
            "device not enrolled: scan an enrollment QR",
        ));
    };
    if !fresh {
        return Err(AppError::unauthorized(
            "replay",
            "重复的请求（疑似重放）",
            "request already seen (replay)",
        ));
    }
    if let Some(r) = d.revoked_ms
        && r <= now
    {
        return Err(AppError::forbidden("device_revoked", "设备已被注销", "device has been revoked"));
    }
    parts.extensions.insert(AuthedDevice { key, person: d.person, org: d.org, org_role: d.org_role });
    Ok(next.run(Request::from_parts(parts, Body::from(bytes))).await)
}

impl<S: Send + Sync> FromRequestParts<S> for AuthedDevice {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<AuthedDevice>().cloned().ok_or_else(|| {
            AppError::unauthorized("auth_missing", "请求未经设备签名", "request is not signed by a device")
        })
    }
}

/// An admin bearer token, checked against the store.
pub struct AdminAuth;

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                AppError::unauthorized("admin_token_missing", "需要管理员令牌", "admin token required")
            })?;
        let h = Hash::of(token.trim().as_bytes());
        let ok = state.store.read_async(move |tx| tx.admin_token_valid(&h)).await?;
        if ok {
            Ok(AdminAuth)
        } else {
            Err(AppError::unauthorized("admin_token_invalid", "管理员令牌无效", "admin token invalid"))
        }
    }
}
