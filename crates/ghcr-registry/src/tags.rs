//! Tags: paginated listing (a stream, or collected), regex filters, tagging
//! an existing image, retagging, and deleting a tag.

use std::borrow::Cow;
use std::collections::HashSet;

use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use ghcr_transport::ghcr_auth::Scope;
use ghcr_transport::{Body, next_link};
use ghcr_types::{Digest, Manifest, MediaType, Reference, Tag};
use http::{Method, StatusCode, Uri};
use serde::Deserialize;
use serde_json::json;

use crate::blobs::{BlobSource, UploadOptions};
use crate::client::{RegistryClient, is_ghcr, with_query};
use crate::error::{Error, Result};
use crate::manifests::{Refuser, not_found, read_limited, unsupported_delete};
use crate::request::{Deleted, drain, failure};

/// The most tags one listing returns (a registry that pages for ever stops here).
pub(crate) const MAX_TAGS: usize = 1_000_000;

/// The most tag list pages one listing reads (1,000,000 tags at docker-registry's 100 a page).
pub(crate) const MAX_TAG_PAGES: usize = 10_000;

/// Tags as they arrive, page by page.
pub type TagStream = BoxStream<'static, Result<Tag>>;

/// A tag list page, its names borrowed from the body where they hold no
/// escapes (one allocation a tag, the [`Tag`]'s own).
#[derive(Deserialize)]
struct TagPage<'a> {
    #[serde(default, borrow)]
    tags: Option<Vec<TagName<'a>>>,
}

/// One name of a page. serde borrows a `Cow` only where it is a field of
/// its own, not inside a `Vec`: hence this wrapper.
#[derive(Deserialize)]
struct TagName<'a>(#[serde(borrow)] Cow<'a, str>);

/// `pattern` compiled as a tag filter.
///
/// # Errors
///
/// [`Error::InvalidFilter`] naming the pattern.
pub(crate) fn tag_filter(pattern: &str) -> Result<regex::Regex> {
    regex::Regex::new(pattern).map_err(|source| Error::InvalidFilter {
        pattern: pattern.to_owned(),
        source: Box::new(source),
    })
}

impl RegistryClient {
    /// The repository's tags as a stream, fetched `page_size` at a time
    /// (`n`, the registry's default when `None`), following each `Link`
    /// even when a page holds fewer than `n` tags. A `Link` back to a page
    /// already read ends the stream with [`Error::Protocol`]; more than
    /// 1,000,000 tags or 10,000 pages with [`Error::LimitExceeded`].
    pub fn tags(&self, repository: &Reference, page_size: Option<usize>) -> TagStream {
        let client = self.clone();
        let repository = repository.without_tag_or_digest();
        let first = self
            .url(&repository, "tags/list")
            .and_then(|url| match page_size {
                Some(n) => with_query(&url, &[("n", &n.to_string())]),
                None => Ok(url),
            });
        // Pages already read: a Link back to one of them would loop for ever.
        let state = (client, repository, Some(first), HashSet::new(), 0);
        futures_util::stream::try_unfold(state, |(client, repository, next, mut read, mut count)| async move {
            let Some(url) = next else {
                return Ok::<_, Error>(None);
            };
            let url = url?;
            if read.len() >= MAX_TAG_PAGES {
                return Err(too_many("tag list pages", MAX_TAG_PAGES, &repository));
            }
            let (tags, following) = client.tag_page(&repository, &url).await?;
            count += tags.len();
            if count > MAX_TAGS {
                return Err(too_many("tags", MAX_TAGS, &repository));
            }
            read.insert(url.to_string());
            // This page's tags come out first, then the error.
            let following = following.map(|next| {
                let next = next?;
                if read.contains(&next.to_string()) {
                    Err(Error::protocol(
                        &next,
                        "the tag list's Link leads back to a page already read; the registry's pagination loops",
                    ))
                } else {
                    Ok(next)
                }
            });
            let page = futures_util::stream::iter(tags.into_iter().map(Ok));
            Ok(Some((page, (client, repository, following, read, count))))
        })
        .try_flatten()
        .boxed()
    }

