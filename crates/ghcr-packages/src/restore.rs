//! Undo: restoring many versions in one call, paced like deletes, and the
//! instructions a destructive operation hands back.

use std::fmt;

use ghcr_types::{Owner, PackageVersionId};
use time::OffsetDateTime;

use crate::client::{PackagesClient, WRITE_POINTS};
use crate::pace::Pacer;

/// How long GitHub keeps deleted versions restorable.
pub const RESTORE_WINDOW: time::Duration = time::Duration::days(30);

/// One version an operation could not handle, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionFailure {
    /// The version.
    pub id: PackageVersionId,
    /// GitHub's status, when it answered.
    pub status: Option<u16>,
    /// What went wrong and what to do, as [`crate::Error`] says it.
    pub reason: String,
    /// Whether the operation may have happened all the same: its answer
    /// was lost ([`crate::Error::may_have_applied`]).
    pub may_have_applied: bool,
}

impl VersionFailure {
    pub(crate) fn new(id: PackageVersionId, error: &crate::Error) -> Self {
        Self {
            id,
            status: error.status(),
            reason: error.to_string(),
            may_have_applied: error.may_have_applied(),
        }
    }
}

/// What [`PackagesClient::restore_versions`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestoreReport {
    /// Versions restored.
    pub restored: Vec<PackageVersionId>,
    /// Versions that could not be restored.
    pub failed: Vec<VersionFailure>,
}

/// How to undo deletions: which version ids, and until when.
///
/// ```
/// use ghcr_packages::RestoreHint;
/// use ghcr_types::{Owner, PackageVersionId};
///
/// let hint = RestoreHint::new(
///     Owner::org("octo-org"),
///     "app",
///     vec![PackageVersionId(7), PackageVersionId(9)],
///     time::macros::datetime!(2026-01-01 12:00 UTC),
/// );
/// let text = hint.to_string();
/// assert!(text.contains("7, 9"));
/// assert!(text.contains("2026-01-31"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestoreHint {
    /// The owner.
    pub owner: Owner,
    /// The package.
    pub package: String,
    /// The deleted versions, and those that may have been deleted.
    pub ids: Vec<PackageVersionId>,
    /// Those of `ids` that may not have been deleted: the answer to their
    /// DELETE was lost. Restoring a version that was not deleted is
    /// harmless: GitHub changes nothing.
    pub uncertain: Vec<PackageVersionId>,
    /// The last moment GitHub restores them.
    pub restorable_until: OffsetDateTime,
}

impl RestoreHint {
    /// A hint for versions deleted at `deleted_at`.
    pub fn new(
        owner: Owner,
        package: &str,
        ids: Vec<PackageVersionId>,
        deleted_at: OffsetDateTime,
    ) -> Self {
        Self {
            owner,
            package: package.to_owned(),
            ids,
            uncertain: Vec::new(),
            restorable_until: deleted_at.saturating_add(RESTORE_WINDOW),
        }
    }

    /// Adds versions that may have been deleted (their answer was lost).
    #[must_use]
    pub(crate) fn with_uncertain(mut self, uncertain: Vec<PackageVersionId>) -> Self {
        self.ids.extend(uncertain.iter().copied());
        self.uncertain = uncertain;
        self
    }
}

impl fmt::Display for RestoreHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ids.is_empty() {
            return f.write_str("nothing was deleted, nothing to restore");
        }
        let ids: Vec<String> = self.ids.iter().map(ToString::to_string).collect();
        let until = self
            .restorable_until
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| self.restorable_until.to_string());
        write!(
            f,
            "to undo, restore version(s) {} of package {} of {} before {until} (GitHub keeps them 30 days): PackagesClient::restore_versions, or POST …/packages/container/{}/versions/ID/restore for each id",
            ids.join(", "),
            self.package,
            self.owner,
            crate::owner::encode_name(&self.package),
        )?;
        if !self.uncertain.is_empty() {
            let uncertain: Vec<String> = self.uncertain.iter().map(ToString::to_string).collect();
            write!(
                f,
                "; version(s) {} may have been deleted (the answer to the DELETE was lost): restoring a version that was not deleted is harmless",
                uncertain.join(", ")
            )?;
        }
        Ok(())
    }
}

impl PackagesClient {
    /// Restores each version, one by one within the secondary-limit budget,
    /// and reports each outcome; a version that cannot be restored does not
    /// stop the others.
    #[tracing::instrument(skip_all, fields(owner = %owner, package = %package))]
    pub async fn restore_versions(
        &self,
        owner: &Owner,
        package: &str,
        ids: &[PackageVersionId],
    ) -> RestoreReport {
        let mut pacer = Pacer::new(self.inner.write_points_per_minute, WRITE_POINTS);
        let mut report = RestoreReport::default();
        for id in ids {
            pacer.wait().await;
            match self.restore_version(owner, package, *id).await {
                Ok(()) => report.restored.push(*id),
                Err(error) => report.failed.push(VersionFailure::new(*id, &error)),
            }
        }
        report
    }
}
