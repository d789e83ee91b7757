//! Merge: combining the selections of every import into one catalog, in the structure the
//! profile asks for (`as-is`, flat, or `custom` groups), and handling controls imported twice.

use std::collections::HashSet;

use oscal_model::{Catalog, CatalogGroup, Control, InsertControls, Profile, ProfileGroup};

use crate::resolve::{CONTAINER_MARK, glob};
use crate::{Result, Warning};

/// How controls with the same id from different imports are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Combine {
    /// The first control with an id wins; later ones are dropped.
    UseFirst,
    /// Every copy is kept (the clash stays in the result).
    Keep,
    /// Copies are merged into the first one (deprecated in OSCAL 1.0.1; treated as use-first).
    Merge,
}

pub(crate) fn merge(
    profile: &Profile,
    imported: Vec<Catalog>,
    name: &str,
    strict: bool,
    warnings: &mut Vec<Warning>,
) -> Result<Catalog> {
    let merge = profile.merge.as_ref();
    // The 1.2.3 JSON schema lists no properties for `combine`; the metaschema (and so the XML
    // form) gives it a `method` flag, which reading keeps among the unrecognised properties.
    let method = merge
        .and_then(|m| m.combine.as_ref())
        .and_then(|c| c.unrecognized.get("method"))
        .and_then(serde_json::Value::as_str);
    let combine = match method {
        Some("use-first") => Combine::UseFirst,
        Some("merge") => Combine::Merge,
        Some("keep") => Combine::Keep,
        // Without a rule, clashes are kept, as in NIST's reference resolver.
        _ => Combine::Keep,
    };
    let as_is = merge.and_then(|m| m.as_is) == Some(true);
    let custom = merge.and_then(|m| m.custom.as_ref());

    let mut result = Catalog::default();
    if as_is {
        for catalog in imported {
            merge_as_is(&mut result, catalog);
        }
        absorb_containers_in(&mut result);
    } else {
        let mut controls = Vec::new();
        let mut params: Vec<oscal_model::Parameter> = Vec::new();
        for mut catalog in imported {
            for param in catalog.params.take().into_iter().flatten() {
                if !params.iter().any(|p| p.id == param.id) {
                    params.push(param);
                }
            }
            flatten_catalog(catalog, &mut controls);
        }
        result.controls = (!controls.is_empty()).then_some(controls);
        result.params = (!params.is_empty()).then_some(params);
    }
    if combine != Combine::Keep {
        let mut seen = HashSet::new();
        dedupe(&mut result, &mut seen);
    }
    if let Some(custom) = custom {
        let mut pool = Vec::new();
        let params = result.params.take();
        flatten_catalog(std::mem::take(&mut result), &mut pool);
        result.params = params;
        let mut used = HashSet::new();
        let groups: Vec<CatalogGroup> = custom
            .groups
            .iter()
            .flatten()
            .map(|g| custom_group(g, &pool, &mut used))
            .collect();
        let top: Vec<Control> = insert(
            custom.insert_controls.as_deref().unwrap_or(&[]),
            &pool,
            &mut used,
        );
        for control in &pool {
            if !used.contains(&control.id) {
                let message = format!(
                    "control {:?} is selected but no custom group inserts it",
                    control.id
                );
                crate::warn(warnings, strict, name, "/profile/merge/custom", message)?;
            }
        }
        result.controls = (!top.is_empty()).then_some(top);
        result.groups = (!groups.is_empty()).then_some(groups);
    }
    strip_marks(&mut result);
    Ok(result)
}

