//! `pull REF OUT [--format oci|oci-archive|docker-archive]`: an image
//! into an OCI image layout or a tarball.

use std::path::Path;

use ghcr::registry::{ArchiveFormat, TransferOptions};
use serde_json::json;

use crate::cli::PullFormat;
use crate::context::{Setup, platform};
use crate::output::bytes;
use crate::progress;

pub(crate) async fn run(
    setup: Setup,
    reference: &str,
    dir: &Path,
    platform_text: Option<&str>,
    format: PullFormat,
) -> anyhow::Result<()> {
    let reference = setup.reference(reference)?;
    let mut options = TransferOptions::new().progress(progress::bars());
    if let Some(platform) = platform(platform_text)? {
        options = options.platform(platform);
    }
    let context = setup.connect(&[reference.registry()])?;
    let registry = context.client.registry();
    let report = match format {
        PullFormat::Oci => registry.pull_to_layout(&reference, dir, &options).await?,
        PullFormat::OciArchive => {
            registry
                .pull_to_archive(&reference, dir, ArchiveFormat::Oci, &options)
                .await?
        }
        PullFormat::DockerArchive => {
            registry
                .pull_to_archive(&reference, dir, ArchiveFormat::Docker, &options)
                .await?
        }
    };
    let written = match format {
        PullFormat::Oci => "layout",
        PullFormat::OciArchive => "oci-archive",
        PullFormat::DockerArchive => "docker-archive",
    };
    let name = reference.tag().map(ToString::to_string);
    context.out.result(
        || {
            format!(
                "pulled {reference} {} into {}\n{} blob(s) verified: {} downloaded ({}), {} already there",
                report.digest,
                dir.display(),
                report.blobs,
                report.blobs - report.blobs_reused,
                bytes(report.bytes_downloaded),
                report.blobs_reused
            )
        },
        || {
            json!({
                "reference": reference.to_string(),
                "digest": report.digest.as_str(),
                "format": written,
                "layout": dir.display().to_string(),
                "name": name,
                "blobs": report.blobs,
                "blobs_reused": report.blobs_reused,
                "bytes_downloaded": report.bytes_downloaded,
            })
        },
    );
    context.finish()
}
