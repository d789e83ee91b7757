//! Ingest of city fleets: finds the SSPs, assessment plans, assessment results and POA&Ms under
//! the input folders, reads them in parallel (JSON, XML or YAML) through narrow projections
//! that skip prose, links each result to its plan and system and each POA&M to its system,
//! attributes systems to cities and regions, and returns fact rows.
//!
//! A document that cannot be read, checked or linked is rejected with the reason and where in
//! it; the rest of the run goes on. Documents are read in batches and only their rows are kept,
//! so memory follows the facts, not the documents.
#![deny(missing_docs)]

mod facts;
mod link;
mod parse;
mod project;
mod reader;
mod risk;
mod time;
mod uuid;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use facts::{
    DocumentRow, FacetNaming, Facts, FindingRow, ImplementationRow, ObservationRow, PoamItemRow,
    RiskRow, SystemRow,
};
pub use parse::Rejection;
pub use uuid::Uuid;

/// What to ingest and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Folders (searched recursively), files, and glob patterns (`fleet/region-*/**/*.json`:
    /// `*` stays within a folder, `**` crosses folders).
    pub inputs: Vec<PathBuf>,
    /// How a path below its input folder names region and city when the documents' props do
    /// not: segments separated by `/`, `{region}` and `{city}` capture a segment, `*` matches
    /// one, `**` the rest. Default `{region}/{city}/**`.
    pub path_pattern: String,
    /// The largest document read, in bytes.
    pub max_bytes: u64,
    /// Documents read in parallel at a time.
    pub batch: usize,
    /// A folder where what linking needs of every system plan until the last result is read
    /// (the controls of its implementation uuids) is kept in an unnamed file, gone when ingest
    /// ends, instead of in memory.
    pub scratch: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            inputs: Vec::new(),
            path_pattern: "{region}/{city}/**".into(),
            max_bytes: oscal_io::DEFAULT_MAX_BYTES,
            batch: 512,
            scratch: None,
        }
    }
}

/// What a run ingested.
#[derive(Debug, Clone, Default)]
pub struct Ingested {
    /// The fact rows.
    pub facts: Facts,
    /// The documents left out, sorted by path.
    pub rejected: Vec<Rejection>,
    /// Things accepted with a doubt (an import found by its file stem), and input patterns
    /// that match no document.
    pub warnings: Vec<String>,
    /// Files considered.
    pub files: usize,
    /// Bytes read.
    pub bytes: u64,
}

/// Why nothing could be ingested.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input folder or file does not exist or cannot be listed.
    #[error("{}: {source}", path.display())]
    Input {
        /// The input.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The sink refused the fact rows.
    #[error("cannot keep the fact rows: {0}")]
    Sink(#[source] SinkError),
    /// What linking keeps of the system plans could not be written to, or read back from, the
    /// scratch folder.
    #[error("{}: cannot keep what linking needs of the system plans: {source}", path.display())]
    Scratch {
        /// The scratch folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A glob pattern is malformed.
    #[error("{pattern}: not a valid glob pattern: {reason}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// Why.
        reason: String,
    },
}

/// Whether an input is a glob pattern rather than a path.
pub fn is_glob(text: &str) -> bool {
    text.contains(['*', '?', '[', '{'])
}

const EXTENSIONS: [&str; 4] = ["json", "xml", "yaml", "yml"];

/// The documents under `inputs`, sorted, each with the input folder it was found under.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<(PathBuf, PathBuf)>, Error> {
    discover_noting_misses(inputs).map(|(found, _)| found)
}

/// Documents found, each with the input folder it was found under.
type Found = Vec<(PathBuf, PathBuf)>;

