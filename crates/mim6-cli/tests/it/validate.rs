//! `mim6 validate`: valid documents, each kind of bad input, exit codes and output formats.

use std::io::Write;

use serde_json::Value;

use crate::{fixtures, mim6};

fn basic_catalog() -> Value {
    let path = fixtures().join("nist/examples/catalog/json/basic-catalog.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Writes `bytes` as `name` in a fresh folder and validates it there.
fn validate_bytes(name: &str, bytes: &[u8]) -> crate::Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    mim6(dir.path(), &["validate", name])
}

fn validate_json(name: &str, value: &Value) -> crate::Run {
    validate_bytes(name, &serde_json::to_vec_pretty(value).unwrap())
}

#[test]
fn the_bundled_nist_catalog_is_valid() {
    let dir = fixtures().join("nist/nist-sp800-53r5/json");
    let run = mim6(&dir, &["validate", "NIST_SP-800-53_rev5_catalog.json"]);
    assert_eq!(run.code, 0, "{run:?}");
    insta::assert_snapshot!(run.stdout, @"NIST_SP-800-53_rev5_catalog.json: valid catalog");
    insta::assert_snapshot!(run.stderr, @"1 file: 1 valid, 0 invalid");
}

#[test]
fn many_files_are_reported_each_in_the_order_given() {
    let dir = fixtures().join("nist/examples");
    let run = mim6(
        &dir,
        &[
            "validate",
            "ssp/json/ssp-example.json",
            "component-definition/json/example-component-definition.json",
            "ar/json/ifa_assessment-results-example.json",
        ],
    );
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @r#"
    ssp/json/ssp-example.json: valid system-security-plan
    component-definition/json/example-component-definition.json: /component-definition/components/0/control-implementations/0/implemented-requirements/1/statements/0/uuid: unique-uuid: uuid already defined at /component-definition/components/0/control-implementations/0/implemented-requirements/0/statements/0/uuid (value: "bb9219b1-e51c-4680-abb0-616a43bbfbb1")
    ar/json/ifa_assessment-results-example.json: valid assessment-results
    "#);
    insta::assert_snapshot!(run.stderr, @"3 files: 2 valid, 1 invalid");
}

#[test]
fn empty_file() {
    let run = validate_bytes("empty.json", b"");
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @"empty.json: /: read: empty document");
}

#[test]
fn truncated_json() {
    let full = serde_json::to_vec_pretty(&basic_catalog()).unwrap();
    let run = validate_bytes("truncated.json", &full[..full.len() / 2]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @"truncated.json:149:36: /: read: EOF while parsing a string");
}

#[test]
fn not_json_at_all() {
    let run = validate_bytes("notes.json", b"These are meeting notes, not a document.\n");
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @"notes.json:1:1: /: read: expected value");
}

#[test]
fn invalid_utf8() {
    let run = validate_bytes("latin1.json", b"{\"catalog\": {\"uuid\": \"caf\xE9\"}}");
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @"latin1.json: /: read: invalid UTF-8 at byte offset 25");
}

#[test]
fn json_that_is_not_oscal() {
    let run = validate_bytes(
        "package.json",
        br#"{"name": "left-pad", "version": "1.3.0"}"#,
    );
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @r#"package.json: /: read: not an OSCAL document: "name" is not an OSCAL model (expected one of catalog, profile, mapping-collection, component-definition, system-security-plan, assessment-plan, assessment-results, plan-of-action-and-milestones)"#);
}

#[test]
fn wrong_root_model() {
    // A catalog's content under the profile key: the profile schema decides.
    let mut doc = basic_catalog();
    let catalog = doc.as_object_mut().unwrap().remove("catalog").unwrap();
    doc["profile"] = catalog;
    let run = validate_json("mislabelled.json", &doc);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @r#"
    mislabelled.json: /profile: schema/additionalProperties: Additional properties are not allowed ('groups' was unexpected)
    mislabelled.json: /profile: schema/required: "imports" is a required property
    "#);
}

