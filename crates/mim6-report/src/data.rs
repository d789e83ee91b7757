//! The tables of a run, read back from its CSV files into typed rows: only the columns the
//! report and the OSCAL outputs show, and of the large fact tables only the rows they need.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PeriodRow {
    pub(crate) period: String,
    pub(crate) period_index: u32,
    pub(crate) start: String,
    pub(crate) end: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CityRow {
    pub(crate) region: String,
    pub(crate) city: String,
    pub(crate) city_name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SystemRow {
    pub(crate) system: String,
    pub(crate) name: String,
}

/// `m_city_period`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CityPeriod {
    pub(crate) region: String,
    pub(crate) city: String,
    pub(crate) city_name: String,
    pub(crate) systems: u32,
    pub(crate) period: String,
    pub(crate) period_index: u32,
    pub(crate) na_rate: Option<f64>,
    pub(crate) claimed_coverage: Option<f64>,
    pub(crate) assessed_coverage: Option<f64>,
    pub(crate) assessment_breadth: Option<f64>,
    pub(crate) overclaim_rate: Option<f64>,
    pub(crate) maturity_mean: Option<f64>,
    pub(crate) attained_level: Option<f64>,
    pub(crate) residual_mean: Option<f64>,
    pub(crate) residual_worst_p90: Option<f64>,
    pub(crate) open_risks: u64,
    pub(crate) open_high_risks: u64,
    pub(crate) overdue_risks: u64,
    pub(crate) median_days_to_remediate: Option<f64>,
    pub(crate) on_time_rate: Option<f64>,
    pub(crate) assessed_coverage_change: Option<f64>,
    pub(crate) maturity_mean_change: Option<f64>,
    pub(crate) residual_mean_change: Option<f64>,
}

/// `m_region_period`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RegionPeriod {
    pub(crate) region: String,
    pub(crate) period: String,
    pub(crate) period_index: u32,
    pub(crate) cities: u32,
    pub(crate) systems: u32,
    pub(crate) assessed_coverage_median: Option<f64>,
    pub(crate) maturity_mean_median: Option<f64>,
    pub(crate) attained_level_median: Option<f64>,
    pub(crate) residual_median: Option<f64>,
    pub(crate) open_risks: u64,
    pub(crate) open_high_risks: u64,
    pub(crate) overdue_risks: u64,
    pub(crate) assessed_coverage_median_change: Option<f64>,
    pub(crate) maturity_mean_median_change: Option<f64>,
    pub(crate) residual_median_change: Option<f64>,
}

/// `m_family_period`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct FamilyPeriod {
    pub(crate) region: String,
    pub(crate) city: String,
    pub(crate) family: String,
    pub(crate) controls: u32,
    pub(crate) claimed_coverage: Option<f64>,
    pub(crate) assessed_coverage: Option<f64>,
    pub(crate) overclaim_rate: Option<f64>,
    pub(crate) maturity_mean: Option<f64>,
    pub(crate) attained_level: Option<f64>,
    pub(crate) period: String,
    pub(crate) period_index: u32,
}

/// `m_system_period`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SystemPeriod {
    pub(crate) system: String,
    pub(crate) name: String,
    pub(crate) city: String,
    pub(crate) weight: f64,
    pub(crate) period_index: u32,
    pub(crate) claimed_coverage: Option<f64>,
    pub(crate) assessed_coverage: Option<f64>,
    pub(crate) maturity_mean: Option<f64>,
    pub(crate) attained_level: Option<f64>,
    pub(crate) residual_total: Option<f64>,
    pub(crate) open_risks: u64,
    pub(crate) open_high_risks: u64,
    pub(crate) overdue_risks: u64,
}

/// `m_city_overclaim_period`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Overclaim {
    pub(crate) city: String,
    pub(crate) control: String,
    pub(crate) title: String,
    pub(crate) overclaimed_systems: u32,
    pub(crate) claimed_systems: u32,
    pub(crate) period_index: u32,
}

