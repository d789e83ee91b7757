//! XML text → the JSON value of the document (and from there the typed model).

use std::path::Path;

use oscal_model::Document;
use serde_json::{Map, Number, Value};

use super::dom::{self, Element, Node};
use super::schema::{self, Def, Kind, ValueType, root_def};
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
    let Some(def) = root_def(&root.name) else {
        return Err(Error::NotOscal {
            path: path.to_owned(),
            reason: oscal_model::UnknownModel(root.name).to_string(),
        });
    };
    let converter = Converter;
    let body = converter
        .assembly(
            def,
            &root,
            &At {
                parent: None,
                siblings: &[],
                element: &root,
            },
        )
        .map_err(|e| fail(e.offset, e.location, e.message))?;
    let mut document = Map::new();
    document.insert(root.name.clone(), Value::Object(body));
    Ok(Value::Object(document))
}

/// Where an element sits, rendered as an XPath-like location only when a problem needs it.
struct At<'a> {
    parent: Option<&'a At<'a>>,
    /// The nodes among which the element sits (empty for the root).
    siblings: &'a [Node],
    element: &'a Element,
}

impl At<'_> {
    fn render(&self) -> String {
        let mut out = match self.parent {
            Some(parent) => parent.render(),
            None => String::new(),
        };
        out.push('/');
        out.push_str(&self.element.name);
        if self.parent.is_some() {
            let index = self
                .siblings
                .iter()
                .filter_map(|n| match n {
                    Node::Element(e) if e.name == self.element.name => Some(e),
                    _ => None,
                })
                .position(|e| std::ptr::eq(e, self.element))
                .map_or(1, |i| i + 1);
            out.push_str(&format!("[{index}]"));
        }
        out
    }
}

/// A conversion problem at an element.
struct Problem {
    offset: usize,
    location: String,
    message: String,
}

fn problem(at: &At<'_>, message: impl Into<String>) -> Problem {
    Problem {
        offset: at.element.offset,
        location: at.render(),
        message: message.into(),
    }
}

fn attribute_problem(at: &At<'_>, name: &str, message: impl Into<String>) -> Problem {
    Problem {
        offset: at.element.offset,
        location: format!("{}/@{name}", at.render()),
        message: message.into(),
    }
}

fn markup_problem(at: &At<'_>, error: MarkupError) -> Problem {
    Problem {
        offset: error.offset.unwrap_or(at.element.offset),
        location: at.render(),
        message: error.message,
    }
}

struct Converter;

impl Converter {
    fn assembly(
        &self,
        def: &'static Def,
        element: &Element,
        at: &At<'_>,
    ) -> std::result::Result<Map<String, Value>, Problem> {
        let mut object = self.flags(def, at)?;
        let mut items: Vec<Vec<Value>> = vec![Vec::new(); def.children.len()];
        let unwrapped = def.children.iter().position(|c| c.unwrapped);
        let mut prose: Vec<&Node> = Vec::new();
        for node in &element.children {
            let child = match node {
                Node::Text(text) if text.trim().is_empty() => continue,
                Node::Text(text) => {
                    return Err(problem(
                        at,
                        format!(
                            "unexpected text {:?} in <{}>",
                            super::shorten(text.trim()),
                            element.name
                        ),
                    ));
                }
                Node::Element(child) => child,
            };
            let child_at = At {
                parent: Some(at),
                siblings: &element.children,
                element: child,
            };
            if let Some(index) = def
                .children
                .iter()
                .position(|c| c.wrapper == Some(child.name.as_str()))
            {
                let spec = &def.children[index];
                for node in &child.children {
                    match node {
                        Node::Text(text) if text.trim().is_empty() => {}
                        Node::Element(item) => {
                            let item_at = At {
                                parent: Some(&child_at),
                                siblings: &child.children,
                                element: item,
                            };
                            if item.name != spec.name {
                                return Err(problem(
                                    &item_at,
                                    format!("unknown element <{}> in <{}>", item.name, child.name),
                                ));
                            }
                            items[index].push(self.item(schema::def(spec.def), item, &item_at)?);
                        }
                        Node::Text(_) => return Err(problem(&child_at, "unexpected text")),
                    }
                }
            } else if let Some(index) = def
                .children
                .iter()
                .position(|c| c.name == child.name && c.wrapper.is_none() && !c.unwrapped)
            {
                let spec = &def.children[index];
                items[index].push(self.item(schema::def(spec.def), child, &child_at)?);
            } else if unwrapped.is_some() && markup::is_block(&child.name) {
                prose.push(node);
            } else {
                return Err(problem(
                    &child_at,
                    format!("unknown element <{}> in <{}>", child.name, element.name),
                ));
            }
        }
        if let Some(index) = unwrapped
            && !prose.is_empty()
        {
            let text = markup::blocks_to_markdown(prose.iter().copied())
                .map_err(|e| markup_problem(at, e))?;
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
                    at,
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
        at: &At<'_>,
    ) -> std::result::Result<Value, Problem> {
        match def.kind {
            Kind::Assembly => Ok(Value::Object(self.assembly(def, element, at)?)),
            Kind::Field => self.field(def, element, at),
        }
    }

    fn field(
        &self,
        def: &'static Def,
        element: &Element,
        at: &At<'_>,
    ) -> std::result::Result<Value, Problem> {
        let content = match def.value {
            ValueType::MarkupLine => Value::String(
                markup::line_to_markdown(&element.children).map_err(|e| markup_problem(at, e))?,
            ),
            ValueType::MarkupMultiline => Value::String(
                markup::blocks_to_markdown(&element.children).map_err(|e| markup_problem(at, e))?,
            ),
            other => {
                if let Some(child) = element.elements().next() {
                    let child_at = At {
                        parent: Some(at),
                        siblings: &element.children,
                        element: child,
                    };
                    return Err(problem(
                        &child_at,
                        format!(
                            "unknown element <{}> in <{}>, which holds text",
                            child.name, element.name
                        ),
                    ));
                }
                typed(other, &element.text()).map_err(|message| problem(at, message))?
            }
        };
        if def.flags.is_empty() {
            if let Some((name, _)) = element.attributes.first() {
                return Err(attribute_problem(
                    at,
                    name,
                    format!("unknown attribute {name:?} on <{}>", element.name),
                ));
            }
            return Ok(content);
        }
        let mut object = self.flags(def, at)?;
        object.insert(def.value_key.unwrap_or("STRVALUE").to_owned(), content);
        Ok(Value::Object(object))
    }

    fn flags(
        &self,
        def: &'static Def,
        at: &At<'_>,
    ) -> std::result::Result<Map<String, Value>, Problem> {
        let element = at.element;
        let mut object = Map::new();
        for (name, text) in &element.attributes {
            let Some((_, kind)) = def.flags.iter().find(|(flag, _)| flag == name) else {
                return Err(attribute_problem(
                    at,
                    name,
                    format!("unknown attribute {name:?} on <{}>", element.name),
                ));
            };
            let value =
                typed(*kind, text).map_err(|message| attribute_problem(at, name, message))?;
            object.insert(name.clone(), value);
        }
        Ok(object)
    }
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
