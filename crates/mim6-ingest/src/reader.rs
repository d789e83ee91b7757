//! A JSON reader for the projections, tried before serde_json.
//!
//! The documents of a fleet are mostly indentation and short strings: keys, uuids, tokens.
//! serde_json reads whitespace a byte at a time; this reader skips runs of eight spaces at once
//! and scans strings eight bytes at a time, and hands the projections' derived `Deserialize`
//! impls exactly what serde_json would. It reads only what the projections ask for: objects
//! as structs, arrays as lists, strings, `null` for an absent option, and anything skipped
//! made of objects, arrays, strings and `true`/`false`/`null`.
//!
//! Whatever else it meets (a number, an escape in a key, a struct written as an array, a
//! trailing comma, a control character, deep nesting, any error of the projection itself) it
//! declines, and the document is read by serde_json, which takes it or says what is wrong and
//! where. So a document it reads, serde_json reads the same; strings with escapes are decoded
//! by serde_json itself.

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Reads `text` as a `T`, or declines.
pub(crate) fn from_str<'a, T: de::Deserialize<'a>>(text: &'a str) -> Result<T, Declined> {
    let mut reader = Reader {
        text,
        pos: 0,
        depth: 0,
    };
    let value = T::deserialize(&mut reader)?;
    reader.whitespace();
    if reader.pos == text.len() {
        Ok(value)
    } else {
        Err(Declined)
    }
}

/// Reads `text` as the projections' root with this reader and, when it reads it, with
/// serde_json too; panics unless both give the same projection. Says whether the reader read
/// it. For the tests and the fuzzer.
pub(crate) fn check(text: &str) -> bool {
    let Ok(root) = from_str::<crate::project::Root<'_>>(text) else {
        return false;
    };
    let reference: crate::project::Root<'_> = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("the reader took what serde_json refuses ({e})"));
    assert_eq!(format!("{root:?}"), format!("{reference:?}"));
    true
}

/// The reader leaves the document to serde_json.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Declined;

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("left to serde_json")
    }
}

impl std::error::Error for Declined {}

impl de::Error for Declined {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Declined
    }
}

/// The brackets of an object and of an array.
const OBJECT: (u8, u8) = (b'{', b'}');
const ARRAY: (u8, u8) = (b'[', b']');

/// Nesting beyond this is declined (serde_json's own limit is 128).
const MAX_DEPTH: u32 = 100;

const SPACES: u64 = u64::from_ne_bytes([b' '; 8]);
const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// The bytes of `chunk` (read little-endian: its first byte lowest) that are `"`, `\` or a
/// control character (below 0x20), as the high bit of each. Bytes above the first such byte
/// may be marked wrongly (a borrow carries into them), the first never: its position is
/// `trailing_zeros / 8`.
fn special(chunk: u64) -> u64 {
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let quote = zero(chunk ^ (ONES * u64::from(b'"')));
    let backslash = zero(chunk ^ (ONES * u64::from(b'\\')));
    let control = chunk.wrapping_sub(ONES * 0x20) & !chunk & HIGHS;
    quote | backslash | control
}

/// Eight bytes from `pos`, the first lowest, if there are eight.
fn eight(bytes: &[u8], pos: usize) -> Option<u64> {
    let chunk = bytes.get(pos..pos + 8)?;
    Some(u64::from_le_bytes(chunk.try_into().expect("eight bytes")))
}

struct Reader<'a> {
    text: &'a str,
    pos: usize,
    depth: u32,
}

impl<'a> Reader<'a> {
    fn whitespace(&mut self) {
        let bytes = self.text.as_bytes();
        let mut pos = self.pos;
        loop {
            // Indentation: runs of spaces, eight at a time.
            if eight(bytes, pos) == Some(SPACES) {
                pos += 8;
                continue;
            }
            match bytes.get(pos) {
                Some(b' ' | b'\n' | b'\t' | b'\r') => pos += 1,
                _ => break,
            }
        }
        self.pos = pos;
    }

    /// The next byte after whitespace.
    fn peek(&mut self) -> Option<u8> {
        self.whitespace();
        self.text.as_bytes().get(self.pos).copied()
    }

