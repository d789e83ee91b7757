//! `mim6 run PIPELINE.toml`: resolve the baseline, ingest the fleet, compute the metrics, write
//! the tables, `rejected.csv` and `run.json`, then the report and the OSCAL outputs.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use mim6_analytics::{Formats, Period, PeriodLength, Settings};
use mim6_pipeline::Pipeline;
use oscal_model::{Catalog, Document, Model};
use oscal_resolve::{HrefMap, Location, Options, RemoteLoader, Resolver};
use serde_json::json;

use crate::{EXIT_INVALID, EXIT_OK};

/// Arguments of `mim6 run`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The pipeline file (TOML; see pipelines/README.md).
    #[arg(value_name = "PIPELINE")]
    pipeline: PathBuf,
    /// Write here instead of the pipeline's output folder.
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<u8> {
    let started = Instant::now();
    let mut pipeline = Pipeline::load(&args.pipeline)?;
    if let Some(output) = &args.output {
        pipeline.output.folder.clone_from(output);
    }
    let out = pipeline.output.folder.clone();
    std::fs::create_dir_all(&out)
        .with_context(|| format!("{}: cannot create the output folder", out.display()))?;
    // One run at a time writes to a folder; the hold ends with the process.
    let _lock = oscal_io::FolderLock::acquire(&out)?;

    let loader = remote_loader(&pipeline);
    let catalog = resolve_baseline(&pipeline, &loader)?;
    let baseline = mim6_analytics::baseline_controls(&catalog);
    if baseline.is_empty() {
        bail!(
            "{}: the baseline has no controls",
            pipeline.baseline.profile
        );
    }
    let resolved_at = started.elapsed();

    let mut inputs = pipeline.inputs.folders.clone();
    if let Some(synth) = &pipeline.inputs.synth {
        let fleet = out.join("fleet");
        if fleet.exists() {
            std::fs::remove_dir_all(&fleet)
                .with_context(|| format!("{}: cannot clear the old fleet", fleet.display()))?;
        }
        let spec = mim6_synth::FleetSpec {
            cities: synth.cities,
            systems_per_city: synth.systems_per_city,
            periods: synth.periods,
            seed: synth.seed,
        };
        let options = mim6_synth::WriteOptions {
            faults: synth.faults,
            ..mim6_synth::WriteOptions::default()
        };
        let plan = mim6_synth::Baseline::from_catalog("mim6-city-baseline.json", &catalog);
        mim6_synth::generate(&spec, &plan, &options, &fleet)
            .context("cannot generate the fleet")?;
        inputs.push(fleet);
    }
    let fetch_rejected = if pipeline.inputs.urls.is_empty() {
        Vec::new()
    } else {
        // Fleet documents change from run to run: always fetched, never taken from the cache.
        let fresh = RemoteLoader::new(
            pipeline.remote.allow_hosts.clone(),
            pipeline.remote.offline,
            None,
        );
        let (roots, rejected) = fetch(&fresh, &pipeline.inputs.urls, &out.join("remote"))?;
        inputs.extend(roots);
        rejected
    };
    for input in &inputs {
        if !mim6_ingest::is_glob(&input.to_string_lossy()) && !input.exists() {
            bail!("{}: no such input folder or file", input.display());
        }
    }

    let bar = progress_bar();
    let ingest_started = Instant::now();
    let options = mim6_ingest::Options {
        inputs: inputs.clone(),
        path_pattern: pipeline.attribution.path_pattern.clone(),
        max_bytes: pipeline
            .inputs
            .max_bytes
            .unwrap_or(oscal_io::DEFAULT_MAX_BYTES),
        // The system plans' implementation tables wait for their results on disk, beside the
        // outputs, not in memory.
        scratch: Some(out.clone()),
        ..mim6_ingest::Options::default()
    };
    let formats = Formats {
        parquet: pipeline.output.formats.iter().any(|f| f == "parquet"),
        csv: pipeline.output.formats.iter().any(|f| f == "csv"),
    };
    // The fact tables are written as the batches come; only packed facts stay in memory. The
    // collector takes one batch on its own thread while ingest reads the next.
    let collector = mim6_analytics::Collector::to_folder_spilling(
        &baseline,
        &out,
        formats,
        pipeline
            .memory
            .spill_rows
            .unwrap_or(mim6_analytics::DEFAULT_SPILL_ROWS),
    )?
    .shard_cities(
        pipeline
            .memory
            .shard_cities
            .unwrap_or(mim6_analytics::DEFAULT_SHARD_CITIES),
    );
    let (send, receive) = std::sync::mpsc::sync_channel::<mim6_ingest::Facts>(1);
    let (ingested, collected) = std::thread::scope(|scope| {
        let keeper = scope.spawn(move || {
            let mut collector = collector;
            for facts in receive {
                collector.add(facts)?;
            }
            Ok::<_, mim6_analytics::Error>(collector)
        });
        let ingested = mim6_ingest::ingest_into(
            &options,
            &mut |facts| {
                send.send(facts)
                    .map_err(|_| "the collector of the fact rows stopped".into())
            },
            &|done, total, bytes| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
                let seconds = ingest_started.elapsed().as_secs_f64().max(1e-6);
                bar.set_message(format!("{:.0} MB/s", bytes as f64 / 1e6 / seconds));
            },
        );
        drop(send);
        (ingested, keeper.join())
    });
    bar.finish_and_clear();
    // The collector's own error says more than ingest's "it stopped".
    let collector = match collected {
        Ok(collector) => collector?,
        Err(_) => bail!("the collector of the fact rows panicked"),
    };
    let mut ingested = ingested?;
    ingested.rejected.extend(fetch_rejected);
    ingested.rejected.sort();
    let ingest_time = ingest_started.elapsed();
    tracing::info!(
        documents = ingested.files,
        seconds = ingest_time.as_secs_f64(),
        rss_mb = resident_mb(),
        "ingested"
    );
    for warning in &ingested.warnings {
        tracing::warn!("{warning}");
    }

    let length = match pipeline.periods.length.as_str() {
        "month" => PeriodLength::Month,
        "year" => PeriodLength::Year,
        _ => PeriodLength::Quarter,
    };
    let periods = periods(&pipeline, collector.dates(), length)?;
    let defaults = Settings::default();
    let settings = Settings {
        periods: periods.clone(),
        freshness_days: pipeline.periods.freshness_days,
        matrix: pipeline.risk.matrix.unwrap_or(defaults.matrix),
        scores: pipeline.risk.scores.unwrap_or(defaults.scores),
    };
    let models = collector.documents().clone();
    let (accepted, systems) = (models.values().sum::<usize>(), collector.systems());
    let metrics_started = Instant::now();
    let tables = collector.finish(&settings)?;
    let metrics_time = metrics_started.elapsed();
    tracing::info!(
        seconds = metrics_time.as_secs_f64(),
        rss_mb = resident_mb(),
        "metrics computed"
    );
    let write_started = Instant::now();
    let catalog_json = oscal_io::json::to_vec(&Document::new(Model::Catalog(Box::new(catalog))))?;
    oscal_io::write_atomic(&out.join("baseline.json"), &catalog_json)?;
    oscal_io::write_atomic(
        &out.join("rejected.csv"),
        rejected_csv(&ingested.rejected, &inputs).as_bytes(),
    )?;
    let write_time = write_started.elapsed();

    let mut summary = json!({
        "mim6-version": env!("CARGO_PKG_VERSION"),
        "oscal-version": oscal_model::OSCAL_VERSION,
        "pipeline": args.pipeline.file_name().map(|n| n.to_string_lossy().into_owned()),
        "baseline": {
            "profile": Path::new(&pipeline.baseline.profile).file_name().map(|n| n.to_string_lossy().into_owned()),
            "controls": baseline.len(),
        },
        "periods": periods.iter().map(|p| &p.label).collect::<Vec<_>>(),
        "documents": {
            "found": ingested.files,
            "accepted": accepted,
            "rejected": ingested.rejected.len(),
            "bytes": ingested.bytes,
            "by-model": models,
        },
        "systems": systems,
        "tables": tables.rows.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
        "warnings": ingested.warnings.len(),
        "timings-seconds": {
            "resolve": resolved_at.as_secs_f64(),
            "ingest": ingest_time.as_secs_f64(),
            "metrics": metrics_time.as_secs_f64(),
            "write": write_time.as_secs_f64(),
            "total": started.elapsed().as_secs_f64(),
        },
        "ingest-mb-per-second": ingested.bytes as f64 / 1e6 / ingest_time.as_secs_f64().max(1e-9),
    });
    let write_summary = |summary: &serde_json::Value| -> anyhow::Result<()> {
        let mut text = serde_json::to_string_pretty(summary)?;
        text.push('\n');
        oscal_io::write_atomic(&out.join("run.json"), text.as_bytes())?;
        Ok(())
    };
    write_summary(&summary)?;
    // The report reads the run's summary too; its own time is added once it is made.
    let report_started = Instant::now();
    let report = if formats.csv {
        Some(
            mim6_report::write(&out, &report_options(&pipeline))
                .context("cannot make the report")?,
        )
    } else {
        tracing::warn!("no CSV tables: the report and the OSCAL outputs are not made");
        None
    };
    summary["timings-seconds"]["report"] = json!(report_started.elapsed().as_secs_f64());
    summary["timings-seconds"]["total"] = json!(started.elapsed().as_secs_f64());
    write_summary(&summary)?;

    eprintln!(
        "{} documents ({} rejected), {} systems, {} periods; tables in {}",
        ingested.files,
        ingested.rejected.len(),
        systems,
        periods.len(),
        out.join("tables").display()
    );
    if let Some(report) = &report {
        eprintln!(
            "report: {}; OSCAL: {}",
            report.report.join("index.html").display(),
            report.oscal.display()
        );
    }
    for rejection in ingested.rejected.iter().take(10) {
        eprintln!(
            "mim6: rejected: {}: {}{}",
            rejection.path.display(),
            if rejection.location.is_empty() {
                String::new()
            } else {
                format!("at {}: ", rejection.location)
            },
            rejection.reason
        );
    }
    if ingested.rejected.len() > 10 {
        eprintln!(
            "mim6: … and {} more, listed in {}",
            ingested.rejected.len() - 10,
            out.join("rejected.csv").display()
        );
    }
    Ok(if ingested.rejected.is_empty() {
        EXIT_OK
    } else {
        EXIT_INVALID
    })
}

