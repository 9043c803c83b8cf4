//! Manifests on a real registry, and verification against lying servers.

use std::time::Duration;

use bytes::Bytes;
use ghcr_registry::{BlobSource, Error, RegistryClient, UploadOptions};
use ghcr_types::{Digest, Manifest, MediaType, Reference};

use crate::support::{self, Auth, faulty};

support::in_both_modes!(put_get_head_and_delete_by_tag_and_digest);

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

async fn put_get_head_and_delete_by_tag_and_digest(auth: Auth) {
    let registry = support::registry(auth).await;
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
    assert_eq!(
        (info.digest, info.size, info.media_type),
        (digest.clone(), manifest.size(), MediaType::OciManifest)
    );
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
async fn a_corrupted_answer_by_digest_is_a_mismatch_and_unverifiable_pins_are_refused() {
    let manifest = manifest_with("real");
    let garbage = Bytes::from_static(b"<html>an error page, not a manifest</html>");
    // The header tells the truth about the bytes sent; the pin does not match them.
    let addr = faulty::lying_manifest_server(garbage.clone(), Digest::sha256_of(&garbage)).await;
    let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
    let repository = Reference::parse(&format!("{addr}/team/app")).unwrap();
    let pinned = repository.with_digest(manifest.digest().clone());
    match client.get_manifest(&pinned).await {
        Err(Error::DigestMismatch {
            expected, actual, ..
        }) => {
            assert_eq!(&expected, manifest.digest());
            assert_eq!(actual, Digest::sha256_of(&garbage));
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    let sha384 = Digest::parse(&format!("sha384:{}", "a".repeat(96))).unwrap();
    let error = client
        .get_manifest(&repository.with_digest(sha384))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidReference { .. }), "{error}");
    assert!(error.to_string().contains("sha384"), "{error}");
}

#[tokio::test]
async fn oversized_manifests_are_refused_while_reading() {
    let huge = Bytes::from(vec![b' '; 5 * 1024 * 1024]);
    let lying = faulty::lying_manifest_server(huge.clone(), Digest::sha256_of(&huge)).await;
    let endless = faulty::endless_manifest_server(None).await;
    // Announces 8 GiB and sends nothing: only the header can stop the wait.
    let announced = faulty::endless_manifest_server(Some(8 << 30)).await;
    for addr in [lying, endless, announced] {
        let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
        let tagged = Reference::parse(&format!("{addr}/team/app:v1")).unwrap();
        let outcome =
            tokio::time::timeout(Duration::from_secs(20), client.get_manifest(&tagged)).await;
        let error = outcome
            .unwrap_or_else(|_| panic!("{addr}: still reading"))
            .unwrap_err();
        assert!(matches!(error, Error::ManifestTooLarge { .. }), "{error}");
    }
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
