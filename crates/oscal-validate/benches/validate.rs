//! Schema validation of the NIST SP 800-53 catalog (10 MB).
//!
//! `cargo bench -p oscal-validate --bench validate`; the throughput column is in bytes of the
//! catalog's JSON text per second.

use std::path::PathBuf;
use std::sync::LazyLock;

use divan::Bencher;
use divan::counter::BytesCount;
use oscal_model::ModelKind;
use oscal_validate::{SchemaSet, Validator};

fn main() {
    divan::main();
}

static CATALOG: LazyLock<(PathBuf, Vec<u8>)> =
    LazyLock::new(|| mim6_test_support::fixture(mim6_test_support::SP800_53_CATALOG));

/// The official schema alone, on the already parsed catalog.
#[divan::bench(sample_count = 20)]
fn schema_is_valid(bencher: Bencher) {
    let (_, bytes) = &*CATALOG;
    let value: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let schemas = SchemaSet::default();
    let validator = schemas.validator(ModelKind::Catalog);
    bencher
        .counter(BytesCount::of_slice(bytes))
        .bench(|| assert!(validator.is_valid(divan::black_box(&value))));
}

/// The identifier and reference checks alone, on the already parsed catalog.
#[divan::bench(sample_count = 20)]
fn reference_checks(bencher: Bencher) {
    let (path, bytes) = &*CATALOG;
    let value: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    bencher.counter(BytesCount::of_slice(bytes)).bench(|| {
        assert!(oscal_validate::checks::check(path, ModelKind::Catalog, &value).is_empty())
    });
}

/// Everything `mim6 validate` does with the bytes: parse, schema, checks.
#[divan::bench(sample_count = 20)]
fn validate_bytes(bencher: Bencher) {
    let (path, bytes) = &*CATALOG;
    let validator = Validator::new();
    bencher.counter(BytesCount::of_slice(bytes)).bench(|| {
        assert!(
            validator
                .validate_bytes(path, divan::black_box(bytes))
                .is_valid()
        )
    });
}
