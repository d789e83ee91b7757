//! The tables of a run and how they are written: Parquet partitioned by region and period,
//! and CSV, staged and then swapped in so that readers never see a half-written set.

use std::io::Write;
use std::path::{Path, PathBuf};

use mim6_ingest::{Facts, Uuid};
use polars::prelude::*;
use rayon::prelude::*;

use crate::input::Packed;
use crate::{Error, Result, Settings};

/// The tables of a run, by name, in a fixed order: those kept in memory, and the row count of
/// every table, those written as they came (the fact tables of a run into a folder) included.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// `(name, table)`.
    pub tables: Vec<(String, DataFrame)>,
    /// `(name, rows)` of every table, sorted by name.
    pub rows: Vec<(String, usize)>,
}

impl Tables {
    /// The table called `name`, if it is kept in memory.
    pub fn get(&self, name: &str) -> Option<&DataFrame> {
        self.tables.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}

pub(crate) struct Metrics {
    pub(crate) m_system: DataFrame,
    pub(crate) m_city: DataFrame,
    pub(crate) m_region: DataFrame,
    pub(crate) m_family: DataFrame,
    pub(crate) m_control: DataFrame,
    pub(crate) m_city_overclaim: DataFrame,
    /// `None` when its rows were written shard by shard as they were computed.
    pub(crate) fact_risk_period: Option<DataFrame>,
}

impl Metrics {
    /// The tables by name.
    pub(crate) fn into_tables(self) -> Vec<(&'static str, DataFrame)> {
        let risk_periods = self
            .fact_risk_period
            .map(|table| ("fact_risk_period", table));
        risk_periods
            .into_iter()
            .chain([
                ("m_control_period", self.m_control),
                ("m_system_period", self.m_system),
                ("m_family_period", self.m_family),
                ("m_city_overclaim_period", self.m_city_overclaim),
                ("m_city_period", self.m_city),
                ("m_region_period", self.m_region),
            ])
            .collect()
    }

    /// Metric tables without rows or columns.
    pub(crate) fn empty() -> Metrics {
        Metrics {
            m_system: DataFrame::empty(),
            m_city: DataFrame::empty(),
            m_region: DataFrame::empty(),
            m_family: DataFrame::empty(),
            m_control: DataFrame::empty(),
            m_city_overclaim: DataFrame::empty(),
            fact_risk_period: Some(DataFrame::empty()),
        }
    }
}

/// Writes `t` in UTC as `YYYY-MM-DDTHH:MM:SSZ` (`%Y-%m-%dT%H:%M:%SZ`), seconds' fractions
/// left out. A fact table has a few of these a row: written digit by digit, not through a
/// format string.
fn push_timestamp(t: jiff::Timestamp, out: &mut String) {
    let at = jiff::tz::Offset::UTC.to_datetime(t);
    let year = at.year();
    if !(0..=9999).contains(&year) {
        out.push_str(&t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
        return;
    }
    let mut text = *b"0000-00-00T00:00:00Z";
    let fields = [
        (0..4, year as u32),
        (5..7, at.month() as u32),
        (8..10, at.day() as u32),
        (11..13, at.hour() as u32),
        (14..16, at.minute() as u32),
        (17..19, at.second() as u32),
    ];
    for (digits, mut value) in fields {
        for digit in text[digits].iter_mut().rev() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    out.push_str(std::str::from_utf8(&text).expect("ASCII digits"));
}

/// Writes `items` separated by `|`, each as `push` writes it.
fn push_joined<T>(items: &[T], out: &mut String, mut push: impl FnMut(&T, &mut String)) {
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            out.push('|');
        }
        push(item, out);
    }
}

/// A text column of `rows`: `text` writes each row's text into one buffer (no `String` a row)
/// and says whether it has one (else the row is null).
fn text_column<R>(name: &str, rows: &[R], mut text: impl FnMut(&R, &mut String) -> bool) -> Column {
    let mut column = StringChunkedBuilder::new(name.into(), rows.len());
    let mut buffer = String::new();
    for row in rows {
        buffer.clear();
        if text(row, &mut buffer) {
            column.append_value(&buffer);
        } else {
            column.append_null();
        }
    }
    column.finish().into_column()
}

/// A column of `rows`' instants, written as [`push_timestamp`] writes them (`None` is null).
fn date_column<R>(name: &str, rows: &[R], date: impl Fn(&R) -> Option<jiff::Timestamp>) -> Column {
    text_column(name, rows, |row, out| {
        date(row).map(|t| push_timestamp(t, out)).is_some()
    })
}

/// A column of `rows`' document paths.
fn path_column<R>(name: &str, rows: &[R], path: impl Fn(&R) -> &std::path::Path) -> Column {
    text_column(name, rows, |row, out| {
        out.push_str(&path(row).to_string_lossy());
        true
    })
}

/// A column of `rows`' lists, each written as [`push_joined`] writes it.
fn joined_column<R, T: AsRef<str>>(name: &str, rows: &[R], items: impl Fn(&R) -> &[T]) -> Column {
    text_column(name, rows, |row, out| {
        push_joined(items(row), out, |item, out| out.push_str(item.as_ref()));
        true
    })
}

/// A column of `rows`' lists of uuids, written as [`push_joined`] writes a list.
fn joined_uuids_column<R>(name: &str, rows: &[R], uuids: impl Fn(&R) -> &[Uuid]) -> Column {
    text_column(name, rows, |row, out| {
        push_joined(uuids(row), out, Uuid::push_to);
        true
    })
}

/// A column of `rows`' uuids, written as they were read (`None` is null).
fn uuid_column<R>(name: &str, rows: &[R], uuid: impl Fn(&R) -> Option<&Uuid>) -> Column {
    let mut column = StringChunkedBuilder::new(name.into(), rows.len());
    let mut buffer = [0; 36];
    for row in rows {
        column.append_option(uuid(row).map(|u| u.as_str(&mut buffer)));
    }
    column.finish().into_column()
}

/// A text column of `rows`, borrowed from them (`None` is null).
fn str_column<'r, R>(name: &str, rows: &'r [R], text: impl Fn(&'r R) -> Option<&'r str>) -> Column {
    let mut column = StringChunkedBuilder::new(name.into(), rows.len());
    for row in rows {
        column.append_option(text(row));
    }
    column.finish().into_column()
}

/// The region and the city of each row's system (empty for a system without a plan), looked up
/// once for each run of rows of one system.
fn places<'a, R>(
    packer: &'a crate::input::Packer,
    rows: &[R],
    system: impl Fn(&R) -> &str,
) -> (Vec<&'a str>, Vec<&'a str>) {
    let mut regions = Vec::with_capacity(rows.len());
    let mut cities = Vec::with_capacity(rows.len());
    let mut last: Option<(&str, (&str, &str))> = None;
    for row in rows {
        let id = system(row);
        let place = match last {
            Some((previous, place)) if previous == id => place,
            _ => {
                let place = packer
                    .system(id)
                    .map(|s| (s.region.as_str(), s.city.as_str()))
                    .unwrap_or_default();
                last = Some((id, place));
                place
            }
        };
        regions.push(place.0);
        cities.push(place.1);
    }
    (regions, cities)
}

