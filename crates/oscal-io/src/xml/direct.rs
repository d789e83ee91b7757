//! XML text → JSON text in one pass over the XML events, without a tree or a JSON value.
//!
//! The pass writes what reading the document into the typed model and writing that as JSON
//! gives, byte for byte: members in the JSON schema's order (a choice or the attributes' order
//! can differ from it; the members of an object are put in order when it closes), the required
//! members checked, numbers and booleans typed as the model types them, markup converted by
//! [`crate::markup`]. It takes a document only as it is: at anything the model path would
//! refuse, or would have to gather from more than one place (items of one list split by other
//! elements, a `<prose>` block after another child, a second wrapper), or that it has no need
//! to handle fast (decimals, entity references between elements, prefixed elements), the pass
//! stops and the document goes the model path, which converts it or says what is wrong.

use std::borrow::Cow;
use std::path::Path;

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, BytesText, Event};

use oscal_model::OSCAL_XML_NAMESPACE;

use super::dom::{Element, Node};
use super::schema::{self, Def, Kind, ValueType};
use crate::markup;

/// Converts an OSCAL XML document to the JSON text [`crate::json::to_vec`] writes of it.
pub fn to_json(path: &Path, text: &str) -> crate::Result<Vec<u8>> {
    if let Ok((out, _)) = convert(text, SPLIT_MIN) {
        return Ok(out);
    }
    let document = super::read::from_str(path, text)?;
    crate::json::to_vec(&document)
}

/// Documents from this size on are converted in two halves side by side.
const SPLIT_MIN: usize = 1 << 20;

/// The indent level of the items of a list that is a member of the root element's object.
const ROOT_ITEM_INDENT: usize = 3;

/// Converts `text`; from `split_min` bytes on, when a second core is there, in two halves:
/// the second half, from an item of one of the root element's lists near the middle of the
/// text, is converted on its own thread while the first half is, and put in place when the
/// first half reaches it. Should the guess not be an item of that list (the bytes look like
/// one but sit deeper), the first half goes on by itself: the output is the same either way.
fn convert(text: &str, split_min: usize) -> Step<(Vec<u8>, bool)> {
    let halves =
        text.len() >= split_min && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    // The split point is only looked for when the document will be split.
    let Some((at, child)) = halves.then(|| split_point(text)).flatten() else {
        return Pass::new(text).document();
    };
    std::thread::scope(|scope| {
        let second = scope.spawn(move || Pass::new(&text[at..]).items(child));
        let mut pass = Pass::new(text);
        pass.split = Some(Split {
            at,
            child: child.1,
            second: Box::new(move || second.join().unwrap_or(Err(Detour))),
        });
        pass.document()
    })
}

/// Where the second half starts: the first start tag at or after the middle of the text that
/// names a list of the root element (indented as the root's first child is, when the text is
/// indented), and that list (its definition and index).
fn split_point(text: &str) -> Option<(usize, (&'static Def, usize))> {
    let mut reader = Reader::from_str(text);
    let root = loop {
        match reader.read_event().ok()? {
            Event::Start(start) => break start,
            Event::Eof | Event::Empty(_) => return None,
            _ => {}
        }
    };
    let def = schema::root_def(element_name(&root).ok()?)?;
    let bytes = text.as_bytes();
    // The white space from the start of the line to `<`, when that is all there is.
    let indent = |at: usize| {
        let line = memchr::memrchr(b'\n', &bytes[..at])?;
        let space = &bytes[line + 1..at];
        space
            .iter()
            .all(|b| matches!(b, b' ' | b'\t'))
            .then_some(space)
    };
    let first_child = loop {
        let at = usize::try_from(reader.buffer_position()).ok()?;
        match reader.read_event().ok()? {
            Event::Start(_) | Event::Empty(_) => break indent(at),
            Event::Eof | Event::End(_) => return None,
            _ => {}
        }
    };
    let middle = text.len() / 2;
    def.children
        .iter()
        .enumerate()
        .filter(|(_, c)| c.many && c.array_always && c.wrapper.is_none() && !c.unwrapped)
        .filter_map(|(index, c)| {
            let tag = format!("<{}", c.name);
            let mut from = middle;
            loop {
                let found = from + memchr::memmem::find(&bytes[from..], tag.as_bytes())?;
                let after = bytes.get(found + tag.len()).copied();
                if matches!(after, Some(b' ' | b'>' | b'/' | b'\t' | b'\n' | b'\r'))
                    && (first_child.is_none() || indent(found) == first_child)
                {
                    return Some((found, index));
                }
                from = found + 1;
            }
        })
        .min()
        .map(|(at, index)| (at, (def, index)))
}

/// The second half of a split conversion: its items, written as they follow the first
/// half's, how many, and where in its text the items end.
struct Piece {
    out: Vec<u8>,
    count: usize,
    end: usize,
}

/// The second half, as the first half's pass waits for it.
struct Split<'a> {
    /// Where it starts in the text.
    at: usize,
    /// The index of its list among the root's children.
    child: usize,
    second: Box<dyn FnOnce() -> Step<Piece> + Send + 'a>,
}

/// The pass stops here; the model path takes the document.
struct Detour;

