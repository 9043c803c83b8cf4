//! `Link` pagination: GitHub's `rel="next"` URLs, followed as given (never
//! built), one page at a time, with a cursor to resume a listing that failed
//! part way.
//!
//! Pages shift while someone pushes: an item can come again on the next
//! page. A listing hands out each id once. It refuses a `Link` back to a
//! page it already read, and stops with [`Error::ListingLimit`] past
//! [`MAX_PAGES`] pages or [`MAX_ITEMS`] items, so a server that pages
//! without end cannot make it buffer without end.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::marker::PhantomData;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use serde::de::DeserializeOwned;

use ghcr_transport::next_link;

use crate::client::PackagesClient;
use crate::error::{Error, Result};

/// The most pages one listing reads: [`MAX_ITEMS`] at 10 per page.
pub const MAX_PAGES: u32 = 20_000;

/// The most items (distinct ids) one listing collects: twenty times what
/// GitHub serves of a packages list (`page * per_page <= 10000`), and about
/// 100 MiB of versions in memory.
pub const MAX_ITEMS: usize = 200_000;

/// Where a listing continues: the URL of the next page to fetch and its
/// position (1 for the first page).
///
/// A failed listing reports the cursor of the page that failed
/// ([`Error::Paging`]); pass it to [`PackagesClient::resume_versions`] or
/// [`PackagesClient::resume_packages`] to go on from there.
///
/// ```
/// use ghcr_packages::PageCursor;
///
/// let cursor = PageCursor::parse("https://api.github.com/user/packages/container/app/versions?per_page=100&page=3")?;
/// assert_eq!(cursor.page(), 3);
/// assert_eq!(cursor.to_string(), cursor.url());
/// # Ok::<(), ghcr_packages::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageCursor {
    url: String,
    page: u32,
}

impl PageCursor {
    pub(crate) fn new(url: String, page: u32) -> Self {
        Self { url, page }
    }

    /// A cursor from its URL (as printed by [`Error::Paging`]); the position
    /// is read from the `page` query parameter, 1 without one.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the text is not an absolute http(s) URL.
    pub fn parse(url: &str) -> Result<Self> {
        let uri: http::Uri = url.parse().map_err(|_| Error::Config {
            setting: "cursor",
            reason: format!("`{url}` is not a URL"),
        })?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.authority().is_none() {
            return Err(Error::Config {
                setting: "cursor",
                reason: format!("`{url}` is not an absolute http(s) URL"),
            });
        }
        let page = uri
            .query()
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("page="))
            .and_then(|value| value.parse().ok())
            .unwrap_or(1);
        Ok(Self {
            url: url.to_owned(),
            page,
        })
    }

    /// The URL of the page.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The page's position, from 1.
    pub fn page(&self) -> u32 {
        self.page
    }
}

impl fmt::Display for PageCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// A listing read page by page (versions or packages).
///
/// Use [`Pages::next_page`] for control over each request, or
/// [`Pages::into_stream`] / [`Pages::collect_all`]. A page that fails after
/// the transport's retries leaves the cursor on that page, so calling
/// [`Pages::next_page`] again retries it.
pub struct Pages<T> {
    client: PackagesClient,
    next: Option<PageCursor>,
    what: String,
    org: Option<String>,
    /// The id an item is told apart by.
    key: fn(&T) -> u64,
    /// Ids already handed out.
    seen: HashSet<u64>,
    /// URLs of the pages read.
    read: HashSet<String>,
    /// [`MAX_PAGES`] and [`MAX_ITEMS`] (lower in tests).
    limits: (usize, usize),
    _items: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("what", &self.what)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned + Send + 'static> Pages<T> {
    pub(crate) fn new(
        client: PackagesClient,
        first: PageCursor,
        what: String,
        org: Option<String>,
        key: fn(&T) -> u64,
    ) -> Self {
        Self {
            client,
            next: Some(first),
            what,
            org,
            key,
            seen: HashSet::new(),
            read: HashSet::new(),
            limits: (MAX_PAGES as usize, MAX_ITEMS),
            _items: PhantomData,
        }
    }

