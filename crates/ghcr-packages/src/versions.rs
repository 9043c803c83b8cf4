//! Package versions: list (active or deleted, as a stream), get, delete,
//! restore, and find by tag or digest. On ghcr.io a version is one manifest
//! digest with all the tags that point at it.

use futures_util::TryStreamExt;
use ghcr_types::{Digest, Owner, PackageVersion, PackageVersionId};
use http::Method;
use regex::Regex;

use crate::client::{PackagesClient, Written};
use crate::error::{Error, Result};
use crate::owner::{describe, package_path};
use crate::page::{PageCursor, Pages};

/// Which versions a listing returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum VersionState {
    /// Live versions.
    #[default]
    Active,
    /// Versions deleted within the restore window (30 days).
    Deleted,
}

impl VersionState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Deleted => "deleted",
        }
    }
}

/// What a version listing tells versions apart by.
fn version_id(version: &PackageVersion) -> u64 {
    version.id.0
}

fn version_what(owner: &Owner, package: &str, id: PackageVersionId) -> String {
    format!("version {id} of {}", describe(owner, package))
}

impl PackagesClient {
    /// A package's versions, newest first, page by page (`per_page=100`,
    /// following `Link`).
    ///
    /// # Errors
    ///
    /// [`crate::Error::Config`] when the API base makes no valid URL.
    pub fn versions(
        &self,
        owner: &Owner,
        package: &str,
        state: VersionState,
    ) -> Result<Pages<PackageVersion>> {
        let query = format!(
            "{}/versions?per_page={}&state={}",
            package_path(owner, package),
            self.inner.page_size,
            state.as_str()
        );
        let first = PageCursor::new(self.url(&query)?.to_string(), 1);
        Ok(Pages::new(
            self.clone(),
            first,
            format!(
                "the {} versions of {}",
                state.as_str(),
                describe(owner, package)
            ),
            None,
            version_id,
        ))
    }

    /// Continues a version listing from the cursor of [`crate::Error::Paging`].
    pub fn resume_versions(&self, cursor: PageCursor) -> Pages<PackageVersion> {
        Pages::new(
            self.clone(),
            cursor,
            "package versions".into(),
            None,
            version_id,
        )
    }

    /// Every version in `state` (FR-VER-001).
    ///
    /// # Errors
    ///
    /// As [`PackagesClient::versions`] and [`Pages::next_page`].
    #[tracing::instrument(skip_all, fields(owner = %owner, package = %package))]
    pub async fn list_versions(
        &self,
        owner: &Owner,
        package: &str,
        state: VersionState,
    ) -> Result<Vec<PackageVersion>> {
        self.versions(owner, package, state)?.collect_all().await
    }

    /// One version (FR-VER-002).
    ///
    /// # Errors
    ///
    /// [`crate::Error::NotFound`] and the API's errors.
    pub async fn get_version(
        &self,
        owner: &Owner,
        package: &str,
        id: PackageVersionId,
    ) -> Result<PackageVersion> {
        let url = self.url(&format!("{}/versions/{id}", package_path(owner, package)))?;
        let (version, _) = self
            .get_json(&url, "get", &version_what(owner, package, id))
            .await?;
        Ok(version)
    }

    /// Whether GitHub says the version is deleted: gone (404) or marked
    /// deleted. What a lost DELETE answer is settled with.
    ///
    /// # Errors
    ///
    /// The API's errors other than not found.
    pub(crate) async fn is_version_deleted(
        &self,
        owner: &Owner,
        package: &str,
        id: PackageVersionId,
    ) -> Result<bool> {
        match self.get_version(owner, package, id).await {
            Ok(version) => Ok(version.deleted_at.is_some()),
            Err(error) if error.is_not_found() => Ok(true),
            Err(error) => Err(error),
        }
    }

    /// Deletes a version: its manifest and every tag on it (FR-VER-003).
    /// Restorable for 30 days. GitHub refuses the last tagged version of a
    /// package and public versions downloaded more than 5,000 times (400).
    ///
    /// # Errors
    ///
    /// [`crate::Error::Api`] with GitHub's reason, [`crate::Error::NotFound`].
    pub async fn delete_version(
        &self,
        owner: &Owner,
        package: &str,
        id: PackageVersionId,
    ) -> Result<()> {
        self.delete_version_written(owner, package, id).await.result
    }

    /// As [`PackagesClient::delete_version`], with the transport's attempts.
    pub(crate) async fn delete_version_written(
        &self,
        owner: &Owner,
        package: &str,
        id: PackageVersionId,
    ) -> Written {
        let what = version_what(owner, package, id);
        let url = match self.url(&format!("{}/versions/{id}", package_path(owner, package))) {
            Ok(url) => url,
            Err(error) => {
                return Written {
                    result: Err(error),
                    attempts: 0,
                };
            }
        };
        self.send_write(Method::DELETE, &url, "delete", &what).await
    }

    /// Restores a version deleted within the last 30 days (FR-VER-004).
    ///
    /// # Errors
    ///
    /// [`crate::Error::NotFound`] past the window, and the API's errors.
    pub async fn restore_version(
        &self,
        owner: &Owner,
        package: &str,
        id: PackageVersionId,
    ) -> Result<()> {
        let url = self.url(&format!(
            "{}/versions/{id}/restore",
            package_path(owner, package)
        ))?;
        self.send_empty(
            Method::POST,
            &url,
            "restore",
            &version_what(owner, package, id),
        )
        .await
    }

    /// The first active version satisfying `predicate`, reading pages only
    /// until it is found.
    async fn find_version(
        &self,
        owner: &Owner,
        package: &str,
        what: String,
        predicate: impl Fn(&PackageVersion) -> bool,
    ) -> Result<PackageVersion> {
        let mut pages = self.versions(owner, package, VersionState::Active)?;
        while let Some(versions) = pages.next_page().await? {
            if let Some(found) = versions.into_iter().find(&predicate) {
                return Ok(found);
            }
        }
        Err(Error::VersionNotFound {
            package: describe(owner, package),
            what,
        })
    }

    /// The version a tag points at (FR-VER-005). Reads the version list, not
    /// the registry, so no download is counted.
    ///
    /// # Errors
    ///
    /// [`Error::VersionNotFound`] and the listing's errors.
    pub async fn find_version_by_tag(
        &self,
        owner: &Owner,
        package: &str,
        tag: &str,
    ) -> Result<PackageVersion> {
        self.find_version(owner, package, format!("is tagged {tag}"), |version| {
            version.tags().iter().any(|t| t == tag)
        })
        .await
    }

    /// The version of a manifest digest.
    ///
    /// # Errors
    ///
    /// [`Error::VersionNotFound`] and the listing's errors.
    pub async fn find_version_by_digest(
        &self,
        owner: &Owner,
        package: &str,
        digest: &Digest,
    ) -> Result<PackageVersion> {
        self.find_version(owner, package, format!("has digest {digest}"), |version| {
            version.name == digest.as_str()
        })
        .await
    }

    /// Active versions with a tag matching `pattern` (matched against tags,
    /// never against the digest-valued version name).
    ///
    /// # Errors
    ///
    /// The listing's errors.
    pub async fn find_versions_tagged(
        &self,
        owner: &Owner,
        package: &str,
        pattern: &Regex,
    ) -> Result<Vec<PackageVersion>> {
        self.versions(owner, package, VersionState::Active)?
            .into_stream()
            .try_filter(|version| {
                let matched = version.tags().iter().any(|tag| pattern.is_match(tag));
                std::future::ready(matched)
            })
            .try_collect()
            .await
    }
}
