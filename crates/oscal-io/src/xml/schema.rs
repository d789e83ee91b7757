//! The shape of the generated binding table (see `binding.rs`).

/// Whether a definition is an assembly (flags and child elements) or a field (flags and a value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Assembly,
    Field,
}

/// How a flag or field value is written in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueType {
    /// A JSON string, the XML text as is.
    String,
    /// A JSON string of Markdown; inline HTML in XML.
    MarkupLine,
    /// A JSON string of Markdown; block HTML in XML.
    MarkupMultiline,
    /// A JSON boolean.
    Boolean,
    /// A JSON integer.
    Integer,
    /// A JSON number.
    Decimal,
}

/// One child of an assembly's model, in the order XML requires.
#[derive(Debug)]
pub(crate) struct Child {
    /// XML element name of each item.
    pub(crate) name: &'static str,
    /// JSON property name (the `group-as` name when the child repeats).
    pub(crate) json: &'static str,
    /// Index in `DEFS` of the child's definition.
    pub(crate) def: u16,
    /// The child may occur more than once.
    pub(crate) many: bool,
    /// JSON always uses an array, even for one item (`in-json="ARRAY"`).
    pub(crate) array_always: bool,
    /// XML wraps the items in an element of this name (`in-xml="GROUPED"`).
    pub(crate) wrapper: Option<&'static str>,
    /// A markup-multiline field whose blocks sit directly in the parent (`in-xml="UNWRAPPED"`).
    pub(crate) unwrapped: bool,
}

/// An assembly or field definition.
#[derive(Debug)]
pub(crate) struct Def {
    pub(crate) kind: Kind,
    /// The element name when this is a document root.
    pub(crate) root: Option<&'static str>,
    /// Flags, in order: XML attributes, JSON properties.
    pub(crate) flags: &'static [(&'static str, ValueType)],
    /// The model of an assembly.
    pub(crate) children: &'static [Child],
    /// The value type of a field.
    pub(crate) value: ValueType,
    /// The JSON property holding a field's value when the field also has flags.
    pub(crate) value_key: Option<&'static str>,
    /// Bit `i` is set when member `i` of the JSON object (flags, then an assembly's children or
    /// a field's value key) is required by the JSON schema.
    pub(crate) required: u64,
    /// The position of each member in the JSON object, when that is not its index (a choice
    /// can order them differently from the XML elements); empty otherwise.
    pub(crate) json_order: &'static [u8],
}

/// The definition of the model whose root element or key is `name`.
pub(crate) fn root_def(name: &str) -> Option<&'static Def> {
    super::binding::DEFS.iter().find(|d| d.root == Some(name))
}

/// The definition at `index` of the table.
pub(crate) fn def(index: u16) -> &'static Def {
    &super::binding::DEFS[usize::from(index)]
}
