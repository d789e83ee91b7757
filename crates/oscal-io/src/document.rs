//! Any OSCAL document, whatever its format: one entry point for readers and writers.

use std::path::Path;

use oscal_model::Document;
use serde_json::Value;

use crate::{Error, Format, Result, decode_text, json, xml, yaml};

/// The format of a document: from its content when that is clear, else from its file name.
pub fn detect_format(path: &Path, bytes: &[u8]) -> Result<Format> {
    if let Some(format) = Format::sniff(bytes) {
        return Ok(format);
    }
    Format::from_path(path).ok_or_else(|| Error::UnknownFormat {
        path: path.to_owned(),
        reason: "the content is not JSON, XML or YAML and the file name has no known extension"
            .into(),
    })
}

/// Reads a document of any format into its JSON form (for validation).
pub fn read_value(path: &Path, bytes: &[u8]) -> Result<(Format, Value)> {
    let format = detect_format(path, bytes)?;
    let value = match format {
        Format::Json => json::value_from_slice(path, bytes)?,
        Format::Xml => xml::value_from_str(path, decode_text(path, bytes)?)?,
        Format::Yaml => yaml::value_from_slice(path, bytes)?,
    };
    Ok((format, value))
}

/// Reads a document of any format into the typed model.
pub fn read_document(path: &Path, bytes: &[u8]) -> Result<(Format, Document)> {
    let format = detect_format(path, bytes)?;
    let document = match format {
        Format::Json => json::from_slice(path, bytes)?,
        Format::Xml => xml::from_str(path, decode_text(path, bytes)?)?,
        Format::Yaml => yaml::from_str(path, decode_text(path, bytes)?)?,
    };
    Ok((format, document))
}

/// Writes a document in `format` to `out`, as [`write_document`] makes it: JSON is written as
/// it is serialised, XML and YAML are made whole first.
pub fn write_document_to(
    document: &Document,
    format: Format,
    out: &mut dyn std::io::Write,
) -> Result<()> {
    match format {
        Format::Json => json::document_to_writer(document, &mut *out),
        Format::Xml => out
            .write_all(xml::to_string(document)?.as_bytes())
            .map_err(json::unwritable),
        Format::Yaml => out
            .write_all(yaml::to_string(document)?.as_bytes())
            .map_err(json::unwritable),
    }
}

/// Writes a document in `format`.
pub fn write_document(document: &Document, format: Format) -> Result<Vec<u8>> {
    Ok(match format {
        Format::Json => json::to_vec(document)?,
        Format::Xml => xml::to_string(document)?.into_bytes(),
        Format::Yaml => yaml::to_string(document)?.into_bytes(),
    })
}
