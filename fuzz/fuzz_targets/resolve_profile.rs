//! Profile resolution: any bytes as a profile, resolved against NIST's small example catalog
//! (in memory; any other href is refused by the loader).
#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use oscal_resolve::{Loader, Location, Options, Resolver};

const CATALOG: &[u8] =
    include_bytes!("../../tests/fixtures/nist/examples/catalog/json/basic-catalog.json");

struct Memory<'a> {
    profile: &'a [u8],
}

impl Loader for Memory<'_> {
    fn load(&self, location: &Location) -> Result<Vec<u8>, String> {
        match location {
            Location::File(path) if path.ends_with("catalog.json") => Ok(CATALOG.to_vec()),
            Location::File(path) if path.ends_with("profile.json") => Ok(self.profile.to_vec()),
            other => Err(format!("{other}: not available")),
        }
    }
}

fuzz_target!(|bytes: &[u8]| {
    let loader = Memory { profile: bytes };
    let resolver = Resolver::new(&loader, Options::default());
    let _ = resolver.resolve_location(&Location::File(PathBuf::from("/fuzz/profile.json")));
    let _ = Path::new("");
});
