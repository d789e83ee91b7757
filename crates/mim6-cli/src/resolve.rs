//! `mim6 resolve PROFILE -o CATALOG`

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use oscal_model::{Document, Model};
use oscal_resolve::{HrefMap, Location, Options, RemoteLoader, Resolver};

use crate::{EXIT_ERROR, EXIT_INVALID, EXIT_OK};

/// Arguments of `mim6 resolve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The profile to resolve (JSON, XML or YAML; a path or an http(s) URL).
    #[arg(value_name = "PROFILE")]
    profile: String,
    /// Where to write the resolved catalog; `-` (the default) writes standard output.
    #[arg(short, long, value_name = "OUT", default_value = "-")]
    output: PathBuf,
    /// Output format; by default taken from the output file's extension.
    #[arg(long, value_enum, value_name = "FORMAT")]
    to: Option<crate::convert::FormatArg>,
    /// Read hrefs starting with FROM from TO instead (repeatable; the longest FROM wins).
    #[arg(long = "map", value_name = "FROM=TO")]
    maps: Vec<String>,
    /// Allow fetching imports from this host over https (repeatable; http only for loopback).
    #[arg(long = "allow-host", value_name = "HOST")]
    allow_hosts: Vec<String>,
    /// Never use the network: remote imports come from the cache or fail.
    #[arg(long)]
    offline: bool,
    /// Where fetched documents are cached.
    #[arg(long, value_name = "DIR", env = "MIM6_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// The folder local imports must lie in (default: the profile's folder). Imports that
    /// `--map` redirects are read wherever the map says.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Fail, instead of warning, when the profile names controls or parameters that the
    /// imported catalogs lack.
    #[arg(long)]
    strict: bool,
    /// The uuid of the resolved catalog (by default derived from the profile's uuid).
    #[arg(long, value_name = "UUID")]
    uuid: Option<String>,
    /// The last-modified of the resolved catalog (by default the profile's).
    #[arg(long, value_name = "DATE-TIME")]
    last_modified: Option<String>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<u8> {
    let format = crate::convert::output_format(args.to, &args.output)?;
    let mut href_map = HrefMap::new();
    for entry in &args.maps {
        if let Err(problem) = href_map.parse_entry(entry) {
            bail!("--map {problem}");
        }
    }
    let cache_dir = args.cache_dir.clone().unwrap_or_else(default_cache_dir);
    let loader = RemoteLoader::new(args.allow_hosts.clone(), args.offline, Some(cache_dir));
    let location = Location::File(PathBuf::new())
        .join(&args.profile)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.profile))?;
    let options = Options {
        href_map,
        strict: args.strict,
        uuid: args.uuid.clone(),
        last_modified: args.last_modified.clone(),
        import_root: args.root.clone().or_else(|| profile_folder(&location)),
        ..Options::default()
    };
    let resolver = Resolver::new(&loader, options);
    if let Location::File(path) = &location
        && !path.exists()
    {
        eprintln!("mim6: error: {}: no such file", path.display());
        return Ok(EXIT_ERROR);
    }
    let resolved = match resolver.resolve_location(&location) {
        Ok(resolved) => resolved,
        Err(err) => {
            eprintln!("mim6: error: {err}");
            return Ok(EXIT_INVALID);
        }
    };
    for warning in &resolved.warnings {
        eprintln!("mim6: warning: {warning}");
    }
    let document = Document::new(Model::Catalog(Box::new(resolved.catalog)));
    if args.output.as_os_str() == "-" {
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        oscal_io::write_document_to(&document, format, &mut stdout)
            .context("cannot write the catalog")?;
        stdout.flush()?;
    } else {
        oscal_io::write_atomic_with(&args.output, |out| {
            oscal_io::write_document_to(&document, format, out).map_err(std::io::Error::other)
        })
        .context("cannot write the catalog")?;
    }
    // The process ends here: freeing the catalog piece by piece would only cost time.
    std::mem::forget(document);
    Ok(EXIT_OK)
}

/// The folder of a local profile: where its imports may be read from unless told otherwise.
pub(crate) fn profile_folder(location: &Location) -> Option<PathBuf> {
    match location {
        Location::File(path) => Some(match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        }),
        Location::Url(_) => None,
    }
}

pub(crate) fn default_cache_dir() -> PathBuf {
    match std::env::var_os("XDG_CACHE_HOME").or_else(|| std::env::var_os("HOME")) {
        Some(base) if std::env::var_os("XDG_CACHE_HOME").is_some() => {
            PathBuf::from(base).join("mim6")
        }
        Some(home) => PathBuf::from(home).join(".cache").join("mim6"),
        None => std::env::temp_dir().join("mim6-cache"),
    }
}
