//! NIST's SP 800-53r5 baselines resolve to NIST's resolved catalogs.

use std::collections::BTreeSet;
use std::path::Path;

use oscal_resolve::{FileLoader, HrefMap, Location, Options, Resolver};
use serde_json::Value;

use crate::{first_difference, fixtures, normalized};

const BASELINES: [&str; 4] = ["LOW", "MODERATE", "HIGH", "PRIVACY"];

/// The rlink NIST's baselines use for the catalog, valid only inside NIST's repository.
const CATALOG_RLINK: &str =
    "../../../../nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_catalog.json";

fn resolve_against(baseline: &str, catalog: &Path) -> Value {
    let mut href_map = HrefMap::new();
    href_map.insert(CATALOG_RLINK, catalog.to_str().unwrap());
    let loader = FileLoader::default();
    let resolver = Resolver::new(
        &loader,
        Options {
            href_map,
            ..Options::default()
        },
    );
    let profile = fixtures().join(format!(
        "nist/nist-sp800-53r5/json/NIST_SP-800-53_rev5_{baseline}-baseline_profile.json"
    ));
    let resolved = resolver.resolve_location(&Location::File(profile)).unwrap();
    assert!(
        resolved.warnings.is_empty(),
        "{baseline}: {:?}",
        resolved.warnings
    );
    serde_json::to_value(oscal_model::Document::new(oscal_model::Model::Catalog(
        Box::new(resolved.catalog),
    )))
    .unwrap()
}

fn nist_resolved(baseline: &str) -> Value {
    let dir = fixtures().join("nist/nist-sp800-53r5/json");
    let pretty = dir.join(format!(
        "NIST_SP-800-53_rev5_{baseline}-baseline-resolved-profile_catalog.json"
    ));
    let file = if pretty.exists() {
        pretty
    } else {
        dir.join(format!(
            "NIST_SP-800-53_rev5_{baseline}-baseline-resolved-profile_catalog-min.json"
        ))
    };
    serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
}

fn control_ids(catalog: &Value) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut pending = vec![catalog];
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::Array(controls)) = map.get("controls") {
                    for control in controls {
                        ids.insert(control["id"].as_str().unwrap().to_owned());
                    }
                }
                pending.extend(map.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    ids
}

#[test]
fn baselines_resolve_to_nists_resolved_catalogs_exactly() {
    let union = fixtures().join("resolve/sp800-53r5-5.1.1-union_catalog.json");
    let mut failures = Vec::new();
    for baseline in BASELINES {
        let ours = normalized(resolve_against(baseline, &union));
        let nist = normalized(nist_resolved(baseline));
        if let Some(difference) = first_difference(&ours, &nist, "") {
            failures.push(format!("{baseline}: {difference}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn baselines_resolve_against_the_5_2_0_catalog_to_the_same_controls() {
    let catalog = fixtures().join("nist/nist-sp800-53r5/json/NIST_SP-800-53_rev5_catalog.json");
    for baseline in BASELINES {
        let ours = control_ids(&resolve_against(baseline, &catalog));
        let nist = control_ids(&nist_resolved(baseline));
        assert_eq!(ours, nist, "{baseline}");
    }
}
