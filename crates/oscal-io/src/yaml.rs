//! OSCAL YAML: the JSON form of a document written as YAML 1.2, with `serde-saphyr`.
//!
//! `serde-saphyr` is a maintained, pure-Rust YAML 1.2 implementation that reads straight into
//! serde types and enforces budgets on alias expansion, nesting and document size, so a YAML
//! bomb is refused rather than expanded. (`serde_yaml` is unmaintained.)

use std::path::Path;

use oscal_model::Document;
use serde_json::Value;

use crate::{Error, Result, decode_text};

/// Reads an OSCAL YAML document into the typed model.
pub fn from_str(path: &Path, text: &str) -> Result<Document> {
    crate::json::from_value(path, value_from_str(path, text)?)
}

/// Reads YAML bytes (UTF-8) into the JSON form of the document.
pub fn value_from_slice(path: &Path, bytes: &[u8]) -> Result<Value> {
    value_from_str(path, decode_text(path, bytes)?)
}

/// Reads YAML text into the JSON form of the document.
pub fn value_from_str(path: &Path, text: &str) -> Result<Value> {
    serde_saphyr::from_str_with_options::<Value>(text, options()).map_err(|e| {
        let (line, column) = location_of(&e);
        Error::Yaml {
            path: path.to_owned(),
            line,
            column,
            message: first_line(&e.to_string()),
        }
    })
}

/// Reading limits: room for the largest OSCAL publications (the SP 800-53 catalog has about
/// 300,000 nodes) while aliases, which OSCAL never needs, stay tightly bounded.
fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 50_000_000;
    budget.max_nodes = 20_000_000;
    budget.max_total_scalar_bytes = 512 * 1024 * 1024;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_depth = super::xml::MAX_DEPTH;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

/// Writes a document as YAML.
pub fn to_string(document: &Document) -> Result<String> {
    serde_saphyr::to_string(document).map_err(|e| Error::Unmapped {
        pointer: String::new(),
        message: format!("cannot write YAML: {e}"),
    })
}

fn location_of(error: &serde_saphyr::Error) -> (usize, usize) {
    match error.location() {
        Some(location) => (location.line() as usize, location.column() as usize),
        None => (0, 0),
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_owned()
            } else {
                format!("l{}", i - 1)
            };
            text.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let err = value_from_str(Path::new("bomb.yaml"), &text).unwrap_err();
        assert!(matches!(err, Error::Yaml { .. }), "{err}");
    }

    #[test]
    fn strings_that_look_like_numbers_stay_strings() {
        let value: Value = serde_json::json!({"catalog": {"metadata": {"version": "1.0"}}});
        let text = serde_saphyr::to_string(&value).unwrap();
        assert_eq!(value_from_str(Path::new("v.yaml"), &text).unwrap(), value);
    }
}
