//! One document: read, projected, checked, turned into rows that still wait for their system.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use oscal_io::Format;
use oscal_model::MIM6_NAMESPACE;
use rustc_hash::FxHashSet;
use serde::Deserialize;

use crate::facts::{FindingRow, ImplementationRow, ObservationRow, PoamItemRow, RiskRow};
use crate::project::{self, Prop, Root};
use crate::risk;
use crate::uuid::Uuid;

/// Why a document was not ingested.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rejection {
    /// The file.
    pub path: PathBuf,
    /// Where in it: a JSON pointer, an XML path, or empty for the whole file.
    pub location: String,
    /// What is wrong.
    pub reason: String,
}

/// City and region as the document's metadata props give them.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Attribution {
    pub(crate) city: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) city_name: Option<String>,
    pub(crate) population: Option<u64>,
}

/// A back-matter resource: uuid and its first rlink.
pub(crate) type Resource = (String, String);

/// A document read and checked, its rows not yet attached to a system.
#[derive(Debug)]
pub(crate) enum Parsed {
    Ssp {
        uuid: String,
        system_ids: Vec<String>,
        attribution: Attribution,
        name: String,
        impact: [Option<u8>; 3],
        implementations: Vec<ImplementationRow>,
        /// Uuids of requirements, statements and by-components, with their control.
        implementation_controls: Vec<(Uuid, Arc<str>)>,
    },
    Ap {
        import: String,
        resources: Vec<Resource>,
    },
    Ar {
        import: String,
        resources: Vec<Resource>,
        findings: Vec<FindingRow>,
        observations: Vec<ObservationRow>,
        risks: Vec<(RiskRow, Vec<Uuid>)>,
    },
    Poam {
        import: Option<String>,
        system_id: Option<String>,
        resources: Vec<Resource>,
        risks: Vec<(RiskRow, Vec<Uuid>)>,
        items: Vec<PoamItemRow>,
    },
}

impl Parsed {
    pub(crate) fn model(&self) -> &'static str {
        match self {
            Parsed::Ssp { .. } => "system-security-plan",
            Parsed::Ap { .. } => "assessment-plan",
            Parsed::Ar { .. } => "assessment-results",
            Parsed::Poam { .. } => "plan-of-action-and-milestones",
        }
    }
}

/// A document that was read.
#[derive(Debug)]
pub(crate) struct Read {
    pub(crate) parsed: Parsed,
    pub(crate) format: Format,
    pub(crate) bytes: u64,
}

/// A buffer kept beyond this size after a document is given back, not reused.
const KEPT_BUFFER: usize = 16 * 1024 * 1024;