/// `fact_risk_period`: a risk as it stands at the end of a period.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RiskPeriod {
    pub(crate) risk: String,
    pub(crate) title: String,
    pub(crate) status: String,
    pub(crate) doc: String,
    pub(crate) current_likelihood: Option<u8>,
    pub(crate) current_impact: Option<u8>,
    pub(crate) residual_level: Option<u8>,
    pub(crate) residual_score: Option<f64>,
    pub(crate) open: bool,
    pub(crate) retained: bool,
    pub(crate) overdue: bool,
    /// Seconds since the epoch.
    pub(crate) deadline: Option<i64>,
    /// Seconds since the epoch.
    pub(crate) first_seen: i64,
    pub(crate) open_age_days: Option<f64>,
    pub(crate) system: String,
    pub(crate) city: String,
    pub(crate) region: String,
    pub(crate) period_index: u32,
}

/// `fact_poam_item`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PoamItemRow {
    pub(crate) system: String,
    pub(crate) city: String,
    pub(crate) document: String,
    pub(crate) date: String,
    pub(crate) item: Option<String>,
    pub(crate) title: String,
    pub(crate) risks: Option<String>,
}

/// `fact_finding`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct FindingRow {
    pub(crate) system: String,
    pub(crate) city: String,
    pub(crate) document: String,
    pub(crate) date: String,
    pub(crate) finding: String,
    pub(crate) control: String,
    pub(crate) target: String,
    pub(crate) satisfied: bool,
    pub(crate) risks: Option<String>,
}

/// `rejected.csv`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Rejected {
    pub(crate) file: String,
    pub(crate) location: String,
    pub(crate) reason: String,
}

/// What every page may show: the run's periods, cities, regions and summary. Small whatever
/// the fleet: a row per period, per city, per region and period, and the first rejected
/// documents.
#[derive(Debug)]
pub(crate) struct Fleet {
    pub(crate) periods: Vec<PeriodRow>,
    pub(crate) cities: Vec<CityRow>,
    pub(crate) region_periods: Vec<RegionPeriod>,
    /// The first [`REJECTED_SHOWN`] rows of `rejected.csv`.
    pub(crate) rejected: Vec<Rejected>,
    /// The rows of `rejected.csv`.
    pub(crate) rejected_total: usize,
    /// `run.json`.
    pub(crate) summary: serde_json::Value,
}

/// Rejected documents listed in the report; `rejected.csv` lists them all.
pub(crate) const REJECTED_SHOWN: usize = 200;

impl Fleet {
    /// The latest period, if any period was measured.
    pub(crate) fn latest(&self) -> Option<&PeriodRow> {
        self.periods.iter().max_by_key(|p| p.period_index)
    }

    /// The regions, sorted.
    pub(crate) fn regions(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self.cities.iter().map(|c| c.region.as_str()).collect();
        set.into_iter().collect()
    }
}

/// What the pages and OSCAL documents of a group of cities are made from: the fleet, and the
/// rows of the group's cities in the per-city tables.
#[derive(Debug)]
pub(crate) struct Run<'f> {
    pub(crate) fleet: &'f Fleet,
    /// City → name, of the group's cities.
    names: HashMap<&'f str, &'f str>,
    /// System → name, of the group's systems.
    pub(crate) systems: HashMap<String, String>,
    pub(crate) city_periods: Vec<CityPeriod>,
    pub(crate) families: Vec<FamilyPeriod>,
    pub(crate) system_periods: Vec<SystemPeriod>,
    pub(crate) overclaims: Vec<Overclaim>,
    /// Risks open at the end of the latest period.
    pub(crate) open_risks: Vec<RiskPeriod>,
    /// Items of the latest period's POA&Ms that track a risk open at its end.
    pub(crate) open_items: Vec<PoamItemRow>,
    /// Failed findings of the latest period that name a risk open at its end.
    pub(crate) open_findings: Vec<FindingRow>,
}

