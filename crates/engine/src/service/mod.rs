//! The engine as the tray app runs it: the scheduler in-process, a live [`Overview`] of every
//! account and registry, and the operations of the settings window. The Tauri shell's
//! commands are one line each over a [`Service`]; keeping the logic here lets it be tested
//! without a window or WebKit.
//!
//! ## Layout
//!
//! - [`view`]: the serialisable views (the IPC contract with the web UI).
//! - `client_files`: other clients' files a refresh could not write, as the views show them.
//! - [`overview`]: builds an [`Overview`] from the settings, the state and the scheduler.
//! - `bindings`: the TypeScript declarations of the views (built in tests only).
//! - [`words`]: the app's words: hints' actions said as places in its menu and window.
//! - [`channel`]: the window's commands and events over a byte stream, for a settings window
//!   in a process of its own.

#[cfg(test)]
mod bindings;
pub mod channel;
mod client_files;
mod overview;
pub mod view;
pub mod words;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, oneshot, watch};
use tokio::task::JoinHandle;

use crate::azure::cloud::{CloudName, CloudSettings};
use crate::azure::entra::interactive;
use crate::browser::{LoginMethod, SystemBrowser};
use crate::engine::ops::{
    LoginPrompt, RegistrySignIn, SecretStorage, ServicePrincipalLogin, SpCredential, UserLogin,
};
use crate::engine::{Engine, EngineOptions};
use crate::error::{Error, Result};
use crate::events::{Event, EventSink};
use crate::notify::Notifier;
use crate::refresh::scheduler::Scheduler;
use crate::secret::Secret;
use crate::store::config_edit::{Change, change_in_place};
use view::{
    AccountView, AddRegistry, CloudChangePreview, CloudInput, CloudView, DeviceCodePrompt,
    Discovery, DoctorView, ErrorView, GeneralSettings, Overview, RefreshOutcomeView,
    RegistrySignInInput, RegistryView, ServicePrincipalSignIn, SignInMethod, SpCredentialInput,
    UserSignIn,
};
use words::AppWords;

/// The Azure CLI's public client id, the default for a person's sign-in (as `az login`).
pub const AZURE_CLI_CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
/// How long a browser sign-in may take.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

/// A command's result for the UI: the value, or an error that says what to do.
pub type ViewResult<T> = std::result::Result<T, ErrorView>;

/// The running engine of the tray app.
pub struct Service {
    options: EngineOptions,
    scheduler: Scheduler,
    overview: watch::Receiver<Overview>,
    changed: Arc<Notify>,
    /// The sign-in waiting for the browser or a device code: its number and how to cancel it.
    sign_in: Mutex<Option<(u64, oneshot::Sender<()>)>>,
    sign_ins: std::sync::atomic::AtomicU64,
    watcher: JoinHandle<()>,
}

/// Wakes the overview watcher on every engine event, and passes the event on.
struct Poke {
    outer: Arc<dyn EventSink>,
    changed: Arc<Notify>,
}

impl EventSink for Poke {
    fn emit(&self, event: Event) {
        self.outer.emit(event);
        self.changed.notify_one();
    }
}

