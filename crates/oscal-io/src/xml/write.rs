//! The JSON value of a document → OSCAL XML, in the element order the metaschema gives.

use oscal_model::{Document, OSCAL_XML_NAMESPACE};
use serde_json::{Map, Value};

use super::dom::{Element, Node};
use super::schema::{self, Def, Kind, ValueType, root_def};
use crate::markup;
use crate::{Error, Result};

/// Writes a document as OSCAL XML.
pub fn to_string(document: &Document) -> Result<String> {
    let value = serde_json::to_value(document).map_err(|e| Error::Unmapped {
        pointer: String::new(),
        message: format!("cannot serialise the document: {e}"),
    })?;
    value_to_string(&value)
}

/// Writes the JSON form of a document (`{"catalog": {...}}`) as OSCAL XML.
pub fn value_to_string(value: &Value) -> Result<String> {
    let root = value
        .as_object()
        .ok_or_else(|| unmapped("", "the document is not an object"))?;
    let mut models = root.iter().filter(|(key, _)| key.as_str() != "$schema");
    let (key, body) = models
        .next()
        .ok_or_else(|| unmapped("", "the document holds no model"))?;
    if let Some((other, _)) = models.next() {
        return Err(unmapped(
            "",
            &format!("the document holds two models, {key:?} and {other:?}"),
        ));
    }
    let def = root_def(key).ok_or_else(|| {
        unmapped(
            &format!("/{key}"),
            &oscal_model::UnknownModel(key.clone()).to_string(),
        )
    })?;
    let body = body
        .as_object()
        .ok_or_else(|| unmapped(&format!("/{key}"), "expected an object"))?;
    let mut writer = Writer {
        out: String::with_capacity(1 << 16),
    };
    writer
        .out
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    writer.assembly(def, key, body, 0, &format!("/{key}"), true)?;
    writer.out.push('\n');
    Ok(writer.out)
}

fn unmapped(pointer: &str, message: &str) -> Error {
    Error::Unmapped {
        pointer: pointer.to_owned(),
        message: message.to_owned(),
    }
}

struct Writer {
    out: String,
}

impl Writer {
    fn indent(&mut self, depth: usize) {
        self.out.push('\n');
        for _ in 0..depth {
            self.out.push_str("  ");
        }
    }

