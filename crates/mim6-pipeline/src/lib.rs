//! Pipeline files (`pipelines/*.toml`): what a run reads, how it computes, where it writes.
//!
//! The schema is documented in `pipelines/README.md`. [`Pipeline::load`] reads a file;
//! [`Pipeline::parse`] checks text the same way without touching the file system. Relative
//! paths are made relative to the pipeline file's folder. Values a file leaves out that belong
//! to another part of mim6 (the risk matrix, the report's options) stay `None` here, for that
//! part to fill in with its own defaults.
#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why a pipeline file cannot be used. Each error names the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("{}: cannot read the pipeline file: {source}", path.display())]
    Read {
        /// The pipeline file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or not a pipeline (unknown keys, wrong types); the message
    /// gives the line, the column and the key.
    #[error("{}: {message}", path.display())]
    Syntax {
        /// The pipeline file.
        path: PathBuf,
        /// What the TOML reader found.
        message: String,
    },
    /// A value is out of its range or names something unknown.
    #[error("{}: {key}: {message}", path.display())]
    Invalid {
        /// The pipeline file.
        path: PathBuf,
        /// The key, dotted (`periods.length`).
        key: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// A pipeline file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Pipeline {
    /// The baseline the systems are measured against.
    pub baseline: BaselineSection,
    /// The documents to ingest.
    #[serde(default)]
    pub inputs: InputsSection,
    /// How documents map to cities and regions.
    #[serde(default)]
    pub attribution: AttributionSection,
    /// Periods and freshness.
    #[serde(default)]
    pub periods: PeriodsSection,
    /// Risk levels.
    #[serde(default)]
    pub risk: RiskSection,
    /// Hosts that may be fetched from.
    #[serde(default)]
    pub remote: RemoteSection,
    /// Where the outputs go.
    pub output: OutputSection,
    /// What the HTML report shows.
    #[serde(default)]
    pub report: ReportSection,
    /// How much of a run is held in memory.
    #[serde(default)]
    pub memory: MemorySection,
}

/// `[baseline]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BaselineSection {
    /// The baseline profile (or an already resolved catalog): path or URL.
    pub profile: String,
    /// Hrefs starting with a key are read from the value instead (the longest key wins).
    #[serde(default)]
    pub href_map: BTreeMap<String, String>,
    /// The folder the profile's local imports must lie in (default: the profile's folder);
    /// the href map's targets are trusted wherever they are.
    #[serde(default)]
    pub import_root: Option<PathBuf>,
}

/// `[inputs]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct InputsSection {
    /// Folders (searched recursively), files and glob patterns.
    #[serde(default)]
    pub folders: Vec<PathBuf>,
    /// Documents fetched over http(s) from allowed hosts (`remote.allow-hosts`) into
    /// `OUTPUT/remote/HOST/PATH` and ingested from there.
    #[serde(default)]
    pub urls: Vec<String>,
    /// A fleet generated at the start of the run into `OUTPUT/fleet` and ingested.
    #[serde(default)]
    pub synth: Option<SynthSection>,
    /// The largest document read, in bytes.
    #[serde(default)]
    pub max_bytes: Option<u64>,
}

/// `[inputs.synth]`: a generated fleet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SynthSection {
    /// Cities in the fleet.
    pub cities: usize,
    /// Systems per city.
    pub systems_per_city: usize,
    /// Assessment periods.
    pub periods: usize,
    /// The generator's seed.
    pub seed: u64,
    /// The share of documents made faulty, 0 to 1.
    #[serde(default)]
    pub faults: f64,
}

/// `[attribution]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AttributionSection {
    /// `{region}/{city}/**`: used when a document has no city and region props.
    pub path_pattern: String,
}

impl Default for AttributionSection {
    fn default() -> Self {
        AttributionSection {
            path_pattern: "{region}/{city}/**".into(),
        }
    }
}

