//! Crash safety and concurrency of `mim6 run`: a run killed at any point leaves the previous
//! outputs whole, a rerun gives the same bytes as a run never interrupted, and two runs never
//! write to one folder at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::mim6;

/// The outputs of a run under `dir`, relative path → bytes; `run.json` without its timings.
/// Staging leftovers of an interrupted run are not outputs and are left out.
fn outputs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for top in ["tables", "report", "oscal"] {
        for file in mim6_test_support::files_under(&dir.join(top)) {
            let key = file
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.insert(key, std::fs::read(&file).unwrap());
        }
    }
    for name in ["rejected.csv", "baseline.json"] {
        out.insert(name.into(), std::fs::read(dir.join(name)).unwrap());
    }
    let mut summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
    let o = summary.as_object_mut().unwrap();
    o.remove("timings-seconds");
    o.remove("ingest-mb-per-second");
    out.insert("run.json".into(), summary.to_string().into_bytes());
    out
}

/// A fleet and a pipeline file that reads it, writing wherever `-o` says.
fn fleet(dir: &Path) -> PathBuf {
    let fleet = dir.join("fleet");
    let run = mim6(
        dir,
        &[
            "synth",
            "--cities",
            "12",
            "--systems-per-city",
            "4",
            "--periods",
            "4",
            "-o",
            fleet.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let pipeline = dir.join("pipeline.toml");
    let baseline = mim6_test_support::repo_root().join("profiles/mim6-city-baseline-resolved.json");
    std::fs::write(
        &pipeline,
        format!(
            // Small shards and a low spill limit: kills land while rows are spilled and
            // shards computed too.
            "[baseline]\nprofile = {:?}\n[inputs]\nfolders = [\"fleet\"]\n[output]\nfolder = \"out\"\n[memory]\nshard-cities = 3\nspill-rows = 20000\n",
            baseline.to_str().unwrap()
        ),
    )
    .unwrap();
    pipeline
}

fn start(pipeline: &Path, out: &Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_mim6"))
        .args([
            "run",
            pipeline.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn a_run_killed_anywhere_leaves_the_previous_outputs_whole() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = fleet(dir.path());

    // An uninterrupted run: the reference, and how long a run takes.
    let reference = dir.path().join("reference");
    let started = Instant::now();
    let status = start(&pipeline, &reference).wait().unwrap();
    assert!(status.success());
    let took = started.elapsed();
    let expected = outputs(&reference);
    assert!(expected.keys().any(|k| k.starts_with("report/")));

    // A folder with the outputs of an earlier run, then runs killed at points spread over a
    // run's duration.
    let out = dir.path().join("out");
    assert!(start(&pipeline, &out).wait().unwrap().success());
    let mut killed_while_running = 0;
    for tenth in [1, 3, 5, 7, 9] {
        let mut child = start(&pipeline, &out);
        std::thread::sleep(took * tenth / 10);
        if child.try_wait().unwrap().is_none() {
            killed_while_running += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(
            outputs(&out),
            expected,
            "outputs damaged by a kill at {tenth}/10 of a run"
        );
    }
    assert!(
        killed_while_running >= 3,
        "only {killed_while_running} of 5 kills hit a running process"
    );
    // A rerun finishes the job: the same bytes as the run never interrupted, no leftovers.
    assert!(start(&pipeline, &out).wait().unwrap().success());
    assert_eq!(outputs(&out), expected);
    for leftover in [
        "tables.staging",
        "tables.old",
        "tables.spill",
        "report.staging",
        "report.rows",
        "oscal.staging",
    ] {
        assert!(!out.join(leftover).exists(), "{leftover} left behind");
    }
}

#[test]
fn a_second_run_on_the_same_folder_is_refused_while_the_first_writes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let held = oscal_io::FolderLock::acquire(&out).unwrap();
    let root = mim6_test_support::repo_root();
    let example = root.join("pipelines/example.toml");
    let run_example = || {
        mim6(
            &root,
            &[
                "run",
                example.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ],
        )
    };
    let run = run_example();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("another mim6 process is writing to this folder"),
        "{}",
        run.stderr
    );
    assert!(!out.join("tables").exists(), "nothing written");
    drop(held);
    // Released with its holder, however it ended.
    let run = run_example();
    assert_eq!(run.code, 0, "{}", run.stderr);
}
