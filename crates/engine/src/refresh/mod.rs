//! The refresh pipeline: Docker pre-flight, then per registry (concurrently) the credential for
//! its sign-in mode — an Entra identity's token exchanged at `/oauth2/exchange` with audience
//! negotiation, or the admin account — then one atomic write of Docker's config, state saved,
//! events sent. Identities whose session ended are not tried again until the user signs in.
//!
//! In parts: this file selects the registries and runs the pass; `exchange.rs` gets one
//! registry's credential; `sinks.rs` puts the new credentials where Docker reads them (and
//! other clients' files) and answers by login server; `client_files.rs` remembers and tells
//! which other client's file could not be written; `record.rs` is the bookkeeping (state, events, what a session's
//! end teaches), without I/O; [`scheduler`] runs passes on time.

mod client_files;
mod exchange;
mod record;
pub mod scheduler;
mod sinks;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::azure::cloud::Audience;
use crate::docker::{CredentialStore, DockerConfig};
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::hint::{Action, Hint};
use crate::store::config::{RegistryAuth, RegistryConfig};
use crate::store::state::{State, StoredError};
use crate::store::token_store::{CachedCredential, TokenStore};
use record::{Attempt, record};
use sinks::Fresh;

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
    /// The registry's tenant (GUID), named where it matters: the registry is in another
    /// tenant than its identity's own, or the account has several tenants.
    pub tenant: Option<String>,
    /// That tenant's display name (or default domain), as ARM listed it.
    pub tenant_name: Option<String>,
    /// The ACR token it signs in with, and its watch (`None` for other sign-ins).
    pub acr_token: Option<AcrTokenStatus>,
}

/// A registry's ACR token, for `status` and the settings window.
#[derive(Debug, Clone, Serialize)]
pub struct AcrTokenStatus {
    /// The token's name.
    pub token: String,
    /// The identity that reads it in ARM (`None`: its expiry and status are not watched).
    pub watched_by: Option<String>,
    /// What the watch last saw (`None`: not read yet).
    pub watch: Option<crate::store::state::AcrTokenWatchState>,
}

impl RegistryStatus {
    /// The registry's role-assignment mode, as last read in ARM (`None`: not read).
    pub fn role_assignment_mode(&self) -> Option<crate::azure::acr::RoleAssignmentMode> {
        self.admin.as_ref()?.role_assignment_mode
    }

