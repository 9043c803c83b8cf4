//! Reachability: every digest a kept version needs, found by reading
//! manifests before anything is deleted.
//!
//! On ghcr.io the parts of an image are versions of their own: platform
//! manifests of a multi-arch index, buildx attestation manifests (no
//! `platform`), nested indexes, and the artifacts attached through the
//! `sha256-<hex>` referrers tag (signatures, SBOMs, attestations) and its
//! index. Deleting "untagged versions" without this walk breaks images with
//! `manifest unknown`. The walk follows index children and referrer tags of
//! every reached digest, reads each manifest once, reads only digests that
//! are versions of the package, and does not read an image manifest its
//! parent's descriptor names as one (it lists no manifests).

use std::collections::{HashMap, HashSet, VecDeque};

use ghcr_types::{Digest, MediaType, PackageVersion, PackageVersionId};

use super::parts::PartsSource;
use super::plan::Link;
use super::policy::Ranking;
use super::policy::referrer_subject;
use crate::error::{Error, Result};

/// How a digest was reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Via {
    /// The root version the walk started from.
    pub(crate) root: PackageVersionId,
    /// The digest that references it directly.
    pub(crate) parent: Digest,
    /// How.
    pub(crate) link: Link,
}

/// The package's versions, indexed for the walk.
pub(crate) struct Graph<'a> {
    by_digest: HashMap<Digest, &'a PackageVersion>,
    referrers_of: HashMap<String, Vec<&'a PackageVersion>>,
}

impl<'a> Graph<'a> {
    pub(crate) fn new(versions: &'a [PackageVersion]) -> Self {
        let mut by_digest = HashMap::new();
        let mut referrers_of: HashMap<String, Vec<&PackageVersion>> = HashMap::new();
        for version in versions {
            if let Ok(digest) = version.digest() {
                by_digest.insert(digest, version);
            }
            for tag in version.tags() {
                if let Some(subject) = referrer_subject(tag) {
                    referrers_of.entry(subject).or_default().push(version);
                }
            }
        }
        Self {
            by_digest,
            referrers_of,
        }
    }

    /// The version of a digest, when the package has one.
    pub(crate) fn version(&self, digest: &Digest) -> Option<&'a PackageVersion> {
        self.by_digest.get(digest).copied()
    }

    /// Versions carrying a referrer tag of `subject`.
    pub(crate) fn referrers(&self, subject: &Digest) -> &[&'a PackageVersion] {
        self.referrers_of
            .get(subject.as_str())
            .map_or(&[], Vec::as_slice)
    }

    /// Every digest reachable from `roots` (the roots themselves excluded),
    /// each with the first chain found. `stop` ends the walk early once it
    /// says nothing more needs protecting.
    ///
    /// # Errors
    ///
    /// [`Error::Unreachable`] when a reached version's manifest cannot be
    /// read: what it references is then unknown, so nothing may be deleted.
    pub(crate) async fn reachable(
        &self,
        roots: &[&PackageVersion],
        source: &impl PartsSource,
        stop: impl Fn(&HashMap<Digest, Via>) -> bool,
    ) -> Result<HashMap<Digest, Via>> {
        let mut reached: HashMap<Digest, Via> = HashMap::new();
        let mut seen: HashSet<Digest> = HashSet::new();
        // Each queued digest with what its parent's descriptor says it is
        // (`None` for roots and referrer indexes, known only once read).
        let mut queue: VecDeque<(Digest, PackageVersionId, Link, Option<MediaType>)> =
            VecDeque::new();
        for root in roots {
            if let Ok(digest) = root.digest()
                && seen.insert(digest.clone())
            {
                queue.push_back((digest, root.id, Link::IndexChild, None));
            }
        }
        while let Some((digest, root, arrived_by, media_type)) = queue.pop_front() {
            if stop(&reached) {
                break;
            }
            let mut reach = |child: Digest, link: Link, media_type: Option<MediaType>| {
                if seen.insert(child.clone()) {
                    reached.insert(
                        child.clone(),
                        Via {
                            root,
                            parent: digest.clone(),
                            link,
                        },
                    );
                    queue.push_back((child, root, link, media_type));
                }
            };
            for referrer in self.referrers(&digest) {
                if let Ok(child) = referrer.digest() {
                    reach(child, Link::ReferrerIndex, None);
                }
            }
            // An image manifest lists no manifests (its referrers are found
            // by tag above): when its parent says that is what it is, there
            // is nothing to read.
            if media_type
                .as_ref()
                .is_some_and(MediaType::is_image_manifest)
            {
                continue;
            }
            let Some(version) = self.version(&digest) else {
                continue;
            };
            let parts = source
                .parts(&digest)
                .await
                .map_err(|error| Error::Unreachable {
                    digest: digest.clone(),
                    context: format!("version {} of the package", version.id),
                    source: Box::new(error),
                })?;
            // The entries of a referrers index are attached artifacts.
            let link = if arrived_by == Link::ReferrerIndex {
                Link::Referrer
            } else {
                Link::IndexChild
            };
            for part in parts.iter() {
                reach(part.digest.clone(), link, Some(part.media_type.clone()));
            }
        }
        Ok(reached)
    }
}

/// The digests that are parts of another version (listed by an index or a
/// referrers index), found among the candidates of "keep the newest N" in
/// rank order until N images are counted.
///
/// What lists a part is pushed after it, so a candidate's parents are
/// versions at least as new: walking newest first, each version that can
/// be a parent is read (once per run) before the candidates it could list
/// are counted. A manifest that cannot be read lists nothing here: its
/// parts then count as images and are kept, never deleted for it.
pub(crate) async fn parts_of_newest(
    versions: &[PackageVersion],
    ranking: &Ranking,
    source: &impl PartsSource,
) -> HashSet<Digest> {
    let mut parts = HashSet::new();
    let mut next = 0;
    let mut images = 0;
    for &candidate in &ranking.order {
        if images >= ranking.count {
            break;
        }
        let Some(created) = versions.get(candidate).map(|v| v.created_at) else {
            continue;
        };
        while let Some(version) = versions.get(next).filter(|v| v.created_at >= created) {
            if ranking.parents.get(next).copied().unwrap_or(false)
                && let Ok(digest) = version.digest()
            {
                match source.parts(&digest).await {
                    Ok(listed) => parts.extend(
                        listed
                            .iter()
                            .map(|part| part.digest.clone())
                            .filter(|child| *child != digest),
                    ),
                    Err(error) => tracing::debug!(
                        version = %version.id,
                        error = %error,
                        "cannot read a manifest to count images; its parts count as images"
                    ),
                }
            }
            next += 1;
        }
        let image = versions
            .get(candidate)
            .and_then(|v| v.digest().ok())
            .is_none_or(|digest| !parts.contains(&digest));
        if image {
            images += 1;
        }
    }
    parts
}
