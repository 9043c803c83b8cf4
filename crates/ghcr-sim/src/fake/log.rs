//! Every request the fake answered, for tests to count and inspect.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use http::{Method, StatusCode};

use super::faults::Route;

/// Which listener a request came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Listener {
    /// The registry, token endpoint and Packages API address.
    Registry,
    /// The storage host blob GETs are redirected to.
    Storage,
}

/// The scheme of the Authorization header a request carried.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthSeen {
    /// No Authorization header.
    None,
    /// `Basic …`.
    Basic,
    /// `Bearer …` (or GitHub's `token …`).
    Bearer,
    /// Any other scheme, as sent; empty when the header has no scheme (a
    /// bare credential is never kept).
    Other(String),
}

impl AuthSeen {
    pub(crate) fn of(headers: &http::HeaderMap) -> Self {
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return Self::None;
        };
        let text = String::from_utf8_lossy(value.as_bytes());
        let Some((scheme, _)) = text.trim_start().split_once(' ') else {
            return Self::Other(String::new());
        };
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => Self::Basic,
            "bearer" | "token" => Self::Bearer,
            _ => Self::Other(scheme.to_owned()),
        }
    }
}

/// One answered request.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// Where it arrived.
    pub listener: Listener,
    /// Its method.
    pub method: Method,
    /// Its path, as sent (percent-encoded).
    pub path: String,
    /// Its query string, as sent.
    pub query: Option<String>,
    /// The status the fake answered.
    pub status: StatusCode,
    /// The Authorization scheme it carried.
    pub authorization: AuthSeen,
    /// The length of its body.
    pub body_len: u64,
}

impl LoggedRequest {
    /// Whether it carried an Authorization header.
    pub fn has_authorization(&self) -> bool {
        self.authorization != AuthSeen::None
    }
}

/// Called with each request once it is handled, before its answer goes out.
type Watcher = Arc<dyn Fn(&LoggedRequest) + Send + Sync>;

/// The fake's request log. Clones share it.
#[derive(Clone, Default)]
pub struct RequestLog {
    entries: Arc<Mutex<Vec<LoggedRequest>>>,
    watchers: Arc<RwLock<Vec<Watcher>>>,
}

impl fmt::Debug for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestLog")
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}

impl RequestLog {
    pub(crate) fn push(&self, entry: LoggedRequest) {
        let watchers = self.watchers.read().unwrap_or_else(PoisonError::into_inner);
        for watcher in watchers.iter() {
            watcher(&entry);
        }
        drop(watchers);
        self.lock().push(entry);
    }

    /// Calls `watcher` after every request the fake handles, once its
    /// effects are in the store and before the client sees the answer: a
    /// test checks an invariant at every step of a run, not only at its end.
    /// The watcher may read the store; it must not send requests.
    pub fn watch(&self, watcher: impl Fn(&LoggedRequest) + Send + Sync + 'static) {
        self.watchers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::new(watcher));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<LoggedRequest>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every request so far, in the order they were answered.
    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.lock().clone()
    }

    /// How many requests were answered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no request was answered yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets everything logged so far (seed, then count what the test does).
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many requests satisfy `predicate`.
    pub fn count_where(&self, predicate: impl Fn(&LoggedRequest) -> bool) -> usize {
        self.lock().iter().filter(|entry| predicate(entry)).count()
    }

    /// How many registry-listener requests match `route`.
    pub fn count(&self, route: &Route) -> usize {
        self.count_where(|entry| {
            entry.listener == Listener::Registry && route.matches(&entry.method, &entry.path)
        })
    }

    /// How many token requests (`/token`) arrived.
    pub fn token_fetches(&self) -> usize {
        self.count_where(|entry| entry.listener == Listener::Registry && entry.path == "/token")
    }

    /// How many HEAD requests arrived.
    pub fn heads(&self) -> usize {
        self.count_where(|entry| entry.method == Method::HEAD)
    }

    /// How many PATCH requests arrived.
    pub fn patches(&self) -> usize {
        self.count_where(|entry| entry.method == Method::PATCH)
    }

    /// The requests that reached the storage host.
    pub fn storage_requests(&self) -> Vec<LoggedRequest> {
        self.lock()
            .iter()
            .filter(|entry| entry.listener == Listener::Storage)
            .cloned()
            .collect()
    }
}
