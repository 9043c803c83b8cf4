//! The policy file of `ghcr serve`: a schedule and retention policies per
//! package, in TOML. Unknown keys are errors, so a typo cannot turn into a
//! policy that deletes more than meant.
//!
//! ```toml
//! interval = "24h"        # how often the policies run; the first run is at start
//! dry_run = false         # true: plan and log only
//!
//! [[policy]]
//! owner = "octo-org"
//! kind = "org"            # or "user"; asked of the API when left out
//! package = "app"         # or "*" for every container package of the owner
//! only_untagged = true
//! keep_newer_than = "7d"
//! keep_newest = 10
//! keep_tags = ['^v\d+\.\d+\.\d+$']
//! only_tags_matching = ["pr-.*"]
//!
//! [[sync]]                # repositories mirrored on the same schedule,
//! source = "docker.io/library/alpine"   # after the policies (see sync_pairs.rs)
//! target = "ghcr.io/octo-org/alpine"
//! ```

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use ghcr::packages::{PackageSelection, RetentionPolicy};
use serde::Deserialize;

use crate::exit::usage;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    interval: String,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    policy: Vec<Entry>,
    /// Repositories to sync on the same schedule.
    #[serde(default)]
    sync: Vec<crate::cmd::sync_pairs::Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    owner: String,
    #[serde(default)]
    kind: Option<Kind>,
    /// One package, or a glob (`app-*`, `*`).
    #[serde(default)]
    package: Option<String>,
    /// Globs, `!` ones leaving packages out (`["*", "!legacy-*"]`).
    #[serde(default)]
    packages: Vec<String>,
    #[serde(default)]
    only_untagged: bool,
    #[serde(default)]
    only_tags_matching: Vec<String>,
    #[serde(default)]
    keep_newest: Option<usize>,
    #[serde(default)]
    keep_tags: Vec<String>,
    #[serde(default)]
    keep_newer_than: Option<String>,
}

/// A user or an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    User,
    Org,
}

/// Which packages a job cleans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Packages {
    One(String),
    All,
    /// Those the globs choose.
    Matching(PackageSelection),
}

/// One policy, ready to run.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    pub(crate) owner: String,
    pub(crate) kind: Option<Kind>,
    pub(crate) packages: Packages,
    pub(crate) policy: RetentionPolicy,
}

/// The whole file, ready to run.
#[derive(Clone, Debug)]
pub(crate) struct Schedule {
    pub(crate) interval: Duration,
    pub(crate) dry_run: bool,
    pub(crate) jobs: Vec<Job>,
    /// Sync pairs, run after the retention policies.
    pub(crate) syncs: Vec<crate::cmd::sync_pairs::Pair>,
}

/// Reads and checks a policy file.
impl Schedule {
    /// The registries the schedule talks to (for --plain-http): the
    /// configured one, which retention reads manifests from, and each sync
    /// pair's two.
    pub(crate) fn hosts<'a>(&'a self, configured: &'a str) -> Vec<&'a str> {
        let mut hosts = vec![configured];
        for pair in &self.syncs {
            hosts.extend([pair.source.registry(), pair.target.registry()]);
        }
        hosts
    }
}

/// References without a registry are on `registry`.
pub(crate) fn load(path: &Path, registry: &str) -> anyhow::Result<Schedule> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("the policy file {} cannot be read", path.display()))?;
    parse_in(&text, registry)
        .map_err(|error| usage(format!("policy file {}: {error}", path.display())))
}

/// Parses and checks a policy file's text (references on ghcr.io).
#[cfg(test)]
pub(crate) fn parse(text: &str) -> Result<Schedule, String> {
    parse_in(text, ghcr::types::DEFAULT_REGISTRY)
}

