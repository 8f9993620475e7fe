//! Token signing keys: one RSA key for Entra (published in the JWKS) and one for ACR (trusted by a
//! distribution registry through `rootcertbundle`). Also the libtrust key fingerprint used as the
//! ACR token `kid` (docs/protocol.md#distribution-tokens).

use anyhow::{Context, Result, anyhow};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PublicKeyData};
use serde::Serialize;
use serde_json::{Map, Value};
use sha1::Digest as _;

/// How the fake signs ACR tokens. Real ACR tokens are RS256 (consumer test fixtures show it);
/// ES256 is accepted by distribution 2.8 as well and costs a small fraction of an RSA signature,
/// which matters when a benchmark wants to measure the client rather than the fake's CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenAlgorithm {
    /// RSA-2048 with SHA-256 (the default, as ACR).
    #[default]
    Rs256,
    /// ECDSA P-256 with SHA-256.
    Es256,
}

/// A signing key with its self-signed certificate and the derived identifiers.
pub(crate) struct SigningKey {
    alg: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// JWK `n` (base64url, no leading zero).
    pub(crate) n: String,
    /// JWK `e` (base64url).
    pub(crate) e: String,
    pub(crate) cert_der: Vec<u8>,
    pub(crate) cert_pem: String,
    /// base64url(SHA-1(cert DER)); Entra uses it as both `kid` and `x5t`.
    pub(crate) x5t: String,
    /// libtrust fingerprint of the SubjectPublicKeyInfo.
    pub(crate) libtrust_kid: String,
}

/// Why a presented token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VerifyError {
    /// Not a JWT, wrong algorithm or bad signature.
    Invalid(String),
}

impl SigningKey {
    /// Generates a 2048-bit RSA key (or a P-256 key) and a self-signed certificate for it.
    pub(crate) fn generate(common_name: &str, alg: TokenAlgorithm) -> Result<Self> {
        let key = match alg {
            TokenAlgorithm::Rs256 => KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256),
            TokenAlgorithm::Es256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        }
        .context("generating the signing key")?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2049, 12, 31);
        let cert = params
            .self_signed(&key)
            .context("self-signing the token certificate")?;
        let (n, e, encoding, decoding, alg) = match alg {
            TokenAlgorithm::Rs256 => {
                let (n, e) = rsa_components(key.der_bytes())?;
                let encoding = EncodingKey::from_rsa_pem(key.serialize_pem().as_bytes())
                    .context("loading the RSA key into jsonwebtoken")?;
                let decoding = DecodingKey::from_rsa_raw_components(&n, &e);
                (n, e, encoding, decoding, Algorithm::RS256)
            }
            TokenAlgorithm::Es256 => {
                let encoding = EncodingKey::from_ec_pem(key.serialize_pem().as_bytes())
                    .context("loading the EC key into jsonwebtoken")?;
                let decoding = DecodingKey::from_ec_pem(key.public_key_pem().as_bytes())
                    .context("loading the EC public key into jsonwebtoken")?;
                (Vec::new(), Vec::new(), encoding, decoding, Algorithm::ES256)
            }
        };
        let cert_der = cert.der().to_vec();
        Ok(Self {
            alg,
            encoding,
            decoding,
            n: URL_SAFE_NO_PAD.encode(&n),
            e: URL_SAFE_NO_PAD.encode(&e),
            x5t: URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&cert_der)),
            libtrust_kid: libtrust_fingerprint(&key.subject_public_key_info()),
            cert_pem: cert.pem(),
            cert_der,
        })
    }

    /// Standard base64 of the certificate DER, as used in `x5c`.
    pub(crate) fn x5c(&self) -> String {
        STANDARD.encode(&self.cert_der)
    }

    /// Signs claims the way Entra does: RS256 with `kid` and `x5t` (both the SHA-1 thumbprint).
    pub(crate) fn sign_entra<T: Serialize>(&self, claims: &T) -> Result<String> {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("JWT".into());
        header.x5t = Some(self.x5t.clone());
        header.kid = Some(self.x5t.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| anyhow!("signing: {e}"))
    }

    /// Signs claims the way distribution 2.8 wants them: a libtrust `kid` and `x5c`.
    pub(crate) fn sign_acr<T: Serialize>(&self, claims: &T) -> Result<String> {
        let mut header = Header::new(self.alg);
        header.typ = Some("JWT".into());
        header.kid = Some(self.libtrust_kid.clone());
        header.x5c = Some(vec![self.x5c()]);
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| anyhow!("signing: {e}"))
    }

    /// Checks the signature (this key's algorithm only) and returns the claims. Time checks are
    /// the caller's, against the fake clock.
    pub(crate) fn verify(&self, token: &str) -> Result<Map<String, Value>, VerifyError> {
        let mut validation = Validation::new(self.alg);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| VerifyError::Invalid(e.to_string()))
    }
}

/// The libtrust key ID: SHA-256 of the SPKI DER, first 30 bytes, base32 (no padding), in 12
/// colon-separated groups of 4 (docs/protocol.md#distribution-tokens).
pub fn libtrust_fingerprint(spki_der: &[u8]) -> String {
    let digest = sha2::Sha256::digest(spki_der);
    let b32 = base32(&digest[..30]);
    let groups: Vec<&str> = b32
        .as_bytes()
        .chunks(4)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    groups.join(":")
}

/// RFC 4648 base32, upper case, no padding.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Reads one DER TLV: (tag, content, rest).
pub(crate) fn der_read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[count..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// (n, e) from a PKCS#1 `RSAPublicKey`, without leading zero bytes.
pub(crate) fn rsa_components(pkcs1: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let parse = || {
        let (tag, seq, _) = der_read(pkcs1)?;
        if tag != 0x30 {
            return None;
        }
        let (tag_n, n, rest) = der_read(seq)?;
        let (tag_e, e, _) = der_read(rest)?;
        if tag_n != 0x02 || tag_e != 0x02 {
            return None;
        }
        let strip = |v: &[u8]| {
            let start = v.iter().position(|&b| b != 0).unwrap_or(v.len());
            v[start..].to_vec()
        };
        Some((strip(n), strip(e)))
    };
    parse().ok_or_else(|| anyhow!("unexpected RSA public key encoding"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648_vectors() {
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foo"), "MZXW6");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
    }

    #[test]
    fn fingerprint_has_twelve_groups_of_four() {
        let fp = libtrust_fingerprint(b"anything");
        let groups: Vec<&str> = fp.split(':').collect();
        assert_eq!(groups.len(), 12);
        assert!(groups.iter().all(|g| g.len() == 4));
    }

    #[test]
    fn sign_and_verify_round_trip() {
        for alg in [TokenAlgorithm::Rs256, TokenAlgorithm::Es256] {
            let key = SigningKey::generate("test", alg).unwrap();
            let token = key.sign_acr(&serde_json::json!({"sub": "x"})).unwrap();
            assert_eq!(key.verify(&token).unwrap()["sub"], "x");
            let header = token.split('.').next().unwrap();
            let header: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
            let expected = if alg == TokenAlgorithm::Rs256 {
                "RS256"
            } else {
                "ES256"
            };
            assert_eq!(header["alg"], expected);
            assert_eq!(header["kid"], key.libtrust_kid.as_str());
            let other = SigningKey::generate("other", alg).unwrap();
            assert!(other.verify(&token).is_err());
        }
    }
}
