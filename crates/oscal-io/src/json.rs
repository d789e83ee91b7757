//! OSCAL JSON: typed documents and plain JSON values, with errors that locate the problem.

use std::path::Path;

use oscal_model::{Document, ModelKind};
use serde::Serialize;
use serde_json::Value;

use crate::{Error, Result, decode_text};

/// Reads an OSCAL JSON document into the typed model.
///
/// On failure the error gives the line and column and, when a value does not fit the model,
/// the JSON pointer of that value.
pub fn from_slice(path: &Path, bytes: &[u8]) -> Result<Document> {
    let text = decode_text(path, bytes)?;
    match serde_json::from_str::<Document>(text) {
        Ok(doc) => Ok(doc),
        Err(err) => Err(locate(path, text, &err)),
    }
}

/// Turns the JSON form of a document (from XML or YAML) into the typed model, locating a value
/// that does not fit by its JSON pointer.
pub fn from_value(path: &Path, value: Value) -> Result<Document> {
    match serde_path_to_error::deserialize::<_, Document>(value) {
        Ok(doc) => Ok(doc),
        Err(err) => Err(Error::Json {
            path: path.to_owned(),
            line: 0,
            column: 0,
            pointer: pointer_of(err.path()),
            message: crate::error::quote_briefly(&err.inner().to_string()),
        }),
    }
}

/// Reads JSON text into a plain value (for schema validation), with the same checks on
/// encoding and emptiness as [`from_slice`]. An object that repeats a key is refused: which of
/// the two values a reader keeps differs from tool to tool, so the document means nothing sure.
pub fn value_from_slice(path: &Path, bytes: &[u8]) -> Result<Value> {
    let text = decode_text(path, bytes)?;
    serde_json::from_str::<Unique>(text)
        .map(|unique| unique.0)
        .map_err(|err| syntax_error(path, &err, String::new()))
}

/// A JSON value whose objects have no repeated key.
struct Unique(Value);

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> std::result::Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Unique(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match object.entry(key) {
                serde_json::map::Entry::Occupied(entry) => {
                    return Err(serde::de::Error::custom(format!(
                        "duplicate key `{}`",
                        entry.key()
                    )));
                }
                serde_json::map::Entry::Vacant(entry) => {
                    let Unique(value) = map.next_value()?;
                    entry.insert(value);
                }
            }
        }
        Ok(Value::Object(object))
    }
}

/// The model a JSON value holds, from its root key.
pub fn model_of(path: &Path, value: &Value) -> Result<ModelKind> {
    let Some(object) = value.as_object() else {
        return Err(Error::NotOscal {
            path: path.to_owned(),
            reason: format!("the root is {}, not an object", kind_of(value)),
        });
    };
    let mut models = object.keys().filter(|key| key.as_str() != "$schema");
    let Some(key) = models.next() else {
        return Err(Error::NotOscal {
            path: path.to_owned(),
            reason: "the root object has no model property (such as \"catalog\")".into(),
        });
    };
    let kind = ModelKind::from_root_key(key).ok_or_else(|| Error::NotOscal {
        path: path.to_owned(),
        reason: oscal_model::UnknownModel(key.clone()).to_string(),
    })?;
    if let Some(other) = models.next() {
        return Err(Error::NotOscal {
            path: path.to_owned(),
            reason: format!("the root holds more than one property: {key:?} and {other:?}"),
        });
    }
    Ok(kind)
}

/// Writes a document as pretty-printed JSON (two-space indent, trailing newline).
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let mut out = serde_json::to_vec_pretty(value).map_err(|e| unserialisable(&e))?;
    out.push(b'\n');
    Ok(out)
}

/// Writes a document as [`to_vec`] does, to `out`. A catalog's groups are serialised side by
/// side (rayon) and put in their place; anything else is written as it is serialised.
pub fn document_to_writer(document: &Document, out: &mut dyn std::io::Write) -> Result<()> {
    let oscal_model::Model::Catalog(catalog) = &document.model else {
        return to_writer(document, out);
    };
    let Some(groups) = catalog.groups.as_deref().filter(|g| g.len() > 1) else {
        return to_writer(document, out);
    };
    use rayon::prelude::*;
    let groups: Vec<Vec<u8>> = groups
        .par_iter()
        .map(|group| {
            let mut out = Vec::new();
            let formatter = Nested::at(GROUP_LEVEL);
            let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
            group.serialize(&mut serializer).map(|()| out)
        })
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| unserialisable(&e))?;
    // The rest of the document, with an empty list where the groups go.
    let shell = Document {
        schema: document.schema.clone(),
        model: oscal_model::Model::Catalog(Box::new(oscal_model::Catalog {
            uuid: catalog.uuid.clone(),
            metadata: catalog.metadata.clone(),
            params: catalog.params.clone(),
            controls: catalog.controls.clone(),
            groups: Some(Vec::new()),
            back_matter: catalog.back_matter.clone(),
            unrecognized: catalog.unrecognized.clone(),
        })),
    };
    let text = serde_json::to_vec_pretty(&shell).map_err(|e| unserialisable(&e))?;
    // The catalog's own properties are the only ones at this depth, so this is its groups.
    let empty = b"\n    \"groups\": []";
    let Some(at) = memchr::memmem::find(&text, empty) else {
        return to_writer(document, out);
    };
    let write = |out: &mut dyn std::io::Write| -> std::io::Result<()> {
        out.write_all(&text[..at + empty.len() - 1])?;
        for (i, group) in groups.iter().enumerate() {
            out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            Nested::at(GROUP_LEVEL).indent(out)?;
            out.write_all(group)?;
        }
        out.write_all(b"\n    ]")?;
        out.write_all(&text[at + empty.len()..])?;
        out.write_all(b"\n")
    };
    write(out).map_err(unwritable)
}

