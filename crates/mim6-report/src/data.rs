//! The tables of a run, read back from its CSV files into typed rows: only the columns the
//! report and the OSCAL outputs show, and of the large fact tables only the rows they need.

use std::collections::{BTreeMap, BTreeSet, HashSet};
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

/// What the report and the OSCAL outputs are made from.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) periods: Vec<PeriodRow>,
    pub(crate) cities: Vec<CityRow>,
    pub(crate) systems: BTreeMap<String, String>,
    pub(crate) city_periods: Vec<CityPeriod>,
    pub(crate) region_periods: Vec<RegionPeriod>,
    pub(crate) families: Vec<FamilyPeriod>,
    pub(crate) system_periods: Vec<SystemPeriod>,
    pub(crate) overclaims: Vec<Overclaim>,
    /// Risks open at the end of the latest period.
    pub(crate) open_risks: Vec<RiskPeriod>,
    /// Items of the latest period's POA&Ms that track a risk open at its end.
    pub(crate) open_items: Vec<PoamItemRow>,
    /// Failed findings of the latest period that name a risk open at its end.
    pub(crate) open_findings: Vec<FindingRow>,
    pub(crate) rejected: Vec<Rejected>,
    /// `run.json`.
    pub(crate) summary: serde_json::Value,
}

impl Run {
    /// The latest period, if any period was measured.
    pub(crate) fn latest(&self) -> Option<&PeriodRow> {
        self.periods.iter().max_by_key(|p| p.period_index)
    }

    /// The regions, sorted.
    pub(crate) fn regions(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self.cities.iter().map(|c| c.region.as_str()).collect();
        set.into_iter().collect()
    }

    /// The rows of `rows` (sorted by city, as [`load`] leaves them) that belong to `city`.
    pub(crate) fn of_city<'a, T>(rows: &'a [T], city: &str, key: fn(&T) -> &str) -> &'a [T] {
        let start = rows.partition_point(|r| key(r) < city);
        let end = start + rows[start..].partition_point(|r| key(r) == city);
        &rows[start..end]
    }

    /// A city's name, else its id.
    pub(crate) fn city_name<'a>(&'a self, city: &'a str) -> &'a str {
        self.cities
            .iter()
            .find(|c| c.city == city)
            .map_or(city, |c| c.city_name.as_str())
    }

    /// A system's name, else its uuid.
    pub(crate) fn system_name<'a>(&'a self, system: &'a str) -> &'a str {
        self.systems.get(system).map_or(system, String::as_str)
    }
}

fn table_path(dir: &Path, name: &str) -> PathBuf {
    dir.join("tables").join(format!("{name}.csv"))
}

/// Reads the rows of `path` that `keep` accepts.
fn read<T: DeserializeOwned>(path: &Path, keep: impl FnMut(&T) -> bool) -> Result<Vec<T>> {
    read_where(path, &[], |_| false, keep)
}

/// The text of a row's fields in the columns a [`read_where`] names, in the order named.
struct Fields<'r> {
    record: &'r csv::ByteRecord,
    at: &'r [usize],
}

impl Fields<'_> {
    /// The field of the `k`-th column named, as UTF-8 (`None` when it is not).
    fn text(&self, k: usize) -> Option<&str> {
        std::str::from_utf8(self.record.get(self.at[k]).unwrap_or_default()).ok()
    }
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
    let file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut reader = csv::Reader::from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let fail = |e: csv::Error, line: u64| Error::Table {
        path: path.to_owned(),
        line: e.position().map_or(line, |p| p.line()),
        reason: match e.kind() {
            csv::ErrorKind::Deserialize { err, .. } => err.to_string(),
            _ => e.to_string(),
        },
    };
    let headers = reader.byte_headers().map_err(|e| fail(e, 1))?.clone();
    // A table with no column at all (of a run without periods) has no row either.
    if headers.is_empty() {
        return Ok(Vec::new());
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
    let mut rows = Vec::new();
    // Line 1 is the header.
    let mut line = 1;
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| fail(e, line + 1))?
    {
        line += 1;
        if pass_over(&Fields {
            record: &record,
            at: &at,
        }) {
            continue;
        }
        let row: T = record
            .deserialize(Some(&headers))
            .map_err(|e| fail(e, line))?;
        if keep(&row) {
            rows.push(row);
        }
    }
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