/// The process's current and peak resident memory in MB, where the system tells (Linux).
fn resident_mb() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or_else(|| "?".to_owned(), |kb| (kb / 1024).to_string())
    };
    format!("{} (peak {})", field("VmRSS:"), field("VmHWM:"))
}

fn progress_bar() -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} ingest {pos}/{len} documents {msg} [{elapsed_precise}, ETA {eta}]",
    ) {
        bar.set_style(style);
    }
    bar
}

/// The one loader of a run: local files, and http(s) from the pipeline's allowed hosts.
fn remote_loader(pipeline: &Pipeline) -> RemoteLoader {
    RemoteLoader::new(
        pipeline.remote.allow_hosts.clone(),
        pipeline.remote.offline,
        Some(crate::resolve::default_cache_dir()),
    )
}

/// Where a fetched document is kept: `folder/HOST/SEGMENTS`, each part made safe as a file
/// name, so that a URL can never name a place outside `folder`.
fn local_copy(folder: &Path, url: &str) -> Option<(PathBuf, PathBuf)> {
    let rest = url.split_once("://")?.1;
    let rest = rest.split(['?', '#']).next()?;
    let (host, path) = rest.split_once('/')?;
    let safe = oscal_io::safe_file_name;
    let root = folder.join(safe(host));
    let mut file = root.clone();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if matches!(segment, "." | "..") {
            return None;
        }
        file.push(safe(segment));
    }
    (file != root).then_some((root, file))
}

