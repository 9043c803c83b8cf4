//! `PackagesClient`: settings, and the one way requests to the GitHub API
//! are built and read.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use ghcr_registry::RegistryClient;
use ghcr_transport::HttpBody;
use ghcr_transport::{AuthScope, Body, Endpoint, Transport};
use http::header::ACCEPT;
use http::{HeaderMap, HeaderValue, Method, Uri};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::vulns::AttestationsApi;

/// The REST API version pinned by default (supported until March 2028).
pub const DEFAULT_API_VERSION: &str = "2022-11-28";

/// The GitHub.com REST API.
pub const GITHUB_API: &str = "https://api.github.com";

/// The largest API answer read (a page of 100 versions is about 100 KiB).
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// The largest answer read to a DELETE or POST (GitHub's is empty: 204).
pub(crate) const MAX_WRITE_ANSWER: usize = 64 * 1024;

/// DELETE and POST cost 5 points of GitHub's secondary limit.
pub(crate) const WRITE_POINTS: u32 = 5;

pub(crate) struct Inner {
    pub(crate) transport: Transport,
    pub(crate) registry: RegistryClient,
    api_base: String,
    api_version: HeaderValue,
    registry_host: String,
    web_base: String,
    pub(crate) page_size: u8,
    pub(crate) write_points_per_minute: u32,
    pub(crate) attestations_api: AttestationsApi,
    pub(crate) verification: Option<ghcr_trust::Policy>,
    login: tokio::sync::OnceCell<String>,
}

/// A client for the GitHub Packages REST API (container packages), with
/// cleanup and vulnerability reports that read manifests and attestations
/// from the registry. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct PackagesClient {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for PackagesClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PackagesClient")
            .field("api_base", &self.inner.api_base)
            .field("registry_host", &self.inner.registry_host)
            .finish_non_exhaustive()
    }
}

/// Builds a [`PackagesClient`].
///
/// ```
/// use ghcr_packages::PackagesClient;
/// use ghcr_transport::Transport;
///
/// let transport = Transport::builder().build()?;
/// let client = PackagesClient::builder(transport)
///     .enterprise("github.example.com") // Default: GitHub.com and ghcr.io.
///     .build()?;
/// assert_eq!(client.api_base(), "https://github.example.com/api/v3");
/// assert_eq!(client.registry_host(), "containers.github.example.com");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct PackagesClientBuilder {
    transport: Transport,
    registry: Option<RegistryClient>,
    api_base: String,
    api_version: String,
    registry_host: String,
    web_base: Option<String>,
    page_size: u8,
    write_points_per_minute: u32,
    attestations_api: AttestationsApi,
    verification: Option<ghcr_trust::Policy>,
}

impl PackagesClientBuilder {
    /// The REST API base URL. Default: `https://api.github.com`; GitHub
    /// Enterprise Server uses `https://HOST/api/v3` (see
    /// [`PackagesClientBuilder::enterprise`]).
    #[must_use]
    pub fn api_base(mut self, url: &str) -> Self {
        url.trim_end_matches('/').clone_into(&mut self.api_base);
        self
    }

    /// The `X-GitHub-Api-Version` sent with every request. Default:
    /// `2022-11-28` ([`DEFAULT_API_VERSION`]).
    #[must_use]
    pub fn api_version(mut self, version: &str) -> Self {
        version.clone_into(&mut self.api_version);
        self
    }

    /// The registry host packages live on, for manifest reads and
    /// [`PackagesClient::delete_image`]. Default: `ghcr.io`.
    #[must_use]
    pub fn registry_host(mut self, host: &str) -> Self {
        host.clone_into(&mut self.registry_host);
        self
    }

    /// The web UI base, for the package settings links in errors. Default:
    /// `https://github.com` for the GitHub.com API, else the API's origin.
    #[must_use]
    pub fn web_base(mut self, url: &str) -> Self {
        self.web_base = Some(url.trim_end_matches('/').to_owned());
        self
    }

    /// GitHub Enterprise Server at `host`: API `https://HOST/api/v3`,
    /// registry `containers.HOST`, web `https://HOST`. Default: GitHub.com.
    #[must_use]
    pub fn enterprise(self, host: &str) -> Self {
        self.api_base(&format!("https://{host}/api/v3"))
            .registry_host(&format!("containers.{host}"))
            .web_base(&format!("https://{host}"))
    }

    /// The registry client manifests and attestations are read with.
    /// Default: one with default settings on the same transport.
    #[must_use]
    pub fn registry(mut self, registry: RegistryClient) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Items per listing page, 1 to 100. Default: 100, GitHub's maximum.
    #[must_use]
    pub fn page_size(mut self, size: u8) -> Self {
        self.page_size = size;
        self
    }

