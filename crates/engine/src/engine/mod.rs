//! The engine: settings, HTTP clients, secrets, token cache and event sink in one value that
//! the CLI and the tray app share. Token sources for every kind of identity are in `tokens.rs`;
//! the refresh pipeline is in [`crate::refresh`].

mod acr_token_watch;
mod acr_tokens;
pub mod admin_watch;
pub mod check;
pub mod discovery;
pub mod doctor;
pub mod ops;
pub mod tenants;
mod tokens;

pub(crate) use tokens::tenant_sign_in_hint;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::Utc;

use crate::azure::cloud::{Cloud, CloudBinding};
use crate::azure::credentials::imds;
use crate::azure::entra::{self, EntraClient};
use crate::azure::login_server::TokenAllowList;
use crate::clock::Clock;
use crate::docker;
use crate::env::Env;
use crate::error::{Error, ErrorKind, Result};
use crate::events::{Event, EventSink, NoEvents};
use crate::hint::{Action, Hint, SignInMethod};
use crate::http::{self, HttpOptions};
use crate::secret::Secret;
use crate::store::config::{IdentityConfig, IdentityKind, SecretSource, Settings};
use crate::store::paths::Paths;
use crate::store::secrets::{self, SecretStore};
use crate::store::state::State;
use crate::store::token_cache::TokenCache;

/// What the engine is built from; the shells pass the real ones, tests their own.
#[derive(Clone)]
pub struct EngineOptions {
    /// The environment (paths, `DOCKER_CONFIG`, proxies, `AZURE_*`, `PATH`, `BROWSER`).
    pub env: Env,
    /// Where secrets are kept (the OS keyring in the product).
    pub secrets: Arc<dyn SecretStore>,
    /// HTTP settings beyond the cloud's.
    pub http: HttpOptions,
    /// Where events go.
    pub events: Arc<dyn EventSink>,
    /// The first delay between retries of transient failures (later ones double). One second
    /// in the product; tests shorten it.
    pub retry_base: Duration,
    /// The wall clock (the system's in the product).
    pub clock: Arc<dyn Clock>,
}

impl EngineOptions {
    /// The real environment and the OS keyring.
    pub fn from_process() -> Self {
        Self {
            env: Env::from_process(),
            secrets: Arc::new(secrets::KeyringStore::new()),
            http: HttpOptions::default(),
            events: Arc::new(NoEvents),
            retry_base: Duration::from_secs(1),
            clock: crate::clock::system(),
        }
    }
}

/// The HTTP clients, built on first use: commands that make no request (`status`,
/// `registry add` by name) skip loading the CA certificates.
pub(crate) struct Clients {
    pub(crate) http: reqwest::Client,
    pub(crate) entra: EntraClient,
}

