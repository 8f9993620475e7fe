//! The engine: settings, HTTP client, secrets and token cache in one value that the CLI and the
//! tray app share. [`Engine::refresh`] is the pipeline: Docker pre-flight, `/v2/` challenge,
//! Entra token (one per identity and audience), `/oauth2/exchange` with audience negotiation,
//! one atomic write of Docker's config, state saved.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::acr::{self, Exchange};
use crate::cloud::{Audience, Cloud};
use crate::config::{IdentityConfig, IdentityKind, RegistryConfig, Settings};
use crate::docker::{self, DockerConfig, DockerCredential, ZERO_GUID};
use crate::entra::{self, AccessToken, EntraClient};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::http::{self, HttpOptions};
use crate::login_server::TokenAllowList;
use crate::paths::Paths;
use crate::secret::Secret;
use crate::secrets::{self, SecretStore};
use crate::state::{State, StoredError};
use crate::token_cache::TokenCache;

/// What the engine is built from; the shells pass the real ones, tests their own.
#[derive(Clone)]
pub struct EngineOptions {
    /// The environment (paths, `DOCKER_CONFIG`, proxies, `AZURE_CLIENT_SECRET`).
    pub env: Env,
    /// Where secrets are kept (the OS keyring in the product).
    pub secrets: Arc<dyn SecretStore>,
    /// HTTP settings beyond the cloud's.
    pub http: HttpOptions,
}

impl EngineOptions {
    /// The real environment and the OS keyring.
    pub fn from_process() -> Self {
        Self {
            env: Env::from_process(),
            secrets: Arc::new(secrets::KeyringStore::new()),
            http: HttpOptions::default(),
        }
    }
}

/// The engine.
pub struct Engine {
    env: Env,
    paths: Paths,
    settings: Settings,
    cloud: Cloud,
    /// Built on first use: commands that make no request (`status`, `registry add`) skip
    /// loading the platform's CA store.
    clients: OnceLock<Result<Clients>>,
    secrets: Arc<dyn SecretStore>,
    tokens: TokenCache,
    http_options: HttpOptions,
}

/// The HTTP client and the Entra client over it.
struct Clients {
    http: reqwest::Client,
    entra: EntraClient,
}

/// The result of refreshing one registry.
#[derive(Debug, Clone)]
pub struct RegistryOutcome {
    /// The registry's short name.
    pub name: String,
    /// Its login server.
    pub login_server: String,
    /// The identity used.
    pub identity: String,
    /// What happened.
    pub result: Result<Refreshed>,
}

/// A successful refresh.
#[derive(Debug, Clone, Serialize)]
pub struct Refreshed {
    /// The audience whose token the registry accepted.
    pub audience: Audience,
    /// When the new ACR refresh token runs out.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A registry's status, for `status` and the settings window.
#[derive(Debug, Clone, Serialize)]
pub struct RegistryStatus {
    /// Short name.
    pub name: String,
    /// Login server.
    pub login_server: String,
    /// Identity used.
    pub identity: String,
    /// The audience that worked last.
    pub audience: Option<Audience>,
    /// When Docker's credential was last written.
    pub last_refresh: Option<DateTime<Utc>>,
    /// When the token in Docker's config runs out.
    pub expires_at: Option<DateTime<Utc>>,
    /// The last error, if the last attempt failed.
    pub last_error: Option<StoredError>,
}

impl Engine {
    /// Loads the settings and prepares the HTTP client.
    pub fn open(options: EngineOptions) -> Result<Self> {
        let paths = Paths::from_env(&options.env)?;
        let settings = Settings::load(&paths.config_file())?;
        let cloud = Cloud::from_settings(&settings.cloud)?;
        Ok(Self {
            env: options.env,
            paths,
            settings,
            cloud,
            clients: OnceLock::new(),
            secrets: options.secrets,
            tokens: TokenCache::new(),
            http_options: options.http,
        })
    }