impl Run<'_> {
    /// The latest period, if any period was measured.
    pub(crate) fn latest(&self) -> Option<&PeriodRow> {
        self.fleet.latest()
    }

    /// The rows of `rows` (sorted by city, as [`Rows::group`] leaves them) that belong to `city`.
    pub(crate) fn of_city<'a, T>(rows: &'a [T], city: &str, key: fn(&T) -> &str) -> &'a [T] {
        let start = rows.partition_point(|r| key(r) < city);
        let end = start + rows[start..].partition_point(|r| key(r) == city);
        &rows[start..end]
    }

    /// A city's name, else its id.
    pub(crate) fn city_name<'a>(&'a self, city: &'a str) -> &'a str {
        self.names.get(city).copied().unwrap_or(city)
    }

    /// A system's name, else its uuid.
    pub(crate) fn system_name<'a>(&'a self, system: &'a str) -> &'a str {
        self.systems.get(system).map_or(system, String::as_str)
    }
}

fn table_path(dir: &Path, name: &str) -> PathBuf {
    dir.join("tables").join(format!("{name}.csv"))
}

/// The path of the table `name` of the run under `dir`, which must be there.
fn table(dir: &Path, name: &str) -> Result<PathBuf> {
    let path = table_path(dir, name);
    if path.exists() {
        Ok(path)
    } else {
        Err(Error::Missing { path })
    }
}

/// The text of a row's fields in the columns a [`scan`] names, in the order named.
struct Fields<'r> {
    record: &'r csv::ByteRecord,
    at: &'r [usize],
}

impl Fields<'_> {
    /// The field of the `k`-th column named, as UTF-8 (`None` when it is not).
    fn text(&self, k: usize) -> Option<&str> {
        std::str::from_utf8(self.bytes(k)).ok()
    }

    /// The field of the `k`-th column named.
    fn bytes(&self, k: usize) -> &[u8] {
        self.record.get(self.at[k]).unwrap_or_default()
    }
}

/// A row of `path` at `line` that cannot be read; a field that cannot be read is named by its
/// column in `headers`.
fn table_error(path: &Path, e: &csv::Error, line: u64, headers: &csv::ByteRecord) -> Error {
    Error::Table {
        path: path.to_owned(),
        line: e.position().map_or(line, |p| p.line()),
        reason: match e.kind() {
            csv::ErrorKind::Deserialize { err, .. } => {
                match err.field().and_then(|k| headers.get(k as usize)) {
                    Some(column) => format!(
                        "column `{}`: {}",
                        String::from_utf8_lossy(column),
                        err.kind()
                    ),
                    None => err.to_string(),
                }
            }
            _ => e.to_string(),
        },
    }
}

/// Reads `path` row by row: `each` is given the row's fields (the columns named in `columns`
/// found), the header and the row's line.
fn scan(
    path: &Path,
    columns: &[&str],
    mut each: impl FnMut(&Fields<'_>, &csv::ByteRecord, u64) -> Result<()>,
) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut reader = csv::Reader::from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let headers = reader
        .byte_headers()
        .map_err(|e| table_error(path, &e, 1, &csv::ByteRecord::new()))?
        .clone();
    // A table with no column at all (of a run without periods) has no row either.
    if headers.is_empty() {
        return Ok(());
    }
    let at = columns
        .iter()
        .map(|name| {
            headers
                .iter()
                .position(|h| h == name.as_bytes())
                .ok_or_else(|| Error::Table {
                    path: path.to_owned(),
                    line: 1,
                    reason: format!("no `{name}` column"),
                })
        })
        .collect::<Result<Vec<usize>>>()?;
    let mut record = csv::ByteRecord::new();
    // Line 1 is the header.
    let mut line = 1;
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| table_error(path, &e, line + 1, &headers))?
    {
        line += 1;
        let fields = Fields {
            record: &record,
            at: &at,
        };
        each(&fields, &headers, line)?;
    }
    Ok(())
}

