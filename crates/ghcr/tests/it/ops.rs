//! The operation traits: callers written against them run on the client
//! and on a double, and the client's implementation does what each says.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ghcr::registry::BlobOutcome;
use ghcr::types::{Digest, Manifest, Owner, PackageVersionId, Reference, Tag};
use ghcr::{BoxFuture, PackageOperations, RegistryOperations, Result};

use crate::support::{client, fake, reference};

/// Caller code: promotes an image by tagging it `stable`, if it exists.
async fn promote(registry: &dyn RegistryOperations, image: &Reference) -> Result<Option<Digest>> {
    if !registry.image_exists(image).await? {
        return Ok(None);
    }
    let stable = Tag::parse("stable")?;
    Ok(Some(registry.tag_image(image, &stable).await?))
}

/// A double that records what it was asked.
#[derive(Default)]
struct Recorder {
    tagged: Mutex<Vec<String>>,
}

impl RegistryOperations for Recorder {
    fn image_exists<'a>(&'a self, _: &'a Reference) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async { Ok(true) })
    }
    fn pull_manifest<'a>(&'a self, image: &'a Reference) -> BoxFuture<'a, Result<Manifest>> {
        Box::pin(async move {
            Err(
                ghcr::types::Reference::parse(&format!("{image}:not in the double"))
                    .unwrap_err()
                    .into(),
            )
        })
    }
    fn push_manifest<'a>(
        &'a self,
        _: &'a Reference,
        m: &'a Manifest,
    ) -> BoxFuture<'a, Result<Digest>> {
        Box::pin(async move { Ok(m.digest().clone()) })
    }
    fn delete_image<'a>(&'a self, _: &'a Reference) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    fn copy_image<'a>(
        &'a self,
        _: &'a Reference,
        _: &'a Reference,
    ) -> BoxFuture<'a, Result<Digest>> {
        Box::pin(async { Ok(Digest::sha256_of(b"copied")) })
    }
    fn list_tags<'a>(&'a self, _: &'a Reference) -> BoxFuture<'a, Result<Vec<Tag>>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    fn tag_image<'a>(
        &'a self,
        image: &'a Reference,
        tag: &'a Tag,
    ) -> BoxFuture<'a, Result<Digest>> {
        self.tagged
            .lock()
            .unwrap()
            .push(format!("{image} -> {tag}"));
        Box::pin(async { Ok(Digest::sha256_of(b"tagged")) })
    }
    fn delete_tag<'a>(&'a self, _: &'a Reference) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    fn blob_exists<'a>(&'a self, _: &'a Reference, _: &'a Digest) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async { Ok(false) })
    }
    fn upload_blob<'a>(&'a self, _: &'a Reference, data: Bytes) -> BoxFuture<'a, Result<Digest>> {
        Box::pin(async move { Ok(Digest::sha256_of(&data)) })
    }
    fn mount_blob<'a>(
        &'a self,
        _: &'a Reference,
        _: &'a Reference,
        _: &'a Digest,
    ) -> BoxFuture<'a, Result<BlobOutcome>> {
        Box::pin(async { Ok(BlobOutcome::Mounted) })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn callers_take_the_client_or_a_double() {
    let fake = fake().await;
    let pushed = fake
        .store()
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"layer")])
        .unwrap();
    let real: Arc<dyn RegistryOperations> = Arc::new(client(&fake));
    let image = reference(&fake, "octo/app:v1");
    assert_eq!(
        promote(real.as_ref(), &image).await.unwrap(),
        Some(pushed.manifest.clone())
    );
    let mut tags = fake.store().tags("octo/app");
    tags.sort();
    assert_eq!(tags, ["stable", "v1"]);
    let missing = reference(&fake, "octo/app:v9");
    assert_eq!(promote(real.as_ref(), &missing).await.unwrap(), None);

    let double = Recorder::default();
    promote(&double, &image).await.unwrap();
    assert_eq!(double.tagged.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn blobs_upload_and_mount_across_repositories() {
    let fake = fake().await;
    let client = client(&fake);
    let from = reference(&fake, "octo/base");
    let to = reference(&fake, "octo/app");
    let digest = client
        .upload_blob(&from, Bytes::from_static(b"shared layer"))
        .await
        .unwrap();
    assert!(client.blob_exists(&from, &digest).await.unwrap());
    assert!(!client.blob_exists(&to, &digest).await.unwrap());
    let outcome = client.mount_blob(&from, &to, &digest).await.unwrap();
    assert_ne!(outcome, BlobOutcome::Existed);
    assert!(client.blob_exists(&to, &digest).await.unwrap());
    assert_eq!(
        client.mount_blob(&from, &to, &digest).await.unwrap(),
        BlobOutcome::Existed
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_on_ghcr_goes_through_the_packages_api_and_restores() {
    let fake = fake().await;
    let store = fake.store();
    let v1 = store
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"one")])
        .unwrap();
    store
        .push_image("octo/app", Some("v2"), &[Bytes::from_static(b"two")])
        .unwrap();
    let client = client(&fake);
    let owner = Owner::user("octo");
    client
        .delete_image(&reference(&fake, "octo/app:v1"))
        .await
        .unwrap();
    assert_eq!(store.tags("octo/app"), ["v2"]);
    let id: PackageVersionId = store
        .versions("octo/app")
        .into_iter()
        .find(|v| v.digest == v1.manifest)
        .unwrap()
        .id;
    let deleted = client
        .list_versions(&owner, "app", ghcr::packages::VersionState::Deleted)
        .await
        .unwrap();
    assert_eq!(deleted.iter().map(|v| v.id).collect::<Vec<_>>(), [id]);
    client.restore_version(&owner, "app", id).await.unwrap();
    let mut tags = store.tags("octo/app");
    tags.sort();
    assert_eq!(tags, ["v1", "v2"]);
    let error = client
        .get_vulnerabilities(&owner, "app", id)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("no vulnerability data"),
        "{error}"
    );
    client.delete_version(&owner, "app", id).await.unwrap();
    assert_eq!(store.tags("octo/app"), ["v2"]);
}

