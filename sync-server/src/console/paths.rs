//! Every page and action of the web console, named once: the router mounts
//! exactly [`ALL`], pages link with these constants, and the authorisation
//! matrix test (`tests/console.rs`) fails when a path here has no row.

/// Who a path is for: the first thing its handler checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone (sign-in pages, assets, the device's approval API).
    Public,
    /// A signed-in account finishing its setup (password, second factor).
    Setup,
    /// Any signed-in account; what it sees is scoped by `custody_core::access`.
    SignedIn,
    /// Administrators only (`access::administer`).
    Admin,
}

/// An HTTP method of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// One page or action.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub method: Method,
    pub path: &'static str,
    pub audience: Audience,
}

const fn p(method: Method, path: &'static str, audience: Audience) -> Page {
    Page { method, path, audience }
}

pub const HOME: &str = "/console";
pub const ASSET: &str = "/console/assets/{file}";
pub const LOGIN: &str = "/console/login";
pub const LOGIN_QR: &str = "/console/login/qr/{id}";
pub const SETUP: &str = "/console/setup";
pub const LOGOUT: &str = "/console/logout";
pub const LOGOUT_ALL: &str = "/console/logout-all";
pub const LANG: &str = "/console/lang";
pub const ACCOUNT: &str = "/console/account";
pub const PROJECTS: &str = "/console/projects";
pub const PROJECT: &str = "/console/projects/{id}";
/// A project's plans before work starts, pre-start gaps, progress (issue 15).
pub const PROJECT_PLANS: &str = "/console/projects/{id}/plans";
/// A plan form read and judged: the payload to sign, or every problem.
pub const PROJECT_PLANS_DRAFT: &str = "/console/projects/{id}/plans/draft";
pub const RECORDS: &str = "/console/records";
pub const RECORDS_CSV: &str = "/console/records.csv";
pub const RECORD: &str = "/console/records/{id}";
pub const MEDIA: &str = "/console/media/{sha}";
pub const TAG: &str = "/console/tags/{code}";
pub const VIOLATIONS: &str = "/console/violations";
pub const OVERSIGHT: &str = "/console/oversight";
pub const OVERSIGHT_CSV: &str = "/console/oversight.csv";
pub const OVERSIGHT_PROJECT: &str = "/console/oversight/{id}";
pub const OVERSIGHT_EVENTS: &str = "/console/oversight-events";
pub const DRAWS: &str = "/console/draws";
/// The lab desk (R11-R13): a lab's received specimens and their stage.
pub const LAB_DESK: &str = "/console/lab";
/// One test: the curve with the recomputed values marked, reviews, corrections.
pub const LAB_TEST: &str = "/console/lab/tests/{id}";
pub const DRAW_PUBLIC: &str = "/console/public/draws/{id}";
pub const DRAW_JSON: &str = "/console/public/draws/{id}/json";
/// The report QR's page (R13): anyone with a phone camera.
pub const REPORT_CHECK: &str = custody_core::routes::REPORT_CHECK;
/// A custody record's public page (the commission form's QR, R10).
pub const RECORD_PAGE: &str = custody_core::routes::RECORD_PAGE;
/// A lab's registry (R3): its own people and administrators.
pub const REGISTRY: &str = "/console/registry";
/// The operator's queue (GET) and a lab's change request (POST).
pub const REGISTRY_QUEUE: &str = "/console/registry/requests";
pub const REGISTRY_APPROVE: &str = "/console/registry/requests/{id}/approve";
pub const REGISTRY_REFUSE: &str = "/console/registry/requests/{id}/refuse";
pub const ADMIN_ORGS: &str = "/console/admin/orgs";
pub const ADMIN_PEOPLE: &str = "/console/admin/people";
pub const ADMIN_PERSON: &str = "/console/admin/people/{id}";
pub const ADMIN_GRANTS: &str = "/console/admin/grants";
pub const ADMIN_GRANT_REVOKE: &str = "/console/admin/grants/{id}/revoke";
pub const ADMIN_ENROLL: &str = "/console/admin/people/{id}/enroll";
pub const ADMIN_DEVICES: &str = "/console/admin/devices";
pub const ADMIN_DEVICE_REVOKE: &str = "/console/admin/devices/{key}/revoke";
pub const ADMIN_PROJECTS: &str = "/console/admin/projects";
pub const ADMIN_UNITS: &str = "/console/admin/units";
pub const ADMIN_TAGS: &str = "/console/admin/tags";
pub const ADMIN_LABS: &str = "/console/admin/labs";
pub const ADMIN_ACCOUNTS: &str = "/console/admin/accounts";
pub const ADMIN_ACCOUNT_RESET: &str = "/console/admin/accounts/{id}/reset";
pub const ADMIN_ACCOUNT_DISABLE: &str = "/console/admin/accounts/{id}/disable";
pub const ADMIN_AUDIT: &str = "/console/admin/audit";
pub const ADMIN_AUDIT_CSV: &str = "/console/admin/audit.csv";
/// Every read of a face photo, from any path (issue 18, PIPL).
pub const ADMIN_FACE_READS_CSV: &str = "/console/admin/face-reads.csv";
pub const ADMIN_STATUS: &str = "/console/admin/status";

