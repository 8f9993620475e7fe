//! The admin-account watch (docs/protocol.md#admin-watch).
//!
//! With every refresh of a registry (the hourly cycle, and `refresh` on demand) the identity
//! that signs in for it reads the registry's ARM resource: `adminUserEnabled` going on or off is
//! an event. Where the identity may also `listCredentials`, each admin password is reduced to a
//! keyed hash (HMAC-SHA256 with a random key); a hash that changes means the password was
//! regenerated. The key and the hashes live in the OS keyring, never in a file, a log or an
//! event: a stolen `state.json` says nothing about the passwords.
//!
//! An identity that cannot read the registry in ARM (AcrPull or AcrPush alone: data-plane
//! roles do not show registries) is asked again once a day, not every hour; the reason is kept
//! for the status and the settings window.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::azure::arm::{AdminCredentials, Arm, ArmRegistry};
use crate::azure::cloud::Audience;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::hint::{Action, Hint};
use crate::secret::Secret;
use crate::store::config::{RegistryAuth, RegistryConfig};
use crate::store::secrets::SecretStore;
use crate::store::state::{AdminWatchState, State};

/// How long an identity that cannot read a registry in ARM is left alone.
pub const NOT_VISIBLE_RETRY: TimeDelta = TimeDelta::hours(24);

/// The keyring key of the hash key.
const HASH_KEY: &str = "admin-watch/key";

/// The keyring key of a registry's password hashes.
fn hashes_key(login_server: &str) -> String {
    format!("admin-watch/{}", login_server.to_ascii_lowercase())
}

/// One registry's watch: its new state and the events it brings.
struct Watched {
    state: AdminWatchState,
    events: Vec<Event>,
}

impl Engine {
    /// Enables or disables a registry's admin account through ARM (`PATCH`, following the
    /// long-running operation), with the identity that signs in for it. Refused for a registry
    /// that signs in with the admin account (disabling would cut it off; enabling is not
    /// needed). The watch remembers the new setting, so the change is not announced back.
    pub async fn set_admin_account(&self, name: &str, enabled: bool) -> Result<()> {
        let reg = self.settings.registry(name)?.clone();
        if reg.auth != RegistryAuth::Identity {
            return Err(Error::invalid_input(
                format!("{} signs in with its admin account", reg.name),
                Hint::text("switch it to an Entra identity first (")
                    .with(Action::registry_to_identity(&reg.name))
                    .then(")"),
            ));
        }
        let identity = self.identity_of(&reg)?;
        let tenant = self.registry_tenant(&reg);
        let token = self
            .entra_token_in(identity, tenant.as_deref(), Audience::Arm)
            .await?;
        let http = &self.clients()?.http;
        let arm = Arm::new(http, &self.cloud.arm, &token.token, &identity.id);
        let state_path = self.paths.state_file();
        let known = reg
            .arm_id
            .clone()
            .or_else(|| remembered(&State::load(&state_path), &reg).arm_id);
        let id = match known {
            Some(id) => id,
            None => {
                arm.find_registry(&reg.login_server)
                    .await?
                    .ok_or_else(|| Error::Registry {
                        registry: reg.login_server.to_string(),
                        message: cannot_read(&identity.id),
                        kind: ErrorKind::Permission,
                        hint: Hint::text(
                            "changing the admin account needs Contributor or Owner on the registry",
                        ),
                    })?
                    .id
            }
        };
        arm.set_admin_enabled(&id, enabled).await?;
        // Read again: a refresh pass may have saved the state while ARM was working.
        let mut state = State::load(&state_path);
        let entry = state
            .registries
            .entry(reg.login_server.to_string())
            .or_default()
            .admin
            .get_or_insert_with(AdminWatchState::default);
        entry.arm_id = Some(id);
        entry.enabled = Some(enabled);
        entry.not_watched = None;
        entry.retry_at = None;
        entry.checked_at = Some(self.clock.now());
        if let Err(e) = state.save(&state_path) {
            tracing::warn!(error = %e, "could not save the state");
        }
        Ok(())
    }