thread_local! {
    /// Each thread reads its documents into one buffer, grown to the largest it has read.
    static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads, projects and checks `path`.
pub(crate) fn parse(path: &Path, max_bytes: u64) -> Result<Read, Rejection> {
    BUFFER.with(|buffer| {
        let mut bytes = buffer.take();
        let read = oscal_io::read_file_into(path, max_bytes, &mut bytes)
            .map_err(|e| whole(path, &e))
            .and_then(|()| project(path, &bytes));
        if bytes.capacity() <= KEPT_BUFFER {
            buffer.replace(bytes);
        }
        read
    })
}

/// Projects and checks the document `bytes` read from `path`.
fn project(path: &Path, bytes: &[u8]) -> Result<Read, Rejection> {
    let reject = |location: String, reason: String| Rejection {
        path: path.to_owned(),
        location,
        reason,
    };
    let format = oscal_io::detect_format(path, bytes).map_err(|e| whole(path, &e))?;
    let size = bytes.len() as u64;
    let parsed = match format {
        Format::Json => {
            if let Some(model) = oscal_io::sniff_json_model(bytes) {
                not_ingested(model.root_key()).map_err(|reason| reject(String::new(), reason))?;
            }
            let text = oscal_io::decode_text(path, bytes).map_err(|e| whole(path, &e))?;
            // The reader, then serde_json for what it declines; neither tracks where it is,
            // so only a failure is parsed again to say where it went wrong.
            let read = crate::reader::from_str(text).or_else(|_| serde_json::from_str(text));
            let root: Root<'_> = match read {
                Ok(root) => root,
                Err(_) => {
                    let mut de = serde_json::Deserializer::from_str(text);
                    let Err(err) = serde_path_to_error::deserialize::<_, Root<'_>>(&mut de) else {
                        unreachable!("the same text parsed twice gives the same outcome")
                    };
                    let pointer = oscal_io::json::pointer_of(err.path());
                    let inner = err.into_inner();
                    let reason = if inner.is_syntax() || inner.is_eof() {
                        format!("not well-formed JSON: {inner}")
                    } else {
                        inner.to_string()
                    };
                    return Err(reject(pointer, reason));
                }
            };
            build(path, &root)?
        }
        Format::Xml | Format::Yaml => {
            let (_, value) = oscal_io::read_value(path, bytes).map_err(|e| whole(path, &e))?;
            if let Some(key) = value
                .as_object()
                .and_then(|o| o.keys().find(|k| *k != "$schema"))
            {
                not_ingested(key).map_err(|reason| reject(String::new(), reason))?;
            }
            let root: Root<'_> = match Root::deserialize(&value) {
                Ok(root) => root,
                Err(_) => {
                    let Err(err) = serde_path_to_error::deserialize::<_, Root<'_>>(&value) else {
                        unreachable!("the same value read twice gives the same outcome")
                    };
                    let location =
                        xml_location(format, bytes, oscal_io::json::pointer_of(err.path()));
                    return Err(reject(location, err.into_inner().to_string()));
                }
            };
            build(path, &root).map_err(|mut rejection| {
                rejection.location = xml_location(format, bytes, rejection.location);
                rejection
            })?
        }
    };
    Ok(Read {
        parsed,
        format,
        bytes: size,
    })
}

/// A JSON pointer into an XML document as its XML path and line; other formats keep the pointer.
fn xml_location(format: Format, bytes: &[u8], pointer: String) -> String {
    if format == Format::Xml
        && let Ok(text) = std::str::from_utf8(bytes)
        && let Some((xpath, line, _)) = oscal_io::xml::locate(text, &pointer)
    {
        return format!("{xpath} (line {line})");
    }
    pointer
}

const INGESTED: [&str; 4] = [
    "system-security-plan",
    "assessment-plan",
    "assessment-results",
    "plan-of-action-and-milestones",
];

fn not_ingested(key: &str) -> Result<(), String> {
    if INGESTED.contains(&key) {
        return Ok(());
    }
    let what = match oscal_model::ModelKind::from_root_key(key) {
        Some(_) => format!("a {key} document"),
        None => format!("`{key}` is not an OSCAL model, and the document"),
    };
    Err(format!(
        "{what} is not one of the models a run ingests ({})",
        INGESTED.join(", ")
    ))
}

fn whole(path: &Path, err: &oscal_io::Error) -> Rejection {
    let text = err.to_string();
    let prefix = format!("{}: ", path.display());
    Rejection {
        path: path.to_owned(),
        location: String::new(),
        reason: text.strip_prefix(&prefix).unwrap_or(&text).to_owned(),
    }
}

/// Checks made while turning a projection into rows: uuid uniqueness and date-times.
struct Checker<'p, 'r> {
    path: &'p Path,
    uuids: FxHashSet<&'r str>,
}

impl<'r> Checker<'_, 'r> {
    fn fail(&self, pointer: String, reason: String) -> Rejection {
        Rejection {
            path: self.path.to_owned(),
            location: pointer,
            reason,
        }
    }

    fn uuid(&mut self, uuid: &'r str, pointer: impl FnOnce() -> String) -> Result<(), Rejection> {
        if self.uuids.insert(uuid) {
            Ok(())
        } else {
            Err(self.fail(
                pointer(),
                format!("uuid {uuid} is already used in this document (unique-uuid)"),
            ))
        }
    }

    fn time(&self, text: &str, pointer: impl FnOnce() -> String) -> Result<Timestamp, Rejection> {
        crate::time::parse(text).ok_or_else(|| {
            self.fail(
                pointer(),
                format!("`{text}` is not a date-time with a time zone (RFC 3339)"),
            )
        })
    }
}

