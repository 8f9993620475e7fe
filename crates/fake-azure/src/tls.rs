//! The test CA and the server certificates. One leaf covers the fixed host names; any other SNI
//! name (a custom-domain registry added after start) gets its own leaf, minted on first use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::lock;

/// The CA plus the TLS server configuration using it.
pub(crate) struct Tls {
    pub(crate) ca_pem: String,
    pub(crate) server_config: Arc<ServerConfig>,
}

impl Tls {
    /// Creates the CA and the default leaf for `names` (DNS names, `*.` wildcards or IPs).
    pub(crate) fn new(names: Vec<String>) -> Result<Self> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let ca_key = KeyPair::generate().context("generating the CA key")?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "fake-azure test CA");
        dn.push(DnType::OrganizationName, "ACR Tray tests");
        ca_params.distinguished_name = dn;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        ca_params.not_after = rcgen::date_time_ymd(2049, 12, 31);
        let ca_cert = ca_params
            .self_signed(&ca_key)
            .context("self-signing the CA")?;
        let issuer = Issuer::new(ca_params, ca_key);
        let default = Arc::new(mint_leaf(&names, &issuer, &provider)?);
        let resolver = SniResolver {
            default,
            names: names.iter().map(|n| n.to_ascii_lowercase()).collect(),
            issuer,
            provider: provider.clone(),
            minted: Mutex::new(HashMap::new()),
        };
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(resolver));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            ca_pem: ca_cert.pem(),
            server_config: Arc::new(config),
        })
    }
}

fn mint_leaf(
    names: &[String],
    issuer: &Issuer<'static, KeyPair>,
    provider: &CryptoProvider,
) -> Result<CertifiedKey> {
    let key = KeyPair::generate().context("generating a leaf key")?;
    let mut params = CertificateParams::new(names.to_vec()).context("leaf SANs")?;
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        names.first().map(String::as_str).unwrap_or("localhost"),
    );
    params.distinguished_name = dn;
    params.is_ca = IsCa::NoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2049, 12, 31);
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, issuer).context("signing a leaf")?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    CertifiedKey::from_der(
        vec![CertificateDer::from(cert.der().to_vec())],
        key_der,
        provider,
    )
    .map_err(|e| anyhow!("loading the leaf into rustls: {e}"))
}

/// Picks the default leaf when it covers the SNI name, else mints (and caches) one for it.
struct SniResolver {
    default: Arc<CertifiedKey>,
    names: Vec<String>,
    issuer: Issuer<'static, KeyPair>,
    provider: Arc<CryptoProvider>,
    minted: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for SniResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SniResolver")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

/// Whether a certificate name (possibly `*.suffix`) covers `host`.
pub(crate) fn name_covers(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .and_then(|p| p.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty() && !label.contains('.')),
        None => pattern == host,
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let Some(host) = client_hello.server_name().map(str::to_ascii_lowercase) else {
            return Some(self.default.clone());
        };
        if self.names.iter().any(|p| name_covers(p, &host)) {
            return Some(self.default.clone());
        }
        let mut minted = lock(&self.minted);
        if let Some(found) = minted.get(&host) {
            return Some(found.clone());
        }
        match mint_leaf(std::slice::from_ref(&host), &self.issuer, &self.provider) {
            Ok(leaf) => {
                let leaf = Arc::new(leaf);
                minted.insert(host, leaf.clone());
                Some(leaf)
            }
            Err(e) => {
                tracing::warn!("could not mint a certificate for {host}: {e:#}");
                Some(self.default.clone())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::name_covers;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_covers(
            "*.azurecr.localhost",
            "myreg.azurecr.localhost"
        ));
        assert!(!name_covers("*.azurecr.localhost", "a.b.azurecr.localhost"));
        assert!(!name_covers("*.azurecr.localhost", "azurecr.localhost"));
        assert!(name_covers("login.localhost", "login.localhost"));
    }
}
