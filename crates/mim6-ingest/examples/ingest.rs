//! Ingest alone, the counterpart of `scan`: every document under the folders given is found,
//! read, projected, checked, linked and attributed, as `mim6 run` does before its collector
//! takes the rows, on rayon's global pool (`RAYON_NUM_THREADS` threads); the rows of each batch
//! are counted and let go, where a run writes them as the fact tables.
//!
//! `cargo run --release -p mim6-ingest --example ingest -- FOLDER...` prints the files, bytes,
//! seconds and MB/s in the form `scan` prints them, and the rows; `scripts/bench-fleet.sh` runs
//! it beside `scan` and `mim6 run` on the same fleet.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

// The allocator `mim6` runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let folders: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if folders.is_empty() {
        eprintln!("usage: ingest FOLDER...");
        return ExitCode::from(2);
    }
    let options = mim6_ingest::Options {
        inputs: folders,
        ..mim6_ingest::Options::default()
    };
    let started = Instant::now();
    let mut rows = 0usize;
    let ingested = mim6_ingest::ingest_into(
        &options,
        &mut |facts| {
            rows += facts.implementations.len()
                + facts.findings.len()
                + facts.observations.len()
                + facts.risks.len()
                + facts.poam_items.len();
            Ok(())
        },
        &|_, _, _| {},
    );
    let seconds = started.elapsed().as_secs_f64();
    match ingested {
        Ok(summary) => {
            println!(
                "ingest: {} files, {} bytes, {seconds:.3} s, {:.1} MB/s",
                summary.files,
                summary.bytes,
                summary.bytes as f64 / 1e6 / seconds.max(1e-9)
            );
            println!(
                "ingest: {rows} fact rows, {} documents rejected",
                summary.rejected.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ingest: {e}");
            ExitCode::FAILURE
        }
    }
}
