//! Site boundaries typed or uploaded as GeoJSON in any datum: never a
//! panic; what is accepted validates.
#![no_main]
use custody_core::geojson;
use custody_core::place::Datum;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for datum in [Datum::Wgs84, Datum::Gcj02, Datum::Bd09] {
        if let Ok(b) = geojson::site_boundary(&text, datum) {
            assert!(b.validate().is_ok(), "an accepted boundary is valid");
        }
        let _ = geojson::site_boundary_text(&text, datum);
    }
});
