//! Where identities' secrets are kept: the OS keyring, or (on machines without one) the
//! environment or a user-only file the user named. Never the settings file.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::env::Env;
use crate::error::{Error, Result};
use crate::hint::{Action, Hint, SignInMethod};
use crate::secret::Secret;
use crate::store::config::SecretSource;

#[cfg(target_os = "linux")]
mod secret_service;
mod split;

pub use split::{SplitStore, WINDOWS_BLOB_BYTES, WINDOWS_UNITS};

/// The most UTF-16 code units one keyring entry holds here: Windows' Credential Manager takes
/// 2,560 bytes; the macOS Keychain and the Secret Service take any secret ACR Tray keeps.
pub const PLATFORM_UNITS: Option<usize> = if cfg!(windows) {
    Some(WINDOWS_UNITS)
} else {
    None
};

/// The keyring service name ACR Tray's entries are filed under.
pub const KEYRING_SERVICE: &str = "acr-tray";

/// A place secrets can be stored by key. The OS keyring in the product; an in-memory map in
/// tests, so a test never touches the real keyring.
pub trait SecretStore: Send + Sync {
    /// Reads a secret; `Ok(None)` when there is none under this key.
    fn get(&self, key: &str) -> Result<Option<Secret>>;
    /// Stores (or replaces) a secret.
    fn set(&self, key: &str, secret: &Secret) -> Result<()>;
    /// Deletes a secret; deleting a missing one is not an error.
    fn delete(&self, key: &str) -> Result<()>;
}

/// The OS keyring: on Linux the Secret Service over one connection per process
/// (`secret_service`); the Keychain on macOS and the Credential Manager on Windows through
/// the `keyring` crate. Secrets longer than an entry holds ([`PLATFORM_UNITS`]) are split
/// across entries ([`SplitStore`]).
pub struct KeyringStore {
    split: SplitStore<Raw>,
}

/// The keyring's entries as they are.
struct Raw {
    backend: Backend,
}

enum Backend {
    #[cfg(target_os = "linux")]
    SecretService(secret_service::SecretServiceStore),
    /// `keyring` entries, kept so repeated use of one key talks to one entry (and so the
    /// crate's mock store, which keeps secrets per entry, behaves like a real keyring in tests).
    Entries(Mutex<HashMap<String, Arc<keyring::Entry>>>),
}

impl Default for KeyringStore {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyringStore {
    /// A store on the OS keyring.
    pub fn new() -> Self {
        #[cfg(target_os = "linux")]
        let backend = Backend::SecretService(secret_service::SecretServiceStore::default());
        #[cfg(not(target_os = "linux"))]
        let backend = Backend::Entries(Mutex::default());
        Self::on(backend)
    }

    /// A store on whatever the `keyring` crate's default credential builder makes (its mock in
    /// tests).
    pub fn through_keyring_crate() -> Self {
        Self::on(Backend::Entries(Mutex::default()))
    }

    fn on(backend: Backend) -> Self {
        Self {
            split: SplitStore::new(Raw { backend }, PLATFORM_UNITS),
        }
    }
}

impl Raw {
    fn entry(
        entries: &Mutex<HashMap<String, Arc<keyring::Entry>>>,
        key: &str,
    ) -> Result<Arc<keyring::Entry>> {
        let mut entries = entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = entries.get(key) {
            return Ok(e.clone());
        }
        let entry = Arc::new(keyring::Entry::new(KEYRING_SERVICE, key).map_err(unavailable)?);
        entries.insert(key.to_owned(), entry.clone());
        Ok(entry)
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        self.split.get(key)
    }

    fn set(&self, key: &str, secret: &Secret) -> Result<()> {
        self.split.set(key, secret)
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.split.delete(key)
    }
}

impl SecretStore for Raw {
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        match &self.backend {
            #[cfg(target_os = "linux")]
            Backend::SecretService(ss) => ss.get(KEYRING_SERVICE, key),
            Backend::Entries(entries) => match Self::entry(entries, key)?.get_password() {
                Ok(s) => Ok(Some(Secret::new(s))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(unavailable(e)),
            },
        }
    }

