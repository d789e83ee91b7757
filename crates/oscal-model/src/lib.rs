//! The OSCAL document model: every model of the OSCAL 1.2.3 release as plain Rust data.
//!
//! The structs in [`generated`] come from the official OSCAL JSON schema (see
//! `scripts/generate_model.py`); [`Document`] is the root of any OSCAL file and names which
//! model it holds. Field names follow Rust conventions and serialize to the OSCAL JSON names.
//! This crate does no I/O: reading and writing JSON, XML and YAML lives in `oscal-io`.
//!
//! Reading is lossless: properties that the 1.2.3 release does not define (older or newer
//! releases, extensions) are kept in each struct's `unrecognized` map and written back.
//!
//! ```
//! use oscal_model::{Document, Model, ModelKind};
//!
//! let json = r#"{"catalog": {"uuid": "74c8ba1e-5cd4-4ad1-bbfd-d888e2f6c724",
//!     "metadata": {"title": "Demo", "last-modified": "2024-01-01T00:00:00Z",
//!                  "version": "1", "oscal-version": "1.2.3"}}}"#;
//! let doc: Document = serde_json::from_str(json).unwrap();
//! assert_eq!(doc.kind(), ModelKind::Catalog);
//! let Model::Catalog(catalog) = &doc.model else { unreachable!() };
//! assert_eq!(catalog.metadata.title, "Demo");
//! ```
#![deny(missing_docs)]

mod document;
pub mod generated;

pub use document::{Document, Model, ModelKind, UnknownModel};
pub use generated::*;

/// An OSCAL `decimal` value, kept exactly as read (integer or floating point).
pub type Decimal = serde_json::Number;

/// Properties that the model release does not define, in key order.
pub type Unrecognized = std::collections::BTreeMap<String, serde_json::Value>;

/// The OSCAL release this model is generated from, and the one mim6 writes.
pub const OSCAL_VERSION: &str = "1.2.3";

/// The namespace of OSCAL XML documents.
pub const OSCAL_XML_NAMESPACE: &str = "http://csrc.nist.gov/ns/oscal/1.0";

/// Finds the properties a document holds that the model release does not define.
///
/// Implemented for every model struct; [`Document::unrecognized`] is the usual entry point.
pub trait CollectUnrecognized {
    /// Appends the JSON pointer of every unrecognised property under `self` (located at
    /// pointer `at`) to `out`.
    fn collect_unrecognized(&self, at: &mut String, out: &mut Vec<String>);
}

impl<T: CollectUnrecognized> CollectUnrecognized for Vec<T> {
    fn collect_unrecognized(&self, at: &mut String, out: &mut Vec<String>) {
        let len = at.len();
        for (i, item) in self.iter().enumerate() {
            at.push('/');
            at.push_str(&i.to_string());
            item.collect_unrecognized(at, out);
            at.truncate(len);
        }
    }
}

impl<T: CollectUnrecognized> CollectUnrecognized for Option<T> {
    fn collect_unrecognized(&self, at: &mut String, out: &mut Vec<String>) {
        if let Some(inner) = self {
            inner.collect_unrecognized(at, out);
        }
    }
}

impl<T: CollectUnrecognized> CollectUnrecognized for Box<T> {
    fn collect_unrecognized(&self, at: &mut String, out: &mut Vec<String>) {
        (**self).collect_unrecognized(at, out);
    }
}

impl ReviewedControls {
    /// Every control of the baseline (`control-selections: [{include-all: {}}]`).
    pub fn all() -> ReviewedControls {
        ReviewedControls {
            control_selections: vec![AssessedControls {
                include_all: Some(IncludeAll::default()),
                ..AssessedControls::default()
            }],
            ..ReviewedControls::default()
        }
    }
}

/// The namespace (`ns`) of mim6's own props: city and region attribution, GDPR articles,
/// MIM6 capabilities and the like.
pub const MIM6_NAMESPACE: &str = "urn:mim6:oscal";

/// A uuid that depends only on `name` (version 5 form, from a 128-bit hash of the name), for
/// documents that must come out the same when made again from the same input: a resolved
/// catalog from its profile, a generated fleet from its seed.
///
/// ```
/// let a = oscal_model::uuid_from_name("city-007/system-2/ssp");
/// assert_eq!(a, oscal_model::uuid_from_name("city-007/system-2/ssp"));
/// assert_eq!(&a[14..15], "5");
/// ```
pub fn uuid_from_name(name: &str) -> String {
    // FNV-1a over the name, twice with different offsets, gives 128 bits.
    let hash = |offset: u64| {
        name.bytes().fold(offset, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let (a, b) = (hash(0xcbf2_9ce4_8422_2325), hash(0x8422_2325_cbf2_9ce4));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