/// A control that one import keeps only as the container of its selected children, and that
/// another import selects itself, is one control: the container's children move into it. (A
/// profile importing a baseline and then an enhancement of a control in that baseline gets
/// the control once, with the enhancement.)
fn absorb_containers_in(catalog: &mut Catalog) {
    fn absorb(list: &mut Vec<Control>) {
        let mut index = 0;
        while index < list.len() {
            let id = list[index].id.clone();
            let twin = (index + 1..list.len()).find(|&j| {
                list[j].id == id
                    && (list[j].unrecognized.contains_key(CONTAINER_MARK)
                        || list[index].unrecognized.contains_key(CONTAINER_MARK))
            });
            if let Some(j) = twin {
                let other = list.remove(j);
                let target = &mut list[index];
                if target.unrecognized.contains_key(CONTAINER_MARK)
                    && !other.unrecognized.contains_key(CONTAINER_MARK)
                {
                    let children = target.controls.take();
                    *target = Control {
                        controls: children,
                        ..other.clone()
                    };
                }
                for child in other.controls.unwrap_or_default() {
                    let kids = target.controls.get_or_insert_with(Vec::new);
                    kids.push(child);
                }
                continue;
            }
            if let Some(children) = &mut list[index].controls {
                absorb(children);
            }
            index += 1;
        }
    }
    fn groups(list: &mut [CatalogGroup]) {
        for group in list {
            if let Some(controls) = &mut group.controls {
                absorb(controls);
            }
            groups(group.groups.as_deref_mut().unwrap_or(&mut []));
        }
    }
    if let Some(controls) = &mut catalog.controls {
        absorb(controls);
    }
    groups(catalog.groups.as_deref_mut().unwrap_or(&mut []));
}

/// Adds a filtered catalog to the result, keeping its groups: groups with the same id are
/// merged, others appended in order.
fn merge_as_is(result: &mut Catalog, catalog: Catalog) {
    if let Some(params) = catalog.params {
        result.params.get_or_insert_with(Vec::new).extend(params);
    }
    if let Some(controls) = catalog.controls {
        result
            .controls
            .get_or_insert_with(Vec::new)
            .extend(controls);
    }
    if let Some(groups) = catalog.groups {
        let target = result.groups.get_or_insert_with(Vec::new);
        merge_groups(target, groups);
    }
}

fn merge_groups(target: &mut Vec<CatalogGroup>, groups: Vec<CatalogGroup>) {
    for group in groups {
        let existing = group
            .id
            .as_ref()
            .and_then(|id| target.iter_mut().find(|g| g.id.as_ref() == Some(id)));
        match existing {
            Some(existing) => {
                if let Some(controls) = group.controls {
                    existing
                        .controls
                        .get_or_insert_with(Vec::new)
                        .extend(controls);
                }
                if let Some(groups) = group.groups {
                    merge_groups(existing.groups.get_or_insert_with(Vec::new), groups);
                }
            }
            None => target.push(group),
        }
    }
}

/// All top-level controls of a catalog's groups, in document order. Controls keep their child
/// controls; a control kept only as the container of selected controls stays their container,
/// as in NIST's reference resolver.
fn flatten_catalog(catalog: Catalog, out: &mut Vec<Control>) {
    fn controls(list: Vec<Control>, out: &mut Vec<Control>) {
        out.extend(list);
    }
    fn groups(list: Vec<CatalogGroup>, out: &mut Vec<Control>) {
        for group in list {
            controls(group.controls.unwrap_or_default(), out);
            groups(group.groups.unwrap_or_default(), out);
        }
    }
    controls(catalog.controls.unwrap_or_default(), out);
    groups(catalog.groups.unwrap_or_default(), out);
}

/// Drops second and later controls with an id already seen (use-first).
fn dedupe(catalog: &mut Catalog, seen: &mut HashSet<String>) {
    fn controls(list: &mut Option<Vec<Control>>, seen: &mut HashSet<String>) {
        if let Some(items) = list {
            items.retain(|c| {
                seen.insert(c.id.clone()) || c.unrecognized.contains_key(CONTAINER_MARK)
            });
            for control in items.iter_mut() {
                controls(&mut control.controls, seen);
            }
        }
    }
    fn groups(list: &mut Option<Vec<CatalogGroup>>, seen: &mut HashSet<String>) {
        for group in list.iter_mut().flatten() {
            controls(&mut group.controls, seen);
            groups(&mut group.groups, seen);
        }
    }
    controls(&mut catalog.controls, seen);
    groups(&mut catalog.groups, seen);
}