/// A Parquet writer as every table is written with: zstd at level 1, which on the fleets'
/// fact tables writes files no larger than zstd's default level 3, in less time.
fn parquet_writer<W: Write>(file: W) -> ParquetWriter<W> {
    let level = polars_parquet::write::ZstdLevel::try_new(1).expect("1 is a zstd level");
    ParquetWriter::new(file).with_compression(ParquetCompression::Zstd(Some(level)))
}

fn frame(columns: Vec<Column>) -> Result<DataFrame> {
    Ok(DataFrame::new_infer_height(columns)?)
}

pub(crate) fn drop_internal(frame: &DataFrame) -> Result<DataFrame> {
    let keep: Vec<PlSmallStr> = frame
        .get_column_names()
        .into_iter()
        .filter(|n| !matches!(n.as_str(), "sys" | "ctl"))
        .cloned()
        .collect();
    Ok(frame.select(keep)?)
}

/// The dimension tables, in output order.
pub(crate) fn dim_tables(
    systems: &[mim6_ingest::SystemRow],
    inputs: &Packed,
    settings: &Settings,
) -> Result<Vec<(&'static str, DataFrame)>> {
    let mut cities: Vec<(&str, &str, &str, Option<u64>)> = systems
        .iter()
        .map(|s| {
            (
                s.region.as_str(),
                s.city.as_str(),
                s.city_name.as_str(),
                s.population,
            )
        })
        .collect();
    cities.sort();
    cities.dedup_by(|a, b| a.1 == b.1);
    let dim_city = frame(vec![
        Column::new(
            "region".into(),
            cities.iter().map(|c| c.0).collect::<Vec<_>>(),
        ),
        Column::new(
            "city".into(),
            cities.iter().map(|c| c.1).collect::<Vec<_>>(),
        ),
        Column::new(
            "city_name".into(),
            cities.iter().map(|c| c.2).collect::<Vec<_>>(),
        ),
        Column::new(
            "population".into(),
            cities.iter().map(|c| c.3).collect::<Vec<_>>(),
        ),
    ])?;
    let p = &settings.periods;
    let dim_period = frame(vec![
        str_column("period", p, |p| Some(p.label.as_str())),
        Column::new(
            "period_index".into(),
            (0..p.len() as u32).collect::<Vec<_>>(),
        ),
        Column::new(
            "start".into(),
            p.iter().map(|p| p.start.to_string()).collect::<Vec<_>>(),
        ),
        Column::new(
            "end".into(),
            p.iter().map(|p| p.end.to_string()).collect::<Vec<_>>(),
        ),
    ])?;
    let mut dim_system = inputs.systems.clone();
    dim_system.rename("sw", "weight".into())?;
    let mut dim_control = inputs.controls.clone();
    dim_control.rename("cw", "weight".into())?;
    Ok(vec![
        ("dim_control", dim_control),
        ("dim_system", dim_system),
        ("dim_city", dim_city),
        ("dim_period", dim_period),
    ])
}

/// One fact table's rows of a batch.
pub(crate) enum FactRows {
    Implementation(Vec<mim6_ingest::ImplementationRow>),
    Finding(Vec<mim6_ingest::FindingRow>),
    Observation(Vec<mim6_ingest::ObservationRow>),
    Risk(Vec<mim6_ingest::RiskRow>),
    PoamItem(Vec<mim6_ingest::PoamItemRow>),
}

impl FactRows {
    /// The rows of a batch, table by table, in output order (its systems and documents are
    /// dimensions, taken by the packer).
    pub(crate) fn split(facts: Facts) -> [FactRows; 5] {
        [
            FactRows::Implementation(facts.implementations),
            FactRows::Finding(facts.findings),
            FactRows::Observation(facts.observations),
            FactRows::Risk(facts.risks),
            FactRows::PoamItem(facts.poam_items),
        ]
    }

