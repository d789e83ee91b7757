//! A JSON catalog read for selection: the tree of its groups and controls with their ids,
//! every other property kept as raw JSON text until the control turns out to be wanted.
//!
//! A baseline selects a fraction of a large catalog (NIST's MODERATE: 287 of its 1,196
//! controls), so building the model only for what is kept saves most of the reading. Which
//! controls are kept depends on their ids and their ancestors' alone ([`Chooser`]), so each
//! top-level group is built (on the rayon pool) as soon as it has been read, while the rest of
//! the catalog is still being read. The raw text is checked as JSON on the way; a property
//! that does not fit the model is found when the control is built, and the caller then reads
//! the document in full, which locates the problem the usual way.

use std::borrow::Cow;
use std::fmt;
use std::sync::Mutex;

use oscal_model::{BackMatter, Catalog, CatalogGroup, Control, Parameter};
use serde::de::value::MapDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::resolve::{
    CONTAINER_MARK, Chooser, ControlNode, DEFERRED_MARK, GroupNode, Selected, gather_loose_params,
    listing,
};

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

/// A catalog whose controls are not built yet, but for its groups, built as they were read.
pub(crate) struct LazyCatalog<'a> {
    fields: Fields<'a>,
    controls: Vec<LazyControl<'a>>,
    groups: Vec<LazyGroup<'a>>,
    /// What the import keeps of each group, in the order of `groups`.
    built: Vec<Built>,
}

/// What an import keeps of a group, and the parameters of the group and all its controls
/// (kept or not) in document order.
type Built = serde_json::Result<(Option<CatalogGroup>, Vec<Parameter>)>;

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

/// A group read and built, at its place among the catalog's groups.
type Slot<'a> = (usize, LazyGroup<'a>, Built);

/// Reads a JSON document that holds a catalog, building each group with what `chooser`
/// keeps; `None` when the text is anything else (not JSON, not a catalog, not the shape of
/// one), which the caller reads in full.
pub(crate) fn read<'a>(text: &'a str, chooser: &Chooser<'_>) -> Option<LazyCatalog<'a>> {
    let slots = Mutex::new(Vec::new());
    // The scope ends when every group it started building is built.
    let catalog = rayon::scope(|scope| {
        let builder = Builder {
            scope,
            chooser,
            slots: &slots,
        };
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let catalog = DocumentSeed(builder).deserialize(&mut deserializer).ok()?;
        deserializer.end().ok()?;
        Some(catalog)
    });
    let mut catalog = catalog?;
    let mut slots = slots.into_inner().ok()?;
    slots.sort_by_key(|(index, ..)| *index);
    for (_, group, built) in slots {
        catalog.groups.push(group);
        catalog.built.push(built);
    }
    Some(catalog)
}

/// Starts building each group of the catalog as soon as it is read.
struct Builder<'r, 'scope, 'a> {
    scope: &'r rayon::Scope<'scope>,
    chooser: &'scope Chooser<'scope>,
    slots: &'scope Mutex<Vec<Slot<'a>>>,
}

impl Clone for Builder<'_, '_, '_> {
    fn clone(&self) -> Self {
        *self
    }
}

impl Copy for Builder<'_, '_, '_> {}

impl<'a: 'scope, 'scope> Builder<'_, 'scope, 'a> {
    fn start(self, index: usize, group: LazyGroup<'a>) {
        let (chooser, slots) = (self.chooser, self.slots);
        self.scope.spawn(move |_| {
            let mut params = Vec::new();
            let built = keep_group(&group, chooser, &mut params).map(|kept| (kept, params));
            // A poisoned lock means a build panicked, and the scope passes that panic on.
            if let Ok(mut slots) = slots.lock() {
                slots.push((index, group, built));
            }
        });
    }
}

struct DocumentSeed<'r, 'scope, 'a>(Builder<'r, 'scope, 'a>);

impl<'a: 'scope, 'scope> DeserializeSeed<'a> for DocumentSeed<'_, 'scope, 'a> {
    type Value = LazyCatalog<'a>;

    fn deserialize<D: Deserializer<'a>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'a: 'scope, 'scope> Visitor<'a> for DocumentSeed<'_, 'scope, 'a> {
    type Value = LazyCatalog<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a catalog document")
    }

    fn visit_map<A: MapAccess<'a>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut catalog = None;
        while let Some(key) = map.next_key::<Key<'a>>()? {
            match key.0.as_ref() {
                "$schema" => {
                    map.next_value::<IgnoredAny>()?;
                }
                "catalog" if catalog.is_none() => {
                    catalog = Some(map.next_value_seed(CatalogSeed(self.0))?);
                }
                _ => return Err(de::Error::custom("not a catalog document")),
            }
        }
        catalog.ok_or_else(|| de::Error::custom("no catalog"))
    }
}

