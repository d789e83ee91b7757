//! Linking: results → plan → system, POA&M → system; attribution of systems to cities.

use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::facts::{DocumentRow, Facts, SystemRow};
use crate::parse::{Attribution, Parsed, Read, Rejection, Resource};
use crate::uuid::{Repr, Uuid};

/// A document read, with the input folder it was found under.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) path: PathBuf,
    pub(crate) root: PathBuf,
    pub(crate) doc: Read,
}

/// `path` made absolute and without `.` and `..` segments (lexically: links are not followed).
pub(crate) fn normalise(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Region and city from `path` below `root` by `pattern` (`{region}/{city}/**`).
pub(crate) fn match_pattern(pattern: &str, root: &Path, path: &Path) -> Option<(String, String)> {
    let relative = path.strip_prefix(root).ok()?;
    let segments: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let (mut region, mut city) = (None, None);
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    let open_ended = parts.last() == Some(&"**");
    if !open_ended && parts.len() != segments.len() {
        return None;
    }
    for (i, part) in parts.iter().enumerate() {
        if *part == "**" {
            break;
        }
        // Before a closing `**`, pattern segments match folders, never the file name.
        if open_ended && i + 1 >= segments.len() {
            return None;
        }
        let segment = segments.get(i)?;
        match *part {
            "{region}" => region = Some(segment.clone()),
            "{city}" => city = Some(segment.clone()),
            "*" => {}
            literal if literal == segment => {}
            _ => return None,
        }
    }
    Some((region?, city?))
}

/// What became of a system security plan or assessment plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Accepted, belonging to the system with this index.
    System(usize),
    Rejected,
}

/// A system accepted so far.
#[derive(Debug)]
struct System {
    uuid: Arc<str>,
}

/// Implementation uuid → control, kept for every system until the last result is linked, so
/// kept small: uuids in their 128-bit form, sorted for binary search (twenty bytes an entry
/// where strings in a map take over a hundred), and controls as numbers into the linker's
/// [`ControlNames`]. A uuid not written in lowercase canonical form is kept as text.
#[derive(Debug, Default)]
struct Implementations {
    uuids: Vec<u128>,
    controls: Vec<u32>,
    other: FxHashMap<Box<str>, u32>,
}

/// The systems' [`Implementations`] (the controls of their implementation uuids: the
/// requirements, statements and by-components that risks' mitigating factors name), in the
/// order of the systems: held in memory, or written to an unnamed file in a folder as each
/// plan is read and read back, the last few kept, when a result's risks name them, so that
/// memory does not grow with the systems.
#[derive(Debug)]
enum Tables {
    Held(Vec<Implementations>),
    Filed(Filed),
}

/// Implementation tables in a file.
#[derive(Debug)]
struct Filed {
    file: std::fs::File,
    /// The folder the file is in, to name it in errors.
    folder: PathBuf,
    /// Per system: where its table starts, its entries, and its uuids kept as text.
    at: Vec<(u64, usize, FxHashMap<Box<str>, u32>)>,
    /// The file's length.
    end: u64,
    /// The tables read back last, the most recent last.
    recent: Vec<(usize, Implementations)>,
}

/// Tables read back kept in memory: a system's results are read one after the other.
const RECENT_TABLES: usize = 16;

impl Tables {
    /// In an unnamed file in `folder` if given, else in memory.
    fn new(folder: Option<&Path>) -> std::io::Result<Tables> {
        Ok(match folder {
            None => Tables::Held(Vec::new()),
            Some(folder) => Tables::Filed(Filed {
                file: tempfile::tempfile_in(folder)?,
                folder: folder.to_owned(),
                at: Vec::new(),
                end: 0,
                recent: Vec::new(),
            }),
        })
    }

