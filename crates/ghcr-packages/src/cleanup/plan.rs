//! The cleanup plan: every version with keep or delete and the reason,
//! computed before anything is deleted. The decisions here are pure; the
//! plan is built from the policy's decisions, GitHub's refusal rules, and
//! the digests reachable from kept versions.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ghcr_types::{Digest, Owner, PackageVersion, PackageVersionId};
use time::OffsetDateTime;

use super::parts::PartsCache;
use super::protect::Via;

/// How a reachable digest hangs off the version that keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Link {
    /// Listed in an index (a platform manifest, an attestation manifest, a
    /// nested index).
    IndexChild,
    /// The `sha256-<hex>` referrers index (or a cosign `.sig`/`.att` tag) of a digest.
    ReferrerIndex,
    /// An artifact listed in a referrers index (signature, SBOM, attestation).
    Referrer,
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::IndexChild => "listed in index",
            Self::ReferrerIndex => "the referrers tag of",
            Self::Referrer => "an artifact attached through",
        })
    }
}

/// Why a version is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeepReason {
    /// One of the newest N.
    Newest {
        /// Its position, from 1.
        rank: usize,
    },
    /// A tag matches a keep pattern.
    TagMatches {
        /// The tag.
        tag: String,
        /// The pattern.
        pattern: String,
    },
    /// Created less than `age` ago.
    NewerThan {
        /// The policy's age.
        age: Duration,
    },
    /// The policy does not let the cleanup delete this kind of version.
    OutOfScope,
    /// Deleting it would also delete this tag, which no delete pattern matches.
    AlsoTagged {
        /// The tag.
        tag: String,
    },
    /// Its name is not a manifest digest: not a container version.
    NotAnImage,
    /// GitHub refuses to delete the last tagged version of a package.
    LastTagged,
    /// GitHub refuses to delete the last version of a package.
    LastVersion,
    /// A kept version references it; deleting it would break that image.
    Reachable {
        /// The kept version the chain starts at.
        root: PackageVersionId,
        /// The manifest that references it directly.
        parent: Digest,
        /// How.
        link: Link,
    },
    /// A resumed run deletes only what the interrupted run planned to.
    NotInResumedPlan,
    /// A version whose deletion failed references it, so it stays too.
    ReferencedByFailed {
        /// The version GitHub did not delete.
        root: PackageVersionId,
        /// The manifest that references it directly.
        parent: Digest,
        /// How.
        link: Link,
    },
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Newest { rank } => write!(f, "one of the newest (#{rank})"),
            Self::TagMatches { tag, pattern } => write!(f, "tag {tag} matches keep pattern `{pattern}`"),
            Self::NewerThan { age } => write!(f, "created less than {} ago", ghcr_types::format_span(*age)),
            Self::OutOfScope => f.write_str("not a kind of version this policy deletes"),
            Self::AlsoTagged { tag } => write!(
                f,
                "also tagged {tag}, which no delete pattern matches (deleting the version would delete it)"
            ),
            Self::NotAnImage => f.write_str("its name is not a manifest digest"),
            Self::LastTagged => f.write_str(
                "GitHub refuses to delete a package's last tagged version; to delete every version, delete the package (--delete-package)",
            ),
            Self::LastVersion => f.write_str(
                "GitHub refuses to delete a package's last version; to delete every version, delete the package (--delete-package)",
            ),
            Self::NotInResumedPlan => {
                f.write_str("the interrupted run being resumed did not plan to delete it")
            }
            Self::Reachable { root, parent, link } => {
                write!(f, "{link} {parent}, kept through version {root}")
            }
            Self::ReferencedByFailed { root, parent, link } => write!(
                f,
                "{link} {parent}, which stays because deleting version {root} failed"
            ),
        }
    }
}

/// Why a version is deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeleteReason {
    /// Untagged, and no kept version references it.
    Untagged,
    /// Carries only referrer tags of an image that is not kept.
    ReferrerTagsOnly,
    /// Every tag matches a delete pattern (`tag` and `pattern` name one).
    TagsMatch {
        /// A tag.
        tag: String,
        /// The pattern it matches.
        pattern: String,
    },
    /// Tagged, but no keep rule keeps it.
    NotRetained,
}

impl fmt::Display for DeleteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Untagged => f.write_str("untagged and referenced by no kept version"),
            Self::ReferrerTagsOnly => {
                f.write_str("only referrer tags, of an image that is not kept")
            }
            Self::TagsMatch { tag, pattern } => write!(
                f,
                "tag {tag} matches delete pattern `{pattern}` and no keep rule applies"
            ),
            Self::NotRetained => f.write_str("no keep rule applies"),
        }
    }
}