    /// The secondary-limit budget that paced deletes and restores stay
    /// within, in points per minute (each costs 5). Default: 900, GitHub's
    /// documented limit per endpoint: one request every 334 ms.
    #[must_use]
    pub fn write_points_per_minute(mut self, points: u32) -> Self {
        self.write_points_per_minute = points;
        self
    }

    /// Whether vulnerability lookups also ask GitHub's attestations API
    /// when the registry holds no scan. Default: [`AttestationsApi::Skip`].
    #[must_use]
    pub fn attestations_api(mut self, use_it: AttestationsApi) -> Self {
        self.attestations_api = use_it;
        self
    }

    /// Verify the signature of every vulnerability attestation with
    /// `policy`: a report then says `signature_verified: true` and names
    /// its signer, and attestations that do not verify are left out of
    /// every answer and decision (listed as ignored, with why).
    /// Default: no policy; reports are read unverified and say
    /// `signature_verified: false`.
    #[must_use]
    pub fn verify_with(mut self, policy: ghcr_trust::Policy) -> Self {
        self.verification = Some(policy);
        self
    }

    /// Validates the settings and builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for an API base that is not an absolute http(s)
    /// URL, an API version that is not a header value, an empty registry
    /// host, a page size outside 1 to 100 or a budget below 5 points.
    pub fn build(self) -> Result<PackagesClient> {
        let config = |setting, reason: String| Error::Config { setting, reason };
        let base: Uri = self
            .api_base
            .parse()
            .map_err(|_| config("api_base", format!("`{}` is not a URL", self.api_base)))?;
        if !matches!(base.scheme_str(), Some("http" | "https")) || base.authority().is_none() {
            return Err(config(
                "api_base",
                format!(
                    "`{}` must be an absolute http(s) URL such as https://api.github.com",
                    self.api_base
                ),
            ));
        }
        if base.query().is_some() {
            return Err(config("api_base", "must not carry a query".into()));
        }
        let api_version = HeaderValue::from_str(&self.api_version).map_err(|_| {
            config(
                "api_version",
                format!("`{}` is not a header value", self.api_version),
            )
        })?;
        if self.registry_host.trim().is_empty() {
            return Err(config(
                "registry_host",
                "must name a host such as ghcr.io".into(),
            ));
        }
        if !(1..=100).contains(&self.page_size) {
            return Err(config(
                "page_size",
                format!("{} is outside 1 to 100", self.page_size),
            ));
        }
        if self.write_points_per_minute < WRITE_POINTS {
            return Err(config(
                "write_points_per_minute",
                format!(
                    "{} cannot fit one delete (5 points); GitHub allows 900",
                    self.write_points_per_minute
                ),
            ));
        }
        let web_base = self
            .web_base
            .clone()
            .unwrap_or_else(|| default_web_base(&base, &self.api_base));
        Ok(self.assemble(api_version, web_base))
    }

    /// The client from validated settings.
    fn assemble(self, api_version: HeaderValue, web_base: String) -> PackagesClient {
        let registry = self
            .registry
            .unwrap_or_else(|| RegistryClient::new(self.transport.clone()));
        PackagesClient {
            inner: Arc::new(Inner {
                transport: self.transport,
                registry,
                api_base: self.api_base,
                api_version,
                registry_host: self.registry_host,
                web_base,
                page_size: self.page_size,
                write_points_per_minute: self.write_points_per_minute,
                attestations_api: self.attestations_api,
                verification: self.verification,
                login: tokio::sync::OnceCell::new(),
            }),
        }
    }
}

/// How a write ended, and after how many attempts.
pub(crate) struct Written {
    pub(crate) result: Result<()>,
    pub(crate) attempts: u32,
}

