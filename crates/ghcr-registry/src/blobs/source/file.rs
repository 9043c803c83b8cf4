//! A file read on the blocking pool straight into the buffer that goes on
//! the wire: one copy (kernel to buffer), no intermediate buffer, and the
//! buffer allocated on the caller's thread.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use bytes::Bytes;

use crate::error::{Error, Result};

/// An open file (or a stretch of one: a member of an uncompressed tar),
/// lent to the blocking pool for each read.
pub(super) struct FileInput {
    path: PathBuf,
    file: Option<std::fs::File>,
    /// Where the stretch starts in the file.
    start: u64,
    /// Its length; `None` runs to the end of the file.
    len: Option<u64>,
    /// The next byte to read, from `start`.
    at: u64,
}

impl FileInput {
    pub(super) async fn open(path: PathBuf, start: u64, len: Option<u64>) -> Result<Self> {
        let opened = tokio::task::spawn_blocking({
            let path = path.clone();
            move || {
                let mut file = std::fs::File::open(path)?;
                file.seek(SeekFrom::Start(start))?;
                Ok::<_, std::io::Error>(file)
            }
        })
        .await
        .map_err(|err| Error::io(&path, std::io::Error::other(err)))?
        .map_err(|err| Error::io(&path, err))?;
        Ok(Self {
            path,
            file: Some(opened),
            start,
            len,
            at: 0,
        })
    }

    /// Up to `max` bytes (fewer only at the end of the stretch); `None` at the end.
    pub(super) async fn read(&mut self, max: usize) -> Result<Option<Bytes>> {
        let max = self.clamp(max);
        let buffer = Vec::with_capacity(max);
        let bytes = self
            .with_file(move |file| {
                let mut buffer = buffer;
                file.take(max as u64).read_to_end(&mut buffer)?;
                Ok(buffer)
            })
            .await?;
        self.at += bytes.len() as u64;
        Ok((!bytes.is_empty()).then(|| Bytes::from(bytes)))
    }

    /// Exactly `len` bytes.
    pub(super) async fn read_exact(&mut self, len: usize) -> Result<Bytes> {
        if self.clamp(len) < len {
            return Err(Error::io(
                &self.path,
                std::io::Error::from(std::io::ErrorKind::UnexpectedEof),
            ));
        }
        let buffer = vec![0u8; len];
        let bytes = self
            .with_file(move |file| {
                let mut buffer = buffer;
                file.read_exact(&mut buffer)?;
                Ok(buffer)
            })
            .await?;
        self.at += len as u64;
        Ok(Bytes::from(bytes))
    }

    pub(super) async fn seek(&mut self, offset: u64) -> Result<()> {
        let absolute = self.start + offset;
        self.with_file(move |file| file.seek(SeekFrom::Start(absolute)).map(drop))
            .await?;
        self.at = offset;
        Ok(())
    }

    /// `max`, or less where the stretch ends sooner.
    fn clamp(&self, max: usize) -> usize {
        match self.len {
            Some(len) => {
                usize::try_from(len.saturating_sub(self.at)).map_or(max, |left| left.min(max))
            }
            None => max,
        }
    }

    async fn with_file<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&mut std::fs::File) -> std::io::Result<T> + Send + 'static,
    ) -> Result<T> {
        let Some(mut file) = self.file.take() else {
            return Err(Error::io(
                &self.path,
                std::io::Error::other("an earlier read was interrupted"),
            ));
        };
        let (file, outcome) = tokio::task::spawn_blocking(move || {
            let outcome = work(&mut file);
            (file, outcome)
        })
        .await
        .map_err(|err| Error::io(&self.path, std::io::Error::other(err)))?;
        self.file = Some(file);
        outcome.map_err(|err| Error::io(&self.path, err))
    }
}
