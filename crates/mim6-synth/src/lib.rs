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
//! It generates the system security plans (one per system against the baseline, and one for
//! each city's shared platform, whose exported controls the systems inherit through a leveraged
//! authorization) and, per period, each system's assessment plan, assessment results (findings
//! backed by observations, the risks alive in the period) and POA&M (the risks being tracked),
//! in JSON, XML or a mix, optionally with a fraction of deliberately broken documents.
#![deny(missing_docs)]

mod assessment;
mod faults;
mod fleet;
mod history;
mod ssp;

use std::path::{Path, PathBuf};

use oscal_io::Format;
use oscal_model::Document;
use rand::RngExt;
use rayon::prelude::*;

pub use faults::Fault;
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

/// How the fleet's documents are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// Every document in JSON.
    #[default]
    Json,
    /// Every document in XML.
    Xml,
    /// About a third of the cities write XML, the others JSON (each city uses one tool).
    Mixed,
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Documents written.
    pub documents: usize,
    /// Bytes written.
    pub bytes: u64,
    /// The documents broken on purpose: path relative to the output folder, and how.
    pub faults: Vec<(String, Fault)>,
}

/// Options of [`generate`] besides the fleet's shape.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// The formats of the documents.
    pub format: OutputFormat,
    /// The fraction (0–1) of assessment results and POA&Ms broken on purpose.
    pub faults: f64,
}

/// Generates the fleet of `spec` against `baseline` and writes it under `out`, one folder per
/// region, city and system: `out/REGION/CITY/SYSTEM/ssp.json`, and per period `ap-P.json`,
/// `ar-P.json` and, when the system has risks to track, `poam-P.json` beside it; the city
/// platform's plan is `out/REGION/CITY/platform/ssp.json` (`.xml` for cities writing XML).
/// With faults, `out/faults.csv` lists the broken documents.
pub fn generate(
    spec: &FleetSpec,
    baseline: &Baseline,
    options: &WriteOptions,
    out: &Path,
) -> Result<Summary> {
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
        .map(|(city, system)| write_system(&fleet, baseline, options, out, city, *system))
        .collect();
    let mut summary = Summary::default();
    for result in written {
        let part = result?;
        summary.bytes += part.bytes;
        summary.documents += part.documents;
        summary.faults.extend(part.faults);
    }
    summary.faults.sort();
    if !summary.faults.is_empty() {
        let mut csv = String::from("path,fault\n");
        for (path, fault) in &summary.faults {
            csv.push_str(&format!("{path},{}\n", fault.name()));
        }
        oscal_io::write_atomic(&out.join("faults.csv"), csv.as_bytes())?;
    }
    Ok(summary)
}

/// Writes the documents of one system (or, for `None`, of the city's platform).
fn write_system(
    fleet: &Fleet,
    baseline: &Baseline,
    options: &WriteOptions,
    out: &Path,
    city: &City,
    system: Option<&System>,
) -> Result<Summary> {
    let format = match options.format {
        OutputFormat::Json => Format::Json,
        OutputFormat::Xml => Format::Xml,
        OutputFormat::Mixed => {
            if fleet
                .rng(&format!("{}/format", city.id))
                .random_bool(1.0 / 3.0)
            {
                Format::Xml
            } else {
                Format::Json
            }
        }
    };
    let ext = format.extension();
    let slug = system.map_or("platform", |s| s.slug.as_str());
    let folder = city.folder(out).join(slug);
    std::fs::create_dir_all(&folder).map_err(|source| Error::Folder {
        path: folder.clone(),
        source,
    })?;
    let mut summary = Summary::default();
    let mut write = |stem: &str, mut document: Document, faulty: bool| -> Result<()> {
        let name = format!("{stem}.{ext}");
        let fault = faulty
            .then(|| {
                let mut rng = fleet.rng(&format!("{}/{slug}/{name}/fault", city.id));
                (rng.random_bool(options.faults))
                    .then(|| Fault::ALL[rng.random_range(0..Fault::ALL.len())])
            })
            .flatten();
        if let Some(fault) = fault {
            faults::corrupt_document(&mut document, fault);
        }
        let mut bytes = oscal_io::write_document(&document, format)?;
        if let Some(fault) = fault {
            bytes = faults::corrupt_bytes(bytes, fault);
            let relative = format!("{}/{}/{slug}/{name}", city.region, city.id);
            summary.faults.push((relative, fault));
        }
        oscal_io::write_atomic(&folder.join(&name), &bytes)?;
        summary.documents += 1;
        summary.bytes += bytes.len() as u64;
        Ok(())
    };
    let Some(system) = system else {
        write("ssp", ssp::platform(fleet, city, baseline), false)?;
        return Ok(summary);
    };
    let claims = ssp::claims(fleet, city, system, baseline);
    let history = history::draw(fleet, city, system, baseline, &claims);
    write(
        "ssp",
        ssp::system(fleet, city, system, baseline, &claims, ext),
        false,
    )?;
    let cx = assessment::Context {
        fleet,
        city,
        system,
        baseline,
        history: &history,
        ext,
    };
    let faulty = options.faults > 0.0;
    for period in 1..=fleet.periods {
        write(
            &format!("ap-{period}"),
            assessment::plan(&cx, period),
            false,
        )?;
        write(
            &format!("ar-{period}"),
            assessment::results(&cx, period),
            faulty,
        )?;
        if let Some(poam) = assessment::poam(&cx, period) {
            write(&format!("poam-{period}"), poam, faulty)?;
        }
    }
    Ok(summary)
}