/// Reads the tables of the run written under `dir`.
pub(crate) fn load(dir: &Path) -> Result<Run> {
    let table = |name: &str| {
        let path = table_path(dir, name);
        if path.exists() {
            Ok(path)
        } else {
            Err(Error::Missing { path })
        }
    };
    let periods: Vec<PeriodRow> = read(&table("dim_period")?, |_| true)?;
    let latest = periods.iter().map(|p| p.period_index).max();
    let is_latest = |index: u32| Some(index) == latest;
    let latest_start = periods
        .iter()
        .find(|p| is_latest(p.period_index))
        .map(|p| p.start.clone())
        .unwrap_or_default();
    // Dates are RFC 3339 in UTC, so text order is time order.
    let in_latest = |date: &str| !latest_start.is_empty() && date >= latest_start.as_str();
    let risk_path = table("fact_risk_period")?;
    let item_path = table("fact_poam_item")?;
    let finding_path = table("fact_finding")?;
    let overclaim_path = table("m_city_overclaim_period")?;
    let system_period_path = table("m_system_period")?;
    let family_path = table("m_family_period")?;
    let system_path = table("dim_system")?;
    let city_path = table("dim_city")?;
    let city_period_path = table("m_city_period")?;
    let region_period_path = table("m_region_period")?;
    let rejected_path = dir.join("rejected.csv");

    // Every table read side by side, each on a thread of the pool; of the three fact tables
    // (most of what is read) the POA&M items and findings are kept by date as they are read,
    // and by the open risks they name once all are. Rows of other periods, closed risks and
    // satisfied findings are passed over unread.
    let mut open_risks: Slot<RiskPeriod> = None;
    let mut open_items: Slot<PoamItemRow> = None;
    let mut open_findings: Slot<FindingRow> = None;
    let mut overclaims: Slot<Overclaim> = None;
    let mut system_periods: Slot<SystemPeriod> = None;
    let mut families: Slot<FamilyPeriod> = None;
    let mut systems: Slot<SystemRow> = None;
    let mut cities: Slot<CityRow> = None;
    let mut city_periods: Slot<CityPeriod> = None;
    let mut region_periods: Slot<RegionPeriod> = None;
    let mut rejected: Slot<Rejected> = None;
    rayon::scope(|s| {
        s.spawn(|_| {
            open_findings = Some(read_where(
                &finding_path,
                &["satisfied", "date"],
                |f| f.text(0) == Some("true") || f.text(1).is_some_and(|d| !in_latest(d)),
                |r: &FindingRow| !r.satisfied && in_latest(&r.date),
            ))
        });
        s.spawn(|_| {
            open_risks = Some(read_where(
                &risk_path,
                &["open", "period_index"],
                |f| {
                    f.text(0) == Some("false")
                        || f.text(1)
                            .and_then(|i| i.parse().ok())
                            .is_some_and(|i| !is_latest(i))
                },
                |r: &RiskPeriod| r.open && is_latest(r.period_index),
            ))
        });
        s.spawn(|_| {
            open_items = Some(read_where(
                &item_path,
                &["date"],
                |f| f.text(0).is_some_and(|d| !in_latest(d)),
                |r: &PoamItemRow| in_latest(&r.date),
            ))
        });
        s.spawn(|_| {
            overclaims = Some(read(&overclaim_path, |r: &Overclaim| {
                is_latest(r.period_index)
            }))
        });
        s.spawn(|_| system_periods = Some(read(&system_period_path, |_| true)));
        s.spawn(|_| families = Some(read(&family_path, |_| true)));
        s.spawn(|_| systems = Some(read(&system_path, |_| true)));
        s.spawn(|_| cities = Some(read(&city_path, |_| true)));
        s.spawn(|_| city_periods = Some(read(&city_period_path, |_| true)));
        s.spawn(|_| region_periods = Some(read(&region_period_path, |_| true)));
        s.spawn(|_| {
            rejected = Some(if rejected_path.exists() {
                read(&rejected_path, |_| true)
            } else {
                Ok(Vec::new())
            })
        });
    });
    // The first error in the order the tables are named above.
    let (mut open_risks, mut open_items, mut open_findings) = (
        filled(open_risks)?,
        filled(open_items)?,
        filled(open_findings)?,
    );
    let (mut overclaims, mut system_periods, families) = (
        filled(overclaims)?,
        filled(system_periods)?,
        filled(families)?,
    );
    let (systems, cities, city_periods, region_periods, rejected) = (
        filled(systems)?,
        filled(cities)?,
        filled(city_periods)?,
        filled(region_periods)?,
        filled(rejected)?,
    );
    let summary_path = dir.join("run.json");
    let summary = match std::fs::read(&summary_path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Table {
            path: summary_path.clone(),
            line: e.line() as u64,
            reason: e.to_string(),
        })?,
        Err(_) => serde_json::Value::Null,
    };
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
        cities,
        systems: systems.into_iter().map(|s| (s.system, s.name)).collect(),
        city_periods,
        region_periods,
        families,
        system_periods,
        overclaims,
        periods,
        open_risks,
        open_items,
        open_findings,
        rejected,
        summary,
    })
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