/// Reads the rows of `path` that `keep` accepts.
fn read<T: DeserializeOwned>(path: &Path, keep: impl FnMut(&T) -> bool) -> Result<Vec<T>> {
    read_where(path, &[], |_| false, keep)
}

/// Reads the rows of `path` that `keep` accepts, passing over without reading them whole the
/// rows that `pass_over` says `keep` would refuse, from the text of their fields in `columns`.
/// A table is mostly rows the report leaves out: a look at one or two fields is much cheaper
/// than making each row's strings.
fn read_where<T: DeserializeOwned>(
    path: &Path,
    columns: &[&str],
    mut pass_over: impl FnMut(&Fields<'_>) -> bool,
    mut keep: impl FnMut(&T) -> bool,
) -> Result<Vec<T>> {
    let mut rows = Vec::new();
    scan(path, columns, |fields, headers, line| {
        if pass_over(fields) {
            return Ok(());
        }
        let row: T = fields
            .record
            .deserialize(Some(headers))
            .map_err(|e| table_error(path, &e, line, headers))?;
        if keep(&row) {
            rows.push(row);
        }
        Ok(())
    })?;
    Ok(rows)
}

/// Whether a `|`-separated list names an element of `set`.
pub(crate) fn names_any(list: Option<&str>, set: &HashSet<&str>) -> bool {
    list.is_some_and(|l| l.split('|').any(|r| set.contains(r)))
}

/// A table read on a thread of the pool, not yet looked at.
type Slot<T> = Option<Result<Vec<T>>>;

/// What a [`rayon::scope`] left in a slot it was to fill.
fn filled<T>(slot: Slot<T>) -> Result<Vec<T>> {
    slot.expect("the scope fills every slot before it returns")
}

/// Sorted by city, stably (the tables' order within a city is kept), so that a city's rows are
/// found by binary search, not by a scan per city.
fn by_city<T: Send>(rows: &mut [T], city: fn(&T) -> &str) {
    rows.par_sort_by(|a, b| city(a).cmp(city(b)));
}

/// Reads what every page may show from the run written under `dir`.
pub(crate) fn fleet(dir: &Path) -> Result<Fleet> {
    let periods: Vec<PeriodRow> = read(&table(dir, "dim_period")?, |_| true)?;
    let cities: Vec<CityRow> = read(&table(dir, "dim_city")?, |_| true)?;
    let region_periods: Vec<RegionPeriod> = read(&table(dir, "m_region_period")?, |_| true)?;
    let rejected_path = dir.join("rejected.csv");
    let mut rejected_total = 0;
    let rejected = if rejected_path.exists() {
        read(&rejected_path, |_: &Rejected| {
            rejected_total += 1;
            rejected_total <= REJECTED_SHOWN
        })?
    } else {
        Vec::new()
    };
    let summary_path = dir.join("run.json");
    let summary = match std::fs::read(&summary_path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Table {
            path: summary_path.clone(),
            line: e.line() as u64,
            reason: e.to_string(),
        })?,
        Err(_) => serde_json::Value::Null,
    };
    Ok(Fleet {
        periods,
        cities,
        region_periods,
        rejected,
        rejected_total,
        summary,
    })
}

/// Cities whose pages are made together, whole regions at a time.
#[derive(Debug)]
pub(crate) struct Group<'f> {
    /// The group's regions, sorted.
    pub(crate) regions: Vec<&'f str>,
    /// The group's cities.
    pub(crate) cities: Vec<&'f CityRow>,
}

/// Groups at most: the rows of each table are routed to a file per group.
const MAX_GROUPS: usize = 512;

