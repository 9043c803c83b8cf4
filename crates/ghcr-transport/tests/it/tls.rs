//! https only by default; a self-signed server is refused until its CA is added.

use std::sync::Arc;

use ghcr_transport::{Body, Error, Transport};
use hyper_util::rt::{TokioExecutor, TokioIo};

use crate::support::{Script, reply, serve};

#[tokio::test]
async fn plain_http_is_refused_unless_enabled() {
    let script = Script::new(|_, _| reply(200, &[], "ok"));
    let addr = serve(script.clone()).await;
    let url = format!("http://{addr}/v2/");
    let err = Transport::builder()
        .build()
        .unwrap()
        .send(http::Request::get(&url).body(Body::empty()).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Config { reason, .. } if reason.contains("plain HTTP")),
        "{err:?}"
    );
    assert!(script.seen().is_empty(), "nothing was sent");
    let enabled = Transport::builder()
        .allow_plain_http(addr.to_string())
        .build()
        .unwrap();
    enabled
        .send_checked(http::Request::get(&url).body(Body::empty()).unwrap())
        .await
        .unwrap();
}

/// A TLS server with a fresh self-signed certificate; returns its port and CA PEM.
async fn tls_server() -> (u16, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let pem = certified.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(http::Response::new(
                        http_body_util::Full::new(bytes::Bytes::from("secure")),
                    ))
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (port, pem)
}

#[tokio::test]
async fn self_signed_is_refused_by_default_and_accepted_with_its_ca() {
    let (port, ca) = tls_server().await;
    let url = format!("https://localhost:{port}/v2/");
    let request = || http::Request::get(&url).body(Body::empty()).unwrap();
    let default = Transport::builder().max_retries(0).build().unwrap();
    let err = default.send(request()).await.unwrap_err();
    assert!(matches!(err, Error::Network { .. }), "{err:?}");
    let chain = format!("{:?}", std::error::Error::source(&err));
    assert!(chain.to_lowercase().contains("certificate"), "{chain}");
    let trusting = Transport::builder()
        .add_root_certificate_pem(ca.as_bytes())
        .build()
        .unwrap();
    let response = trusting.send_checked(request()).await.unwrap();
    assert_eq!(
        response.version(),
        http::Version::HTTP_2,
        "ALPN picked HTTP/2"
    );
}

#[test]
fn a_bad_ca_file_is_a_config_error() {
    let err = Transport::builder()
        .add_root_certificate_pem(b"garbage")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
}
