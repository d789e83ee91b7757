//! `mim6 resolve`: local profiles, href maps, and remote imports from a loopback server.

use std::path::Path;
use std::sync::atomic::Ordering;

use serde_json::Value;

use crate::{Run, fixtures, mim6};

const RLINK: &str = "../../../../nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_catalog.json";

#[test]
fn nist_moderate_resolves_against_the_bundled_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let nist = fixtures().join("nist/nist-sp800-53r5/json");
    let map = format!(
        "{RLINK}={}",
        nist.join("NIST_SP-800-53_rev5_catalog.json").display()
    );
    let profile = nist.join("NIST_SP-800-53_rev5_MODERATE-baseline_profile.json");
    let run = mim6(
        dir.path(),
        &[
            "resolve",
            profile.to_str().unwrap(),
            "--map",
            &map,
            "-o",
            "moderate.xml",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let validate = mim6(dir.path(), &["validate", "moderate.xml"]);
    assert_eq!(validate.code, 0, "{validate:?}");
    // Same profile, same catalog: byte-identical output.
    let again = mim6(
        dir.path(),
        &[
            "resolve",
            profile.to_str().unwrap(),
            "--map",
            &map,
            "-o",
            "again.xml",
        ],
    );
    assert_eq!(again.code, 0);
    assert_eq!(
        std::fs::read(dir.path().join("moderate.xml")).unwrap(),
        std::fs::read(dir.path().join("again.xml")).unwrap()
    );
}

#[test]
fn a_missing_import_names_the_profile_pointer_and_href() {
    let dir = tempfile::tempdir().unwrap();
    let profile =
        fixtures().join("nist/nist-sp800-53r5/json/NIST_SP-800-53_rev5_LOW-baseline_profile.json");
    let run = mim6(
        dir.path(),
        &["resolve", profile.to_str().unwrap(), "--to", "json"],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(
            "at /profile/imports/0/href: cannot load \"#84cbf061-eb87-4ec1-8112-1f529232e907\""
        ),
        "{}",
        run.stderr
    );
    let missing = mim6(dir.path(), &["resolve", "nowhere.json", "--to", "json"]);
    assert_eq!(missing.code, 2);
}

#[test]
fn unknown_ids_warn_and_fail_under_strict() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("nist/examples/catalog/json/basic-catalog.json"),
        dir.path().join("catalog.json"),
    )
    .unwrap();
    let profile = serde_json::json!({"profile": {
        "uuid": "0f5c6d1e-2b3a-4c5d-8e9f-a0b1c2d3e4f5",
        "metadata": {"title": "P", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.2.3"},
        "imports": [{"href": "catalog.json", "include-controls": [{"with-ids": ["s1.1.1", "zz-99"]}]}],
        "modify": {"set-parameters": [{"param-id": "no-such-param", "values": ["x"]}]}
    }});
    std::fs::write(dir.path().join("p.json"), profile.to_string()).unwrap();
    let run = mim6(dir.path(), &["resolve", "p.json", "--to", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    insta::assert_snapshot!(run.stderr.trim(), @r#"
    mim6: warning: p.json: at /profile/imports/0/include-controls/0/with-ids/1: with-ids names control "zz-99", which the imported catalog lacks
    mim6: warning: p.json: at /profile/modify/set-parameters/0: set-parameters names parameter "no-such-param", which the resolved catalog lacks
    "#);
    let strict = mim6(
        dir.path(),
        &["resolve", "p.json", "--to", "json", "--strict"],
    );
    assert_eq!(strict.code, 1);
    insta::assert_snapshot!(strict.stderr.trim(), @r#"mim6: error: p.json: at /profile/imports/0/include-controls/0/with-ids/1: with-ids names control "zz-99", which the imported catalog lacks"#);
}

/// A loopback HTTP server for one test: serves `/profile.json`, `/catalog.json`,
/// `/moved.json` (a redirect to another host name) and `/local.json` (a profile importing a
/// local file), counting requests.
fn serve() -> mim6_test_support::Loopback {
    let catalog =
        std::fs::read(fixtures().join("nist/examples/catalog/json/basic-catalog.json")).unwrap();
    let profile = serde_json::json!({"profile": {
        "uuid": "1f5c6d1e-2b3a-4c5d-8e9f-a0b1c2d3e4f5",
        "metadata": {"title": "Remote", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.2.3"},
        "imports": [{"href": "catalog.json", "include-all": {}}]
    }})
    .to_string()
    .into_bytes();
    let local = serde_json::json!({"profile": {
        "uuid": "3f5c6d1e-2b3a-4c5d-8e9f-a0b1c2d3e4f5",
        "metadata": {"title": "Local", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.2.3"},
        "imports": [{"href": "file:///etc/hostname", "include-all": {}}]
    }})
    .to_string()
    .into_bytes();
    mim6_test_support::serve(move |path, port| match path {
        "/profile.json" => ("200 OK", String::new(), profile.clone()),
        "/local.json" => ("200 OK", String::new(), local.clone()),
        "/catalog.json" => ("200 OK", String::new(), catalog.clone()),
        "/moved.json" => (
            "302 Found",
            format!("Location: http://localhost:{port}/catalog.json\r\n"),
            Vec::new(),
        ),
        _ => ("404 Not Found", String::new(), Vec::new()),
    })
}

/// `mim6 resolve PROFILE --to json` in `dir`, with its cache in `dir/cache`, the loopback
/// host allowed or not.
fn resolve_to_stdout(dir: &Path, profile: &str, allow_loopback: bool) -> Run {
    let cache = dir.join("cache");
    let mut args = vec!["resolve", profile];
    if allow_loopback {
        args.extend(["--allow-host", "127.0.0.1"]);
    }
    args.extend(["--cache-dir", cache.to_str().unwrap(), "--to", "json"]);
    mim6(dir, &args)
}

#[test]
fn remote_imports_from_an_allowed_loopback_host_are_fetched_and_cached() {
    let server = serve();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let url = format!("http://127.0.0.1:{}/profile.json", server.port);
    let cache_arg = cache.to_str().unwrap();
    let args = [
        "resolve",
        url.as_str(),
        "--allow-host",
        "127.0.0.1",
        "--cache-dir",
        cache_arg,
        "-o",
        "out.json",
    ];

    let run = mim6(dir.path(), &args);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        2,
        "profile and catalog fetched once each"
    );
    let out: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out.json")).unwrap()).unwrap();
    assert_eq!(out["catalog"]["metadata"]["title"], "Remote");

    // The second run is served from the cache.
    assert_eq!(mim6(dir.path(), &args).code, 0);
    assert_eq!(server.hits.load(Ordering::SeqCst), 2);

    // Offline works from the cache, and fails cleanly without it.
    let mut offline = args.to_vec();
    offline.push("--offline");
    assert_eq!(mim6(dir.path(), &offline).code, 0);
    let empty = dir.path().join("empty-cache");
    let offline_empty = [
        "resolve",
        url.as_str(),
        "--allow-host",
        "127.0.0.1",
        "--cache-dir",
        empty.to_str().unwrap(),
        "--offline",
        "--to",
        "json",
    ];
    let run = mim6(dir.path(), &offline_empty);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("offline, and not in the cache"),
        "{}",
        run.stderr
    );
    assert_eq!(server.hits.load(Ordering::SeqCst), 2);
}

#[test]
fn disallowed_hosts_are_refused_before_any_connection() {
    let server = serve();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}/profile.json", server.port);
    let run = resolve_to_stdout(dir.path(), &url, false);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("host \"127.0.0.1\" is not allowed"),
        "{}",
        run.stderr
    );
    assert_eq!(server.hits.load(Ordering::SeqCst), 0);
}

#[test]
fn redirects_to_a_disallowed_host_are_refused() {
    let server = serve();
    let dir = tempfile::tempdir().unwrap();
    let profile = serde_json::json!({"profile": {
        "uuid": "2f5c6d1e-2b3a-4c5d-8e9f-a0b1c2d3e4f5",
        "metadata": {"title": "R", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.2.3"},
        "imports": [{"href": format!("http://127.0.0.1:{}/moved.json", server.port), "include-all": {}}]
    }});
    std::fs::write(dir.path().join("p.json"), profile.to_string()).unwrap();
    let run = resolve_to_stdout(dir.path(), "p.json", true);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("redirect to host \"localhost\", which is not allowed"),
        "{}",
        run.stderr
    );
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);
}

#[test]
fn a_remote_profile_cannot_import_a_local_file() {
    let server = serve();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}/local.json", server.port);
    let run = resolve_to_stdout(dir.path(), &url, true);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("a remote document cannot import a local file"),
        "{}",
        run.stderr
    );
}
