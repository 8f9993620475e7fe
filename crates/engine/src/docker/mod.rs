//! Docker's credentials: where they live and how ACR Tray writes its entries
//! (docs/protocol.md#docker-config).
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

mod helm;
pub mod helper;

pub use helm::{HelmReads, helm_registry_config, installed_helm, same_file};

/// The user name ACR expects with an ACR refresh token (docs/protocol.md#acr-zero-guid).
pub const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// How a registry entry carries the ACR refresh token.
///
/// ACR Tray writes [`EntryForm::Password`] by default: `auth` = base64(zero GUID `:` token).
/// Every client that reads Docker's config understands `auth` (skopeo, podman, buildkit, crane,
/// .NET SDK containers), and ACR accepts the zero GUID with a refresh token as Basic credentials
/// on `GET /oauth2/token` (docs/protocol.md#acr-basic-login). `az acr login` ends with
/// [`EntryForm::IdentityToken`] (`auth` with an empty password plus `identitytoken`), which
/// several tools ignore and then fail with 401 (docs/protocol.md#docker-entry-forms); it stays
/// available as a setting for parity with az.
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

/// The name of ACR Tray's own helper, `docker-credential-acr-tray`.
pub const OUR_HELPER: &str = "acr-tray";

/// Where Docker will look for a registry's credentials (docs/protocol.md#docker-store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialStore {
    /// The `auths` map of config.json.
    File,
    /// A `docker-credential-<helper>` program, chosen by `credHelpers`, `credsStore`, or (in a
    /// config without any auth information) Docker's platform default.
    Helper {
        /// The helper's name (the part after `docker-credential-`).
        helper: String,
        /// What chose it: `credHelpers`, `credsStore` or `default`.
        key: &'static str,
    },
    /// ACR Tray's own helper, `docker-credential-acr-tray`: the token stays in ACR Tray's cache.
    AcrTray {
        /// What chose it: `credHelpers` or `credsStore`.
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

/// The config.json an `[docker] extra_configs` entry names: a path ending in `.json` is the file
/// itself; any other path is a folder holding `config.json` (as `DOCKER_CONFIG` names one).
/// A leading `~/` (or a lone `~`) is the home folder. The result must be absolute: a relative
/// path would depend on where ACR Tray happened to be started.
pub fn extra_config_file(configured: &Path, env: &Env) -> Result<PathBuf> {
    let refuse = |why: &str| {
        Error::invalid_input(
            format!(
                "the extra Docker config \"{}\" in [docker] extra_configs {why}",
                configured.display()
            ),
            "give an absolute path (or one starting with ~/) to a folder holding config.json or to a .json file",
        )
    };
    let expanded = match configured.strip_prefix("~") {
        Ok(rest) => env
            .home()
            .map(|h| h.join(rest))
            .ok_or_else(|| refuse("starts with ~, but there is no home directory"))?,
        Err(_) => configured.to_path_buf(),
    };
    if !expanded.is_absolute() {
        return Err(refuse("is not an absolute path"));
    }
    if expanded
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        Ok(expanded)
    } else {
        Ok(expanded.join("config.json"))
    }
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
        let bytes = read_bytes(path)?.unwrap_or_default();
        Self::parse(path, &bytes)
    }

    /// Parses config.json's contents.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let root = if bytes.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else {
            match serde_json::from_slice::<Value>(bytes) {
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

    /// Where Docker keeps this registry's credentials, chosen exactly as Docker chooses:
    /// `credHelpers`, then `credsStore`, then — in a config with no auth information at all —
    /// the platform's default helper when installed, else the `auths` map.
    pub fn store_for(&self, registry: &str, env: &Env) -> CredentialStore {
        let helper = |name: &str, key| {
            if name == OUR_HELPER {
                CredentialStore::AcrTray { key }
            } else {
                CredentialStore::Helper {
                    helper: name.to_owned(),
                    key,
                }
            }
        };
        let per_registry = self
            .root
            .get("credHelpers")
            .and_then(|h| h.get(registry))
            .and_then(Value::as_str)
            .filter(|h| !h.is_empty());
        if let Some(name) = per_registry {
            return helper(name, "credHelpers");
        }
        if let Some(name) = self.creds_store() {
            return helper(name, "credsStore");
        }
        if !self.contains_auth()
            && let Some(name) = helper::default_store(env)
        {
            return helper(&name, "default");
        }
        CredentialStore::File
    }

    /// `credsStore`, when set.
    pub fn creds_store(&self) -> Option<&str> {
        self.root
            .get("credsStore")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// `credHelpers`, as (registry, helper) pairs.
    pub fn cred_helpers(&self) -> Vec<(String, String)> {
        self.root
            .get("credHelpers")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Docker's `ContainsAuth`: any `credsStore`, `credHelpers` or `auths` entry.
    fn contains_auth(&self) -> bool {
        let non_empty = |k: &str| {
            self.root
                .get(k)
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty())
        };
        self.creds_store().is_some() || non_empty("credHelpers") || non_empty("auths")
    }

    /// Sets `credsStore`.
    pub fn set_creds_store(&mut self, helper: Option<&str>) -> bool {
        let before = self.root.get("credsStore").cloned();
        match helper {
            Some(h) => {
                self.root
                    .insert("credsStore".to_owned(), Value::String(h.to_owned()));
            }
            None => {
                self.root.remove("credsStore");
            }
        }
        before != self.root.get("credsStore").cloned()
    }

    /// Sets (or with `None` removes) a registry's `credHelpers` entry.
    pub fn set_cred_helper(&mut self, registry: &str, helper: Option<&str>) -> bool {
        let helpers = object_at(&mut self.root, "credHelpers");
        let before = helpers.get(registry).cloned();
        match helper {
            Some(h) => {
                helpers.insert(registry.to_owned(), Value::String(h.to_owned()));
            }
            None => {
                helpers.remove(registry);
            }
        }
        let changed = before != helpers.get(registry).cloned();
        if helpers.is_empty() {
            self.root.remove("credHelpers");
        }
        changed
    }

    /// Leaves a registry's `auths` entry without credentials — `{}`, as Docker writes next to a
    /// helper — keeping any other field. Returns whether anything changed.
    pub fn clear_secrets(&mut self, registry: &str) -> bool {
        let auths = object_at(&mut self.root, "auths");
        let existed = auths.contains_key(registry);
        let entry = object_at(auths, registry);
        let before = entry.len();
        for secret in SECRET_FIELDS {
            entry.remove(secret);
        }
        !existed || before != entry.len()
    }

    /// Whether a registry's `auths` entry holds credentials.
    pub fn has_secrets(&self, registry: &str) -> bool {
        self.root
            .get("auths")
            .and_then(|a| a.get(registry))
            .and_then(Value::as_object)
            .is_some_and(|e| {
                SECRET_FIELDS.iter().any(|f| {
                    e.get(*f)
                        .and_then(Value::as_str)
                        .is_some_and(|v| !v.is_empty())
                })
            })
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
        for stale in SECRET_FIELDS {
            if stale != "auth" {
                entry.remove(stale);
            }
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

/// Writes credentials for several registries: each into the store Docker will read it from
/// (`auths`, a credential helper, or ACR Tray's own helper, whose cache the caller fills), and
/// config.json in one atomic update.
///
/// The update is safe against other writers: ACR Tray's processes take an advisory lock, and
/// the file is read again and compared right before the rename, so an entry `docker login`
/// wrote meanwhile is merged, not lost. A config.json that does not parse is never touched.
pub fn write_credentials(
    path: &Path,
    creds: &[(String, DockerCredential)],
    env: &Env,
) -> Result<Vec<Result<CredentialStore>>> {
    let _lock = lock(path)?;
    let initial = DockerConfig::load(&fsutil::resolve_symlinks(path)?)?;
    let results: Vec<Result<CredentialStore>> = creds
        .iter()
        .map(|(registry, cred)| {
            let store = initial.store_for(registry, env);
            if let CredentialStore::Helper { helper, .. } = &store {
                let username = match cred.form {
                    EntryForm::IdentityToken => "<token>",
                    EntryForm::Password => cred.username.as_str(),
                };
                helper::Helper::find(helper, env)?.store(registry, username, &cred.secret)?;
            }
            Ok(store)
        })
        .collect();
    if results
        .iter()
        .any(|r| matches!(r, Ok(CredentialStore::File)))
        && fsutil::make_private(path)?
    {
        // Docker creates config.json 0600; a token must not sit in one others can read.
        tracing::warn!(path = %path.display(), "config.json could be read by other users and now holds a registry token; it is now private (0600), as Docker creates it");
    }
    update_locked(path, |cfg| {
        let mut changed = false;
        for ((registry, cred), result) in creds.iter().zip(&results) {
            changed |= match result {
                Ok(CredentialStore::File) => cfg.set_credential(registry, cred),
                Ok(CredentialStore::Helper { helper, key }) => {
                    let mut c = cfg.clear_secrets(registry);
                    if *key == "default" {
                        // Docker persists the store it detected the next time it saves.
                        c |= cfg.set_creds_store(Some(helper));
                    }
                    c
                }
                Ok(CredentialStore::AcrTray { .. }) => cfg.clear_secrets(registry),
                Err(_) => false,
            };
        }
        changed
    })?;
    Ok(results)
}

/// Changes config.json under ACR Tray's lock with compare-and-retry (see [`write_credentials`]).
pub fn update(path: &Path, change: impl FnMut(&mut DockerConfig) -> bool) -> Result<()> {
    let _lock = lock(path)?;
    update_locked(path, change)
}

/// [`update`] for a caller that already holds the lock (a second `flock` on another handle of
/// the same file would wait for itself).
fn update_locked(path: &Path, mut change: impl FnMut(&mut DockerConfig) -> bool) -> Result<()> {
    let target = fsutil::resolve_symlinks(path)?;
    // What the file holds as far as we know, and what to merge onto: the same, except after
    // another program's save was displaced by ours (then we must write again, merged onto it).
    let mut on_disk = read_bytes(&target)?;
    let mut base = on_disk.clone();
    let mut displaced = false;
    for _ in 0..20 {
        let mut config = match DockerConfig::parse(&target, base.as_deref().unwrap_or_default()) {
            Ok(config) => config,
            Err(e) => {
                if displaced {
                    // Theirs is not ours to judge: put it back as it was.
                    restore(
                        path,
                        base.as_deref().unwrap_or_default(),
                        on_disk.as_deref(),
                    )?;
                }
                return Err(e);
            }
        };
        config.path = path.to_path_buf();
        let bytes = if change(&mut config) {
            config.to_bytes()
        } else if displaced {
            base.clone().unwrap_or_default()
        } else {
            return Ok(());
        };
        match fsutil::replace_if_unchanged(path, &bytes, on_disk.as_deref())? {
            fsutil::Replace::Done => return Ok(()),
            fsutil::Replace::Changed(now) => {
                tracing::debug!(path = %path.display(), "config.json changed while writing; merging again");
                on_disk.clone_from(&now);
                base = now;
            }
            fsutil::Replace::Displaced(theirs) => {
                tracing::debug!(path = %path.display(), "another program saved config.json as we did; merging again");
                on_disk = Some(bytes);
                base = Some(theirs);
                displaced = true;
            }
        }
    }
    Err(Error::Io {
        path: path.to_path_buf(),
        operation: "update".to_owned(),
        detail: "another program kept rewriting it; nothing was changed".to_owned(),
    })
}

/// Puts back contents our write displaced and we could not merge onto.
fn restore(path: &Path, theirs: &[u8], ours: Option<&[u8]>) -> Result<()> {
    // Changed or displaced again: someone else has written since, and theirs stands.
    fsutil::replace_if_unchanged(path, theirs, ours).map(|_| ())
}

/// How many backups of config.json are kept: they hold credentials, so they do not pile up.
pub const BACKUPS_KEPT: usize = 3;

/// Copies config.json to `config.json.acr-tray-backup-<UTC time>`, if it exists. The copy
/// holds whatever credentials config.json holds, so it is readable by the user only (0600) and
/// only the newest [`BACKUPS_KEPT`] backups are kept: older ones are deleted.
pub fn backup(path: &Path) -> Result<Option<PathBuf>> {
    let target = fsutil::resolve_symlinks(path)?;
    let Some(bytes) = read_bytes(&target)? else {
        return Ok(None);
    };
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let prefix = format!(
        "{}.acr-tray-backup-",
        target.file_name().unwrap_or_default().to_string_lossy()
    );
    let backup = target.with_file_name(format!("{prefix}{stamp}"));
    fsutil::atomic_write(&backup, &bytes)?;
    // A new file is made 0600; this also covers a name that was there already.
    fsutil::make_private(&backup)?;
    prune_backups(&backup, &prefix);
    Ok(Some(backup))
}

/// Deletes all but the newest [`BACKUPS_KEPT`] backups (their names sort by time) next to
/// `newest`, and makes the ones kept private.
fn prune_backups(newest: &Path, prefix: &str) {
    let Some(dir) = newest.parent() else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut backups: Vec<PathBuf> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let is_file = e.file_type().ok()?.is_file();
            let name = e.file_name();
            (is_file && name.to_str()?.starts_with(prefix)).then(|| e.path())
        })
        .collect();
    backups.sort_unstable_by(|a, b| b.cmp(a));
    for (i, old) in backups.iter().enumerate() {
        let done = if i < BACKUPS_KEPT {
            fsutil::make_private(old).map(drop)
        } else {
            std::fs::remove_file(old).map_err(|e| Error::io("delete", old, &e))
        };
        if let Err(e) = done {
            tracing::warn!(error = %e, "could not tidy up an old backup of config.json, which holds credentials");
        }
    }
}

fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, &e)),
    }
}

