//! XML text → the JSON value of the document (and from there the typed model).

use std::collections::HashMap;
use std::path::Path;

use oscal_model::Document;
use serde_json::{Map, Number, Value};

use super::dom::{self, Element, Node};
use super::schema::{Def, Kind, ValueType, def, root_def};
use crate::markup::{self, MarkupError};
use crate::{Error, Result};

/// Reads an OSCAL XML document into the typed model.
pub fn from_str(path: &Path, text: &str) -> Result<Document> {
    let value = value_from_str(path, text)?;
    crate::json::from_value(path, value)
}

/// Reads an OSCAL XML document into its JSON form (`{"catalog": {...}}`).
pub fn value_from_str(path: &Path, text: &str) -> Result<Value> {
    let fail = |offset: usize, location: String, message: String| {
        let (line, column) = dom::line_column(text, offset);
        Error::Xml {
            path: path.to_owned(),
            line,
            column,
            location,
            message,
        }
    };
    let root =
        dom::parse(text, super::MAX_DEPTH).map_err(|e| fail(e.offset, String::new(), e.message))?;
    let location = format!("/{}", root.name);
    let Some(def) = root_def(&root.name) else {
        return Err(Error::NotOscal {
            path: path.to_owned(),
            reason: oscal_model::UnknownModel(root.name).to_string(),
        });
    };
    let converter = Converter;
    let body = converter
        .assembly(def, &root, &location)
        .map_err(|e| fail(e.offset, e.location, e.message))?;
    let mut document = Map::new();
    document.insert(root.name.clone(), Value::Object(body));
    Ok(Value::Object(document))
}

/// A conversion problem at an element.
struct Problem {
    offset: usize,
    location: String,
    message: String,
}

fn problem(element: &Element, location: &str, message: impl Into<String>) -> Problem {
    Problem {
        offset: element.offset,
        location: location.to_owned(),
        message: message.into(),
    }
}

fn markup_problem(element: &Element, location: &str, error: MarkupError) -> Problem {
    Problem {
        offset: error.offset.unwrap_or(element.offset),
        location: location.to_owned(),
        message: error.message,
    }
}

struct Converter;

impl Converter {
    fn assembly(
        &self,
        def: &'static Def,
        element: &Element,
        location: &str,
    ) -> std::result::Result<Map<String, Value>, Problem> {
        let mut object = self.flags(def, element, location)?;
        let mut items: Vec<Vec<Value>> = vec![Vec::new(); def.children.len()];
        let unwrapped = def.children.iter().position(|c| c.unwrapped);
        let mut prose: Vec<&Node> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for node in &element.children {
            let child = match node {
                Node::Text(text) if text.trim().is_empty() => continue,
                Node::Text(text) => {
                    return Err(problem(
                        element,
                        location,
                        format!(
                            "unexpected text {:?} in <{}>",
                            super::shorten(text.trim()),
                            element.name
                        ),
                    ));
                }
                Node::Element(child) => child,
            };
            let n = seen.entry(child.name.as_str()).or_insert(0);
            *n += 1;
            let child_location = format!("{location}/{}[{n}]", child.name);
            if let Some(index) = def
                .children
                .iter()
                .position(|c| c.wrapper == Some(child.name.as_str()))
            {
                let spec = &def.children[index];
                let mut seen_items = 0;
                for node in &child.children {
                    match node {
                        Node::Text(text) if text.trim().is_empty() => {}
                        Node::Element(item) if item.name == spec.name => {
                            seen_items += 1;
                            let at = format!("{child_location}/{}[{seen_items}]", item.name);
                            items[index].push(self.item(def_of(spec.def), item, &at)?);
                        }
                        Node::Element(item) => {
                            return Err(problem(
                                item,
                                &format!("{child_location}/{}", item.name),
                                format!("unknown element <{}> in <{}>", item.name, child.name),
                            ));
                        }
                        Node::Text(_) => {
                            return Err(problem(child, &child_location, "unexpected text"));
                        }
                    }
                }
            } else if let Some(index) = def
                .children
                .iter()
                .position(|c| c.name == child.name && c.wrapper.is_none() && !c.unwrapped)
            {
                let spec = &def.children[index];
                items[index].push(self.item(def_of(spec.def), child, &child_location)?);
            } else if unwrapped.is_some() && markup::is_block(&child.name) {
                prose.push(node);
            } else {
                return Err(problem(
                    child,
                    &child_location,
                    format!("unknown element <{}> in <{}>", child.name, element.name),
                ));
            }
        }
        if let Some(index) = unwrapped
            && !prose.is_empty()
        {
            let text = markup::blocks_to_markdown(prose.iter().copied())
                .map_err(|e| markup_problem(element, location, e))?;
            items[index].push(Value::String(text));
        }
        for (spec, values) in def.children.iter().zip(items) {
            if values.is_empty() {
                continue;
            }
            let value = if spec.many && (spec.array_always || values.len() > 1) {
                Value::Array(values)
            } else if values.len() == 1 {
                values.into_iter().next().unwrap_or(Value::Null)
            } else {
                return Err(problem(
                    element,
                    location,
                    format!(
                        "<{}> may occur once in <{}>, found {}",
                        spec.name,
                        element.name,
                        values.len()
                    ),
                ));
            };
            object.insert(spec.json.to_owned(), value);
        }
        Ok(object)
    }

