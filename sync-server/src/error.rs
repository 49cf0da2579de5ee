//! One error shape for every endpoint: HTTP status + `ApiError` JSON with a
//! stable code and a message in Chinese and English.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use custody_core::protocol::ApiError;

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub body: ApiError,
}

impl AppError {
    pub fn new(status: StatusCode, code: &str, zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError { status, body: ApiError::new(code, zh, en) }
    }
    pub fn with_detail(mut self, detail: serde_json::Value) -> AppError {
        self.body.detail = Some(detail);
        self
    }
    pub fn bad_request(code: &str, zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, code, zh, en)
    }
    pub fn unauthorized(code: &str, zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::new(StatusCode::UNAUTHORIZED, code, zh, en)
    }
    pub fn forbidden(code: &str, zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::new(StatusCode::FORBIDDEN, code, zh, en)
    }
    pub fn not_found(code: &str, zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, code, zh, en)
    }
    pub fn internal(what: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %what, "internal error");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务器内部错误，请稍后重试",
            "internal server error; try again later",
        )
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> AppError {
        AppError::internal(e)
    }
}

impl From<crate::admin::AdminError> for AppError {
    fn from(e: crate::admin::AdminError) -> AppError {
        match e {
            crate::admin::AdminError::Store(s) => AppError::internal(s),
            other => AppError::bad_request("invalid", other.message_zh(), other.to_string()),
        }
    }
}

/// The JSON body of an axum rejection (bad JSON, missing field …) in our shape.
pub fn rejection(e: impl std::fmt::Display) -> AppError {
    AppError::bad_request("bad_request", format!("请求格式错误：{e}"), format!("malformed request: {e}"))
}

/// Every error answer in the one JSON shape, whatever produced it: axum's
/// own rejections (a malformed query or path, a body over the limit, a
/// method the route does not take), timeouts, and anything else that
/// answered 4xx/5xx in plain text. The original text goes into `detail`.
pub async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    // JSON answers are already in shape; the console's HTML pages are its own.
    let shaped = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || shaped {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let (code, zh, en) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "请求格式错误", "malformed request"),
        StatusCode::UNAUTHORIZED => ("unauthorized", "未认证", "not authenticated"),
        StatusCode::FORBIDDEN => ("forbidden", "无权访问", "forbidden"),
        StatusCode::NOT_FOUND => ("not_found", "不存在", "not found"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "该接口不支持此请求方法", "method not allowed on this endpoint")
        }
        StatusCode::REQUEST_TIMEOUT => ("timeout", "请求超时，请重试", "request timed out; retry"),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "请求过大", "request too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "请求内容类型不受支持", "unsupported content type")
        }
        StatusCode::UNPROCESSABLE_ENTITY => {
            ("unprocessable", "请求内容无法处理", "request content cannot be processed")
        }
        s if s.is_server_error() => {
            ("internal", "服务器内部错误，请稍后重试", "internal server error; try again later")
        }
        _ => ("error", "请求失败", "request failed"),
    };
    let mut err = AppError::new(status, code, zh, en);
    if !text.trim().is_empty() {
        err = err.with_detail(serde_json::json!({ "reason": text.trim() }));
    }
    let mut out = err.into_response();
    // Keep what the original answer said about retrying or allowed methods.
    for name in [axum::http::header::ALLOW, axum::http::header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}
