//! `health_check`: can we get a token and reach the registry (and the
//! GitHub API), how fast, and how much API budget is left.

use std::time::{Duration, Instant};

use ghcr_auth::{Scope, ScopeSet};
use ghcr_transport::{AuthScope, Body, Endpoint};
use ghcr_types::RateLimitInfo;
use http::StatusCode;

use crate::client::GhcrClient;

/// How the registry check authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenCheck {
    /// Credentials were found and a token (or Basic credentials) was accepted.
    Acquired,
    /// No credentials for the registry: only reachability was checked.
    Anonymous,
    /// Credentials were found but no accepted token came of them.
    Failed,
}

/// One component's check.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Check {
    /// What was checked (`ghcr.io`, `https://api.github.com`).
    pub target: String,
    /// Whether it answered as it should.
    pub ok: bool,
    /// How long it took, token requests included.
    pub latency: Duration,
    /// What went wrong, when something did.
    pub error: Option<String>,
}

/// What [`GhcrClient::health_check`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HealthStatus {
    /// Every check passed.
    pub healthy: bool,
    /// `GET /v2/` on the registry, with a token for a pull scope.
    pub registry: Check,
    /// How the registry check authenticated.
    pub token: TokenCheck,
    /// `GET /rate_limit` on the GitHub API (with the `packages` feature).
    pub api: Option<Check>,
    /// The GitHub API budgets known after the checks.
    pub rate_limits: Vec<RateLimitInfo>,
}

impl GhcrClient {
    /// Checks that a token can be had and the registry answers (`GET /v2/`
    /// for a pull scope in the user's namespace), and, with the `packages`
    /// feature, that the GitHub API answers (`GET /rate_limit`, which does
    /// not count against the primary rate limit). Never fails: problems are
    /// in the returned status.
    ///
    /// Every call makes those requests: a service answering probes should
    /// reuse a result for a few seconds (`ghcr serve` does), or a flood of
    /// probes becomes a flood of API calls. The [`Check::error`] texts can
    /// hold what a registry or credential helper said: log them, don't
    /// hand them to unauthenticated callers.
    pub async fn health_check(&self) -> HealthStatus {
        let (registry, token) = self.check_registry().await;
        #[cfg(feature = "packages")]
        let api = Some(self.ping_api().await);
        #[cfg(not(feature = "packages"))]
        let api: Option<Check> = None;
        HealthStatus {
            healthy: registry.ok && api.as_ref().is_none_or(|check| check.ok),
            registry,
            token,
            api,
            rate_limits: self.transport().rate_limits(),
        }
    }

    /// The registry part of [`GhcrClient::health_check`]: `GET /v2/` with a
    /// token for a pull scope in the user's namespace (only reachability
    /// without credentials). Also how a login is verified.
    pub async fn check_registry(&self) -> (Check, TokenCheck) {
        let registry = self.config().registry().to_owned();
        let started = Instant::now();
        let credentials = self.transport().credentials().credentials(&registry).await;
        let scope = match &credentials {
            Ok(Some(found)) => {
                let namespace = found.username().unwrap_or("ghcr-rs").to_ascii_lowercase();
                AuthScope::Registry(ScopeSet::single(Scope::pull(&format!(
                    "{namespace}/healthcheck"
                ))))
            }
            _ => AuthScope::Anonymous,
        };
        let anonymous = scope == AuthScope::Anonymous;
        let url = format!(
            "{}://{registry}/v2/",
            self.transport().scheme_for(&registry)
        );
        let outcome = match http::Request::get(&url)
            .extension(scope)
            .extension(Endpoint("ping"))
            .body(Body::empty())
        {
            Ok(request) => self
                .transport()
                .send(request)
                .await
                .map_err(|e| e.to_string()),
            Err(error) => Err(format!("`{url}` is not a usable URL: {error}")),
        };
        let (ok, error) = match (outcome, &credentials) {
            (_, Err(error)) => (false, Some(error.to_string())),
            (Ok(response), _) if response.status().is_success() => (true, None),
            // Without credentials, a challenge is the answer a live registry gives.
            (Ok(response), _)
                if anonymous
                    && response.status() == StatusCode::UNAUTHORIZED
                    && response
                        .headers()
                        .contains_key(http::header::WWW_AUTHENTICATE) =>
            {
                (true, None)
            }
            (Ok(response), _) => {
                let method = http::Method::GET;
                let uri = url.parse().unwrap_or_default();
                let error = ghcr_transport::Error::from_response(&method, &uri, response).await;
                (false, Some(error.to_string()))
            }
            (Err(error), _) => (false, Some(error)),
        };
        let token = match (anonymous, ok) {
            (true, _) => TokenCheck::Anonymous,
            (false, true) => TokenCheck::Acquired,
            (false, false) => TokenCheck::Failed,
        };
        let check = Check {
            target: registry,
            ok,
            latency: started.elapsed(),
            error,
        };
        (check, token)
    }

    #[cfg(feature = "packages")]
    async fn ping_api(&self) -> Check {
        let started = Instant::now();
        let outcome = self.rate_limit().await;
        Check {
            target: self.config().api_base().to_owned(),
            ok: outcome.is_ok(),
            latency: started.elapsed(),
            error: outcome.err().map(|error| error.to_string()),
        }
    }
}
