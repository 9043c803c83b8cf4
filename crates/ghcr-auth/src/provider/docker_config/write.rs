//! Replacing a file that holds credentials: a fresh temporary file beside
//! it, created exclusively (so a planted symlink is never followed), owner
//! only on Unix, synced, then renamed over the original.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// How many names are tried before giving up (each is new, so a clash
/// means someone is planting files).
const ATTEMPTS: u32 = 16;

/// Writes `contents` to `path` atomically.
pub(super) fn replace(path: &Path, contents: &[u8]) -> io::Result<()> {
    let (temporary, mut file) = create_unique(path)?;
    let written = file
        .write_all(contents)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        drop(std::fs::remove_file(&temporary));
    }
    written?;
    // The rename is durable once the folder is synced; not every platform
    // can open a folder, and the file is in place either way.
    if let Some(parent) = path.parent()
        && let Ok(folder) = File::open(parent)
    {
        drop(folder.sync_all());
    }
    Ok(())
}

/// A new file `.<name>.tmp-<pid>-<n>` in `path`'s folder.
fn create_unique(path: &Path) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or_else(|| "config.json".into(), |n| n.to_string_lossy());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut last = io::Error::new(io::ErrorKind::AlreadyExists, "no free temporary name");
    for _ in 0..ATTEMPTS {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temporary =
            path.with_file_name(format!(".{name}.tmp-{}-{nanos:x}-{n}", std::process::id()));
        let mut options = OpenOptions::new();
        // `create_new` is O_CREAT | O_EXCL: it fails on any existing entry,
        // a symlink included, instead of following it.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&temporary) {
            Ok(file) => return Ok((temporary, file)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => last = error,
            Err(error) => return Err(error),
        }
    }
    Err(last)
}
