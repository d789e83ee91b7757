//! Profile resolution against NIST's own outputs.

mod baselines;
mod directives;
mod spec;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The repository's fixture folder.
pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

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

/// The first place two JSON values differ.
pub(crate) fn first_difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                let here = format!("{at}/{key}");
                match (x.get(key), y.get(key)) {
                    (Some(p), Some(q)) => {
                        if let Some(d) = first_difference(p, q, &here) {
                            return Some(d);
                        }
                    }
                    (p, q) => {
                        let show = |v: Option<&Value>| {
                            v.map(|v| v.to_string().chars().take(120).collect::<String>())
                        };
                        return Some(format!("{here}: {:?} vs {:?}", show(p), show(q)));
                    }
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                if let Some(d) = first_difference(p, q, &format!("{at}/{i}")) {
                    return Some(d);
                }
            }
            (x.len() != y.len()).then(|| format!("{at}: {} vs {} items", x.len(), y.len()))
        }
        _ => (a != b).then(|| {
            let cut = |v: &Value| v.to_string().chars().take(120).collect::<String>();
            format!("{at}: {} vs {}", cut(a), cut(b))
        }),
    }
}
