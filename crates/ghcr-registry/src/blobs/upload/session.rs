//! An upload session: opened by POST (or a mount that became an upload),
//! moved along by each answer's Location, asked for its Range to resume,
//! committed by `PUT ?digest=`, cancelled by DELETE.

use ghcr_transport::ghcr_auth::{Scope, ScopeSet};
use ghcr_transport::{Body, HttpBody, Retry};
use ghcr_types::{Digest, Reference};
use http::header::CONTENT_TYPE;
use http::{Method, StatusCode, Uri};

use crate::blobs::blob_not_found;
use crate::client::{RegistryClient, with_query};
use crate::error::{Error, Result};
use crate::origin::Origin;
use crate::request::{drain, failure, header};

/// What a mount request did.
pub(crate) enum Mount {
    /// The registry linked the blob: nothing to send (201).
    Mounted,
    /// It opened an upload session instead (202).
    Session(UploadSession),
}

/// An open upload.
#[derive(Debug)]
pub(crate) struct UploadSession {
    pub(crate) repository: Reference,
    pub(crate) location: Uri,
    /// `OCI-Chunk-Min-Length`: chunks must be at least this big.
    pub(crate) min_chunk: Option<u64>,
    /// Whether `location` is the registry's (credentials go) or an allowed
    /// other host's (none do).
    origin: Origin,
}

impl UploadSession {
    /// `POST /v2/<name>/blobs/uploads/`.
    pub(crate) async fn open(client: &RegistryClient, repository: &Reference) -> Result<Self> {
        let url = client.url(repository, "blobs/uploads/")?;
        let scopes = ScopeSet::single(Scope::push(repository.repository()));
        let response = post(client, &url, scopes).await?;
        Self::from_response(client, repository, &url, response).await
    }

    /// `POST …/blobs/uploads/?mount=<digest>&from=<repository>`.
    pub(crate) async fn mount(
        client: &RegistryClient,
        repository: &Reference,
        from: &Reference,
        digest: &Digest,
    ) -> Result<Mount> {
        let base = client.url(repository, "blobs/uploads/")?;
        let url = with_query(
            &base,
            &[("mount", digest.as_str()), ("from", from.repository())],
        )?;
        let scopes = ScopeSet::mount(from.repository(), repository.repository());
        let response = post(client, &url, scopes).await?;
        if response.status() == StatusCode::CREATED {
            drain(response).await;
            return Ok(Mount::Mounted);
        }
        Self::from_response(client, repository, &url, response)
            .await
            .map(Mount::Session)
    }

    async fn from_response(
        client: &RegistryClient,
        repository: &Reference,
        url: &Uri,
        response: http::Response<HttpBody>,
    ) -> Result<Self> {
        let location = header(&response, "location")
            .ok_or_else(|| Error::protocol(url, "an upload was opened without a Location"))?;
        let (location, origin) =
            client.follow(repository.registry(), url, location, "an upload Location")?;
        let min_chunk = header(&response, "oci-chunk-min-length")
            .and_then(|v| v.trim().parse().ok())
            .map(|min| clamp_min_chunk(min, client.settings.memory_budget));
        drain(response).await;
        Ok(Self {
            repository: repository.clone(),
            location,
            min_chunk,
            origin,
        })
    }

    /// Follows the Location of an answer to a PATCH.
    pub(crate) fn advance(
        &mut self,
        client: &RegistryClient,
        response: &http::Response<HttpBody>,
    ) -> Result<()> {
        if let Some(location) = header(response, "location") {
            let registry = self.repository.registry();
            (self.location, self.origin) =
                client.follow(registry, &self.location, location, "an upload Location")?;
        }
        Ok(())
    }

    /// How many bytes the registry holds (`GET <location>` → `Range`), or
    /// `None` when the session is gone.
    pub(crate) async fn status(&mut self, client: &RegistryClient) -> Result<Option<u64>> {
        let response = client
            .call(Method::GET, &self.location, self.scope(), "uploads")
            .origin(self.origin)
            .send(Body::empty())
            .await?;
        if !response.status().is_success() {
            tracing::debug!(
                status = response.status().as_u16(),
                "the upload session is gone"
            );
            drain(response).await;
            return Ok(None);
        }
        self.advance(client, &response)?;
        let held = header(&response, "range")
            .and_then(parse_range)
            .unwrap_or(0);
        drain(response).await;
        Ok(Some(held))
    }

