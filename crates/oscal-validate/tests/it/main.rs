//! oscal-validate against NIST's published documents.

use std::path::{Path, PathBuf};

use oscal_model::ModelKind;
use oscal_validate::Validator;
use serde_json::Value;

fn nist() -> PathBuf {
    mim6_test_support::fixtures().join("nist")
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    mim6_test_support::files_with_extension(dir, "json")
}

/// Problems NIST's own files have, which validation must report rather than hide:
/// (file name, JSON pointer, rule).
const KNOWN_DEFECTS: &[(&str, &str, &str)] = &[
    // Statement uuid bb9219b1-e51c-4680-abb0-616a43bbfbb1 is given to two statements of
    // different implemented requirements.
    (
        "example-component-definition.json",
        "/component-definition/components/0/control-implementations/0/implemented-requirements/1/statements/0/uuid",
        "unique-uuid",
    ),
];

#[test]
fn nist_documents_are_valid_except_their_known_defects() {
    let validator = Validator::new();
    let files = json_files(&nist());
    assert!(files.len() >= 19);
    let mut unexpected = Vec::new();
    let mut seen_defects = 0;
    for file in &files {
        let report = validator.validate_bytes(file, &std::fs::read(file).unwrap());
        assert!(report.model.is_some(), "{}", file.display());
        let name = file.file_name().unwrap().to_str().unwrap();
        for problem in &report.problems {
            let known = KNOWN_DEFECTS.iter().any(|(f, pointer, rule)| {
                *f == name && *pointer == problem.pointer && *rule == problem.rule
            });
            if known {
                seen_defects += 1;
            } else {
                unexpected.push(problem.to_string());
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "unexpected problems:\n{}",
        unexpected.join("\n")
    );
    assert_eq!(
        seen_defects,
        KNOWN_DEFECTS.len(),
        "a known defect was not reported"
    );
}

#[test]
fn a_leap_day_of_the_1900s_needs_the_date_pattern_fix() {
    let file = nist().join("examples/catalog/json/basic-catalog.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    doc["catalog"]["metadata"]["published"] = "1996-02-29T09:00:00-05:00".into();

    // The schema exactly as NIST published it rejects the date...
    let official: Value =
        serde_json::from_str(oscal_validate::schema::official_schema(ModelKind::Catalog)).unwrap();
    let unpatched = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&official)
        .unwrap();
    assert!(!unpatched.is_valid(&doc));

    // ...and mim6 accepts it, while still rejecting a day that does not exist.
    let validator = Validator::new();
    assert!(validator.validate_value(&file, &doc).is_valid());
    doc["catalog"]["metadata"]["published"] = "1997-02-29T09:00:00-05:00".into();
    let report = validator.validate_value(&file, &doc);
    let rules: Vec<(&str, &str)> = report
        .problems
        .iter()
        .map(|p| (p.pointer.as_str(), p.rule.as_str()))
        .collect();
    assert_eq!(
        rules,
        [
            ("/catalog/metadata/published", "schema/format"),
            ("/catalog/metadata/published", "schema/pattern")
        ]
    );
}

#[test]
fn errors_deep_inside_a_choice_are_reported_where_they_are() {
    // Catalog groups are an `anyOf` in the schema; an error inside a control of a nested
    // group must be reported at the control, not as "no branch matched" at the group.
    let file = nist().join("examples/catalog/json/basic-catalog.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let control = &mut doc["catalog"]["groups"][0]["groups"][0]["controls"][0];
    control["title"] = 7.into();
    control["unexpected"] = true.into();
    let report = Validator::new().validate_value(&file, &doc);
    let found: Vec<(&str, &str)> = report
        .problems
        .iter()
        .map(|p| (p.pointer.as_str(), p.rule.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "/catalog/groups/0/groups/0/controls/0",
                "schema/additionalProperties"
            ),
            ("/catalog/groups/0/groups/0/controls/0/title", "schema/type"),
        ]
    );
}
