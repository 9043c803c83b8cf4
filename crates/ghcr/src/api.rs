//! GitHub API calls the packages client does not make: the rate-limit
//! overview, and telling a user from an organization by login.

use bytes::BytesMut;
use ghcr_transport::{AuthScope, Body, Endpoint};
use ghcr_types::{Owner, RateLimitInfo};
use http_body_util::BodyExt;
use serde::Deserialize;

use crate::client::GhcrClient;
use crate::error::{Error, Result};

/// The largest `/rate_limit` answer read.
const MAX_ANSWER: usize = 1024 * 1024;

#[derive(Deserialize)]
struct Overview {
    resources: std::collections::BTreeMap<String, RateLimitInfo>,
}

impl GhcrClient {
    /// Every GitHub API budget (`core`, `search`, `graphql`, …) from
    /// `GET /rate_limit`, which does not count against the primary limit.
    /// ghcr.io itself publishes no limits.
    ///
    /// # Errors
    ///
    /// The transport's errors, and [`Error::InvalidResponse`] for an answer
    /// that is not a rate-limit overview.
    pub async fn rate_limit(&self) -> Result<Vec<RateLimitInfo>> {
        let url = format!("{}/rate_limit", self.config().api_base());
        let uri: http::Uri = url.parse().map_err(|_| {
            Error::config(
                "api_base",
                crate::config::API_BASE_VAR,
                format!("`{url}` is not a valid URL"),
            )
        })?;
        let mut request = http::Request::new(Body::empty());
        *request.uri_mut() = uri.clone();
        let headers = request.headers_mut();
        headers.insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            "x-github-api-version",
            http::HeaderValue::from_static(ghcr_packages::DEFAULT_API_VERSION),
        );
        request.extensions_mut().insert(AuthScope::GitHubApi);
        request.extensions_mut().insert(Endpoint("rate_limit"));
        let response = self.transport().send_checked(request).await?;
        let protocol = |reason: String| Error::InvalidResponse {
            operation: format!("GET {}", ghcr_transport::redact_url(&uri)),
            reason,
        };
        let mut body = response.into_body();
        let mut bytes = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame
                .map_err(|error| protocol(format!("the answer could not be read: {error}")))?;
            if let Ok(data) = frame.into_data() {
                bytes.extend_from_slice(&data);
            }
            if bytes.len() > MAX_ANSWER {
                return Err(protocol(format!(
                    "the answer is larger than {MAX_ANSWER} bytes"
                )));
            }
        }
        let overview: Overview = serde_json::from_slice(&bytes)
            .map_err(|error| protocol(format!("not a rate-limit overview: {error}")))?;
        Ok(overview
            .resources
            .into_iter()
            .map(|(resource, mut info)| {
                info.resource = resource;
                info
            })
            .collect())
    }

    /// The owner `login` names: an organization when GitHub lists container
    /// packages under `/orgs/{login}` (or refuses this token there), a user
    /// when it answers 404. Remembered for the client's lifetime.
    ///
    /// # Errors
    ///
    /// The API's errors other than 404.
    pub async fn resolve_owner(&self, login: &str) -> Result<Owner> {
        let mut known = self.inner.owners.lock().await;
        if let Some(owner) = known.get(login) {
            return Ok(owner.clone());
        }
        let probe = self
            .packages()
            .packages(&Owner::org(login), None)?
            .next_page()
            .await;
        let owner = match probe {
            Ok(_) | Err(ghcr_packages::Error::OrgListingForbidden { .. }) => Owner::org(login),
            Err(error) if is_not_found(&error) => Owner::user(login),
            Err(error) => return Err(error.into()),
        };
        known.insert(login.to_owned(), owner.clone());
        Ok(owner)
    }
}

/// A 404, also when it comes wrapped in a paging error.
fn is_not_found(error: &ghcr_packages::Error) -> bool {
    match error {
        ghcr_packages::Error::Paging { source, .. } => is_not_found(source),
        other => other.is_not_found(),
    }
}
