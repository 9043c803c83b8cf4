//! ORAS-style artifacts on docker-registry: files up as titled layers under
//! the empty config and back into a folder byte for byte, attached ones
//! found as referrers, and titles that would leave the folder refused
//! before anything is written.

use std::collections::BTreeSet;
use std::path::Path;

use ghcr_registry::{ArtifactFile, ArtifactPush, Error, RegistryClient, TransferOptions};
use ghcr_types::{Digest, Manifest, MediaType, Reference};
use serde_json::{Value, json};

use crate::images::platform_image;
use crate::support::{self, Auth};

support::in_both_modes!(
    files_go_up_as_titled_layers_and_come_back,
    attached_artifacts_are_referrers_of_their_subject
);

const EMPTY_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
const BUNDLE: &str = "application/vnd.example.bundle.v1";

/// The names in a folder.
fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Two files (`notes.txt`, `report.sarif`) in `dir`, with their bytes.
fn two_files(dir: &Path) -> [(String, Vec<u8>); 2] {
    let files = [
        ("notes.txt".to_owned(), support::data(70_000, 1).to_vec()),
        (
            "report.sarif".to_owned(),
            b"{\"version\":\"2.1.0\"}".to_vec(),
        ),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    files
}

async fn files_go_up_as_titled_layers_and_come_back(auth: Auth) {
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let target = registry.reference("team/files:v1").unwrap();
    let src = tempfile::tempdir().unwrap();
    let files = two_files(src.path());
    let push = ArtifactPush::new()
        .file(
            ArtifactFile::new(src.path().join("notes.txt"))
                .media_type("text/plain".parse().unwrap()),
        )
        .file(
            ArtifactFile::new(src.path().join("report.sarif"))
                .media_type("application/sarif+json".parse().unwrap()),
        )
        .artifact_type(BUNDLE.parse().unwrap())
        .annotation("org.opencontainers.image.created", "2026-12-03T00:00:00Z");
    let report = client
        .push_artifact(&target, push, &TransferOptions::new())
        .await
        .unwrap();

    let manifest = client.get_manifest(&target).await.unwrap();
    assert_eq!(manifest.digest(), &report.digest);
    let body: Value = serde_json::from_slice(manifest.bytes()).unwrap();
    assert_eq!(body["mediaType"], MediaType::OciManifest.as_str());
    assert_eq!(body["artifactType"], BUNDLE);
    assert_eq!(
        body["config"],
        json!({"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY_DIGEST, "size": 2})
    );
    assert_eq!(
        body["annotations"],
        json!({"org.opencontainers.image.created": "2026-12-03T00:00:00Z"})
    );
    let layers = body["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    for (layer, ((name, bytes), media_type)) in layers
        .iter()
        .zip(files.iter().zip(["text/plain", "application/sarif+json"]))
    {
        assert_eq!(layer["mediaType"], media_type);
        assert_eq!(layer["size"], bytes.len());
        assert_eq!(layer["digest"], Digest::sha256_of(bytes).as_str());
        assert_eq!(
            layer["annotations"],
            json!({"org.opencontainers.image.title": name})
        );
    }

    // Into a new folder, and over an older file of the same name.
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("pulled");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), b"an older version").unwrap();
    let pulled = client
        .pull_artifact(&target, &dir, &TransferOptions::new())
        .await
        .unwrap();
    assert_eq!(pulled.digest, report.digest);
    assert!(pulled.skipped.is_empty());
    let titles: Vec<&str> = pulled.files.iter().map(|f| f.title.as_str()).collect();
    assert_eq!(titles, ["notes.txt", "report.sarif"]);
    for (name, bytes) in &files {
        assert_eq!(&std::fs::read(dir.join(name)).unwrap(), bytes, "{name}");
    }
    assert_eq!(
        names(&dir),
        BTreeSet::from(["notes.txt".to_owned(), "report.sarif".to_owned()]),
        "no temporary file is left behind"
    );
    assert_eq!(
        pulled.bytes_downloaded(),
        files.iter().map(|(_, b)| b.len() as u64).sum::<u64>()
    );
}

async fn attached_artifacts_are_referrers_of_their_subject(auth: Auth) {
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let repository = registry.reference("team/signed").unwrap();
    let image = platform_image(&client, &repository, "linux/amd64", 7).await;
    let subject = repository.with_tag("v1").unwrap();
    client.put_manifest(&subject, &image).await.unwrap();
    let descriptor = client.manifest_descriptor(&subject).await.unwrap();
    assert_eq!(descriptor, image.descriptor());

    let src = tempfile::tempdir().unwrap();
    std::fs::write(
        src.path().join("sbom.json"),
        b"{\"spdxVersion\":\"SPDX-2.3\"}",
    )
    .unwrap();
    let push = ArtifactPush::new()
        .file(
            ArtifactFile::new(src.path().join("sbom.json"))
                .media_type("application/spdx+json".parse().unwrap()),
        )
        .artifact_type("application/spdx+json".parse().unwrap())
        .subject(descriptor);
    let report = client
        .push_artifact(&repository, push, &TransferOptions::new())
        .await
        .unwrap();
    let pushed = client
        .get_manifest(&repository.with_digest(report.digest.clone()))
        .await
        .unwrap();
    assert_eq!(pushed.subject(), Some(&image.descriptor()));

    let found = client.referrers(&subject, None).await.unwrap();
    assert_eq!(found.subject, *image.digest());
    let listed: Vec<String> = found
        .descriptors
        .iter()
        .map(|d| d.digest().to_string())
        .collect();
    assert_eq!(listed, [report.digest.to_string()]);
    assert_eq!(
        found.descriptors[0]
            .artifact_type()
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("application/spdx+json")
    );
    // Attached by digest: no tag but the subject's and its referrers tag.
    let tags: BTreeSet<String> = client
        .list_tags(&repository)
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        tags,
        BTreeSet::from([image.digest().referrers_tag(), "v1".to_owned()])
    );
}

/// An artifact manifest written by hand, one layer per title (`None`: no
/// title annotation), each layer `bytes`.
async fn hand_written(
    client: &RegistryClient,
    target: &Reference,
    titles: &[Option<&str>],
    bytes: &[u8],
) -> Manifest {
    let repository = target.without_tag_or_digest();
    let blob = support::push_bytes(client, &repository, &bytes.to_vec().into()).await;
    let empty = support::push_bytes(client, &repository, &b"{}".to_vec().into()).await;
    let layers: Vec<Value> = titles
        .iter()
        .map(|title| {
            let mut layer =
                json!({"mediaType": "text/plain", "digest": blob.as_str(), "size": bytes.len()});
            if let Some(title) = title {
                layer["annotations"] = json!({"org.opencontainers.image.title": title});
            }
            layer
        })
        .collect();
    let body = json!({
        "schemaVersion": 2,
        "mediaType": MediaType::OciManifest.as_str(),
        "artifactType": BUNDLE,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.as_str(), "size": 2},
        "layers": layers,
    });
    let manifest = Manifest::from_bytes(serde_json::to_vec(&body).unwrap(), None).unwrap();
    client.put_manifest(target, &manifest).await.unwrap();
    manifest
}

