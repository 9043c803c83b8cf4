//! `/token`: the docker token protocol, Basic `NAME:TOKEN` in, an opaque
//! bearer token out, granting what the user's permissions and the token's
//! scopes allow.

use std::collections::{BTreeSet, HashMap};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{Method, StatusCode};
use time::format_description::well_known::Rfc3339;

use super::auth::credentials;
use super::{json, registry_error};
use crate::fake::accounts::{PatScope, Permission, TokenInfo};
use crate::fake::server::{Request, Shared};
use crate::fake::state::{Action, Bearer, Profile, RegistryError, State};

fn denied() -> http::Response<Bytes> {
    registry_error(&RegistryError::new(
        StatusCode::FORBIDDEN,
        "DENIED",
        "requested access to the resource is denied",
    ))
}

fn unauthorized() -> http::Response<Bytes> {
    registry_error(&RegistryError::new(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "authentication required",
    ))
}

pub(super) fn handle(shared: &Shared, request: &Request) -> http::Response<Bytes> {
    if request.method != Method::GET {
        return registry_error(&RegistryError::unsupported());
    }
    let mut state = shared.state();
    let identity = match credentials(request) {
        None => None,
        Some((scheme, encoded)) if scheme == "basic" => {
            let Some((user, token)) = STANDARD
                .decode(encoded)
                .ok()
                .and_then(|raw| String::from_utf8(raw).ok())
                .and_then(|text| {
                    text.split_once(':')
                        .map(|(u, t)| (u.to_owned(), t.to_owned()))
                })
            else {
                return unauthorized();
            };
            match state.accounts.basic(&user, &token) {
                Some(info) => Some(info.clone()),
                None => return unauthorized(),
            }
        }
        // ghcr.io answers a PAT sent as Bearer to /token with 401.
        Some(_) => return unauthorized(),
    };
    if identity
        .as_ref()
        .is_some_and(|info| !info.has(PatScope::ReadPackages))
    {
        return denied();
    }
    let scopes: Vec<String> = request
        .params("scope")
        .iter()
        .flat_map(|value| value.split(' ').map(str::to_owned).collect::<Vec<_>>())
        .filter(|scope| !scope.is_empty())
        .collect();
    let mut access: HashMap<String, BTreeSet<Action>> = HashMap::new();
    let mut refused = false;
    for scope in &scopes {
        let Some((name, actions)) = scope
            .strip_prefix("repository:")
            .and_then(|rest| rest.rsplit_once(':'))
        else {
            continue;
        };
        let requested: Vec<Action> = actions.split(',').flat_map(Action::parse).collect();
        let granted: BTreeSet<Action> = requested
            .iter()
            .copied()
            .filter(|action| allowed(&state, identity.as_ref(), name, *action))
            .collect();
        refused |= granted.is_empty();
        access.entry(name.to_owned()).or_default().extend(granted);
    }
    if identity.is_none() && (refused || scopes.is_empty()) {
        return denied();
    }
    let token = format!("fake-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    let now = shared.clock.now();
    let lifetime = shared.config.token_lifetime;
    state.bearers.insert(
        token.clone(),
        Bearer {
            access,
            expires_at: now
                .saturating_add(time::Duration::try_from(lifetime).unwrap_or(time::Duration::MAX)),
        },
    );
    match shared.config.profile {
        // ghcr.io sends no expiry: clients must assume the spec's default.
        Profile::Ghcr => json(StatusCode::OK, &serde_json::json!({"token": token})),
        Profile::Generic => json(
            StatusCode::OK,
            &serde_json::json!({
                "token": token,
                "access_token": token,
                "expires_in": lifetime.as_secs(),
                "issued_at": now.format(&Rfc3339).unwrap_or_default(),
            }),
        ),
    }
}

/// Whether the identity may do `action` on `name`.
fn allowed(state: &State, identity: Option<&TokenInfo>, name: &str, action: Action) -> bool {
    let owner = name.split('/').next().unwrap_or_default();
    if !name.contains('/') || state.accounts.account(owner).is_none() {
        return false;
    }
    let login = identity.map(|info| info.login.as_str());
    let Some(permission) = state
        .accounts
        .permission(login, name, state.is_public(name))
    else {
        return false;
    };
    let has = |scope| identity.is_some_and(|info| info.has(scope));
    match action {
        Action::Pull => permission >= Permission::Read,
        Action::Push => permission >= Permission::Write && has(PatScope::WritePackages),
        Action::Delete => permission >= Permission::Delete && has(PatScope::DeletePackages),
    }
}
