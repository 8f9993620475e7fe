//! Docker's credentials: where they live and how ACR Tray writes its entries (protocol.md §6).
//!
//! The file is kept as a generic JSON object so every key Docker, Docker Desktop, podman or any
//! other tool put there survives (Docker itself drops unknown keys; we must not). A file that
//! does not parse is never overwritten.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::env::Env;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::secret::Secret;

/// The user name ACR expects with an ACR refresh token (protocol.md §3.7).
pub const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// How a registry entry carries the ACR refresh token.
///
/// ACR Tray writes [`EntryForm::Password`] by default: `auth` = base64(zero GUID `:` token).
/// Every client that reads Docker's config understands `auth` (skopeo, podman, buildkit, crane,
/// .NET SDK containers), and ACR accepts the zero GUID with a refresh token as Basic credentials
/// on `GET /oauth2/token` (protocol.md §3.4). `az acr login` ends with [`EntryForm::IdentityToken`]
/// (`auth` with an empty password plus `identitytoken`), which several tools ignore and then
/// fail with 401 (protocol.md §9.6); it stays available as a setting for parity with az.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EntryForm {
    /// `{"auth": base64("<zero GUID>:<token>")}`.
    #[default]
    Password,
    /// `{"auth": base64("<zero GUID>:"), "identitytoken": "<token>"}`, as `az acr login` leaves it.
    IdentityToken,
}

/// The credentials to put into Docker's config for one registry.
#[derive(Debug, Clone)]
pub struct DockerCredential {
    /// The user name (the zero GUID for tokens, the admin user for admin accounts).
    pub username: String,
    /// The ACR refresh token or password.
    pub secret: Secret,
    /// How to write it.
    pub form: EntryForm,
}

/// Where Docker will look for a registry's credentials (protocol.md §6.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialStore {
    /// The `auths` map of config.json.
    File,
    /// A `docker-credential-<helper>` program, chosen by `credHelpers` or `credsStore`.
    Helper {
        /// The helper's name (the part after `docker-credential-`).
        helper: String,
        /// The key that chose it: `credHelpers` or `credsStore`.
        key: &'static str,
    },
}

/// The location of Docker's config.json: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn config_path(env: &Env) -> Result<PathBuf> {
    if let Some(dir) = env.var("DOCKER_CONFIG") {
        return Ok(Path::new(dir).join("config.json"));
    }
    env.home()
        .map(|h| h.join(".docker").join("config.json"))
        .ok_or_else(|| {
            Error::invalid_input(
                "cannot find Docker's config: no home directory",
                "set DOCKER_CONFIG to the folder holding Docker's config.json",
            )
        })
}

/// Docker's config.json, parsed but otherwise untouched.
#[derive(Debug, Clone)]
pub struct DockerConfig {
    path: PathBuf,
    root: Map<String, Value>,
}

