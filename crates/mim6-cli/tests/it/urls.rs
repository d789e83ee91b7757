//! `mim6 run` over documents named by URL: fetched only from allowed hosts, ingested like
//! local ones, failures listed as rejected documents.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{fixtures, mim6};

/// A loopback HTTP server for one test, serving the files under `root`; counts requests.
fn serve(root: PathBuf) -> (u16, Arc<AtomicUsize>) {
    let server = mim6_test_support::serve(move |path, _| {
        match std::fs::read(root.join(path.trim_start_matches('/'))) {
            Ok(body) if !path.contains("..") => ("200 OK", String::new(), body),
            _ => ("404 Not Found", String::new(), Vec::new()),
        }
    });
    (server.port, server.hits)
}

/// A pipeline over `urls` of the hand-written fleet, allowing `allowed`.
fn pipeline(dir: &Path, urls: &[String], allowed: &str) -> PathBuf {
    let catalog = fixtures().join("pipeline/catalog.json");
    let file = dir.join("pipeline.toml");
    std::fs::write(
        &file,
        format!(
            "[baseline]\nprofile = {:?}\n[inputs]\nurls = {urls:?}\n[periods]\nfreshness-days = 365\n\
             first = \"2025-01-01\"\nlast = \"2025-09-30\"\n[remote]\nallow-hosts = [{allowed:?}]\n\
             [output]\nfolder = \"out\"\n",
            catalog.to_str().unwrap()
        ),
    )
    .unwrap();
    file
}

fn fleet_paths() -> Vec<String> {
    let root = fixtures().join("pipeline/fleet");
    mim6_test_support::files_with_extension(&root, "json")
        .iter()
        .map(|f| {
            f.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect()
}

#[test]
fn documents_named_by_url_are_fetched_and_measured_like_local_ones() {
    let (port, hits) = serve(fixtures().join("pipeline/fleet"));
    let dir = tempfile::tempdir().unwrap();
    let mut urls: Vec<String> = fleet_paths()
        .iter()
        .map(|p| format!("http://127.0.0.1:{port}/{p}"))
        .collect();
    assert_eq!(urls.len(), 18);
    let missing = format!("http://127.0.0.1:{port}/region-a/city-x/x1/ar-2025q4.json");
    urls.push(missing.clone());
    let file = pipeline(dir.path(), &urls, "127.0.0.1");
    let run = mim6(dir.path(), &["run", file.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(hits.load(Ordering::SeqCst), 19);
    let rejected = std::fs::read_to_string(dir.path().join("out/rejected.csv")).unwrap();
    assert_eq!(rejected.lines().count(), 2, "{rejected}");
    assert!(
        rejected.contains(&missing) && rejected.contains("404"),
        "{rejected}"
    );

    // The same metrics as from the local copy of the fleet.
    let local = dir.path().join("local");
    let run = mim6(
        &fixtures().join("pipeline"),
        &["run", "pipeline.toml", "-o", local.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    for table in [
        "m_system_period.csv",
        "m_city_period.csv",
        "fact_risk_period.csv",
    ] {
        assert_eq!(
            std::fs::read(dir.path().join("out/tables").join(table)).unwrap(),
            std::fs::read(local.join("tables").join(table)).unwrap(),
            "{table}"
        );
    }
}

#[test]
fn hosts_that_are_not_allowed_are_never_contacted() {
    let (port, hits) = serve(fixtures().join("pipeline/fleet"));
    let dir = tempfile::tempdir().unwrap();
    let urls: Vec<String> = fleet_paths()
        .iter()
        .map(|p| format!("http://localhost:{port}/{p}"))
        .collect();
    let file = pipeline(dir.path(), &urls, "127.0.0.1");
    let run = mim6(dir.path(), &["run", file.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "no connection to a host not allowed"
    );
    let rejected = std::fs::read_to_string(dir.path().join("out/rejected.csv")).unwrap();
    assert_eq!(rejected.lines().count(), 1 + 18, "{rejected}");
    assert!(rejected.contains("is not allowed"), "{rejected}");
}
