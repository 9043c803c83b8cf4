//! Pure data for ghcr.io and any OCI Distribution registry.
//!
//! `ghcr-types` is the bottom layer of the `ghcr` workspace: image
//! [`Reference`]s, content [`Digest`]s with streaming hashing, [`MediaType`]s,
//! [`Manifest`]s that keep their exact bytes, [`Platform`] matching, the
//! GitHub Packages objects ([`Package`], [`PackageVersion`]), vulnerability
//! reports and rate-limit state. It does no I/O and has no async runtime;
//! every other crate of the workspace builds on it.
//!
//! ```
//! use ghcr_types::{Digest, Manifest, Reference};
//!
//! let reference: Reference = "ghcr.io/octo-org/app:v1".parse()?;
//! assert_eq!(reference.package_name(), "app");
//!
//! let bytes = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
//!   "config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,
//!     "digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
//!   "layers":[]}"#;
//! let manifest = Manifest::from_bytes(&bytes[..], None)?;
//! assert_eq!(manifest.digest(), &Digest::sha256_of(bytes));
//! let pinned = reference.with_digest(manifest.digest().clone());
//! assert!(pinned.to_string().starts_with("ghcr.io/octo-org/app:v1@sha256:"));
//! # Ok::<(), ghcr_types::Error>(())
//! ```

mod digest;
mod error;
mod manifest;
mod media_type;
mod package;
mod platform;
mod rate_limit;
mod reference;
mod span;
mod vulnerability;

pub use digest::{Algorithm, Digest, DigestHasher, DigestVerifier};
pub use error::{Error, Result};
pub use manifest::{MAX_MANIFEST_SIZE, Manifest, ManifestBody};
pub use media_type::{MediaType, artifact_types};
pub use package::{
    ContainerMetadata, DockerMetadata, Owner, OwnerType, Package, PackageId, PackageOwner,
    PackageRepository, PackageType, PackageVersion, PackageVersionId, PackageVersionMetadata,
    Visibility,
};
pub use platform::Platform;
pub use rate_limit::RateLimitInfo;
pub use reference::{DEFAULT_REGISTRY, MAX_REPOSITORY_LENGTH, Reference, Tag, docker_hub};
pub use span::format_span;
pub use vulnerability::{
    AffectedPackage, ReportSigner, ReportSource, Severity, Vulnerability, VulnerabilityReport,
};

/// Re-export of the OCI image-spec types manifests are built from.
pub use oci_spec::image as oci;
