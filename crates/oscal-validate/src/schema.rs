//! The official OSCAL JSON schemas, embedded in the binary, and validation against them.
//!
//! The schemas are NIST's release files, byte for byte (`oscal-schemas/json/`). The only
//! change mim6 makes is applied here, in memory, by [`patched_schema`]: the date patterns of
//! the 1.2.3 release reject real leap days of the 1900s (`1996-02-29`) because of a misplaced
//! group, and accept the two-digit `19-02-29`. The patch regroups that alternative so that
//! every leap day from 1900 to 2999 is accepted; nothing else about the patterns changes.

use std::collections::HashSet;
use std::path::Path;
use std::sync::OnceLock;

use oscal_model::ModelKind;
use serde_json::Value;

use crate::Problem;
use crate::problem::{quote, shorten_to};

/// The official schema text of a model, as NIST published it.
pub fn official_schema(model: ModelKind) -> &'static str {
    match model {
        ModelKind::Catalog => include_str!("../../../oscal-schemas/json/oscal_catalog_schema.json"),
        ModelKind::Profile => include_str!("../../../oscal-schemas/json/oscal_profile_schema.json"),
        ModelKind::ComponentDefinition => {
            include_str!("../../../oscal-schemas/json/oscal_component_schema.json")
        }
        ModelKind::SystemSecurityPlan => {
            include_str!("../../../oscal-schemas/json/oscal_ssp_schema.json")
        }
        ModelKind::AssessmentPlan => {
            include_str!("../../../oscal-schemas/json/oscal_assessment-plan_schema.json")
        }
        ModelKind::AssessmentResults => {
            include_str!("../../../oscal-schemas/json/oscal_assessment-results_schema.json")
        }
        ModelKind::PlanOfActionAndMilestones => {
            include_str!("../../../oscal-schemas/json/oscal_poam_schema.json")
        }
        ModelKind::MappingCollection => {
            include_str!("../../../oscal-schemas/json/oscal_mapping_schema.json")
        }
    }
}

/// The complete schema (all models under a root `oneOf`), as NIST published it.
pub const COMPLETE_SCHEMA: &str =
    include_str!("../../../oscal-schemas/json/oscal_complete_schema.json");

/// The leap-day alternative as published: `19` binds alone, so 19xx leap days fail.
const LEAP_DAY_PUBLISHED: &str = "(19|2[0-9](0[48]|[2468][048]|[13579][26]))";
/// The same alternative with the century grouped as intended.
const LEAP_DAY_FIXED: &str = "((19|2[0-9])(0[48]|[2468][048]|[13579][26]))";

/// The schema of `model` with the date-pattern fix applied (see the module documentation).
pub fn patched_schema(model: ModelKind) -> Value {
    let mut schema: Value =
        serde_json::from_str(official_schema(model)).expect("the embedded schemas are JSON");
    patch_date_patterns(&mut schema);
    schema
}

/// Regroups the leap-day alternative in the date and date-time patterns; returns how many
/// patterns it changed.
pub fn patch_date_patterns(schema: &mut Value) -> usize {
    let Some(definitions) = schema.get_mut("definitions").and_then(Value::as_object_mut) else {
        return 0;
    };
    let mut patched = 0;
    for name in ["DateDatatype", "DateTimeWithTimezoneDatatype"] {
        let pattern = definitions.get_mut(name).and_then(|d| d.get_mut("pattern"));
        if let Some(Value::String(pattern)) = pattern
            && pattern.contains(LEAP_DAY_PUBLISHED)
        {
            *pattern = pattern.replace(LEAP_DAY_PUBLISHED, LEAP_DAY_FIXED);
            patched += 1;
        }
    }
    patched
}

/// The compiled schemas of every model, each compiled on first use.
#[derive(Debug, Default)]
pub struct SchemaSet {
    compiled: [OnceLock<jsonschema::Validator>; 8],
}

