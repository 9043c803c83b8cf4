//! Deleting an image by reference through the Packages API, since ghcr.io
//! refuses registry deletes (405). A version is one digest with all its
//! tags, so deleting `app:v1` also deletes every other tag on that digest:
//! that is refused unless the caller says so.

use ghcr_types::{Digest, Owner, OwnerType, PackageVersion, PackageVersionId, Reference};
use time::OffsetDateTime;

use crate::client::PackagesClient;
use crate::error::{Error, Result};
use crate::restore::RestoreHint;

/// Whether [`PackagesClient::delete_image`] may delete tags other than the
/// one named.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeleteTags {
    /// Refuse when the version carries other tags (or any tag, for a
    /// reference by digest).
    #[default]
    OnlyNamed,
    /// Delete the version with every tag on it.
    All,
}

/// What [`PackagesClient::delete_image`] deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeletedImage {
    /// The deleted version.
    pub version_id: PackageVersionId,
    /// Its manifest digest.
    pub digest: Digest,
    /// Every tag that went with it.
    pub tags: Vec<String>,
    /// How to undo it.
    pub restore: RestoreHint,
}

/// The tags that would go besides the one the reference names.
fn other_tags(version: &PackageVersion, named: Option<&str>) -> Vec<String> {
    version
        .tags()
        .iter()
        .filter(|tag| Some(tag.as_str()) != named)
        .cloned()
        .collect()
}

impl PackagesClient {
    /// Deletes the version `reference` names (`ghcr.io/octo-org/app:v1` or
    /// `…@sha256:…`). The owner's kind picks the endpoint (organizations
    /// use `/orgs/…`, anyone else `/users/…`). The version is found in the
    /// version list, so no manifest is downloaded. Platform manifests of a
    /// deleted index stay as untagged versions: a cleanup with
    /// `only_untagged` removes them without touching other images.
    ///
    /// # Errors
    ///
    /// [`Error::WrongRegistry`] for another registry, [`Error::OtherTags`]
    /// when the version carries tags not named and `tags` is
    /// [`DeleteTags::OnlyNamed`], [`Error::VersionNotFound`], and the API's
    /// errors (GitHub refuses the last tagged version and public versions
    /// downloaded more than 5,000 times).
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub async fn delete_image(
        &self,
        owner_type: OwnerType,
        reference: &Reference,
        tags: DeleteTags,
    ) -> Result<DeletedImage> {
        if !reference
            .registry()
            .eq_ignore_ascii_case(self.registry_host())
        {
            return Err(Error::WrongRegistry {
                reference: reference.to_string(),
                expected: self.registry_host().to_owned(),
            });
        }
        let owner = match owner_type {
            OwnerType::Organization => Owner::org(reference.owner()),
            _ => Owner::user(reference.owner()),
        };
        let package = reference.package_name();
        let named = reference.tag().map(|tag| tag.as_str().to_owned());
        let version = match (reference.digest(), named.as_deref()) {
            (Some(digest), named) => {
                let version = self.find_version_by_digest(&owner, package, digest).await?;
                if let Some(tag) = named.filter(|tag| !version.tags().iter().any(|t| t == tag)) {
                    return Err(Error::VersionNotFound {
                        package: crate::owner::describe(&owner, package),
                        what: format!("is tagged {tag} at {digest}"),
                    });
                }
                version
            }
            (None, Some(tag)) => self.find_version_by_tag(&owner, package, tag).await?,
            (None, None) => self.find_version_by_tag(&owner, package, "latest").await?,
        };
        let named = named.or_else(|| reference.digest().is_none().then(|| "latest".to_owned()));
        let others = other_tags(&version, named.as_deref());
        if tags == DeleteTags::OnlyNamed && !others.is_empty() {
            return Err(Error::OtherTags {
                reference: reference.to_string(),
                version_id: version.id,
                tags: others,
            });
        }
        let digest = version.digest()?;
        self.delete_version(&owner, package, version.id).await?;
        Ok(DeletedImage {
            version_id: version.id,
            digest,
            tags: version.tags().to_vec(),
            restore: RestoreHint::new(owner, package, vec![version.id], OffsetDateTime::now_utc()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(tags: &[&str]) -> PackageVersion {
        serde_json::from_value(serde_json::json!({
            "id": 1, "name": "sha256:b3d3e366b55f9a54599220198b3db5da8f53592acbbb7dc7e4e9878762fc5344",
            "url": "u", "package_html_url": "p",
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
            "metadata": {"package_type": "container", "container": {"tags": tags}}
        }))
        .unwrap()
    }

    #[test]
    fn other_tags_are_those_not_named() {
        let table: [(&[&str], Option<&str>, &[&str]); 5] = [
            (&["v1"], Some("v1"), &[]),
            (&["v1", "latest"], Some("v1"), &["latest"]),
            (&["v1", "latest"], None, &["v1", "latest"]),
            (&[], None, &[]),
            (&["v2"], Some("v1"), &["v2"]),
        ];
        for (tags, named, expected) in table {
            assert_eq!(
                other_tags(&version(tags), named),
                expected,
                "{tags:?} {named:?}"
            );
        }
    }
}
