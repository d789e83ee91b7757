//! XML → JSON conversion of NIST's HIGH resolved catalog against a bare quick-xml event scan.
//!
//! `cargo bench -p oscal-io --bench xml`; the throughput column is in bytes of XML per second.
//! The conversion takes a second core when there is one (a large document is converted in two
//! halves side by side); `taskset -c 0 cargo bench -p oscal-io --bench xml` gives the one-core
//! figures.

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

static HIGH: LazyLock<(PathBuf, String)> = LazyLock::new(|| {
    let (path, bytes) = mim6_test_support::fixture(
        "nist/nist-sp800-53r5/xml/NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog.xml",
    );
    (
        path,
        String::from_utf8(bytes).expect("the HIGH catalog is UTF-8"),
    )
});

/// The floor: every event of the document read by quick-xml, nothing built.
#[divan::bench(sample_count = 20)]
fn bare_quick_xml_scan(bencher: Bencher) {
    let (_, text) = &*HIGH;
    bencher.counter(BytesCount::of_str(text)).bench(|| {
        let mut reader = quick_xml::Reader::from_str(divan::black_box(text));
        let mut events = 0usize;
        loop {
            match reader.read_event().unwrap() {
                quick_xml::events::Event::Eof => break,
                _ => events += 1,
            }
        }
        events
    });
}

/// XML text → the JSON value of the document (markup converted to Markdown).
#[divan::bench(sample_count = 20)]
fn xml_to_json_value(bencher: Bencher) {
    let (path, text) = &*HIGH;
    bencher
        .counter(BytesCount::of_str(text))
        .bench(|| oscal_io::xml::value_from_str(path, divan::black_box(text)).unwrap());
}

/// XML text → JSON text, as `mim6 convert` does it (one pass over the events).
#[divan::bench(sample_count = 20)]
fn xml_to_json_text(bencher: Bencher) {
    let (path, text) = &*HIGH;
    bencher
        .counter(BytesCount::of_str(text))
        .bench(|| oscal_io::xml::to_json(path, divan::black_box(text)).unwrap());
}

/// XML text → JSON text through the typed model (what a document the direct pass leaves
/// takes).
#[divan::bench(sample_count = 20)]
fn xml_to_json_text_through_the_model(bencher: Bencher) {
    let (path, text) = &*HIGH;
    bencher.counter(BytesCount::of_str(text)).bench(|| {
        let doc = oscal_io::xml::from_str(path, divan::black_box(text)).unwrap();
        oscal_io::json::to_vec(&doc).unwrap()
    });
}
