//! Deciding what a sync does: which tags, and for each whether the target
//! already has the source's digest.

use futures_util::{StreamExt, TryStreamExt};
use ghcr_types::{Digest, Manifest, Platform, Reference, Tag};

use crate::client::RegistryClient;
use crate::error::{Error, Result};

/// Images synced at once unless [`SyncOptions::concurrency`] says otherwise.
/// Images that share a blob no longer upload it twice at once (the
/// client's one turn per blob and repository, `blobs/in_flight.rs`), which
/// made docker-registry 2.8 answer a manifest PUT with
/// `MANIFEST_BLOB_UNKNOWN` when this was 4 without it.
pub(crate) const DEFAULT_IMAGE_CONCURRENCY: usize = 4;

/// Tags compared at once while planning, each with one HEAD per side: 16
/// lets a re-run of a repository of up to 16 tags with nothing changed
/// finish its comparison in one round trip (32 HEADs in flight at most,
/// multiplexed over HTTP/2 where the registry speaks it).
const COMPARE_CONCURRENCY: usize = 16;

/// What to sync.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct SyncOptions {
    /// Only tags this regex matches (searched anywhere in the tag).
    pub tags: Option<String>,
    /// Only tags that are semantic versions (a leading `v` allowed) within
    /// this range (`>=1.2, <2`, `^3`, `~1.4`: Cargo's comparators).
    pub semver: Option<String>,
    /// Only the newest N tags, by the order the registry lists them last.
    pub newest: Option<usize>,
    /// Only these platforms of each index (every platform when empty).
    pub platforms: Vec<Platform>,
    /// Leave out cosign tags and referrer indexes.
    pub no_referrers: bool,
    /// Images copied at once (4 by default; a blob two of them share is
    /// uploaded once, the other finding it there); they share the client's
    /// one memory budget and its blob concurrency (4 images: one blob
    /// each at a time, unless the transfer options set one).
    pub concurrency: Option<usize>,
}

impl SyncOptions {
    /// Every tag, referrers included.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only tags matching `pattern`.
    #[must_use]
    pub fn tags(mut self, pattern: impl Into<String>) -> Self {
        self.tags = Some(pattern.into());
        self
    }

    /// Only tags that are versions within `range`.
    #[must_use]
    pub fn semver(mut self, range: impl Into<String>) -> Self {
        self.semver = Some(range.into());
        self
    }

    /// Only these platforms of each index: the target gets an index of
    /// those children (and their attestation manifests), a new digest.
    #[must_use]
    pub fn platforms(mut self, platforms: impl IntoIterator<Item = Platform>) -> Self {
        self.platforms = platforms.into_iter().collect();
        self
    }

    /// Only the last `n` tags listed.
    #[must_use]
    pub fn newest(mut self, n: usize) -> Self {
        self.newest = Some(n);
        self
    }

    /// Leave referrers behind.
    #[must_use]
    pub fn no_referrers(mut self) -> Self {
        self.no_referrers = true;
        self
    }

    /// Images at once.
    #[must_use]
    pub fn concurrency(mut self, images: usize) -> Self {
        self.concurrency = Some(images.max(1));
        self
    }

    /// Checks what can be checked before any request: the tag pattern.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFilter`] for a pattern that is not a regex.
    pub fn validate(&self) -> Result<()> {
        if let Some(pattern) = &self.tags {
            crate::tags::tag_filter(pattern)?;
        }
        self.version_range()?;
        Ok(())
    }

    /// The `semver` range, parsed.
    fn version_range(&self) -> Result<Option<semver::VersionReq>> {
        self.semver
            .as_deref()
            .map(|range| {
                semver::VersionReq::parse(range).map_err(|source| Error::InvalidVersionRange {
                    range: range.to_owned(),
                    source: Box::new(source),
                })
            })
            .transpose()
    }
}

/// What happens to one tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncAction {
    /// The target lacks it or holds another digest: copy it.
    Copy,
    /// The target's tag already names the source's digest.
    Skip,
}

/// One tag of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncEntry {
    /// The tag, the same at both ends.
    pub tag: Tag,
    /// Its digest at the source.
    pub digest: Digest,
    /// Its digest at the target, if it has the tag.
    pub target_digest: Option<Digest>,
    /// A cosign tag or referrer index, synced after the images.
    pub attached: bool,
    /// Copy or skip.
    pub action: SyncAction,
    /// The narrowed index (its bytes and media type) when platforms were
    /// chosen and the tag is an index; `digest` is then its digest.
    pub(crate) narrowed: Option<(bytes::Bytes, String)>,
}