    /// Reads the admin account of every registry given (those whose identity is an Entra
    /// identity), updating `state` and sending an event for every change since the last read.
    /// `written` names the registries whose admin password was written into Docker's config in
    /// this pass; a registry read less than `fresh_for` ago is left alone. Failures are logged
    /// and tried again with the next refresh; they never fail the refresh.
    pub(crate) async fn watch_admin(
        &self,
        registries: &[&RegistryConfig],
        state: &mut State,
        written: &[String],
        fresh_for: TimeDelta,
    ) {
        let now = self.clock.now();
        let due: Vec<&RegistryConfig> = registries
            .iter()
            .copied()
            .filter(|r| r.identity.is_some() && r.auth.watches_admin())
            .filter(|r| {
                let last = remembered(state, r);
                last.retry_at.is_none_or(|at| at <= now)
                    && last.checked_at.is_none_or(|at| now - at >= fresh_for)
            })
            .collect();
        if due.is_empty() {
            return;
        }
        let hasher = Hasher::new(self.secrets.as_ref());
        // One ARM token per identity and tenant (ARM lists a tenant's registries with that
        // tenant's token only).
        let mut by_identity: BTreeMap<(&str, Option<String>), Vec<&RegistryConfig>> =
            BTreeMap::new();
        for reg in due {
            by_identity
                .entry((
                    reg.identity.as_deref().unwrap_or_default(),
                    self.registry_tenant(reg),
                ))
                .or_default()
                .push(reg);
        }
        let runs = by_identity.into_values().map(|regs| {
            let (hasher, state) = (&hasher, &*state);
            async move {
                self.watch_identity(&regs, state, hasher, written, now)
                    .await
            }
        });
        for watched in futures::future::join_all(runs).await {
            for (login_server, watched) in watched {
                for event in watched.events {
                    self.emit(event);
                }
                state.registries.entry(login_server).or_default().admin = Some(watched.state);
            }
        }
    }

    /// The registries of one identity: one ARM token, one listing for the registries whose
    /// resource id is not known yet, a `GET` for the others.
    async fn watch_identity(
        &self,
        regs: &[&RegistryConfig],
        state: &State,
        hasher: &Hasher<'_>,
        written: &[String],
        now: DateTime<Utc>,
    ) -> Vec<(String, Watched)> {
        let Some(first) = regs.first() else {
            return Vec::new();
        };
        let Ok(identity) = self.identity_of(first) else {
            return Vec::new();
        };
        let tenant = self.registry_tenant(first);
        let token = match self
            .entra_token_in(identity, tenant.as_deref(), Audience::Arm)
            .await
        {
            Ok(t) => t,
            Err(e) => {
                tracing::debug!(identity = %identity.id, error = %e, "admin watch: no ARM token");
                return Vec::new();
            }
        };
        let Ok(clients) = self.clients() else {
            return Vec::new();
        };
        let arm = Arm::new(&clients.http, &self.cloud.arm, &token.token, &identity.id);
        let previous = |reg: &RegistryConfig| remembered(state, reg);
        let listing = if regs
            .iter()
            .any(|r| r.arm_id.is_none() && previous(r).arm_id.is_none())
        {
            match arm.list_registries().await {
                Ok(listed) => Some(listed),
                Err(e) => {
                    tracing::info!(identity = %identity.id, error = %e, "admin watch: could not list registries; trying again with the next refresh");
                    None
                }
            }
        } else {
            None
        };
        // A listing tells about every registry of the identity: the ones it does not show
        // are not asked about again for a day, whether or not they are due in this pass.
        let mut out: Vec<(String, Watched)> = Vec::new();
        if let Some(listed) = listing.as_deref() {
            let others = self.settings.registries.iter().filter(|r| {
                r.identity == first.identity
                    && r.auth.watches_admin()
                    && r.arm_id.is_none()
                    && !regs.iter().any(|d| d.login_server == r.login_server)
            });
            for reg in others {
                let mut state = previous(reg);
                let listed_here = listed.iter().any(|l| {
                    crate::azure::arm::same_login_server(
                        &l.properties.login_server,
                        &reg.login_server,
                    )
                });
                if state.arm_id.is_none() && !listed_here {
                    state.not_watched = Some(cannot_read(&identity.id));
                    state.retry_at = Some(now + NOT_VISIBLE_RETRY);
                    state.checked_at = Some(now);
                    let watched = Watched {
                        state,
                        events: Vec::new(),
                    };
                    out.push((reg.login_server.to_string(), watched));
                }
            }
        }
        let runs = regs.iter().map(|reg| {
            let (arm, listing) = (&arm, listing.as_deref());
            let state = previous(reg);
            async move {
                let watched = self
                    .watch_one(reg, &identity.id, state, arm, listing, hasher, written, now)
                    .await;
                watched.map(|w| (reg.login_server.to_string(), w))
            }
        });
        out.extend(futures::future::join_all(runs).await.into_iter().flatten());
        out
    }

