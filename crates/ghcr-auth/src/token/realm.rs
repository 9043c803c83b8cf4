//! Where a registry issues tokens, and whether credentials may go there.

use std::collections::HashSet;
use std::net::IpAddr;

use crate::{Challenge, Error, Result};

/// A token endpoint: the `realm` and `service` of a Bearer challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRealm {
    realm: String,
    service: Option<String>,
}

impl TokenRealm {
    /// A realm URL and the service to name in requests.
    pub fn new(realm: impl Into<String>, service: Option<String>) -> Self {
        Self {
            realm: realm.into(),
            service,
        }
    }

    /// The realm of a Bearer challenge; `None` for other challenges.
    pub fn from_challenge(challenge: &Challenge) -> Option<Self> {
        if challenge.scheme != crate::AuthScheme::Bearer {
            return None;
        }
        let realm = challenge.realm()?;
        Some(Self::new(realm, challenge.service().map(str::to_owned)))
    }

    /// The token endpoint URL.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The service name, when the registry gave one.
    pub fn service(&self) -> Option<&str> {
        self.service.as_deref()
    }

    /// The realm without its query, safe to show.
    pub(crate) fn display(&self) -> &str {
        self.realm.split(['?', '#']).next().unwrap_or_default()
    }

    /// https always; plain http only to a loopback realm of a registry the
    /// caller allowed plain HTTP for.
    pub(crate) fn check_safe(
        &self,
        registry: &str,
        plain_http_hosts: &HashSet<String>,
    ) -> Result<()> {
        let unsafe_realm = |reason| Error::UnsafeRealm {
            realm: self.display().to_owned(),
            reason,
        };
        let uri: http::Uri = self
            .realm
            .parse()
            .map_err(|_| unsafe_realm("it is not a URL"))?;
        let host = uri.host().ok_or_else(|| unsafe_realm("it has no host"))?;
        match uri.scheme_str() {
            Some("https") => Ok(()),
            Some("http") => {
                if !plain_http_hosts.contains(registry) {
                    return Err(unsafe_realm(
                        "it is plain HTTP and plain HTTP was not enabled for this registry",
                    ));
                }
                if !is_loopback(host) {
                    return Err(unsafe_realm(
                        "plain HTTP realms must be on a loopback address",
                    ));
                }
                Ok(())
            }
            _ => Err(unsafe_realm("only https (or http on loopback) is accepted")),
        }
    }
}

pub(crate) fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(realm: &str, registry: &str, plain: &[&str]) -> std::result::Result<(), String> {
        let allowed: HashSet<String> = plain.iter().map(|s| (*s).to_owned()).collect();
        TokenRealm::new(realm, None)
            .check_safe(registry, &allowed)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn realm_safety_table() {
        assert!(check("https://ghcr.io/token", "ghcr.io", &[]).is_ok());
        assert!(check("https://auth.example/token?x=1", "ghcr.io", &[]).is_ok());
        assert!(
            check(
                "http://127.0.0.1:9/token",
                "127.0.0.1:5000",
                &["127.0.0.1:5000"]
            )
            .is_ok()
        );
        assert!(
            check(
                "http://[::1]:9/token",
                "localhost:5000",
                &["localhost:5000"]
            )
            .is_ok()
        );
        assert!(check("http://localhost/token", "localhost", &["localhost"]).is_ok());
        let err = check("http://127.0.0.1:9/token", "127.0.0.1:5000", &[]).unwrap_err();
        assert!(err.contains("not enabled"), "{err}");
        let err = check(
            "http://evil.example/token",
            "127.0.0.1:5000",
            &["127.0.0.1:5000"],
        )
        .unwrap_err();
        assert!(err.contains("loopback"), "{err}");
        assert!(check("ftp://x/token", "ghcr.io", &[]).is_err());
        assert!(check("not a url", "ghcr.io", &[]).is_err());
        assert!(check("/relative", "ghcr.io", &[]).is_err());
    }

    #[test]
    fn display_drops_the_query() {
        assert_eq!(
            TokenRealm::new("https://x/t?sig=secret", None).display(),
            "https://x/t"
        );
    }
}
