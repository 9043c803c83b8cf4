//! `PackageOperations` for `GhcrClient`, on the packages client.

use ghcr_packages::VersionState;
use ghcr_types::{Owner, PackageVersion, PackageVersionId, VulnerabilityReport};

use super::{BoxFuture, PackageOperations};
use crate::client::GhcrClient;
use crate::error::{Error, Result};

impl PackageOperations for GhcrClient {
    fn list_versions<'a>(
        &'a self,
        owner: &'a Owner,
        package: &'a str,
        state: VersionState,
    ) -> BoxFuture<'a, Result<Vec<PackageVersion>>> {
        Box::pin(async move { Ok(self.packages().list_versions(owner, package, state).await?) })
    }

    fn delete_version<'a>(
        &'a self,
        owner: &'a Owner,
        package: &'a str,
        id: PackageVersionId,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { Ok(self.packages().delete_version(owner, package, id).await?) })
    }

    fn restore_version<'a>(
        &'a self,
        owner: &'a Owner,
        package: &'a str,
        id: PackageVersionId,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { Ok(self.packages().restore_version(owner, package, id).await?) })
    }

    fn get_vulnerabilities<'a>(
        &'a self,
        owner: &'a Owner,
        package: &'a str,
        id: PackageVersionId,
    ) -> BoxFuture<'a, Result<VulnerabilityReport>> {
        Box::pin(async move {
            let login = match owner.login() {
                Some(login) => login.to_owned(),
                None => self
                    .packages()
                    .authenticated_login()
                    .await
                    .map_err(Error::from)?,
            };
            Ok(self
                .packages()
                .get_vulnerabilities(&login, package, id, owner.owner_type())
                .await?)
        })
    }
}
