//! Retention cleanup that never breaks an image (FR-VER-006).
//!
//! 1. [`RetentionPolicy`] decides, from tags and dates alone, which versions
//!    are kept and which may go (`policy.rs`, pure).
//! 2. GitHub's refusals are planned for: the last tagged version and the
//!    last version stay (`plan.rs`).
//! 3. Every digest reachable from a kept version is kept too, with the chain
//!    that reaches it: index children (platform and attestation manifests,
//!    nested indexes) and artifacts attached through `sha256-<hex>` tags
//!    (`protect.rs`). Manifests are read once per run, and only the
//!    digests they list are kept (`parts.rs`).
//! 4. [`PackagesClient::execute_cleanup`] deletes one version at a time
//!    within the secondary limit and reports each (`execute.rs`), and
//!    with a [`Journal`] records each before and after its DELETE, so a
//!    killed run can be resumed or undone (`journal/`, `resume.rs`).
//!
//! Nothing is deleted by [`PackagesClient::plan_cleanup`]: print the
//! [`CleanupPlan`] for a dry run.

mod execute;
mod journal;
mod parts;
mod plan;
mod policy;
mod protect;
mod recheck;
mod report;
mod resume;
mod run;
mod select;
mod whole;

pub use journal::{Journal, JournalSummary};
pub use plan::{CleanupPlan, Decision, DeleteReason, KeepReason, Link, PlanEntry};
pub use policy::{PolicySet, RetentionPolicy, RetentionPolicyBuilder};
pub use report::{CleanupReport, Outcome, ReportEntry};
pub use run::PLANS_AT_ONCE;
pub use select::PackageSelection;
pub use whole::PackageDeletion;

pub(crate) use policy::{name_tags, referrer_subject};

#[cfg(test)]
mod tests;
