//! Image references: `[registry/]repository[:tag][@digest]`.

pub mod docker_hub;
mod parse;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Digest;
use crate::error::{Error, Result};

/// The registry a reference names when it names none.
pub const DEFAULT_REGISTRY: &str = "ghcr.io";

/// Longest repository path accepted, in bytes.
pub const MAX_REPOSITORY_LENGTH: usize = 255;

/// A validated tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
///
/// ```
/// use ghcr_types::Tag;
///
/// assert_eq!(Tag::parse("v1.2.3")?.as_str(), "v1.2.3");
/// assert!(Tag::parse(".hidden").is_err());
/// assert!(Tag::parse(&"a".repeat(129)).is_err());
/// # Ok::<(), ghcr_types::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(Box<str>);

impl Tag {
    /// Longest tag accepted, in bytes.
    pub const MAX_LENGTH: usize = 128;

    /// Validates a tag.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] naming the tag and the rule it breaks.
    pub fn parse(input: &str) -> Result<Self> {
        parse::validate_tag(input).map_err(|reason| Error::reference(input, reason))?;
        Ok(Self(input.into()))
    }

    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({})", self.0)
    }
}

impl FromStr for Tag {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl AsRef<str> for Tag {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A parsed image reference.
///
/// The registry is always known: when the text names none, the default
/// registry (`ghcr.io`, or the one given to [`Reference::parse_in`]) is used.
/// `Display` prints the full form and round-trips through [`Reference::parse`].
///
/// ```
/// use ghcr_types::Reference;
///
/// let r: Reference = "ghcr.io/octo-org/app:v1".parse()?;
/// assert_eq!(r.registry(), "ghcr.io");
/// assert_eq!(r.repository(), "octo-org/app");
/// assert_eq!(r.tag().map(|t| t.as_str()), Some("v1"));
/// assert_eq!(r.manifest_reference(), "v1");
///
/// let local = Reference::parse("localhost:5000/team/tool@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")?;
/// assert_eq!(local.registry(), "localhost:5000");
/// assert!(local.tag().is_none());
///
/// // ghcr.io needs an owner in front of the image name.
/// let err = Reference::parse("alpine").unwrap_err();
/// assert!(err.to_string().contains("owner"));
/// # Ok::<(), ghcr_types::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: Box<str>,
    repository: Box<str>,
    tag: Option<Tag>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses a reference, defaulting the registry to `ghcr.io`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] naming the part that is wrong.
    pub fn parse(input: &str) -> Result<Self> {
        Self::parse_in(input, DEFAULT_REGISTRY)
    }

    /// Parses a reference, using `default_registry` when the text names no registry.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] naming the part that is wrong, including a
    /// `default_registry` that is not a valid host.
    pub fn parse_in(input: &str, default_registry: &str) -> Result<Self> {
        parse::parse(input, default_registry)
    }

    /// Builds a reference from parts, validating each.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] naming the part that is wrong.
    pub fn new(registry: &str, repository: &str) -> Result<Self> {
        parse::from_parts(registry, repository)
    }

    /// The host requests go to: the registry, except Docker Hub's
    /// `registry-1.docker.io` for `docker.io`.
    pub fn api_host(&self) -> &str {
        docker_hub::api_host(&self.registry)
    }

    /// The registry host, with its port when one was given.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path, such as `octo-org/app`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, when one was given.
    pub fn tag(&self) -> Option<&Tag> {
        self.tag.as_ref()
    }

    /// The digest, when one was given.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What to put after `/manifests/`: the digest when there is one (it is
    /// exact), else the tag, else `latest`.
    pub fn manifest_reference(&self) -> &str {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => digest.as_str(),
            (None, Some(tag)) => tag.as_str(),
            (None, None) => "latest",
        }
    }

    /// The first path component: the owner on ghcr.io.
    pub fn owner(&self) -> &str {
        self.repository
            .split_once('/')
            .map_or(&*self.repository, |(owner, _)| owner)
    }

    /// The path after the owner: the GitHub package name on ghcr.io
    /// (`app` for `octo-org/app`, `team/app` for `octo-org/team/app`).
    pub fn package_name(&self) -> &str {
        self.repository
            .split_once('/')
            .map_or(&*self.repository, |(_, rest)| rest)
    }

    /// The same repository with this tag instead of any tag or digest.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] when `tag` is not a valid tag.
    pub fn with_tag(&self, tag: &str) -> Result<Self> {
        Ok(Self {
            tag: Some(Tag::parse(tag)?),
            digest: None,
            ..self.without_tag_or_digest()
        })
    }

    /// The same repository pinned to `digest` (keeping the tag for display).
    #[must_use]
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// The same repository in another repository path on the same registry.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] when `repository` is not a valid path.
    pub fn with_repository(&self, repository: &str) -> Result<Self> {
        let base = Self::new(&self.registry, repository)?;
        Ok(Self {
            tag: self.tag.clone(),
            digest: self.digest.clone(),
            ..base
        })
    }

    /// The repository alone, with neither tag nor digest.
    #[must_use]
    pub fn without_tag_or_digest(&self) -> Self {
        Self {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: None,
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

impl FromStr for Reference {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for Reference {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}