/// Parses and checks a policy file's text.
pub(crate) fn parse_in(text: &str, registry: &str) -> Result<Schedule, String> {
    let file: File = toml::from_str(text).map_err(|error| error.to_string())?;
    let interval = crate::duration::parse(&file.interval).map_err(|e| format!("interval: {e}"))?;
    if file.policy.is_empty() && file.sync.is_empty() {
        return Err("no [[policy]] and no [[sync]]: nothing to run".into());
    }
    let syncs = crate::cmd::sync_pairs::pairs(file.sync, registry)?;
    let jobs = file
        .policy
        .into_iter()
        .enumerate()
        .map(|(index, entry)| job(entry).map_err(|error| format!("policy #{}: {error}", index + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Schedule {
        interval,
        dry_run: file.dry_run,
        jobs,
        syncs,
    })
}

fn job(entry: Entry) -> Result<Job, String> {
    let mut builder = RetentionPolicy::builder();
    if entry.only_untagged {
        builder = builder.only_untagged();
    }
    for pattern in &entry.only_tags_matching {
        builder = builder.only_tags_matching(pattern);
    }
    if let Some(count) = entry.keep_newest {
        builder = builder.keep_newest(count);
    }
    for pattern in &entry.keep_tags {
        builder = builder.keep_tags(pattern);
    }
    if let Some(age) = &entry.keep_newer_than {
        builder = builder.keep_newer_than(crate::duration::parse(age)?);
    }
    let policy = builder.build().map_err(|error| error.to_string())?;
    if entry.owner.trim().is_empty() {
        return Err("owner must not be empty".into());
    }
    let patterns: Vec<String> = match (entry.package, entry.packages) {
        (Some(one), many) if many.is_empty() => vec![one],
        (None, many) if !many.is_empty() => many,
        (None, _) => return Err(
            "name the packages: `package = \"app\"` or `packages = [\"app-*\", \"!app-legacy\"]`"
                .into(),
        ),
        (Some(_), _) => return Err("give `package` or `packages`, not both".into()),
    };
    let selection = PackageSelection::parse(&patterns).map_err(|error| error.to_string())?;
    let packages = match selection.single() {
        _ if selection == PackageSelection::all() => Packages::All,
        Some(name) => Packages::One(name.to_owned()),
        None => Packages::Matching(selection),
    };
    Ok(Job {
        owner: entry.owner,
        kind: entry.kind,
        packages,
        policy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
interval = "6h"

[[policy]]
owner = "octo-org"
kind = "org"
package = "app"
only_untagged = true
keep_newer_than = "7d"

[[policy]]
owner = "octo"
package = "*"
keep_newest = 5
keep_tags = ['^v\d+']

[[policy]]
owner = "octo"
packages = ["app-*", "!app-legacy"]
only_untagged = true
"#;

    #[test]
    fn a_policy_file_reads() {
        let schedule = parse(GOOD).unwrap();
        assert_eq!(schedule.interval, Duration::from_secs(6 * 3600));
        assert!(!schedule.dry_run);
        assert_eq!(schedule.jobs.len(), 3);
        assert_eq!(schedule.jobs[0].kind, Some(Kind::Org));
        assert_eq!(schedule.jobs[0].packages, Packages::One("app".into()));
        assert_eq!(schedule.jobs[1].kind, None);
        assert_eq!(schedule.jobs[1].packages, Packages::All);
        let Packages::Matching(selection) = &schedule.jobs[2].packages else {
            panic!("{:?}", schedule.jobs[2].packages);
        };
        assert!(selection.matches("app-web") && !selection.matches("app-legacy"));
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        for (text, expected) in [
            ("interval = \"6h\"", "no [[policy]] and no [[sync]]"),
            (
                "interval = \"1h\"\n[[sync]]\nsource=\"o/a\"\ntarget=\"o/a\"",
                "sync #1: target `o/a` is the source",
            ),
            (
                "interval = \"soon\"\n[[policy]]\nowner=\"o\"\npackage=\"p\"\nonly_untagged=true",
                "interval",
            ),
            (
                "interval = \"1h\"\n[[policy]]\nowner=\"o\"\npackage=\"p\"",
                "policy #1: invalid retention policy",
            ),
            (
                "interval = \"1h\"\n[[policy]]\nowner=\"o\"\npackage=\"p\"\nonly_untagged=true\nkeep_newset=3",
                "unknown field",
            ),
            (
                "interval = \"1h\"\n[[policy]]\nowner=\"o\"\npackage=\"p\"\nkind=\"team\"\nonly_untagged=true",
                "unknown variant",
            ),
            (
                "interval = \"1h\"\n[[policy]]\nowner=\"o\"\npackage=\"p\"\nkeep_tags=[\"(\"]",
                "not a valid regular expression",
            ),
            (
                "interval = \"1h\"\n[[policy]]\nowner=\"\"\npackage=\"p\"\nonly_untagged=true",
                "must not be empty",
            ),
            (
                "interval = \"1h\"\n[[policy]]\nowner=\"o\"\nonly_untagged=true",
                "name the packages",
            ),
            (
                "interval = \"1h\"\n[[policy]]\nowner=\"o\"\npackage=\"p\"\npackages=[\"q\"]\nonly_untagged=true",
                "not both",
            ),
            (
                "interval = \"1h\"\n[[policy]]\nowner=\"o\"\npackages=[\"a b\"]\nonly_untagged=true",
                "no package name has",
            ),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