use Audience::*;
use Method::*;

/// Every page and action the console serves.
pub const ALL: &[Page] = &[
    p(Get, HOME, SignedIn),
    p(Get, ASSET, Public),
    p(Get, LOGIN, Public),
    p(Post, LOGIN, Public),
    p(Get, LOGIN_QR, Public),
    p(Get, SETUP, Setup),
    p(Post, SETUP, Setup),
    p(Post, LOGOUT, Setup),
    p(Post, LOGOUT_ALL, SignedIn),
    p(Get, LANG, Public),
    p(Get, ACCOUNT, SignedIn),
    p(Get, PROJECTS, SignedIn),
    p(Get, PROJECT, SignedIn),
    p(Get, RECORDS, SignedIn),
    p(Get, RECORDS_CSV, SignedIn),
    p(Get, RECORD, SignedIn),
    p(Get, MEDIA, SignedIn),
    p(Get, TAG, SignedIn),
    p(Get, VIOLATIONS, SignedIn),
    p(Get, OVERSIGHT, SignedIn),
    p(Get, OVERSIGHT_CSV, SignedIn),
    p(Get, OVERSIGHT_PROJECT, SignedIn),
    p(Get, OVERSIGHT_EVENTS, SignedIn),
    p(Get, PROJECT_PLANS, SignedIn),
    p(Post, PROJECT_PLANS_DRAFT, SignedIn),
    p(Get, LAB_DESK, SignedIn),
    p(Get, LAB_TEST, SignedIn),
    p(Get, DRAWS, SignedIn),
    p(Post, DRAWS, SignedIn),
    p(Get, DRAW_PUBLIC, Public),
    p(Get, DRAW_JSON, Public),
    p(Get, REPORT_CHECK, Public),
    p(Get, RECORD_PAGE, Public),
    p(Get, REGISTRY, SignedIn),
    p(Post, REGISTRY_QUEUE, SignedIn),
    p(Get, REGISTRY_QUEUE, Admin),
    p(Post, REGISTRY_APPROVE, Admin),
    p(Post, REGISTRY_REFUSE, Admin),
    p(Get, ADMIN_ORGS, Admin),
    p(Post, ADMIN_ORGS, Admin),
    p(Get, ADMIN_PEOPLE, Admin),
    p(Post, ADMIN_PEOPLE, Admin),
    p(Get, ADMIN_PERSON, Admin),
    p(Post, ADMIN_GRANTS, Admin),
    p(Post, ADMIN_GRANT_REVOKE, Admin),
    p(Post, ADMIN_ENROLL, Admin),
    p(Get, ADMIN_DEVICES, Admin),
    p(Post, ADMIN_DEVICE_REVOKE, Admin),
    p(Get, ADMIN_PROJECTS, Admin),
    p(Post, ADMIN_PROJECTS, Admin),
    p(Post, ADMIN_UNITS, Admin),
    p(Post, ADMIN_TAGS, Admin),
    p(Post, ADMIN_LABS, Admin),
    p(Get, ADMIN_ACCOUNTS, Admin),
    p(Post, ADMIN_ACCOUNTS, Admin),
    p(Post, ADMIN_ACCOUNT_RESET, Admin),
    p(Post, ADMIN_ACCOUNT_DISABLE, Admin),
    p(Get, ADMIN_AUDIT, Admin),
    p(Get, ADMIN_AUDIT_CSV, Admin),
    p(Get, ADMIN_FACE_READS_CSV, Admin),
    p(Get, ADMIN_STATUS, Admin),
];

/// Fill a path's one `{…}` parameter.
pub fn fill(template: &str, value: &str) -> String {
    match (template.find('{'), template.find('}')) {
        (Some(a), Some(b)) if a < b => format!("{}{value}{}", &template[..a], &template[b + 1..]),
        _ => template.to_owned(),
    }
}
