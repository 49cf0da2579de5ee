//! What `custody-verify` reads from a bag anyone may hand it (issue 18):
//! the index and the manifests. Never a panic, whatever the bytes; an index
//! that parses is checked against an empty bag (every record missing)
//! without panicking either.
#![no_main]
use custody_core::archive::{bagit, check};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    if let Ok(index) = check::parse_index(data) {
        let mut read = |_: &str| None;
        let a = check::check(&index, &BTreeMap::new(), &mut read, &[], &[]);
        let _ = check::render(&a);
    }
    let s = String::from_utf8_lossy(data);
    if let Ok(listed) = bagit::parse_manifest(bagit::MANIFEST_FILE, &s) {
        let _ = bagit::check_manifest(bagit::MANIFEST_FILE, &listed, &BTreeMap::new());
    }
    let _ = bagit::check_declaration(&s);
    let _ = bagit::check_payload_oxum(&s, 10, 2);
});
