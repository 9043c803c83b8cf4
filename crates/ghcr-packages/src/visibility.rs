//! Visibility (FR-VIS-001/002): read from the package and usable as a list
//! filter. GitHub has no API to change it (a PATCH answers 404); only the
//! package settings page can, and public is final.

use ghcr_types::{Owner, Visibility};

use crate::client::PackagesClient;
use crate::error::{Error, Result};
use crate::owner::{describe, settings_url};

impl PackagesClient {
    /// Who can see a package. Visibility belongs to the whole package, never
    /// to one version.
    ///
    /// # Errors
    ///
    /// As [`PackagesClient::get_package`], and [`Error::InvalidResponse`]
    /// when GitHub's answer does not say.
    pub async fn visibility(&self, owner: &Owner, package: &str) -> Result<Visibility> {
        self.get_package(owner, package)
            .await?
            .visibility
            .ok_or_else(|| Error::InvalidResponse {
                operation: format!("get {}", describe(owner, package)),
                reason: "the package has no `visibility`".into(),
            })
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
        if found.visibility.as_ref() == Some(visibility) {
            return Ok(());
        }
        let (organization, login) = match (owner, &found.owner) {
            (Owner::Org(login), _) => (true, login.clone()),
            (_, Some(account)) => (
                account.kind.as_deref() == Some("Organization"),
                account.login.clone(),
            ),
            (Owner::User(login), None) => (false, login.clone()),
            _ => (false, self.authenticated_login().await?),
        };
        let now = found.visibility.as_ref().map_or_else(
            || "of a visibility GitHub did not say".to_owned(),
            ToString::to_string,
        );
        let mut reason = format!(
            "the package is {now} and GitHub offers no REST or GraphQL call to make it {visibility}"
        );
        if found.visibility == Some(Visibility::Public) {
            reason.push_str("; a public package can never be made private again");
        }
        Err(Error::Unsupported {
            operation: "changing a package's visibility",
            reason,
            settings_url: settings_url(self.web_base(), organization, &login, package),
        })
    }
}
