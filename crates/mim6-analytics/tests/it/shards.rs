//! Shards of cities and spilled rows change how much is in memory, never what is computed: a
//! generated fleet gives the same tables one city at a time, with rows spilled to disk after
//! every batch, as all cities at once in memory.

use std::collections::BTreeMap;
use std::path::Path;

use mim6_analytics::{
    BaselineControl, Collector, Formats, Period, PeriodLength, Settings, baseline_controls,
};
use mim6_synth::{Baseline, FleetSpec, OutputFormat, WriteOptions, generate};
use mim6_test_support::fixtures;

/// NIST's resolved MODERATE baseline.
fn moderate() -> oscal_model::Catalog {
    let file = fixtures().join(
        "nist/nist-sp800-53r5/json/NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json",
    );
    let doc = oscal_io::json::from_slice(&file, &std::fs::read(&file).unwrap()).unwrap();
    let oscal_model::Model::Catalog(catalog) = doc.model else {
        panic!("a catalog")
    };
    *catalog
}

/// Generates a JSON fleet of `spec` on `catalog` into `fleet`.
fn write_fleet(fleet: &Path, catalog: &oscal_model::Catalog, spec: &FleetSpec) {
    let options = WriteOptions {
        format: OutputFormat::Json,
        faults: 0.0,
    };
    generate(
        spec,
        &Baseline::from_catalog("moderate.json", catalog),
        &options,
        fleet,
    )
    .unwrap();
}

/// Ingests the fleet in `fleet` into `collector`, `batch` documents at a time, calling
/// `after_batch` after each.
fn feed(collector: &mut Collector, fleet: &Path, batch: usize, after_batch: &mut dyn FnMut()) {
    let options = mim6_ingest::Options {
        inputs: vec![fleet.to_owned()],
        batch,
        ..mim6_ingest::Options::default()
    };
    mim6_ingest::ingest_into(
        &options,
        &mut |facts| {
            collector.add(facts)?;
            after_batch();
            Ok(())
        },
        &|_, _, _| {},
    )
    .unwrap();
}

/// Quarters covering every date the collector took.
fn quarters(collector: &Collector) -> Settings {
    let (first, last) = collector.dates().unwrap();
    Settings {
        periods: Period::covering(
            first.to_zoned_datetime(jiff::tz::TimeZone::UTC).date(),
            last.to_zoned_datetime(jiff::tz::TimeZone::UTC).date(),
            PeriodLength::Quarter,
        ),
        ..Settings::default()
    }
}

/// Runs the collector over the fleet in `fleet`, in batches of 5 documents, writing CSV
/// tables under `out`; returns each table's text.
fn run(
    baseline: &[BaselineControl],
    fleet: &Path,
    out: &Path,
    shard_cities: usize,
    spill_rows: usize,
) -> BTreeMap<String, String> {
    let formats = Formats {
        parquet: false,
        csv: true,
    };
    let mut collector = Collector::to_folder_spilling(baseline, out, formats, spill_rows)
        .unwrap()
        .shard_cities(shard_cities);
    let mut spilled = false;
    feed(&mut collector, fleet, 5, &mut || {
        spilled |= out
            .join("tables.spill")
            .read_dir()
            .unwrap()
            .next()
            .is_some();
    });
    assert_eq!(
        spilled,
        spill_rows < 1_000_000,
        "rows spilled when the limit is low"
    );
    let settings = quarters(&collector);
    collector.finish(&settings).unwrap();
    assert!(
        !out.join("tables.spill").exists(),
        "the spill folder is removed"
    );
    mim6_test_support::files_with_extension(&out.join("tables"), "csv")
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

#[test]
fn one_city_at_a_time_with_spilled_rows_gives_the_same_tables_as_all_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join("fleet");
    let catalog = moderate();
    let spec = FleetSpec {
        cities: 5,
        systems_per_city: 2,
        periods: 5,
        seed: 11,
    };
    write_fleet(&fleet, &catalog, &spec);

    let baseline = baseline_controls(&catalog);
    let whole = run(
        &baseline,
        &fleet,
        &dir.path().join("whole"),
        1000,
        usize::MAX,
    );
    let sharded = run(&baseline, &fleet, &dir.path().join("sharded"), 1, 2_000);
    assert_eq!(
        whole.keys().collect::<Vec<_>>(),
        sharded.keys().collect::<Vec<_>>()
    );
    let mut compared = 0;
    for (name, text) in &whole {
        let other = &sharded[name];
        if name == "fact_risk_period.csv" {
            // Written shard by shard: the same rows, grouped by shard.
            let lines = |t: &str| {
                let mut lines: Vec<String> = t.lines().map(str::to_owned).collect();
                lines[1..].sort();
                lines
            };
            assert_eq!(lines(text), lines(other), "{name}");
        } else {
            assert_eq!(text, other, "{name} differs");
        }
        compared += text.lines().count();
    }
    assert!(compared > 5_000, "{compared} lines compared");
    let risks = whole["m_region_period.csv"].lines().count();
    assert!(risks > 5, "regions and periods measured");
}

#[test]
fn a_spilled_shard_that_cannot_be_read_back_fails_the_run_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join("fleet");
    let catalog = moderate();
    let spec = FleetSpec {
        cities: 3,
        systems_per_city: 1,
        periods: 2,
        seed: 5,
    };
    write_fleet(&fleet, &catalog, &spec);
    let out = dir.path().join("out");
    let formats = Formats {
        parquet: false,
        csv: true,
    };
    let baseline = baseline_controls(&catalog);
    let mut collector = Collector::to_folder_spilling(&baseline, &out, formats, 100)
        .unwrap()
        .shard_cities(1);
    feed(&mut collector, &fleet, 2, &mut || {});
    // A finding file of the last shard (named `{shard}-{spill}-{frame}.parquet`): the
    // metrics of the shards before it are computed by the time it is read.
    let mut findings: Vec<_> = std::fs::read_dir(out.join("tables.spill"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with("-findings.parquet"))
        .collect();
    findings.sort();
    let gone = findings.pop().expect("findings spilled");
    assert!(
        gone.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("2-")
    );
    std::fs::remove_file(&gone).unwrap();

    let settings = quarters(&collector);
    let error = collector.finish(&settings).unwrap_err().to_string();
    assert!(
        error.contains(&gone.display().to_string()),
        "the error names the spill file: {error}"
    );
    assert!(
        !out.join("tables").exists(),
        "no tables are swapped in: {error}"
    );
}
