//! `mim6 run`: the example pipeline, reproducibility, bad documents, bad pipelines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::{fixtures, mim6};

/// Every file under `dir`, relative, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let key = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(key, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// A CSV table (no quoted cells in the metric tables) as rows of column → value.
fn table(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|line| {
            header
                .iter()
                .zip(line.split(','))
                .map(|(h, v)| ((*h).to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

#[test]
fn the_example_pipeline_runs_on_the_default_data_and_gives_the_same_bytes_twice() {
    let dir = tempfile::tempdir().unwrap();
    let example = mim6_test_support::repo_root().join("pipelines/example.toml");
    let mut outputs = Vec::new();
    for name in ["a", "b"] {
        let out = dir.path().join(name);
        let run = mim6(
            &mim6_test_support::repo_root(),
            &[
                "run",
                example.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stderr.contains("0 rejected"), "{}", run.stderr);
        outputs.push(out);
    }
    let (a, b) = (files(&outputs[0]), files(&outputs[1]));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        if name == "run.json" {
            continue;
        }
        assert!(bytes == &b[name], "{name} differs between two runs");
    }
    // run.json differs only in its timings.
    let summary = |bytes: &[u8]| {
        let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("timings-seconds");
        o.remove("ingest-mb-per-second");
        v
    };
    assert_eq!(summary(&a["run.json"]), summary(&b["run.json"]));

    let tables = outputs[0].join("tables");
    // 6 cities in 2 regions, 4 quarters.
    let cities = table(&tables.join("m_city_period.csv"));
    assert_eq!(cities.len(), 6 * 4);
    let regions = table(&tables.join("m_region_period.csv"));
    assert_eq!(regions.len(), 2 * 4);
    assert!(
        a.keys()
            .any(|k| k.starts_with("tables/m_city_period/region=region-1/period=2025-Q1/"))
    );
    // Ranges of every system metric.
    let systems = table(&tables.join("m_system_period.csv"));
    assert_eq!(systems.len(), 24 * 4);
    let number = |row: &BTreeMap<String, String>, c: &str| row[c].parse::<f64>().ok();
    for row in &systems {
        for c in [
            "claimed_coverage",
            "claimed_coverage_strict",
            "assessed_coverage",
            "assessment_breadth",
            "overclaim_rate",
            "na_rate",
            "regression_rate",
            "on_time_rate",
        ] {
            if let Some(v) = number(row, c) {
                assert!((0.0..=1.0).contains(&v), "{c} = {v}");
            }
        }
        let maturity = number(row, "maturity_mean").unwrap();
        assert!((0.0..=5.0).contains(&maturity));
        let attained = number(row, "attained_level").unwrap();
        assert!((0.0..=5.0).contains(&attained));
        // Claims never exceed their strict reading's complement: strict ≤ claimed.
        assert!(
            number(row, "claimed_coverage_strict").unwrap()
                <= number(row, "claimed_coverage").unwrap() + 1e-12
        );
        // Platforms have no assessments: their assessed coverage is null, not zero.
        if row["name"].ends_with("shared platform") {
            assert_eq!(row["assessed_coverage"], "");
        } else {
            assert!(number(row, "assessed_coverage").is_some());
        }
    }
}

#[test]
fn a_fleet_with_faults_is_run_and_exactly_the_faulty_documents_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = mim6_test_support::repo_root().join("profiles/mim6-city-baseline-resolved.json");
    let pipeline = format!(
        "[baseline]\nprofile = {:?}\n[inputs.synth]\ncities = 4\nsystems-per-city = 2\n\
         periods = 3\nseed = 9\nfaults = 0.05\n[output]\nfolder = \"out\"\nformats = [\"csv\"]\n",
        baseline.to_str().unwrap()
    );
    std::fs::write(dir.path().join("p.toml"), pipeline).unwrap();
    let run = mim6(dir.path(), &["run", "p.toml"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let faults: BTreeSet<String> = std::fs::read_to_string(dir.path().join("out/fleet/faults.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect();
    assert!(!faults.is_empty());
    let rejected: BTreeSet<String> = std::fs::read_to_string(dir.path().join("out/rejected.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect();
    assert_eq!(rejected, faults);
    // Everything else is measured.
    let systems = table(&dir.path().join("out/tables/m_system_period.csv"));
    assert_eq!(systems.len(), 4 * 3 * 3);
}

#[test]
fn a_missing_baseline_or_pipeline_file_stops_the_run_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = mim6(dir.path(), &["run", "nothing.toml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("nothing.toml: cannot read the pipeline file"),
        "{}",
        run.stderr
    );

    std::fs::write(
        dir.path().join("p.toml"),
        "[baseline]\nprofile = \"missing.json\"\n[inputs]\nfolders = [\".\"]\n[output]\nfolder = \"out\"\n",
    )
    .unwrap();
    let run = mim6(dir.path(), &["run", "p.toml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("missing.json: the baseline profile does not exist"),
        "{}",
        run.stderr
    );

    std::fs::write(dir.path().join("p.toml"), "[baseline]\nprofile = 3\n").unwrap();
    let run = mim6(dir.path(), &["run", "p.toml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("p.toml"), "{}", run.stderr);
}

#[test]
fn plans_without_any_assessment_give_facts_and_empty_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let system = dir.path().join("fleet/north/oslo/sys");
    std::fs::create_dir_all(&system).unwrap();
    std::fs::copy(
        fixtures().join("pipeline/fleet/region-a/city-y/y1/ssp.json"),
        system.join("ssp.json"),
    )
    .unwrap();
    let baseline = fixtures().join("pipeline/catalog.json");
    std::fs::write(
        dir.path().join("p.toml"),
        format!(
            "[baseline]\nprofile = {:?}\n[inputs]\nfolders = [\"fleet\"]\n[output]\nfolder = \"out\"\nformats = [\"csv\"]\n",
            baseline.to_str().unwrap()
        ),
    )
    .unwrap();
    let run = mim6(dir.path(), &["run", "p.toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("0 periods"), "{}", run.stderr);
    assert_eq!(
        table(&dir.path().join("out/tables/fact_implementation.csv")).len(),
        5
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/tables/m_city_period.csv"))
            .unwrap()
            .trim(),
        ""
    );
}

#[test]
fn the_hand_written_fleet_is_valid_oscal_and_runs_clean() {
    let root = fixtures().join("pipeline");
    let mut args = vec!["validate".to_owned()];
    args.extend(
        mim6_test_support::files_with_extension(&root, "json")
            .iter()
            .map(|path| path.to_string_lossy().into_owned()),
    );
    assert_eq!(args.len(), 1 + 19);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = mim6(&root, &refs);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let dir = tempfile::tempdir().unwrap();
    let run = mim6(
        &root,
        &["run", "pipeline.toml", "-o", dir.path().to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        table(&dir.path().join("tables/m_system_period.csv")).len(),
        4 * 3
    );
}