    fn expect(&mut self, byte: u8) -> Result<(), Declined> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Declined)
        }
    }

    /// The string starting here: its content's bounds and whether it holds an escape. Leaves
    /// the reader after the closing quote.
    #[inline]
    fn string(&mut self) -> Result<(usize, usize, bool), Declined> {
        self.expect(b'"')?;
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut pos = start;
        let mut escaped = false;
        loop {
            // Eight bytes at a time, up to the first quote, backslash or control byte.
            if let Some(chunk) = eight(bytes, pos) {
                let found = special(chunk);
                if found == 0 {
                    pos += 8;
                    continue;
                }
                pos += (found.trailing_zeros() / 8) as usize;
            }
            match bytes.get(pos) {
                Some(b'"') => break,
                Some(b'\\') => {
                    // Where the string ends; whether the escape is valid is serde_json's to say.
                    escaped = true;
                    pos += 2;
                }
                Some(0x00..=0x1f) | None => return Err(Declined),
                Some(_) => pos += 1,
            }
        }
        self.pos = pos + 1;
        Ok((start, pos, escaped))
    }

    /// A string with escapes, decoded by serde_json.
    fn decoded(&self, start: usize, end: usize) -> Result<String, Declined> {
        serde_json::from_str(&self.text[start - 1..=end]).map_err(|_| Declined)
    }

    /// The object or array opening here with `open`, its entries or items read by `read`, all
    /// of them (a visitor that stops before the closing bracket is declined).
    fn nested<T>(
        &mut self,
        (open, close): (u8, u8),
        read: impl FnOnce(&mut Entries<'_, 'a>) -> Result<T, Declined>,
    ) -> Result<T, Declined> {
        self.expect(open)?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Declined);
        }
        let mut entries = Entries::new(self, close);
        let value = read(&mut entries)?;
        if !entries.done {
            return Err(Declined);
        }
        self.depth -= 1;
        Ok(value)
    }

    /// Skips one value.
    fn skip(&mut self) -> Result<(), Declined> {
        match self.peek() {
            Some(b'"') => {
                let (start, end, escaped) = self.string()?;
                if escaped {
                    serde_json::from_str::<IgnoredAny>(&self.text[start - 1..=end])
                        .map_err(|_| Declined)?;
                }
                Ok(())
            }
            Some(b'{') => self.nested(OBJECT, |entries| {
                while entries.next()? {
                    let reader = &mut *entries.reader;
                    let (_, _, escaped) = reader.string()?;
                    if escaped {
                        return Err(Declined);
                    }
                    reader.expect(b':')?;
                    reader.skip()?;
                }
                Ok(())
            }),
            Some(b'[') => self.nested(ARRAY, |items| {
                while items.next()? {
                    items.reader.skip()?;
                }
                Ok(())
            }),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => Err(Declined),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Declined> {
        if self.text.as_bytes()[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Declined)
        }
    }
}

/// The entries of an object or the items of an array, the opening bracket read: `next` says
/// whether another follows (reading the comma), and reads the closing bracket at the end.
struct Entries<'r, 'a> {
    reader: &'r mut Reader<'a>,
    close: u8,
    first: bool,
    done: bool,
}

impl<'r, 'a> Entries<'r, 'a> {
    fn new(reader: &'r mut Reader<'a>, close: u8) -> Self {
        Entries {
            reader,
            close,
            first: true,
            done: false,
        }
    }

    fn next(&mut self) -> Result<bool, Declined> {
        if self.done {
            return Err(Declined);
        }
        let next = self.reader.peek();
        if next == Some(self.close) {
            self.reader.pos += 1;
            self.done = true;
            return Ok(false);
        }
        if !self.first {
            if next != Some(b',') {
                return Err(Declined);
            }
            self.reader.pos += 1;
            // `[1,]` and `{"a": 1,}` are errors.
            if self.reader.peek() == Some(self.close) {
                return Err(Declined);
            }
        }
        self.first = false;
        Ok(true)
    }
}