type Step<T = ()> = Result<T, Detour>;

/// Where a member of an open JSON object starts in the output, and its index in its
/// definition (flags, then children or the value key).
#[derive(Clone, Copy)]
struct Member {
    index: u8,
    start: usize,
}

/// The children of one element being read: the run of items of one child definition that is
/// open, and which members have been written.
struct Children {
    /// Index in `def.children` of the open run, and how many items it has.
    run: Option<(usize, usize)>,
    /// Member bits written so far.
    seen: u64,
    /// The Markdown of an unwrapped markup-multiline child (`<part>`'s prose) being read.
    prose: String,
}

struct Pass<'a> {
    text: &'a str,
    reader: Reader<&'a [u8]>,
    out: Vec<u8>,
    /// JSON nesting (indent level) of what is written next.
    indent: usize,
    /// Open XML elements.
    open: usize,
    /// Members of the open JSON objects, innermost last.
    members: Vec<Member>,
    /// Where the members of the innermost open object start in `members`.
    base: usize,
    /// A field's text, reused.
    value: String,
    /// Markdown being made, reused.
    markdown: String,
    /// The second half of the conversion, until the first half reaches it.
    split: Option<Split<'a>>,
    /// The second half has been put in place.
    spliced: bool,
    /// A paragraph's text being made, reused.
    paragraph: String,
}

impl<'a> Pass<'a> {
    fn new(text: &'a str) -> Self {
        let mut reader = Reader::from_str(text);
        reader.config_mut().check_end_names = true;
        Pass {
            text,
            reader,
            out: Vec::with_capacity(text.len()),
            indent: 0,
            open: 0,
            members: Vec::with_capacity(64),
            base: 0,
            value: String::new(),
            markdown: String::new(),
            paragraph: String::new(),
            split: None,
            spliced: false,
        }
    }

    /// Where the next event starts.
    fn position(&self) -> usize {
        self.text.len() - self.reader.get_ref().len()
    }

    /// The items of the root's list `child` from the start of the text on, up to the first
    /// thing that is not one of them (as the second half of a split conversion).
    fn items(mut self, (def, child): (&'static Def, usize)) -> Step<Piece> {
        let spec = &def.children[child];
        let item = schema::def(spec.def);
        self.open = 1;
        self.indent = ROOT_ITEM_INDENT;
        let mut count = 0;
        loop {
            let end = self.position();
            let (start, empty) = match self.reader.read_event() {
                Ok(Event::Start(start)) => (start, false),
                Ok(Event::Empty(start)) => (start, true),
                Ok(Event::Text(text)) => {
                    blank(&text)?;
                    continue;
                }
                Ok(Event::Comment(_) | Event::PI(_)) => continue,
                // The root's end tag (unmatched here), or whatever else follows the items.
                _ => {
                    return Ok(Piece {
                        out: self.out,
                        count,
                        end,
                    });
                }
            };
            if element_name(&start)? != spec.name {
                return Ok(Piece {
                    out: self.out,
                    count,
                    end,
                });
            }
            self.out.push(b',');
            self.newline();
            count += 1;
            self.item(item, &start, empty)?;
        }
    }

    /// At the root's children: puts the second half in place when the first half has reached
    /// where it starts, in a list of the same child.
    fn splice(&mut self, children: &mut Children) {
        let position = self.position();
        let Some(split) = self.split.take_if(|split| position >= split.at) else {
            return;
        };
        let Some((index, count)) = children.run else {
            return;
        };
        if position != split.at || index != split.child || self.indent != ROOT_ITEM_INDENT {
            return;
        }
        if let Ok(piece) = (split.second)() {
            self.out.extend_from_slice(&piece.out);
            children.run = Some((index, count + piece.count));
            let text = self.text.as_bytes();
            *self.reader.get_mut() = &text[(split.at + piece.end).min(text.len())..];
            self.spliced = true;
        }
    }

    fn event(&mut self) -> Step<Event<'a>> {
        self.reader.read_event().map_err(|_| Detour)
    }

    /// The document's JSON text, and whether a second half was put in place.
    fn document(mut self) -> Step<(Vec<u8>, bool)> {
        let (root, empty) = loop {
            match self.event()? {
                Event::Start(start) => break (start, false),
                Event::Empty(start) => break (start, true),
                Event::Text(text) => blank(&text)?,
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                _ => return Err(Detour),
            }
        };
        let name = element_name(&root)?;
        let def = schema::root_def(name).ok_or(Detour)?;
        let declared = attributes(&root)?
            .any(|a| a.is_ok_and(|a| a.key.as_ref() == "xmlns" && a.value == OSCAL_XML_NAMESPACE));
        if !declared {
            return Err(Detour);
        }
        self.out.extend_from_slice(b"{");
        self.indent = 1;
        self.newline();
        self.key(name);
        self.assembly(def, &root, empty)?;
        self.out.extend_from_slice(b"\n}\n");
        loop {
            match self.event()? {
                Event::Eof => break,
                Event::Text(text) => blank(&text)?,
                Event::PI(_) | Event::Comment(_) => {}
                _ => return Err(Detour),
            }
        }
        Ok((self.out, self.spliced))
    }

