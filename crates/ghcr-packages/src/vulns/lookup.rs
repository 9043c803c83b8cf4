//! The client's vulnerability operations (FR-VULN-001..004) in the
//! design's shape, reading what really exists: scan attestations attached
//! to the version's digest. No data is [`Error::VulnDataNotAvailable`] for
//! one version, and a `without_data` entry in a listing.

use std::collections::HashMap;

use ghcr_types::{
    Digest, Owner, OwnerType, PackageVersion, PackageVersionId, Severity, VulnerabilityReport,
};

use super::attestations::{Attached, Found, find};
use super::github::AttestationsApi;
use super::scans::Scans;
use crate::cleanup::{name_tags, referrer_subject};
use crate::client::PackagesClient;
use crate::error::{Error, Result};
use crate::gate::{GateResult, security_gate};
use crate::manifests::ManifestCache;
use crate::owner::describe;
use crate::restore::VersionFailure;
use crate::versions::VersionState;

/// A version with findings at or above the asked severity.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct VulnerableVersion {
    /// The version.
    pub version: PackageVersion,
    /// Its newest scan.
    pub report: VulnerabilityReport,
}

/// What [`PackagesClient::list_vulnerable_versions`] found.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct VulnerableVersions {
    /// Versions with findings at or above the severity.
    pub vulnerable: Vec<VulnerableVersion>,
    /// Scanned versions with nothing at or above it.
    pub below_threshold: Vec<PackageVersionId>,
    /// Tagged versions with no scan attached.
    pub without_data: Vec<PackageVersionId>,
    /// Versions whose attestations could not be read.
    pub unreadable: Vec<VersionFailure>,
    /// Under a verification policy: versions with scans attached of which
    /// none verified.
    pub unverified: Vec<PackageVersionId>,
}

impl PackagesClient {
    /// Turns what a search found into reports, or the error that explains none.
    async fn reports_or_error(
        &self,
        owner: &Owner,
        package: &str,
        subject: &Digest,
        mut found: Found,
    ) -> Result<Scans> {
        if found.reports.is_empty() && self.inner.attestations_api == AttestationsApi::Consult {
            let more = self.github_attestation_scans(owner, subject).await?;
            found.reports = more.reports;
            found.ignored.extend(more.ignored);
            found.looked.push_str(" and GitHub's attestations API");
        }
        if !found.reports.is_empty() {
            return Ok(Scans {
                reports: found.reports,
                ignored: found.ignored,
            });
        }
        if !found.ignored.is_empty() {
            return Err(Error::ScansNotVerified {
                package: describe(owner, package),
                subject: subject.clone(),
                ignored: found.ignored,
            });
        }
        match found.problems.into_iter().next() {
            Some(problem) => Err(problem),
            None => Err(Error::VulnDataNotAvailable {
                package: describe(owner, package),
                subject: subject.clone(),
                looked: format!(
                    "no cosign vuln or in-toto vulns attestation in {}",
                    found.looked
                ),
            }),
        }
    }

    /// Every vulnerability report attached to an image digest of a package,
    /// newest scan first. Under the client's verification policy
    /// ([`crate::PackagesClientBuilder::verify_with`]) only reports whose
    /// attestations verified.
    ///
    /// # Errors
    ///
    /// As [`PackagesClient::vulnerability_scans`].
    pub async fn vulnerability_reports(
        &self,
        owner: &Owner,
        package: &str,
        subject: &Digest,
    ) -> Result<Vec<VulnerabilityReport>> {
        Ok(self
            .vulnerability_scans(owner, package, subject)
            .await?
            .reports)
    }

    /// The vulnerability attestations attached to an image digest of a
    /// package: reports, newest scan first, and, under the client's
    /// verification policy, the attestations left out because they did not
    /// verify (reports then come only from those that did).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # use std::sync::Arc;
    /// # use ghcr_transport::ghcr_auth::{Credentials, StaticProvider};
    /// use ghcr_packages::{Error, PackagesClient};
    /// use ghcr_sim::attest::{Attachment, Envelope, VulnFormat, attestation_key};
    /// use ghcr_trust::{Policy, PublicKey};
    /// use ghcr_types::Owner;
    ///
    /// # let fake = ghcr_sim::fake::FakeGhcr::builder().user("octo", "token-o").start().await?;
    /// # let store = fake.store();
    /// # let layer = |text: &'static str| [bytes::Bytes::from_static(text.as_bytes())];
    /// // A clean scan signed as `cosign attest --key` signs, and a forged one.
    /// let clean = |envelope| Attachment::Vulnerabilities(VulnFormat::CosignTrivyClean, envelope);
    /// let signed = store.push_image("octo/app", Some("signed"), &layer("a"))?.manifest;
    /// store.attach("octo/app", &signed, &clean(Envelope::SignedDsse))?;
    /// let forged = store.push_image("octo/app", Some("forged"), &layer("b"))?.manifest;
    /// store.attach("octo/app", &forged, &clean(Envelope::Dsse))?;
    /// # let credentials = StaticProvider::new(Credentials::basic("octo", "token-o")).for_host(fake.registry_host());
    /// # let transport = ghcr_transport::Transport::builder()
    /// #     .allow_plain_http(fake.registry_host())
    /// #     .credentials(Arc::new(credentials))
    /// #     .build()?;
    ///
    /// let cosign_pub = attestation_key()?.public_key_pem();
    /// let client = PackagesClient::builder(transport)
    /// #   .api_base(&fake.api_base())
    /// #   .registry_host(fake.registry_host())
    ///     .verify_with(Policy::keys([PublicKey::from_pem(cosign_pub, "cosign.pub")?]))
    ///     .build()?;
    /// let owner = Owner::user("octo");
    /// let scans = client.vulnerability_scans(&owner, "app", &signed).await?;
    /// assert!(scans.reports[0].source.signature_verified);
    /// let refused = client.vulnerability_scans(&owner, "app", &forged).await;
    /// assert!(matches!(refused, Err(Error::ScansNotVerified { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::VulnDataNotAvailable`] when none is attached,
    /// [`Error::ScansNotVerified`] when under a policy none verified,
    /// [`Error::InvalidAttestation`] when the only ones cannot be read, and
    /// registry errors.
    #[tracing::instrument(skip_all, fields(owner = %owner, package = %package, digest = %subject))]
    pub async fn vulnerability_scans(
        &self,
        owner: &Owner,
        package: &str,
        subject: &Digest,
    ) -> Result<Scans> {
        let cache = ManifestCache::new(
            self.registry().clone(),
            self.repository(owner, package).await?,
        );
        let policy = self.inner.verification.as_ref();
        let found = find(&cache, subject, &Attached::LookUp, policy).await?;
        self.reports_or_error(owner, package, subject, found).await
    }

