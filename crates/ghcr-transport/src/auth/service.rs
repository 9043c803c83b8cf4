//! The auth service: attach, send, and on 401 answer the challenge once.

use std::sync::{Arc, PoisonError};

use ghcr_auth::{AuthScheme, BearerToken, Challenge, ScopeSet, TokenRealm};
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use tower::{Service, ServiceExt};

use super::AuthState;
use crate::body::{Body, BoxError, HttpBody, full, read_limited, try_clone_request};
use crate::request::AuthScope;
use crate::stack::{Inner, ResponseFuture};

/// Attaches credentials and answers challenges.
#[derive(Clone, Debug)]
pub(crate) struct AuthService<S> {
    inner: S,
    state: Arc<AuthState>,
}

impl<S> AuthService<S> {
    pub(super) fn new(inner: S, state: Arc<AuthState>) -> Self {
        Self { inner, state }
    }
}

impl<S: Inner> Service<http::Request<Body>> for AuthService<S> {
    type Response = http::Response<HttpBody>;
    type Error = BoxError;
    type Future = ResponseFuture;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let inner = self.inner.clone();
        let state = self.state.clone();
        Box::pin(async move {
            let scope = request
                .extensions()
                .get::<AuthScope>()
                .cloned()
                .unwrap_or_default();
            match scope {
                AuthScope::Anonymous => inner.oneshot(request).await,
                AuthScope::GitHubApi => api(inner, &state, request).await,
                AuthScope::Registry(scopes) => registry(inner, &state, request, &scopes).await,
            }
        })
    }
}

fn host_of(request: &http::Request<Body>) -> String {
    crate::error::host_and_port(request.uri())
}

async fn api<S: Inner>(
    inner: S,
    state: &AuthState,
    mut request: http::Request<Body>,
) -> Result<http::Response<HttpBody>, BoxError> {
    let host = host_of(&request);
    if let Some(credentials) = state
        .tokens
        .credentials()
        .credentials(&host)
        .await
        .map_err(crate::Error::Auth)?
        && let Some(header) = credentials.api_bearer_authorization()
    {
        request.headers_mut().insert(AUTHORIZATION, header);
    }
    inner.oneshot(request).await
}

/// What the first answer asked for.
enum Demand {
    Bearer(TokenRealm),
    Basic,
    /// A 403 DENIED without a challenge (seen on ghcr.io with credentials):
    /// try a token for the known realm once.
    RefreshKnown(TokenRealm),
    Nothing,
}

async fn registry<S: Inner>(
    inner: S,
    state: &AuthState,
    mut request: http::Request<Body>,
    scopes: &ScopeSet,
) -> Result<http::Response<HttpBody>, BoxError> {
    let host = host_of(&request);
    let retry = try_clone_request(&request);
    let attached = attach_known(state, &host, scopes, &mut request).await?;
    let response = inner.clone().oneshot(request).await?;
    let (response, demand) = demand_of(state, &host, response).await?;
    let (Some(mut retry), false) = (retry, matches!(demand, Demand::Nothing)) else {
        return Ok(response);
    };
    let status = response.status();
    drop(read_limited(response.into_body(), ERROR_BODY_LIMIT).await);
    match demand {
        Demand::Bearer(realm) | Demand::RefreshKnown(realm) => {
            state.tokens.remember_realm(&host, realm.clone());
            if let Attached::Token(refused) = &attached {
                // Only this token (and older ones) is dead: a newer one that
                // another request fetched meanwhile is kept.
                state.tokens.invalidate_token(&host, scopes, refused);
            }
            let header = fetch_token(state, &host, &realm, scopes).await?;
            retry.headers_mut().insert(AUTHORIZATION, header);
        }
        Demand::Basic => {
            state
                .basic_hosts
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(host.clone());
            let credentials = state
                .tokens
                .credentials()
                .credentials(&host)
                .await
                .map_err(crate::Error::Auth)?;
            let Some(header) = credentials
                .as_ref()
                .and_then(ghcr_auth::Credentials::basic_authorization)
            else {
                return Err(unauthorized(&host, scopes));
            };
            retry.headers_mut().insert(AUTHORIZATION, header);
        }
        Demand::Nothing => unreachable!("handled above"),
    }
    let second = inner.oneshot(retry).await?;
    if second.status() == StatusCode::UNAUTHORIZED {
        drop(read_limited(second.into_body(), ERROR_BODY_LIMIT).await);
        return Err(unauthorized(&host, scopes));
    }
    if status == StatusCode::FORBIDDEN && second.status() == StatusCode::FORBIDDEN {
        let (second, rate_limited) = peek_rate_limit(second).await?;
        if !rate_limited {
            return Err(unauthorized(&host, scopes));
        }
        return Ok(second);
    }
    Ok(second)
}

