//! Files written so that a crash or a cancelled future leaves nothing
//! half-done: a temporary name beside the target that is removed when
//! dropped, the data synced before the rename and the folder after it,
//! and an exclusive lock file for read-merge-write updates.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use ghcr_types::{Algorithm, Digest, DigestHasher};

use crate::error::{Error, Result};

/// Copies `reader` into `writer` in 1 MiB pieces, hashing each piece with
/// `algorithm` on the way (blocking); the digest and the bytes copied.
/// With `std::io::sink()` it hashes a reader.
pub(crate) fn copy_hashed(
    reader: &mut impl Read,
    writer: &mut impl Write,
    algorithm: Algorithm,
) -> std::io::Result<(Digest, u64)> {
    let mut hasher = DigestHasher::new(algorithm);
    let mut buffer = vec![0u8; 1024 * 1024];
    let mut total = 0u64;
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            return Ok((hasher.finish(), total));
        }
        let piece = buffer.get(..read).unwrap_or_default();
        hasher.update(piece);
        writer.write_all(piece)?;
        total += read as u64;
    }
}

/// A `.<name>.partial-<random>` file beside a target, removed when dropped
/// unless it was renamed into place: a pull whose future is dropped
/// mid-transfer leaves no partial file.
#[derive(Debug)]
pub(crate) struct Partial {
    path: PathBuf,
    placed: bool,
}

impl Partial {
    /// A fresh temporary name for `target` (nothing is created yet).
    pub(crate) fn beside(target: &Path) -> Self {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = target.with_file_name(format!(".{name}.partial-{:08x}", fastrand::u32(..)));
        Self {
            path,
            placed: false,
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the (synced) file to `target`, then syncs the folder so the
    /// rename itself survives a crash.
    pub(crate) async fn place(self, target: &Path) -> Result<()> {
        self.place_unsynced(target).await?;
        sync_folder_of(target).await
    }

    /// Renames the (synced) file to `target` without syncing the folder:
    /// after a crash the file is either whole at `target` or not there.
    /// The caller syncs the folder (once for many files) before anything
    /// that names the file is written.
    pub(crate) async fn place_unsynced(self, target: &Path) -> Result<()> {
        let target = target.to_path_buf();
        tokio::task::spawn_blocking(move || self.place_blocking(&target))
            .await
            .map_err(|err| Error::io(Path::new("a layout file"), std::io::Error::other(err)))?
    }

    /// [`Partial::place_unsynced`] for a blocking thread.
    pub(crate) fn place_blocking(mut self, target: &Path) -> Result<()> {
        std::fs::rename(&self.path, target).map_err(|err| Error::io(target, err))?;
        self.placed = true;
        Ok(())
    }
}

/// [`sync_parent`] on a blocking thread.
pub(crate) async fn sync_folder_of(path: &Path) -> Result<()> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || sync_parent(&path))
        .await
        .map_err(|err| Error::io(Path::new("a layout folder"), std::io::Error::other(err)))?
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.placed {
            // Gone already, or never created: both are fine.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Syncs the folder holding `path` (see [`sync_folder`]).
pub(crate) fn sync_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(parent) if parent.as_os_str().is_empty() => sync_folder(Path::new(".")),
        Some(parent) => sync_folder(parent),
        None => Ok(()),
    }
}

/// Syncs the folder `dir` itself, so the names in it survive a crash
/// (blocking; on Unix: elsewhere a folder cannot be opened for that and a
/// rename is as durable as the system makes it).
pub(crate) fn sync_folder(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|err| Error::io(dir, err))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes `bytes` to `target` through a synced temporary file, leaving
/// the folder for the caller to sync before anything names the file (see
/// [`Partial::place_unsynced`]). One blocking thread owns the temporary
/// file from creation to rename, so a dropped future leaves the whole file
/// at `target` or nothing, never a stray temporary.
pub(crate) async fn write_unsynced(target: &Path, bytes: Vec<u8>) -> Result<()> {
    let target = target.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let partial = Partial::beside(&target);
        File::create_new(partial.path())
            .and_then(|mut file| {
                file.write_all(&bytes)?;
                file.sync_all()
            })
            .map_err(|err| Error::io(partial.path(), err))?;
        partial.place_blocking(&target)
    })
    .await
    .map_err(|err| Error::io(Path::new("a layout file"), std::io::Error::other(err)))?
}

