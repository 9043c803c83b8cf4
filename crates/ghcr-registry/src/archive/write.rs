//! Pulling into a tarball: the image is pulled (verified) into an OCI
//! layout in a work folder beside the output, then written as a tar under
//! a temporary name and renamed into place only once complete. A failed
//! pull leaves neither the work folder nor a partial tarball.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use ghcr_types::{Algorithm, Digest, Manifest, MediaType, Platform, Reference};
use serde_json::{Value, json};

use super::image::DOCKER_MANIFEST;
use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::files::{Partial, copy_hashed};
use crate::image::PullReport;
use crate::layout::{INDEX_FILE, LAYOUT_FILE};
use crate::options::TransferOptions;

/// The kind of tarball [`RegistryClient::pull_to_archive`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArchiveFormat {
    /// An OCI image layout in a tar (`oci-archive:` to skopeo and podman):
    /// every platform, digests kept.
    Oci,
    /// A `docker save` archive (`docker load -i` takes it): one platform
    /// (the host's unless one is given), layers uncompressed as the format
    /// defines them, each checked against the config's `diff_ids`.
    Docker,
}

impl RegistryClient {
    /// Pulls `reference` into a tarball at `out` (replaced only once the
    /// new one is complete).
    ///
    /// # Errors
    ///
    /// The errors of [`RegistryClient::pull_to_layout`];
    /// [`Error::Archive`] when a docker archive cannot hold the image (an
    /// index with no image for the platform, zstd layers, a layer whose
    /// content is not its config's diff_id); [`Error::Io`] when writing.
    pub async fn pull_to_archive(
        &self,
        reference: &Reference,
        out: &Path,
        format: ArchiveFormat,
        options: &TransferOptions,
    ) -> Result<PullReport> {
        if out.is_dir() {
            return Err(Error::archive(
                out,
                "is a folder; name a file for the tarball (or pull into the folder as an OCI layout)",
            ));
        }
        let mut options = options.clone();
        if format == ArchiveFormat::Docker && options.platform.is_none() {
            options.platform = Some(host_platform());
        }
        let work = WorkDir::beside(out);
        let report = self.pull_to_layout(reference, &work.0, &options).await?;
        if format == ArchiveFormat::Docker && report.manifest.as_image().is_none() {
            return Err(Error::archive(
                out,
                "a docker archive holds one image, and this is an index; give --platform",
            ));
        }
        let partial = Partial::beside(out);
        let (layout, into, out_path) = (
            work.0.clone(),
            partial.path().to_path_buf(),
            out.to_path_buf(),
        );
        let manifest = report.manifest.clone();
        let tag = reference.tag().map(|_| reference.to_string());
        tokio::task::spawn_blocking(move || match format {
            ArchiveFormat::Docker => write_docker(&layout, &manifest, tag, &into, &out_path),
            ArchiveFormat::Oci => write_oci(&layout, &into, &out_path),
        })
        .await
        .map_err(|err| Error::io(out, std::io::Error::other(err)))??;
        partial.place(out).await?;
        Ok(report)
    }
}

/// The platform this program runs on, as Go names it.
fn host_platform() -> Platform {
    let architecture = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    Platform::new("linux", architecture, None)
}

/// A `.<name>.partial-<random>.d` folder beside the output, removed when dropped.
struct WorkDir(PathBuf);

