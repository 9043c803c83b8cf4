//! ghcr.io's quirks, on ghcr-sim's fake (ghcr profile): the 4 MiB
//! Content-Range cap, 405 on deletes, blob redirects to a storage host
//! that must not see Authorization (and whose URLs expire), and no
//! referrers API.

use std::time::Duration;

use bytes::Bytes;
use ghcr_registry::{
    BlobSource, Error, ImageParts, Progress, ReferrersSource, RegistryClient, TransferOptions,
    UploadMode, UploadOptions,
};
use ghcr_sim::fake::{FakeGhcr, Fault, Listener, Route};
use ghcr_types::{Digest, MediaType, Reference};
use http::Method;

use crate::support::{self, data};

const USER: &str = "octo";
const TOKEN: &str = "token-for-octo";

async fn fake() -> FakeGhcr {
    FakeGhcr::builder().user(USER, TOKEN).start().await.unwrap()
}

fn client(fake: &FakeGhcr) -> RegistryClient {
    support::fake_client(fake, USER, TOKEN).build().unwrap()
}

fn reference(fake: &FakeGhcr, path: &str) -> Reference {
    Reference::parse(&format!("{}/{path}", fake.registry_host())).unwrap()
}

#[tokio::test]
async fn chunks_over_4_mib_are_halved_until_accepted() {
    let fake = fake().await;
    let client = support::fake_client(&fake, USER, TOKEN)
        .upload_mode(UploadMode::Chunked)
        .chunk_size(16 << 20)
        .build()
        .unwrap();
    let blob = data(20 << 20, 1);
    let repository = reference(&fake, "octo/chunks");
    let source = BlobSource::reader(std::io::Cursor::new(blob.to_vec()), None);
    let pushed = client
        .push_blob(&repository, source, &UploadOptions::new())
        .await
        .unwrap();
    assert_eq!(pushed.digest, Digest::sha256_of(&blob));
    let patches: Vec<_> = fake
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.method == Method::PATCH)
        .collect();
    let refused: Vec<u64> = patches
        .iter()
        .filter(|p| p.status == 416)
        .map(|p| p.body_len)
        .collect();
    assert_eq!(
        refused,
        [16 << 20, 8 << 20],
        "16 MiB, then 8 MiB, were refused"
    );
    assert!(
        patches
            .iter()
            .filter(|p| p.status == 202)
            .all(|p| p.body_len <= 4 << 20)
    );
    assert_eq!(fake.store().blob(&pushed.digest), Some(blob));
}

#[tokio::test]
async fn one_streamed_request_per_blob_is_accepted() {
    let fake = fake().await;
    let client = client(&fake);
    let blob = data(10 << 20, 2);
    let repository = reference(&fake, "octo/streamed");
    let digest = support::push_bytes(&client, &repository, &blob).await;
    assert_eq!(fake.log().patches(), 1);
    assert_eq!(fake.store().blob(&digest), Some(blob));
}

#[tokio::test]
async fn deletes_point_at_the_packages_api() {
    let fake = fake().await;
    let image = fake
        .store()
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"layer")])
        .unwrap();
    let client = client(&fake);
    let tagged = reference(&fake, "octo/app:v1");
    for error in [
        client.delete_manifest(&tagged).await.unwrap_err(),
        client.delete_tag(&tagged).await.unwrap_err(),
        client
            .delete_blob(&tagged, &image.config)
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(error, Error::Unsupported { .. }), "{error}");
        assert!(error.to_string().contains("GitHub Packages API"), "{error}");
    }
    assert_eq!(
        client.resolve_digest(&tagged).await.unwrap(),
        image.manifest,
        "nothing changed"
    );
    let puts = fake
        .log()
        .count(&Route::new(Method::PUT, "/v2/*/manifests/*"));
    assert_eq!(puts, 0, "no placeholder was pushed over the tag");
}