/// The fleet's cities in groups of whole regions, regions in order, each group closed once it
/// has `cities` cities or more (more cities to a group when there would be more than
/// [`MAX_GROUPS`] groups).
pub(crate) fn groups(fleet: &Fleet, cities: usize) -> Vec<Group<'_>> {
    let target = cities.max(1).max(fleet.cities.len().div_ceil(MAX_GROUPS));
    let mut by_region: BTreeMap<&str, Vec<&CityRow>> = BTreeMap::new();
    for city in &fleet.cities {
        by_region.entry(&city.region).or_default().push(city);
    }
    let mut groups = Vec::new();
    let mut group = Group {
        regions: Vec::new(),
        cities: Vec::new(),
    };
    for (region, cities) in by_region {
        group.regions.push(region);
        group.cities.extend(cities);
        if group.cities.len() >= target {
            groups.push(std::mem::replace(
                &mut group,
                Group {
                    regions: Vec::new(),
                    cities: Vec::new(),
                },
            ));
        }
    }
    if !group.regions.is_empty() {
        groups.push(group);
    }
    groups
}

/// Bytes of a group's file held before they are appended to it.
const ROUTED_PENDING: usize = 32 << 10;

/// A group's file of a routed table, written by appending what is pending, so that no file
/// stays open however many groups there are.
struct Appender {
    path: PathBuf,
    pending: Vec<u8>,
}

