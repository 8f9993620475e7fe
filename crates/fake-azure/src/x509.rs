//! Client certificates: generating an RSA-2048 key + self-signed certificate for a service
//! principal, and reading the RSA public key and thumbprints out of a PEM certificate.

use anyhow::{Context, Result, anyhow};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use sha1::Digest as _;

use crate::jwt::{der_read, rsa_components};
use crate::state_auth::{CertRec, CertificateCredential};

/// DER of the `rsaEncryption` OID (1.2.840.113549.1.1.1).
const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The first `CERTIFICATE` block of a PEM text, as DER.
pub(crate) fn pem_certificate_der(pem: &str) -> Result<Vec<u8>> {
    let begin = "-----BEGIN CERTIFICATE-----";
    let start = pem
        .find(begin)
        .context("no CERTIFICATE block in the PEM text")?
        + begin.len();
    let end = pem[start..]
        .find("-----END CERTIFICATE-----")
        .context("unterminated CERTIFICATE block")?;
    let b64: String = pem[start..start + end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD
        .decode(b64)
        .context("bad base64 in the CERTIFICATE block")
}

/// The RSA public key (n, e) of an X.509 certificate.
fn rsa_public_key(cert_der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (_, cert, _) = der_read(cert_der)?;
    let (_, tbs, _) = der_read(cert)?;
    let (tag, _, mut rest) = der_read(tbs)?;
    if tag == 0xa0 {
        // [0] version present: skip the serial number too.
        rest = der_read(rest)?.2;
    }
    // signature algorithm, issuer, validity, subject
    for _ in 0..4 {
        rest = der_read(rest)?.2;
    }
    let (_, spki, _) = der_read(rest)?;
    let (_, alg, bits_rest) = der_read(spki)?;
    let (_, oid, _) = der_read(alg)?;
    if oid != RSA_ENCRYPTION_OID {
        return None;
    }
    let (tag, bits, _) = der_read(bits_rest)?;
    let (&unused, key) = bits.split_first()?;
    if tag != 0x03 || unused != 0 {
        return None;
    }
    rsa_components(key).ok()
}

/// Thumbprints and public key of a PEM certificate, registered for `client_id`.
pub(crate) fn cert_record(client_id: &str, cert_pem: &str) -> Result<CertRec> {
    let der = pem_certificate_der(cert_pem)?;
    let (n, e) = rsa_public_key(&der).ok_or_else(|| anyhow!("not an RSA certificate"))?;
    Ok(CertRec {
        client_id: client_id.to_owned(),
        sha1: sha1::Sha1::digest(&der).to_vec(),
        sha256: sha2::Sha256::digest(&der).to_vec(),
        n,
        e,
    })
}

/// Upper-case hex.
pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A new RSA-2048 key and self-signed certificate for `client_id`.
pub(crate) fn generate_client_certificate(
    client_id: &str,
) -> Result<(CertificateCredential, CertRec)> {
    let key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).context("generating an RSA key")?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("fake-azure client {client_id}"));
    params.distinguished_name = dn;
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2049, 12, 31);
    let cert = params
        .self_signed(&key)
        .context("self-signing the client certificate")?;
    let cert_pem = cert.pem();
    let key_pem = key.serialize_pem();
    let record = cert_record(client_id, &cert_pem)?;
    let credential = CertificateCredential {
        combined_pem: format!("{cert_pem}{key_pem}"),
        thumbprint_sha1_hex: hex_upper(&record.sha1),
        thumbprint_sha256_hex: hex_upper(&record.sha256),
        cert_pem,
        key_pem,
    };
    Ok((credential, record))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificate_parses_back() {
        let (cred, rec) = generate_client_certificate("abc").unwrap();
        assert!(cred.combined_pem.contains("BEGIN CERTIFICATE"));
        assert!(cred.combined_pem.contains("BEGIN PRIVATE KEY"));
        assert_eq!(cred.thumbprint_sha1_hex.len(), 40);
        assert_eq!(cred.thumbprint_sha256_hex.len(), 64);
        assert_eq!(rec.e, vec![1, 0, 1]);
        assert_eq!(rec.n.len(), 256);
        assert!(cert_record("x", "garbage").is_err());
    }
}
