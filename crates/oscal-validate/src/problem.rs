use std::fmt;
use std::path::{Path, PathBuf};

use oscal_model::ModelKind;
use serde::Serialize;

/// One thing wrong with a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The document.
    pub file: PathBuf,
    /// JSON pointer to the offending value (`""` for the whole document).
    pub pointer: String,
    /// 1-based line and column, when known (reading errors, XML documents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<(usize, usize)>,
    /// The XPath-like location in an XML document (`/catalog/group[3]/control[2]/@id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The rule broken: `read`, `schema/<keyword>`, or a reference rule such as `unique-uuid`.
    pub rule: String,
    /// What is wrong.
    pub message: String,
    /// The offending value, shortened, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        let pointer = match &self.location {
            Some(location) => location.as_str(),
            None if self.pointer.is_empty() => "/",
            None => &self.pointer,
        };
        write!(f, ": {pointer}: {}: {}", self.rule, self.message)?;
        if let Some(value) = &self.value {
            write!(f, " (value: {value})")?;
        }
        Ok(())
    }
}

/// The longest value quoted in a problem, in characters.
const MAX_QUOTED: usize = 60;

/// A value as quoted in a problem: JSON text, cut to a readable length.
pub(crate) fn quote(value: &serde_json::Value) -> String {
    let text = value.to_string();
    shorten(&text)
}

pub(crate) fn shorten(text: &str) -> String {
    shorten_to(text, MAX_QUOTED)
}

/// `text` cut to at most `max` characters, an ellipsis marking the cut.
pub(crate) fn shorten_to(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}

/// The outcome of validating one document.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The document.
    pub path: PathBuf,
    /// Its model, when it could be read far enough to tell.
    #[serde(serialize_with = "model_name")]
    pub model: Option<ModelKind>,
    /// Everything wrong with it; empty when it is valid.
    pub problems: Vec<Problem>,
}

fn model_name<S: serde::Serializer>(model: &Option<ModelKind>, s: S) -> Result<S::Ok, S::Error> {
    match model {
        Some(kind) => s.serialize_str(kind.root_key()),
        None => s.serialize_none(),
    }
}

impl Report {
    /// True when no problem was found.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    /// A report for a document that could not be read as OSCAL at all.
    pub(crate) fn unreadable(path: &Path, err: &oscal_io::Error) -> Report {
        Report {
            path: path.to_owned(),
            model: None,
            problems: vec![Problem::from_io(path, err)],
        }
    }
}

impl Problem {
    /// The problem an input error stands for (rule `read`), keeping its position.
    pub fn from_io(path: &Path, err: &oscal_io::Error) -> Problem {
        let mut location = None;
        let (position, pointer, message) = match err {
            oscal_io::Error::Json {
                line,
                column,
                pointer,
                message,
                ..
            } => {
                let position = (*line > 0).then_some((*line, *column));
                (position, pointer.clone(), message.clone())
            }
            oscal_io::Error::Xml {
                line,
                column,
                location: at,
                message,
                ..
            } => {
                location = (!at.is_empty()).then(|| at.clone());
                (Some((*line, *column)), String::new(), message.clone())
            }
            oscal_io::Error::Yaml {
                line,
                column,
                message,
                ..
            } => {
                let position = (*line > 0).then_some((*line, *column));
                (position, String::new(), message.clone())
            }
            other => {
                // The error text starts with the file name; the problem names it already.
                let text = other.to_string();
                let prefix = format!("{}: ", path.display());
                let message = text.strip_prefix(&prefix).unwrap_or(&text).to_owned();
                (None, String::new(), message)
            }
        };
        Problem {
            file: path.to_owned(),
            pointer,
            position,
            location,
            rule: "read".into(),
            message,
            value: None,
        }
    }
}
