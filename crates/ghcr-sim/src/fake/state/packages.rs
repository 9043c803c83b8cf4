//! Package and version deletion and restore, with GitHub's refusals.

use std::time::Duration;

use ghcr_types::Visibility;
use http::StatusCode;
use time::OffsetDateTime;

use super::{Repo, State};

/// GitHub refuses to delete public versions downloaded more than this often.
pub(crate) const DOWNLOAD_LIMIT: u64 = 5000;

/// A GitHub API refusal: status and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiRefusal {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl ApiRefusal {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn version_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Package version not found.")
    }

    pub(crate) fn package_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Package not found.")
    }
}

/// Which versions a listing shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VersionState {
    Active,
    Deleted,
}

fn within(deleted_at: Option<OffsetDateTime>, now: OffsetDateTime, window: Duration) -> bool {
    deleted_at.is_some_and(|at| {
        now - at <= time::Duration::try_from(window).unwrap_or(time::Duration::MAX)
    })
}

impl Repo {
    /// Version ids in a state, newest first (as GitHub lists them).
    pub(crate) fn version_ids(
        &self,
        state: VersionState,
        now: OffsetDateTime,
        window: Duration,
    ) -> Vec<u64> {
        self.versions
            .iter()
            .rev()
            .filter(|(_, v)| match state {
                VersionState::Active => v.deleted_at.is_none(),
                VersionState::Deleted => within(v.deleted_at, now, window),
            })
            .map(|(id, _)| *id)
            .collect()
    }

    fn is_public(&self) -> bool {
        self.package.visibility == Visibility::Public
    }
}

impl State {
    /// Deletes a version: its tags go, its manifest leaves the registry.
    pub(crate) fn delete_version(
        &mut self,
        repository: &str,
        id: u64,
        now: OffsetDateTime,
    ) -> Result<(), ApiRefusal> {
        let repo = self
            .live_repo_mut(repository)
            .ok_or_else(ApiRefusal::package_not_found)?;
        let version = repo
            .versions
            .get(&id)
            .filter(|v| v.deleted_at.is_none())
            .ok_or_else(ApiRefusal::version_not_found)?;
        let digest = version.digest.clone();
        if repo.is_public() && version.downloads > DOWNLOAD_LIMIT {
            return Err(ApiRefusal::new(
                StatusCode::BAD_REQUEST,
                "Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.",
            ));
        }
        let tags = repo.tags_of(&digest);
        if repo.active_versions() == 1 {
            return Err(ApiRefusal::new(
                StatusCode::BAD_REQUEST,
                "You cannot delete the last version of a package. You must delete the package instead.",
            ));
        }
        let other_tagged = repo.tags.values().any(|tagged| *tagged != digest);
        if !tags.is_empty() && !other_tagged {
            return Err(ApiRefusal::new(
                StatusCode::BAD_REQUEST,
                "You cannot delete the last tagged version of a package. You must delete the package instead.",
            ));
        }
        repo.tags.retain(|_, d| *d != digest);
        let manifest = repo.manifests.remove(&digest);
        if let Some(version) = repo.versions.get_mut(&id) {
            version.deleted_at = Some(now);
            version.saved = manifest.map(|m| (m, tags));
        }
        repo.package.updated_at = now;
        Ok(())
    }

