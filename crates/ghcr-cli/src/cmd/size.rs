//! `size REF`: an image's size (configs and layers), per platform.

use std::fmt::Write as _;

use serde_json::json;

use crate::context::Setup;
use crate::output::bytes;

pub(crate) async fn run(setup: Setup, reference: &str) -> anyhow::Result<()> {
    let reference = setup.reference(reference)?;
    let context = setup.connect(&[reference.registry()])?;
    let size = context.client.registry().image_size(&reference).await?;
    context.out.result(
        || {
            let mut text = format!("{reference} {}: {} ({} bytes)", size.digest, bytes(size.total), size.total);
            let per_platform = size.platforms.iter().any(|p| p.platform.is_some());
            for platform in size.platforms.iter().filter(|_| per_platform) {
                let name = platform
                    .platform
                    .as_ref()
                    .map_or_else(|| "unknown platform".to_owned(), ToString::to_string);
                let _ = write!(text, "\n  {name}: {} ({} bytes)", bytes(platform.size), platform.size);
            }
            text
        },
        || {
            let platforms: Vec<_> = size
                .platforms
                .iter()
                .map(|p| json!({"platform": p.platform, "digest": p.digest.as_str(), "size": p.size}))
                .collect();
            json!({
                "reference": reference.to_string(),
                "digest": size.digest.as_str(),
                "total": size.total,
                "platforms": platforms,
            })
        },
    );
    context.finish()
}