    /// Adds the table of the next system.
    fn push(&mut self, table: Implementations) -> Result<(), (PathBuf, std::io::Error)> {
        let filed = match self {
            Tables::Held(tables) => {
                tables.push(table);
                return Ok(());
            }
            Tables::Filed(filed) => filed,
        };
        let mut bytes = Vec::with_capacity(table.uuids.len() * 20);
        for uuid in &table.uuids {
            bytes.extend_from_slice(&uuid.to_le_bytes());
        }
        for control in &table.controls {
            bytes.extend_from_slice(&control.to_le_bytes());
        }
        let written = filed
            .file
            .seek(SeekFrom::Start(filed.end))
            .and_then(|_| filed.file.write_all(&bytes));
        if let Err(e) = written {
            // Still a table for the system, empty, so that the next ones keep their places.
            filed.at.push((filed.end, 0, FxHashMap::default()));
            return Err((filed.folder.clone(), e));
        }
        filed.at.push((filed.end, table.uuids.len(), table.other));
        filed.end += bytes.len() as u64;
        Ok(())
    }

    /// The table of the `system`-th system.
    fn get(&mut self, system: usize) -> Result<&Implementations, (PathBuf, std::io::Error)> {
        let filed = match self {
            Tables::Held(tables) => return Ok(&tables[system]),
            Tables::Filed(filed) => filed,
        };
        if let Some(k) = filed.recent.iter().position(|(s, _)| *s == system) {
            let hit = filed.recent.remove(k);
            filed.recent.push(hit);
        } else {
            let (start, entries, other) = &filed.at[system];
            let mut bytes = vec![0; entries * 20];
            let read = filed
                .file
                .seek(SeekFrom::Start(*start))
                .and_then(|_| filed.file.read_exact(&mut bytes));
            if let Err(e) = read {
                return Err((filed.folder.clone(), e));
            }
            let (uuids, controls) = bytes.split_at(entries * 16);
            let table = Implementations {
                uuids: uuids
                    .chunks_exact(16)
                    .map(|b| u128::from_le_bytes(b.try_into().expect("16 bytes")))
                    .collect(),
                controls: controls
                    .chunks_exact(4)
                    .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
                    .collect(),
                other: other.clone(),
            };
            if filed.recent.len() == RECENT_TABLES {
                filed.recent.remove(0);
            }
            filed.recent.push((system, table));
        }
        Ok(&filed.recent.last().expect("pushed above").1)
    }
}

impl Implementations {
    fn new(pairs: Vec<(Uuid, Arc<str>)>, names: &mut ControlNames) -> Implementations {
        let mut out = Implementations::default();
        let mut numbered = Vec::with_capacity(pairs.len());
        for (uuid, control) in pairs {
            let control = names.id(&control);
            match uuid.0 {
                Repr::Number(number) => numbered.push((number, control)),
                Repr::Text(text) => {
                    out.other.insert(text, control);
                }
            }
        }
        // The last pair of a uuid wins, as in a map filled in order: reversed, then sorted
        // stably, the last comes first among equals and is the one kept.
        numbered.reverse();
        numbered.sort_by_key(|&(number, _)| number);
        numbered.dedup_by_key(|&mut (number, _)| number);
        (out.uuids, out.controls) = numbered.into_iter().unzip();
        out
    }

    fn get(&self, uuid: &Uuid) -> Option<u32> {
        match &uuid.0 {
            Repr::Number(number) => self
                .uuids
                .binary_search(number)
                .ok()
                .map(|i| self.controls[i]),
            Repr::Text(text) => self.other.get(text).copied(),
        }
    }
}

/// Control ids, numbered.
#[derive(Debug, Default)]
struct ControlNames {
    ids: FxHashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
}

impl ControlNames {
    fn id(&mut self, name: &Arc<str>) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(Arc::clone(name), id);
        self.names.push(Arc::clone(name));
        id
    }
}

/// What each file found announced in its first bytes (its root key), if anything, looked up
/// by path among the files (sorted by path, as found): the paths are not held twice.
#[derive(Debug)]
pub(crate) struct Announced<'f> {
    files: &'f [(PathBuf, PathBuf)],
    models: Vec<Option<&'static str>>,
}

impl<'f> Announced<'f> {
    /// `models[i]` is what `files[i]` announced.
    pub(crate) fn new(files: &'f [(PathBuf, PathBuf)], models: Vec<Option<&'static str>>) -> Self {
        debug_assert_eq!(files.len(), models.len());
        debug_assert!(files.is_sorted_by(|a, b| a.0 < b.0));
        Announced { files, models }
    }

