//! Liveness, readiness and metrics: no authentication.

use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "the process is alive")))]
pub async fn healthz() -> &'static str {
    "ok"
}

#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "the store answers"), (status = 503, body = custody_core::protocol::ApiError, description = "the store does not answer")))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.read_async(|tx| tx.meta("schema")).await {
        Ok(_) => "ready".into_response(),
        Err(e) => crate::error::AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "存储不可用",
            format!("store unavailable: {e}"),
        )
        .into_response(),
    }
}

pub async fn metrics_text(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(h) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], h.render()).into_response(),
        None => crate::error::AppError::not_found("metrics_disabled", "未启用指标", "metrics disabled")
            .into_response(),
    }
}
