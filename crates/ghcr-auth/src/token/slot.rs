//! The cache entry of one token key: the token, the fetch under way and
//! the callers waiting on it, with no lock held across an `await`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use tokio::sync::watch;

use super::{BearerToken, TokenRealm};
use crate::ScopeSet;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct TokenKey {
    pub(super) registry: String,
    pub(super) service: String,
    pub(super) scopes: ScopeSet,
}

/// One cache entry. Its lock is never held across an `await`: a fetch
/// runs unlocked, and callers that want the same token meanwhile wait on
/// the fetch's channel, not on a lock, so each of them is bounded by the
/// fetch's deadline.
#[derive(Debug, Default)]
pub(super) struct Slot {
    state: Mutex<SlotState>,
    /// Tokens with a lower serial were refused by the registry. An atomic,
    /// so that revoking never waits for (or is lost to) a caller reading
    /// the slot.
    revoked_below: AtomicU64,
}

#[derive(Debug, Default)]
pub(super) struct SlotState {
    /// The cached token.
    token: Option<BearerToken>,
    /// The fetch under way, if any.
    flight: Option<Flight>,
}

/// What the callers waiting on one fetch receive.
pub(super) type Outcome = Option<std::result::Result<BearerToken, Arc<crate::Error>>>;

#[derive(Debug)]
struct Flight {
    id: u64,
    outcome: watch::Receiver<Outcome>,
}

/// What a caller does about a missing token.
pub(super) enum Role {
    Wait(watch::Receiver<Outcome>),
    Fetch(watch::Sender<Outcome>, u64),
}

impl Slot {
    pub(super) fn usable(&self, token: &BearerToken) -> bool {
        token.is_fresh() && token.serial >= self.revoked_below.load(Ordering::SeqCst)
    }

    pub(super) fn revoke_below(&self, serial: u64) {
        self.revoked_below.fetch_max(serial, Ordering::SeqCst);
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn cached(&self) -> Option<BearerToken> {
        self.lock().token.clone().filter(|t| self.usable(t))
    }

    /// The cached token, or whether to wait for a fetch or start one.
    pub(super) fn token_or_role(
        &self,
        next_flight: &AtomicU64,
    ) -> std::result::Result<BearerToken, Role> {
        let mut state = self.lock();
        if let Some(token) = state.token.clone().filter(|t| self.usable(t)) {
            return Ok(token);
        }
        if let Some(flight) = &state.flight {
            return Err(Role::Wait(flight.outcome.clone()));
        }
        let id = next_flight.fetch_add(1, Ordering::Relaxed);
        let (sender, outcome) = watch::channel(None);
        state.flight = Some(Flight { id, outcome });
        Err(Role::Fetch(sender, id))
    }

    /// Ends flight `id`, keeping its token.
    pub(super) fn land(&self, id: u64, token: Option<&BearerToken>) {
        let mut state = self.lock();
        if state.flight.as_ref().is_some_and(|f| f.id == id) {
            state.flight = None;
        }
        if let Some(token) = token {
            state.token = Some(token.clone());
        }
    }
}

/// Ends a flight whose fetching caller was dropped, so that a waiter
/// starts the next one.
pub(super) struct Landing<'a> {
    pub(super) slot: &'a Slot,
    pub(super) id: u64,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        self.slot.land(self.id, None);
    }
}

/// A failure the waiters of a fetch get as it is, or, when it cannot be
/// copied (it carries the client's error), as a [`crate::Error::TokenRequest`]
/// whose source shows the original.
pub(super) fn for_waiter(error: &Arc<crate::Error>, realm: &TokenRealm) -> crate::Error {
    error
        .shareable()
        .unwrap_or_else(|| crate::Error::TokenRequest {
            realm: realm.display().to_owned(),
            source: Box::new(SharedCause(error.clone())),
        })
}

/// The cause of a failed fetch, shared by its waiters.
#[derive(Debug)]
struct SharedCause(Arc<crate::Error>);

impl fmt::Display for SharedCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_ref() {
            crate::Error::TokenRequest { source, .. } => source.fmt(f),
            other => other.fmt(f),
        }
    }
}

impl std::error::Error for SharedCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self.0.as_ref() {
            crate::Error::TokenRequest { source, .. } => source.source(),
            other => other.source(),
        }
    }
}
