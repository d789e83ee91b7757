//! `mim6`: the command-line front of the mim6 OSCAL compliance pipeline.

mod convert;
mod report;
mod resolve;
mod run;
mod synth;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// OSCAL documents parse into many small allocations; mimalloc makes that markedly faster than
// the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status: the command did its work and found nothing wrong.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit status: the input has problems (invalid or rejected documents).
pub(crate) const EXIT_INVALID: u8 = 1;
/// Exit status: the command could not run (bad usage, unreadable file, I/O failure).
pub(crate) const EXIT_ERROR: u8 = 2;

/// OSCAL-native compliance data pipeline for regions and cities.
#[derive(Debug, Parser)]
#[command(name = "mim6", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate OSCAL documents against the official schemas and reference rules.
    Validate(validate::Args),
    /// Convert an OSCAL document between JSON, XML and YAML.
    Convert(convert::Args),
    /// Resolve a profile into a catalog, as NIST's profile resolution specification says.
    Resolve(resolve::Args),
    /// Generate a realistic, seeded fleet of city OSCAL documents.
    Synth(synth::Args),
    /// Run a pipeline: resolve the baseline, ingest a fleet, compute and write the metrics.
    Run(run::Args),
    /// Make the HTML report and the OSCAL outputs again from the tables of a run.
    Report(report::Args),
}

/// The error and its causes, `: `-separated. A cause is left out when the message before it
/// already ends with it: the libraries' errors name their cause in their own message.
fn message(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.ends_with(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_OK
            });
        }
    };
    let outcome = match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Convert(args) => convert::run(&args),
        Command::Resolve(args) => resolve::run(&args),
        Command::Synth(args) => synth::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Report(args) => report::run(&args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("mim6: error: {}", message(&err));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    #[test]
    fn a_cause_the_message_before_it_names_is_said_once() {
        let full = std::io::Error::new(std::io::ErrorKind::StorageFull, "no space left");
        let written = oscal_io::Error::Io {
            path: "out/a.json".into(),
            action: "cannot write",
            source: full,
        };
        let err = Err::<(), _>(written)
            .context("cannot generate the fleet")
            .unwrap_err();
        assert_eq!(
            super::message(&err),
            "cannot generate the fleet: out/a.json: cannot write: no space left"
        );
        let bare = Err::<(), _>(std::io::Error::other("gone"))
            .context("cannot open the lock")
            .unwrap_err();
        assert_eq!(super::message(&bare), "cannot open the lock: gone");
    }
}
