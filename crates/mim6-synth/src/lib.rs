//! A seeded generator of city fleets: the OSCAL documents that the cities of several regions
//! send to their regional body.
//!
//! A [`FleetSpec`] says how many cities, systems per city and periods; the seed makes it
//! reproducible: the same spec gives byte-identical files, with uuids derived from the seed.
//! The generating model (how cities differ in maturity, how systems inherit from their city's
//! shared platform) is described in this crate's README so that metric tests can state what
//! they expect. Generation is parallel over systems and writes as it goes, so memory stays flat
//! in the size of the fleet.
//!
//! This version generates the system security plans (one per system against the baseline, and
//! one for each city's shared platform, whose exported controls the systems inherit through a
//! leveraged authorization) and, per period, each system's assessment plan and results
//! (findings backed by observations, risks for what failed).
#![deny(missing_docs)]

mod assessment;
mod fleet;
mod ssp;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use fleet::{City, Fleet, Maturity, System, Trend};

/// What to generate.
#[derive(Debug, Clone)]
pub struct FleetSpec {
    /// Number of cities.
    pub cities: usize,
    /// Systems per city, besides the city's shared platform.
    pub systems_per_city: usize,
    /// Assessment periods (quarters).
    pub periods: usize,
    /// The seed; everything generated follows from it.
    pub seed: u64,
}

/// A control of the baseline the fleet implements: its id and the ids of its statement parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineControl {
    /// The control id (`ac-2`).
    pub id: String,
    /// Ids of the control's statement items (`ac-2_smt.a`), for statement-level claims.
    pub statements: Vec<String>,
}

/// The baseline the fleet's plans are written against.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Where the SSPs say their profile is (`import-profile/@href`).
    pub href: String,
    /// The controls, in catalog order.
    pub controls: Vec<BaselineControl>,
}

impl Baseline {
    /// The baseline of a resolved catalog.
    pub fn from_catalog(href: impl Into<String>, catalog: &oscal_model::Catalog) -> Baseline {
        fn statements(parts: &[oscal_model::Part], out: &mut Vec<String>) {
            for part in parts {
                if part.name == "item"
                    && let Some(id) = &part.id
                {
                    out.push(id.clone());
                }
                statements(part.parts.as_deref().unwrap_or(&[]), out);
            }
        }
        fn walk(controls: &[oscal_model::Control], out: &mut Vec<BaselineControl>) {
            for control in controls {
                let mut ids = Vec::new();
                for part in control
                    .parts
                    .iter()
                    .flatten()
                    .filter(|p| p.name == "statement")
                {
                    statements(part.parts.as_deref().unwrap_or(&[]), &mut ids);
                }
                out.push(BaselineControl {
                    id: control.id.clone(),
                    statements: ids,
                });
                walk(control.controls.as_deref().unwrap_or(&[]), out);
            }
        }
        fn walk_groups(list: &[oscal_model::CatalogGroup], out: &mut Vec<BaselineControl>) {
            for group in list {
                walk(group.controls.as_deref().unwrap_or(&[]), out);
                walk_groups(group.groups.as_deref().unwrap_or(&[]), out);
            }
        }
        let mut controls = Vec::new();
        walk(catalog.controls.as_deref().unwrap_or(&[]), &mut controls);
        walk_groups(catalog.groups.as_deref().unwrap_or(&[]), &mut controls);
        Baseline {
            href: href.into(),
            controls,
        }
    }
}

/// Why a fleet could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be written.
    #[error(transparent)]
    Write(#[from] oscal_io::Error),
    /// A folder could not be created.
    #[error("{}: cannot create the folder: {source}", path.display())]
    Folder {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A `Result` whose error is [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Documents written.
    pub documents: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Generates the fleet of `spec` against `baseline` and writes it under `out`, one folder per
/// region, city and system: `out/REGION/CITY/SYSTEM/ssp.json`, and per period `ap-P.json` and
/// `ar-P.json` beside it; the city platform's plan is `out/REGION/CITY/platform/ssp.json`.
pub fn generate(spec: &FleetSpec, baseline: &Baseline, out: &Path) -> Result<Summary> {
    let fleet = Fleet::plan(spec);
    let jobs: Vec<(&City, Option<&System>)> = fleet
        .cities
        .iter()
        .flat_map(|city| {
            std::iter::once((city, None)).chain(city.systems.iter().map(move |s| (city, Some(s))))
        })
        .collect();
    let written: Vec<Result<Summary>> = jobs
        .par_iter()
        .map(|(city, system)| {
            let folder = match system {
                None => city.folder(out).join("platform"),
                Some(system) => city.folder(out).join(&system.slug),
            };
            std::fs::create_dir_all(&folder).map_err(|source| Error::Folder {
                path: folder.clone(),
                source,
            })?;
            let mut summary = Summary::default();
            let mut write = |name: &str, document: &oscal_model::Document| -> Result<()> {
                let bytes = oscal_io::json::to_vec(document)?;
                oscal_io::write_atomic(&folder.join(name), &bytes)?;
                summary.documents += 1;
                summary.bytes += bytes.len() as u64;
                Ok(())
            };
            match system {
                None => write("ssp.json", &ssp::platform(&fleet, city, baseline))?,
                Some(system) => {
                    write("ssp.json", &ssp::system(&fleet, city, system, baseline))?;
                    for period in 1..=spec.periods {
                        let plan = assessment::plan(&fleet, city, system, period);
                        write(&format!("ap-{period}.json"), &plan)?;
                        let results = assessment::results(&fleet, city, system, baseline, period);
                        write(&format!("ar-{period}.json"), &results)?;
                    }
                }
            }
            Ok(summary)
        })
        .collect();
    let mut summary = Summary::default();
    for result in written {
        let part = result?;
        summary.bytes += part.bytes;
        summary.documents += part.documents;
    }
    Ok(summary)
}
