//! GitHub API calls beyond the packages client's: the rate-limit
//! overview (a thin call into it), and telling a user from an organization
//! by login.

use ghcr_types::{Owner, RateLimitInfo};

use crate::client::GhcrClient;
use crate::error::Result;

impl GhcrClient {
    /// Every GitHub API budget (`core`, `search`, `graphql`, …) from
    /// `GET /rate_limit`, which does not count against the primary limit
    /// ([`ghcr_packages::PackagesClient::rate_limit`]). ghcr.io itself
    /// publishes no limits.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Packages`]: the API's errors, or an answer that is
    /// not a rate-limit overview.
    pub async fn rate_limit(&self) -> Result<Vec<RateLimitInfo>> {
        Ok(self.packages().rate_limit().await?)
    }

    /// The owner `login` names: an organization when GitHub lists container
    /// packages under `/orgs/{login}` (or refuses this token there), a user
    /// when it answers 404. Remembered for the client's lifetime.
    ///
    /// # Errors
    ///
    /// The API's errors other than 404.
    pub async fn resolve_owner(&self, login: &str) -> Result<Owner> {
        let mut known = self.inner.owners.lock().await;
        if let Some(owner) = known.get(login) {
            return Ok(owner.clone());
        }
        let probe = self
            .packages()
            .packages(&Owner::org(login), None)?
            .next_page()
            .await;
        let owner = match probe {
            Ok(_) | Err(ghcr_packages::Error::OrgListingForbidden { .. }) => Owner::org(login),
            Err(error) if is_not_found(&error) => Owner::user(login),
            Err(error) => return Err(error.into()),
        };
        known.insert(login.to_owned(), owner.clone());
        Ok(owner)
    }
}

/// A 404, also when it comes wrapped in a paging error.
fn is_not_found(error: &ghcr_packages::Error) -> bool {
    match error {
        ghcr_packages::Error::Paging { source, .. } => is_not_found(source),
        other => other.is_not_found(),
    }
}
