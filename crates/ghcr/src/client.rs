//! `GhcrClient`: one transport, and the registry and packages clients on it.

use std::fmt;
use std::sync::Arc;

use ghcr_auth::{ChainProvider, StaticProvider};
use ghcr_transport::{Transport, TransportBuilder};

use crate::config::GhcrConfig;
use crate::error::Result;

pub(crate) struct Inner {
    pub(crate) config: GhcrConfig,
    pub(crate) transport: Transport,
    #[cfg(feature = "registry")]
    pub(crate) registry: ghcr_registry::RegistryClient,
    #[cfg(feature = "packages")]
    pub(crate) packages: ghcr_packages::PackagesClient,
    #[cfg(feature = "packages")]
    pub(crate) owners: tokio::sync::Mutex<std::collections::HashMap<String, ghcr_types::Owner>>,
    #[cfg(feature = "sim")]
    pub(crate) simulation: ghcr_sim::Simulation,
}

/// The facade: owns one [`Transport`] (connections, tokens, rate limits,
/// metrics) and hands out the registry and packages clients built on it.
/// Cheap to clone; clones share everything.
///
/// It implements [`crate::RegistryOperations`] and
/// [`crate::PackageOperations`], so code written against those traits can
/// be handed a substitute in tests.
#[derive(Clone)]
pub struct GhcrClient {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for GhcrClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GhcrClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl GhcrClient {
    /// A client for `config`.
    ///
    /// # Errors
    ///
    /// As [`GhcrClient::with_transport`].
    pub fn new(config: GhcrConfig) -> Result<Self> {
        Self::with_transport(config, |builder| builder)
    }

    /// A client from the `GHCR_*` environment variables.
    ///
    /// # Errors
    ///
    /// As [`GhcrConfig::from_env`] and [`GhcrClient::new`].
    pub fn from_env() -> Result<Self> {
        Self::new(GhcrConfig::from_env()?)
    }

    /// A client for `config` whose transport `customize` may change before
    /// it is built (extra CA certificates, a wire layer, pool sizes). The
    /// config's settings are applied first.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Transport`] when the transport cannot be built,
    /// [`crate::Error::Registry`] or [`crate::Error::Packages`] for a
    /// client setting that cannot work, and (with the `sim` feature) a
    /// replay cassette that cannot be loaded.
    pub fn with_transport(
        config: GhcrConfig,
        customize: impl FnOnce(TransportBuilder) -> TransportBuilder,
    ) -> Result<Self> {
        let mut builder = Transport::builder()
            .credentials(Arc::new(credentials(&config)))
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .upload_timeout(config.upload_timeout)
            .max_retries(config.max_retries)
            .throttle_threshold(config.throttle_threshold);
        for host in &config.plain_http {
            builder = builder.allow_plain_http(host.clone());
        }
        if config.api_base.starts_with("http://") {
            builder = builder.allow_plain_http(config.api_host().to_owned());
        }
        #[cfg(feature = "sim")]
        let simulation = config.simulation.start()?;
        #[cfg(feature = "sim")]
        {
            builder = match &simulation {
                ghcr_sim::Simulation::Record(recorder) => builder.wire_layer(recorder.clone()),
                ghcr_sim::Simulation::Replay(replayer) => builder.wire(replayer.clone()),
                ghcr_sim::Simulation::Off => builder,
            };
        }
        let transport = customize(builder).build()?;
        #[cfg(feature = "registry")]
        let registry = config
            .allowed_origins
            .iter()
            .fold(
                ghcr_registry::RegistryClient::builder(transport.clone())
                    .chunk_size(config.chunk_size),
                |builder, host| builder.allow_origin(host.clone()),
            )
            .build()?;
        #[cfg(feature = "packages")]
        let packages = ghcr_packages::PackagesClient::builder(transport.clone())
            .api_base(&config.api_base)
            .registry_host(&config.registry)
            .registry(registry.clone())
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                transport,
                #[cfg(feature = "registry")]
                registry,
                #[cfg(feature = "packages")]
                packages,
                #[cfg(feature = "packages")]
                owners: tokio::sync::Mutex::default(),
                #[cfg(feature = "sim")]
                simulation,
            }),
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &GhcrConfig {
        &self.inner.config
    }

    /// The transport every request goes through (metrics, rate limits).
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// The OCI registry client.
    #[cfg(feature = "registry")]
    pub fn registry(&self) -> &ghcr_registry::RegistryClient {
        &self.inner.registry
    }

    /// The GitHub Packages API client.
    #[cfg(feature = "packages")]
    pub fn packages(&self) -> &ghcr_packages::PackagesClient {
        &self.inner.packages
    }

    /// Ends a recording or replay session (GHCR_SIMULATION_MODE): writes
    /// the cassette, or checks every recorded interaction was replayed.
    /// Nothing to do when the simulation is off.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Simulation`] when the cassette cannot be written or
    /// the replay was incomplete.
    #[cfg(feature = "sim")]
    pub fn finish_simulation(&self) -> Result<()> {
        Ok(self.inner.simulation.finish()?)
    }
}

/// The configured credentials for the registry and the API host, then the
/// configured providers.
fn credentials(config: &GhcrConfig) -> ChainProvider {
    let mut chain = ChainProvider::new();
    if let Some(credentials) = &config.credentials {
        let fixed = StaticProvider::new(credentials.clone())
            .for_host(config.registry.clone())
            .for_host(config.api_host().to_owned());
        chain = chain.with(fixed);
    }
    for provider in &config.providers {
        chain = chain.with_shared(provider.clone());
    }
    chain
}
