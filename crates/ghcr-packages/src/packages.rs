//! Packages: list (for a user, an organization, the authenticated user, or
//! one repository's), get, delete, restore.

use ghcr_types::{Owner, Package, Visibility};
use http::Method;

use crate::client::PackagesClient;
use crate::error::Result;
use crate::owner::{describe, package_path};
use crate::page::{PageCursor, Pages};

/// What a package listing tells packages apart by.
fn package_id(package: &Package) -> u64 {
    package.id.0
}

impl PackagesClient {
    /// The owner's container packages, page by page, optionally only those
    /// of one visibility (`internal` is accepted as a filter).
    ///
    /// # Errors
    ///
    /// [`crate::Error::Config`] when the API base makes no valid URL.
    /// Listing errors come from the pages: an Actions `GITHUB_TOKEN` listing
    /// an organization's packages gets [`crate::Error::OrgListingForbidden`].
    pub fn packages(
        &self,
        owner: &Owner,
        visibility: Option<&Visibility>,
    ) -> Result<Pages<Package>> {
        let mut query = format!(
            "{}/packages?package_type=container&per_page={}",
            owner.api_path(),
            self.inner.page_size
        );
        if let Some(visibility) = visibility {
            query.push_str("&visibility=");
            query.push_str(visibility.as_str());
        }
        let first = PageCursor::new(self.url(&query)?.to_string(), 1);
        let org = match owner {
            Owner::Org(login) => Some(login.clone()),
            _ => None,
        };
        Ok(Pages::new(
            self.clone(),
            first,
            format!("the container packages of {owner}"),
            org,
            package_id,
        ))
    }

    /// Continues a package listing from the cursor of [`crate::Error::Paging`].
    pub fn resume_packages(&self, cursor: PageCursor) -> Pages<Package> {
        Pages::new(
            self.clone(),
            cursor,
            "container packages".into(),
            None,
            package_id,
        )
    }

    /// Every container package of the owner (FR-VIS-003, FR-VIS-004).
    ///
    /// # Errors
    ///
    /// As [`PackagesClient::packages`] and [`Pages::next_page`].
    #[tracing::instrument(skip_all, fields(owner = %owner))]
    pub async fn list_packages(
        &self,
        owner: &Owner,
        visibility: Option<&Visibility>,
    ) -> Result<Vec<Package>> {
        self.packages(owner, visibility)?.collect_all().await
    }

    /// The owner's container packages linked to `repository` (`name` or
    /// `owner/name`, compared without case), FR-VIS-005. GitHub has no
    /// per-repository listing for containers, so this lists the owner's
    /// packages and keeps those whose `repository` matches.
    ///
    /// # Errors
    ///
    /// As [`PackagesClient::list_packages`].
    pub async fn list_repository_packages(
        &self,
        owner: &Owner,
        repository: &str,
        visibility: Option<&Visibility>,
    ) -> Result<Vec<Package>> {
        let mut packages = self.list_packages(owner, visibility).await?;
        packages.retain(|package| {
            package.repository.as_ref().is_some_and(|linked| {
                if repository.contains('/') {
                    linked.full_name.eq_ignore_ascii_case(repository)
                } else {
                    let name = linked
                        .name
                        .as_deref()
                        .unwrap_or_else(|| linked.full_name.rsplit('/').next().unwrap_or_default());
                    name.eq_ignore_ascii_case(repository)
                }
            })
        });
        Ok(packages)
    }

    /// One package.
    ///
    /// # Errors
    ///
    /// [`crate::Error::NotFound`] (which may also mean no access) and the API's errors.
    pub async fn get_package(&self, owner: &Owner, name: &str) -> Result<Package> {
        let url = self.url(&package_path(owner, name))?;
        let (package, _) = self.get_json(&url, "get", &describe(owner, name)).await?;
        Ok(package)
    }

    /// Deletes a whole package with all its versions; restorable for 30
    /// days with [`PackagesClient::restore_package`]. GitHub refuses public
    /// packages with a version downloaded more than 5,000 times.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Api`] with GitHub's reason (needs delete:packages and
    /// admin on the package), [`crate::Error::NotFound`].
    pub async fn delete_package(&self, owner: &Owner, name: &str) -> Result<()> {
        let url = self.url(&package_path(owner, name))?;
        self.send_empty(Method::DELETE, &url, "delete", &describe(owner, name))
            .await
    }

    /// Restores a package deleted within the last 30 days, if its name was
    /// not reused.
    ///
    /// # Errors
    ///
    /// [`crate::Error::NotFound`] when nothing can be restored, and the API's errors.
    pub async fn restore_package(&self, owner: &Owner, name: &str) -> Result<()> {
        let url = self.url(&format!("{}/restore", package_path(owner, name)))?;
        self.send_empty(Method::POST, &url, "restore", &describe(owner, name))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(name: &str, repository: Option<&str>) -> serde_json::Value {
        let id = name.bytes().map(u64::from).sum::<u64>();
        let mut package = serde_json::json!({
            "id": id, "name": name, "package_type": "container", "visibility": "private",
            "url": "https://api.github.com/orgs/o/packages/container/x", "html_url": "https://github.com/orgs/o/packages/container/package/x",
            "version_count": 1, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
        });
        if let Some(full_name) = repository {
            let (_, short) = full_name.split_once('/').unwrap_or(("o", full_name));
            package["repository"] = serde_json::json!({
                "id": 7, "name": short, "full_name": full_name, "private": true,
                "html_url": format!("https://github.com/{full_name}"),
            });
        }
        package
    }

    #[tokio::test]
    async fn repository_packages_are_the_owners_filtered_on_their_link() {
        let body = serde_json::json!([
            package("api", Some("o/backend")),
            package("worker", Some("o/Backend")),
            package("web", Some("o/frontend")),
            package("loose", None),
        ])
        .to_string();
        let (builder, seen) = crate::scripted::client(move |_, _| (200, vec![], body.clone()));
        let client = builder.build().unwrap();
        let owner = Owner::org("o");
        for repository in ["backend", "o/backend"] {
            let found = client
                .list_repository_packages(&owner, repository, Some(&Visibility::Private))
                .await
                .unwrap();
            let names: Vec<&str> = found.iter().map(|p| p.name.as_str()).collect();
            assert_eq!(names, ["api", "worker"], "{repository}");
        }
        let (_, url, _) = &seen.lock().unwrap()[0];
        assert_eq!(
            url,
            "https://api.github.com/orgs/o/packages?package_type=container&per_page=100&visibility=private"
        );
    }
}
