//! OSCAL profile resolution, as the NIST Profile Resolution specification describes it.
//!
//! A profile selects controls from catalogs (or from other profiles, resolved first), merges
//! them in the structure it asks for, modifies them (parameter settings, alterations), and the
//! result is a catalog. [`Resolver`] does that; documents are read through a [`Loader`], the
//! one place where an href becomes bytes: relative paths against the citing document,
//! back-matter resources (`#uuid` → rlink), and an [`HrefMap`] that redirects hrefs to local
//! copies.
//!
//! An imported JSON catalog is read as a tree of control ids with the rest of each control left
//! as raw JSON text; only the controls an import keeps are built into the model (each group on
//! the rayon pool as soon as it is read), and the parameters of the controls it leaves out are
//! built only if the result refers to them. A property of a left-out control is therefore
//! checked as JSON, not against the model; a kept control that does not fit the model makes the
//! catalog be read in full, which reports where. XML and YAML catalogs are read in full.
//!
//! ```no_run
//! use std::path::PathBuf;
//! use oscal_resolve::{FileLoader, Location, Options, Resolver};
//!
//! let loader = FileLoader::default();
//! let resolver = Resolver::new(&loader, Options::default());
//! let resolved = resolver
//!     .resolve_location(&Location::File(PathBuf::from("profiles/mim6-city-baseline.json")))
//!     .unwrap();
//! println!("{} warnings", resolved.warnings.len());
//! ```
#![deny(missing_docs)]

mod error;
mod lazy;
mod loader;
mod merge;
mod modify;
mod refs;
#[cfg(feature = "remote")]
mod remote;
mod resolve;

pub use error::{Error, Result};

/// How many profiles deep imports may nest (a profile importing a profile importing …): far
/// beyond any real baseline, low enough that a hostile chain is refused before it exhausts
/// the stack.
pub const MAX_IMPORT_DEPTH: usize = 64;
pub use loader::{FileLoader, HrefMap, Loader, Location};
#[cfg(feature = "remote")]
pub use remote::RemoteLoader;
pub use resolve::{Options, Resolved, Resolver};

/// Something in the profile that names what the imported catalogs lack; an error under
/// `strict`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The profile.
    pub profile: String,
    /// JSON pointer of the directive.
    pub pointer: String,
    /// What is missing.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: at {}: {}", self.profile, self.pointer, self.message)
    }
}

/// Records a warning, or fails when `strict`.
pub(crate) fn warn(
    warnings: &mut Vec<Warning>,
    strict: bool,
    profile: &str,
    pointer: &str,
    message: String,
) -> Result<()> {
    if strict {
        return Err(Error::Directive {
            profile: profile.to_owned(),
            pointer: pointer.to_owned(),
            message,
        });
    }
    warnings.push(Warning {
        profile: profile.to_owned(),
        pointer: pointer.to_owned(),
        message,
    });
    Ok(())
}