#[test]
fn wrong_types() {
    let mut doc = basic_catalog();
    doc["catalog"]["metadata"]["version"] = 2.into();
    doc["catalog"]["groups"][0]["props"] = "a list was expected".into();
    let run = validate_json("types.json", &doc);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @r#"
    types.json: /catalog/groups/0/props: schema/type: "a list was expected" is not of type "array" (value: "a list was expected")
    types.json: /catalog/metadata/version: schema/type: 2 is not of type "string" (value: 2)
    "#);
}

#[test]
fn unknown_property() {
    let mut doc = basic_catalog();
    doc["catalog"]["metadata"]["owner"] = "me".into();
    let run = validate_json("unknown.json", &doc);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @"unknown.json: /catalog/metadata: schema/additionalProperties: Additional properties are not allowed ('owner' was unexpected)");
}

#[test]
fn duplicate_uuid() {
    let mut doc = basic_catalog();
    let uuid = doc["catalog"]["uuid"].clone();
    doc["catalog"]["back-matter"] =
        serde_json::json!({"resources": [{"uuid": uuid, "title": "A copy of the catalog"}]});
    let run = validate_json("dup.json", &doc);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @r#"dup.json: /catalog/back-matter/resources/0/uuid: unique-uuid: uuid already defined at /catalog/uuid (value: "74c8ba1e-5cd4-4ad1-bbfd-d888e2f6c724")"#);
}

#[test]
fn dangling_reference() {
    let mut doc = basic_catalog();
    doc["catalog"]["metadata"]["links"] = serde_json::json!([
        {"href": "#0e6b1a0e-48a2-4a4f-8b0c-2b9d5d1a7e11", "rel": "reference"}
    ]);
    let run = validate_json("dangling.json", &doc);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @r#"dangling.json: /catalog/metadata/links/0/href: index-back-matter-resource: names no back-matter resource (value: "0e6b1a0e-48a2-4a4f-8b0c-2b9d5d1a7e11")"#);
}

#[test]
fn a_200_mb_file_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::File::create(dir.path().join("huge.json")).unwrap();
    // Sparse: the size is real, the disk blocks are not.
    file.set_len(200 * 1024 * 1024).unwrap();
    let run = mim6(dir.path(), &["validate", "huge.json"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @"huge.json: /: read: file is 209715200 bytes, over the limit of 134217728 bytes");
}

#[test]
fn nesting_10000_deep_is_refused_without_overflowing_the_stack() {
    let mut text = String::from("{\"catalog\": ");
    text.push_str(&"[".repeat(10_000));
    text.push_str(&"]".repeat(10_000));
    text.push('}');
    let run = validate_bytes("deep.json", text.as_bytes());
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @"deep.json:1:139: /: read: recursion limit exceeded");
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = mim6(dir.path(), &["validate", "nowhere.json"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.stderr, @r"
    mim6: error: nowhere.json: cannot open: No such file or directory (os error 2)
    1 file: 0 valid, 0 invalid, 1 unreadable
    ");
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(mim6(dir.path(), &["validate"]).code, 2);
    assert_eq!(mim6(dir.path(), &["frobnicate"]).code, 2);
    assert_eq!(mim6(dir.path(), &["--help"]).code, 0);
}

#[test]
fn json_output_is_machine_readable() {
    let mut doc = basic_catalog();
    doc["catalog"]["metadata"]["owner"] = "me".into();
    let dir = tempfile::tempdir().unwrap();
    let mut file = std::fs::File::create(dir.path().join("c.json")).unwrap();
    file.write_all(&serde_json::to_vec(&doc).unwrap()).unwrap();
    let run = mim6(dir.path(), &["validate", "--format", "json", "c.json"]);
    assert_eq!(run.code, 1);
    let reports: Value = serde_json::from_str(&run.stdout).unwrap();
    insta::assert_json_snapshot!(reports, @r#"
    [
      {
        "file": "c.json",
        "model": "catalog",
        "problems": [
          {
            "file": "c.json",
            "message": "Additional properties are not allowed ('owner' was unexpected)",
            "pointer": "/catalog/metadata",
            "rule": "schema/additionalProperties"
          }
        ],
        "valid": false
      }
    ]
    "#);
}