    /// Lower limits, so a test need not read 20,000 pages.
    #[cfg(test)]
    fn with_limits(mut self, pages: usize, items: usize) -> Self {
        self.limits = (pages, items);
        self
    }

    /// Where the listing continues; `None` once it is complete.
    pub fn cursor(&self) -> Option<&PageCursor> {
        self.next.as_ref()
    }

    /// The next page's items, without those an earlier page already
    /// handed out (same id); `Ok(None)` once the listing is complete.
    ///
    /// # Errors
    ///
    /// The first page's error as it is ([`Error::NotFound`],
    /// [`Error::OrgListingForbidden`], …); a later page's wrapped in
    /// [`Error::Paging`] with the cursor to resume from.
    /// [`Error::InvalidResponse`] for a `Link` back to a page already read,
    /// [`Error::ListingLimit`] past [`MAX_PAGES`] or [`MAX_ITEMS`].
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>> {
        let Some(cursor) = self.next.clone() else {
            return Ok(None);
        };
        let (max_pages, max_items) = self.limits;
        if self.read.len() >= max_pages {
            self.next = None;
            return Err(self.limit("pages", max_pages));
        }
        match self.client.fetch_page::<T>(&cursor, &self.what).await {
            Ok((items, next)) => {
                self.read.insert(cursor.url().to_owned());
                if let Some(again) = next.as_deref().filter(|url| self.read.contains(*url)) {
                    let reason = format!(
                        "the next page's Link `{again}` points back at a page already read (a paging loop)"
                    );
                    self.next = None;
                    return Err(Error::InvalidResponse {
                        operation: format!("list {}", self.what),
                        reason,
                    });
                }
                let key = self.key;
                let items: Vec<T> = items
                    .into_iter()
                    .filter(|item| self.seen.insert(key(item)))
                    .collect();
                if self.seen.len() > max_items {
                    self.next = None;
                    return Err(self.limit("items", max_items));
                }
                // A cursor parsed from a user's text may already say u32::MAX.
                self.next = next.map(|url| PageCursor::new(url, cursor.page().saturating_add(1)));
                Ok(Some(items))
            }
            Err(error) => {
                let error = match &self.org {
                    Some(org) if error.is_integration_refusal() => Error::OrgListingForbidden {
                        org: org.clone(),
                        message: error.github_message().unwrap_or_default().to_owned(),
                    },
                    _ => error,
                };
                if cursor.page() <= 1 {
                    return Err(error);
                }
                Err(Error::Paging {
                    what: self.what.clone(),
                    cursor,
                    source: Box::new(error),
                })
            }
        }
    }

    fn limit(&self, limit: &'static str, value: usize) -> Error {
        Error::ListingLimit {
            what: self.what.clone(),
            limit,
            value,
        }
    }

    /// Every remaining item.
    ///
    /// # Errors
    ///
    /// As [`Pages::next_page`].
    pub async fn collect_all(mut self) -> Result<Vec<T>> {
        let mut all = Vec::new();
        while let Some(items) = self.next_page().await? {
            all.extend(items);
        }
        Ok(all)
    }

    /// The remaining items one by one; the stream ends after an error.
    pub fn into_stream(self) -> BoxStream<'static, Result<T>> {
        stream::unfold(
            (self, VecDeque::new(), false),
            |(mut pages, mut buffer, failed)| async move {
                if failed {
                    return None;
                }
                loop {
                    if let Some(item) = buffer.pop_front() {
                        return Some((Ok(item), (pages, buffer, false)));
                    }
                    match pages.next_page().await {
                        Ok(Some(items)) => buffer.extend(items),
                        Ok(None) => return None,
                        Err(error) => return Some((Err(error), (pages, buffer, true))),
                    }
                }
            },
        )
        .boxed()
    }
}

