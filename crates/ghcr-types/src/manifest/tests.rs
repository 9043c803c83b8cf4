//! Real-world manifest shapes, checked against digests computed outside Rust
//! (Python's hashlib) so that the digest is known to be of the exact bytes.

use super::*;

const BUILDX_INDEX: &[u8] = include_bytes!("../../tests/data/buildx-index-with-attestations.json");
const DOCKER_LIST: &[u8] = include_bytes!("../../tests/data/docker-manifest-list.json");
const SBOM_ARTIFACT: &[u8] = include_bytes!("../../tests/data/sbom-artifact.json");
const SCHEMA1: &[u8] = include_bytes!("../../tests/data/docker-schema1.json");

fn digest(hex: &str) -> Digest {
    Digest::parse(&format!("sha256:{hex}")).unwrap()
}

#[test]
fn buildx_index_with_attestation_manifests() {
    let index = Manifest::from_bytes(
        BUILDX_INDEX,
        Some("application/vnd.oci.image.index.v1+json"),
    )
    .unwrap();
    assert_eq!(
        index.digest(),
        &digest("0ab73253696e5c9409348ab40137992d36d911d99e9d1616c5dc4a45c3e2873e")
    );
    assert!(index.is_index());
    assert_eq!(index.children().len(), 3);
    // The attestation manifest (unknown/unknown) is not an image to run.
    let platforms: Vec<String> = index.platforms().iter().map(ToString::to_string).collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8"]);
    let all: Vec<String> = index
        .children_with_platforms()
        .filter_map(|(_, platform)| platform.map(ToString::to_string))
        .collect();
    assert_eq!(all, ["linux/amd64", "linux/arm64/v8", "unknown/unknown"]);
    let arm = index.child_for(&"linux/aarch64".parse().unwrap()).unwrap();
    assert!(arm.digest().as_ref().starts_with("sha256:2f4a"));
    assert!(index.child_for(&"linux/s390x".parse().unwrap()).is_none());
    assert_eq!(index.referenced_size(), 1234 + 1235 + 566);
    assert_eq!(
        index.annotations().unwrap()["org.opencontainers.image.description"],
        "demo"
    );
    assert_eq!(index.referenced_digests().len(), 3);
}

#[test]
fn docker_manifest_list_without_content_type() {
    let list = Manifest::from_bytes(DOCKER_LIST, None).unwrap();
    assert_eq!(list.media_type(), &MediaType::DockerManifestList);
    assert_eq!(
        list.digest(),
        &digest("ff4de783a1d4e970103926d1e5f27eaadfffb07389b2da315133f0cb61e954f2")
    );
    let windows = &list.platforms()[1];
    assert_eq!(windows.os_version.as_deref(), Some("10.0.17763.5329"));
    assert!(list.child_for(&"linux/arm/v6".parse().unwrap()).is_some());
    assert!(list.child_for(&"linux/arm/v7".parse().unwrap()).is_none());
}

#[test]
fn artifact_manifest_with_subject_and_artifact_type() {
    let sbom = Manifest::from_bytes(
        SBOM_ARTIFACT,
        Some("application/vnd.oci.image.manifest.v1+json"),
    )
    .unwrap();
    assert_eq!(
        sbom.digest(),
        &digest("a9dd255dc096b2706c194228612d37b45aefec788495f28dab3bef5867a4035a")
    );
    assert!(!sbom.is_index());
    assert_eq!(
        sbom.artifact_type().unwrap().as_str(),
        "application/spdx+json"
    );
    assert!(
        sbom.subject()
            .unwrap()
            .digest()
            .as_ref()
            .starts_with("sha256:7a3e")
    );
    assert_eq!(sbom.referenced_size(), 2 + 8812);
    assert_eq!(sbom.layers().len(), 1);
    // config, layer and subject
    assert_eq!(sbom.referenced_digests().len(), 3);
}

#[test]
fn digest_is_of_the_bytes_not_of_reserialised_json() {
    let compact: serde_json::Value = serde_json::from_slice(SBOM_ARTIFACT).unwrap();
    let compact = serde_json::to_vec(&compact).unwrap();
    let original = Manifest::from_bytes(SBOM_ARTIFACT, None).unwrap();
    let reformatted = Manifest::from_bytes(compact.clone(), None).unwrap();
    assert_ne!(original.digest(), reformatted.digest());
    assert_eq!(reformatted.digest(), &Digest::sha256_of(&compact));
    assert_eq!(original.bytes().as_ref(), SBOM_ARTIFACT);
    original.verify(original.digest()).unwrap();
    assert!(matches!(
        original.verify(reformatted.digest()),
        Err(Error::DigestMismatch { .. })
    ));
}

