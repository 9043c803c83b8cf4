//! A token issuer docker-registry trusts: ES256 JWTs signed with a fresh
//! P-256 key whose self-signed certificate is the registry's root bundle
//! and travels in the `x5c` header; Basic credentials are checked and every
//! requested action is granted.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::{Value, json};

struct Signer {
    key: EcdsaKeyPair,
    certificate_der: Vec<u8>,
    user: String,
    password: String,
    asked: Mutex<Vec<String>>,
}

/// The running issuer.
pub(crate) struct TokenIssuer {
    addr: SocketAddr,
    certificate_pem: String,
    signer: Arc<Signer>,
    task: tokio::task::JoinHandle<()>,
}

impl TokenIssuer {
    pub(crate) const SERVICE: &'static str = "test-registry";
    pub(crate) const ISSUER: &'static str = "test-issuer";

    pub(crate) async fn start(user: &str, password: &str) -> Self {
        let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let certificate = rcgen::CertificateParams::new(vec!["token-issuer.test".to_owned()])
            .unwrap()
            .self_signed(&key_pair)
            .unwrap();
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key_pair.serialize_der(),
            &SystemRandom::new(),
        )
        .unwrap();
        let signer = Arc::new(Signer {
            key,
            certificate_der: certificate.der().to_vec(),
            user: user.to_owned(),
            password: password.to_owned(),
            asked: Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let serving = signer.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let signer = serving.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let signer = signer.clone();
                        async move { Ok::<_, Infallible>(signer.answer(&request)) }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            certificate_pem: certificate.pem(),
            signer,
            task,
        }
    }

    pub(crate) fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    pub(crate) fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// Every scope asked for so far.
    pub(crate) fn scopes_asked(&self) -> Vec<String> {
        self.signer.asked.lock().unwrap().clone()
    }
}

impl Drop for TokenIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Signer {
    fn answer<B>(&self, request: &http::Request<B>) -> http::Response<Full<Bytes>> {
        let expected = format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", self.user, self.password))
        );
        let authorized = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .is_some_and(|value| value.as_bytes() == expected.as_bytes());
        if !authorized {
            return http::Response::builder()
                .status(401)
                .header("www-authenticate", r#"Basic realm="token""#)
                .body(Full::new(Bytes::from_static(
                    br#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#,
                )))
                .unwrap();
        }
        let scopes: Vec<String> = request
            .uri()
            .query()
            .unwrap_or_default()
            .split('&')
            .filter_map(|pair| pair.strip_prefix("scope="))
            .map(|value| {
                percent_encoding::percent_decode_str(&value.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .flat_map(|value| value.split(' ').map(str::to_owned).collect::<Vec<_>>())
            .filter(|scope| !scope.is_empty())
            .collect();
        self.asked.lock().unwrap().extend(scopes.iter().cloned());
        let access: Vec<Value> = scopes
            .iter()
            .filter_map(|scope| {
                let (kind, rest) = scope.split_once(':')?;
                let (name, actions) = rest.rsplit_once(':')?;
                Some(json!({ "type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>() }))
            })
            .collect();
        let token = self.sign(&access);
        let body = json!({ "token": token, "access_token": token, "expires_in": 300 }).to_string();
        http::Response::builder()
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    }

    fn sign(&self, access: &[Value]) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = json!({ "typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(&self.certificate_der)] });
        let claims = json!({
            "iss": TokenIssuer::ISSUER,
            "sub": self.user,
            "aud": TokenIssuer::SERVICE,
            "exp": now + 600,
            "nbf": now - 10,
            "iat": now,
            "jti": format!("{:016x}", fastrand::u64(..)),
            "access": access,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .unwrap();
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        )
    }
}
