//! Arguments of the GitHub commands: packages, versions, cleanup, vulns, gate.

use clap::{Args as ClapArgs, Subcommand};

/// Whether an account is a user or an organization; found out from the API
/// when neither flag is given.
#[derive(Debug, Clone, Copy, Default, ClapArgs)]
pub(crate) struct OwnerKind {
    /// The owner is an organization.
    #[arg(long, conflicts_with = "user")]
    pub(crate) org: bool,
    /// The owner is a user.
    #[arg(long)]
    pub(crate) user: bool,
}

/// `ghcr packages …`.
#[derive(Debug, Subcommand)]
pub(crate) enum PackagesCommand {
    /// List an account's container packages.
    Ls {
        /// The user or organization.
        owner: String,
        #[command(flatten)]
        kind: OwnerKind,
        /// Only packages of this visibility (public, private, internal).
        #[arg(long)]
        visibility: Option<String>,
    },
    /// Restore a package deleted within the last 30 days (`cleanup
    /// --delete-package` prints this command), if its name was not reused.
    Restore {
        /// `OWNER/PACKAGE`.
        #[arg(value_name = "OWNER/PKG")]
        package: String,
        #[command(flatten)]
        kind: OwnerKind,
    },
}

/// `ghcr versions …`.
#[derive(Debug, Subcommand)]
pub(crate) enum VersionsCommand {
    /// List a package's versions, newest first.
    Ls {
        /// `OWNER/PACKAGE`.
        #[arg(value_name = "OWNER/PKG")]
        package: String,
        #[command(flatten)]
        kind: OwnerKind,
        /// List deleted versions (restorable for 30 days) instead.
        #[arg(long)]
        deleted: bool,
    },
    /// Delete versions by id (each a digest with all its tags; restorable for 30 days).
    Rm(VersionIds),
    /// Restore versions deleted within the last 30 days (by id, or every
    /// version a cleanup journal shows deleted or possibly deleted).
    Restore(RestoreArgs),
}

/// Versions of one package, by id.
#[derive(Debug, ClapArgs)]
pub(crate) struct VersionIds {
    /// `OWNER/PACKAGE`.
    #[arg(value_name = "OWNER/PKG")]
    pub(crate) package: String,
    /// The version ids.
    #[arg(required = true)]
    pub(crate) ids: Vec<u64>,
    #[command(flatten)]
    pub(crate) kind: OwnerKind,
}

/// `ghcr versions restore …`: ids, or a cleanup's journal.
#[derive(Debug, ClapArgs)]
pub(crate) struct RestoreArgs {
    /// `OWNER/PACKAGE`.
    #[arg(value_name = "OWNER/PKG", required_unless_present = "journal")]
    pub(crate) package: Option<String>,
    /// The version ids.
    #[arg(required_unless_present = "journal")]
    pub(crate) ids: Vec<u64>,
    #[command(flatten)]
    pub(crate) kind: OwnerKind,
    /// Restore what the cleanup that wrote this journal deleted, or may
    /// have deleted (restoring a version that was not deleted is harmless);
    /// a folder (from `cleanup OWNER --package ...`): every journal in it.
    #[arg(long, value_name = "FILE|DIR", conflicts_with_all = ["package", "ids"])]
    pub(crate) journal: Option<std::path::PathBuf>,
}

