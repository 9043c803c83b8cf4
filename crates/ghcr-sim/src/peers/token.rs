//! A token issuer docker-registry trusts: ES256 JWTs signed with a fresh
//! P-256 key whose self-signed certificate is the registry's root bundle
//! and travels in the `x5c` header. Basic credentials are checked and every
//! action asked for is granted.

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
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

/// A running token issuer on 127.0.0.1; stops when dropped.
pub struct TokenIssuer {
    addr: SocketAddr,
    certificate_pem: String,
    signer: Arc<Signer>,
    task: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password stays out.
        f.debug_struct("TokenIssuer")
            .field("realm", &self.realm())
            .field("user", &self.signer.user)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// The `service` the registry is configured with (the token's `aud`).
    pub const SERVICE: &'static str = "test-registry";
    /// The `issuer` the registry is configured with (the token's `iss`).
    pub const ISSUER: &'static str = "test-issuer";

    /// Starts an issuer that accepts `user` and `password` as Basic
    /// credentials.
    ///
    /// # Errors
    ///
    /// When no key or certificate can be made or no port bound.
    pub async fn start(user: &str, password: &str) -> io::Result<Self> {
        let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(io::Error::other)?;
        let certificate = rcgen::CertificateParams::new(vec!["token-issuer.test".to_owned()])
            .and_then(|params| params.self_signed(&key_pair))
            .map_err(io::Error::other)?;
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key_pair.serialize_der(),
            &SystemRandom::new(),
        )
        .map_err(|err| io::Error::other(format!("the signing key was refused: {err}")))?;
        let signer = Arc::new(Signer {
            key,
            certificate_der: certificate.der().to_vec(),
            user: user.to_owned(),
            password: password.to_owned(),
            asked: Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
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
        Ok(Self {
            addr,
            certificate_pem: certificate.pem(),
            signer,
            task,
        })
    }

    /// The token endpoint: `http://127.0.0.1:<port>/token`.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The signing certificate, PEM: the registry's `rootcertbundle`.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// Every scope asked for so far (`repository:team/app:pull,push`), in
    /// order.
    pub fn scopes_asked(&self) -> Vec<String> {
        self.signer
            .asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for TokenIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(status: u16, body: String) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
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
            let mut refused = answer(
                401,
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#.to_owned(),
            );
            refused.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static(r#"Basic realm="token""#),
            );
            return refused;
        }
        let scopes = scopes_of(request.uri().query().unwrap_or_default());
        self.asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(scopes.iter().cloned());
        let access: Vec<Value> = scopes
            .iter()
            .filter_map(|scope| {
                let (kind, rest) = scope.split_once(':')?;
                let (name, actions) = rest.rsplit_once(':')?;
                Some(json!({ "type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>() }))
            })
            .collect();
        match self.sign(&access) {
            Some(token) => answer(
                200,
                json!({ "token": token, "access_token": token, "expires_in": 300 }).to_string(),
            ),
            None => answer(
                500,
                r#"{"errors":[{"code":"UNKNOWN","message":"signing failed"}]}"#.to_owned(),
            ),
        }
    }

    fn sign(&self, access: &[Value]) -> Option<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let header = json!({ "typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(&self.certificate_der)] });
        let claims = json!({
            "iss": TokenIssuer::ISSUER,
            "sub": self.user,
            "aud": TokenIssuer::SERVICE,
            "exp": now + 600,
            "nbf": now.saturating_sub(10),
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
            .ok()?;
        Some(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

/// The scopes of a token request: every `scope=` value, each split on
/// spaces (`+` or `%20`).
fn scopes_of(query: &str) -> Vec<String> {
    query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("scope="))
        .map(|value| {
            percent_encoding::percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
        .flat_map(|value| value.split(' ').map(str::to_owned).collect::<Vec<_>>())
        .filter(|scope| !scope.is_empty())
        .collect()
}
