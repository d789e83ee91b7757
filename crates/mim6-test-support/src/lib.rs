//! Helpers shared by the integration tests of the mim6 crates (a dev-dependency only).
//!
//! ```
//! let value = serde_json::json!({"a": [1, 2]});
//! let other = serde_json::json!({"a": [1, 3]});
//! assert_eq!(mim6_test_support::first_difference(&value, &other, "").unwrap(), "/a/1: 2 vs 3");
//! ```
#![deny(missing_docs)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/");
    crates.parent().expect("the repository").to_owned()
}

/// A loopback HTTP server for one test: it answers each request (up to a hundred) with what
/// `answer` gives for the request's path and the server's port (status line, extra header
/// lines, body), and counts the requests.
#[derive(Debug)]
pub struct Loopback {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// Requests received so far.
    pub hits: Arc<AtomicUsize>,
}

/// What [`serve`] answers: status (`"200 OK"`), extra header lines (each ending `\r\n`), body.
pub type Answer = (&'static str, String, Vec<u8>);

/// Starts a [`Loopback`] server.
pub fn serve(answer: impl Fn(&str, u16) -> Answer + Send + 'static) -> Loopback {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("a local address").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(100) {
            let Ok(mut stream) = stream else { continue };
            let Ok(reading) = stream.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(reading);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) <= 2 {
                    break;
                }
            }
            counter.fetch_add(1, Ordering::SeqCst);
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let (status, extra, body) = answer(&path, port);
            let head = format!(
                "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    Loopback { port, hits }
}

/// The repository's shared test data folder, `tests/fixtures`.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// Every file under `dir`, sorted, so that tests walk data in a fixed order.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a readable folder entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Every file under `dir` whose extension is `ext`, sorted.
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == ext))
        .collect()
}

/// The first place two JSON values differ, as a JSON pointer and the two values there
/// (shortened), or `None` when they are equal.
pub fn first_difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    let cut = |v: &Value| v.to_string().chars().take(120).collect::<String>();
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
                        return Some(format!("{here}: {:?} vs {:?}", p.map(cut), q.map(cut)));
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
        _ => (a != b).then(|| format!("{at}: {} vs {}", cut(a), cut(b))),
    }
}

/// The path and bytes of a fixture file, named relative to `tests/fixtures`.
pub fn fixture(relative: &str) -> (PathBuf, Vec<u8>) {
    let path = fixtures().join(relative);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (path, bytes)
}

/// NIST's SP 800-53r5 catalog (release 5.2.0, 10 MB), the usual benchmark input.
pub const SP800_53_CATALOG: &str = "nist/nist-sp800-53r5/json/NIST_SP-800-53_rev5_catalog.json";

/// The verdict on one case of a data-driven test with an explicit xfail list of
/// `(name, reason)`: `None` when the case behaves as listed (passes and is not listed, or fails
/// and is listed), else what is wrong.
pub fn xfail_verdict(
    name: &str,
    outcome: Result<(), String>,
    xfail: &[(&str, &str)],
) -> Option<String> {
    let listed = xfail.iter().any(|(listed, _)| *listed == name);
    match (outcome, listed) {
        (Ok(()), true) => Some(format!("{name}: passes but is listed as xfail")),
        (Err(e), false) => Some(format!("{name}: {e}")),
        _ => None,
    }
}
