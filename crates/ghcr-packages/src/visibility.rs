//! Visibility (FR-VIS-001/002): read from the package and usable as a list
//! filter. GitHub has no API to change it (a PATCH answers 404); only the
//! package settings page can, and public is final.

use ghcr_types::{Owner, Visibility};

use crate::client::PackagesClient;
use crate::error::{Error, Result};
use crate::owner::settings_url;

impl PackagesClient {
    /// Who can see a package. Visibility belongs to the whole package, never
    /// to one version.
    ///
    /// # Errors
    ///
    /// As [`PackagesClient::get_package`].
    pub async fn visibility(&self, owner: &Owner, package: &str) -> Result<Visibility> {
        Ok(self.get_package(owner, package).await?.visibility)
    }

    /// Asks for a visibility change, which GitHub does not offer through
    /// any API. Succeeds only when the package already has that visibility;
    /// otherwise returns [`Error::Unsupported`] with the settings page where
    /// a person can change it.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] for any actual change, and the errors of
    /// [`PackagesClient::get_package`].
    pub async fn set_visibility(
        &self,
        owner: &Owner,
        package: &str,
        visibility: &Visibility,
    ) -> Result<()> {
        let found = self.get_package(owner, package).await?;
        if &found.visibility == visibility {
            return Ok(());
        }
        let (organization, login) = match (owner, &found.owner) {
            (Owner::Org(login), _) => (true, login.clone()),
            (_, Some(account)) => (account.kind == "Organization", account.login.clone()),
            (Owner::User(login), None) => (false, login.clone()),
            _ => (false, self.authenticated_login().await?),
        };
        let mut reason = format!(
            "the package is {} and GitHub offers no REST or GraphQL call to make it {visibility}",
            found.visibility
        );
        if found.visibility == Visibility::Public {
            reason.push_str("; a public package can never be made private again");
        }
        Err(Error::Unsupported {
            operation: "changing a package's visibility",
            reason,
            settings_url: settings_url(self.web_base(), organization, &login, package),
        })
    }
}
