//! Files written so that a crash or a cancelled future leaves nothing
//! half-done: a temporary name beside the target that is removed when
//! dropped, the data synced before the rename and the folder after it,
//! and an exclusive lock file for read-merge-write updates.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

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
    pub(crate) async fn place(mut self, target: &Path) -> Result<()> {
        tokio::fs::rename(&self.path, target)
            .await
            .map_err(|err| Error::io(target, err))?;
        self.placed = true;
        let target = target.to_path_buf();
        tokio::task::spawn_blocking(move || sync_parent(&target))
            .await
            .map_err(|err| Error::io(Path::new("a layout folder"), std::io::Error::other(err)))?
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.placed {
            // Gone already, or never created: both are fine.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Syncs the folder holding `path` (on Unix; elsewhere a folder cannot be
/// opened for that and the rename is as durable as the system makes it).
pub(crate) fn sync_parent(path: &Path) -> Result<()> {
    #[cfg(unix)]
    if let Some(parent) = path.parent() {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(|err| Error::io(parent, err))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Writes `bytes` to `target` through a synced temporary file.
pub(crate) async fn write_atomically(target: &Path, bytes: Vec<u8>) -> Result<()> {
    let partial = Partial::beside(target);
    let path = partial.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut file = File::create_new(&path)?;
        file.write_all(&bytes)?;
        file.sync_all()
    })
    .await
    .map_err(std::io::Error::other)
    .and_then(|written| written)
    .map_err(|err| Error::io(partial.path(), err))?;
    partial.place(target).await
}

/// How long [`lock`] waits for another writer before giving up.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// An exclusive lock: the file `path`, created with `create_new` (atomic
/// on every file system) and removed when dropped. (`File::lock` would
/// need Rust 1.89; the workspace supports 1.88.)
#[derive(Debug)]
pub(crate) struct Lock {
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Takes the lock `path`, waiting while another task or process holds it,
/// up to a minute (a lock left by a crashed process names itself).
pub(crate) async fn lock(path: &Path) -> Result<Lock> {
    let started = tokio::time::Instant::now();
    loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(_) => {
                return Ok(Lock {
                    path: path.to_path_buf(),
                });
            }
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                if started.elapsed() >= LOCK_WAIT {
                    return Err(Error::layout(
                        path,
                        format!(
                            "another writer has held this lock for {} s; if no pull into this layout is running, delete the file",
                            LOCK_WAIT.as_secs()
                        ),
                    ));
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            Err(err) => return Err(Error::io(path, err)),
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
        write_atomically(&target, b"whole".to_vec()).await.unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"whole");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
