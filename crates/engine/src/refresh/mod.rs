//! The refresh pipeline: Docker pre-flight, then per registry (concurrently) the credential for
//! its sign-in mode — an Entra identity's token exchanged at `/oauth2/exchange` with audience
//! negotiation, or the admin account — then one atomic write of Docker's config, state saved,
//! events sent. Identities whose session ended are not tried again until the user signs in.
//! The credential itself comes from `exchange.rs`; `sinks.rs` puts it where Docker reads it.

mod exchange;
pub mod scheduler;
mod sinks;

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::azure::cloud::Audience;
use crate::docker::{CredentialStore, DockerConfig};
use crate::engine::{Engine, ends_session};
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::hint::{Action, Hint};
use crate::store::config::{RegistryAuth, RegistryConfig};
use crate::store::state::{State, StoredError};
use crate::store::token_store::{CachedCredential, TokenStore};

/// The result of refreshing one registry.
#[derive(Debug, Clone)]
pub struct RegistryOutcome {
    /// The registry's short name.
    pub name: String,
    /// Its login server.
    pub login_server: String,
    /// Who signs in for it.
    pub identity: String,
    /// What happened.
    pub result: Result<Refreshed>,
}

/// A successful refresh.
#[derive(Debug, Clone, Serialize)]
pub struct Refreshed {
    /// The audience whose token the registry accepted (`None` for admin accounts).
    pub audience: Option<Audience>,
    /// When the new credential runs out (`None` for admin passwords, which do not expire).
    pub expires_at: Option<DateTime<Utc>>,
    /// What the identity may do there (`None` for admin accounts, or when the token does not
    /// say).
    pub role: Option<crate::azure::acr::RegistryRole>,
}

/// A registry's status, for `status` and the settings window.
#[derive(Debug, Clone, Serialize)]
pub struct RegistryStatus {
    /// Short name.
    pub name: String,
    /// Login server.
    pub login_server: String,
    /// Who signs in for it.
    pub identity: String,
    /// The audience that worked last.
    pub audience: Option<Audience>,
    /// When Docker's credential was last written.
    pub last_refresh: Option<DateTime<Utc>>,
    /// When the token in Docker's config runs out.
    pub expires_at: Option<DateTime<Utc>>,
    /// The last error, if the last attempt failed.
    pub last_error: Option<StoredError>,
    /// What the identity may do there, from its last ACR token.
    pub role: Option<crate::azure::acr::RegistryRole>,
    /// The admin-account watch.
    pub admin: Option<crate::store::state::AdminWatchState>,
}

impl Engine {
    /// Refreshes the named registries (all when `names` is empty), concurrently, and writes
    /// every new credential into Docker's config in one atomic update.
    /// Each registry's admin account is read too (see [`crate::engine::admin_watch`]).
    pub async fn refresh(&self, names: &[String]) -> Result<Vec<RegistryOutcome>> {
        self.refresh_pass(names, Pass::Full).await
    }

    /// [`Engine::refresh`] asked for by the user (`acr-tray-cli refresh`, the doctor's and
    /// `docker use-helper`'s refresh): the admin account is read only where the last read is
    /// at least half a refresh interval old. The refresh cycle reads it every interval; a
    /// refresh run by hand right after it (or a minute after the last one) does not wait for
    /// ARM again.
    pub async fn refresh_on_demand(&self, names: &[String]) -> Result<Vec<RegistryOutcome>> {
        self.refresh_pass(names, Pass::OnDemand).await
    }

