//! Trust anchors, loaded on the first TLS handshake rather than when the
//! transport is built.
//!
//! Reading the platform's store means opening and parsing every file under
//! `/etc/ssl/certs` (about 150 on Debian): milliseconds that a process which
//! only talks plain HTTP to a loopback registry, or exits after a handful of
//! HEADs, never needs to spend. Extra certificates given to the builder are
//! still checked when it builds, so a bad one is refused up front.

use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::Error;
use crate::client::RootCertificates;

/// A server certificate verifier whose root store is read on first use.
#[derive(Debug)]
pub(crate) struct LazyRoots {
    choice: RootCertificates,
    /// The builder's extra certificates, already accepted by a store.
    extra: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
    verifier: OnceLock<Option<Arc<WebPkiServerVerifier>>>,
}

impl LazyRoots {
    /// Checks `extra` now; reads the `choice` of roots on the first handshake.
    pub(crate) fn new(
        choice: RootCertificates,
        extra: &[CertificateDer<'static>],
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, Error> {
        let mut checked = RootCertStore::empty();
        for certificate in extra {
            checked
                .add(certificate.clone())
                .map_err(|err| Error::Config {
                    reason: format!("an extra CA certificate was rejected: {err}"),
                })?;
        }
        Ok(Self {
            choice,
            extra: extra.to_vec(),
            provider,
            verifier: OnceLock::new(),
        })
    }

    /// Whether the root store has been read (for tests).
    #[cfg(test)]
    pub(crate) fn loaded(&self) -> bool {
        self.verifier.get().is_some()
    }

    /// The verifier over the roots, built once; `None` when there are no
    /// roots at all (every server is then an unknown issuer).
    fn verifier(&self) -> Option<&Arc<WebPkiServerVerifier>> {
        self.verifier
            .get_or_init(|| {
                let roots = self.store();
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                    .build()
                    .ok()
            })
            .as_ref()
    }

    fn store(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        match self.choice {
            RootCertificates::Platform => {
                let native = rustls_native_certs::load_native_certs();
                let (added, _ignored) = roots.add_parsable_certificates(native.certs);
                if added == 0 {
                    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                }
            }
            RootCertificates::WebPki => {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            RootCertificates::None => {}
        }
        // Accepted by `new` already.
        roots.add_parsable_certificates(self.extra.iter().cloned());
        roots
    }
}

impl ServerCertVerifier for LazyRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verifier = self.verifier().ok_or(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ))?;
        verifier.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    #[test]
    fn the_platform_store_is_read_only_when_a_server_is_verified() {
        let roots = LazyRoots::new(RootCertificates::Platform, &[], provider()).unwrap();
        assert!(!roots.loaded(), "built without reading the store");
        assert!(!roots.supported_verify_schemes().is_empty());
        assert!(!roots.loaded(), "offering schemes needs no roots");
        let junk = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]);
        let name = ServerName::try_from("ghcr.io").unwrap();
        let refused = roots.verify_server_cert(&junk, &[], &name, &[], UnixTime::now());
        assert!(refused.is_err(), "a junk certificate verifies");
        assert!(roots.loaded(), "verifying read the store");
    }

    #[test]
    fn no_roots_means_every_server_is_an_unknown_issuer() {
        let roots = LazyRoots::new(RootCertificates::None, &[], provider()).unwrap();
        let junk = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]);
        let name = ServerName::try_from("ghcr.io").unwrap();
        let err = roots
            .verify_server_cert(&junk, &[], &name, &[], UnixTime::now())
            .unwrap_err();
        assert_eq!(
            err,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
        );
    }

    #[test]
    fn a_bad_extra_certificate_is_refused_when_building() {
        let junk = CertificateDer::from(vec![1, 2, 3]);
        let err = LazyRoots::new(RootCertificates::None, &[junk], provider()).unwrap_err();
        assert!(
            err.to_string()
                .contains("extra CA certificate was rejected"),
            "{err}"
        );
    }
}
