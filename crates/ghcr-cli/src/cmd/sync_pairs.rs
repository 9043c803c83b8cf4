//! Sync pairs from TOML, for `ghcr sync --config FILE` and the `[[sync]]`
//! entries of `ghcr serve`'s policy file. Unknown keys are errors (with
//! their line, from the TOML reader), as are a bad tag pattern and a target
//! that is its own source, before any request.
//!
//! ```toml
//! [[sync]]
//! source = "docker.io/library/alpine"   # a repository; a tag is ignored
//! target = "ghcr.io/octo-org/alpine"
//! tags = '^3\.'                          # optional, as --tags
//! semver = ">=3.18, <4"                  # optional, as --semver
//! newest = 5                             # optional, as --newest
//! no_referrers = false                   # optional
//! platforms = ["linux/amd64"]            # optional, as --platform
//! concurrency = 1                        # optional: images at once
//! ```

use ghcr::registry::SyncOptions;
use ghcr::types::Reference;
use serde::Deserialize;

/// One `[[sync]]` entry as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Entry {
    pub(crate) source: String,
    pub(crate) target: String,
    #[serde(default)]
    pub(crate) tags: Option<String>,
    #[serde(default)]
    pub(crate) semver: Option<String>,
    #[serde(default)]
    pub(crate) newest: Option<usize>,
    #[serde(default)]
    pub(crate) no_referrers: bool,
    #[serde(default)]
    pub(crate) platforms: Vec<String>,
    #[serde(default)]
    pub(crate) concurrency: Option<usize>,
}

/// A pair ready to plan.
#[derive(Clone, Debug)]
pub(crate) struct Pair {
    pub(crate) source: Reference,
    pub(crate) target: Reference,
    pub(crate) options: SyncOptions,
}

/// A file of only `[[sync]]` entries (`ghcr sync --config`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    sync: Vec<Entry>,
}

/// Parses a file of `[[sync]]` entries; references without a registry are
/// on `registry`.
pub(crate) fn parse_file(text: &str, registry: &str) -> Result<Vec<Pair>, String> {
    let file: File = toml::from_str(text).map_err(|error| error.to_string())?;
    if file.sync.is_empty() {
        return Err("no [[sync]] entry: nothing to run".into());
    }
    pairs(file.sync, registry)
}

/// Checks entries and turns them into pairs, naming the entry at fault.
pub(crate) fn pairs(entries: Vec<Entry>, registry: &str) -> Result<Vec<Pair>, String> {
    entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            pair(entry, registry).map_err(|error| format!("sync #{}: {error}", index + 1))
        })
        .collect()
}

/// Checks one entry (a `[[sync]]` table, or `ghcr sync`'s arguments).
pub(crate) fn pair(entry: Entry, registry: &str) -> Result<Pair, String> {
    let reference = |what: &str, text: &str| {
        Reference::parse_in(text, registry)
            .map(|r| r.without_tag_or_digest())
            .map_err(|error| format!("{what} `{text}`: {error}"))
    };
    let source = reference("source", &entry.source)?;
    let target = reference("target", &entry.target)?;
    if source == target {
        return Err(format!(
            "target `{}` is the source; name another repository",
            entry.target
        ));
    }
    let mut options = SyncOptions::new();
    if let Some(pattern) = entry.tags {
        options = options.tags(pattern);
    }
    if let Some(range) = entry.semver {
        options = options.semver(range);
    }
    if let Some(n) = entry.newest {
        options = options.newest(n);
    }
    if entry.no_referrers {
        options = options.no_referrers();
    }
    if let Some(images) = entry.concurrency {
        options = options.concurrency(images);
    }
    let mut platforms = Vec::new();
    for text in &entry.platforms {
        platforms.push(
            ghcr::types::Platform::parse(text)
                .map_err(|error| format!("platform `{text}`: {error}"))?,
        );
    }
    options = options.platforms(platforms);
    options.validate().map_err(|error| error.to_string())?;
    Ok(Pair {
        source,
        target,
        options,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_read_and_bad_ones_say_what_is_wrong() {
        let pairs = parse_file(
            "[[sync]]\nsource = \"docker.io/alpine:3\"\ntarget = \"octo/alpine\"\ntags = '^3'\nnewest = 2\n",
            "ghcr.io",
        )
        .unwrap();
        assert_eq!(pairs[0].source.to_string(), "docker.io/library/alpine");
        assert_eq!(pairs[0].target.to_string(), "ghcr.io/octo/alpine");
        assert_eq!(pairs[0].options.newest, Some(2));
        for (text, expected) in [
            ("", "no [[sync]]"),
            (
                "[[sync]]\nsource = \"a/b\"\ntarget = \"a/c\"\ntagz = \"x\"\n",
                "unknown field `tagz`",
            ),
            (
                "[[sync]]\nsource = \"a/b\"\ntarget = \"a/c\"\ntags = \"(\"\n",
                "sync #1",
            ),
            (
                "[[sync]]\nsource = \"a/b\"\ntarget = \"ghcr.io/a/b:v1\"\n",
                "is the source",
            ),
            (
                "[[sync]]\nsource = \"a/b\"\ntarget = \"Not A Ref\"\n",
                "target `Not A Ref`",
            ),
            ("[[sync]]\nsource = \"a/b\"\n", "missing field `target`"),
            (
                "[[sync]]\nsource = \"a/b\"\ntarget = \"a/c\"\nsemver = \"~>1\"\n",
                "semver range `~>1`",
            ),
        ] {
            let error = parse_file(text, "ghcr.io").unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
        let unknown = parse_file(
            "[[sync]]\nsource = \"a/b\"\ntarget = \"a/c\"\n\n\ntagz = 1\n",
            "ghcr.io",
        )
        .unwrap_err();
        assert!(unknown.contains("line 6"), "{unknown}");
    }
}
