//! Reading and writing OSCAL documents.
//!
//! This crate turns bytes into [`oscal_model::Document`]s and back. It owns the three things
//! every caller needs before touching a model: reading a file under a size limit
//! ([`read_file`]), finding out what the bytes are ([`Format::sniff`], [`decode_text`]) and
//! writing outputs so that a reader never sees half a file ([`write_atomic`]).
//!
//! Every error names the file and, where the format allows, the line, column and path of the
//! offending value.
//!
//! ```
//! use std::path::Path;
//! use oscal_io::{json, Format};
//!
//! let bytes = br#"{"catalog": {"uuid": "74c8ba1e-5cd4-4ad1-bbfd-d888e2f6c724",
//!     "metadata": {"title": "Demo", "last-modified": "2024-01-01T00:00:00Z",
//!                  "version": "1", "oscal-version": "1.2.3"}}}"#;
//! assert_eq!(Format::sniff(bytes), Some(Format::Json));
//! let doc = json::from_slice(Path::new("demo.json"), bytes).unwrap();
//! let back = json::to_vec(&doc).unwrap();
//! assert_eq!(
//!     serde_json::from_slice::<serde_json::Value>(&back).unwrap(),
//!     serde_json::from_slice::<serde_json::Value>(bytes).unwrap(),
//! );
//! ```
#![deny(missing_docs)]

mod atomic;
mod document;
mod error;
mod format;
pub mod json;
pub mod markup;
mod read;
pub mod xml;
pub mod yaml;

pub use atomic::{FolderLock, StagedDir, safe_file_name, write_atomic, write_atomic_with};
pub use document::{detect_format, read_document, read_value, write_document, write_document_to};
pub use error::{Error, Result};
pub use format::{Format, decode_text, sniff_json_model, sniff_model};
pub use read::{DEFAULT_MAX_BYTES, read_file, read_file_into};
