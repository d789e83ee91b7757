//! `mim6 synth`: generate a city fleet.

use std::path::PathBuf;

use anyhow::{Context, bail};
use mim6_synth::{Baseline, FleetSpec, OutputFormat, WriteOptions};
use oscal_model::Model;
use oscal_resolve::{FileLoader, Location, Options, Resolver};

use crate::{EXIT_INVALID, EXIT_OK};

/// The resolved MIM6 city baseline, shipped in `profiles/` and embedded so that `mim6 synth`
/// works from any folder.
const CITY_BASELINE: &[u8] = include_bytes!("../../../profiles/mim6-city-baseline-resolved.json");

/// Arguments of `mim6 synth`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Number of cities.
    #[arg(long, default_value_t = 6)]
    cities: usize,
    /// Systems per city (besides each city's shared platform).
    #[arg(long, default_value_t = 3)]
    systems_per_city: usize,
    /// Assessment periods (quarters).
    #[arg(long, default_value_t = 4)]
    periods: usize,
    /// The seed: the same seed and arguments give byte-identical files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The baseline to write the plans against: a resolved catalog or a profile (resolved
    /// from local files), in JSON, XML or YAML; by default the resolved MIM6 city baseline.
    #[arg(long, value_name = "CATALOG_OR_PROFILE")]
    baseline: Option<PathBuf>,
    /// Format of the documents: every city in JSON, in XML, or a mix (a third in XML).
    #[arg(long, value_enum, default_value = "json")]
    format: FormatArg,
    /// Fraction (0–1) of assessment results and POA&Ms to break on purpose; `faults.csv`
    /// in the output folder lists them.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = fault_rate)]
    faults: f64,
    /// The folder to write the fleet into.
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
}

/// `--format` of `mim6 synth`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Json,
    Xml,
    Mixed,
}

fn fault_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("`{text}` is not a fraction between 0 and 1")),
    }
}

pub(crate) fn run(args: &Args) -> anyhow::Result<u8> {
    let (name, bytes) = match &args.baseline {
        Some(path) => (
            path.clone(),
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        ),
        None => (
            PathBuf::from("mim6-city-baseline-resolved.json"),
            CITY_BASELINE.to_vec(),
        ),
    };
    let document = match oscal_io::read_document(&name, &bytes) {
        Ok((_, document)) => document,
        Err(err) => {
            eprintln!("mim6: error: {err}");
            return Ok(EXIT_INVALID);
        }
    };
    let catalog = match document.model {
        Model::Catalog(catalog) => *catalog,
        Model::Profile(_) => {
            let loader = FileLoader::default();
            let resolver = Resolver::new(&loader, Options::default());
            match resolver.resolve_document(&Location::File(name), document) {
                Ok(resolved) => resolved.catalog,
                Err(err) => {
                    eprintln!("mim6: error: {err}");
                    return Ok(EXIT_INVALID);
                }
            }
        }
        _ => bail!(
            "{}: the baseline must be a catalog or a profile",
            name.display()
        ),
    };
    let href = match &args.baseline {
        Some(path) => path.display().to_string(),
        None => "mim6-city-baseline.json".to_owned(),
    };
    let baseline = Baseline::from_catalog(href, &catalog);
    let spec = FleetSpec {
        cities: args.cities,
        systems_per_city: args.systems_per_city,
        periods: args.periods,
        seed: args.seed,
    };
    let started = std::time::Instant::now();
    let options = WriteOptions {
        format: match args.format {
            FormatArg::Json => OutputFormat::Json,
            FormatArg::Xml => OutputFormat::Xml,
            FormatArg::Mixed => OutputFormat::Mixed,
        },
        faults: args.faults,
    };
    let summary = mim6_synth::generate(&spec, &baseline, &options, &args.output)?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{} documents, {:.1} MB in {:.2} s ({:.0} documents/s, {:.0} MB/s) under {}",
        summary.documents,
        summary.bytes as f64 / 1e6,
        seconds,
        summary.documents as f64 / seconds.max(1e-9),
        summary.bytes as f64 / 1e6 / seconds.max(1e-9),
        args.output.display()
    );
    if !summary.faults.is_empty() {
        eprintln!(
            "{} documents broken on purpose, listed in {}",
            summary.faults.len(),
            args.output.join("faults.csv").display()
        );
    }
    Ok(EXIT_OK)
}