/// The decision on one version.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// It stays.
    Keep(KeepReason),
    /// It goes.
    Delete(DeleteReason),
}

impl Decision {
    /// Whether the version is to be deleted.
    pub fn is_delete(&self) -> bool {
        matches!(self, Self::Delete(_))
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keep(reason) => write!(f, "keep: {reason}"),
            Self::Delete(reason) => write!(f, "delete: {reason}"),
        }
    }
}

/// One version and what the plan does with it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PlanEntry {
    /// The version, as listed.
    pub version: PackageVersion,
    /// Keep or delete, and why.
    pub decision: Decision,
}

/// What a cleanup will do (a dry run), for one package.
#[derive(Clone)]
#[non_exhaustive]
pub struct CleanupPlan {
    /// The owner.
    pub owner: Owner,
    /// The package.
    pub package: String,
    /// When the plan was made (the "now" of age rules).
    pub planned_at: OffsetDateTime,
    /// Every active version, newest first.
    pub entries: Vec<PlanEntry>,
    pub(crate) policy: super::RetentionPolicy,
    /// The parts of the manifests read (never their bodies), for the
    /// walks of the execution.
    pub(crate) manifests: Arc<PartsCache>,
}

impl fmt::Debug for CleanupPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CleanupPlan")
            .field("owner", &self.owner)
            .field("package", &self.package)
            .field("planned_at", &self.planned_at)
            .field("entries", &self.entries)
            .finish_non_exhaustive()
    }
}

impl CleanupPlan {
    /// The versions to delete.
    pub fn to_delete(&self) -> impl Iterator<Item = &PlanEntry> {
        self.entries.iter().filter(|e| e.decision.is_delete())
    }

    /// The versions to keep.
    pub fn to_keep(&self) -> impl Iterator<Item = &PlanEntry> {
        self.entries.iter().filter(|e| !e.decision.is_delete())
    }

    /// The decision on a version.
    pub fn decision(&self, id: PackageVersionId) -> Option<&Decision> {
        self.entries
            .iter()
            .find(|e| e.version.id == id)
            .map(|e| &e.decision)
    }
}

impl fmt::Display for CleanupPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "cleanup plan for package {} of {}: delete {}, keep {}",
            self.package,
            self.owner,
            self.to_delete().count(),
            self.to_keep().count()
        )?;
        for entry in &self.entries {
            let tags = entry.version.tags().join(",");
            writeln!(
                f,
                "  {} {} [{}] {}",
                entry.version.id, entry.version.name, tags, entry.decision
            )?;
        }
        Ok(())
    }
}

/// GitHub refuses to delete the last tagged version and the last version:
/// when the decisions would, the newest such candidate is kept instead.
pub(crate) fn keep_what_github_refuses(
    versions: &[PackageVersion],
    decisions: &mut [Result<KeepReason, DeleteReason>],
) {
    let newest_candidate = |decisions: &[Result<KeepReason, DeleteReason>],
                            wanted: &dyn Fn(&PackageVersion) -> bool| {
        versions
            .iter()
            .enumerate()
            .filter(|(index, version)| decisions[*index].is_err() && wanted(version))
            .max_by(|(_, a), (_, b)| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)))
            .map(|(index, _)| index)
    };
    let tagged_kept = versions
        .iter()
        .zip(decisions.iter())
        .any(|(version, decision)| decision.is_ok() && version.is_tagged());
    if !tagged_kept {
        let named = |v: &PackageVersion| super::policy::name_tags(v).next().is_some();
        let index = newest_candidate(decisions, &named)
            .or_else(|| newest_candidate(decisions, &PackageVersion::is_tagged));
        if let Some(index) = index {
            decisions[index] = Ok(KeepReason::LastTagged);
        }
    }
    if !versions.is_empty()
        && decisions.iter().all(Result::is_err)
        && let Some(index) = newest_candidate(decisions, &|_| true)
    {
        decisions[index] = Ok(KeepReason::LastVersion);
    }
}

/// Candidates that a kept version reaches are kept, with the chain.
pub(crate) fn protect_reached(
    versions: &[PackageVersion],
    decisions: Vec<Result<KeepReason, DeleteReason>>,
    reached: &HashMap<Digest, Via>,
) -> Vec<Decision> {
    versions
        .iter()
        .zip(decisions)
        .map(|(version, decision)| match decision {
            Ok(keep) => Decision::Keep(keep),
            Err(delete) => {
                let via = version
                    .digest()
                    .ok()
                    .and_then(|digest| reached.get(&digest));
                match via {
                    Some(via) => Decision::Keep(KeepReason::Reachable {
                        root: via.root,
                        parent: via.parent.clone(),
                        link: via.link,
                    }),
                    None => Decision::Delete(delete),
                }
            }
        })
        .collect()
}
