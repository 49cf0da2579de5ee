//! R13: the report PDF the system issued (QR on every page, curves and the
//! lab's document attached) — for the lab's devices by report id, and for
//! anyone holding a valid seal. Rendered once and kept
//! (`reports::Issuer`); every download is the same bytes, whose SHA-256 the
//! check page shows.

use super::{ApiResult, check_failure, parse_hash};
use crate::AppState;
use crate::error::AppError;
use crate::report_pdf::PdfError;
use crate::reports::{self, IssuedFile, Issuer, PdfRefusal};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use custody_core::protocol::ApiError;
use custody_core::verify::Lang;

/// What a refusal answers: the seal's own failures as the check says them,
/// an upload still under way 409, a missing font 503 (a server to mend,
/// said in both languages), a failed rendering 500.
fn refusal(r: &PdfRefusal) -> AppError {
    if let PdfRefusal::Check(f) = r {
        return check_failure(f);
    }
    let status = match r {
        PdfRefusal::DocumentPending | PdfRefusal::CurvePending { .. } => StatusCode::CONFLICT,
        PdfRefusal::Pdf(PdfError::Render(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    AppError::new(status, r.code(), r.message(Lang::ZhCn), r.message(Lang::En))
}

/// The issued PDF of the report `seal` names (kept, or rendered and kept now).
pub(crate) async fn issued(state: &AppState, seal: String) -> ApiResult<Result<IssuedFile, PdfRefusal>> {
    let state = state.clone();
    let out = tokio::task::spawn_blocking(move || {
        let base = state.public_url(None);
        let font = || state.report_font();
        let media = state.media();
        Issuer {
            store: &state.store,
            media: &media,
            key: &state.key,
            base_url: &base,
            lab: &state.config.oversight.lab,
            font: &font,
            now: state.now(),
        }
        .pdf(&seal)
    })
    .await
    .map_err(AppError::internal)??;
    Ok(out)
}

/// RFC 5987 `filename*`: UTF-8, percent-encoded but for the attribute characters.
fn ext_value(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn pdf_response(f: IssuedFile) -> Response {
    let ascii: String = f
        .report_no
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .collect();
    let disposition = format!(
        "attachment; filename=\"report-{ascii}.pdf\"; filename*=UTF-8''{}",
        ext_value(&format!("检测报告-{}.pdf", f.report_no))
    );
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            // The bytes of an issued PDF never change.
            (header::ETAG, format!("\"{}\"", f.row.sha256.to_hex())),
        ],
        f.bytes,
    )
        .into_response()
}

/// R13: the report PDF the system issued, for anyone holding a valid seal
/// (the QR printed on it, or the check page's link): the same bytes every
/// time, whose SHA-256 the check answers as `issued_pdf`.
#[utoipa::path(get, path = "/v1/public/reports/{seal}/pdf", params(("seal" = String, Path, description = "the seal's base32 text")),
    responses((status = 200, content_type = "application/pdf", description = "the issued report PDF (PDF/A-3b)"),
        (status = 400, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 503, body = ApiError)))]
pub async fn public_report_pdf(
    State(state): State<AppState>,
    Path(seal): Path<String>,
) -> ApiResult<Response> {
    issued(&state, seal).await?.map(pdf_response).map_err(|r| refusal(&r))
}

/// R13: the report PDF the system issued, for the lab that issued the
/// report — its devices, as for the seal; issued only when the chain is
/// whole (else 409 with every gap named).
#[utoipa::path(get, path = "/v1/lab/reports/{id}/pdf", params(("id" = String, Path, description = "the report record's id")),
    responses((status = 200, content_type = "application/pdf", description = "the issued report PDF (PDF/A-3b)"),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 503, body = ApiError)))]
pub async fn lab_report_pdf(
    State(state): State<AppState>,
    dev: crate::auth::AuthedDevice,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_hash(&id)?;
    let (key, now, org, media) = (state.key.clone(), state.now(), dev.org.clone(), state.media());
    let lab = state.config.oversight.lab.clone();
    let seal = state
        .store
        .write_async(move |tx| reports::seal_for_lab(tx, &media, &key, &lab, &id, &org, now))
        .await?
        .map_err(|e| super::not_issued(&e))?;
    let text = seal
        .encode()
        .map_err(|e| AppError::bad_request("seal_invalid", e.message(Lang::ZhCn), e.message(Lang::En)))?;
    issued(&state, text).await?.map(pdf_response).map_err(|r| refusal(&r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_percent_encoded_as_rfc_5987_says() {
        assert_eq!(ext_value("检测报告-A 1.pdf"), "%E6%A3%80%E6%B5%8B%E6%8A%A5%E5%91%8A-A%201.pdf");
    }
}