struct CatalogSeed<'r, 'scope, 'a>(Builder<'r, 'scope, 'a>);

impl<'a: 'scope, 'scope> DeserializeSeed<'a> for CatalogSeed<'_, 'scope, 'a> {
    type Value = LazyCatalog<'a>;

    fn deserialize<D: Deserializer<'a>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'a: 'scope, 'scope> Visitor<'a> for CatalogSeed<'_, 'scope, 'a> {
    type Value = LazyCatalog<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a catalog")
    }

    fn visit_map<A: MapAccess<'a>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::new();
        let mut controls = None;
        let mut groups = false;
        while let Some(key) = map.next_key::<Key<'a>>()? {
            match key.0.as_ref() {
                "controls" if controls.is_some() => {
                    return Err(de::Error::duplicate_field("controls"));
                }
                "controls" => controls = Some(map.next_value()?),
                "groups" if groups => return Err(de::Error::duplicate_field("groups")),
                "groups" => {
                    map.next_value_seed(GroupsSeed(self.0))?;
                    groups = true;
                }
                _ => fields.push((key, map.next_value()?)),
            }
        }
        Ok(LazyCatalog {
            fields,
            controls: controls.unwrap_or_default(),
            groups: Vec::new(),
            built: Vec::new(),
        })
    }
}

/// The groups of a catalog, each handed to the builder once read.
struct GroupsSeed<'r, 'scope, 'a>(Builder<'r, 'scope, 'a>);

impl<'a: 'scope, 'scope> DeserializeSeed<'a> for GroupsSeed<'_, 'scope, 'a> {
    type Value = ();

    fn deserialize<D: Deserializer<'a>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'a: 'scope, 'scope> Visitor<'a> for GroupsSeed<'_, 'scope, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of groups")
    }

    fn visit_seq<A: SeqAccess<'a>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while let Some(group) = seq.next_element::<LazyGroup<'a>>()? {
            self.0.start(index, group);
            index += 1;
        }
        Ok(())
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

impl ControlNode for LazyControl<'_> {
    fn id(&self) -> &str {
        &self.id
    }

    fn children(&self) -> &[Self] {
        &self.controls
    }
}

impl<'a> GroupNode for LazyGroup<'a> {
    type Control = LazyControl<'a>;

    fn controls(&self) -> &[LazyControl<'a>] {
        &self.controls
    }

    fn groups(&self) -> &[Self] {
        &self.groups
    }
}

impl LazyCatalog<'_> {
    /// Every control in document order with its ancestors, as [`crate::resolve`] selects
    /// from.
    pub(crate) fn listed(&self) -> Vec<Selected<'_>> {
        listing(&self.controls, &self.groups)
    }

    /// The catalog keeping what `chooser` keeps, exactly as [`crate::resolve`]'s filter
    /// makes it from the whole catalog, with its back matter beside it.
    pub(crate) fn finish(
        self,
        chooser: &Chooser<'_>,
    ) -> serde_json::Result<(Catalog, Option<BackMatter>)> {
        let mut catalog: Catalog = build(&self.fields)?;
        // Every parameter of the source in document order: catalog, controls, groups.
        let mut params: Vec<Parameter> = catalog.params.iter().flatten().cloned().collect();
        catalog.controls = keep_controls(&self.controls, &mut Vec::new(), chooser, &mut params)?;
        let mut groups = Vec::new();
        for built in self.built {
            let (group, own) = built?;
            groups.extend(group);
            params.extend(own);
        }
        catalog.groups = (!groups.is_empty()).then_some(groups);
        let back_matter = catalog.back_matter.take();
        gather_loose_params(&mut catalog, &params);
        Ok((catalog, back_matter))
    }
}

/// Whether the import keeps `control` or one of its descendants.
fn holds_chosen<'l>(
    control: &'l LazyControl<'_>,
    ancestors: &mut Vec<&'l str>,
    chooser: &Chooser<'_>,
) -> bool {
    if chooser.chosen(&control.id, ancestors) {
        return true;
    }
    ancestors.push(&control.id);
    let holds = control
        .controls
        .iter()
        .any(|c| holds_chosen(c, ancestors, chooser));
    ancestors.pop();
    holds
}