/// Fetches `urls` into `folder` (cleared first): the folders to ingest (one per host), and
/// the URLs that could not be fetched, as rejections.
fn fetch(
    loader: &RemoteLoader,
    urls: &[String],
    folder: &Path,
) -> anyhow::Result<(Vec<PathBuf>, Vec<mim6_ingest::Rejection>)> {
    if folder.exists() {
        std::fs::remove_dir_all(folder)
            .with_context(|| format!("{}: cannot clear the fetched documents", folder.display()))?;
    }
    let mut roots = std::collections::BTreeSet::new();
    let mut rejected = Vec::new();
    for url in urls {
        let reject = |reason: String| mim6_ingest::Rejection {
            path: PathBuf::from(url),
            location: String::new(),
            reason,
        };
        let Some((root, file)) = local_copy(folder, url) else {
            rejected.push(reject("the URL names no document".into()));
            continue;
        };
        match oscal_resolve::Loader::load(loader, &Location::Url(url.clone())) {
            Ok(bytes) => {
                if let Some(parent) = file.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("{}: cannot create", parent.display()))?;
                }
                oscal_io::write_atomic(&file, &bytes)?;
                roots.insert(root);
            }
            Err(reason) => {
                tracing::warn!("{url}: {reason}");
                rejected.push(reject(reason));
            }
        }
    }
    Ok((roots.into_iter().collect(), rejected))
}

/// Reads the baseline; resolves it when it is a profile.
/// The report's options: the pipeline's, the report's defaults for what it leaves out.
fn report_options(pipeline: &Pipeline) -> mim6_report::Options {
    let defaults = mim6_report::Options::default();
    mim6_report::Options {
        top_risks: pipeline.report.top_risks.unwrap_or(defaults.top_risks),
        target_level: pipeline
            .report
            .target_level
            .unwrap_or(defaults.target_level),
        group_cities: pipeline
            .memory
            .shard_cities
            .unwrap_or(defaults.group_cities),
    }
}