/// Caller code: deletes a package's untagged versions, returning their ids.
async fn prune_untagged(
    packages: &dyn PackageOperations,
    owner: &Owner,
    package: &str,
) -> Result<Vec<PackageVersionId>> {
    let versions = packages
        .list_versions(owner, package, ghcr::packages::VersionState::Active)
        .await?;
    let mut pruned = Vec::new();
    for version in versions.iter().filter(|v| !v.is_tagged()) {
        packages.delete_version(owner, package, version.id).await?;
        pruned.push(version.id);
    }
    Ok(pruned)
}

/// A package double: two versions, one tagged; deletions recorded.
#[derive(Default)]
struct Versions {
    deleted: Mutex<Vec<PackageVersionId>>,
}

impl PackageOperations for Versions {
    fn list_versions<'a>(
        &'a self,
        _: &'a Owner,
        package: &'a str,
        _: ghcr::packages::VersionState,
    ) -> BoxFuture<'a, Result<Vec<ghcr::types::PackageVersion>>> {
        let version = move |id: u64, tags: &[&str]| {
            serde_json::from_value(serde_json::json!({
                "id": id,
                "name": Digest::sha256_of(&id.to_be_bytes()).as_str(),
                "url": format!("https://api.github.com/user/packages/container/{package}/versions/{id}"),
                "package_html_url": format!("https://github.com/users/octo/packages/container/package/{package}"),
                "created_at": "2025-06-01T12:00:00Z",
                "updated_at": "2025-06-01T12:00:00Z",
                "metadata": {"package_type": "container", "container": {"tags": tags}},
            }))
            .unwrap()
        };
        Box::pin(async move { Ok(vec![version(2, &["v1"]), version(1, &[])]) })
    }
    fn delete_version<'a>(
        &'a self,
        _: &'a Owner,
        _: &'a str,
        id: PackageVersionId,
    ) -> BoxFuture<'a, Result<()>> {
        self.deleted.lock().unwrap().push(id);
        Box::pin(async { Ok(()) })
    }
    fn restore_version<'a>(
        &'a self,
        _: &'a Owner,
        _: &'a str,
        _: PackageVersionId,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    fn get_vulnerabilities<'a>(
        &'a self,
        _: &'a Owner,
        _: &'a str,
        _: PackageVersionId,
    ) -> BoxFuture<'a, Result<ghcr::types::VulnerabilityReport>> {
        Box::pin(async {
            Err(ghcr::types::Reference::parse("no scans in the double")
                .unwrap_err()
                .into())
        })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn package_callers_take_the_client_or_a_double() {
    let fake = fake().await;
    let store = fake.store();
    store
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"kept")])
        .unwrap();
    let old = store
        .push_image("octo/app", None, &[Bytes::from_static(b"old")])
        .unwrap();
    let old_id = store.version_id("octo/app", &old.manifest).unwrap();
    let owner = Owner::user("octo");
    let real: Arc<dyn PackageOperations> = Arc::new(client(&fake));
    let pruned = prune_untagged(real.as_ref(), &owner, "app").await.unwrap();
    assert_eq!(pruned, [old_id]);
    let live: Vec<Digest> = store
        .versions("octo/app")
        .into_iter()
        .filter(|v| v.deleted_at.is_none())
        .map(|v| v.digest)
        .collect();
    assert_eq!(live.len(), 1);
    assert!(!live.contains(&old.manifest));

    let double = Versions::default();
    let pruned = prune_untagged(&double, &owner, "app").await.unwrap();
    assert_eq!(pruned, [PackageVersionId(1)]);
    assert_eq!(*double.deleted.lock().unwrap(), [PackageVersionId(1)]);
}
