use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::{Error, Result};

/// The default cap on the size of one document: 128 MiB, far above the largest NIST
/// publication (the SP 800-53 catalog is 10 MB) and low enough that a hostile or broken file
/// cannot exhaust memory.
pub const DEFAULT_MAX_BYTES: u64 = 128 * 1024 * 1024;

/// Reads a whole file, refusing it unread when it is larger than `max_bytes`.
///
/// The size is checked before reading and again while reading, so a file that grows (or a
/// pipe, whose size is unknown) cannot slip past the limit.
pub fn read_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    read_file_into(path, max_bytes, &mut bytes)?;
    Ok(bytes)
}

/// Reads a whole file into `bytes` (cleared first, its allocation reused), with the checks of
/// [`read_file`]: for a reader that reads many files one after another.
pub fn read_file_into(path: &Path, max_bytes: u64, bytes: &mut Vec<u8>) -> Result<()> {
    bytes.clear();
    let file = File::open(path).map_err(|e| Error::io(path, "cannot open", e))?;
    let declared = file
        .metadata()
        .map_err(|e| Error::io(path, "cannot stat", e))?
        .len();
    if declared > max_bytes {
        return Err(Error::TooLarge {
            path: path.to_owned(),
            size: declared,
            limit: max_bytes,
        });
    }
    bytes.reserve(usize::try_from(declared).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(bytes)
        .map_err(|e| Error::io(path, "cannot read", e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(Error::TooLarge {
            path: path.to_owned(),
            size: bytes.len() as u64,
            limit: max_bytes,
        });
    }
    Ok(())
}