    /// The newest vulnerability report of a package version (FR-VULN-001),
    /// with severities (FR-VULN-003) and fixed versions (FR-VULN-004). Its
    /// source says which attestation, scanner and database it came from,
    /// and whether (and by whom) it was signed: under the client's
    /// verification policy only a verified report is returned.
    ///
    /// # Errors
    ///
    /// As [`PackagesClient::vulnerability_reports`], and
    /// [`PackagesClient::get_version`]'s errors.
    pub async fn get_vulnerabilities(
        &self,
        owner: &str,
        package: &str,
        version_id: PackageVersionId,
        owner_type: OwnerType,
    ) -> Result<VulnerabilityReport> {
        let owner = Owner::new(owner_type, owner);
        let version = self.get_version(&owner, package, version_id).await?;
        let subject = version.digest()?;
        let mut reports = self
            .vulnerability_reports(&owner, package, &subject)
            .await?;
        let mut report = reports.remove(0);
        report.package_version_id = Some(version_id);
        Ok(report)
    }

    /// The package's versions with findings at `min_severity` or worse
    /// (FR-VULN-002), from one version listing and the attestations its
    /// referrer tags point at. Versions without data are listed, not errors.
    ///
    /// # Errors
    ///
    /// The version listing's errors.
    #[tracing::instrument(skip_all, fields(owner = %owner, package = %package))]
    pub async fn list_vulnerable_versions(
        &self,
        owner: &str,
        package: &str,
        owner_type: OwnerType,
        min_severity: Severity,
    ) -> Result<VulnerableVersions> {
        let owner = Owner::new(owner_type, owner);
        let versions = self
            .list_versions(&owner, package, VersionState::Active)
            .await?;
        let mut attached: HashMap<String, Vec<Digest>> = HashMap::new();
        for version in &versions {
            for subject in version
                .tags()
                .iter()
                .filter_map(|tag| referrer_subject(tag))
            {
                if let Ok(digest) = version.digest() {
                    attached.entry(subject).or_default().push(digest);
                }
            }
        }
        let cache = ManifestCache::new(
            self.registry().clone(),
            self.repository(&owner, package).await?,
        );
        let mut listing = VulnerableVersions::default();
        for version in versions {
            let Ok(subject) = version.digest() else {
                continue;
            };
            let named = name_tags(&version).next().is_some();
            let found = match attached.get(subject.as_str()) {
                Some(referrers) => {
                    let known = Attached::Known(referrers.clone());
                    find(&cache, &subject, &known, self.inner.verification.as_ref()).await
                }
                // Nothing in the registry; GitHub's attestations API may still hold a scan.
                None if named && self.inner.attestations_api == AttestationsApi::Consult => {
                    Ok(Found {
                        looked: "the registry".into(),
                        ..Found::default()
                    })
                }
                None => {
                    if named {
                        listing.without_data.push(version.id);
                    }
                    continue;
                }
            };
            let found = match found {
                Ok(found) => {
                    self.reports_or_error(&owner, package, &subject, found)
                        .await
                }
                Err(error) => Err(error),
            };
            match found {
                Ok(Scans { mut reports, .. }) => {
                    let mut report = reports.remove(0);
                    report.package_version_id = Some(version.id);
                    if report.at_least(min_severity).next().is_some() {
                        listing
                            .vulnerable
                            .push(VulnerableVersion { version, report });
                    } else {
                        listing.below_threshold.push(version.id);
                    }
                }
                Err(Error::VulnDataNotAvailable { .. }) => {
                    if named {
                        listing.without_data.push(version.id);
                    }
                }
                Err(Error::ScansNotVerified { .. }) => listing.unverified.push(version.id),
                Err(error) => listing
                    .unreadable
                    .push(VersionFailure::new(version.id, &error)),
            }
        }
        Ok(listing)
    }

    /// Passes or blocks a version on its newest scan: findings at
    /// `max_severity` or worse block (see [`crate::security_gate`]). Fails
    /// closed: no scan is an error, not a pass.
    ///
    /// # Errors
    ///
    /// As [`PackagesClient::get_vulnerabilities`], notably
    /// [`Error::VulnDataNotAvailable`].
    pub async fn security_gate(
        &self,
        owner: &str,
        package: &str,
        version_id: PackageVersionId,
        owner_type: OwnerType,
        max_severity: Severity,
    ) -> Result<GateResult> {
        let report = self
            .get_vulnerabilities(owner, package, version_id, owner_type)
            .await?;
        Ok(security_gate(&report, max_severity))
    }
}