    #[allow(clippy::too_many_arguments)]
    async fn watch_one(
        &self,
        reg: &RegistryConfig,
        identity: &str,
        mut state: AdminWatchState,
        arm: &Arm<'_>,
        listing: Option<&[ArmRegistry]>,
        hasher: &Hasher<'_>,
        written: &[String],
        now: DateTime<Utc>,
    ) -> Option<Watched> {
        let not_visible = |mut state: AdminWatchState, why: String| {
            state.arm_id = None;
            state.not_watched = Some(why);
            state.retry_at = Some(now + NOT_VISIBLE_RETRY);
            state.checked_at = Some(now);
            Some(Watched {
                state,
                events: Vec::new(),
            })
        };
        let cannot_read = cannot_read(identity);
        let known_id = reg.arm_id.clone().or_else(|| state.arm_id.clone());
        let resource: ArmRegistry = match known_id {
            Some(id) => match arm.get_registry(&id).await {
                Ok(r) => r,
                Err(e) if matches!(e.kind(), ErrorKind::Permission | ErrorKind::Configuration) => {
                    tracing::info!(registry = %reg.login_server, error = %e, "admin watch: registry not readable");
                    return not_visible(state, cannot_read);
                }
                Err(e) => {
                    tracing::info!(registry = %reg.login_server, error = %e, "admin watch: could not read the registry; trying again with the next refresh");
                    return None;
                }
            },
            None => match listing?.iter().find(|r| {
                crate::azure::arm::same_login_server(&r.properties.login_server, &reg.login_server)
            }) {
                Some(r) => r.clone(),
                None => return not_visible(state, cannot_read),
            },
        };
        let mut resource = resource;
        if resource.properties.role_assignment_mode.is_none() {
            // The stable API version does not carry the mode; the one that documents it may.
            resource.properties.role_assignment_mode = arm.role_assignment_mode(&resource.id).await;
        }
        state.arm_id = Some(resource.id.clone());
        state.role_assignment_mode = Some(resource.properties.role_assignment_mode());
        state.not_watched = None;
        state.retry_at = None;
        state.checked_at = Some(now);
        let mut enabled = resource.properties.admin_user_enabled;
        let admin_mode = reg.auth == RegistryAuth::AdminArm;
        let login_server = reg.login_server.to_string();
        let mut events = Vec::new();

        let ask_passwords = state.passwords_readable != Some(false)
            || state.passwords_retry_at.is_none_or(|at| at <= now);
        if enabled && ask_passwords {
            match arm.list_credentials(&resource.id).await {
                Ok(creds) => {
                    state.passwords_readable = Some(true);
                    state.passwords_retry_at = None;
                    let in_docker = written.contains(&login_server);
                    events.extend(self.compare_passwords(reg, &creds, hasher, in_docker));
                }
                Err(e) if is_admin_disabled(&e) => enabled = false,
                Err(e) if e.kind() == ErrorKind::Permission => {
                    state.passwords_readable = Some(false);
                    state.passwords_retry_at = Some(now + NOT_VISIBLE_RETRY);
                    tracing::info!(registry = %reg.login_server, "admin watch: the identity may not read admin passwords; watching only whether the account is enabled");
                }
                Err(e) => {
                    tracing::info!(registry = %reg.login_server, error = %e, "admin watch: could not read the admin passwords");
                }
            }
        }
        match (state.enabled, enabled) {
            (Some(false), true) => events.insert(
                0,
                Event::AdminEnabled {
                    registry: reg.name.clone(),
                    login_server: login_server.clone(),
                    admin_mode,
                },
            ),
            (Some(true), false) => events.insert(
                0,
                Event::AdminDisabled {
                    registry: reg.name.clone(),
                    login_server: login_server.clone(),
                    admin_mode,
                },
            ),
            _ => {}
        }
        state.enabled = Some(enabled);
        Some(Watched { state, events })
    }

