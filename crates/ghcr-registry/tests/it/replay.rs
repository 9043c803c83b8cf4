//! Replay tests: each runs against a cassette in `fixtures/` (recorded by
//! this crate against ghcr-sim's fake with
//! `GHCR_FIXTURES=record cargo test -p ghcr-registry --test it replay::`,
//! or `cargo xtask record`). Blobs go one at a time so that the requests
//! come in the recorded order.

use bytes::Bytes;
use futures_util::StreamExt;
use ghcr_registry::{
    BlobSource, ImageParts, RegistryClient, TransferOptions, UploadMode, UploadOptions,
};
use ghcr_sim::Fixture;
use ghcr_types::{Digest, MediaType, Reference, Tag};

use crate::support;

fn client(fixture: &Fixture) -> ghcr_registry::RegistryClientBuilder {
    RegistryClient::builder(support::fixture_transport(fixture)).concurrency(1)
}

fn reference(fixture: &Fixture, path: &str) -> Reference {
    Reference::parse(&format!(
        "{}/{}/{path}",
        fixture.registry_host(),
        fixture.namespace()
    ))
    .unwrap()
}

#[tokio::test]
async fn push_manifest() {
    let fixture = Fixture::start("push_manifest").await.unwrap();
    let client = client(&fixture).build().unwrap();
    let parts = ImageParts::new(
        &br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#[..],
    )
    .layer(
        MediaType::OciLayerGzip,
        BlobSource::bytes(&b"a small layer"[..]),
    );
    let report = client
        .push_image(
            &reference(&fixture, "app:v1"),
            parts,
            &TransferOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(report.digest, Digest::sha256_of(report.manifest.bytes()));
    assert_eq!(report.bytes_uploaded(), 13 + 78, "the layer and the config");
    fixture.finish().unwrap();
}

#[tokio::test]
async fn pull_manifest() {
    let fixture = Fixture::start("pull_manifest").await.unwrap();
    if let Some(fake) = fixture.fake() {
        let layers = [Bytes::from_static(b"the layer of a pulled image")];
        fake.store()
            .push_image(&format!("{}/app", fixture.namespace()), Some("v1"), &layers)
            .unwrap();
    }
    let client = client(&fixture).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let report = client
        .pull_to_layout(
            &reference(&fixture, "app:v1"),
            dir.path(),
            &TransferOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(report.blobs, 2);
    let layer = &report.manifest.layers()[0];
    let path = dir
        .path()
        .join("blobs/sha256")
        .join(layer.digest().to_string().trim_start_matches("sha256:"));
    assert_eq!(std::fs::read(path).unwrap(), b"the layer of a pulled image");
    fixture.finish().unwrap();
}

#[tokio::test]
async fn list_tags() {
    let fixture = Fixture::start("list_tags").await.unwrap();
    if let Some(fake) = fixture.fake() {
        let repository = format!("{}/app", fixture.namespace());
        let image = fake
            .store()
            .push_image(&repository, Some("1.0"), &[Bytes::from_static(b"tagged")])
            .unwrap();
        for tag in ["1.1", "2.0", "latest", "nightly"] {
            fake.store().tag(&repository, tag, &image.manifest).unwrap();
        }
    }
    let client = client(&fixture).build().unwrap();
    let tags: Vec<Tag> = client
        .tags(&reference(&fixture, "app"), Some(2))
        .map(Result::unwrap)
        .collect()
        .await;
    let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
    assert_eq!(names, ["1.0", "1.1", "2.0", "latest", "nightly"]);
    fixture.finish().unwrap();
}

#[tokio::test]
async fn chunked_upload() {
    let fixture = Fixture::start("chunked_upload").await.unwrap();
    let client = client(&fixture)
        .upload_mode(UploadMode::Chunked)
        .chunk_size(1024)
        .build()
        .unwrap();
    let blob: Vec<u8> = (0..2600u32).map(|i| (i % 251) as u8).collect();
    let source = BlobSource::reader(std::io::Cursor::new(blob.clone()), None);
    let pushed = client
        .push_blob(&reference(&fixture, "app"), source, &UploadOptions::new())
        .await
        .unwrap();
    assert_eq!(pushed.digest, Digest::sha256_of(&blob));
    assert_eq!(pushed.size, 2600);
    fixture.finish().unwrap();
}
