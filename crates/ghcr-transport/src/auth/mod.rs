//! Credentials on each request: a registry bearer token for the request's
//! scopes (fetched through the registry's challenge), Basic credentials for
//! registries that ask for them, or the PAT for the GitHub REST API.
//!
//! The layer sits inside the redirect layer, so it sees every hop; a hop to
//! another origin carries [`crate::AuthScope::Anonymous`] and gets nothing.

mod service;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use ghcr_auth::TokenManager;
use tower::Layer;

use crate::metrics::Metrics;

pub(crate) use service::AuthService;

/// State shared by every clone of the auth service.
#[derive(Debug)]
pub(crate) struct AuthState {
    pub(crate) tokens: TokenManager,
    /// Registries that answered with a Basic challenge.
    pub(crate) basic_hosts: Mutex<HashSet<String>>,
    pub(crate) metrics: Arc<Metrics>,
}

/// Applies [`AuthService`].
#[derive(Clone, Debug)]
pub(crate) struct AuthLayer {
    state: Arc<AuthState>,
}

impl AuthLayer {
    pub(crate) fn new(tokens: TokenManager, metrics: Arc<Metrics>) -> Self {
        Self {
            state: Arc::new(AuthState {
                tokens,
                basic_hosts: Mutex::default(),
                metrics,
            }),
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService::new(inner, self.state.clone())
    }
}
