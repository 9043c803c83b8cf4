//! Tarballs built here, byte by byte: what the catalogue finds, and the
//! broken and hostile ones it refuses.

use std::io::Write;
use std::path::Path;

use ghcr_types::Digest;
use serde_json::json;

use super::catalog::{Catalog, Compression};
use super::image::ArchiveImages;
use crate::error::Error;

/// A member to write: a name and its bytes, or a link to another name.
enum Item<'a> {
    File(&'a str, Vec<u8>),
    Symlink(&'a str, &'a str),
}

fn tar_bytes(items: &[Item<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for item in items {
        let mut header = tar::Header::new_gnu();
        match item {
            Item::File(name, bytes) => {
                header.set_size(bytes.len() as u64);
                header.set_mode(0o644);
                // set_path refuses `..`; a hostile tarball is written raw.
                let raw = &mut header.as_old_mut().name;
                raw.fill(0);
                raw[..name.len()].copy_from_slice(name.as_bytes());
                header.set_cksum();
                builder.append(&header, bytes.as_slice()).unwrap();
            }
            Item::Symlink(name, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder.append_link(&mut header, name, target).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A `docker save` archive of one image with two layers; the second is a
/// link to a copy of the first, as old `docker save` writes repeats.
fn docker_archive(manifest_layers: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let layer = b"pretend this is a tar of the root file system".to_vec();
    let diff_id = Digest::sha256_of(&layer);
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": vec![diff_id.as_str(); manifest_layers.len()]},
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&json!([{
        "Config": "config.json", "RepoTags": ["example/app:v1"], "Layers": manifest_layers,
    }]))
    .unwrap();
    let tar = tar_bytes(&[
        Item::File("aaa/layer.tar", layer.clone()),
        Item::Symlink("bbb/layer.tar", "../aaa/layer.tar"),
        Item::File("config.json", config),
        Item::File("manifest.json", manifest),
    ]);
    (tar, layer)
}

fn catalogue(dir: &Path, bytes: &[u8]) -> Result<Catalog, Error> {
    let path = dir.join("image.tar");
    std::fs::write(&path, bytes).unwrap();
    Catalog::read(&path)
}

#[test]
fn plain_and_gzip_tarballs_give_the_same_members() {
    let dir = tempfile::tempdir().unwrap();
    let (tar, layer) = docker_archive(&["aaa/layer.tar", "bbb/layer.tar"]);
    let plain = catalogue(dir.path(), &tar).unwrap();
    let zipped = catalogue(dir.path(), &gzip(&tar)).unwrap();
    assert_eq!(plain.compression, Compression::None);
    assert_eq!(zipped.compression, Compression::Gzip);
    for catalog in [&plain, &zipped] {
        let member = catalog.get("./aaa/layer.tar").unwrap();
        assert_eq!(member.size, layer.len() as u64);
        assert_eq!(member.digest, Some(Digest::sha256_of(&layer)));
        // The data starts one 512-byte header in.
        assert_eq!(member.offset, 512);
        let linked = catalog.get("bbb/layer.tar").unwrap();
        assert_eq!(linked.offset, member.offset, "the link leads to the layer");
        assert!(catalog.get("manifest.json").unwrap().content.is_some());
    }
    let images = ArchiveImages::open(plain).unwrap();
    let entry = images.select(Some("v1")).unwrap();
    let manifest = images.read_manifest(&entry).unwrap();
    assert_eq!(manifest.layers().len(), 2);
    assert_eq!(
        manifest.layers()[0].digest().to_string(),
        Digest::sha256_of(&layer).to_string()
    );
    assert_eq!(
        images.select(Some("example/app:v1")).unwrap().digest(),
        entry.digest()
    );
    let missing = images.select(Some("v2")).unwrap_err().to_string();
    assert!(missing.contains("example/app:v1"), "{missing}");
}

#[test]
fn members_and_links_leaving_the_tarball_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for items in [
        vec![Item::File("../evil", b"x".to_vec())],
        vec![Item::File("/etc/evil", b"x".to_vec())],
        vec![Item::Symlink("layer.tar", "../../etc/passwd")],
        vec![Item::Symlink("layer.tar", "/etc/passwd")],
    ] {
        let error = catalogue(dir.path(), &tar_bytes(&items)).unwrap_err();
        assert!(
            matches!(error, Error::Archive { .. })
                && error.to_string().contains("outside the tarball"),
            "{error}"
        );
    }
}

#[test]
fn a_truncated_tarball_is_refused_whichever_the_compression() {
    let dir = tempfile::tempdir().unwrap();
    let big = crate::archive::tests::noise(3 << 20);
    let tar = tar_bytes(&[
        Item::File("blobs/sha256/ab", big),
        Item::File("x.json", b"{}".to_vec()),
    ]);
    let cut = &tar[..tar.len() / 2];
    for bytes in [cut.to_vec(), gzip(cut)] {
        let error = catalogue(dir.path(), &bytes).unwrap_err().to_string();
        assert!(error.contains("truncated"), "{error}");
    }
}

#[test]
fn a_docker_manifest_naming_a_missing_layer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (tar, _) = docker_archive(&["aaa/layer.tar", "ccc/layer.tar"]);
    let error = ArchiveImages::open(catalogue(dir.path(), &tar).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`ccc/layer.tar`") && error.contains("does not hold"),
        "{error}"
    );
}

#[test]
fn a_layer_that_is_not_its_diff_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = serde_json::to_vec(&json!({
        "rootfs": {"type": "layers", "diff_ids": [Digest::sha256_of(b"other").as_str()]},
    }))
    .unwrap();
    let manifest = br#"[{"Config":"c.json","Layers":["l.tar"]}]"#.to_vec();
    let tar = tar_bytes(&[
        Item::File("l.tar", b"layer".to_vec()),
        Item::File("c.json", config),
        Item::File("manifest.json", manifest),
    ]);
    let error = ArchiveImages::open(catalogue(dir.path(), &tar).unwrap())
        .unwrap_err()
        .to_string();
    assert!(error.contains("damaged"), "{error}");
}

#[test]
fn other_compressions_say_how_to_decompress() {
    let dir = tempfile::tempdir().unwrap();
    let error = catalogue(dir.path(), &[0x28, 0xb5, 0x2f, 0xfd, 0, 0])
        .unwrap_err()
        .to_string();
    assert!(error.contains("zstd -d"), "{error}");
    let error = ArchiveImages::open(
        catalogue(dir.path(), &tar_bytes(&[Item::File("a", vec![1])])).unwrap(),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("docker save"), "{error}");
}

/// Deterministic bytes that do not compress.
pub(super) fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}