    /// What the `i`th file announced.
    pub(crate) fn of(&self, i: usize) -> Option<&'static str> {
        self.models[i]
    }

    /// What the file at `path` announced; `None` if it announced nothing or is not among the
    /// files.
    pub(crate) fn get(&self, path: &Path) -> Option<&'static str> {
        let i = self
            .files
            .binary_search_by(|(found, _)| found.as_path().cmp(path))
            .ok()?;
        self.models[i]
    }
}

/// Links documents as they come: system security plans first (each accepted or rejected on
/// its own), then assessment plans, then results and POA&Ms, each through what it imports.
/// Only the plans' links are kept; the rows of each document go out with it.
#[derive(Debug)]
pub(crate) struct Linker<'f> {
    pattern: String,
    /// The model each discovered file announced in its first bytes, for telling what an
    /// import points at.
    announced: Announced<'f>,
    /// The fates of the system security plans and assessment plans, with their model.
    plans: FxHashMap<PathBuf, (&'static str, Fate)>,
    systems: Vec<System>,
    /// The implementation tables of the systems, in their order.
    tables: Tables,
    control_names: ControlNames,
    ssp_uuids: FxHashMap<String, PathBuf>,
    system_ids: FxHashMap<String, usize>,
    pub(crate) rejected: Vec<Rejection>,
    pub(crate) warnings: Vec<String>,
    /// The first failure to keep or read back an implementation table: the folder, and why.
    pub(crate) failed: Option<(PathBuf, std::io::Error)>,
}

