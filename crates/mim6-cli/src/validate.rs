//! `mim6 validate FILE...`

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use oscal_validate::{Problem, Report, Validator};
use rayon::prelude::*;

use crate::{EXIT_ERROR, EXIT_INVALID, EXIT_OK};

/// Arguments of `mim6 validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// OSCAL documents to validate (JSON, XML or YAML).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Output: one line per problem (`text`) or a JSON array of reports (`json`).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Refuse documents larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = oscal_io::DEFAULT_MAX_BYTES)]
    max_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

/// What happened to one file: a validation report, or a failure to read it at all.
enum Outcome {
    Checked(Report),
    Failed(oscal_io::Error),
}

pub(crate) fn run(args: &Args) -> anyhow::Result<u8> {
    let validator = Validator::new();
    let outcomes: Vec<Outcome> = args
        .files
        .par_iter()
        .map(|file| check_file(&validator, file, args.max_bytes))
        .collect();

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (mut valid, mut invalid, mut failed) = (0usize, 0usize, 0usize);
    let mut reports = Vec::new();
    for outcome in &outcomes {
        match outcome {
            Outcome::Checked(report) if report.is_valid() => valid += 1,
            Outcome::Checked(_) => invalid += 1,
            Outcome::Failed(..) => failed += 1,
        }
        match (args.format, outcome) {
            (OutputFormat::Text, Outcome::Checked(report)) => write_text(&mut out, report)?,
            (OutputFormat::Json, Outcome::Checked(report)) => reports.push(report_json(report)),
            (_, Outcome::Failed(err)) => eprintln!("mim6: error: {err}"),
        }
    }
    if args.format == OutputFormat::Json {
        serde_json::to_writer_pretty(&mut out, &reports).context("cannot write the report")?;
        writeln!(out)?;
    }
    out.flush()?;
    eprintln!(
        "{} file{}: {valid} valid, {invalid} invalid{}",
        outcomes.len(),
        if outcomes.len() == 1 { "" } else { "s" },
        if failed > 0 {
            format!(", {failed} unreadable")
        } else {
            String::new()
        },
    );
    Ok(if failed > 0 {
        EXIT_ERROR
    } else if invalid > 0 {
        EXIT_INVALID
    } else {
        EXIT_OK
    })
}

fn check_file(validator: &Validator, file: &Path, max_bytes: u64) -> Outcome {
    let bytes = match oscal_io::read_file(file, max_bytes) {
        Ok(bytes) => bytes,
        Err(err) if err.is_input_problem() => {
            return Outcome::Checked(Report {
                path: file.to_owned(),
                model: None,
                problems: vec![Problem::from_io(file, &err)],
            });
        }
        Err(err) => return Outcome::Failed(err),
    };
    Outcome::Checked(validator.validate_bytes(file, &bytes))
}

fn write_text(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    if report.is_valid() {
        let model = report.model.map_or("document", |m| m.root_key());
        return writeln!(out, "{}: valid {model}", report.path.display());
    }
    for problem in &report.problems {
        writeln!(out, "{problem}")?;
    }
    Ok(())
}

fn report_json(report: &Report) -> serde_json::Value {
    serde_json::json!({
        "file": report.path,
        "model": report.model.map(|m| m.root_key()),
        "valid": report.is_valid(),
        "problems": report.problems,
    })
}
