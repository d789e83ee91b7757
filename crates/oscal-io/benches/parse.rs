//! Reading the NIST SP 800-53 catalog (10 MB): typed model against a bare `Value` parse.
//!
//! `cargo bench -p oscal-io --bench parse`; the throughput column is in bytes per second.

use std::path::PathBuf;
use std::sync::LazyLock;

use divan::Bencher;
use divan::counter::BytesCount;

// The allocator the `mim6` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

static CATALOG: LazyLock<(PathBuf, Vec<u8>)> =
    LazyLock::new(|| mim6_test_support::fixture(mim6_test_support::SP800_53_CATALOG));

/// The baseline: serde_json into an untyped `Value`.
#[divan::bench(sample_count = 20)]
fn bare_value_parse(bencher: Bencher) {
    let (_, bytes) = &*CATALOG;
    bencher
        .counter(BytesCount::of_slice(bytes))
        .bench(|| serde_json::from_slice::<serde_json::Value>(divan::black_box(bytes)).unwrap());
}

/// The typed OSCAL model, with the UTF-8 and emptiness checks `oscal-io` makes.
#[divan::bench(sample_count = 20)]
fn typed_model_parse(bencher: Bencher) {
    let (path, bytes) = &*CATALOG;
    bencher
        .counter(BytesCount::of_slice(bytes))
        .bench(|| oscal_io::json::from_slice(path, divan::black_box(bytes)).unwrap());
}

/// Writing the typed model back to pretty JSON.
#[divan::bench(sample_count = 20)]
fn typed_model_write(bencher: Bencher) {
    let (path, bytes) = &*CATALOG;
    let doc = oscal_io::json::from_slice(path, bytes).unwrap();
    bencher
        .counter(BytesCount::of_slice(bytes))
        .bench(|| oscal_io::json::to_vec(divan::black_box(&doc)).unwrap());
}
