//! Running a [`SyncPlan`]: images a few at a time, each copied whole
//! (blobs, then children by digest, then the tag), attached tags after.

use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;
use ghcr_types::{Digest, Reference, Tag};

use crate::blobs::{BlobOutcome, PushedBlob};
use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::options::TransferOptions;
use crate::progress::ProgressEvent;
use crate::referrers::ReferrersSource;

use super::plan::{SyncEntry, SyncPlan};

/// One tag now on the target.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SyncedTag {
    /// The tag.
    pub tag: Tag,
    /// Its digest, the same at both ends.
    pub digest: Digest,
    /// Every blob of the image, with how it got there.
    pub blobs: Vec<PushedBlob>,
    /// Referrers copied from the source's referrers API (those behind
    /// tags are entries of their own).
    pub referrers: Vec<Digest>,
}

/// What a sync did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct SyncReport {
    /// Tags copied.
    pub copied: Vec<SyncedTag>,
    /// Tags already in place.
    pub skipped: Vec<Tag>,
    /// Tags that failed; the target's tag was left as it was.
    pub failed: Vec<(Tag, Error)>,
}

impl SyncReport {
    /// Blob bytes sent to the target.
    pub fn bytes_uploaded(&self) -> u64 {
        self.blobs_with(BlobOutcome::Uploaded).map(|b| b.size).sum()
    }

    /// Blobs uploaded, found already there, and mounted: the order the
    /// CLI's report gives them in.
    pub fn blob_counts(&self) -> (usize, usize, usize) {
        (
            self.blobs_with(BlobOutcome::Uploaded).count(),
            self.blobs_with(BlobOutcome::Existed).count(),
            self.blobs_with(BlobOutcome::Mounted).count(),
        )
    }

    /// Whether every tag made it.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }

    fn blobs_with(&self, outcome: BlobOutcome) -> impl Iterator<Item = &PushedBlob> {
        self.copied
            .iter()
            .flat_map(|t| &t.blobs)
            .filter(move |b| b.outcome == outcome)
    }
}

impl RegistryClient {
    /// Plans and runs a sync (see [`RegistryClient::plan_sync`] and
    /// [`RegistryClient::run_sync`]).
    ///
    /// # Errors
    ///
    /// Those of the plan; failures of single tags are in the report.
    pub async fn sync(
        &self,
        source: &Reference,
        target: &Reference,
        options: &super::SyncOptions,
    ) -> Result<SyncReport> {
        let plan = self.plan_sync(source, target, options).await?;
        Ok(self.run_sync(&plan, &TransferOptions::new()).await)
    }

    /// Runs `plan`: `plan.concurrency` images at once, each with its blobs
    /// (HEAD-skipped, mounted on one registry, else streamed from the
    /// source), children by digest, and only then its tag; cosign tags and
    /// referrer indexes after every image. Unless `options` sets a blob
    /// concurrency, the images at once share the client's
    /// ([`RegistryClient::concurrency`], at least one blob per image), and
    /// so memory stays flat. A failed tag is reported and leaves the
    /// target's tag untouched; a re-run finishes what is left.
    pub async fn run_sync(&self, plan: &SyncPlan, options: &TransferOptions) -> SyncReport {
        let mut report = SyncReport {
            skipped: plan.skipped().map(|e| e.tag.clone()).collect(),
            ..SyncReport::default()
        };
        let total = plan.to_copy().count();
        let finished = &AtomicUsize::new(0);
        for attached in [false, true] {
            // Tags of one digest go one after another in one task: the
            // first copies, the rest find everything there. docker-registry
            // writes a manifest in place, so two PUTs of the same manifest at
            // once can leave the other reading a torn file.
            let mut groups: Vec<Vec<&SyncEntry>> = Vec::new();
            for entry in plan.to_copy().filter(|e| e.attached == attached) {
                match groups.iter_mut().find(|g| g[0].digest == entry.digest) {
                    Some(group) => group.push(entry),
                    None => groups.push(vec![entry]),
                }
            }
            let options = &per_image(options, plan.concurrency.min(groups.len()), self);
            let results: Vec<_> = futures_util::stream::iter(groups)
                .map(|group| async move {
                    let mut done = Vec::with_capacity(group.len());
                    for entry in group {
                        let result = self.sync_entry(plan, entry, options).await;
                        options.progress.emit(ProgressEvent::TagSynced {
                            tag: entry.tag.to_string(),
                            copied: result.is_ok(),
                            done: finished.fetch_add(1, Ordering::Relaxed) + 1,
                            total,
                        });
                        done.push((entry, result));
                    }
                    done
                })
                .buffer_unordered(plan.concurrency.max(1))
                .collect()
                .await;
            for (entry, result) in results.into_iter().flatten() {
                match result {
                    Ok(synced) => report.copied.push(synced),
                    Err(error) => report.failed.push((entry.tag.clone(), error)),
                }
            }
        }
        report
    }