    /// Events for the passwords whose keyed hash changed since the last read; the new hashes
    /// are kept in the keyring. A first read only remembers.
    fn compare_passwords(
        &self,
        reg: &RegistryConfig,
        creds: &AdminCredentials,
        hasher: &Hasher<'_>,
        in_docker: bool,
    ) -> Vec<Event> {
        let login_server = reg.login_server.to_string();
        let Some(now_hashes) = hasher.hash_all(&creds.passwords) else {
            return Vec::new();
        };
        let key = hashes_key(&login_server);
        let before: Option<BTreeMap<String, String>> = match self.secrets.get(&key) {
            Ok(v) => v.and_then(|s| serde_json::from_str(s.expose()).ok()),
            Err(e) => {
                tracing::info!(error = %e, "admin watch: the keyring cannot be read; password changes are not watched");
                return Vec::new();
            }
        };
        if before.as_ref() != Some(&now_hashes) {
            let json = serde_json::to_string(&now_hashes).unwrap_or_default();
            if let Err(e) = self.secrets.set(&key, &Secret::new(json)) {
                tracing::info!(error = %e, "admin watch: could not keep the password hashes");
            }
        }
        let Some(before) = before else {
            return Vec::new();
        };
        // The password Docker gets in admin mode is the first one (`password`).
        let used = creds.passwords.first().map(|(name, _)| name.as_str());
        now_hashes
            .iter()
            .filter(|(name, hash)| before.get(*name).is_some_and(|old| old != *hash))
            .map(|(name, _)| {
                let in_use = reg.auth == RegistryAuth::AdminArm && used == Some(name.as_str());
                Event::AdminPasswordRegenerated {
                    registry: reg.name.clone(),
                    login_server: login_server.clone(),
                    password: name.clone(),
                    admin_mode: reg.auth == RegistryAuth::AdminArm,
                    written_to_docker: in_use && in_docker,
                }
            })
            .collect()
    }
}

/// What the watch remembers about a registry (nothing yet: the default).
fn remembered(state: &State, reg: &RegistryConfig) -> AdminWatchState {
    state
        .registries
        .get(&reg.login_server.to_string())
        .and_then(|r| r.admin.clone())
        .unwrap_or_default()
}

/// Why a registry is not watched: the identity cannot read it in ARM.
fn cannot_read(identity: &str) -> String {
    format!(
        "{identity} cannot read this registry in ARM (AcrPull and AcrPush do not show registries; Reader or more does), so admin-account changes are not watched"
    )
}

fn is_admin_disabled(e: &Error) -> bool {
    matches!(e, Error::Registry { message, kind: ErrorKind::Configuration, .. } if message == crate::azure::arm::ADMIN_DISABLED)
}

/// The keyed hash of admin passwords; the key is made on first use and kept in the keyring.
struct Hasher<'a> {
    secrets: &'a dyn SecretStore,
    key: std::sync::OnceLock<Option<Vec<u8>>>,
}

impl<'a> Hasher<'a> {
    fn new(secrets: &'a dyn SecretStore) -> Self {
        Self {
            secrets,
            key: std::sync::OnceLock::new(),
        }
    }

    fn key(&self) -> Option<&[u8]> {
        self.key
            .get_or_init(|| match self.secrets.get(HASH_KEY) {
                Ok(Some(k)) => hex::decode(k.expose()).ok().filter(|k| k.len() == 32),
                Ok(None) => {
                    let key: [u8; 32] = rand::random();
                    let hex = hex::encode(key);
                    match self.secrets.set(HASH_KEY, &Secret::new(hex)) {
                        Ok(()) => Some(key.to_vec()),
                        Err(e) => {
                            tracing::info!(error = %e, "admin watch: cannot keep a hash key in the keyring; password changes are not watched");
                            None
                        }
                    }
                }
                Err(e) => {
                    tracing::info!(error = %e, "admin watch: the keyring cannot be read; password changes are not watched");
                    None
                }
            })
            .as_deref()
    }

    /// Every password's keyed hash, by name (`None` without a key).
    fn hash_all(&self, passwords: &[(String, Secret)]) -> Option<BTreeMap<String, String>> {
        let key = self.key()?;
        passwords
            .iter()
            .map(|(name, value)| {
                // HMAC takes a key of any length: this never fails.
                let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
                mac.update(value.expose().as_bytes());
                Some((name.clone(), hex::encode(mac.finalize().into_bytes())))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::secrets::MemoryStore;

    #[test]
    fn keyed_hashes_are_stable_per_key_and_differ_between_keys() {
        let store = MemoryStore::new();
        let pw = vec![("password".to_owned(), Secret::new("s3cret".to_owned()))];
        let a = Hasher::new(&store).hash_all(&pw).unwrap();
        // The key is kept: a second hasher (a restart) gives the same hash.
        let b = Hasher::new(&store).hash_all(&pw).unwrap();
        assert_eq!(a, b);
        assert_eq!(a["password"].len(), 64);
        assert!(!a["password"].contains("s3cret"));
        // Another key (another machine), another hash: the hash alone says nothing.
        let other = MemoryStore::new();
        let c = Hasher::new(&other).hash_all(&pw).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn no_keyring_no_hashes() {
        let store = MemoryStore::new();
        store.set_unavailable(Some("locked"));
        let pw = vec![("password".to_owned(), Secret::new("x".to_owned()))];
        assert!(Hasher::new(&store).hash_all(&pw).is_none());
    }
}