fn build(path: &Path, root: &Root<'_>) -> Result<Parsed, Rejection> {
    let mut checker = Checker {
        path,
        uuids: FxHashSet::default(),
    };
    let present = [
        root.ssp.is_some(),
        root.ap.is_some(),
        root.ar.is_some(),
        root.poam.is_some(),
    ];
    if present.iter().filter(|p| **p).count() != 1 {
        return Err(checker.fail(
            String::new(),
            format!(
                "the document must hold exactly one of {}",
                INGESTED.join(", ")
            ),
        ));
    }
    if let Some(ssp) = &root.ssp {
        return build_ssp(&mut checker, ssp);
    }
    if let Some(ap) = &root.ap {
        checker.uuid(&ap.uuid, || "/assessment-plan/uuid".into())?;
        checker.time(&ap.metadata.last_modified, || {
            "/assessment-plan/metadata/last-modified".into()
        })?;
        return Ok(Parsed::Ap {
            import: ap.import_ssp.href.to_string(),
            resources: resources(ap.back_matter.as_ref()),
        });
    }
    if let Some(ar) = &root.ar {
        return build_ar(&mut checker, ar);
    }
    let poam = root.poam.as_ref().expect("one model is present");
    build_poam(&mut checker, poam)
}

fn resources(back_matter: Option<&project::BackMatter<'_>>) -> Vec<Resource> {
    back_matter
        .into_iter()
        .flat_map(|b| b.resources.iter())
        .filter_map(|r| {
            let href = r.rlinks.first()?.href.to_string();
            Some((r.uuid.to_string(), href))
        })
        .collect()
}