    fn set(&self, key: &str, secret: &Secret) -> Result<()> {
        match &self.backend {
            #[cfg(target_os = "linux")]
            Backend::SecretService(ss) => ss.set(KEYRING_SERVICE, key, secret),
            Backend::Entries(entries) => Self::entry(entries, key)?
                .set_password(secret.expose())
                .map_err(unavailable),
        }
    }

    fn delete(&self, key: &str) -> Result<()> {
        match &self.backend {
            #[cfg(target_os = "linux")]
            Backend::SecretService(ss) => ss.delete(KEYRING_SERVICE, key),
            Backend::Entries(entries) => match Self::entry(entries, key)?.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(unavailable(e)),
            },
        }
    }
}

/// Makes the `keyring` crate's mock entry under `key` fail its next call as Windows fails an
/// entry that is too long.
#[cfg(test)]
pub(crate) fn refuse_next_call_for_tests(store: &KeyringStore, key: &str) {
    let Backend::Entries(entries) = &store.split.inner().backend else {
        unreachable!("the keyring crate's entries")
    };
    let Ok(entry) = Raw::entry(entries, key) else {
        unreachable!("a mock entry")
    };
    if let Some(mock) = entry
        .get_credential()
        .downcast_ref::<keyring::mock::MockCredential>()
    {
        mock.set_error(keyring::Error::TooLong("password".into(), 2560));
    }
}

fn unavailable(e: keyring::Error) -> Error {
    // The keyring's errors describe the platform failure; none of them carries the secret.
    match e {
        keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_) => {
            Error::KeyringUnavailable {
                detail: e.to_string(),
            }
        }
        // A keyring that works but will not take this entry: not a machine without a keyring,
        // so nothing may fall back to a file.
        other => refused(&other.to_string()),
    }
}

/// The error for an entry the keyring will not take (too long, not valid for it).
pub(crate) fn refused(detail: &str) -> Error {
    Error::invalid_input(
        format!("the OS keyring refused an entry: {detail}"),
        "nothing was stored in its place; check the keyring (Credential Manager, Keychain \
         Access, Passwords and Keys) and try again, and report this if it persists",
    )
}

/// Secrets in memory, for tests and for `--demo`.
#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<String, Secret>>,
    unavailable: Mutex<Option<String>>,
    /// Refuses entries over this many bytes of UTF-16, as Windows does.
    max_utf16_bytes: Option<usize>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store with the Credential Manager's limit on every platform: an entry over
    /// 2,560 bytes of UTF-16 is refused, as the `keyring` crate refuses it on Windows.
    pub fn with_windows_limits() -> Self {
        Self {
            max_utf16_bytes: Some(WINDOWS_BLOB_BYTES),
            ..Self::default()
        }
    }

    /// Makes every call fail as a missing keyring does (for "no keyring on this machine" tests).
    pub fn set_unavailable(&self, reason: Option<&str>) {
        *self.unavailable.lock().unwrap_or_else(|e| e.into_inner()) = reason.map(str::to_owned);
    }

    /// The keys currently stored.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    fn check(&self) -> Result<()> {
        match &*self.unavailable.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(reason) => Err(Error::KeyringUnavailable {
                detail: reason.clone(),
            }),
            None => Ok(()),
        }
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        self.check()?;
        Ok(self
            .map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned())
    }

    fn set(&self, key: &str, secret: &Secret) -> Result<()> {
        self.check()?;
        if let Some(max) = self.max_utf16_bytes {
            let bytes = secret.expose().encode_utf16().count().saturating_mul(2);
            if bytes > max {
                return Err(refused(&format!(
                    "an entry of {bytes} bytes is over the platform limit of {max}"
                )));
            }
        }
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), secret.clone());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.check()?;
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        Ok(())
    }
}

/// The keyring key of a service principal's client secret, bound to the authority it was given
/// for (`authority` as [`crate::azure::cloud::Cloud::authority_id`] spells it). Settings that name
/// another authority look for another key and find nothing, so editing the settings cannot
/// send a stored secret elsewhere.
pub fn client_secret_key(authority: &str, tenant: &str, client_id: &str) -> String {
    format!(
        "client-secret/{}/{}/{}",
        authority_part(authority),
        tenant.to_ascii_lowercase(),
        client_id.to_ascii_lowercase()
    )
}

