//! Retention policies, and the pure first decision on each version: keep
//! (with the rule that keeps it) or delete-candidate (with why it is one).
//! What kept versions reference is protected afterwards (`protect.rs`).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use ghcr_types::{Digest, PackageVersion};
use regex::Regex;
use time::OffsetDateTime;

use super::plan::{DeleteReason, KeepReason};
use crate::error::{Error, Result};

/// `<alg>-<hex>` (the OCI referrers tag schema) and cosign's legacy
/// `<alg>-<hex>.sig|.att|.sbom`: machinery attached to a digest, not names.
static REFERRER_TAG: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^(sha256|sha384|sha512)-([0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})(\.[a-z]+)?$")
        .ok()
});

/// The subject digest (`sha256:<hex>`) a referrer tag is attached to.
pub(crate) fn referrer_subject(tag: &str) -> Option<String> {
    let captures = REFERRER_TAG.as_ref()?.captures(tag)?;
    Some(format!(
        "{}:{}",
        captures.get(1)?.as_str(),
        captures.get(2)?.as_str()
    ))
}

/// A version's tags that are names (not referrer tags).
pub(crate) fn name_tags(version: &PackageVersion) -> impl Iterator<Item = &String> {
    version
        .tags()
        .iter()
        .filter(|tag| referrer_subject(tag).is_none())
}

/// Which versions a cleanup keeps and which it may delete.
///
/// Patterns are regular expressions matched against the whole tag
/// (`v1\..*` matches `v1.2`, not `xv1.2`), only against tags, never the
/// digest-valued version name, and never against referrer tags
/// (`sha256-<hex>`): those versions follow the image they are attached to.
///
/// ```
/// use std::time::Duration;
/// use ghcr_packages::RetentionPolicy;
///
/// // Delete untagged leftovers older than a day, but keep the 5 newest.
/// let policy = RetentionPolicy::builder()
///     .only_untagged()
///     .keep_newest(5)
///     .keep_newer_than(Duration::from_secs(24 * 3600))
///     .build()?;
/// # let _ = policy;
/// // Delete pull-request builds, keep release tags on any version.
/// let policy = RetentionPolicy::builder()
///     .only_tags_matching("pr-[0-9]+")
///     .keep_tags("v[0-9]+(\\.[0-9]+)*")
///     .build()?;
/// # let _ = policy;
/// // A policy that would delete everything is refused.
/// assert!(RetentionPolicy::builder().build().is_err());
/// # Ok::<(), ghcr_packages::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RetentionPolicy {
    keep_newest: Option<usize>,
    keep_tags: Vec<Regex>,
    keep_newer_than: Option<Duration>,
    delete_untagged: bool,
    delete_tags: Vec<Regex>,
}

/// Builds a [`RetentionPolicy`]; see there for how patterns match.
#[derive(Clone, Debug, Default)]
pub struct RetentionPolicyBuilder {
    keep_newest: Option<usize>,
    keep_tags: Vec<String>,
    keep_newer_than: Option<Duration>,
    delete_untagged: bool,
    delete_tags: Vec<String>,
}

impl RetentionPolicyBuilder {
    /// Keeps the `count` newest images the cleanup could delete (by
    /// creation time). Images, not their parts: a version another version
    /// of the package lists (the platform manifests and attestation
    /// manifests of an index, a nested index, the artifacts of a referrers
    /// index) takes no place among the `count`; it is kept when what lists
    /// it is kept. Without a scope only tagged versions are counted:
    /// untagged ones are parts of images or leftovers. Default: none.
    #[must_use]
    pub fn keep_newest(mut self, count: usize) -> Self {
        self.keep_newest = Some(count);
        self
    }

    /// Keeps versions with a tag matching `pattern`; may be given several
    /// times. Default: none.
    #[must_use]
    pub fn keep_tags(mut self, pattern: &str) -> Self {
        self.keep_tags.push(pattern.to_owned());
        self
    }

    /// Keeps versions created less than `age` ago. Default: none.
    #[must_use]
    pub fn keep_newer_than(mut self, age: Duration) -> Self {
        self.keep_newer_than = Some(age);
        self
    }

    /// Limits deletion to untagged versions (and versions carrying only
    /// referrer tags). Combined with [`RetentionPolicyBuilder::only_tags_matching`],
    /// either kind may be deleted. Default: every version may be.
    #[must_use]
    pub fn only_untagged(mut self) -> Self {
        self.delete_untagged = true;
        self
    }

    /// Limits deletion to versions whose every tag matches one of these
    /// patterns (deleting a version deletes all its tags, so a version that
    /// also carries another tag is kept); may be given several times.
    /// Default: every version may be.
    #[must_use]
    pub fn only_tags_matching(mut self, pattern: &str) -> Self {
        self.delete_tags.push(pattern.to_owned());
        self
    }