impl<'f> Linker<'f> {
    /// A linker of documents whose first bytes announced `announced`; the systems'
    /// implementation tables are kept in an unnamed file in `scratch` if given, else in memory.
    pub(crate) fn new(
        pattern: &str,
        announced: Announced<'f>,
        scratch: Option<&Path>,
    ) -> std::io::Result<Linker<'f>> {
        Ok(Linker {
            pattern: pattern.to_owned(),
            announced,
            plans: FxHashMap::default(),
            systems: Vec::new(),
            tables: Tables::new(scratch)?,
            control_names: ControlNames::default(),
            ssp_uuids: FxHashMap::default(),
            system_ids: FxHashMap::default(),
            rejected: Vec::new(),
            warnings: Vec::new(),
            failed: None,
        })
    }

    /// The model `path` announced in its first bytes, if any.
    pub(crate) fn announced(&self, path: &Path) -> Option<&'static str> {
        self.announced.get(path)
    }

    fn reject(&mut self, entry: &Entry, location: &str, reason: String) {
        self.rejected.push(Rejection {
            path: entry.path.clone(),
            location: location.to_owned(),
            reason,
        });
    }

    /// The document an import names: `href` relative to the citing document's folder, or a
    /// back-matter resource (`#uuid`) whose rlink is; failing that, a plan with the same file
    /// stem in the folder the href points to (with a warning).
    fn resolve(
        &mut self,
        citing: &Entry,
        href: &str,
        resources: &[Resource],
        expected: &str,
    ) -> Result<usize, String> {
        let target = match href.strip_prefix('#') {
            Some(uuid) => resources
                .iter()
                .find(|(u, _)| u == uuid)
                .map(|(_, rlink)| rlink.as_str())
                .ok_or_else(|| format!("{href}: no back-matter resource with that uuid"))?,
            None => href,
        };
        if target.contains("://") || target.starts_with("urn:") {
            return Err(format!(
                "{href}: only imports of local files are followed when linking"
            ));
        }
        let folder = citing.path.parent().unwrap_or(Path::new(""));
        let path = normalise(&folder.join(target));
        if !path.starts_with(&citing.root) {
            return Err(format!("{href}: leads outside the input folder"));
        }
        let found = match self.plans.get(&path) {
            Some(found) => Some(*found),
            None => {
                if let Some(model) = self.announced.get(&path)
                    && model != expected
                {
                    return Err(format!(
                        "{href} points at an OSCAL {model}, not an OSCAL {expected}"
                    ));
                }
                let stem = path.file_stem().map(|s| s.to_os_string());
                let parent = path.parent().map(Path::to_owned);
                let mut twin_found = None;
                if let (Some(stem), Some(parent)) = (stem, parent) {
                    for ext in ["json", "xml", "yaml", "yml"] {
                        let twin = parent.join(&stem).with_extension(ext);
                        if let Some(found) = self.plans.get(&twin) {
                            self.warnings.push(format!(
                                "{}: {href} not found; using {}, which has the same stem",
                                citing.path.display(),
                                twin.display()
                            ));
                            twin_found = Some(*found);
                            break;
                        }
                    }
                }
                twin_found
            }
        };
        match found {
            Some((model, _)) if model != expected => Err(format!(
                "{href} points at an OSCAL {model}, not an OSCAL {expected}"
            )),
            Some((_, Fate::System(system))) => Ok(system),
            Some((_, Fate::Rejected)) => Err(format!("{href}: {} was rejected", path.display())),
            None => Err(format!("{href}: no such document among the inputs")),
        }
    }

    /// A system security plan: accepted unless another plan has its uuid or it cannot be
    /// attributed to a city; its rows go to `facts`.
    pub(crate) fn add_ssp(&mut self, entry: Entry, facts: &mut Facts) {
        let model = "system-security-plan";
        let relative = relative(&entry);
        let (format, bytes) = (entry.doc.format, entry.doc.bytes);
        let Parsed::Ssp {
            uuid,
            system_ids,
            attribution,
            name,
            impact,
            implementations,
            implementation_controls,
        } = entry.doc.parsed
        else {
            unreachable!("add_ssp takes system security plans")
        };
        if let Some(first) = self.ssp_uuids.get(&uuid) {
            let reason = format!(
                "system-security-plan uuid {uuid} is also the uuid of {}",
                first.display()
            );
            self.plans
                .insert(entry.path.clone(), (model, Fate::Rejected));
            self.rejected.push(Rejection {
                path: entry.path,
                location: "/system-security-plan/uuid".into(),
                reason,
            });
            return;
        }
        let from_path = match_pattern(&self.pattern, &entry.root, &entry.path);
        let (region, city) = match attributed(&attribution, from_path.as_ref(), &self.pattern) {
            Ok(place) => place,
            Err(reason) => {
                self.plans
                    .insert(entry.path.clone(), (model, Fate::Rejected));
                self.rejected.push(Rejection {
                    path: entry.path.clone(),
                    location: "/system-security-plan/metadata/props".into(),
                    reason,
                });
                return;
            }
        };
        let index = self.systems.len();
        self.plans
            .insert(entry.path.clone(), (model, Fate::System(index)));
        self.ssp_uuids.insert(uuid.clone(), entry.path.clone());
        for id in system_ids {
            self.system_ids.entry(id).or_insert(index);
        }
        let system: Arc<str> = Arc::from(uuid.as_str());
        self.systems.push(System {
            uuid: Arc::clone(&system),
        });
        let table = Implementations::new(implementation_controls, &mut self.control_names);
        if let Err(failure) = self.tables.push(table) {
            self.failed.get_or_insert(failure);
        }
        facts
            .documents
            .push(document_row(&relative, model, format, bytes, &system));
        facts.systems.push(SystemRow {
            system: uuid,
            path: relative,
            city_name: attribution.city_name.unwrap_or_else(|| city.clone()),
            city,
            region,
            population: attribution.population,
            name,
            impact,
            weight: impact.iter().flatten().copied().max().unwrap_or(2),
        });
        facts
            .implementations
            .extend(implementations.into_iter().map(|mut row| {
                row.system = Arc::clone(&system);
                row
            }));
    }

    /// An assessment plan: linked to the system security plan it imports.
    pub(crate) fn add_ap(&mut self, entry: &Entry, facts: &mut Facts) {
        let Parsed::Ap { import, resources } = &entry.doc.parsed else {
            unreachable!("add_ap takes assessment plans")
        };
        let fate = match self.resolve(entry, import, resources, "system-security-plan") {
            Ok(system) => {
                let relative = relative(entry);
                let uuid = Arc::clone(&self.systems[system].uuid);
                facts.documents.push(document_row(
                    &relative,
                    "assessment-plan",
                    entry.doc.format,
                    entry.doc.bytes,
                    &uuid,
                ));
                Fate::System(system)
            }
            Err(reason) => {
                self.reject(entry, "/assessment-plan/import-ssp/href", reason);
                Fate::Rejected
            }
        };
        self.plans
            .insert(entry.path.clone(), ("assessment-plan", fate));
    }

    /// Assessment results (through their plan) or a POA&M (through `import-ssp`, else its
    /// `system-id`); their rows go to `facts`.
    pub(crate) fn add_result(&mut self, entry: Entry, facts: &mut Facts) {
        let outcome = match &entry.doc.parsed {
            Parsed::Ar {
                import, resources, ..
            } => self
                .resolve(&entry, import, resources, "assessment-plan")
                .map_err(|reason| ("/assessment-results/import-ap/href", reason)),
            Parsed::Poam {
                import: Some(import),
                resources,
                ..
            } => self
                .resolve(&entry, import, resources, "system-security-plan")
                .map_err(|reason| ("/plan-of-action-and-milestones/import-ssp/href", reason)),
            Parsed::Poam {
                import: None,
                system_id,
                ..
            } => system_id
                .as_deref()
                .and_then(|id| self.system_ids.get(id).copied())
                .ok_or((
                    "/plan-of-action-and-milestones/system-id",
                    "neither import-ssp nor a system-id of an ingested SSP".to_owned(),
                )),
            Parsed::Ssp { .. } | Parsed::Ap { .. } => {
                unreachable!("add_result takes results and POA&Ms")
            }
        };
        let owner = match outcome {
            Ok(system) => system,
            Err((pointer, reason)) => {
                self.reject(&entry, pointer, reason);
                return;
            }
        };
        // Paths in the facts are relative to the input folder, so that the same fleet gives
        // the same tables wherever it lies.
        let relative = relative(&entry);
        let document: Arc<Path> = Arc::from(relative.as_path());
        let system = Arc::clone(&self.systems[owner].uuid);
        facts.documents.push(document_row(
            &relative,
            entry.doc.parsed.model(),
            entry.doc.format,
            entry.doc.bytes,
            &system,
        ));
        let controls = match self.tables.get(owner) {
            Ok(controls) => controls,
            Err(failure) => {
                self.failed.get_or_insert(failure);
                return;
            }
        };
        let control_names = &self.control_names.names;
        let mut attach_risks = |risks: Vec<(crate::RiskRow, Vec<Uuid>)>| {
            for (mut row, mitigating) in risks {
                row.system = Arc::clone(&system);
                row.document = Arc::clone(&document);
                // Numbers sorted by name and made unique (one number a name), then named.
                let mut ids: Vec<u32> = mitigating
                    .iter()
                    .filter_map(|uuid| controls.get(uuid))
                    .collect();
                ids.sort_unstable_by(|a, b| {
                    control_names[*a as usize].cmp(&control_names[*b as usize])
                });
                ids.dedup();
                row.mitigated_controls = ids
                    .iter()
                    .map(|&id| Arc::clone(&control_names[id as usize]))
                    .collect();
                facts.risks.push(row);
            }
        };
        match entry.doc.parsed {
            Parsed::Ar {
                findings,
                observations,
                risks,
                ..
            } => {
                attach_risks(risks);
                facts.findings.extend(findings.into_iter().map(|mut row| {
                    row.system = Arc::clone(&system);
                    row.document = Arc::clone(&document);
                    row
                }));
                facts
                    .observations
                    .extend(observations.into_iter().map(|mut row| {
                        row.system = Arc::clone(&system);
                        row
                    }));
            }
            Parsed::Poam { risks, items, .. } => {
                attach_risks(risks);
                facts.poam_items.extend(items.into_iter().map(|mut row| {
                    row.system = Arc::clone(&system);
                    row.document = Arc::clone(&document);
                    row
                }));
            }
            Parsed::Ssp { .. } | Parsed::Ap { .. } => {}
        }
    }
}

