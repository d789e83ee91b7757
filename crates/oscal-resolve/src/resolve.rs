//! The resolution pipeline: import (load and select), merge, modify, finalize.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use oscal_model::{
    BackMatter, Catalog, CatalogGroup, Control, ControlCommonSelectControlById, Document, Import,
    Link, Metadata, Model, Parameter, Profile, Property, Resource,
};
use rayon::prelude::*;

use crate::loader::{HrefMap, Loader, Location};
use crate::modify::modify;
use crate::refs::References;
use crate::{Error, Result, Warning};

/// How a resolution is carried out.
#[derive(Debug, Clone)]
pub struct Options {
    /// Redirects for hrefs that cannot be read where they point.
    pub href_map: HrefMap,
    /// Turn warnings (selections and modifications that name missing ids) into errors.
    pub strict: bool,
    /// The uuid of the resolved catalog; by default one derived from the profile's uuid, so
    /// that the same profile resolves to the same catalog.
    pub uuid: Option<String>,
    /// The `last-modified` of the resolved catalog; by default the profile's.
    pub last_modified: Option<String>,
    /// The value of the `resolution-tool` property.
    pub tool: String,
    /// When set, a local import (not redirected by the href map) must lie inside this folder
    /// or a folder the href map points into: `../` out of them, absolute paths, `file://`
    /// URLs and symbolic links leading elsewhere are refused. A remote document may never
    /// import a local file, whatever this says.
    pub import_root: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            href_map: HrefMap::new(),
            strict: false,
            uuid: None,
            last_modified: None,
            tool: format!("mim6 {}", env!("CARGO_PKG_VERSION")),
            import_root: None,
        }
    }
}

/// A resolved profile: the catalog, and what was noticed on the way.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The resolved catalog.
    pub catalog: Catalog,
    /// Selections and modifications that named ids the imported catalogs lack.
    pub warnings: Vec<Warning>,
}

/// Resolves profiles into catalogs, loading imports through a [`Loader`].
pub struct Resolver<'l> {
    loader: &'l dyn Loader,
    options: Options,
}

impl std::fmt::Debug for Resolver<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// One control of a selection source, with where it sits.
pub(crate) struct Selected<'c> {
    pub(crate) id: &'c str,
    /// Ids of the controls that contain it, outermost first.
    pub(crate) ancestors: Vec<&'c str>,
}

