//! Ingest throughput against a bare scan of the same files, with 1 and 2 threads.
//!
//! `cargo bench -p mim6-ingest --bench ingest`. The fleet is `MIM6_BENCH_FLEET` when set (a
//! folder written by `mim6 synth`), else 20 cities × 10 systems × 4 periods generated once under
//! `target/bench-fleet`. Both sides read every file from disk (warm page cache) on a rayon pool
//! of the given size; the scan only checks that each file is JSON
//! (`serde_json::from_slice::<IgnoredAny>`), ingest does everything `mim6 run` does before the
//! metrics and hands the rows on batch by batch (`ingest_into`) to a sink that counts them, as
//! a run hands them to its collector; what the collector does with them is measured by the
//! whole-run benchmark (`scripts/bench-fleet.sh`). The throughput column is in bytes per second
//! of documents.

use std::path::PathBuf;
use std::sync::LazyLock;

use divan::Bencher;
use divan::counter::BytesCount;
use rayon::prelude::*;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

struct Fleet {
    root: PathBuf,
    files: Vec<PathBuf>,
    bytes: u64,
}

static FLEET: LazyLock<Fleet> = LazyLock::new(|| {
    let root = match std::env::var_os("MIM6_BENCH_FLEET") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-fleet");
            if !dir.join("region-1").exists() {
                let (_, bytes) =
                    mim6_test_support::fixture("../../profiles/mim6-city-baseline-resolved.json");
                let doc = oscal_io::json::from_slice(&dir, &bytes).expect("the baseline reads");
                let oscal_model::Model::Catalog(catalog) = doc.model else {
                    panic!("the resolved baseline is a catalog")
                };
                let baseline = mim6_synth::Baseline::from_catalog("baseline.json", &catalog);
                let spec = mim6_synth::FleetSpec {
                    cities: 20,
                    systems_per_city: 10,
                    periods: 4,
                    seed: 1,
                };
                mim6_synth::generate(&spec, &baseline, &Default::default(), &dir)
                    .expect("the fleet is written");
            }
            dir
        }
    };
    let files: Vec<PathBuf> = mim6_ingest::discover(std::slice::from_ref(&root))
        .expect("the fleet is listed")
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    let bytes = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    Fleet { root, files, bytes }
});

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

/// Read every file and scan it as JSON without keeping anything.
#[divan::bench(args = [1, 2], sample_count = 5)]
fn bare_scan(bencher: Bencher, threads: usize) {
    let fleet = &*FLEET;
    let pool = pool(threads);
    bencher.counter(BytesCount::new(fleet.bytes)).bench(|| {
        pool.install(|| {
            fleet.files.par_iter().for_each(|file| {
                let bytes = std::fs::read(file).expect("readable");
                let _: serde::de::IgnoredAny = serde_json::from_slice(&bytes).expect("JSON");
            });
        });
    });
}

/// Everything ingest does: discover, read, project, check, link, attribute, hand on the rows.
#[divan::bench(args = [1, 2], sample_count = 5)]
fn ingest(bencher: Bencher, threads: usize) {
    let fleet = &*FLEET;
    let pool = pool(threads);
    let options = mim6_ingest::Options {
        inputs: vec![fleet.root.clone()],
        ..mim6_ingest::Options::default()
    };
    bencher.counter(BytesCount::new(fleet.bytes)).bench(|| {
        pool.install(|| {
            let mut findings = 0;
            let summary = mim6_ingest::ingest_into(
                &options,
                &mut |facts| {
                    findings += facts.findings.len();
                    Ok(())
                },
                &|_, _, _| {},
            )
            .expect("ingested");
            assert!(summary.rejected.is_empty());
            assert!(findings > 0);
            findings
        })
    });
}
