//! What people type: tag codes and QR payloads, report seals, plan items,
//! prices, lab registries. Never a panic; what is read writes back to the
//! same (plan items).
#![no_main]
use custody_core::plans::{fen_of_yuan, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let _ = custody_core::TagCode::parse(&s);
    let _ = custody_core::report_seal::SignedSeal::decode(&s);
    let _ = fen_of_yuan(&s);
    if let Ok(items) = text::parse_sampling_items(&s) {
        assert_eq!(text::parse_sampling_items(&text::sampling_items_to_text(&items)).as_ref(), Ok(&items));
    }
    let _ = text::parse_testing_items(&s);
    if let Ok(lab) = custody_core::Id::new("LAB-F") {
        let _ = custody_core::lab_registry::text::parse_text(&lab, &s);
    }
});