#[tokio::test]
async fn blob_redirects_reach_storage_without_authorization() {
    let fake = fake().await;
    let layer = data(3 << 20, 3);
    let image = fake
        .store()
        .push_image("octo/app", Some("v1"), std::slice::from_ref(&layer))
        .unwrap();
    let client = client(&fake);
    let dir = tempfile::tempdir().unwrap();
    let pulled = client
        .pull_to_layout(
            &reference(&fake, "octo/app:v1"),
            dir.path(),
            &TransferOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(pulled.digest, image.manifest);
    let storage = fake.log().storage_requests();
    assert_eq!(
        storage.len(),
        2,
        "config and layer came from the storage host"
    );
    assert!(
        storage
            .iter()
            .all(|e| !e.has_authorization() && e.status == 200),
        "{storage:?}"
    );
    let registry_blobs = fake
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.listener == Listener::Registry && e.path.contains("/blobs/sha256:"))
        .collect::<Vec<_>>();
    assert!(
        registry_blobs
            .iter()
            .all(|e| e.status == 307 && e.has_authorization())
    );
    let on_disk = std::fs::read(
        dir.path()
            .join("blobs/sha256")
            .join(image.layers[0].encoded()),
    )
    .unwrap();
    assert_eq!(on_disk, layer);
}

/// A download cut mid-way continues with a Range request through ghcr.io
/// again: the first signed URL has expired by then, the new one works.
#[tokio::test]
async fn a_cut_download_gets_a_fresh_storage_url() {
    let lifetime = Duration::from_secs(60);
    let fake = FakeGhcr::builder()
        .user(USER, TOKEN)
        .storage_url_lifetime(lifetime)
        .fault(Fault::drop_after(Route::new(Method::GET, "/blobs/*"), 1 << 20).times(1))
        .fault(
            Fault::delay(
                Route::new(Method::GET, "/v2/*/blobs/*"),
                Duration::from_millis(300),
            )
            .nth(3),
        )
        .start()
        .await
        .unwrap();
    let layer = data(4 << 20, 4);
    let digest = fake.store().push_blob("octo/app", layer.clone()).unwrap();
    // Once the first storage request is in, time moves past its expiry;
    // the reconnect (the third registry GET, after a 401 and a 307) waits
    // a little so that it sees the new time.
    let log = fake.log().clone();
    let clock = fake.clock().clone();
    let expire = tokio::spawn(async move {
        while log.storage_requests().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        clock.advance(lifetime * 2);
    });
    let client = client(&fake);
    let dir = tempfile::tempdir().unwrap();
    let destination = dir.path().join("layer");
    let repository = reference(&fake, "octo/app");
    client
        .download_blob(
            &repository,
            &digest,
            Some(layer.len() as u64),
            &destination,
            &Progress::none(),
        )
        .await
        .unwrap();
    expire.await.unwrap();
    assert_eq!(std::fs::read(&destination).unwrap(), layer);
    let storage = fake.log().storage_requests();
    assert_eq!(storage.len(), 2, "{storage:?}");
    assert_ne!(storage[0].query, storage[1].query, "a fresh signed URL");
    assert_eq!(storage[1].status, 206, "the rest, by Range");
    let first = format!(
        "http://{}{}?{}",
        fake.storage_host(),
        storage[0].path,
        storage[0].query.clone().unwrap_or_default()
    );
    let transport = support::transport(&[fake.storage_host()], None);
    let stale = transport
        .send(
            http::Request::get(first)
                .body(ghcr_transport::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(stale.status(), 403, "the first URL had expired");
}

#[tokio::test]
async fn referrers_fall_back_to_the_tag_schema() {
    let fake = fake().await;
    let client = client(&fake);
    let subject = reference(&fake, "octo/app:v1");
    let image = client
        .push_image(
            &subject,
            ImageParts::new(&br#"{"os":"linux","architecture":"amd64"}"#[..])
                .layer(MediaType::OciLayerGzip, BlobSource::bytes(data(1000, 5))),
            &TransferOptions::new(),
        )
        .await
        .unwrap();
    let attestation = ImageParts::artifact("application/vnd.in-toto+json".parse().unwrap())
        .layer(
            "application/vnd.in-toto+json".parse().unwrap(),
            BlobSource::bytes(&b"{}"[..]),
        )
        .subject(image.manifest.descriptor());
    let pushed = client
        .push_image(
            &reference(&fake, "octo/app"),
            attestation,
            &TransferOptions::new(),
        )
        .await
        .unwrap();
    let found = client.referrers(&subject, None).await.unwrap();
    assert_eq!(found.source, ReferrersSource::FallbackTag);
    assert_eq!(found.descriptors.len(), 1);
    assert_eq!(
        found.descriptors[0].digest().to_string(),
        pushed.digest.to_string()
    );
    assert!(
        fake.store()
            .tags("octo/app")
            .contains(&image.digest.referrers_tag())
    );
    let api = fake
        .log()
        .count(&Route::new(Method::GET, "/v2/*/referrers/*"));
    assert!(api >= 1, "the API was asked first");
}
