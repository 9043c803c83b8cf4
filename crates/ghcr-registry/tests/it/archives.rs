//! Tarballs shared with skopeo: the `docker-archive:` and `oci-archive:`
//! files it writes, we push (plain and gzipped); the ones we pull, it
//! reads back; digests agree. Broken tarballs move no tag and a failed
//! pull leaves nothing behind.

use std::io::Write;

use ghcr_registry::{ArchiveFormat, Error, ImageParts, RegistryClient, TransferOptions};
use ghcr_types::{Digest, Manifest, MediaType, Platform, Reference};

use crate::images::index_of;
use crate::support::{self, Auth, data, skopeo};

support::in_both_modes!(
    we_push_the_archives_skopeo_writes,
    skopeo_reads_the_archives_we_pull
);

/// A gzip layer that really is a tar, with its diff_id.
fn layer(seed: u64) -> (Vec<u8>, Digest) {
    let content = data(40_000, seed);
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    builder
        .append_data(&mut header, format!("file-{seed}"), content.as_ref())
        .unwrap();
    let tar = builder.into_inner().unwrap();
    let diff_id = Digest::sha256_of(&tar);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    (gz.finish().unwrap(), diff_id)
}

/// An image skopeo and docker would take: gzip tar layers whose diff_ids
/// the config lists. Pushed by digest.
async fn real_image(
    client: &RegistryClient,
    repository: &Reference,
    platform: &str,
    seed: u64,
) -> Manifest {
    let (os, architecture) = platform.split_once('/').unwrap();
    let (first, first_id) = layer(seed);
    let (second, second_id) = layer(seed + 1);
    let config = serde_json::json!({
        "architecture": architecture, "os": os,
        "config": {"Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": [first_id.as_str(), second_id.as_str()]},
    });
    let parts = ImageParts::new(serde_json::to_vec(&config).unwrap())
        .layer(
            MediaType::OciLayerGzip,
            ghcr_registry::BlobSource::bytes(first),
        )
        .layer(
            MediaType::OciLayerGzip,
            ghcr_registry::BlobSource::bytes(second),
        );
    client
        .push_image(repository, parts, &TransferOptions::new())
        .await
        .unwrap()
        .manifest
}

/// A two-platform index of real images, tagged `tag`.
async fn real_index(
    client: &RegistryClient,
    repository: &Reference,
    tag: &str,
) -> (Manifest, Vec<Manifest>) {
    let mut children = Vec::new();
    for (i, platform) in ["linux/amd64", "linux/arm64"].into_iter().enumerate() {
        let child = real_image(client, repository, platform, 10 * (i as u64 + 1)).await;
        children.push((platform, child));
    }
    index_of(client, repository, tag, children).await
}

fn creds(flag: &str, registry: &support::Registry) -> Option<String> {
    registry
        .credentials()
        .map(|(user, password)| format!("--{flag}-creds={user}:{password}"))
}

async fn config_of(client: &RegistryClient, reference: &Reference) -> (Manifest, Vec<u8>) {
    let manifest = client.get_manifest(reference).await.unwrap();
    let digest = Digest::try_from(manifest.config().unwrap().digest()).unwrap();
    let bytes = client
        .get_blob_bytes(reference, &digest, 1 << 20)
        .await
        .unwrap();
    (manifest, bytes.to_vec())
}

fn gzip_file(from: &std::path::Path, to: &std::path::Path) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&std::fs::read(from).unwrap()).unwrap();
    std::fs::write(to, gz.finish().unwrap()).unwrap();
}