/// What a sync will do, before any byte moves.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SyncPlan {
    /// The source repository.
    pub source: Reference,
    /// The target repository.
    pub target: Reference,
    /// One entry per tag: images first, then attached tags.
    pub entries: Vec<SyncEntry>,
    /// Whether blobs can be mounted (one registry, two repositories).
    pub mounts: bool,
    /// Images at once.
    pub concurrency: usize,
    /// Index tags left out: none of their children is for a chosen platform.
    pub unmatched: Vec<Tag>,
}

impl SyncPlan {
    /// Entries to copy.
    pub fn to_copy(&self) -> impl Iterator<Item = &SyncEntry> {
        self.entries.iter().filter(|e| e.action == SyncAction::Copy)
    }

    /// Entries already in place.
    pub fn skipped(&self) -> impl Iterator<Item = &SyncEntry> {
        self.entries.iter().filter(|e| e.action == SyncAction::Skip)
    }
}

/// Whether a tag is cosign's (`sha256-<hex>.sig|.att|.sbom`) or a referrers
/// fallback index (`sha256-<hex>`).
pub(crate) fn is_attached(tag: &str) -> bool {
    let Some(rest) = tag.strip_prefix("sha256-") else {
        return false;
    };
    let hex = rest.split_once('.').map_or(rest, |(hex, suffix)| {
        if matches!(suffix, "sig" | "att" | "sbom") {
            hex
        } else {
            ""
        }
    });
    hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The subject digest an attached tag names.
fn subject_of(tag: &str) -> Option<String> {
    let rest = tag.strip_prefix("sha256-")?;
    Some(format!("sha256:{}", rest.split('.').next()?))
}

/// Picks the tags: images by the filters; attached tags whose subject is a
/// picked image (any attached tag when no filter applies).
pub(crate) fn select(
    tags: Vec<Tag>,
    options: &SyncOptions,
    regex: Option<&regex::Regex>,
    range: Option<&semver::VersionReq>,
) -> (Vec<Tag>, Vec<Tag>) {
    let (attached, mut images): (Vec<Tag>, Vec<Tag>) =
        tags.into_iter().partition(|t| is_attached(t.as_str()));
    if let Some(regex) = regex {
        images.retain(|t| regex.is_match(t.as_str()));
    }
    if let Some(range) = range {
        images.retain(|t| {
            let text = t.as_str();
            semver::Version::parse(text.strip_prefix('v').unwrap_or(text))
                .is_ok_and(|version| range.matches(&version))
        });
    }
    if let Some(n) = options.newest {
        let drop = images.len().saturating_sub(n);
        images.drain(..drop);
    }
    let attached = if options.no_referrers {
        Vec::new()
    } else {
        attached
    };
    (images, attached)
}

impl RegistryClient {
    /// Plans a sync of `source` to `target` (repositories; a tag or digest
    /// on either is ignored): lists the source's tags, then HEADs each tag
    /// on both sides.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFilter`] for a bad regex, [`Error::InvalidReference`]
    /// when target and source are one repository, and the transport's errors.
    pub async fn plan_sync(
        &self,
        source: &Reference,
        target: &Reference,
        options: &SyncOptions,
    ) -> Result<SyncPlan> {
        let (source, target) = (
            source.without_tag_or_digest(),
            target.without_tag_or_digest(),
        );
        if source == target {
            return Err(Error::reference(
                &target,
                "it is the source repository; name another target".to_owned(),
            ));
        }
        let regex = options
            .tags
            .as_deref()
            .map(crate::tags::tag_filter)
            .transpose()?;
        let tags = self.list_tags(&source).await?;
        let range = options.version_range()?;
        let (images, attached) = select(tags, options, regex.as_ref(), range.as_ref());
        let concurrency = options.concurrency.unwrap_or(DEFAULT_IMAGE_CONCURRENCY);
        let mut entries = self.compare(&source, &target, images, false).await?;
        let unmatched = self
            .narrow(&source, &mut entries, &options.platforms)
            .await?;
        // Attached tags go only with the images picked; a narrowed index
        // is a new digest, so the source's signatures of it stay behind.
        let filtered = regex.is_some()
            || range.is_some()
            || options.newest.is_some()
            || !options.platforms.is_empty();
        let picked: Vec<String> = entries.iter().map(|e| e.digest.to_string()).collect();
        let attached = attached
            .into_iter()
            .filter(|t| !filtered || subject_of(t.as_str()).is_some_and(|s| picked.contains(&s)))
            .collect();
        entries.extend(self.compare(&source, &target, attached, true).await?);
        Ok(SyncPlan {
            mounts: source.registry() == target.registry(),
            source,
            target,
            entries,
            concurrency,
            unmatched,
        })
    }

    /// With platforms chosen: each index entry becomes its narrowed index
    /// (one GET of the source's index), compared again with the target;
    /// the tags of indexes with none of the platforms are returned.
    async fn narrow(
        &self,
        source: &Reference,
        entries: &mut Vec<SyncEntry>,
        platforms: &[Platform],
    ) -> Result<Vec<Tag>> {
        if platforms.is_empty() {
            return Ok(Vec::new());
        }
        let manifests: Vec<Manifest> = futures_util::stream::iter(entries.iter())
            .map(|entry| {
                let image = source.with_digest(entry.digest.clone());
                async move { self.get_manifest(&image).await }
            })
            .buffered(COMPARE_CONCURRENCY)
            .try_collect()
            .await?;
        let mut unmatched = Vec::new();
        let mut kept = Vec::with_capacity(entries.len());
        for (mut entry, manifest) in std::mem::take(entries).into_iter().zip(manifests) {
            if !manifest.is_index() {
                kept.push(entry);
                continue;
            }
            let Some(bytes) = super::platforms::narrow_index(&manifest, platforms) else {
                unmatched.push(entry.tag);
                continue;
            };
            entry.digest = Digest::sha256_of(&bytes);
            entry.action = if entry.target_digest.as_ref() == Some(&entry.digest) {
                SyncAction::Skip
            } else {
                SyncAction::Copy
            };
            entry.narrowed = Some((bytes, manifest.media_type().as_str().to_owned()));
            kept.push(entry);
        }
        *entries = kept;
        Ok(unmatched)
    }

    /// One HEAD per side per tag.
    async fn compare(
        &self,
        source: &Reference,
        target: &Reference,
        tags: Vec<Tag>,
        attached: bool,
    ) -> Result<Vec<SyncEntry>> {
        futures_util::stream::iter(tags)
            .map(|tag| async move {
                let from = source.with_tag(tag.as_str())?;
                let to = target.with_tag(tag.as_str())?;
                let (digest, target_digest) =
                    tokio::try_join!(self.resolve_digest(&from), self.head_manifest(&to))?;
                let target_digest = target_digest.map(|info| info.digest);
                let action = if target_digest.as_ref() == Some(&digest) {
                    SyncAction::Skip
                } else {
                    SyncAction::Copy
                };
                Ok(SyncEntry {
                    tag,
                    digest,
                    target_digest,
                    attached,
                    action,
                    narrowed: None,
                })
            })
            .buffered(COMPARE_CONCURRENCY)
            .try_collect()
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(names: &[&str]) -> Vec<Tag> {
        names.iter().map(|n| n.parse().unwrap()).collect()
    }

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn attached_tags_are_recognised() {
        assert!(is_attached(&format!("sha256-{HEX}")));
        assert!(is_attached(&format!("sha256-{HEX}.sig")));
        assert!(is_attached(&format!("sha256-{HEX}.att")));
        assert!(!is_attached(&format!("sha256-{HEX}.tar")));
        assert!(!is_attached("sha256-abc.sig"));
        assert!(!is_attached("v1"));
    }

    #[test]
    fn filters_keep_images_and_newest() {
        let sig = format!("sha256-{HEX}.sig");
        let all = tags(&["v1", "v2", "dev", &sig]);
        let re = regex::Regex::new("^v").unwrap();
        let (images, attached) = select(all.clone(), &SyncOptions::new(), Some(&re), None);
        assert_eq!(images, tags(&["v1", "v2"]));
        assert_eq!(attached, tags(&[&sig]));
        let (images, _) = select(all.clone(), &SyncOptions::new().newest(1), None, None);
        assert_eq!(images, tags(&["dev"]));
        let (_, attached) = select(all, &SyncOptions::new().no_referrers(), None, None);
        assert!(attached.is_empty());
    }

    #[test]
    fn semver_ranges_keep_versions_within_them() {
        let all = tags(&[
            "v1.2.3",
            "1.4.0",
            "2.0.0",
            "v2.1.0-rc.1",
            "1.3",
            "latest",
            "v0.9.9",
        ]);
        let options = SyncOptions::new().semver(">=1.2, <2");
        options.validate().unwrap();
        let range = options.version_range().unwrap();
        let (images, _) = select(all.clone(), &options, None, range.as_ref());
        assert_eq!(images, tags(&["v1.2.3", "1.4.0"]), "1.3 is no full version");
        let caret = SyncOptions::new().semver("^2");
        let range = caret.version_range().unwrap();
        let (images, _) = select(all, &caret, None, range.as_ref());
        assert_eq!(images, tags(&["2.0.0"]), "a pre-release is outside ^2");
        let error = SyncOptions::new()
            .semver(">=banana")
            .validate()
            .unwrap_err();
        assert!(error.to_string().contains(">=banana"), "{error}");
    }
}
