//! `mim6 convert` and XML/YAML input to `mim6 validate`, including hostile XML.

use serde_json::Value;

use crate::{fixtures, mim6};

const NS: &str = "xmlns=\"http://csrc.nist.gov/ns/oscal/1.0\"";

fn run_on(name: &str, bytes: &[u8], args: &[&str]) -> crate::Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    mim6(dir.path(), args)
}

#[test]
fn xml_converts_to_nists_json_and_back_through_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let xml = fixtures().join("nist/examples/ssp/xml/ifa_ssp-example.xml");
    let run = mim6(
        dir.path(),
        &["convert", xml.to_str().unwrap(), "-o", "ssp.json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let ours: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("ssp.json")).unwrap()).unwrap();
    let nist: Value = serde_json::from_slice(
        &std::fs::read(fixtures().join("nist/examples/ssp/json/ifa_ssp-example.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(ours, nist);

    assert_eq!(
        mim6(dir.path(), &["convert", "ssp.json", "-o", "ssp.yaml"]).code,
        0
    );
    assert_eq!(
        mim6(dir.path(), &["convert", "ssp.yaml", "-o", "back.json"]).code,
        0
    );
    let back: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("back.json")).unwrap()).unwrap();
    assert_eq!(back, nist);
    let run = mim6(dir.path(), &["validate", "ssp.json", "ssp.yaml"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn standard_output_needs_a_format() {
    let catalog = fixtures().join("nist/examples/catalog/json/basic-catalog.json");
    let dir = tempfile::tempdir().unwrap();
    let run = mim6(dir.path(), &["convert", catalog.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.stderr.trim(), @"mim6: error: writing to standard output needs --to json|xml|yaml");
    let run = mim6(
        dir.path(),
        &["convert", catalog.to_str().unwrap(), "--to", "xml"],
    );
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<catalog xmlns=\"http://csrc.nist.gov/ns/oscal/1.0\""));
}

#[test]
fn xml_problems_are_located_by_path_and_line() {
    let text =
        std::fs::read_to_string(fixtures().join("nist/examples/catalog/xml/basic-catalog.xml"))
            .unwrap();
    let text = text.replacen("<control id=\"s1.1.1\"", "<control id=\"bad id\"", 1);
    let run = run_on("catalog.xml", text.as_bytes(), &["validate", "catalog.xml"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout.trim(), @r#"catalog.xml:20:10: /catalog/group[1]/group[1]/control[1]/@id: schema/pattern: "bad id" does not match "^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$" (value: "bad id")"#);
}

#[test]
fn unknown_elements_are_reported_not_dropped() {
    let text = format!(
        "<catalog {NS} uuid=\"74c8ba1e-5cd4-4ad1-bbfd-d888e2f6c724\">\n  <metadata><title>T</title><colour>red</colour></metadata>\n</catalog>"
    );
    let run = run_on("c.xml", text.as_bytes(), &["validate", "c.xml"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout.trim(), @"c.xml:2:29: /catalog/metadata[1]/colour[1]: read: unknown element <colour> in <metadata>");
}

#[test]
fn billion_laughs_is_refused_before_any_expansion() {
    let text = "<?xml version=\"1.0\"?>\n<!DOCTYPE catalog [\n <!ENTITY a \"aaaaaaaaaa\">\n <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n]>\n<catalog xmlns=\"http://csrc.nist.gov/ns/oscal/1.0\">&c;</catalog>\n";
    let run = run_on("laughs.xml", text.as_bytes(), &["validate", "laughs.xml"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout.trim(), @"laughs.xml:2:1: /: read: DOCTYPE declarations are not allowed (no DTDs, no entity declarations)");
}

#[test]
fn external_entities_are_never_resolved() {
    let text = format!("<catalog {NS}>&xxe;</catalog>");
    let run = run_on(
        "xxe.xml",
        text.as_bytes(),
        &["convert", "xxe.xml", "--to", "json"],
    );
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stderr.trim(), @"mim6: error: xxe.xml:1:52: undefined entity &xxe; (only the five predefined entities are allowed)");
}

#[test]
fn nesting_100000_deep_is_refused() {
    let text = format!(
        "<catalog {NS}>{}{}</catalog>",
        "<group>".repeat(100_000),
        "</group>".repeat(100_000)
    );
    let run = run_on("deep.xml", text.as_bytes(), &["validate", "deep.xml"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout.trim(), @"deep.xml:1:1837: /: read: elements nest deeper than the limit of 256");
}

#[test]
fn wrong_namespace_and_invalid_utf8() {
    let run = run_on(
        "ns.xml",
        b"<catalog xmlns=\"http://example.com/other\"/>",
        &["validate", "ns.xml"],
    );
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout.trim(), @r#"ns.xml:1:1: /: read: element <catalog> is in namespace "http://example.com/other", not "http://csrc.nist.gov/ns/oscal/1.0""#);
    let text = format!("<catalog {NS}><metadata><title>caf\u{e9}</title></metadata></catalog>");
    let latin1: Vec<u8> = text.chars().map(|c| c as u8).collect();
    let run = run_on("latin1.xml", &latin1, &["validate", "latin1.xml"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout.trim(), @"latin1.xml: /: read: invalid UTF-8 at byte offset 71");
}

#[test]
fn a_500_mb_text_node_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::File::create(dir.path().join("big.xml")).unwrap();
    file.set_len(500 * 1024 * 1024).unwrap();
    let run = mim6(dir.path(), &["validate", "big.xml"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout.trim(), @"big.xml: /: read: file is 524288000 bytes, over the limit of 134217728 bytes");
}
