//! A record envelope as it arrives in an upload: decoding never panics, and
//! whatever decodes re-encodes to exactly the bytes received (one byte
//! string per record, one id).
#![no_main]
use custody_core::SignedRecord;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rec) = SignedRecord::from_bytes(data) {
        assert_eq!(rec.to_bytes(), data, "a decoded record re-encodes to its bytes");
        let _ = rec.verify_signatures();
        let _ = rec.body().payload.references();
        let _ = rec.body().payload.tags();
    }
});
