//! Pushes a small image (a config and two layers) as `ghcr-example:v1`,
//! printing each blob as it goes up.
//!
//! ```text
//! cargo run -p ghcr --example push_image                 # an embedded fake ghcr.io
//! GHCR_USERNAME=me GHCR_TOKEN=ghp_… cargo run -p ghcr --example push_image
//! ```

pub(crate) mod support;

use ghcr::GhcrClient;
use ghcr::registry::{
    BlobSource, ImageParts, Progress, ProgressEvent, PushReport, TransferOptions,
};
use ghcr::types::{MediaType, Reference};

use support::{BoxError, Target};

/// Pushes the example image to `target` and returns what the push did.
pub(crate) async fn run(client: &GhcrClient, target: &Reference) -> Result<PushReport, BoxError> {
    let config = br#"{"architecture":"amd64","os":"linux","config":{"Cmd":["/hello"]},"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let image = ImageParts::new(&config[..])
        .layer(
            MediaType::OciLayerTar,
            BlobSource::bytes(vec![b'a'; 64 * 1024]),
        )
        .layer(
            MediaType::OciLayerTar,
            BlobSource::bytes(&b"hello from ghcr-rs\n"[..]),
        )
        .annotation(
            "org.opencontainers.image.description",
            "pushed by the ghcr push_image example",
        );
    let progress = Progress::new(|event| {
        if let ProgressEvent::Finished { digest, size } = event {
            eprintln!("  uploaded {digest} ({size} bytes)");
        }
    });
    let options = TransferOptions::new().progress(progress);
    Ok(client
        .registry()
        .push_image(target, image, &options)
        .await?)
}

/// What `cargo run --example push_image` does on `target`: pushes
/// `ghcr-example:v1` and says what went up.
pub(crate) async fn example(target: &Target) -> Result<PushReport, BoxError> {
    let reference: Reference = format!("{}:v1", target.image("ghcr-example")).parse()?;
    let report = run(&target.client, &reference).await?;
    println!(
        "pushed {reference}@{} ({} blobs, {} bytes sent)",
        report.digest,
        report.blobs.len(),
        report.bytes_uploaded()
    );
    Ok(report)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    example(&support::connect().await?).await?;
    Ok(())
}