/// [`discover`], and the glob patterns among `inputs` that match no document.
fn discover_noting_misses(inputs: &[PathBuf]) -> Result<(Found, Vec<String>), Error> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, PathBuf)>) -> Result<(), Error> {
        let entries = std::fs::read_dir(dir).map_err(|source| Error::Input {
            path: dir.to_owned(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::Input {
                path: dir.to_owned(),
                source,
            })?;
            let path = entry.path();
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            // Symbolic links are not followed: a fleet folder cannot lead outside itself.
            let kind = entry.file_type().map_err(|source| Error::Input {
                path: path.clone(),
                source,
            })?;
            if kind.is_dir() {
                walk(root, &path, out)?;
            } else if kind.is_file()
                && path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            {
                out.push((link::normalise(&path), root.to_owned()));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    let mut misses = Vec::new();
    for input in inputs {
        let text = input.to_string_lossy();
        if is_glob(&text) {
            // Walk the folder before the first wildcard, keep what the whole pattern matches.
            let absolute = link::normalise(input);
            let pattern = absolute.to_string_lossy().into_owned();
            let base: PathBuf = absolute
                .components()
                .take_while(|c| !is_glob(&c.as_os_str().to_string_lossy()))
                .collect();
            let matcher = globset::GlobBuilder::new(&pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| Error::Pattern {
                    pattern: text.clone().into_owned(),
                    reason: e.kind().to_string(),
                })?
                .compile_matcher();
            std::fs::metadata(&base).map_err(|source| Error::Input {
                path: base.clone(),
                source,
            })?;
            let mut found = Vec::new();
            walk(&base, &base, &mut found)?;
            let before = out.len();
            out.extend(found.into_iter().filter(|(path, _)| matcher.is_match(path)));
            if out.len() == before {
                misses.push(text.into_owned());
            }
            continue;
        }
        let metadata = std::fs::metadata(input).map_err(|source| Error::Input {
            path: input.clone(),
            source,
        })?;
        let root = link::normalise(input);
        if metadata.is_dir() {
            walk(&root, &root, &mut out)?;
        } else {
            let parent = root.parent().map(Path::to_owned).unwrap_or_default();
            out.push((root, parent));
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    Ok((out, misses))
}

/// What an ingest found, besides the fact rows.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The documents left out, sorted by path.
    pub rejected: Vec<Rejection>,
    /// Things accepted with a doubt (an import found by its file stem), and input patterns
    /// that match no document.
    pub warnings: Vec<String>,
    /// Files considered.
    pub files: usize,
    /// Bytes read.
    pub bytes: u64,
}

/// Why the fact rows could not be taken by a sink.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// The first bytes of a file, where its root key is.
const HEAD: u64 = 4096;

/// What each file announces in its first bytes (its root key), if anything.
fn announce(path: &Path) -> Option<&'static str> {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(HEAD as usize);
    std::fs::File::open(path)
        .ok()?
        .take(HEAD)
        .read_to_end(&mut head)
        .ok()?;
    oscal_io::sniff_model(&head).map(|m| m.root_key())
}

/// What the files announce, read a chunk of files at a time while the next chunk's first
/// bytes are fetched from disk (see [`pipelined`]).
fn announce_all(
    files: &[(PathBuf, PathBuf)],
    chunk: usize,
) -> Result<Vec<Option<&'static str>>, Error> {
    let indices: Vec<usize> = (0..files.len()).collect();
    let chunks = indices.chunks(chunk.max(1)).map(|chunk| ((), chunk));
    let read = |chunk: &[usize]| -> Vec<Option<&'static str>> {
        chunk.par_iter().map(|&i| announce(&files[i].0)).collect()
    };
    let heads = |chunk: &[usize]| {
        prefetch(chunk.iter().map(|&i| files[i].0.as_path()), HEAD, u64::MAX);
    };
    let mut announced = Vec::with_capacity(files.len());
    pipelined(chunks, &read, &heads, |((), read)| {
        announced.extend(read);
        Ok(())
    })?;
    Ok(announced)
}

/// At most this much of the next batch's files is fetched ahead.
const FETCH_AHEAD: u64 = 256 << 20;

/// When this many files in a row, from the first, are in memory, so are taken to be the rest.
const IN_MEMORY: usize = 8;

/// Asks the system to start reading `paths` from disk, the first `each` bytes of each and
/// `budget` bytes in all, without waiting for it: the disk reads them while the processors
/// are busy with the files before, where reading one file at a time a thread waits for the
/// disk at each file and the disk for the thread. Only a hint; a file that cannot be opened is
/// left to the read that follows, which says what is wrong. Files already in memory are not
/// asked for, and when the first [`IN_MEMORY`] are, nor are the others: on a fleet that fits
/// in memory and was read before, opening every file once more and walking its pages would
/// only take the processors' time.
fn prefetch<'p>(paths: impl Iterator<Item = &'p Path>, each: u64, budget: u64) {
    #[cfg(target_os = "linux")]
    {
        let mut left = budget;
        let mut fetched = false;
        for (k, path) in paths.enumerate() {
            if k == IN_MEMORY && !fetched {
                return;
            }
            let Ok(file) = std::fs::File::open(path) else {
                continue;
            };
            let size = file.metadata().map_or(0, |m| m.len()).min(each);
            let Some(length) = std::num::NonZeroU64::new(size) else {
                continue;
            };
            if in_memory(&file, size - 1) {
                continue;
            }
            if size > left {
                break;
            }
            left -= size;
            fetched = true;
            let _ = rustix::fs::fadvise(&file, 0, Some(length), rustix::fs::Advice::WillNeed);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (paths, each, budget);
}

/// Whether the byte at `offset` of `file` is in the page cache: read without waiting for the
/// disk (`RWF_NOWAIT`). A file whose last byte is in memory is taken to be whole there, as a
/// file is read from its start: asking the system to fetch it would only walk its pages.
#[cfg(target_os = "linux")]
fn in_memory(file: &std::fs::File, offset: u64) -> bool {
    let mut byte = [0u8; 1];
    let mut buffers = [std::io::IoSliceMut::new(&mut byte)];
    rustix::io::preadv2(
        file,
        &mut buffers,
        offset,
        rustix::io::ReadWriteFlags::NOWAIT,
    )
    .is_ok_and(|read| read == 1)
}

/// Ingests the documents under `options.inputs`, handing the fact rows to `sink` in batches:
/// documents are read a batch at a time and only their rows leave the batch, so memory
/// follows what the sink keeps, not the documents.
///
/// System security plans and assessment plans are read first (they are what the others
/// link to; a file is classified by the root key in its first bytes), then results and
/// POA&Ms, each batch in path order: the same inputs give the same batches in the same order.
/// `progress` is called after each batch with the documents read so far, the documents found
/// and the bytes read so far.
pub fn ingest_into(
    options: &Options,
    sink: &mut dyn FnMut(Facts) -> Result<(), SinkError>,
    progress: &(dyn Fn(usize, usize, u64) + Sync),
) -> Result<Summary, Error> {
    let (files, misses) = discover_noting_misses(&options.inputs)?;
    let announced = link::Announced::new(&files, announce_all(&files, options.batch)?);
    let is_result = |i: &usize| {
        matches!(
            announced.of(*i),
            Some("assessment-results" | "plan-of-action-and-milestones")
        )
    };
    let (results, plans): (Vec<usize>, Vec<usize>) = (0..files.len()).partition(is_result);
    let mut linker =
        link::Linker::new(&options.path_pattern, announced, options.scratch.as_deref()).map_err(
            |source| Error::Scratch {
                path: options.scratch.clone().unwrap_or_default(),
                source,
            },
        )?;
    let mut summary = Summary {
        files: files.len(),
        ..Summary::default()
    };
    let mut done = 0;
    let prefetch_batch = |batch: &[usize]| {
        let paths = batch.iter().map(|&i| files[i].0.as_path());
        prefetch(paths, options.max_bytes, FETCH_AHEAD);
    };
    // Reads a batch in parallel: each document's outcome, in path order.
    let parse_batch = |batch: &[usize]| -> Vec<(usize, Result<parse::Read, Rejection>)> {
        batch
            .par_iter()
            .map(|&i| (i, parse::parse(&files[i].0, options.max_bytes)))
            .collect()
    };
    // The documents a batch read, in path order, with the rejected noted.
    let mut note = |parsed: Vec<(usize, Result<parse::Read, Rejection>)>,
                    summary: &mut Summary|
     -> Vec<link::Entry> {
        let mut entries = Vec::with_capacity(parsed.len());
        for (i, result) in parsed {
            done += 1;
            let (path, root) = &files[i];
            match result {
                Ok(doc) => {
                    summary.bytes += doc.bytes;
                    entries.push(link::Entry {
                        path: path.clone(),
                        root: root.clone(),
                        doc,
                    });
                }
                Err(rejection) => {
                    tracing::debug!(path = %path.display(), reason = %rejection.reason, "rejected");
                    summary.rejected.push(rejection);
                }
            }
        }
        progress(done, files.len(), summary.bytes);
        entries
    };
    let batch_size = options.batch.max(1);
    let mut facts = Facts::default();
    let mut assessment_plans = Vec::new();
    // Results and POA&Ms found among the plans; taken (`None`) once every plan is read, when
    // they are linked with the assessment plans, before the first result.
    let mut unannounced = Some(Vec::new());
    // One pipeline for both, so that the first results are read while the last plans are
    // linked.
    let batches = (plans.chunks(batch_size).map(|batch| (false, batch)))
        .chain(results.chunks(batch_size).map(|batch| (true, batch)));
    pipelined(
        batches,
        &parse_batch,
        &prefetch_batch,
        |(of_results, parsed)| {
            let entries = note(parsed, &mut summary);
            if of_results {
                link_plans(
                    &mut linker,
                    &assessment_plans,
                    &mut unannounced,
                    &mut facts,
                    sink,
                )?;
            }
            reserve(&mut facts, &entries);
            for entry in entries {
                match (of_results, &entry.doc.parsed) {
                    (false, parse::Parsed::Ssp { .. }) => linker.add_ssp(entry, &mut facts),
                    (false, parse::Parsed::Ap { .. }) => assessment_plans.push(entry),
                    // A result or POA&M whose first bytes did not say so: linked with the rest.
                    (false, _) => unannounced.get_or_insert_default().push(entry),
                    (true, parse::Parsed::Ar { .. } | parse::Parsed::Poam { .. }) => {
                        linker.add_result(entry, &mut facts);
                    }
                    // The first bytes announced a result or POA&M; the document is something else.
                    (true, other) => summary.rejected.push(Rejection {
                        location: String::new(),
                        reason: format!(
                            "announces {} in its first bytes but is read as a {}",
                            linker.announced(&entry.path).unwrap_or("nothing"),
                            other.model()
                        ),
                        path: entry.path,
                    }),
                }
            }
            kept(&mut linker)?;
            sink(std::mem::take(&mut facts)).map_err(Error::Sink)
        },
    )?;
    link_plans(
        &mut linker,
        &assessment_plans,
        &mut unannounced,
        &mut facts,
        sink,
    )?;
    summary.rejected.append(&mut linker.rejected);
    summary.rejected.sort();
    summary.warnings = misses
        .into_iter()
        .map(|pattern| format!("{pattern}: the input pattern matches no document"))
        .chain(linker.warnings)
        .collect();
    Ok(summary)
}

/// Links the assessment plans, then the results and POA&Ms found among the plans, once every
/// system security plan is linked; hands on their rows as a batch of their own. Does nothing
/// once `unannounced` is taken.
fn link_plans(
    linker: &mut link::Linker,
    assessment_plans: &[link::Entry],
    unannounced: &mut Option<Vec<link::Entry>>,
    facts: &mut Facts,
    sink: &mut dyn FnMut(Facts) -> Result<(), SinkError>,
) -> Result<(), Error> {
    let Some(unannounced) = unannounced.take() else {
        return Ok(());
    };
    for entry in assessment_plans {
        linker.add_ap(entry, facts);
    }
    for entry in unannounced {
        linker.add_result(entry, facts);
    }
    kept(linker)?;
    sink(std::mem::take(facts)).map_err(Error::Sink)
}

/// The linker's failure to keep or read back what it needs of the system plans, if any: the
/// rows it linked since cannot be trusted, so ingest stops.
fn kept(linker: &mut link::Linker) -> Result<(), Error> {
    match linker.failed.take() {
        Some((path, source)) => Err(Error::Scratch { path, source }),
        None => Ok(()),
    }
}

/// Makes room in `facts` for the rows of `entries` at once, rather than growing the lists
/// document by document (each growth a copy into fresh memory).
fn reserve(facts: &mut Facts, entries: &[link::Entry]) {
    let mut rows = [0usize; 5];
    for entry in entries {
        let counts = match &entry.doc.parsed {
            parse::Parsed::Ssp {
                implementations, ..
            } => [implementations.len(), 0, 0, 0, 0],
            parse::Parsed::Ap { .. } => [0; 5],
            parse::Parsed::Ar {
                findings,
                observations,
                risks,
                ..
            } => [0, findings.len(), observations.len(), risks.len(), 0],
            parse::Parsed::Poam { risks, items, .. } => [0, 0, 0, risks.len(), items.len()],
        };
        for (total, count) in rows.iter_mut().zip(counts) {
            *total += count;
        }
    }
    facts.implementations.reserve(rows[0]);
    facts.findings.reserve(rows[1]);
    facts.observations.reserve(rows[2]);
    facts.risks.reserve(rows[3]);
    facts.poam_items.reserve(rows[4]);
    facts.systems.reserve(entries.len());
    facts.documents.reserve(entries.len());
}

/// Batches being read while one is taken.
const READ_AHEAD: usize = 2;

/// Reads batch after batch with `read` (on the rayon pool) and hands each to `take` (on this
/// thread) in order, with the batch's tag, reading the next [`READ_AHEAD`] batches while one
/// is being taken: a thread done with its share of a batch goes on with the next, instead of
/// waiting for the last document of the batch and for `take`. `fetch` is told of each batch
/// when the one before it starts to be read (beside that read, not before it: the files may
/// well be in memory already, and the hint costs a few system calls per file).
fn pipelined<'b, K: Copy + Send, T: Send>(
    batches: impl Iterator<Item = (K, &'b [usize])>,
    read: &(dyn Fn(&[usize]) -> T + Sync),
    fetch: &dyn Fn(&[usize]),
    mut take: impl FnMut((K, T)) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut batches = batches.peekable();
    if let Some((_, first)) = batches.peek() {
        fetch(first);
    }
    rayon::in_place_scope(|scope| {
        // The batches being read, in order, each with the channel its outcome comes by.
        let mut reading = std::collections::VecDeque::with_capacity(READ_AHEAD);
        let mut read_ahead = |reading: &mut std::collections::VecDeque<_>| {
            while reading.len() < READ_AHEAD
                && let Some((tag, batch)) = batches.next()
            {
                let (done, outcome) = std::sync::mpsc::sync_channel(1);
                scope.spawn(move |_| {
                    // Once `take` failed, nothing receives it: it is let go.
                    let _ = done.send(read(batch));
                });
                if let Some((_, next)) = batches.peek() {
                    fetch(next);
                }
                reading.push_back((tag, outcome));
            }
        };
        read_ahead(&mut reading);
        while let Some((tag, outcome)) = reading.pop_front() {
            // A read that panicked sends nothing: the scope passes its panic on as it ends.
            let Ok(batch) = outcome.recv() else {
                return Ok(());
            };
            read_ahead(&mut reading);
            take((tag, batch))?;
        }
        Ok(())
    })
}

/// For the fuzzer: reads `text` as ingest reads a JSON document, with the fast reader and,
/// when that reads it, with serde_json; panics unless both give the same projection.
#[doc(hidden)]
pub fn check_projection_reader(text: &str) {
    reader::check(text);
}

/// Ingests the documents under `options.inputs` and keeps every fact row (see [`ingest_into`]
/// for a run that hands them on in batches).
pub fn ingest(
    options: &Options,
    progress: &(dyn Fn(usize, usize, u64) + Sync),
) -> Result<Ingested, Error> {
    let mut facts = Facts::default();
    let summary = ingest_into(
        options,
        &mut |batch| {
            facts.append(batch);
            Ok(())
        },
        progress,
    )?;
    Ok(Ingested {
        facts,
        rejected: summary.rejected,
        warnings: summary.warnings,
        files: summary.files,
        bytes: summary.bytes,
    })
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_just_written_is_in_memory_up_to_its_last_byte() {
        use std::io::Write as _;
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&[b'x'; 10_000]).unwrap();
        assert!(super::in_memory(&file, 0));
        assert!(super::in_memory(&file, 9_999));
        assert!(!super::in_memory(&file, 10_000), "past its end");
    }

    #[test]
    fn batches_read_ahead_are_taken_in_order_and_a_failed_take_stops_them() {
        use std::cell::RefCell;
        let items: Vec<usize> = (0..40).collect();
        let batches = || items.chunks(3).map(|batch| (batch[0] / 3, batch));
        // Each batch is read faster than the one before, so that those read ahead are done
        // first.
        let read = |batch: &[usize]| {
            let wait = 2 * (items.len() - batch[0]);
            std::thread::sleep(std::time::Duration::from_millis(wait as u64));
            batch.iter().sum::<usize>()
        };
        let fetched = RefCell::new(Vec::new());
        let fetch = |batch: &[usize]| fetched.borrow_mut().push(batch[0] / 3);
        let mut taken = Vec::new();
        super::pipelined(batches(), &read, &fetch, |(k, sum)| {
            taken.push((k, sum));
            Ok(())
        })
        .unwrap();
        let expected: Vec<(usize, usize)> = batches()
            .map(|(k, batch)| (k, batch.iter().sum()))
            .collect();
        assert_eq!(taken, expected);
        assert_eq!(*fetched.borrow(), (0..14).collect::<Vec<_>>());

        let mut takes = 0;
        let error = super::pipelined(batches(), &read, &|_| {}, |_| {
            takes += 1;
            match takes {
                3 => Err(super::Error::Sink("stopped".into())),
                _ => Ok(()),
            }
        })
        .unwrap_err();
        assert!(error.to_string().contains("stopped"), "{error}");
        assert_eq!(takes, 3, "nothing is taken after a failure");
    }
}
