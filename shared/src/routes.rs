//! Every HTTP route of the sync server, named once.
//!
//! The server's router mounts exactly [`ALL`] (a test fails if one is
//! mounted that is not listed here, or listed and not mounted), and every
//! client — the field engine, printed QR codes, the console's links — builds
//! its paths with the functions below, so a path cannot be spelt two ways.
//! Templates use axum's `{name}` form for path parameters.

// The decisions others call: every public item says what it is for.
#![warn(missing_docs)]

use crate::crypto::Hash;
use crate::tag::TagCode;

/// The HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    /// A read.
    Get,
    /// A submission.
    Post,
    /// A partial update (a media chunk).
    Patch,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// Who may call a route: the first thing the server checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Anyone, without credentials (health, public checks, enrollment).
    Public,
    /// An enrolled device signing the request (`protocol::RequestAuth`).
    Device,
    /// An admin bearer token.
    Admin,
}

/// One route: method, path template, and who may call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path template (`{name}` parameters).
    pub path: &'static str,
    /// Who may call it.
    pub caller: Caller,
}

const fn r(method: Method, path: &'static str, caller: Caller) -> Route {
    Route { method, path, caller }
}

/// Liveness: the process answers.
pub const HEALTHZ: &str = "/healthz";
/// Readiness: the store answers.
pub const READYZ: &str = "/readyz";
/// Prometheus metrics.
pub const METRICS: &str = "/metrics";
/// The OpenAPI document of this API.
pub const OPENAPI: &str = "/openapi.json";
/// Enroll a device with a one-time code (R1).
pub const ENROLL: &str = "/v1/enroll";
/// The enrolled device's offline profile.
pub const PROFILE: &str = "/v1/profile";
/// A fresh server-signed time anchor (R8).
pub const TIME: &str = "/v1/time";
/// Upload signed records.
pub const RECORDS: &str = "/v1/records";
/// Add a co-signature (R10).
pub const COSIGNATURES: &str = "/v1/cosignatures";
/// Records a device should hold, by change sequence.
pub const FEED: &str = "/v1/feed";
/// The latest signed checkpoint of the transparency log (R14).
pub const LOG_CHECKPOINT: &str = "/v1/log/checkpoint";
/// Proof that the log extends a checkpoint a device holds.
pub const LOG_CONSISTENCY: &str = "/v1/log/consistency";
/// A record's inclusion proof at the latest checkpoint.
pub const LOG_RECEIPT: &str = "/v1/log/receipt/{id}";
/// A media file's upload: its status (GET) and its chunks (PATCH).
pub const MEDIA: &str = "/v1/media/{sha256}";
/// A media file's bytes, to those entitled.
pub const MEDIA_CONTENT: &str = "/v1/media/{sha256}/content";
/// A tag's verified custody trail for its lab and regulators (R11).
pub const LAB_TAG: &str = "/v1/lab/tags/{code}";
/// Violations of the asking regulator's jurisdiction (R18).
pub const VIOLATIONS: &str = "/v1/violations";
/// Anyone's check of a tag (R13).
pub const PUBLIC_TAG: &str = "/v1/public/tags/{code}";
/// Anyone's check of one custody record: the commission form's QR (R10).
pub const PUBLIC_RECORD: &str = "/v1/public/records/{id}";
/// Anyone's check of a report QR: status, lab, document hash, custody (R13).
pub const PUBLIC_REPORT: &str = "/v1/public/reports/{seal}";
/// The report QR's seal for the lab that issued the report (R13).
pub const LAB_REPORT_SEAL: &str = "/v1/lab/reports/{id}/seal";
/// The report PDF the system issued, for anyone holding a valid seal (R13).
pub const PUBLIC_REPORT_PDF: &str = "/v1/public/reports/{seal}/pdf";
/// The report PDF the system issued, for the lab that issued the report (R13).
pub const LAB_REPORT_PDF: &str = "/v1/lab/reports/{id}/pdf";
/// A sign-in to the web console the field app is asked to approve: what
/// is asking (GET) and the approval (POST).
pub const CONSOLE_LOGIN: &str = "/v1/console/logins/{id}";
/// A tag's trail, for an admin.
pub const ADMIN_TAG: &str = "/v1/admin/tags/{code}";
/// Violations of any jurisdiction, for an admin.
pub const ADMIN_VIOLATIONS: &str = "/v1/admin/violations";

/// A project's plans, pre-start gaps and progress (R2, R4, R5, R19, A4.1).
pub const PROJECT_PLANS: &str = "/v1/projects/{id}/plans";

