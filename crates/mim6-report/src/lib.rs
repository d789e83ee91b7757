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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            top_risks: 20,
            target_level: 3,
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
    /// An output could not be written.
    #[error(transparent)]
    Write(#[from] oscal_io::Error),
}

/// A `Result` whose error is [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Writes `dir/report/` and `dir/oscal/` from the tables under `dir/tables/`, `dir/run.json`,
/// `dir/rejected.csv` and `dir/baseline.json`.
pub fn write(dir: &Path, options: &Options) -> Result<Written> {
    let run = data::load(dir)?;

    // Pages and documents are made and written side by side; each is a file of its own.
    let staged = StagedDir::new(&dir.join("report"))?;
    let put = |name: &str, html: String| -> Result<()> { Ok(staged.put(name, html.as_bytes())?) };
    let regions = run.regions();
    put("index.html", pages::index(&run))?;
    regions.par_iter().try_for_each(|region| {
        put(
            &pages::region_file(region),
            pages::region(&run, region, options.top_risks),
        )
    })?;
    run.cities.par_iter().try_for_each(|city| {
        put(
            &pages::city_file(&city.region, &city.city),
            pages::city(
                &run,
                &city.region,
                &city.city,
                options.top_risks,
                options.target_level,
            ),
        )
    })?;
    let pages = 1 + regions.len() + run.cities.len();
    let report = staged.commit()?;

    let staged = StagedDir::new(&dir.join("oscal"))?;
    let put = |name: String, document: &oscal_model::Document| -> Result<usize> {
        let bytes = oscal_io::write_document(document, Format::Json)?;
        staged.put(&name, &bytes)?;
        Ok(1)
    };
    let region_documents = regions
        .par_iter()
        .map(|region| match oscal::region_results(&run, region) {
            Some(document) => put(
                format!("assessment-results-{}.json", pages::segment(region)),
                &document,
            ),
            None => Ok(0),
        })
        .try_reduce(|| 0, |a, b| Ok(a + b))?;
    let city_documents = run
        .cities
        .par_iter()
        .map(
            |city| match oscal::city_poam(&run, &city.region, &city.city) {
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
    let mut documents = region_documents + city_documents;
    let baseline = dir.join("baseline.json");
    if baseline.exists() {
        let bytes = std::fs::read(&baseline).map_err(|source| Error::Read {
            path: baseline.clone(),
            source,
        })?;
        staged.put("baseline-catalog.json", &bytes)?;
        documents += 1;
    }
    let oscal = staged.commit()?;
    Ok(Written {
        report,
        pages,
        oscal,
        documents,
    })
}
