//! ORAS-style artifacts: files pushed as layers named by their
//! `org.opencontainers.image.title` annotation, under the OCI empty config
//! and an `artifactType` (OCI 1.1 artifact guidance), optionally referring
//! to a subject; and pulled back into a folder that no title can leave.
//!
//! [`crate::ImageParts`] cannot annotate single layers, so artifacts are
//! written here on [`crate::RegistryClient::push_blob`] and
//! [`crate::RegistryClient::put_manifest`].

mod pull;
mod push;
mod title;

pub use pull::{ArtifactPullReport, PulledFile};
pub use push::{ArtifactFile, ArtifactPush};

/// The layer annotation that names a file (what `oras pull` writes it as).
pub(crate) const TITLE: &str = "org.opencontainers.image.title";