    /// The name of what the identity may do there ([`Self::role`]) in the registry's terms:
    /// Entra's repository roles on an ABAC registry.
    pub fn role_name(&self) -> Option<&'static str> {
        Some(self.role?.name_in(self.role_assignment_mode()))
    }

    /// Whether the registry uses repository permissions (ABAC), as last read.
    pub fn repository_permissions(&self) -> bool {
        self.role_assignment_mode()
            .is_some_and(crate::azure::acr::RoleAssignmentMode::is_abac)
    }
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
        let mut state = State::load(&self.paths.state_file());
        self.refresh_selected(&registries, &mut state, pass).await
    }

    /// [`Engine::refresh`] of `names`, recording into `state` as the caller loaded it (the
    /// scheduler reads `state.json` once a wake); `state` is saved, so it is as on disk after.
    pub(crate) async fn refresh_with_state(
        &self,
        names: &[String],
        state: &mut State,
    ) -> Result<Vec<RegistryOutcome>> {
        let registries = self.select(names)?;
        self.refresh_selected(&registries, state, Pass::Full).await
    }

    /// The pipeline: pre-flight, every registry's credential fetched concurrently, the sinks,
    /// the bookkeeping and its events, the admin watch, the state saved.
    async fn refresh_selected(
        &self,
        registries: &[&RegistryConfig],
        state: &mut State,
        pass: Pass,
    ) -> Result<Vec<RegistryOutcome>> {
        let _secrets = self.remember_secrets();
        let docker_path = self.docker_config_path()?;
        let preflight = DockerConfig::load(&docker_path);
        let ended: BTreeMap<String, StoredError> = state
            .identities
            .iter()
            .filter_map(|(id, s)| s.sign_in_required.clone().map(|e| (id.clone(), e)))
            .collect();
        let tenant_ended: BTreeMap<(String, String), TenantDemand> = state
            .identities
            .iter()
            .flat_map(|(id, s)| {
                s.tenants.iter().filter_map(|(t, ts)| {
                    let demand = TenantDemand {
                        error: ts.sign_in_required.clone()?,
                        name: ts
                            .display_name
                            .clone()
                            .or_else(|| ts.default_domain.clone()),
                    };
                    Some(((id.clone(), t.clone()), demand))
                })
            })
            .collect();

        let attempts = registries.iter().map(|reg| {
            let remembered = state
                .registries
                .get(&reg.login_server.to_string())
                .and_then(|s| s.audience);
            let preflight = &preflight;
            let ended = &ended;
            let tenant_ended = &tenant_ended;
            let tenant = self.registry_tenant(reg);
            async move {
                let result = match preflight {
                    Err(e) => Err(e.clone()),
                    Ok(cfg) => match self.check_store(cfg, &reg.login_server.to_string()) {
                        Err(e) => Err(e),
                        Ok(()) => match session_ended(reg, ended)
                            .or_else(|| tenant_demands(reg, tenant.as_deref(), tenant_ended))
                        {
                            Some(e) => Err(e),
                            None => self.refresh_one(reg, remembered).await,
                        },
                    },
                };
                (*reg, result)
            }
        });
        let mut fetched = futures::future::join_all(attempts).await;
        // What is known of each registry's mode explains its refusals from the start (the
        // log line and the events included); a mode first read in this pass, after.
        for (reg, result) in &mut fetched {
            if let Err(e) = result {
                mark_repository_permissions(state, &reg.login_server.to_string(), e);
            }
        }

        let read_only = match (pass, &preflight) {
            (Pass::CacheOnly, Ok(cfg)) => Some(cfg),
            _ => None,
        };
        let fresh: Vec<Fresh<'_>> = fetched
            .iter()
            .filter_map(|(reg, r)| {
                let (refreshed, credential) = r.as_ref().ok()?;
                Some(Fresh {
                    login_server: reg.login_server.to_string(),
                    credential,
                    expires_at: refreshed.expires_at,
                })
            })
            .collect();
        let (mut stored, client_files) = self
            .store_credentials(&docker_path, read_only, &fresh)
            .await;

        let results: Vec<(&RegistryConfig, RegistryOutcome)> = fetched
            .into_iter()
            .map(|(reg, r)| {
                let login_server = reg.login_server.to_string();
                // The sinks answer for every credential they were given, by login server.
                let result = r.and_then(|(refreshed, _)| {
                    stored
                        .remove(&login_server)
                        .unwrap_or(Ok(()))
                        .map(|()| refreshed)
                });
                let outcome = RegistryOutcome {
                    name: reg.name.clone(),
                    login_server,
                    identity: reg.signs_in_as(),
                    result,
                };
                (reg, outcome)
            })
            .collect();

        let attempts: Vec<Attempt<'_>> = results
            .iter()
            .map(|(reg, outcome)| Attempt {
                registry: reg,
                result: &outcome.result,
                // The state and the events speak of the credential Docker uses.
                docker_uses_it: read_only.is_none_or(|cfg| {
                    matches!(
                        cfg.store_for(&outcome.login_server, &self.env),
                        CredentialStore::AcrTray { .. }
                    )
                }),
            })
            .collect();
        let recorded = record(state, &attempts, self.clock.now());
        for id in &recorded.signed_out {
            self.forget_tokens(id);
        }
        let files =
            client_files::record_client_files(state, client_files.as_deref(), self.clock.now());
        for event in recorded.events.into_iter().chain(files) {
            self.emit(event);
        }
        if !recorded.signed_out.is_empty() {
            tracing::warn!(identities = ?recorded.signed_out.iter().collect::<std::collections::BTreeSet<_>>(), "sign-in required; no more automatic attempts until the user signs in");
        }
        let mut outcomes: Vec<RegistryOutcome> = results.into_iter().map(|(_, o)| o).collect();
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
            self.watch_admin_in(registries, state, &outcomes, fresh_for)
                .await;
            self.watch_acr_tokens(registries, state, fresh_for).await;
        }
        explain_repository_permissions(state, &mut outcomes);
        if let Err(e) = state.save(&self.paths.state_file()) {
            tracing::warn!(error = %e, "could not save the state");
        }
        Ok(outcomes)
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
                let (tenant, tenant_name) = self.tenant_of(r, &state);
                RegistryStatus {
                    tenant,
                    tenant_name,
                    name: r.name.clone(),
                    login_server: r.login_server.to_string(),
                    identity: r.signs_in_as(),
                    audience: s.audience,
                    last_refresh: s.last_refresh,
                    expires_at: s.expires_at,
                    last_error: s.last_error,
                    role: s.role,
                    admin: s.admin,
                    acr_token: (r.auth == RegistryAuth::AcrToken).then(|| AcrTokenStatus {
                        token: r.acr_token.clone().unwrap_or_default(),
                        watched_by: r.identity.clone(),
                        watch: s.acr_token.filter(|w| w.token == r.acr_token),
                    }),
                }
            })
            .collect()
    }
}

