//! `rm REF`: on GitHub's registry the package version through the Packages
//! API (ghcr.io refuses registry deletes); elsewhere the tag or manifest.

use ghcr::packages::DeleteTags;
use serde_json::json;

use crate::cli::OwnerKind;
use crate::context::Setup;
use crate::output::{list, time};

pub(crate) async fn run(
    setup: Setup,
    reference: &str,
    force: bool,
    kind: OwnerKind,
) -> anyhow::Result<()> {
    let reference = setup.reference(reference)?;
    let context = setup.connect(&[reference.registry()])?;
    if context.client.is_packages_registry(&reference) {
        let owner = context.owner(reference.owner(), kind).await?;
        let tags = if force {
            DeleteTags::All
        } else {
            DeleteTags::OnlyNamed
        };
        let deleted = context
            .client
            .packages()
            .delete_image(owner.owner_type(), &reference, tags)
            .await?;
        let package = format!("{}/{}", reference.owner(), reference.package_name());
        let until = time(deleted.restore.restorable_until);
        context.out.result(
            || {
                format!(
                    "deleted version {} ({}) of {package}, tags: {}\nundo before {until}: ghcr versions restore {package} {}",
                    deleted.version_id,
                    deleted.digest,
                    list(&deleted.tags),
                    deleted.version_id
                )
            },
            || {
                json!({
                    "reference": reference.to_string(),
                    "version_id": deleted.version_id.0,
                    "digest": deleted.digest.as_str(),
                    "tags": deleted.tags,
                    "restorable_until": until,
                })
            },
        );
        return context.finish();
    }
    let registry = context.client.registry();
    let whole = force || reference.digest().is_some();
    let digest = registry.resolve_digest(&reference).await?;
    if whole {
        registry.delete_manifest(&reference).await?;
    } else {
        registry.delete_tag(&reference).await?;
    }
    context.out.result(
        || {
            if whole {
                format!(
                    "deleted manifest {digest} of {}",
                    reference.without_tag_or_digest()
                )
            } else {
                format!("deleted tag {reference} (manifest {digest} kept)")
            }
        },
        || {
            json!({
                "reference": reference.to_string(),
                "digest": digest.as_str(),
                "deleted": if whole { "manifest" } else { "tag" },
            })
        },
    );
    context.finish()
}
