//! The GitHub Packages REST API for ghcr.io: packages and versions, safe
//! retention cleanup with restore, and vulnerability reports read from
//! attestations.
//!
//! `ghcr-packages` sits beside `ghcr-registry` above `ghcr-transport`, and
//! on `ghcr-trust` for signature verification: every
//! request goes through the transport (`AuthScope::GitHubApi`, the
//! `packages` endpoint label, GitHub's `Accept` and pinned
//! `X-GitHub-Api-Version` headers), and manifests and attestations are read
//! through a [`ghcr_registry::RegistryClient`], each digest once per run
//! (every manifest GET counts as a download on GitHub).
//!
//! - Packages and versions for the authenticated user, a user or an
//!   organization ([`ghcr_types::Owner`]): list (as [`Pages`] following
//!   `Link`, resumable from a [`PageCursor`]), get, delete, restore, find by
//!   tag or digest, and [`PackagesClient::delete_image`] by reference.
//! - Cleanup that never breaks an image: a [`RetentionPolicy`], a
//!   [`CleanupPlan`] that keeps everything kept versions reference, paced
//!   execution and a [`CleanupReport`] with restore instructions.
//! - Vulnerabilities: [`PackagesClient::get_vulnerabilities`] and
//!   [`PackagesClient::list_vulnerable_versions`] read cosign vuln and
//!   in-toto vulns attestations (Trivy JSON or SARIF, in DSSE envelopes or
//!   Sigstore bundles), and [`security_gate`] decides. With a
//!   verification policy ([`PackagesClientBuilder::verify_with`], a
//!   `ghcr_trust::Policy`) only scans whose signatures verify count.
//! - Visibility is read-only: GitHub has no API to change it.
//! - [`PackagesClient::rate_limit`]: every API budget and what is left.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! # use std::sync::Arc;
//! # use ghcr_transport::ghcr_auth::{Credentials, StaticProvider};
//! use ghcr_packages::{PackagesClient, RetentionPolicy, VersionState};
//! use ghcr_types::Owner;
//!
//! # let fake = ghcr_sim::fake::FakeGhcr::builder().user("octo", "token-o").start().await?;
//! # let store = fake.store();
//! # store.push_index("octo/app", "v1", &["linux/amd64", "linux/arm64"])?;
//! # for n in 0..3 {
//! #     store.push_image("octo/app", None, &[bytes::Bytes::from(format!("old build {n}"))])?;
//! # }
//! # let credentials = StaticProvider::new(Credentials::basic("octo", "token-o")).for_host(fake.registry_host());
//! # let transport = ghcr_transport::Transport::builder()
//! #     .allow_plain_http(fake.registry_host())
//! #     .credentials(Arc::new(credentials))
//! #     .build()?;
//! let client = PackagesClient::builder(transport)
//! #   .api_base(&fake.api_base())
//! #   .registry_host(fake.registry_host())
//!     .build()?;
//! let owner = Owner::user("octo");
//! let versions = client.list_versions(&owner, "app", VersionState::Active).await?;
//! assert_eq!(versions.len(), 6); // v1's index, its two platform manifests, three old builds
//!
//! // A dry run first: the untagged old builds go, v1's platform manifests stay.
//! let policy = RetentionPolicy::builder().only_untagged().build()?;
//! let plan = client.plan_cleanup(&owner, "app", &policy).await?;
//! assert_eq!(plan.to_delete().count(), 3);
//! let report = client.execute_cleanup(&plan).await;
//! assert_eq!(report.deleted().len(), 3);
//! assert!(report.restore_hint().to_string().contains("restore"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod cleanup;
mod client;
mod delete_image;
mod error;
mod gate;
mod manifests;
mod owner;
mod pace;
mod packages;
mod page;
mod rate_limit;
mod restore;
#[cfg(test)]
mod scripted;
mod versions;
mod visibility;
mod vulns;

pub use cleanup::{
    CleanupPlan, CleanupReport, Decision, DeleteReason, Journal, JournalSummary, KeepReason, Link,
    Outcome, PLANS_AT_ONCE, PackageDeletion, PackageSelection, PlanEntry, PolicySet, ReportEntry,
    RetentionPolicy, RetentionPolicyBuilder,
};
pub use client::{DEFAULT_API_VERSION, GITHUB_API, PackagesClient, PackagesClientBuilder};
pub use delete_image::{DeleteTags, DeletedImage};
pub use error::{Error, Result};
pub use gate::{GateResult, security_gate};
pub use page::{MAX_ITEMS, MAX_PAGES, PageCursor, Pages};
pub use restore::{RESTORE_WINDOW, RestoreHint, RestoreReport, VersionFailure};
pub use versions::VersionState;
pub use vulns::{
    AttestationsApi, COSIGN_VULN_PREDICATE, IN_TOTO_VULNS_PREDICATE, IgnoredAttestation, Origin,
    Scans, VulnerableVersion, VulnerableVersions, parse_vulnerability_attestation,
};