    /// The table's name.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            FactRows::Implementation(_) => "fact_implementation",
            FactRows::Finding(_) => "fact_finding",
            FactRows::Observation(_) => "fact_observation",
            FactRows::Risk(_) => "fact_risk",
            FactRows::PoamItem(_) => "fact_poam_item",
        }
    }

    /// The rows as a frame, with the region (and city) of their system.
    pub(crate) fn frame(&self, packer: &crate::input::Packer) -> Result<DataFrame> {
        let (regions, cities) = match self {
            FactRows::Implementation(i) => places(packer, i, |r| &r.system),
            FactRows::Finding(f) => places(packer, f, |r| &r.system),
            FactRows::Observation(o) => places(packer, o, |r| &r.system),
            FactRows::Risk(r) => places(packer, r, |x| &x.system),
            FactRows::PoamItem(q) => places(packer, q, |x| &x.system),
        };
        match self {
            FactRows::Implementation(i) => frame(vec![
                str_column("system", i, |r| Some(&*r.system)),
                Column::new("region".into(), regions),
                Column::new("city".into(), cities),
                str_column("control", i, |r| Some(&*r.control)),
                str_column("statement", i, |r| r.statement.as_deref()),
                uuid_column("component", i, |r| r.component.as_ref()),
                str_column("state", i, |r| r.state.as_deref()),
                str_column("origination", i, |r| r.origination.as_deref()),
                Column::new(
                    "inherited".into(),
                    i.iter().map(|r| r.inherited).collect::<Vec<_>>(),
                ),
                Column::new(
                    "provided".into(),
                    i.iter().map(|r| r.provided).collect::<Vec<_>>(),
                ),
            ]),
            FactRows::Finding(f) => frame(vec![
                str_column("system", f, |r| Some(&*r.system)),
                Column::new("region".into(), regions),
                Column::new("city".into(), cities),
                path_column("document", f, |r| &r.document),
                str_column("result", f, |r| Some(&*r.result)),
                date_column("date", f, |r| Some(r.date)),
                uuid_column("finding", f, |r| Some(&r.finding)),
                str_column("control", f, |r| Some(&*r.control)),
                str_column("target", f, |r| Some(r.target.as_str())),
                Column::new(
                    "satisfied".into(),
                    f.iter().map(|r| r.satisfied).collect::<Vec<_>>(),
                ),
                Column::new(
                    "observations".into(),
                    f.iter().map(|r| r.observations).collect::<Vec<_>>(),
                ),
                Column::new(
                    "automated".into(),
                    f.iter().map(|r| r.automated).collect::<Vec<_>>(),
                ),
                date_column("evidence", f, |r| r.evidence),
                joined_uuids_column("risks", f, |r| &r.risks),
            ]),
            FactRows::Observation(o) => frame(vec![
                str_column("system", o, |r| Some(&*r.system)),
                Column::new("region".into(), regions),
                str_column("result", o, |r| Some(&*r.result)),
                uuid_column("observation", o, |r| Some(&r.observation)),
                str_column("methods", o, |r| Some(&*r.methods)),
                str_column("origins", o, |r| Some(&*r.origins)),
                date_column("collected", o, |r| Some(r.collected)),
                date_column("expires", o, |r| r.expires),
            ]),
            FactRows::Risk(r) => {
                let level = |f: fn(&mim6_ingest::RiskRow) -> Option<u8>| -> Vec<Option<u32>> {
                    r.iter().map(|row| f(row).map(u32::from)).collect()
                };
                frame(vec![
                    str_column("system", r, |x| Some(&*x.system)),
                    Column::new("region".into(), regions),
                    path_column("document", r, |x| &x.document),
                    Column::new(
                        "source".into(),
                        r.iter().map(|x| x.source).collect::<Vec<_>>(),
                    ),
                    date_column("date", r, |x| Some(x.date)),
                    uuid_column("risk", r, |x| Some(&x.risk)),
                    str_column("title", r, |x| Some(x.title.as_str())),
                    str_column("status", r, |x| Some(&*x.status)),
                    date_column("deadline", r, |x| x.deadline),
                    date_column("first_seen", r, |x| Some(x.first_seen)),
                    date_column("closed", r, |x| x.closed),
                    Column::new("likelihood".into(), level(|x| x.likelihood)),
                    Column::new("impact".into(), level(|x| x.impact)),
                    Column::new(
                        "likelihood_adjusted".into(),
                        level(|x| x.likelihood_adjusted),
                    ),
                    Column::new("impact_adjusted".into(), level(|x| x.impact_adjusted)),
                    Column::new(
                        "naming".into(),
                        r.iter().map(|x| x.naming.name()).collect::<Vec<_>>(),
                    ),
                    Column::new(
                        "false_positive".into(),
                        r.iter().map(|x| x.false_positive).collect::<Vec<_>>(),
                    ),
                    Column::new(
                        "accepted".into(),
                        r.iter().map(|x| x.accepted).collect::<Vec<_>>(),
                    ),
                    joined_column("controls", r, |x| &x.mitigated_controls),
                ])
            }
            FactRows::PoamItem(q) => frame(vec![
                str_column("system", q, |x| Some(&*x.system)),
                Column::new("region".into(), regions),
                Column::new("city".into(), cities),
                path_column("document", q, |x| &x.document),
                date_column("date", q, |x| Some(x.date)),
                uuid_column("item", q, |x| x.item.as_ref()),
                str_column("title", q, |x| Some(x.title.as_str())),
                joined_uuids_column("risks", q, |x| &x.risks),
            ]),
        }
    }
}