fn keep_controls<'l>(
    list: &'l [LazyControl<'_>],
    ancestors: &mut Vec<&'l str>,
    chooser: &Chooser<'_>,
    params: &mut Vec<Parameter>,
) -> serde_json::Result<Option<Vec<Control>>> {
    let mut kept = Vec::new();
    for control in list {
        if let Some(control) = keep_control(control, ancestors, chooser, params)? {
            kept.push(control);
        }
    }
    Ok((!kept.is_empty()).then_some(kept))
}

fn keep_control<'l>(
    lazy: &'l LazyControl<'_>,
    ancestors: &mut Vec<&'l str>,
    chooser: &Chooser<'_>,
    params: &mut Vec<Parameter>,
) -> serde_json::Result<Option<Control>> {
    let chosen = chooser.chosen(&lazy.id, ancestors);
    ancestors.push(&lazy.id);
    let holds = lazy
        .controls
        .iter()
        .any(|c| holds_chosen(c, ancestors, chooser));
    let mut control = None;
    if chosen || holds {
        let built: Control = build(&lazy.fields)?;
        params.extend(built.params.iter().flatten().cloned());
        control = Some(built);
    } else if let Some(raw) = field(&lazy.fields, "params") {
        // Parameters of a control left out stay loose, and are kept only if the result refers
        // to them: carried as text until then.
        let own: Option<Vec<&RawValue>> = serde_json::from_str(raw.get())?;
        for raw in own.into_iter().flatten() {
            params.push(match leading_id(raw.get()) {
                Some(id) => deferred(id, raw),
                None => serde_json::from_str(raw.get())?,
            });
        }
    }
    let children = keep_controls(&lazy.controls, ancestors, chooser, params)?;
    ancestors.pop();
    Ok(control.map(|mut control| {
        control.controls = children;
        if !chosen {
            // Kept only to hold a selected child.
            control
                .unrecognized
                .insert(CONTAINER_MARK.into(), serde_json::Value::Bool(true));
        }
        control
    }))
}

/// The `id` of a JSON object whose first property it is (as in every catalog NIST publishes),
/// read without going through the rest.
fn leading_id(object: &str) -> Option<String> {
    let rest = object.strip_prefix('{')?.trim_start();
    let rest = rest.strip_prefix("\"id\"")?.trim_start();
    let rest = rest.strip_prefix(':')?;
    serde_json::Deserializer::from_str(rest)
        .into_iter::<String>()
        .next()?
        .ok()
}

/// A parameter carried as its JSON text until wanted ([`crate::resolve::materialize`]).
fn deferred(id: String, raw: &RawValue) -> Parameter {
    let mut param = Parameter {
        id: Some(id),
        ..Parameter::default()
    };
    param.unrecognized.insert(
        DEFERRED_MARK.into(),
        serde_json::Value::String(raw.get().to_owned()),
    );
    param
}

fn keep_groups(
    list: &[LazyGroup<'_>],
    chooser: &Chooser<'_>,
    params: &mut Vec<Parameter>,
) -> serde_json::Result<Option<Vec<CatalogGroup>>> {
    let mut kept = Vec::new();
    for lazy in list {
        kept.extend(keep_group(lazy, chooser, params)?);
    }
    Ok((!kept.is_empty()).then_some(kept))
}

fn keep_group(
    lazy: &LazyGroup<'_>,
    chooser: &Chooser<'_>,
    params: &mut Vec<Parameter>,
) -> serde_json::Result<Option<CatalogGroup>> {
    let mut group: CatalogGroup = build(&lazy.fields)?;
    params.extend(group.params.iter().flatten().cloned());
    group.controls = keep_controls(&lazy.controls, &mut Vec::new(), chooser, params)?;
    group.groups = keep_groups(&lazy.groups, chooser, params)?;
    Ok((group.controls.is_some() || group.groups.is_some()).then_some(group))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_id_is_read_without_the_rest() {
        assert_eq!(
            leading_id(r#"{ "id" : "ac-1_prm_\u0031", "label": {"broken"#).as_deref(),
            Some("ac-1_prm_1")
        );
        assert_eq!(leading_id(r#"{"label": "x", "id": "y"}"#), None);
        assert_eq!(leading_id(r#"{"id": 7}"#), None);
    }
}
