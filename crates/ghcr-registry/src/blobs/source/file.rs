//! A file read on the blocking pool straight into the buffer that goes on
//! the wire: one copy (kernel to buffer), no intermediate buffer, and the
//! buffer allocated on the caller's thread.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use bytes::Bytes;

use crate::error::{Error, Result};

/// An open file, lent to the blocking pool for each read.
pub(super) struct FileInput {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl FileInput {
    pub(super) async fn open(path: PathBuf) -> Result<Self> {
        let opened = tokio::task::spawn_blocking({
            let path = path.clone();
            move || std::fs::File::open(path)
        })
        .await
        .map_err(|err| Error::io(&path, std::io::Error::other(err)))?
        .map_err(|err| Error::io(&path, err))?;
        Ok(Self {
            path,
            file: Some(opened),
        })
    }

    /// Up to `max` bytes (fewer only at the end of the file); `None` at the end.
    pub(super) async fn read(&mut self, max: usize) -> Result<Option<Bytes>> {
        let buffer = Vec::with_capacity(max);
        let bytes = self
            .with_file(move |file| {
                let mut buffer = buffer;
                file.take(max as u64).read_to_end(&mut buffer)?;
                Ok(buffer)
            })
            .await?;
        Ok((!bytes.is_empty()).then(|| Bytes::from(bytes)))
    }

    /// Exactly `len` bytes.
    pub(super) async fn read_exact(&mut self, len: usize) -> Result<Bytes> {
        let buffer = vec![0u8; len];
        self.with_file(move |file| {
            let mut buffer = buffer;
            file.read_exact(&mut buffer)?;
            Ok(buffer)
        })
        .await
        .map(Bytes::from)
    }

    pub(super) async fn seek(&mut self, offset: u64) -> Result<()> {
        self.with_file(move |file| file.seek(SeekFrom::Start(offset)).map(drop))
            .await
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
