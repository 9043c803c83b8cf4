//! The fake's in-memory state: content, repositories with their package
//! and versions, upload sessions, issued tokens and API budgets.
//!
//! Everything sits behind one mutex, locked briefly by each request and
//! never across an await.

mod packages;
mod registry;

pub(crate) use packages::{ApiRefusal, VersionState};
pub(crate) use registry::{RegistryError, check_name, parse_digest};

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use ghcr_types::{Digest, Visibility};
use time::OffsetDateTime;

use super::accounts::Accounts;

/// Which registry the fake behaves like.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Profile {
    /// ghcr.io with every quirk the reference notes record (the default).
    #[default]
    Ghcr,
    /// A spec-conforming OCI distribution registry: deletes allowed, the
    /// referrers API on, no blob redirects.
    Generic,
}

impl Profile {
    /// `ghcr` or `generic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ghcr => "ghcr",
            Self::Generic => "generic",
        }
    }
}

/// Settings fixed when the fake starts.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) profile: Profile,
    pub(crate) token_lifetime: Duration,
    pub(crate) storage_url_lifetime: Duration,
    pub(crate) patch_limit: Option<u64>,
    pub(crate) tags_page_size: Option<usize>,
    pub(crate) chunk_min_length: Option<u64>,
    pub(crate) api_limit: u32,
    pub(crate) api_window: Duration,
    pub(crate) secondary_points: Option<u32>,
    pub(crate) restore_window: Duration,
    pub(crate) max_request_body: u64,
}

/// A manifest as stored, with what the referrers API needs.
#[derive(Clone, Debug)]
pub(crate) struct StoredManifest {
    pub(crate) bytes: Bytes,
    pub(crate) media_type: String,
    pub(crate) subject: Option<Digest>,
    pub(crate) artifact_type: Option<String>,
    pub(crate) annotations: Option<serde_json::Value>,
}

/// A package version: one manifest digest.
#[derive(Clone, Debug)]
pub(crate) struct Version {
    pub(crate) digest: Digest,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) updated_at: OffsetDateTime,
    pub(crate) deleted_at: Option<OffsetDateTime>,
    pub(crate) downloads: u64,
    /// While deleted: the manifest and tags to bring back on restore.
    pub(crate) saved: Option<(StoredManifest, Vec<String>)>,
}

/// The package a repository is.
#[derive(Clone, Debug)]
pub(crate) struct PackageMeta {
    pub(crate) id: u64,
    pub(crate) visibility: Visibility,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) updated_at: OffsetDateTime,
    pub(crate) deleted_at: Option<OffsetDateTime>,
}

/// A repository (`owner/name`): its content and its package.
#[derive(Clone, Debug)]
pub(crate) struct Repo {
    pub(crate) blobs: HashSet<Digest>,
    pub(crate) manifests: HashMap<Digest, StoredManifest>,
    pub(crate) tags: BTreeMap<String, Digest>,
    pub(crate) package: PackageMeta,
    pub(crate) versions: BTreeMap<u64, Version>,
}

impl Repo {
    /// The tags pointing at `digest`, sorted.
    pub(crate) fn tags_of(&self, digest: &Digest) -> Vec<String> {
        self.tags
            .iter()
            .filter(|(_, d)| *d == digest)
            .map(|(tag, _)| tag.clone())
            .collect()
    }

    /// The active version of `digest`.
    pub(crate) fn version_of(&self, digest: &Digest) -> Option<u64> {
        self.versions
            .iter()
            .find(|(_, v)| v.deleted_at.is_none() && &v.digest == digest)
            .map(|(id, _)| *id)
    }
}

/// An attestation in GitHub's attestations API (not in the registry):
/// what `actions/attest` stores for a subject digest.
#[derive(Clone, Debug)]
pub(crate) struct ApiAttestation {
    pub(crate) repository: String,
    pub(crate) subject: Digest,
    pub(crate) predicate_type: String,
    pub(crate) bundle: serde_json::Value,
}

/// An upload session.
#[derive(Clone, Debug)]
pub(crate) struct Upload {
    pub(crate) repository: String,
    pub(crate) chunks: Vec<Bytes>,
    pub(crate) len: u64,
    /// Bumped on every chunk; the generic profile puts it in `Location`.
    pub(crate) state: u64,
}

