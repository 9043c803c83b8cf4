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
//! - images: push from [`ImageParts`], an OCI layout or a tarball
//!   (`docker save`, OCI archive), pull into an OCI layout or a tarball,
//!   copy within and across registries, size, existence; blobs in
//!   parallel, manifests last;
//! - referrers: the OCI 1.1 API, else the `<alg>-<hex>` tag that ghcr.io
//!   needs, kept up to date when a manifest with a `subject` is pushed;
//! - [`Progress`] events per blob for progress bars.
//!
//! ```
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! # // ghcr-sim's fake ghcr.io stands in for the network here.
//! # let fake = ghcr_sim::fake::FakeGhcr::builder().user("octo", "a-token").start().await?;
//! # let registry = fake.registry_host().to_owned();
//! use std::sync::Arc;
//!
//! use ghcr_registry::{BlobSource, ImageParts, RegistryClient, TransferOptions};
//! use ghcr_transport::Transport;
//! use ghcr_transport::ghcr_auth::{Credentials, StaticProvider};
//! use ghcr_types::{MediaType, Reference};
//!
//! let credentials = StaticProvider::new(Credentials::basic("octo", "a-token"));
//! let transport = Transport::builder()
//!     .credentials(Arc::new(credentials))
//! #   .allow_plain_http(registry.as_str())
//!     .build()?;
//! let client = RegistryClient::new(transport);
//!
//! // `ghcr.io/octo/app:v1` on the real thing.
//! let target: Reference = format!("{registry}/octo/app:v1").parse()?;
//! let image = ImageParts::new(&br#"{"architecture":"amd64","os":"linux"}"#[..])
//!     .layer(MediaType::OciLayerTar, BlobSource::bytes(&b"layer bytes"[..]));
//! let pushed = client.push_image(&target, image, &TransferOptions::new()).await?;
//!
//! let manifest = client.get_manifest(&target).await?;
//! assert_eq!(manifest.digest(), &pushed.digest);
//! let tags = client.list_tags(&target).await?;
//! assert_eq!(tags[0].as_str(), "v1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod archive;
mod artifact;
mod blobs;
mod client;
mod copy;
mod error;
mod files;
mod image;
mod layout;
mod manifests;
mod options;
mod origin;
mod progress;
mod referrers;
mod request;
mod sync;
mod tags;

pub use archive::ArchiveFormat;
pub use artifact::{ArtifactFile, ArtifactPullReport, ArtifactPush, PulledFile};
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
pub use sync::{SyncAction, SyncEntry, SyncOptions, SyncPlan, SyncReport, SyncedTag};
pub use tags::TagStream;
