//! One function per fuzz target: parse the input, never panic, and where the
//! type can be written back, check that what it writes parses to the same value.
//! Each returns whether the input parsed, so that the regression test can
//! insist that every seed is a valid input.
//!
//! The workspace's regression test includes this file with `#[path]`, so it
//! uses only crates that `ghcr-transport`'s tests already have.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ghcr_auth::{AuthScheme, Challenge};
use ghcr_sim::Cassette;
use ghcr_types::{Digest, Manifest, MediaType, Package, PackageVersion, Reference, Tag};

/// References, tags and digests: whatever parses prints a form that parses
/// back to the same value. Parsed: a reference or a digest.
pub fn reference(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let reference = Reference::parse(text);
    if let Ok(parsed) = &reference {
        let printed = parsed.to_string();
        let again = Reference::parse(&printed)
            .unwrap_or_else(|err| panic!("`{printed}` (from `{text}`) does not parse: {err}"));
        assert_eq!(&again, parsed, "`{text}` printed as `{printed}`");
        // The parts a request is built from are slices of what was parsed.
        assert!(parsed.repository().starts_with(parsed.owner()));
        assert!(parsed.repository().ends_with(parsed.package_name()));
        assert!(!parsed.manifest_reference().is_empty());
        let bare = parsed.without_tag_or_digest();
        assert_eq!(
            Reference::new(bare.registry(), bare.repository()).ok(),
            Some(bare)
        );
    }
    // Another default registry must not change what a full reference means.
    if let Ok(parsed) = Reference::parse_in(text, "localhost:5000") {
        assert_eq!(Reference::parse(&parsed.to_string()).ok(), Some(parsed));
    }
    if let Ok(tag) = Tag::parse(text) {
        assert_eq!(tag.as_str(), text);
    }
    let digest = Digest::parse(text);
    if let Ok(digest) = &digest {
        assert_eq!(digest.to_string(), text);
        assert_eq!(
            digest.as_str(),
            format!("{}:{}", digest.algorithm_name(), digest.encoded())
        );
    }
    reference.is_ok() || digest.is_ok()
}

/// `WWW-Authenticate` values, one per line: whatever parses, written back as
/// a header, parses to the same challenges. Parsed: at least one challenge.
pub fn www_authenticate(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(challenges) = Challenge::parse_all(text.lines()) else {
        return false;
    };
    // A value without a challenge is an error, so each value gave at least one.
    assert!(
        challenges.len() >= text.lines().count(),
        "`{text}` gave {challenges:?}"
    );
    if challenges.is_empty() {
        return false;
    }
    for challenge in &challenges {
        // Accessors a token fetch calls.
        let _ = (challenge.realm(), challenge.service(), challenge.error());
        assert!(challenge.scopes().iter().all(|scope| !scope.is_empty()));
    }
    let written = write_challenges(&challenges);
    match Challenge::parse_all([written.as_str()]) {
        Ok(again) => assert_eq!(again, challenges, "`{text}` written as `{written}`"),
        // Escaping quotes and backslashes can take the text past the size limit.
        Err(ghcr_auth::Error::ChallengeTooLong { .. }) => {}
        Err(err) => panic!("`{written}` (from `{text}`) does not parse: {err}"),
    }
    true
}

/// A header value for `challenges`, every parameter value quoted.
fn write_challenges(challenges: &[Challenge]) -> String {
    let written: Vec<String> = challenges
        .iter()
        .map(|challenge| {
            let scheme = match &challenge.scheme {
                AuthScheme::Bearer => "Bearer",
                AuthScheme::Basic => "Basic",
                AuthScheme::Other(name) => name.as_str(),
                other => panic!("a scheme this check does not know: {other:?}"),
            };
            if let Some(token68) = &challenge.token68 {
                return format!("{scheme} {token68}");
            }
            let params: Vec<String> = challenge
                .params
                .iter()
                .map(|(name, value)| {
                    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
                    format!("{name}=\"{escaped}\"")
                })
                .collect();
            if params.is_empty() {
                scheme.to_owned()
            } else {
                format!("{scheme} {}", params.join(", "))
            }
        })
        .collect();
    written.join(", ")
}

/// `Link` values, one per line: a `next` target is text that stood between
/// `<` and `>` in one of them. Parsed: a `next` target was found.
pub fn link(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let values: Vec<&str> = text.lines().collect();
    let next = ghcr_transport::next_link(values.iter().copied());
    if let Some(next) = next {
        assert!(!next.contains('>'), "`{next}` holds `>`");
        assert_eq!(next, next.trim(), "`{next}` is not trimmed");
        assert!(
            values.iter().any(|value| in_angle_brackets(value, next)),
            "`{next}` is not in angle brackets in {values:?}"
        );
    }
    next.is_some()
}

/// Whether `value` holds `<url>`, with only whitespace around `url` inside
/// the brackets. Matches may overlap (`<<<>` holds `<<>` at its second byte).
fn in_angle_brackets(value: &str, url: &str) -> bool {
    value
        .char_indices()
        .map(|(start, _)| start)
        .chain([value.len()])
        .any(|start| {
            value[start..].starts_with(url)
                && value[..start].trim_end().ends_with('<')
                && value[start + url.len()..].trim_start().starts_with('>')
        })
}

