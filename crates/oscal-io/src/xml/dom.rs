//! A small element tree of an XML document, read with hardening against hostile input.

use quick_xml::NsReader;
use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use oscal_model::OSCAL_XML_NAMESPACE;

/// An element: local name, attributes in document order, children, and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) attributes: Vec<(String, String)>,
    pub(crate) children: Vec<Node>,
    /// Byte offset of the start tag in the text.
    pub(crate) offset: usize,
}

/// Element content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    /// The attribute named `name`.
    pub(crate) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Child elements, skipping text.
    pub(crate) fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|node| match node {
            Node::Element(element) => Some(element),
            Node::Text(_) => None,
        })
    }

    /// The concatenated text of the element's own text nodes.
    pub(crate) fn text(&self) -> String {
        let mut text = String::new();
        for node in &self.children {
            if let Node::Text(t) = node {
                text.push_str(t);
            }
        }
        text
    }
}

/// Why the text is not an acceptable OSCAL XML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DomError {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

fn error(offset: usize, message: impl Into<String>) -> DomError {
    DomError {
        offset,
        message: message.into(),
    }
}

/// Parses `text` into its root element. Refuses DTDs, undefined entities, elements outside
/// the OSCAL namespace, and nesting deeper than `max_depth`.
pub(crate) fn parse(text: &str, max_depth: usize) -> Result<Element, DomError> {
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let offset = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let (ns, event) = match reader.read_resolved_event() {
            Ok((ns, event)) => (namespace_of(&ns), event),
            Err(err) => return Err(error(offset, format!("malformed XML: {err}"))),
        };
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(error(offset, "content after the root element"));
            }
            Event::Start(ref start) | Event::Empty(ref start) => {
                let name = start.local_name().as_ref().to_owned();
                if ns.as_deref() != Some(OSCAL_XML_NAMESPACE) {
                    let found = ns
                        .map_or_else(|| "no namespace".to_owned(), |n| format!("namespace {n:?}"));
                    return Err(error(
                        offset,
                        format!("element <{name}> is in {found}, not {OSCAL_XML_NAMESPACE:?}"),
                    ));
                }
                let mut attributes = Vec::new();
                for attribute in start.attributes() {
                    let attribute = attribute.map_err(|e| {
                        error(offset, format!("malformed attribute in <{name}>: {e}"))
                    })?;
                    let key = attribute.key;
                    // Namespace declarations and XML Schema hints (`xsi:schemaLocation`) are
                    // about the file, not OSCAL content.
                    let raw: &str = key.as_ref();
                    if raw == "xmlns" || raw.starts_with("xmlns:") || raw.starts_with("xsi:") {
                        continue;
                    }
                    let key_text = key.as_ref().to_owned();
                    let value = attribute
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|e| {
                            error(offset, format!("attribute {key_text:?} of <{name}>: {e}"))
                        })?;
                    check_chars(&value, offset)?;
                    attributes.push((key_text, value.into_owned()));
                }
                let element = Element {
                    name,
                    attributes,
                    children: Vec::new(),
                    offset,
                };
                if matches!(event, Event::Empty(_)) {
                    close(&mut stack, &mut root, element);
                } else {
                    if stack.len() >= max_depth {
                        return Err(error(
                            offset,
                            format!("elements nest deeper than the limit of {max_depth}"),
                        ));
                    }
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| error(offset, "unexpected end tag"))?;
                close(&mut stack, &mut root, element);
            }
            Event::Text(text) => push_text(&mut stack, &text.xml10_content(), offset)?,
            Event::CData(data) => {
                let data: &str = data.as_ref();
                let data = data.to_owned();
                push_text(&mut stack, &data, offset)?;
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = reference.xml10_content();
                        predefined_entity(&name)
                            .ok_or_else(|| {
                                error(offset, format!("undefined entity &{name}; (only the five predefined entities are allowed)"))
                            })?
                            .to_owned()
                    }
                    Err(e) => return Err(error(offset, format!("bad character reference: {e}"))),
                };
                push_text(&mut stack, &resolved, offset)?;
            }
            Event::DocType(_) => {
                return Err(error(
                    offset,
                    "DOCTYPE declarations are not allowed (no DTDs, no entity declarations)",
                ));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(error(
            text.len(),
            format!("document ends inside <{}>", open.name),
        ));
    }
    root.ok_or_else(|| error(0, "no root element"))
}

