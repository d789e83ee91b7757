//! Directives the NIST test suites do not cover: custom structuring, alterations and bad input.

use oscal_resolve::{Error, FileLoader, Location, Options, Resolver};
use serde_json::{Value, json};

use crate::fixtures;

fn resolve(profile: &Value, strict: bool) -> Result<(Value, Vec<String>), Error> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.json");
    std::fs::write(&path, profile.to_string()).unwrap();
    let loader = FileLoader::default();
    let resolver = Resolver::new(
        &loader,
        Options {
            strict,
            ..Options::default()
        },
    );
    let resolved = resolver.resolve_location(&Location::File(path))?;
    let warnings = resolved
        .warnings
        .iter()
        .map(|w| format!("{}: {}", w.pointer, w.message))
        .collect();
    let document =
        oscal_model::Document::new(oscal_model::Model::Catalog(Box::new(resolved.catalog)));
    Ok((serde_json::to_value(document).unwrap(), warnings))
}

fn profile(imports: &Value, rest: &Value) -> Value {
    let mut body = json!({
        "uuid": "3f5c6d1e-2b3a-4c5d-8e9f-a0b1c2d3e4f5",
        "metadata": {"title": "Test", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.2.3"},
        "imports": imports,
    });
    for (key, value) in rest.as_object().unwrap() {
        body[key] = value.clone();
    }
    json!({"profile": body})
}

fn catalog_href() -> String {
    fixtures()
        .join("nist/nist-sp800-53r5/json/NIST_SP-800-53_rev5_catalog.json")
        .display()
        .to_string()
}

#[test]
fn custom_structuring_builds_the_profiles_groups_in_the_order_asked() {
    let p = profile(
        &json!([{"href": catalog_href(), "include-controls": [{"with-ids": ["ac-2", "ac-10", "ir-6", "ir-4"]}]}]),
        &json!({"merge": {"custom": {"groups": [
            {"id": "access", "title": "Access", "insert-controls": [{"order": "descending", "include-controls": [{"matching": [{"pattern": "ac-*"}]}]}]},
            {"id": "incidents", "title": "Incidents", "insert-controls": [{"order": "ascending", "include-all": {}, "exclude-controls": [{"matching": [{"pattern": "ac-*"}]}]}]}
        ]}}}),
    );
    let (catalog, warnings) = resolve(&p, true).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let groups = catalog["catalog"]["groups"].as_array().unwrap();
    let ids = |g: &Value| -> Vec<String> {
        g["controls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(groups[0]["title"], "Access");
    assert_eq!(ids(&groups[0]), ["ac-10", "ac-2"]);
    assert_eq!(ids(&groups[1]), ["ir-4", "ir-6"]);
}

#[test]
fn alterations_add_and_remove_and_warn_on_missing_controls() {
    let p = profile(
        &json!([{"href": catalog_href(), "include-controls": [{"with-ids": ["ir-6"]}]}]),
        &json!({"merge": {"as-is": true}, "modify": {
        "set-parameters": [{"param-id": "ir-06_odp.01", "values": ["72 hours"]}],
        "alters": [
            {"control-id": "ir-6", "removes": [{"by-name": "guidance"}], "adds": [
                {"position": "starting", "props": [{"name": "gdpr-article", "ns": "https://mim6.example/ns", "value": "33"}]}
            ]},
            {"control-id": "zz-1", "removes": [{"by-name": "x"}]}
        ]}}),
    );
    let (catalog, warnings) = resolve(&p, false).unwrap();
    assert_eq!(
        warnings,
        [
            "/profile/modify/alters/1: alters names control \"zz-1\", which the resolved catalog lacks"
        ]
    );
    let control = &catalog["catalog"]["groups"][0]["controls"][0];
    assert_eq!(control["id"], "ir-6");
    assert_eq!(control["props"][0]["value"], "33");
    assert!(
        control["parts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["name"] != "guidance")
    );
    assert_eq!(control["params"][0]["values"], json!(["72 hours"]));
    assert!(matches!(resolve(&p, true), Err(Error::Directive { .. })));
}

#[test]
fn malformed_patterns_and_cycles_are_errors_that_say_where() {
    let p = profile(
        &json!([{"href": catalog_href(), "include-controls": [{"matching": [{"pattern": "ac-[1-3]"}]}]}]),
        &json!({}),
    );
    let error = resolve(&p, false).unwrap_err().to_string();
    assert!(error.ends_with("at /profile/imports/0/include-controls/0/matching/0/pattern: malformed matching pattern \"ac-[1-3]\": '[' is not allowed (patterns use * and ?)"), "{error}");

    let dir = tempfile::tempdir().unwrap();
    for (name, next) in [
        ("a.json", "b.json"),
        ("b.json", "c.json"),
        ("c.json", "a.json"),
    ] {
        let p = profile(&json!([{"href": next, "include-all": {}}]), &json!({}));
        std::fs::write(dir.path().join(name), p.to_string()).unwrap();
    }
    let loader = FileLoader::default();
    let resolver = Resolver::new(&loader, Options::default());
    let error = resolver
        .resolve_location(&Location::File(dir.path().join("a.json")))
        .unwrap_err();
    let Error::Cycle { chain, .. } = &error else {
        panic!("{error}")
    };
    let names: Vec<String> = chain
        .iter()
        .map(|l| l.rsplit('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["a.json", "b.json", "c.json", "a.json"]);
}
