//! Linking: results → plan → system, POA&M → system; attribution of systems to cities.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::facts::{DocumentRow, Facts, SystemRow};
use crate::parse::{Attribution, Parsed, Read, Rejection, Resource};

/// A document read, with the input folder it was found under.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) path: PathBuf,
    pub(crate) root: PathBuf,
    pub(crate) doc: Read,
}

/// The outcome of linking.
#[derive(Debug, Default)]
pub(crate) struct Linked {
    pub(crate) facts: Facts,
    pub(crate) rejected: Vec<Rejection>,
    pub(crate) warnings: Vec<String>,
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

struct Index<'e> {
    by_path: FxHashMap<&'e Path, usize>,
}

impl Index<'_> {
    /// The document an import names: `href` relative to the citing document's folder, or a
    /// back-matter resource (`#uuid`) whose rlink is; failing that, a document with the same
    /// file stem in the folder the href points to (with a warning).
    fn resolve(
        &self,
        citing: &Entry,
        href: &str,
        resources: &[Resource],
        warnings: &mut Vec<String>,
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
        if let Some(&index) = self.by_path.get(path.as_path()) {
            return Ok(index);
        }
        let stem = path.file_stem().map(|s| s.to_os_string());
        let parent = path.parent().map(Path::to_owned);
        if let (Some(stem), Some(parent)) = (stem, parent) {
            for ext in ["json", "xml", "yaml", "yml"] {
                let twin = parent.join(&stem).with_extension(ext);
                if let Some(&index) = self.by_path.get(twin.as_path()) {
                    warnings.push(format!(
                        "{}: {href} not found; using {}, which has the same stem",
                        citing.path.display(),
                        twin.display()
                    ));
                    return Ok(index);
                }
            }
        }
        Err(format!("{href}: no such document among the inputs"))
    }
}

/// What became of a document while linking.
#[derive(Debug, Clone, PartialEq)]
enum Fate {
    Pending,
    /// Accepted, belonging to the SSP at this index.
    System(usize),
    Rejected,
}

pub(crate) fn link(entries: Vec<Entry>, pattern: &str) -> Linked {
    let mut linked = Linked::default();
    let index = Index {
        by_path: entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.path.as_path(), i))
            .collect(),
    };
    let mut fates = vec![Fate::Pending; entries.len()];
    let mut reject = |fates: &mut Vec<Fate>, i: usize, location: &str, reason: String| {
        fates[i] = Fate::Rejected;
        linked.rejected.push(Rejection {
            path: entries[i].path.clone(),
            location: location.to_owned(),
            reason,
        });
    };
    // Systems first: attributed by props, else by path.
    let mut system_ids: FxHashMap<&str, usize> = FxHashMap::default();
    let mut ssp_uuids: FxHashMap<&str, usize> = FxHashMap::default();
    for (i, entry) in entries.iter().enumerate() {
        let Parsed::Ssp {
            uuid,
            attribution,
            system_ids: ids,
            ..
        } = &entry.doc.parsed
        else {
            continue;
        };
        if let Some(first) = ssp_uuids.get(uuid.as_str()) {
            let reason = format!(
                "system-security-plan uuid {uuid} is also the uuid of {}",
                entries[*first].path.display()
            );
            reject(&mut fates, i, "/system-security-plan/uuid", reason);
            continue;
        }
        match attribute(attribution, pattern, entry) {
            Ok(_) => {
                fates[i] = Fate::System(i);
                ssp_uuids.insert(uuid, i);
                for id in ids {
                    system_ids.entry(id).or_insert(i);
                }
            }
            Err(reason) => reject(
                &mut fates,
                i,
                "/system-security-plan/metadata/props",
                reason,
            ),
        }
    }
    // Then plans, then results and POA&Ms, each through what it imports.
    let mut follow = |fates: &mut Vec<Fate>,
                      i: usize,
                      href: &str,
                      resources: &[Resource],
                      pointer: &str,
                      expected: &str|
     -> Result<usize, (String, String)> {
        let target = index
            .resolve(&entries[i], href, resources, &mut linked.warnings)
            .map_err(|reason| (pointer.to_owned(), reason))?;
        let model = entries[target].doc.parsed.model();
        if model != expected {
            return Err((
                pointer.to_owned(),
                format!("{href} is a {model}, not an {expected}"),
            ));
        }
        match &fates[target] {
            Fate::System(system) => Ok(*system),
            Fate::Rejected => Err((
                pointer.to_owned(),
                format!("{href}: {} was rejected", entries[target].path.display()),
            )),
            Fate::Pending => Err((pointer.to_owned(), format!("{href}: not linked"))),
        }
    };
    for (i, entry) in entries.iter().enumerate() {
        if let Parsed::Ap { import, resources } = &entry.doc.parsed {
            match follow(
                &mut fates,
                i,
                import,
                resources,
                "/assessment-plan/import-ssp/href",
                "system-security-plan",
            ) {
                Ok(system) => fates[i] = Fate::System(system),
                Err((pointer, reason)) => reject(&mut fates, i, &pointer, reason),
            }
        }
    }
    for (i, entry) in entries.iter().enumerate() {
        let outcome = match &entry.doc.parsed {
            Parsed::Ar {
                import, resources, ..
            } => follow(
                &mut fates,
                i,
                import,
                resources,
                "/assessment-results/import-ap/href",
                "assessment-plan",
            ),
            Parsed::Poam {
                import: Some(import),
                resources,
                ..
            } => follow(
                &mut fates,
                i,
                import,
                resources,
                "/plan-of-action-and-milestones/import-ssp/href",
                "system-security-plan",
            ),
            Parsed::Poam {
                import: None,
                system_id,
                ..
            } => system_id
                .as_deref()
                .and_then(|id| system_ids.get(id).copied())
                .ok_or_else(|| {
                    (
                        "/plan-of-action-and-milestones/system-id".to_owned(),
                        "neither import-ssp nor a system-id of an ingested SSP".to_owned(),
                    )
                }),
            _ => continue,
        };
        match outcome {
            Ok(system) => fates[i] = Fate::System(system),
            Err((pointer, reason)) => reject(&mut fates, i, &pointer, reason),
        }
    }
    assemble(entries, &fates, pattern, &mut linked);
    linked
}