async fn we_push_the_archives_skopeo_writes(auth: Auth) {
    let registry = support::registry(auth).await;
    let other = support::registry(support::other_mode(auth)).await;
    let client = support::client_for(&[&registry, &other]).build().unwrap();
    let repository = registry.reference("team/src").unwrap();
    let single = real_image(&client, &repository, "linux/amd64", 1).await;
    client
        .put_manifest(&repository.with_tag("v1").unwrap(), &single)
        .await
        .unwrap();
    let (index, children) = real_index(&client, &repository, "multi").await;
    let dir = tempfile::tempdir().unwrap();
    let docker_tar = dir.path().join("docker.tar");
    let oci_tar = dir.path().join("oci.tar");
    let source = |tag: &str| format!("docker://{}/team/src:{tag}", registry.host());
    let docker_dest = format!("docker-archive:{}:team/src:v1", docker_tar.display());
    let oci_dest = format!("oci-archive:{}:multi", oci_tar.display());
    for (from, to, all) in [
        (source("v1"), &docker_dest, false),
        (source("multi"), &oci_dest, true),
    ] {
        let mut args = vec!["copy", "--quiet", "--src-tls-verify=false"];
        let credentials = creds("src", &registry);
        args.extend(credentials.as_deref());
        if all {
            args.extend(["--all", "--preserve-digests"]);
        }
        args.extend([from.as_str(), to.as_str()]);
        skopeo(&args).await;
    }

    // docker-archive: layers went in uncompressed; the config is the same
    // bytes and each layer is exactly its diff_id.
    let (_, original_config) = config_of(&client, &repository.with_tag("v1").unwrap()).await;
    let target = other.reference("team/from-docker:v1").unwrap();
    let report = client
        .push_archive(&docker_tar, None, &target, &TransferOptions::new())
        .await
        .unwrap();
    let (pushed, config) = config_of(&client, &target).await;
    assert_eq!(pushed.digest(), &report.digest);
    assert_eq!(config, original_config, "the config goes up byte for byte");
    let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
    let diff_ids: Vec<String> = pushed
        .layers()
        .iter()
        .map(|l| {
            assert_eq!(l.media_type().to_string(), MediaType::OciLayerTar.as_str());
            l.digest().to_string()
        })
        .collect();
    assert_eq!(
        serde_json::json!(diff_ids),
        config["rootfs"]["diff_ids"],
        "each layer is its uncompressed self"
    );
    // The same archive gzipped, named by its tag: the same image.
    let zipped = dir.path().join("docker.tar.gz");
    gzip_file(&docker_tar, &zipped);
    let again = other.reference("team/from-docker-gz:v1").unwrap();
    let report = client
        .push_archive(&zipped, Some("v1"), &again, &TransferOptions::new())
        .await
        .unwrap();
    assert_eq!(report.digest, *pushed.digest());

    // oci-archive: every platform, digests kept; or one platform.
    let target = other.reference("team/from-oci:multi").unwrap();
    let report = client
        .push_archive(&oci_tar, Some("multi"), &target, &TransferOptions::new())
        .await
        .unwrap();
    assert_eq!(report.digest, *index.digest());
    assert_eq!(
        client.get_manifest(&target).await.unwrap().bytes(),
        index.bytes()
    );
    let arm = TransferOptions::new().platform(Platform::parse("linux/arm64").unwrap());
    let zipped = dir.path().join("oci.tar.gz");
    gzip_file(&oci_tar, &zipped);
    let target = other.reference("team/from-oci:arm").unwrap();
    let report = client
        .push_archive(&zipped, None, &target, &arm)
        .await
        .unwrap();
    assert_eq!(report.digest, *children[1].digest());
    for blob in &report.blobs {
        let bytes = client
            .get_blob_bytes(&target, &blob.digest, 1 << 20)
            .await
            .unwrap();
        assert_eq!(Digest::sha256_of(&bytes), blob.digest);
    }
}