impl<'l> Resolver<'l> {
    /// A resolver that reads documents with `loader`.
    pub fn new(loader: &'l dyn Loader, options: Options) -> Resolver<'l> {
        Resolver { loader, options }
    }

    /// Reads and resolves the profile at `location`.
    pub fn resolve_location(&self, location: &Location) -> Result<Resolved> {
        let bytes = self.loader.load(location).map_err(|reason| Error::Load {
            profile: location.to_string(),
            pointer: String::new(),
            href: location.to_string(),
            reason,
        })?;
        let name = std::path::PathBuf::from(location.to_string());
        let (_, document) = oscal_io::read_document(&name, &bytes)?;
        self.resolve_document(location, document)
    }

    /// Resolves a profile already read from `location`.
    pub fn resolve_document(&self, location: &Location, document: Document) -> Result<Resolved> {
        let Model::Profile(profile) = document.model else {
            return Err(Error::Directive {
                profile: location.to_string(),
                pointer: String::new(),
                message: format!("a {} is not a profile", document.model.kind()),
            });
        };
        let mut warnings = Vec::new();
        let mut stack = vec![location.clone()];
        let catalog = self.resolve_profile(location, &profile, &mut stack, &mut warnings)?;
        Ok(Resolved { catalog, warnings })
    }

    fn resolve_profile(
        &self,
        location: &Location,
        profile: &Profile,
        stack: &mut Vec<Location>,
        warnings: &mut Vec<Warning>,
    ) -> Result<Catalog> {
        let name = location.to_string();
        let mut imported = Vec::new();
        let mut sources = Vec::new();
        for (index, import) in profile.imports.iter().enumerate() {
            let pointer = format!("/profile/imports/{index}");
            let (filtered, back_matter) =
                self.import(location, profile, import, &pointer, stack, warnings)?;
            imported.push(filtered);
            sources.push(back_matter);
        }
        let merged = crate::merge::merge(profile, imported, &name, self.options.strict, warnings)?;
        let mut catalog = merged;
        if let Some(modifications) = &profile.modify {
            modify(
                &mut catalog,
                modifications,
                &name,
                self.options.strict,
                warnings,
            )?;
        }
        self.finalize(location, profile, catalog, &sources)
    }

    /// Loads the document an import names, resolves it to a catalog and keeps what the import
    /// selects; the catalog's back matter comes beside it.
    fn import(
        &self,
        location: &Location,
        profile: &Profile,
        import: &Import,
        pointer: &str,
        stack: &mut Vec<Location>,
        warnings: &mut Vec<Warning>,
    ) -> Result<(Catalog, Option<BackMatter>)> {
        let name = location.to_string();
        let strict = self.options.strict;
        let choose = |controls: &[Selected<'_>], warnings: &mut Vec<Warning>| {
            select(controls, import, &name, pointer, strict, warnings)
        };
        let href = import.href.as_deref().ok_or_else(|| Error::Directive {
            profile: name.clone(),
            pointer: pointer.to_owned(),
            message: "the import has no href".into(),
        })?;
        if stack.len() >= crate::MAX_IMPORT_DEPTH {
            return Err(Error::TooDeep {
                profile: name,
                limit: crate::MAX_IMPORT_DEPTH,
            });
        }
        let candidates = self.candidates(location, profile, href, pointer)?;
        let single = candidates.len() == 1;
        let mut failures = Vec::new();
        for (candidate, target) in candidates {
            let target = match target {
                Ok(target) => target,
                Err(reason) if single => {
                    failures.push(reason);
                    continue;
                }
                Err(reason) => {
                    failures.push(format!("{candidate}: {reason}"));
                    continue;
                }
            };
            if let Some(start) = stack.iter().position(|l| *l == target) {
                let mut chain: Vec<String> =
                    stack[start..].iter().map(ToString::to_string).collect();
                chain.push(target.to_string());
                return Err(Error::Cycle {
                    profile: name,
                    chain,
                });
            }
            let bytes = match self.loader.load(&target) {
                Ok(bytes) => bytes,
                Err(reason) => {
                    failures.push(format!("{target}: {reason}"));
                    continue;
                }
            };
            let path = std::path::PathBuf::from(target.to_string());
            // A JSON catalog is read as a tree of control ids first, and only the controls
            // the import keeps are built.
            let mut chosen = None;
            let text = std::str::from_utf8(&bytes).ok();
            if let (Some(text), Some(chooser)) = (text, Chooser::new(import))
                && let Some(lazy) = crate::lazy::read(text, &chooser)
            {
                let selection = choose(&lazy.listed(), warnings)?;
                match lazy.finish(&chooser) {
                    Ok(kept) => return Ok(kept),
                    // Something does not fit the model: the full reading below says where.
                    Err(_) => chosen = Some(selection),
                }
            }
            let (_, document) = oscal_io::read_document(&path, &bytes)?;
            let catalog = match document.model {
                Model::Catalog(catalog) => *catalog,
                Model::Profile(inner) => {
                    stack.push(target.clone());
                    let resolved = self.resolve_profile(&target, &inner, stack, warnings);
                    stack.pop();
                    resolved?
                }
                other => {
                    return Err(Error::NotImportable {
                        profile: name,
                        pointer: format!("{pointer}/href"),
                        href: href.to_owned(),
                        model: other.kind(),
                    });
                }
            };
            let selection = match chosen {
                Some(selection) => selection,
                None => choose(&listed(&catalog), warnings)?,
            };
            return Ok(filter(catalog, &selection));
        }
        Err(Error::Load {
            profile: name,
            pointer: format!("{pointer}/href"),
            href: href.to_owned(),
            reason: failures.join("; "),
        })
    }

    /// The locations to try for an href, in order: a back-matter resource's rlinks, or the
    /// href itself; each through the href map first, each with the location or why it is
    /// refused.
    fn candidates(
        &self,
        location: &Location,
        profile: &Profile,
        href: &str,
        pointer: &str,
    ) -> Result<Vec<(String, std::result::Result<Location, String>)>> {
        let name = location.to_string();
        let hrefs: Vec<String> = match href.strip_prefix('#') {
            Some(uuid) => {
                let resource = profile
                    .back_matter
                    .as_ref()
                    .and_then(|b| b.resources.as_ref())
                    .and_then(|r| r.iter().find(|r| r.uuid == uuid))
                    .ok_or_else(|| Error::Load {
                        profile: name.clone(),
                        pointer: format!("{pointer}/href"),
                        href: href.to_owned(),
                        reason: "no back-matter resource has this uuid".into(),
                    })?;
                let links: Vec<String> = resource
                    .rlinks
                    .iter()
                    .flatten()
                    .map(|l| l.href.clone())
                    .collect();
                if links.is_empty() {
                    return Err(Error::Load {
                        profile: name,
                        pointer: format!("{pointer}/href"),
                        href: href.to_owned(),
                        reason: "the back-matter resource has no rlink".into(),
                    });
                }
                links
            }
            None => vec![href.to_owned()],
        };
        let mut out = Vec::new();
        for href in hrefs {
            let target = match self.options.href_map.apply(&href) {
                Some(mapped) => Ok(mapped),
                None => location.join(&href).and_then(|target| {
                    if let Location::File(path) = &target {
                        if matches!(location, Location::Url(_)) {
                            return Err("a remote document cannot import a local file".into());
                        }
                        if let Some(root) = &self.options.import_root {
                            check_inside(path, root, &self.options.href_map)?;
                        }
                    }
                    Ok(target)
                }),
            };
            out.push((href, target));
        }
        Ok(out)
    }

    fn finalize(
        &self,
        location: &Location,
        profile: &Profile,
        mut catalog: Catalog,
        sources: &[Option<BackMatter>],
    ) -> Result<Catalog> {
        let mut metadata: Metadata = profile.metadata.clone();
        metadata.oscal_version = oscal_model::OSCAL_VERSION.to_owned();
        if let Some(when) = &self.options.last_modified {
            metadata.last_modified = when.clone();
        }
        let tool = Property {
            name: "resolution-tool".into(),
            value: self.options.tool.clone(),
            ..Property::default()
        };
        metadata.props.get_or_insert_with(Vec::new).push(tool);
        let source = Link {
            href: location.file_name(),
            rel: Some("source-profile".into()),
            ..Link::default()
        };
        metadata.links.get_or_insert_with(Vec::new).push(source);
        catalog.metadata = metadata;
        catalog.uuid = self
            .options
            .uuid
            .clone()
            .unwrap_or_else(|| oscal_model::uuid_from_name(&profile.uuid));

        // One walk through the result finds both what remains to decide: the loose
        // parameters it refers to, and the back-matter resources it cites (from the imported
        // catalogs and the profile, in the order they appear there).
        catalog.back_matter = None;
        let loose = catalog.params.take();
        // Groups are walked side by side.
        let groups = catalog.groups.take();
        let mut found = References::of(&catalog);
        let in_groups: Vec<References> = groups
            .as_deref()
            .unwrap_or(&[])
            .par_iter()
            .map(References::of)
            .collect();
        in_groups.into_iter().for_each(|other| found.extend(other));
        catalog.groups = groups;
        catalog.params = loose;
        prune_loose_params(&mut catalog, found.params.clone(), &location.to_string())?;
        if let Some(params) = &catalog.params {
            found.extend(References::of(params));
        }
        let cited = found.uuids;
        let mut seen = HashSet::new();
        let mut resources: Vec<Resource> = Vec::new();
        let all = sources
            .iter()
            .flatten()
            .chain(profile.back_matter.iter())
            .filter_map(|b| b.resources.as_ref())
            .flatten();
        for resource in all {
            // A resource marked `keep: always` stays whether or not it is cited.
            let keep = resource
                .props
                .iter()
                .flatten()
                .any(|p| p.name == "keep" && p.value == "always");
            if (keep || cited.contains(resource.uuid.as_str()))
                && seen.insert(resource.uuid.clone())
            {
                resources.push(resource.clone());
            }
        }
        if !resources.is_empty() {
            catalog.back_matter = Some(BackMatter {
                resources: Some(resources),
                ..BackMatter::default()
            });
        }
        Ok(catalog)
    }
}

/// A control as selection sees it, built or still raw JSON: its id and child controls.
pub(crate) trait ControlNode: Sized {
    fn id(&self) -> &str;
    fn children(&self) -> &[Self];
}

/// A group as selection sees it, built or still raw JSON: its controls and subgroups.
pub(crate) trait GroupNode: Sized {
    type Control: ControlNode;
    fn controls(&self) -> &[Self::Control];
    fn groups(&self) -> &[Self];
}

impl ControlNode for Control {
    fn id(&self) -> &str {
        &self.id
    }

