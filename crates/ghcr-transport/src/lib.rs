//! The request pipeline of the `ghcr` workspace.
//!
//! `ghcr-transport` sits between `ghcr-auth` and the operation crates
//! (`ghcr-registry`, `ghcr-packages`). It knows HTTP, not OCI: callers build
//! requests, say which credentials each needs with an [`AuthScope`]
//! extension, and send them through one [`Transport`]. The transport is
//! hyper-util's pooled client over rustls under a tower stack, in this order
//! (see `stack.rs`): trace, metrics, rate limit, retry, redirect, auth,
//! timeout, wire. The innermost service can be replaced by any
//! `tower::Service` on [`HttpBody`] requests, which is how `ghcr-sim`
//! records and replays.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use bytes::Bytes;
//! use http_body_util::{BodyExt, Full};
//! use ghcr_transport::{Body, BoxError, HttpBody, Transport};
//!
//! // A scripted wire stands in for the network here.
//! let wire = tower::service_fn(|request: http::Request<HttpBody>| async move {
//!     let body: HttpBody = Full::new(Bytes::from(format!("hello from {}", request.uri().path())))
//!         .map_err(|never| match never {})
//!         .boxed_unsync();
//!     Ok::<_, BoxError>(http::Response::new(body))
//! });
//! let transport = Transport::builder().wire(wire).build()?;
//! let request = http::Request::get("https://ghcr.io/v2/").body(Body::empty()).unwrap();
//! let response = transport.send_checked(request).await?;
//! let text = response.into_body().collect().await.unwrap().to_bytes();
//! assert_eq!(text, "hello from /v2/");
//! # Ok::<(), ghcr_transport::Error>(())
//! # });
//! ```

mod auth;
mod body;
mod builder;
mod client;
mod error;
mod idle;
mod link;
mod metrics;
mod rate_limit;
mod redirect;
mod request;
mod retry;
mod roots;
mod stack;
mod timeout;
mod token_client;
mod trace;
mod transport;
mod wire;

pub use body::{Body, BoxError, HttpBody};
pub use builder::TransportBuilder;
pub use client::{HttpClient, RootCertificates};
pub use error::{Error, ErrorBody, RegistryErrorEntry, redact_url};
pub use link::next_link;
pub use request::{Attempts, AuthScope, Endpoint, NoRedirect, RequestTimeout, Retry};
pub use transport::Transport;
pub use wire::WireService;

/// Credentials and scopes, re-exported for callers that build requests.
pub use ghcr_auth;