/// A refusal ([`Error::NoRole`]) by a registry that uses repository permissions (ABAC), as
/// ARM said when last read (`state`), says so: AcrPull and AcrPush are not honoured there, and
/// the Entra repository role is what to ask for. Whether it was changed.
fn mark_repository_permissions(state: &State, login_server: &str, error: &mut Error) -> bool {
    let Error::NoRole {
        repository_permissions: marked @ None,
        ..
    } = error
    else {
        return false;
    };
    let Some(admin) = state
        .registries
        .get(login_server)
        .and_then(|s| s.admin.as_ref())
        .filter(|a| a.role_assignment_mode.is_some_and(|m| m.is_abac()))
    else {
        return false;
    };
    *marked = Some(admin.arm_id.as_ref().map(|id| id.as_str().to_owned()));
    true
}

/// [`mark_repository_permissions`] after the admin watch, which may have read a registry's
/// mode for the first time: the outcome and the remembered error both say it.
fn explain_repository_permissions(state: &mut State, outcomes: &mut [RegistryOutcome]) {
    for outcome in outcomes {
        let Err(e) = &mut outcome.result else {
            continue;
        };
        if !mark_repository_permissions(state, &outcome.login_server, e) {
            continue;
        }
        if let Some(stored) = state
            .registries
            .get_mut(&outcome.login_server)
            .and_then(|entry| entry.last_error.as_mut())
        {
            *stored = StoredError::new(e, stored.at);
        }
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

/// A tenant's stored demand of a sign-in to it, and how the user knows the tenant.
struct TenantDemand {
    error: StoredError,
    name: Option<String>,
}

/// The stored demand of the registry's tenant (a sign-in to it), if it made one: nothing is
/// tried there until the user signs in to that tenant.
fn tenant_demands(
    reg: &RegistryConfig,
    tenant: Option<&str>,
    ended: &BTreeMap<(String, String), TenantDemand>,
) -> Option<Error> {
    if !reg.auth.needs_identity() {
        return None;
    }
    let id = reg.identity.as_deref()?;
    let tenant = tenant?.to_ascii_lowercase();
    let demand = ended.get(&(id.to_owned(), tenant.clone()))?;
    let prefix = format!("{id} must sign in to tenant {tenant}: ");
    let reason = demand
        .error
        .message
        .strip_prefix(&prefix)
        .unwrap_or(&demand.error.message);
    Some(Error::TenantSignInRequired {
        identity: id.to_owned(),
        tenant: tenant.clone(),
        reason: reason.to_owned(),
        hint: crate::engine::tenant_sign_in_hint(id, &tenant, demand.name.as_deref()),
    })
}

/// The stored "sign-in required" of the identity a registry needs, if its session ended.
fn session_ended(reg: &RegistryConfig, ended: &BTreeMap<String, StoredError>) -> Option<Error> {
    if !reg.auth.needs_identity() {
        return None;
    }
    let id = reg.identity.as_deref()?;
    let stored = ended.get(id)?;
    // The remembered message is the whole error ("<id> must sign in again: <reason>"): its
    // reason is said once.
    let prefix = format!("{id} must sign in again: ");
    let reason = stored
        .message
        .strip_prefix(&prefix)
        .unwrap_or(&stored.message);
    Some(Error::SignInRequired {
        identity: id.to_owned(),
        reason: reason.to_owned(),
        hint: Hint::text(format!("sign {id} in again with "))
            .with(Action::sign_in(id))
            .then("; nothing is tried for it until then"),
    })
}