    fn children(&self) -> &[Control] {
        self.controls.as_deref().unwrap_or(&[])
    }
}

impl GroupNode for CatalogGroup {
    type Control = Control;

    fn controls(&self) -> &[Control] {
        self.controls.as_deref().unwrap_or(&[])
    }

    fn groups(&self) -> &[CatalogGroup] {
        self.groups.as_deref().unwrap_or(&[])
    }
}

/// All controls of a catalog (its own `controls`, then its `groups`) in document order, with
/// their ancestor controls.
pub(crate) fn listing<'c, G: GroupNode>(
    controls: &'c [G::Control],
    groups: &'c [G],
) -> Vec<Selected<'c>> {
    fn walk<'c, C: ControlNode>(
        controls: &'c [C],
        ancestors: &mut Vec<&'c str>,
        out: &mut Vec<Selected<'c>>,
    ) {
        for control in controls {
            out.push(Selected {
                id: control.id(),
                ancestors: ancestors.clone(),
            });
            ancestors.push(control.id());
            walk(control.children(), ancestors, out);
            ancestors.pop();
        }
    }
    fn walk_groups<'c, G: GroupNode>(list: &'c [G], out: &mut Vec<Selected<'c>>) {
        for group in list {
            walk(group.controls(), &mut Vec::new(), out);
            walk_groups(group.groups(), out);
        }
    }
    let mut out = Vec::new();
    walk(controls, &mut Vec::new(), &mut out);
    walk_groups(groups, &mut out);
    out
}

