//! One request being prepared: method, URL, scope and the transport
//! extensions (endpoint label, retry, timeout, redirects) in one place.

use std::time::Duration;

use ghcr_transport::ghcr_auth::{Scope, ScopeSet};
use ghcr_transport::{
    AuthScope, Body, Endpoint, HttpBody, NoRedirect, RequestTimeout, Retry, Transport,
};
use http::{HeaderName, HeaderValue, Method, Uri};

use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::manifests::{Refuser, unsupported_delete};

impl RegistryClient {
    /// Starts a request needing `scope`, labelled `endpoint` in metrics.
    pub(crate) fn call(
        &self,
        method: Method,
        url: &Uri,
        scope: Scope,
        endpoint: &'static str,
    ) -> Call {
        self.call_scoped(method, url, ScopeSet::single(scope), endpoint)
    }

    /// Starts a request needing several scopes (a mount reads the source).
    pub(crate) fn call_scoped(
        &self,
        method: Method,
        url: &Uri,
        scopes: ScopeSet,
        endpoint: &'static str,
    ) -> Call {
        Call {
            transport: self.transport.clone(),
            request: http::Request::builder().method(method).uri(url.clone()),
            scopes,
            endpoint,
            retry: Retry::IdempotentOnly,
            timeout: None,
            follow_redirects: true,
            anonymous: false,
        }
    }
}

/// What a DELETE achieved.
pub(crate) enum Deleted {
    /// It is gone.
    Done,
    /// There was nothing to delete (404).
    Missing,
    /// Any other refusal, for the caller to read.
    Refused(http::Response<HttpBody>),
}

impl RegistryClient {
    /// `DELETE url` with delete scope on `repository`; a 405 is
    /// [`Error::Unsupported`] (ghcr.io: use the Packages API).
    pub(crate) async fn send_delete(
        &self,
        url: &Uri,
        repository: &ghcr_types::Reference,
        endpoint: &'static str,
    ) -> Result<Deleted> {
        let response = self
            .call(
                Method::DELETE,
                url,
                Scope::delete(repository.repository()),
                endpoint,
            )
            .send(Body::empty())
            .await?;
        Ok(match response.status() {
            status if status.is_success() => {
                drain(response).await;
                Deleted::Done
            }
            http::StatusCode::METHOD_NOT_ALLOWED => {
                let refuser = Refuser::of(repository.registry(), Some(&response));
                drain(response).await;
                return Err(unsupported_delete(repository.registry(), refuser));
            }
            http::StatusCode::NOT_FOUND => Deleted::Missing,
            _ => Deleted::Refused(response),
        })
    }
}

/// A request being prepared.
pub(crate) struct Call {
    transport: Transport,
    request: http::request::Builder,
    scopes: ScopeSet,
    endpoint: &'static str,
    retry: Retry,
    timeout: Option<Duration>,
    follow_redirects: bool,
    anonymous: bool,
}

impl Call {
    pub(crate) fn header(mut self, name: HeaderName, value: impl TryInto<HeaderValue>) -> Self {
        if let Ok(value) = value.try_into() {
            self.request = self.request.header(name, value);
        }
        self
    }

    pub(crate) fn retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// Uses the transport's upload time limit instead of the default.
    pub(crate) fn upload_timeout(mut self) -> Self {
        self.timeout = Some(self.transport.upload_timeout());
        self
    }

    /// Sends no credentials: the URL is on another origin than the
    /// registry whose scope the request names.
    pub(crate) fn origin(mut self, origin: crate::origin::Origin) -> Self {
        self.anonymous = origin == crate::origin::Origin::Foreign;
        self
    }

    /// Returns a 3xx to the caller instead of following it.
    pub(crate) fn no_redirect(mut self) -> Self {
        self.follow_redirects = false;
        self
    }

    fn build(self, body: Body) -> Result<(Transport, http::Request<Body>)> {
        let mut request = self.request.body(body).map_err(|err| Error::Protocol {
            url: String::new(),
            reason: format!("could not build the request: {err}"),
        })?;
        let extensions = request.extensions_mut();
        extensions.insert(if self.anonymous {
            AuthScope::Anonymous
        } else {
            AuthScope::Registry(self.scopes)
        });
        extensions.insert(Endpoint(self.endpoint));
        extensions.insert(self.retry);
        if let Some(timeout) = self.timeout {
            extensions.insert(RequestTimeout(timeout));
        }
        if !self.follow_redirects {
            extensions.insert(NoRedirect);
        }
        Ok((self.transport, request))
    }

    /// Sends, returning any status.
    pub(crate) async fn send(self, body: Body) -> Result<http::Response<HttpBody>> {
        let (transport, request) = self.build(body)?;
        Ok(transport.send(request).await?)
    }

    /// Sends, turning a status outside 2xx into an error.
    pub(crate) async fn send_checked(self, body: Body) -> Result<http::Response<HttpBody>> {
        let (transport, request) = self.build(body)?;
        Ok(transport.send_checked(request).await?)
    }
}

/// A header's value as text.
pub(crate) fn header<'a>(response: &'a http::Response<HttpBody>, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The error an unsuccessful response stands for, with the server's message.
pub(crate) async fn failure(
    response: http::Response<HttpBody>,
    method: &Method,
    url: &Uri,
) -> Error {
    ghcr_transport::Error::from_response(method, url, response)
        .await
        .into()
}

/// Reads and drops what is left of a body so the connection can be reused.
pub(crate) async fn drain(response: http::Response<HttpBody>) {
    use http_body_util::BodyExt;
    let mut body = response.into_body();
    let mut left = 64 * 1024usize;
    while let Some(Ok(frame)) = body.frame().await {
        let len = frame.data_ref().map_or(0, bytes::Buf::remaining);
        if len >= left {
            return;
        }
        left -= len;
    }
}