/// How much of a refused answer is read to decide what it means.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Reads a 403's body to see whether it is a rate limit (ghcr.io has
/// answered pushes with "403 You have exceeded a secondary rate limit"),
/// and gives back a response with the same head and body.
async fn peek_rate_limit(
    response: http::Response<HttpBody>,
) -> Result<(http::Response<HttpBody>, bool), BoxError> {
    let (parts, body) = response.into_parts();
    let bytes = read_limited(body, ERROR_BODY_LIMIT).await?;
    let rate_limited = String::from_utf8_lossy(&bytes)
        .to_ascii_lowercase()
        .contains("rate limit");
    Ok((http::Response::from_parts(parts, full(bytes)), rate_limited))
}

fn unauthorized(host: &str, scopes: &ScopeSet) -> BoxError {
    Box::new(crate::Error::Unauthorized {
        registry: host.to_owned(),
        scope: scopes.to_string(),
    })
}

/// What [`attach_known`] put on the request.
enum Attached {
    Nothing,
    Token(BearerToken),
    Basic,
}

/// Attaches a token for a realm we already know, or Basic credentials to a
/// Basic registry.
async fn attach_known(
    state: &AuthState,
    host: &str,
    scopes: &ScopeSet,
    request: &mut http::Request<Body>,
) -> Result<Attached, BoxError> {
    if let Some(realm) = state.tokens.realm_for(host) {
        let token = token_for(state, host, &realm, scopes).await?;
        request
            .headers_mut()
            .insert(AUTHORIZATION, authorization(host, &token)?);
        return Ok(Attached::Token(token));
    }
    let basic = state
        .basic_hosts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .contains(host);
    if basic
        && let Some(credentials) = state
            .tokens
            .credentials()
            .credentials(host)
            .await
            .map_err(crate::Error::Auth)?
        && let Some(header) = credentials.basic_authorization()
    {
        request.headers_mut().insert(AUTHORIZATION, header);
        return Ok(Attached::Basic);
    }
    Ok(Attached::Nothing)
}

/// The cached or a new token for `scopes`, counting fetches in the metrics.
async fn token_for(
    state: &AuthState,
    host: &str,
    realm: &TokenRealm,
    scopes: &ScopeSet,
) -> Result<BearerToken, BoxError> {
    let token = state.tokens.token(host, realm, scopes).await;
    state
        .metrics
        .token_fetches_total(state.tokens.fetch_count());
    Ok(token.map_err(crate::Error::Auth)?)
}

async fn fetch_token(
    state: &AuthState,
    host: &str,
    realm: &TokenRealm,
    scopes: &ScopeSet,
) -> Result<HeaderValue, BoxError> {
    authorization(host, &token_for(state, host, realm, scopes).await?)
}

fn authorization(host: &str, token: &BearerToken) -> Result<HeaderValue, BoxError> {
    token.authorization().ok_or_else(|| {
        Box::new(crate::Error::Protocol {
            url: host.to_owned(),
            reason: "the token endpoint issued a token that is not a valid header value".into(),
        }) as BoxError
    })
}

/// What a refused answer asks for. A 403 without a challenge is read: a
/// rate limit is left to the rate-limit layer, anything else is answered
/// with a fresh token for the known realm.
async fn demand_of(
    state: &AuthState,
    host: &str,
    response: http::Response<HttpBody>,
) -> Result<(http::Response<HttpBody>, Demand), BoxError> {
    let demand = challenge_demand(state, host, &response);
    if !matches!(demand, Demand::RefreshKnown(_)) {
        return Ok((response, demand));
    }
    let (response, rate_limited) = peek_rate_limit(response).await?;
    Ok((
        response,
        if rate_limited {
            Demand::Nothing
        } else {
            demand
        },
    ))
}

fn challenge_demand(state: &AuthState, host: &str, response: &http::Response<HttpBody>) -> Demand {
    let status = response.status();
    if status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
        return Demand::Nothing;
    }
    let values = response
        .headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let challenges = Challenge::parse_all(values).unwrap_or_default();
    if let Some(realm) = challenges.iter().find_map(TokenRealm::from_challenge) {
        return Demand::Bearer(realm);
    }
    if challenges.iter().any(|c| c.scheme == AuthScheme::Basic) {
        return Demand::Basic;
    }
    if status == StatusCode::FORBIDDEN && challenges.is_empty() {
        return state
            .tokens
            .realm_for(host)
            .map_or(Demand::Nothing, Demand::RefreshKnown);
    }
    Demand::Nothing
}