async fn skopeo_reads_the_archives_we_pull(auth: Auth) {
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let repository = registry.reference("team/app").unwrap();
    let (index, children) = real_index(&client, &repository, "multi").await;
    let multi = repository.with_tag("multi").unwrap();
    let dir = tempfile::tempdir().unwrap();

    // OCI archive: the whole index, which skopeo reads and copies back
    // with the same digest.
    let oci_tar = dir.path().join("multi.tar");
    let report = client
        .pull_to_archive(
            &multi,
            &oci_tar,
            ArchiveFormat::Oci,
            &TransferOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(report.digest, *index.digest());
    let place = format!("oci-archive:{}", oci_tar.display());
    assert_eq!(
        skopeo(&["inspect", "--raw", &place]).await,
        index.bytes().as_ref()
    );
    let back = format!("docker://{}/team/back:multi", registry.host());
    let mut args = vec![
        "copy",
        "--quiet",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
    ];
    let credentials = creds("dest", &registry);
    args.extend(credentials.as_deref());
    args.extend([place.as_str(), back.as_str()]);
    skopeo(&args).await;
    let copied = registry.reference("team/back:multi").unwrap();
    assert_eq!(
        client.get_manifest(&copied).await.unwrap().digest(),
        index.digest()
    );

    // Docker archives: one platform (the host's by default), whose config
    // skopeo reads back byte for byte and whose layers it unpacks.
    for (platform, child) in [(None, &children[0]), (Some("linux/arm64"), &children[1])] {
        let mut options = TransferOptions::new();
        if let Some(platform) = platform {
            options = options.platform(Platform::parse(platform).unwrap());
        }
        let tar = dir
            .path()
            .join(format!("docker-{}.tar", platform.is_some()));
        let report = client
            .pull_to_archive(&multi, &tar, ArchiveFormat::Docker, &options)
            .await
            .unwrap();
        assert_eq!(report.digest, *child.digest());
        let place = format!("docker-archive:{}", tar.display());
        let config = skopeo(&["inspect", "--config", "--raw", &place]).await;
        assert_eq!(
            Digest::sha256_of(&config).to_string(),
            child.config().unwrap().digest().to_string(),
            "{platform:?}"
        );
        let layout = dir.path().join(format!("unpacked-{}", platform.is_some()));
        let unpacked = format!("oci:{}:x", layout.display());
        skopeo(&["copy", "--quiet", &place, &unpacked]).await;
        let inspected: serde_json::Value =
            serde_json::from_slice(&skopeo(&["inspect", &unpacked]).await).unwrap();
        assert_eq!(inspected["Layers"].as_array().unwrap().len(), 2);
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn broken_tarballs_move_no_tag_and_failed_pulls_leave_nothing() {
    let registry = support::registry(Auth::None).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let repository = registry.reference("team/broken").unwrap();
    let image = real_image(&client, &repository, "linux/amd64", 5).await;
    let tagged = repository.with_tag("v1").unwrap();
    client.put_manifest(&tagged, &image).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.tar");
    client
        .pull_to_archive(
            &tagged,
            &whole,
            ArchiveFormat::Docker,
            &TransferOptions::new(),
        )
        .await
        .unwrap();

    // Cut at every tenth: never a pushed tag, always a tarball error.
    let bytes = std::fs::read(&whole).unwrap();
    let target = repository.with_tag("cut").unwrap();
    for tenth in 1..10 {
        let cut = dir.path().join(format!("cut-{tenth}.tar"));
        std::fs::write(&cut, &bytes[..bytes.len() * tenth / 10]).unwrap();
        let error = client
            .push_archive(&cut, None, &target, &TransferOptions::new())
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Archive { .. }), "{tenth}: {error}");
        assert!(!client.image_exists(&target).await.unwrap(), "{tenth}");
    }

    // A pull that fails (no such platform) writes no file and leaves no
    // work folder.
    let out = dir.path().join("out").join("image.tar");
    std::fs::create_dir(out.parent().unwrap()).unwrap();
    let arm = TransferOptions::new().platform(Platform::parse("linux/arm64").unwrap());
    let index_tag = repository.with_tag("multi").unwrap();
    real_index(&client, &repository, "multi").await;
    let error = client
        .pull_to_archive(
            &index_tag,
            &out,
            ArchiveFormat::Docker,
            &arm.clone()
                .platform(Platform::parse("linux/s390x").unwrap()),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::PlatformNotFound { .. }), "{error}");
    assert_eq!(std::fs::read_dir(out.parent().unwrap()).unwrap().count(), 0);
    let error = client
        .pull_to_archive(
            &repository.with_tag("nope").unwrap(),
            &out,
            ArchiveFormat::Oci,
            &arm,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::ManifestNotFound { .. }), "{error}");
    assert_eq!(std::fs::read_dir(out.parent().unwrap()).unwrap().count(), 0);
}