    /// Compiles the patterns and checks the policy can be meant.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPolicy`] for an invalid pattern, or a policy with no
    /// scope and no keep rule (it would delete every version: delete the
    /// package instead).
    pub fn build(self) -> Result<RetentionPolicy> {
        let compile = |patterns: Vec<String>| -> Result<Vec<Regex>> {
            patterns.iter().map(|pattern| anchored(pattern)).collect()
        };
        let policy = RetentionPolicy {
            keep_newest: self.keep_newest,
            keep_tags: compile(self.keep_tags)?,
            keep_newer_than: self.keep_newer_than,
            delete_untagged: self.delete_untagged,
            delete_tags: compile(self.delete_tags)?,
        };
        let scoped = policy.delete_untagged || !policy.delete_tags.is_empty();
        let keeps = policy.keep_newest.is_some_and(|n| n > 0)
            || !policy.keep_tags.is_empty()
            || policy.keep_newer_than.is_some();
        if !scoped && !keeps {
            return Err(Error::InvalidPolicy {
                reason: "with no scope (only_untagged, only_tags_matching) and no keep rule it would delete every version; add one, or delete the package".into(),
            });
        }
        Ok(policy)
    }
}

impl RetentionPolicy {
    /// Starts a builder.
    pub fn builder() -> RetentionPolicyBuilder {
        RetentionPolicyBuilder::default()
    }

    fn scoped(&self) -> bool {
        self.delete_untagged || !self.delete_tags.is_empty()
    }

    /// Whether the version is one the cleanup may delete at all; `Err`
    /// keeps it with the reason it is out of scope.
    fn scope(&self, version: &PackageVersion) -> std::result::Result<DeleteReason, KeepReason> {
        let names: Vec<&String> = name_tags(version).collect();
        if names.is_empty() {
            let reason = if version.tags().is_empty() {
                DeleteReason::Untagged
            } else {
                DeleteReason::ReferrerTagsOnly
            };
            return if !self.scoped() || self.delete_untagged {
                Ok(reason)
            } else {
                Err(KeepReason::OutOfScope)
            };
        }
        if !self.scoped() {
            return Ok(DeleteReason::NotRetained);
        }
        let matching = |tag: &String| self.delete_tags.iter().find(|p| p.is_match(tag));
        let Some((tag, pattern)) = names.iter().find_map(|tag| Some((*tag, matching(tag)?))) else {
            return Err(KeepReason::OutOfScope);
        };
        if let Some(unmatched) = names.iter().find(|tag| matching(tag).is_none()) {
            return Err(KeepReason::AlsoTagged {
                tag: (*unmatched).clone(),
            });
        }
        Ok(DeleteReason::TagsMatch {
            tag: tag.clone(),
            pattern: pattern_text(pattern),
        })
    }
}

/// The policy as the CLI's flags would write it (`--only-untagged
/// --keep-newest 5`), in a fixed order: a cleanup journal names its policy
/// this way, and a resumed run must show the same text.
impl fmt::Display for RetentionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(count) = self.keep_newest {
            parts.push(format!("--keep-newest {count}"));
        }
        parts.extend(
            self.keep_tags
                .iter()
                .map(|p| format!("--keep-tag `{}`", pattern_text(p))),
        );
        if let Some(age) = self.keep_newer_than {
            parts.push(format!(
                "--keep-newer-than {}",
                ghcr_types::format_span(age)
            ));
        }
        if self.delete_untagged {
            parts.push("--only-untagged".to_owned());
        }
        parts.extend(
            self.delete_tags
                .iter()
                .map(|p| format!("--only-tags-matching `{}`", pattern_text(p))),
        );
        f.write_str(&parts.join(" "))
    }
}

/// `pattern` matched against whole tags: `^(?:pattern)$`.
///
/// The pattern must be a regular expression on its own, one group once
/// wrapped: `pr-1)|(.*` would close the wrapping group early and make
/// `^(?:pr-1)|(.*)$`, which matches every tag.
fn anchored(pattern: &str) -> Result<Regex> {
    let invalid = |why: String| Error::InvalidPolicy {
        reason: format!("`{pattern}` is not a valid regular expression: {why}"),
    };
    let alone = Regex::new(pattern).map_err(|error| invalid(error.to_string()))?;
    let whole = Regex::new(&format!("^(?:{pattern})$")).map_err(|error| {
        invalid(format!(
            "it does not stay one group between anchors ({error})"
        ))
    })?;
    if whole.captures_len() != alone.captures_len() {
        return Err(invalid(
            "it does not stay one group between anchors; balance its parentheses".into(),
        ));
    }
    Ok(whole)
}

/// The pattern as the user wrote it (without the anchors added to it).
fn pattern_text(regex: &Regex) -> String {
    let text = regex.as_str();
    text.strip_prefix("^(?:")
        .and_then(|rest| rest.strip_suffix(")$"))
        .unwrap_or(text)
        .to_owned()
}

/// Policies per package, with a default for the others.
///
/// ```
/// use ghcr_packages::{PolicySet, RetentionPolicy};
///
/// let set = PolicySet::new()
///     .default_policy(RetentionPolicy::builder().only_untagged().build()?)
///     .package("app", RetentionPolicy::builder().keep_newest(10).build()?);
/// assert!(set.policy_for("app").is_some());
/// assert!(set.policy_for("other").is_some());
/// assert!(PolicySet::new().policy_for("other").is_none());
/// # Ok::<(), ghcr_packages::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct PolicySet {
    default: Option<RetentionPolicy>,
    packages: BTreeMap<String, RetentionPolicy>,
}

