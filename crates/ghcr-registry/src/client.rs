//! `RegistryClient`: settings, and the URLs every operation builds on.

use std::fmt;
use std::sync::Arc;

use ghcr_transport::Transport;
use ghcr_types::Reference;
use http::Uri;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};

/// ghcr.io's cap on a Content-Range PATCH body: 4 MiB.
pub const GHCR_CHUNK_LIMIT: usize = 4 * 1024 * 1024;

/// How blob bytes go up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadMode {
    /// One request per blob. Blobs no larger than the chunk size go as one
    /// monolithic `PUT ?digest=` with the body; larger ones as the whole
    /// stream in one PATCH without Content-Range, then `PUT ?digest=` (what
    /// docker does, and what ghcr.io accepts). One stream per blob is
    /// 30-45 % faster than 4 MiB chunks against docker-registry.
    #[default]
    Streamed,
    /// Every blob as one monolithic `PUT ?digest=` carrying the body.
    Monolithic,
    /// Content-Range PATCHes of the chunk size, each to the Location the
    /// last answer gave; for registries or proxies that need bounded
    /// requests.
    Chunked,
}

#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) chunk_size: usize,
    pub(crate) upload_mode: UploadMode,
    pub(crate) concurrency: usize,
    pub(crate) resume_buffer: usize,
    pub(crate) resume_attempts: u32,
    pub(crate) memory_budget: usize,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) verify_uploads: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            chunk_size: GHCR_CHUNK_LIMIT,
            upload_mode: UploadMode::Streamed,
            concurrency: 4,
            resume_buffer: 8 * 1024 * 1024,
            resume_attempts: 3,
            memory_budget: 16 * 1024 * 1024,
            allowed_origins: Vec::new(),
            verify_uploads: false,
        }
    }
}

/// A client for OCI Distribution registries; cheap to clone (clones share
/// the transport: connections, tokens, rate limits, metrics).
///
/// One client talks to any registry: each [`Reference`] names its own.
#[derive(Clone)]
pub struct RegistryClient {
    pub(crate) transport: Transport,
    pub(crate) settings: Arc<Settings>,
    pub(crate) budget: Arc<Budget>,
    pub(crate) in_flight: Arc<crate::blobs::in_flight::InFlight>,
}

/// The bytes of transfer buffers a client holds at once, shared by every
/// transfer: pieces queued for the socket on upload, pieces waiting for
/// the disk on download. Memory stays flat whatever the concurrency.
#[derive(Debug)]
pub(crate) struct Budget {
    kib: Arc<Semaphore>,
    total_kib: u32,
    spares: crate::blobs::buffers::Spares,
}

impl Budget {
    fn new(bytes: usize) -> Self {
        let total_kib = u32::try_from(bytes / 1024).unwrap_or(u32::MAX).max(1);
        Self {
            kib: Arc::new(Semaphore::new(total_kib as usize)),
            total_kib,
            spares: crate::blobs::buffers::Spares::for_budget(bytes),
        }
    }

    /// Download buffers kept for reuse.
    pub(crate) fn spares(&self) -> &crate::blobs::buffers::Spares {
        &self.spares
    }

    /// Waits until `bytes` fit; the permit gives them back when dropped.
    pub(crate) async fn take(&self, bytes: usize) -> Option<OwnedSemaphorePermit> {
        let kib = u32::try_from(bytes.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .clamp(1, self.total_kib);
        // The semaphore is never closed, so this only waits.
        self.kib.clone().acquire_many_owned(kib).await.ok()
    }
}

impl fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryClient")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Builds a [`RegistryClient`].
#[derive(Debug)]
pub struct RegistryClientBuilder {
    transport: Transport,
    settings: Settings,
}

impl RegistryClientBuilder {
    /// Chunk size of [`UploadMode::Chunked`], and the largest blob that
    /// [`UploadMode::Streamed`] sends as one monolithic PUT. On ghcr.io it is
    /// capped at [`GHCR_CHUNK_LIMIT`] whatever is set here, and any registry
    /// that answers 416 "too large" gets half the size. Default: 4 MiB
    /// (the design's `GHCR_CHUNK_SIZE`).
    #[must_use]
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.settings.chunk_size = bytes;
        self
    }

