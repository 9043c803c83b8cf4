//! `Link` pagination: GitHub's `rel="next"` URLs, followed as given (never
//! built), one page at a time, with a cursor to resume a listing that failed
//! part way.

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use serde::de::DeserializeOwned;

use ghcr_transport::next_link;

use crate::client::PackagesClient;
use crate::error::{Error, Result};

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
    ) -> Self {
        Self {
            client,
            next: Some(first),
            what,
            org,
            _items: PhantomData,
        }
    }

    /// Where the listing continues; `None` once it is complete.
    pub fn cursor(&self) -> Option<&PageCursor> {
        self.next.as_ref()
    }

    /// The next page's items; `Ok(None)` once the listing is complete.
    ///
    /// # Errors
    ///
    /// The first page's error as it is ([`Error::NotFound`],
    /// [`Error::OrgListingForbidden`], …); a later page's wrapped in
    /// [`Error::Paging`] with the cursor to resume from.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>> {
        let Some(cursor) = self.next.clone() else {
            return Ok(None);
        };
        match self.client.fetch_page::<T>(&cursor, &self.what).await {
            Ok((items, next)) => {
                if next.as_deref() == Some(cursor.url()) {
                    self.next = None;
                    return Err(Error::InvalidResponse {
                        operation: format!("list {}", self.what),
                        reason: "the next page's Link points at the page itself".into(),
                    });
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
