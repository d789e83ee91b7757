//! Metrics of city fleets, computed with polars from the facts that `mim6-ingest` produces:
//! control coverage (claimed and assessed), residual risk, MIM6 maturity and their trends, per
//! system, city, region, control and control family, period after period. The definitions are
//! DESIGN.md's "Facts and metrics"; the crate README says how each table is made.
//!
//! This is the only crate of the workspace that uses polars.
#![deny(missing_docs)]

mod input;
mod metrics;
mod period;
mod tables;

pub use period::{Period, PeriodLength};
pub use tables::{Formats, Tables, write_tables};

use std::path::Path;

use polars::prelude::DataFrame;
use rayon::prelude::*;

/// A control of the resolved baseline, as the metrics need it.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineControl {
    /// Control id (`ac-2.1`).
    pub id: String,
    /// The parent control, for enhancements.
    pub parent: Option<String>,
    /// The control family (the catalog group id, else the id's prefix: `ac`).
    pub family: String,
    /// Title.
    pub title: String,
    /// Weight in maturity means: the baseline's `weight` prop in the mim6 namespace, else 1.
    pub weight: f64,
    /// GDPR articles (`gdpr-article` props in the mim6 namespace).
    pub gdpr_articles: Vec<String>,
    /// MIM6 capabilities (`mim6-capability` props).
    pub tags: Vec<String>,
}

fn mim6_props(props: Option<&Vec<oscal_model::Property>>, name: &str) -> Vec<String> {
    props
        .into_iter()
        .flatten()
        .filter(|p| p.name == name && p.ns.as_deref() == Some(oscal_model::MIM6_NAMESPACE))
        .map(|p| p.value.clone())
        .collect()
}

/// The controls of a resolved catalog, in catalog order, with family, parent and the mim6
/// props the metrics use.
pub fn baseline_controls(catalog: &oscal_model::Catalog) -> Vec<BaselineControl> {
    fn walk(
        controls: &[oscal_model::Control],
        family: &str,
        parent: Option<&str>,
        out: &mut Vec<BaselineControl>,
    ) {
        for control in controls {
            let family = if family.is_empty() {
                control.id.split('-').next().unwrap_or(&control.id)
            } else {
                family
            };
            out.push(BaselineControl {
                id: control.id.to_ascii_lowercase(),
                parent: parent.map(str::to_owned),
                family: family.to_owned(),
                title: control.title.clone(),
                weight: mim6_props(control.props.as_ref(), "weight")
                    .first()
                    .and_then(|w| w.parse::<f64>().ok())
                    .filter(|w| w.is_finite() && *w >= 0.0)
                    .unwrap_or(1.0),
                gdpr_articles: mim6_props(control.props.as_ref(), "gdpr-article"),
                tags: mim6_props(control.props.as_ref(), "mim6-capability"),
            });
            walk(
                control.controls.as_deref().unwrap_or(&[]),
                family,
                Some(&control.id),
                out,
            );
        }
    }
    fn groups(list: &[oscal_model::CatalogGroup], family: &str, out: &mut Vec<BaselineControl>) {
        for group in list {
            let family = if family.is_empty() {
                group.id.as_deref().unwrap_or("")
            } else {
                family
            };
            walk(group.controls.as_deref().unwrap_or(&[]), family, None, out);
            groups(group.groups.as_deref().unwrap_or(&[]), family, out);
        }
    }
    let mut out = Vec::new();
    walk(
        catalog.controls.as_deref().unwrap_or(&[]),
        "",
        None,
        &mut out,
    );
    groups(catalog.groups.as_deref().unwrap_or(&[]), "", &mut out);
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| seen.insert(c.id.clone()));
    out
}

/// The likelihood × impact matrix giving a risk level (1–5) for each pair of levels (1–5).
pub type RiskMatrix = [[u8; 5]; 5];

/// NIST SP 800-30 Rev. 1, Table I-2: level of risk from likelihood (rows, very low … very
/// high) and impact (columns).
pub const SP800_30_MATRIX: RiskMatrix = [
    [1, 1, 1, 1, 1],
    [1, 2, 2, 2, 2],
    [1, 2, 3, 3, 3],
    [1, 2, 3, 4, 4],
    [1, 2, 3, 4, 5],
];

/// How the metrics are computed.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The periods, in order.
    pub periods: Vec<Period>,
    /// Freshness window T, in days.
    pub freshness_days: i64,
    /// Likelihood × impact → risk level.
    pub matrix: RiskMatrix,
    /// Score of each risk level, very low … very high.
    pub scores: [f64; 5],
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            periods: Vec::new(),
            freshness_days: 365,
            matrix: SP800_30_MATRIX,
            scores: [0.0, 2.0, 5.0, 8.0, 10.0],
        }
    }
}

