//! `/v2/…`: the OCI distribution API, split by path into its handlers.

use bytes::Bytes;
use http::{Method, StatusCode};

use super::auth::{authorize, ping};
use super::{blobs, json, manifests, registry_error, uploads};
use crate::fake::server::{Request, Shared};
use crate::fake::state::{Action, Profile, RegistryError};

/// What the path after the repository name addresses.
#[derive(Debug, PartialEq, Eq)]
enum Target<'a> {
    Manifest(&'a str),
    Blob(&'a str),
    Uploads(&'a str),
    Tags,
    Referrers(&'a str),
}

/// Splits `/v2/<name>/<target>` at the last target marker, so that a
/// repository component named `blobs` or `manifests` still works.
fn split(rest: &str) -> Option<(&str, Target<'_>)> {
    if let Some(name) = rest.strip_suffix("/tags/list") {
        return Some((name, Target::Tags));
    }
    let markers = [
        ("/blobs/uploads", 0),
        ("/manifests/", 1),
        ("/blobs/", 2),
        ("/referrers/", 3),
    ];
    let (at, marker, kind) = markers
        .iter()
        .filter_map(|(marker, kind)| rest.rfind(marker).map(|at| (at, *marker, *kind)))
        // The last marker wins; at the same place, uploads before blobs.
        .max_by_key(|(at, _, kind)| (*at, std::cmp::Reverse(*kind)))?;
    let name = &rest[..at];
    let tail = &rest[at + marker.len()..];
    let target = match kind {
        0 => Target::Uploads(tail.strip_prefix('/').unwrap_or(tail)),
        1 => Target::Manifest(tail),
        2 => Target::Blob(tail),
        _ => Target::Referrers(tail),
    };
    Some((name, target))
}

pub(super) fn handle(shared: &Shared, request: &Request) -> http::Response<Bytes> {
    let rest = request.path.strip_prefix("/v2/").unwrap_or_default();
    if rest.is_empty() {
        return ping(shared, request);
    }
    if rest == "_catalog" {
        return catalog(shared, request);
    }
    let Some((name, target)) = split(rest) else {
        return registry_error(&RegistryError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "no such endpoint",
        ));
    };
    if let Err(error) = crate::fake::state::check_name(name) {
        return registry_error(&error);
    }
    match (target, &request.method) {
        (Target::Manifest(reference), _) => manifests::handle(shared, request, name, reference),
        (Target::Blob(digest), _) => blobs::handle(shared, request, name, digest),
        (Target::Uploads(id), _) => uploads::handle(shared, request, name, id),
        (Target::Tags, &Method::GET) => tags(shared, request, name),
        (Target::Referrers(digest), &Method::GET) => referrers(shared, request, name, digest),
        _ => registry_error(&RegistryError::unsupported()),
    }
}

fn catalog(shared: &Shared, request: &Request) -> http::Response<Bytes> {
    if let Err(denied) = authorize(shared, request, None, &[]) {
        return *denied;
    }
    match shared.config.profile {
        Profile::Ghcr => registry_error(&RegistryError::new(
            StatusCode::NOT_FOUND,
            "UNSUPPORTED",
            "The operation is unsupported.",
        )),
        Profile::Generic => {
            let state = shared.state();
            let names: Vec<&String> = state
                .repos
                .iter()
                .filter(|(_, repo)| repo.package.deleted_at.is_none())
                .map(|(name, _)| name)
                .collect();
            json(StatusCode::OK, &serde_json::json!({"repositories": names}))
        }
    }
}

/// `GET /v2/<name>/tags/list?n=&last=`, sorted, with a relative `Link`.
fn tags(shared: &Shared, request: &Request, name: &str) -> http::Response<Bytes> {
    if let Err(denied) = authorize(shared, request, Some(name), &[Action::Pull]) {
        return *denied;
    }
    let all = match shared.state().tag_list(name) {
        Ok(all) => all,
        Err(error) => return registry_error(&error),
    };
    let limit = match request.param("n") {
        Some(n) => match n.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => {
                return registry_error(&RegistryError::new(
                    StatusCode::BAD_REQUEST,
                    "PAGINATION_NUMBER_INVALID",
                    format!("invalid number of results requested: {n}"),
                ));
            }
        },
        None => shared.config.tags_page_size,
    };
    let last = request.param("last");
    let after: Vec<&String> = all
        .iter()
        .filter(|tag| {
            last.as_ref()
                .is_none_or(|last| tag.as_str() > last.as_str())
        })
        .collect();
    let page: Vec<&String> = match limit {
        Some(limit) => after.iter().take(limit).copied().collect(),
        None => after.clone(),
    };
    let mut response = json(
        StatusCode::OK,
        &serde_json::json!({"name": name, "tags": page}),
    );
    if let (Some(limit), Some(last_tag)) = (limit, page.last())
        && after.len() > page.len()
    {
        let link = format!("</v2/{name}/tags/list?n={limit}&last={last_tag}>; rel=\"next\"");
        if let Ok(value) = link.parse() {
            response.headers_mut().insert(http::header::LINK, value);
        }
    }
    response
}

/// `GET /v2/<name>/referrers/<digest>`: 404 on ghcr.io, an index elsewhere.
fn referrers(
    shared: &Shared,
    request: &Request,
    name: &str,
    digest: &str,
) -> http::Response<Bytes> {
    if let Err(denied) = authorize(shared, request, Some(name), &[Action::Pull]) {
        return *denied;
    }
    if shared.config.profile == Profile::Ghcr {
        return registry_error(&RegistryError::manifest_unknown(digest));
    }
    let digest = match crate::fake::state::parse_digest(digest) {
        Ok(digest) => digest,
        Err(error) => return registry_error(&error),
    };
    let filter = request.param("artifactType");
    let manifests = shared.state().referrers(name, &digest, filter.as_deref());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    let mut response = json(StatusCode::OK, &index);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/vnd.oci.image.index.v1+json"),
    );
    if filter.is_some() {
        response.headers_mut().insert(
            "oci-filters-applied",
            http::HeaderValue::from_static("artifactType"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        for (rest, expected) in [
            ("o/a/manifests/v1", Some(("o/a", Target::Manifest("v1")))),
            (
                "o/team/a/blobs/sha256:ab",
                Some(("o/team/a", Target::Blob("sha256:ab"))),
            ),
            ("o/a/blobs/uploads/", Some(("o/a", Target::Uploads("")))),
            (
                "o/a/blobs/uploads/123",
                Some(("o/a", Target::Uploads("123"))),
            ),
            (
                "o/blobs/manifests/v1",
                Some(("o/blobs", Target::Manifest("v1"))),
            ),
            (
                "o/manifests/blobs/sha256:ab",
                Some(("o/manifests", Target::Blob("sha256:ab"))),
            ),
            ("o/a/tags/list", Some(("o/a", Target::Tags))),
            (
                "o/a/referrers/sha256:ab",
                Some(("o/a", Target::Referrers("sha256:ab"))),
            ),
            ("o/a/unknown", None),
        ] {
            assert_eq!(split(rest), expected, "{rest}");
        }
    }
}