/// Whether props hold `name` (in any namespace) with the value `true`.
fn flag(props: &[Prop<'_>], name: &str) -> bool {
    props
        .iter()
        .any(|p| p.name == name && p.value.eq_ignore_ascii_case("true"))
}

fn mim6_prop<'a>(props: &'a [Prop<'_>], name: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|p| p.name == name && p.ns.as_deref() == Some(MIM6_NAMESPACE))
        .map(|p| p.value.as_ref())
}

fn attribution(props: &[Prop<'_>]) -> Attribution {
    Attribution {
        city: mim6_prop(props, "city-id").map(str::to_owned),
        region: mim6_prop(props, "region-id").map(str::to_owned),
        city_name: mim6_prop(props, "city-name").map(str::to_owned),
        population: mim6_prop(props, "population").and_then(|p| p.parse().ok()),
    }
}

fn impact_level(text: &str) -> Option<u8> {
    match text {
        "fips-199-low" | "low" => Some(1),
        "fips-199-moderate" | "moderate" => Some(2),
        "fips-199-high" | "high" => Some(3),
        _ => None,
    }
}

fn build_ssp<'r>(
    checker: &mut Checker<'_, 'r>,
    ssp: &'r project::Ssp<'_>,
) -> Result<Parsed, Rejection> {
    checker.uuid(&ssp.uuid, || "/system-security-plan/uuid".into())?;
    checker.time(&ssp.metadata.last_modified, || {
        "/system-security-plan/metadata/last-modified".into()
    })?;
    let characteristics = &ssp.system_characteristics;
    let impact = match &characteristics.security_impact_level {
        Some(level) => [
            impact_level(&level.security_objective_confidentiality),
            impact_level(&level.security_objective_integrity),
            impact_level(&level.security_objective_availability),
        ],
        None => {
            let level = characteristics
                .security_sensitivity_level
                .as_deref()
                .and_then(impact_level);
            [level, level, level]
        }
    };
    // Rows and uuids counted first, so that no list grows (a copy into fresh memory) as it fills.
    let (mut rows, mut uuids) = (0, 0);
    for requirement in &ssp.control_implementation.implemented_requirements {
        let by_statement: usize = requirement
            .statements
            .iter()
            .map(|s| s.by_components.len())
            .sum();
        let by_components = requirement.by_components.len() + by_statement;
        rows += by_components.max(usize::from(requirement.statements.is_empty()));
        uuids += 1 + requirement.statements.len() + by_components;
    }
    checker.uuids.reserve(uuids);
    let mut implementations = Vec::with_capacity(rows);
    let mut implementation_controls = Vec::with_capacity(uuids);
    let base = "/system-security-plan/control-implementation/implemented-requirements";
    let mut shared = Shared::new();
    for (r, requirement) in ssp
        .control_implementation
        .implemented_requirements
        .iter()
        .enumerate()
    {
        let control: Arc<str> = Arc::from(requirement.control_id.to_ascii_lowercase());
        checker.uuid(&requirement.uuid, || format!("{base}/{r}/uuid"))?;
        implementation_controls.push((Uuid::of(&requirement.uuid), Arc::clone(&control)));
        let origination = requirement
            .props
            .iter()
            .find(|p| p.name == "control-origination")
            .map(|p| shared.token(&p.value));
        let mut row = |statement: Option<&str>, by: Option<&project::ByComponent<'_>>| {
            let state = by
                .and_then(|b| b.implementation_status.as_ref())
                .map(|s| &*s.state)
                .or_else(|| {
                    // OSCAL 1.0 wrote the status as a prop.
                    by.and_then(|b| b.props.iter().find(|p| p.name == "implementation-status"))
                        .map(|p| &*p.value)
                })
                .map(|state| shared.token(state));
            implementations.push(ImplementationRow {
                system: Arc::clone(&shared.system),
                control: Arc::clone(&control),
                statement: statement.map(str::to_owned),
                component: by.map(|b| Uuid::of(&b.component_uuid)),
                state,
                origination: origination.clone(),
                inherited: by.is_some_and(|b| !b.inherited.is_empty()),
                provided: by
                    .and_then(|b| b.export.as_ref())
                    .is_some_and(|e| !e.provided.is_empty()),
            });
        };
        if requirement.by_components.is_empty() && requirement.statements.is_empty() {
            row(None, None);
        }
        for (b, by) in requirement.by_components.iter().enumerate() {
            checker.uuid(&by.uuid, || format!("{base}/{r}/by-components/{b}/uuid"))?;
            implementation_controls.push((Uuid::of(&by.uuid), Arc::clone(&control)));
            row(None, Some(by));
        }
        for (s, statement) in requirement.statements.iter().enumerate() {
            checker.uuid(&statement.uuid, || {
                format!("{base}/{r}/statements/{s}/uuid")
            })?;
            implementation_controls.push((Uuid::of(&statement.uuid), Arc::clone(&control)));
            for (b, by) in statement.by_components.iter().enumerate() {
                checker.uuid(&by.uuid, || {
                    format!("{base}/{r}/statements/{s}/by-components/{b}/uuid")
                })?;
                implementation_controls.push((Uuid::of(&by.uuid), Arc::clone(&control)));
                row(Some(&statement.statement_id), Some(by));
            }
        }
    }
    Ok(Parsed::Ssp {
        uuid: ssp.uuid.to_string(),
        system_ids: characteristics
            .system_ids
            .iter()
            .map(|s| s.id.to_string())
            .collect(),
        attribution: attribution(&ssp.metadata.props),
        name: characteristics.system_name.to_string(),
        impact,
        implementations,
        implementation_controls,
    })
}

/// The control a finding target names: the target id up to the first `_`, lower case.
pub(crate) fn control_of(target: &str) -> String {
    target
        .split('_')
        .next()
        .unwrap_or(target)
        .to_ascii_lowercase()
}

