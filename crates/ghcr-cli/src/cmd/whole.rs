//! `cleanup --delete-package`: a package whose every version the policy
//! deletes goes whole (GitHub keeps a package's last tagged version, so
//! deleting versions one by one cannot honour such a policy).

use std::path::Path;

use ghcr::packages::{CleanupPlan, PackageDeletion};
use ghcr::types::Owner;
use serde_json::{Value, json};

use crate::context::Context;

/// `ghcr packages restore LOGIN/PKG [--org]`.
pub(crate) fn restore_command(owner: &Owner, package: &str) -> String {
    let (login, org) = super::cleanup::owner_words(owner);
    format!("ghcr packages restore {login}/{package}{org}")
}

/// What the plan says about deleting the package, for its text.
pub(crate) fn plan_note(plan: &CleanupPlan, delete_package: bool) -> Option<String> {
    if !plan.deletes_everything() {
        return None;
    }
    Some(if delete_package {
        format!(
            "  the policy deletes every version: with --yes, package {} itself is deleted (restorable for 30 days)",
            plan.package
        )
    } else {
        "  the policy deletes every version, but GitHub keeps a package's last tagged version: add --delete-package to delete the package itself (restorable for 30 days)".to_owned()
    })
}

/// A package deleted whole, as a line and as JSON.
pub(crate) struct Deleted {
    pub(crate) package: String,
    pub(crate) versions: usize,
    pub(crate) restore: String,
}

impl Deleted {
    pub(crate) fn text(&self) -> String {
        format!(
            "deleted package {} with its {} version(s)\nundo within 30 days: {}",
            self.package, self.versions, self.restore
        )
    }

    pub(crate) fn json(&self) -> Value {
        json!({"package": self.package, "versions": self.versions, "restore": self.restore})
    }
}

/// Deletes the plan's package if the policy deletes every version and the
/// package is still as planned; `None` when it stays (then its versions
/// are deleted one by one as planned). With `marker_dir`, a marker naming
/// the package is written (synced) before the DELETE, so that
/// `versions restore --journal DIR` restores it.
pub(crate) async fn delete_if_all_go(
    context: &Context,
    plan: &CleanupPlan,
    marker_dir: Option<&Path>,
) -> anyhow::Result<Option<Deleted>> {
    if !plan.deletes_everything() {
        return Ok(None);
    }
    if let Some(dir) = marker_dir {
        write_marker(dir, &plan.owner, &plan.package)?;
    }
    let outcome = context
        .client
        .packages()
        .delete_planned_package(plan)
        .await?;
    if let PackageDeletion::Deleted { versions } = outcome {
        return Ok(Some(Deleted {
            package: plan.package.clone(),
            versions,
            restore: restore_command(&plan.owner, &plan.package),
        }));
    }
    context.out.note(format!(
        "package {} changed since the plan: it stays, and its versions are deleted one by one as planned",
        plan.package
    ));
    Ok(None)
}

/// The marker's name for a package (`team/app` → `team_app.package.json`).
fn marker_path(dir: &Path, package: &str) -> std::path::PathBuf {
    dir.join(format!("{}.package.json", package.replace('/', "_")))
}

fn write_marker(dir: &Path, owner: &Owner, package: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let kind = if matches!(owner, Owner::Org(_)) {
        "org"
    } else {
        "user"
    };
    let text = json!({"owner": owner.login(), "kind": kind, "package": package}).to_string();
    let path = marker_path(dir, package);
    let mut file = std::fs::File::create(&path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// The packages a run folder's markers name (possibly deleted whole).
pub(crate) fn markers_in(dir: &Path) -> anyhow::Result<Vec<(Owner, String)>> {
    let mut found = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".package.json"))
        .collect();
    paths.sort();
    for path in paths {
        let value: Value = serde_json::from_slice(&std::fs::read(&path)?)
            .map_err(|err| anyhow::anyhow!("{} is not a package marker: {err}", path.display()))?;
        let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
        let (Some(login), Some(package)) = (field("owner"), field("package")) else {
            anyhow::bail!("{} is not a package marker", path.display());
        };
        let owner = if field("kind").as_deref() == Some("org") {
            Owner::org(&login)
        } else {
            Owner::user(&login)
        };
        found.push((owner, package));
    }
    Ok(found)
}
