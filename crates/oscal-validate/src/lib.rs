//! Validation of OSCAL documents.
//!
//! A document is checked in three layers, and every problem found is reported, not only the
//! first:
//!
//! 1. it must be readable: UTF-8, not empty, well-formed JSON, an OSCAL model at the root;
//! 2. it must satisfy the official OSCAL 1.2.3 JSON schema of its model ([`schema`]);
//! 3. it must satisfy the identifier and reference rules the schema cannot express
//!    ([`checks`]): unique uuids, unique control/part/param ids in catalogs, and no reference
//!    to a party, role, location, component or back-matter resource that the document lacks.
//!
//! Each [`Problem`] names the file, the JSON pointer, the rule and the offending value.
//!
//! ```
//! use std::path::Path;
//! use oscal_validate::Validator;
//!
//! let validator = Validator::new();
//! let report = validator.validate_bytes(Path::new("empty.json"), b"");
//! assert_eq!(report.problems[0].to_string(), "empty.json: /: read: empty document");
//! ```
#![deny(missing_docs)]

pub mod checks;
mod problem;
pub mod schema;

use std::path::Path;

use oscal_model::ModelKind;
use serde_json::Value;

pub use problem::{Problem, Report};
pub use schema::SchemaSet;

/// Validates documents against the official schemas and the reference rules.
///
/// Schemas are compiled on first use, once per model, and shared across threads.
#[derive(Debug, Default)]
pub struct Validator {
    schemas: SchemaSet,
}

impl Validator {
    /// A validator for the vendored OSCAL release.
    pub fn new() -> Validator {
        Validator::default()
    }

    /// Reads `bytes` as an OSCAL document in JSON, XML or YAML (named `path` in problems) and
    /// validates it. Problems in XML documents also carry their XPath-like location and line.
    pub fn validate_bytes(&self, path: &Path, bytes: &[u8]) -> Report {
        match oscal_io::detect_format(path, bytes) {
            Ok(oscal_io::Format::Json) => self.validate_json(path, bytes),
            Ok(format) => {
                let value = match oscal_io::read_value(path, bytes) {
                    Ok((_, value)) => value,
                    Err(err) => return Report::unreadable(path, &err),
                };
                let mut report = self.validate_value(path, &value);
                if format == oscal_io::Format::Xml {
                    let text = String::from_utf8_lossy(bytes);
                    for problem in &mut report.problems {
                        if let Some((location, line, column)) =
                            oscal_io::xml::locate(&text, &problem.pointer)
                        {
                            problem.location = Some(location);
                            problem.position = Some((line, column));
                        }
                    }
                }
                report
            }
            Err(err) => Report::unreadable(path, &err),
        }
    }

    fn validate_json(&self, path: &Path, bytes: &[u8]) -> Report {
        // When the first property names the model, its schema compiles while the text parses.
        let (parsed, _) = rayon::join(
            || oscal_io::json::value_from_slice(path, bytes),
            || oscal_io::sniff_json_model(bytes).map(|model| self.schemas.validator(model)),
        );
        let value = match parsed {
            Ok(value) => value,
            Err(err) => return Report::unreadable(path, &err),
        };
        let report = self.validate_value(path, &value);
        // Freeing a large tree takes as long as a schema pass; do it off the caller's path.
        rayon::spawn(move || drop(value));
        report
    }

    /// Validates a parsed JSON value (named `path` in problems).
    pub fn validate_value(&self, path: &Path, value: &Value) -> Report {
        let model = match oscal_io::json::model_of(path, value) {
            Ok(model) => model,
            Err(err) => return Report::unreadable(path, &err),
        };
        let mut problems = self.schemas.validate(path, model, value);
        problems.extend(checks::check(path, model, value));
        Report {
            path: path.to_owned(),
            model: Some(model),
            problems,
        }
    }

    /// Validates a value as the given model, whatever its root key says.
    pub fn validate_as(&self, path: &Path, model: ModelKind, value: &Value) -> Report {
        // The two layers read the same tree independently; on a large document running them
        // side by side saves the shorter one's time.
        let (mut problems, references) = rayon::join(
            || self.schemas.validate(path, model, value),
            || checks::check(path, model, value),
        );
        problems.extend(references);
        Report {
            path: path.to_owned(),
            model: Some(model),
            problems,
        }
    }
}
