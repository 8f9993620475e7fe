//! ACR credentials kept for `docker-credential-acr-tray` and `acr-tray-cli token`: in the OS
//! keyring (`acr-token/<login server>`), or — on machines without a keyring — in a user-only
//! (0600) file in the state folder, which is no more exposed than Docker's own config.json.
//!
//! Only a keyring that is not there ([`Error::KeyringUnavailable`]: no Secret Service, no
//! access) sends a credential to the file, and each such write is logged as a warning. A
//! keyring that is there but refuses an entry fails the write: nothing falls back to the file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::secret::Secret;
use crate::store::secrets::SecretStore;

/// A cached registry credential.
#[derive(Debug, Clone)]
pub struct CachedCredential {
    /// The user name (the zero GUID for tokens, the admin user for admin accounts).
    pub username: String,
    /// The ACR refresh token, or the admin password.
    pub secret: Secret,
    /// When the token runs out (`None`: an admin password, which does not).
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    username: String,
    secret: String,
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
}

/// The cache.
pub struct TokenStore<'a> {
    keyring: &'a dyn SecretStore,
    file: PathBuf,
}

impl<'a> TokenStore<'a> {
    /// A cache on the keyring, falling back to `file`.
    pub fn new(keyring: &'a dyn SecretStore, file: PathBuf) -> Self {
        Self { keyring, file }
    }

    fn key(login_server: &str) -> String {
        format!("acr-token/{}", login_server.to_ascii_lowercase())
    }

    /// The cached credential for a registry.
    pub fn get(&self, login_server: &str) -> Result<Option<CachedCredential>> {
        let stored = match self.keyring.get(&Self::key(login_server)) {
            Ok(Some(s)) => serde_json::from_str::<Stored>(s.expose()).ok(),
            Ok(None) => None,
            Err(Error::KeyringUnavailable { .. }) => {
                self.read_file()?.remove(&login_server.to_ascii_lowercase())
            }
            Err(e) => return Err(e),
        };
        Ok(stored.map(|s| CachedCredential {
            username: s.username,
            secret: Secret::new(s.secret),
            expires_at: s.expires_at,
        }))
    }

    /// Keeps a credential.
    pub fn put(&self, login_server: &str, cred: &CachedCredential) -> Result<()> {
        let stored = Stored {
            username: cred.username.clone(),
            secret: cred.secret.expose().to_owned(),
            expires_at: cred.expires_at,
        };
        let json =
            serde_json::to_string(&stored).map_err(|e| Error::invalid_input(e.to_string(), ""))?;
        match self
            .keyring
            .set(&Self::key(login_server), &Secret::new(json))
        {
            Err(Error::KeyringUnavailable { detail }) => {
                tracing::warn!(
                    registry = %login_server,
                    file = %self.file.display(),
                    keyring = %detail,
                    "the OS keyring is not available: the registry credential is kept in a file only you can read"
                );
                let mut all = self.read_file()?;
                all.insert(login_server.to_ascii_lowercase(), stored);
                self.write_file(&all)
            }
            other => other,
        }
    }

    /// Forgets a registry's credential.
    pub fn remove(&self, login_server: &str) -> Result<()> {
        match self.keyring.delete(&Self::key(login_server)) {
            Err(Error::KeyringUnavailable { .. }) => {
                let mut all = self.read_file()?;
                if all.remove(&login_server.to_ascii_lowercase()).is_some() {
                    self.write_file(&all)?;
                }
                Ok(())
            }
            other => other,
        }
    }