    // -- writing ----------------------------------------------------------------------------

    fn newline(&mut self) {
        const SPACES: &[u8; 129] = b"\n                                                                                                                                ";
        match SPACES.get(..=2 * self.indent) {
            Some(line) => self.out.extend_from_slice(line),
            None => {
                self.out.push(b'\n');
                for _ in 0..self.indent {
                    self.out.extend_from_slice(b"  ");
                }
            }
        }
    }

    fn key(&mut self, name: &str) {
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\": ");
    }

    fn string(&mut self, value: &str) {
        // Most strings have nothing to escape: found with one look at every byte (a loop
        // without an early exit vectorises) and copied whole; the others are escaped by
        // serde_json, as the model path writes them.
        let bytes = value.as_bytes();
        let escaped = bytes.iter().fold(false, |any, &b| {
            any | (b < 0x20) | (b == b'"') | (b == b'\\')
        });
        if escaped {
            let _ = serde_json::to_writer(&mut self.out, value);
        } else {
            self.out.reserve(bytes.len() + 2);
            self.out.push(b'"');
            self.out.extend_from_slice(bytes);
            self.out.push(b'"');
        }
    }

    /// Opens a JSON object; returns the member base to restore when it closes.
    fn open_object(&mut self) -> usize {
        self.out.push(b'{');
        self.indent += 1;
        std::mem::replace(&mut self.base, self.members.len())
    }

    /// Starts the member `index` named `name` of the innermost open object.
    fn member(&mut self, index: usize, name: &str) {
        let start = self.out.len();
        if self.members.len() > self.base {
            self.out.push(b',');
        }
        self.newline();
        self.key(name);
        self.members.push(Member {
            index: index as u8,
            start,
        });
    }

    /// Closes the innermost object: puts its members in the JSON schema's order and checks
    /// the required ones are there.
    fn close_object(&mut self, def: &'static Def, seen: u64, base: usize) -> Step {
        if seen & def.required != def.required {
            return Err(Detour);
        }
        let count = self.members.len() - self.base;
        if count > 1 {
            self.order(def);
        }
        self.members.truncate(self.base);
        self.base = base;
        self.indent -= 1;
        if count > 0 {
            self.newline();
        }
        self.out.push(b'}');
        Ok(())
    }

    fn order(&mut self, def: &'static Def) {
        let rank = |m: &Member| match def.json_order.get(usize::from(m.index)) {
            Some(rank) => *rank,
            None => m.index,
        };
        let members = &self.members[self.base..];
        if members.windows(2).all(|w| rank(&w[0]) < rank(&w[1])) {
            return;
        }
        let first = members[0].start;
        let body = self.out.split_off(first);
        let mut pieces: Vec<(u8, Member, &[u8])> = members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let end = members
                    .get(i + 1)
                    .map_or(body.len(), |next| next.start - first);
                let piece = &body[m.start - first..end];
                (rank(m), *m, piece.strip_prefix(b",").unwrap_or(piece))
            })
            .collect();
        pieces.sort_by_key(|(rank, _, _)| *rank);
        // The members are written anew: where each starts now.
        self.members.truncate(self.base);
        for (i, (_, member, piece)) in pieces.into_iter().enumerate() {
            self.members.push(Member {
                start: self.out.len(),
                ..member
            });
            if i > 0 {
                self.out.push(b',');
            }
            self.out.extend_from_slice(piece);
        }
    }

    // -- reading ----------------------------------------------------------------------------

    fn enter(&mut self) -> Step {
        if self.open >= super::MAX_DEPTH {
            return Err(Detour);
        }
        self.open += 1;
        Ok(())
    }

    /// Writes the flags of `start` as members; returns their bits.
    fn flags(&mut self, def: &'static Def, start: &BytesStart<'a>) -> Step<u64> {
        let mut seen = 0u64;
        for attribute in attributes(start)? {
            let attribute = attribute.map_err(|_| Detour)?;
            let key = attribute.key.as_ref();
            if skipped(key, &attribute.value)? {
                continue;
            }
            let index = def
                .flags
                .iter()
                .position(|(name, _)| *name == key)
                .ok_or(Detour)?;
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|_| Detour)?;
            allowed(&value)?;
            let (name, kind) = def.flags[index];
            seen |= 1 << index;
            self.member(index, name);
            self.typed(kind, &value)?;
        }
        // Attributes come in any order: put the flags in order now, while they are all
        // there is of the object, rather than moving its whole body when it closes.
        if self.members.len() - self.base > 1 {
            self.order(def);
        }
        Ok(seen)
    }

    fn typed(&mut self, kind: ValueType, text: &str) -> Step {
        match kind {
            ValueType::String | ValueType::MarkupLine | ValueType::MarkupMultiline => {
                self.string(text)
            }
            ValueType::Boolean => self.out.extend_from_slice(match text.trim() {
                "true" | "1" => b"true",
                "false" | "0" => b"false",
                _ => return Err(Detour),
            }),
            ValueType::Integer => {
                // The model holds most integers unsigned; the model path judges the others.
                let value = text.trim().parse::<i64>().map_err(|_| Detour)?;
                if value < 0 {
                    return Err(Detour);
                }
                use std::io::Write as _;
                let _ = write!(self.out, "{value}");
            }
            ValueType::Decimal => return Err(Detour),
        }
        Ok(())
    }

    /// An element of `def` as a JSON value; `start` has been read.
    fn item(&mut self, def: &'static Def, start: &BytesStart<'a>, empty: bool) -> Step {
        match def.kind {
            Kind::Assembly => self.assembly(def, start, empty),
            Kind::Field => self.field(def, start, empty),
        }
    }

    fn assembly(&mut self, def: &'static Def, start: &BytesStart<'a>, empty: bool) -> Step {
        let base = self.open_object();
        let mut children = Children {
            run: None,
            seen: self.flags(def, start)?,
            prose: std::mem::take(&mut self.markdown),
        };
        children.prose.clear();
        if !empty {
            self.enter()?;
            loop {
                if self.split.is_some() && self.open == 1 {
                    self.splice(&mut children);
                }
                match self.event()? {
                    Event::Start(child) => self.child(def, &child, false, &mut children)?,
                    Event::Empty(child) => self.child(def, &child, true, &mut children)?,
                    Event::End(_) => break,
                    Event::Text(text) => blank(&text)?,
                    Event::Comment(_) | Event::PI(_) => {}
                    _ => return Err(Detour),
                }
            }
            self.end_run(def, &mut children)?;
            self.open -= 1;
        }
        self.markdown = children.prose;
        self.close_object(def, children.seen, base)
    }

    fn child(
        &mut self,
        def: &'static Def,
        start: &BytesStart<'a>,
        empty: bool,
        children: &mut Children,
    ) -> Step {
        let name = element_name(start)?;
        let flags = def.flags.len();
        if let Some(index) = def.children.iter().position(|c| c.wrapper == Some(name)) {
            self.end_run(def, children)?;
            let bit = 1 << (flags + index);
            if children.seen & bit != 0 || attributes(start)?.next().is_some() {
                return Err(Detour);
            }
            return self.wrapped(def, index, empty, children);
        }
        if let Some(index) = def
            .children
            .iter()
            .position(|c| c.name == name && c.wrapper.is_none() && !c.unwrapped)
        {
            let spec = &def.children[index];
            match children.run {
                Some((open, ref mut count)) if open == index && spec.many => {
                    *count += 1;
                    self.out.push(b',');
                    self.newline();
                }
                _ => {
                    self.end_run(def, children)?;
                    let bit = 1 << (flags + index);
                    if children.seen & bit != 0 {
                        return Err(Detour);
                    }
                    children.seen |= bit;
                    self.member(flags + index, spec.json);
                    if spec.many {
                        self.out.push(b'[');
                        self.indent += 1;
                        self.newline();
                    }
                    children.run = Some((index, 1));
                }
            }
            return self.item(schema::def(spec.def), start, empty);
        }
        let Some(index) = def.children.iter().position(|c| c.unwrapped) else {
            return Err(Detour);
        };
        if !markup::is_block(name) {
            return Err(Detour);
        }
        if children.run.is_none_or(|(open, _)| open != index) {
            self.end_run(def, children)?;
            let bit = 1 << (flags + index);
            if children.seen & bit != 0 {
                return Err(Detour);
            }
            children.seen |= bit;
            children.run = Some((index, 0));
        } else {
            children.prose.push_str("\n\n");
        }
        self.block(start, empty, &mut children.prose)
    }

    /// The items of child `index` inside its wrapper element.
    fn wrapped(
        &mut self,
        def: &'static Def,
        index: usize,
        empty: bool,
        children: &mut Children,
    ) -> Step {
        if empty {
            return Ok(());
        }
        self.enter()?;
        let spec = &def.children[index];
        let flags = def.flags.len();
        let mut count = 0usize;
        loop {
            let (item, empty) = match self.event()? {
                Event::Start(item) => (item, false),
                Event::Empty(item) => (item, true),
                Event::End(_) => break,
                Event::Text(text) => {
                    blank(&text)?;
                    continue;
                }
                Event::Comment(_) | Event::PI(_) => continue,
                _ => return Err(Detour),
            };
            if element_name(&item)? != spec.name {
                return Err(Detour);
            }
            if count == 0 {
                children.seen |= 1 << (flags + index);
                self.member(flags + index, spec.json);
                self.out.push(b'[');
                self.indent += 1;
            } else {
                self.out.push(b',');
            }
            self.newline();
            count += 1;
            self.item(schema::def(spec.def), &item, empty)?;
        }
        self.open -= 1;
        if count > 0 {
            self.close_array();
        }
        Ok(())
    }

    fn close_array(&mut self) {
        self.indent -= 1;
        self.newline();
        self.out.push(b']');
    }

    /// Ends the open run of items, if any.
    fn end_run(&mut self, def: &'static Def, children: &mut Children) -> Step {
        let Some((index, count)) = children.run.take() else {
            return Ok(());
        };
        let spec = &def.children[index];
        if spec.unwrapped {
            self.member(def.flags.len() + index, spec.json);
            let prose = std::mem::take(&mut children.prose);
            self.string(&prose);
            children.prose = prose;
            children.prose.clear();
        } else if spec.many {
            if count == 1 && !spec.array_always {
                // One item of a `SINGLETON_OR_ARRAY` list is written bare: the model path.
                return Err(Detour);
            }
            self.close_array();
        }
        Ok(())
    }

    fn field(&mut self, def: &'static Def, start: &BytesStart<'a>, empty: bool) -> Step {
        let base = if def.flags.is_empty() {
            for attribute in attributes(start)? {
                let attribute = attribute.map_err(|_| Detour)?;
                if !skipped(attribute.key.as_ref(), &attribute.value)? {
                    return Err(Detour);
                }
            }
            None
        } else {
            let base = self.open_object();
            let seen = self.flags(def, start)?;
            Some((base, seen))
        };
        let value_index = def.flags.len();
        if base.is_some() {
            self.member(value_index, def.value_key.unwrap_or("STRVALUE"));
        }
        match def.value {
            markup @ (ValueType::MarkupLine | ValueType::MarkupMultiline) => {
                let mut markdown = std::mem::take(&mut self.markdown);
                markdown.clear();
                if !empty {
                    self.enter()?;
                    if markup == ValueType::MarkupLine {
                        self.inline(&mut markdown)?;
                    } else {
                        self.blocks(&mut markdown)?;
                    }
                    self.open -= 1;
                }
                self.string(&markdown);
                self.markdown = markdown;
            }
            kind => {
                let mut text = std::mem::take(&mut self.value);
                text.clear();
                if !empty {
                    self.enter()?;
                    self.text_content(&mut text)?;
                    self.open -= 1;
                }
                let typed = self.typed(kind, &text);
                self.value = text;
                typed?;
            }
        }
        match base {
            Some((base, seen)) => self.close_object(def, seen | 1 << value_index, base),
            None => Ok(()),
        }
    }

    /// The text of an element that holds only text, up to its end tag.
    fn text_content(&mut self, out: &mut String) -> Step {
        loop {
            match self.event()? {
                Event::End(_) => return Ok(()),
                Event::Text(text) => {
                    let text = text.xml10_content();
                    allowed(&text)?;
                    out.push_str(&text);
                }
                Event::CData(data) => {
                    let data: &str = data.as_ref();
                    allowed(data)?;
                    out.push_str(data);
                }
                Event::GeneralRef(reference) => out.push(reference_char(&reference)?),
                Event::Comment(_) | Event::PI(_) => {}
                _ => return Err(Detour),
            }
        }
    }

    /// Markdown of block elements up to the end tag of the element they are in, appended to
    /// `out` (as [`markup::blocks_to_markdown`]).
    fn blocks(&mut self, out: &mut String) -> Step {
        let mut first = true;
        loop {
            let (start, empty) = match self.event()? {
                Event::Start(start) => (start, false),
                Event::Empty(start) => (start, true),
                Event::End(_) => return Ok(()),
                Event::Text(text) => {
                    blank(&text)?;
                    continue;
                }
                Event::Comment(_) | Event::PI(_) => continue,
                _ => return Err(Detour),
            };
            if !first {
                out.push_str("\n\n");
            }
            first = false;
            self.block(&start, empty, out)?;
        }
    }

    /// Markdown of one block element, appended to `out`: a paragraph directly, any other block
    /// through its tree.
    fn block(&mut self, start: &BytesStart<'a>, empty: bool, out: &mut String) -> Step {
        if element_name(start)? != "p" {
            let element = self.subtree(start, empty)?;
            out.push_str(&markup::block(&element).map_err(|_| Detour)?);
            return Ok(());
        }
        check_attributes(start)?;
        if !empty {
            let mut text = std::mem::take(&mut self.paragraph);
            text.clear();
            let done = self.nested_inline(&mut text);
            markup::guard_block_starts_into(&text, out);
            self.paragraph = text;
            done?;
        }
        Ok(())
    }

    /// Markdown of inline content up to the end tag of the element it is in, appended to `out`
    /// (as [`markup::line_to_markdown`]): text collapsed and escaped across the pieces one text
    /// node is read in, emphasis, quotations, links and parameter inserts directly, any other
    /// element through its tree.
    fn inline(&mut self, out: &mut String) -> Step {
        let mut space = false;
        loop {
            let (start, empty) = match self.event()? {
                Event::Text(text) => {
                    let text = text.xml10_content();
                    allowed(&text)?;
                    space = markup::collapse_into(&text, out, space, true);
                    continue;
                }
                Event::CData(data) => {
                    let data: &str = data.as_ref();
                    allowed(data)?;
                    space = markup::collapse_into(data, out, space, true);
                    continue;
                }
                Event::GeneralRef(reference) => {
                    let mut buffer = [0u8; 4];
                    let c = reference_char(&reference)?.encode_utf8(&mut buffer);
                    space = markup::collapse_into(c, out, space, true);
                    continue;
                }
                Event::Comment(_) | Event::PI(_) => continue,
                Event::Start(start) => (start, false),
                Event::Empty(start) => (start, true),
                Event::End(_) => {
                    if space {
                        out.push(' ');
                    }
                    return Ok(());
                }
                _ => return Err(Detour),
            };
            if space {
                out.push(' ');
                space = false;
            }
            self.inline_element(&start, empty, out)?;
        }
    }

    fn inline_element(&mut self, start: &BytesStart<'a>, empty: bool, out: &mut String) -> Step {
        let mark = match element_name(start)? {
            "em" | "i" => "*",
            "strong" | "b" => "**",
            "sub" => "~",
            "sup" => "^",
            "q" => "\"",
            "a" => return self.link(start, empty, out),
            "insert" if empty => {
                let mut kind = None;
                let mut id = None;
                for (key, value) in kept_attributes(start)? {
                    match key {
                        "type" if kind.is_none() => kind = Some(value),
                        "id-ref" if id.is_none() => id = Some(value),
                        _ => {}
                    }
                }
                markup::insert(kind.as_deref(), id.as_deref(), out);
                return Ok(());
            }
            _ => {
                let element = self.subtree(start, empty)?;
                return markup::inline_element(&element, out, "").map_err(|_| Detour);
            }
        };
        check_attributes(start)?;
        out.push_str(mark);
        if !empty {
            self.nested_inline(out)?;
        }
        out.push_str(mark);
        Ok(())
    }

    /// [`Pass::inline`] of an element that has just been opened, counted as one level deeper.
    fn nested_inline(&mut self, out: &mut String) -> Step {
        self.enter()?;
        let done = self.inline(out);
        self.open -= 1;
        done
    }

    fn link(&mut self, start: &BytesStart<'a>, empty: bool, out: &mut String) -> Step {
        let mut href = None;
        let mut title = None;
        for (key, value) in kept_attributes(start)? {
            match key {
                "href" if href.is_none() => href = Some(value),
                "title" if title.is_none() => title = Some(value),
                _ => {}
            }
        }
        out.push('[');
        if !empty {
            self.nested_inline(out)?;
        }
        markup::link_target(href.as_deref(), title.as_deref(), out);
        Ok(())
    }

    /// The element `start` and everything in it, as the tree [`crate::markup`] converts.
    fn subtree(&mut self, start: &BytesStart<'a>, empty: bool) -> Step<Element> {
        let mut element = tree_element(start)?;
        if empty {
            return Ok(element);
        }
        self.enter()?;
        let mut stack: Vec<Element> = Vec::new();
        loop {
            match self.event()? {
                Event::Start(child) => {
                    self.enter()?;
                    stack.push(std::mem::replace(&mut element, tree_element(&child)?));
                }
                Event::Empty(child) => element.children.push(Node::Element(tree_element(&child)?)),
                Event::End(_) => {
                    self.open -= 1;
                    match stack.pop() {
                        Some(mut parent) => {
                            parent.children.push(Node::Element(element));
                            element = parent;
                        }
                        None => return Ok(element),
                    }
                }
                Event::Text(text) => push_text(&mut element, &text.xml10_content())?,
                Event::CData(data) => {
                    let data: &str = data.as_ref();
                    push_text(&mut element, data)?;
                }
                Event::GeneralRef(reference) => {
                    let mut buffer = [0u8; 4];
                    let c = reference_char(&reference)?;
                    push_text(&mut element, c.encode_utf8(&mut buffer))?;
                }
                Event::Comment(_) | Event::PI(_) => {}
                _ => return Err(Detour),
            }
        }
    }
}

