//! YAML reading: any bytes read as OSCAL YAML (anchors, aliases, deep nesting included).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use oscal_io::Format;

fuzz_target!(|bytes: &[u8]| {
    let path = Path::new("fuzzed.yaml");
    if let Ok((_, document)) = oscal_io::read_document(path, bytes) {
        let _ = oscal_io::write_document(&document, Format::Yaml);
    }
});
