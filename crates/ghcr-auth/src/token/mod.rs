//! The token manager: bearer tokens keyed by (registry, service, scopes),
//! fetched once however many callers want them at the same time.

mod fetch;
mod realm;
mod slot;

use slot::{Landing, Role, Slot, TokenKey, for_waiter};

pub use realm::TokenRealm;
pub(crate) use realm::is_loopback;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;
use secrecy::SecretString;
use tokio::time::Instant;

use crate::provider::BoxFuture;
use crate::{CredentialProvider, Result, ScopeSet};

/// The longest a token is trusted, whatever its endpoint says.
pub(crate) const MAX_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// The error type HTTP clients report.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The HTTP client the token manager fetches tokens with.
///
/// The transport implements it over its innermost service, so that token
/// requests are recorded and replayed like any other request.
pub trait TokenClient: Send + Sync + fmt::Debug {
    /// Sends one request and collects the answer.
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, std::result::Result<http::Response<Bytes>, BoxError>>;
}

/// A bearer token and when to stop using it.
#[derive(Clone)]
pub struct BearerToken {
    value: Arc<SecretString>,
    refresh_at: Instant,
    /// Which fetch of the manager issued it, so that a 401 can revoke this
    /// token (and older ones) without revoking a newer one.
    serial: u64,
}

impl BearerToken {
    /// `Authorization: Bearer …`, marked sensitive.
    pub fn authorization(&self) -> Option<HeaderValue> {
        crate::credentials::bearer(&self.value)
    }

    /// When the token should be replaced (its expiry minus a margin).
    pub fn refresh_at(&self) -> Instant {
        self.refresh_at
    }

    fn is_fresh(&self) -> bool {
        Instant::now() < self.refresh_at
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerToken")
            .field("value", &"[redacted]")
            .field("refresh_at", &self.refresh_at)
            .field("serial", &self.serial)
            .finish()
    }
}

/// Fetches, caches and shares bearer tokens.
///
/// Tokens live as long as the endpoint says (`expires_in`, counted from
/// `issued_at`), or 60 seconds when it says nothing (the token spec's
/// default; ghcr.io sends no lifetime), minus a refresh margin. Lifetimes
/// under the spec's 60 s minimum are raised to it, as docker's client does,
/// and none is trusted for more than a day. Concurrent callers asking for
/// the same key wait for one fetch and share its token or its failure
/// (a caller that comes after a failed fetch tries again). No lock is
/// held while a fetch runs and each fetch has a deadline, so no caller
/// waits longer than one fetch's deadline. Cloning shares the cache.
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

struct Inner {
    client: Arc<dyn TokenClient>,
    credentials: Arc<dyn CredentialProvider>,
    default_lifetime: Duration,
    refresh_margin: Duration,
    fetch_timeout: Duration,
    plain_http_hosts: HashSet<String>,
    slots: Mutex<HashMap<TokenKey, Arc<Slot>>>,
    next_flight: AtomicU64,
    realms: Mutex<HashMap<String, TokenRealm>>,
    fetches: AtomicU64,
    /// The serial the next fetched token gets.
    next_serial: AtomicU64,
}

/// Builds a [`TokenManager`].
#[derive(Debug)]
pub struct TokenManagerBuilder {
    client: Arc<dyn TokenClient>,
    credentials: Arc<dyn CredentialProvider>,
    default_lifetime: Duration,
    refresh_margin: Duration,
    fetch_timeout: Duration,
    plain_http_hosts: HashSet<String>,
}

impl TokenManagerBuilder {
    /// Lifetime of a token whose endpoint gave none. Default: 60 seconds.
    #[must_use]
    pub fn default_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = lifetime;
        self
    }

    /// How long before expiry a token is replaced; capped at half its
    /// lifetime. Default: 10 seconds.
    #[must_use]
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Deadline of one whole token fetch, answer body included; past it
    /// the fetch fails with [`crate::Error::TokenTimeout`], for its caller
    /// and everyone waiting on it. Default: 30 seconds.
    #[must_use]
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// Lets a registry on this host (`127.0.0.1:5000`) use a plain-HTTP
    /// token realm, which must also be on a loopback address. Default: none.
    #[must_use]
    pub fn allow_plain_http(mut self, registry_host: impl Into<String>) -> Self {
        self.plain_http_hosts.insert(registry_host.into());
        self
    }

    /// The manager.
    pub fn build(self) -> TokenManager {
        TokenManager {
            inner: Arc::new(Inner {
                client: self.client,
                credentials: self.credentials,
                default_lifetime: self.default_lifetime,
                refresh_margin: self.refresh_margin,
                fetch_timeout: self.fetch_timeout,
                plain_http_hosts: self.plain_http_hosts,
                slots: Mutex::default(),
                next_flight: AtomicU64::new(0),
                realms: Mutex::default(),
                fetches: AtomicU64::new(0),
                next_serial: AtomicU64::new(0),
            }),
        }
    }
}

impl TokenManager {
    /// Starts building a manager that fetches with `client` and asks
    /// `credentials` for each registry host.
    pub fn builder(
        client: Arc<dyn TokenClient>,
        credentials: Arc<dyn CredentialProvider>,
    ) -> TokenManagerBuilder {
        TokenManagerBuilder {
            client,
            credentials,
            default_lifetime: Duration::from_secs(60),
            refresh_margin: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(30),
            plain_http_hosts: HashSet::new(),
        }
    }

    /// The credential provider, for callers that authenticate otherwise
    /// (Basic registries, the GitHub REST API).
    pub fn credentials(&self) -> &Arc<dyn CredentialProvider> {
        &self.inner.credentials
    }

