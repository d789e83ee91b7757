//! Profile resolution against NIST's own outputs.

mod baselines;
mod directives;
mod spec;

use serde_json::Value;

pub(crate) use mim6_test_support::{first_difference, fixtures};

/// A resolved catalog without what the specification leaves to the resolver: the uuid,
/// `last-modified`, `oscal-version`, the `resolution-tool` property and the link back to the
/// source profile (whose href depends on where the profile was read from).
pub(crate) fn normalized(mut catalog: Value) -> Value {
    let root = catalog.get_mut("catalog").expect("a catalog");
    root.as_object_mut().unwrap().remove("uuid");
    let metadata = root["metadata"].as_object_mut().unwrap();
    metadata.remove("last-modified");
    metadata.remove("oscal-version");
    if let Some(Value::Array(props)) = metadata.get_mut("props") {
        props.retain(|p| p["name"] != "resolution-tool");
        if props.is_empty() {
            metadata.remove("props");
        }
    }
    if let Some(Value::Array(links)) = metadata.get_mut("links") {
        links.retain(|l| l["rel"] != "source-profile" && l["rel"] != "resolution-source");
        if links.is_empty() {
            metadata.remove("links");
        }
    }
    catalog
}