    /// Restores a version deleted within the window, with the tags it had
    /// that nothing else took meanwhile.
    pub(crate) fn restore_version(
        &mut self,
        repository: &str,
        id: u64,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<(), ApiRefusal> {
        let repo = self
            .live_repo_mut(repository)
            .ok_or_else(ApiRefusal::package_not_found)?;
        let version = repo
            .versions
            .get_mut(&id)
            .filter(|v| within(v.deleted_at, now, window))
            .ok_or_else(ApiRefusal::version_not_found)?;
        version.deleted_at = None;
        version.updated_at = now;
        let digest = version.digest.clone();
        if let Some((manifest, tags)) = version.saved.take() {
            repo.manifests.insert(digest.clone(), manifest);
            for tag in tags {
                repo.tags.entry(tag).or_insert_with(|| digest.clone());
            }
        }
        Ok(())
    }

    /// Deletes a whole package: it leaves the registry and the listings.
    pub(crate) fn delete_package(
        &mut self,
        repository: &str,
        now: OffsetDateTime,
    ) -> Result<(), ApiRefusal> {
        let repo = self
            .live_repo_mut(repository)
            .ok_or_else(ApiRefusal::package_not_found)?;
        if repo.is_public() && repo.versions.values().any(|v| v.downloads > DOWNLOAD_LIMIT) {
            return Err(ApiRefusal::new(
                StatusCode::BAD_REQUEST,
                "Publicly visible packages with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.",
            ));
        }
        repo.package.deleted_at = Some(now);
        Ok(())
    }

    /// Restores a package deleted within the window.
    pub(crate) fn restore_package(
        &mut self,
        repository: &str,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<(), ApiRefusal> {
        let repo = self
            .repos
            .get_mut(repository)
            .filter(|repo| within(repo.package.deleted_at, now, window))
            .ok_or_else(ApiRefusal::package_not_found)?;
        repo.package.deleted_at = None;
        repo.package.updated_at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::fake::accounts::Accounts;

    fn manifest(layer: &ghcr_types::Digest, size: usize) -> Bytes {
        Bytes::from(format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{}","size":2}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer}","size":{size}}}]}}"#,
            ghcr_types::Digest::sha256_of(b"{}")
        ))
    }

    fn seeded() -> (State, Vec<u64>) {
        let mut state = State::new(Accounts::default());
        let now = OffsetDateTime::now_utc();
        let mut ids = Vec::new();
        for (i, tag) in ["a", "b", "c"].iter().enumerate() {
            let layer =
                state.put_blob("o/app", Bytes::from(vec![u8::try_from(i).unwrap(); 3]), now);
            let (digest, _) = state
                .put_manifest("o/app", tag, manifest(&layer, 3), None, now)
                .unwrap();
            ids.push(state.repos["o/app"].version_of(&digest).unwrap());
        }
        (state, ids)
    }

    #[test]
    fn delete_removes_tags_and_manifest_and_restore_brings_them_back() {
        let (mut state, ids) = seeded();
        let now = OffsetDateTime::now_utc();
        let window = Duration::from_secs(30 * 24 * 3600);
        state.delete_version("o/app", ids[0], now).unwrap();
        assert_eq!(state.tag_list("o/app").unwrap(), ["b", "c"]);
        assert!(state.manifest("o/app", "a", false).is_err());
        let repo = &state.repos["o/app"];
        assert_eq!(
            repo.version_ids(VersionState::Deleted, now, window),
            [ids[0]]
        );
        assert_eq!(
            repo.version_ids(VersionState::Active, now, window),
            [ids[2], ids[1]]
        );
        // Out of the window, nothing to restore.
        let late = now + time::Duration::days(31);
        assert_eq!(
            state
                .restore_version("o/app", ids[0], late, window)
                .unwrap_err()
                .status,
            StatusCode::NOT_FOUND
        );
        state.restore_version("o/app", ids[0], now, window).unwrap();
        assert_eq!(state.tag_list("o/app").unwrap(), ["a", "b", "c"]);
        assert!(state.manifest("o/app", "a", false).is_ok());
    }

    #[test]
    fn github_refusals() {
        let (mut state, ids) = seeded();
        let now = OffsetDateTime::now_utc();
        // Untag the first two by moving their tags onto the third's digest.
        let third = state.repos["o/app"].versions[&ids[2]].digest.clone();
        for tag in ["a", "b"] {
            state
                .repos
                .get_mut("o/app")
                .unwrap()
                .tags
                .insert(tag.into(), third.clone());
        }
        let refusal = state.delete_version("o/app", ids[2], now).unwrap_err();
        assert_eq!(refusal.status, StatusCode::BAD_REQUEST);
        assert!(
            refusal.message.contains("last tagged version"),
            "{refusal:?}"
        );
        state.delete_version("o/app", ids[0], now).unwrap();
        state.delete_version("o/app", ids[1], now).unwrap();
        let refusal = state.delete_version("o/app", ids[2], now).unwrap_err();
        assert!(
            refusal.message.contains("last version of a package"),
            "{refusal:?}"
        );
        // Public and popular.
        let (mut state, ids) = seeded();
        let repo = state.repos.get_mut("o/app").unwrap();
        repo.package.visibility = Visibility::Public;
        repo.versions.get_mut(&ids[0]).unwrap().downloads = 5001;
        let refusal = state.delete_version("o/app", ids[0], now).unwrap_err();
        assert!(refusal.message.contains("5000 downloads"), "{refusal:?}");
        assert!(state.delete_package("o/app", now).is_err());
        state.delete_version("o/app", ids[1], now).unwrap();
    }
}
