//! Identifier and reference rules that the JSON schema cannot express.
//!
//! Rule names follow the OSCAL metaschema constraints they implement:
//!
//! | rule | what it requires |
//! | --- | --- |
//! | `unique-uuid` | every `uuid` is used once in the document |
//! | `catalog-groups-controls-parts` | in a catalog, group, control and part ids are unique |
//! | `catalog-params` | in a catalog, parameter ids are unique |
//! | `index-back-matter-resource` | an import href or a `reference` link `#<uuid>` names a back-matter resource |
//! | `href-fragment` | any other href `#<uuid>` names something in the document |
//! | `index-metadata-party-uuid` | a party reference names a party in the metadata |
//! | `index-metadata-role-id` | a responsible party's role names a role in the metadata |
//! | `index-metadata-location-uuid` | a location reference names a location in the metadata |
//! | `index-system-component-uuid` | in an SSP, a component reference names a component of the system implementation |

use std::collections::HashMap;

use rustc_hash::{FxHashMap, FxHashSet};
use std::path::Path;

use oscal_model::ModelKind;
use serde_json::Value;

use crate::Problem;
use crate::problem::{quote, shorten};

/// What a reference must point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Target {
    Resource,
    AnyUuid,
    Party,
    Role,
    Location,
    Component,
}

impl Target {
    fn rule(self) -> &'static str {
        match self {
            Target::Resource => "index-back-matter-resource",
            Target::AnyUuid => "href-fragment",
            Target::Party => "index-metadata-party-uuid",
            Target::Role => "index-metadata-role-id",
            Target::Location => "index-metadata-location-uuid",
            Target::Component => "index-system-component-uuid",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Target::Resource => "back-matter resource",
            Target::AnyUuid => "object with that uuid in the document",
            Target::Party => "party in metadata/parties",
            Target::Role => "role in metadata/roles",
            Target::Location => "location in metadata/locations",
            Target::Component => "component in system-implementation/components",
        }
    }
}

/// The problems of `value` (a document of `model`) under the rules of this module.
pub fn check(path: &Path, model: ModelKind, value: &Value) -> Vec<Problem> {
    let mut walker = Walker {
        model: Some(model),
        ..Walker::default()
    };
    let mut keys = Vec::new();
    walker.walk(value, &mut keys);
    walker.finish(path, value)
}

/// Where a value sits: inside the `object`-th object of the document (in walk order), under
/// `key`, at `index` when that property is an array. Pointers are built from sites only for
/// the few values that have a problem, which keeps the walk free of string building.
#[derive(Debug, Clone, Copy)]
struct Site<'v> {
    object: usize,
    key: &'v str,
    index: Option<usize>,
}

#[derive(Default)]
struct Walker<'v> {
    model: Option<ModelKind>,
    objects: usize,
    uuids: FxHashMap<&'v str, Site<'v>>,
    targets: FxHashSet<(Target, &'v str)>,
    catalog_ids: FxHashMap<(&'static str, &'v str), Site<'v>>,
    references: Vec<(Target, &'v str, Site<'v>)>,
    /// (where, rule, what is wrong, where it was first defined, the value)
    problems: Vec<(
        Site<'v>,
        &'static str,
        &'static str,
        Option<Site<'v>>,
        &'v str,
    )>,
}

impl<'v> Walker<'v> {
    fn walk(&mut self, value: &'v Value, keys: &mut Vec<&'v str>) {
        match value {
            Value::Object(object) => {
                self.object(object, keys);
                for (key, child) in object {
                    keys.push(key);
                    self.walk(child, keys);
                    keys.pop();
                }
            }
            Value::Array(items) => {
                for child in items {
                    self.walk(child, keys);
                }
            }
            _ => {}
        }
    }

