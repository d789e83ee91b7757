//! Ingest of generated fleets: faults rejected exactly, formats agree, links and attribution.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mim6_ingest::{FacetNaming, Facts, Options, ingest};
use mim6_synth::{Baseline, FleetSpec, OutputFormat, WriteOptions, generate};
use mim6_test_support::fixtures;

fn baseline() -> Baseline {
    let file = fixtures().join(
        "nist/nist-sp800-53r5/json/NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json",
    );
    let doc = oscal_io::json::from_slice(&file, &std::fs::read(&file).unwrap()).unwrap();
    let oscal_model::Model::Catalog(catalog) = doc.model else {
        panic!("a catalog")
    };
    Baseline::from_catalog("moderate.json", &catalog)
}

fn fleet(dir: &Path, format: OutputFormat, faults: f64) {
    let spec = FleetSpec {
        cities: 3,
        systems_per_city: 2,
        periods: 3,
        seed: 4,
    };
    generate(&spec, &baseline(), &WriteOptions { format, faults }, dir).unwrap();
}

fn run(inputs: Vec<PathBuf>) -> mim6_ingest::Ingested {
    let options = Options {
        inputs,
        batch: 7,
        ..Options::default()
    };
    ingest(&options, &|_, _, _| {}).unwrap()
}

#[test]
fn a_fleet_with_faults_loses_exactly_the_broken_documents() {
    let dir = tempfile::tempdir().unwrap();
    fleet(dir.path(), OutputFormat::Json, 0.25);
    let listed: BTreeSet<String> = std::fs::read_to_string(dir.path().join("faults.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().to_owned())
        .collect();
    assert!(listed.len() >= 6, "{listed:?}");
    let ingested = run(vec![dir.path().to_owned()]);
    let root = std::path::absolute(dir.path()).unwrap();
    let rejected: BTreeSet<String> = ingested
        .rejected
        .iter()
        .map(|r| {
            r.path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(rejected, listed);
    for rejection in &ingested.rejected {
        assert!(!rejection.reason.is_empty());
    }
    assert_eq!(
        ingested.facts.documents.len() + ingested.rejected.len(),
        ingested.files
    );
    // 3 cities × (platform + 2 systems).
    assert_eq!(ingested.facts.systems.len(), 9);
    assert!(!ingested.facts.findings.is_empty());
    assert!(!ingested.facts.poam_items.is_empty());
}

#[test]
fn broken_documents_are_located_by_pointer_or_xml_path() {
    let dir = tempfile::tempdir().unwrap();
    fleet(dir.path(), OutputFormat::Mixed, 1.0);
    let ingested = run(vec![dir.path().to_owned()]);
    let faults = std::fs::read_to_string(dir.path().join("faults.csv")).unwrap();
    let mut seen = BTreeSet::new();
    for line in faults.lines().skip(1) {
        let (path, fault) = line.split_once(',').unwrap();
        let rejection = ingested
            .rejected
            .iter()
            .find(|r| r.path.ends_with(path))
            .unwrap_or_else(|| panic!("{path} not rejected"));
        let xml = path.ends_with(".xml");
        let (location, reason) = (&rejection.location, &rejection.reason);
        match fault {
            "schema-invalid" if xml => {
                assert!(location.contains("/last-modified[1] (line "), "{location}");
                assert!(reason.contains("not a date-time"), "{reason}");
            }
            "schema-invalid" => {
                assert!(location.ends_with("/metadata/last-modified"), "{location}");
                assert!(reason.contains("not a date-time"), "{reason}");
            }
            "dangling-import" => {
                assert!(location.ends_with("/href"), "{location}");
                assert!(reason.contains("no such document"), "{reason}");
            }
            "duplicate-uuid" => assert!(reason.contains("unique-uuid"), "{reason}"),
            "wrong-model" => assert!(reason.contains("a profile document"), "{reason}"),
            "xml-bomb" => assert!(reason.to_lowercase().contains("dtd"), "{reason}"),
            "truncated" => assert!(!reason.is_empty()),
            other => panic!("{other}"),
        }
        seen.insert(fault.to_owned());
    }
    assert!(seen.len() >= 5, "{seen:?}");
}

/// The facts with document paths stripped of their extension, for comparing formats.
fn comparable(mut facts: Facts) -> Facts {
    let strip = |p: &mut PathBuf| {
        p.set_extension("");
    };
    let strip_arc = |p: &mut std::sync::Arc<Path>| {
        *p = std::sync::Arc::from(p.with_extension("").as_path());
    };
    facts.systems.iter_mut().for_each(|r| strip(&mut r.path));
    facts
        .findings
        .iter_mut()
        .for_each(|r| strip_arc(&mut r.document));
    facts
        .risks
        .iter_mut()
        .for_each(|r| strip_arc(&mut r.document));
    facts
        .poam_items
        .iter_mut()
        .for_each(|r| strip_arc(&mut r.document));
    facts.documents.clear();
    facts
}

#[test]
fn json_and_xml_fleets_give_the_same_facts() {
    let json = tempfile::tempdir().unwrap();
    let xml = tempfile::tempdir().unwrap();
    fleet(json.path(), OutputFormat::Json, 0.0);
    fleet(xml.path(), OutputFormat::Xml, 0.0);
    let a = run(vec![json.path().to_owned()]);
    let b = run(vec![xml.path().to_owned()]);
    assert!(a.rejected.is_empty(), "{:?}", a.rejected);
    assert!(b.rejected.is_empty(), "{:?}", b.rejected);
    assert_eq!(comparable(a.facts), comparable(b.facts));
}

#[test]
fn implementation_tables_kept_on_disk_give_the_same_facts() {
    let dir = tempfile::tempdir().unwrap();
    // More systems than the tables read back that are kept in memory.
    let spec = FleetSpec {
        cities: 6,
        systems_per_city: 4,
        periods: 2,
        seed: 8,
    };
    let write = WriteOptions {
        format: OutputFormat::Json,
        faults: 0.0,
    };
    generate(&spec, &baseline(), &write, dir.path()).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let on_disk = Options {
        inputs: vec![dir.path().to_owned()],
        batch: 7,
        scratch: Some(scratch.path().to_owned()),
        ..Options::default()
    };
    let a = run(vec![dir.path().to_owned()]);
    let b = ingest(&on_disk, &|_, _, _| {}).unwrap();
    assert!(a.facts.systems.len() > 16, "{}", a.facts.systems.len());
    assert!(
        a.facts
            .risks
            .iter()
            .any(|r| !r.mitigated_controls.is_empty())
    );
    assert_eq!(a.facts, b.facts);
    // The file was unnamed: nothing is left in the folder.
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);

    // A scratch folder that is not there stops ingest, naming it.
    let missing = scratch.path().join("missing");
    let error = ingest(
        &Options {
            scratch: Some(missing.clone()),
            ..on_disk
        },
        &|_, _, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains(&missing.display().to_string()), "{error}");
}

#[test]
fn risks_carry_their_facets_lifecycle_and_controls() {
    let dir = tempfile::tempdir().unwrap();
    fleet(dir.path(), OutputFormat::Json, 0.0);
    let facts = run(vec![dir.path().to_owned()]).facts;
    let namings: BTreeSet<&str> = facts.risks.iter().map(|r| r.naming.name()).collect();
    assert!(namings.len() >= 3, "{namings:?}");
    assert!(facts.risks.iter().all(|r| r.naming != FacetNaming::None));
    assert!(
        facts
            .risks
            .iter()
            .all(|r| r.likelihood.is_some() && r.impact.is_some())
    );
    for risk in &facts.risks {
        // The generator names the implemented requirement of the failed control.
        assert_eq!(risk.mitigated_controls.len(), 1, "{}", risk.risk);
        if &*risk.status == "closed" {
            assert!(risk.closed.unwrap() > risk.first_seen);
        }
    }
    // Findings name risks that their results list.
    let risks: BTreeSet<&mim6_ingest::Uuid> = facts.risks.iter().map(|r| &r.risk).collect();
    for finding in &facts.findings {
        for risk in &finding.risks {
            assert!(risks.contains(risk));
        }
        assert_eq!(finding.observations, 1);
    }
}

#[test]
fn imports_fall_back_to_the_same_stem_and_systems_to_the_path_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let city = dir.path().join("north/oslo/sys");
    std::fs::create_dir_all(&city).unwrap();
    let ssp = fixtures().join("nist/examples/ssp/json/ssp-example.json");
    std::fs::copy(&ssp, city.join("ssp.json")).unwrap();
    // A POA&M that names the plan by a stem whose extension differs.
    let poam = serde_json::json!({"plan-of-action-and-milestones": {
        "uuid": "11111111-2222-4333-8444-555555555555",
        "metadata": {"title": "t", "last-modified": "2025-03-31T00:00:00Z", "version": "1",
                     "oscal-version": "1.2.3"},
        "import-ssp": {"href": "ssp.xml"},
        "poam-items": [{"title": "fix it", "description": "d"}]}});
    std::fs::write(city.join("poam.json"), poam.to_string()).unwrap();
    let ingested = run(vec![dir.path().to_owned()]);
    assert!(ingested.rejected.is_empty(), "{:?}", ingested.rejected);
    assert_eq!(ingested.warnings.len(), 1, "{:?}", ingested.warnings);
    assert!(ingested.warnings[0].contains("same stem"));
    let system = &ingested.facts.systems[0];
    assert_eq!(
        (system.region.as_str(), system.city.as_str()),
        ("north", "oslo")
    );
    assert_eq!(ingested.facts.poam_items.len(), 1);
    assert_eq!(
        &*ingested.facts.poam_items[0].system,
        system.system.as_str()
    );

    // Out of the pattern, and without props, a plan cannot be attributed.
    let flat = tempfile::tempdir().unwrap();
    std::fs::copy(&ssp, flat.path().join("ssp.json")).unwrap();
    let ingested = run(vec![flat.path().to_owned()]);
    assert_eq!(ingested.rejected.len(), 1);
    assert!(ingested.rejected[0].reason.contains("no city or region"));
}

#[test]
fn glob_inputs_pick_their_documents_and_keep_the_folder_before_the_wildcard_as_root() {
    let dir = tempfile::tempdir().unwrap();
    fleet(dir.path(), OutputFormat::Json, 0.0);
    let all = run(vec![dir.path().to_owned()]);
    let pattern = dir.path().join("region-*/city-00[12]/**/*.json");
    let some = run(vec![pattern]);
    assert!(some.rejected.is_empty(), "{:?}", some.rejected);
    let cities: BTreeSet<&str> = some.facts.systems.iter().map(|s| s.city.as_str()).collect();
    assert_eq!(cities, BTreeSet::from(["city-001", "city-002"]));
    assert!(some.files < all.files && some.files > 0);
    // Attribution by path still works from the folder before the wildcard.
    assert!(
        some.facts
            .systems
            .iter()
            .all(|s| s.region.starts_with("region-"))
    );
    assert!(
        !some
            .warnings
            .iter()
            .any(|w| w.contains("matches no document")),
        "{:?}",
        some.warnings
    );
    // A pattern that matches nothing is said, not silently measured as an empty fleet.
    let none = run(vec![
        dir.path().join("region-*/city-999/**/*.json"),
        dir.path().join("region-*/city-001/**/*.json"),
    ]);
    assert!(none.files > 0);
    let unmatched: Vec<&String> = none
        .warnings
        .iter()
        .filter(|w| w.contains("the input pattern matches no document"))
        .collect();
    assert_eq!(unmatched.len(), 1, "{:?}", none.warnings);
    assert!(unmatched[0].contains("city-999"), "{unmatched:?}");
    let bad = ingest(
        &Options {
            inputs: vec![dir.path().join("[unclosed")],
            ..Options::default()
        },
        &|_, _, _| {},
    );
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("not a valid glob pattern")
    );
}

#[test]
fn hostile_hrefs_never_leave_the_input_folder() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input");
    let city = input.join("north/oslo/sys");
    std::fs::create_dir_all(&city).unwrap();
    let ssp = fixtures().join("nist/examples/ssp/json/ssp-example.json");
    std::fs::copy(&ssp, city.join("ssp.json")).unwrap();
    // A real SSP beside the input folder, which an href could try to reach.
    std::fs::copy(&ssp, dir.path().join("outside.json")).unwrap();
    let cases = [
        (
            "climb",
            "../../../../outside.json",
            "leads outside the input folder",
        ),
        (
            "deep-climb",
            "../../../../../../../../../../etc/passwd",
            "leads outside the input folder",
        ),
        ("absolute", "/etc/passwd", "leads outside the input folder"),
        (
            "file-url",
            "file:///etc/passwd",
            "only imports of local files are followed",
        ),
        (
            "metadata-host",
            "http://169.254.169.254/latest/meta-data/",
            "only imports of local files are followed",
        ),
        (
            "localhost",
            "http://localhost/ssp.json",
            "only imports of local files are followed",
        ),
        (
            "resource",
            "#11111111-2222-4333-8444-000000000000",
            "leads outside the input folder",
        ),
        // Inside the folder, but another POA&M (told by its first bytes), not a plan.
        (
            "other-model",
            "localhost.json",
            "localhost.json points at an OSCAL plan-of-action-and-milestones, \
             not an OSCAL system-security-plan",
        ),
    ];
    for (i, (name, href, _)) in cases.iter().enumerate() {
        let poam = serde_json::json!({"plan-of-action-and-milestones": {
            "uuid": format!("11111111-2222-4333-8444-{i:012}"),
            "metadata": {"title": name, "last-modified": "2025-03-31T00:00:00Z", "version": "1",
                         "oscal-version": "1.2.3"},
            "import-ssp": {"href": href},
            "poam-items": [{"title": "fix it", "description": "d"}],
            "back-matter": {"resources": [{"uuid": "11111111-2222-4333-8444-000000000000",
                                          "rlinks": [{"href": "../../../../outside.json"}]}]}}});
        std::fs::write(city.join(format!("{name}.json")), poam.to_string()).unwrap();
    }
    let ingested = run(vec![input]);
    assert_eq!(
        ingested.facts.systems.len(),
        1,
        "only the SSP inside the folder"
    );
    assert_eq!(
        ingested.rejected.len(),
        cases.len(),
        "{:#?}",
        ingested.rejected
    );
    for (name, _, reason) in cases {
        let rejection = ingested
            .rejected
            .iter()
            .find(|r| r.path.ends_with(format!("{name}.json")))
            .unwrap_or_else(|| panic!("{name} is rejected"));
        assert!(
            rejection.reason.contains(reason),
            "{name}: {}",
            rejection.reason
        );
        assert_eq!(
            rejection.location,
            "/plan-of-action-and-milestones/import-ssp/href"
        );
    }
}
