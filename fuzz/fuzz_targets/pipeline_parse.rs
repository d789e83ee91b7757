//! Pipeline files: any text parsed and checked as a pipeline file (TOML), nothing read.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let path = Path::new("fuzzed.toml");
    if let Err(error) = mim6_pipeline::Pipeline::parse(text, path, Path::new("pipelines")) {
        // Every refusal names the file.
        assert!(error.to_string().starts_with("fuzzed.toml: "));
    }
});