impl Appender {
    fn append(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?
                .write_all(&self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }
}

impl Write for Appender {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= ROUTED_PENDING {
            self.append()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.append()
    }
}

/// The tables the pages read per city, of the run under `dir`, routed to a file per group of
/// cities in the folder `dir/report.rows/` (removed when dropped): a group's rows are then
/// read without reading the fleet's. Each routed row keeps the line it has in its table, so
/// that a row that cannot be read is named there.
pub(crate) struct Rows {
    folder: PathBuf,
    /// The tables, in the order of [`ROUTED`].
    tables: Vec<PathBuf>,
}

/// The tables routed.
const ROUTED: [&str; 8] = [
    "fact_risk_period",
    "fact_poam_item",
    "fact_finding",
    "m_city_overclaim_period",
    "m_system_period",
    "m_family_period",
    "m_city_period",
    "dim_system",
];

/// The column of a routed file that says the row's line in its table.
const LINE: &str = "table_line";

impl Drop for Rows {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

impl Rows {
    /// Routes the rows of the run under `dir` that the pages of `groups` may show: of the fact
    /// tables, those of the latest period, open risks and failed findings only. The tables are
    /// routed side by side, each on a thread of the pool.
    pub(crate) fn route(dir: &Path, fleet: &Fleet, groups: &[Group<'_>]) -> Result<Rows> {
        let tables = ROUTED
            .iter()
            .map(|name| table(dir, name))
            .collect::<Result<Vec<PathBuf>>>()?;
        let folder = dir.join("report.rows");
        if folder.exists() {
            std::fs::remove_dir_all(&folder).map_err(|source| Error::Rows {
                path: folder.clone(),
                source,
            })?;
        }
        std::fs::create_dir_all(&folder).map_err(|source| Error::Rows {
            path: folder.clone(),
            source,
        })?;
        let rows = Rows { folder, tables };
        let group_of: HashMap<&[u8], usize> = groups
            .iter()
            .enumerate()
            .flat_map(|(g, group)| group.cities.iter().map(move |c| (c.city.as_bytes(), g)))
            .collect();
        let latest_index = fleet.latest().map(|p| p.period_index);
        let latest_start = fleet.latest().map(|p| p.start.as_str());
        let not_latest_index = |i: Option<&str>| {
            i.and_then(|i| i.parse::<u32>().ok())
                .is_some_and(|i| Some(i) != latest_index)
        };
        // Dates are RFC 3339 in UTC, so text order is time order.
        let before_latest =
            |date: Option<&str>| date.is_some_and(|d| latest_start.is_none_or(|s| d < s));
        let mut outcomes: [Option<Result<()>>; ROUTED.len()] = Default::default();
        rayon::scope(|s| {
            for (k, outcome) in outcomes.iter_mut().enumerate() {
                let (rows, group_of) = (&rows, &group_of);
                let (not_latest_index, before_latest) = (&not_latest_index, &before_latest);
                s.spawn(move |_| {
                    *outcome = Some(match ROUTED[k] {
                        "fact_risk_period" => rows.route_table(
                            k,
                            &["open", "period_index"],
                            |f| f.text(0) == Some("false") || not_latest_index(f.text(1)),
                            group_of,
                        ),
                        "fact_poam_item" => {
                            rows.route_table(k, &["date"], |f| before_latest(f.text(0)), group_of)
                        }
                        "fact_finding" => rows.route_table(
                            k,
                            &["satisfied", "date"],
                            |f| f.text(0) == Some("true") || before_latest(f.text(1)),
                            group_of,
                        ),
                        "m_city_overclaim_period" => rows.route_table(
                            k,
                            &["period_index"],
                            |f| not_latest_index(f.text(0)),
                            group_of,
                        ),
                        _ => rows.route_table(k, &[], |_| false, group_of),
                    });
                });
            }
        });
        // The first error in the order the tables are named.
        for outcome in outcomes {
            outcome.expect("the scope routes every table")?;
        }
        Ok(rows)
    }

    /// The file of `group`'s rows of the `k`-th routed table.
    fn file(&self, k: usize, group: usize) -> PathBuf {
        self.folder.join(format!("{group}-{}.csv", ROUTED[k]))
    }

    /// Routes the rows of the `k`-th table that `pass_over` does not pass over to the files
    /// of their cities' groups.
    fn route_table(
        &self,
        k: usize,
        columns: &[&str],
        mut pass_over: impl FnMut(&Fields<'_>) -> bool,
        group_of: &HashMap<&[u8], usize>,
    ) -> Result<()> {
        let path = &self.tables[k];
        let mut columns = columns.to_vec();
        columns.push("city");
        let city = columns.len() - 1;
        let mut files: HashMap<usize, csv::Writer<Appender>> = HashMap::new();
        let mut routed = csv::ByteRecord::new();
        let failed = |source: csv::Error, group: usize| Error::Rows {
            path: self.file(k, group),
            source: source.into(),
        };
        scan(path, &columns, |fields, headers, line| {
            if pass_over(fields) {
                return Ok(());
            }
            let Some(&group) = group_of.get(fields.bytes(city)) else {
                return Err(Error::Table {
                    path: path.clone(),
                    line,
                    reason: format!(
                        "the city `{}` is not in dim_city",
                        String::from_utf8_lossy(fields.bytes(city))
                    ),
                });
            };
            let file = match files.entry(group) {
                std::collections::hash_map::Entry::Occupied(file) => file.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    let mut file = csv::WriterBuilder::new()
                        .buffer_capacity(4 << 10)
                        .from_writer(Appender {
                            path: self.file(k, group),
                            pending: Vec::new(),
                        });
                    routed.clear();
                    routed.push_field(LINE.as_bytes());
                    routed.extend(headers);
                    file.write_byte_record(&routed)
                        .map_err(|e| failed(e, group))?;
                    slot.insert(file)
                }
            };
            routed.clear();
            routed.push_field(line.to_string().as_bytes());
            routed.extend(fields.record);
            file.write_byte_record(&routed)
                .map_err(|e| failed(e, group))
        })?;
        for (group, mut file) in files {
            file.flush().map_err(|e| failed(e.into(), group))?;
        }
        Ok(())
    }

    /// Reads the rows of the `k`-th table routed to `group` that `keep` accepts (all that the
    /// routing let through, once their fields are checked whole), and removes their file; a
    /// row that cannot be read is named at its line in the table.
    fn read<T: DeserializeOwned>(
        &self,
        k: usize,
        group: usize,
        mut keep: impl FnMut(&T) -> bool,
    ) -> Result<Vec<T>> {
        let path = self.file(k, group);
        if !path.exists() {
            return Ok(Vec::new());
        }
        let mut rows = Vec::new();
        scan(&path, &[LINE], |fields, headers, _| {
            let row = fields.record.deserialize(Some(headers)).map_err(|e| {
                let line = fields.text(0).and_then(|l| l.parse().ok()).unwrap_or(0);
                let mut error = table_error(&self.tables[k], &e, line, headers);
                if let Error::Table { line: at, .. } = &mut error {
                    *at = line;
                }
                error
            })?;
            if keep(&row) {
                rows.push(row);
            }
            Ok(())
        })?;
        std::fs::remove_file(&path).map_err(|source| Error::Rows { path, source })?;
        Ok(rows)
    }

    /// The rows of the cities of the `index`-th of the groups the rows were routed to, each
    /// table read on a thread of the pool; POA&M items and findings are kept when they name a
    /// risk open in the group.
    pub(crate) fn group<'f>(
        &self,
        fleet: &'f Fleet,
        groups: &[Group<'f>],
        index: usize,
    ) -> Result<Run<'f>> {
        let mut open_risks: Slot<RiskPeriod> = None;
        let mut open_items: Slot<PoamItemRow> = None;
        let mut open_findings: Slot<FindingRow> = None;
        let mut overclaims: Slot<Overclaim> = None;
        let mut system_periods: Slot<SystemPeriod> = None;
        let mut families: Slot<FamilyPeriod> = None;
        let mut city_periods: Slot<CityPeriod> = None;
        let mut systems: Slot<SystemRow> = None;
        let latest = fleet.latest();
        let is_latest = |index: u32| latest.is_some_and(|p| p.period_index == index);
        let in_latest = |date: &str| latest.is_some_and(|p| date >= p.start.as_str());
        rayon::scope(|s| {
            s.spawn(|_| {
                open_risks = Some(self.read(0, index, |r: &RiskPeriod| {
                    r.open && is_latest(r.period_index)
                }))
            });
            s.spawn(|_| {
                open_items = Some(self.read(1, index, |r: &PoamItemRow| in_latest(&r.date)))
            });
            s.spawn(|_| {
                open_findings = Some(self.read(2, index, |r: &FindingRow| {
                    !r.satisfied && in_latest(&r.date)
                }))
            });
            s.spawn(|_| {
                overclaims = Some(self.read(3, index, |r: &Overclaim| is_latest(r.period_index)))
            });
            s.spawn(|_| system_periods = Some(self.read(4, index, |_| true)));
            s.spawn(|_| families = Some(self.read(5, index, |_| true)));
            s.spawn(|_| city_periods = Some(self.read(6, index, |_| true)));
            s.spawn(|_| systems = Some(self.read(7, index, |_| true)));
        });
        // The first error in the order the tables are routed.
        let (mut open_risks, mut open_items, mut open_findings) = (
            filled(open_risks)?,
            filled(open_items)?,
            filled(open_findings)?,
        );
        let (mut overclaims, mut system_periods, families, city_periods, systems) = (
            filled(overclaims)?,
            filled(system_periods)?,
            filled(families)?,
            filled(city_periods)?,
            filled(systems)?,
        );
        {
            let open: HashSet<&str> = open_risks.iter().map(|r| r.risk.as_str()).collect();
            rayon::join(
                || {
                    open_items.retain(|r| names_any(r.risks.as_deref(), &open));
                    by_city(&mut open_items, |r| &r.city);
                },
                || {
                    open_findings.retain(|r| names_any(r.risks.as_deref(), &open));
                    by_city(&mut open_findings, |r| &r.city);
                },
            );
        }
        rayon::join(
            || by_city(&mut open_risks, |r| &r.city),
            || {
                by_city(&mut overclaims, |r| &r.city);
                by_city(&mut system_periods, |r| &r.city);
            },
        );
        Ok(Run {
            fleet,
            names: groups[index]
                .cities
                .iter()
                .map(|c| (c.city.as_str(), c.city_name.as_str()))
                .collect(),
            systems: systems.into_iter().map(|s| (s.system, s.name)).collect(),
            city_periods,
            families,
            system_periods,
            overclaims,
            open_risks,
            open_items,
            open_findings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Row {
        name: String,
        open: bool,
        count: u32,
    }

    fn table(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn open_rows(path: &Path) -> Result<Vec<Row>> {
        read_where(
            path,
            &["open"],
            |f| f.text(0) == Some("false"),
            |r: &Row| r.open,
        )
    }

    #[test]
    fn rows_passed_over_are_not_read_and_the_rest_are_checked_whole() {
        // Line 3 has no number, but the row is passed over on its `open`.
        let (_dir, path) = table("name,open,count\na,true,1\nb,false,x\nc,true,3\n");
        let names: Vec<String> = open_rows(&path)
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["a", "c"]);

        // A row that is read is read whole: line 4's count is wrong, and so is line 3's `open`.
        for text in [
            "name,open,count\na,true,1\nb,false,2\nc,true,x\n",
            "name,open,count\na,true,1\nb,no,2\n",
        ] {
            let (_dir, path) = table(text);
            let err = open_rows(&path).unwrap_err().to_string();
            let line = if text.contains(",no,") { 3 } else { 4 };
            assert!(err.contains(&format!("t.csv:{line}: ")), "{err}");
        }
    }

    #[test]
    fn a_table_read_without_a_look_keeps_what_is_kept() {
        let (_dir, path) = table("name,open,count\na,true,1\nb,false,2\n");
        let rows: Vec<Row> = read(&path, |r: &Row| !r.open).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].name.as_str(), rows[0].count), ("b", 2));
    }

