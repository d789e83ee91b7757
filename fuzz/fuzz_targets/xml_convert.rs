//! XML reading and conversion: any bytes read as OSCAL XML; what is read is written back as
//! JSON and XML, and the XML written must read again. The one-pass XML → JSON conversion gives
//! what reading into the model and writing JSON gives, or the same refusal.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use oscal_io::Format;

fuzz_target!(|bytes: &[u8]| {
    let path = Path::new("fuzzed.xml");
    if let Ok(text) = std::str::from_utf8(bytes) {
        let direct = oscal_io::xml::to_json(path, text).ok();
        let model = oscal_io::xml::from_str(path, text)
            .ok()
            .and_then(|document| oscal_io::json::to_vec(&document).ok());
        assert_eq!(direct, model, "one pass and the model path differ");
    }
    if let Ok((_, document)) = oscal_io::read_document(path, bytes) {
        let _ = oscal_io::write_document(&document, Format::Json);
        if let Ok(xml) = oscal_io::write_document(&document, Format::Xml) {
            oscal_io::read_document(path, &xml).expect("mim6's own XML reads back");
        }
    }
});