/// How long ACR Tray waits for its lock on Docker's config: longer than one of its own writes
/// holds it (a slow credential helper is given 30 s), short enough that a lock someone else
/// keeps (another user can open a lock file in a folder they can read) never hangs a refresh
/// or a `docker pull` for good.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

#[cfg(test)]
thread_local! {
    /// The wait for the lock on this thread (tests shorten it).
    pub(crate) static TEST_LOCK_WAIT: std::cell::Cell<Option<std::time::Duration>> =
        const { std::cell::Cell::new(None) };
}

/// An advisory lock between ACR Tray's own processes, on `.acr-tray.lock` next to config.json,
/// so that every ACR Tray process writing this config.json (whichever settings folder it uses)
/// takes the same one. The file is private (0600) and says which process holds it; the wait
/// for it is bounded ([`LOCK_WAIT`]), then the error names the file and the holder. Not
/// re-entrant: taken once per public call.
fn lock(path: &Path) -> Result<fsutil::HeldLock> {
    #[cfg(test)]
    let wait = TEST_LOCK_WAIT
        .with(std::cell::Cell::get)
        .unwrap_or(LOCK_WAIT);
    #[cfg(not(test))]
    let wait = LOCK_WAIT;
    lock_within(path, wait)
}

fn lock_within(path: &Path, wait: std::time::Duration) -> Result<fsutil::HeldLock> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fsutil::create_private_dir(&dir)?;
    let lock_path = dir.join(".acr-tray.lock");
    let program = std::env::current_exe()
        .ok()
        .and_then(|p| Some(p.file_stem()?.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "ACR Tray".to_owned());
    fsutil::lock_file(&lock_path, &program, wait)?.map_err(|holder| Error::LockHeld {
        path: lock_path,
        holder,
        waited_secs: wait.as_secs(),
    })
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

/// The fields of an `auths` entry that hold credentials.
const SECRET_FIELDS: [&str; 5] = [
    "auth",
    "identitytoken",
    "registrytoken",
    "username",
    "password",
];

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
