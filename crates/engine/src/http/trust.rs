//! Which certificate authorities HTTPS trusts, on Linux and the other Unix systems without a
//! platform certificate API: the distribution's CA bundle (one file), the cloud's `ca_file`
//! and `SSL_CERT_FILE`; and when those do not verify a server's chain, the full platform store
//! (the bundle plus every file of the certificate folders, as `rustls-platform-verifier` loads
//! it), whose verdict stands. What is trusted is exactly what the platform store trusts.
//!
//! The bundle holds the same authorities as the folder on every common distribution
//! (`update-ca-certificates` and `update-ca-trust` write both), but the folder is some 300
//! files to open and parse, which a one-shot command such as `acr-tray-cli refresh` paid on
//! every run. An authority only the folder holds (one a user copied there by hand) is still
//! trusted: it is read the first time a chain needs it.

use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The TLS client configuration for the engine's requests (HTTP/1.1 only, as the client is
/// built).
pub(super) fn client_config(
    extra_roots: Vec<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = BundleFirst::new(provider.clone(), extra_roots)?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Verifies against the CA bundle and the extra roots; a chain they do not verify (no anchor,
/// or an anchor of the same name with another key) is verified again against the full platform
/// store, loaded on first need, whose verdict stands.
#[derive(Debug)]
struct BundleFirst {
    provider: Arc<CryptoProvider>,
    /// The bundle and the extra roots; `None` when there are none (then the full store is
    /// the only one).
    bundle: Option<Arc<WebPkiServerVerifier>>,
    extra_roots: Vec<CertificateDer<'static>>,
    full: OnceLock<Result<Arc<rustls_platform_verifier::Verifier>, String>>,
}

impl BundleFirst {
    fn new(
        provider: Arc<CryptoProvider>,
        extra_roots: Vec<CertificateDer<'static>>,
    ) -> Result<Self, String> {
        let mut roots = RootCertStore::empty();
        for cert in &extra_roots {
            roots
                .add(cert.clone())
                .map_err(|e| format!("a CA certificate cannot be used: {e}"))?;
        }
        if let Some(file) = openssl_probe::probe().cert_file {
            // As the platform store does: certificates of the bundle that cannot be parsed are
            // left out, not fatal.
            let loaded = rustls_native_certs::load_certs_from_paths(Some(&file), None);
            let (added, ignored) = roots.add_parsable_certificates(loaded.certs);
            tracing::debug!(file = %file.display(), added, ignored, "CA bundle loaded");
        }
        let bundle = if roots.is_empty() {
            None
        } else {
            Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| e.to_string())?,
            )
        };
        Ok(Self {
            provider,
            bundle,
            extra_roots,
            full: OnceLock::new(),
        })
    }

    fn full(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.full
            .get_or_init(|| {
                tracing::debug!("loading the platform's whole CA store");
                rustls_platform_verifier::Verifier::new_with_extra_roots(
                    self.extra_roots.iter().cloned(),
                    self.provider.clone(),
                )
                .map(Arc::new)
                .map_err(|e| e.to_string())
            })
            .as_deref()
            .map_err(|e| rustls::Error::General(e.clone()))
    }
}

impl ServerCertVerifier for BundleFirst {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(bundle) = &self.bundle
            && let Ok(verified) = bundle.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            )
        {
            return Ok(verified);
        }
        self.full()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
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
