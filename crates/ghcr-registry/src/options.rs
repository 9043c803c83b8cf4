//! How an image push, pull or copy goes: one options value for all three.

use ghcr_types::{Platform, Reference};

use crate::blobs::UploadOptions;
use crate::progress::Progress;

/// Settings of [`crate::RegistryClient::push_image`],
/// [`crate::RegistryClient::push_layout`],
/// [`crate::RegistryClient::pull_to_layout`] and
/// [`crate::RegistryClient::copy_image`]; each setting says which read it.
///
/// ```
/// use ghcr_registry::{Progress, TransferOptions};
/// use ghcr_types::Platform;
///
/// let options = TransferOptions::new()
///     .platform("linux/arm64".parse::<Platform>()?)
///     .concurrency(8)
///     .progress(Progress::none());
/// # let _ = options;
/// # Ok::<(), ghcr_types::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct TransferOptions {
    pub(crate) platform: Option<Platform>,
    pub(crate) concurrency: Option<usize>,
    pub(crate) mount_from: Option<Reference>,
    pub(crate) name: Option<String>,
    pub(crate) progress: Progress,
}

impl TransferOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only this platform's image of an index (pull, copy, push from a
    /// layout). Default: the whole index, every platform.
    #[must_use]
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }

    /// Blobs transferred at once. Default: the client's (4).
    #[must_use]
    pub fn concurrency(mut self, blobs: usize) -> Self {
        self.concurrency = Some(blobs);
        self
    }

    /// A repository on the target registry to mount blobs from before
    /// uploading them, such as the base image's (push). A copy within one
    /// registry always mounts from its source. Default: none.
    #[must_use]
    pub fn mount_from(mut self, repository: Reference) -> Self {
        self.mount_from = Some(repository);
        self
    }

    /// The entry's name in the layout's `index.json`, the `TAG` of
    /// `oci:DIR:TAG` (pull). Default: the reference's tag; none for a
    /// by-digest reference.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Where per-blob progress goes. Default: nowhere.
    #[must_use]
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    pub(crate) fn upload_options(&self) -> UploadOptions {
        let options = UploadOptions::new().progress(self.progress.clone());
        match &self.mount_from {
            Some(from) => options.mount_from(from.clone()),
            None => options,
        }
    }
}
