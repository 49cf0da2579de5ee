//! Every request body the API takes, as JSON from anyone: never a panic;
//! what parses passes its edge checks or is refused by them.
#![no_main]
use custody_core::protocol::{CosignRequest, DeviceState, EnrollRequest, UploadRequest};
use custody_core::record::Payload;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(u) = serde_json::from_slice::<UploadRequest>(data) {
        let _ = u.state.check();
        for r in &u.records {
            let _ = custody_core::SignedRecord::from_bytes(r.get().as_bytes());
        }
    }
    if let Ok(s) = serde_json::from_slice::<DeviceState>(data) {
        let _ = s.check();
    }
    if let Ok(e) = serde_json::from_slice::<EnrollRequest>(data) {
        let _ = e.check();
    }
    let _ = serde_json::from_slice::<CosignRequest>(data);
    // The console's plan drafts and the browser's payloads are payloads.
    if let Ok(p) = serde_json::from_slice::<Payload>(data) {
        let _ = p.kind().required_role();
        let _ = p.references();
        let _ = p.project();
    }
});