impl WorkDir {
    fn beside(out: &Path) -> Self {
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self(out.with_file_name(format!(".{name}.partial-{:08x}.d", fastrand::u32(..))))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A tar being written: fixed owners, modes and times, so the same image
/// gives the same bytes.
struct TarWriter {
    builder: tar::Builder<BufWriter<File>>,
    out: PathBuf,
}

impl TarWriter {
    fn create(into: &Path, out: &Path) -> Result<Self> {
        let file = File::create_new(into).map_err(|err| Error::io(into, err))?;
        Ok(Self {
            builder: tar::Builder::new(BufWriter::new(file)),
            out: out.to_path_buf(),
        })
    }

    fn folder(&mut self, name: &str) -> Result<()> {
        let mut header = header(tar::EntryType::Directory, 0, 0o755);
        self.builder
            .append_data(&mut header, name, std::io::empty())
            .map_err(|err| Error::io(&self.out, err))
    }

    fn file(&mut self, name: &str, from: &Path) -> Result<()> {
        let file = File::open(from).map_err(|err| Error::io(from, err))?;
        let size = file.metadata().map_err(|err| Error::io(from, err))?.len();
        let mut header = header(tar::EntryType::Regular, size, 0o644);
        self.builder
            .append_data(&mut header, name, file)
            .map_err(|err| Error::io(&self.out, err))
    }

    fn bytes(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let mut header = header(tar::EntryType::Regular, bytes.len() as u64, 0o644);
        self.builder
            .append_data(&mut header, name, bytes)
            .map_err(|err| Error::io(&self.out, err))
    }

    /// Ends the tar and syncs it.
    fn finish(self) -> Result<()> {
        let out = self.out;
        self.builder
            .into_inner()
            .and_then(|writer| {
                writer
                    .into_inner()
                    .map_err(std::io::IntoInnerError::into_error)
            })
            .and_then(|file| file.sync_all())
            .map_err(|err| Error::io(&out, err))
    }
}

fn header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(mode);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header
}

/// The pulled layout as a tar: `oci-layout`, `index.json`, `blobs/`.
fn write_oci(layout: &Path, into: &Path, out: &Path) -> Result<()> {
    let mut tar = TarWriter::create(into, out)?;
    tar.file(LAYOUT_FILE, &layout.join(LAYOUT_FILE))?;
    tar.file(INDEX_FILE, &layout.join(INDEX_FILE))?;
    tar.folder("blobs/")?;
    let blobs = layout.join("blobs");
    let mut algorithms = read_sorted(&blobs)?;
    algorithms.retain(|p| p.is_dir());
    for algorithm in algorithms {
        let alg = file_name(&algorithm);
        tar.folder(&format!("blobs/{alg}/"))?;
        for blob in read_sorted(&algorithm)? {
            let name = file_name(&blob);
            if name.starts_with('.') {
                continue;
            }
            tar.file(&format!("blobs/{alg}/{name}"), &blob)?;
        }
    }
    tar.finish()
}

/// One image as `docker save` writes it: `<diff_id>/layer.tar` for each
/// layer (uncompressed, checked against the config), `<config hex>.json`,
/// and `manifest.json` last.
fn write_docker(
    layout: &Path,
    manifest: &Manifest,
    tag: Option<String>,
    into: &Path,
    out: &Path,
) -> Result<()> {
    let blob = |digest: &Digest| {
        layout
            .join("blobs")
            .join(digest.algorithm_name())
            .join(digest.encoded())
    };
    let config = manifest
        .config()
        .ok_or_else(|| Error::archive(out, "the image has no config"))?;
    let config_digest = Digest::try_from(config.digest())?;
    let config_bytes =
        std::fs::read(blob(&config_digest)).map_err(|err| Error::io(&blob(&config_digest), err))?;
    let config_json: Value = serde_json::from_slice(&config_bytes)
        .map_err(|err| Error::archive(out, format!("the image's config is not JSON ({err})")))?;
    let diff_ids: Vec<String> = config_json
        .pointer("/rootfs/diff_ids")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if diff_ids.len() != manifest.layers().len() {
        return Err(Error::archive(
            out,
            format!(
                "the image has {} layers but its config lists {} diff_ids; it cannot be a docker archive",
                manifest.layers().len(),
                diff_ids.len()
            ),
        ));
    }
    let mut tar = TarWriter::create(into, out)?;
    let mut written = std::collections::HashSet::new();
    let mut names = Vec::new();
    for (layer, diff_id) in manifest.layers().iter().zip(&diff_ids) {
        let digest = Digest::try_from(layer.digest())?;
        let diff: Digest = diff_id.parse().map_err(|_| {
            Error::archive(
                out,
                format!("the config's diff_id `{diff_id}` is not a digest"),
            )
        })?;
        let name = format!("{}/layer.tar", diff.encoded());
        names.push(name.clone());
        if !written.insert(diff.clone()) {
            continue;
        }
        let media_type = MediaType::from(layer.media_type());
        let (plain, actual) = uncompressed(&blob(&digest), &media_type, layout, out)?;
        if actual != diff {
            return Err(Error::archive(
                out,
                format!(
                    "layer {digest} unpacks to {actual}, not the {diff} its config says; the image is broken"
                ),
            ));
        }
        tar.folder(&format!("{}/", diff.encoded()))?;
        tar.file(&name, &plain)?;
    }
    let config_name = format!("{}.json", config_digest.encoded());
    tar.bytes(&config_name, &config_bytes)?;
    let entry = json!([{
        "Config": config_name,
        "RepoTags": tag.map(|t| vec![t]),
        "Layers": names,
    }]);
    let text = serde_json::to_vec(&entry)
        .map_err(|err| Error::archive(out, format!("manifest.json did not serialise: {err}")))?;
    tar.bytes(DOCKER_MANIFEST, &text)?;
    tar.finish()
}

/// The layer as a plain tar and that tar's sha256 (its diff_id): the blob
/// itself, or gunzipped into the work folder, hashed on the way.
fn uncompressed(
    path: &Path,
    media_type: &MediaType,
    layout: &Path,
    out: &Path,
) -> Result<(PathBuf, Digest)> {
    let essence = media_type.essence();
    if essence.ends_with("zstd") {
        return Err(Error::archive(
            out,
            "the image has zstd layers, which a docker archive cannot hold here; pull with --format oci-archive",
        ));
    }
    let mut input = File::open(path).map_err(|err| Error::io(path, err))?;
    if !(essence.ends_with("gzip")) {
        let (digest, _) = copy_hashed(&mut input, &mut std::io::sink(), Algorithm::Sha256)
            .map_err(|err| Error::io(path, err))?;
        return Ok((path.to_path_buf(), digest));
    }
    let plain = layout.join(format!(".{}.tar", file_name(path)));
    let mut decoder = flate2::read::GzDecoder::new(std::io::BufReader::new(input));
    let mut output = BufWriter::new(File::create(&plain).map_err(|err| Error::io(&plain, err))?);
    let (digest, _) = copy_hashed(&mut decoder, &mut output, Algorithm::Sha256).map_err(|err| {
        Error::archive(
            out,
            format!("layer {} does not gunzip ({err})", file_name(path)),
        )
    })?;
    output.flush().map_err(|err| Error::io(&plain, err))?;
    Ok((plain, digest))
}

fn read_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|err| Error::io(dir, err))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    Ok(paths)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