/// The content types a manifest can arrive with, chosen by the input's first byte.
const CONTENT_TYPES: [Option<&str>; 8] = [
    None,
    Some("application/vnd.oci.image.manifest.v1+json"),
    Some("application/vnd.oci.image.index.v1+json"),
    Some("application/vnd.docker.distribution.manifest.v2+json"),
    Some("application/vnd.docker.distribution.manifest.list.v2+json"),
    Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
    Some("application/json"),
    Some("text/plain; charset=utf-8"),
];

/// Manifests and indexes: the first byte picks the content type (`'0'` for
/// none, see [`CONTENT_TYPES`]), the rest is the body. A parsed manifest keeps
/// its exact bytes and their digest, reparses the same, and its oci-spec value
/// serialises to a manifest that parses too.
pub fn manifest(data: &[u8]) -> bool {
    let Some((&selector, body)) = data.split_first() else {
        return false;
    };
    let content_type = CONTENT_TYPES[usize::from(selector) % CONTENT_TYPES.len()];
    let Ok(parsed) = Manifest::from_bytes(body.to_vec(), content_type) else {
        return false;
    };
    assert_eq!(parsed.bytes().as_ref(), body);
    assert_eq!(parsed.digest(), &Digest::sha256_of(body));
    assert!(parsed.verify(&Digest::sha256_of(body)).is_ok());
    assert_eq!(parsed.size(), body.len() as u64);
    assert!(parsed.media_type().is_manifest());
    assert_eq!(parsed.is_index(), parsed.media_type().is_index());
    let again = Manifest::from_bytes(body.to_vec(), Some(parsed.media_type().as_str()))
        .unwrap_or_else(|err| panic!("reparsing with {} failed: {err}", parsed.media_type()));
    assert_eq!(again, parsed);
    assert_eq!(again.body(), parsed.body());
    // Each descriptor was validated, so each digest it names is kept.
    let descriptors = if parsed.is_index() {
        parsed.children().len()
    } else {
        1 + parsed.layers().len()
    } + usize::from(parsed.subject().is_some());
    assert_eq!(parsed.referenced_digests().len(), descriptors);
    assert_eq!(
        parsed.children_with_platforms().count(),
        parsed.children().len()
    );
    let _ = (
        parsed.platforms(),
        parsed.referenced_size(),
        parsed.artifact_type(),
        parsed.annotations(),
        parsed.descriptor(),
    );
    for platform in parsed.platforms() {
        assert!(
            parsed.child_for(&platform).is_some(),
            "no child for {platform}"
        );
    }
    let rebuilt = match (parsed.as_image(), parsed.as_index()) {
        (Some(image), _) => Manifest::from_image(image),
        (None, Some(index)) => Manifest::from_index(index),
        (None, None) => panic!("a manifest that is neither image nor index"),
    };
    let rebuilt = rebuilt.unwrap_or_else(|err| panic!("serialised again, it fails: {err}"));
    assert_eq!(rebuilt.is_index(), parsed.is_index());
    assert_eq!(rebuilt.referenced_digests(), parsed.referenced_digests());
    if let Ok(media_type) = MediaType::parse(content_type.unwrap_or_default()) {
        assert_eq!(MediaType::parse(media_type.as_str()).ok(), Some(media_type));
    }
    true
}

/// GitHub's package and package-version objects, alone or in a list page:
/// what parses serialises to JSON that parses to the same value. Parsed:
/// as any of the four.
pub fn github_json(data: &[u8]) -> bool {
    let package = round_trip::<Package>(data).is_some();
    let packages = round_trip::<Vec<Package>>(data).is_some();
    let version = round_trip::<PackageVersion>(data);
    if let Some(version) = &version {
        let _ = version.digest();
        assert_eq!(version.is_tagged(), !version.tags().is_empty());
    }
    let versions = round_trip::<Vec<PackageVersion>>(data).is_some();
    package || packages || version.is_some() || versions
}

fn round_trip<T>(data: &[u8]) -> Option<T>
where
    T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    let parsed: T = serde_json::from_slice(data).ok()?;
    let written = serde_json::to_vec(&parsed)
        .unwrap_or_else(|err| panic!("{parsed:?} does not serialise: {err}"));
    let again: T = serde_json::from_slice(&written).unwrap_or_else(|err| {
        panic!(
            "`{}` does not parse: {err}",
            String::from_utf8_lossy(&written)
        )
    });
    assert_eq!(again, parsed);
    Some(parsed)
}

/// `cassette.json` files: what loads saves to a folder that loads the same.
/// Parsed: it loaded.
pub fn cassette(data: &[u8]) -> bool {
    let folder = ScratchFolder::new();
    let first = folder.path().join("first");
    std::fs::create_dir_all(&first).expect("scratch folder");
    std::fs::write(first.join("cassette.json"), data).expect("scratch cassette");
    let Ok(loaded) = Cassette::load(&first) else {
        return false;
    };
    for interaction in loaded.interactions() {
        let _ = (
            interaction.describe(),
            interaction.status(),
            interaction.error(),
            interaction.response_body(),
            interaction.request_header("authorization"),
        );
    }
    let second = folder.path().join("second");
    loaded
        .save(&second)
        .unwrap_or_else(|err| panic!("a loaded cassette does not save: {err}"));
    let again = Cassette::load(&second)
        .unwrap_or_else(|err| panic!("a saved cassette does not load: {err}"));
    assert_eq!(again, loaded);
    true
}

/// A folder of its own under the system's temporary folder, removed on drop.
struct ScratchFolder(PathBuf);

impl ScratchFolder {
    fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "ghcr-fuzz-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Self(std::env::temp_dir().join(name))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