/// Why the metrics could not be computed or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A polars computation failed.
    #[error("computing the metrics: {0}")]
    Polars(#[from] polars::error::PolarsError),
    /// The tables' folder could not be staged or swapped in.
    #[error(transparent)]
    Output(#[from] oscal_io::Error),
    /// A table could not be written.
    #[error("{}: {source}", path.display())]
    Write {
        /// The file or folder.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A `Result` whose error is [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Takes the facts of a run batch by batch (as [`mim6_ingest::ingest_into`] hands them on),
/// keeps of each row what the metrics need, packed, and either keeps the fact tables in memory
/// or writes them as they come into the run's staged tables folder. [`Collector::finish`]
/// computes the metrics.
pub struct Collector {
    baseline: Vec<BaselineControl>,
    packer: input::Packer,
    documents: std::collections::BTreeMap<&'static str, usize>,
    output: Output,
}

enum Output {
    Memory(Vec<(&'static str, DataFrame)>),
    Folder {
        staged: oscal_io::StagedDir,
        sink: tables::FactSink,
        formats: Formats,
    },
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("systems", &self.packer.systems.len())
            .field("documents", &self.documents)
            .finish_non_exhaustive()
    }
}

/// Cities whose metrics are computed together: memory follows the shard, not the fleet.
pub const DEFAULT_SHARD_CITIES: usize = 50;

/// Packed rows held in memory before they are spilled to disk (about 40 bytes a row), when
/// writing to a folder.
pub const DEFAULT_SPILL_ROWS: usize = 2_000_000;

impl Collector {
    /// Keeps every table in memory.
    pub fn in_memory(baseline: &[BaselineControl]) -> Collector {
        Collector::with(baseline, Output::Memory(Vec::new()), None)
    }

    /// Writes every table under `dir/tables/`: staged in `dir/tables.staging/` and swapped in
    /// by [`Collector::finish`], so that an interrupted run leaves the previous tables whole.
    /// Packed rows beyond [`DEFAULT_SPILL_ROWS`] wait in `dir/tables.spill/` until the metrics
    /// are computed.
    pub fn to_folder(
        baseline: &[BaselineControl],
        dir: &Path,
        formats: Formats,
    ) -> Result<Collector> {
        Collector::to_folder_spilling(baseline, dir, formats, DEFAULT_SPILL_ROWS)
    }

    /// [`Collector::to_folder`], spilling beyond `spill_rows` packed rows.
    pub fn to_folder_spilling(
        baseline: &[BaselineControl],
        dir: &Path,
        formats: Formats,
        spill_rows: usize,
    ) -> Result<Collector> {
        let staged = oscal_io::StagedDir::new(&dir.join("tables"))?;
        let sink = tables::FactSink::new(staged.path(), formats);
        let spill = input::Spill::new(&dir.join("tables.spill"), spill_rows)?;
        Ok(Collector::with(
            baseline,
            Output::Folder {
                staged,
                sink,
                formats,
            },
            Some(spill),
        ))
    }

    fn with(
        baseline: &[BaselineControl],
        output: Output,
        spill: Option<input::Spill>,
    ) -> Collector {
        Collector {
            baseline: baseline.to_vec(),
            packer: input::Packer::new(baseline, DEFAULT_SHARD_CITIES, spill),
            documents: std::collections::BTreeMap::new(),
            output,
        }
    }

    /// Computes the metrics `cities` at a time (the results are the same whatever the
    /// number; fewer use less memory). Takes effect only before the first batch.
    pub fn shard_cities(mut self, cities: usize) -> Collector {
        if self.packer.shard_count() == 0 {
            let spill = self.packer.take_spill();
            self.packer = input::Packer::new(&self.baseline, cities, spill);
        }
        self
    }

    /// Takes a batch of facts.
    pub fn add(&mut self, facts: mim6_ingest::Facts) -> Result<()> {
        for d in &facts.documents {
            *self.documents.entry(d.model).or_default() += 1;
        }
        // Packed first: the batch's own plans tell where its rows' systems lie.
        self.packer.add(&facts)?;
        match &mut self.output {
            Output::Memory(kept) => {
                for (name, frame) in tables::fact_frames(facts, &self.packer)? {
                    match kept.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, all)) => {
                            all.vstack_mut(&frame)?;
                        }
                        None => kept.push((name, frame)),
                    }
                }
            }
            Output::Folder { sink, .. } => {
                sink.write_rows(tables::FactRows::split(facts), &self.packer)?
            }
        }
        Ok(())
    }

    /// The earliest and latest date of a finding, risk or POA&M taken so far.
    pub fn dates(&self) -> Option<(jiff::Timestamp, jiff::Timestamp)> {
        self.packer.dates
    }

    /// Systems taken so far.
    pub fn systems(&self) -> usize {
        self.packer.systems.len()
    }

    /// Documents taken so far, by model.
    pub fn documents(&self) -> &std::collections::BTreeMap<&'static str, usize> {
        &self.documents
    }

    /// Computes the metrics, shard by shard; when writing to a folder, writes them and swaps
    /// the tables in, and hands back only their row counts.
    pub fn finish(self, settings: &Settings) -> Result<Tables> {
        // Empty fact tables, for the ones no batch had a row of (they still get a schema).
        let empty = tables::fact_frames(mim6_ingest::Facts::default(), &self.packer)?;
        let started = std::time::Instant::now();
        let systems = self.packer.systems.clone();
        let packed = self.packer.finish(&self.baseline)?;
        let dims = tables::dim_tables(&systems, &packed, settings)?;
        tracing::debug!(
            shards = packed.shard_count(),
            seconds = started.elapsed().as_secs_f64(),
            "facts packed"
        );
        match self.output {
            Output::Memory(mut kept) => {
                let mut risk_periods: Option<DataFrame> = None;
                let combined = compute_metrics(&packed, settings, |rows| {
                    match &mut risk_periods {
                        Some(all) => all.vstack_mut_owned(rows).map(|_| ())?,
                        None => risk_periods = Some(rows),
                    }
                    Ok(())
                })?;
                let mut metrics = match combined {
                    Some(combined) => combined.finish(&packed.controls)?,
                    None => tables::Metrics::empty(),
                };
                if let Some(mut all) = risk_periods {
                    all.rechunk_mut();
                    metrics.fact_risk_period = Some(all);
                }
                drop(packed);
                for (name, frame) in empty {
                    if !kept.iter().any(|(n, _)| *n == name) {
                        kept.push((name, frame));
                    }
                }
                let mut all = dims;
                all.extend(kept);
                tables::finish(all, metrics)
            }
            Output::Folder {
                staged,
                sink,
                formats,
            } => {
                let dir = staged.path();
                let (mut tables, mut written) = std::thread::scope(|scope| {
                    // The fact tables ingest wrote are whole: their files are closed and
                    // synced on a thread of their own (mostly waiting for the disk) while the
                    // metrics are computed.
                    let facts = scope.spawn(move || sink.finish(empty));
                    // Each shard's `fact_risk_period` rows are written while the next shard is
                    // computed, in shard order.
                    let (send, receive) = std::sync::mpsc::sync_channel::<DataFrame>(1);
                    let mut risk_sink = tables::FactSink::new(dir, formats);
                    let risks = scope.spawn(move || {
                        let mut empty = Vec::new();
                        for rows in receive {
                            if empty.is_empty() {
                                // Written whole if no shard has a row.
                                empty.push(("fact_risk_period", rows.clear()));
                            }
                            risk_sink.write(vec![("fact_risk_period", rows)])?;
                        }
                        risk_sink.finish(empty)
                    });
                    let combined = compute_metrics(&packed, settings, |rows| {
                        send.send(rows).map_err(|_| Error::Write {
                            path: dir.join("fact_risk_period"),
                            source: std::io::Error::other("its writer stopped"),
                        })
                    });
                    drop(send);
                    // The metric tables are written while the last shard's rows are, one
                    // batch at a time (a table, or a few whole regions of one): each is let go
                    // before the next is made. Only their rows are counted from here on.
                    let tables = combined.and_then(|combined| {
                        let mut files = Vec::new();
                        let mut rows: Vec<(String, usize)> = Vec::new();
                        let mut write = |name: &'static str, table: DataFrame| -> Result<()> {
                            let table = tables::drop_internal(&table)?;
                            let begun = rows.iter_mut().find(|(n, _)| n == name);
                            let first = begun.is_none();
                            files.extend(tables::write_part(dir, name, &table, formats, first)?);
                            match begun {
                                Some((_, count)) => *count += table.height(),
                                None => rows.push((name.to_owned(), table.height())),
                            }
                            Ok(())
                        };
                        for (name, table) in dims {
                            write(name, table)?;
                        }
                        let started = std::time::Instant::now();
                        match combined {
                            Some(combined) => combined.finish_each(&packed.controls, &mut write)?,
                            None => {
                                for (name, table) in tables::Metrics::empty().into_tables() {
                                    write(name, table)?;
                                }
                            }
                        }
                        tracing::debug!(
                            seconds = started.elapsed().as_secs_f64(),
                            "metric tables written"
                        );
                        let started = std::time::Instant::now();
                        tables::sync(&files)?;
                        tracing::debug!(
                            seconds = started.elapsed().as_secs_f64(),
                            "metric tables synced"
                        );
                        Ok(Tables {
                            tables: Vec::new(),
                            rows,
                        })
                    });
                    drop(packed);
                    let started = std::time::Instant::now();
                    // The writer's own error first: a send fails only once the writer stopped.
                    let mut written = joined(risks)?;
                    let tables = tables?;
                    written.extend(joined(facts)?);
                    tracing::debug!(
                        waited = started.elapsed().as_secs_f64(),
                        "fact tables closed"
                    );
                    Ok::<_, Error>((tables, written))
                })?;
                staged.commit()?;
                tables.rows.append(&mut written);
                tables.rows.sort();
                Ok(tables)
            }
        }
    }
}

