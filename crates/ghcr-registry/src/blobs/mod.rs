//! Blobs: existence, verified downloads (as a stream or into a file),
//! deletion, and uploads (see [`upload`]).

pub(crate) mod buffers;
mod download;
pub(crate) mod in_flight;
pub(crate) mod pull;
pub(crate) mod source;
pub(crate) mod upload;

pub use pull::BlobStream;
pub use source::BlobSource;
pub use upload::{BlobOutcome, PushedBlob, UploadOptions};

use ghcr_transport::Body;
use ghcr_transport::ghcr_auth::Scope;
use ghcr_types::{Digest, Reference};
use http::{Method, StatusCode};

use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::request::{Deleted, drain, failure, header};

impl RegistryClient {
    /// The size of a blob when the repository has it, `None` when not.
    ///
    /// # Errors
    ///
    /// The transport's errors (a 404 is `Ok(None)`).
    pub async fn blob_exists(
        &self,
        repository: &Reference,
        digest: &Digest,
    ) -> Result<Option<u64>> {
        self.blob_size(repository, digest, Scope::pull(repository.repository()))
            .await
    }

    /// HEAD of a blob with `scope` (a push asks with its push token, so one
    /// token serves the whole push).
    pub(crate) async fn blob_size(
        &self,
        repository: &Reference,
        digest: &Digest,
        scope: Scope,
    ) -> Result<Option<u64>> {
        let url = self.blob_url(repository, digest)?;
        let response = self
            .call(Method::HEAD, &url, scope, "blobs")
            .send(Body::empty())
            .await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => {
                let size = header(&response, "content-length")
                    .and_then(|l| l.trim().parse().ok())
                    .unwrap_or_default();
                drain(response).await;
                Ok(Some(size))
            }
            _ => Err(failure(response, &Method::HEAD, &url).await),
        }
    }

    /// Deletes a blob from a repository, where the registry allows it.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] where deletes are refused (405; on ghcr.io use
    /// the GitHub Packages API), [`Error::BlobNotFound`], and the
    /// transport's errors.
    pub async fn delete_blob(&self, repository: &Reference, digest: &Digest) -> Result<()> {
        let url = self.blob_url(repository, digest)?;
        match self.send_delete(&url, repository, "blobs").await? {
            Deleted::Done => Ok(()),
            Deleted::Missing => Err(blob_not_found(repository, digest)),
            Deleted::Refused(response) => Err(failure(response, &Method::DELETE, &url).await),
        }
    }

    pub(crate) fn blob_url(&self, repository: &Reference, digest: &Digest) -> Result<http::Uri> {
        self.url(repository, &format!("blobs/{digest}"))
    }
}

pub(crate) fn blob_not_found(repository: &Reference, digest: &Digest) -> Error {
    Error::BlobNotFound {
        repository: repository.without_tag_or_digest().to_string(),
        digest: digest.clone(),
    }
}