/// A value serde_json cannot serialise.
fn unserialisable(e: &serde_json::Error) -> Error {
    Error::NotOscal {
        path: Default::default(),
        reason: format!("cannot serialise: {e}"),
    }
}

/// A writer that failed; the writer has no path of its own.
pub(crate) fn unwritable(e: std::io::Error) -> Error {
    Error::io(Path::new("-"), "cannot write", e)
}

/// How deep a catalog's groups sit in a pretty-printed document: document, catalog, list.
const GROUP_LEVEL: usize = 3;

/// serde_json's pretty layout (two spaces a level) for a value that sits `level` levels deep.
struct Nested {
    level: usize,
    has_value: bool,
}

impl Nested {
    fn at(level: usize) -> Nested {
        Nested {
            level,
            has_value: false,
        }
    }

    fn indent<W: ?Sized + std::io::Write>(&self, out: &mut W) -> std::io::Result<()> {
        for _ in 0..self.level {
            out.write_all(b"  ")?;
        }
        Ok(())
    }

    /// `[` or `{`: one level deeper.
    fn open<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        mark: &[u8],
    ) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        out.write_all(mark)
    }

    /// `]` or `}`: on a line of its own unless the list or object was empty.
    fn close<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        mark: &[u8],
    ) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            out.write_all(b"\n")?;
            self.indent(out)?;
        }
        out.write_all(mark)
    }

    /// An item or a key: on a new line, after a comma unless it is the first.
    fn next<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        out.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(out)
    }
}

impl serde_json::ser::Formatter for Nested {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.open(out, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.close(out, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.next(out, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.open(out, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.close(out, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.next(out, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
    ) -> std::io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Writes a document as [`to_vec`] does, to `out` as it is serialised (buffered here: the
/// serialiser writes in small pieces).
pub fn to_writer<T: Serialize + ?Sized>(value: &T, out: &mut dyn std::io::Write) -> Result<()> {
    use std::io::Write;
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut buffered, value).map_err(|e| match e.io_error_kind() {
        Some(_) => unwritable(std::io::Error::other(e)),
        None => unserialisable(&e),
    })?;
    buffered
        .write_all(b"\n")
        .and_then(|()| buffered.flush())
        .map_err(unwritable)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Turns a typed-parse failure into an error with a position and, for data errors, a pointer.
/// The pointer needs a second, path-tracking parse, which runs only on this failure path.
fn locate(path: &Path, text: &str, err: &serde_json::Error) -> Error {
    if err.classify() != serde_json::error::Category::Data {
        return syntax_error(path, err, String::new());
    }
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, Document>(&mut de) {
        Err(tracked) => {
            let pointer = pointer_of(tracked.path());
            syntax_error(path, tracked.inner(), pointer)
        }
        Ok(_) => syntax_error(path, err, String::new()),
    }
}

fn syntax_error(path: &Path, err: &serde_json::Error, pointer: String) -> Error {
    let message = err.to_string();
    // serde_json appends " at line L column C"; the position is reported separately.
    let message = match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    };
    Error::Json {
        path: path.to_owned(),
        line: err.line(),
        column: err.column(),
        pointer,
        message: crate::error::quote_briefly(&message),
    }
}

/// The JSON pointer (RFC 6901) of a path that `serde_path_to_error` tracked.
pub fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        pointer.push('/');
        match segment {
            Segment::Seq { index } => pointer.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"))
            }
            Segment::Unknown => pointer.push('?'),
        }
    }
    pointer
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOG: &str = r#"{"catalog": {"uuid": "74c8ba1e-5cd4-4ad1-bbfd-d888e2f6c724",
        "metadata": {"title": "Demo", "last-modified": "2024-01-01T00:00:00Z",
        "version": "1", "oscal-version": "1.2.3"}, "controls": [{"id": "c1", "title": 7}]}}"#;

    #[test]
    fn data_errors_carry_a_pointer() {
        let err = from_slice(Path::new("c.json"), CATALOG.as_bytes()).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("c.json:3:"), "{text}");
        assert!(
            text.contains("at /catalog/controls/0/title: invalid type: integer `7`"),
            "{text}"
        );
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = from_slice(Path::new("t.json"), b"{\"catalog\": {\n  \"uuid\": ").unwrap_err();
        assert_eq!(err.to_string(), "t.json:2:10: EOF while parsing a value");
    }

    #[test]
    fn model_of_names_the_root() {
        let value: Value = serde_json::from_str(r#"{"$schema": "x", "profile": {}}"#).unwrap();
        assert_eq!(
            model_of(Path::new("p.json"), &value).unwrap(),
            ModelKind::Profile
        );
        let value: Value = serde_json::from_str(r#"[1]"#).unwrap();
        let err = model_of(Path::new("a.json"), &value)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "a.json: not an OSCAL document: the root is an array, not an object"
        );
    }

    #[test]
    fn repeated_keys_are_refused_where_they_repeat() {
        let path = Path::new("dup.json");
        let err = value_from_slice(path, br#"{"catalog": {"uuid": "a", "uuid": "b"}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("duplicate key `uuid`") && err.contains("dup.json:1:"),
            "{err}"
        );
        let value = value_from_slice(path, br#"{"a": [1, -2, 2.5, "x", null, true, {}]}"#).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"a": [1, -2, 2.5, "x", null, true, {}]})
        );
    }
}