fn custom_group(
    group: &ProfileGroup,
    pool: &[Control],
    used: &mut HashSet<String>,
) -> CatalogGroup {
    let controls = insert(group.insert_controls.as_deref().unwrap_or(&[]), pool, used);
    let groups: Vec<CatalogGroup> = group
        .groups
        .iter()
        .flatten()
        .map(|g| custom_group(g, pool, used))
        .collect();
    CatalogGroup {
        id: group.id.clone(),
        class: group.class.clone(),
        title: group.title.clone(),
        params: group.params.clone(),
        props: group.props.clone(),
        links: group.links.clone(),
        parts: group.parts.clone(),
        groups: (!groups.is_empty()).then_some(groups),
        controls: (!controls.is_empty()).then_some(controls),
        ..CatalogGroup::default()
    }
}

/// The controls an `insert-controls` list takes from the pool, in the order it asks for.
fn insert(
    directives: &[InsertControls],
    pool: &[Control],
    used: &mut HashSet<String>,
) -> Vec<Control> {
    let mut out = Vec::new();
    for directive in directives {
        let mut chosen: Vec<&Control> = if directive.include_all.is_some() {
            pool.iter().collect()
        } else {
            pool.iter()
                .filter(|c| {
                    directive.include_controls.iter().flatten().any(|call| {
                        call.with_ids.iter().flatten().any(|id| *id == c.id)
                            || call
                                .matching
                                .iter()
                                .flatten()
                                .any(|m| m.pattern.as_deref().is_some_and(|p| glob(p, &c.id)))
                    })
                })
                .collect()
        };
        chosen.retain(|c| {
            !directive.exclude_controls.iter().flatten().any(|call| {
                call.with_ids.iter().flatten().any(|id| *id == c.id)
                    || call
                        .matching
                        .iter()
                        .flatten()
                        .any(|m| m.pattern.as_deref().is_some_and(|p| glob(p, &c.id)))
            })
        });
        match directive.order.as_deref() {
            Some("ascending") => chosen.sort_by_key(|c| natural(&c.id)),
            Some("descending") => chosen.sort_by_key(|c| std::cmp::Reverse(natural(&c.id))),
            _ => {}
        }
        for control in chosen {
            used.insert(control.id.clone());
            out.push(control.clone());
        }
    }
    out
}

/// A sort key that orders embedded numbers by value (`ac-2` before `ac-10`).
fn natural(id: &str) -> Vec<(String, u64)> {
    let mut key: Vec<(String, u64)> = Vec::new();
    let mut rest = id;
    while !rest.is_empty() {
        let text_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (text, after) = rest.split_at(text_len);
        let digits_len = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        let (digits, after) = after.split_at(digits_len);
        key.push((text.to_owned(), digits.parse().unwrap_or(0)));
        rest = after;
    }
    key
}

/// Removes the container marks that selection left on controls.
fn strip_marks(catalog: &mut Catalog) {
    fn controls(list: &mut Option<Vec<Control>>) {
        for control in list.iter_mut().flatten() {
            control.unrecognized.remove(CONTAINER_MARK);
            controls(&mut control.controls);
        }
    }
    fn groups(list: &mut Option<Vec<CatalogGroup>>) {
        for group in list.iter_mut().flatten() {
            controls(&mut group.controls);
            groups(&mut group.groups);
        }
    }
    controls(&mut catalog.controls);
    groups(&mut catalog.groups);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut ids = vec!["ac-10", "ac-2", "ac-2.1", "ac-1"];
        ids.sort_by_key(|id| natural(id));
        assert_eq!(ids, ["ac-1", "ac-2", "ac-2.1", "ac-10"]);
    }
}
