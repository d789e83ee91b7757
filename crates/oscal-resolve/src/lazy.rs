//! A JSON catalog read for selection: the tree of its groups and controls with their ids,
//! every other property kept as raw JSON text until the control turns out to be wanted.
//!
//! A baseline selects a fraction of a large catalog (NIST's MODERATE: 287 of its 1,196
//! controls), so building the model only for what is kept saves most of the reading. The raw
//! text is checked as JSON on the way; a property that does not fit the model is found when
//! the control is built, and the caller then reads the document in full, which locates the
//! problem the usual way.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use oscal_model::{BackMatter, Catalog, CatalogGroup, Control, Parameter};
use rayon::prelude::*;
use serde::de::value::MapDeserializer;
use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::resolve::{CONTAINER_MARK, Selected, gather_loose_params};

/// A property name, borrowed from the text unless it holds escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a property name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Properties in document order, values as raw JSON.
type Fields<'a> = Vec<(Key<'a>, &'a RawValue)>;

/// Builds a model object from its properties.
fn build<T: DeserializeOwned>(fields: &[(Key<'_>, &RawValue)]) -> serde_json::Result<T> {
    // Deserializing a map reads every entry and fails on any left over.
    T::deserialize(MapDeserializer::<_, serde_json::Error>::new(
        fields.iter().map(|(k, v)| (k.0.as_ref(), *v)),
    ))
}

fn field<'a>(fields: &[(Key<'a>, &'a RawValue)], name: &str) -> Option<&'a RawValue> {
    fields.iter().find(|(k, _)| k.0 == name).map(|(_, v)| *v)
}

/// A catalog whose controls are not built yet.
pub(crate) struct LazyCatalog<'a> {
    fields: Fields<'a>,
    controls: Vec<LazyControl<'a>>,
    groups: Vec<LazyGroup<'a>>,
}

struct LazyGroup<'a> {
    fields: Fields<'a>,
    controls: Vec<LazyControl<'a>>,
    groups: Vec<LazyGroup<'a>>,
}

struct LazyControl<'a> {
    id: String,
    fields: Fields<'a>,
    controls: Vec<LazyControl<'a>>,
}

/// Reads a JSON document that holds a catalog; `None` when the text is anything else (not
/// JSON, not a catalog, not the shape of one), which the caller reads in full.
pub(crate) fn read(text: &str) -> Option<LazyCatalog<'_>> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let document = LazyDocument::deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    Some(document.0)
}

struct LazyDocument<'a>(LazyCatalog<'a>);

impl<'de> Deserialize<'de> for LazyDocument<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DocumentVisitor;
        impl<'de> Visitor<'de> for DocumentVisitor {
            type Value = LazyDocument<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a catalog document")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut catalog = None;
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    match key.0.as_ref() {
                        "$schema" => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        "catalog" if catalog.is_none() => catalog = Some(map.next_value()?),
                        _ => return Err(de::Error::custom("not a catalog document")),
                    }
                }
                catalog
                    .map(LazyDocument)
                    .ok_or_else(|| de::Error::custom("no catalog"))
            }
        }
        deserializer.deserialize_map(DocumentVisitor)
    }
}

/// Reads an object's properties, `controls` and `groups` as trees and the rest raw.
fn read_object<'de, A: MapAccess<'de>>(
    mut map: A,
    with_groups: bool,
) -> Result<(Fields<'de>, Vec<LazyControl<'de>>, Vec<LazyGroup<'de>>), A::Error> {
    let mut fields = Vec::new();
    let mut controls = None;
    let mut groups = None;
    while let Some(key) = map.next_key::<Key<'de>>()? {
        match key.0.as_ref() {
            "controls" if controls.is_some() => return Err(de::Error::duplicate_field("controls")),
            "controls" => controls = Some(map.next_value()?),
            "groups" if with_groups && groups.is_some() => {
                return Err(de::Error::duplicate_field("groups"));
            }
            "groups" if with_groups => groups = Some(map.next_value()?),
            _ => fields.push((key, map.next_value()?)),
        }
    }
    Ok((
        fields,
        controls.unwrap_or_default(),
        groups.unwrap_or_default(),
    ))
}

impl<'de> Deserialize<'de> for LazyCatalog<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CatalogVisitor;
        impl<'de> Visitor<'de> for CatalogVisitor {
            type Value = LazyCatalog<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a catalog")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let (fields, controls, groups) = read_object(map, true)?;
                Ok(LazyCatalog {
                    fields,
                    controls,
                    groups,
                })
            }
        }
        deserializer.deserialize_map(CatalogVisitor)
    }
}

impl<'de> Deserialize<'de> for LazyGroup<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct GroupVisitor;
        impl<'de> Visitor<'de> for GroupVisitor {
            type Value = LazyGroup<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a group")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let (fields, controls, groups) = read_object(map, true)?;
                Ok(LazyGroup {
                    fields,
                    controls,
                    groups,
                })
            }
        }
        deserializer.deserialize_map(GroupVisitor)
    }
}

