//! The sync protocol's wire types, shared by the server and the field app so
//! the two can never disagree about a field.
//!
//! Records travel as their canonical envelope bytes, embedded verbatim in
//! request and response JSON (`RawValue`): nothing on the way re-serialises
//! them, so the bytes the device signed are the bytes the server checks.
//!
//! Devices authenticate every request by signing it with their enrolled key
//! (see [`RequestAuth`]); admins use bearer tokens.

use crate::canonical;
use crate::crypto::{Domain, Hash, PublicKey, Signature, SigningKey};
use crate::log::{Receipt, SignedCheckpoint};
use crate::model::{Id, OrgRole, Organisation, Person, PersonRole, Project, UnitProject};
use crate::policy::Policy;
use crate::record::{ChainTail, LabAssignment};
use crate::tag::TagBatch;
use crate::time::TimeAnchor;
use crate::verify::{Disposition, Lang, Rule, Violation};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Version prefix of every API path.
pub const API: &str = "/v1";

// ---------------------------------------------------------------- auth

/// Header names of a device-signed request.
pub const H_DEVICE: &str = "x-jzqy-device";
pub const H_TS: &str = "x-jzqy-ts";
pub const H_NONCE: &str = "x-jzqy-nonce";
pub const H_SIG: &str = "x-jzqy-sig";
/// Accepted distance between a request's timestamp and the server clock.
/// Devices stamp requests with their best estimate of *server* time (from
/// anchors), so a phone whose clock was set wrong still gets in.
pub const REQUEST_SKEW_MS: i64 = 15 * 60 * 1000;

/// What a device signs to authenticate one request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestAuth {
    pub method: String,
    /// Path and query, exactly as sent.
    pub path: String,
    pub body_sha256: Hash,
    pub ts: i64,
    pub nonce: String,
}

impl RequestAuth {
    /// The signed bytes; `None` when the timestamp lies outside the
    /// canonical format's integer range (no such request can be signed).
    pub fn message(&self) -> Option<Vec<u8>> {
        canonical::to_canonical(self).ok()
    }
    /// Sign as a device. Devices stamp requests with a time near the
    /// server's, always inside the canonical range.
    pub fn sign(&self, key: &SigningKey) -> Signature {
        let message = self.message().unwrap_or_default();
        key.sign(Domain::DeviceRequest, &message)
    }
    /// Whether `sig` is the device's signature over this request. A request
    /// whose numbers are out of range verifies for no one.
    pub fn verify(&self, key: &PublicKey, sig: &Signature) -> bool {
        self.message().is_some_and(|m| key.verify(Domain::DeviceRequest, &m, sig))
    }
}

// ---------------------------------------------------------------- errors

/// Every error response body: a stable code apps can match on and a
/// message for people in both languages.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiError {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub detail: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(code: &str, zh: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError { code: code.into(), message_zh: zh.into(), message_en: en.into(), detail: None }
    }
    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::ZhCn => &self.message_zh,
            Lang::En => &self.message_en,
        }
    }
}

/// A rule finding as it travels (see [`crate::verify::Violation`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Finding {
    pub code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub rule: Rule,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub disposition: Disposition,
    pub message_zh: String,
    pub message_en: String,
    /// The finding's data (distances, times, tags …); `null` when it has none.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub detail: serde_json::Value,
}

impl From<&Violation> for Finding {
    fn from(v: &Violation) -> Finding {
        Finding {
            code: v.code(),
            rule: v.rule(),
            disposition: v.disposition(),
            message_zh: v.message(Lang::ZhCn),
            message_en: v.message(Lang::En),
            detail: serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
        }
    }
}

// ---------------------------------------------------------------- enrollment

/// What the admin's enrollment QR carries (R1): where the server is, a
/// one-time code, and what to pin (the server's signing key and, with TLS,
/// its certificate's SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EnrollmentOffer {
    pub v: u32,
    pub server_url: String,
    pub code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub server_key: PublicKey,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub tls_cert_sha256: Option<Hash>,
    /// Who the code is for (shown before enrolling, so the person can check).
    pub person_name: String,
    pub expires_ms: i64,
}

pub const OFFER_PREFIX: &str = "JZQY-ENROLL:";

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("not an enrollment QR of this system")]
pub struct NotAnOffer;