/// `[periods]`; a table given in part takes the defaults for the rest.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct PeriodsSection {
    /// `month`, `quarter` or `year`.
    pub length: String,
    /// Freshness window T in days.
    pub freshness_days: i64,
    /// The first period's first day (default: the earliest document's period).
    pub first: Option<String>,
    /// The last period's last day (default: the latest document's period).
    pub last: Option<String>,
}

impl Default for PeriodsSection {
    fn default() -> Self {
        PeriodsSection {
            length: "quarter".into(),
            freshness_days: 365,
            first: None,
            last: None,
        }
    }
}

/// `[risk]`; what is left out takes the metrics' defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct RiskSection {
    /// Risk level (1–5) per likelihood (rows) and impact (columns).
    pub matrix: Option<[[u8; 5]; 5]>,
    /// Score of each level, very low … very high.
    pub scores: Option<[f64; 5]>,
}

/// `[remote]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RemoteSection {
    /// Hosts allowed over https.
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    /// Never use the network (remote hrefs come from the cache or fail).
    #[serde(default)]
    pub offline: bool,
}

/// `[output]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OutputSection {
    /// The output folder.
    pub folder: PathBuf,
    /// `parquet`, `csv`.
    #[serde(default = "default_formats")]
    pub formats: Vec<String>,
}

/// `[report]`; what is left out takes the report's defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReportSection {
    /// Open risks listed per page, most urgent first.
    pub top_risks: Option<usize>,
    /// The maturity level (0–5) every control family should attain.
    pub target_level: Option<u8>,
}

/// `[memory]`; what is left out takes the metrics' defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct MemorySection {
    /// Cities whose metrics are computed together.
    pub shard_cities: Option<usize>,
    /// Packed fact rows held in memory before they are spilled to the output folder.
    pub spill_rows: Option<usize>,
}

fn default_formats() -> Vec<String> {
    vec!["parquet".into(), "csv".into()]
}

impl Pipeline {
    /// Reads and checks a pipeline file; relative paths are made relative to its folder.
    pub fn load(path: &Path) -> Result<Pipeline, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        let base = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        Pipeline::parse(&text, path, base)
    }

    /// Checks the text of the pipeline file `path`; relative paths are made relative to
    /// `base`. Reads nothing.
    pub fn parse(text: &str, path: &Path, base: &Path) -> Result<Pipeline, Error> {
        let mut pipeline: Pipeline = toml::from_str(text).map_err(|e| Error::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let invalid = |key: &'static str, message: String| Error::Invalid {
            path: path.to_owned(),
            key,
            message,
        };
        let rel = |p: &Path| -> PathBuf {
            if p.is_absolute() {
                p.to_owned()
            } else {
                base.join(p)
            }
        };
        if !is_url(&pipeline.baseline.profile) {
            pipeline.baseline.profile = rel(Path::new(&pipeline.baseline.profile))
                .to_string_lossy()
                .into_owned();
        }
        for to in pipeline.baseline.href_map.values_mut() {
            if !is_url(to) {
                *to = rel(Path::new(to.as_str())).to_string_lossy().into_owned();
            }
        }
        pipeline.baseline.import_root = pipeline.baseline.import_root.as_deref().map(rel);
        pipeline.inputs.folders = pipeline.inputs.folders.iter().map(|f| rel(f)).collect();
        pipeline.output.folder = rel(&pipeline.output.folder);
        for format in &pipeline.output.formats {
            if !matches!(format.as_str(), "parquet" | "csv") {
                return Err(invalid(
                    "output.formats",
                    format!("`{format}` is not parquet or csv"),
                ));
            }
        }
        if pipeline.report.target_level.is_some_and(|level| level > 5) {
            return Err(invalid(
                "report.target-level",
                "must be a maturity level, 0 to 5".into(),
            ));
        }
        if pipeline.inputs.folders.is_empty()
            && pipeline.inputs.urls.is_empty()
            && pipeline.inputs.synth.is_none()
        {
            return Err(invalid(
                "inputs",
                "names no folders, no URLs and no synth fleet".into(),
            ));
        }
        if let Some(url) = pipeline.inputs.urls.iter().find(|url| !is_url(url)) {
            return Err(invalid(
                "inputs.urls",
                format!("`{url}` is not an http(s) URL"),
            ));
        }
        if !matches!(
            pipeline.periods.length.as_str(),
            "month" | "quarter" | "year"
        ) {
            return Err(invalid(
                "periods.length",
                format!(
                    "`{}` is not month, quarter or year",
                    pipeline.periods.length
                ),
            ));
        }
        if pipeline.periods.freshness_days < 1 {
            return Err(invalid(
                "periods.freshness-days",
                "must be at least 1".into(),
            ));
        }
        if let Some(synth) = &pipeline.inputs.synth
            && !(0.0..=1.0).contains(&synth.faults)
        {
            return Err(invalid(
                "inputs.synth.faults",
                "must be between 0 and 1".into(),
            ));
        }
        if pipeline.memory.shard_cities == Some(0) {
            return Err(invalid("memory.shard-cities", "must be at least 1".into()));
        }
        if let Some(matrix) = &pipeline.risk.matrix
            && matrix
                .iter()
                .flatten()
                .any(|level| !(1..=5).contains(level))
        {
            return Err(invalid(
                "risk.matrix",
                "every cell must be a risk level, 1 to 5".into(),
            ));
        }
        if let Some(scores) = &pipeline.risk.scores
            && scores
                .iter()
                .any(|score| !score.is_finite() || *score < 0.0)
        {
            return Err(invalid(
                "risk.scores",
                "every score must be a finite number, 0 or more".into(),
            ));
        }
        Ok(pipeline)
    }
}

