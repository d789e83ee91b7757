//! Inputs that fuzzing found to break a property (`tests/fixtures/fuzz/TARGET/`, one folder per
//! fuzz target in `fuzz/`), kept so that the fix stays: each is checked against its target's
//! property, here, on every test run.

use std::path::Path;

use mim6_test_support::{files_under, fixtures};
use oscal_io::Format;

/// `xml_convert`: what mim6 reads from XML it writes back as XML that reads again; anything
/// it refuses is refused with an error, not a panic.
#[test]
fn xml_convert() {
    let files = files_under(&fixtures().join("fuzz/xml_convert"));
    assert!(!files.is_empty());
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let Ok((_, document)) = oscal_io::read_document(Path::new("f.xml"), &bytes) else {
            continue;
        };
        let xml = oscal_io::write_document(&document, Format::Xml).unwrap();
        let (_, again) = oscal_io::read_document(Path::new("f.xml"), &xml).unwrap_or_else(|e| {
            panic!("{}: mim6's own XML does not read back: {e}", file.display())
        });
        assert_eq!(
            oscal_io::write_document(&again, Format::Json).unwrap(),
            oscal_io::write_document(&document, Format::Json).unwrap(),
            "{}",
            file.display()
        );
    }
}

/// The crash input itself held a NUL character, which XML does not allow: it is refused.
#[test]
fn nul_characters_are_refused_in_xml() {
    let file = fixtures().join("fuzz/xml_convert/crash-579986fc37a78ede42584bbfda45bb032271df00");
    let err = oscal_io::read_document(Path::new("f.xml"), &std::fs::read(file).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("character U+0000 is not allowed in XML"),
        "{err}"
    );
}