fn build_ar<'r>(
    checker: &mut Checker<'_, 'r>,
    ar: &'r project::Ar<'_>,
) -> Result<Parsed, Rejection> {
    let base = "/assessment-results";
    checker.uuid(&ar.uuid, || format!("{base}/uuid"))?;
    checker.time(&ar.metadata.last_modified, || {
        format!("{base}/metadata/last-modified")
    })?;
    let rows = |count: fn(&project::AssessmentResult<'_>) -> usize| -> usize {
        ar.results.iter().map(count).sum()
    };
    let counts = [
        rows(|r| r.findings.len()),
        rows(|r| r.observations.len()),
        rows(|r| r.risks.len()),
    ];
    checker
        .uuids
        .reserve(ar.results.len() + counts.iter().sum::<usize>());
    let mut findings = Vec::with_capacity(counts[0]);
    let mut observations = Vec::with_capacity(counts[1]);
    let mut risks = Vec::with_capacity(counts[2]);
    let mut shared = Shared::new();
    for (i, result) in ar.results.iter().enumerate() {
        let at = format!("{base}/results/{i}");
        checker.uuid(&result.uuid, || format!("{at}/uuid"))?;
        let start = checker.time(&result.start, || format!("{at}/start"))?;
        let date = match &result.end {
            Some(end) => checker.time(end, || format!("{at}/end"))?,
            None => start,
        };
        let result_uuid: Arc<str> = Arc::from(&*result.uuid);
        // Observation uuid -> (automated TEST?, collected)
        let mut seen = rustc_hash::FxHashMap::default();
        for (o, observation) in result.observations.iter().enumerate() {
            checker.uuid(&observation.uuid, || format!("{at}/observations/{o}/uuid"))?;
            let collected = checker.time(&observation.collected, || {
                format!("{at}/observations/{o}/collected")
            })?;
            let expires = match &observation.expires {
                Some(text) => {
                    Some(checker.time(text, || format!("{at}/observations/{o}/expires"))?)
                }
                None => None,
            };
            let origins = observation
                .origins
                .iter()
                .flat_map(|o| o.actors.iter().map(|a| a.kind.as_ref()));
            let automated = observation.methods.iter().any(|m| m == "TEST")
                && origins
                    .clone()
                    .any(|o| o == "tool" || o == "assessment-platform");
            seen.insert(observation.uuid.as_ref(), (automated, collected));
            observations.push(ObservationRow {
                system: Arc::clone(&shared.system),
                result: Arc::clone(&result_uuid),
                observation: Uuid::of(&observation.uuid),
                methods: shared.joined(observation.methods.iter().map(AsRef::as_ref)),
                origins: shared.joined(origins),
                collected,
                expires,
            });
        }
        for (f, finding) in result.findings.iter().enumerate() {
            checker.uuid(&finding.uuid, || format!("{at}/findings/{f}/uuid"))?;
            let satisfied = match finding.target.status.state.as_ref() {
                "satisfied" => true,
                "not-satisfied" => false,
                other => {
                    return Err(checker.fail(
                        format!("{at}/findings/{f}/target/status/state"),
                        format!("`{other}` is not satisfied or not-satisfied"),
                    ));
                }
            };
            let (mut behind, mut automated, mut evidence) = (0u32, 0u32, None);
            for &(by_tool, collected) in finding
                .related_observations
                .iter()
                .filter_map(|r| seen.get(r.observation_uuid.as_ref()))
            {
                behind = behind.saturating_add(1);
                automated = automated.saturating_add(u32::from(by_tool));
                evidence = evidence.max(Some(collected));
            }
            findings.push(FindingRow {
                system: Arc::clone(&shared.system),
                document: Arc::clone(&shared.document),
                result: Arc::clone(&result_uuid),
                date,
                finding: Uuid::of(&finding.uuid),
                control: control_of(&finding.target.target_id),
                target: finding.target.target_id.to_string(),
                satisfied,
                observations: behind,
                automated,
                evidence,
                risks: finding
                    .related_risks
                    .iter()
                    .map(|r| Uuid::of(&r.risk_uuid))
                    .collect(),
            });
        }
        for (k, item) in result.risks.iter().enumerate() {
            let at = || format!("{at}/risks/{k}");
            checker.uuid(&item.uuid, || format!("{}/uuid", at()))?;
            risks.push(build_risk(
                checker,
                item,
                &at,
                (date, "assessment-results"),
                &mut shared,
            )?);
        }
    }
    Ok(Parsed::Ar {
        import: ar.import_ap.href.to_string(),
        resources: resources(ar.back_matter.as_ref()),
        findings,
        observations,
        risks,
    })
}