    /// How blobs go up. Default: [`UploadMode::Streamed`].
    #[must_use]
    pub fn upload_mode(mut self, mode: UploadMode) -> Self {
        self.settings.upload_mode = mode;
        self
    }

    /// Blobs transferred at once by image push, pull and copy. Default: 4.
    #[must_use]
    pub fn concurrency(mut self, blobs: usize) -> Self {
        self.settings.concurrency = blobs;
        self
    }

    /// Bytes of an upload from an [`tokio::io::AsyncRead`] kept to send
    /// again after an interruption (files and in-memory bytes are re-read
    /// instead). Default: 8 MiB.
    #[must_use]
    pub fn resume_buffer(mut self, bytes: usize) -> Self {
        self.settings.resume_buffer = bytes;
        self
    }

    /// Whether uploads of more than a chunk whose digest is given (layouts,
    /// tarballs, copies) are hashed on the client as well. Default: false:
    /// the request that commits carries the digest, and the registry
    /// refuses bytes that do not hash to it (`DIGEST_INVALID`, reported as
    /// [`Error::DigestRefused`](crate::Error::DigestRefused)), so hashing
    /// them here too only spent the CPU (43 % of a push's, which on a
    /// 2-core machine the registry needs). Turn it on for a registry that
    /// does not check. Sources without a digest, and blobs of at most a
    /// chunk, are always hashed.
    #[must_use]
    pub fn verify_uploads(mut self, verify: bool) -> Self {
        self.settings.verify_uploads = verify;
        self
    }

    /// Times one blob's upload is resumed or restarted after a failure.
    /// Default: 3.
    #[must_use]
    pub fn resume_attempts(mut self, attempts: u32) -> Self {
        self.settings.resume_attempts = attempts;
        self
    }

    /// Bytes of transfer buffers held at once across every transfer of the
    /// client (pieces queued for the socket, pieces waiting for the disk),
    /// whatever the concurrency. Download buffers, once written, are kept
    /// for the client's next downloads, up to this many bytes: a client that
    /// has downloaded keeps that much until it is dropped. Default: 16 MiB.
    #[must_use]
    pub fn memory_budget(mut self, bytes: usize) -> Self {
        self.settings.memory_budget = bytes;
        self
    }

    /// A host (`host[:port]`) other than the registry that an upload
    /// `Location` or a tag `Link` may lead to, such as a registry's own
    /// upload host. Requests there carry no credentials, and a private,
    /// loopback or link-local IP literal is refused unless it is the
    /// registry's own host. Default: none (same origin only).
    #[must_use]
    pub fn allow_origin(mut self, host: impl Into<String>) -> Self {
        self.settings.allowed_origins.push(host.into());
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a zero chunk size or concurrency.
    pub fn build(self) -> Result<RegistryClient> {
        if self.settings.chunk_size == 0 {
            return Err(Error::Config {
                setting: "chunk_size",
                reason: "must be at least one byte; 4 MiB suits ghcr.io".into(),
            });
        }
        if self.settings.memory_budget < 1024 * 1024 {
            return Err(Error::Config {
                setting: "memory_budget",
                reason: "must be at least 1 MiB; 16 MiB is the default".into(),
            });
        }
        if self.settings.concurrency == 0 {
            return Err(Error::Config {
                setting: "concurrency",
                reason: "must be at least 1; 4 is the default".into(),
            });
        }
        Ok(RegistryClient {
            transport: self.transport,
            budget: Arc::new(Budget::new(self.settings.memory_budget)),
            in_flight: Arc::default(),
            settings: Arc::new(self.settings),
        })
    }
}

impl RegistryClient {
    /// A client with default settings.
    pub fn new(transport: Transport) -> Self {
        let settings = Settings::default();
        Self {
            transport,
            budget: Arc::new(Budget::new(settings.memory_budget)),
            in_flight: Arc::default(),
            settings: Arc::new(settings),
        }
    }

