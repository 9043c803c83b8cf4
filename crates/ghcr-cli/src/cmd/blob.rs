//! `blob REPO@DIGEST`: a blob to stdout (verified as it streams: a wrong
//! blob ends with an error instead of its last bytes) or into a file
//! (kept only once verified).

use std::path::Path;

use futures_util::StreamExt as _;
use ghcr::registry::Progress;
use serde_json::json;

use crate::context::Setup;
use crate::exit::usage;

pub(crate) async fn run(
    setup: Setup,
    reference: &str,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let reference = setup.reference(reference)?;
    let Some(digest) = reference.digest().cloned() else {
        return Err(usage(format!(
            "{reference} names no blob: give REPOSITORY@DIGEST"
        )));
    };
    if setup.out.is_json() && output.is_none() {
        return Err(usage(
            "blob writes the blob's bytes; with --json give -o FILE",
        ));
    }
    let repository = reference.without_tag_or_digest();
    let context = setup.connect(&[repository.registry()])?;
    let registry = context.client.registry();
    if let Some(path) = output {
        let size = registry
            .download_blob(&repository, &digest, None, path, &Progress::none())
            .await?;
        context.out.result(
            || {
                format!(
                    "wrote {size} bytes of {digest} (verified) to {}",
                    path.display()
                )
            },
            || json!({"digest": digest.as_str(), "size": size, "path": path.display().to_string()}),
        );
    } else {
        let mut stream = registry.get_blob(&repository, &digest).await?;
        // Stop reading once stdout takes no more (`| head -c`, a full disk).
        while let Some(chunk) = stream.next().await {
            if !context.out.raw(&chunk?) {
                break;
            }
        }
    }
    context.finish()
}