/// The entry's path relative to its input folder.
fn relative(entry: &Entry) -> PathBuf {
    entry
        .path
        .strip_prefix(&entry.root)
        .map(Path::to_owned)
        .unwrap_or_else(|_| entry.path.clone())
}

fn document_row(
    relative: &Path,
    model: &'static str,
    format: oscal_io::Format,
    bytes: u64,
    system: &Arc<str>,
) -> DocumentRow {
    DocumentRow {
        path: relative.to_owned(),
        model,
        format: match format {
            oscal_io::Format::Json => "JSON",
            oscal_io::Format::Xml => "XML",
            oscal_io::Format::Yaml => "YAML",
        },
        system: Arc::clone(system),
        bytes,
    }
}

fn attributed(
    attribution: &Attribution,
    from_path: Option<&(String, String)>,
    pattern: &str,
) -> Result<(String, String), String> {
    let city = attribution
        .city
        .clone()
        .or_else(|| from_path.as_ref().map(|(_, c)| c.clone()));
    let region = attribution
        .region
        .clone()
        .or_else(|| from_path.as_ref().map(|(r, _)| r.clone()));
    match (region, city) {
        (Some(region), Some(city)) => Ok((region, city)),
        _ => Err(format!(
            "no city or region: no city-id and region-id props in the {} namespace, and the \
             path does not match {pattern}",
            oscal_model::MIM6_NAMESPACE
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implementation_uuids_find_their_controls_in_any_form() {
        let mut names = ControlNames::default();
        let pairs = vec![
            (
                Uuid::of("6f3c1e2a-0000-4000-8000-00000000000b"),
                Arc::from("ac-2"),
            ),
            (
                Uuid::of("6f3c1e2a-0000-4000-8000-00000000000a"),
                Arc::from("ac-1"),
            ),
            (
                Uuid::of("6f3c1e2a-0000-4000-8000-00000000000a"),
                Arc::from("ac-9"),
            ),
            (
                Uuid::of("6F3C1E2A-0000-4000-8000-00000000000C"),
                Arc::from("ir-4"),
            ),
            (Uuid::of("not-a-uuid"), Arc::from("ir-5")),
        ];
        let found = Implementations::new(pairs, &mut names);
        let control = |uuid: &str| {
            found
                .get(&Uuid::of(uuid))
                .map(|id| &*names.names[id as usize])
        };
        assert_eq!(
            control("6f3c1e2a-0000-4000-8000-00000000000a"),
            Some("ac-9"),
            "the last wins"
        );
        assert_eq!(
            control("6f3c1e2a-0000-4000-8000-00000000000b"),
            Some("ac-2")
        );
        assert_eq!(
            control("6F3C1E2A-0000-4000-8000-00000000000C"),
            Some("ir-4")
        );
        assert_eq!(
            control("6f3c1e2a-0000-4000-8000-00000000000c"),
            None,
            "text compares exactly"
        );
        assert_eq!(control("not-a-uuid"), Some("ir-5"));
        assert_eq!(control("6f3c1e2a-0000-4000-8000-00000000000d"), None);
        assert_eq!(found.uuids.len(), 2);
    }

    #[test]
    fn path_patterns_name_region_and_city() {
        let root = Path::new("/in");
        let at = |p: &str| Path::new("/in").join(p);
        assert_eq!(
            match_pattern("{region}/{city}/**", root, &at("north/oslo/sys/ssp.json")),
            Some(("north".into(), "oslo".into()))
        );
        assert_eq!(
            match_pattern("{region}/{city}/**", root, &at("north/ssp.json")),
            None
        );
        assert_eq!(
            match_pattern(
                "fleet/{city}/{region}/*",
                root,
                &at("fleet/oslo/north/ssp.json")
            ),
            Some(("north".into(), "oslo".into()))
        );
        assert_eq!(
            match_pattern("fleet/{region}/{city}/**", root, &at("other/n/o/ssp.json")),
            None
        );
    }

    #[test]
    fn paths_are_normalised_lexically() {
        assert_eq!(
            normalise(Path::new("/a/b/../c/./d.json")),
            PathBuf::from("/a/c/d.json")
        );
    }
}