impl DockerConfig {
    /// Reads the file; a missing (or empty) file is an empty config, a malformed one an error.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io("read", path, &e)),
        };
        let root = if bytes.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => map,
                Ok(_) => return Err(malformed(path, "the top level is not a JSON object")),
                Err(e) => return Err(malformed(path, &e.to_string())),
            }
        };
        for (key, is_right_type) in [
            ("auths", Value::is_object as fn(&Value) -> bool),
            ("credHelpers", Value::is_object),
            ("credsStore", Value::is_string),
        ] {
            if root.get(key).is_some_and(|v| !is_right_type(v)) {
                return Err(malformed(path, &format!("\"{key}\" has the wrong type")));
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            root,
        })
    }

    /// The file this came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where Docker looks for this registry's credentials: `credHelpers`, then `credsStore`,
    /// then `auths`.
    pub fn store_for(&self, registry: &str) -> CredentialStore {
        let helper = self
            .root
            .get("credHelpers")
            .and_then(|h| h.get(registry))
            .and_then(Value::as_str)
            .filter(|h| !h.is_empty());
        if let Some(helper) = helper {
            return CredentialStore::Helper {
                helper: helper.to_owned(),
                key: "credHelpers",
            };
        }
        match self.root.get("credsStore").and_then(Value::as_str) {
            Some(store) if !store.is_empty() => CredentialStore::Helper {
                helper: store.to_owned(),
                key: "credsStore",
            },
            _ => CredentialStore::File,
        }
    }

    /// Fails when Docker would ignore an `auths` entry for this registry.
    pub fn check_file_store(&self, registry: &str) -> Result<()> {
        match self.store_for(registry) {
            CredentialStore::File => Ok(()),
            CredentialStore::Helper { helper, key } => Err(Error::DockerHelper {
                path: self.path.clone(),
                registry: registry.to_owned(),
                helper,
                key: key.to_owned(),
            }),
        }
    }

    /// The `auths` entry for a registry, decoded.
    pub fn entry(&self, registry: &str) -> Option<StoredEntry> {
        let entry = self.root.get("auths")?.get(registry)?.as_object()?;
        let (username, password) = entry
            .get("auth")
            .and_then(Value::as_str)
            .and_then(decode_auth)
            .unwrap_or_default();
        Some(StoredEntry {
            username,
            password: Secret::new(password),
            identity_token: entry
                .get("identitytoken")
                .and_then(Value::as_str)
                .map(Secret::new),
        })
    }

    /// Sets a registry's entry, keeping any other field in it. Returns whether anything changed.
    pub fn set_credential(&mut self, registry: &str, cred: &DockerCredential) -> bool {
        let auths = object_at(&mut self.root, "auths");
        let entry = object_at(auths, registry);
        let before = entry.clone();
        // Fields that would override the new `auth` in Docker (or are stale copies of it).
        for stale in ["identitytoken", "registrytoken", "username", "password"] {
            entry.remove(stale);
        }
        let auth = match cred.form {
            EntryForm::Password => format!("{}:{}", cred.username, cred.secret.expose()),
            EntryForm::IdentityToken => format!("{}:", cred.username),
        };
        entry.insert("auth".to_owned(), Value::String(B64.encode(auth)));
        if cred.form == EntryForm::IdentityToken {
            entry.insert(
                "identitytoken".to_owned(),
                Value::String(cred.secret.expose().to_owned()),
            );
        }
        *entry != before
    }

    /// The file's new contents: Docker's own layout (tab-indented JSON, keys in their order).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        // Serialising a map of JSON values into memory cannot fail.
        let _ = self.root.serialize(&mut ser);
        out
    }
}

/// Writes credentials for several registries in one atomic update of Docker's config.
///
/// The file is read again right before the write, so entries another tool added since the
/// caller last looked are kept. A registry whose credentials Docker would read from a helper
/// is refused (with [`Error::DockerHelper`]) rather than written where Docker ignores it.
pub fn write_credentials(path: &Path, creds: &[(String, DockerCredential)]) -> Result<()> {
    let target = fsutil::resolve_symlinks(path)?;
    let mut config = DockerConfig::load(&target)?;
    config.path = path.to_path_buf();
    let mut changed = false;
    for (registry, cred) in creds {
        config.check_file_store(registry)?;
        changed |= config.set_credential(registry, cred);
    }
    if changed {
        fsutil::atomic_write(path, &config.to_bytes())?;
    }
    Ok(())
}

/// A registry's entry as Docker's config holds it.
#[derive(Debug, Clone, Default)]
pub struct StoredEntry {
    /// The user name from `auth`.
    pub username: String,
    /// The password from `auth` (empty in the identity-token form).
    pub password: Secret,
    /// `identitytoken`, if present.
    pub identity_token: Option<Secret>,
}

impl StoredEntry {
    /// The ACR refresh token in this entry, if it holds one (zero-GUID user).
    pub fn acr_token(&self) -> Option<&Secret> {
        if self.username != ZERO_GUID {
            return None;
        }
        self.identity_token
            .as_ref()
            .or(Some(&self.password).filter(|p| !p.is_empty()))
    }
}

impl Default for Secret {
    fn default() -> Self {
        Secret::new(String::new())
    }
}

fn decode_auth(auth: &str) -> Option<(String, String)> {
    let raw = B64.decode(auth.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_owned(), pass.trim_end_matches('\0').to_owned()))
}

fn object_at<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        // Only reachable for our own registry's entry (`load` refuses a non-object `auths`):
        // an entry that is not an object is unusable to Docker, so it is replaced.
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(m) => m,
        _ => unreachable!("replaced by an object above"),
    }
}

fn malformed(path: &Path, detail: &str) -> Error {
    Error::DockerConfigMalformed {
        path: path.to_path_buf(),
        detail: detail.to_owned(),
    }
}

#[cfg(test)]
mod tests;