impl Service {
    /// Starts the scheduler (taking the single-engine lock as `program`) and the overview
    /// watcher on the current tokio runtime.
    pub fn start(
        options: EngineOptions,
        program: &str,
        notifier: Arc<dyn Notifier>,
    ) -> Result<Self> {
        let changed = Arc::new(Notify::new());
        let options = EngineOptions {
            events: Arc::new(Poke {
                outer: options.events.clone(),
                changed: changed.clone(),
            }),
            ..options
        };
        let scheduler = Scheduler::start(options.clone(), program, notifier, Arc::new(AppWords))?;
        let mut status = scheduler.status();
        // A copy of the status: building reads files, and the scheduler must not wait on that.
        let latest = status.borrow().clone();
        let first = overview::build(&Engine::open(options.clone())?, &latest);
        let (tx, rx) = watch::channel(first);
        let watcher = {
            let options = options.clone();
            let changed = changed.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        r = status.changed() => if r.is_err() { return },
                        () = changed.notified() => {},
                    }
                    let Ok(engine) = Engine::open(options.clone()) else {
                        continue;
                    };
                    let latest = status.borrow_and_update().clone();
                    let next = overview::build(&engine, &latest);
                    tx.send_if_modified(|current| {
                        let modified = *current != next;
                        *current = next;
                        modified
                    });
                }
            })
        };
        Ok(Self {
            options,
            scheduler,
            overview: rx,
            changed,
            sign_in: Mutex::new(None),
            sign_ins: std::sync::atomic::AtomicU64::new(0),
            watcher,
        })
    }

    /// The overview now, and every change to it.
    pub fn overview(&self) -> watch::Receiver<Overview> {
        self.overview.clone()
    }

    /// Where the logs are written.
    pub fn log_dir(&self) -> ViewResult<PathBuf> {
        Ok(self.engine()?.paths().log_dir.clone())
    }

    /// Stops the scheduler after the pass in flight.
    pub async fn stop(self) {
        self.watcher.abort();
        self.scheduler.stop().await;
    }

    fn engine(&self) -> ViewResult<Engine> {
        Ok(Engine::open(self.options.clone())?)
    }

    /// After a settings change: the scheduler reads them again, the overview is rebuilt.
    fn settings_changed(&self) {
        self.scheduler.reload();
        self.changed.notify_one();
    }

    /// A person signs in with the browser or a device code (shown through `on_code`). Waits
    /// until the sign-in completes, fails or [`Service::cancel_sign_in`] is called.
    pub async fn sign_in_user(
        &self,
        request: UserSignIn,
        on_code: Box<dyn FnMut(DeviceCodePrompt) + Send>,
    ) -> ViewResult<AccountView> {
        let (cancel, cancelled) = oneshot::channel();
        let number = self
            .sign_ins
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some((_, previous)) = self.lock_sign_in().replace((number, cancel)) {
            // One sign-in at a time: a new one replaces the one left waiting.
            let _ = previous.send(());
        }
        let result = self.wait_for_sign_in(request, on_code, cancelled).await;
        // Done, one way or another: forget how to cancel it, unless a newer one took its place.
        let mut waiting = self.lock_sign_in();
        if waiting.as_ref().is_some_and(|(n, _)| *n == number) {
            waiting.take();
        }
        drop(waiting);
        let identity = result?;
        self.signed_in(&identity)?;
        self.account(&identity)
    }

    async fn wait_for_sign_in(
        &self,
        request: UserSignIn,
        on_code: Box<dyn FnMut(DeviceCodePrompt) + Send>,
        cancelled: oneshot::Receiver<()>,
    ) -> ViewResult<String> {
        let mut engine = self.engine()?;
        let login = UserLogin {
            tenant: non_empty(request.tenant).unwrap_or_else(|| "organizations".to_owned()),
            client_id: non_empty(request.client_id)
                .unwrap_or_else(|| AZURE_CLI_CLIENT_ID.to_owned()),
            method: match request.method {
                SignInMethod::Browser => LoginMethod::Browser,
                SignInMethod::DeviceCode => LoginMethod::DeviceCode,
            },
            token_file: None,
            timeout: BROWSER_TIMEOUT,
        };
        let opener = SystemBrowser::from_env(engine.env());
        let mut prompt = Prompt {
            on_code,
            clock: self.options.clock.clone(),
        };
        tokio::select! {
            r = engine.login_user(login, &opener, &mut prompt) => Ok(r?.id),
            // Only a real cancel (not a dropped sender) ends the wait.
            Ok(()) = cancelled => Err(ErrorView::cancelled("the sign-in")),
        }
    }

    /// After a sign-in: the settings are read again, and the registries of that identity are
    /// refreshed now. Signing in again after a session ended (or with a new secret) is a person
    /// fixing what stopped them: their registries must not stay "failing" until their next
    /// scheduled refresh, up to an hour later, nor wait out a backoff.
    fn signed_in(&self, identity: &str) -> ViewResult<()> {
        self.settings_changed();
        let registries: Vec<String> = self
            .engine()?
            .settings()
            .registries
            .iter()
            .filter(|r| r.identity.as_deref() == Some(identity))
            .map(|r| r.name.clone())
            .collect();
        if !registries.is_empty() {
            // Queued after the reload, so the scheduler knows the new sign-in.
            self.scheduler.refresh_soon(registries);
        }
        Ok(())
    }

    /// Cancels the sign-in waiting for the browser or a device code, if any.
    pub fn cancel_sign_in(&self) {
        if let Some((_, cancel)) = self.lock_sign_in().take() {
            let _ = cancel.send(());
        }
    }

    fn lock_sign_in(&self) -> std::sync::MutexGuard<'_, Option<(u64, oneshot::Sender<()>)>> {
        self.sign_in.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Signs a service principal in; its secret goes to the OS keyring.
    pub async fn sign_in_service_principal(
        &self,
        request: ServicePrincipalSignIn,
    ) -> ViewResult<AccountView> {
        let credential = match request.credential {
            SpCredentialInput::Secret { secret } => SpCredential::Secret {
                secret: Secret::new(secret),
                storage: SecretStorage::Keyring,
            },
            SpCredentialInput::Certificate { path } => {
                SpCredential::Certificate(PathBuf::from(path.trim()))
            }
        };
        let mut engine = self.engine()?;
        let identity = engine
            .login_service_principal(ServicePrincipalLogin {
                tenant: request.tenant,
                client_id: request.client_id.trim().to_owned(),
                credential,
            })
            .await?;
        self.signed_in(&identity.id)?;
        self.account(&identity.id)
    }

    /// Signs the machine's managed identity in.
    pub async fn sign_in_managed_identity(
        &self,
        client_id: Option<String>,
    ) -> ViewResult<AccountView> {
        let identity = self
            .engine()?
            .login_managed_identity(non_empty(client_id))
            .await?;
        self.signed_in(&identity.id)?;
        self.account(&identity.id)
    }

    /// Uses the Azure CLI's session.
    pub async fn sign_in_azure_cli(&self, tenant: Option<String>) -> ViewResult<AccountView> {
        let identity = self.engine()?.login_azure_cli(non_empty(tenant)).await?;
        self.signed_in(&identity.id)?;
        self.account(&identity.id)
    }

    /// Forgets an identity and its secret or refresh token.
    pub fn sign_out(&self, identity: &str) -> ViewResult<()> {
        self.engine()?.logout(Some(identity))?;
        self.settings_changed();
        Ok(())
    }

    /// Adds a registry and refreshes it at once (in the background; the overview shows it).
    pub async fn add_registry(&self, request: AddRegistry) -> ViewResult<RegistryView> {
        let sign_in = match request.sign_in {
            RegistrySignInInput::Identity { identity } => RegistrySignIn::Identity(Some(identity)),
            RegistrySignInInput::AdminArm { identity } => RegistrySignIn::AdminArm(Some(identity)),
            RegistrySignInInput::AdminPassword { username, password } => {
                RegistrySignIn::AdminPassword {
                    username,
                    password: Secret::new(password),
                }
            }
            RegistrySignInInput::AcrToken {
                token,
                password,
                watched_by,
            } => RegistrySignIn::AcrToken(crate::engine::ops::AcrTokenSignIn {
                token: token.trim().to_owned(),
                password: Secret::new(password),
                password_name: None,
                identity: watched_by.filter(|w| !w.trim().is_empty()),
            }),
        };
        let mut engine = self.engine()?;
        let registry = engine
            .add_registry(
                request.name_or_login_server.trim(),
                sign_in,
                request.trust_custom_domain,
            )
            .await?;
        self.settings_changed();
        // The reload is queued before this, so the scheduler knows the registry.
        self.scheduler.refresh_soon(vec![registry.name.clone()]);
        let engine = self.engine()?;
        let latest = self.scheduler.status().borrow().clone();
        let view = overview::build(&engine, &latest);
        view.registries
            .into_iter()
            .find(|r| r.name == registry.name)
            .ok_or_else(|| Error::invalid_input("the registry vanished", "add it again").into())
    }

    /// Stops keeping a registry logged in (Docker's entry stays until it expires).
    pub fn remove_registry(&self, name: &str) -> ViewResult<()> {
        self.engine()?.remove_registry(name)?;
        self.settings_changed();
        Ok(())
    }

    /// Enables or disables a registry's admin account in Azure (see
    /// [`Engine::set_admin_account`](crate::Engine::set_admin_account)).
    pub async fn set_admin_account(&self, name: &str, enabled: bool) -> ViewResult<()> {
        self.engine()?.set_admin_account(name, enabled).await?;
        self.changed.notify_one();
        Ok(())
    }

    /// Refreshes the named registries (all when empty) now.
    pub async fn refresh_now(&self, names: Vec<String>) -> ViewResult<Vec<RefreshOutcomeView>> {
        let outcomes = self.scheduler.refresh_now(names).await?;
        self.changed.notify_one();
        Ok(outcomes
            .into_iter()
            .map(|o| RefreshOutcomeView {
                name: o.name,
                ok: o.result.is_ok(),
                error: o.result.err().map(|e| ErrorView::from_error(&e)),
            })
            .collect())
    }

    /// The registries `identity` can read through ARM.
    pub async fn discover_registries(&self, identity: &str) -> ViewResult<Discovery> {
        Ok(self.engine()?.discover(identity).await?.into())
    }

    /// Checks the credential Docker holds for a registry as Docker would use it: that it
    /// authenticates, and with a repository which of pull, push and delete it is granted there
    /// (see [`Engine::check`]).
    pub async fn check_registry(
        &self,
        name: &str,
        repository: Option<String>,
    ) -> ViewResult<view::CheckReport> {
        let repository = repository.filter(|r| !r.trim().is_empty());
        let mut report = self
            .engine()?
            .check(name, repository.as_deref().map(str::trim))
            .await?;
        report.hint = report.advice.as_ref().map(|h| h.render(&words::AppWords));
        Ok(report)
    }

    /// Where Docker looks for each registry's credentials, and what is wrong.
    pub async fn doctor(&self) -> ViewResult<DoctorView> {
        let engine = self.engine()?;
        // Off the async threads: the doctor reads files and may ask `helm` (up to 5 s a
        // question), and the window's other calls go on meanwhile.
        let report = tokio::task::spawn_blocking(move || engine.doctor())
            .await
            .map_err(|e| Error::invalid_input(format!("the doctor stopped: {e}"), ""))??;
        Ok(overview::doctor_view(report, None))
    }

    /// Repairs what the doctor found, after a backup of config.json.
    pub async fn doctor_fix(&self) -> ViewResult<DoctorView> {
        let (backup, _done, report) = self.engine()?.doctor_fix().await?;
        self.changed.notify_one();
        Ok(overview::doctor_view(report, backup))
    }

    /// Saves the General page: `[refresh]`, `[app]` and `[clients] helm` changed in
    /// config.toml, the rest of the file (comments included) kept; the next refresh follows it.
    pub fn set_general(&self, general: GeneralSettings) -> ViewResult<GeneralSettings> {
        if !(5..=720).contains(&general.refresh_interval_minutes) {
            return Err(Error::invalid_input(
                format!(
                    "a refresh every {} minutes is not possible",
                    general.refresh_interval_minutes
                ),
                "choose between 5 and 720 minutes (ACR tokens last about 3 hours; a token is also renewed 75 minutes before it runs out)",
            )
            .into());
        }
        let engine = self.engine()?;
        let helm_turned_on = general.helm && !engine.settings().clients.helm;
        let settings = change_in_place(
            &engine.paths().config_file(),
            vec![
                Change::new(
                    "refresh",
                    "interval_minutes",
                    i64::from(general.refresh_interval_minutes),
                ),
                Change::new("app", "start_at_login", general.start_at_login),
                // The tracing directive is the level's name in config.toml too.
                Change::new("app", "log_level", general.log_level.directive()),
                Change::new("clients", "helm", general.helm),
            ],
        )?;
        self.settings_changed();
        // Helm is logged in at once, not at the next scheduled refresh (up to an interval
        // away): a pass right after the new settings are read writes Helm's file.
        if helm_turned_on {
            self.scheduler.refresh_soon(Vec::new());
        }
        Ok(overview::general(&settings, engine.env()))
    }

    /// What choosing this cloud would do: the identities it signs out (shown, and confirmed by
    /// the user, before [`Service::set_cloud`]). Changes nothing.
    pub fn preview_cloud(&self, cloud: CloudInput) -> ViewResult<CloudChangePreview> {
        let settings = cloud_settings(cloud);
        let engine = self.engine()?;
        let resolved = crate::azure::cloud::Cloud::from_settings(&settings)?;
        let signs_out = engine.cloud_change_signs_out(&settings)?;
        let latest = self.scheduler.status().borrow().clone();
        let overview = overview::build(&engine, &latest);
        Ok(CloudChangePreview {
            cloud: overview::cloud(&resolved),
            signs_out: overview
                .accounts
                .into_iter()
                .filter(|a| signs_out.iter().any(|i| i.id == a.id))
                .collect(),
        })
    }

    /// Chooses the cloud; identities signed in to another cloud are signed out (see
    /// [`Service::preview_cloud`]).
    pub fn set_cloud(&self, cloud: CloudInput) -> ViewResult<CloudView> {
        let settings = cloud_settings(cloud);
        let mut engine = self.engine()?;
        engine.set_cloud(settings)?;
        self.settings_changed();
        Ok(overview::cloud(engine.cloud()))
    }

    fn account(&self, id: &str) -> ViewResult<AccountView> {
        let engine = self.engine()?;
        let latest = self.scheduler.status().borrow().clone();
        overview::build(&engine, &latest)
            .accounts
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| Error::invalid_input("the identity vanished", "sign in again").into())
    }
}

