//! End-to-end tests of the `mim6` binary.

mod baseline;
mod convert;
mod crash;
mod hostile;
mod report;
mod resolve;
mod run;
mod synth;
mod urls;
mod validate;

use std::path::Path;
use std::process::Command;

pub(crate) use mim6_test_support::fixtures;

/// What a run of `mim6` printed and how it exited.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `mim6 ARGS` in `dir`.
pub(crate) fn mim6(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_mim6"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("the mim6 binary runs");
    Run {
        code: output
            .status
            .code()
            .expect("mim6 exits normally, without a signal"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}