#[test]
fn built_manifests_hash_what_they_will_send() {
    let parsed = Manifest::from_bytes(SBOM_ARTIFACT, None).unwrap();
    let rebuilt = Manifest::from_image(parsed.as_image().unwrap()).unwrap();
    assert_eq!(rebuilt.digest(), &Digest::sha256_of(rebuilt.bytes()));
    assert_eq!(rebuilt.media_type(), &MediaType::OciManifest);
    let index = Manifest::from_bytes(BUILDX_INDEX, None).unwrap();
    let rebuilt = Manifest::from_index(index.as_index().unwrap()).unwrap();
    assert_eq!(rebuilt.children(), index.children());
}

fn rejects(bytes: &[u8], content_type: Option<&str>, expected: &str) {
    let err = Manifest::from_bytes(bytes.to_vec(), content_type).unwrap_err();
    assert!(
        err.to_string().contains(expected),
        "`{err}` lacks `{expected}`"
    );
}

#[test]
fn rejections() {
    rejects(SCHEMA1, None, "schema 1");
    rejects(
        br#"{"schemaVersion":2}"#,
        Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
        "schema 1",
    );
    rejects(b"not json", None, "not a JSON object");
    rejects(b"[1,2]", None, "not a JSON object");
    rejects(
        br#"{"schemaVersion":3,"manifests":[]}"#,
        None,
        "schemaVersion is 3",
    );
    rejects(br#"{"manifests":[]}"#, None, "schemaVersion is missing");
    rejects(
        br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
        Some("application/vnd.oci.image.manifest.v1+json"),
        "content type says",
    );
    rejects(
        br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.config.v1+json"}"#,
        None,
        "not an image manifest or index",
    );
    rejects(br#"{"schemaVersion":2}"#, None, "needs either");
    rejects(
        br#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:ABCDEF"}]}"#,
        None,
        "does not follow",
    );
    rejects(
        br#"{"schemaVersion":2,"manifests":[{"mediaType":"nonsense","size":1,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}]}"#,
        None,
        "manifests[0]: mediaType",
    );
    rejects(
        br#"{"schemaVersion":2,"config":{"mediaType":"nonsense","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#,
        None,
        "config: mediaType",
    );
}

#[test]
fn size_limit_is_checked_before_parsing() {
    let huge = vec![b' '; MAX_MANIFEST_SIZE + 1];
    assert!(matches!(
        Manifest::from_bytes(huge, None),
        Err(Error::ManifestTooLarge { size, .. }) if size == MAX_MANIFEST_SIZE as u64 + 1
    ));
}

#[test]
fn size_limit_is_inclusive() {
    // A manifest of exactly 4 MiB is accepted; padding is JSON whitespace.
    let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    let mut bytes = body.to_vec();
    bytes.resize(MAX_MANIFEST_SIZE, b' ');
    let manifest = Manifest::from_bytes(bytes, None).unwrap();
    assert_eq!(manifest.size(), MAX_MANIFEST_SIZE as u64);
}

#[test]
fn huge_descriptor_sizes_saturate_instead_of_overflowing() {
    let layer = |n: u8| {
        format!(
            r#"{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":18446744073709551615,"digest":"sha256:{}"}}"#,
            format!("{n:x}").repeat(64)
        )
    };
    let image = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":7,"digest":"sha256:{}"}},"layers":[{},{}]}}"#,
        "c".repeat(64),
        layer(1),
        layer(2)
    );
    let manifest = Manifest::from_bytes(image.into_bytes(), None).unwrap();
    assert_eq!(manifest.referenced_size(), u64::MAX);
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{},{}]}}"#,
        layer(3).replace("layer.v1.tar+gzip", "manifest.v1+json"),
        layer(4).replace("layer.v1.tar+gzip", "manifest.v1+json")
    );
    let index = Manifest::from_bytes(index.into_bytes(), None).unwrap();
    assert_eq!(index.referenced_size(), u64::MAX);
}