impl EnrollmentOffer {
    /// The QR text: a prefix and the canonical JSON in base64url.
    pub fn to_qr(&self) -> String {
        let json = canonical::to_canonical(self).expect("offer is canonical-safe");
        format!("{OFFER_PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }
    pub fn from_qr(text: &str) -> Result<EnrollmentOffer, NotAnOffer> {
        let b64 = text.trim().strip_prefix(OFFER_PREFIX).ok_or(NotAnOffer)?;
        let bytes = URL_SAFE_NO_PAD.decode(b64).map_err(|_| NotAnOffer)?;
        serde_json::from_slice(&bytes).map_err(|_| NotAnOffer)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EnrollRequest {
    pub code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub device: PublicKey,
    pub label: String,
    pub platform: String,
    pub boot_id: String,
    pub mono_ms: u64,
    /// The device's signature over the code (domain device-request): proves
    /// it holds the key it enrolls.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub proof: Signature,
}

impl EnrollRequest {
    /// The readings signed into the first anchor, as for [`DeviceState::check`].
    pub fn check(&self) -> Result<(), OutOfRange> {
        check_boot(&self.boot_id, self.mono_ms)
    }
}

/// One of the person's authorisations (R1), as the device sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GrantView {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub grant: Id,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub role: PersonRole,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub project: Option<Id>,
    pub valid_from_ms: i64,
    pub valid_until_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
    /// Reference face photo for the on-device 1:1 face check, if enrolled.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub face_reference: Option<Hash>,
}

/// A project as a device needs it offline: boundaries, usable tag batches,
/// commissioned labs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProjectView {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub project: Project,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub unit_projects: Vec<UnitProject>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub tag_batches: Vec<TagBatch>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub labs: Vec<LabAssignment>,
    /// Names of the organisations involved (labs, contractor …), for display.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub organisations: Vec<Organisation>,
}

/// Everything a device needs to work offline, refreshed on every sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeviceProfile {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub person: Person,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub org: Organisation,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub org_role: OrgRole,
    pub grants: Vec<GrantView>,
    pub projects: Vec<ProjectView>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub server_keys: Vec<PublicKey>,
    /// How each retired server key handed over to its successor, signed by
    /// the retiring key (issue 18): a device trusts a key in `server_keys`
    /// only if a handover chain leads to it from the key it enrolled with.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    #[serde(default)]
    pub key_handovers: Vec<crate::server_keys::SignedHandover>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub policy: Policy,
    /// People the device may need to name (witnesses of its projects …).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub people: Vec<Person>,
    pub device_revoked_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EnrollResponse {
    pub profile: DeviceProfile,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub anchor: TimeAnchor,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub checkpoint: SignedCheckpoint,
}

// ---------------------------------------------------------------- time

/// Where the device is when it asks: the anchor the server signs is bound to
/// this boot, this monotonic reading and this chain head.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeviceState {
    pub boot_id: String,
    pub mono_ms: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub tail: Option<ChainTail>,
}

/// A device's claim that cannot be signed into an anchor, said plainly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message_en}")]
pub struct OutOfRange {
    pub field: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

fn out_of_range(field: &'static str, what_zh: &str, what_en: &str) -> OutOfRange {
    OutOfRange {
        field,
        message_zh: format!("{what_zh}超出允许范围"),
        message_en: format!("{what_en} is out of range"),
    }
}

/// The longest boot id a device may declare (Linux's is 36 characters).
pub const MAX_BOOT_ID_LEN: usize = 128;

impl DeviceState {
    /// What the server signs into an anchor must be representable in the
    /// canonical format (integers within +-(2^53-1)) and of sane size.
    pub fn check(&self) -> Result<(), OutOfRange> {
        check_boot(&self.boot_id, self.mono_ms)?;
        if self.tail.is_some_and(|t| t.seq > canonical::MAX_SAFE_INTEGER) {
            return Err(out_of_range("tail.seq", "记录链序号", "tail.seq"));
        }
        Ok(())
    }
}

fn check_boot(boot_id: &str, mono_ms: u64) -> Result<(), OutOfRange> {
    if mono_ms > canonical::MAX_SAFE_INTEGER {
        return Err(out_of_range("mono_ms", "开机计时", "mono_ms"));
    }
    if boot_id.chars().count() > MAX_BOOT_ID_LEN || boot_id.chars().any(char::is_control) {
        return Err(out_of_range("boot_id", "开机标识", "boot_id"));
    }
    Ok(())
}

/// Whether a request timestamp can be part of a signed request at all.
pub fn request_time_in_range(ts: i64) -> bool {
    ts.unsigned_abs() <= canonical::MAX_SAFE_INTEGER
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TimeResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub anchor: TimeAnchor,
}

// ---------------------------------------------------------------- upload

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UploadRequest {
    pub state: DeviceState,
    /// Canonical record envelopes, in chain order, embedded verbatim.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub records: Vec<Box<RawValue>>,
}

/// What became of one uploaded record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum RecordStatus {
    /// Stored, logged, and in effect (possibly with flagged violations).
    Accepted,
    /// Stored and logged as evidence, but without custody effect.
    Refused,
    /// Stored and logged; waits for a record it names, then is judged again.
    Deferred,
    /// Not stored: malformed, forged, or out of its device's chain.
    Rejected,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecordResult {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: Hash,
    /// For a resend, the status the record already had.
    pub status: RecordStatus,
    /// The server already held this record byte for byte (idempotent resend).
    #[serde(default)]
    pub duplicate: bool,
    pub findings: Vec<Finding>,
    /// Proof of inclusion in the transparency log (stored records).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub receipt: Option<Receipt>,
    /// Media the record names that the server does not have yet.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub missing_media: Vec<Hash>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UploadResponse {
    pub results: Vec<RecordResult>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub anchor: TimeAnchor,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub checkpoint: SignedCheckpoint,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CosignRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub record: Hash,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub cosig: crate::record::Cosignature,
}

// ---------------------------------------------------------------- download

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FeedItem {
    /// The change sequence this item is at (records reappear when they change).
    pub change: u64,
    pub log_index: u64,
    pub status: RecordStatus,
    /// The canonical envelope with every co-signature received so far.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub envelope: Box<RawValue>,
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FeedResponse {
    pub items: Vec<FeedItem>,
    /// Pass as `after` to continue (a change sequence number).
    pub next: u64,
    pub more: bool,
}

// ---------------------------------------------------------------- log

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConsistencyResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub checkpoint: SignedCheckpoint,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub proof: Vec<Hash>,
}

// ---------------------------------------------------------------- media

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MediaStatus {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub sha256: Hash,
    pub size: u64,
    /// Bytes received so far; resume the upload from here.
    pub received: u64,
    pub complete: bool,
}

/// Header carrying the offset a media chunk starts at (like tus' `Upload-Offset`).
pub const H_UPLOAD_OFFSET: &str = "upload-offset";
/// Header carrying the media's total length on every chunk.
pub const H_UPLOAD_LENGTH: &str = "upload-length";

// ---------------------------------------------------------------- lab verification

/// One check in the lab's verdict on a specimen's trail.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrailCheck {
    pub name: String,
    pub ok: bool,
    pub message_zh: String,
    pub message_en: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MediaView {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub sha256: Hash,
    pub purpose: String,
    pub media_type: String,
    pub size: u64,
    pub complete: bool,
    /// Path to fetch it (authorised); `None` for face photos (PIPL).
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrailRecord {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: Hash,
    pub kind: String,
    pub kind_zh: String,
    pub author: String,
    pub author_name: String,
    pub org_name: String,
    pub device_fingerprint: String,
    pub seq: u64,
    pub log_index: u64,
    pub status: RecordStatus,
    pub first_seen_ms: i64,
    pub proven_earliest_ms: Option<i64>,
    pub proven_latest_ms: Option<i64>,
    pub claimed_ms: i64,
    pub findings: Vec<Finding>,
    pub media: Vec<MediaView>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub fixes: Vec<crate::place::Fix>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub receipt: Receipt,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub envelope: Box<RawValue>,
}

/// The server's verdict on one tag's whole custody trail (R11).
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrailResponse {
    pub tag: String,
    pub tag_printed: String,
    pub stage: String,
    pub stage_zh: String,
    /// True when every check passes: the lab may accept.
    pub ok: bool,
    pub summary_zh: String,
    pub summary_en: String,
    pub checks: Vec<TrailCheck>,
    /// The findings a lab must confirm, each, to accept the specimen anyway
    /// (its receipt lists their codes in `acknowledged`, R11).
    #[serde(default)]
    pub to_confirm: Vec<Finding>,
    /// The records of the tag's own project (another project's attempts to
    /// use the tag are counted in the checks, not shown).
    pub records: Vec<TrailRecord>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub checkpoint: SignedCheckpoint,
}

/// What anyone may learn about one custody record by its id — what the
/// commission form's QR opens (R10): what it is, that it is in the log,
/// when it was provably made, its tags; never who, where or their faces.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PublicRecordView {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: Hash,
    pub kind: String,
    pub kind_zh: String,
    pub status: RecordStatus,
    pub log_index: u64,
    pub first_seen_ms: i64,
    pub proven_earliest_ms: Option<i64>,
    pub proven_latest_ms: Option<i64>,
    /// Printed tag codes the record names.
    pub tags: Vec<String>,
    pub project_name: Option<String>,
    /// For a commission form: its number, the lab it is addressed to, how
    /// many specimens it lists, whether its witness has co-signed (R10).
    pub form_no: Option<String>,
    pub lab_name: Option<String>,
    pub specimens: Option<u32>,
    pub witness_cosigned: Option<bool>,
    /// Inclusion proof at the latest checkpoint: anyone holding the
    /// server's public key can check the record is in the log.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub receipt: Receipt,
}

/// R13: what the report QR's check answers (`/v1/public/reports/{seal}`,
/// and the page `/q/{seal}`): the seal verified, the report's standing
/// now, and the custody verdict of its specimens — without personal data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PublicReportView {
    /// The report record's id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub report: Hash,
    pub report_no: String,
    /// The lab's id and registered name.
    pub lab: String,
    pub lab_name: Option<String>,
    pub project_name: Option<String>,
    /// The test items and standards of its specimens' test data.
    pub tests: Vec<String>,
    pub conclusion: String,
    /// SHA-256 of the report document the lab signed: compare a printed
    /// or forwarded copy's file with it.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub document_sha256: Hash,
    /// When the system accepted it (its trusted time).
    pub issued_ms: i64,
    /// The fingerprint of the system key that signed the seal.
    pub key_id: String,
    /// `valid`, `replaced_by` (with the later report) or `revoked`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub status: crate::report_seal::ReportStatus,
    /// The check page of the report that replaced this one, if any.
    pub replaced_by_url: Option<String>,
    pub specimens: Vec<PublicSpecimen>,
    /// The report PDF the system issued (QR on every page, curves and the
    /// lab's document attached), once it has been: its SHA-256 is the one to
    /// compare a received PDF with. `None` until the lab's seal or a PDF
    /// route first issues it.
    #[serde(default)]
    pub issued_pdf: Option<IssuedPdf>,
}

/// R13: the report PDF as the system issued it, rendered once and kept.
/// (The QR on it cannot carry this hash — it is printed on the very file —
/// so the check page shows it.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct IssuedPdf {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub sha256: Hash,
    pub size: u64,
    /// Where anyone holding the seal downloads it.
    pub url: String,
}

