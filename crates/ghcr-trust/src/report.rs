//! What a verification found: every candidate signature, verified or
//! refused with its reason.

use ghcr_registry::ReferrersSource;
use ghcr_types::Digest;

use crate::error::Error;
use crate::verify::Verified;

/// Where a candidate signature was found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// cosign's legacy `sha256-<hex>.sig` tag in the image's repository.
    SigTag {
        /// The tag.
        tag: String,
    },
    /// A signature manifest whose `subject` is the image.
    Referrer {
        /// The referrers API, or its `sha256-<hex>` tag fallback.
        via: ReferrersSource,
    },
}

impl Source {
    /// A stable word for JSON: `sig_tag`, `referrers_api`, `referrers_tag`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::SigTag { .. } => "sig_tag",
            Self::Referrer {
                via: ReferrersSource::Api,
            } => "referrers_api",
            Self::Referrer { .. } => "referrers_tag",
        }
    }
}

/// One candidate signature (one layer of a signature manifest).
#[derive(Debug)]
#[non_exhaustive]
pub struct Checked {
    /// The signature manifest it is a layer of.
    pub manifest: Digest,
    /// The layer (its payload's digest), where the manifest named one.
    pub layer: Option<Digest>,
    /// Where the manifest was found.
    pub source: Source,
    /// Verified, or why not.
    pub outcome: Result<Verified, Error>,
}

/// Every signature found for one image, and what became of it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Verification {
    /// The digest verified against (the reference's, resolved once).
    pub image: Digest,
    /// Each candidate, in discovery order: the `.sig` tag's layers, then
    /// the referrers'.
    pub checked: Vec<Checked>,
}

impl Verification {
    /// The signatures that verified.
    pub fn verified(&self) -> impl Iterator<Item = (&Checked, &Verified)> {
        self.checked
            .iter()
            .filter_map(|checked| checked.outcome.as_ref().ok().map(|v| (checked, v)))
    }

    /// The candidates refused, with their reasons.
    pub fn refused(&self) -> impl Iterator<Item = (&Checked, &Error)> {
        self.checked
            .iter()
            .filter_map(|checked| checked.outcome.as_ref().err().map(|e| (checked, e)))
    }

    /// Whether at least one signature verified under the policy.
    pub fn is_verified(&self) -> bool {
        self.verified().next().is_some()
    }
}
