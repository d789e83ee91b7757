//! JSON reading and validation: any bytes, read as an OSCAL document and validated against the
//! official schema and the reference rules, never panic.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

static VALIDATOR: LazyLock<oscal_validate::Validator> =
    LazyLock::new(oscal_validate::Validator::new);

fuzz_target!(|bytes: &[u8]| {
    let path = Path::new("fuzzed.json");
    let _ = oscal_io::read_document(path, bytes);
    let _ = VALIDATOR.validate_bytes(path, bytes);
});
