//! The names most programs need: `use ghcr::prelude::*;`.

pub use crate::{Error, GhcrClient, GhcrConfig, HealthStatus, Result};
pub use ghcr_types::{Digest, Manifest, MediaType, Owner, OwnerType, Platform, Reference, Tag};

#[cfg(feature = "registry")]
pub use crate::RegistryOperations;
#[cfg(feature = "registry")]
pub use ghcr_registry::{BlobSource, ImageParts, Progress, RegistryClient, TransferOptions};

#[cfg(feature = "packages")]
pub use crate::PackageOperations;
#[cfg(feature = "packages")]
pub use ghcr_packages::{PackagesClient, RetentionPolicy, VersionState};
pub use ghcr_types::Severity;