/// The fact tables of a batch of facts, in output order, built side by side.
pub(crate) fn fact_frames(
    facts: Facts,
    packer: &crate::input::Packer,
) -> Result<Vec<(&'static str, DataFrame)>> {
    FactRows::split(facts)
        .into_par_iter()
        .map(|rows| Ok((rows.name(), rows.frame(packer)?)))
        .collect()
}

/// Every table of the run: the fact tables, then the metric tables, internal columns dropped.
pub(crate) fn finish(facts: Vec<(&'static str, DataFrame)>, metrics: Metrics) -> Result<Tables> {
    let tables = facts
        .into_iter()
        .chain(metrics.into_tables())
        .map(|(name, table)| Ok((name.to_owned(), drop_internal(&table)?)))
        .collect::<Result<Vec<_>>>()?;
    let mut rows: Vec<(String, usize)> = tables
        .iter()
        .map(|(name, table)| (name.clone(), table.height()))
        .collect();
    rows.sort();
    Ok(Tables { tables, rows })
}

/// Which files [`write_tables`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    /// Parquet, partitioned by region and period (`TABLE/region=R/period=P/data.parquet`, the
    /// keys in the folder names only, as hive-style readers expect).
    pub parquet: bool,
    /// One CSV file per table (`TABLE.csv`).
    pub csv: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Write {
        path: path.to_owned(),
        source,
    }
}

/// Polars' failure to write `path` (a full disk, say), with the file named.
fn failed_writing(path: &Path) -> impl FnOnce(PolarsError) -> Error + '_ {
    move |e| io(path)(std::io::Error::other(e))
}

/// The Parquet file of `name` for `region` (the folder without a region level when `None`).
fn parquet_path(dir: &Path, name: &str, partition: &[(&str, String)]) -> PathBuf {
    let mut folder = dir.join(name);
    for (key, value) in partition {
        folder = folder.join(format!("{key}={}", oscal_io::safe_file_name(value)));
    }
    folder.join("data.parquet")
}

