//! GitHub's artifact attestations API by subject digest:
//! `GET /users/{u}/attestations/{digest}`, `/orgs/{o}/…` and
//! `/repos/{o}/{r}/…`, with `per_page`, `before`/`after` cursors and a
//! `predicate_type` filter (`provenance`, `sbom` or a full predicate type).
//! Callers see the attestations of the packages they can read; anonymous
//! callers those of public packages. None found is GitHub's 404.

use bytes::Bytes;
use ghcr_types::Digest;
use http::{Method, StatusCode};

use super::api::{DOCS, Page, admit, charge, github_error, link_target};
use crate::fake::accounts::{AccountKind, TokenInfo};
use crate::fake::server::{Request, Shared};

const ATTESTATIONS_DOCS: &str = "https://docs.github.com/rest/users/attestations";

/// Whose attestations a path asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    User(String),
    Org(String),
    Repo(String, String),
}

/// Splits an attestations path into its scope and subject digest.
fn parse(path: &str) -> Option<(Scope, &str)> {
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    match segments.as_slice() {
        ["users", login, "attestations", digest] => {
            Some((Scope::User((*login).to_owned()), digest))
        }
        ["orgs", login, "attestations", digest] => Some((Scope::Org((*login).to_owned()), digest)),
        ["repos", owner, repo, "attestations", digest] => {
            Some((Scope::Repo((*owner).to_owned(), (*repo).to_owned()), digest))
        }
        _ => None,
    }
}

/// Whether the path is one of the attestations routes.
pub(super) fn addresses(path: &str) -> bool {
    parse(path).is_some()
}

pub(super) fn handle(shared: &Shared, request: &Request) -> http::Response<Bytes> {
    let caller = match admit(shared, request) {
        Ok(caller) => caller,
        Err(refusal) => return *refusal,
    };
    let Some((scope, digest)) = parse(&request.path) else {
        return not_found();
    };
    let owner = match &scope {
        Scope::User(_) => "/users/{username}",
        Scope::Org(_) => "/orgs/{org}",
        Scope::Repo(..) => "/repos/{owner}/{repo}",
    };
    let endpoint = format!("{} {owner}/attestations/{{subject_digest}}", request.method);
    let quota = match charge(shared, caller.as_ref(), &request.method, &endpoint) {
        Ok(quota) => quota,
        Err(refusal) => return *refusal,
    };
    let mut response = if request.method == Method::GET {
        list(shared, request, caller.as_ref(), &scope, digest)
    } else {
        not_found()
    };
    quota.apply(&mut response);
    response
}

fn not_found() -> http::Response<Bytes> {
    github_error(StatusCode::NOT_FOUND, "Not Found", DOCS)
}

/// The predicate types a `predicate_type` filter selects.
fn selects(filter: Option<&str>, predicate_type: &str) -> bool {
    match filter {
        None => true,
        Some("provenance") => predicate_type.starts_with("https://slsa.dev/provenance/"),
        Some("sbom") => {
            predicate_type == "https://spdx.dev/Document"
                || predicate_type.starts_with("https://cyclonedx.org/bom")
        }
        Some(other) => other == predicate_type,
    }
}

fn list(
    shared: &Shared,
    request: &Request,
    caller: Option<&TokenInfo>,
    scope: &Scope,
    digest: &str,
) -> http::Response<Bytes> {
    let Ok(subject) = digest.parse::<Digest>() else {
        return not_found();
    };
    let per_page = Page::of(request).per_page;
    let cursor = |name: &str| request.param(name).map(|v| v.parse::<usize>());
    let (after, before) = match (cursor("after"), cursor("before")) {
        (Some(Err(_)), _) | (_, Some(Err(_))) => {
            return github_error(
                StatusCode::BAD_REQUEST,
                "Invalid cursor: use the before or after value of a Link header.",
                ATTESTATIONS_DOCS,
            );
        }
        (after, before) => (after.and_then(Result::ok), before.and_then(Result::ok)),
    };
    let filter = request.param("predicate_type");
    let state = shared.state();
    let (owner, repository) = match scope {
        Scope::User(login) | Scope::Org(login) => (login.as_str(), None),
        Scope::Repo(owner, repo) => (owner.as_str(), Some(format!("{owner}/{repo}"))),
    };
    let expected = match scope {
        Scope::User(_) => Some(AccountKind::User),
        Scope::Org(_) => Some(AccountKind::Organization),
        Scope::Repo(..) => None,
    };
    let Some(account) = state.accounts.account(owner) else {
        return not_found();
    };
    if expected.is_some_and(|kind| kind != account.kind) {
        return not_found();
    }
    let prefix = format!("{owner}/");
    let login = caller.map(|c| c.login.as_str());
    // Positions in the whole store are the cursors: stable while attestations are added.
    let visible: Vec<(usize, serde_json::Value)> = state
        .attestations
        .iter()
        .enumerate()
        .filter(|(_, a)| a.subject == subject && selects(filter.as_deref(), &a.predicate_type))
        .filter(|(_, a)| match &repository {
            Some(repository) => &a.repository == repository,
            None => a.repository.starts_with(&prefix),
        })
        .filter_map(|(position, a)| {
            let repo = state.live_repo(&a.repository)?;
            state
                .accounts
                .permission(login, &a.repository, state.is_public(&a.repository))?;
            Some((
                position,
                serde_json::json!({"bundle": a.bundle, "repository_id": repo.package.id}),
            ))
        })
        .collect();
    if visible.is_empty() {
        return not_found();
    }
    let window: Vec<&(usize, serde_json::Value)> = visible
        .iter()
        .filter(|(position, _)| after.is_none_or(|after| *position > after))
        .filter(|(position, _)| before.is_none_or(|before| *position < before))
        .collect();
    let page: Vec<serde_json::Value> = window
        .iter()
        .take(per_page)
        .map(|(_, entry)| entry.clone())
        .collect();
    let mut response = super::json(StatusCode::OK, &serde_json::json!({ "attestations": page }));
    if window.len() > per_page {
        let last = window[per_page - 1].0;
        let base = format!("http://{}", shared.registry_host);
        let next = link_target(
            &base,
            request,
            &["after", "before"],
            &format!("after={last}"),
        );
        let link = format!("{next}; rel=\"next\"");
        if let Ok(value) = link.parse() {
            response.headers_mut().insert(http::header::LINK, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_scope_and_subject() {
        assert_eq!(
            parse("/users/octo/attestations/sha256:ab"),
            Some((Scope::User("octo".into()), "sha256:ab"))
        );
        assert_eq!(
            parse("/orgs/o/attestations/sha256:ab"),
            Some((Scope::Org("o".into()), "sha256:ab"))
        );
        assert_eq!(
            parse("/repos/o/app/attestations/sha256:ab"),
            Some((Scope::Repo("o".into(), "app".into()), "sha256:ab"))
        );
        assert_eq!(parse("/users/octo/packages"), None);
        assert_eq!(parse("/users/octo/attestations/sha256:ab/x"), None);
    }

    #[test]
    fn shorthand_filters_select_their_predicates() {
        assert!(selects(None, "anything"));
        assert!(selects(
            Some("provenance"),
            "https://slsa.dev/provenance/v1"
        ));
        assert!(selects(Some("sbom"), "https://spdx.dev/Document"));
        assert!(!selects(
            Some("sbom"),
            "https://cosign.sigstore.dev/attestation/vuln/v1"
        ));
        assert!(selects(
            Some("https://in-toto.io/attestation/vulns/v0.1"),
            "https://in-toto.io/attestation/vulns/v0.1"
        ));
    }
}