    /// One refresh of `names`, writing what `pass` says.
    async fn refresh_pass(&self, names: &[String], pass: Pass) -> Result<Vec<RegistryOutcome>> {
        let registries = self.select(names)?;
        let _secrets = self.remember_secrets();
        let docker_path = self.docker_config_path()?;
        let state_path = self.paths.state_file();
        let mut state = State::load(&state_path);
        let preflight = DockerConfig::load(&docker_path);
        let ended: BTreeMap<String, StoredError> = state
            .identities
            .iter()
            .filter_map(|(id, s)| s.sign_in_required.clone().map(|e| (id.clone(), e)))
            .collect();

        let attempts = registries.iter().map(|reg| {
            let remembered = state
                .registries
                .get(&reg.login_server.to_string())
                .and_then(|s| s.audience);
            let preflight = &preflight;
            let ended = &ended;
            async move {
                let result = match preflight {
                    Err(e) => Err(e.clone()),
                    Ok(cfg) => match self.check_store(cfg, &reg.login_server.to_string()) {
                        Err(e) => Err(e),
                        Ok(()) => match session_ended(reg, ended) {
                            Some(e) => Err(e),
                            None => self.refresh_one(reg, remembered).await,
                        },
                    },
                };
                (reg, result)
            }
        });
        let results = futures::future::join_all(attempts).await;

        let results: Vec<_> = results.into_iter().map(|(reg, r)| (*reg, r)).collect();
        let read_only = match (pass, &preflight) {
            (Pass::CacheOnly, Ok(cfg)) => Some(cfg),
            _ => None,
        };
        let results = self
            .store_credentials(&docker_path, read_only, results)
            .await;

        let now = self.clock.now();
        let mut outcomes = Vec::new();
        let mut newly_ended: HashSet<String> = HashSet::new();
        for (reg, result) in results {
            // The state and the events speak of the credential Docker uses. A cache-only pass
            // for a registry whose credential Docker keeps elsewhere leaves both alone (the token
            // in Docker's config is as it was); only a session that ended is noted.
            let docker_uses_cache = read_only.is_none_or(|cfg| {
                matches!(
                    cfg.store_for(&reg.login_server.to_string(), &self.env),
                    CredentialStore::AcrTray { .. }
                )
            });
            if !docker_uses_cache {
                if let Err(e) = &result
                    && let Some(id) = ends_session(e)
                {
                    self.note_session_ended(&mut state, id, e, now, &mut newly_ended);
                }
                outcomes.push(RegistryOutcome {
                    name: reg.name.clone(),
                    login_server: reg.login_server.to_string(),
                    identity: reg.signs_in_as(),
                    result,
                });
                continue;
            }
            let entry = state
                .registries
                .entry(reg.login_server.to_string())
                .or_default();
            match &result {
                Ok(r) => {
                    if let Some(failed) = entry.last_error.take() {
                        self.emit(Event::Recovered {
                            registry: reg.name.clone(),
                            login_server: reg.login_server.to_string(),
                            failing_since: entry.failing_since.take().unwrap_or(failed.at),
                        });
                    }
                    entry.failing_since = None;
                    entry.audience = r.audience;
                    entry.last_refresh = Some(now);
                    entry.expires_at = r.expires_at;
                    entry.last_error = None;
                    if r.role.is_some() {
                        entry.role = r.role;
                    }
                    if let Some(id) = &reg.identity {
                        state.identities.entry(id.clone()).or_default().last_token = Some(now);
                    }
                    tracing::info!(registry = %reg.login_server, "Docker credential refreshed");
                    self.emit(Event::Refreshed {
                        registry: reg.name.clone(),
                        login_server: reg.login_server.to_string(),
                        expires_at: r.expires_at,
                    });
                }
                Err(e) => {
                    if entry.last_error.is_none() {
                        entry.failing_since = Some(now);
                    }
                    entry.last_error = Some(StoredError::new(e, now));
                    if matches!(e, Error::NoRole { .. }) {
                        // The registry refused every token: the identity may do nothing there.
                        entry.role = Some(crate::azure::acr::RegistryRole::None);
                    }
                    tracing::warn!(registry = %reg.login_server, error = %e, "refresh failed");
                    let valid_until = entry.expires_at.filter(|exp| *exp > now);
                    if let Some(id) = ends_session(e) {
                        self.note_session_ended(&mut state, id, e, now, &mut newly_ended);
                    }
                    self.emit(Event::RefreshFailed {
                        registry: reg.name.clone(),
                        login_server: reg.login_server.to_string(),
                        identity: reg.identity.clone(),
                        kind: e.kind(),
                        message: e.to_string(),
                        hint: e.hint(),
                        valid_until,
                    });
                }
            }
            outcomes.push(RegistryOutcome {
                name: reg.name.clone(),
                login_server: reg.login_server.to_string(),
                identity: reg.signs_in_as(),
                result,
            });
        }
        if !newly_ended.is_empty() {
            tracing::warn!(identities = ?newly_ended, "sign-in required; no more automatic attempts until the user signs in");
        }
        let watched_within = match pass {
            // Every registry, whenever it was read last (even "in the future", after the clock
            // was set back).
            Pass::Full => Some(chrono::TimeDelta::MIN),
            Pass::OnDemand => Some(
                chrono::TimeDelta::minutes(i64::from(self.settings.refresh.interval_minutes)) / 2,
            ),
            Pass::CacheOnly => None,
        };
        if let Some(fresh_for) = watched_within {
            self.watch_admin_in(&registries, &mut state, &outcomes, fresh_for)
                .await;
        }
        if let Err(e) = state.save(&state_path) {
            tracing::warn!(error = %e, "could not save the state");
        }
        Ok(outcomes)
    }

    /// Marks an identity whose session ended as needing a sign-in (once: the first time
    /// it is seen, with an event), so nothing is tried for it until the user signs in.
    fn note_session_ended(
        &self,
        state: &mut State,
        id: &str,
        e: &Error,
        now: DateTime<Utc>,
        newly_ended: &mut HashSet<String>,
    ) {
        let identity = state.identities.entry(id.to_owned()).or_default();
        if let Some(limit) = crate::schedule::forecast::sign_in_frequency(e) {
            // Learned: the next session will end the same way; warn ahead.
            identity.sign_in_frequency_secs = Some(limit.num_seconds());
        }
        if identity.sign_in_required.is_none() {
            identity.sign_in_required = Some(StoredError::new(e, now));
            newly_ended.insert(id.to_owned());
            self.forget_tokens(id);
            self.emit(Event::SignInRequired {
                identity: id.to_owned(),
                message: e.to_string(),
                hint: e.hint(),
            });
        }
    }

