//! What a run hands to people and to other tools, made from the tables the run wrote (one
//! source of truth: every number shown is a value of a table):
//!
//! - `report/`: a static HTML report, one self-contained page per region and per city and an
//!   index (inline CSS and SVG charts, no script, nothing fetched at view time);
//! - `oscal/`: per city a consolidated plan of action and milestones of what is open, per
//!   region assessment results that summarise each city's periods, and the resolved baseline.
//!
//! Both folders are staged and swapped in whole. The tables are read from their CSV files.
//!
//! ```no_run
//! let written = mim6_report::write(std::path::Path::new("out/example"), &mim6_report::Options::default())?;
//! println!("{} pages in {}", written.pages, written.report.display());
//! # Ok::<(), mim6_report::Error>(())
//! ```
#![deny(missing_docs)]

mod data;
mod html;
mod oscal;
mod pages;
mod svg;

use std::path::{Path, PathBuf};

use oscal_io::{Format, StagedDir};
use rayon::prelude::*;

/// What the report shows.
#[derive(Debug, Clone)]
pub struct Options {
    /// Open risks listed per page, most urgent first.
    pub top_risks: usize,
    /// The maturity level every control family should attain; families below it are listed.
    pub target_level: u8,
    /// Cities whose pages and documents are made together, whole regions at a time; fewer use
    /// less memory, the outputs are the same.
    pub group_cities: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            top_risks: 20,
            target_level: 3,
            group_cities: 50,
        }
    }
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    /// The report folder.
    pub report: PathBuf,
    /// HTML pages in it.
    pub pages: usize,
    /// The OSCAL folder.
    pub oscal: PathBuf,
    /// OSCAL documents in it.
    pub documents: usize,
}

/// Why the report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A table the report needs is not there.
    #[error(
        "{}: no such table; the report reads the run's CSV tables (output formats must include csv)",
        path.display()
    )]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// A table could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A table has a row the report cannot read.
    #[error("{}:{line}: {reason}", path.display())]
    Table {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// The rows of a group of cities could not be set aside or read back.
    #[error("{}: {source}", path.display())]
    Rows {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An output could not be written.
    #[error(transparent)]
    Write(#[from] oscal_io::Error),
}

/// A `Result` whose error is [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Writes `dir/report/` and `dir/oscal/` from the tables under `dir/tables/`, `dir/run.json`,
/// `dir/rejected.csv` and `dir/baseline.json`.
///
/// The pages and documents are made a group of cities at a time (whole regions, at least
/// [`Options::group_cities`] cities): the rows of each group are first set aside, in one pass
/// over the tables, in `dir/report.rows/`, then read a group at a time, the next group's while
/// the pages of one are made. Memory holds two groups' rows, not the fleet's.
pub fn write(dir: &Path, options: &Options) -> Result<Written> {
    let fleet = data::fleet(dir)?;
    let groups = data::groups(&fleet, options.group_cities);
    let rows = data::Rows::route(dir, &fleet, &groups)?;

    let report = StagedDir::new(&dir.join("report"))?;
    let oscal = StagedDir::new(&dir.join("oscal"))?;
    report.put("index.html", pages::index(&fleet).as_bytes())?;
    let mut documents = 0;
    let mut next = (!groups.is_empty()).then(|| rows.group(&fleet, &groups, 0));
    for (index, group) in groups.iter().enumerate() {
        let run = next
            .take()
            .expect("each group is read before its pages are made")?;
        let (made, read) = rayon::join(
            || make(&run, group, &report, &oscal, options),
            || (index + 1 < groups.len()).then(|| rows.group(&fleet, &groups, index + 1)),
        );
        documents += made?;
        next = read;
    }
    drop(rows);

    let baseline = dir.join("baseline.json");
    if baseline.exists() {
        let bytes = std::fs::read(&baseline).map_err(|source| Error::Read {
            path: baseline.clone(),
            source,
        })?;
        oscal.put("baseline-catalog.json", &bytes)?;
        documents += 1;
    }
    let pages = 1 + fleet.regions().len() + fleet.cities.len();
    Ok(Written {
        report: report.commit()?,
        pages,
        oscal: oscal.commit()?,
        documents,
    })
}

/// Makes the pages and OSCAL documents of `group` side by side, each a file of its own; the
/// OSCAL documents made.
fn make(
    run: &data::Run<'_>,
    group: &data::Group<'_>,
    report: &StagedDir,
    oscal: &StagedDir,
    options: &Options,
) -> Result<usize> {
    let page = |name: &str, html: String| -> Result<()> { Ok(report.put(name, html.as_bytes())?) };
    group.regions.par_iter().try_for_each(|region| {
        page(
            &pages::region_file(region),
            pages::region(run, region, options.top_risks),
        )
    })?;
    group.cities.par_iter().try_for_each(|city| {
        page(
            &pages::city_file(&city.region, &city.city),
            pages::city(
                run,
                &city.region,
                &city.city,
                options.top_risks,
                options.target_level,
            ),
        )
    })?;

    let put = |name: String, document: &oscal_model::Document| -> Result<usize> {
        let bytes = oscal_io::write_document(document, Format::Json)?;
        oscal.put(&name, &bytes)?;
        Ok(1)
    };
    let region_documents = group
        .regions
        .par_iter()
        .map(|region| match oscal::region_results(run, region) {
            Some(document) => put(
                format!("assessment-results-{}.json", pages::segment(region)),
                &document,
            ),
            None => Ok(0),
        })
        .try_reduce(|| 0, |a, b| Ok(a + b))?;
    let city_documents = group
        .cities
        .par_iter()
        .map(
            |city| match oscal::city_poam(run, &city.region, &city.city) {
                Some(document) => put(
                    format!(
                        "poam-{}-{}.json",
                        pages::segment(&city.region),
                        pages::segment(&city.city)
                    ),
                    &document,
                ),
                None => Ok(0),
            },
        )
        .try_reduce(|| 0, |a, b| Ok(a + b))?;
    Ok(region_documents + city_documents)
}