/// The keyring key of a user's Entra refresh token, bound to its authority like
/// [`client_secret_key`].
pub fn refresh_token_key(authority: &str, identity: &str) -> String {
    format!(
        "refresh-token/{}/{}",
        authority_part(authority),
        identity.to_ascii_lowercase()
    )
}

/// The keyring key of the refresh token of a user's sign-in at one tenant of their account (a
/// tenant that demanded its own interactive sign-in: MFA, Conditional Access). Its own prefix:
/// no identity id can make it collide with [`refresh_token_key`].
pub fn tenant_refresh_token_key(authority: &str, identity: &str, tenant: &str) -> String {
    format!(
        "tenant-refresh-token/{}/{}/{}",
        authority_part(authority),
        tenant.to_ascii_lowercase(),
        identity.to_ascii_lowercase()
    )
}

/// Where the refresh token of a sign-in at `tenant` lives, beside the account's own
/// (`source`): the keyring, or a user-only file next to the account's token file.
pub fn tenant_refresh_token_source(source: &SecretSource, tenant: &str) -> SecretSource {
    match source {
        SecretSource::File(path) => {
            let mut name = path.as_os_str().to_owned();
            name.push(format!(".tenant-{}", tenant.to_ascii_lowercase()));
            SecretSource::File(name.into())
        }
        other => other.clone(),
    }
}

/// The key of a client secret as versions before authority binding stored it (only read once,
/// to move it under [`client_secret_key`], and deleted on sign-out).
pub fn legacy_client_secret_key(tenant: &str, client_id: &str) -> String {
    format!(
        "client-secret/{}/{}",
        tenant.to_ascii_lowercase(),
        client_id.to_ascii_lowercase()
    )
}

/// The key of a refresh token as versions before authority binding stored it.
pub fn legacy_refresh_token_key(identity: &str) -> String {
    format!("refresh-token/{}", identity.to_ascii_lowercase())
}

/// `https://Login.Example:8443/` → `login.example:8443`.
fn authority_part(authority: &str) -> String {
    authority
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_ascii_lowercase()
}

/// The keyring key of a registry's admin password.
pub fn admin_password_key(login_server: &str) -> String {
    format!("admin-password/{}", login_server.to_ascii_lowercase())
}

/// The keyring key of an ACR token's password: bound to the cloud's authority, the login
/// server and the token's name, so a password given for one registry (or one cloud) is never
/// read for another.
pub fn acr_token_password_key(authority: &str, login_server: &str, token: &str) -> String {
    format!(
        "acr-token-password/{}/{}/{}",
        authority_part(authority),
        login_server.to_ascii_lowercase(),
        token.to_ascii_lowercase()
    )
}

/// Reads an identity's secret from where its settings say it is.
pub fn read_secret(
    identity: &str,
    source: &SecretSource,
    keyring_key: &str,
    store: &dyn SecretStore,
    env: &Env,
) -> Result<Secret> {
    let missing = |detail: String, hint: Hint| Error::SecretUnavailable {
        identity: identity.to_owned(),
        detail,
        hint,
    };
    match source {
        SecretSource::Keyring => store.get(keyring_key)?.ok_or_else(|| {
            missing(
                "it is not in the OS keyring".to_owned(),
                Hint::text("sign in again with ").with(Action::sign_in_with(
                    Some(identity),
                    SignInMethod::ServicePrincipalSecret {
                        tenant: None,
                        client_id: None,
                    },
                )),
            )
        }),
        SecretSource::Env => env
            .var("AZURE_CLIENT_SECRET")
            .map(Secret::new)
            .ok_or_else(|| {
                missing(
                    "AZURE_CLIENT_SECRET is not set".to_owned(),
                    Hint::text("set AZURE_CLIENT_SECRET in the environment that runs ")
                        .with(Action::Program),
                )
            }),
        SecretSource::File(path) => read_secret_file(path).map_err(|detail| {
            missing(
                detail,
                "the file must exist and be readable by you only (chmod 600)".into(),
            )
        }),
    }
}

