use std::fmt;
use std::path::Path;

use crate::{Error, Result};

/// The serialisations of OSCAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JSON.
    Json,
    /// XML.
    Xml,
    /// YAML.
    Yaml,
}

impl Format {
    /// The format a file name announces by its extension (`.json`, `.xml`, `.yaml`, `.yml`).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(Format::Json),
            "xml" => Some(Format::Xml),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }

    /// The format of `bytes`, from their first significant character: `{` is JSON, `<` is
    /// XML, and a YAML document start or mapping key is YAML. `None` when it is none of these.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
        let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
        let rest = &bytes[start..];
        match rest[0] {
            b'{' => Some(Format::Json),
            b'<' => Some(Format::Xml),
            b'-' if rest.starts_with(b"---") => Some(Format::Yaml),
            b'%' | b'#' => Some(Format::Yaml),
            c if c.is_ascii_alphabetic() || c == b'"' || c == b'\'' => {
                let line_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                rest[..line_end].contains(&b':').then_some(Format::Yaml)
            }
            _ => None,
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
            Format::Yaml => "yaml",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Json => "JSON",
            Format::Xml => "XML",
            Format::Yaml => "YAML",
        })
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The model of a JSON document, read from its first property without parsing the rest:
/// `{"catalog": ...}` or `{"$schema": "...", "catalog": ...}`. `None` when the text starts
/// otherwise; a full parse then decides.
pub fn sniff_json_model(bytes: &[u8]) -> Option<oscal_model::ModelKind> {
    let mut rest = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    rest = skip_space(rest).strip_prefix(b"{")?;
    loop {
        let (key, after) = json_string(skip_space(rest))?;
        let after = skip_space(after).strip_prefix(b":")?;
        if key != b"$schema" {
            return oscal_model::ModelKind::from_root_key(std::str::from_utf8(key).ok()?);
        }
        let (_, after) = json_string(skip_space(after))?;
        rest = skip_space(after).strip_prefix(b",")?;
    }
}

/// The model of a document in any format, from its first bytes only (a prefix of the file is
/// enough): the first property of JSON, the root element of XML, the first top-level key of
/// YAML (`$schema` skipped). `None` when the start says nothing certain; a full parse decides.
pub fn sniff_model(bytes: &[u8]) -> Option<oscal_model::ModelKind> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    match Format::sniff(bytes)? {
        Format::Json => sniff_json_model(bytes),
        Format::Xml => {
            let mut rest = skip_space(bytes);
            // Declarations, processing instructions and comments before the root element.
            loop {
                if let Some(after) = rest.strip_prefix(b"<?") {
                    let end = after.windows(2).position(|w| w == b"?>")?;
                    rest = skip_space(&after[end + 2..]);
                } else if let Some(after) = rest.strip_prefix(b"<!--") {
                    let end = after.windows(3).position(|w| w == b"-->")?;
                    rest = skip_space(&after[end + 3..]);
                } else {
                    break;
                }
            }
            let name = rest.strip_prefix(b"<")?;
            let end = name
                .iter()
                .position(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/'))?;
            let name = std::str::from_utf8(&name[..end]).ok()?;
            // A prefixed root (`o:catalog`) names its model after the prefix.
            let local = name.rsplit(':').next()?;
            oscal_model::ModelKind::from_root_key(local)
        }
        Format::Yaml => {
            let text = std::str::from_utf8(bytes).ok().or_else(|| {
                // A prefix may end inside a character: keep what is whole.
                let valid = std::str::from_utf8(bytes).unwrap_err().valid_up_to();
                std::str::from_utf8(&bytes[..valid]).ok()
            })?;
            text.lines()
                .filter(|l| !l.is_empty() && !l.starts_with(['#', ' ', '\t']) && *l != "---")
                .filter_map(|l| {
                    l.split_once(':')
                        .map(|(key, _)| key.trim_matches(['"', '\'']))
                })
                .find(|key| *key != "$schema")
                .and_then(oscal_model::ModelKind::from_root_key)
        }
    }
}

fn skip_space(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// A JSON string at the start of `bytes`: its raw content (escapes left as they are) and the
/// bytes after the closing quote.
fn json_string(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = bytes.strip_prefix(b"\"")?;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'\\' => i += 2,
            b'"' => return Some((&body[..i], &body[i + 1..])),
            _ => i += 1,
        }
    }
    None
}

