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
