//! Platforms (`os/arch[/variant]`) with containerd's normalisation, so that
//! `linux/aarch64` finds the `linux/arm64/v8` image.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The platform an image manifest is built for.
///
/// ```
/// use ghcr_types::Platform;
///
/// let wanted: Platform = "linux/aarch64".parse()?;
/// let offered: Platform = "linux/arm64/v8".parse()?;
/// assert!(wanted.matches(&offered));
/// assert!(!wanted.matches(&"linux/amd64".parse()?));
/// assert_eq!(wanted.normalized().to_string(), "linux/arm64");
/// # Ok::<(), ghcr_types::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Platform {
    /// Operating system, as Go's `GOOS` names it (`linux`, `windows`).
    pub os: String,
    /// CPU architecture, as Go's `GOARCH` names it (`amd64`, `arm64`).
    pub architecture: String,
    /// CPU variant (`v7`, `v8`), when it matters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Operating system version (Windows builds).
    #[serde(
        default,
        rename = "os.version",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required operating system features.
    #[serde(default, rename = "os.features", skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
}

impl Platform {
    /// A platform from its parts.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        Self {
            os: os.to_owned(),
            architecture: architecture.to_owned(),
            variant: variant.map(str::to_owned),
            ..Self::default()
        }
    }

    /// Parses `os/arch[/variant]`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPlatform`] when a part is missing, empty or extra.
    pub fn parse(input: &str) -> Result<Self> {
        let fail = |reason: &str| Error::InvalidPlatform {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let parts: Vec<&str> = input.split('/').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(fail(
                "expected os/arch or os/arch/variant, like linux/arm64/v8",
            ));
        }
        if parts.iter().any(|part| part.is_empty()) {
            return Err(fail("a part is empty"));
        }
        if parts.iter().any(|part| {
            !part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        }) {
            return Err(fail(
                "parts may only hold letters, digits, `_`, `-` and `.`",
            ));
        }
        Ok(Self::new(parts[0], parts[1], parts.get(2).copied()))
    }

    /// The platform in containerd's canonical spelling: lowercase, `amd64`
    /// for `x86_64`, `arm64` without the default `v8`, `arm` with `v7` by
    /// default, `darwin` for `macos`.
    #[must_use]
    pub fn normalized(&self) -> Self {
        let os = match self.os.to_ascii_lowercase().as_str() {
            "macos" => "darwin".to_owned(),
            other => other.to_owned(),
        };
        let variant = self.variant.as_deref().map(str::to_ascii_lowercase);
        let architecture = self.architecture.to_ascii_lowercase();
        let (architecture, variant) = normalize_arch(&architecture, variant.as_deref());
        Self {
            os,
            architecture: architecture.to_owned(),
            variant: variant.filter(|v| !v.is_empty()),
            os_version: self.os_version.clone(),
            os_features: self.os_features.clone(),
        }
    }

    /// Whether an image for `offered` runs where `self` is wanted, comparing
    /// normalised os, architecture and variant.
    pub fn matches(&self, offered: &Self) -> bool {
        let wanted = self.normalized();
        let offered = offered.normalized();
        wanted.os == offered.os
            && wanted.architecture == offered.architecture
            && wanted.variant == offered.variant
    }

    /// Whether `offered` has the same os and architecture, whatever its variant.
    pub fn matches_ignoring_variant(&self, offered: &Self) -> bool {
        let wanted = self.normalized();
        let offered = offered.normalized();
        wanted.os == offered.os && wanted.architecture == offered.architecture
    }

    /// Picks the best of `candidates` for this platform: an exact match, or
    /// when none exists and no variant was asked for, the first with the same
    /// os and architecture.
    pub fn select<'a, T>(
        &self,
        candidates: impl IntoIterator<Item = (&'a Platform, T)>,
    ) -> Option<T> {
        let mut fallback = None;
        for (offered, item) in candidates {
            if self.matches(offered) {
                return Some(item);
            }
            if fallback.is_none()
                && self.variant.is_none()
                && self.matches_ignoring_variant(offered)
            {
                fallback = Some(item);
            }
        }
        fallback
    }
}