impl<'de> Deserialize<'de> for LazyControl<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ControlVisitor;
        impl<'de> Visitor<'de> for ControlVisitor {
            type Value = LazyControl<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a control")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let (fields, controls, _) = read_object(map, false)?;
                let id = field(&fields, "id")
                    .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
                    .ok_or_else(|| de::Error::custom("a control without an id"))?;
                Ok(LazyControl {
                    id,
                    fields,
                    controls,
                })
            }
        }
        deserializer.deserialize_map(ControlVisitor)
    }
}

impl<'a> LazyCatalog<'a> {
    /// Every control in document order with its ancestors, as [`crate::resolve`] selects
    /// from.
    pub(crate) fn listed(&self) -> Vec<Selected<'_>> {
        fn walk<'c>(
            controls: &'c [LazyControl<'_>],
            ancestors: &mut Vec<&'c str>,
            out: &mut Vec<Selected<'c>>,
        ) {
            for control in controls {
                out.push(Selected {
                    id: &control.id,
                    ancestors: ancestors.clone(),
                });
                ancestors.push(&control.id);
                walk(&control.controls, ancestors, out);
                ancestors.pop();
            }
        }
        fn walk_groups<'c>(list: &'c [LazyGroup<'_>], out: &mut Vec<Selected<'c>>) {
            for group in list {
                walk(&group.controls, &mut Vec::new(), out);
                walk_groups(&group.groups, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.controls, &mut Vec::new(), &mut out);
        walk_groups(&self.groups, &mut out);
        out
    }

    /// The catalog keeping what `selection` needs, exactly as
    /// [`crate::resolve`]'s filter makes it from the whole catalog, with its back matter
    /// beside it.
    pub(crate) fn filter(
        self,
        selection: &HashSet<String>,
    ) -> serde_json::Result<(Catalog, Option<BackMatter>)> {
        let mut catalog: Catalog = build(&self.fields)?;
        // Every parameter of the source in document order: catalog, controls, groups.
        let mut params: Vec<Parameter> = catalog.params.iter().flatten().cloned().collect();
        catalog.controls = keep_controls(self.controls, selection, &mut params)?;
        // The groups of a catalog are built side by side; their parameters are gathered in
        // document order all the same.
        let built: Vec<(Option<CatalogGroup>, Vec<Parameter>)> = self
            .groups
            .into_par_iter()
            .map(|lazy| {
                let mut own = Vec::new();
                keep_group(lazy, selection, &mut own).map(|group| (group, own))
            })
            .collect::<serde_json::Result<_>>()?;
        let mut groups = Vec::new();
        for (group, own) in built {
            groups.extend(group);
            params.extend(own);
        }
        catalog.groups = (!groups.is_empty()).then_some(groups);
        let back_matter = catalog.back_matter.take();
        gather_loose_params(&mut catalog, &params);
        Ok((catalog, back_matter))
    }
}

fn holds_selected(control: &LazyControl<'_>, selection: &HashSet<String>) -> bool {
    selection.contains(&control.id)
        || control
            .controls
            .iter()
            .any(|c| holds_selected(c, selection))
}

fn keep_controls(
    list: Vec<LazyControl<'_>>,
    selection: &HashSet<String>,
    params: &mut Vec<Parameter>,
) -> serde_json::Result<Option<Vec<Control>>> {
    let mut kept = Vec::new();
    for control in list {
        if let Some(control) = keep_control(control, selection, params)? {
            kept.push(control);
        }
    }
    Ok((!kept.is_empty()).then_some(kept))
}

fn keep_control(
    lazy: LazyControl<'_>,
    selection: &HashSet<String>,
    params: &mut Vec<Parameter>,
) -> serde_json::Result<Option<Control>> {
    let selected = selection.contains(&lazy.id);
    let mut control = None;
    if selected || lazy.controls.iter().any(|c| holds_selected(c, selection)) {
        let built: Control = build(&lazy.fields)?;
        params.extend(built.params.iter().flatten().cloned());
        control = Some(built);
    } else if let Some(raw) = field(&lazy.fields, "params") {
        let own: Option<Vec<Parameter>> = serde_json::from_str(raw.get())?;
        params.extend(own.into_iter().flatten());
    }
    let children = keep_controls(lazy.controls, selection, params)?;
    Ok(control.map(|mut control| {
        control.controls = children;
        if !selected {
            // Kept only to hold a selected child.
            control
                .unrecognized
                .insert(CONTAINER_MARK.into(), serde_json::Value::Bool(true));
        }
        control
    }))
}

fn keep_groups(
    list: Vec<LazyGroup<'_>>,
    selection: &HashSet<String>,
    params: &mut Vec<Parameter>,
) -> serde_json::Result<Option<Vec<CatalogGroup>>> {
    let mut kept = Vec::new();
    for lazy in list {
        kept.extend(keep_group(lazy, selection, params)?);
    }
    Ok((!kept.is_empty()).then_some(kept))
}

fn keep_group(
    lazy: LazyGroup<'_>,
    selection: &HashSet<String>,
    params: &mut Vec<Parameter>,
) -> serde_json::Result<Option<CatalogGroup>> {
    let mut group: CatalogGroup = build(&lazy.fields)?;
    params.extend(group.params.iter().flatten().cloned());
    group.controls = keep_controls(lazy.controls, selection, params)?;
    group.groups = keep_groups(lazy.groups, selection, params)?;
    Ok((group.controls.is_some() || group.groups.is_some()).then_some(group))
}