/// An element of a markup tree, its attributes as the tree reader keeps them.
fn tree_element(start: &BytesStart<'_>) -> Step<Element> {
    let name = element_name(start)?.to_owned();
    let attributes = kept_attributes(start)?
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value.into_owned()))
        .collect();
    Ok(Element {
        name,
        attributes,
        children: Vec::new(),
        offset: 0,
    })
}

/// The attributes of an element that the tree reader keeps, checked as it checks them.
fn kept_attributes<'b>(start: &'b BytesStart<'_>) -> Step<Vec<(&'b str, Cow<'b, str>)>> {
    let mut kept = Vec::new();
    for attribute in attributes(start)? {
        let attribute = attribute.map_err(|_| Detour)?;
        let key: &'b str = attribute.key.into_inner();
        if skipped(key, &attribute.value)? {
            continue;
        }
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|_| Detour)?;
        allowed(&value)?;
        kept.push((key, value));
    }
    Ok(kept)
}

/// Checks the attributes of an element whose attributes the conversion does not use.
fn check_attributes(start: &BytesStart<'_>) -> Step {
    if start.attributes_raw().trim_ascii().is_empty() {
        return Ok(());
    }
    kept_attributes(start).map(drop)
}

fn push_text(element: &mut Element, text: &str) -> Step {
    allowed(text)?;
    match element.children.last_mut() {
        Some(Node::Text(previous)) => previous.push_str(text),
        _ => element.children.push(Node::Text(text.to_owned())),
    }
    Ok(())
}