    /// `PUT <location>?digest=<digest>` with the last bytes (or none).
    pub(crate) async fn commit(
        &self,
        client: &RegistryClient,
        digest: &Digest,
        body: Body,
    ) -> Result<()> {
        let url = with_query(&self.location, &[("digest", digest.as_str())])?;
        let has_body = !body.is_empty();
        let mut call = client
            .call(Method::PUT, &url, self.scope(), "uploads")
            .origin(self.origin)
            .header(CONTENT_TYPE, "application/octet-stream");
        if has_body {
            call = call.upload_timeout();
        }
        let response = call.send(body).await?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND && !has_body {
            // A first attempt that went through but whose answer was lost.
            drain(response).await;
            if client
                .blob_size(&self.repository, digest, self.scope())
                .await?
                .is_some()
            {
                return Ok(());
            }
            return Err(blob_not_found(&self.repository, digest));
        }
        if !status.is_success() {
            return Err(failure(response, &Method::PUT, &url).await);
        }
        if let Some(stored) = header(&response, "docker-content-digest")
            && let Ok(stored) = Digest::parse(stored.trim())
            && stored.algorithm() == digest.algorithm()
            && &stored != digest
        {
            return Err(Error::protocol(
                &url,
                format!("the registry stored {stored} for an upload of {digest}"),
            ));
        }
        drain(response).await;
        Ok(())
    }

    /// Best-effort `DELETE <location>`, so the registry can free the bytes.
    pub(crate) async fn cancel(&self, client: &RegistryClient) {
        if let Ok(response) = client
            .call(Method::DELETE, &self.location, self.scope(), "uploads")
            .origin(self.origin)
            .send(Body::empty())
            .await
        {
            drain(response).await;
        }
    }

    /// Whose credentials requests to `location` carry.
    pub(crate) fn origin(&self) -> Origin {
        self.origin
    }

    pub(crate) fn scope(&self) -> Scope {
        Scope::push(self.repository.repository())
    }
}

/// A chunk no larger than the memory budget: a registry asking for more
/// gets chunks of the budget (and may refuse them) rather than an
/// allocation of the size it named.
fn clamp_min_chunk(min: u64, budget: usize) -> u64 {
    let budget = budget as u64;
    if min > budget {
        tracing::warn!(
            asked = min,
            sent = budget,
            "the registry's OCI-Chunk-Min-Length is larger than the memory budget; chunks stay at the budget"
        );
    }
    min.min(budget)
}

/// A POST that opens an upload; repeating it is harmless.
async fn post(
    client: &RegistryClient,
    url: &Uri,
    scopes: ScopeSet,
) -> Result<http::Response<HttpBody>> {
    client
        .call_scoped(Method::POST, url, scopes, "uploads")
        .retry(Retry::Always)
        .send_checked(Body::empty())
        .await
}

/// `Range: 0-<last>` → bytes held. docker-registry also says `0-0` for an
/// empty upload, so that reads as nothing held (a resend of byte 0 is
/// refused or caught by the digest check, never silently wrong).
pub(crate) fn parse_range(value: &str) -> Option<u64> {
    let value = value.trim();
    let value = value.strip_prefix("bytes=").unwrap_or(value);
    let (start, end) = value.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end: u64 = end.trim().parse().ok()?;
    if start != 0 {
        return None;
    }
    if end == 0 {
        return Some(0);
    }
    end.checked_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_say_how_much_the_registry_holds() {
        for (value, expected) in [
            ("0-0", Some(0)),
            ("0-1023", Some(1024)),
            ("bytes=0-99", Some(100)),
            (" 0-4194303 ", Some(4 * 1024 * 1024)),
            ("5-9", None),
            ("0-", None),
            ("garbage", None),
        ] {
            assert_eq!(parse_range(value), expected, "{value}");
        }
    }
}
