//! OSCAL XML: reading into and writing from the JSON form, driven by the metaschema.
//!
//! The XML and JSON forms of OSCAL carry the same information; the metaschema says how each
//! element and attribute maps to a JSON property (`binding.rs`, generated). Reading XML builds
//! the JSON value of the document, which the typed model and the schema validation then use;
//! writing XML walks a JSON value in the order the metaschema gives, so the output validates
//! against the official XSD. XML to JSON text ([`to_json`], `mim6 convert`) is one pass over the
//! XML events that writes the JSON the model would, byte for byte; a large document is converted
//! in two halves side by side. Markup (`markup-line`, `markup-multiline`) is converted between
//! OSCAL's HTML subset and Markdown as NIST's converters do ([`crate::markup`]).
//!
//! Reading is hardened for untrusted input: DTDs and entity declarations are refused, only
//! the predefined entities and character references are expanded, nothing is ever fetched,
//! and element nesting is limited.

#[allow(clippy::all)]
mod binding;
mod direct;
pub(crate) mod dom;
mod read;
mod schema;
mod write;

pub use direct::to_json;
pub use read::{from_str, value_from_str};
pub use write::{to_string, value_to_string};

/// The deepest element nesting accepted when reading (OSCAL documents need about 40).
pub const MAX_DEPTH: usize = 256;

/// `text` cut to a readable length for messages.
pub(crate) fn shorten(text: &str) -> String {
    if text.chars().count() <= 60 {
        return text.to_owned();
    }
    let cut: String = text.chars().take(59).collect();
    format!("{cut}…")
}

/// A canonical text of an XML document, for comparing two documents: attributes sorted by
/// name, namespace declarations, comments and whitespace between elements dropped, runs of
/// whitespace in text collapsed to one space and trimmed at element boundaries (except inside
/// `<pre>`), one element per line.
pub fn canonical(text: &str) -> std::result::Result<String, String> {
    let root = dom::parse(text, MAX_DEPTH).map_err(|e| e.message)?;
    let mut out = String::new();
    canonical_element(&root, &mut out, 0, false);
    Ok(out)
}

fn canonical_element(element: &dom::Element, out: &mut String, depth: usize, verbatim: bool) {
    use std::fmt::Write as _;
    let verbatim = verbatim || element.name == "pre";
    let _ = write!(out, "{}<{}", "  ".repeat(depth), element.name);
    let mut attributes = element.attributes.clone();
    attributes.sort();
    for (name, value) in attributes {
        let _ = write!(out, " {name}={value:?}");
    }
    out.push_str(">\n");
    let count = element.children.len();
    for (i, node) in element.children.iter().enumerate() {
        match node {
            dom::Node::Element(child) => canonical_element(child, out, depth + 1, verbatim),
            dom::Node::Text(text) => {
                let text = if verbatim {
                    text.clone()
                } else {
                    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
                    let space_before = i > 0 && text.starts_with(char::is_whitespace);
                    let space_after = i + 1 < count && text.ends_with(char::is_whitespace);
                    if collapsed.is_empty() {
                        continue;
                    }
                    format!(
                        "{}{collapsed}{}",
                        if space_before { " " } else { "" },
                        if space_after { " " } else { "" }
                    )
                };
                let _ = writeln!(out, "{}{text:?}", "  ".repeat(depth + 1));
            }
        }
    }
    let _ = writeln!(out, "{}</{}>", "  ".repeat(depth), element.name);
}

/// Where the value at JSON `pointer` of a document's JSON form sits in its XML `text`: the
/// XPath-like location (`/catalog/group[3]/control[2]/@id`) and 1-based line and column.
/// `None` when the pointer does not lead to an element of the text.
pub fn locate(text: &str, pointer: &str) -> Option<(String, usize, usize)> {
    let root = dom::parse(text, MAX_DEPTH).ok()?;
    let mut segments = pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"));
    let root_key = segments.next()?;
    if root_key != root.name {
        return None;
    }
    let mut def = schema::root_def(&root.name)?;
    let mut element = &root;
    let mut location = format!("/{}", root.name);
    let segments: Vec<String> = segments.collect();
    let mut i = 0;
    while i < segments.len() {
        let segment = &segments[i];
        if def.flags.iter().any(|(flag, _)| flag == segment) {
            location.push_str(&format!("/@{segment}"));
            break;
        }
        let Some(spec) = def.children.iter().find(|c| c.json == segment) else {
            break;
        };
        if spec.unwrapped {
            break;
        }
        let container = match spec.wrapper {
            Some(wrapper) => match element.elements().find(|e| e.name == wrapper) {
                Some(found) => {
                    location.push_str(&format!("/{wrapper}[1]"));
                    found
                }
                None => break,
            },
            None => element,
        };
        let index = if spec.many && i + 1 < segments.len() {
            i += 1;
            segments[i].parse::<usize>().unwrap_or(0)
        } else {
            0
        };
        let Some(child) = container
            .elements()
            .filter(|e| e.name == spec.name)
            .nth(index)
        else {
            break;
        };
        location.push_str(&format!("/{}[{}]", spec.name, index + 1));
        element = child;
        def = schema::def(spec.def);
        i += 1;
    }
    let (line, column) = dom::line_column(text, element.offset);
    Some((location, line, column))
}
