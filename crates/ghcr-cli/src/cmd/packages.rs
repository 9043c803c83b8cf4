//! `packages ls OWNER`.

use ghcr::types::Visibility;

use crate::cli::PackagesCommand;
use crate::context::Setup;
use crate::output::time;

pub(crate) async fn run(setup: Setup, command: PackagesCommand) -> anyhow::Result<()> {
    let PackagesCommand::Ls {
        owner,
        kind,
        visibility,
    } = command;
    let visibility = visibility.as_deref().map(Visibility::parse);
    let context = setup.connect(&[])?;
    let owner = context.owner(&owner, kind).await?;
    let packages = context
        .client
        .packages()
        .list_packages(&owner, visibility.as_ref())
        .await?;
    if context.out.is_json() {
        context.out.value(&packages);
    } else {
        for package in &packages {
            // api.github.com's list answer leaves `version_count` out.
            let count = package
                .version_count
                .map_or_else(|| "?".to_owned(), |n| n.to_string());
            let visibility = package.visibility.as_ref().map_or("?", |v| v.as_str());
            let updated = package.updated_at.map_or_else(|| "?".to_owned(), time);
            context.out.line(format!(
                "{}  {visibility}  {count} version(s)  updated {updated}",
                package.name
            ));
        }
        if packages.is_empty() {
            context
                .out
                .note(format!("no container packages for {owner}"));
        }
    }
    context.finish()
}
