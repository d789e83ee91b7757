//! Generated fleets: valid OSCAL, linked, reproducible.

use mim6_synth::{Baseline, FleetSpec, generate};
use mim6_test_support::{files_with_extension, fixtures};
use oscal_validate::Validator;

fn moderate() -> Baseline {
    let file = fixtures()
        .join("nist/nist-sp800-53r5/json/NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json");
    let doc = oscal_io::json::from_slice(&file, &std::fs::read(&file).unwrap()).unwrap();
    let oscal_model::Model::Catalog(catalog) = doc.model else {
        panic!("a catalog")
    };
    Baseline::from_catalog("moderate.json", &catalog)
}

#[test]
fn every_generated_plan_is_valid_and_the_same_seed_gives_the_same_bytes() {
    let baseline = moderate();
    assert!(baseline.controls.len() >= 287);
    let spec = FleetSpec {
        cities: 3,
        systems_per_city: 2,
        periods: 4,
        seed: 1,
    };
    let first = tempfile::tempdir().unwrap();
    let summary = generate(&spec, &baseline, first.path()).unwrap();
    // Per city: the platform SSP, and per system an SSP plus an AP and an AR per period.
    assert_eq!(summary.documents, 3 * (1 + 2 * (1 + 2 * 4)));

    let validator = Validator::new();
    let files = files_with_extension(first.path(), "json");
    assert_eq!(files.len(), summary.documents);
    for file in &files {
        let report = validator.validate_bytes(file, &std::fs::read(file).unwrap());
        let problems: Vec<String> = report
            .problems
            .iter()
            .take(5)
            .map(ToString::to_string)
            .collect();
        assert!(report.is_valid(), "{}", problems.join("\n"));
    }

    let second = tempfile::tempdir().unwrap();
    generate(&spec, &baseline, second.path()).unwrap();
    for file in &files {
        let twin = second.path().join(file.strip_prefix(first.path()).unwrap());
        assert_eq!(
            std::fs::read(file).unwrap(),
            std::fs::read(twin).unwrap(),
            "{}",
            file.display()
        );
    }
}

#[test]
fn systems_inherit_what_their_city_platform_exports() {
    let baseline = moderate();
    let spec = FleetSpec {
        cities: 1,
        systems_per_city: 1,
        periods: 1,
        seed: 7,
    };
    let dir = tempfile::tempdir().unwrap();
    generate(&spec, &baseline, dir.path()).unwrap();
    let city = dir.path().join("region-1/city-001");
    let read = |path: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(city.join(path)).unwrap()).unwrap()
    };
    let platform = read("platform/ssp.json");
    let system = read("system-01/ssp.json");
    let mut provided = std::collections::BTreeSet::new();
    for requirement in
        platform["system-security-plan"]["control-implementation"]["implemented-requirements"]
            .as_array()
            .unwrap()
    {
        for component in requirement["by-components"].as_array().unwrap() {
            for p in component["export"]["provided"].as_array().unwrap() {
                provided.insert(p["uuid"].as_str().unwrap().to_owned());
            }
        }
    }
    let mut inherited = 0;
    let mut states = std::collections::BTreeMap::new();
    for requirement in
        system["system-security-plan"]["control-implementation"]["implemented-requirements"]
            .as_array()
            .unwrap()
    {
        for component in requirement["by-components"].as_array().unwrap() {
            if let Some(list) = component["inherited"].as_array() {
                for i in list {
                    assert!(provided.contains(i["provided-uuid"].as_str().unwrap()));
                    inherited += 1;
                }
            } else {
                *states
                    .entry(
                        component["implementation-status"]["state"]
                            .as_str()
                            .unwrap()
                            .to_owned(),
                    )
                    .or_insert(0) += 1;
            }
        }
    }
    assert!(inherited >= 20, "{inherited} inherited controls");
    for state in ["implemented", "partial", "planned"] {
        assert!(
            states.contains_key(state),
            "{state} missing from {states:?}"
        );
    }
}