fn is_url(text: &str) -> bool {
    text.starts_with("https://") || text.starts_with("http://")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Pipeline, Error> {
        Pipeline::parse(text, Path::new("p.toml"), Path::new("/base"))
    }

    const MINIMAL: &str = "[baseline]\nprofile = \"b.json\"\n[inputs]\nfolders = [\"in\"]\n[output]\nfolder = \"out\"\n";

    #[test]
    fn paths_are_made_relative_to_the_file_and_defaults_fill_in() {
        let pipeline = parse(MINIMAL).unwrap();
        assert_eq!(pipeline.inputs.folders, [PathBuf::from("/base/in")]);
        assert_eq!(pipeline.baseline.profile, "/base/b.json");
        assert_eq!(pipeline.output.folder, PathBuf::from("/base/out"));
        assert_eq!(pipeline.periods.freshness_days, 365);
        assert_eq!(pipeline.risk.matrix, None);
        let partial = format!("{MINIMAL}[periods]\nfreshness-days = 90\n");
        let pipeline = parse(&partial).unwrap();
        assert_eq!(
            pipeline.periods.length, "quarter",
            "the default for what is left out"
        );
        assert_eq!(pipeline.periods.freshness_days, 90);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_the_file_and_key_named() {
        for (extra, expected) in [
            ("bogus = 1\n", "unknown field `bogus`"),
            (
                "[periods]\nlength = \"week\"\n",
                "p.toml: periods.length: `week` is not month",
            ),
            (
                "[risk]\nscores = [0.0, 1.0, 2.0, 3.0, nan]\n",
                "p.toml: risk.scores",
            ),
            (
                "[risk]\nmatrix = [[1,1,1,1,1],[1,1,1,1,1],[1,1,9,1,1],[1,1,1,1,1],[1,1,1,1,1]]\n",
                "p.toml: risk.matrix",
            ),
            (
                "[report]\ntarget-level = 6\n",
                "p.toml: report.target-level",
            ),
        ] {
            let err = parse(&format!("{MINIMAL}{extra}")).unwrap_err().to_string();
            assert!(err.contains(expected), "{extra}: {err}");
            assert!(err.starts_with("p.toml: "), "{err}");
        }
        let err = parse("[baseline]\nprofile = \"b.json\"\n[output]\nfolder = \"out\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("inputs: names no folders"), "{err}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.toml");
        let err = Pipeline::load(&missing).unwrap_err().to_string();
        assert!(err.contains("none.toml: cannot read"), "{err}");
    }
}