impl<'de> MapAccess<'de> for Entries<'_, 'de> {
    type Error = Declined;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Declined> {
        if !self.next()? {
            return Ok(None);
        }
        let (start, end, escaped) = self.reader.string()?;
        if escaped {
            return Err(Declined);
        }
        self.reader.expect(b':')?;
        seed.deserialize(Key(&self.reader.text[start..end]))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Declined> {
        seed.deserialize(&mut *self.reader)
    }
}

impl<'de> SeqAccess<'de> for Entries<'_, 'de> {
    type Error = Declined;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Declined> {
        if !self.next()? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }
}

/// A struct's field name.
struct Key<'a>(&'a str);

impl<'de> de::Deserializer<'de> for Key<'de> {
    type Error = Declined;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        visitor.visit_borrowed_str(self.0)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

impl<'de> de::Deserializer<'de> for &mut Reader<'de> {
    type Error = Declined;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Declined> {
        Err(Declined)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Declined> {
        self.nested(OBJECT, |entries| visitor.visit_map(entries))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        self.nested(ARRAY, |items| visitor.visit_seq(items))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        let (start, end, escaped) = self.string()?;
        if escaped {
            visitor.visit_string(self.decoded(start, end)?)
        } else {
            visitor.visit_borrowed_str(&self.text[start..end])
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        self.skip()?;
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Declined> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit
        unit_struct tuple tuple_struct map enum
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use mim6_synth::{Baseline, FleetSpec, OutputFormat, WriteOptions, generate};
    use mim6_test_support::{files_with_extension, fixtures};

    use super::*;
    use crate::project::Root;

    /// What the reader makes of `text`, checked against serde_json.
    fn read(text: &str) -> Result<Root<'_>, Declined> {
        if check(text) {
            from_str::<Root<'_>>(text)
        } else {
            Err(Declined)
        }
    }

    fn generated(dir: &Path, faults: f64) -> Vec<(String, String)> {
        let file = fixtures().join(
            "nist/nist-sp800-53r5/json/NIST_SP-800-53_rev5_LOW-baseline-resolved-profile_catalog.json",
        );
        let doc = oscal_io::json::from_slice(&file, &std::fs::read(&file).unwrap()).unwrap();
        let oscal_model::Model::Catalog(catalog) = doc.model else {
            panic!("a catalog")
        };
        let spec = FleetSpec {
            cities: 2,
            systems_per_city: 2,
            periods: 2,
            seed: 9,
        };
        let format = OutputFormat::Json;
        let baseline = Baseline::from_catalog("low.json", &catalog);
        generate(&spec, &baseline, &WriteOptions { format, faults }, dir).unwrap();
        files_with_extension(dir, "json")
            .into_iter()
            .map(|path| {
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                (path.display().to_string(), text)
            })
            .collect()
    }

    #[test]
    fn eight_bytes_with_a_quote_backslash_or_control_byte_are_told_apart() {
        let is_special = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
        for filler in [b'a', b' ', b'!', b'#', b']', 0x7f, 0x80, 0xff] {
            for i in 0..8 {
                for b in 0..=255u8 {
                    let mut bytes = [filler; 8];
                    bytes[i] = b;
                    assert_eq!(
                        special(u64::from_le_bytes(bytes)) != 0,
                        is_special(b),
                        "{bytes:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_first_special_byte_of_eight_is_found_whatever_follows_it() {
        let is_special = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
        // Bytes that borrow or carry in the arithmetic, and ordinary ones.
        let samples = [
            0x00, 0x01, 0x1f, 0x20, 0x21, b'"', b'#', b'\\', b'a', 0x7f, 0x80, 0xff,
        ];
        for first in 0..8 {
            for &a in &samples {
                for &b in &samples {
                    for &c in &samples {
                        let mut bytes = [b'a'; 8];
                        bytes[first] = a;
                        bytes[(first + 1) % 8] = b;
                        bytes[(first + 3) % 8] = c;
                        let found = special(u64::from_le_bytes(bytes));
                        let expected = bytes.iter().position(|&x| is_special(x));
                        let got = (found != 0).then(|| (found.trailing_zeros() / 8) as usize);
                        assert_eq!(got, expected, "{bytes:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_generated_fleet_is_read_without_serde_json_and_to_the_same_projection() {
        let dir = tempfile::tempdir().unwrap();
        let documents = generated(dir.path(), 0.0);
        assert!(documents.len() > 20);
        for (path, text) in &documents {
            let root = read(text).unwrap_or_else(|_| panic!("{path}: declined"));
            assert!(
                root.ssp.is_some() || root.ap.is_some() || root.ar.is_some() || root.poam.is_some()
            );
        }
    }

    #[test]
    fn broken_documents_and_nist_examples_are_read_as_serde_json_reads_them_or_declined() {
        let dir = tempfile::tempdir().unwrap();
        let mut documents = generated(dir.path(), 0.3);
        for path in files_with_extension(&fixtures(), "json") {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            documents.push((path.display().to_string(), text));
        }
        let mut declined = Vec::new();
        for (path, text) in &documents {
            if read(text).is_err() {
                declined.push(
                    Path::new(path)
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
        // Most are read; a NUL byte and a number go to serde_json.
        assert!(declined.len() * 4 < documents.len(), "{declined:?}");
        for name in ["nul-byte.json", "number-out-of-range.json"] {
            assert!(declined.iter().any(|d| d == name), "{declined:?}");
        }
    }

    #[test]
    fn what_serde_json_refuses_is_declined() {
        let ap = |body: &str| {
            format!(
                r#"{{"assessment-plan": {{"uuid": "u", "metadata": {{"last-modified": "2025-01-01T00:00:00Z"}},
                "import-ssp": {{"href": "ssp.json"}}{body}}}}}"#
            )
        };
        for (why, text) in [
            ("trailing comma in an object", ap(r#", "x": {"a": "b",}"#)),
            ("trailing comma in a list", ap(r#", "x": ["a",]"#)),
            ("control character", ap(", \"x\": \"a\tb\"")),
            ("invalid escape", ap(r#", "x": "a\qb""#)),
            ("missing colon", ap(r#", "x" "a""#)),
            ("missing comma", ap(r#", "x": "a" "y": "b""#)),
            ("a bad literal", ap(r#", "x": nul"#)),
            ("duplicate field", ap(r#", "uuid": "v""#)),
            ("wrong type", ap(r#", "back-matter": "x""#)),
            ("trailing text", format!("{} x", ap(""))),
            ("unterminated", ap(r#", "x": "abc"#)),
            ("a second document", format!("{} {{}}", ap(""))),
        ] {
            assert!(serde_json::from_str::<Root<'_>>(&text).is_err(), "{why}");
            assert_eq!(read(&text).err(), Some(Declined), "{why}");
        }
    }

    #[test]
    fn what_it_does_not_read_is_declined_though_serde_json_reads_it() {
        let ap = |body: &str| {
            format!(
                r#"{{"assessment-plan": {{"uuid": "u", "metadata": {{"last-modified": "2025-01-01T00:00:00Z"}},
                "import-ssp": {{"href": "ssp.json"}}{body}}}}}"#
            )
        };
        let nested = format!("{}{}", "[".repeat(101), "]".repeat(101));
        for (why, text) in [
            ("a number", ap(r#", "x": [1, 2]"#)),
            ("an escaped key", ap(r#", "\u0078": "a""#)),
            (
                "a struct as an array",
                r#"{"assessment-plan": ["u"]}"#.to_owned(),
            ),
            ("deep nesting", ap(&format!(r#", "x": {nested}"#))),
        ] {
            assert_eq!(read(&text).err(), Some(Declined), "{why}");
            serde_json::from_str::<serde_json::Value>(&text).unwrap();
        }
    }

    #[test]
    fn escapes_are_decoded_as_serde_json_decodes_them_and_skipped_when_valid() {
        let text = r#"{"assessment-plan": {"uuid": "caf\u00e9 \ud83d\ude00 \"q\" \\ \/",
            "metadata": {"last-modified": "2025-01-01T00:00:00Z", "title": "\u00e9\n"},
            "import-ssp": {"href": "a\tb.json"}, "x": [true, false, null, {"y": "\"]"}]}}"#;
        let root = read(text).unwrap();
        let ap = root.ap.unwrap();
        assert_eq!(&*ap.uuid, "café 😀 \"q\" \\ /");
        assert_eq!(&*ap.import_ssp.href, "a\tb.json");
    }
}
