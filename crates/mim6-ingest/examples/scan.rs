//! The yardstick of ingest throughput: every document ingest would find under the folders given
//! is read from disk and checked as JSON (`serde_json::from_slice::<IgnoredAny>`), nothing
//! kept, on rayon's global pool (`RAYON_NUM_THREADS` threads).
//!
//! `cargo run --release -p mim6-ingest --example scan -- FOLDER...` prints the files, bytes,
//! seconds and MB/s; `scripts/bench-fleet.sh` runs it beside `mim6 run` on the same fleet.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use rayon::prelude::*;

// The allocator `mim6` runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let folders: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if folders.is_empty() {
        eprintln!("usage: scan FOLDER...");
        return ExitCode::from(2);
    }
    let started = Instant::now();
    let files = match mim6_ingest::discover(&folders) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("scan: {e}");
            return ExitCode::from(2);
        }
    };
    let scanned: Result<u64, String> = files
        .par_iter()
        .map(|(file, _)| {
            let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
            serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            Ok(bytes.len() as u64)
        })
        .try_reduce(|| 0, |a, b| Ok(a + b));
    let seconds = started.elapsed().as_secs_f64();
    match scanned {
        Ok(bytes) => {
            println!(
                "scan: {} files, {bytes} bytes, {seconds:.3} s, {:.1} MB/s",
                files.len(),
                bytes as f64 / 1e6 / seconds.max(1e-9)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("scan: {e}");
            ExitCode::FAILURE
        }
    }
}