    async fn sync_entry(
        &self,
        plan: &SyncPlan,
        entry: &SyncEntry,
        options: &TransferOptions,
    ) -> Result<SyncedTag> {
        let to = plan.target.with_tag(entry.tag.as_str())?;
        if let Some((bytes, media_type)) = &entry.narrowed {
            return self
                .sync_narrowed(plan, entry, &to, bytes, media_type, options)
                .await;
        }
        let from = plan.source.with_digest(entry.digest.clone());
        let mut referrers = Vec::new();
        let copied = self.copy_image(&from, &to, options).await?;
        let mut blobs = copied.blobs;
        if !entry.attached {
            // Referrers behind `sha256-<hex>` tags are entries of their
            // own; only those the API alone lists are copied here.
            let found = self.referrers(&from, None).await?;
            if found.source == ReferrersSource::Api {
                for descriptor in found.descriptors {
                    let digest = Digest::try_from(descriptor.digest())?;
                    let report = self
                        .copy_image(
                            &plan.source.with_digest(digest.clone()),
                            &plan.target.with_digest(digest.clone()),
                            options,
                        )
                        .await?;
                    blobs.extend(report.blobs);
                    referrers.push(digest);
                }
            }
        }
        Ok(SyncedTag {
            tag: entry.tag.clone(),
            digest: copied.digest,
            blobs,
            referrers,
        })
    }

    /// A narrowed index: each child copied by digest, then the new index
    /// under the tag. The source's referrers name the source's index, not
    /// this one, so none are copied for it.
    async fn sync_narrowed(
        &self,
        plan: &SyncPlan,
        entry: &SyncEntry,
        to: &Reference,
        bytes: &bytes::Bytes,
        media_type: &str,
        options: &TransferOptions,
    ) -> Result<SyncedTag> {
        let index = ghcr_types::Manifest::from_bytes(bytes.clone(), Some(media_type))?;
        let mut blobs = Vec::new();
        for child in index.children() {
            let digest = Digest::try_from(child.digest())?;
            let copied = self
                .copy_image(
                    &plan.source.with_digest(digest.clone()),
                    &plan.target.with_digest(digest),
                    options,
                )
                .await?;
            blobs.extend(copied.blobs);
        }
        let digest = self.put_manifest(to, &index).await?;
        Ok(SyncedTag {
            tag: entry.tag.clone(),
            digest,
            blobs,
            referrers: Vec::new(),
        })
    }
}

/// The transfer options for each of `images` images copied at once: unless
/// the caller chose a blob concurrency, the client's is shared among them
/// (at least one blob each), so blobs in flight stay at the client's
/// setting when no more images than that go at once. Each blob streamed from another
/// registry keeps a resume window (the client's resume buffer, 8 MiB by
/// default) outside the memory budget; 4 images of 4 blobs each held 16 of
/// them, a 77 to 98 MiB peak in `registry_bench sync`'s 4 x 8 MiB row,
/// against about 45 MiB with 4 blobs in flight.
fn per_image(options: &TransferOptions, images: usize, client: &RegistryClient) -> TransferOptions {
    let mut shared = options.clone();
    if shared.concurrency.is_none() {
        shared.concurrency = Some((client.concurrency() / images.max(1)).max(1));
    }
    shared
}