    fn fleet_of(regions: &[(&str, usize)]) -> Fleet {
        let cities = regions
            .iter()
            .flat_map(|(region, n)| {
                (0..*n).map(move |k| CityRow {
                    region: (*region).to_owned(),
                    city: format!("{region}-city-{k}"),
                    city_name: String::new(),
                })
            })
            .collect();
        Fleet {
            periods: Vec::new(),
            cities,
            region_periods: Vec::new(),
            rejected: Vec::new(),
            rejected_total: 0,
            summary: serde_json::Value::Null,
        }
    }

    #[test]
    fn groups_are_whole_regions_closed_once_they_have_enough_cities() {
        // Out of order, as dim_city may list them.
        let fleet = fleet_of(&[("r4", 2), ("r1", 3), ("r3", 4), ("r2", 1)]);
        let shape = |groups: &[Group<'_>]| -> Vec<(Vec<String>, usize)> {
            groups
                .iter()
                .map(|g| {
                    for city in &g.cities {
                        assert!(g.regions.contains(&city.region.as_str()));
                    }
                    let regions = g.regions.iter().map(|r| (*r).to_owned()).collect();
                    (regions, g.cities.len())
                })
                .collect()
        };
        let names = |r: &[&str]| r.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            shape(&groups(&fleet, 2)),
            [
                (names(&["r1"]), 3),
                (names(&["r2", "r3"]), 5),
                (names(&["r4"]), 2)
            ]
        );
        assert_eq!(
            shape(&groups(&fleet, 100)),
            [(names(&["r1", "r2", "r3", "r4"]), 10)]
        );
        // Never more than MAX_GROUPS groups: a region per city, a group of two regions.
        let regions: Vec<(String, usize)> = (0..MAX_GROUPS * 2)
            .map(|k| (format!("r{k:04}"), 1))
            .collect();
        let regions: Vec<(&str, usize)> = regions.iter().map(|(r, n)| (r.as_str(), *n)).collect();
        let fleet = fleet_of(&regions);
        let made = groups(&fleet, 1);
        assert_eq!(made.len(), MAX_GROUPS);
        assert!(made.iter().all(|g| g.cities.len() == 2));
        assert!(groups(&fleet_of(&[]), 50).is_empty());
    }

    #[test]
    fn an_empty_table_has_no_rows() {
        let (_dir, path) = table("");
        assert_eq!(open_rows(&path).unwrap(), []);
    }

    #[test]
    fn a_column_the_look_needs_must_be_there() {
        let (_dir, path) = table("name,closed,count\na,true,1\n");
        let err = open_rows(&path).unwrap_err().to_string();
        assert!(err.contains("no `open` column"), "{err}");
    }
}
