//! The Secret Service (GNOME Keyring, KWallet, KeePassXC) over one D-Bus connection and one
//! encrypted session for the life of the process.
//!
//! The `keyring` crate opens a new connection and negotiates a new encrypted session (a
//! Diffie-Hellman exchange) for every read, and two for every write; a one-shot command that
//! reads a client secret and writes a registry token paid that three or four times. This store
//! keeps the items `keyring` reads and writes — the same attributes (`service`, `username`,
//! `target`, `application`) in the default collection — so entries written by either are found
//! by the other.

use std::collections::HashMap;
use std::sync::Mutex;

use dbus_secret_service::{EncryptionType, Item, SecretService};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The collection `keyring` files its entries under (the `default` alias).
const TARGET: &str = "default";
/// The `application` attribute `keyring` gives its items (not searched on).
const APPLICATION: &str = "rust-keyring";
/// How long an unlock prompt (the keyring is locked) may wait for the user.
const PROMPT_SECONDS: u64 = 120;

/// The connection, opened on first use; a failed call drops it, so the next call connects
/// again (the keyring daemon may have restarted).
#[derive(Default)]
pub(super) struct SecretServiceStore {
    service: Mutex<Option<SecretService>>,
}

impl SecretServiceStore {
    /// Runs `f` on the connection (opening it first if needed).
    fn with<T>(
        &self,
        f: impl FnOnce(&SecretService) -> std::result::Result<T, dbus_secret_service::Error>,
    ) -> Result<T> {
        let mut guard = self.service.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            let service =
                SecretService::connect_with_max_prompt_timeout(EncryptionType::Dh, PROMPT_SECONDS)
                    .map_err(unavailable)?;
            *guard = Some(service);
        }
        let Some(service) = guard.as_ref() else {
            return Err(unavailable(dbus_secret_service::Error::Unavailable));
        };
        let result = f(service);
        if result.is_err() {
            *guard = None;
        }
        result.map_err(unavailable)
    }

    pub(super) fn get(&self, service: &str, key: &str) -> Result<Option<Secret>> {
        let bytes = self.with(|ss| match find(ss, service, key)?.first() {
            Some((item, locked)) => {
                if *locked {
                    item.unlock()?;
                }
                item.get_secret().map(Some)
            }
            None => Ok(None),
        })?;
        bytes
            .map(|b| {
                String::from_utf8(b).map(Secret::new).map_err(|_| {
                    Error::invalid_input(
                        format!("the keyring entry {key} of {service} does not hold text"),
                        "delete it (seahorse, or `secret-tool clear service acr-tray username KEY`) and sign in again",
                    )
                })
            })
            .transpose()
    }

    pub(super) fn set(&self, service: &str, key: &str, secret: &Secret) -> Result<()> {
        self.with(|ss| {
            let found = find(ss, service, key)?;
            if let [(item, locked)] = found.as_slice() {
                if *locked {
                    item.unlock()?;
                }
                return item.set_secret(secret.expose().as_bytes(), "text/plain");
            }
            // None, or several (written by hand): one entry is created in their place.
            for (extra, _) in &found {
                extra.delete()?;
            }
            let collection = ss.get_default_collection()?;
            collection.ensure_unlocked()?;
            collection.create_item(
                &format!("ACR Tray: {key}"),
                attributes(service, key, true),
                secret.expose().as_bytes(),
                true,
                "text/plain",
            )?;
            Ok(())
        })
    }

    pub(super) fn delete(&self, service: &str, key: &str) -> Result<()> {
        self.with(|ss| {
            for (item, _) in find(ss, service, key)? {
                item.delete()?;
            }
            Ok(())
        })
    }
}

/// The attributes of an entry: those searched on, and `application` when creating one.
fn attributes<'a>(service: &'a str, key: &'a str, creating: bool) -> HashMap<&'a str, &'a str> {
    let mut map = HashMap::from([("service", service), ("username", key), ("target", TARGET)]);
    if creating {
        map.insert("application", APPLICATION);
    }
    map
}

/// The entries under `key` (unlocked ones first), each with whether it is locked.
fn find<'a>(
    ss: &'a SecretService,
    service: &str,
    key: &str,
) -> std::result::Result<Vec<(Item<'a>, bool)>, dbus_secret_service::Error> {
    let found = ss.search_items(attributes(service, key, false))?;
    let unlocked = found.unlocked.into_iter().map(|i| (i, false));
    Ok(unlocked
        .chain(found.locked.into_iter().map(|i| (i, true)))
        .collect())
}

fn unavailable(e: dbus_secret_service::Error) -> Error {
    // Its messages describe the D-Bus failure; none carries a secret.
    Error::KeyringUnavailable {
        detail: e.to_string(),
    }
}
