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

/// Computes every fact, dimension and metric table. The facts are dropped as soon as they are
/// in polars frames, before the metrics run.
pub fn compute(
    facts: mim6_ingest::Facts,
    baseline: &[BaselineControl],
    settings: &Settings,
) -> Result<Tables> {
    let inputs = input::build(&facts, baseline)?;
    let fact_tables = tables::fact_tables(&facts, &inputs, settings)?;
    drop(facts);
    let metrics = metrics::compute(&inputs, settings)?;
    tables::finish(fact_tables, metrics)
}
