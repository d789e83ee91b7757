//! The MIM6 city baseline in `profiles/`: valid, resolvable, with what it promises.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use crate::{fixtures, mim6};

const NIST_BASE: &str =
    "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/";
const CATALOG_RLINK: &str =
    "../../../../nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_catalog.json";

fn profiles() -> PathBuf {
    fixtures().join("../../profiles")
}

/// `mim6 resolve` of a profile in `profiles/`, offline, through the bundled NIST files.
fn resolve(profile: &str) -> (Value, String) {
    resolve_with(profile, &[])
}

/// Resolves a profile of `profiles/` with the href maps its README gives, and `extra`
/// arguments.
fn resolve_with(profile: &str, extra: &[&str]) -> (Value, String) {
    let nist = fixtures().join("nist/nist-sp800-53r5/json");
    let maps = [
        format!("{NIST_BASE}={}/", nist.display()),
        format!(
            "{CATALOG_RLINK}={}",
            nist.join("NIST_SP-800-53_rev5_catalog.json").display()
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = profiles().join(profile);
    let run = mim6(
        dir.path(),
        &[
            "resolve",
            path.to_str().unwrap(),
            "--map",
            &maps[0],
            "--map",
            &maps[1],
            "--offline",
            "--strict",
            "-o",
            "out.json",
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .collect::<Vec<_>>(),
    );
    assert_eq!(run.code, 0, "{profile}: {run:?}");
    let text = std::fs::read_to_string(dir.path().join("out.json")).unwrap();
    (serde_json::from_str(&text).unwrap(), text)
}

fn controls(catalog: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    let mut pending = vec![catalog];
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::Array(list)) = map.get("controls") {
                    out.extend(list.iter());
                }
                pending.extend(map.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    out
}

#[test]
fn profiles_validate() {
    let run = mim6(
        &profiles(),
        &[
            "validate",
            "mim6-city-baseline.json",
            "mim6-city-baseline.xml",
            "gdpr-to-sp800-53r5-mapping.json",
            "examples/region-overlay.json",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn the_city_baseline_resolves_with_what_it_promises() {
    let (catalog, _) = resolve("mim6-city-baseline.json");
    let all = controls(&catalog);
    let ids: Vec<&str> = all.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "every control once");
    for required in [
        "ir-4", "ir-5", "ir-6", "ir-8.1", "ra-3", "ra-7", "ra-8", "pm-19", "sa-9.5", "ac-3",
        "ac-6", "ia-2", "ia-5", "sc-8", "sc-12", "sc-13", "sc-17",
    ] {
        assert!(unique.contains(required), "{required} is missing");
    }
    for excluded in ["pt-5.2", "pt-6", "pt-7.1", "pt-7.2", "pt-8", "pm-24"] {
        assert!(
            !unique.contains(excluded),
            "{excluded} is US-specific and must be excluded"
        );
    }
    let ir6 = all.iter().find(|c| c["id"] == "ir-6").unwrap();
    let reporting = ir6["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "ir-06_odp.01")
        .unwrap();
    assert_eq!(reporting["values"], serde_json::json!(["72 hours"]));
    let props: Vec<(&str, &str)> = ir6["props"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ns"] == "urn:mim6:oscal")
        .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        props,
        [
            ("gdpr-article", "33"),
            ("mim6-capability", "risk management")
        ]
    );
    // Every control carries both tags.
    for control in &all {
        let names: BTreeSet<&str> = control["props"]
            .as_array()
            .map(|p| {
                p.iter()
                    .filter(|p| p["ns"] == "urn:mim6:oscal")
                    .filter_map(|p| p["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            names.contains("gdpr-article") && names.contains("mim6-capability"),
            "{}",
            control["id"]
        );
    }
}

#[test]
fn the_json_and_xml_twins_resolve_to_the_same_catalog() {
    let (_, from_json) = resolve("mim6-city-baseline.json");
    let (_, from_xml) = resolve("mim6-city-baseline.xml");
    // The source-profile link names the file read; everything else is identical.
    assert_eq!(
        from_json.replace("mim6-city-baseline.json", "SOURCE"),
        from_xml.replace("mim6-city-baseline.xml", "SOURCE")
    );
}

#[test]
fn the_region_overlay_resolves_and_tailors() {
    // The overlay imports the baseline from the folder above its own: the import root is
    // widened to take it in, as the README says.
    let root = profiles();
    let (catalog, _) = resolve_with(
        "examples/region-overlay.json",
        &["--root", root.to_str().unwrap()],
    );
    let all = controls(&catalog);
    let ca7 = all.iter().find(|c| c["id"] == "ca-7").unwrap();
    let frequency = ca7["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "ca-07_odp.02")
        .unwrap();
    assert_eq!(frequency["values"], serde_json::json!(["monthly"]));
}

#[test]
fn the_gdpr_mapping_names_only_controls_of_the_catalog() {
    let mapping: Value = serde_json::from_slice(
        &std::fs::read(profiles().join("gdpr-to-sp800-53r5-mapping.json")).unwrap(),
    )
    .unwrap();
    let catalog: Value = serde_json::from_slice(
        &std::fs::read(
            fixtures().join("nist/nist-sp800-53r5/json/NIST_SP-800-53_rev5_catalog.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let known: BTreeSet<&str> = controls(&catalog)
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let maps = mapping["mapping-collection"]["mappings"][0]["maps"]
        .as_array()
        .unwrap();
    assert!(maps.len() >= 10);
    for map in maps {
        for target in map["targets"].as_array().unwrap() {
            let id = target["id-ref"].as_str().unwrap();
            assert!(known.contains(id), "{id} is not a control of SP 800-53r5");
        }
    }
}

#[test]
fn the_shipped_resolved_baseline_is_up_to_date() {
    // `profiles/mim6-city-baseline-resolved.json` is embedded in the binary as the default
    // baseline; it must be exactly what resolving the profile gives today.
    let (_, fresh) = resolve("mim6-city-baseline.json");
    let shipped =
        std::fs::read_to_string(profiles().join("mim6-city-baseline-resolved.json")).unwrap();
    assert!(
        fresh == shipped,
        "profiles/mim6-city-baseline-resolved.json is stale; regenerate it with the command in profiles/README.md"
    );
}
