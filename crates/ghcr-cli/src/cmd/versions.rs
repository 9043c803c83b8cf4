//! `versions ls|rm|restore OWNER/PKG` (`restore --journal FILE` is in `journal.rs`).

use ghcr::packages::{RestoreHint, VersionState};
use ghcr::types::PackageVersionId;
use serde_json::json;

use super::cleanup::restore_command;
use crate::cli::{VersionIds, VersionsCommand};
use crate::context::{Context, Setup, owner_and_package};
use crate::exit::{Code, failure, of_packages, reported, usage};
use crate::output::{list, time};

pub(crate) async fn run(setup: Setup, command: VersionsCommand) -> anyhow::Result<()> {
    match command {
        VersionsCommand::Ls {
            package,
            kind,
            deleted,
        } => {
            let (login, package) = owner_and_package(&package)?;
            let context = setup.connect(&[])?;
            let owner = context.owner(login, kind).await?;
            let state = if deleted {
                VersionState::Deleted
            } else {
                VersionState::Active
            };
            let versions = context
                .client
                .packages()
                .list_versions(&owner, package, state)
                .await?;
            if context.out.is_json() {
                context.out.value(&versions);
            } else {
                for version in &versions {
                    let when = version.deleted_at.map_or_else(
                        || format!("created {}", time(version.created_at)),
                        |at| format!("deleted {}", time(at)),
                    );
                    context.out.line(format!(
                        "{}  {}  {}  {when}",
                        version.id,
                        version.name,
                        list(version.tags())
                    ));
                }
            }
            context.finish()
        }
        VersionsCommand::Rm(target) => change(setup, &target, Change::Delete).await,
        VersionsCommand::Restore(target) => match (target.journal, target.package) {
            (Some(journal), _) => super::journal::restore(setup, &journal).await,
            (None, Some(package)) => {
                let target = VersionIds {
                    package,
                    ids: target.ids,
                    kind: target.kind,
                };
                change(setup, &target, Change::Restore).await
            }
            (None, None) => Err(usage("name OWNER/PKG and version ids, or --journal FILE")),
        },
    }
}

/// What `change` does to each version.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    Delete,
    Restore,
}

/// Deletes or restores each version; one that fails does not stop the
/// others, and the exit code is the first failure's.
async fn change(setup: Setup, target: &VersionIds, change: Change) -> anyhow::Result<()> {
    let (login, package) = owner_and_package(&target.package)?;
    let context = setup.connect(&[])?;
    let owner = context.owner(login, target.kind).await?;
    let packages = context.client.packages();
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for id in target.ids.iter().copied().map(PackageVersionId) {
        let outcome = match change {
            Change::Delete => packages.delete_version(&owner, package, id).await,
            Change::Restore => packages.restore_version(&owner, package, id).await,
        };
        match outcome {
            Ok(()) => done.push(id),
            Err(error) => failed.push((id, error)),
        }
    }
    let verb = match change {
        Change::Delete => "deleted",
        Change::Restore => "restored",
    };
    let undo = (change == Change::Delete && !done.is_empty()).then(|| {
        let hint = RestoreHint::new(
            owner.clone(),
            package,
            done.clone(),
            time::OffsetDateTime::now_utc(),
        );
        (
            time(hint.restorable_until),
            restore_command(&owner, package, &done),
        )
    });
    if context.out.is_json() {
        let failures: Vec<_> = failed
            .iter()
            .map(|(id, error)| json!({"id": id.0, "status": error.status(), "error": error.to_string()}))
            .collect();
        let ids: Vec<u64> = done.iter().map(|id| id.0).collect();
        let mut value = json!({ verb: ids, "failed": failures });
        if let Some((until, command)) = &undo {
            value["restorable_until"] = json!(until);
            value["restore"] = json!(command);
        }
        context.out.value(&value);
    } else {
        for id in &done {
            context.out.line(format!("{verb} version {id}"));
        }
        if let Some((until, command)) = &undo {
            context.out.note(format!("undo before {until}: {command}"));
        }
    }
    context.finish()?;
    let Some((_, first)) = failed.first() else {
        return Ok(());
    };
    let code = of_packages(first);
    let message = failed
        .iter()
        .map(|(_, error)| error.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    Err(failed_after_result(&context, code, message))
}

/// A failure after the command printed its result: under --json that
/// result already lists the failures, so only the exit code and stderr
/// carry it.
pub(crate) fn failed_after_result(context: &Context, code: Code, message: String) -> anyhow::Error {
    if context.out.is_json() {
        reported(code, message)
    } else {
        failure(code, message)
    }
}