/// One specimen of a checked report: its stage and the lab's verdict over
/// its custody trail, check by check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PublicSpecimen {
    /// The tag as printed.
    pub tag: String,
    pub stage: String,
    pub stage_zh: String,
    pub ok: bool,
    pub checks: Vec<TrailCheck>,
    /// Its tests recomputed by the system from their raw curves (R12).
    pub results: Vec<PublicTestResult>,
}

/// One test of a specimen as the system recomputed it from the raw curve
/// (R12): the figures, the lab's values beside them, and what to look at.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PublicTestResult {
    pub test: String,
    pub standard: String,
    /// The curve file's SHA-256, when the test names one.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub curve: Option<Hash>,
    /// When this test corrects earlier test data: why (the earlier one
    /// stays in the log, R12, R20).
    pub correction: Option<String>,
    pub figures: Vec<PublicFigure>,
    /// Each flag's code with its zh-CN and English message.
    pub flags: Vec<PublicFlag>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PublicFigure {
    /// The standard's symbol (`f_cu`, `ReL`, `Rm` …).
    pub name: String,
    pub unit: String,
    /// Rounded per GB/T 8170, and the raw value it came from.
    pub value: f64,
    pub raw: f64,
    /// What the lab reported for it, if it did.
    pub reported: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PublicFlag {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

/// R13: a report's seal for the lab that issued it: the QR's text (print
/// it on every page, error correction Q or H) and when the system issued it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReportSealResponse {
    /// The seal alone (base32).
    pub seal: String,
    /// What the QR carries: the check page's URL for this seal.
    pub qr: String,
    pub issued_ms: i64,
}

/// What the web console's sign-in QR carries (issue 13): where the server
/// is, which sign-in, and its secret. The field app scans it, shows who
/// is asking, and approves with the enrolled device's signed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConsoleLoginOffer {
    /// Format version (1).
    pub v: u32,
    /// The server the console belongs to: the phone refuses any other.
    pub server_url: String,
    /// The sign-in's id.
    pub id: String,
    /// Proof of having seen the QR, sent back with the approval.
    pub secret: String,
}

