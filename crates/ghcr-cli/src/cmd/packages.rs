//! `packages ls OWNER`, `packages restore OWNER/PKG`.

use ghcr::types::Visibility;

use crate::cli::PackagesCommand;
use crate::context::Setup;
use crate::output::time;

pub(crate) async fn run(setup: Setup, command: PackagesCommand) -> anyhow::Result<()> {
    let (owner, kind, visibility) = match command {
        PackagesCommand::Ls {
            owner,
            kind,
            visibility,
        } => (owner, kind, visibility),
        PackagesCommand::Restore { package, kind } => return restore(setup, &package, kind).await,
    };
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

/// `packages restore OWNER/PKG`.
async fn restore(setup: Setup, package: &str, kind: crate::cli::OwnerKind) -> anyhow::Result<()> {
    let (login, name) = crate::context::owner_and_package(package)?;
    let context = setup.connect(&[])?;
    let owner = context.owner(login, kind).await?;
    context
        .client
        .packages()
        .restore_package(&owner, name)
        .await?;
    context.out.result(
        || format!("restored package {name} of {owner}"),
        || serde_json::json!({"restored": true, "owner": owner.to_string(), "package": name}),
    );
    context.finish()
}
