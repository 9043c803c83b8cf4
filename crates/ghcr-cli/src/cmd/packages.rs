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
            context.out.line(format!(
                "{}  {}  {} version(s)  updated {}",
                package.name,
                package.visibility.as_str(),
                package.version_count,
                time(package.updated_at)
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
