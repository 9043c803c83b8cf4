//! From the environment and the global flags to a client: the `GHCR_*`
//! settings, the credential chain, plain HTTP for the hosts a command
//! names (and an http:// API base), and references read against the configured registry.

use std::sync::Arc;

use anyhow::Context as _;
use ghcr::auth::{ChainProvider, DockerConfigProvider, EnvProvider};
use ghcr::types::{Owner, Reference};
use ghcr::{GhcrClient, GhcrConfig, GhcrConfigBuilder};

use crate::cli::{Global, OwnerKind};
use crate::exit::usage;
use crate::output::Output;

/// The settings before the hosts of a command are known.
pub(crate) struct Setup {
    config: GhcrConfig,
    plain_http: bool,
    pub(crate) out: Output,
}

/// A client and where results go.
pub(crate) struct Context {
    pub(crate) client: GhcrClient,
    pub(crate) out: Output,
}

impl Setup {
    /// Reads the `GHCR_*` variables and adds the credential chain: the
    /// environment (`GITHUB_TOKEN`, `GH_TOKEN`), then the Docker config.
    pub(crate) fn from_env(global: &Global, out: Output) -> anyhow::Result<Self> {
        let chain = ChainProvider::new()
            .with(EnvProvider::new())
            .with(DockerConfigProvider::new());
        let mut builder = GhcrConfigBuilder::from_env()?
            .user_agent(concat!("ghcr-cli/", env!("CARGO_PKG_VERSION")))
            .credential_provider(Arc::new(chain));
        if global.plain_http {
            // An http:// GHCR_API_BASE off loopback is refused without it.
            builder = builder.allow_plain_http_api();
        }
        for host in &global.allow_origin {
            builder = builder.allow_origin(host);
        }
        let config = builder.build()?;
        if global.plain_http
            && config.api_base().starts_with("http://")
            && !ghcr::auth::is_loopback_host(config.api_host())
        {
            out.note(format!(
                "warning: talking plain HTTP to the API at {}: the token travels unencrypted",
                config.api_host()
            ));
        }
        Ok(Self {
            config,
            plain_http: global.plain_http,
            out,
        })
    }

    /// The settings read, to start another config from.
    pub(crate) fn config(&self) -> &GhcrConfig {
        &self.config
    }

    /// Whether --plain-http was given.
    pub(crate) fn plain_http(&self) -> bool {
        self.plain_http
    }

    /// The registry of references that name none.
    pub(crate) fn registry(&self) -> &str {
        self.config.registry()
    }

    /// Reads a reference; without a registry it is on the configured one.
    pub(crate) fn reference(&self, text: &str) -> anyhow::Result<Reference> {
        Reference::parse_in(text, self.registry())
            .map_err(|error| usage(format!("`{text}` is not an image reference: {error}")))
    }

    /// A client; with --plain-http, plain HTTP to `hosts` (or, when there
    /// are none, the configured registry), with a warning for each host
    /// not on loopback.
    pub(crate) fn connect(self, hosts: &[&str]) -> anyhow::Result<Context> {
        let mut builder = self.config.clone().into_builder();
        if self.plain_http {
            // The registries the command names; the configured one when it
            // names none (the GitHub commands read manifests there).
            let mut named: Vec<&str> = hosts.to_vec();
            if named.is_empty() {
                named.push(self.config.registry());
            }
            named.sort_unstable();
            named.dedup();
            for host in named {
                if !ghcr::auth::is_loopback_host(host) {
                    self.out.note(format!(
                        "warning: talking plain HTTP to {host}: credentials and content travel unencrypted"
                    ));
                }
                builder = builder.allow_plain_http(host);
            }
        }
        let client = GhcrClient::new(builder.build()?).context("the client could not be set up")?;
        Ok(Context {
            client,
            out: self.out,
        })
    }
}

impl Context {
    /// Ends a recording or replay session when GHCR_SIMULATION_MODE asks for one.
    pub(crate) fn finish(&self) -> anyhow::Result<()> {
        Ok(self.client.finish_simulation()?)
    }

    /// The owner `login` names: as the flags say, else asked of the API.
    pub(crate) async fn owner(&self, login: &str, kind: OwnerKind) -> anyhow::Result<Owner> {
        Ok(match (kind.org, kind.user) {
            (true, _) => Owner::org(login),
            (_, true) => Owner::user(login),
            _ => self.client.resolve_owner(login).await?,
        })
    }
}

/// `OWNER/PACKAGE` (the package may be nested: `octo-org/team/app`).
pub(crate) fn owner_and_package(text: &str) -> anyhow::Result<(&str, &str)> {
    text.split_once('/')
        .filter(|(owner, package)| !owner.is_empty() && !package.is_empty())
        .ok_or_else(|| usage(format!("`{text}` is not OWNER/PACKAGE")))
}

/// Parses a platform argument.
pub(crate) fn platform(text: Option<&str>) -> anyhow::Result<Option<ghcr::types::Platform>> {
    text.map(|text| {
        text.parse().map_err(|error| {
            usage(format!(
                "`{text}` is not a platform such as linux/arm64: {error}"
            ))
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_and_package_split_at_the_first_slash() {
        assert_eq!(owner_and_package("octo/app").unwrap(), ("octo", "app"));
        assert_eq!(
            owner_and_package("octo-org/team/app").unwrap(),
            ("octo-org", "team/app")
        );
        for bad in ["app", "/app", "octo/", ""] {
            assert!(owner_and_package(bad).is_err(), "{bad}");
        }
        assert!(platform(Some("linux")).is_err());
        assert_eq!(
            platform(Some("linux/arm64")).unwrap().unwrap().architecture,
            "arm64"
        );
    }
}
