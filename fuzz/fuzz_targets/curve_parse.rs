//! Testing machines' export files (R12): any bytes — UTF-8, GBK, garbage —
//! parse or are refused with an error naming a line; never a panic; what
//! parses recomputes without one.
#![no_main]
use custody_core::curve;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match curve::parse(data) {
        Ok(c) => {
            use custody_core::results::{concrete, rebar};
            let _ = concrete::cube_strength(&c);
            let _ = rebar::tensile(&c);
            if let Ok(g) = concrete::ConcreteGrade::parse("C30") {
                let _ = concrete::loading_rate(&c, g);
            }
        }
        Err(e) => {
            let _ = e.message(custody_core::verify::Lang::ZhCn);
        }
    }
});
