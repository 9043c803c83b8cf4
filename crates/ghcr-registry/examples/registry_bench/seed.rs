//! What the latency rows read, put on the run's registries with our
//! client before the rows run: a small image at `bench/small:v1`, and
//! its manifest under `tags` tags (`t00000`, …) in `bench/tags`, 32 PUTs
//! at once. And what a transfer row reads, put on its fresh registry.

use std::path::Path;

use futures_util::{StreamExt, TryStreamExt};
use ghcr_registry::TransferOptions;
use ghcr_types::Reference;

/// Manifest PUTs in flight while seeding the tags.
const AT_ONCE: usize = 32;

/// Seeds the registry at `host` from a one-layer layout written in `dir`;
/// `credentials` for a token-auth registry.
pub(crate) async fn seed(
    host: &str,
    dir: &Path,
    tags: usize,
    credentials: Option<(&str, &str)>,
) -> Result<(), String> {
    if !dir.join("index.json").is_file() {
        crate::layouts::write(dir, 1, 64 << 10, 7)?;
    }
    let (client, _) = crate::rows::client_with(host, credentials)?;
    let reference = |text: String| Reference::parse(&text).map_err(|e| e.to_string());
    let options = TransferOptions::new();
    for target in [
        format!("{host}/bench/small:v1"),
        format!("{host}/bench/tags:t00000"),
    ] {
        client
            .push_layout(dir, Some("v1"), &reference(target)?, &options)
            .await
            .map_err(|e| e.to_string())?;
    }
    let repository = reference(format!("{host}/bench/tags"))?;
    let manifest = client
        .get_manifest(&reference(format!("{host}/bench/tags:t00000"))?)
        .await
        .map_err(|e| e.to_string())?;
    futures_util::stream::iter(1..tags)
        .map(|n| {
            let (client, manifest) = (&client, &manifest);
            let target = repository
                .with_tag(&format!("t{n:05}"))
                .map_err(|e| e.to_string());
            async move {
                client
                    .put_manifest(&target?, manifest)
                    .await
                    .map_err(|e| e.to_string())
            }
        })
        .buffer_unordered(AT_ONCE)
        .try_for_each(|_| async { Ok(()) })
        .await
}

/// A transfer row's seeds pushed by our client onto the fresh registry at
/// `host`, one after another (untimed: before the row starts).
pub(crate) async fn row_seeds(
    host: &str,
    seeds: &[crate::plan::Seed],
    credentials: Option<(&str, &str)>,
) -> Result<(), String> {
    if seeds.is_empty() {
        return Ok(());
    }
    let (client, _) = crate::rows::client_with(host, credentials)?;
    let options = TransferOptions::new();
    for seed in seeds {
        let target =
            Reference::parse(&format!("{host}/{}", seed.target)).map_err(|e| e.to_string())?;
        client
            .push_layout(&seed.dir, Some(&seed.name), &target, &options)
            .await
            .map_err(|e| format!("seeding {}: {e}", seed.target))?;
    }
    Ok(())
}