impl SchemaSet {
    /// The compiled schema of `model`.
    pub fn validator(&self, model: ModelKind) -> &jsonschema::Validator {
        let slot = ModelKind::ALL
            .iter()
            .position(|k| *k == model)
            .expect("every model is listed");
        self.compiled[slot].get_or_init(|| {
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft7)
                .should_validate_formats(true)
                .build(&patched_schema(model))
                .expect("the official OSCAL schemas compile")
        })
    }

    /// Schema problems of `value` as a document of `model`; empty when it is valid.
    ///
    /// The fast boolean check runs first; the detailed evaluation, which locates every
    /// failing value, runs only for invalid documents.
    pub fn validate(&self, path: &Path, model: ModelKind, value: &Value) -> Vec<Problem> {
        let validator = self.validator(model);
        if validator.is_valid(value) {
            return Vec::new();
        }
        let evaluation = validator.evaluate(value);
        let mut found: Vec<Found> = evaluation
            .iter_errors()
            .map(|entry| Found {
                pointer: entry.instance_location.as_str().to_owned(),
                branch_level: is_branch_level(entry.schema_location),
                keyword: entry.error.keyword().to_owned(),
                message: entry.error.message().to_owned(),
            })
            .collect();
        // When an object matches none of the branches of an `anyOf`, every branch reports why
        // the object itself does not fit it. If errors exist deeper inside the object, one
        // branch did fit its shape and those deeper errors are the real ones.
        let noise: Vec<bool> = found
            .iter()
            .map(|f| {
                f.branch_level
                    && found
                        .iter()
                        .any(|other| is_below(&other.pointer, &f.pointer))
            })
            .collect();
        let mut noise = noise.into_iter();
        found.retain(|_| !noise.next().unwrap_or(false));
        let mut seen = HashSet::new();
        found.retain(|f| seen.insert((f.pointer.clone(), f.message.clone())));
        found.sort_by(|a, b| {
            (&a.pointer, &a.keyword, &a.message).cmp(&(&b.pointer, &b.keyword, &b.message))
        });
        found
            .into_iter()
            .map(|f| Problem {
                file: path.to_owned(),
                value: pointee(value, &f.pointer).map(quote),
                message: shorten_message(&f.message),
                pointer: f.pointer,
                position: None,
                location: None,
                rule: format!("schema/{}", f.keyword),
            })
            .collect()
    }
}

/// A schema error as found by the evaluation.
struct Found {
    pointer: String,
    /// The error comes from a keyword directly inside an `anyOf`/`oneOf` branch.
    branch_level: bool,
    keyword: String,
    message: String,
}

/// True for a keyword location like `.../anyOf/1/additionalProperties`.
fn is_branch_level(schema_location: &str) -> bool {
    let mut segments = schema_location.rsplit('/');
    let _keyword = segments.next();
    let index = segments.next().unwrap_or("");
    let combinator = segments.next().unwrap_or("");
    !index.is_empty()
        && index.bytes().all(|b| b.is_ascii_digit())
        && (combinator == "anyOf" || combinator == "oneOf")
}

/// True when pointer `inner` lies strictly inside pointer `outer`.
fn is_below(inner: &str, outer: &str) -> bool {
    inner.len() > outer.len() && inner.starts_with(outer) && inner.as_bytes()[outer.len()] == b'/'
}

fn pointee<'v>(value: &'v Value, pointer: &str) -> Option<&'v Value> {
    match value.pointer(pointer)? {
        Value::Object(_) | Value::Array(_) => None,
        scalar => Some(scalar),
    }
}

/// Schema messages quote whole objects and long patterns; keep them to one readable line.
fn shorten_message(message: &str) -> String {
    let one_line = message.replace('\n', " ");
    shorten_to(&one_line, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_schema_compiles_and_gets_the_leap_day_fix() {
        let set = SchemaSet::default();
        for model in ModelKind::ALL {
            let mut schema: Value = serde_json::from_str(official_schema(model)).unwrap();
            assert!(
                official_schema(model).contains(LEAP_DAY_PUBLISHED),
                "{model}"
            );
            assert!(patch_date_patterns(&mut schema) >= 1, "{model}");
            assert!(!schema.to_string().contains(LEAP_DAY_PUBLISHED), "{model}");
            set.validator(model);
        }
    }

    #[test]
    fn leap_days_of_the_1900s_are_valid_dates() {
        let schema = patched_schema(ModelKind::Catalog);
        let pattern = schema["definitions"]["DateTimeWithTimezoneDatatype"]["pattern"].as_str();
        let check = |text: &str| {
            let validator = jsonschema::validator_for(
                &serde_json::json!({"type": "string", "pattern": pattern.unwrap()}),
            )
            .unwrap();
            validator.is_valid(&Value::String(text.into()))
        };
        assert!(check("1996-02-29T00:00:00Z"));
        assert!(check("2024-02-29T12:00:00+01:00"));
        assert!(!check("1900-02-29T00:00:00Z"));
        assert!(!check("1997-02-29T00:00:00Z"));
    }
}
