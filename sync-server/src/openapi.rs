//! The OpenAPI document, generated from the handlers' annotations and the
//! protocol types (checked against a committed snapshot by a test).

use axum::Json;
use custody_core::protocol::*;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(title = "见证取样 sync server", description = "Witnessed sampling (见证取样): signed records, trusted time, custody (R1-R21). Device requests are signed with the enrolled Ed25519 key: headers x-jzqy-device, x-jzqy-ts, x-jzqy-nonce, x-jzqy-sig over the canonical {method, path, body_sha256, ts, nonce} (domain jzqy/device-request/v1)."),
    paths(
        crate::api::healthz, crate::api::readyz, crate::api::enroll, crate::api::profile, crate::api::time,
        crate::api::upload, crate::api::cosign, crate::api::feed, crate::api::checkpoint, crate::api::consistency,
        crate::api::receipt, crate::api::media_status, crate::api::media_upload, crate::api::media_content,
        crate::api::lab_trail, crate::api::admin_trail, crate::api::violations, crate::api::admin_violations,
        crate::api::public_tag, crate::api::public_record, crate::api::public_report, crate::api::lab_report_seal,
        crate::api::public_report_pdf, crate::api::lab_report_pdf, crate::api::project_plans,
        crate::console::sign_in::device_info, crate::console::sign_in::device_approve,
    ),
    components(schemas(
        ApiError, Finding, EnrollmentOffer, EnrollRequest, EnrollResponse, GrantView, ProjectView, DeviceProfile,
        DeviceState, TimeResponse, UploadRequest, UploadResponse, RecordStatus, RecordResult, CosignRequest,
        FeedItem, FeedResponse, ConsistencyResponse, MediaStatus, TrailCheck, MediaView, TrailRecord, TrailResponse,
        ViolationView, PublicRecordView, PublicReportView, PublicSpecimen, PublicTestResult, PublicFigure, PublicFlag, IssuedPdf, ReportSealResponse, ConsoleLoginInfo,
        ConsoleApproval, ProjectPlansResponse, PreStartGapView,
    )),
    modifiers(&Security),
)]
pub struct ApiDoc;

struct Security;
impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("admin_token", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        standard_errors(openapi);
    }
}

/// What every operation may answer besides its own cases, in the one error
/// shape (`ApiError`), from who may call it (`custody_core::routes`): a
/// malformed request (400), a body over the limit (413), a timeout (408);
/// for signed and admin routes no or bad credentials (401), and for signed
/// routes a revoked phone or a stale request (403) and too many requests
/// from one device (429). Documented once here rather than on each handler,
/// so a new route cannot forget them (the API fuzzing checks every answer
/// against this document).
fn standard_errors(openapi: &mut utoipa::openapi::OpenApi) {
    use custody_core::routes::{ALL, Caller};
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |what: &str| {
        ResponseBuilder::new()
            .description(what)
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("ApiError"))).build(),
            )
            .build()
    };
    for route in ALL {
        let Some(item) = openapi.paths.paths.get_mut(route.path) else { continue };
        let op = match route.method {
            custody_core::routes::Method::Get => item.get.as_mut(),
            custody_core::routes::Method::Post => item.post.as_mut(),
            custody_core::routes::Method::Patch => item.patch.as_mut(),
        };
        let Some(op) = op else { continue };
        let mut add = |code: &str, what: &str| {
            op.responses.responses.entry(code.into()).or_insert_with(|| error(what).into());
        };
        add("400", "malformed request");
        add("408", "request timed out");
        add("413", "request too large");
        if route.caller != Caller::Public {
            add("401", "no or bad credentials");
        }
        if route.caller == Caller::Device {
            add("403", "revoked device, stale or replayed request, or not yours to see");
            add("429", "too many requests");
        }
    }
}

pub fn spec() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

pub fn spec_json() -> String {
    spec().to_pretty_json().expect("OpenAPI document serialises") + "\n"
}

pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(spec())
}
