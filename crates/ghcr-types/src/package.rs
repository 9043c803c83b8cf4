//! GitHub Packages objects, field for field as the REST API documents them
//! (`#/components/schemas/package` and `package-version`).
//!
//! Only what a client cannot work without is required: a package's `id`,
//! `name` and `package_type`, a version's `id`, `name` and `created_at`.
//! Every other field is an `Option`, because api.github.com leaves out some
//! the schema calls required (the list-packages answer has no
//! `version_count`); an absent field reads as `None`, never as a made-up value.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::Digest;
use crate::error::Result;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    };
}

id_type!(
    /// The numeric id of a package.
    PackageId
);
id_type!(
    /// The numeric id of a package version, used to delete and restore it.
    PackageVersionId
);

macro_rules! lenient_enum {
    ($(#[$doc:meta])* $name:ident { $( $(#[$vdoc:meta])* $variant:ident => $text:literal, )* }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )*
            /// A value this crate does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value as GitHub spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Other(text) => text,
                }
            }

            /// Parses a value; unknown values become `Other`.
            pub fn parse(text: &str) -> Self {
                match text {
                    $( $text => Self::$variant, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
                Ok(Self::parse(&String::deserialize(deserializer)?))
            }
        }
    };
}

lenient_enum!(
    /// Who can see a package. Visibility belongs to the whole package, never to
    /// a version, and GitHub offers no API to change it.
    Visibility {
        /// Anyone can pull.
        Public => "public",
        /// Only people and repositories granted access.
        Private => "private",
        /// Members of the enterprise (a list filter; packages report public or private).
        Internal => "internal",
    }
);

lenient_enum!(
    /// The ecosystem of a package.
    PackageType {
        /// npm.
        Npm => "npm",
        /// Maven.
        Maven => "maven",
        /// RubyGems.
        Rubygems => "rubygems",
        /// The retired docker.pkg.github.com registry.
        Docker => "docker",
        /// NuGet.
        Nuget => "nuget",
        /// ghcr.io container images.
        Container => "container",
    }
);

/// The kind of account that owns packages (the design's `OwnerType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OwnerType {
    /// The account of the token in use (`/user/...` endpoints).
    AuthenticatedUser,
    /// A named user (`/users/{username}/...`).
    User,
    /// An organization (`/orgs/{org}/...`).
    Organization,
}

/// An account that owns packages, as the REST paths address it.
///
/// ```
/// use ghcr_types::{Owner, OwnerType};
///
/// assert_eq!(Owner::org("github").api_path(), "/orgs/github");
/// assert_eq!(Owner::user("octocat").api_path(), "/users/octocat");
/// assert_eq!(Owner::AuthenticatedUser.api_path(), "/user");
/// assert_eq!(Owner::new(OwnerType::Organization, "github"), Owner::org("github"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Owner {
    /// The account of the token in use.
    AuthenticatedUser,
    /// A user, by login.
    User(String),
    /// An organization, by login.
    Org(String),
}

impl Owner {
    /// An owner of `kind` named `name` (ignored for the authenticated user).
    pub fn new(kind: OwnerType, name: &str) -> Self {
        match kind {
            OwnerType::AuthenticatedUser => Self::AuthenticatedUser,
            OwnerType::User => Self::user(name),
            OwnerType::Organization => Self::org(name),
        }
    }

    /// A user by login.
    pub fn user(login: &str) -> Self {
        Self::User(login.to_owned())
    }

    /// An organization by login.
    pub fn org(login: &str) -> Self {
        Self::Org(login.to_owned())
    }

    /// The kind of owner.
    pub fn owner_type(&self) -> OwnerType {
        match self {
            Self::AuthenticatedUser => OwnerType::AuthenticatedUser,
            Self::User(_) => OwnerType::User,
            Self::Org(_) => OwnerType::Organization,
        }
    }

    /// The login, when the owner is named.
    pub fn login(&self) -> Option<&str> {
        match self {
            Self::AuthenticatedUser => None,
            Self::User(login) | Self::Org(login) => Some(login),
        }
    }

