use std::path::PathBuf;

/// A `Result` whose error is [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Why a document could not be read or written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened, read or written.
    #[error("{}: {action}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done (`read`, `write`, `rename`).
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than the configured limit; it was not read.
    #[error("{}: file is {size} bytes, over the limit of {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes (at least `limit + 1` when read from a stream).
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file is empty or holds only whitespace.
    #[error("{}: empty document", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The bytes are not valid UTF-8.
    #[error("{}: invalid UTF-8 at byte offset {offset}", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The text is in an encoding OSCAL files may not use.
    #[error("{}: the document is {encoding}; OSCAL documents must be UTF-8", path.display())]
    UnsupportedEncoding {
        /// The file.
        path: PathBuf,
        /// The encoding found from the byte order mark.
        encoding: &'static str,
    },
    /// The JSON text is malformed, or a value does not fit the OSCAL model.
    #[error("{}:{line}:{column}: {pointer}{message}", path.display(),
            pointer = if pointer.is_empty() { String::new() } else { format!("at {pointer}: ") })]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem (0 when unknown).
        line: usize,
        /// 1-based column of the problem (0 when unknown).
        column: usize,
        /// JSON pointer to the value that does not fit the model, when known.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// The XML text is malformed, hostile, or does not fit the OSCAL model.
    #[error("{}:{line}:{column}: {location}{message}", path.display(),
            location = if location.is_empty() { String::new() } else { format!("at {location}: ") })]
    Xml {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// XPath-like location (`/catalog/group[3]/control[2]/@id`), when known.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// The YAML text is malformed or exceeds the reading budget (aliases, depth, size).
    #[error("{}:{line}:{column}: {message}", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem (0 when unknown).
        line: usize,
        /// 1-based column of the problem (0 when unknown).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A property of the JSON form has no place in the OSCAL model (so no XML or YAML form).
    #[error("at {pointer}: {message}")]
    Unmapped {
        /// JSON pointer of the property.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// The bytes are well formed but are not an OSCAL document.
    #[error("{}: not an OSCAL document: {reason}", path.display())]
    NotOscal {
        /// The file.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// The format of the bytes could not be recognised.
    #[error("{}: unrecognised format: {reason}", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
}

impl Error {
    /// True when the input itself is at fault (bad content), false for I/O failures.
    pub fn is_input_problem(&self) -> bool {
        !matches!(self, Error::Io { .. })
    }

    pub(crate) fn io(
        path: impl Into<PathBuf>,
        action: &'static str,
        source: std::io::Error,
    ) -> Error {
        Error::Io {
            path: path.into(),
            action,
            source,
        }
    }
}

/// `message` with every quoted value cut to a few dozen characters: a reader's message quotes
/// what it found, and what it found may be a whole file that a hostile href pointed at.
pub(crate) fn quote_briefly(message: &str) -> String {
    const KEEP: usize = 40;
    let mut out = String::with_capacity(message.len().min(512));
    let mut rest = message;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('"') else {
            rest = after;
            break;
        };
        let quoted = &after[..close];
        if quoted.chars().count() > KEEP {
            out.extend(quoted.chars().take(KEEP));
            out.push('…');
        } else {
            out.push_str(quoted);
        }
        out.push('"');
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_cut_short() {
        let long = "x".repeat(1000);
        let message = format!("invalid type: string \"{long}\", expected an OSCAL document");
        let brief = quote_briefly(&message);
        assert_eq!(
            brief,
            format!(
                "invalid type: string \"{}…\", expected an OSCAL document",
                "x".repeat(40)
            )
        );
        assert_eq!(
            quote_briefly("unknown field `a`, expected \"b\""),
            "unknown field `a`, expected \"b\""
        );
    }
}