/// The text of a document: checks that `bytes` are UTF-8 and not empty, and drops a UTF-8
/// byte order mark. UTF-16 and UTF-32 (recognised by their byte order marks) are refused with
/// the encoding named.
pub fn decode_text<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str> {
    const BOMS: [(&[u8], &str); 4] = [
        (b"\x00\x00\xFE\xFF", "UTF-32 (big-endian)"),
        (b"\xFF\xFE\x00\x00", "UTF-32 (little-endian)"),
        (b"\xFE\xFF", "UTF-16 (big-endian)"),
        (b"\xFF\xFE", "UTF-16 (little-endian)"),
    ];
    for (bom, encoding) in BOMS {
        if bytes.starts_with(bom) {
            return Err(Error::UnsupportedEncoding {
                path: path.to_owned(),
                encoding,
            });
        }
    }
    let bom_len = if bytes.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    };
    let bytes = &bytes[bom_len..];
    let text = std::str::from_utf8(bytes).map_err(|e| Error::NotUtf8 {
        path: path.to_owned(),
        offset: bom_len + e.valid_up_to(),
    })?;
    if text.trim_start().is_empty() {
        return Err(Error::Empty {
            path: path.to_owned(),
        });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_first_character() {
        assert_eq!(Format::sniff(b"  \n{\"catalog\": {}}"), Some(Format::Json));
        assert_eq!(
            Format::sniff(b"\xEF\xBB\xBF<?xml version=\"1.0\"?>"),
            Some(Format::Xml)
        );
        assert_eq!(Format::sniff(b"---\ncatalog:\n"), Some(Format::Yaml));
        assert_eq!(Format::sniff(b"catalog:\n  uuid: x\n"), Some(Format::Yaml));
        assert_eq!(Format::sniff(b"hello world"), None);
        assert_eq!(Format::sniff(b"   "), None);
    }

    #[test]
    fn sniffs_the_model_from_the_first_property() {
        use oscal_model::ModelKind;
        assert_eq!(
            sniff_json_model(b"{\"catalog\": {}}"),
            Some(ModelKind::Catalog)
        );
        assert_eq!(
            sniff_json_model(b" {\"$schema\" : \"x\\\"y\",\n \"profile\": {"),
            Some(ModelKind::Profile)
        );
        assert_eq!(sniff_json_model(b"{\"name\": 1}"), None);
        assert_eq!(sniff_json_model(b"[]"), None);
        assert_eq!(sniff_json_model(b"{\"catal"), None);
    }

    #[test]
    fn decodes_utf8_and_refuses_the_rest() {
        let path = Path::new("f.json");
        assert_eq!(decode_text(path, b"\xEF\xBB\xBF{}").unwrap(), "{}");
        assert!(matches!(
            decode_text(path, b" \n\t"),
            Err(Error::Empty { .. })
        ));
        assert!(matches!(
            decode_text(path, b"{\"a\": \"\xC3\x28\"}"),
            Err(Error::NotUtf8 { offset: 7, .. })
        ));
        assert!(matches!(
            decode_text(path, b"\xFF\xFE{\x00"),
            Err(Error::UnsupportedEncoding {
                encoding: "UTF-16 (little-endian)",
                ..
            })
        ));
    }

    #[test]
    fn models_are_sniffed_from_the_first_bytes_of_any_format() {
        use oscal_model::ModelKind;
        let cases: [(&[u8], Option<ModelKind>); 6] = [
            (br#"{"$schema": "x", "catalog": {"uuid"#, Some(ModelKind::Catalog)),
            (
                b"<?xml version=\"1.0\"?>\n<!-- c -->\n<assessment-results xmlns=\"http://csrc.nist.gov/ns/oscal/1.0\" uuid=",
                Some(ModelKind::AssessmentResults),
            ),
            (
                b"---\n# a comment\nplan-of-action-and-milestones:\n  uuid: x",
                Some(ModelKind::PlanOfActionAndMilestones),
            ),
            (b"<html><body>", None),
            (b"not a document", None),
            (b"{\"cata", None),
        ];
        for (bytes, model) in cases {
            assert_eq!(
                sniff_model(bytes),
                model,
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
