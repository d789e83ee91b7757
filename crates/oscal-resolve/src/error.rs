/// A `Result` whose error is [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Why a profile could not be resolved. Each error names the profile (or document) and, where
/// there is one, the JSON pointer of the directive at fault and the id it names.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A document could not be read or parsed.
    #[error(transparent)]
    Read(#[from] oscal_io::Error),
    /// An href could not be loaded.
    #[error("{profile}: at {pointer}: cannot load {href:?}: {reason}")]
    Load {
        /// The importing profile.
        profile: String,
        /// JSON pointer of the href in the profile.
        pointer: String,
        /// The href as written.
        href: String,
        /// Why it could not be loaded.
        reason: String,
    },
    /// Imports form a cycle.
    #[error("{profile}: import cycle: {}", chain.join(" -> "))]
    Cycle {
        /// The profile where the cycle closes.
        profile: String,
        /// Every document in the cycle, ending with the first one again.
        chain: Vec<String>,
    },
    /// Profiles import profiles deeper than [`crate::MAX_IMPORT_DEPTH`].
    #[error(
        "{profile}: imports nest deeper than {limit} profiles (a chain this long is refused rather than followed)"
    )]
    TooDeep {
        /// The profile whose import would go deeper.
        profile: String,
        /// The limit.
        limit: usize,
    },
    /// An imported document is neither a catalog nor a profile.
    #[error("{profile}: at {pointer}: {href:?} is a {model}, not a catalog or profile")]
    NotImportable {
        /// The importing profile.
        profile: String,
        /// JSON pointer of the import.
        pointer: String,
        /// The href.
        href: String,
        /// What the document is.
        model: oscal_model::ModelKind,
    },
    /// A directive of the profile cannot be applied (strict mode turns warnings into these).
    #[error("{profile}: at {pointer}: {message}")]
    Directive {
        /// The profile.
        profile: String,
        /// JSON pointer of the directive.
        pointer: String,
        /// What is wrong, naming the id concerned.
        message: String,
    },
}
