//! Ingest's JSON reader: whatever document it reads, serde_json reads to the same projection
//! (and what serde_json refuses, it declines).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        mim6_ingest::check_projection_reader(text);
    }
});
