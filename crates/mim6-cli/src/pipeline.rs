//! Pipeline files (`pipelines/*.toml`): what a run reads, how it computes, where it writes.
//! The schema is documented in `pipelines/README.md`; relative paths are relative to the
//! pipeline file's folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// A pipeline file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Pipeline {
    /// The baseline the systems are measured against.
    pub(crate) baseline: BaselineSection,
    /// The documents to ingest.
    #[serde(default)]
    pub(crate) inputs: InputsSection,
    /// How documents map to cities and regions.
    #[serde(default)]
    pub(crate) attribution: AttributionSection,
    /// Periods and freshness.
    #[serde(default)]
    pub(crate) periods: PeriodsSection,
    /// Risk levels.
    #[serde(default)]
    pub(crate) risk: RiskSection,
    /// Hosts that may be fetched from.
    #[serde(default)]
    pub(crate) remote: RemoteSection,
    /// Where the outputs go.
    pub(crate) output: OutputSection,
    /// What the HTML report shows.
    #[serde(default)]
    pub(crate) report: ReportSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct BaselineSection {
    /// The baseline profile (or an already resolved catalog): path or URL.
    pub(crate) profile: String,
    /// Hrefs starting with a key are read from the value instead (the longest key wins).
    #[serde(default)]
    pub(crate) href_map: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct InputsSection {
    /// Folders (searched recursively), files and glob patterns.
    #[serde(default)]
    pub(crate) folders: Vec<PathBuf>,
    /// Documents fetched over http(s) from allowed hosts (`remote.allow-hosts`) into
    /// `OUTPUT/remote/HOST/PATH` and ingested from there.
    #[serde(default)]
    pub(crate) urls: Vec<String>,
    /// A fleet generated at the start of the run into `OUTPUT/fleet` and ingested.
    #[serde(default)]
    pub(crate) synth: Option<SynthSection>,
    /// The largest document read, in bytes.
    #[serde(default)]
    pub(crate) max_bytes: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct SynthSection {
    pub(crate) cities: usize,
    pub(crate) systems_per_city: usize,
    pub(crate) periods: usize,
    pub(crate) seed: u64,
    #[serde(default)]
    pub(crate) faults: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct AttributionSection {
    /// `{region}/{city}/**`: used when a document has no city and region props.
    pub(crate) path_pattern: String,
}

impl Default for AttributionSection {
    fn default() -> Self {
        AttributionSection {
            path_pattern: "{region}/{city}/**".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
// A table given in part takes the defaults for the rest.
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct PeriodsSection {
    /// `month`, `quarter` or `year`.
    pub(crate) length: String,
    /// Freshness window T in days.
    pub(crate) freshness_days: i64,
    /// The first period's first day (default: the earliest document's period).
    #[serde(default)]
    pub(crate) first: Option<String>,
    /// The last period's last day (default: the latest document's period).
    #[serde(default)]
    pub(crate) last: Option<String>,
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

#[derive(Debug, Clone, Deserialize)]
// A table given in part takes the defaults for the rest.
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RiskSection {
    /// Risk level (1–5) per likelihood (rows) and impact (columns).
    pub(crate) matrix: [[u8; 5]; 5],
    /// Score of each level, very low … very high.
    pub(crate) scores: [f64; 5],
}

impl Default for RiskSection {
    fn default() -> Self {
        let defaults = mim6_analytics::Settings::default();
        RiskSection {
            matrix: defaults.matrix,
            scores: defaults.scores,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RemoteSection {
    /// Hosts allowed over https.
    #[serde(default)]
    pub(crate) allow_hosts: Vec<String>,
    /// Never use the network (remote hrefs come from the cache or fail).
    #[serde(default)]
    pub(crate) offline: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct OutputSection {
    /// The output folder.
    pub(crate) folder: PathBuf,
    /// `parquet`, `csv`.
    #[serde(default = "default_formats")]
    pub(crate) formats: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct ReportSection {
    /// Open risks listed per page, most urgent first.
    #[serde(default = "default_top_risks")]
    pub(crate) top_risks: usize,
    /// The maturity level (0–5) every control family should attain.
    #[serde(default = "default_target_level")]
    pub(crate) target_level: u8,
}

impl Default for ReportSection {
    fn default() -> Self {
        ReportSection {
            top_risks: default_top_risks(),
            target_level: default_target_level(),
        }
    }
}

impl ReportSection {
    /// The report's options.
    pub(crate) fn options(&self) -> mim6_report::Options {
        mim6_report::Options {
            top_risks: self.top_risks,
            target_level: self.target_level,
        }
    }
}

fn default_top_risks() -> usize {
    mim6_report::Options::default().top_risks
}

fn default_target_level() -> u8 {
    mim6_report::Options::default().target_level
}

fn default_formats() -> Vec<String> {
    vec!["parquet".into(), "csv".into()]
}

impl Pipeline {
    /// Reads and checks a pipeline file; relative paths are made relative to its folder.
    pub(crate) fn load(path: &Path) -> anyhow::Result<Pipeline> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read the pipeline file", path.display()))?;
        let mut pipeline: Pipeline = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim_end()))?;
        let base = path.parent().unwrap_or(Path::new(""));
        let base = if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base
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
        pipeline.inputs.folders = pipeline.inputs.folders.iter().map(|f| rel(f)).collect();
        pipeline.output.folder = rel(&pipeline.output.folder);
        for format in &pipeline.output.formats {
            if !matches!(format.as_str(), "parquet" | "csv") {
                bail!(
                    "{}: output format `{format}` is not parquet or csv",
                    path.display()
                );
            }
        }
        if pipeline.report.target_level > 5 {
            bail!(
                "{}: report.target-level must be a maturity level, 0 to 5",
                path.display()
            );
        }
        if pipeline.inputs.folders.is_empty()
            && pipeline.inputs.urls.is_empty()
            && pipeline.inputs.synth.is_none()
        {
            bail!(
                "{}: [inputs] names no folders, no URLs and no synth fleet",
                path.display()
            );
        }
        for url in &pipeline.inputs.urls {
            if !is_url(url) {
                bail!(
                    "{}: inputs.urls: `{url}` is not an http(s) URL",
                    path.display()
                );
            }
        }
        if !matches!(
            pipeline.periods.length.as_str(),
            "month" | "quarter" | "year"
        ) {
            bail!(
                "{}: periods.length `{}` is not month, quarter or year",
                path.display(),
                pipeline.periods.length
            );
        }
        if pipeline.periods.freshness_days < 1 {
            bail!(
                "{}: periods.freshness-days must be at least 1",
                path.display()
            );
        }
        if let Some(synth) = &pipeline.inputs.synth
            && !(0.0..=1.0).contains(&synth.faults)
        {
            bail!(
                "{}: inputs.synth.faults must be between 0 and 1",
                path.display()
            );
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

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.toml");
        std::fs::write(
            &file,
            "[baseline]\nprofile = \"b.json\"\n[output]\nfolder = \"out\"\nbogus = 1\n",
        )
        .unwrap();
        let err = Pipeline::load(&file).unwrap_err().to_string();
        assert!(err.contains("p.toml") && err.contains("bogus"), "{err}");
        std::fs::write(
            &file,
            "[baseline]\nprofile = \"b.json\"\n[inputs]\nfolders = [\"in\"]\n[output]\nfolder = \"out\"\n",
        )
        .unwrap();
        let pipeline = Pipeline::load(&file).unwrap();
        assert_eq!(pipeline.inputs.folders, [dir.path().join("in")]);
        assert_eq!(pipeline.periods.freshness_days, 365);
        std::fs::write(
            &file,
            "[baseline]\nprofile = \"b.json\"\n[inputs]\nfolders = [\"in\"]\n[periods]\nfreshness-days = 90\n[output]\nfolder = \"out\"\n",
        )
        .unwrap();
        let pipeline = Pipeline::load(&file).unwrap();
        assert_eq!(
            pipeline.periods.length, "quarter",
            "the default for what is left out"
        );
        assert_eq!(pipeline.periods.freshness_days, 90);
    }
}