/// The attributes of an element, checked as the tree reader checks them.
fn attributes<'b>(
    start: &'b BytesStart<'_>,
) -> Step<quick_xml::events::attributes::Attributes<'b>> {
    Ok(start.attributes())
}

/// An element's name, when it is unprefixed (in the document's default namespace).
fn element_name<'b>(start: &'b BytesStart<'_>) -> Step<&'b str> {
    let name: &str = start.name().into_inner();
    if name.contains(':') {
        return Err(Detour);
    }
    Ok(name)
}

/// True for an attribute that is about the file, not content: namespace declarations and XML
/// Schema hints. A default namespace other than OSCAL's stops the pass.
fn skipped(key: &str, value: &str) -> Step<bool> {
    if key == "xmlns" {
        return if value == OSCAL_XML_NAMESPACE {
            Ok(true)
        } else {
            Err(Detour)
        };
    }
    if let Some(prefix) = key.strip_prefix("xmlns:") {
        // Binding the reserved prefixes, or unbinding one, is for the model path to refuse.
        if prefix.starts_with("xml") || value.is_empty() {
            return Err(Detour);
        }
        return Ok(true);
    }
    Ok(key.starts_with("xsi:"))
}

/// Text between elements: only white space.
fn blank(text: &BytesText<'_>) -> Step {
    let raw: &str = text.as_ref();
    if raw
        .bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        return Ok(());
    }
    let text = text.xml10_content();
    allowed(&text)?;
    if text.trim().is_empty() {
        Ok(())
    } else {
        Err(Detour)
    }
}