#[tokio::test]
async fn titles_that_leave_the_folder_are_refused_before_anything_is_written() {
    let registry = support::registry(Auth::None).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let target = registry.reference("team/evil:v1").unwrap();
    for (titles, refused) in [
        (&[Some("../evil")][..], "../evil"),
        (&[Some("/abs")][..], "/abs"),
        (&[Some("fine.txt"), Some("a/../../b")][..], "a/../../b"),
        (&[Some("a\\..\\b")][..], "a\\..\\b"),
        (&[Some("")][..], ""),
        (&[Some("twice"), None, Some("twice")][..], "twice"),
        (&[Some("a"), Some("a/b")][..], "a"),
    ] {
        hand_written(&client, &target, titles, b"should never land").await;
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("out");
        std::fs::create_dir(&dir).unwrap();
        let error = client
            .pull_artifact(&target, &dir, &TransferOptions::new())
            .await
            .unwrap_err();
        match &error {
            Error::UnsafeTitle { title, .. } => assert_eq!(title, refused, "{titles:?}"),
            other => panic!("{titles:?}: {other}"),
        }
        assert!(error.to_string().contains("nothing was written"), "{error}");
        assert!(names(&dir).is_empty(), "{titles:?}: {:?}", names(&dir));
        assert_eq!(names(parent.path()), BTreeSet::from(["out".to_owned()]));
    }

    // A folder of the title that is a link out of the target folder.
    hand_written(&client, &target, &[Some("sub/x")], b"through a link").await;
    let parent = tempfile::tempdir().unwrap();
    let (dir, elsewhere) = (parent.path().join("out"), parent.path().join("elsewhere"));
    std::fs::create_dir(&dir).unwrap();
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("sub")).unwrap();
    let error = client
        .pull_artifact(&target, &dir, &TransferOptions::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::UnsafeTitle { title, .. } if title == "sub/x"),
        "{error}"
    );
    assert!(names(&elsewhere).is_empty());

    // Nested titles are fine; a layer without a title is skipped.
    let manifest = hand_written(&client, &target, &[Some("docs/x.txt"), None], b"kept").await;
    let out = tempfile::tempdir().unwrap();
    let pulled = client
        .pull_artifact(&target, out.path(), &TransferOptions::new())
        .await
        .unwrap();
    assert_eq!(pulled.digest, *manifest.digest());
    assert_eq!(
        std::fs::read(out.path().join("docs/x.txt")).unwrap(),
        b"kept"
    );
    assert_eq!(pulled.skipped.len(), 1);
    assert_eq!(names(out.path()), BTreeSet::from(["docs".to_owned()]));
}

#[tokio::test]
async fn unsafe_or_repeated_file_names_are_not_pushed() {
    let registry = support::registry(Auth::None).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let target = registry.reference("team/refused:v1").unwrap();
    let src = tempfile::tempdir().unwrap();
    std::fs::create_dir(src.path().join("a")).unwrap();
    std::fs::create_dir(src.path().join("b")).unwrap();
    std::fs::write(src.path().join("a/same.txt"), b"a").unwrap();
    std::fs::write(src.path().join("b/same.txt"), b"b").unwrap();
    for (push, refused) in [
        (
            ArtifactPush::new()
                .file(ArtifactFile::new(src.path().join("a/same.txt")))
                .file(ArtifactFile::new(src.path().join("b/same.txt"))),
            "same.txt",
        ),
        (
            ArtifactPush::new()
                .file(ArtifactFile::new(src.path().join("a/same.txt")).title("../up")),
            "../up",
        ),
    ] {
        let error = client
            .push_artifact(&target, push, &TransferOptions::new())
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Error::UnsafeTitle { title, .. } if title == refused),
            "{error}"
        );
    }
    assert!(client.head_manifest(&target).await.unwrap().is_none());
    // A file that is missing fails the push before any manifest is written.
    let missing = ArtifactPush::new()
        .file(ArtifactFile::new(src.path().join("a/same.txt")))
        .file(ArtifactFile::new(src.path().join("missing.txt")));
    let error = client
        .push_artifact(&target, missing, &TransferOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Io { .. }), "{error}");
    assert!(client.head_manifest(&target).await.unwrap().is_none());
}