    fn read_file(&self) -> Result<BTreeMap<String, Stored>> {
        match std::fs::read(&self.file) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(Error::io("read", &self.file, &e)),
        }
    }

    fn write_file(&self, all: &BTreeMap<String, Stored>) -> Result<()> {
        let bytes =
            serde_json::to_vec_pretty(all).map_err(|e| Error::invalid_input(e.to_string(), ""))?;
        fsutil::atomic_write(&self.file, &bytes)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.file, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| Error::io("set permissions on", &self.file, &e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::secrets::MemoryStore;

    #[test]
    fn keyring_first_file_without_one() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("acr-tokens.json");
        let keyring = MemoryStore::new();
        let cache = TokenStore::new(&keyring, file.clone());
        let cred = CachedCredential {
            username: "u".into(),
            secret: Secret::new("tok"),
            expires_at: None,
        };
        cache.put("R.azurecr.io", &cred).expect("put");
        assert_eq!(keyring.keys(), vec!["acr-token/r.azurecr.io"]);
        assert!(!file.exists());
        assert_eq!(
            cache
                .get("r.azurecr.io")
                .expect("get")
                .expect("some")
                .secret
                .expose(),
            "tok"
        );

        keyring.set_unavailable(Some("no keyring"));
        cache.put("r.azurecr.io", &cred).expect("put to file");
        assert_eq!(
            cache
                .get("r.azurecr.io")
                .expect("get")
                .expect("some")
                .username,
            "u"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777,
                0o600
            );
        }
        cache.remove("r.azurecr.io").expect("remove");
        assert!(cache.get("r.azurecr.io").expect("get").is_none());
    }

    #[test]
    fn a_keyring_that_refuses_an_entry_is_not_a_reason_for_the_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("acr-tokens.json");
        // Windows' limit without the splitting layer: the entry is refused.
        let keyring = MemoryStore::with_windows_limits();
        let cache = TokenStore::new(&keyring, file.clone());
        let cred = CachedCredential {
            username: "00000000-0000-0000-0000-000000000000".into(),
            secret: Secret::new("t".repeat(3000)),
            expires_at: None,
        };
        let err = cache.put("r.azurecr.io", &cred).expect_err("refused");
        assert!(!matches!(err, Error::KeyringUnavailable { .. }), "{err:?}");
        assert!(!file.exists(), "fell back to {}", file.display());

        // The same through the `keyring` crate: its TooLong (Windows) is a refusal too.
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        let store = crate::store::secrets::KeyringStore::through_keyring_crate();
        crate::store::secrets::refuse_next_call_for_tests(&store, "acr-token/r.azurecr.io");
        let cache = TokenStore::new(&store, file.clone());
        cache.put("r.azurecr.io", &cred).expect_err("refused");
        assert!(!file.exists(), "fell back to {}", file.display());

        // With the splitting layer, Windows' limit takes the credential.
        let split = crate::store::secrets::SplitStore::new(
            MemoryStore::with_windows_limits(),
            Some(crate::store::secrets::WINDOWS_UNITS),
        );
        let cache = TokenStore::new(&split, file.clone());
        cache.put("r.azurecr.io", &cred).expect("split");
        let back = cache.get("r.azurecr.io").expect("get").expect("some");
        assert!(back.secret == cred.secret);
        assert!(!file.exists());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(crate::proptest_config(128))]

            /// Whatever is in the keyring entry or the file (edited by hand or by malware), a
            /// read gives a credential or none.
            #[test]
            fn hostile_cache_contents_are_read_or_ignored(
                entry in prop_oneof![any::<String>(), ".{0,10}".prop_map(|u| format!(r#"{{"username":"{u}","secret":"s","expires_at":"+262143-12-31T23:59:59Z"}}"#))],
                file in proptest::collection::vec(any::<u8>(), 0..200),
            ) {
                let dir = tempfile::tempdir().expect("tmp");
                let path = dir.path().join("acr-tokens.json");
                std::fs::write(&path, &file).expect("write");
                let keyring = MemoryStore::new();
                keyring.set("acr-token/r.azurecr.io", &Secret::new(entry)).expect("set");
                let cache = TokenStore::new(&keyring, path);
                let _ = cache.get("r.azurecr.io");
                keyring.set_unavailable(Some("no keyring"));
                let _ = cache.get("r.azurecr.io");
            }
        }
    }
}