/// How long [`lock`] waits for another writer before giving up.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// An exclusive lock: an OS lock (`File::try_lock`, `flock` on Unix) on
/// the file or folder `path`, which the system drops when its holder dies,
/// so a pull killed with `kill -9` never blocks the next one. A lock file
/// is removed while still locked when the lock is dropped, and a taker
/// checks that the file it locked is still the one at `path`; a folder
/// (Unix can lock one) is left as it is.
#[derive(Debug)]
pub(crate) struct Lock {
    /// The lock file to remove, none for a folder.
    remove: Option<PathBuf>,
    _file: std::fs::File,
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Some(path) = &self.remove {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Whether the open `file` is still the one at `path` (not removed and
/// replaced by its holder while this taker waited).
#[cfg(unix)]
fn still_at(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(held), Ok(named)) => held.dev() == named.dev() && held.ino() == named.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_at(_file: &std::fs::File, path: &Path) -> bool {
    path.exists()
}

/// Opens what [`lock`] locks: an existing folder (on Unix), else the lock
/// file, created when missing; whether it is a lock file.
fn open_lockable(path: &Path) -> std::io::Result<(std::fs::File, bool)> {
    if cfg!(unix) && path.is_dir() {
        return Ok((std::fs::File::open(path)?, false));
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    Ok((file, true))
}

/// Takes the lock `path` (a lock file, or a folder on Unix), waiting while
/// another task or process holds it, up to a minute.
pub(crate) async fn lock(path: &Path) -> Result<Lock> {
    let started = tokio::time::Instant::now();
    loop {
        let (file, is_file) = open_lockable(path).map_err(|err| Error::io(path, err))?;
        match file.try_lock() {
            Ok(()) if !is_file || still_at(&file, path) => {
                return Ok(Lock {
                    remove: is_file.then(|| path.to_path_buf()),
                    _file: file,
                });
            }
            Ok(()) | Err(std::fs::TryLockError::WouldBlock) => {
                if started.elapsed() >= LOCK_WAIT {
                    return Err(Error::layout(
                        path,
                        format!(
                            "another writer has held this lock for {} s; wait for the other pull into this layout to finish",
                            LOCK_WAIT.as_secs()
                        ),
                    ));
                }
                drop(file);
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            Err(std::fs::TryLockError::Error(err)) => return Err(Error::io(path, err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_hidden_siblings() {
        let partial = Partial::beside(Path::new("/x/blobs/sha256/abc"));
        assert_eq!(partial.path().parent(), Some(Path::new("/x/blobs/sha256")));
        let file = partial
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(file.starts_with(".abc.partial-"), "{file}");
    }

    #[tokio::test]
    async fn a_partial_file_goes_away_unless_placed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("blob");
        let dropped = Partial::beside(&target);
        std::fs::write(dropped.path(), b"half").unwrap();
        let path = dropped.path().to_path_buf();
        drop(dropped);
        assert!(!path.exists());
        write_unsynced(&target, b"whole".to_vec()).await.unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"whole");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A lock file left by a holder that died (`kill -9` mid-pull) holds no
    /// OS lock, so the next taker gets it at once; a live holder still
    /// excludes, and the file is gone once released.
    #[tokio::test(start_paused = true)]
    async fn a_lock_left_by_a_dead_holder_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".index.json.lock");
        std::fs::write(&path, b"").unwrap();
        let held = lock(&path).await.unwrap();
        let waiting = tokio::spawn({
            let path = path.clone();
            async move { lock(&path).await.map(drop) }
        });
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        assert!(!waiting.is_finished(), "a live holder excludes");
        drop(held);
        waiting.await.unwrap().unwrap();
        assert!(!path.exists());
    }

    /// A write whose future is dropped at once (as `try_join!` drops a
    /// pull's manifest write when a blob fails) still leaves no temporary:
    /// the whole file is at its name, or nothing is.
    #[test]
    fn a_dropped_write_leaves_the_whole_file_or_nothing() {
        use futures_util::FutureExt as _;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("blob");
        let bytes = vec![7u8; 4 << 20];
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let dropped = write_unsynced(&target, bytes.clone()).now_or_never();
            assert!(
                dropped.is_none(),
                "a 4 MiB synced write is not done at once"
            );
        });
        // Waits for the blocking write the dropped future started.
        drop(runtime);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| n == "blob"), "{names:?}");
        if !names.is_empty() {
            assert_eq!(std::fs::read(&target).unwrap(), bytes);
        }
    }

    /// A folder is locked in place (Unix): a second taker waits for the
    /// holder, and nothing is created in the folder or removed.
    #[cfg(unix)]
    #[tokio::test(start_paused = true)]
    async fn a_locked_folder_excludes_and_is_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock(dir.path()).await.unwrap();
        let waiting = tokio::spawn({
            let path = dir.path().to_path_buf();
            async move { lock(&path).await.map(drop) }
        });
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        assert!(!waiting.is_finished(), "the holder excludes");
        drop(held);
        waiting.await.unwrap().unwrap();
        assert!(dir.path().is_dir());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
