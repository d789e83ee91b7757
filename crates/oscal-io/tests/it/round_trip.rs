//! Every NIST JSON document reads into the typed model and writes back to an equal JSON value.

use oscal_io::json;
use serde_json::Value;

use crate::{files_with_extension, fixtures};

#[test]
fn nist_json_documents_round_trip_through_the_model() {
    let files = files_with_extension(&fixtures().join("nist"), "json");
    assert!(
        files.len() >= 19,
        "expected NIST's JSON documents, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let original: Value = serde_json::from_slice(&bytes).unwrap();
        let doc = match json::from_slice(file, &bytes) {
            Ok(doc) => doc,
            Err(err) => {
                failures.push(format!("{err}"));
                continue;
            }
        };
        // Everything must land in a typed field: a field missing from the model would
        // otherwise round-trip silently through the unrecognised-property map.
        let unrecognized = doc.unrecognized();
        if !unrecognized.is_empty() {
            failures.push(format!(
                "{}: not in the model: {unrecognized:?}",
                file.display()
            ));
        }
        let written: Value = serde_json::from_slice(&json::to_vec(&doc).unwrap()).unwrap();
        if written != original {
            failures.push(format!(
                "{}: written JSON differs from the input",
                file.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn properties_outside_the_release_are_kept_and_reported() {
    // A 1.0-era document may carry properties the 1.2.3 model lacks; they survive a round
    // trip and are listed, so `validate` can report them.
    let text = r#"{"catalog": {"uuid": "74c8ba1e-5cd4-4ad1-bbfd-d888e2f6c724",
        "metadata": {"title": "Demo", "last-modified": "2024-01-01T00:00:00Z",
        "version": "1", "oscal-version": "1.0.0", "legacy-field": {"x": [1, 2]}},
        "controls": [{"id": "c1", "title": "C", "old-thing": true}]}}"#;
    let doc = json::from_slice(std::path::Path::new("legacy.json"), text.as_bytes()).unwrap();
    assert_eq!(
        doc.unrecognized(),
        [
            "/catalog/metadata/legacy-field",
            "/catalog/controls/0/old-thing"
        ]
    );
    let written: Value = serde_json::from_slice(&json::to_vec(&doc).unwrap()).unwrap();
    assert_eq!(written, serde_json::from_str::<Value>(text).unwrap());
}

#[test]
fn nist_json_documents_round_trip_through_yaml() {
    let mut failures = Vec::new();
    for file in files_with_extension(&fixtures().join("nist"), "json") {
        let bytes = std::fs::read(&file).unwrap();
        let original: Value = serde_json::from_slice(&bytes).unwrap();
        let doc = json::from_slice(&file, &bytes).unwrap();
        let text = oscal_io::yaml::to_string(&doc).unwrap();
        match oscal_io::yaml::value_from_str(&file, &text) {
            Ok(back) if back == original => {}
            Ok(back) => failures.push(format!(
                "{}: {}",
                file.display(),
                crate::xml_oracle::first_difference(&back, &original, "").unwrap_or_default()
            )),
            Err(e) => failures.push(e.to_string()),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A document written to a stream (a catalog's groups serialised side by side) is byte for
/// byte the document written whole: every NIST JSON document, and a catalog with a `$schema`.
#[test]
fn documents_written_to_a_stream_are_the_documents_written_whole() {
    let files = files_with_extension(&fixtures().join("nist"), "json");
    let mut catalogs = 0;
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let mut doc = json::from_slice(file, &bytes).unwrap();
        if let oscal_model::Model::Catalog(catalog) = &doc.model
            && catalog.groups.as_ref().is_some_and(|g| g.len() > 1)
        {
            catalogs += 1;
            doc.schema = Some("https://example.org/oscal_catalog_schema.json".into());
        }
        let whole = oscal_io::write_document(&doc, oscal_io::Format::Json).unwrap();
        let mut streamed = Vec::new();
        oscal_io::write_document_to(&doc, oscal_io::Format::Json, &mut streamed).unwrap();
        assert!(whole == streamed, "{}", file.display());
    }
    assert!(catalogs >= 5, "{catalogs} catalogs with groups");
}
