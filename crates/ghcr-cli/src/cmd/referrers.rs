//! `referrers REF`: signatures, SBOMs and attestations attached to an image.

use std::fmt::Write as _;

use ghcr::registry::ReferrersSource;
use serde_json::json;

use crate::context::Setup;

pub(crate) async fn run(
    setup: Setup,
    reference: &str,
    artifact_type: Option<&str>,
) -> anyhow::Result<()> {
    let reference = setup.reference(reference)?;
    let context = setup.connect(&[reference.registry()])?;
    let found = context
        .client
        .registry()
        .referrers(&reference, artifact_type)
        .await?;
    let source = match found.source {
        ReferrersSource::Api => "api",
        _ => "fallback_tag",
    };
    context.out.result(
        || {
            let from = match found.source {
                ReferrersSource::Api => "the referrers API".to_owned(),
                _ => format!("the {} tag", found.subject.referrers_tag()),
            };
            let mut text = format!(
                "{} referrer(s) of {} (from {from})",
                found.descriptors.len(),
                found.subject
            );
            for descriptor in &found.descriptors {
                let kind = descriptor
                    .artifact_type()
                    .as_ref()
                    .map_or_else(|| descriptor.media_type().to_string(), ToString::to_string);
                let _ = write!(
                    text,
                    "\n{}  {kind}  {} B",
                    descriptor.digest(),
                    descriptor.size()
                );
            }
            text
        },
        || {
            json!({
                "subject": found.subject.as_str(),
                "source": source,
                "referrers": found.descriptors,
            })
        },
    );
    context.finish()
}