    /// Records what an object defines and what it references. `keys` are the property names
    /// from the root to the object (array indices left out), so `keys.last()` is the array or
    /// property holding it.
    fn object(&mut self, object: &'v serde_json::Map<String, Value>, keys: &[&'v str]) {
        let ordinal = self.objects;
        self.objects += 1;
        let site = |key: &'v str| Site {
            object: ordinal,
            key,
            index: None,
        };
        let holder = keys.last().copied().unwrap_or("");
        let grand = keys.len().checked_sub(2).map_or("", |i| keys[i]);
        if let Some(Value::String(uuid)) = object.get("uuid") {
            if let Some(first) = self.uuids.get(uuid.as_str()) {
                let first = Some(*first);
                self.problems.push((
                    site("uuid"),
                    "unique-uuid",
                    "uuid already defined at",
                    first,
                    uuid,
                ));
            } else {
                self.uuids.insert(uuid, site("uuid"));
            }
            let defined = match (grand, holder) {
                ("back-matter", "resources") => Some(Target::Resource),
                ("metadata", "parties") => Some(Target::Party),
                ("metadata", "locations") => Some(Target::Location),
                ("system-implementation", "components") => Some(Target::Component),
                _ => None,
            };
            if let Some(target) = defined {
                self.targets.insert((target, uuid));
            }
        }
        if let Some(Value::String(id)) = object.get("id") {
            if grand == "metadata" && holder == "roles" {
                self.targets.insert((Target::Role, id));
            }
            if self.model == Some(ModelKind::Catalog) {
                let index = match holder {
                    "groups" | "controls" | "parts" => Some("catalog-groups-controls-parts"),
                    "params" => Some("catalog-params"),
                    _ => None,
                };
                if let Some(index) = index {
                    if let Some(first) = self.catalog_ids.get(&(index, id.as_str())) {
                        let first = Some(*first);
                        self.problems
                            .push((site("id"), index, "id already used at", first, id));
                    } else {
                        self.catalog_ids.insert((index, id), site("id"));
                    }
                }
            }
        }
        for (key, child) in object {
            let target = match key.as_str() {
                "party-uuid" | "party-uuids" | "member-of-organizations" => Target::Party,
                // Only a responsible party's role must be defined locally (OSCAL metaschema);
                // responsible roles may name roles that another document defines.
                "role-id" if holder == "responsible-parties" => Target::Role,
                "location-uuid" | "location-uuids" => Target::Location,
                "component-uuid" if self.model == Some(ModelKind::SystemSecurityPlan) => {
                    Target::Component
                }
                "href" => {
                    let Value::String(href) = child else { continue };
                    let Some(fragment) = href.strip_prefix('#') else {
                        continue;
                    };
                    let is_import = matches!(
                        holder,
                        "imports"
                            | "import-profile"
                            | "import-ssp"
                            | "import-ap"
                            | "import-component-definitions"
                    );
                    let is_reference = holder == "links"
                        && object.get("rel").and_then(Value::as_str) == Some("reference");
                    let target = if is_import || is_reference {
                        Target::Resource
                    } else if looks_like_uuid(fragment) {
                        Target::AnyUuid
                    } else {
                        continue;
                    };
                    self.references.push((target, fragment, site(key)));
                    continue;
                }
                _ => continue,
            };
            match child {
                Value::String(reference) => self.references.push((target, reference, site(key))),
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Value::String(reference) = item {
                            let at = Site {
                                object: ordinal,
                                key,
                                index: Some(i),
                            };
                            self.references.push((target, reference, at));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn finish(mut self, path: &Path, root: &Value) -> Vec<Problem> {
        for (target, reference, at) in std::mem::take(&mut self.references) {
            let found = match target {
                Target::AnyUuid => self.uuids.contains_key(reference),
                _ => self.targets.contains(&(target, reference)),
            };
            if !found {
                self.problems
                    .push((at, target.rule(), target.what(), None, reference));
            }
        }
        if self.problems.is_empty() {
            return Vec::new();
        }
        let mut wanted: Vec<usize> = Vec::new();
        for (at, _, _, first, _) in &self.problems {
            wanted.push(at.object);
            wanted.extend(first.map(|f| f.object));
        }
        let objects = object_pointers(root, wanted);
        let pointer = |site: &Site<'_>| {
            let mut pointer = objects[&site.object].clone();
            pointer.push('/');
            push_escaped(&mut pointer, site.key);
            if let Some(index) = site.index {
                pointer.push('/');
                pointer.push_str(&index.to_string());
            }
            pointer
        };
        let mut problems: Vec<Problem> = self
            .problems
            .iter()
            .map(|(at, rule, what, first, value)| Problem {
                file: path.to_owned(),
                pointer: pointer(at),
                position: None,
                location: None,
                rule: (*rule).into(),
                message: match first {
                    Some(first) => format!("{what} {}", pointer(first)),
                    None => format!("names no {what}"),
                },
                value: Some(quote(&Value::String(shorten(value)))),
            })
            .collect();
        problems.sort_by(|a, b| a.pointer.cmp(&b.pointer).then_with(|| a.rule.cmp(&b.rule)));
        problems
    }
}

/// JSON pointers of the objects numbered `wanted` in walk order.
fn object_pointers(root: &Value, mut wanted: Vec<usize>) -> HashMap<usize, String> {
    fn walk(
        value: &Value,
        pointer: &mut String,
        count: &mut usize,
        wanted: &[usize],
        found: &mut HashMap<usize, String>,
    ) {
        match value {
            Value::Object(object) => {
                if wanted.binary_search(count).is_ok() {
                    found.insert(*count, pointer.clone());
                }
                *count += 1;
                for (key, child) in object {
                    let len = pointer.len();
                    pointer.push('/');
                    push_escaped(pointer, key);
                    walk(child, pointer, count, wanted, found);
                    pointer.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    walk(child, pointer, count, wanted, found);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }
    wanted.sort_unstable();
    wanted.dedup();
    let mut found = HashMap::new();
    walk(root, &mut String::new(), &mut 0, &wanted, &mut found);
    found
}

fn push_escaped(pointer: &mut String, key: &str) {
    for c in key.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

fn looks_like_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(model: ModelKind, value: &Value) -> Vec<(String, String)> {
        check(Path::new("t.json"), model, value)
            .into_iter()
            .map(|p| (p.pointer, p.rule))
            .collect()
    }

    #[test]
    fn duplicate_uuids_and_ids_are_reported_at_the_second_use() {
        let doc = json!({"catalog": {"uuid": "11111111-1111-4111-8111-111111111111",
            "groups": [{"id": "ac", "controls": [{"id": "ac-1", "params": [{"id": "p1"}]},
                                                 {"id": "ac-1", "params": [{"id": "p1"}]}]}],
            "back-matter": {"resources": [{"uuid": "11111111-1111-4111-8111-111111111111"}]}}});
        assert_eq!(
            rules(ModelKind::Catalog, &doc),
            [
                (
                    "/catalog/back-matter/resources/0/uuid".into(),
                    "unique-uuid".into()
                ),
                (
                    "/catalog/groups/0/controls/1/id".into(),
                    "catalog-groups-controls-parts".into()
                ),
                (
                    "/catalog/groups/0/controls/1/params/0/id".into(),
                    "catalog-params".into()
                ),
            ]
        );
    }

    #[test]
    fn references_must_name_something_defined() {
        let doc = json!({"system-security-plan": {
            "metadata": {"roles": [{"id": "admin"}],
                         "parties": [{"uuid": "22222222-2222-4222-8222-222222222222"}],
                         "responsible-parties": [{"role-id": "owner",
                             "party-uuids": ["22222222-2222-4222-8222-222222222222",
                                             "33333333-3333-4333-8333-333333333333"]}],
                         "links": [{"href": "#44444444-4444-4444-8444-444444444444", "rel": "reference"},
                                   {"href": "#55555555-5555-4555-8555-555555555555", "rel": "uses"},
                                   {"href": "#77777777-7777-4777-8777-777777777777", "rel": "uses"}]},
            "system-implementation": {"components": [{"uuid": "55555555-5555-4555-8555-555555555555"}]},
            "control-implementation": {"implemented-requirements": [{"by-components": [
                {"component-uuid": "55555555-5555-4555-8555-555555555555"},
                {"component-uuid": "66666666-6666-4666-8666-666666666666"}]}]}}});
        assert_eq!(
            rules(ModelKind::SystemSecurityPlan, &doc),
            [
                (
                    "/system-security-plan/control-implementation/implemented-requirements/0/by-components/1/component-uuid".into(),
                    "index-system-component-uuid".into()
                ),
                ("/system-security-plan/metadata/links/0/href".into(), "index-back-matter-resource".into()),
                ("/system-security-plan/metadata/links/2/href".into(), "href-fragment".into()),
                (
                    "/system-security-plan/metadata/responsible-parties/0/party-uuids/1".into(),
                    "index-metadata-party-uuid".into()
                ),
                ("/system-security-plan/metadata/responsible-parties/0/role-id".into(), "index-metadata-role-id".into()),
            ]
        );
    }
}
