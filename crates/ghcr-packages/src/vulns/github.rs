//! GitHub's artifact attestations API (`GET /orgs/{org}/attestations/{digest}`,
//! `/users/{user}/…`): Sigstore bundles by subject digest. These mostly hold
//! provenance and SBOMs; a workflow that attests a vulnerability scan puts
//! it here too. Consulted only when the client is configured to.

use ghcr_types::{Digest, Owner, VulnerabilityReport};
use serde::Deserialize;

use super::bundle;
use super::read::report_from_statement;
use crate::client::PackagesClient;
use crate::error::{Error, Result};

/// Whether vulnerability lookups also ask GitHub's attestations API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttestationsApi {
    /// Only the registry (one request fewer per image).
    #[default]
    Skip,
    /// The registry, then the attestations API when the registry has no scan.
    Consult,
}

#[derive(Deserialize)]
struct Listing {
    #[serde(default)]
    attestations: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    bundle: Option<serde_json::Value>,
}

impl PackagesClient {
    /// Vulnerability reports among the attestations GitHub stores for
    /// `subject` under `owner` (first 100). None found is an empty list.
    ///
    /// # Errors
    ///
    /// The API's errors other than 404, and [`Error::InvalidAttestation`]
    /// when a stored vulnerability attestation cannot be read.
    pub async fn github_attestation_reports(
        &self,
        owner: &Owner,
        subject: &Digest,
    ) -> Result<Vec<VulnerabilityReport>> {
        let base = match owner {
            Owner::Org(login) => format!("/orgs/{login}"),
            Owner::User(login) => format!("/users/{login}"),
            _ => format!("/users/{}", self.authenticated_login().await?),
        };
        let url = self.url(&format!("{base}/attestations/{subject}?per_page=100"))?;
        let what = format!("the attestations of {subject} for {owner}");
        let listing: Listing = match self.get_json(&url, "list", &what).await {
            Ok((listing, _)) => listing,
            Err(error) if error.is_not_found() => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let mut reports = Vec::new();
        for bundle in listing
            .attestations
            .into_iter()
            .filter_map(|entry| entry.bundle)
        {
            let invalid = |reason: String| Error::InvalidAttestation {
                attestation: Digest::sha256_of(bundle.to_string().as_bytes()),
                reason,
            };
            let Some(statement) = bundle::statement(&bundle).map_err(invalid)? else {
                continue;
            };
            if let Some(report) =
                report_from_statement(&statement, subject, None).map_err(invalid)?
            {
                reports.push(report);
            }
        }
        Ok(reports)
    }
}