    /// The admin-account watch of this pass's registries (not of those whose identity must
    /// sign in again), after their credentials were written.
    async fn watch_admin_in(
        &self,
        registries: &[&RegistryConfig],
        state: &mut State,
        outcomes: &[RegistryOutcome],
        fresh_for: chrono::TimeDelta,
    ) {
        let signed_out = |reg: &&RegistryConfig| {
            reg.identity.as_ref().is_some_and(|id| {
                state
                    .identities
                    .get(id)
                    .is_some_and(|s| s.sign_in_required.is_some())
            })
        };
        // Nothing is asked about a registry whose pass stopped before any request: a host
        // outside the allow-list, or a Docker config that cannot be written.
        let allow = self.allow_list();
        let stopped_early = |reg: &&RegistryConfig| {
            allow.check(reg.login_server.host()).is_err()
                || outcomes.iter().any(|o| {
                    o.login_server == reg.login_server.to_string()
                        && o.result
                            .as_ref()
                            .is_err_and(|e| e.kind() == ErrorKind::DockerConfig)
                })
        };
        let watched: Vec<&RegistryConfig> = registries
            .iter()
            .copied()
            .filter(|r| !signed_out(r) && !stopped_early(r))
            .collect();
        let written: Vec<String> = outcomes
            .iter()
            .filter(|o| o.result.is_ok())
            .map(|o| o.login_server.clone())
            .collect();
        self.watch_admin(&watched, state, &written, fresh_for).await;
    }

    /// A registry's credential from ACR Tray's cache, refreshed first when it has less than
    /// `min_remaining` left (for `docker-credential-acr-tray get` and `acr-tray-cli token`).
    pub async fn credential(
        &self,
        name: &str,
        min_remaining: chrono::TimeDelta,
    ) -> Result<(RegistryConfig, CachedCredential)> {
        let reg = self.settings.registry(name)?.clone();
        let cache = TokenStore::new(self.secrets.as_ref(), self.paths.token_file());
        let key = reg.login_server.to_string();
        let now = self.clock.now();
        let fresh =
            |c: &CachedCredential| c.expires_at.is_none_or(|exp| exp - now >= min_remaining);
        if let Some(c) = cache.get(&key)?.filter(fresh) {
            return Ok((reg, c));
        }
        let outcome = self
            .refresh_pass(std::slice::from_ref(&key), Pass::CacheOnly)
            .await?;
        if let Some(Err(e)) = outcome.into_iter().next().map(|o| o.result) {
            return Err(e);
        }
        let cached = cache.get(&key)?.ok_or_else(|| Error::Registry {
            registry: key.clone(),
            message: "the refreshed credential could not be kept".to_owned(),
            kind: ErrorKind::Transient,
            hint: "see the log for the keyring error".into(),
        })?;
        Ok((reg, cached))
    }

    fn select(&self, names: &[String]) -> Result<Vec<&RegistryConfig>> {
        if names.is_empty() {
            return Ok(self.settings.registries.iter().collect());
        }
        let mut out: Vec<&RegistryConfig> = Vec::new();
        for n in names {
            let r = self.settings.registry(n)?;
            if !out.iter().any(|o| o.login_server == r.login_server) {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Every registry's status from the settings and the state file.
    pub fn status(&self) -> Vec<RegistryStatus> {
        let state = State::load(&self.paths.state_file());
        self.settings
            .registries
            .iter()
            .map(|r| {
                let s = state
                    .registries
                    .get(&r.login_server.to_string())
                    .cloned()
                    .unwrap_or_default();
                RegistryStatus {
                    name: r.name.clone(),
                    login_server: r.login_server.to_string(),
                    identity: r.signs_in_as(),
                    audience: s.audience,
                    last_refresh: s.last_refresh,
                    expires_at: s.expires_at,
                    last_error: s.last_error,
                    role: s.role,
                    admin: s.admin,
                }
            })
            .collect()
    }
}

/// What a refresh pass writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// The refresh cycle: Docker's credentials and ACR Tray's cache, then the admin watch.
    Full,
    /// A refresh asked for by hand: as [`Pass::Full`], with the admin watch only where its
    /// last read is half a refresh interval old.
    OnDemand,
    /// A credential helper's refresh (and `acr-tray-cli token`'s): ACR Tray's cache only.
    /// Docker's config is read but never locked or written (Docker reads the helper's answer,
    /// and may be waiting for it), and ARM is not asked.
    CacheOnly,
}

/// The stored "sign-in required" of the identity a registry needs, if its session ended.
fn session_ended(reg: &RegistryConfig, ended: &BTreeMap<String, StoredError>) -> Option<Error> {
    if reg.auth == RegistryAuth::AdminPassword {
        return None;
    }
    let id = reg.identity.as_deref()?;
    let stored = ended.get(id)?;
    Some(Error::SignInRequired {
        identity: id.to_owned(),
        reason: stored.message.clone(),
        hint: Hint::text(format!("sign {id} in again with "))
            .with(Action::sign_in(id))
            .then("; nothing is tried for it until then"),
    })
}
