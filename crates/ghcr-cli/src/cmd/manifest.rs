//! `manifest`, `digest` and `config`: reading what a reference names.

use std::io::IsTerminal as _;

use ghcr::types::{Manifest, Platform, Reference};
use serde_json::{Value, json};

use crate::cli::PlatformRef;
use crate::context::{Context, Setup, platform};
use crate::exit::usage;

/// The largest config blob printed.
const MAX_CONFIG: usize = 16 * 1024 * 1024;

/// The manifest `reference` names, narrowed to `platform` when given.
async fn fetch(
    context: &Context,
    reference: &Reference,
    platform: Option<&Platform>,
) -> anyhow::Result<Manifest> {
    let registry = context.client.registry();
    Ok(match platform {
        Some(platform) => registry.get_platform_manifest(reference, platform).await?,
        None => registry.get_manifest(reference).await?,
    })
}

/// Bytes on stdout, with a newline after them on a terminal only (so that
/// `ghcr manifest X | sha256sum` hashes exactly the manifest).
fn print_exact(context: &Context, bytes: &[u8]) {
    if context.out.raw(bytes) && std::io::stdout().is_terminal() {
        context.out.raw(b"\n");
    }
}

fn parsed(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

pub(crate) async fn manifest(setup: Setup, target: &PlatformRef) -> anyhow::Result<()> {
    let reference = setup.reference(&target.reference)?;
    let platform = platform(target.platform.as_deref())?;
    let context = setup.connect(&[reference.registry()])?;
    let manifest = fetch(&context, &reference, platform.as_ref()).await?;
    if context.out.is_json() {
        context.out.value(&json!({
            "reference": reference.to_string(),
            "digest": manifest.digest().as_str(),
            "media_type": manifest.media_type().as_str(),
            "size": manifest.size(),
            "manifest": parsed(manifest.bytes()),
        }));
    } else {
        print_exact(&context, manifest.bytes());
    }
    context.finish()
}

pub(crate) async fn digest(setup: Setup, target: &PlatformRef) -> anyhow::Result<()> {
    let reference = setup.reference(&target.reference)?;
    let platform = platform(target.platform.as_deref())?;
    let context = setup.connect(&[reference.registry()])?;
    let digest = match &platform {
        Some(platform) => fetch(&context, &reference, Some(platform))
            .await?
            .digest()
            .clone(),
        None => context.client.registry().resolve_digest(&reference).await?,
    };
    context.out.result(
        || digest.to_string(),
        || json!({"reference": reference.to_string(), "digest": digest.as_str()}),
    );
    context.finish()
}

pub(crate) async fn config(setup: Setup, target: &PlatformRef) -> anyhow::Result<()> {
    let reference = setup.reference(&target.reference)?;
    let platform = platform(target.platform.as_deref())?;
    let context = setup.connect(&[reference.registry()])?;
    let manifest = fetch(&context, &reference, platform.as_ref()).await?;
    if manifest.is_index() {
        let offered: Vec<String> = manifest
            .platforms()
            .iter()
            .map(ToString::to_string)
            .collect();
        return Err(usage(format!(
            "{reference} is a multi-platform image; choose one with --platform ({})",
            offered.join(", ")
        )));
    }
    let Some(descriptor) = manifest.config() else {
        return Err(usage(format!("{reference} has no config blob")));
    };
    let digest = ghcr::types::Digest::try_from(descriptor.digest())?;
    let repository = reference.without_tag_or_digest();
    let bytes = context
        .client
        .registry()
        .get_blob_bytes(&repository, &digest, MAX_CONFIG)
        .await?;
    if context.out.is_json() {
        context.out.value(&json!({
            "reference": reference.to_string(),
            "digest": digest.as_str(),
            "config": parsed(&bytes),
        }));
    } else {
        print_exact(&context, &bytes);
    }
    context.finish()
}