/// The engine.
pub struct Engine {
    pub(crate) env: Env,
    pub(crate) paths: Paths,
    pub(crate) settings: Settings,
    pub(crate) cloud: Cloud,
    clients: OnceLock<Result<Clients>>,
    /// Secrets read or written during the refresh pass in progress, so a pass reads each once
    /// (an identity's ACR-audience and ARM-audience tokens both need it); `None` between
    /// passes, when every read goes to the keyring or file (another process may have changed
    /// it).
    pass_secrets: std::sync::Mutex<Option<std::collections::HashMap<String, Secret>>>,
    /// For IMDS (managed identities only): plain HTTP to a link-local address.
    imds: OnceLock<Result<reqwest::Client>>,
    pub(crate) secrets: Arc<dyn SecretStore>,
    pub(crate) events: Arc<dyn EventSink>,
    tokens: TokenCache,
    /// Registries whose tenant this run found by trying the account's tenants, by login
    /// server (also written to the settings).
    found_tenants: std::sync::Mutex<std::collections::HashMap<String, String>>,
    http_options: HttpOptions,
    pub(crate) retry_base: Duration,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Engine {
    /// Loads the settings.
    pub fn open(options: EngineOptions) -> Result<Self> {
        let paths = Paths::from_env(&options.env)?;
        let settings = Settings::load(&paths.config_file())?;
        let cloud = Cloud::from_settings(&settings.cloud)?;
        let mut engine = Self {
            env: options.env,
            paths,
            settings,
            cloud,
            clients: OnceLock::new(),
            pass_secrets: std::sync::Mutex::new(None),
            imds: OnceLock::new(),
            secrets: options.secrets,
            events: options.events,
            tokens: TokenCache::new(),
            found_tenants: Default::default(),
            http_options: options.http,
            retry_base: options.retry_base,
            clock: options.clock,
        };
        engine.bind_unbound_identities();
        Ok(engine)
    }

    /// Settings written before identities recorded their cloud: each such identity is bound,
    /// once, to the cloud configured now, and its keyring secret moves from the old key (which
    /// named no authority) to the key of that authority. An identity whose secret cannot be
    /// moved (the keyring is unavailable) stays unbound, and so unusable, until the next start.
    fn bind_unbound_identities(&mut self) {
        if self.settings.identities.iter().all(|i| i.cloud.is_some()) {
            return;
        }
        let binding = CloudBinding::of(&self.cloud);
        let authority = binding.authority.clone();
        let store = self.secrets.clone();
        let moved = |from: String, to: String| -> Result<()> {
            if let Some(secret) = store.get(&from)? {
                if store.get(&to)?.is_none() {
                    store.set(&to, &secret)?;
                }
                store.delete(&from)?;
            }
            Ok(())
        };
        let path = self.paths.config_file();
        let mut changed = false;
        let mut settings = self.settings.clone();
        for identity in settings.identities.iter_mut().filter(|i| i.cloud.is_none()) {
            let result = match &identity.kind {
                IdentityKind::ServicePrincipal {
                    tenant,
                    client_id,
                    secret: Some(SecretSource::Keyring),
                    ..
                } => moved(
                    secrets::legacy_client_secret_key(tenant, client_id),
                    secrets::client_secret_key(&authority, tenant, client_id),
                ),
                IdentityKind::User {
                    refresh_token: SecretSource::Keyring,
                    ..
                } => moved(
                    secrets::legacy_refresh_token_key(&identity.id),
                    secrets::refresh_token_key(&authority, &identity.id),
                ),
                _ => Ok(()),
            };
            match result {
                Ok(()) => {
                    tracing::info!(identity = %identity.id, cloud = %binding.describe(), "identity bound to the configured cloud");
                    identity.cloud = Some(binding.clone());
                    changed = true;
                }
                Err(e) => {
                    tracing::warn!(identity = %identity.id, error = %e, "cannot bind the identity to its cloud yet");
                }
            }
        }
        if !changed {
            return;
        }
        // Re-read so a change made meanwhile by another process is kept; only bindings are added.
        let mut on_disk = Settings::load(&path).unwrap_or_else(|_| self.settings.clone());
        for identity in on_disk.identities.iter_mut().filter(|i| i.cloud.is_none()) {
            if let Some(bound) = settings
                .identities
                .iter()
                .find(|b| b.id == identity.id && b.kind == identity.kind)
            {
                identity.cloud = bound.cloud.clone();
            }
        }
        if on_disk.cloud != self.settings.cloud {
            // The cloud changed under us: bind nothing now; the next start binds to that one.
            return;
        }
        match on_disk.save(&path) {
            Ok(()) => self.settings = on_disk,
            Err(e) => tracing::warn!(error = %e, "cannot record the identities' cloud"),
        }
    }

    /// Why this identity cannot be used with the configured cloud: it signed in to another one
    /// (or its settings do not say which). `None` when it may be used.
    pub fn cloud_mismatch(&self, identity: &IdentityConfig) -> Option<Error> {
        let reason = match &identity.cloud {
            Some(bound) if bound.matches(&self.cloud) => return None,
            Some(bound) => format!(
                "it signed in to {}, and the cloud is now {}; its credentials are used only with the cloud they were given for",
                bound.describe(),
                self.cloud.describe()
            ),
            None => format!(
                "the settings do not say which cloud it signed in to, so its credentials are not sent to {}",
                self.cloud.describe()
            ),
        };
        Some(Error::SignInRequired {
            identity: identity.id.clone(),
            reason,
            hint: Hint::text(format!("sign {} in again for this cloud: ", identity.id))
                .then_hint(sign_in_hint(&identity.id, &identity.kind)),
        })
    }

    pub(crate) fn clients(&self) -> Result<&Clients> {
        self.clients
            .get_or_init(|| {
                let options = HttpOptions {
                    ca_file: self.cloud.ca_file.clone(),
                    ..self.http_options.clone()
                };
                let http = http::build_client(&self.env, &options)?;
                let entra = EntraClient::new(http.clone(), self.cloud.authority.clone())
                    .with_clock(self.clock.clone());
                Ok(Clients { http, entra })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The current time, from the engine's clock.
    pub fn now(&self) -> chrono::DateTime<Utc> {
        self.clock.now()
    }

    /// The engine's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
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

    /// The IMDS endpoint: `ACR_TRAY_IMDS_ENDPOINT`, else the cloud's `imds_endpoint`, else
    /// the standard link-local address.
    pub fn imds_endpoint(&self) -> String {
        self.env
            .var("ACR_TRAY_IMDS_ENDPOINT")
            .map(str::to_owned)
            .or_else(|| self.cloud.imds_endpoint.clone())
            .unwrap_or_else(|| imds::DEFAULT_ENDPOINT.to_owned())
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

    /// Sends an event to the sink.
    pub(crate) fn emit(&self, event: Event) {
        self.events.emit(event);
    }

    /// Every identity with its session health, for `accounts` and the settings window.
    pub fn accounts(&self) -> Vec<Account> {
        let state = State::load(&self.paths.state_file());
        self.settings
            .identities
            .iter()
            .map(|i| {
                let s = state.identities.get(&i.id).cloned().unwrap_or_default();
                Account {
                    id: i.id.clone(),
                    kind: i.kind.describe().to_owned(),
                    tenant: i.kind.tenant().map(str::to_owned),
                    sign_in_required: s.sign_in_required.or_else(|| {
                        self.cloud_mismatch(i)
                            .map(|e| crate::store::state::StoredError::new(&e, self.clock.now()))
                    }),
                    last_sign_in: s.last_sign_in,
                    last_token: s.last_token,
                    tenants: self.account_tenants(i, &state),
                }
            })
            .collect()
    }

    /// Marks an identity "sign-in required" (nothing is tried for it until it signs in again),
    /// with the event the tray and notifications show.
    pub(crate) fn record_sign_in_required(&self, identity: &str, err: &Error) {
        let path = self.paths.state_file();
        let mut state = State::load(&path);
        let entry = state.identities.entry(identity.to_owned()).or_default();
        entry.sign_in_required = Some(crate::store::state::StoredError::new(err, self.clock.now()));
        if let Err(e) = state.save(&path) {
            tracing::warn!(error = %e, "could not save the state");
        }
        self.forget_tokens(identity);
        self.emit(Event::SignInRequired {
            identity: identity.to_owned(),
            message: err.to_string(),
            hint: err.hint(),
        });
    }

    /// Marks an identity signed in now (clears "sign-in required").
    pub(crate) fn record_sign_in(&self, identity: &str) {
        let path = self.paths.state_file();
        let mut state = State::load(&path);
        let entry = state.identities.entry(identity.to_owned()).or_default();
        entry.sign_in_required = None;
        entry.last_sign_in = Some(self.clock.now());
        if let Err(e) = state.save(&path) {
            tracing::warn!(error = %e, "could not save the state");
        }
        self.emit(Event::SignedIn {
            identity: identity.to_owned(),
        });
    }
}

/// An identity and its session health.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The identity id.
    pub id: String,
    /// What kind of identity.
    pub kind: String,
    /// Its tenant, when known.
    pub tenant: Option<String>,
    /// Set when it must sign in again.
    pub sign_in_required: Option<crate::store::state::StoredError>,
    /// When it last signed in (interactively, for users).
    pub last_sign_in: Option<chrono::DateTime<Utc>>,
    /// When it last obtained a token.
    pub last_token: Option<chrono::DateTime<Utc>>,
    /// The tenants of a person's account (home first), as ARM listed them last, each with
    /// what it demands; empty when not listed.
    pub tenants: Vec<tenants::AccountTenant>,
}

/// Whether a failure means the identity's session is over (and automatic attempts must stop).
pub(crate) fn ends_session(err: &Error) -> Option<&str> {
    match err {
        Error::Entra(e) if e.kind == ErrorKind::SignInRequired => Some(&e.identity),
        Error::SignInRequired { identity, .. } => Some(identity),
        _ => None,
    }
}

/// How an identity of this kind signs in (`id`).
pub(crate) fn sign_in_hint(id: &str, kind: &IdentityKind) -> Hint {
    let with = |method| Hint::from(Action::sign_in_with(Some(id), method));
    match kind {
        IdentityKind::ServicePrincipal { .. } => with(SignInMethod::ServicePrincipal),
        IdentityKind::User { .. } => with(SignInMethod::Again),
        IdentityKind::ManagedIdentity { .. } => with(SignInMethod::ManagedIdentity),
        IdentityKind::AzureCli { .. } => Hint::from(Action::shell("az login"))
            .then(", then ")
            .with(Action::sign_in_with(Some(id), SignInMethod::AzureCli)),
        IdentityKind::WorkloadIdentity { .. } => with(SignInMethod::WorkloadIdentity),
    }
}

/// Re-exported for the refresh pipeline.
pub(crate) use entra::is_unknown_resource;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::cloud::Audience;
    use crate::store::secrets::MemoryStore;

    const SETTINGS: &str = "[cloud]\nname = \"custom\"\nauthority = \"https://login.one.example\"\narm = \"https://management.one.example/\"\nacr_suffix = \"azurecr.one.example\"\n\n[[identity]]\nid = \"app\"\nkind = \"service-principal\"\ntenant = \"t\"\nclient_id = \"app\"\nsecret = \"keyring\"\n";

    fn open(home: &std::path::Path, store: Arc<MemoryStore>) -> Engine {
        Engine::open(EngineOptions {
            env: Env::from_pairs([("ACR_TRAY_HOME", home.display().to_string())]),
            secrets: store,
            ..EngineOptions::from_process()
        })
        .expect("engine")
    }

    /// Settings from before identities recorded their cloud: an identity that cannot be bound
    /// yet (its secret cannot be moved) is refused before any request, and bound, with its
    /// secret moved, once the keyring answers.
    #[tokio::test]
    async fn an_unbound_identity_is_refused_until_it_is_bound() {
        let home = tempfile::tempdir().expect("tmp");
        let config = home.path().join("config.toml");
        std::fs::write(&config, SETTINGS).expect("write");
        let store = Arc::new(MemoryStore::new());
        let legacy = secrets::legacy_client_secret_key("t", "app");
        store.set(&legacy, &Secret::new("s3cret")).expect("set");

        store.set_unavailable(Some("locked"));
        let engine = open(home.path(), store.clone());
        let identity = engine.settings().identity("app").expect("app").clone();
        assert_eq!(identity.cloud, None);
        let err = engine
            .entra_token(&identity, Audience::Acr)
            .await
            .expect_err("refused");
        assert!(ends_session(&err).is_some(), "{err}");
        assert!(err.to_string().contains("do not say which cloud"), "{err}");
        assert!(
            !std::fs::read_to_string(&config)
                .expect("read")
                .contains("[identity.cloud]")
        );

        store.set_unavailable(None);
        let engine = open(home.path(), store.clone());
        let identity = engine.settings().identity("app").expect("app").clone();
        assert_eq!(identity.cloud, Some(CloudBinding::of(engine.cloud())));
        assert!(engine.cloud_mismatch(&identity).is_none());
        assert_eq!(
            store.keys(),
            vec![secrets::client_secret_key(
                "https://login.one.example",
                "t",
                "app"
            )]
        );
        let saved = Settings::load(&config).expect("load");
        assert_eq!(saved.identities[0].cloud, identity.cloud);
    }

    /// The binding compares the cloud's name, authority and ARM endpoint; the CA file, IMDS
    /// endpoint and registry suffix may change without signing anyone out.
    #[test]
    fn a_binding_matches_its_cloud_only() {
        let one: crate::azure::cloud::CloudSettings = toml::from_str(
            "name = \"custom\"\nauthority = \"https://login.one.example/\"\narm = \"https://management.one.example\"\nacr_suffix = \"azurecr.one.example\"\n",
        )
        .expect("cloud");
        let bound = CloudBinding::of(&Cloud::from_settings(&one).expect("one"));
        assert_eq!(bound.authority, "https://login.one.example");
        let same = crate::azure::cloud::CloudSettings {
            ca_file: Some("/ca.pem".into()),
            acr_suffix: Some("other.example".into()),
            ..one.clone()
        };
        assert!(bound.matches(&Cloud::from_settings(&same).expect("same")));
        for other in [
            crate::azure::cloud::CloudSettings {
                authority: Some("https://login.two.example".into()),
                ..one.clone()
            },
            crate::azure::cloud::CloudSettings {
                arm: Some("https://management.two.example/".into()),
                ..one.clone()
            },
            crate::azure::cloud::CloudSettings::default(),
        ] {
            assert!(!bound.matches(&Cloud::from_settings(&other).expect("other")));
        }
    }
}