/// Writes a secret into a new user-only file, refusing to replace an existing file that others
/// can read.
pub fn write_secret_file(path: &Path, secret: &Secret) -> Result<()> {
    if let Ok(meta) = std::fs::metadata(path) {
        crate::fsutil::check_private(path, &meta).map_err(|detail| {
            Error::invalid_input(detail, "chmod 600 the file, or name a new file")
        })?;
    }
    crate::fsutil::atomic_write(path, secret.expose().as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io("set permissions on", path, &e))?;
    }
    Ok(())
}

fn read_secret_file(path: &Path) -> std::result::Result<Secret, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    crate::fsutil::check_private(path, &meta)?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let secret = text.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok(Secret::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyring_store_with_the_crates_mock() {
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        let store = KeyringStore::through_keyring_crate();
        let key = client_secret_key("https://Login.Example:8443/", "T", "C");
        assert_eq!(key, "client-secret/login.example:8443/t/c");
        assert_ne!(key, client_secret_key("https://login.other", "T", "C"));
        assert_eq!(legacy_client_secret_key("T", "C"), "client-secret/t/c");
        assert_eq!(
            refresh_token_key("https://login.example", "Dev@Contoso"),
            "refresh-token/login.example/dev@contoso"
        );
        assert!(store.get(&key).expect("get").is_none());
        store.set(&key, &Secret::new("s1")).expect("set");
        assert_eq!(store.get(&key).expect("get").expect("some").expose(), "s1");
        store.set(&key, &Secret::new("s2")).expect("rotate");
        assert_eq!(store.get(&key).expect("get").expect("some").expose(), "s2");
        store.delete(&key).expect("delete");
        store.delete(&key).expect("delete twice");
        assert!(store.get(&key).expect("get").is_none());
    }

    #[test]
    fn keyring_failures_become_keyring_unavailable_with_alternatives() {
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        let store = KeyringStore::through_keyring_crate();
        let Backend::Entries(entries) = &store.split.inner().backend else {
            unreachable!("the keyring crate's entries")
        };
        let entry = Raw::entry(entries, "k").expect("entry");
        let mock = entry
            .get_credential()
            .downcast_ref::<keyring::mock::MockCredential>()
            .expect("mock");
        mock.set_error(keyring::Error::PlatformFailure("no secret service".into()));
        let err = store.set("k", &Secret::new("x")).expect_err("fails");
        assert!(matches!(err, Error::KeyringUnavailable { .. }));
        let hint = err.hint().expect("hint").plain();
        assert!(
            hint.contains("AZURE_CLIENT_SECRET") && hint.contains("--secret-file"),
            "{hint}"
        );
    }

    #[test]
    fn env_and_file_sources() {
        let store = MemoryStore::new();
        let env = Env::from_pairs([("AZURE_CLIENT_SECRET", "from-env")]);
        let s = read_secret("id", &SecretSource::Env, "k", &store, &env).expect("env");
        assert_eq!(s.expose(), "from-env");
        let err =
            read_secret("id", &SecretSource::Env, "k", &store, &Env::default()).expect_err("unset");
        assert!(err.to_string().contains("AZURE_CLIENT_SECRET"));

        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("secret");
        write_secret_file(&path, &Secret::new("from-file")).expect("write");
        let s =
            read_secret("id", &SecretSource::File(path.clone()), "k", &store, &env).expect("file");
        assert_eq!(s.expose(), "from-file");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
                0o600
            );
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            let err = read_secret("id", &SecretSource::File(path), "k", &store, &env)
                .expect_err("shared");
            assert!(err.to_string().contains("mode 644"), "{err}");
        }
    }

    #[test]
    fn missing_keyring_entry_says_sign_in_again() {
        let err = read_secret(
            "app",
            &SecretSource::Keyring,
            "k",
            &MemoryStore::new(),
            &Env::default(),
        )
        .expect_err("missing");
        assert!(err.hint().expect("hint").plain().contains("SignIn"));
    }
}
