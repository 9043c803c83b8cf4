//! Writeback while a download is still arriving: a thread asks the disk
//! to take what was written so far, so the `fsync` before the rename finds
//! little left to do instead of a whole blob in the page cache.
//!
//! Without it a 1 GiB pull spends its last half second in one `fsync`;
//! with it the disk works while the network does.

use std::fs::File;
use std::io;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

/// Bytes written between two nudges to the flushing thread.
const EVERY: u64 = 32 * 1024 * 1024;

/// Flushes a file in the background, started only once a file grows past
/// [`EVERY`] (small blobs pay nothing).
pub(crate) struct Writeback {
    file: File,
    unflushed: u64,
    thread: Option<(SyncSender<()>, JoinHandle<io::Result<()>>)>,
}

impl Writeback {
    /// For `file`, which the caller goes on writing.
    pub(crate) fn new(file: &File) -> io::Result<Self> {
        Ok(Self {
            file: file.try_clone()?,
            unflushed: 0,
            thread: None,
        })
    }

    /// Counts `bytes` more written; past [`EVERY`], nudges the thread (a
    /// nudge while it is flushing is folded into its next round).
    pub(crate) fn wrote(&mut self, bytes: usize) -> io::Result<()> {
        self.unflushed += bytes as u64;
        if self.unflushed < EVERY {
            return Ok(());
        }
        self.unflushed = 0;
        if self.thread.is_none() {
            let (nudge, nudged) = sync_channel::<()>(1);
            let file = self.file.try_clone()?;
            let thread = std::thread::Builder::new()
                .name("ghcr-writeback".into())
                .spawn(move || {
                    while nudged.recv().is_ok() {
                        file.sync_data()?;
                    }
                    Ok(())
                })?;
            self.thread = Some((nudge, thread));
        }
        // A full channel: the thread is flushing and takes this round
        // next; a closed one: it ended early, and `finish` says why.
        if let Some((nudge, _)) = &self.thread {
            let _: Result<(), TrySendError<()>> = nudge.try_send(());
        }
        Ok(())
    }

    /// Waits for the thread, then makes everything durable.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        if let Some((nudge, thread)) = self.thread.take() {
            drop(nudge);
            thread
                .join()
                .map_err(|_| io::Error::other("the writeback thread panicked"))??;
        }
        self.file.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn a_file_past_the_threshold_is_flushed_in_the_background_and_kept_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        let mut file = File::create(&path).unwrap();
        let mut writeback = Writeback::new(&file).unwrap();
        let piece: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        for _ in 0..40 {
            file.write_all(&piece).unwrap();
            writeback.wrote(piece.len()).unwrap();
        }
        assert!(writeback.thread.is_some(), "40 MiB starts the thread");
        writeback.finish().unwrap();
        let written = std::fs::read(&path).unwrap();
        assert_eq!(written.len(), 40 * piece.len());
        assert!(written.chunks(piece.len()).all(|chunk| chunk == piece));
    }

    #[test]
    fn a_small_file_starts_no_thread() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = File::create(dir.path().join("blob")).unwrap();
        let mut writeback = Writeback::new(&file).unwrap();
        file.write_all(b"small").unwrap();
        writeback.wrote(5).unwrap();
        assert!(writeback.thread.is_none());
        writeback.finish().unwrap();
    }
}
