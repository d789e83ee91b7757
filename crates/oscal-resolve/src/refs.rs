//! What a piece of a catalog refers to: the parameters it inserts or depends on, and the
//! back-matter resources (`#uuid`) it cites, in any href, property or markup.
//!
//! The value is walked as JSON would be written, string by string, without writing the text:
//! a [`serde_json::ser::Formatter`] that keeps each string (unescaped) and looks into it.

use std::collections::HashSet;
use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter};

/// The references found in a value.
#[derive(Debug, Default)]
pub(crate) struct References {
    /// Parameter ids: `{{ insert: param, ID }}` in markup, and `depends-on` values.
    pub(crate) params: HashSet<String>,
    /// Uuids cited as `#uuid`.
    pub(crate) uuids: HashSet<String>,
}

impl References {
    /// The references of `value`.
    pub(crate) fn of<T: Serialize + ?Sized>(value: &T) -> References {
        let mut finder = Finder {
            found: References::default(),
            insert: memchr::memmem::Finder::new(INSERT),
            text: String::new(),
            in_key: false,
            depends_on: false,
        };
        let mut serializer = serde_json::Serializer::with_formatter(io::sink(), &mut finder);
        // Writing into a sink fails only if the value cannot be serialised at all (a map
        // with keys that are not strings), which the model never holds.
        let _ = value.serialize(&mut serializer);
        finder.found
    }

    /// Adds what `other` found.
    pub(crate) fn extend(&mut self, other: References) {
        self.params.extend(other.params);
        self.uuids.extend(other.uuids);
    }
}

/// How markup inserts a parameter.
const INSERT: &str = "insert: param, ";

struct Finder {
    found: References,
    insert: memchr::memmem::Finder<'static>,
    /// The string being written, unescaped.
    text: String,
    in_key: bool,
    /// Whether the value being written is that of a `depends-on` property.
    depends_on: bool,
}

impl Finder {
    fn look(&mut self) {
        let text = self.text.as_str();
        if self.in_key {
            self.depends_on = text == "depends-on";
        } else if self.depends_on {
            self.found.params.insert(text.trim().to_owned());
        }
        for at in memchr::memchr_iter(b'#', text.as_bytes()) {
            if let Some(candidate) = text.get(at + 1..at + 37)
                && is_uuid(candidate)
            {
                self.found.uuids.insert(candidate.to_owned());
            }
        }
        if memchr::memchr(b'{', text.as_bytes()).is_none() {
            return;
        }
        for at in self.insert.find_iter(text.as_bytes()) {
            let after = &text[at + INSERT.len()..];
            if let Some(stop) = after.find(" }}") {
                self.found.params.insert(after[..stop].trim().to_owned());
            }
        }
    }
}

impl Formatter for &mut Finder {
    fn begin_string<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.text.clear();
        Ok(())
    }

    fn end_string<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.look();
        Ok(())
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        self.text.push_str(fragment);
        Ok(())
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        self.text.push(match escape {
            CharEscape::Quote => '"',
            CharEscape::ReverseSolidus => '\\',
            CharEscape::Solidus => '/',
            CharEscape::Backspace => '\u{8}',
            CharEscape::FormFeed => '\u{c}',
            CharEscape::LineFeed => '\n',
            CharEscape::CarriageReturn => '\r',
            CharEscape::Tab => '\t',
            CharEscape::AsciiControl(byte) => char::from(byte),
        });
        Ok(())
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, _: &mut W, _: bool) -> io::Result<()> {
        self.in_key = true;
        Ok(())
    }

    fn end_object_key<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.in_key = false;
        Ok(())
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.depends_on = false;
        Ok(())
    }
}

pub(crate) fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_inserts_dependencies_and_cited_uuids_in_strings_and_keys() {
        let value = serde_json::json!({
            "prose": "Set {{ insert: param, ac-1_prm_1 }} and \"{{ insert: param, ac-2_prm_1 }}\"",
            "depends-on": "ac-3_prm_1",
            "other": "depends-on",
            "links": [{"href": "#7d1b5e4c-9a2f-4e0b-8c1d-2f3e4a5b6c7d"}],
            "#0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9": "a key that cites",
            "not": "#0a1b2c3d-4e5f-4061-8293 and {{ insert: param, unclosed"
        });
        let found = References::of(&value);
        let mut params: Vec<_> = found.params.into_iter().collect();
        params.sort();
        assert_eq!(params, ["ac-1_prm_1", "ac-2_prm_1", "ac-3_prm_1"]);
        let mut uuids: Vec<_> = found.uuids.into_iter().collect();
        uuids.sort();
        assert_eq!(
            uuids,
            [
                "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9",
                "7d1b5e4c-9a2f-4e0b-8c1d-2f3e4a5b6c7d"
            ]
        );
    }
}
