//! Registry authorization: the bearer token a request carries must allow
//! the action on the repository; otherwise a challenge or a denial.

use std::fmt::Write as _;

use bytes::Bytes;
use http::StatusCode;

use super::{empty, registry_error};
use crate::fake::server::{Request, Shared};
use crate::fake::state::{Action, Profile, RegistryError};

/// The scheme and credentials of the Authorization header.
pub(crate) fn credentials(request: &Request) -> Option<(String, String)> {
    let value = request.header("authorization")?;
    let (scheme, rest) = value.split_once(' ')?;
    Some((scheme.to_ascii_lowercase(), rest.trim().to_owned()))
}

/// The 401 that sends a client to the token endpoint.
pub(crate) fn challenge(shared: &Shared, scope: Option<&str>) -> http::Response<Bytes> {
    let host = &shared.registry_host;
    let mut value = format!(r#"Bearer realm="http://{host}/token",service="{host}""#);
    if let Some(scope) = scope {
        let _ = write!(value, r#",scope="{scope}""#);
    }
    let mut response = registry_error(&RegistryError::new(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "authentication required",
    ));
    if let Ok(value) = value.parse() {
        response
            .headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, value);
    }
    response
}

/// ghcr.io's challenge for `/v2/` and `/v2/_catalog`: a placeholder scope.
pub(crate) const PLACEHOLDER_SCOPE: &str = "repository:user/image:pull";

/// Checks the request's token for `actions` on `repository` (any valid
/// token when `repository` is `None`, the ping).
pub(crate) fn authorize(
    shared: &Shared,
    request: &Request,
    repository: Option<&str>,
    actions: &[Action],
) -> Result<(), super::Refusal> {
    let scope = repository.map(|name| {
        let words: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
        format!("repository:{name}:{}", words.join(","))
    });
    let challenge_scope = match (shared.config.profile, &scope) {
        (_, Some(scope)) => Some(scope.as_str()),
        (Profile::Ghcr, None) => Some(PLACEHOLDER_SCOPE),
        (Profile::Generic, None) => None,
    };
    let Some((scheme, token)) = credentials(request) else {
        return Err(Box::new(challenge(shared, challenge_scope)));
    };
    if scheme == "basic" {
        return Err(Box::new(match shared.config.profile {
            // ghcr.io refuses Basic credentials sent straight to the registry.
            Profile::Ghcr => registry_error(&RegistryError::new(
                StatusCode::FORBIDDEN,
                "DENIED",
                "invalid token",
            )),
            Profile::Generic => challenge(shared, challenge_scope),
        }));
    }
    let now = shared.clock.now();
    let state = shared.state();
    let Some(bearer) = state
        .bearers
        .get(&token)
        .filter(|b| scheme == "bearer" && b.expires_at > now)
    else {
        return Err(Box::new(challenge(shared, challenge_scope)));
    };
    let Some(name) = repository else {
        return Ok(());
    };
    let Some(granted) = bearer.access.get(name) else {
        return Err(Box::new(challenge(shared, challenge_scope)));
    };
    match actions.iter().find(|action| !granted.contains(action)) {
        None => Ok(()),
        Some(missing) => {
            let what = match missing {
                Action::Pull => "read_package",
                Action::Push => "write_package",
                Action::Delete => "delete_package",
            };
            Err(Box::new(registry_error(&RegistryError::new(
                StatusCode::FORBIDDEN,
                "DENIED",
                format!("permission_denied: {what}"),
            ))))
        }
    }
}

/// `200 {}` for an authorized ping.
pub(crate) fn ping(shared: &Shared, request: &Request) -> http::Response<Bytes> {
    match authorize(shared, request, None, &[]) {
        Ok(()) => super::json(StatusCode::OK, &serde_json::json!({})),
        Err(denied) => *denied,
    }
}

/// A 202/201 with the standard upload headers.
pub(crate) fn created(location: String, digest: &str) -> http::Response<Bytes> {
    empty(
        StatusCode::CREATED,
        &[
            ("location", location),
            ("docker-content-digest", digest.to_owned()),
        ],
    )
}

/// Whether the request's (already checked) token also allows `action` on
/// another repository, for cross-repository mounts.
pub(crate) fn token_allows(
    shared: &Shared,
    request: &Request,
    repository: &str,
    action: Action,
) -> bool {
    let Some((_, token)) = credentials(request) else {
        return false;
    };
    shared
        .state()
        .bearers
        .get(&token)
        .and_then(|bearer| bearer.access.get(repository))
        .is_some_and(|granted| granted.contains(&action))
}