/// The character a reference stands for: a character reference or a predefined entity.
fn reference_char(reference: &quick_xml::events::BytesRef<'_>) -> Step<char> {
    if let Some(c) = reference.resolve_char_ref().map_err(|_| Detour)? {
        let mut buffer = [0u8; 4];
        allowed(c.encode_utf8(&mut buffer))?;
        return Ok(c);
    }
    super::dom::predefined_entity(&reference.xml10_content())
        .and_then(|text| text.chars().next())
        .ok_or(Detour)
}

/// Text without the characters XML 1.0 does not allow.
fn allowed(text: &str) -> Step {
    match super::dom::disallowed_char(text) {
        Some(_) => Err(Detour),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::Pass;

    /// What the model path writes of `text`, or `None` when it refuses it.
    fn through_the_model(text: &str) -> Option<Vec<u8>> {
        let document = super::super::read::from_str(Path::new("t.xml"), text).ok()?;
        crate::json::to_vec(&document).ok()
    }

    fn direct(text: &str) -> Option<Vec<u8>> {
        let whole = Pass::new(text).document().ok().map(|(out, _)| out);
        // In two halves, wherever the text allows it: the same output.
        let halves = super::convert(text, 0).ok().map(|(out, _)| out);
        assert_eq!(
            whole,
            halves,
            "split at {:?}",
            super::split_point(text).map(|s| s.0)
        );
        whole
    }

    #[test]
    fn a_large_catalog_is_converted_in_two_halves_that_make_the_whole() {
        let (_, bytes) = mim6_test_support::fixture(
            "nist/nist-sp800-53r5/xml/NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog.xml",
        );
        let text = String::from_utf8(bytes).unwrap();
        let (at, _) = super::split_point(&text).unwrap();
        assert!(text[at..].starts_with("<group "), "{}", &text[at..at + 40]);
        let (halves, spliced) = super::convert(&text, 0).ok().unwrap();
        assert!(spliced || std::thread::available_parallelism().unwrap().get() == 1);
        let (whole, spliced) = Pass::new(&text).document().ok().unwrap();
        assert!(!spliced);
        assert!(halves == whole);
        assert_eq!(Some(whole), through_the_model(&text));
    }

    /// The direct pass gives the model path's bytes, or leaves the document to it.
    fn agrees(text: &str) -> Option<Vec<u8>> {
        let direct = direct(text);
        if let Some(out) = &direct {
            let model = through_the_model(text).unwrap_or_else(|| {
                panic!("the model path refuses what the direct pass takes:\n{text}")
            });
            assert_eq!(
                String::from_utf8_lossy(out),
                String::from_utf8_lossy(&model),
                "for\n{text}"
            );
        }
        direct
    }

    #[test]
    fn every_nist_xml_document_is_converted_directly_as_the_model_path_converts_it() {
        let files = mim6_test_support::files_with_extension(&mim6_test_support::fixtures(), "xml");
        let mut converted = 0;
        for path in &files {
            let text = std::fs::read_to_string(path).unwrap();
            if through_the_model(&text).is_none() {
                // Fixtures of refused documents.
                assert!(direct(&text).is_none(), "{}", path.display());
                continue;
            }
            assert!(
                agrees(&text).is_some(),
                "{} is left to the model path",
                path.display()
            );
            converted += 1;
        }
        assert!(converted >= 100, "only {converted} documents converted");
    }

    const NS: &str = "xmlns=\"http://csrc.nist.gov/ns/oscal/1.0\"";

    fn catalog(body: &str) -> String {
        format!(
            "<catalog {NS} uuid=\"u\"><metadata><title>T</title><last-modified>2024-01-01T00:00:00Z</last-modified>\
             <version>1</version><oscal-version>1.1.2</oscal-version></metadata>{body}</catalog>"
        )
    }

    #[test]
    fn members_come_in_the_model_order_whatever_the_attribute_order() {
        let text = catalog(
            "<group class=\"c\" id=\"g\"><title>G</title>\
             <control id=\"c-1\"><title>C</title><prop value=\"v\" name=\"n\" class=\"k\"/></control></group>",
        );
        let out = agrees(&text).expect("taken directly");
        let out = String::from_utf8(out).unwrap();
        assert!(out.find("\"id\": \"g\"").unwrap() < out.find("\"class\": \"c\"").unwrap());
        assert!(out.find("\"name\": \"n\"").unwrap() < out.find("\"value\": \"v\"").unwrap());
    }

    #[test]
    fn a_choice_is_written_in_the_order_of_the_json_schema() {
        let text = format!(
            "<profile {NS} uuid=\"u\"><metadata><title>T</title><last-modified>2024-01-01T00:00:00Z</last-modified>\
             <version>1</version><oscal-version>1.1.2</oscal-version></metadata>\
             <import href=\"c.json\"><include-controls><with-id>a</with-id></include-controls>\
             <exclude-controls><with-id>b</with-id></exclude-controls></import></profile>"
        );
        let out = String::from_utf8(agrees(&text).expect("taken directly")).unwrap();
        assert!(out.find("exclude-controls").unwrap() < out.find("include-controls").unwrap());
    }

    #[test]
    fn flags_and_children_out_of_the_json_order_in_one_object_are_both_put_in_order() {
        // A party's location uuids come after its remarks in JSON, before them in XML.
        let text = format!(
            "<catalog {NS} uuid=\"u\"><metadata><title>T</title><last-modified>2024-01-01T00:00:00Z</last-modified>\
             <version>1</version><oscal-version>1.1.2</oscal-version>\
             <party type=\"organization\" uuid=\"p\"><name>P</name><location-uuid>l</location-uuid>\
             <remarks><p>R</p></remarks></party></metadata></catalog>"
        );
        let out = String::from_utf8(agrees(&text).expect("taken directly")).unwrap();
        let at = |key: &str| out.find(key).unwrap();
        assert!(at("\"uuid\": \"p\"") < at("\"type\""));
        assert!(at("\"remarks\"") < at("\"location-uuids\""));
    }

    #[test]
    fn what_the_model_path_must_judge_or_gather_is_left_to_it() {
        let left = [
            // A required flag or child missing.
            catalog("<group><title>G</title></group>").replace(" uuid=\"u\"", ""),
            catalog("<control id=\"c\"><title>C</title><prop name=\"n\"/></control>"),
            // Items of one list split by another child; a single child twice.
            catalog(
                "<param id=\"p\"/><control id=\"c\"><title>C</title></control><param id=\"q\"/>",
            ),
            catalog("<control id=\"c\"><title>C</title><title>D</title></control>"),
            // Unknown elements and attributes, text between elements, prefixed names.
            catalog("<control id=\"c\" x=\"1\"><title>C</title></control>"),
            catalog("<control id=\"c\"><title>C</title><bogus/></control>"),
            catalog("<control id=\"c\">text<title>C</title></control>"),
            catalog(
                "<o:control xmlns:o=\"http://csrc.nist.gov/ns/oscal/1.0\" id=\"c\"><o:title>C</o:title></o:control>",
            ),
            catalog("<control xmlns=\"urn:x\" id=\"c\"><title>C</title></control>"),
            // Characters XML does not allow; markup the converter refuses; entities.
            catalog("<control id=\"c\"><title>C&#1;</title></control>"),
            catalog("<control id=\"c\"><title>C<p>x</p></title></control>"),
            catalog("<control id=\"c\"><title>&custom;</title></control>"),
            format!("<!DOCTYPE catalog []>{}", catalog("")),
            // Content after the root; a document that ends early.
            format!("{}<more/>", catalog("")),
            catalog("<control id=\"c\"><title>C</title>"),
        ];
        for text in &left {
            assert!(agrees(text).is_none(), "taken directly:\n{text}");
        }
    }

    #[test]
    fn prose_inserts_and_wrapped_lists_are_converted_as_the_model_path_does() {
        let text = catalog(
            "<group id=\"g\"><title>G &amp; <em>H</em></title><control id=\"c\"><title>C</title>\
             <param id=\"p\"><select how-many=\"one-or-more\"><choice>a <insert type=\"param\" id-ref=\"q\"/></choice></select></param>\
             <part name=\"statement\" id=\"s\"><p>Do <insert type=\"param\" id-ref=\"p\"/>; \"quoted\" *</p>\
             <ol><li>one</li><li>two <strong>2</strong></li></ol><part name=\"item\"><p>x</p></part></part>\
             <link href=\"#r\" rel=\"reference\"><text>R</text></link></control></group>\
             <back-matter><resource uuid=\"r\"><title>R</title><rlink href=\"https://example.org\"/></resource></back-matter>",
        );
        let out = String::from_utf8(agrees(&text).expect("taken directly")).unwrap();
        assert!(out.contains("\"prose\": \"Do {{ insert: param, p }}; \\\\\\\"quoted\\\\\\\" *\\n\\n1. one\\n1. two **2**\\n\""), "{out}");
    }
}
