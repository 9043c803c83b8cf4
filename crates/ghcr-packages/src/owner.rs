//! Owners and package names as REST paths, registry repositories and web
//! pages spell them. Nested names (`team/app`) are one path segment in the
//! API, with `/` encoded as `%2F`; unencoded, GitHub answers 404.

use ghcr_types::{Owner, Reference};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::client::PackagesClient;
use crate::error::Result;

/// Everything but RFC 3986 unreserved characters is encoded, `/` included.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A package name as one path segment: `team/app` → `team%2Fapp`.
pub(crate) fn encode_name(name: &str) -> String {
    utf8_percent_encode(name, SEGMENT).to_string()
}

/// `/orgs/o/packages/container/team%2Fapp`.
pub(crate) fn package_path(owner: &Owner, name: &str) -> String {
    format!(
        "{}/packages/container/{}",
        owner.api_path(),
        encode_name(name)
    )
}

/// `package team/app of organization o`, for messages.
pub(crate) fn describe(owner: &Owner, name: &str) -> String {
    format!("package {name} of {owner}")
}

/// The web page where a person changes a package's settings (visibility,
/// access, deletion): `{web}/orgs/{o}/packages/container/{name}/settings`.
pub(crate) fn settings_url(web_base: &str, organization: bool, login: &str, name: &str) -> String {
    let kind = if organization { "orgs" } else { "users" };
    format!(
        "{web_base}/{kind}/{login}/packages/container/{}/settings",
        encode_name(name)
    )
}

impl PackagesClient {
    /// The registry repository of a package, `{registry}/{owner}/{package}`
    /// in lowercase as image names must be.
    ///
    /// # Errors
    ///
    /// For the authenticated user, the errors of
    /// [`PackagesClient::authenticated_login`]; [`crate::Error::Data`] when
    /// the names do not make a valid repository.
    pub async fn repository(&self, owner: &Owner, package: &str) -> Result<Reference> {
        let login = match owner.login() {
            Some(login) => login.to_owned(),
            None => self.authenticated_login().await?,
        };
        let path = format!("{login}/{package}").to_ascii_lowercase();
        Ok(Reference::new(self.registry_host(), &path)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_segment() {
        for (name, encoded) in [
            ("app", "app"),
            ("team/app", "team%2Fapp"),
            ("a/b/c", "a%2Fb%2Fc"),
            ("my_app-1.0", "my_app-1.0"),
            ("sp ace", "sp%20ace"),
        ] {
            assert_eq!(encode_name(name), encoded, "{name}");
        }
        assert_eq!(
            package_path(&Owner::org("o"), "team/app"),
            "/orgs/o/packages/container/team%2Fapp"
        );
        assert_eq!(
            package_path(&Owner::AuthenticatedUser, "app"),
            "/user/packages/container/app"
        );
        assert_eq!(
            settings_url("https://github.com", true, "o", "team/app"),
            "https://github.com/orgs/o/packages/container/team%2Fapp/settings"
        );
        assert_eq!(
            settings_url("https://ghe.example", false, "u", "app"),
            "https://ghe.example/users/u/packages/container/app/settings"
        );
    }
}
