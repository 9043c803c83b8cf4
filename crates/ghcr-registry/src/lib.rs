//! OCI Distribution operations for ghcr.io and any OCI registry.
//!
//! `ghcr-registry` sits on `ghcr-transport` (which authenticates, retries,
//! follows redirects without leaking credentials and waits out rate
//! limits) and below the `ghcr` facade and the CLI. A [`RegistryClient`]
//! is cheap to clone and talks to any registry a [`ghcr_types::Reference`]
//! names:
//!
//! - manifests: get (verified against the digest asked for and the one the
//!   registry announces, 4 MiB limit while reading), head, put, delete,
//!   platform selection;
//! - blobs: exists, a verified [`BlobStream`], ranged reads, downloads into
//!   files renamed only once verified, deletes;
//! - uploads ([`UploadMode`]): one streamed request per blob by default,
//!   monolithic PUTs, or Content-Range chunks (4 MiB at most on ghcr.io, a
//!   416 "too large" halves them); from bytes, files, any `AsyncRead` or
//!   stream ([`BlobSource`]), the digest computed on the way; resumed from
//!   the registry's `Range` after a failure; cross-repository mounts;
//! - tags: paginated listing as a stream or a `Vec`, regex filters, tag,
//!   retag, delete;
//! - images: push from [`ImageParts`] or an OCI layout, pull into an OCI
//!   layout, copy within and across registries, size, existence; blobs in
//!   parallel, manifests last;
//! - referrers: the OCI 1.1 API, else the `<alg>-<hex>` tag that ghcr.io
//!   needs, kept up to date when a manifest with a `subject` is pushed;
//! - [`Progress`] events per blob for progress bars.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use ghcr_registry::RegistryClient;
//! use ghcr_transport::{HttpBody, Transport};
//! use ghcr_types::{Digest, Reference};
//! # use bytes::Bytes;
//! # use http_body_util::{BodyExt, Full};
//! # const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;
//! # // A scripted registry stands in for the network here.
//! # let wire = tower::service_fn(|request: http::Request<HttpBody>| async move {
//! #     assert_eq!(request.uri().path(), "/v2/octo-org/app/manifests/v1");
//! #     let body: HttpBody = Full::new(Bytes::from(MANIFEST)).map_err(|never| match never {}).boxed_unsync();
//! #     Ok::<_, ghcr_transport::BoxError>(http::Response::builder()
//! #         .header("content-type", "application/vnd.oci.image.manifest.v1+json")
//! #         .header("docker-content-digest", Digest::sha256_of(MANIFEST.as_bytes()).as_str())
//! #         .body(body).unwrap())
//! # });
//!
//! let transport = Transport::builder()
//! #   .wire(wire)
//!     .build()?;
//! let client = RegistryClient::new(transport);
//! let reference: Reference = "ghcr.io/octo-org/app:v1".parse()?;
//! let manifest = client.get_manifest(&reference).await?;
//! assert!(!manifest.is_index());
//! assert_eq!(manifest.layers().len(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod blobs;
mod client;
mod copy;
mod error;
mod image;
mod layout;
mod manifests;
mod options;
mod progress;
mod referrers;
mod request;
mod tags;

pub use blobs::upload::ExistsCheck;
pub use blobs::{BlobOutcome, BlobSource, BlobStream, PushedBlob, UploadOptions};
pub use client::{GHCR_CHUNK_LIMIT, RegistryClient, RegistryClientBuilder, UploadMode};
pub use copy::CopyReport;
pub use error::{Error, Result};
pub use image::{ImageParts, ImageSize, PlatformSize, PullReport, PushReport};
pub use layout::REF_NAME;
pub use manifests::ManifestInfo;
pub use options::TransferOptions;
pub use progress::{Direction, Progress, ProgressEvent, SkipReason};
pub use referrers::{Referrers, ReferrersSource};
pub use tags::TagStream;
