//! Arguments of `ghcr artifact push|attach|pull`: ORAS-style artifacts.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Subcommand};

/// `ghcr artifact …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ArtifactCommand {
    /// Push files as an artifact, each one layer named by its file name.
    Push {
        /// Where to push (`ghcr.io/OWNER/NAME:TAG`).
        reference: String,
        #[command(flatten)]
        files: ArtifactFiles,
        /// The manifest's artifactType.
        #[arg(long, default_value = ghcr::registry::ArtifactPush::DEFAULT_ARTIFACT_TYPE)]
        artifact_type: String,
        /// Make it a referrer of this image (OCI 1.1 `subject`).
        #[arg(long, value_name = "REF")]
        subject: Option<String>,
    },
    /// Attach files to an image as a referrer, pushed by digest; prints its digest.
    Attach {
        /// The image to attach to.
        subject: String,
        #[command(flatten)]
        files: ArtifactFiles,
        /// The manifest's artifactType (an SBOM: application/spdx+json).
        #[arg(long, required = true)]
        artifact_type: String,
    },
    /// Pull an artifact's files into DIR, each under its title; nothing is
    /// written when a title would leave DIR.
    Pull {
        /// The artifact.
        reference: String,
        /// The folder (created when missing).
        dir: PathBuf,
    },
}

/// The files and annotations of an artifact.
#[derive(Debug, ClapArgs)]
pub(crate) struct ArtifactFiles {
    /// A file, with its layer's media type after the last `:` unless the
    /// whole argument is a file (default application/vnd.oci.image.layer.v1.tar).
    #[arg(required = true, value_name = "FILE[:MEDIATYPE]")]
    pub(crate) files: Vec<String>,
    /// A manifest annotation; repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    pub(crate) annotation: Vec<String>,
}