fn build_poam<'r>(
    checker: &mut Checker<'_, 'r>,
    poam: &'r project::Poam<'_>,
) -> Result<Parsed, Rejection> {
    let base = "/plan-of-action-and-milestones";
    checker.uuid(&poam.uuid, || format!("{base}/uuid"))?;
    let date = checker.time(&poam.metadata.last_modified, || {
        format!("{base}/metadata/last-modified")
    })?;
    let mut shared = Shared::new();
    checker
        .uuids
        .reserve(poam.risks.len() + poam.poam_items.len());
    let mut risks = Vec::with_capacity(poam.risks.len());
    for (k, item) in poam.risks.iter().enumerate() {
        let at = || format!("{base}/risks/{k}");
        checker.uuid(&item.uuid, || format!("{}/uuid", at()))?;
        risks.push(build_risk(
            checker,
            item,
            &at,
            (date, "plan-of-action-and-milestones"),
            &mut shared,
        )?);
    }
    let mut items = Vec::with_capacity(poam.poam_items.len());
    for (i, item) in poam.poam_items.iter().enumerate() {
        if let Some(uuid) = &item.uuid {
            checker.uuid(uuid, || format!("{base}/poam-items/{i}/uuid"))?;
        }
        items.push(PoamItemRow {
            system: Arc::clone(&shared.system),
            document: Arc::clone(&shared.document),
            date,
            item: item.uuid.as_deref().map(Uuid::of),
            title: item.title.to_string(),
            risks: item
                .related_risks
                .iter()
                .map(|r| Uuid::of(&r.risk_uuid))
                .collect(),
        });
    }
    Ok(Parsed::Poam {
        import: poam.import_ssp.as_ref().map(|i| i.href.to_string()),
        system_id: poam.system_id.as_ref().map(|s| s.id.to_string()),
        resources: resources(poam.back_matter.as_ref()),
        risks,
        items,
    })
}

/// Beyond this many distinct short values, a document's further values are not shared (each
/// value is looked for among the known ones).
const MAX_TOKENS: usize = 64;

/// What the rows of a document share: stand-ins for their system and document until it is
/// linked, and one string for each recurring short value (implementation states and
/// originations, observation methods and origins, risk statuses) rather than one a row.
struct Shared {
    system: Arc<str>,
    document: Arc<Path>,
    tokens: Vec<Arc<str>>,
    scratch: String,
}

impl Shared {
    fn new() -> Shared {
        Shared {
            system: Arc::from(""),
            document: Arc::from(Path::new("")),
            tokens: Vec::new(),
            scratch: String::new(),
        }
    }

    fn token(&mut self, text: &str) -> Arc<str> {
        if let Some(known) = self.tokens.iter().find(|t| ***t == *text) {
            return Arc::clone(known);
        }
        let token: Arc<str> = Arc::from(text);
        if self.tokens.len() < MAX_TOKENS {
            self.tokens.push(Arc::clone(&token));
        }
        token
    }

    /// `parts` joined with `|`.
    fn joined<'a>(&mut self, parts: impl Iterator<Item = &'a str>) -> Arc<str> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        for (i, part) in parts.enumerate() {
            if i > 0 {
                scratch.push('|');
            }
            scratch.push_str(part);
        }
        let token = self.token(&scratch);
        self.scratch = scratch;
        token
    }
}