/// All controls of a catalog in document order, with their ancestor controls.
fn listed(catalog: &Catalog) -> Vec<Selected<'_>> {
    listing::<CatalogGroup>(
        catalog.controls.as_deref().unwrap_or(&[]),
        catalog.groups.as_deref().unwrap_or(&[]),
    )
}

/// All controls of a catalog in document order.
fn all_controls(catalog: &Catalog) -> Vec<&Control> {
    fn walk<'c>(controls: &'c [Control], out: &mut Vec<&'c Control>) {
        for control in controls {
            out.push(control);
            walk(control.controls.as_deref().unwrap_or(&[]), out);
        }
    }
    fn walk_groups<'c>(list: &'c [CatalogGroup], out: &mut Vec<&'c Control>) {
        for group in list {
            walk(group.controls.as_deref().unwrap_or(&[]), out);
            walk_groups(group.groups.as_deref().unwrap_or(&[]), out);
        }
    }
    let mut out = Vec::new();
    walk(catalog.controls.as_deref().unwrap_or(&[]), &mut out);
    walk_groups(catalog.groups.as_deref().unwrap_or(&[]), &mut out);
    out
}

/// Glob matching with `*` (any run) and `?` (one character), as `matching/@pattern` uses.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Checks a list of `include-controls` / `exclude-controls` calls against `controls` (all the
/// controls of the imported catalog): a `with-ids` the catalog lacks and an empty pattern are
/// warnings, a malformed pattern an error.
fn check_calls(
    controls: &[Selected<'_>],
    calls: &[ControlCommonSelectControlById],
    name: &str,
    pointer: &str,
    strict: bool,
    warnings: &mut Vec<Warning>,
) -> Result<()> {
    let known: HashSet<&str> = controls.iter().map(|s| s.id).collect();
    for (index, call) in calls.iter().enumerate() {
        let at = format!("{pointer}/{index}");
        for (i, id) in call.with_ids.iter().flatten().enumerate() {
            if !known.contains(id.as_str()) {
                let message =
                    format!("with-ids names control {id:?}, which the imported catalog lacks");
                crate::warn(
                    warnings,
                    strict,
                    name,
                    &format!("{at}/with-ids/{i}"),
                    message,
                )?;
            }
        }
        for (i, matching) in call.matching.iter().flatten().enumerate() {
            let pattern = matching.pattern.as_deref().unwrap_or("");
            let here = format!("{at}/matching/{i}/pattern");
            if pattern.is_empty() {
                // NIST's expected output: an empty pattern matches nothing.
                let message = "an empty matching pattern selects nothing".to_owned();
                crate::warn(warnings, strict, name, &here, message)?;
                continue;
            }
            if let Some(bad) = malformed(pattern) {
                return Err(Error::Directive {
                    profile: name.to_owned(),
                    pointer: here,
                    message: format!(
                        "malformed matching pattern {pattern:?}: {bad:?} is not allowed (patterns use * and ?)"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The character that makes a `matching` pattern malformed, if any.
fn malformed(pattern: &str) -> Option<char> {
    pattern
        .chars()
        .find(|c| c.is_whitespace() || "[]{}\\".contains(*c))
}

/// Which controls an import keeps, decided for each control from its id and the ids of the
/// controls that contain it alone, so that a catalog's controls can be chosen as they are read.
pub(crate) struct Chooser<'i> {
    /// `None`: `include-all`.
    include: Option<Vec<Call<'i>>>,
    exclude: Vec<Call<'i>>,
}

/// One `include-controls` or `exclude-controls`.
struct Call<'i> {
    ids: HashSet<&'i str>,
    /// Non-empty patterns (an empty one matches nothing).
    patterns: Vec<&'i str>,
    with_children: bool,
}

impl<'i> Call<'i> {
    fn new(call: &'i ControlCommonSelectControlById) -> Call<'i> {
        Call {
            ids: call.with_ids.iter().flatten().map(String::as_str).collect(),
            patterns: call
                .matching
                .iter()
                .flatten()
                .filter_map(|m| m.pattern.as_deref())
                .filter(|p| !p.is_empty())
                .collect(),
            with_children: call.with_child_controls.as_deref() == Some("yes"),
        }
    }

    /// Named by id or pattern.
    fn names(&self, id: &str) -> bool {
        self.ids.contains(id) || self.patterns.iter().any(|p| glob(p, id))
    }

    fn calls(&self, id: &str, ancestors: &[&str]) -> bool {
        self.names(id) || (self.with_children && ancestors.iter().any(|a| self.names(a)))
    }
}

impl<'i> Chooser<'i> {
    /// The chooser of an import; `None` when a pattern is malformed (which [`select`]
    /// reports).
    pub(crate) fn new(import: &'i Import) -> Option<Chooser<'i>> {
        let calls = |list: &'i Option<Vec<ControlCommonSelectControlById>>| {
            list.iter().flatten().map(Call::new).collect::<Vec<_>>()
        };
        let chooser = Chooser {
            include: import
                .include_all
                .is_none()
                .then(|| calls(&import.include_controls)),
            exclude: calls(&import.exclude_controls),
        };
        let patterns = chooser.include.iter().flatten().chain(&chooser.exclude);
        let mut patterns = patterns.flat_map(|c| &c.patterns);
        patterns.all(|p| malformed(p).is_none()).then_some(chooser)
    }

    /// Whether the import keeps the control `id`, inside the controls `ancestors`
    /// (outermost first).
    pub(crate) fn chosen(&self, id: &str, ancestors: &[&str]) -> bool {
        let included = match &self.include {
            None => true,
            Some(calls) => calls.iter().any(|c| c.calls(id, ancestors)),
        };
        included && !self.exclude.iter().any(|c| c.calls(id, ancestors))
    }
}

/// The ids of the controls an import selects from `controls` (all the controls of the
/// imported catalog), after checking its calls.
pub(crate) fn select(
    controls: &[Selected<'_>],
    import: &Import,
    name: &str,
    pointer: &str,
    strict: bool,
    warnings: &mut Vec<Warning>,
) -> Result<HashSet<String>> {
    if import.include_all.is_none() {
        let calls = import.include_controls.as_deref().unwrap_or(&[]);
        let at = format!("{pointer}/include-controls");
        check_calls(controls, calls, name, &at, strict, warnings)?;
    }
    if let Some(excludes) = &import.exclude_controls {
        let at = format!("{pointer}/exclude-controls");
        check_calls(controls, excludes, name, &at, strict, warnings)?;
    }
    let chooser = Chooser::new(import).expect("patterns checked above");
    Ok(controls
        .iter()
        .filter(|s| chooser.chosen(s.id, &s.ancestors))
        .map(|s| s.id.to_owned())
        .collect())
}

/// The catalog keeping only what a selection needs: the selected controls, the controls that
/// contain them (as the containers they are in the source), and the groups around them.
/// Loose parameters float to the catalog level when the result refers to them. The source is
/// consumed (its controls move into the result); its back matter is returned beside it.
fn filter(mut catalog: Catalog, selection: &HashSet<String>) -> (Catalog, Option<BackMatter>) {
    fn keep_controls(
        list: Option<Vec<Control>>,
        selection: &HashSet<String>,
    ) -> Option<Vec<Control>> {
        let kept: Vec<Control> = list
            .into_iter()
            .flatten()
            .filter_map(|c| keep_control(c, selection))
            .collect();
        (!kept.is_empty()).then_some(kept)
    }
    fn keep_control(mut control: Control, selection: &HashSet<String>) -> Option<Control> {
        control.controls = keep_controls(control.controls.take(), selection);
        let selected = selection.contains(&control.id);
        if !selected && control.controls.is_none() {
            return None;
        }
        if !selected {
            // Kept only to hold a selected child.
            control
                .unrecognized
                .insert(CONTAINER_MARK.into(), serde_json::Value::Bool(true));
        }
        Some(control)
    }
    fn keep_groups(
        list: Option<Vec<CatalogGroup>>,
        selection: &HashSet<String>,
    ) -> Option<Vec<CatalogGroup>> {
        let kept: Vec<CatalogGroup> = list
            .into_iter()
            .flatten()
            .filter_map(|g| keep_group(g, selection))
            .collect();
        (!kept.is_empty()).then_some(kept)
    }
    fn keep_group(mut group: CatalogGroup, selection: &HashSet<String>) -> Option<CatalogGroup> {
        group.controls = keep_controls(group.controls.take(), selection);
        group.groups = keep_groups(group.groups.take(), selection);
        (group.controls.is_some() || group.groups.is_some()).then_some(group)
    }
    let params: Vec<Parameter> = all_params(&catalog).into_iter().cloned().collect();
    let back_matter = catalog.back_matter.take();
    catalog.controls = keep_controls(catalog.controls.take(), selection);
    catalog.groups = keep_groups(catalog.groups.take(), selection);
    gather_loose_params(&mut catalog, &params);
    (catalog, back_matter)
}

/// Marks a control that is in the result only because it contains selected controls.
pub(crate) const CONTAINER_MARK: &str = "\u{0}mim6-container";

/// Loose parameters (the specification's "loose params"): every parameter of the source that
/// no kept control defines, whether the source had it at the catalog level, in a group or in a
/// control the profile left out. They go to the catalog level, in source order, where
/// `set-parameters` can still reach them; [`prune_loose_params`] keeps those the final result
/// refers to. Groups keep no parameters of their own.
pub(crate) fn gather_loose_params(result: &mut Catalog, everywhere: &[Parameter]) {
    fn strip_groups(list: &mut [CatalogGroup]) {
        for group in list {
            group.params = None;
            strip_groups(group.groups.as_deref_mut().unwrap_or(&mut []));
        }
    }
    strip_groups(result.groups.as_deref_mut().unwrap_or(&mut []));
    let mut defined = HashSet::new();
    for control in all_controls(result) {
        for param in control.params.iter().flatten() {
            if let Some(id) = &param.id {
                defined.insert(id.clone());
            }
        }
    }
    let loose: Vec<Parameter> = everywhere
        .iter()
        .filter(|p| p.id.as_deref().is_none_or(|id| !defined.contains(id)))
        .cloned()
        .collect();
    result.params = (!loose.is_empty()).then_some(loose);
}

/// Keeps the loose parameters that the rest of the catalog inserts or depends on (`wanted`),
/// and those that kept loose parameters refer to in turn.
fn prune_loose_params(
    catalog: &mut Catalog,
    mut wanted: HashSet<String>,
    name: &str,
) -> Result<()> {
    let Some(loose) = catalog.params.take() else {
        return Ok(());
    };
    // A parameter that a control of the result defines is not loose (another import may have
    // left that control out and offered its parameter as loose).
    let defined: HashSet<String> = all_controls(catalog)
        .iter()
        .flat_map(|c| c.params.iter().flatten())
        .filter_map(|p| p.id.clone())
        .collect();
    let mut loose: Vec<Parameter> = loose
        .into_iter()
        .filter(|p| p.id.as_ref().is_none_or(|id| !defined.contains(id)))
        .collect();
    let mut kept = vec![false; loose.len()];
    loop {
        let mut grew = false;
        for (i, param) in loose.iter_mut().enumerate() {
            if !kept[i] && param.id.as_deref().is_some_and(|id| wanted.contains(id)) {
                kept[i] = true;
                grew = true;
                materialize(param, name)?;
                wanted.extend(References::of(&*param).params);
            }
        }
        if !grew {
            break;
        }
    }
    let mut seen = HashSet::new();
    let params: Vec<Parameter> = loose
        .into_iter()
        .zip(kept)
        .filter(|(p, keep)| *keep && seen.insert(p.id.clone()))
        .map(|(p, _)| p)
        .collect();
    catalog.params = (!params.is_empty()).then_some(params);
    Ok(())
}

/// Marks a parameter of an imported JSON catalog that is carried as its raw JSON text (the
/// mark's value) until it is wanted: the parameters of the controls an import leaves out,
/// which the result keeps only if it refers to them.
pub(crate) const DEFERRED_MARK: &str = "\u{0}mim6-deferred";

/// A parameter carried with [`DEFERRED_MARK`] turned into the whole parameter.
pub(crate) fn materialize(param: &mut Parameter, name: &str) -> Result<()> {
    let Some(serde_json::Value::String(raw)) = param.unrecognized.get(DEFERRED_MARK) else {
        return Ok(());
    };
    *param = serde_json::from_str(raw).map_err(|e| Error::Directive {
        profile: name.to_owned(),
        pointer: String::new(),
        message: format!(
            "parameter {:?} of an imported catalog does not fit the model: {e}",
            param.id.as_deref().unwrap_or("")
        ),
    })?;
    Ok(())
}

/// Every parameter of a catalog, in document order: catalog, groups, controls.
fn all_params(catalog: &Catalog) -> Vec<&Parameter> {
    fn controls<'c>(list: &'c [Control], out: &mut Vec<&'c Parameter>) {
        for control in list {
            out.extend(control.params.iter().flatten());
            controls(control.controls.as_deref().unwrap_or(&[]), out);
        }
    }
    fn groups<'c>(list: &'c [CatalogGroup], out: &mut Vec<&'c Parameter>) {
        for group in list {
            out.extend(group.params.iter().flatten());
            controls(group.controls.as_deref().unwrap_or(&[]), out);
            groups(group.groups.as_deref().unwrap_or(&[]), out);
        }
    }
    let mut out: Vec<&Parameter> = catalog.params.iter().flatten().collect();
    controls(catalog.controls.as_deref().unwrap_or(&[]), &mut out);
    groups(catalog.groups.as_deref().unwrap_or(&[]), &mut out);
    out
}

/// Whether `path` lies inside `root` or a folder the href map points into: lexically (no `..`
/// out of it), and once symbolic links are followed (when the file exists).
fn check_inside(path: &Path, root: &Path, map: &HrefMap) -> std::result::Result<(), String> {
    let absolute = |p: &Path| std::path::absolute(p).map(|p| crate::loader::normalize(&p));
    let inside = |folder: &Path| {
        let (Ok(lexical), Ok(lexical_folder)) = (absolute(path), absolute(folder)) else {
            return false;
        };
        if !lexical.starts_with(&lexical_folder) {
            return false;
        }
        match (path.canonicalize(), folder.canonicalize()) {
            (Ok(real), Ok(real_folder)) => real.starts_with(&real_folder),
            _ => true,
        }
    };
    if inside(root) || map.local_folders().any(|folder| inside(&folder)) {
        Ok(())
    } else {
        let shown = absolute(root).unwrap_or_else(|_| root.to_owned());
        Err(format!(
            "it points outside {}, the folder imports may be read from",
            shown.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_patterns() {
        assert!(glob("ac-*", "ac-2.1"));
        assert!(glob("?c-1", "ac-1"));
        assert!(!glob("ac-?", "ac-10"));
        assert!(glob("*", ""));
        assert!(!glob("a", "ab"));
    }

    #[test]
    fn derived_uuids_are_uuids() {
        assert!(crate::refs::is_uuid(&oscal_model::uuid_from_name(
            "6a917bb8-b705-4b60-bcf9-6f10bdf24d3b"
        )));
    }
}
