//! The Fulcio signing certificate: its chain to a trusted CA, its
//! validity at the signing time, its code-signing usage, its key, and
//! the identity it names (SAN, OIDC issuer, Fulcio's extensions).

use x509_cert::Certificate;
use x509_cert::der::asn1::{ObjectIdentifier, Utf8StringRef};
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};

use crate::ec::{EcKey, Hash};
use crate::error::{Error, Result};
use crate::identity::{CertificateIdentity, Claims};
use crate::trusted_root::TrustedRoot;

const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");

/// Fulcio's extensions: 1.3.6.1.4.1.57264.1.N (sigstore/fulcio
/// docs/oid-info.md).
fn fulcio(n: u32) -> ObjectIdentifier {
    const BASE: [u32; 8] = [1, 3, 6, 1, 4, 1, 57264, 1];
    let mut arcs = BASE.to_vec();
    arcs.push(n);
    // 1.3.6.1.4.1.57264.1.N is always a valid OID.
    ObjectIdentifier::from_arcs(arcs).unwrap_or(CODE_SIGNING)
}

/// A parsed signing certificate and its key.
pub(crate) struct Leaf {
    pub(crate) cert: Certificate,
    pub(crate) key: EcKey,
}

impl Leaf {
    /// Parses the DER certificate and its ECDSA key.
    pub(crate) fn parse(der: &[u8]) -> Result<Self> {
        let cert = Certificate::from_der(der).map_err(|error| Error::InvalidBundle {
            reason: format!("the certificate is not DER X.509: {error}"),
        })?;
        let key = spki_key(&cert).ok_or_else(|| Error::UnsupportedBundle {
            reason: "the certificate's key is not ECDSA P-256 or P-384".to_owned(),
        })?;
        Ok(Self { cert, key })
    }

    /// Checks the certificate chains to a CA of `roots` valid at `at`
    /// (Unix seconds), is itself valid at `at`, and is for code signing.
    pub(crate) fn check(&self, roots: &TrustedRoot, at: i64) -> Result<()> {
        let (not_before, not_after) = validity(&self.cert);
        if at < not_before || at > not_after {
            return Err(Error::CertificateNotValid {
                not_before: date(not_before),
                not_after: date(not_after),
                signed_at: date(at),
            });
        }
        let eku = self
            .cert
            .tbs_certificate()
            .get_extension::<ExtendedKeyUsage>()
            .map_err(|error| Error::CertificateUsage {
                reason: format!("its extended key usage does not decode: {error}"),
            })?;
        if !eku.is_some_and(|(_, eku)| eku.0.contains(&CODE_SIGNING)) {
            return Err(Error::CertificateUsage {
                reason: "it is not for code signing (no extended key usage 1.3.6.1.5.5.7.3.3)"
                    .to_owned(),
            });
        }
        if roots.authorities.is_empty() {
            return Err(Error::UntrustedCertificate {
                reason: "the trusted root names no Fulcio CA".to_owned(),
            });
        }
        let mut reason = String::new();
        for ca in &roots.authorities {
            if !ca.valid.contains(at) {
                reason = format!("the CA {} was not valid at the signing time", ca.uri);
                continue;
            }
            let Some(issuer) = ca.chain.first() else {
                continue;
            };
            if !signed_by(&self.cert, issuer) {
                if reason.is_empty() {
                    "no trusted Fulcio CA issued it".clone_into(&mut reason);
                }
                continue;
            }
            // The CA's own certificates are the trust anchors the root
            // names: their signatures over each other add nothing, but
            // each must have been valid at the signing time.
            let chain_ok = ca.chain.iter().all(|c| {
                let (from, to) = validity(c);
                from <= at && at <= to
            });
            if chain_ok {
                return crate::bundle::sct::check(&self.cert, issuer, roots);
            }
            reason = format!(
                "a certificate of the CA {} was not valid at the signing time",
                ca.uri
            );
        }
        Err(Error::UntrustedCertificate { reason })
    }

    /// The identity the certificate names.
    pub(crate) fn identity(&self, signed_at: i64) -> Result<CertificateIdentity> {
        let tbs = self.cert.tbs_certificate();
        let san = tbs
            .get_extension::<SubjectAltName>()
            .ok()
            .flatten()
            .and_then(|(_, san)| {
                san.0.into_iter().find_map(|name| match name {
                    GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
                    GeneralName::Rfc822Name(email) => Some(email.to_string()),
                    _ => None,
                })
            })
            .ok_or_else(|| Error::IdentityMismatch {
                reason: "the certificate names no URI or email subject alternative name".to_owned(),
            })?;
        let raw = |n: u32| -> Option<String> {
            let oid = fulcio(n);
            tbs.extensions()?
                .iter()
                .find(|ext| ext.extn_id == oid)
                .map(|ext| ext.extn_value.as_bytes().to_vec())
                .and_then(|bytes| String::from_utf8(bytes).ok())
        };
        let legacy_issuer = raw(1);
        let text = |n: u32| -> Option<String> {
            let oid = fulcio(n);
            let ext = tbs.extensions()?.iter().find(|ext| ext.extn_id == oid)?;
            Utf8StringRef::from_der(ext.extn_value.as_bytes())
                .ok()
                .map(|s| s.as_str().to_owned())
        };
        let issuer = text(8)
            .or(legacy_issuer)
            .ok_or_else(|| Error::IdentityMismatch {
                reason: "the certificate names no OIDC issuer (Fulcio extension 1.3.6.1.4.1.57264.1.8 or .1.1)".to_owned(),
            })?;
        Ok(CertificateIdentity {
            identity: san,
            issuer,
            claims: Claims {
                build_signer_uri: text(9),
                build_signer_digest: text(10),
                runner_environment: text(11),
                source_repository_uri: text(12),
                source_repository_digest: text(13),
                source_repository_ref: text(14),
                source_repository_owner_uri: text(16),
                build_config_uri: text(18),
                build_trigger: text(20),
                run_invocation_uri: text(21),
            },
            signed_at,
        })
    }
}

/// The certificate's key, if ECDSA P-256 or P-384.
fn spki_key(cert: &Certificate) -> Option<EcKey> {
    let der = cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .ok()?;
    EcKey::from_spki_der(&der)
}

/// Whether `issuer` is `child`'s issuer by name and its key verifies
/// `child`'s ECDSA signature.
fn signed_by(child: &Certificate, issuer: &Certificate) -> bool {
    if child.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
        return false;
    }
    let hash = match child.signature_algorithm().oid {
        oid if oid == ECDSA_SHA256 => Hash::Sha256,
        oid if oid == ECDSA_SHA384 => Hash::Sha384,
        _ => return false,
    };
    let (Some(key), Ok(tbs), Some(signature)) = (
        spki_key(issuer),
        child.tbs_certificate().to_der(),
        child.signature().as_bytes(),
    ) else {
        return false;
    };
    key.verifies(hash, &tbs, signature)
}

/// notBefore and notAfter, in Unix seconds.
fn validity(cert: &Certificate) -> (i64, i64) {
    let validity = cert.tbs_certificate().validity();
    let secs = |t: x509_cert::time::Time| {
        i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
    };
    (secs(validity.not_before), secs(validity.not_after))
}

/// A Unix time as RFC 3339, for messages.
pub(crate) fn date(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{secs} (Unix seconds)"))
}