/// A risk's row and the implementations its mitigating factors name; `at` is the risk's
/// pointer, `(date, source)` the date and model of the document.
fn build_risk(
    checker: &Checker<'_, '_>,
    item: &project::Risk<'_>,
    at: &dyn Fn() -> String,
    (date, source): (Timestamp, &'static str),
    shared: &mut Shared,
) -> Result<(RiskRow, Vec<Uuid>), Rejection> {
    let deadline = match &item.deadline {
        Some(text) => Some(checker.time(text, || format!("{}/deadline", at()))?),
        None => None,
    };
    let mut first_seen = None;
    let mut closed = None;
    for (e, entry) in item
        .risk_log
        .iter()
        .flat_map(|l| l.entries.iter())
        .enumerate()
    {
        let start = checker.time(&entry.start, || {
            format!("{}/risk-log/entries/{e}/start", at())
        })?;
        first_seen = Some(first_seen.map_or(start, |f: Timestamp| f.min(start)));
        if entry.status_change.as_deref() == Some("closed") {
            closed = Some(start);
        }
    }
    if item.status == "closed" && closed.is_none() {
        closed = Some(date);
    }
    let facets = risk::normalise(&item.characterizations);
    let row = RiskRow {
        system: Arc::clone(&shared.system),
        document: Arc::clone(&shared.document),
        source,
        date,
        risk: Uuid::of(&item.uuid),
        title: item.title.to_string(),
        status: shared.token(&item.status),
        deadline,
        first_seen: first_seen.unwrap_or(date),
        closed,
        likelihood: facets.likelihood,
        impact: facets.impact,
        likelihood_adjusted: facets.likelihood_adjusted,
        impact_adjusted: facets.impact_adjusted,
        naming: facets.naming,
        false_positive: flag(&item.props, "false-positive"),
        accepted: flag(&item.props, "accepted"),
        mitigated_controls: Vec::new(),
    };
    let mitigating = item
        .mitigating_factors
        .iter()
        .filter_map(|m| m.implementation_uuid.as_deref().map(Uuid::of))
        .collect();
    Ok((row, mitigating))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recurring_values_of_a_document_share_one_string() {
        let mut shared = Shared::new();
        let open = shared.token("open");
        assert!(Arc::ptr_eq(&open, &shared.token("open")));
        let methods = shared.joined(["TEST", "EXAMINE"].into_iter());
        assert_eq!(&*methods, "TEST|EXAMINE");
        assert!(Arc::ptr_eq(
            &methods,
            &shared.joined(["TEST", "EXAMINE"].into_iter())
        ));
        // Past the limit, values are still right, only no longer shared.
        for i in 0..MAX_TOKENS * 2 {
            assert_eq!(*shared.token(&i.to_string()), i.to_string());
        }
        assert_eq!(shared.tokens.len(), MAX_TOKENS);
    }

    #[test]
    fn finding_targets_name_their_control() {
        assert_eq!(control_of("ac-2.1_obj.a"), "ac-2.1");
        assert_eq!(control_of("AC-2_smt.b"), "ac-2");
        assert_eq!(control_of("pm-19"), "pm-19");
    }

    #[test]
    fn projections_skip_what_they_do_not_need() {
        let text = r#"{"$schema": "x", "assessment-plan": {"uuid": "u", "metadata": {"title": "t",
            "last-modified": "2025-01-01T00:00:00Z", "oscal-version": "1.2.3", "remarks": "skipped"},
            "import-ssp": {"href": "ssp.json"}, "reviewed-controls": {"control-selections": []}}}"#;
        let root: Root<'_> = serde_json::from_str(text).unwrap();
        let parsed = build(Path::new("ap.json"), &root).unwrap();
        assert!(matches!(parsed, Parsed::Ap { ref import, .. } if import == "ssp.json"));
    }

    #[test]
    fn other_models_are_refused_by_name() {
        let reason = not_ingested("catalog").unwrap_err();
        assert!(
            reason.starts_with("a catalog document is not one of the models"),
            "{reason}"
        );
        let reason = not_ingested("bogus").unwrap_err();
        assert!(reason.contains("`bogus` is not an OSCAL model"), "{reason}");
    }
}