fn normalize_arch<'a>(
    architecture: &'a str,
    variant: Option<&'a str>,
) -> (&'a str, Option<String>) {
    let variant_text = variant.unwrap_or_default();
    match architecture {
        "i386" | "i686" | "386" | "x86" => ("386", None),
        "x86_64" | "x86-64" | "amd64" => (
            "amd64",
            match variant_text {
                "" | "v1" => None,
                other => Some(other.to_owned()),
            },
        ),
        "aarch64" | "arm64" => (
            "arm64",
            match variant_text {
                "" | "8" | "v8" | "v8.0" => None,
                "9" | "9.0" | "v9.0" => Some("v9".to_owned()),
                other => Some(other.to_owned()),
            },
        ),
        "armhf" => ("arm", Some("v7".to_owned())),
        "armel" => ("arm", Some("v6".to_owned())),
        "arm" => (
            "arm",
            Some(match variant_text {
                "" | "7" => "v7".to_owned(),
                "5" | "6" | "8" => format!("v{variant_text}"),
                other => other.to_owned(),
            }),
        ),
        other => (other, variant.map(str::to_owned)),
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl From<&oci_spec::image::Platform> for Platform {
    fn from(value: &oci_spec::image::Platform) -> Self {
        Self {
            os: value.os().to_string(),
            architecture: value.architecture().to_string(),
            variant: value.variant().clone(),
            os_version: value.os_version().clone(),
            os_features: value.os_features().clone().unwrap_or_default(),
        }
    }
}

impl From<&Platform> for oci_spec::image::Platform {
    fn from(value: &Platform) -> Self {
        let mut platform = oci_spec::image::Platform::default();
        platform.set_os(value.os.as_str().into());
        platform.set_architecture(value.architecture.as_str().into());
        platform.set_variant(value.variant.clone());
        platform.set_os_version(value.os_version.clone());
        platform
            .set_os_features((!value.os_features.is_empty()).then(|| value.os_features.clone()));
        platform
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(wanted: &str, offered: &str, expected: bool) {
        let wanted = Platform::parse(wanted).unwrap();
        let offered = Platform::parse(offered).unwrap();
        assert_eq!(wanted.matches(&offered), expected, "{wanted} vs {offered}");
    }

    #[test]
    fn matching_table() {
        check("linux/arm64", "linux/arm64/v8", true);
        check("linux/aarch64", "linux/arm64", true);
        check("linux/arm64/v8", "linux/arm64", true);
        check("linux/arm64", "linux/arm64/v9", false);
        check("linux/x86_64", "linux/amd64", true);
        check("Linux/AMD64", "linux/amd64", true);
        check("linux/amd64", "linux/arm64", false);
        check("linux/arm", "linux/arm/v7", true);
        check("linux/armhf", "linux/arm/v7", true);
        check("linux/armel", "linux/arm/v6", true);
        check("linux/arm/v6", "linux/arm/v7", false);
        check("linux/i686", "linux/386", true);
        check("macos/arm64", "darwin/arm64", true);
        check("windows/amd64", "linux/amd64", false);
        check("linux/riscv64", "linux/riscv64", true);
        check("linux/s390x", "linux/ppc64le", false);
    }

    #[test]
    fn parse_errors() {
        for bad in ["linux", "", "linux/", "/amd64", "a/b/c/d", "linux/am d64"] {
            assert!(Platform::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn select_prefers_exact_then_variant_free_fallback() {
        let v6 = Platform::parse("linux/arm/v6").unwrap();
        let v7 = Platform::parse("linux/arm/v7").unwrap();
        let amd = Platform::parse("linux/amd64/v3").unwrap();
        let candidates = [(&v6, "v6"), (&v7, "v7"), (&amd, "amd")];
        assert_eq!(
            Platform::parse("linux/arm").unwrap().select(candidates),
            Some("v7")
        );
        assert_eq!(
            Platform::parse("linux/arm/v6").unwrap().select(candidates),
            Some("v6")
        );
        assert_eq!(
            Platform::parse("linux/amd64").unwrap().select(candidates),
            Some("amd")
        );
        assert_eq!(
            Platform::parse("linux/amd64/v2")
                .unwrap()
                .select(candidates),
            None
        );
        assert_eq!(
            Platform::parse("linux/arm64").unwrap().select(candidates),
            None
        );
    }

    #[test]
    fn converts_with_oci_spec() {
        let platform = Platform::parse("linux/arm/v7").unwrap();
        let oci: oci_spec::image::Platform = (&platform).into();
        assert_eq!(Platform::from(&oci), platform);
    }
}
