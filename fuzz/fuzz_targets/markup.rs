//! Markup conversion: any text as the Markdown prose of a catalog part, written as XML (Markdown
//! to OSCAL's HTML subset) and read back (HTML to Markdown).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use oscal_io::Format;

fuzz_target!(|text: &str| {
    let value = serde_json::json!({"catalog": {
        "uuid": "8e2a6b5c-1d3f-4a7b-9c0d-2e4f6a8b0c1d",
        "metadata": {"title": text, "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.2.3"},
        "controls": [{"id": "c-1", "title": "T", "parts": [{"id": "c-1_smt", "name": "statement", "prose": text}]}]
    }});
    let path = Path::new("fuzzed.json");
    if let Ok(document) = oscal_io::json::from_value(path, value) {
        if let Ok(xml) = oscal_io::write_document(&document, Format::Xml) {
            let _ = oscal_io::read_document(Path::new("fuzzed.xml"), &xml);
        }
    }
});
