//! Where documents come from: locations, href resolution and the loader that reads them.

use std::fmt;
use std::path::{Component, Path, PathBuf};

/// Where a document lives: a file or a URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// A local file (relative paths are relative to the working directory).
    File(PathBuf),
    /// A remote document (`http://` or `https://`).
    Url(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(path) => write!(f, "{}", path.display()),
            Location::Url(url) => f.write_str(url),
        }
    }
}

impl Location {
    /// The location an href names, relative to this location (the citing document's).
    pub fn join(&self, href: &str) -> Result<Location, String> {
        let (without_fragment, _) = href.split_once('#').unwrap_or((href, ""));
        if let Some(path) = without_fragment.strip_prefix("file://") {
            return Ok(Location::File(normalize(Path::new(path))));
        }
        if has_scheme(without_fragment) {
            let lower = without_fragment.to_ascii_lowercase();
            if lower.starts_with("http://") || lower.starts_with("https://") {
                return Ok(Location::Url(without_fragment.to_owned()));
            }
            return Err(format!("unsupported scheme in {href:?}"));
        }
        match self {
            Location::File(base) => {
                let dir = base.parent().unwrap_or(Path::new(""));
                Ok(Location::File(normalize(&dir.join(without_fragment))))
            }
            Location::Url(base) => Ok(Location::Url(join_url(base, without_fragment))),
        }
    }

    /// The file name (last path segment).
    pub fn file_name(&self) -> String {
        match self {
            Location::File(path) => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Location::Url(url) => url.rsplit('/').next().unwrap_or(url).to_owned(),
        }
    }
}