/// `ghcr cleanup …`: a retention policy from flags.
#[derive(Debug, ClapArgs)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "each is a command-line flag of its own"
)]
pub(crate) struct CleanupArgs {
    /// `OWNER/PACKAGE`, or `OWNER` with `--package`.
    #[arg(value_name = "OWNER/PKG|OWNER")]
    pub(crate) package: String,
    /// With OWNER: the packages to clean, by glob (`*`, `app-*`; `!legacy-*`
    /// leaves some out; repeatable). One plan and report over all of them,
    /// and with --yes one journal folder (--journal DIR, --resume DIR) that
    /// `versions restore --journal DIR` undoes.
    #[arg(long = "package", value_name = "GLOB")]
    pub(crate) packages: Vec<String>,
    #[command(flatten)]
    pub(crate) kind: OwnerKind,
    /// Keep the N newest images the policy could delete (an index counts
    /// once: its platform manifests and attestations take no place).
    #[arg(long, value_name = "N")]
    pub(crate) keep_newest: Option<usize>,
    /// Keep versions with a tag matching this pattern (whole tag; repeatable).
    #[arg(long = "keep-tag", value_name = "RE")]
    pub(crate) keep_tags: Vec<String>,
    /// Keep versions younger than this (`90m`, `12h`, `30d`, `2w`).
    #[arg(long, value_name = "AGE")]
    pub(crate) keep_newer_than: Option<String>,
    /// Only delete untagged versions.
    #[arg(long)]
    pub(crate) only_untagged: bool,
    /// Only delete versions whose every tag matches this pattern (repeatable).
    #[arg(long = "only-tags-matching", value_name = "RE")]
    pub(crate) only_tags_matching: Vec<String>,
    /// When the policy deletes every version of a package, delete the
    /// package itself (GitHub refuses to delete its last tagged version;
    /// restorable for 30 days with `ghcr packages restore`). Done only while
    /// the package's versions and tags are exactly as planned.
    #[arg(long)]
    pub(crate) delete_package: bool,
    /// Show the plan and delete nothing (the default without --yes).
    #[arg(long, conflicts_with = "yes")]
    pub(crate) dry_run: bool,
    /// Delete what the plan deletes (Ctrl-C stops between deletions).
    #[arg(long)]
    pub(crate) yes: bool,
    /// With --yes: record each deletion in this journal file (a new file;
    /// default: a new file under $XDG_STATE_HOME/ghcr/cleanup or
    /// ~/.local/state/ghcr/cleanup), to resume or undo a run cut short.
    /// With --package: a folder, one journal per package.
    #[arg(
        long,
        value_name = "FILE|DIR",
        requires = "yes",
        conflicts_with = "resume"
    )]
    pub(crate) journal: Option<std::path::PathBuf>,
    /// With --yes: go on with the run this journal records (same package
    /// and policy flags); versions it may have deleted are looked at first,
    /// and none is deleted twice. With --package: the run's folder.
    #[arg(long, value_name = "FILE|DIR", requires = "yes")]
    pub(crate) resume: Option<std::path::PathBuf>,
}

/// `ghcr vulns …`.
#[derive(Debug, ClapArgs)]
pub(crate) struct VulnsArgs {
    /// The image.
    pub(crate) reference: String,
    /// Only findings at this severity or worse (unknown, low, medium, high, critical).
    #[arg(long, default_value = "unknown")]
    pub(crate) min_severity: String,
    /// The image's owner is an organization (names it right in messages).
    #[arg(long)]
    pub(crate) org: bool,
    /// When the registry holds no scan, also ask GitHub's attestations API
    /// (scans `actions/attest` stored without pushing them to the registry).
    #[arg(long)]
    pub(crate) github_attestations: bool,
    #[command(flatten)]
    pub(crate) policy: super::PolicyArgs,
}

/// `ghcr gate …`.
#[derive(Debug, ClapArgs)]
pub(crate) struct GateArgs {
    /// The image.
    pub(crate) reference: String,
    /// Block on findings at this severity or above (low, medium, high,
    /// critical), as grype's --fail-on.
    #[arg(
        long,
        value_name = "SEVERITY",
        required_unless_present = "max_severity",
        conflicts_with = "max_severity"
    )]
    pub(crate) fail_on: Option<String>,
    /// The former name of --fail-on, kept for one release (deprecated).
    #[arg(long, value_name = "SEVERITY", hide = true)]
    pub(crate) max_severity: Option<String>,
    /// The image's owner is an organization (names it right in messages).
    #[arg(long)]
    pub(crate) org: bool,
    /// When the registry holds no scan, also ask GitHub's attestations API
    /// (scans `actions/attest` stored without pushing them to the registry).
    #[arg(long)]
    pub(crate) github_attestations: bool,
    #[command(flatten)]
    pub(crate) policy: super::PolicyArgs,
}