/// A partition: its keys and their values.
type Partition = Vec<(&'static str, String)>;

/// Splits `table` by the partition keys it has among `region` and `period`; the keys go to
/// the folder names (hive style), not into the files. A partition's rows keep their order. When
/// each partition's rows are already together (a batch of facts, in document order), the table
/// is cut into slices as it is; otherwise it is sorted by its keys once (stably) and then cut,
/// which costs a fraction of gathering every column of every partition apart.
fn partitions(table: &DataFrame) -> Result<Vec<(Partition, DataFrame)>> {
    let keys: Vec<&'static str> = ["region", "period"]
        .into_iter()
        .filter(|k| table.get_column_names().iter().any(|n| n.as_str() == *k))
        .collect();
    if keys.is_empty() || table.height() == 0 {
        return Ok(vec![(Vec::new(), table.clone())]);
    }
    let runs = key_runs(table, &keys)?;
    let mut seen = std::collections::BTreeSet::new();
    let (table, runs) = if runs.iter().all(|(partition, _)| seen.insert(partition)) {
        (table.clone(), runs)
    } else {
        let sorted = table.sort(
            keys.clone(),
            SortMultipleOptions::default().with_maintain_order(true),
        )?;
        let runs = key_runs(&sorted, &keys)?;
        (sorted, runs)
    };
    let values = table.drop_many(keys.iter().copied());
    Ok(runs
        .into_iter()
        .map(|(partition, rows)| {
            let mut part = values.slice(rows.start as i64, rows.len());
            part.rechunk_mut();
            (partition, part)
        })
        .collect())
}

/// The runs of rows of `table` with the same values of `keys`, in row order.
fn key_runs(
    table: &DataFrame,
    keys: &[&'static str],
) -> Result<Vec<(Partition, std::ops::Range<usize>)>> {
    let columns = keys
        .iter()
        .map(|k| Ok(table.column(k)?.cast(&DataType::String)?.str()?.clone()))
        .collect::<Result<Vec<StringChunked>>>()?;
    let texts: Vec<Vec<&str>> = columns
        .iter()
        .map(|c| c.iter().map(|v| v.unwrap_or("null")).collect())
        .collect();
    let same = |a: usize, b: usize| texts.iter().all(|t| t[a] == t[b]);
    let mut runs = Vec::new();
    let mut start = 0;
    for row in 1..=table.height() {
        if row == table.height() || !same(start, row) {
            let partition = keys
                .iter()
                .zip(&texts)
                .map(|(k, t)| (*k, t[start].to_owned()))
                .collect();
            runs.push((partition, start..row));
            start = row;
        }
    }
    Ok(runs)
}

/// Writes `table` to `file`, the file at `path`.
fn write_csv(
    table: &mut DataFrame,
    header: bool,
    file: &mut std::fs::File,
    path: &Path,
) -> Result<()> {
    CsvWriter::new(&mut *file)
        .include_header(header)
        .finish(table)
        .map_err(failed_writing(path))
}

/// Writes one whole table into `dir` (a staging folder); returns the files written, not yet
/// synced to disk (see [`sync`]).
pub(crate) fn write_table(
    dir: &Path,
    name: &str,
    table: &DataFrame,
    formats: Formats,
) -> Result<Vec<PathBuf>> {
    write_part(dir, name, table, formats, true)
}

/// Writes a table into `dir` (a staging folder) a batch at a time, each batch whole Parquet
/// partitions (no partition's rows in two batches): the first batch begins the CSV file, the
/// next ones are appended to it, and each batch's partitions are written whole. Returns the
/// files begun, not yet synced to disk (see [`sync`]). A partition whose file a batch before
/// wrote is an error, not written over.
pub(crate) fn write_part(
    dir: &Path,
    name: &str,
    table: &DataFrame,
    formats: Formats,
    first: bool,
) -> Result<Vec<PathBuf>> {
    let mut table = table.clone();
    let mut written = Vec::new();
    if formats.csv {
        let path = dir.join(format!("{name}.csv"));
        let mut file = if first {
            std::fs::File::create(&path)
        } else {
            std::fs::OpenOptions::new().append(true).open(&path)
        }
        .map_err(io(&path))?;
        write_csv(&mut table, first, &mut file, &path)?;
        if first {
            written.push(path);
        }
    }
    if formats.parquet && (first || table.height() > 0) {
        // A file per region and period, each costing a few milliseconds however small it is:
        // written side by side, on polars' own threads. (Polars writes each file on those
        // threads: from the threads of another pool, each write would wait there while its
        // thread took up the next write, on top of the waiting one's stack, until a table of
        // thousands of partitions overflowed it.)
        let parts = partitions(&table)?;
        let files: Vec<PathBuf> = polars_core::runtime::THREAD_POOL.install(|| {
            parts
                .into_par_iter()
                .map(|(partition, mut part)| {
                    let path = parquet_path(dir, name, &partition);
                    let folder = path.parent().unwrap_or(dir);
                    std::fs::create_dir_all(folder).map_err(io(folder))?;
                    let file = std::fs::File::create_new(&path).map_err(io(&path))?;
                    // Buffered: the writer writes the file's metadata in many small pieces.
                    let mut file = std::io::BufWriter::new(file);
                    parquet_writer(&mut file)
                        .finish(&mut part)
                        .map_err(failed_writing(&path))?;
                    file.flush().map_err(io(&path))?;
                    Ok(path)
                })
                .collect::<Result<_>>()
        })?;
        written.extend(files);
    }
    Ok(written)
}

/// Syncs `files` to disk before the folder holding them is swapped in: side by side, since
/// each sync mostly waits for the disk, and one at a time over a thousand partitions takes
/// seconds.
pub(crate) fn sync(files: &[PathBuf]) -> Result<()> {
    files
        .par_iter()
        .with_max_len(1)
        .try_for_each(|path| sync_file(path))
}

/// Syncs the file at `path` to disk.
fn sync_file(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|file| file.sync_all())
        .map_err(io(path))
}

/// Fact tables written as their batches come: each CSV file appended to, each Parquet file
/// (per table and partition) given a row group per batch, so that no fact table is ever
/// whole in memory. At most [`OPEN_PARTITIONS`] Parquet files of a table are open at once:
/// the one used longest ago is closed to open another, and a partition whose file was closed
/// goes on in a new file beside it (`data-1.parquet`, `data-2.parquet`, …), so that memory
/// and open files do not grow with the regions.
pub(crate) struct FactSink {
    dir: PathBuf,
    formats: Formats,
    tables: std::collections::BTreeMap<&'static str, TableFiles>,
}

/// Parquet files of a fact table open at most.
const OPEN_PARTITIONS: usize = 64;

/// The open files of one fact table, and the rows written to them.
#[derive(Default)]
struct TableFiles {
    /// The CSV file once begun, with its path.
    csv: Option<(PathBuf, std::fs::File)>,
    parquet: ParquetFiles,
    rows: usize,
}

/// The Parquet files of one fact table, a file per partition open at a time.
#[derive(Default)]
struct ParquetFiles {
    /// Partition folder → its open file.
    open: std::collections::BTreeMap<PathBuf, OpenParquet>,
    /// Partition folder → files begun in it.
    begun: std::collections::BTreeMap<PathBuf, usize>,
    /// The files closed so far.
    closed: Vec<PathBuf>,
    /// Partitions appended to so far, to tell which open file was used longest ago.
    appends: u64,
}

/// A Parquet file being written, a row group per batch.
struct OpenParquet {
    path: PathBuf,
    writer: polars::io::parquet::write::BatchedWriter<SharedFile>,
    file: SharedFile,
    /// The append that last used it.
    used: u64,
}

impl OpenParquet {
    /// Writes the file's footer and closes it.
    fn close(self) -> Result<PathBuf> {
        let OpenParquet {
            path,
            writer,
            mut file,
            ..
        } = self;
        writer.finish().map_err(failed_writing(&path))?;
        file.flush().map_err(io(&path))?;
        Ok(path)
    }
}

impl std::fmt::Debug for FactSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows: Vec<(&str, usize)> = self.tables.iter().map(|(n, t)| (*n, t.rows)).collect();
        f.debug_struct("FactSink")
            .field("dir", &self.dir)
            .field("rows", &rows)
            .finish()
    }
}

impl FactSink {
    pub(crate) fn new(dir: &Path, formats: Formats) -> FactSink {
        FactSink {
            dir: dir.to_owned(),
            formats,
            tables: std::collections::BTreeMap::new(),
        }
    }