fn has_scheme(href: &str) -> bool {
    let Some((scheme, _)) = href.split_once(':') else {
        return false;
    };
    scheme.len() >= 2
        && scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// Removes `.` and resolves `..` lexically (without touching the file system).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let at_relative_top = matches!(
                    out.components().next_back(),
                    None | Some(Component::ParentDir)
                );
                if at_relative_top && !path.is_absolute() {
                    out.push("..");
                } else {
                    out.pop();
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn join_url(base: &str, href: &str) -> String {
    let (origin_end, path) = match base.find("://").map(|i| i + 3) {
        Some(start) => match base[start..].find('/') {
            Some(slash) => (start + slash, &base[start + slash..]),
            None => (base.len(), "/"),
        },
        None => (0, base),
    };
    let origin = &base[..origin_end];
    if href.starts_with('/') {
        return format!("{origin}{href}");
    }
    let mut segments: Vec<&str> = path.split('/').collect();
    segments.pop();
    for part in href.split('/') {
        match part {
            "." => {}
            ".." => {
                if segments.len() > 1 {
                    segments.pop();
                }
            }
            other => segments.push(other),
        }
    }
    format!("{origin}{}", segments.join("/"))
}

/// Turns a location into bytes. One implementation reads files; another (with the `remote`
/// feature of the CLI) also fetches from allowed hosts.
pub trait Loader: Sync {
    /// The bytes of the document at `location`, or why they cannot be had.
    fn load(&self, location: &Location) -> Result<Vec<u8>, String>;
}

/// Reads local files; refuses every remote location.
#[derive(Debug, Clone)]
pub struct FileLoader {
    /// The largest document accepted, in bytes.
    pub max_bytes: u64,
}

impl Default for FileLoader {
    fn default() -> Self {
        FileLoader {
            max_bytes: oscal_io::DEFAULT_MAX_BYTES,
        }
    }
}

impl Loader for FileLoader {
    fn load(&self, location: &Location) -> Result<Vec<u8>, String> {
        match location {
            Location::File(path) => oscal_io::read_file(path, self.max_bytes).map_err(|e| {
                let text = e.to_string();
                let prefix = format!("{}: ", path.display());
                text.strip_prefix(&prefix).unwrap_or(&text).to_owned()
            }),
            Location::Url(url) => Err(format!(
                "remote fetching is off for {url} (allow its host, or map the href to a local file)"
            )),
        }
    }
}

/// Redirects hrefs by prefix: an href that starts with `from` is read from `to` plus the rest
/// (for remote or repository-relative hrefs that should be read from local copies).
#[derive(Debug, Clone, Default)]
pub struct HrefMap {
    entries: Vec<(String, String)>,
}

impl HrefMap {
    /// An empty map.
    pub fn new() -> HrefMap {
        HrefMap::default()
    }

    /// Adds a `FROM=TO` entry; the longest matching prefix wins.
    pub fn insert(&mut self, from: impl Into<String>, to: impl Into<String>) {
        self.entries.push((from.into(), to.into()));
        self.entries
            .sort_by_key(|entry| std::cmp::Reverse(entry.0.len()));
    }

    /// Parses `FROM=TO`.
    pub fn parse_entry(&mut self, entry: &str) -> Result<(), String> {
        let (from, to) = entry
            .split_once('=')
            .ok_or_else(|| format!("{entry:?} is not FROM=TO"))?;
        if from.is_empty() {
            return Err(format!("{entry:?} has an empty FROM"));
        }
        self.insert(from, to);
        Ok(())
    }

    /// The local folders the map points into: a target ending in `/` is a folder, any other
    /// local target a file in one. Documents read from there are the operator's own.
    pub fn local_folders(&self) -> impl Iterator<Item = PathBuf> + '_ {
        self.entries.iter().filter_map(|(_, to)| {
            if has_scheme(to) && !to.starts_with("file://") {
                return None;
            }
            let path = Path::new(to.strip_prefix("file://").unwrap_or(to));
            let folder = if to.ends_with('/') {
                path
            } else {
                path.parent().unwrap_or(Path::new(""))
            };
            Some(if folder.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                folder.to_owned()
            })
        })
    }

    /// Where `href` is redirected to, if an entry matches. The target is a path (relative to
    /// the working directory) or a URL.
    pub fn apply(&self, href: &str) -> Option<Location> {
        let (from, to) = self
            .entries
            .iter()
            .find(|(from, _)| href.starts_with(from.as_str()))?;
        let mapped = format!("{to}{}", &href[from.len()..]);
        Location::File(PathBuf::new())
            .join(&mapped)
            .ok()
            .map(|location| match location {
                Location::File(path) if mapped.starts_with('/') => Location::File(path),
                other => other,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_join_like_urls() {
        let base = Location::File(PathBuf::from("profiles/city/baseline.json"));
        assert_eq!(
            base.join("../catalogs/c.json#x").unwrap(),
            Location::File(PathBuf::from("profiles/catalogs/c.json"))
        );
        let web = Location::Url("https://example.org/a/b/p.json".into());
        assert_eq!(
            web.join("../c.json").unwrap(),
            Location::Url("https://example.org/a/c.json".into())
        );
        assert_eq!(
            web.join("https://other.org/x.json").unwrap(),
            Location::Url("https://other.org/x.json".into())
        );
        assert!(base.join("ftp://x/y").is_err());
        let here = Location::File(PathBuf::from("profile.json"));
        assert_eq!(
            here.join("../../a/../b.json").unwrap(),
            Location::File(PathBuf::from("../../b.json"))
        );
    }

    #[test]
    fn the_longest_prefix_maps() {
        let mut map = HrefMap::new();
        map.parse_entry("../../nist.gov/=vendor/nist/").unwrap();
        map.parse_entry("../../nist.gov/SP800-53/=sp/").unwrap();
        assert_eq!(
            map.apply("../../nist.gov/SP800-53/rev5/c.json"),
            Some(Location::File(PathBuf::from("sp/rev5/c.json")))
        );
        assert_eq!(map.apply("other.json"), None);
        assert!(map.parse_entry("nonsense").is_err());
        map.parse_entry("https://example.org/=https://mirror.example.org/")
            .unwrap();
        map.parse_entry("cat.json=catalog.json").unwrap();
        let mut folders: Vec<PathBuf> = map.local_folders().collect();
        folders.sort();
        assert_eq!(
            folders,
            [
                PathBuf::from("."),
                PathBuf::from("sp/"),
                PathBuf::from("vendor/nist/")
            ],
            "folders of local targets; remote targets are none"
        );
    }
}