/// Every route the server mounts.
pub const ALL: &[Route] = &[
    r(Method::Get, HEALTHZ, Caller::Public),
    r(Method::Get, READYZ, Caller::Public),
    r(Method::Get, METRICS, Caller::Public),
    r(Method::Get, OPENAPI, Caller::Public),
    r(Method::Post, ENROLL, Caller::Public),
    r(Method::Get, PUBLIC_TAG, Caller::Public),
    r(Method::Get, PUBLIC_RECORD, Caller::Public),
    r(Method::Get, PUBLIC_REPORT, Caller::Public),
    r(Method::Get, PUBLIC_REPORT_PDF, Caller::Public),
    r(Method::Get, PROFILE, Caller::Device),
    r(Method::Post, TIME, Caller::Device),
    r(Method::Post, RECORDS, Caller::Device),
    r(Method::Post, COSIGNATURES, Caller::Device),
    r(Method::Get, FEED, Caller::Device),
    r(Method::Get, LOG_CHECKPOINT, Caller::Device),
    r(Method::Get, LOG_CONSISTENCY, Caller::Device),
    r(Method::Get, LOG_RECEIPT, Caller::Device),
    r(Method::Get, MEDIA, Caller::Device),
    r(Method::Patch, MEDIA, Caller::Device),
    r(Method::Get, MEDIA_CONTENT, Caller::Device),
    r(Method::Get, LAB_TAG, Caller::Device),
    r(Method::Get, LAB_REPORT_SEAL, Caller::Device),
    r(Method::Get, LAB_REPORT_PDF, Caller::Device),
    r(Method::Get, VIOLATIONS, Caller::Device),
    r(Method::Get, PROJECT_PLANS, Caller::Device),
    r(Method::Get, CONSOLE_LOGIN, Caller::Device),
    r(Method::Post, CONSOLE_LOGIN, Caller::Device),
    r(Method::Get, ADMIN_TAG, Caller::Admin),
    r(Method::Get, ADMIN_VIOLATIONS, Caller::Admin),
];

/// Pages for people, printed as QR codes: the console mounts them (its
/// `paths::ALL` lists them as public), and they answer in HTML, each with a
/// JSON twin above.
///
/// The report QR's page (R13). Short on purpose: a QR's size grows with
/// every character.
pub const REPORT_CHECK: &str = "/q/{seal}";
/// One custody record's public page: the commission form's QR (R10).
pub const RECORD_PAGE: &str = "/r/{id}";

/// Fill a template's one `{…}` parameter.
fn fill(template: &str, value: &str) -> String {
    match (template.find('{'), template.find('}')) {
        (Some(a), Some(b)) if a < b => format!("{}{value}{}", &template[..a], &template[b + 1..]),
        _ => template.to_owned(),
    }
}

/// The path of a record's receipt.
pub fn log_receipt(id: &Hash) -> String {
    fill(LOG_RECEIPT, &id.to_hex())
}
/// The path of a media file's upload.
pub fn media(sha: &Hash) -> String {
    fill(MEDIA, &sha.to_hex())
}
/// The path of a media file's bytes.
pub fn media_content(sha: &Hash) -> String {
    fill(MEDIA_CONTENT, &sha.to_hex())
}
/// The path of a tag's trail for the lab.
pub fn lab_tag(tag: &TagCode) -> String {
    fill(LAB_TAG, tag.as_str())
}
/// The public check of a tag.
pub fn public_tag(tag: &TagCode) -> String {
    fill(PUBLIC_TAG, tag.as_str())
}
/// The public view of one record as JSON (the twin of [`record_page`]).
pub fn public_record(id: &Hash) -> String {
    fill(PUBLIC_RECORD, &id.to_hex())
}
/// The JSON check of a report seal.
pub fn public_report(seal: &str) -> String {
    fill(PUBLIC_REPORT, seal)
}
/// Where the lab fetches its report's seal.
pub fn lab_report_seal(id: &Hash) -> String {
    fill(LAB_REPORT_SEAL, &id.to_hex())
}
/// The issued report PDF, by its seal (anyone).
pub fn public_report_pdf(seal: &str) -> String {
    fill(PUBLIC_REPORT_PDF, seal)
}
/// The issued report PDF, for its lab.
pub fn lab_report_pdf(id: &Hash) -> String {
    fill(LAB_REPORT_PDF, &id.to_hex())
}
/// The report QR's page for a seal's text.
pub fn report_check(seal: &str) -> String {
    fill(REPORT_CHECK, seal)
}
/// The public page of one record (HTML), printed on the commission form (R10).
pub fn record_page(id: &Hash) -> String {
    fill(RECORD_PAGE, &id.to_hex())
}
/// A console sign-in the field app approves.
pub fn console_login(id: &str) -> String {
    fill(CONSOLE_LOGIN, id)
}
/// The admin's view of a tag's trail.
pub fn admin_tag(tag: &TagCode) -> String {
    fill(ADMIN_TAG, tag.as_str())
}
/// [`PROJECT_PLANS`] for a project.
pub fn project_plans(project: &crate::Id) -> String {
    fill(PROJECT_PLANS, project.as_str())
}
/// A feed page after a change sequence.
pub fn feed(after: u64, limit: u32) -> String {
    format!("{FEED}?after={after}&limit={limit}")
}
/// A consistency proof from a log size a device holds.
pub fn log_consistency(from: u64) -> String {
    format!("{LOG_CONSISTENCY}?from={from}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fill_their_one_parameter() {
        let h = Hash::of(b"x");
        assert_eq!(media_content(&h), format!("/v1/media/{}/content", h.to_hex()));
        assert_eq!(public_record(&h), format!("/v1/public/records/{}", h.to_hex()));
        let t = TagCode::from_parts(310, 26, 1, 42).unwrap();
        assert_eq!(lab_tag(&t), format!("/v1/lab/tags/{}", t.as_str()));
        assert_eq!(feed(5, 200), "/v1/feed?after=5&limit=200");
    }

    #[test]
    fn every_route_is_listed_once() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(a.path.starts_with('/'), "{a:?}");
            for b in &ALL[i + 1..] {
                assert!(!(a.method == b.method && a.path == b.path), "{a:?} listed twice");
            }
        }
    }
}