    /// Appends a batch's rows.
    pub(crate) fn write(&mut self, frames: Vec<(&'static str, DataFrame)>) -> Result<()> {
        for (name, table) in frames {
            let files = self.tables.entry(name).or_default();
            files.append(&self.dir, self.formats, name, &table)?;
        }
        Ok(())
    }

    /// Appends a batch's fact rows, the tables side by side: each is built from its rows and
    /// written to its own files.
    pub(crate) fn write_rows(
        &mut self,
        rows: [FactRows; 5],
        packer: &crate::input::Packer,
    ) -> Result<()> {
        for r in &rows {
            self.tables.entry(r.name()).or_default();
        }
        let mut rows = Vec::from(rows);
        let work: Vec<_> = self
            .tables
            .iter_mut()
            .filter_map(|(name, files)| {
                let at = rows.iter().position(|r| r.name() == *name)?;
                Some((*name, files, rows.swap_remove(at)))
            })
            .collect();
        let (dir, formats) = (&self.dir, self.formats);
        // On polars' threads, idle while documents are read: on the pool that reads them, the
        // tables would wait behind the whole next batch, and the reading with them.
        polars_core::runtime::THREAD_POOL.install(|| {
            work.into_par_iter().try_for_each(|(name, files, rows)| {
                let table = rows.frame(packer)?;
                drop(rows);
                files.append(dir, formats, name, &table)
            })
        })
    }

    /// Closes every file and syncs it to disk, one after the other on the calling thread (a
    /// thread of its own, whose waits for the disk hold up no other work); a table that never
    /// had a row is written empty, from `empty`. Returns the rows written per table.
    pub(crate) fn finish(
        mut self,
        empty: Vec<(&'static str, DataFrame)>,
    ) -> Result<Vec<(String, usize)>> {
        let mut written = Vec::new();
        for (name, table) in empty {
            let files = self.tables.entry(name).or_default();
            if files.rows == 0 {
                // The header-only file of the first batch is written again, whole.
                files.csv = None;
                written.extend(write_table(&self.dir, name, &table, self.formats)?);
            }
        }
        let mut rows = Vec::with_capacity(self.tables.len());
        for (name, files) in self.tables {
            written.extend(files.csv.map(|(path, _)| path));
            written.extend(files.parquet.closed);
            for (_, open) in files.parquet.open {
                written.push(open.close()?);
            }
            rows.push((name.to_owned(), files.rows));
        }
        for path in &written {
            sync_file(path)?;
        }
        Ok(rows)
    }
}

/// A buffered file, shared between a Parquet writer that writes its metadata in many small
/// pieces and the sink, which flushes it (and sees the errors) once the writer is done.
#[derive(Clone)]
struct SharedFile(std::sync::Arc<std::sync::Mutex<std::io::BufWriter<std::fs::File>>>);

impl SharedFile {
    fn buffer(&self) -> std::sync::MutexGuard<'_, std::io::BufWriter<std::fs::File>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::io::Write for SharedFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer().write(bytes)
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.buffer().write_all(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.buffer().flush()
    }
}

impl TableFiles {
    /// Appends `table`'s rows to the files of table `name` under `dir`: the CSV file beside
    /// the Parquet files, on polars' threads.
    fn append(
        &mut self,
        dir: &Path,
        formats: Formats,
        name: &str,
        table: &DataFrame,
    ) -> Result<()> {
        self.rows += table.height();
        let (csv, parquet) = (&mut self.csv, &mut self.parquet);
        let (csv_written, parquet_written) = polars_core::runtime::THREAD_POOL.install(|| {
            rayon::join(
                || -> Result<()> {
                    if !formats.csv || (csv.is_some() && table.height() == 0) {
                        return Ok(());
                    }
                    let first = csv.is_none();
                    if first {
                        let path = dir.join(format!("{name}.csv"));
                        let file = std::fs::File::create(&path).map_err(io(&path))?;
                        *csv = Some((path, file));
                    }
                    let (path, file) = csv.as_mut().expect("opened above");
                    write_csv(&mut table.clone(), first, file, path)
                },
                || -> Result<()> {
                    if !formats.parquet || table.height() == 0 {
                        return Ok(());
                    }
                    parquet.append(dir, name, table)
                },
            )
        });
        csv_written?;
        parquet_written
    }
}

impl ParquetFiles {
    /// Appends `table`'s rows to the files of its partitions, a row group to each, the
    /// partitions side by side. The files are opened (and the ones used longest ago closed)
    /// in partition order, at most [`OPEN_PARTITIONS`] partitions at a time, so that none
    /// of those about to be written to is closed.
    fn append(&mut self, dir: &Path, name: &str, table: &DataFrame) -> Result<()> {
        let parts = partitions(table)?;
        for chunk in parts.chunks(OPEN_PARTITIONS) {
            let mut folders = std::collections::BTreeMap::new();
            for (partition, part) in chunk {
                self.appends += 1;
                let path = parquet_path(dir, name, partition);
                let folder = path.parent().unwrap_or(dir).to_owned();
                if !self.open.contains_key(&folder) {
                    self.open(folder.clone(), part)?;
                }
                self.open.get_mut(&folder).expect("opened above").used = self.appends;
                folders.insert(folder, part);
            }
            let work: Vec<(&mut OpenParquet, &DataFrame)> = self
                .open
                .iter_mut()
                .filter_map(|(folder, open)| Some((open, *folders.get(folder)?)))
                .collect();
            work.into_par_iter().try_for_each(|(open, part)| {
                open.writer
                    .write_batch(part)
                    .map_err(failed_writing(&open.path))
            })?;
        }
        Ok(())
    }

    /// Opens the next file of the partition `folder`, for rows like `part`'s, closing the file
    /// used longest ago if as many as can be are open.
    fn open(&mut self, folder: PathBuf, part: &DataFrame) -> Result<()> {
        if self.open.len() >= OPEN_PARTITIONS
            && let Some(oldest) = self
                .open
                .iter()
                .min_by_key(|(_, open)| open.used)
                .map(|(folder, _)| folder.clone())
        {
            let open = self.open.remove(&oldest).expect("found above");
            self.closed.push(open.close()?);
        }
        let begun = self.begun.entry(folder.clone()).or_default();
        let path = match *begun {
            0 => folder.join("data.parquet"),
            n => folder.join(format!("data-{n}.parquet")),
        };
        *begun += 1;
        std::fs::create_dir_all(&folder).map_err(io(&folder))?;
        let file = std::fs::File::create(&path).map_err(io(&path))?;
        let file = SharedFile(std::sync::Arc::new(std::sync::Mutex::new(
            std::io::BufWriter::new(file),
        )));
        let writer = parquet_writer(file.clone()).batched(part.schema())?;
        self.open.insert(
            folder,
            OpenParquet {
                path,
                writer,
                file,
                used: self.appends,
            },
        );
        Ok(())
    }
}

/// Writes `tables` into the staging folder `dir`.
pub(crate) fn write_all(tables: &Tables, dir: &Path, formats: Formats) -> Result<()> {
    let written: Vec<Vec<PathBuf>> = tables
        .tables
        .par_iter()
        .map(|(name, table)| write_table(dir, name, table, formats))
        .collect::<Result<_>>()?;
    sync(&written.concat())
}

/// Writes `tables` under `dir/tables/`: written first to `dir/tables.staging/`, then swapped
/// in, so that an interrupted run leaves the previous tables whole.
pub fn write_tables(tables: &Tables, dir: &Path, formats: Formats) -> Result<PathBuf> {
    let staged = oscal_io::StagedDir::new(&dir.join("tables"))?;
    write_all(tables, staged.path(), formats)?;
    Ok(staged.commit()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_as_the_format_string_writes_them() {
        let format = |t: jiff::Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut seconds = jiff::Timestamp::MIN.as_second();
        // Every year from -9999 to 9999, at a time of day that moves through the hours,
        // minutes and seconds; the ends of the range; fractions of a second.
        let mut instants = vec![
            jiff::Timestamp::MIN,
            jiff::Timestamp::MAX,
            jiff::Timestamp::UNIX_EPOCH,
            "0000-01-01T00:00:00Z".parse().unwrap(),
            "0999-12-31T23:59:59.999Z".parse().unwrap(),
            "2026-03-29T01:02:03.5+02:00".parse().unwrap(),
        ];
        while seconds < jiff::Timestamp::MAX.as_second() {
            instants.push(jiff::Timestamp::from_second(seconds).unwrap());
            seconds += 366 * 86_400 - 3_601;
        }
        for t in instants {
            let mut written = String::from("before:");
            push_timestamp(t, &mut written);
            assert_eq!(written, format!("before:{}", format(t)), "{t:?}");
        }
    }

    fn table(regions: &[&str]) -> DataFrame {
        df!(
            "region" => regions,
            "row" => (0..regions.len() as u32).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_table_that_cannot_be_written_names_its_file() {
        // Every write to /dev/full fails as on a full disk.
        let mut full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let path = Path::new("tables.staging/fact_risk.csv");
        let err = write_csv(&mut table(&["north"; 1000]), true, &mut full, path).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("tables.staging/fact_risk.csv: ")
                && text.contains("No space left on device"),
            "{text}"
        );
    }

    #[test]
    fn a_table_written_in_batches_is_the_table_written_whole() {
        let both = Formats {
            parquet: true,
            csv: true,
        };
        let (whole, batched) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let all = table(&["r-1", "r-1", "r-2"]);
        write_table(whole.path(), "t", &all, both).unwrap();
        let (first, next) = (all.slice(0, 2), all.slice(2, 1));
        let mut begun = write_part(batched.path(), "t", &first, both, true).unwrap();
        begun.extend(write_part(batched.path(), "t", &next, both, false).unwrap());
        assert_eq!(
            begun.len(),
            3,
            "the CSV file once and each partition: {begun:?}"
        );
        for file in [
            "t.csv",
            "t/region=r-1/data.parquet",
            "t/region=r-2/data.parquet",
        ] {
            assert_eq!(
                std::fs::read(whole.path().join(file)).unwrap(),
                std::fs::read(batched.path().join(file)).unwrap(),
                "{file}"
            );
        }
        // A partition a batch before wrote is not written over.
        let again = write_part(batched.path(), "t", &first, both, false).unwrap_err();
        assert!(
            again.to_string().contains("region=r-1/data.parquet"),
            "{again}"
        );
    }

    fn parts(table: &DataFrame) -> Vec<(String, Vec<u32>)> {
        let mut parts: Vec<_> = partitions(table)
            .unwrap()
            .into_iter()
            .map(|(partition, part)| {
                assert_eq!(partition.len(), 1);
                assert_eq!(part.get_column_names(), ["row"]);
                let rows = part.column("row").unwrap().u32().unwrap();
                (partition[0].1.clone(), rows.into_no_null_iter().collect())
            })
            .collect();
        parts.sort();
        parts
    }

    #[test]
    fn a_table_of_thousands_of_partitions_is_written_whole() {
        // Each partition's file is written by polars on its own threads; written side by side
        // from threads of another pool, the writes that wait pile up on one thread's stack.
        let dir = tempfile::tempdir().unwrap();
        let regions: Vec<String> = (0..3000).map(|k| format!("r-{k:04}")).collect();
        let regions: Vec<&str> = regions.iter().map(String::as_str).collect();
        let formats = Formats {
            parquet: true,
            csv: false,
        };
        let written = write_table(dir.path(), "t", &table(&regions), formats).unwrap();
        assert_eq!(written.len(), 3000);
    }

    #[test]
    fn a_partition_whose_file_was_closed_goes_on_in_a_new_file_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let formats = Formats {
            parquet: true,
            csv: false,
        };
        let mut sink = FactSink::new(dir.path(), formats);
        // A batch per region, more regions than files stay open, then the first region again.
        let regions: Vec<String> = (0..OPEN_PARTITIONS + 2)
            .map(|k| format!("r-{k:03}"))
            .collect();
        let mut batches: Vec<&str> = regions.iter().map(String::as_str).collect();
        batches.push("r-000");
        batches.push(&regions[OPEN_PARTITIONS + 1]);
        for region in &batches {
            sink.write(vec![("fact_x", table(&[region, region]))])
                .unwrap();
        }
        let rows = sink.finish(Vec::new()).unwrap();
        assert_eq!(rows, [("fact_x".to_owned(), batches.len() * 2)]);
        let files = |region: &str| -> Vec<String> {
            region_files(dir.path(), "fact_x", region)
                .into_iter()
                .map(|(name, _)| name)
                .collect()
        };
        // The first region's file was closed to open the 65th: its last batch has a file of its
        // own; the last region's file was still open and has both its batches.
        assert_eq!(files("r-000"), ["data-1.parquet", "data.parquet"]);
        assert_eq!(files(&regions[1]), ["data.parquet"]);
        assert_eq!(files(&regions[OPEN_PARTITIONS + 1]), ["data.parquet"]);
        // Every row is in one of the files, each file whole.
        let read: usize = regions
            .iter()
            .flat_map(|region| region_files(dir.path(), "fact_x", region))
            .map(|(_, part)| part.height())
            .sum();
        assert_eq!(read, batches.len() * 2);
    }

    /// The Parquet files of `region` in table `name` under `dir`, by file name, each read.
    fn region_files(dir: &Path, name: &str, region: &str) -> Vec<(String, DataFrame)> {
        let folder = dir.join(name).join(format!("region={region}"));
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| {
                let file = std::fs::File::open(folder.join(&n)).unwrap();
                (n, ParquetReader::new(file).finish().unwrap())
            })
            .collect()
    }

    #[test]
    fn a_batch_of_more_partitions_than_stay_open_is_written_whole() {
        // The partitions of a batch are written side by side, at most as many at a time as
        // files stay open: the second batch's partitions find every file of the first closed.
        let dir = tempfile::tempdir().unwrap();
        let formats = Formats {
            parquet: true,
            csv: true,
        };
        let mut sink = FactSink::new(dir.path(), formats);
        let regions: Vec<String> = (0..OPEN_PARTITIONS + 2)
            .map(|k| format!("r-{k:03}"))
            .collect();
        let rows: Vec<&str> = regions
            .iter()
            .flat_map(|r| [r.as_str(), r.as_str()])
            .collect();
        for _ in 0..2 {
            sink.write(vec![("fact_x", table(&rows))]).unwrap();
        }
        let written = sink.finish(Vec::new()).unwrap();
        assert_eq!(written, [("fact_x".to_owned(), rows.len() * 2)]);
        let csv = std::fs::read_to_string(dir.path().join("fact_x.csv")).unwrap();
        assert_eq!(csv.lines().count(), 1 + rows.len() * 2);
        for (k, region) in regions.iter().enumerate() {
            let files = region_files(dir.path(), "fact_x", region);
            let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
            assert_eq!(names, ["data-1.parquet", "data.parquet"], "{region}");
            // Each file holds its batch's two rows of the region, in order.
            for (_, part) in &files {
                let got: Vec<u32> = part
                    .column("row")
                    .unwrap()
                    .u32()
                    .unwrap()
                    .into_no_null_iter()
                    .collect();
                assert_eq!(got, [2 * k as u32, 2 * k as u32 + 1], "{region}");
            }
        }
    }

    #[test]
    fn partitions_keep_the_order_of_their_rows_whether_together_or_apart() {
        let expected =
            |a: Vec<u32>, b: Vec<u32>| vec![("r-1".to_owned(), a), ("r-2".to_owned(), b)];
        // Together: cut as they are.
        assert_eq!(
            parts(&table(&["r-2", "r-2", "r-1", "r-1", "r-1"])),
            expected(vec![2, 3, 4], vec![0, 1])
        );
        // Apart: a partition's rows gathered, in their order.
        assert_eq!(
            parts(&table(&["r-1", "r-2", "r-1", "r-2", "r-1"])),
            expected(vec![0, 2, 4], vec![1, 3])
        );
        assert_eq!(parts(&table(&["r-1"])), vec![("r-1".to_owned(), vec![0])]);
    }
}