fn resolve_baseline(pipeline: &Pipeline, loader: &RemoteLoader) -> anyhow::Result<Catalog> {
    let mut href_map = HrefMap::new();
    for (from, to) in &pipeline.baseline.href_map {
        href_map.insert(from.clone(), to.clone());
    }
    let location = Location::File(PathBuf::new())
        .join(&pipeline.baseline.profile)
        .map_err(|e| anyhow::anyhow!("{}: {e}", pipeline.baseline.profile))?;
    let import_root = pipeline
        .baseline
        .import_root
        .clone()
        .or_else(|| crate::resolve::profile_folder(&location));
    let resolver = Resolver::new(
        loader,
        Options {
            href_map,
            import_root,
            ..Options::default()
        },
    );
    if let Location::File(path) = &location
        && !path.exists()
    {
        bail!("{}: the baseline profile does not exist", path.display());
    }
    let bytes = oscal_resolve::Loader::load(loader, &location)
        .map_err(|e| anyhow::anyhow!("{}: {e}", pipeline.baseline.profile))?;
    let name = PathBuf::from(location.file_name());
    let (_, document) = oscal_io::read_document(&name, &bytes)
        .with_context(|| format!("cannot read the baseline {}", pipeline.baseline.profile))?;
    match document.model {
        Model::Catalog(catalog) => Ok(*catalog),
        Model::Profile(_) => {
            let resolved = resolver
                .resolve_document(&location, document)
                .with_context(|| format!("cannot resolve {}", pipeline.baseline.profile))?;
            for warning in &resolved.warnings {
                tracing::warn!("{warning}");
            }
            Ok(resolved.catalog)
        }
        _ => bail!(
            "{}: the baseline must be a profile or a catalog",
            pipeline.baseline.profile
        ),
    }
}

fn periods(
    pipeline: &Pipeline,
    dates: Option<(jiff::Timestamp, jiff::Timestamp)>,
    length: PeriodLength,
) -> anyhow::Result<Vec<Period>> {
    let date = |t: jiff::Timestamp| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let (min, max) = match dates {
        Some((lo, hi)) => (Some(date(lo)), Some(date(hi))),
        None => (None, None),
    };
    let parse = |text: &Option<String>, what: &str| -> anyhow::Result<Option<jiff::civil::Date>> {
        text.as_deref()
            .map(|t| {
                t.parse::<jiff::civil::Date>()
                    .with_context(|| format!("periods.{what} `{t}` is not a date (YYYY-MM-DD)"))
            })
            .transpose()
    };
    let first = parse(&pipeline.periods.first, "first")?.or(min);
    let last = parse(&pipeline.periods.last, "last")?.or(max);
    Ok(match (first, last) {
        (Some(first), Some(last)) if first <= last => Period::covering(first, last, length),
        _ => Vec::new(),
    })
}

/// `rejected.csv`: file (relative to the input folder it was found under), location, reason.
fn rejected_csv(rejected: &[mim6_ingest::Rejection], inputs: &[PathBuf]) -> String {
    let roots: Vec<PathBuf> = inputs
        .iter()
        .map(|i| std::path::absolute(i).unwrap_or_else(|_| i.clone()))
        .collect();
    let mut rows: Vec<[String; 3]> = rejected
        .iter()
        .map(|r| {
            let path = roots
                .iter()
                .find_map(|root| r.path.strip_prefix(root).ok())
                .unwrap_or(&r.path);
            [
                path.to_string_lossy().replace('\\', "/"),
                r.location.clone(),
                r.reason.clone(),
            ]
        })
        .collect();
    rows.sort();
    let mut csv = String::from("file,location,reason\n");
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    csv
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetched_documents_stay_inside_their_folder() {
        let folder = Path::new("/out/remote");
        assert_eq!(
            local_copy(folder, "https://cities.example/r1/c1/ssp.json?x=1#top"),
            Some((
                PathBuf::from("/out/remote/cities.example"),
                PathBuf::from("/out/remote/cities.example/r1/c1/ssp.json")
            ))
        );
        assert_eq!(
            local_copy(folder, "http://127.0.0.1:8080/a%2F..%2Fb.json").map(|(_, f)| f),
            Some(PathBuf::from("/out/remote/127.0.0.1_8080/a_2F.._2Fb.json"))
        );
        assert_eq!(local_copy(folder, "https://h/../etc/passwd"), None);
        assert_eq!(local_copy(folder, "https://h/"), None);
    }
}