    /// Starts a builder.
    pub fn builder(transport: Transport) -> RegistryClientBuilder {
        RegistryClientBuilder {
            transport,
            settings: Settings::default(),
        }
    }

    /// The transport requests go through.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Blobs transferred at once by image operations.
    pub fn concurrency(&self) -> usize {
        self.settings.concurrency
    }

    /// The chunk size for `registry`: the setting, capped on ghcr.io.
    pub(crate) fn chunk_size_for(&self, registry: &str) -> usize {
        if is_ghcr(registry) {
            self.settings.chunk_size.min(GHCR_CHUNK_LIMIT)
        } else {
            self.settings.chunk_size
        }
    }

    /// `{scheme}://{host}/v2/{repository}/{rest}`, the host being the
    /// registry's API host (`registry-1.docker.io` for `docker.io`).
    pub(crate) fn url(&self, reference: &Reference, rest: &str) -> Result<Uri> {
        let registry = reference.api_host();
        let text = format!(
            "{}://{registry}/v2/{}/{rest}",
            self.transport.scheme_for(registry),
            reference.repository()
        );
        text.parse()
            .map_err(|_| Error::reference(reference, format!("`{rest}` does not make a URL")))
    }

    /// Resolves a Location header (absolute, or a path on the registry).
    #[allow(clippy::unused_self)] // A method, like `url`, so that callers read alike.
    pub(crate) fn resolve(&self, base: &Uri, location: &str) -> Result<Uri> {
        let resolved = if location.starts_with('/') && !location.starts_with("//") {
            let mut parts = base.clone().into_parts();
            parts.path_and_query = location.parse().ok();
            Uri::from_parts(parts).ok()
        } else {
            location
                .parse::<Uri>()
                .ok()
                .filter(|uri| uri.scheme().is_some() && uri.authority().is_some())
        };
        resolved.ok_or_else(|| {
            // The query may carry a signature: keep it out of the message.
            let shown = location.split('?').next().unwrap_or_default();
            Error::protocol(base, format!("the Location `{shown}` is not a usable URL"))
        })
    }
}

/// Whether `registry` is ghcr.io, with its 4 MiB chunk cap and no registry deletes.
pub(crate) fn is_ghcr(registry: &str) -> bool {
    registry.eq_ignore_ascii_case("ghcr.io")
}

/// `url` with `name=value` added to its query, whether or not it has one
/// (ghcr.io answers 404 to `…/uploads/<id>&digest=`).
pub(crate) fn with_query(url: &Uri, pairs: &[(&str, &str)]) -> Result<Uri> {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const VALUE: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b':');
    let mut text = url.to_string();
    for (name, value) in pairs {
        text.push(if url.query().is_some() || text.contains('?') {
            '&'
        } else {
            '?'
        });
        text.push_str(name);
        text.push('=');
        text.extend(utf8_percent_encode(value, VALUE));
    }
    text.parse()
        .map_err(|_| Error::protocol(url, "adding the query made an invalid URL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_query(url: &str, pairs: &[(&str, &str)], expected: &str) {
        let url: Uri = url.parse().unwrap();
        assert_eq!(with_query(&url, pairs).unwrap().to_string(), expected);
    }

    #[test]
    fn docker_hub_requests_go_to_its_api_host_and_may_follow_it() {
        let client = RegistryClient::new(ghcr_transport::Transport::builder().build().unwrap());
        let alpine = Reference::parse("docker.io/alpine:3").unwrap();
        let url = client.url(&alpine, "manifests/3").unwrap();
        assert_eq!(
            url.to_string(),
            "https://registry-1.docker.io/v2/library/alpine/manifests/3"
        );
        let location = "/v2/library/alpine/blobs/uploads/abc";
        let (next, origin) = client
            .follow(alpine.registry(), &url, location, "an upload Location")
            .unwrap();
        assert_eq!(next.host(), Some("registry-1.docker.io"));
        assert_eq!(origin, crate::origin::Origin::Registry);
        let elsewhere = "https://evil.example/v2/x";
        assert!(
            client
                .follow(alpine.registry(), &url, elsewhere, "an upload Location")
                .is_err()
        );
    }

    #[test]
    fn queries_are_added_with_the_right_separator() {
        check_query(
            "https://ghcr.io/v2/o/a/blobs/uploads/abc",
            &[("digest", "sha256:00")],
            "https://ghcr.io/v2/o/a/blobs/uploads/abc?digest=sha256:00",
        );
        check_query(
            "http://127.0.0.1:5000/v2/o/a/blobs/uploads/abc?_state=x%3D",
            &[("digest", "sha256:00")],
            "http://127.0.0.1:5000/v2/o/a/blobs/uploads/abc?_state=x%3D&digest=sha256:00",
        );
        check_query(
            "https://r.example/v2/o/a/blobs/uploads/",
            &[("mount", "sha256:00"), ("from", "o/b")],
            "https://r.example/v2/o/a/blobs/uploads/?mount=sha256:00&from=o%2Fb",
        );
        check_query(
            "https://r.example/v2/o/a/referrers/sha256:00",
            &[("artifactType", "application/vnd.dev+json")],
            "https://r.example/v2/o/a/referrers/sha256:00?artifactType=application%2Fvnd.dev%2Bjson",
        );
    }

    #[test]
    fn locations_resolve_against_the_registry() {
        let transport = Transport::builder().build().unwrap();
        let client = RegistryClient::new(transport);
        let base: Uri = "https://ghcr.io/v2/o/a/blobs/uploads/".parse().unwrap();
        for (location, expected) in [
            (
                "/v2/o/a/blobs/uploads/u1?s=1",
                Some("https://ghcr.io/v2/o/a/blobs/uploads/u1?s=1"),
            ),
            (
                "https://other.example/up/u2",
                Some("https://other.example/up/u2"),
            ),
            ("relative/path", None),
            ("//evil.example/x", None),
        ] {
            let resolved = client.resolve(&base, location).ok().map(|u| u.to_string());
            assert_eq!(resolved.as_deref(), expected, "{location}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_and_errors() {
        use ghcr_transport::ghcr_auth::{Credentials, StaticProvider};
        let transport = Transport::builder()
            .credentials(Arc::new(StaticProvider::new(Credentials::basic(
                "octo",
                "hunter2-secret",
            ))))
            .build()
            .unwrap();
        let client = RegistryClient::new(transport);
        assert!(!format!("{client:?}").contains("hunter2"));
        let base: Uri = "https://ghcr.io/v2/o/a/blobs/uploads/".parse().unwrap();
        let error = client
            .resolve(&base, "relative?sig=topsecret")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("topsecret"), "{error}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_makes_transfers_wait_for_each_other() {
        let budget = Budget::new(2 * 1024 * 1024);
        let first = budget.take(1 << 20).await;
        let oversized = budget.take(64 << 20);
        // Larger than the whole budget: waits for all of it, then goes.
        tokio::pin!(oversized);
        assert!(
            tokio::time::timeout(std::time::Duration::from_secs(1), &mut oversized)
                .await
                .is_err(),
            "it waits while another transfer holds part of the budget"
        );
        drop(first);
        assert!(oversized.await.is_some());
        assert_eq!(budget.kib.available_permits(), 2048);
    }

    #[test]
    fn builder_validates_and_ghcr_caps_chunks() {
        let transport = Transport::builder().build().unwrap();
        let error = RegistryClient::builder(transport.clone())
            .concurrency(0)
            .build()
            .unwrap_err();
        assert!(matches!(
            error,
            Error::Config {
                setting: "concurrency",
                ..
            }
        ));
        let client = RegistryClient::builder(transport)
            .chunk_size(16 << 20)
            .build()
            .unwrap();
        assert_eq!(client.chunk_size_for("ghcr.io"), GHCR_CHUNK_LIMIT);
        assert_eq!(client.chunk_size_for("127.0.0.1:5000"), 16 << 20);
    }
}