impl PolicySet {
    /// An empty set: no package is cleaned.
    pub fn new() -> Self {
        Self::default()
    }

    /// The policy for packages without their own. Default: none (they are left alone).
    #[must_use]
    pub fn default_policy(mut self, policy: RetentionPolicy) -> Self {
        self.default = Some(policy);
        self
    }

    /// The policy for one package (its name within the owner, `team/app`).
    #[must_use]
    pub fn package(mut self, name: &str, policy: RetentionPolicy) -> Self {
        self.packages.insert(name.to_owned(), policy);
        self
    }

    /// The policy that applies to `package`, if any.
    pub fn policy_for(&self, package: &str) -> Option<&RetentionPolicy> {
        self.packages.get(package).or(self.default.as_ref())
    }
}

/// How "keep the newest N" is counted over a package's versions.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Ranking {
    /// The candidates that may take a place, newest first.
    pub(crate) order: Vec<usize>,
    /// Which versions can list a candidate (an index, a referrers index)
    /// and must be read to tell images from their parts.
    pub(crate) parents: Vec<bool>,
    /// N.
    pub(crate) count: usize,
}

/// Whether the cleanup may delete the version at all, and why.
fn scopes(
    versions: &[PackageVersion],
    policy: &RetentionPolicy,
) -> Vec<std::result::Result<DeleteReason, KeepReason>> {
    versions
        .iter()
        .map(|version| {
            if version.digest().is_err() {
                Err(KeepReason::NotAnImage)
            } else {
                policy.scope(version)
            }
        })
        .collect()
}

/// The candidates that count towards "newest N", newest first (versions
/// are given newest first), and the versions that may list them.
pub(crate) fn ranking(versions: &[PackageVersion], policy: &RetentionPolicy) -> Ranking {
    ranking_of(versions, policy, &scopes(versions, policy))
}

fn ranking_of(
    versions: &[PackageVersion],
    policy: &RetentionPolicy,
    scopes: &[std::result::Result<DeleteReason, KeepReason>],
) -> Ranking {
    let mut order: Vec<usize> = (0..versions.len())
        .filter(|&index| match &scopes[index] {
            Ok(DeleteReason::Untagged) => policy.delete_untagged,
            Ok(DeleteReason::ReferrerTagsOnly) | Err(_) => false,
            Ok(_) => true,
        })
        .collect();
    order.sort_by(|&a, &b| {
        versions[b]
            .created_at
            .cmp(&versions[a].created_at)
            .then(versions[b].id.cmp(&versions[a].id))
    });
    // Untagged versions and referrers indexes list only parts that are
    // themselves untagged: they matter only when untagged versions count.
    let parents = scopes
        .iter()
        .map(|scope| match scope {
            Err(KeepReason::NotAnImage) => false,
            Ok(DeleteReason::Untagged | DeleteReason::ReferrerTagsOnly) => policy.delete_untagged,
            _ => true,
        })
        .collect();
    Ranking {
        order,
        parents,
        count: policy.keep_newest.unwrap_or(0),
    }
}

/// The first decision on each version, in the order given: `Ok` keeps with
/// a reason, `Err` makes it a delete candidate with a reason. `parts` are
/// the digests another version lists: they take no place among the newest.
pub(crate) fn decide(
    versions: &[PackageVersion],
    policy: &RetentionPolicy,
    now: OffsetDateTime,
    parts: &HashSet<Digest>,
) -> Vec<std::result::Result<KeepReason, DeleteReason>> {
    let scopes = scopes(versions, policy);
    let ranking = ranking_of(versions, policy, &scopes);
    let is_part = |index: usize| {
        versions[index]
            .digest()
            .is_ok_and(|digest| parts.contains(&digest))
    };
    let mut newest = vec![None; versions.len()];
    let images = ranking.order.iter().filter(|&&index| !is_part(index));
    for (rank, index) in images.enumerate().take(ranking.count) {
        newest[*index] = Some(rank + 1);
    }
    versions
        .iter()
        .zip(scopes)
        .zip(newest)
        .map(|((version, scope), rank)| {
            let candidate = match scope {
                Err(keep) => return Ok(keep),
                Ok(candidate) => candidate,
            };
            for tag in name_tags(version) {
                if let Some(pattern) = policy.keep_tags.iter().find(|p| p.is_match(tag)) {
                    return Ok(KeepReason::TagMatches {
                        tag: tag.clone(),
                        pattern: pattern_text(pattern),
                    });
                }
            }
            if let Some(age) = policy.keep_newer_than {
                let age = time::Duration::try_from(age).unwrap_or(time::Duration::MAX);
                if now - version.created_at < age {
                    return Ok(KeepReason::NewerThan {
                        age: age.unsigned_abs(),
                    });
                }
            }
            if let Some(rank) = rank {
                return Ok(KeepReason::Newest { rank });
            }
            Err(candidate)
        })
        .collect()
}
