//! Trust and least privilege against a real docker-registry: HTTPS with a
//! certificate from a CA made in the test is refused until that CA is
//! trusted, credentials never go to a plain-HTTP realm of an HTTPS
//! registry, and token requests ask for exactly the scopes an operation
//! needs, never wider.

use std::collections::BTreeSet;
use std::sync::Arc;

use ghcr_registry::{BlobOutcome, BlobSource, RegistryClient, UploadOptions};
use ghcr_transport::Transport;
use ghcr_transport::ghcr_auth::{Credentials, StaticProvider};

use crate::support::{self, Auth, Registry};

/// A transport with the issuer's credentials, plain HTTP only to the
/// token issuer (the registry itself is HTTPS), and the registry's CA
/// trusted when `trust` is set.
fn https_transport(registry: &Registry, trust: bool) -> Transport {
    let (user, password) = registry.credentials().expect("a token-auth registry");
    let realm = registry.issuer().expect("a token issuer").realm();
    let issuer_host = realm
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut builder = Transport::builder()
        .max_retries(0)
        .allow_plain_http(issuer_host)
        .credentials(Arc::new(StaticProvider::new(Credentials::basic(
            user, password,
        ))));
    if trust {
        let ca = registry.ca_pem().expect("a TLS registry");
        builder = builder.add_root_certificate_pem(ca.as_bytes());
    }
    builder.build().unwrap()
}

async fn push(
    client: &RegistryClient,
    repository: &ghcr_types::Reference,
    blob: &bytes::Bytes,
) -> ghcr_registry::Result<ghcr_registry::PushedBlob> {
    client
        .push_blob(
            repository,
            BlobSource::bytes(blob.clone()),
            &UploadOptions::new(),
        )
        .await
}

#[tokio::test]
async fn an_untrusted_certificate_and_a_plain_http_realm_are_both_refused() {
    let registry = Registry::start_tls(Auth::Token)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let repository = registry.reference("team/app").unwrap();
    let blob = support::data(40_000, 3);

    let untrusted = RegistryClient::new(https_transport(&registry, false));
    let error = push(&untrusted, &repository, &blob).await.unwrap_err();
    let chain = format!("{error} {error:?}").to_lowercase();
    assert!(
        chain.contains("certificate") || chain.contains("tls"),
        "the error should say the certificate was not trusted: {chain}"
    );
    assert!(
        registry.issuer().unwrap().scopes_asked().is_empty(),
        "no credentials may go out before the server is verified"
    );

    // Trusted, the registry is reached, but its realm is plain HTTP: the
    // credentials would travel in clear, so the token fetch is refused.
    let trusted = RegistryClient::new(https_transport(&registry, true));
    let error = push(&trusted, &repository, &blob).await.unwrap_err();
    assert!(
        format!("{error:?}").contains("UnsafeRealm"),
        "a plain-HTTP realm of an HTTPS registry must be refused: {error:?}"
    );
    assert!(registry.issuer().unwrap().scopes_asked().is_empty());
}

#[tokio::test]
async fn a_trusted_https_registry_takes_a_push_and_serves_it_back() {
    let registry = Registry::start_tls(Auth::None)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let repository = registry.reference("team/app").unwrap();
    let blob = support::data(40_000, 4);
    let ca = registry.ca_pem().expect("a TLS registry");
    let transport = |trust: bool| {
        let builder = Transport::builder().max_retries(0);
        let builder = if trust {
            builder.add_root_certificate_pem(ca.as_bytes())
        } else {
            builder
        };
        RegistryClient::new(builder.build().unwrap())
    };
    let refused = transport(false)
        .blob_exists(&repository, &ghcr_types::Digest::sha256_of(&blob))
        .await
        .unwrap_err();
    assert!(
        format!("{refused} {refused:?}")
            .to_lowercase()
            .contains("certificate"),
        "{refused:?}"
    );
    let trusted = transport(true);
    let pushed = push(&trusted, &repository, &blob).await.unwrap();
    assert_eq!(pushed.outcome, BlobOutcome::Uploaded);
    let back = trusted
        .get_blob_bytes(&repository, &pushed.digest, 1 << 20)
        .await
        .unwrap();
    assert_eq!(back, blob);
}

/// The scopes the issuer was asked for while `operation` ran on a fresh
/// client (no token cached from an earlier operation).
async fn scopes_of<F, Fut>(registry: &Registry, operation: F) -> BTreeSet<String>
where
    F: FnOnce(RegistryClient) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let issuer = registry.issuer().unwrap();
    let before = issuer.scopes_asked().len();
    operation(support::client_for(&[registry]).build().unwrap()).await;
    issuer
        .scopes_asked()
        .split_off(before)
        .into_iter()
        .collect()
}

fn set(scopes: &[&str]) -> BTreeSet<String> {
    scopes.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn each_operation_asks_for_no_more_than_it_needs() {
    let registry = support::registry(Auth::Token).await;
    let base = registry.reference("team/base").unwrap();
    let app = registry.reference("team/app").unwrap();
    let blob = support::data(30_000, 5);
    let digest = ghcr_types::Digest::sha256_of(&blob);

    let push = scopes_of(&registry, |client| {
        let (base, blob) = (base.clone(), blob.clone());
        async move {
            support::push_bytes(&client, &base, &blob).await;
        }
    })
    .await;
    assert_eq!(push, set(&["repository:team/base:pull,push"]));

    let pull = scopes_of(&registry, |client| {
        let (base, digest) = (base.clone(), digest.clone());
        async move {
            client
                .get_blob_bytes(&base, &digest, 1 << 20)
                .await
                .unwrap();
            assert!(client.blob_exists(&base, &digest).await.unwrap().is_some());
        }
    })
    .await;
    assert_eq!(pull, set(&["repository:team/base:pull"]));

    let mount = scopes_of(&registry, |client| {
        let (base, app, blob) = (base.clone(), app.clone(), blob.clone());
        async move {
            let options = UploadOptions::new().mount_from(base);
            let mounted = client
                .push_blob(&app, BlobSource::bytes(blob), &options)
                .await
                .unwrap();
            assert_eq!(mounted.outcome, BlobOutcome::Mounted);
        }
    })
    .await;
    assert_eq!(
        mount,
        set(&["repository:team/app:pull,push", "repository:team/base:pull"])
    );
}
