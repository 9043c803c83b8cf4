//! Credentials, and the one place their secrets become header values.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// What a provider found for a registry.
///
/// `Debug` never shows a secret:
///
/// ```
/// use ghcr_auth::Credentials;
///
/// let creds = Credentials::basic("octocat", "ghp_secret");
/// assert!(!format!("{creds:?}").contains("ghp_secret"));
/// assert_eq!(creds.username(), Some("octocat"));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// A username with a password or personal access token (what ghcr.io uses).
    Basic {
        /// The account name.
        username: String,
        /// The password or token.
        password: SecretString,
    },
    /// An OAuth refresh token that `docker login` stored for some registries.
    IdentityToken {
        /// The username the helper reported, when any.
        username: Option<String>,
        /// The refresh token.
        token: SecretString,
    },
}

impl Credentials {
    /// A username and password or token.
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::Basic {
            username: username.into(),
            password: SecretString::from(password.into()),
        }
    }

    /// The username, when known.
    pub fn username(&self) -> Option<&str> {
        match self {
            Self::Basic { username, .. } => Some(username),
            Self::IdentityToken { username, .. } => username.as_deref(),
        }
    }

    /// `Authorization: Basic base64(user:password)`, marked sensitive; `None`
    /// for an identity token, which is never sent as Basic.
    pub fn basic_authorization(&self) -> Option<HeaderValue> {
        match self {
            Self::Basic { username, password } => {
                let encoded = STANDARD.encode(format!("{username}:{}", password.expose_secret()));
                sensitive(&format!("Basic {encoded}"))
            }
            Self::IdentityToken { .. } => None,
        }
    }

    /// `Authorization: Bearer <token>` with the password as the token, the
    /// form the GitHub REST API takes a PAT or `GITHUB_TOKEN` in.
    pub fn api_bearer_authorization(&self) -> Option<HeaderValue> {
        match self {
            Self::Basic { password, .. } => {
                sensitive(&format!("Bearer {}", password.expose_secret()))
            }
            Self::IdentityToken { .. } => None,
        }
    }

    /// The refresh token of an identity token, for the OAuth form of a token request.
    pub(crate) fn refresh_token(&self) -> Option<&str> {
        match self {
            Self::IdentityToken { token, .. } => Some(token.expose_secret()),
            Self::Basic { .. } => None,
        }
    }
}

/// A bearer token header built from a registry token.
pub(crate) fn bearer(token: &SecretString) -> Option<HeaderValue> {
    sensitive(&format!("Bearer {}", token.expose_secret()))
}

fn sensitive(text: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(text).ok()?;
    value.set_sensitive(true);
    Some(value)
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"[redacted]")
                .finish(),
            Self::IdentityToken { username, .. } => f
                .debug_struct("IdentityToken")
                .field("username", username)
                .field("token", &"[redacted]")
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_sensitive_and_debug_is_redacted() {
        let creds = Credentials::basic("user", "s3cret-token");
        let basic = creds.basic_authorization().unwrap();
        assert!(basic.is_sensitive());
        assert_eq!(
            basic.to_str().unwrap(),
            format!("Basic {}", STANDARD.encode("user:s3cret-token"))
        );
        let bearer = creds.api_bearer_authorization().unwrap();
        assert!(bearer.is_sensitive());
        assert!(!format!("{bearer:?}").contains("s3cret"));
        assert!(!format!("{creds:?}").contains("s3cret"));
        let identity = Credentials::IdentityToken {
            username: None,
            token: SecretString::from("refresh-s3cret".to_owned()),
        };
        assert!(identity.basic_authorization().is_none());
        assert!(!format!("{identity:?}").contains("s3cret"));
        assert_eq!(identity.refresh_token(), Some("refresh-s3cret"));
    }

    #[test]
    fn unprintable_secrets_do_not_panic() {
        let creds = Credentials::basic("user", "line\nbreak");
        assert!(creds.api_bearer_authorization().is_none());
        // Base64 makes any Basic secret printable.
        assert!(creds.basic_authorization().is_some());
    }
}
