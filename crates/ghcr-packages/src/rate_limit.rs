//! The GitHub API's rate-limit overview (`GET /rate_limit`): every budget
//! and what is left of it. The call does not count against the primary
//! limit, so health checks and dashboards can make it freely.

use std::collections::BTreeMap;

use ghcr_transport::Endpoint;
use ghcr_types::RateLimitInfo;
use serde::Deserialize;

use crate::client::PackagesClient;
use crate::error::Result;

/// The part of the answer read: `resources` by name (`rate` repeats `core`
/// and goes away in API version 2026-03-10).
#[derive(Deserialize)]
struct Overview {
    resources: BTreeMap<String, RateLimitInfo>,
}

impl PackagesClient {
    /// Every GitHub API budget (`core`, `search`, `graphql`, …), sorted by
    /// name. ghcr.io itself publishes no limits.
    ///
    /// # Errors
    ///
    /// The API's errors, and [`crate::Error::InvalidResponse`] for an
    /// answer that is not a rate-limit overview.
    pub async fn rate_limit(&self) -> Result<Vec<RateLimitInfo>> {
        let uri = self.url("/rate_limit")?;
        let (overview, _) = self
            .get_json_as::<Overview>(Endpoint("rate_limit"), &uri, "read", "the rate limits")
            .await?;
        Ok(overview
            .resources
            .into_iter()
            .map(|(resource, mut info)| {
                info.resource = resource;
                info
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::Error;

    const OVERVIEW: &str = r#"{
        "resources": {
            "search": {"limit": 30, "remaining": 30, "used": 0, "reset": 1700000060},
            "core": {"limit": 5000, "remaining": 4999, "used": 1, "reset": 1700000000}
        },
        "rate": {"limit": 5000, "remaining": 4999, "used": 1, "reset": 1700000000}
    }"#;

    #[tokio::test]
    async fn every_budget_is_named_from_its_key() {
        let (builder, seen) = crate::scripted::client(|_, _| (200, vec![], OVERVIEW.into()));
        let client = builder
            .api_base("https://ghe.example/api/v3")
            .build()
            .unwrap();
        let limits = client.rate_limit().await.unwrap();
        let names: Vec<(&str, u64)> = limits
            .iter()
            .map(|l| (l.resource.as_str(), l.remaining))
            .collect();
        assert_eq!(names, [("core", 4999), ("search", 30)]);
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].1, "https://ghe.example/api/v3/rate_limit");
        assert_eq!(seen[0].2["accept"], "application/vnd.github+json");
    }

    #[tokio::test]
    async fn other_answers_are_errors() {
        for (status, body) in [
            (200, "[]"),
            (200, r#"{"resources": {"core": {"limit": "many"}}}"#),
            (404, r#"{"message": "Not Found"}"#),
        ] {
            let (builder, _) = crate::scripted::client(move |_, _| (status, vec![], body.into()));
            let error = builder.build().unwrap().rate_limit().await.unwrap_err();
            match (&error, status) {
                (Error::InvalidResponse { operation, .. }, 200) => {
                    assert_eq!(operation, "read the rate limits");
                }
                (other, 404) => assert!(other.is_not_found(), "{other}"),
                (other, _) => panic!("{body}: {other:?}"),
            }
        }
    }
}
