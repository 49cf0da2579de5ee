//! RFC 8785 canonical JSON (integers only): parsing never panics, and what
//! parses as canonical re-encodes to the same bytes.
#![no_main]
use custody_core::canonical;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = canonical::parse_value(data)
        && let Ok(again) = canonical::value_to_canonical(&v)
    {
        let reparsed = canonical::parse_value(&again).expect("canonical output parses");
        assert_eq!(reparsed, v);
        assert_eq!(
            canonical::value_to_canonical(&reparsed).expect("re-encodes"),
            again,
            "canonical is a fixed point"
        );
    }
    let _ = canonical::from_canonical::<serde_json::Value>(data);
});