impl PackagesClient {
    /// One page: its items and the next page's URL (checked to stay on the API's origin).
    pub(crate) async fn fetch_page<T: DeserializeOwned>(
        &self,
        cursor: &PageCursor,
        what: &str,
    ) -> Result<(Vec<T>, Option<String>)> {
        let uri: http::Uri = cursor.url().parse().map_err(|_| Error::Config {
            setting: "cursor",
            reason: format!("`{cursor}` is not a URL"),
        })?;
        let (items, headers) = self.get_json::<Vec<T>>(&uri, "list", what).await?;
        let values = headers
            .get_all(http::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok());
        let next = next_link(values)
            .map(|link| self.same_origin(link, what))
            .transpose()?;
        Ok((items, next))
    }

    /// `link` made absolute against the API base, refused when it leaves the
    /// API's origin (the token would follow it).
    fn same_origin(&self, link: &str, what: &str) -> Result<String> {
        let base = self.api_base();
        let absolute = if link.starts_with('/') && !link.starts_with("//") {
            let origin_end = base
                .find("://")
                .and_then(|at| base[at + 3..].find('/').map(|slash| at + 3 + slash))
                .unwrap_or(base.len());
            format!("{}{link}", &base[..origin_end])
        } else {
            link.to_owned()
        };
        let origin = |url: &str| -> Option<String> {
            let uri: http::Uri = url.parse().ok()?;
            Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?))
        };
        match (origin(&absolute), origin(base)) {
            (Some(found), Some(expected)) if found.eq_ignore_ascii_case(&expected) => Ok(absolute),
            _ => Err(Error::InvalidResponse {
                operation: format!("list {what}"),
                reason: format!(
                    "the next page's Link `{link}` leaves {base}; refused to send the token there"
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn links_to_other_hosts_are_refused_and_relative_ones_resolved() {
        let (builder, seen) = crate::scripted::client(|_, url| {
            let link = if url.contains("page=2") {
                r#"<https://evil.example/user/packages?page=3>; rel="next""#
            } else {
                r#"</user/packages?package_type=container&page=2>; rel="next""#
            };
            (200, vec![("link", link.to_owned())], "[]".into())
        });
        let client = builder.build().unwrap();
        let mut pages = client
            .packages(&ghcr_types::Owner::AuthenticatedUser, None)
            .unwrap();
        assert_eq!(pages.next_page().await.unwrap(), Some(vec![]));
        assert_eq!(
            pages.cursor().unwrap().url(),
            "https://api.github.com/user/packages?package_type=container&page=2"
        );
        let error = pages.next_page().await.unwrap_err();
        let Error::Paging { source, .. } = &error else {
            panic!("expected a paging error, got {error:?}");
        };
        assert!(
            source
                .to_string()
                .contains("refused to send the token there"),
            "{source}"
        );
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert!(
            seen.iter()
                .all(|(_, url, _)| url.starts_with("https://api.github.com/"))
        );
    }

    #[tokio::test]
    async fn a_cursor_at_the_last_page_number_does_not_overflow() {
        let (builder, _) = crate::scripted::client(|_, _| {
            let link =
                r#"<https://api.github.com/user/packages/container/a/versions?page=9>; rel="next""#;
            (200, vec![("link", link.to_owned())], "[]".into())
        });
        let client = builder.build().unwrap();
        let last = "https://api.github.com/user/packages/container/a/versions?page=4294967295";
        let mut pages = client.resume_versions(PageCursor::parse(last).unwrap());
        assert_eq!(pages.next_page().await.unwrap(), Some(vec![]));
        assert_eq!(pages.cursor().unwrap().page(), u32::MAX);
    }

    const VERSIONS: &str = "https://api.github.com/user/packages/container/a/versions";

    fn versions_json(ids: std::ops::Range<u64>) -> String {
        let versions: Vec<serde_json::Value> = ids
            .map(|id| serde_json::json!({"id": id, "name": format!("v{id}"), "created_at": "2026-01-01T00:00:00Z"}))
            .collect();
        serde_json::Value::from(versions).to_string()
    }

    /// A listing whose page `n` links to `next(n)`, with `per_page` new
    /// ids a page; after 100 requests it ends, so a client that would
    /// follow it for ever fails the test instead of hanging it.
    fn looping(next: fn(u32) -> u32, per_page: u64) -> (PackagesClient, crate::scripted::Seen) {
        let count = std::sync::atomic::AtomicUsize::new(0);
        let (builder, seen) = crate::scripted::client(move |_, url| {
            let page: u32 = url
                .rsplit("page=")
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let first = u64::from(page) * per_page;
            let body = versions_json(first..first + per_page);
            if count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 100 {
                return (200, vec![], body);
            }
            let link = format!("<{VERSIONS}?page={}>; rel=\"next\"", next(page));
            (200, vec![("link", link)], body)
        });
        (builder.build().unwrap(), seen)
    }

    fn start(client: &PackagesClient) -> Pages<ghcr_types::PackageVersion> {
        client.resume_versions(PageCursor::parse(&format!("{VERSIONS}?page=1")).unwrap())
    }

    #[tokio::test]
    async fn a_link_back_to_a_page_already_read_ends_the_listing() {
        // Page 1 -> 2 -> 1 -> 2 …
        let (client, seen) = looping(|page| 3 - page, 1);
        let error = start(&client).collect_all().await.unwrap_err();
        assert!(
            error
                .to_string()
                .contains("points back at a page already read"),
            "{error}"
        );
        assert!(error.to_string().contains("?page=1`"), "{error}");
        assert_eq!(seen.lock().unwrap().len(), 2);
    }

    /// `error` is the listing limit `expected`, set to `at`.
    fn assert_limit(error: &Error, expected: &str, at: usize) {
        assert!(
            matches!(
                error,
                Error::ListingLimit { limit, value, .. } if *limit == expected && *value == at
            ),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn endless_pages_stop_at_the_page_and_item_limits() {
        // page=n+1 for ever, one new item a page.
        let (client, seen) = looping(|page| page + 1, 1);
        let error = start(&client)
            .with_limits(50, 1000)
            .collect_all()
            .await
            .unwrap_err();
        assert_limit(&error, "pages", 50);
        assert!(error.to_string().contains("limit of 50 pages"), "{error}");
        assert_eq!(seen.lock().unwrap().len(), 50);
        // Ten new items a page: the item limit comes first.
        let (client, _) = looping(|page| page + 1, 10);
        let error = start(&client)
            .with_limits(50, 95)
            .collect_all()
            .await
            .unwrap_err();
        assert_limit(&error, "items", 95);
    }

    #[tokio::test]
    async fn an_item_a_shifted_page_repeats_is_handed_out_once() {
        // Page n holds ids n..n+2: every id but the first comes twice.
        let (builder, _) = crate::scripted::client(|_, url| {
            let page: u64 = url
                .rsplit("page=")
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let link = if page < 4 {
                vec![(
                    "link",
                    format!("<{VERSIONS}?page={}>; rel=\"next\"", page + 1),
                )]
            } else {
                vec![]
            };
            (200, link, versions_json(page..page + 2))
        });
        let client = builder.build().unwrap();
        let ids: Vec<u64> = start(&client)
            .collect_all()
            .await
            .unwrap()
            .into_iter()
            .map(|v| v.id.0)
            .collect();
        assert_eq!(ids, [1, 2, 3, 4, 5]);
    }

    #[test]
    fn cursors_read_their_page() {
        for (url, page) in [
            (
                "https://api.github.com/orgs/o/packages?package_type=container&page=7",
                7,
            ),
            (
                "https://api.github.com/orgs/o/packages?package_type=container",
                1,
            ),
            (
                "http://127.0.0.1:8080/user/packages/container/a/versions?page=x",
                1,
            ),
        ] {
            assert_eq!(PageCursor::parse(url).unwrap().page(), page, "{url}");
        }
        for bad in ["/relative?page=2", "not a url", "ftp://host/x"] {
            assert!(PageCursor::parse(bad).is_err(), "{bad}");
        }
    }
}
