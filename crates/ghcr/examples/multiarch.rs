//! Pushes a multi-platform image: one image per platform, then the OCI
//! index naming them under `ghcr-example-multiarch:v1`.
//!
//! ```text
//! cargo run -p ghcr --example multiarch                  # an embedded fake ghcr.io
//! GHCR_USERNAME=me GHCR_TOKEN=ghp_… cargo run -p ghcr --example multiarch
//! ```

pub(crate) mod support;

use ghcr::registry::{BlobSource, ImageParts, TransferOptions};
use ghcr::types::{MediaType, Platform, Reference};
use ghcr::{GhcrClient, MultiArchReport};

use support::{BoxError, Target};

/// The image of one platform: its config names the platform.
fn platform_image(platform: &Platform) -> ImageParts {
    let config = serde_json::json!({
        "architecture": platform.architecture,
        "os": platform.os,
        "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": []},
    });
    let layer = format!("the {platform} build of the example\n");
    ImageParts::new(config.to_string().into_bytes()).layer(
        MediaType::OciLayerTar,
        BlobSource::bytes(layer.into_bytes()),
    )
}

/// Pushes one image per platform and the index over them to `target`.
pub(crate) async fn run(
    client: &GhcrClient,
    target: &Reference,
    platforms: &[Platform],
) -> Result<MultiArchReport, BoxError> {
    let images = platforms
        .iter()
        .map(|platform| (platform.clone(), platform_image(platform)))
        .collect();
    Ok(client
        .push_multiarch(target, images, &TransferOptions::new())
        .await?)
}

/// What `cargo run --example multiarch` does on `target`: pushes
/// `ghcr-example-multiarch:v1` for two platforms.
pub(crate) async fn example(target: &Target) -> Result<MultiArchReport, BoxError> {
    let reference: Reference = format!("{}:v1", target.image("ghcr-example-multiarch")).parse()?;
    let platforms = ["linux/amd64".parse()?, "linux/arm64/v8".parse()?];
    let report = run(&target.client, &reference, &platforms).await?;
    println!("pushed {reference}@{}", report.digest);
    for (platform, pushed) in &report.platforms {
        println!("  {platform}: {}", pushed.digest);
    }
    Ok(report)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    example(&support::connect().await?).await?;
    Ok(())
}
