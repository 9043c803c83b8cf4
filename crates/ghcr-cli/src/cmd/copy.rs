//! `cp SRC DST`: an image within or across registries.

use ghcr::registry::TransferOptions;
use serde_json::json;

use super::push::{blob_summary, blobs_json};
use crate::context::{Setup, platform};
use crate::progress;

pub(crate) async fn run(
    setup: Setup,
    source: &str,
    target: &str,
    platform_text: Option<&str>,
) -> anyhow::Result<()> {
    let source = setup.reference(source)?;
    let target = setup.reference(target)?;
    let mut options = TransferOptions::new().progress(progress::bars());
    if let Some(platform) = platform(platform_text)? {
        options = options.platform(platform);
    }
    let context = setup.connect(&[source.registry(), target.registry()])?;
    let report = context
        .client
        .registry()
        .copy_image(&source, &target, &options)
        .await?;
    context.out.result(
        || {
            format!(
                "copied {source} to {target} {}\n{}",
                report.digest,
                blob_summary(&report.blobs)
            )
        },
        || {
            json!({
                "source": source.to_string(),
                "target": target.to_string(),
                "digest": report.digest.as_str(),
                "blobs": blobs_json(&report.blobs),
            })
        },
    );
    context.finish()
}