    fn assembly(
        &mut self,
        def: &'static Def,
        name: &str,
        object: &Map<String, Value>,
        depth: usize,
        pointer: &str,
        root: bool,
    ) -> Result<()> {
        for key in object.keys() {
            let known = def.flags.iter().any(|(flag, _)| flag == key)
                || def.children.iter().any(|child| child.json == key);
            if !known {
                return Err(unmapped(
                    &format!("{pointer}/{key}"),
                    &format!("property {key:?} is not part of <{name}> in OSCAL"),
                ));
            }
        }
        self.out.push('<');
        self.out.push_str(name);
        if root {
            self.out.push_str(" xmlns=\"");
            self.out.push_str(OSCAL_XML_NAMESPACE);
            self.out.push('"');
        }
        self.attributes(def, object, pointer)?;
        let mut open = false;
        for child in def.children {
            let Some(value) = object.get(child.json) else {
                continue;
            };
            let at = format!("{pointer}/{}", child.json);
            if !open {
                self.out.push('>');
                open = true;
            }
            let items: Vec<(&Value, String)> = match value {
                Value::Array(items) if child.many => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| (item, format!("{at}/{i}")))
                    .collect(),
                single => vec![(single, at.clone())],
            };
            let child_def = schema::def(child.def);
            if child.unwrapped {
                for (item, at) in items {
                    let text = item
                        .as_str()
                        .ok_or_else(|| unmapped(&at, "expected a string"))?;
                    self.blocks(&markup::markdown_to_blocks(text), depth + 1);
                }
                continue;
            }
            let item_depth = if let Some(wrapper) = child.wrapper {
                self.indent(depth + 1);
                self.out.push('<');
                self.out.push_str(wrapper);
                self.out.push('>');
                depth + 2
            } else {
                depth + 1
            };
            for (item, at) in items {
                self.indent(item_depth);
                self.item(child_def, child.name, item, item_depth, &at)?;
            }
            if let Some(wrapper) = child.wrapper {
                self.indent(depth + 1);
                self.out.push_str("</");
                self.out.push_str(wrapper);
                self.out.push('>');
            }
        }
        if open {
            self.indent(depth);
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        } else {
            self.out.push_str("/>");
        }
        Ok(())
    }

    fn item(
        &mut self,
        def: &'static Def,
        name: &str,
        value: &Value,
        depth: usize,
        pointer: &str,
    ) -> Result<()> {
        match def.kind {
            Kind::Assembly => {
                let object = value
                    .as_object()
                    .ok_or_else(|| unmapped(pointer, "expected an object"))?;
                self.assembly(def, name, object, depth, pointer, false)
            }
            Kind::Field => self.field(def, name, value, depth, pointer),
        }
    }

    fn field(
        &mut self,
        def: &'static Def,
        name: &str,
        value: &Value,
        depth: usize,
        pointer: &str,
    ) -> Result<()> {
        let (content, content_pointer) = if def.flags.is_empty() {
            (value, pointer.to_owned())
        } else {
            let object = value
                .as_object()
                .ok_or_else(|| unmapped(pointer, "expected an object"))?;
            let key = def.value_key.unwrap_or("STRVALUE");
            for property in object.keys() {
                if property != key && !def.flags.iter().any(|(flag, _)| flag == property) {
                    return Err(unmapped(
                        &format!("{pointer}/{property}"),
                        &format!("property {property:?} is not part of <{name}> in OSCAL"),
                    ));
                }
            }
            self.out.push('<');
            self.out.push_str(name);
            self.attributes(def, object, pointer)?;
            let content = object.get(key).unwrap_or(&Value::Null);
            if content.is_null() {
                self.out.push_str("/>");
                return Ok(());
            }
            self.out.push('>');
            self.content(def.value, content, depth, &format!("{pointer}/{key}"))?;
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
            return Ok(());
        };
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self.content(def.value, content, depth, &content_pointer)?;
        if def.value == ValueType::MarkupMultiline {
            self.indent(depth);
        }
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        Ok(())
    }

    fn content(
        &mut self,
        kind: ValueType,
        value: &Value,
        depth: usize,
        pointer: &str,
    ) -> Result<()> {
        match kind {
            ValueType::MarkupLine => {
                let text = value
                    .as_str()
                    .ok_or_else(|| unmapped(pointer, "expected a string"))?;
                self.nodes(&markup::markdown_to_line(text));
            }
            ValueType::MarkupMultiline => {
                let text = value
                    .as_str()
                    .ok_or_else(|| unmapped(pointer, "expected a string"))?;
                self.blocks(&markup::markdown_to_blocks(text), depth + 1);
            }
            _ => {
                let text = scalar(value)
                    .ok_or_else(|| unmapped(pointer, "expected a string, number or boolean"))?;
                escape_into(&mut self.out, &text, false);
            }
        }
        Ok(())
    }

    fn attributes(
        &mut self,
        def: &'static Def,
        object: &Map<String, Value>,
        pointer: &str,
    ) -> Result<()> {
        for (flag, _) in def.flags {
            let Some(value) = object.get(*flag) else {
                continue;
            };
            let text = scalar(value).ok_or_else(|| {
                unmapped(
                    &format!("{pointer}/{flag}"),
                    "expected a string, number or boolean",
                )
            })?;
            self.out.push(' ');
            self.out.push_str(flag);
            self.out.push_str("=\"");
            escape_into(&mut self.out, &text, true);
            self.out.push('"');
        }
        Ok(())
    }

    fn blocks(&mut self, nodes: &[Node], depth: usize) {
        for node in nodes {
            self.indent(depth);
            self.nodes(std::slice::from_ref(node));
        }
    }

    fn nodes(&mut self, nodes: &[Node]) {
        for node in nodes {
            match node {
                Node::Text(text) => escape_into(&mut self.out, text, false),
                Node::Element(element) => self.markup_element(element),
            }
        }
    }

    fn markup_element(&mut self, element: &Element) {
        self.out.push('<');
        self.out.push_str(&element.name);
        for (name, value) in &element.attributes {
            self.out.push(' ');
            self.out.push_str(name);
            self.out.push_str("=\"");
            escape_into(&mut self.out, value, true);
            self.out.push('"');
        }
        if element.children.is_empty()
            && matches!(element.name.as_str(), "insert" | "img" | "br" | "hr")
        {
            self.out.push_str("/>");
            return;
        }
        self.out.push('>');
        self.nodes(&element.children);
        self.out.push_str("</");
        self.out.push_str(&element.name);
        self.out.push('>');
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn escape_into(out: &mut String, text: &str, attribute: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}
