//! `mim6 report OUTPUT`: the HTML report and the OSCAL outputs, made again from the tables a run
//! wrote in `OUTPUT`.

use std::path::PathBuf;

use anyhow::Context;

use crate::EXIT_OK;

/// Arguments of `mim6 report`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The output folder of a run (with `tables/`, `run.json`, `rejected.csv`).
    #[arg(value_name = "OUTPUT")]
    output: PathBuf,
    /// Open risks listed per page, most urgent first.
    #[arg(long, default_value_t = mim6_report::Options::default().top_risks)]
    top_risks: usize,
    /// The maturity level (0–5) every control family should attain.
    #[arg(long, default_value_t = mim6_report::Options::default().target_level,
          value_parser = clap::value_parser!(u8).range(0..=5))]
    target_level: u8,
    /// Cities whose pages are made together, whole regions at a time; fewer use less memory,
    /// the outputs are the same.
    #[arg(long, default_value_t = mim6_report::Options::default().group_cities,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    group_cities: usize,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<u8> {
    let options = mim6_report::Options {
        top_risks: args.top_risks,
        target_level: args.target_level,
        group_cities: args.group_cities,
    };
    if !args.output.join("tables").is_dir() {
        anyhow::bail!(
            "{}: not the output folder of a run (no tables/ in it)",
            args.output.display()
        );
    }
    let _lock = oscal_io::FolderLock::acquire(&args.output)?;
    let written = mim6_report::write(&args.output, &options)
        .with_context(|| format!("cannot make the report of {}", args.output.display()))?;
    eprintln!(
        "{} pages in {}, {} OSCAL documents in {}",
        written.pages,
        written.report.display(),
        written.documents,
        written.oscal.display()
    );
    Ok(EXIT_OK)
}