/// The metrics of every shard put together (`None` when there is no period to measure), to
/// be finished into the run's metric tables; each shard's `fact_risk_period` rows, decoded, go to
/// `risk_periods` in shard order.
///
/// A window of as many shards as polars has threads is computed at a time, side by side on
/// polars' own threads, where the parallel parts of their queries share those threads (from
/// threads of another pool they would queue on polars' threads while the waiting threads
/// spun). Each shard is made ready to be put together (its tables split and set aside, its
/// `fact_risk_period` rows named) on the thread that computed it, which then lets its inputs
/// go and reads the inputs of the shard in its place in the next window (its spilled rows
/// too): reading is work for polars' threads as well, and a thread of its own would have it
/// wait behind the window. At most a window's inputs and the next's are in memory; this thread only
/// adds the shards up, in shard order.
fn compute_metrics(
    packed: &input::Packed,
    settings: &Settings,
    mut risk_periods: impl FnMut(DataFrame) -> Result<()>,
) -> Result<Option<metrics::Combined>> {
    if settings.periods.is_empty() {
        // Nothing dated to measure: empty metric tables.
        return Ok(None);
    }
    let pool = &polars_core::runtime::THREAD_POOL;
    let width = pool.current_num_threads().max(1);
    let count = packed.shard_count();
    let mut combined = metrics::Combined::new(packed.spill_folder());
    let started = std::time::Instant::now();
    let mut window: Vec<(usize, input::Inputs)> = pool.install(|| {
        (0..width.min(count))
            .into_par_iter()
            .with_max_len(1)
            .map(|k| Ok((k, packed.take_shard(k)?)))
            .collect::<Result<_>>()
    })?;
    while !window.is_empty() {
        let done: Vec<Result<_>> = pool.install(|| {
            window
                .into_par_iter()
                .with_max_len(1)
                .map(|(k, inputs)| {
                    let begun = std::time::Instant::now();
                    let computed = metrics::compute_shard(&inputs, settings)?;
                    let computing = begun.elapsed();
                    let mut shard = combined.ready(computed, k)?;
                    let rows = &mut shard.fact_risk_period;
                    input::decode(rows, "risk", &inputs.names.risks)?;
                    input::decode(rows, "title", &inputs.names.titles)?;
                    input::decode(rows, "doc", &inputs.names.documents)?;
                    *rows = tables::drop_internal(rows)?;
                    drop(inputs);
                    let made = begun.elapsed();
                    let next = k + width;
                    let next = match next < count {
                        true => Some((next, packed.take_shard(next)?)),
                        false => None,
                    };
                    tracing::debug!(
                        shard = k,
                        computing = computing.as_secs_f64(),
                        ready = (made - computing).as_secs_f64(),
                        reading_next = (begun.elapsed() - made).as_secs_f64(),
                        "shard computed"
                    );
                    Ok((shard, next))
                })
                .collect()
        });
        window = Vec::with_capacity(width);
        for shard in done {
            let (shard, next) = shard?;
            risk_periods(combined.add(shard))?;
            window.extend(next);
        }
    }
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "shards computed");
    Ok(Some(combined))
}

/// What a scoped thread returned; its panic goes on.
fn joined<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Computes every fact, dimension and metric table of `facts`, in memory.
pub fn compute(
    facts: mim6_ingest::Facts,
    baseline: &[BaselineControl],
    settings: &Settings,
) -> Result<Tables> {
    let mut collector = Collector::in_memory(baseline);
    collector.add(facts)?;
    collector.finish(settings)
}