    /// The path prefix of the owner's package endpoints.
    pub fn api_path(&self) -> String {
        match self {
            Self::AuthenticatedUser => "/user".to_owned(),
            Self::User(login) => format!("/users/{login}"),
            Self::Org(login) => format!("/orgs/{login}"),
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AuthenticatedUser => f.write_str("the authenticated user"),
            Self::User(login) => write!(f, "user {login}"),
            Self::Org(login) => write!(f, "organization {login}"),
        }
    }
}

/// The owner object of a package (GitHub's `simple-user`); fields the
/// client does not read are kept in `other` so nothing is lost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackageOwner {
    /// Login of the user or organization.
    pub login: String,
    /// Numeric account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// `User` or `Organization`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The account's page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html_url: Option<String>,
    /// Every other documented field, as sent.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// The repository a package is linked to (GitHub's `minimal-repository`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackageRepository {
    /// Numeric repository id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Repository name without owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `owner/name`.
    pub full_name: String,
    /// Whether the repository is private.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<bool>,
    /// The repository's page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html_url: Option<String>,
    /// Every other documented field, as sent.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// A package: for ghcr.io, one image repository such as `app` or `team/app`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Package {
    /// Numeric id.
    pub id: PackageId,
    /// Name within the owner, unencoded (`team/app`).
    pub name: String,
    /// The ecosystem; `container` for ghcr.io.
    pub package_type: PackageType,
    /// The owning account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<PackageOwner>,
    /// How many versions the package has; the list-packages answer of
    /// api.github.com leaves it out (the schema calls it required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_count: Option<u64>,
    /// Who can see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    /// The package's API URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The package's page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html_url: Option<String>,
    /// The linked repository, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<PackageRepository>,
    /// When the package was created.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
    /// When the package last changed.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_at: Option<OffsetDateTime>,
}

/// Container details of a version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerMetadata {
    /// The tags that point at this version's digest.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Details of a version migrated from docker.pkg.github.com.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerMetadata {
    /// The tags, as the schema's `tag` property names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<Vec<String>>,
    /// The tags, as the schema's `required` list names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// Ecosystem-specific metadata of a version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageVersionMetadata {
    /// The ecosystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_type: Option<PackageType>,
    /// Present for container packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerMetadata>,
    /// Present for migrated docker packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<DockerMetadata>,
}

/// A version of a package: for ghcr.io, one manifest digest and its tags.
///
/// ```
/// use ghcr_types::PackageVersion;
///
/// let version: PackageVersion = serde_json::from_str(r#"{
///   "id": 836,
///   "name": "sha256:b3d3e366b55f9a54599220198b3db5da8f53592acbbb7dc7e4e9878762fc5344",
///   "url": "https://api.github.com/orgs/github/packages/container/hello_docker/versions/836",
///   "package_html_url": "https://github.com/orgs/github/packages/container/package/hello_docker",
///   "created_at": "2020-05-19T22:19:11Z",
///   "updated_at": "2020-05-19T22:19:11Z",
///   "metadata": { "package_type": "container", "container": { "tags": ["latest"] } }
/// }"#)?;
/// assert_eq!(version.tags(), ["latest"]);
/// assert_eq!(version.digest()?.encoded().len(), 64);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackageVersion {
    /// Numeric id, for delete and restore.
    pub id: PackageVersionId,
    /// For container packages, the manifest digest.
    pub name: String,
    /// The version's API URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The package's page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_html_url: Option<String>,
    /// The version's page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html_url: Option<String>,
    /// License, when the ecosystem has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Description, when the ecosystem has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When the version was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the version last changed.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_at: Option<OffsetDateTime>,
    /// When the version was deleted (listed with `state=deleted`).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub deleted_at: Option<OffsetDateTime>,
    /// Ecosystem metadata; container tags live here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<PackageVersionMetadata>,
}

