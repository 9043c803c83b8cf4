//! Syncing a repository to another (issue 14): every tag (or those a
//! filter keeps), each image with all its children and blobs, digests kept;
//! cosign `.sig`/`.att`/`.sbom` tags and `sha256-<hex>` referrer indexes
//! after the images they refer to. A tag is written only once its image is
//! complete on the target; a tag whose digest already matches is skipped
//! after one manifest HEAD on each side. With platforms chosen, an index
//! goes as a narrowed index of those platforms (`platforms.rs`), a new
//! digest compared with the target's.

mod plan;
mod platforms;
mod run;

pub use plan::{SyncAction, SyncEntry, SyncOptions, SyncPlan};
pub use run::{SyncReport, SyncedTag};