/// What starts a console sign-in QR's text.
pub const CONSOLE_OFFER_PREFIX: &str = "JZQY-CONSOLE:";

impl ConsoleLoginOffer {
    /// The QR text: a prefix and the canonical JSON in base64url.
    pub fn to_qr(&self) -> String {
        let json = canonical::to_canonical(self).unwrap_or_default();
        format!("{CONSOLE_OFFER_PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }
    /// Read a scanned QR's text.
    pub fn from_qr(text: &str) -> Result<ConsoleLoginOffer, NotAnOffer> {
        let b64 = text.trim().strip_prefix(CONSOLE_OFFER_PREFIX).ok_or(NotAnOffer)?;
        let bytes = URL_SAFE_NO_PAD.decode(b64).map_err(|_| NotAnOffer)?;
        serde_json::from_slice(&bytes).map_err(|_| NotAnOffer)
    }
}

/// What the phone shows before approving a console sign-in: where the
/// request came from, so a person does not approve someone else's browser.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConsoleLoginInfo {
    /// The sign-in's id (shown on the console's page too).
    pub id: String,
    /// The address the browser asked from.
    pub ip: String,
    /// The browser's own description of itself.
    pub agent: String,
    /// When the QR was shown, ms since the epoch.
    pub created_ms: i64,
    /// When it stops being usable.
    pub expires_ms: i64,
    /// Already approved or used: nothing to approve.
    pub pending: bool,
}

/// The phone's approval of a console sign-in: the secret from the QR.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConsoleApproval {
    /// The secret the QR carried.
    pub secret: String,
}