fn cloud_settings(cloud: CloudInput) -> CloudSettings {
    match cloud {
        CloudInput::AzureCloud => named(CloudName::AzureCloud),
        CloudInput::AzureChinaCloud => named(CloudName::AzureChinaCloud),
        CloudInput::AzureUSGovernment => named(CloudName::AzureUSGovernment),
        CloudInput::Custom {
            authority,
            arm,
            acr_suffix,
            acr_audience,
            ca_file,
        } => CloudSettings {
            name: CloudName::Custom,
            authority: Some(authority.trim().to_owned()),
            arm: Some(arm.trim().to_owned()),
            acr_suffix: Some(acr_suffix.trim().to_owned()),
            acr_audience: non_empty(acr_audience),
            ca_file: non_empty(ca_file).map(PathBuf::from),
            imds_endpoint: None,
        },
    }
}

fn named(name: CloudName) -> CloudSettings {
    CloudSettings {
        name,
        ..CloudSettings::default()
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Passes a device code to the shell as a view.
struct Prompt {
    on_code: Box<dyn FnMut(DeviceCodePrompt) + Send>,
    clock: Arc<dyn crate::clock::Clock>,
}

impl LoginPrompt for Prompt {
    fn device_code(&mut self, prompt: &interactive::DeviceCodePrompt) {
        let now = self.clock.now();
        let expires_in = chrono::TimeDelta::from_std(prompt.expires_in).unwrap_or_default();
        (self.on_code)(DeviceCodePrompt {
            user_code: prompt.user_code.clone(),
            verification_uri: prompt.verification_uri.clone(),
            expires_at: crate::clock::later(now, expires_in),
            message: prompt.message.clone().unwrap_or_else(|| {
                format!(
                    "To sign in, open {} and enter the code {}.",
                    prompt.verification_uri, prompt.user_code
                )
            }),
        });
    }

    fn browser_url(&mut self, url: &str) {
        tracing::info!(url = %crate::secret::redact_url(url), "sign-in opened in the browser");
    }
}

#[cfg(test)]
mod tests;
