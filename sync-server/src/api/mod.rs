//! The HTTP API. Handlers are thin: parse, authenticate, gather facts, ask
//! the core (`custody_core::access` for who may see what, `verify` through
//! the ingest pipeline, `trail::judge` for the lab's verdict), answer.
//!
//! | module | routes |
//! |---|---|
//! | `health` | `/healthz`, `/readyz`, `/metrics` |
//! | `device` | enrollment, profile, time anchors, record upload, co-signatures, feed |
//! | `log` | checkpoints, consistency and inclusion proofs |
//! | `media` | resumable upload, status, download |
//! | `oversight` | the lab's trail of a tag, regulators' violations (and the admin twins) |
//! | `plans` | a project's plans before work starts, what is missing, progress against plan (issue 15) |
//! | `public` | what anyone may check: a tag, a record (the commission form's QR), a report seal; the lab's seal |
//! | `report_pdf` | the report PDF the system issued (R13): the lab's, and anyone's with a valid seal |

mod device;
mod health;
mod log;
mod media;
mod oversight;
mod plans;
mod public;
mod report_pdf;

pub use device::*;
pub use health::*;
pub use log::*;
pub use media::*;
pub use oversight::*;
pub use plans::*;
pub use public::*;
pub use report_pdf::*;

use crate::AppState;
use crate::auth::AuthedDevice;
use crate::error::{AppError, rejection};
use crate::facts::device_viewer;
use custody_core::access::{Denied, Viewer};
use custody_core::protocol::DeviceState;
use custody_core::time::{AnchorBody, TimeAnchor};
use custody_core::{Hash, TagCode};

type ApiResult<T> = Result<T, AppError>;

fn parse_hash(s: &str) -> ApiResult<Hash> {
    s.parse().map_err(|_| {
        AppError::bad_request(
            "bad_hash",
            "哈希格式错误（应为 64 位小写十六进制）",
            "malformed hash (64 lowercase hex digits)",
        )
    })
}

fn parse_tag(code: &str) -> ApiResult<TagCode> {
    TagCode::parse(code).map_err(|e| AppError::bad_request("bad_tag", e.message_zh(), e.to_string()))
}

fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(rejection)
}

/// A claim of the device that cannot be signed into an anchor: 400, said plainly.
fn out_of_range(e: custody_core::protocol::OutOfRange) -> AppError {
    AppError::bad_request("out_of_range", e.message_zh, e.message_en)
        .with_detail(serde_json::json!({ "field": e.field }))
}

/// The core's refusal as a 403.
pub(crate) fn forbidden(d: Denied) -> AppError {
    AppError::forbidden(d.code, d.message_zh, d.message_en)
}

/// Sign a time anchor bound to the device's boot, monotonic reading and
/// chain head. The state was checked at the edge ([`DeviceState::check`]).
fn sign_anchor(
    state: &AppState,
    device: custody_core::PublicKey,
    s: &DeviceState,
    now: i64,
) -> ApiResult<(AnchorBody, TimeAnchor)> {
    let body = AnchorBody {
        v: 1,
        device,
        boot_id: s.boot_id.clone(),
        device_mono_ms: s.mono_ms,
        server_ms: now,
        tail: s.tail,
    };
    let anchor = TimeAnchor::sign(body.clone(), &state.key).map_err(|e| {
        AppError::bad_request(
            "out_of_range",
            "设备状态超出允许范围",
            format!("device state out of range: {e}"),
        )
    })?;
    Ok((body, anchor))
}

/// The viewer behind an authenticated device, read in the same transaction
/// as what it asks for.
fn viewer_of(tx: &mut dyn crate::store::Tx, dev: &AuthedDevice) -> crate::store::Result<Viewer> {
    device_viewer(tx, &dev.person, &dev.org, dev.org_role)
}
