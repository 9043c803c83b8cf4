//! The innermost service: hyper-util's pooled client over rustls.
//!
//! https only by default (plain HTTP is refused one level up, in
//! [`crate::wire`], unless enabled for the host), TLS 1.2 and 1.3, HTTP/2
//! by ALPN and HTTP/1.1, platform roots (webpki roots when the platform has
//! none) plus any extra CA certificates, read on the first handshake
//! ([`crate::roots`]).

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::Error;
use crate::body::{BoxError, HttpBody};
use crate::roots::LazyRoots;

/// Which trust anchors verify servers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RootCertificates {
    /// The operating system's store, or Mozilla's (webpki) roots when it is empty.
    #[default]
    Platform,
    /// Mozilla's roots compiled into the binary.
    WebPki,
    /// Only the extra certificates added to the builder (tests, private PKI).
    None,
}

/// Settings of the hyper client.
#[derive(Clone, Debug)]
pub(crate) struct ClientSettings {
    pub(crate) roots: RootCertificates,
    pub(crate) extra_roots: Vec<CertificateDer<'static>>,
    pub(crate) pool_max_idle_per_host: usize,
    pub(crate) pool_idle_timeout: Duration,
    pub(crate) connect_timeout: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            roots: RootCertificates::Platform,
            extra_roots: Vec::new(),
            pool_max_idle_per_host: 10,
            pool_idle_timeout: Duration::from_secs(90),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Parses PEM certificates (one or more `BEGIN CERTIFICATE` blocks).
pub(crate) fn parse_pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| Error::Config {
            reason: format!("a CA certificate is not valid PEM: {err}"),
        })?;
    if certificates.is_empty() {
        return Err(Error::Config {
            reason: "the CA file holds no `BEGIN CERTIFICATE` block".into(),
        });
    }
    Ok(certificates)
}

/// The pooled hyper client, as a `tower::Service` on the wire types.
#[derive(Clone, Debug)]
pub struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, HttpBody>,
}

impl HttpClient {
    pub(crate) fn new(settings: &ClientSettings) -> Result<Self, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|err| Error::Config {
                reason: format!("TLS setup failed: {err}"),
            })?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(LazyRoots::new(
                settings.roots,
                &settings.extra_roots,
                provider,
            )?))
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(60)));
        http.set_connect_timeout(Some(settings.connect_timeout));
        // The connector offers h2 and http/1.1 by ALPN itself.
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_max_idle_per_host(settings.pool_max_idle_per_host)
            .pool_idle_timeout(settings.pool_idle_timeout)
            .http2_adaptive_window(true)
            .build(connector);
        Ok(Self { client })
    }
}

impl tower::Service<http::Request<HttpBody>> for HttpClient {
    type Response = http::Response<HttpBody>;
    type Error = BoxError;
    type Future = crate::stack::ResponseFuture;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<HttpBody>) -> Self::Future {
        let future = self.client.request(request);
        Box::pin(async move {
            let response = future.await?;
            Ok(response.map(|body| body.map_err(BoxError::from).boxed_unsync()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_parsing_errors_are_clear() {
        let err = parse_pem_certificates(b"nothing here")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no `BEGIN CERTIFICATE`"), "{err}");
        let err = parse_pem_certificates(
            b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("not valid PEM"), "{err}");
    }

    #[test]
    fn builds_with_each_root_choice() {
        for roots in [
            RootCertificates::Platform,
            RootCertificates::WebPki,
            RootCertificates::None,
        ] {
            let settings = ClientSettings {
                roots,
                ..ClientSettings::default()
            };
            HttpClient::new(&settings).unwrap();
        }
    }
}
