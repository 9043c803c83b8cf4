//! The images a tarball holds, whichever kind it is: an OCI layout
//! (`oci-layout`, `index.json`, `blobs/`, as `skopeo copy ... oci-archive:`
//! and `docker save` from Docker 25 write) or a `docker save` archive
//! (`manifest.json` naming a config and uncompressed layers), whose image
//! is described by an OCI manifest made here.

use std::collections::HashMap;

use bytes::Bytes;
use ghcr_types::oci::Descriptor;
use ghcr_types::{Digest, MAX_MANIFEST_SIZE, Manifest, MediaType, Platform};
use serde::Deserialize;
use serde_json::{Value, json};

use super::catalog::{Catalog, Member, blob_name, digest_name};
use crate::error::{Error, Result};
use crate::image::BlobRef;
use crate::layout::{INDEX_FILE, LAYOUT_FILE, checked_manifest, select_entry};

/// `manifest.json` of a `docker save` archive.
pub(crate) const DOCKER_MANIFEST: &str = "manifest.json";

/// One image of a `docker save` archive's `manifest.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DockerEntry {
    pub(crate) config: String,
    #[serde(default)]
    pub(crate) repo_tags: Option<Vec<String>>,
    pub(crate) layers: Vec<String>,
}

/// A tarball read as images.
#[derive(Debug)]
pub(crate) struct ArchiveImages {
    pub(crate) catalog: Catalog,
    /// Entries to choose from (index.json's, or one per docker image).
    entries: Vec<Descriptor>,
    /// Manifests made for docker images, by digest.
    made: HashMap<Digest, Manifest>,
    /// The member of each blob not stored as `blobs/<alg>/<hex>`.
    members: HashMap<Digest, String>,
}

impl ArchiveImages {
    /// Reads what the catalogued tarball holds.
    pub(crate) fn open(catalog: Catalog) -> Result<Self> {
        let mut images = Self {
            catalog,
            entries: Vec::new(),
            made: HashMap::new(),
            members: HashMap::new(),
        };
        if images.catalog.get(INDEX_FILE).is_some() && images.catalog.get(LAYOUT_FILE).is_some() {
            images.read_index()?;
        } else if images.catalog.get(DOCKER_MANIFEST).is_some() {
            images.read_docker()?;
        } else {
            return Err(Error::archive(
                &images.catalog.path,
                "holds neither an OCI layout (oci-layout, index.json) nor a docker save manifest.json; \
                 write it with `docker save` or `skopeo copy ... oci-archive:FILE`, or check that it is complete",
            ));
        }
        Ok(images)
    }

    fn read_index(&mut self) -> Result<()> {
        let bytes = self.catalog.json(INDEX_FILE, "the OCI layout")?;
        let index = Manifest::from_bytes(bytes, Some(MediaType::OciIndex.as_str()))
            .map_err(|err| Error::archive(&self.catalog.path, format!("index.json: {err}")))?;
        if !index.is_index() {
            return Err(Error::archive(
                &self.catalog.path,
                "index.json is not an image index",
            ));
        }
        self.entries = index.children().to_vec();
        Ok(())
    }

    fn read_docker(&mut self) -> Result<()> {
        let bytes = self
            .catalog
            .json(DOCKER_MANIFEST, "a docker save archive")?;
        let entries: Vec<DockerEntry> = serde_json::from_slice(&bytes).map_err(|err| {
            Error::archive(
                &self.catalog.path,
                format!("manifest.json is not a docker save manifest ({err})"),
            )
        })?;
        for entry in entries {
            let manifest = self.docker_manifest(&entry)?;
            let mut descriptor = manifest.descriptor();
            if let Some(tag) = entry.repo_tags.as_ref().and_then(|t| t.first()) {
                let mut annotations = HashMap::new();
                annotations.insert(crate::layout::REF_NAME.to_owned(), tag.clone());
                descriptor.set_annotations(Some(annotations));
            }
            self.entries.push(descriptor);
            self.made.insert(manifest.digest().clone(), manifest);
        }
        Ok(())
    }