/// What a registry token allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Action {
    Pull,
    Push,
    Delete,
}

impl Action {
    pub(crate) fn parse(text: &str) -> Vec<Self> {
        match text {
            "pull" => vec![Self::Pull],
            "push" => vec![Self::Push],
            "delete" => vec![Self::Delete],
            "*" => vec![Self::Pull, Self::Push, Self::Delete],
            _ => Vec::new(),
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pull => "pull",
            Self::Push => "push",
            Self::Delete => "delete",
        }
    }
}

/// An issued registry bearer token.
#[derive(Clone, Debug)]
pub(crate) struct Bearer {
    pub(crate) access: HashMap<String, BTreeSet<Action>>,
    pub(crate) expires_at: OffsetDateTime,
}

/// A rate-limit window.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    pub(crate) used: u32,
    pub(crate) window_start: OffsetDateTime,
}

/// Everything mutable.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) accounts: Accounts,
    pub(crate) blobs: HashMap<Digest, Bytes>,
    pub(crate) repos: BTreeMap<String, Repo>,
    pub(crate) uploads: HashMap<String, Upload>,
    pub(crate) bearers: HashMap<String, Bearer>,
    pub(crate) budgets: HashMap<String, Budget>,
    pub(crate) points: HashMap<String, Budget>,
    pub(crate) attestations: Vec<ApiAttestation>,
    /// Manifests are taken even when they name blobs or children the
    /// repository lacks (see `FakeGhcrBuilder::accept_dangling_manifests`).
    pub(crate) accept_dangling: bool,
    next_id: u64,
    next_upload: u64,
    next_request: u64,
}

impl State {
    pub(crate) fn new(accounts: Accounts) -> Self {
        Self {
            accounts,
            blobs: HashMap::new(),
            repos: BTreeMap::new(),
            uploads: HashMap::new(),
            bearers: HashMap::new(),
            budgets: HashMap::new(),
            points: HashMap::new(),
            attestations: Vec::new(),
            accept_dangling: false,
            next_id: 0,
            next_upload: 0,
            next_request: 0,
        }
    }

    /// A fresh package or version id (ids grow, as GitHub's do).
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        100_000 + self.next_id
    }

    /// A fresh upload id, deterministic so recordings are stable.
    pub(crate) fn next_upload_id(&mut self) -> String {
        self.next_upload += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.next_upload)
    }

    /// A GitHub-style request id for `x-github-request-id`.
    pub(crate) fn next_request_id(&mut self) -> String {
        self.next_request += 1;
        format!(
            "F4KE:{:04X}:{:06X}",
            self.next_request % 0xFFFF,
            self.next_request
        )
    }

    /// The repository, unless absent or its package was deleted.
    pub(crate) fn live_repo(&self, repository: &str) -> Option<&Repo> {
        self.repos
            .get(repository)
            .filter(|repo| repo.package.deleted_at.is_none())
    }

    pub(crate) fn live_repo_mut(&mut self, repository: &str) -> Option<&mut Repo> {
        self.repos
            .get_mut(repository)
            .filter(|repo| repo.package.deleted_at.is_none())
    }

    /// Whether the repository's package is public.
    pub(crate) fn is_public(&self, repository: &str) -> bool {
        self.live_repo(repository)
            .is_some_and(|repo| repo.package.visibility == Visibility::Public)
    }

    /// The repository, created (a new private package) when absent; a
    /// deleted package of that name is purged first, as reusing a name does.
    pub(crate) fn repo_for_push(&mut self, repository: &str, now: OffsetDateTime) -> &mut Repo {
        if self
            .repos
            .get(repository)
            .is_some_and(|repo| repo.package.deleted_at.is_some())
        {
            self.repos.remove(repository);
        }
        let id = if self.repos.contains_key(repository) {
            0
        } else {
            self.next_id()
        };
        self.repos
            .entry(repository.to_owned())
            .or_insert_with(|| Repo {
                blobs: HashSet::new(),
                manifests: HashMap::new(),
                tags: BTreeMap::new(),
                package: PackageMeta {
                    id,
                    visibility: Visibility::Private,
                    created_at: now,
                    updated_at: now,
                    deleted_at: None,
                },
                versions: BTreeMap::new(),
            })
    }
}