    fn item(
        &self,
        def: &'static Def,
        element: &Element,
        location: &str,
    ) -> std::result::Result<Value, Problem> {
        match def.kind {
            Kind::Assembly => Ok(Value::Object(self.assembly(def, element, location)?)),
            Kind::Field => self.field(def, element, location),
        }
    }

    fn field(
        &self,
        def: &'static Def,
        element: &Element,
        location: &str,
    ) -> std::result::Result<Value, Problem> {
        let content = match def.value {
            ValueType::MarkupLine => Value::String(
                markup::line_to_markdown(&element.children)
                    .map_err(|e| markup_problem(element, location, e))?,
            ),
            ValueType::MarkupMultiline => Value::String(
                markup::blocks_to_markdown(&element.children)
                    .map_err(|e| markup_problem(element, location, e))?,
            ),
            other => {
                if let Some(child) = element.elements().next() {
                    return Err(problem(
                        child,
                        &format!("{location}/{}", child.name),
                        format!(
                            "unknown element <{}> in <{}>, which holds text",
                            child.name, element.name
                        ),
                    ));
                }
                typed(other, &element.text())
                    .map_err(|message| problem(element, location, message))?
            }
        };
        if def.flags.is_empty() {
            if let Some((name, _)) = element.attributes.first() {
                return Err(problem(
                    element,
                    &format!("{location}/@{name}"),
                    format!("unknown attribute {name:?} on <{}>", element.name),
                ));
            }
            return Ok(content);
        }
        let mut object = self.flags(def, element, location)?;
        object.insert(def.value_key.unwrap_or("STRVALUE").to_owned(), content);
        Ok(Value::Object(object))
    }

    fn flags(
        &self,
        def: &'static Def,
        element: &Element,
        location: &str,
    ) -> std::result::Result<Map<String, Value>, Problem> {
        let mut object = Map::new();
        for (name, text) in &element.attributes {
            let at = format!("{location}/@{name}");
            let Some((_, kind)) = def.flags.iter().find(|(flag, _)| flag == name) else {
                return Err(problem(
                    element,
                    &at,
                    format!("unknown attribute {name:?} on <{}>", element.name),
                ));
            };
            let value = typed(*kind, text).map_err(|message| problem(element, &at, message))?;
            object.insert(name.clone(), value);
        }
        Ok(object)
    }
}

fn def_of(index: u16) -> &'static Def {
    def(index)
}

/// The JSON value of XML text of the given type.
fn typed(kind: ValueType, text: &str) -> std::result::Result<Value, String> {
    match kind {
        ValueType::Boolean => match text.trim() {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            other => Err(format!("{:?} is not a boolean", super::shorten(other))),
        },
        ValueType::Integer => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("{:?} is not an integer", super::shorten(text))),
        ValueType::Decimal => {
            decimal(text).ok_or_else(|| format!("{:?} is not a decimal", super::shorten(text)))
        }
        ValueType::String | ValueType::MarkupLine | ValueType::MarkupMultiline => {
            Ok(Value::String(text.to_owned()))
        }
    }
}

fn decimal(text: &str) -> Option<Value> {
    let trimmed = text.trim();
    if trimmed.is_empty()
        || !trimmed
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.".contains(&b))
    {
        return None;
    }
    serde_json::from_str::<Number>(trimmed.trim_start_matches('+'))
        .ok()
        .map(Value::Number)
}
