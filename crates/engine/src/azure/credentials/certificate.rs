//! Certificate credentials: a client assertion JWT signed with the certificate's private key
//! (docs/protocol.md#entra-client-assertion): PS256 with `x5t#S256`, as Entra's current
//! documentation describes.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::Serialize;
use sha2::Digest as _;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// A certificate and its private key, loaded from one PEM file.
pub struct Certificate {
    key: EncodingKey,
    /// base64url(SHA-256 of the certificate DER).
    x5t_s256: String,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("x5t#S256", &self.x5t_s256)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

impl Certificate {
    /// Loads a PEM file holding the certificate and its (unencrypted, RSA) private key. The
    /// file must be readable by the user only: it holds a secret.
    pub fn load(path: &Path) -> Result<Self> {
        let bad = |why: String| {
            Error::invalid_input(
                format!("{}: {why}", path.display()),
                "give a PEM file with the certificate and its unencrypted RSA private key (e.g. `cat cert.pem key.pem > sp.pem; chmod 600 sp.pem`)",
            )
        };
        let meta = std::fs::metadata(path).map_err(|e| bad(format!("cannot read it ({e})")))?;
        crate::fsutil::check_private(path, &meta).map_err(|why| {
            Error::invalid_input(why, "the file holds a private key: chmod 600 it")
        })?;
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it ({e})")))?;
        let cert = CertificateDer::pem_slice_iter(text.as_bytes())
            .next()
            .and_then(std::result::Result::ok)
            .ok_or_else(|| bad("no CERTIFICATE block".to_owned()))?;
        if text.contains("ENCRYPTED PRIVATE KEY") {
            return Err(bad("the private key is encrypted; export it without a passphrase (`openssl pkcs8 -nocrypt`)".to_owned()));
        }
        if text.contains("BEGIN EC PRIVATE KEY") {
            return Err(bad(
                "Entra ID certificate credentials need an RSA key, this one is EC".to_owned(),
            ));
        }
        let key_block = ["RSA PRIVATE KEY", "PRIVATE KEY"]
            .iter()
            .find_map(|label| pem_block(&text, label))
            .ok_or_else(|| bad("no PRIVATE KEY block".to_owned()))?;
        let key = EncodingKey::from_rsa_pem(key_block.as_bytes())
            .map_err(|e| bad(format!("the private key is not a usable RSA key ({e})")))?;
        Ok(Self {
            key,
            x5t_s256: URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(cert.as_ref())),
        })
    }

    /// A fresh assertion for the token endpoint `aud`, valid for 10 minutes.
    pub fn assertion(
        &self,
        client_id: &str,
        token_url: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<Secret> {
        let now = now.timestamp();
        let claims = AssertionClaims {
            aud: token_url,
            iss: client_id,
            sub: client_id,
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: now,
            iat: now,
            exp: now + 600,
        };
        let mut header = Header::new(Algorithm::PS256);
        header.typ = Some("JWT".to_owned());
        header.x5t_s256 = Some(self.x5t_s256.clone());
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map(Secret::new)
            .map_err(|e| {
                Error::invalid_input(
                    format!("cannot sign the client assertion: {e}"),
                    "check the certificate's private key",
                )
            })
    }
}

/// The text of a `-----BEGIN {label}-----` ... `-----END {label}-----` block.
fn pem_block(text: &str, label: &str) -> Option<String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = text[start..].find(&end)? + start + end.len();
    Some(text[start..stop].to_owned())
}

/// Where a workload identity's federated token is (the file is re-read on every use: the
/// platform rotates it).
pub fn read_federated_token(path: &PathBuf) -> Result<Secret> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::SecretUnavailable {
        identity: "workload identity".to_owned(),
        detail: format!(
            "cannot read the federated token file {}: {e}",
            path.display()
        ),
        hint: "check AZURE_FEDERATED_TOKEN_FILE (the platform writes and rotates this file)".into(),
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::SecretUnavailable {
            identity: "workload identity".to_owned(),
            detail: format!("the federated token file {} is empty", path.display()),
            hint: "check AZURE_FEDERATED_TOKEN_FILE".into(),
        });
    }
    Ok(Secret::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_are_found() {
        let text = "junk\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\nmore";
        assert_eq!(
            pem_block(text, "PRIVATE KEY").as_deref(),
            Some("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
        );
        assert!(pem_block(text, "RSA PRIVATE KEY").is_none());
    }

    #[test]
    fn bad_files_are_explained() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("sp.pem");
        std::fs::write(
            &p,
            "-----BEGIN EC PRIVATE KEY-----\nAA\n-----END EC PRIVATE KEY-----\n",
        )
        .expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            let err = Certificate::load(&p).expect_err("shared");
            assert!(err.to_string().contains("mode 644"), "{err}");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        let err = Certificate::load(&p).expect_err("no cert");
        assert!(err.to_string().contains("CERTIFICATE"), "{err}");
    }
}
