//! A complete, fast and safe client for GitHub Container Registry (ghcr.io)
//! and any OCI Distribution registry, with the GitHub Packages API.
//!
//! `ghcr` is the umbrella over the workspace's layers: [`GhcrClient`] owns
//! one transport (connections, tokens, retries, rate limits, metrics) and
//! hands out the [`registry`] and [`packages`] clients built on it;
//! [`GhcrConfig`] holds every setting, from a builder or the `GHCR_*`
//! environment variables ([`ENV_VARS`]); [`GhcrClient::health_check`] says
//! whether a token can be had and the services answer. The
//! [`RegistryOperations`] and [`PackageOperations`] traits let callers
//! substitute their own implementation.
//!
//! Cargo features: `registry` and `packages` (default) re-export
//! `ghcr-registry` and `ghcr-packages`; `trust` adds `ghcr-trust`'s
//! signature verification; `sim` adds `ghcr-sim`'s embedded
//! fake ghcr.io and record/replay through `GHCR_SIMULATION_MODE`.
//!
//! ```
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! # // ghcr-sim's fake ghcr.io stands in for the network here.
//! # let fake = ghcr_sim::fake::FakeGhcr::builder().user("octo", "token-o").start().await?;
//! # fake.store().push_index("octo/app", "v1", &["linux/amd64", "linux/arm64"])?;
//! use ghcr::prelude::*;
//!
//! // On the real thing: `GhcrClient::from_env()?` with GHCR_USERNAME and GHCR_TOKEN.
//! let config = GhcrConfig::builder()
//! #   .registry(fake.registry_host()).api_base(&fake.api_base()).allow_plain_http(fake.registry_host())
//!     .credentials("octo", "token-o")
//!     .build()?;
//! let client = GhcrClient::new(config)?;
//! # let registry = fake.registry_host();
//! let app: Reference = format!("{registry}/octo/app:v1").parse()?;
//!
//! let manifest = client.pull_manifest(&app).await?;
//! assert_eq!(manifest.platforms().len(), 2);
//! let versions = client
//!     .list_versions(&Owner::user("octo"), "app", VersionState::Active)
//!     .await?;
//! assert_eq!(versions.len(), 3); // the index and its two platform images
//! assert!(client.health_check().await.healthy);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

#[cfg(feature = "packages")]
mod api;
mod client;
pub mod config;
mod error;
mod health;
#[cfg(feature = "registry")]
mod multiarch;
mod ops;
pub mod prelude;

pub use client::GhcrClient;
pub use config::{ENV_VARS, GHCR_MAX_CHUNK_SIZE, GhcrConfig, GhcrConfigBuilder};
pub use error::{Error, Result};
pub use health::{Check, HealthStatus, TokenCheck};
#[cfg(feature = "registry")]
pub use multiarch::MultiArchReport;
pub use ops::BoxFuture;
#[cfg(feature = "packages")]
pub use ops::PackageOperations;
#[cfg(feature = "registry")]
pub use ops::RegistryOperations;

/// Credentials and tokens (`ghcr-auth`).
pub use ghcr_auth as auth;
/// The request pipeline (`ghcr-transport`).
pub use ghcr_transport as transport;
/// References, digests, manifests, packages, vulnerabilities (`ghcr-types`).
pub use ghcr_types as types;

/// OCI Distribution operations (`ghcr-registry`).
#[cfg(feature = "registry")]
pub use ghcr_registry as registry;

/// The GitHub Packages API (`ghcr-packages`).
#[cfg(feature = "packages")]
pub use ghcr_packages as packages;

/// Signature verification (`ghcr-trust`).
#[cfg(feature = "trust")]
pub use ghcr_trust as trust;

/// The embedded fake ghcr.io and record/replay (`ghcr-sim`).
#[cfg(feature = "sim")]
pub use ghcr_sim as sim;
