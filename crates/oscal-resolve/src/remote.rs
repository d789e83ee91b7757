//! Fetching imports over http(s): only from allowed hosts, with timeouts, a size cap and an
//! on-disk cache that also serves `--offline` runs.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::loader::{FileLoader, Loader, Location};

/// Reads files like [`FileLoader`], and fetches URLs whose host is allowed.
///
/// `https` is required except for loopback hosts (`localhost`, `127.0.0.1`, `::1`), which may
/// use `http` (for local mirrors and tests). Redirects are followed only to allowed hosts.
/// Fetched documents are cached under the cache folder, keyed by the SHA-256 of the URL, with
/// the SHA-256 of the content recorded beside them; offline, only the cache is used.
#[derive(Debug)]
pub struct RemoteLoader {
    files: FileLoader,
    allowed: Vec<String>,
    offline: bool,
    cache: Option<PathBuf>,
    /// How long one fetch may take, from connecting to the last byte.
    pub timeout: Duration,
}

impl RemoteLoader {
    /// A loader that may fetch from `allowed` hosts, caching in `cache` when given.
    pub fn new(allowed: Vec<String>, offline: bool, cache: Option<PathBuf>) -> RemoteLoader {
        RemoteLoader {
            files: FileLoader::default(),
            allowed: allowed
                .into_iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            offline,
            cache,
            timeout: Duration::from_secs(30),
        }
    }

    fn is_allowed(&self, url: &reqwest::Url) -> Result<(), String> {
        let host = url
            .host_str()
            .unwrap_or("")
            .trim_matches(['[', ']'])
            .to_ascii_lowercase();
        if !self.allowed.contains(&host) {
            return Err(format!(
                "host {host:?} is not allowed (allow it with --allow-host {host} or in the pipeline file)"
            ));
        }
        let loopback = matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1");
        match url.scheme() {
            "https" => Ok(()),
            "http" if loopback => Ok(()),
            other => Err(format!("{other}:// is refused for {host}; use https")),
        }
    }

    fn cache_paths(&self, url: &str) -> Option<(PathBuf, PathBuf)> {
        let dir = self.cache.as_ref()?;
        let key = hex(&Sha256::digest(url.as_bytes()));
        Some((
            dir.join(format!("{key}.body")),
            dir.join(format!("{key}.json")),
        ))
    }

    fn cached(&self, url: &str) -> Option<Vec<u8>> {
        let (body, meta) = self.cache_paths(url)?;
        let bytes = std::fs::read(body).ok()?;
        let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(meta).ok()?).ok()?;
        // A cache entry whose content no longer has its recorded hash is not used.
        (meta["url"] == url && meta["sha256"] == hex(&Sha256::digest(&bytes))).then_some(bytes)
    }

    fn store(&self, url: &str, bytes: &[u8]) {
        let Some((body, meta)) = self.cache_paths(url) else {
            return;
        };
        if let Some(dir) = body.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let record = serde_json::json!({"url": url, "sha256": hex(&Sha256::digest(bytes))});
        // The cache is an optimisation: failing to write it is not an error.
        let _ = oscal_io::write_atomic(&body, bytes);
        let _ = oscal_io::write_atomic(&meta, record.to_string().as_bytes());
    }

    fn fetch(&self, text: &str) -> Result<Vec<u8>, String> {
        let url = reqwest::Url::parse(text).map_err(|e| format!("invalid URL: {e}"))?;
        self.is_allowed(&url)?;
        if let Some(bytes) = self.cached(text) {
            return Ok(bytes);
        }
        if self.offline {
            return Err("offline, and not in the cache".into());
        }
        let allowed = self.allowed.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            let host = attempt.url().host_str().unwrap_or("").to_ascii_lowercase();
            if attempt.previous().len() > 5 {
                attempt.error("more than 5 redirects")
            } else if allowed.contains(&host) {
                attempt.follow()
            } else {
                attempt.error(format!("redirect to host {host:?}, which is not allowed"))
            }
        });
        let client = reqwest::blocking::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(Duration::from_secs(10))
            .redirect(policy)
            .build()
            .map_err(|e| format!("cannot start an HTTP client: {e}"))?;
        let response = client.get(url).send().map_err(|e| describe(&e))?;
        if !response.status().is_success() {
            return Err(format!("the server answered {}", response.status()));
        }
        let limit = self.files.max_bytes;
        let mut bytes = Vec::new();
        response
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| format!("reading the response failed: {e}"))?;
        if bytes.len() as u64 > limit {
            return Err(format!("the response is over the limit of {limit} bytes"));
        }
        self.store(text, &bytes);
        Ok(bytes)
    }
}

fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Loader for RemoteLoader {
    fn load(&self, location: &Location) -> Result<Vec<u8>, String> {
        match location {
            Location::File(_) => self.files.load(location),
            Location::Url(url) => self.fetch(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use super::*;

    /// A loopback server that reads one request, then does what `answer` does with the stream.
    fn serve(answer: fn(std::net::TcpStream)) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Some(Ok(stream)) = listener.incoming().next() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 2 {
                    line.clear();
                }
                answer(stream);
            }
        });
        format!("http://127.0.0.1:{port}/catalog.json")
    }

    fn loader() -> RemoteLoader {
        let mut loader = RemoteLoader::new(vec!["127.0.0.1".into()], false, None);
        loader.timeout = Duration::from_secs(2);
        loader.files.max_bytes = 1 << 20;
        loader
    }

    #[test]
    fn a_server_that_never_answers_times_out() {
        let url = serve(|stream| {
            std::thread::sleep(Duration::from_secs(10));
            drop(stream);
        });
        let started = std::time::Instant::now();
        let err = loader().load(&Location::Url(url)).unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{:?}",
            started.elapsed()
        );
        assert!(
            err.contains("timed out") || err.contains("timeout"),
            "{err}"
        );
    }

    #[test]
    fn an_endless_body_is_cut_at_the_size_cap() {
        let url = serve(|mut stream| {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let chunk = vec![b' '; 64 * 1024];
            // Endless, until the reader hangs up.
            while stream.write_all(&chunk).is_ok() {}
        });
        let err = loader().load(&Location::Url(url)).unwrap_err();
        assert!(err.contains("over the limit of 1048576 bytes"), "{err}");
    }
}
