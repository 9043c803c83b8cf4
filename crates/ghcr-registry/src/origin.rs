//! Where a registry may send us: an upload `Location` or a tag `Link` is
//! followed only on the registry's own origin, unless the caller allowed
//! the other host. A hop to another origin goes without credentials, and
//! never to a private, loopback or link-local IP literal other than the
//! registry's own host (a hostile registry must not make us its deputy).

use std::net::IpAddr;

use http::Uri;

use crate::client::RegistryClient;
use crate::error::{Error, Result};

/// Whose credentials a followed URL may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The registry the operation named: its scoped token.
    Registry,
    /// An allowed other host: no credentials at all.
    Foreign,
}

impl RegistryClient {
    /// Resolves `location` (what the registry sent as `what`) against
    /// `base` and checks that it may be followed for `registry`.
    pub(crate) fn follow(
        &self,
        registry: &str,
        base: &Uri,
        location: &str,
        what: &'static str,
    ) -> Result<(Uri, Origin)> {
        let url = self.resolve(base, location)?;
        let origin = self.origin_of(registry, &url, what)?;
        Ok((url, origin))
    }

    /// Whether `url` is on `registry`'s origin, an allowed host, or refused.
    pub(crate) fn origin_of(
        &self,
        registry: &str,
        url: &Uri,
        what: &'static str,
    ) -> Result<Origin> {
        // Docker Hub (`docker.io`) answers on its API host.
        let registry = ghcr_types::docker_hub::api_host(registry);
        let host = url.authority().map_or("", http::uri::Authority::as_str);
        let scheme = self.transport.scheme_for(registry);
        if url.scheme_str() == Some(scheme) && same_authority(url, registry) {
            return Ok(Origin::Registry);
        }
        let refused = |reason: &str| Error::ForeignOrigin {
            what,
            registry: registry.to_owned(),
            host: host.to_owned(),
            reason: reason.to_owned(),
        };
        let bare = url.host().unwrap_or_default();
        if is_private_literal(bare) && !same_host(bare, registry) {
            return Err(refused(
                "it is a private, loopback or link-local address and not the registry's own",
            ));
        }
        let allowed = self
            .settings
            .allowed_origins
            .iter()
            .any(|allowed| same_authority(url, allowed));
        if allowed {
            tracing::debug!(
                host,
                "following the registry to an allowed origin, without credentials"
            );
            Ok(Origin::Foreign)
        } else {
            Err(refused(
                "if that host is the registry's own upload or storage host, allow it (GHCR_ALLOW_ORIGINS or --allow-origin; RegistryClientBuilder::allow_origin in code; requests there carry no credentials)",
            ))
        }
    }
}

/// `host` (as in a URL, IPv6 in brackets) is an IP literal that is
/// loopback, private, link-local, unique-local or unspecified.
fn is_private_literal(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified()
        }
        Ok(IpAddr::V6(ip)) => {
            let first = ip.segments()[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_private_literal(&v4.to_string()))
        }
        Err(_) => false,
    }
}

/// `url` names the same host and port as `authority` (`host[:port]`, its
/// port defaulting to that of `url`'s scheme), so `ghcr.io` and
/// `https://ghcr.io:443` are one origin.
fn same_authority(url: &Uri, authority: &str) -> bool {
    let Ok(authority) = authority.parse::<http::uri::Authority>() else {
        return false;
    };
    let default_port = match url.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    };
    let url_port = url.port_u16().or(default_port);
    let port = authority.port_u16().or(default_port);
    let url_host = url.host().unwrap_or_default();
    url_port == port && url_host.eq_ignore_ascii_case(authority.host())
}

/// `host` is the host part of `registry` (`host[:port]`).
fn same_host(host: &str, registry: &str) -> bool {
    let registry_host = registry
        .parse::<http::uri::Authority>()
        .map(|authority| authority.host().to_owned())
        .unwrap_or_default();
    registry_host.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_literals() {
        for (host, expected) in [
            ("127.0.0.1", true),
            ("10.1.2.3", true),
            ("192.168.0.1", true),
            ("169.254.169.254", true),
            ("0.0.0.0", true),
            ("[::1]", true),
            ("[fe80::1]", true),
            ("[fd00::1]", true),
            ("[::ffff:169.254.169.254]", true),
            ("8.8.8.8", false),
            ("[2001:db8::1]", false),
            ("storage.example", false),
        ] {
            assert_eq!(is_private_literal(host), expected, "{host}");
        }
    }

    fn check(allowed: &[&str], registry: &str, url: &str, expected: Option<Origin>) {
        let transport = ghcr_transport::Transport::builder()
            .allow_plain_http("127.0.0.1:5000")
            .build()
            .unwrap();
        let mut builder = RegistryClient::builder(transport);
        for host in allowed {
            builder = builder.allow_origin(*host);
        }
        let client = builder.build().unwrap();
        let url: Uri = url.parse().unwrap();
        let got = client.origin_of(registry, &url, "an upload Location").ok();
        assert_eq!(got, expected, "{registry} -> {url} with {allowed:?}");
    }

    #[test]
    fn only_the_registry_and_allowed_hosts_are_followed() {
        use Origin::{Foreign, Registry};
        check(&[], "ghcr.io", "https://ghcr.io/v2/a/b", Some(Registry));
        check(&[], "ghcr.io", "https://GHCR.io/v2/a/b", Some(Registry));
        check(&[], "ghcr.io", "http://ghcr.io/v2/a/b", None);
        check(&[], "ghcr.io", "https://ghcr.io:8443/v2/a/b", None);
        check(&[], "ghcr.io", "https://ghcr.io:443/v2/a/b", Some(Registry));
        check(&[], "ghcr.io:443", "https://ghcr.io/v2/a/b", Some(Registry));
        check(
            &["up.example"],
            "ghcr.io",
            "https://up.example:443/x",
            Some(Foreign),
        );
        check(
            &["up.example"],
            "ghcr.io",
            "https://up.example:8443/x",
            None,
        );
        check(
            &["up.example:443"],
            "ghcr.io",
            "https://UP.example/x",
            Some(Foreign),
        );
        check(&[], "ghcr.io", "https://evil.example/v2/a/b", None);
        check(
            &["up.example"],
            "ghcr.io",
            "https://up.example/x",
            Some(Foreign),
        );
        check(
            &["up.example"],
            "ghcr.io",
            "https://169.254.169.254/x",
            None,
        );
        check(
            &["169.254.169.254"],
            "ghcr.io",
            "https://169.254.169.254/x",
            None,
        );
        check(
            &[],
            "127.0.0.1:5000",
            "http://127.0.0.1:5000/v2/a",
            Some(Registry),
        );
        check(&[], "127.0.0.1:5000", "http://127.0.0.1:6000/v2/a", None);
        check(
            &["127.0.0.1:6000"],
            "127.0.0.1:5000",
            "http://127.0.0.1:6000/v2/a",
            Some(Foreign),
        );
        check(
            &["10.0.0.1:80"],
            "127.0.0.1:5000",
            "http://10.0.0.1:80/v2/a",
            None,
        );
    }
}