    /// Records where `registry` issues tokens, learnt from a challenge.
    pub fn remember_realm(&self, registry: &str, realm: TokenRealm) {
        self.inner
            .realms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(registry.to_owned(), realm);
    }

    /// Where `registry` issues tokens, when a challenge told us.
    pub fn realm_for(&self, registry: &str) -> Option<TokenRealm> {
        self.inner
            .realms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(registry)
            .cloned()
    }

    /// A token for `scopes` at `registry`: the cached one while fresh, else
    /// a new one from the realm `registry` is known to use.
    ///
    /// # Errors
    ///
    /// [`crate::Error::AuthFailed`] when the endpoint refuses,
    /// [`crate::Error::UnsafeRealm`] for a realm credentials must not go to,
    /// [`crate::Error::TokenEndpoint`] or [`crate::Error::TokenRequest`]
    /// when it cannot be fetched.
    pub async fn token(
        &self,
        registry: &str,
        realm: &TokenRealm,
        scopes: &ScopeSet,
    ) -> Result<BearerToken> {
        let key = TokenKey {
            registry: registry.to_owned(),
            service: realm.service().unwrap_or_default().to_owned(),
            scopes: scopes.clone(),
        };
        let slot = self.slot(&key);
        loop {
            match slot.token_or_role(&self.inner.next_flight) {
                Ok(token) => return Ok(token),
                Err(Role::Wait(mut outcome)) => {
                    // Ends when the fetch lands, or when its caller is
                    // dropped (the sender goes): then try again.
                    let landed = outcome
                        .wait_for(Option::is_some)
                        .await
                        .ok()
                        .and_then(|landed| (*landed).clone());
                    match landed {
                        Some(Ok(token)) => return Ok(token),
                        Some(Err(error)) => return Err(for_waiter(&error, realm)),
                        None => {}
                    }
                }
                Err(Role::Fetch(sender, id)) => {
                    let landing = Landing { slot: &slot, id };
                    let outcome = self.fetch(registry, realm, scopes).await;
                    slot.land(id, outcome.as_ref().ok());
                    drop(landing);
                    return match outcome {
                        Ok(token) => {
                            sender.send_replace(Some(Ok(token.clone())));
                            Ok(token)
                        }
                        Err(error) => {
                            let error = Arc::new(error);
                            sender.send_replace(Some(Err(error.clone())));
                            Err(Arc::try_unwrap(error).unwrap_or_else(|e| for_waiter(&e, realm)))
                        }
                    };
                }
            }
        }
    }

    /// One fetch from the realm, with the lifetime rules applied.
    async fn fetch(
        &self,
        registry: &str,
        realm: &TokenRealm,
        scopes: &ScopeSet,
    ) -> Result<BearerToken> {
        realm.check_safe(registry, &self.inner.plain_http_hosts)?;
        let credentials = self.inner.credentials.credentials(registry).await?;
        self.inner.fetches.fetch_add(1, Ordering::Relaxed);
        let fetch = fetch::fetch(
            self.inner.client.as_ref(),
            registry,
            realm,
            scopes,
            credentials.as_ref(),
        );
        let timeout = self.inner.fetch_timeout;
        let fetched = tokio::time::timeout(timeout, fetch).await.map_err(|_| {
            crate::Error::TokenTimeout {
                realm: realm.display().to_owned(),
                after: timeout,
            }
        })??;
        let lifetime = fetched
            .lifetime
            .unwrap_or(self.inner.default_lifetime)
            .min(MAX_LIFETIME);
        let margin = self.inner.refresh_margin.min(lifetime / 2);
        let token = BearerToken {
            value: Arc::new(fetched.token),
            refresh_at: Instant::now() + lifetime.saturating_sub(margin),
            serial: self.inner.next_serial.fetch_add(1, Ordering::SeqCst),
        };
        tracing::debug!(registry, scope = %scopes, lifetime_secs = lifetime.as_secs(), "fetched a registry token");
        Ok(token)
    }

    /// The cached token for `scopes` at `registry`, when one is fresh.
    pub fn cached(&self, registry: &str, scopes: &ScopeSet) -> Option<BearerToken> {
        let realm = self.realm_for(registry)?;
        let key = TokenKey {
            registry: registry.to_owned(),
            service: realm.service().unwrap_or_default().to_owned(),
            scopes: scopes.clone(),
        };
        self.slot(&key).cached()
    }

    /// Forgets every token fetched so far for `scopes` at `registry` (after
    /// a 401). A fetch under way when this is called still stores its
    /// token, which is newer than the refusal.
    pub fn invalidate(&self, registry: &str, scopes: &ScopeSet) {
        let newest = self.inner.next_serial.load(Ordering::SeqCst);
        self.revoke(registry, scopes, newest);
    }

    /// Forgets `token`, which the registry refused, and any older token for
    /// `scopes` at `registry`, but not a newer one that another caller
    /// fetched in the meantime: a hundred requests that all fail with the
    /// same expired token cause one fetch, not a hundred.
    pub fn invalidate_token(&self, registry: &str, scopes: &ScopeSet, token: &BearerToken) {
        self.revoke(registry, scopes, token.serial.saturating_add(1));
    }

    fn revoke(&self, registry: &str, scopes: &ScopeSet, below: u64) {
        let slots = self
            .inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (key, slot) in slots.iter() {
            if key.registry == registry && &key.scopes == scopes {
                slot.revoke_below(below);
            }
        }
    }

    /// How many tokens were fetched so far.
    pub fn fetch_count(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    fn slot(&self, key: &TokenKey) -> Arc<Slot> {
        self.inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.clone())
            .or_default()
            .clone()
    }
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("default_lifetime", &self.inner.default_lifetime)
            .field("fetches", &self.fetch_count())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