fn attribute(
    attribution: &Attribution,
    pattern: &str,
    entry: &Entry,
) -> Result<(String, String), String> {
    let from_path = match_pattern(pattern, &entry.root, &entry.path);
    attributed(attribution, from_path.as_ref(), pattern)
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

fn assemble(entries: Vec<Entry>, fates: &[Fate], pattern: &str, linked: &mut Linked) {
    let uuids: Vec<String> = entries
        .iter()
        .map(|entry| match &entry.doc.parsed {
            Parsed::Ssp { uuid, .. } => uuid.clone(),
            _ => String::new(),
        })
        .collect();
    let mut controls_of: FxHashMap<usize, FxHashMap<String, String>> = FxHashMap::default();
    for (i, entry) in entries.iter().enumerate() {
        if let Parsed::Ssp {
            implementation_controls,
            ..
        } = &entry.doc.parsed
            && fates[i] == Fate::System(i)
        {
            controls_of.insert(i, implementation_controls.iter().cloned().collect());
        }
    }
    let facts = &mut linked.facts;
    for (i, entry) in entries.into_iter().enumerate() {
        let Fate::System(owner) = fates[i] else {
            continue;
        };
        let system: Arc<str> = Arc::from(uuids[owner].as_str());
        // Paths in the facts are relative to the input folder, so that the same fleet gives
        // the same tables wherever it lies.
        let relative = entry
            .path
            .strip_prefix(&entry.root)
            .map(Path::to_owned)
            .unwrap_or_else(|_| entry.path.clone());
        let document: Arc<Path> = Arc::from(relative.as_path());
        facts.documents.push(DocumentRow {
            path: relative.clone(),
            model: entry.doc.parsed.model(),
            format: match entry.doc.format {
                oscal_io::Format::Json => "JSON",
                oscal_io::Format::Xml => "XML",
                oscal_io::Format::Yaml => "YAML",
            },
            system: system.clone(),
            bytes: entry.doc.bytes,
        });
        let controls = controls_of.get(&owner);
        let mut attach_risks = |risks: Vec<(crate::RiskRow, Vec<String>)>| {
            for (mut row, mitigating) in risks {
                row.system = Arc::clone(&system);
                row.document = Arc::clone(&document);
                let mut named: Vec<String> = mitigating
                    .iter()
                    .filter_map(|uuid| controls.and_then(|c| c.get(uuid)).cloned())
                    .collect();
                named.sort();
                named.dedup();
                row.mitigated_controls = named;
                facts.risks.push(row);
            }
        };
        match entry.doc.parsed {
            Parsed::Ssp {
                uuid,
                attribution,
                name,
                impact,
                implementations,
                ..
            } => {
                let from_path = match_pattern(pattern, &entry.root, &entry.path);
                let (region, city) =
                    attributed(&attribution, from_path.as_ref(), pattern).unwrap_or_default();
                facts.systems.push(SystemRow {
                    system: uuid.clone(),
                    path: relative.clone(),
                    city_name: attribution
                        .city_name
                        .clone()
                        .unwrap_or_else(|| city.clone()),
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
            Parsed::Ap { .. } => {}
            Parsed::Ar {
                findings,
                observations,
                risks,
                ..
            } => {
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
                attach_risks(risks);
            }
            Parsed::Poam { risks, items, .. } => {
                attach_risks(risks);
                facts.poam_items.extend(items.into_iter().map(|mut row| {
                    row.system = Arc::clone(&system);
                    row.document = Arc::clone(&document);
                    row
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