    /// An OCI manifest for one docker image: its config as is, its layers
    /// as the tarball holds them (checked against the config's diff_ids
    /// when uncompressed).
    fn docker_manifest(&mut self, entry: &DockerEntry) -> Result<Manifest> {
        let path = self.catalog.path.clone();
        let config = self
            .catalog
            .require(&entry.config, "manifest.json")?
            .clone();
        let config_bytes = self.catalog.json(&entry.config, "manifest.json")?;
        let config_digest = self.digest_of(&entry.config, &config)?;
        let config_json: Value = serde_json::from_slice(&config_bytes).map_err(|err| {
            Error::archive(
                &path,
                format!("config `{}` is not JSON ({err})", entry.config),
            )
        })?;
        let diff_ids: Vec<&str> = config_json
            .pointer("/rootfs/diff_ids")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if diff_ids.len() != entry.layers.len() {
            return Err(Error::archive(
                &path,
                format!(
                    "manifest.json names {} layers but config `{}` lists {} diff_ids; the archive is damaged",
                    entry.layers.len(),
                    entry.config,
                    diff_ids.len()
                ),
            ));
        }
        let mut layers = Vec::new();
        for (name, diff_id) in entry.layers.iter().zip(&diff_ids) {
            let member = self.catalog.require(name, "manifest.json")?.clone();
            let digest = self.digest_of(name, &member)?;
            let media_type = layer_media_type(&member.head);
            if media_type == MediaType::OciLayerTar && digest.as_str() != *diff_id {
                return Err(Error::archive(
                    &path,
                    format!(
                        "layer `{name}` is {digest}, not the {diff_id} its config says; the archive is damaged"
                    ),
                ));
            }
            layers.push(json!({"mediaType": media_type.as_str(), "digest": digest.as_str(), "size": member.size}));
        }
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": MediaType::OciManifest.as_str(),
            "config": {"mediaType": MediaType::OciConfig.as_str(), "digest": config_digest.as_str(), "size": config.size},
            "layers": layers,
        });
        let bytes = serde_json::to_vec(&manifest).map_err(|err| {
            Error::archive(&path, format!("the manifest could not be written: {err}"))
        })?;
        Ok(Manifest::from_bytes(
            bytes,
            Some(MediaType::OciManifest.as_str()),
        )?)
    }

    /// A member's digest, noting where the blob lives.
    fn digest_of(&mut self, name: &str, member: &Member) -> Result<Digest> {
        let digest = match &member.digest {
            Some(digest) => digest.clone(),
            None => digest_name(name).ok_or_else(|| {
                Error::archive(&self.catalog.path, format!("`{name}` has no digest"))
            })?,
        };
        self.members.insert(digest.clone(), name.to_owned());
        Ok(digest)
    }

    /// The entry named `name` (a tag, or a docker `repo:tag`), or the only one.
    pub(crate) fn select(&self, name: Option<&str>) -> Result<Descriptor> {
        let by_tag = name.and_then(|name| {
            self.entries.iter().find(|d| {
                d.annotations()
                    .as_ref()
                    .and_then(|a| a.get(crate::layout::REF_NAME))
                    .and_then(|full| full.rsplit_once(':'))
                    .is_some_and(|(_, tag)| tag == name)
            })
        });
        if let Some(found) = by_tag {
            return Ok(found.clone());
        }
        select_entry(&self.entries, name)
            .map_err(|reason| Error::archive(&self.catalog.path, reason))
    }

    /// A manifest the tarball holds (or one made for a docker image),
    /// checked against its descriptor.
    pub(crate) fn read_manifest(&self, descriptor: &Descriptor) -> Result<Manifest> {
        let digest = Digest::try_from(descriptor.digest())?;
        if let Some(made) = self.made.get(&digest) {
            return Ok(made.clone());
        }
        let name = blob_name(&digest);
        if descriptor.size() > MAX_MANIFEST_SIZE as u64 {
            return Err(Error::archive(
                &self.catalog.path,
                format!("manifest `{name}` is larger than 4 MiB"),
            ));
        }
        let bytes: Bytes = self.catalog.json(&name, "the image index")?;
        let place = format!("{}: {name}", self.catalog.path.display());
        checked_manifest(bytes, descriptor, &digest, &place)
    }

    /// Where a blob's bytes are, checked for presence and size before
    /// anything is sent.
    pub(crate) fn locate(&self, blob: &BlobRef) -> Result<&Member> {
        let name = self
            .members
            .get(&blob.digest)
            .cloned()
            .unwrap_or_else(|| blob_name(&blob.digest));
        let member = self.catalog.require(&name, "an image manifest")?;
        if member.size != blob.size {
            return Err(Error::archive(
                &self.catalog.path,
                format!(
                    "`{name}` holds {} bytes where the manifest says {}; the archive is damaged",
                    member.size, blob.size
                ),
            ));
        }
        Ok(member)
    }

    /// Checks a docker image's config against a wanted platform (an OCI
    /// layout's index is narrowed by the caller instead).
    pub(crate) fn check_platform(&self, manifest: &Manifest, wanted: &Platform) -> Result<()> {
        let Some(config) = manifest.config() else {
            return Ok(());
        };
        let Ok(digest) = Digest::try_from(config.digest()) else {
            return Ok(());
        };
        let Some(name) = self.members.get(&digest) else {
            return Ok(());
        };
        let config: Value = self
            .catalog
            .get(name)
            .and_then(|m| m.content.as_ref())
            .and_then(|bytes| serde_json::from_slice(bytes).ok())
            .unwrap_or_default();
        let field = |key: &str| config.get(key).and_then(Value::as_str).unwrap_or("");
        let offered = Platform::new(
            field("os"),
            field("architecture"),
            config.get("variant").and_then(Value::as_str),
        );
        if wanted.matches(&offered)
            || wanted.matches_ignoring_variant(&offered) && wanted.variant.is_none()
        {
            return Ok(());
        }
        Err(Error::archive(
            &self.catalog.path,
            format!(
                "its image is for {offered}, not {wanted}; drop --platform or pick another archive"
            ),
        ))
    }
}

/// The OCI media type of a layer, from its first bytes.
fn layer_media_type(head: &[u8]) -> MediaType {
    match head {
        [0x1f, 0x8b, ..] => MediaType::OciLayerGzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => MediaType::OciLayerZstd,
        _ => MediaType::OciLayerTar,
    }
}