/// Reads a whole answer of at most `limit` bytes.
async fn read_body(mut body: HttpBody, limit: usize, what: &str) -> Result<Bytes> {
    let mut collected = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|source| Error::Interrupted {
            what: what.to_owned(),
            source,
        })?;
        if let Ok(data) = frame.into_data() {
            if collected.len() + data.len() > limit {
                return Err(Error::InvalidResponse {
                    operation: what.to_owned(),
                    reason: format!(
                        "the answer is larger than this client's limit of {limit} bytes"
                    ),
                });
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok(collected.freeze())
}

/// github.com for api.github.com; a GHES `/api/v3` base's host; else the origin.
fn default_web_base(base: &Uri, text: &str) -> String {
    let scheme = base.scheme_str().unwrap_or("https");
    let authority = base
        .authority()
        .map(http::uri::Authority::as_str)
        .unwrap_or_default();
    if authority.eq_ignore_ascii_case("api.github.com") {
        return "https://github.com".to_owned();
    }
    if let Some(host) = authority.strip_prefix("api.")
        && text.contains(".ghe.com")
    {
        return format!("{scheme}://{host}");
    }
    format!("{scheme}://{authority}")
}

impl PackagesClient {
    /// A client for GitHub.com and ghcr.io with default settings.
    pub fn new(transport: Transport) -> Self {
        Self::builder(transport).assemble(
            HeaderValue::from_static(DEFAULT_API_VERSION),
            "https://github.com".to_owned(),
        )
    }

    /// Starts a builder.
    pub fn builder(transport: Transport) -> PackagesClientBuilder {
        PackagesClientBuilder {
            transport,
            registry: None,
            api_base: GITHUB_API.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            registry_host: ghcr_types::DEFAULT_REGISTRY.to_owned(),
            web_base: None,
            page_size: 100,
            write_points_per_minute: 900,
            attestations_api: AttestationsApi::Skip,
            verification: None,
        }
    }

    /// The REST API base URL, without a trailing slash.
    pub fn api_base(&self) -> &str {
        &self.inner.api_base
    }

    /// The registry host packages live on.
    pub fn registry_host(&self) -> &str {
        &self.inner.registry_host
    }

    /// The web UI base URL.
    pub fn web_base(&self) -> &str {
        &self.inner.web_base
    }

    /// The registry client manifests and attestations are read with.
    pub fn registry(&self) -> &RegistryClient {
        &self.inner.registry
    }

    /// The transport requests go through.
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// `{api_base}{path_and_query}`.
    pub(crate) fn url(&self, path_and_query: &str) -> Result<Uri> {
        let text = format!("{}{path_and_query}", self.inner.api_base);
        text.parse().map_err(|_| Error::Config {
            setting: "api_base",
            reason: format!("`{text}` is not a valid URL"),
        })
    }

    /// A request with GitHub's headers and the API's credentials.
    fn request(&self, method: Method, uri: &Uri) -> http::Request<Body> {
        let mut request = http::Request::new(Body::empty());
        *request.method_mut() = method;
        *request.uri_mut() = uri.clone();
        let headers = request.headers_mut();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert("x-github-api-version", self.inner.api_version.clone());
        request.extensions_mut().insert(AuthScope::GitHubApi);
        request.extensions_mut().insert(Endpoint("packages"));
        request
    }

    /// GETs `uri` and reads its JSON; `action` and `what` name it in errors.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        uri: &Uri,
        action: &str,
        what: &str,
    ) -> Result<(T, HeaderMap)> {
        self.get_json_as(Endpoint("packages"), uri, action, what)
            .await
    }

    /// As [`PackagesClient::get_json`], counted under `endpoint` in metrics.
    pub(crate) async fn get_json_as<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        uri: &Uri,
        action: &str,
        what: &str,
    ) -> Result<(T, HeaderMap)> {
        let mut request = self.request(Method::GET, uri);
        request.extensions_mut().insert(endpoint);
        let response = self
            .inner
            .transport
            .send_checked(request)
            .await
            .map_err(|error| Error::from_api(action, what, error))?;
        let (parts, body) = response.into_parts();
        let bytes = read_body(body, MAX_ANSWER, &format!("{action} {what}")).await?;
        let value = serde_json::from_slice(&bytes).map_err(|error| Error::InvalidResponse {
            operation: format!("{action} {what}"),
            reason: error.to_string(),
        })?;
        Ok((value, parts.headers))
    }

    /// Sends a bodiless DELETE or POST that GitHub answers with 204.
    pub(crate) async fn send_empty(
        &self,
        method: Method,
        uri: &Uri,
        action: &str,
        what: &str,
    ) -> Result<()> {
        self.send_write(method, uri, action, what).await.result
    }

    /// As [`PackagesClient::send_empty`], also saying how many attempts the
    /// transport made: a 404 after a repeated DELETE means the first one
    /// most likely went through and only its answer was lost.
    pub(crate) async fn send_write(
        &self,
        method: Method,
        uri: &Uri,
        action: &str,
        what: &str,
    ) -> Written {
        let request = self.request(method.clone(), uri);
        let response = match self.inner.transport.send(request).await {
            Ok(response) => response,
            Err(error) => {
                return Written {
                    result: Err(Error::from_api(action, what, error)),
                    attempts: 1,
                };
            }
        };
        let attempts = response
            .extensions()
            .get::<ghcr_transport::Attempts>()
            .map_or(1, |a| a.0);
        let result = if response.status().is_success() {
            // Read the (empty) answer so the connection is reused, up to a cap.
            let limit = MAX_WRITE_ANSWER;
            read_body(response.into_body(), limit, &format!("{action} {what}"))
                .await
                .map(drop)
        } else {
            let error = ghcr_transport::Error::from_response(&method, uri, response).await;
            Err(Error::from_api(action, what, error))
        };
        Written { result, attempts }
    }

    /// The login of the token's account (`GET /user`), fetched once.
    ///
    /// # Errors
    ///
    /// The API's errors; an Actions `GITHUB_TOKEN` cannot read `/user`.
    pub async fn authenticated_login(&self) -> Result<String> {
        self.inner
            .login
            .get_or_try_init(|| async {
                #[derive(serde::Deserialize)]
                struct User {
                    login: String,
                }
                let (user, _) = self
                    .get_json::<User>(&self.url("/user")?, "read", "the authenticated user")
                    .await?;
                Ok::<_, Error>(user.login)
            })
            .await
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> PackagesClientBuilder {
        PackagesClient::builder(Transport::builder().build().unwrap())
    }

    #[test]
    fn defaults_and_enterprise() {
        let client = builder().build().unwrap();
        assert_eq!(client.api_base(), "https://api.github.com");
        assert_eq!(client.registry_host(), "ghcr.io");
        assert_eq!(client.web_base(), "https://github.com");
        let ghes = builder()
            .api_base("https://ghe.example/api/v3/")
            .build()
            .unwrap();
        assert_eq!(ghes.api_base(), "https://ghe.example/api/v3");
        assert_eq!(ghes.web_base(), "https://ghe.example");
        let ghe_com = builder()
            .api_base("https://api.octo.ghe.com")
            .build()
            .unwrap();
        assert_eq!(ghe_com.web_base(), "https://octo.ghe.com");
    }

    #[tokio::test]
    async fn requests_carry_githubs_headers_and_the_api_credentials() {
        let (builder, seen) =
            crate::scripted::client(|_, _| (200, vec![], "{\"login\":\"octo\"}".into()));
        let client = builder
            .api_base("https://ghe.example/api/v3")
            .api_version("2026-03-10")
            .build()
            .unwrap();
        assert_eq!(client.authenticated_login().await.unwrap(), "octo");
        // Fetched once, then remembered.
        assert_eq!(client.authenticated_login().await.unwrap(), "octo");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let (method, url, headers) = &seen[0];
        assert_eq!(
            (method, url.as_str()),
            (&Method::GET, "https://ghe.example/api/v3/user")
        );
        assert_eq!(headers["accept"], "application/vnd.github+json");
        assert_eq!(headers["x-github-api-version"], "2026-03-10");
        assert!(
            headers["user-agent"]
                .to_str()
                .unwrap()
                .starts_with("ghcr-rs/")
        );
    }

    #[tokio::test]
    async fn answers_to_deletes_and_restores_are_capped() {
        let (builder, _) =
            crate::scripted::client(|_, _| (200, vec![], "x".repeat(MAX_WRITE_ANSWER + 1)));
        let client = builder.build().unwrap();
        let owner = ghcr_types::Owner::user("octo");
        let id = ghcr_types::PackageVersionId(7);
        let errors = [
            client.delete_version(&owner, "app", id).await.unwrap_err(),
            client.restore_version(&owner, "app", id).await.unwrap_err(),
            client.delete_package(&owner, "app").await.unwrap_err(),
            client.restore_package(&owner, "app").await.unwrap_err(),
        ];
        for error in errors {
            let text = error.to_string();
            assert!(
                text.contains("larger than this client's limit of 65536 bytes"),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_settings_are_errors() {
        let table = [
            (builder().api_base("api.github.com"), "api_base"),
            (builder().api_base("https://x/?a=b"), "api_base"),
            (builder().api_version("bad\nversion"), "api_version"),
            (builder().registry_host(" "), "registry_host"),
            (builder().page_size(0), "page_size"),
            (builder().page_size(101), "page_size"),
            (
                builder().write_points_per_minute(4),
                "write_points_per_minute",
            ),
        ];
        for (builder, setting) in table {
            match builder.build() {
                Err(Error::Config { setting: found, .. }) => assert_eq!(found, setting),
                other => panic!("{setting}: {other:?}"),
            }
        }
    }
}
