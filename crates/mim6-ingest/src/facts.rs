//! The fact rows a run produces (see DESIGN.md "Facts and metrics").

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;

use crate::Uuid;

/// A system: one system security plan, attributed to a city and a region.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemRow {
    /// The SSP's uuid.
    pub system: String,
    /// The SSP's file, relative to its input folder.
    pub path: PathBuf,
    /// City id.
    pub city: String,
    /// Region id.
    pub region: String,
    /// City name (the city id when the documents do not give one).
    pub city_name: String,
    /// Inhabitants, when given.
    pub population: Option<u64>,
    /// `system-name`.
    pub name: String,
    /// Confidentiality, integrity and availability impact: 1 low, 2 moderate, 3 high.
    pub impact: [Option<u8>; 3],
    /// Criticality weight: the highest impact level (1–3); 2 when none is given.
    pub weight: u8,
}

/// One implementation status (or inheritance) of a control in an SSP: a `by-component` of an
/// implemented requirement or of one of its statements.
#[derive(Debug, Clone, PartialEq)]
pub struct ImplementationRow {
    /// The SSP's uuid.
    pub system: Arc<str>,
    /// Control id.
    pub control: Arc<str>,
    /// Statement id, for statement-level claims.
    pub statement: Option<String>,
    /// The component's uuid (`None` for a requirement without by-components).
    pub component: Option<Uuid>,
    /// `implementation-status/@state`, if any.
    pub state: Option<Arc<str>>,
    /// The requirement's `control-origination` prop, if any.
    pub origination: Option<Arc<str>>,
    /// The by-component has `inherited` entries.
    pub inherited: bool,
    /// The by-component exports `provided` implementations.
    pub provided: bool,
}

/// A finding of an assessment result.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRow {
    /// The SSP the results belong to.
    pub system: Arc<str>,
    /// The results file.
    pub document: Arc<Path>,
    /// The result's uuid.
    pub result: Arc<str>,
    /// The result's date: its end, else its start.
    pub date: Timestamp,
    /// The finding's uuid.
    pub finding: Uuid,
    /// The control: the target id up to the first `_`.
    pub control: String,
    /// The target id (`ac-2.1_obj.a`).
    pub target: String,
    /// `satisfied` (true) or `not-satisfied`.
    pub satisfied: bool,
    /// Observations behind the finding (found in the same result).
    pub observations: u32,
    /// Of them, TEST observations by a tool or an assessment platform.
    pub automated: u32,
    /// The newest `collected` among them.
    pub evidence: Option<Timestamp>,
    /// Uuids of the risks the finding names.
    pub risks: Vec<Uuid>,
}

/// An observation of an assessment result.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservationRow {
    /// The SSP the results belong to.
    pub system: Arc<str>,
    /// The result's uuid.
    pub result: Arc<str>,
    /// The observation's uuid.
    pub observation: Uuid,
    /// Its methods, `|`-separated (`TEST|EXAMINE`).
    pub methods: Arc<str>,
    /// Its origin actor types, `|`-separated (`tool`, `party`, `assessment-platform`).
    pub origins: Arc<str>,
    /// When the evidence was collected.
    pub collected: Timestamp,
    /// When it expires, if said.
    pub expires: Option<Timestamp>,
}

/// How a risk's likelihood and impact were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacetNaming {
    /// `http://csrc.nist.gov/ns/oscal`.
    Nist,
    /// `http://fedramp.gov/ns/oscal`, `https://fedramp.gov` and the like.
    Fedramp,
    /// A CVSS version (`http://www.first.org/cvss/...`).
    Cvss,
    /// No recognised likelihood or impact facet.
    None,
}

impl FacetNaming {
    /// Its name in the tables.
    pub fn name(self) -> &'static str {
        match self {
            FacetNaming::Nist => "nist",
            FacetNaming::Fedramp => "fedramp",
            FacetNaming::Cvss => "cvss",
            FacetNaming::None => "none",
        }
    }
}

/// One copy of a risk, as listed by one assessment results or POA&M document.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskRow {
    /// The SSP.
    pub system: Arc<str>,
    /// The listing document.
    pub document: Arc<Path>,
    /// `assessment-results` or `plan-of-action-and-milestones`.
    pub source: &'static str,
    /// The copy's date: the result's date, or the POA&M's last-modified.
    pub date: Timestamp,
    /// The risk's uuid.
    pub risk: Uuid,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: Arc<str>,
    /// Its deadline.
    pub deadline: Option<Timestamp>,
    /// The first risk-log entry's start, else the copy's date.
    pub first_seen: Timestamp,
    /// The risk-log entry that closed it, else the copy's date when its status is `closed`.
    pub closed: Option<Timestamp>,
    /// Initial likelihood and impact, 1–5 (very low … very high).
    pub likelihood: Option<u8>,
    /// Initial impact, 1–5.
    pub impact: Option<u8>,
    /// The assessor's adjusted likelihood, 1–5.
    pub likelihood_adjusted: Option<u8>,
    /// The assessor's adjusted impact, 1–5.
    pub impact_adjusted: Option<u8>,
    /// The naming system of the facets.
    pub naming: FacetNaming,
    /// Prop `false-positive` is `true`.
    pub false_positive: bool,
    /// Prop `accepted` is `true`.
    pub accepted: bool,
    /// Controls of the SSP implementations its mitigating factors name.
    pub mitigated_controls: Vec<Arc<str>>,
}

/// A POA&M item.
#[derive(Debug, Clone, PartialEq)]
pub struct PoamItemRow {
    /// The SSP.
    pub system: Arc<str>,
    /// The POA&M file.
    pub document: Arc<Path>,
    /// The POA&M's last-modified.
    pub date: Timestamp,
    /// The item's uuid, if any.
    pub item: Option<Uuid>,
    /// Its title.
    pub title: String,
    /// Uuids of the risks it tracks.
    pub risks: Vec<Uuid>,
}

/// An ingested document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRow {
    /// The file.
    pub path: PathBuf,
    /// Its model's root key.
    pub model: &'static str,
    /// Its format (`JSON`, `XML`, `YAML`).
    pub format: &'static str,
    /// The SSP it belongs to.
    pub system: Arc<str>,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Everything a run ingested, rows sorted so that the same inputs give the same facts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Systems (SSPs).
    pub systems: Vec<SystemRow>,
    /// Implementation statuses.
    pub implementations: Vec<ImplementationRow>,
    /// Findings.
    pub findings: Vec<FindingRow>,
    /// Observations.
    pub observations: Vec<ObservationRow>,
    /// Risk copies.
    pub risks: Vec<RiskRow>,
    /// POA&M items.
    pub poam_items: Vec<PoamItemRow>,
    /// Documents accepted.
    pub documents: Vec<DocumentRow>,
}

impl Facts {
    /// Moves the rows of `other` after these.
    pub fn append(&mut self, mut other: Facts) {
        self.systems.append(&mut other.systems);
        self.implementations.append(&mut other.implementations);
        self.findings.append(&mut other.findings);
        self.observations.append(&mut other.observations);
        self.risks.append(&mut other.risks);
        self.poam_items.append(&mut other.poam_items);
        self.documents.append(&mut other.documents);
    }
}