impl PackageVersion {
    /// The manifest digest of a container version (its `name`).
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidDigest`] when the name is not a digest (a
    /// version of another ecosystem).
    pub fn digest(&self) -> Result<Digest> {
        Digest::parse(&self.name)
    }

    /// The tags pointing at this version; empty when untagged.
    pub fn tags(&self) -> &[String] {
        let Some(metadata) = &self.metadata else {
            return &[];
        };
        if let Some(container) = &metadata.container {
            return &container.tags;
        }
        metadata
            .docker
            .as_ref()
            .and_then(|docker| docker.tags.as_ref().or(docker.tag.as_ref()))
            .map_or(&[], Vec::as_slice)
    }

    /// Whether any tag points at this version.
    pub fn is_tagged(&self) -> bool {
        !self.tags().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `package` example exactly as GitHub documents it.
    const PACKAGE: &str = r#"{
      "id": 197, "name": "hello_docker", "package_type": "container",
      "owner": {
        "login": "github", "id": 9919, "node_id": "MDEyOk9yZ2FuaXphdGlvbjk5MTk=",
        "avatar_url": "https://avatars.githubusercontent.com/u/9919?v=4", "gravatar_id": "",
        "url": "https://api.github.com/users/github", "html_url": "https://github.com/github",
        "followers_url": "https://api.github.com/users/github/followers",
        "following_url": "https://api.github.com/users/github/following{/other_user}",
        "gists_url": "https://api.github.com/users/github/gists{/gist_id}",
        "starred_url": "https://api.github.com/users/github/starred{/owner}{/repo}",
        "subscriptions_url": "https://api.github.com/users/github/subscriptions",
        "organizations_url": "https://api.github.com/users/github/orgs",
        "repos_url": "https://api.github.com/users/github/repos",
        "events_url": "https://api.github.com/users/github/events{/privacy}",
        "received_events_url": "https://api.github.com/users/github/received_events",
        "type": "Organization", "site_admin": false
      },
      "version_count": 1, "visibility": "private",
      "url": "https://api.github.com/orgs/github/packages/container/hello_docker",
      "created_at": "2020-05-19T22:19:11Z", "updated_at": "2020-05-19T22:19:11Z",
      "html_url": "https://github.com/orgs/github/packages/container/package/hello_docker"
    }"#;

    #[test]
    fn documented_package_example() {
        let package: Package = serde_json::from_str(PACKAGE).unwrap();
        assert_eq!(package.id, PackageId(197));
        assert_eq!(package.package_type, PackageType::Container);
        assert_eq!(package.visibility, Some(Visibility::Private));
        let owner = package.owner.as_ref().unwrap();
        assert_eq!(
            (
                owner.login.as_str(),
                owner.kind.as_deref().unwrap_or_default()
            ),
            ("github", "Organization")
        );
        assert_eq!(owner.other["node_id"], "MDEyOk9yZ2FuaXphdGlvbjk5MTk=");
        assert_eq!(
            package.created_at.map(OffsetDateTime::unix_timestamp),
            Some(1_589_926_751)
        );
        // Nothing documented is lost in a round trip.
        let original: serde_json::Value = serde_json::from_str(PACKAGE).unwrap();
        assert_eq!(serde_json::to_value(&package).unwrap(), original);
    }

    #[test]
    fn visibility_is_lenient() {
        let v: Visibility = serde_json::from_str("\"internal\"").unwrap();
        assert_eq!(v, Visibility::Internal);
        let v: Visibility = serde_json::from_str("\"limited\"").unwrap();
        assert_eq!(v, Visibility::Other("limited".into()));
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"limited\"");
    }

    #[test]
    fn version_tags_and_digest() {
        let mut version: PackageVersion = serde_json::from_value(serde_json::json!({
            "id": 1, "name": "sha256:b3d3e366b55f9a54599220198b3db5da8f53592acbbb7dc7e4e9878762fc5344",
            "url": "u", "package_html_url": "p",
            "created_at": "2011-04-10T20:09:31Z", "updated_at": "2014-03-03T18:58:10.123Z",
            "deleted_at": "2014-03-03T18:58:10Z",
            "metadata": {"package_type": "container", "container": {"tags": []}}
        }))
        .unwrap();
        assert!(!version.is_tagged());
        assert!(version.deleted_at.is_some());
        version.metadata = Some(PackageVersionMetadata {
            package_type: Some(PackageType::Docker),
            container: None,
            docker: Some(DockerMetadata {
                tag: Some(vec!["old".into()]),
                tags: None,
            }),
        });
        assert_eq!(version.tags(), ["old"]);
        version.name = "1.0.0".into();
        assert!(version.digest().is_err());
    }

    #[test]
    fn missing_required_field_is_an_error() {
        let err = serde_json::from_str::<Package>(r#"{"id":1,"name":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field"));
    }
}