    /// Every tag of the repository.
    ///
    /// # Errors
    ///
    /// The transport's errors, [`Error::Protocol`] for a page that is not a
    /// tag list, [`Error::Data`] for an invalid tag.
    pub async fn list_tags(&self, repository: &Reference) -> Result<Vec<Tag>> {
        self.tags(repository, None).try_collect().await
    }

    /// The tags matching `pattern`, a regular expression searched anywhere
    /// in the tag (anchor it with `^…$` to match whole tags).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFilter`] for a bad pattern, and those of
    /// [`RegistryClient::list_tags`].
    pub async fn list_tags_matching(
        &self,
        repository: &Reference,
        pattern: &str,
    ) -> Result<Vec<Tag>> {
        let regex = tag_filter(pattern)?;
        let mut tags = self.list_tags(repository).await?;
        tags.retain(|tag| regex.is_match(tag.as_str()));
        Ok(tags)
    }

    /// One page, and where the next one is (an error for a `Link` that may
    /// not be followed, reported after this page's tags).
    async fn tag_page(
        &self,
        repository: &Reference,
        url: &Uri,
    ) -> Result<(Vec<Tag>, Option<Result<Uri>>)> {
        let registry = repository.registry();
        let origin = self.origin_of(registry, url, "a tag list Link")?;
        let response = self
            .call(
                Method::GET,
                url,
                Scope::pull(repository.repository()),
                "tags",
            )
            .origin(origin)
            .send(Body::empty())
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Err(not_found(repository));
        }
        if !response.status().is_success() {
            return Err(failure(response, &Method::GET, url).await);
        }
        let links = response.headers().get_all(http::header::LINK);
        let next = next_link(links.iter().filter_map(|value| value.to_str().ok()))
            .map(|link| Ok(self.follow(registry, url, link, "a tag list Link")?.0));
        let bytes = read_limited(response, 16 * 1024 * 1024, repository).await?;
        let not_a_list =
            |err: &dyn std::fmt::Display| Error::protocol(url, format!("not a tag list: {err}"));
        // One UTF-8 check of the whole page costs less than one per name.
        let text = std::str::from_utf8(&bytes).map_err(|err| not_a_list(&err))?;
        let page: TagPage = serde_json::from_str(text).map_err(|err| not_a_list(&err))?;
        let tags = page
            .tags
            .unwrap_or_default()
            .iter()
            .map(|TagName(tag)| Tag::parse(tag))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((tags, next))
    }

    /// Tags the image `source` names with `tag` in the same repository:
    /// the exact manifest bytes are put under the new tag, so the digest
    /// stays the same. Returns that digest.
    ///
    /// # Errors
    ///
    /// [`Error::ManifestNotFound`], and those of [`RegistryClient::put_manifest`].
    pub async fn tag(&self, source: &Reference, tag: &Tag) -> Result<Digest> {
        let manifest = self.get_manifest(source).await?;
        let target = source.with_tag(tag.as_str())?;
        Ok(self.put_manifest_only(&target, &manifest).await?.0)
    }

    /// Renames tag `from` to `to` in `repository` and returns the digest.
    ///
    /// What is atomic: each step on its own. `to` is written first, with
    /// the exact bytes `from` pointed at when they were read, in one PUT
    /// (readers see the old `to` or the new one, never a mix); then `from`
    /// is deleted ([`RegistryClient::delete_tag`]). What is not: the pair.
    /// Between the steps both tags exist; if the delete fails both stay
    /// (the image is never left untagged); and a push to `from` between
    /// the read and the delete is deleted with it.
    ///
    /// # Errors
    ///
    /// Those of [`RegistryClient::tag`] and [`RegistryClient::delete_tag`].
    pub async fn retag(&self, repository: &Reference, from: &Tag, to: &Tag) -> Result<Digest> {
        let source = repository.with_tag(from.as_str())?;
        let digest = self.tag(&source, to).await?;
        if from != to {
            self.delete_tag(&source).await?;
        }
        Ok(digest)
    }

    /// Removes one tag, leaving the image and its other tags.
    ///
    /// Registries that accept `DELETE /manifests/<tag>` do it directly.
    /// Those that only delete by digest (docker-registry 2.x) get a small
    /// placeholder manifest pushed over the tag, which is then deleted by
    /// digest. ghcr.io deletes nothing through the registry API: remove the
    /// tag's package version through the GitHub Packages API.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] without a tag, [`Error::Unsupported`]
    /// (ghcr.io, or deletes switched off), [`Error::ManifestNotFound`], and
    /// the transport's errors.
    pub async fn delete_tag(&self, reference: &Reference) -> Result<()> {
        let Some(tag) = reference.tag().filter(|_| reference.digest().is_none()) else {
            return Err(Error::reference(
                reference,
                "deleting a tag needs a tag and no digest",
            ));
        };
        if is_ghcr(reference.registry()) {
            return Err(unsupported_delete(reference.registry(), Refuser::GitHub));
        }
        let url = self.manifest_url(reference, tag.as_str())?;
        match self.send_delete(&url, reference, "manifests").await? {
            Deleted::Done => Ok(()),
            Deleted::Missing => Err(not_found(reference)),
            Deleted::Refused(response) => {
                drain(response).await;
                if self.head_manifest(reference).await?.is_none() {
                    return Err(not_found(reference));
                }
                self.delete_tag_by_placeholder(reference).await
            }
        }
    }

    async fn delete_tag_by_placeholder(&self, reference: &Reference) -> Result<()> {
        let empty = BlobSource::bytes(&b"{}"[..]);
        let config = self
            .push_blob(reference, empty, &UploadOptions::new())
            .await?;
        let placeholder = json!({
            "schemaVersion": 2,
            "mediaType": MediaType::OciManifest.as_str(),
            "config": {
                "mediaType": MediaType::OciEmptyJson.as_str(),
                "digest": config.digest.as_str(),
                "size": config.size,
            },
            "layers": [],
            "annotations": {
                "io.github.ghcr-rs.placeholder": format!("{}-{:016x}", reference, fastrand::u64(..)),
            },
        });
        let bytes = serde_json::to_vec(&placeholder).map_err(|err| Error::Protocol {
            url: reference.to_string(),
            reason: format!("the placeholder manifest could not be written: {err}"),
        })?;
        let manifest = Manifest::from_bytes(bytes, Some(MediaType::OciManifest.as_str()))?;
        self.put_manifest_only(reference, &manifest).await?;
        self.delete_manifest(&reference.with_digest(manifest.digest().clone()))
            .await
    }
}

fn too_many(what: &'static str, limit: usize, repository: &Reference) -> Error {
    Error::LimitExceeded {
        what,
        limit: limit as u64,
        at: repository.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::TagPage;

    #[test]
    fn a_page_borrows_plain_names_and_decodes_escaped_ones() {
        let body = br#"{"name":"team/app","tags":["v1","v\u0032","latest"]}"#;
        let page: TagPage = serde_json::from_slice(body).unwrap();
        let tags: Vec<_> = page.tags.unwrap().into_iter().map(|name| name.0).collect();
        assert_eq!(tags, ["v1", "v2", "latest"]);
        assert!(matches!(tags[0], std::borrow::Cow::Borrowed(_)));
        assert!(matches!(tags[1], std::borrow::Cow::Owned(_)));
    }

    #[test]
    fn a_page_without_tags_is_empty_not_an_error() {
        for body in [
            &br#"{"name":"team/app","tags":null}"#[..],
            br#"{"name":"team/app"}"#,
        ] {
            let page: TagPage = serde_json::from_slice(body).unwrap();
            assert!(page.tags.is_none());
        }
    }
}