    fn clients(&self) -> Result<&Clients> {
        self.clients
            .get_or_init(|| {
                let options = HttpOptions {
                    ca_file: self.cloud.ca_file.clone(),
                    ..self.http_options.clone()
                };
                let http = http::build_client(&self.env, &options)?;
                let entra = EntraClient::new(http.clone(), self.cloud.authority.clone());
                Ok(Clients { http, entra })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The settings in use.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The folders in use.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The cloud in use.
    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    /// The environment the engine reads.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The secret store.
    pub fn secret_store(&self) -> &dyn SecretStore {
        self.secrets.as_ref()
    }

    /// Docker's config.json.
    pub fn docker_config_path(&self) -> Result<PathBuf> {
        docker::config_path(&self.env)
    }

    /// Where Entra tokens may be sent.
    pub fn allow_list(&self) -> TokenAllowList {
        TokenAllowList::new(
            self.cloud.acr_suffix.clone(),
            self.settings
                .registries
                .iter()
                .filter(|r| r.trusted_custom_domain)
                .map(|r| r.login_server.host().to_owned()),
        )
    }

    /// Gets a token for a service principal's credentials before they are saved (sign-in check).
    pub async fn check_client_secret(
        &self,
        tenant: &str,
        client_id: &str,
        secret: &Secret,
    ) -> Result<AccessToken> {
        let mut last = None;
        for audience in [Audience::Acr, Audience::Arm] {
            let scope = self.cloud.scope(audience);
            match self
                .clients()?
                .entra
                .client_credentials(client_id, tenant, client_id, secret, &scope)
                .await
            {
                Ok(t) => return Ok(t),
                Err(e) if entra::is_unknown_resource(&e) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::invalid_input("no audience to try", "")))
    }

    /// An Entra token for an identity and audience, from the cache or Entra ID.
    pub async fn entra_token(
        &self,
        identity: &IdentityConfig,
        audience: Audience,
    ) -> Result<AccessToken> {
        self.tokens
            .get_or_fetch(&identity.id, audience, || {
                self.fetch_entra_token(identity, audience)
            })
            .await
    }

    async fn fetch_entra_token(
        &self,
        identity: &IdentityConfig,
        audience: Audience,
    ) -> Result<AccessToken> {
        let scope = self.cloud.scope(audience);
        match &identity.kind {
            IdentityKind::ServicePrincipal {
                tenant,
                client_id,
                secret,
            } => {
                let key = secrets::client_secret_key(tenant, client_id);
                let store = self.secrets.clone();
                let (env, source, id) = (self.env.clone(), secret.clone(), identity.id.clone());
                // Keyring calls block (D-Bus, Keychain); keep them off the async threads.
                let value = tokio::task::spawn_blocking(move || {
                    secrets::read_secret(&id, &source, &key, store.as_ref(), &env)
                })
                .await
                .map_err(|e| Error::invalid_input(format!("keyring task failed: {e}"), ""))??;
                self.clients()?
                    .entra
                    .client_credentials(&identity.id, tenant, client_id, &value, &scope)
                    .await
            }
        }
    }

    /// Refreshes the named registries (all when `names` is empty), concurrently, and writes
    /// every new credential into Docker's config in one atomic update.
    pub async fn refresh(&self, names: &[String]) -> Result<Vec<RegistryOutcome>> {
        let registries = self.select(names)?;
        let docker_path = self.docker_config_path()?;
        let state_path = self.paths.state_file();
        let mut state = State::load(&state_path);
        let preflight = DockerConfig::load(&docker_path);

        let attempts = registries.iter().map(|reg| {
            let remembered = state
                .registries
                .get(&reg.login_server.to_string())
                .and_then(|s| s.audience);
            let preflight = &preflight;
            async move {
                let result = match preflight {
                    Ok(cfg) => match cfg.check_file_store(&reg.login_server.to_string()) {
                        Ok(()) => self.refresh_one(reg, remembered).await,
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e.clone()),
                };
                (reg, result)
            }
        });
        let results = futures::future::join_all(attempts).await;

        let to_write: Vec<(String, DockerCredential)> = results
            .iter()
            .filter_map(|(reg, r)| r.as_ref().ok().map(|(_, token)| (reg, token)))
            .map(|(reg, token)| {
                let cred = DockerCredential {
                    username: ZERO_GUID.to_owned(),
                    secret: token.clone(),
                    form: self.settings.docker.entry_form,
                };
                (reg.login_server.to_string(), cred)
            })
            .collect();
        let write_result = if to_write.is_empty() {
            Ok(())
        } else {
            docker::write_credentials(&docker_path, &to_write)
        };

        let now = Utc::now();
        let mut outcomes = Vec::new();
        for (reg, result) in results {
            let result = match (result, &write_result) {
                (Ok((refreshed, _)), Ok(())) => Ok(refreshed),
                (Ok(_), Err(e)) => Err(e.clone()),
                (Err(e), _) => Err(e),
            };
            let entry = state
                .registries
                .entry(reg.login_server.to_string())
                .or_default();
            match &result {
                Ok(r) => {
                    entry.audience = Some(r.audience);
                    entry.last_refresh = Some(now);
                    entry.expires_at = r.expires_at;
                    entry.last_error = None;
                    tracing::info!(registry = %reg.login_server, audience = %r.audience, "Docker credential refreshed");
                }
                Err(e) => {
                    entry.last_error = Some(StoredError::new(e, now));
                    tracing::warn!(registry = %reg.login_server, error = %e, "refresh failed");
                }
            }
            outcomes.push(RegistryOutcome {
                name: reg.name.clone(),
                login_server: reg.login_server.to_string(),
                identity: reg.identity.clone(),
                result,
            });
        }
        if let Err(e) = state.save(&state_path) {
            tracing::warn!(error = %e, "could not save the state");
        }
        Ok(outcomes)
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

    /// One registry: challenge, then Entra token and exchange per audience until one works.
    async fn refresh_one(
        &self,
        reg: &RegistryConfig,
        remembered: Option<Audience>,
    ) -> Result<(Refreshed, Secret)> {
        let identity = self.settings.identity(&reg.identity).map_err(|_| Error::SecretUnavailable {
            identity: reg.identity.clone(),
            detail: "it is not signed in".to_owned(),
            hint: format!(
                "sign {} in again with `acr-tray-cli login`, or give {} another identity with `acr-tray-cli registry add {} --identity ID`",
                reg.identity, reg.name, reg.name
            ),
        })?;
        let allow = self.allow_list();
        // Checked before any request: a host outside the allow-list never sees a request.
        allow.check(reg.login_server.host())?;
        let http = &self.clients()?.http;
        let challenge = acr::challenge(http, &reg.login_server, &allow).await?;
        let first = remembered.unwrap_or(Audience::Acr);
        let mut unmintable: Option<Error> = None;
        let mut refused: Vec<(Audience, String)> = Vec::new();
        for audience in [first, first.other()] {
            let token = match self.entra_token(identity, audience).await {
                Ok(t) => t,
                Err(e) if entra::is_unknown_resource(&e) => {
                    unmintable = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let tenant = token
                .tenant_id
                .clone()
                .unwrap_or_else(|| identity.kind.tenant().to_owned());
            let registry = reg.login_server.to_string();
            match acr::exchange(http, &registry, &challenge, &tenant, &token.token).await? {
                Exchange::Issued(rt) => {
                    return Ok((
                        Refreshed {
                            audience,
                            expires_at: rt.expires_at,
                        },
                        rt.token,
                    ));
                }
                Exchange::Refused { message } => refused.push((audience, message)),
            }
        }
        Err(self.explain_refusal(reg, identity, unmintable, &refused))
    }

    /// Why no audience worked, in the user's terms.
    fn explain_refusal(
        &self,
        reg: &RegistryConfig,
        identity: &IdentityConfig,
        unmintable: Option<Error>,
        refused: &[(Audience, String)],
    ) -> Error {
        let registry = reg.login_server.to_string();
        match (unmintable, refused) {
            (Some(entra_err), [(Audience::Arm, _)]) => Error::Registry {
                registry: registry.clone(),
                message: format!(
                    "the registry refused the ARM-audience token, and Entra ID cannot issue ACR-audience tokens here ({entra_err}); either {} has no role on it, or it accepts only ACR-audience tokens (authentication-as-arm disabled)",
                    identity.id
                ),
                kind: crate::error::ErrorKind::Permission,
                hint: format!(
                    "assign AcrPull or AcrPush on the registry to {}; if that is done, enable ARM-audience tokens with `az acr config authentication-as-arm update -r {} --status enabled`",
                    identity.id, reg.name
                ),
            },
            (Some(entra_err), []) => entra_err,
            (_, refused) => {
                let tried: Vec<String> = refused
                    .iter()
                    .map(|(a, m)| {
                        if m.is_empty() {
                            format!("{a}-audience token refused")
                        } else {
                            format!("{a}-audience token refused: {m}")
                        }
                    })
                    .collect();
                Error::NoRole {
                    identity: identity.id.clone(),
                    registry,
                    detail: tried.join("; "),
                }
            }
        }
    }

    /// Replaces the settings in use after they were saved (and re-resolves the cloud).
    pub(crate) fn replace_settings(&mut self, settings: Settings) -> Result<()> {
        let cloud = Cloud::from_settings(&settings.cloud)?;
        if cloud != self.cloud {
            self.cloud = cloud;
            self.clients = OnceLock::new();
            self.tokens = TokenCache::new();
        }
        self.settings = settings;
        Ok(())
    }

    /// Forgets an identity's cached tokens.
    pub(crate) fn forget_tokens(&self, identity: &str) {
        self.tokens.forget(identity);
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
                    identity: r.identity.clone(),
                    audience: s.audience,
                    last_refresh: s.last_refresh,
                    expires_at: s.expires_at,
                    last_error: s.last_error,
                }
            })
            .collect()
    }
}