fn namespace_of(ns: &ResolveResult<'_>) -> Option<String> {
    match ns {
        ResolveResult::Bound(ns) => Some(ns.as_ref().to_owned()),
        ResolveResult::Unbound => None,
        ResolveResult::Unknown(prefix) => Some(format!("undeclared prefix {prefix}")),
    }
}

fn close(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(element)),
        None => *root = Some(element),
    }
}

/// Refuses characters that XML 1.0 does not allow in a document (NUL and the other C0 controls
/// but tab, line feed and carriage return; U+FFFE and U+FFFF), written raw or by reference.
fn check_chars(text: &str, offset: usize) -> Result<(), DomError> {
    match disallowed_char(text) {
        Some(c) => Err(error(
            offset,
            format!("character U+{:04X} is not allowed in XML", u32::from(c)),
        )),
        None => Ok(()),
    }
}

/// The first character of `text` that XML 1.0 does not allow in a document (NUL and the other
/// C0 controls but tab, line feed and carriage return; U+FFFE and U+FFFF), if any.
pub(crate) fn disallowed_char(text: &str) -> Option<char> {
    // Every byte looked at (no early exit, so the loop vectorises); characters only when a
    // suspect byte is found.
    let suspect = |b: u8| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) | (b == 0xEF);
    if !text.bytes().fold(false, |any, b| any | suspect(b)) {
        return None;
    }
    text.chars().find(|c| {
        matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
    })
}

fn push_text(stack: &mut [Element], text: &str, offset: usize) -> Result<(), DomError> {
    check_chars(text, offset)?;
    let Some(parent) = stack.last_mut() else {
        if text.trim().is_empty() {
            return Ok(());
        }
        return Err(error(offset, "text outside the root element"));
    };
    match parent.children.last_mut() {
        Some(Node::Text(previous)) => previous.push_str(text),
        _ => parent.children.push(Node::Text(text.to_owned())),
    }
    Ok(())
}

/// The text of one of XML's five predefined entities.
pub(crate) fn predefined_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => return None,
    })
}

/// 1-based line and column of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, offset - line_start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "xmlns=\"http://csrc.nist.gov/ns/oscal/1.0\"";

    #[test]
    fn builds_the_tree_with_entities_and_char_refs() {
        let text = format!(
            "<?xml version=\"1.0\"?><catalog {NS} uuid=\"a&amp;b\"><p>x &lt; y &#x41;<em>z</em></p></catalog>"
        );
        let root = parse(&text, 10).unwrap();
        assert_eq!(root.attribute("uuid"), Some("a&b"));
        let p = root.elements().next().unwrap();
        assert_eq!(p.text(), "x < y A");
        assert_eq!(p.elements().next().unwrap().name, "em");
    }

    #[test]
    fn refuses_doctype_unknown_entities_foreign_namespaces_and_depth() {
        let doctype = format!("<!DOCTYPE x [<!ENTITY a \"b\">]><catalog {NS}>&a;</catalog>");
        assert!(
            parse(&doctype, 10)
                .unwrap_err()
                .message
                .starts_with("DOCTYPE")
        );
        let entity = format!("<catalog {NS}>&a;</catalog>");
        assert!(
            parse(&entity, 10)
                .unwrap_err()
                .message
                .contains("undefined entity &a;")
        );
        let foreign = "<catalog xmlns=\"urn:other\"/>";
        assert!(
            parse(foreign, 10)
                .unwrap_err()
                .message
                .contains("not \"http://csrc.nist.gov/ns/oscal/1.0\"")
        );
        let deep = format!("<a {NS}>{}{}</a>", "<a>".repeat(20), "</a>".repeat(20));
        assert!(
            parse(&deep, 10)
                .unwrap_err()
                .message
                .contains("deeper than the limit of 10")
        );
    }

    #[test]
    fn positions_are_line_and_column() {
        assert_eq!(line_column("ab\ncd\nef", 4), (2, 2));
        assert_eq!(line_column("ab", 0), (1, 1));
    }
}
