//! Manifests on a real registry, and verification against lying servers.

use bytes::Bytes;
use ghcr_registry::{BlobSource, Error, RegistryClient, UploadOptions};
use ghcr_types::{Digest, Manifest, Reference};

use crate::support::{self, Auth, faulty};

const EMPTY_CONFIG: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

fn manifest_with(annotation: &str) -> Manifest {
    let text = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"{EMPTY_CONFIG}"}},"layers":[],"annotations":{{"n":"{annotation}"}}}}"#
    );
    Manifest::from_bytes(text.into_bytes(), None).unwrap()
}

async fn with_config(client: &RegistryClient, repository: &Reference) {
    client
        .push_blob(
            repository,
            BlobSource::bytes(&b"{}"[..]),
            &UploadOptions::new(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn put_get_head_and_delete_by_tag_and_digest() {
    let registry = support::registry(Auth::None).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let tagged = registry.reference("team/app:v1").unwrap();
    with_config(&client, &tagged).await;
    let manifest = manifest_with("one");
    let digest = client.put_manifest(&tagged, &manifest).await.unwrap();
    assert_eq!(&digest, manifest.digest());

    let by_tag = client.get_manifest(&tagged).await.unwrap();
    assert_eq!(
        by_tag.bytes(),
        manifest.bytes(),
        "the exact bytes come back"
    );
    let pinned = tagged.without_tag_or_digest().with_digest(digest.clone());
    assert_eq!(client.get_manifest(&pinned).await.unwrap(), manifest);
    let info = client.head_manifest(&tagged).await.unwrap().unwrap();
    assert_eq!((info.digest, info.size), (digest.clone(), manifest.size()));
    assert_eq!(client.resolve_digest(&tagged).await.unwrap(), digest);
    assert!(client.image_exists(&tagged).await.unwrap());

    client.delete_manifest(&tagged).await.unwrap();
    assert!(matches!(
        client.get_manifest(&pinned).await,
        Err(Error::ManifestNotFound { .. })
    ));
    assert!(client.head_manifest(&tagged).await.unwrap().is_none());
    assert!(!client.image_exists(&pinned).await.unwrap());
}

#[tokio::test]
async fn a_reference_pinning_other_bytes_is_refused_before_sending() {
    let registry = support::registry(Auth::None).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let wrong = registry
        .reference("team/app")
        .unwrap()
        .with_digest(Digest::sha256_of(b"other"));
    let error = client
        .put_manifest(&wrong, &manifest_with("x"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidReference { .. }), "{error}");
}

#[tokio::test]
async fn announced_and_requested_digests_are_checked() {
    let manifest = manifest_with("served");
    let lie = Digest::sha256_of(b"something else");
    let addr = faulty::lying_manifest_server(manifest.bytes().clone(), lie.clone()).await;
    let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
    let tagged = Reference::parse(&format!("{addr}/team/app:v1")).unwrap();
    match client.get_manifest(&tagged).await {
        Err(Error::DigestMismatch {
            expected, actual, ..
        }) => {
            assert_eq!(expected, lie);
            assert_eq!(&actual, manifest.digest());
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    let asked = Digest::sha256_of(b"what we asked for");
    let pinned = tagged.without_tag_or_digest().with_digest(asked.clone());
    let error = client.get_manifest(&pinned).await.unwrap_err();
    assert!(error.is_digest_mismatch(), "{error}");
    assert!(error.to_string().contains(asked.as_str()), "{error}");
}

#[tokio::test]
async fn oversized_manifests_are_refused_while_reading() {
    let huge = Bytes::from(vec![b' '; 5 * 1024 * 1024]);
    let addr = faulty::lying_manifest_server(huge.clone(), Digest::sha256_of(&huge)).await;
    let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
    let tagged = Reference::parse(&format!("{addr}/team/app:v1")).unwrap();
    let error = client.get_manifest(&tagged).await.unwrap_err();
    assert!(matches!(error, Error::ManifestTooLarge { .. }), "{error}");
}

#[tokio::test]
async fn token_auth_asks_for_the_scopes_each_operation_needs() {
    let registry = support::registry(Auth::Token).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let tagged = registry.reference("team/app:v1").unwrap();
    with_config(&client, &tagged).await;
    let manifest = manifest_with("auth");
    client.put_manifest(&tagged, &manifest).await.unwrap();
    assert_eq!(client.get_manifest(&tagged).await.unwrap(), manifest);
    client.delete_manifest(&tagged).await.unwrap();
    let asked = registry.issuer().unwrap().scopes_asked();
    for scope in [
        "repository:team/app:pull,push",
        "repository:team/app:pull",
        "repository:team/app:pull,delete",
    ] {
        assert!(asked.iter().any(|s| s == scope), "{scope} not in {asked:?}");
    }
    let anonymous = RegistryClient::new(support::transport(&[registry.host()], None));
    let error = anonymous.get_manifest(&tagged).await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error}");
}
