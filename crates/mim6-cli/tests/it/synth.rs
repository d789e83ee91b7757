//! `mim6 synth`: baselines given as a catalog or a profile, formats, faults, bad arguments.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::{fixtures, mim6};

fn control_ids(catalog: &Value, out: &mut BTreeSet<String>) {
    match catalog {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "controls" {
                    for control in value.as_array().unwrap() {
                        out.insert(control["id"].as_str().unwrap().to_owned());
                    }
                }
                control_ids(value, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| control_ids(item, out)),
        _ => {}
    }
}

#[test]
fn a_profile_baseline_is_resolved_and_the_fleet_is_written_in_xml_with_faults() {
    let dir = tempfile::tempdir().unwrap();
    let profile = fixtures()
        .join("nist/profile-resolution-spec/profile-resolution-examples/full-test_profile.xml");
    let profile = profile.to_str().unwrap();
    let resolved = mim6(dir.path(), &["resolve", profile, "-o", "resolved.json"]);
    assert_eq!(resolved.code, 0, "{}", resolved.stderr);
    let catalog: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("resolved.json")).unwrap()).unwrap();
    let mut expected = BTreeSet::new();
    control_ids(&catalog, &mut expected);
    assert!(!expected.is_empty());

    let run = mim6(
        dir.path(),
        &[
            "synth",
            "--baseline",
            profile,
            "--cities",
            "2",
            "--systems-per-city",
            "2",
            "--periods",
            "3",
            "--format",
            "xml",
            "--faults",
            "0.5",
            "-o",
            "fleet",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("listed in"), "{}", run.stderr);
    let ssp = dir.path().join("fleet/region-1/city-001/system-01/ssp.xml");
    let (_, plan) = oscal_io::read_value(&ssp, &std::fs::read(&ssp).unwrap()).unwrap();
    let claimed: BTreeSet<String> =
        plan["system-security-plan"]["control-implementation"]["implemented-requirements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["control-id"].as_str().unwrap().to_owned())
            .collect();
    assert_eq!(claimed, expected);
    let faults = std::fs::read_to_string(dir.path().join("fleet/faults.csv")).unwrap();
    assert!(faults.starts_with("path,fault\n") && faults.lines().count() > 1);
}

#[test]
fn bad_arguments_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = mim6(dir.path(), &["synth", "--faults", "1.5", "-o", "fleet"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a fraction between 0 and 1"),
        "{}",
        run.stderr
    );
    let ssp = fixtures().join("nist/examples/ssp/json/ssp-example.json");
    let run = mim6(
        dir.path(),
        &["synth", "--baseline", ssp.to_str().unwrap(), "-o", "fleet"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("must be a catalog or a profile"),
        "{}",
        run.stderr
    );
}
