//! Pulls an image into an OCI image layout (readable by `skopeo inspect
//! oci:DIR:TAG`), every blob verified against its digest on the way.
//!
//! ```text
//! cargo run -p ghcr --example pull_image                 # an embedded fake ghcr.io
//! GHCR_TOKEN=ghp_… cargo run -p ghcr --example pull_image -- ghcr.io/OWNER/IMAGE:TAG ./layout
//! ```

pub(crate) mod support;

use std::path::Path;

use ghcr::GhcrClient;
use ghcr::registry::{PullReport, TransferOptions};
use ghcr::types::Reference;

use support::{BoxError, Target};

/// Pulls `image` into the layout at `dir`.
pub(crate) async fn run(
    client: &GhcrClient,
    image: &Reference,
    dir: &Path,
) -> Result<PullReport, BoxError> {
    Ok(client
        .registry()
        .pull_to_layout(image, dir, &TransferOptions::new())
        .await?)
}

/// What `cargo run --example pull_image -- [IMAGE [DIR]]` does on
/// `target` (on the fake, a seeded image when none is named; DIR defaults
/// to `pulled-layout`).
pub(crate) async fn example(target: &Target, args: &[String]) -> Result<PullReport, BoxError> {
    let image: Reference = match (args.first(), &target.fake) {
        (Some(image), _) => image.parse()?,
        (None, Some(fake)) => {
            let repository = format!("{}/hello", target.namespace);
            fake.store()
                .push_index(&repository, "v1", &["linux/amd64", "linux/arm64"])?;
            format!("{}:v1", target.image("hello")).parse()?
        }
        (None, None) => return Err("name the image to pull: pull_image IMAGE [DIR]".into()),
    };
    let dir = args.get(1).map_or("pulled-layout", String::as_str);
    let report = run(&target.client, &image, Path::new(dir)).await?;
    println!(
        "pulled {image}@{} into {dir}: {} blobs ({} already there), {} bytes downloaded",
        report.digest, report.blobs, report.blobs_reused, report.bytes_downloaded
    );
    Ok(report)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    example(&support::connect().await?, &args).await?;
    Ok(())
}
