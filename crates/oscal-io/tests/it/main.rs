//! Integration tests of oscal-io against NIST's published documents.

mod fuzz_regressions;
mod round_trip;
mod xml_oracle;
mod xsd;

pub(crate) use mim6_test_support::{files_with_extension, fixtures};
