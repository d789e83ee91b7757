use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Writes `bytes` to `path` so that readers see either the old file or the whole new one.
///
/// The bytes go to a temporary file in the same folder, which is flushed to disk and then
/// renamed over `path`. An interrupted write leaves the previous file untouched (and at worst a
/// stray temporary file beside it).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |out| out.write_all(bytes))
}

/// Like [`write_atomic`], with the content written by `write` as it is made instead of held
/// whole in memory first. The writer is the file itself, unbuffered: write large pieces, or
/// buffer.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".mim6-").suffix(".tmp");
    // Temporary files are private (0600); an output is an ordinary file once in place.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut file = builder
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, "cannot create a temporary file in", e))?;
    // A failure names the file being written: its temporary file is removed as it is let go.
    write(file.as_file_mut()).map_err(|e| Error::io(path, "cannot write", e))?;
    file.as_file()
        .sync_all()
        .map_err(|e| Error::io(path, "cannot sync", e))?;
    file.persist(path)
        .map_err(|e| Error::io(path, "cannot rename into place", e.error))?;
    Ok(())
}

/// `value` made safe as one file or folder name: ASCII letters, digits, `-`, `_` and `.` are
/// kept, anything else (`/` and `\\` included) becomes `_`.
pub fn safe_file_name(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A folder filled beside its final place and then swapped in, so that readers see either the
/// old folder or the whole new one, never a half-written mix.
///
/// `TARGET.staging` is filled; [`StagedDir::commit`] renames `TARGET` to `TARGET.old`,
/// `TARGET.staging` to `TARGET`, and removes `TARGET.old`. Leftovers of an interrupted swap are
/// cleared when the next one starts.
#[derive(Debug)]
pub struct StagedDir {
    target: PathBuf,
    staging: PathBuf,
    old: PathBuf,
    /// The thread that syncs the files [`StagedDir::put`] wrote, started by the first.
    syncing: std::sync::OnceLock<Syncing>,
}

/// Files waiting to be synced to disk at most, each an open descriptor.
const SYNC_QUEUE: usize = 64;

/// A thread that syncs files to disk one after the other, as they are handed to it; it keeps
/// the first failure and, after it, only closes the files.
#[derive(Debug)]
struct Syncing {
    files: std::sync::mpsc::SyncSender<(PathBuf, std::fs::File)>,
    thread: std::thread::JoinHandle<Result<()>>,
}

impl Syncing {
    fn start() -> Syncing {
        let (files, queue) = std::sync::mpsc::sync_channel::<(PathBuf, std::fs::File)>(SYNC_QUEUE);
        let thread = std::thread::spawn(move || {
            let mut outcome = Ok(());
            for (path, file) in queue {
                if outcome.is_ok() {
                    outcome = file
                        .sync_all()
                        .map_err(|e| Error::io(&path, "cannot sync", e));
                }
            }
            outcome
        });
        Syncing { files, thread }
    }

    /// Waits until every file handed over is synced; the first failure.
    fn finish(self) -> Result<()> {
        drop(self.files);
        self.thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

impl StagedDir {
    /// Starts filling a new version of the folder `target`.
    pub fn new(target: &Path) -> Result<StagedDir> {
        let sibling = |suffix: &str| {
            let mut name = target.file_name().unwrap_or_default().to_os_string();
            name.push(suffix);
            target.with_file_name(name)
        };
        let staged = StagedDir {
            target: target.to_owned(),
            staging: sibling(".staging"),
            old: sibling(".old"),
            syncing: std::sync::OnceLock::new(),
        };
        for leftover in [&staged.staging, &staged.old] {
            if leftover.exists() {
                std::fs::remove_dir_all(leftover)
                    .map_err(|e| Error::io(leftover, "cannot remove the leftover", e))?;
            }
        }
        std::fs::create_dir_all(&staged.staging)
            .map_err(|e| Error::io(&staged.staging, "cannot create", e))?;
        Ok(staged)
    }

    /// The folder to fill.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Writes `bytes` to the file `name` of the folder being filled. The file is synced to disk
    /// on a thread of the folder's own, beside whatever the caller does next (a sync mostly
    /// waits for the disk); [`StagedDir::commit`] waits for every sync. Files are written side
    /// by side from any number of threads.
    pub fn put(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.staging.join(name);
        let mut file =
            std::fs::File::create(&path).map_err(|e| Error::io(&path, "cannot create", e))?;
        file.write_all(bytes)
            .map_err(|e| Error::io(&path, "cannot write", e))?;
        let syncing = self.syncing.get_or_init(Syncing::start);
        // The thread ends only when the folder is committed or dropped.
        syncing.files.send((path, file)).map_err(|_| {
            Error::io(
                &self.staging,
                "cannot sync",
                std::io::Error::other("its thread stopped"),
            )
        })
    }

    /// Swaps the filled folder in, once every file [`StagedDir::put`] wrote is synced to disk;
    /// returns the target.
    pub fn commit(mut self) -> Result<PathBuf> {
        if let Some(syncing) = self.syncing.take() {
            syncing.finish()?;
        }
        if self.target.exists() {
            std::fs::rename(&self.target, &self.old)
                .map_err(|e| Error::io(&self.target, "cannot move aside", e))?;
        }
        std::fs::rename(&self.staging, &self.target)
            .map_err(|e| Error::io(&self.staging, "cannot rename into place", e))?;
        if self.old.exists() {
            std::fs::remove_dir_all(&self.old)
                .map_err(|e| Error::io(&self.old, "cannot remove", e))?;
        }
        Ok(std::mem::take(&mut self.target))
    }
}

impl Drop for StagedDir {
    /// A folder let go without being committed (a run that failed) is removed, so that what
    /// it held does not stay on disk, where a failure for want of space would leave it full.
    fn drop(&mut self) {
        if let Some(syncing) = self.syncing.take() {
            let _ = syncing.finish();
        }
        // Gone already once committed.
        let _ = std::fs::remove_dir_all(&self.staging);
    }
}

/// An exclusive hold on an output folder for as long as it lives: a second process that asks
/// for the same folder is refused at once, not made to wait. The operating system drops the
/// hold when the process ends, however it ends, so a killed run never leaves the folder locked.
#[derive(Debug)]
pub struct FolderLock {
    _file: std::fs::File,
}

impl FolderLock {
    /// The lock file's name inside the folder.
    pub const FILE: &'static str = ".mim6.lock";

    /// Takes the lock of `folder` (created if missing), or says who holds it.
    pub fn acquire(folder: &Path) -> Result<FolderLock> {
        std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, "cannot create", e))?;
        let path = folder.join(Self::FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, "cannot open the lock file", e))?;
        match file.try_lock() {
            Ok(()) => Ok(FolderLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::io(
                &path,
                "another mim6 process is writing to this folder; wait for it or choose another",
                std::io::Error::from(std::io::ErrorKind::WouldBlock),
            )),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path, "cannot lock", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in the folder `dir`.
    fn names(dir: &Path) -> Vec<std::ffi::OsString> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect()
    }

    #[test]
    fn replaces_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.json");
        write_atomic(&target, b"first").unwrap();
        write_atomic(&target, b"second").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
            assert_eq!(
                mode & 0o044,
                0o044,
                "readable by others, like any output: {mode:o}"
            );
        }
        assert_eq!(
            names(dir.path()),
            vec![std::ffi::OsString::from("out.json")]
        );
    }

    #[test]
    fn a_write_that_fails_names_the_file_and_leaves_the_old_one_alone() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.json");
        std::fs::write(&target, "old").unwrap();
        let err = write_atomic_with(&target, |out| {
            out.write_all(b"half")?;
            Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "no space left",
            ))
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{}: cannot write: no space left", target.display())
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(
            names(dir.path()),
            vec![std::ffi::OsString::from("out.json")]
        );
    }

    #[test]
    fn staged_folders_replace_the_whole_folder() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(target.join("gone.html"), "old").unwrap();
        let staged = StagedDir::new(&target).unwrap();
        std::fs::write(staged.path().join("new.html"), "new").unwrap();
        assert!(
            target.join("gone.html").exists(),
            "untouched until committed"
        );
        assert_eq!(staged.commit().unwrap(), target);
        assert_eq!(names(dir.path()), vec![std::ffi::OsString::from("report")]);
        assert!(!target.join("gone.html").exists());
        assert_eq!(std::fs::read(target.join("new.html")).unwrap(), b"new");
    }

    #[test]
    fn files_put_from_many_threads_are_all_there_once_committed() {
        use rayon::prelude::*;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("oscal");
        let staged = StagedDir::new(&target).unwrap();
        // More files than the sync queue holds, so that puts wait for the syncing thread.
        let count = 3 * SYNC_QUEUE;
        (0..count)
            .into_par_iter()
            .try_for_each(|i| staged.put(&format!("{i}.json"), i.to_string().as_bytes()))
            .unwrap();
        assert!(!target.exists(), "nothing in place until committed");
        staged.commit().unwrap();
        let mut names = std::fs::read_dir(&target).unwrap().count();
        for i in 0..count {
            let text = std::fs::read_to_string(target.join(format!("{i}.json"))).unwrap();
            assert_eq!(text, i.to_string());
            names -= 1;
        }
        assert_eq!(names, 0, "no other file");
    }

    #[test]
    fn a_file_that_cannot_be_put_is_named_and_the_target_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(target.join("index.html"), "old").unwrap();
        let staged = StagedDir::new(&target).unwrap();
        staged.put("index.html", b"new").unwrap();
        let err = staged.put("no-such-folder/city.html", b"new").unwrap_err();
        assert!(
            err.to_string().contains("no-such-folder/city.html"),
            "{err}"
        );
        // A run that fails drops its staged folder: the old one stays whole, and nothing of
        // the new one is left.
        drop(staged);
        assert_eq!(std::fs::read(target.join("index.html")).unwrap(), b"old");
        assert_eq!(names(dir.path()), vec![std::ffi::OsString::from("report")]);
    }

    #[test]
    fn a_folder_is_held_by_one_lock_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let first = FolderLock::acquire(dir.path()).unwrap();
        let refused = FolderLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(refused.contains("another mim6 process"), "{refused}");
        drop(first);
        FolderLock::acquire(dir.path()).unwrap();
    }
}
