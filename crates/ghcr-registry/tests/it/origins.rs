//! A hostile registry must not make us its deputy: an upload `Location` or
//! a tag `Link` to another origin (here another port of 127.0.0.1) is
//! refused by default, and followed without credentials when allowed.

use futures_util::StreamExt;
use ghcr_registry::{BlobSource, Error, RegistryClient, UploadMode, UploadOptions};
use ghcr_types::Reference;

use crate::support::{self, data, origins};

fn client(
    registry: std::net::SocketAddr,
    other: std::net::SocketAddr,
    allow: bool,
) -> RegistryClient {
    let (registry, other) = (registry.to_string(), other.to_string());
    let transport = support::transport(&[&registry, &other], Some(("octo", "users-password")));
    let mut builder = RegistryClient::builder(transport).upload_mode(UploadMode::Chunked);
    if allow {
        builder = builder.allow_origin(other);
    }
    builder.build().unwrap()
}

fn assert_no_credentials(seen: &[origins::Seen]) {
    for request in seen {
        assert_eq!(request.authorization, None, "{request:?}");
        assert_ne!(
            request.path, "/token",
            "a token was asked for there: {request:?}"
        );
    }
}

#[tokio::test]
async fn an_upload_location_on_another_origin_is_refused() {
    let (other, seen) = origins::witness().await;
    let registry = origins::deflecting_registry(other).await;
    let client = client(registry, other, false);
    let repository = Reference::parse(&format!("{registry}/team/app")).unwrap();
    let source = BlobSource::bytes(data(100_000, 1));
    let error = client
        .push_blob(&repository, source, &UploadOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::ForeignOrigin { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains(&registry.to_string()) && text.contains(&other.to_string()),
        "{text}"
    );
    assert!(text.contains("allow_origin"), "{text}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

#[tokio::test]
async fn an_allowed_upload_origin_gets_no_credentials() {
    let (other, seen) = origins::witness().await;
    let registry = origins::deflecting_registry(other).await;
    let client = client(registry, other, true);
    let repository = Reference::parse(&format!("{registry}/team/app")).unwrap();
    let source = BlobSource::bytes(data(100_000, 2));
    // The witness answers 401 to a request without credentials; it must
    // not get a token from it with the user's password.
    let _ = client
        .push_blob(&repository, source, &UploadOptions::new())
        .await;
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter().any(|r| r.method == "PATCH" && r.body_len > 0),
        "the chunk did not go to the allowed origin: {seen:?}"
    );
    assert_no_credentials(&seen);
}

#[tokio::test]
async fn a_tag_link_to_another_origin_is_refused() {
    let (other, seen) = origins::witness().await;
    let registry = origins::deflecting_registry(other).await;
    let client = client(registry, other, false);
    let repository = Reference::parse(&format!("{registry}/team/app")).unwrap();
    let results: Vec<_> = client.tags(&repository, None).collect().await;
    assert_eq!(results[0].as_ref().unwrap().as_str(), "a");
    let error = results.last().unwrap().as_ref().unwrap_err();
    assert!(matches!(error, Error::ForeignOrigin { .. }), "{error:?}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

#[tokio::test]
async fn an_allowed_tag_origin_gets_no_credentials() {
    let (other, seen) = origins::witness().await;
    let registry = origins::deflecting_registry(other).await;
    let client = client(registry, other, true);
    let repository = Reference::parse(&format!("{registry}/team/app")).unwrap();
    let _ = client.tags(&repository, None).collect::<Vec<_>>().await;
    let seen = seen.lock().unwrap();
    assert!(!seen.is_empty(), "the allowed origin was not used");
    assert_no_credentials(&seen);
}