/// A violation as regulators list them (R8, R17, R18, R20).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ViolationView {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub record: Hash,
    pub kind: String,
    pub project: Option<String>,
    pub jurisdiction: Option<String>,
    pub tags: Vec<String>,
    pub author: String,
    pub first_seen_ms: i64,
    pub finding: Finding,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enrollment_offer_round_trips_through_its_qr_text() {
        let key = SigningKey::from_seed(&[1; 32]).unwrap();
        let offer = EnrollmentOffer {
            v: 1,
            server_url: "https://10.0.0.2:8443".into(),
            code: "ABCD-EFGH-JKLM".into(),
            server_key: key.public(),
            tls_cert_sha256: Some(Hash::of(b"cert")),
            person_name: "张三".into(),
            expires_ms: 1,
        };
        let qr = offer.to_qr();
        assert!(qr.starts_with(OFFER_PREFIX) && qr.is_ascii());
        assert_eq!(EnrollmentOffer::from_qr(&qr).unwrap(), offer);
        assert_eq!(EnrollmentOffer::from_qr("JZ1:123"), Err(NotAnOffer));
    }

    #[test]
    fn request_signatures_cover_method_path_body_and_time() {
        let key = SigningKey::from_seed(&[2; 32]).unwrap();
        let a = RequestAuth {
            method: "POST".into(),
            path: "/v1/records".into(),
            body_sha256: Hash::of(b"{}"),
            ts: 5,
            nonce: "n1".into(),
        };
        let sig = a.sign(&key);
        assert!(a.verify(&key.public(), &sig));
        for changed in [
            RequestAuth { method: "GET".into(), ..a.clone() },
            RequestAuth { path: "/v1/feed".into(), ..a.clone() },
            RequestAuth { body_sha256: Hash::of(b"[]"), ..a.clone() },
            RequestAuth { ts: 6, ..a.clone() },
            RequestAuth { nonce: "n2".into(), ..a.clone() },
        ] {
            assert!(!changed.verify(&key.public(), &sig));
        }
    }
}

/// One thing missing before work starts (R19), in both languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PreStartGapView {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub detail: serde_json::Value,
}

impl From<&crate::plans::PreStartGap> for PreStartGapView {
    fn from(g: &crate::plans::PreStartGap) -> Self {
        PreStartGapView {
            code: g.code(),
            message_zh: g.message(crate::verify::Lang::ZhCn),
            message_en: g.message(crate::verify::Lang::En),
            detail: serde_json::to_value(g).unwrap_or_default(),
        }
    }
}

/// A project's plans before work starts (R2, R4, R5, R15, R19), what is
/// still missing, and progress against plan (A4.1), as of `at_ms`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProjectPlansResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub project: Id,
    pub at_ms: i64,
    /// Contracts, each unit project's plan versions with the supervisor's
    /// decisions, the pre-start checks.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub plans: crate::plans::ProjectPlans,
    pub gaps: Vec<PreStartGapView>,
    /// Every item of every approved sampling plan in force.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub progress: Vec<crate::plans::progress::ItemProgress>,
    /// Per unit project, specimens sampled outside the approved plan.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub outside: std::collections::BTreeMap<Id, crate::plans::progress::Counts>,
}
