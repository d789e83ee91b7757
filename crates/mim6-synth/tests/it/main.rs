//! Generated fleets: valid OSCAL, linked, reproducible.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use mim6_synth::{Baseline, Fault, FleetSpec, OutputFormat, WriteOptions, generate};
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

fn documents(root: &Path) -> Vec<PathBuf> {
    let mut files = files_with_extension(root, "json");
    files.extend(files_with_extension(root, "xml"));
    files.sort();
    files
}

fn value(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap();
    oscal_io::read_value(path, &bytes).unwrap().1
}

#[test]
fn every_generated_document_is_valid_and_the_same_seed_gives_the_same_bytes() {
    let baseline = moderate();
    assert!(baseline.controls.len() >= 287);
    let spec = FleetSpec {
        cities: 3,
        systems_per_city: 2,
        periods: 4,
        seed: 1,
    };
    let options = WriteOptions {
        format: OutputFormat::Mixed,
        faults: 0.0,
    };
    let first = tempfile::tempdir().unwrap();
    let summary = generate(&spec, &baseline, &options, first.path()).unwrap();
    let files = documents(first.path());
    assert_eq!(files.len(), summary.documents);
    // Per city the platform SSP; per system an SSP, and per period an AP, an AR and (when
    // there are risks to track) a POA&M.
    let poams = poam_count(first.path());
    assert_eq!(summary.documents, 3 * (1 + 2 * (1 + 2 * 4)) + poams);
    assert!(poams > 0);
    let xml = files
        .iter()
        .filter(|f| f.extension().unwrap() == "xml")
        .count();
    assert!(
        xml > 0 && xml < files.len(),
        "{xml} of {} in XML",
        files.len()
    );

    let validator = Validator::new();
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
    generate(&spec, &baseline, &options, second.path()).unwrap();
    assert_eq!(documents(second.path()).len(), files.len());
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
fn imports_and_uuid_references_resolve() {
    let spec = FleetSpec {
        cities: 2,
        systems_per_city: 2,
        periods: 3,
        seed: 3,
    };
    let dir = tempfile::tempdir().unwrap();
    generate(&spec, &moderate(), &WriteOptions::default(), dir.path()).unwrap();
    let mut checked = 0;
    for file in documents(dir.path()) {
        let doc = value(&file);
        let (model, root) = doc.as_object().unwrap().iter().next().unwrap();
        let import = match model.as_str() {
            "assessment-results" => root["import-ap"]["href"].as_str(),
            "assessment-plan" | "plan-of-action-and-milestones" => {
                root["import-ssp"]["href"].as_str()
            }
            _ => None,
        };
        if let Some(href) = import {
            assert!(file.parent().unwrap().join(href).is_file(), "{href}");
            checked += 1;
        }
        // Every risk a finding or POA&M item names is in the same document.
        let mut risks = BTreeSet::new();
        let mut named = Vec::new();
        let results = root["results"].as_array().cloned().unwrap_or_default();
        for holder in results.iter().chain(std::iter::once(root)) {
            for risk in holder["risks"].as_array().into_iter().flatten() {
                risks.insert(risk["uuid"].as_str().unwrap().to_owned());
            }
            for key in ["findings", "poam-items"] {
                for item in holder[key].as_array().into_iter().flatten() {
                    for r in item["related-risks"].as_array().into_iter().flatten() {
                        named.push(r["risk-uuid"].as_str().unwrap().to_owned());
                    }
                }
            }
        }
        for uuid in named {
            assert!(risks.contains(&uuid), "{}: {uuid}", file.display());
        }
    }
    assert_eq!(checked, 2 * 2 * 3 * 2 + poam_count(dir.path()));
}

fn poam_count(root: &Path) -> usize {
    documents(root)
        .iter()
        .filter(|f| {
            f.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("poam-")
        })
        .count()
}

/// What the risks of a fleet went through, from the last document listing each.
#[derive(Debug, Default)]
struct RiskStory {
    statuses: BTreeMap<String, usize>,
    facet_systems: BTreeSet<String>,
    closed: usize,
    closed_late: usize,
    reopened_after_closure: usize,
    adjusted: usize,
    overclaimed: usize,
}

#[test]
fn risks_open_are_remediated_with_delays_and_deadlines_slip() {
    let spec = FleetSpec {
        cities: 8,
        systems_per_city: 3,
        periods: 6,
        seed: 11,
    };
    let dir = tempfile::tempdir().unwrap();
    generate(&spec, &moderate(), &WriteOptions::default(), dir.path()).unwrap();
    let mut story = RiskStory::default();
    let mut last_status: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for file in documents(dir.path()) {
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        let Some(period) = name
            .strip_prefix("ar-")
            .and_then(|rest| rest.strip_suffix(".json"))
        else {
            continue;
        };
        let period: usize = period.parse().unwrap();
        let doc = value(&file);
        let ssp = value(&file.with_file_name("ssp.json"));
        let claims: BTreeMap<String, String> =
            ssp["system-security-plan"]["control-implementation"]["implemented-requirements"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|r| {
                    let state = r["by-components"][0]["implementation-status"]["state"].as_str()?;
                    Some((r["control-id"].as_str()?.to_owned(), state.to_owned()))
                })
                .collect();
        let result = &doc["assessment-results"]["results"][0];
        for finding in result["findings"].as_array().into_iter().flatten() {
            let control = finding["target"]["target-id"]
                .as_str()
                .unwrap()
                .trim_end_matches("_obj");
            if finding["target"]["status"]["state"] == "not-satisfied"
                && claims.get(control).map(String::as_str) == Some("implemented")
            {
                story.overclaimed += 1;
            }
        }
        for risk in result["risks"].as_array().into_iter().flatten() {
            let uuid = risk["uuid"].as_str().unwrap().to_owned();
            let status = risk["status"].as_str().unwrap().to_owned();
            for c in risk["characterizations"].as_array().unwrap() {
                for facet in c["facets"].as_array().unwrap() {
                    story
                        .facet_systems
                        .insert(facet["system"].as_str().unwrap().to_owned());
                    if facet["props"][0]["value"] == "adjusted" {
                        story.adjusted += 1;
                    }
                }
            }
            if status == "closed" {
                story.closed += 1;
                let log = risk["risk-log"]["entries"].as_array().unwrap();
                let closed = log.last().unwrap();
                assert_eq!(closed["status-change"], "closed");
                let first = log[0]["start"].as_str().unwrap();
                let end = closed["start"].as_str().unwrap();
                assert!(first < end, "closed {end} before opened {first}");
                if end > risk["deadline"].as_str().unwrap() {
                    story.closed_late += 1;
                }
            }
            let key = format!("{}/{uuid}", file.parent().unwrap().display());
            if let Some((before, previous)) = last_status.get(&key)
                && previous == "closed"
                && *before < period
            {
                story.reopened_after_closure += 1;
            }
            *story.statuses.entry(status.clone()).or_default() += 1;
            last_status.insert(key, (period, status));
        }
    }
    for status in ["open", "remediating", "closed", "deviation-approved"] {
        assert!(story.statuses.contains_key(status), "{story:?}");
    }
    assert_eq!(story.facet_systems.len(), 4, "{story:?}");
    assert!(story.closed > 20, "{story:?}");
    assert!(
        story.closed_late > 0 && story.closed_late < story.closed,
        "{story:?}"
    );
    assert_eq!(story.reopened_after_closure, 0, "{story:?}");
    assert!(story.adjusted > 0, "{story:?}");
    assert!(story.overclaimed > 0, "{story:?}");
}

#[test]
fn faults_break_exactly_the_documents_listed_in_faults_csv() {
    let spec = FleetSpec {
        cities: 4,
        systems_per_city: 3,
        periods: 4,
        seed: 5,
    };
    let baseline = moderate();
    let clean = tempfile::tempdir().unwrap();
    generate(&spec, &baseline, &WriteOptions::default(), clean.path()).unwrap();
    let broken = tempfile::tempdir().unwrap();
    let options = WriteOptions {
        faults: 0.3,
        ..WriteOptions::default()
    };
    let summary = generate(&spec, &baseline, &options, broken.path()).unwrap();
    let csv = std::fs::read_to_string(broken.path().join("faults.csv")).unwrap();
    let listed: BTreeMap<String, String> = csv
        .lines()
        .skip(1)
        .map(|line| {
            let (path, fault) = line.split_once(',').unwrap();
            (path.to_owned(), fault.to_owned())
        })
        .collect();
    assert_eq!(listed.len(), summary.faults.len());
    let kinds: BTreeSet<&str> = listed.values().map(String::as_str).collect();
    assert_eq!(kinds.len(), Fault::ALL.len(), "{kinds:?}");
    let validator = Validator::new();
    for file in documents(clean.path()) {
        let relative = file.strip_prefix(clean.path()).unwrap();
        let key = relative.to_str().unwrap().replace('\\', "/");
        let twin = broken.path().join(relative);
        let (a, b) = (std::fs::read(&file).unwrap(), std::fs::read(&twin).unwrap());
        let Some(fault) = listed.get(&key) else {
            assert_eq!(a, b, "{key} is not listed but differs");
            continue;
        };
        assert_ne!(a, b, "{key} is listed but intact");
        let report = validator.validate_bytes(&twin, &b);
        match fault.as_str() {
            "truncated" | "schema-invalid" | "duplicate-uuid" | "xml-bomb" => {
                assert!(!report.is_valid(), "{key}: {fault} validates")
            }
            "dangling-import" => {
                let doc = value(&twin);
                let root = doc.as_object().unwrap().values().next().unwrap();
                let href = root["import-ap"]["href"]
                    .as_str()
                    .or(root["import-ssp"]["href"].as_str())
                    .unwrap();
                assert!(!twin.parent().unwrap().join(href).exists(), "{key}");
            }
            "wrong-model" => {
                assert_eq!(report.model, Some(oscal_model::ModelKind::Profile), "{key}")
            }
            other => panic!("unknown fault {other}"),
        }
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
    generate(&spec, &baseline, &WriteOptions::default(), dir.path()).unwrap();
    let city = dir.path().join("region-1/city-001");
    let read = |path: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(city.join(path)).unwrap()).unwrap()
    };
    let platform = read("platform/ssp.json");
    let system = read("system-01/ssp.json");
    let mut provided = std::collections::BTreeSet::new();
    let mut responsibilities = std::collections::BTreeSet::new();
    for requirement in
        platform["system-security-plan"]["control-implementation"]["implemented-requirements"]
            .as_array()
            .unwrap()
    {
        for component in requirement["by-components"].as_array().unwrap() {
            let state = component["implementation-status"]["state"]
                .as_str()
                .unwrap();
            for r in component["export"]["responsibilities"]
                .as_array()
                .into_iter()
                .flatten()
            {
                responsibilities.insert(r["uuid"].as_str().unwrap().to_owned());
            }
            match component["export"]["provided"].as_array() {
                Some(list) => {
                    assert_eq!(state, "implemented");
                    for p in list {
                        provided.insert(p["uuid"].as_str().unwrap().to_owned());
                    }
                }
                // What the platform does not provide, each system implements itself.
                None => assert_eq!(state, "not-applicable"),
            }
        }
    }
    let mut inherited = 0;
    let mut answered = 0;
    let mut states = std::collections::BTreeMap::new();
    for requirement in
        system["system-security-plan"]["control-implementation"]["implemented-requirements"]
            .as_array()
            .unwrap()
    {
        for component in requirement["by-components"].as_array().unwrap() {
            for satisfied in component["satisfied"].as_array().into_iter().flatten() {
                let named = satisfied["responsibility-uuid"].as_str().unwrap();
                assert!(responsibilities.contains(named));
                answered += 1;
            }
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
    // Every responsibility the platform exports is answered.
    assert!(!responsibilities.is_empty());
    assert_eq!(answered, responsibilities.len());
    for state in ["implemented", "partial", "planned"] {
        assert!(
            states.contains_key(state),
            "{state} missing from {states:?}"
        );
    }
}
