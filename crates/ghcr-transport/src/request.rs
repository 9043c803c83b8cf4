//! What a caller tells the stack about a request, as request extensions.
//!
//! The transport knows HTTP, not OCI: the registry and packages crates say
//! which credentials a request needs ([`AuthScope`]), how to label it in
//! metrics ([`Endpoint`]), and how it may be retried or redirected.

use std::time::Duration;

use ghcr_auth::ScopeSet;

/// Which credentials a request needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthScope {
    /// None: public endpoints, and every hop after a redirect to another origin.
    #[default]
    Anonymous,
    /// A registry bearer token for these scopes, fetched through the
    /// registry's challenge (or Basic credentials where the registry asks for them).
    Registry(ScopeSet),
    /// The GitHub REST API: the PAT or `GITHUB_TOKEN` as a bearer token.
    GitHubApi,
}

/// A low-cardinality label for metrics (`manifests`, `blobs`, `uploads`,
/// `tags`, `packages`), instead of the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint(pub &'static str);

/// A time limit for each attempt of this request instead of the default
/// (uploads take longer than manifest reads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestTimeout(pub Duration);

/// Whether the transport may send a request again after a server error or a
/// dropped connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retry {
    /// Retry idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) only.
    #[default]
    IdempotentOnly,
    /// The caller knows repeating is harmless (opening an upload session).
    Always,
    /// Never (a PATCH that appends to an upload: resume it instead).
    Never,
}

/// Don't follow redirects: return the 3xx to the caller (the referrers API,
/// whose redirects on ghcr.io lead to a rate-limited web page).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoRedirect;

/// How many attempts the retry layer made, in the response's extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempts(pub u32);

/// Set by the redirect layer on a hop that left a plain-HTTP loopback
/// registry for another loopback origin (a test registry's storage host).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlainHttpRedirect;

/// Set by the redirect layer on a response that came from another origin
/// than the request was sent to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LeftOrigin;
