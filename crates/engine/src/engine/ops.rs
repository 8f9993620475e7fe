//! Changes to the settings that the CLI and the settings window both make: sign in and out
//! (every kind of identity), add and remove registries, choose the cloud. Each checks first
//! (a sign-in gets a real token before anything is saved) and saves atomically, so a failed
//! operation changes nothing.

use std::path::PathBuf;
use std::time::Duration;

use crate::azure::acr;
use crate::azure::arm::Arm;
use crate::azure::cloud::{Audience, Cloud, CloudBinding, CloudSettings};
use crate::azure::entra::interactive::{self, DeviceCodePrompt, SignInRequest};
use crate::azure::entra::{self, AccessToken};
use crate::azure::login_server::resolve_registry;
use crate::browser::{BrowserOpener, LoginMethod};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::hint::{Action, Hint, SignInAs, SignInMethod};
use crate::secret::Secret;
use crate::store::config::{
    IdentityConfig, IdentityKind, RegistryAuth, RegistryConfig, SecretSource, Settings,
    TokenPassword,
};
use crate::store::secrets;

/// Where a secret given at sign-in is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretStorage {
    /// The OS keyring (default).
    Keyring,
    /// Nowhere: `AZURE_CLIENT_SECRET` is read at run time.
    Env,
    /// A user-only file at this path.
    File(PathBuf),
}

impl SecretStorage {
    fn source(&self) -> SecretSource {
        match self {
            Self::Keyring => SecretSource::Keyring,
            Self::Env => SecretSource::Env,
            Self::File(p) => SecretSource::File(p.clone()),
        }
    }
}

/// How a service principal proves itself.
#[derive(Debug, Clone)]
pub enum SpCredential {
    /// A client secret, and where to keep it.
    Secret {
        /// The secret.
        secret: Secret,
        /// Where to keep it.
        storage: SecretStorage,
    },
    /// A PEM file with the certificate and its private key.
    Certificate(PathBuf),
}

/// A service principal sign-in request.
#[derive(Debug, Clone)]
pub struct ServicePrincipalLogin {
    /// Tenant GUID or domain.
    pub tenant: String,
    /// Application (client) id.
    pub client_id: String,
    /// Its credential.
    pub credential: SpCredential,
}

/// A person's sign-in request.
#[derive(Debug, Clone)]
pub struct UserLogin {
    /// `organizations` (default) or a tenant.
    pub tenant: String,
    /// The public client (the Azure CLI's by default).
    pub client_id: String,
    /// Browser or device code.
    pub method: LoginMethod,
    /// Where to keep the refresh token: the keyring, or a user-only file.
    pub token_file: Option<PathBuf>,
    /// How long to wait for the browser.
    pub timeout: Duration,
}

/// What the sign-in shows the user.
pub trait LoginPrompt: Send {
    /// The device code and where to enter it.
    fn device_code(&mut self, prompt: &DeviceCodePrompt);
    /// The URL the browser is being sent to (shown in case no browser opens).
    fn browser_url(&mut self, url: &str);
}

/// How `registry add` signs the registry in.
#[derive(Debug, Clone)]
pub enum RegistrySignIn {
    /// With an Entra identity (`None`: the only one signed in).
    Identity(Option<String>),
    /// With the admin account, its password read through ARM by an identity.
    AdminArm(Option<String>),
    /// With the admin account and a password the user typed.
    AdminPassword {
        /// The admin user name.
        username: String,
        /// The password (kept in the OS keyring).
        password: Secret,
    },
    /// With an ACR token (scope map) and one of its passwords.
    AcrToken(AcrTokenSignIn),
}

/// An ACR token to sign a registry in with.
#[derive(Debug, Clone)]
pub struct AcrTokenSignIn {
    /// The token's name (Docker's user name).
    pub token: String,
    /// Its password (kept in the OS keyring).
    pub password: Secret,
    /// Which of the token's passwords it is, if the user knows.
    pub password_name: Option<TokenPassword>,
    /// The identity that reads the token in ARM to watch its expiry and status (`None`: not
    /// watched).
    pub identity: Option<String>,
}

impl Engine {
    /// Signs a service principal in. The credential is checked with Entra ID first, then
    /// stored, then the identity is saved. A wrong secret or certificate changes nothing.
    pub async fn login_service_principal(
        &mut self,
        login: ServicePrincipalLogin,
    ) -> Result<IdentityConfig> {
        check_guid("--client-id", &login.client_id)?;
        let tenant = login.tenant.trim().to_owned();
        if ["common", "organizations", "consumers"].contains(&tenant.to_ascii_lowercase().as_str())
        {
            return Err(Error::invalid_input(
                format!("a service principal signs in to one tenant, not {tenant:?}"),
                Hint::text("give the tenant's GUID or domain").cli_note(" with --tenant"),
            ));
        }
        let client_id = login.client_id.to_ascii_lowercase();
        let (secret, certificate) = match &login.credential {
            SpCredential::Secret { secret, storage } => {
                if secret.is_empty() {
                    return Err(Error::invalid_input(
                        "the client secret is empty",
                        // The app asks for the secret in a form: only the CLI pipes it.
                        Hint::none()
                            .cli_note("pipe the secret into --secret-stdin, e.g. ")
                            .with(Action::sign_in_with(None, SignInMethod::PipedSecret)),
                    ));
                }
                self.check_client_secret(&tenant, &client_id, secret)
                    .await?;
                let key =
                    secrets::client_secret_key(&self.cloud().authority_id(), &tenant, &client_id);
                let source = storage.source();
                self.write_secret(&source, &key, secret.clone()).await?;
                (Some(source), None)
            }
            SpCredential::Certificate(path) => (
                None,
                Some(std::path::absolute(path).map_err(|e| Error::io("find", path, &e))?),
            ),
        };
        let identity = IdentityConfig {
            id: client_id.clone(),
            kind: IdentityKind::ServicePrincipal {
                tenant,
                client_id,
                secret,
                certificate,
            },
            cloud: Some(CloudBinding::of(self.cloud())),
        };
        if matches!(login.credential, SpCredential::Certificate(_)) {
            self.check_identity(&identity).await?;
        }
        self.save_identity(identity)
    }

    /// Gets a token for a service principal's secret before it is saved (sign-in check).
    pub async fn check_client_secret(
        &self,
        tenant: &str,
        client_id: &str,
        secret: &Secret,
    ) -> Result<AccessToken> {
        let mut last = None;
        for audience in [Audience::Acr, Audience::Arm] {
            let scope = self.cloud().scope(audience);
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

    /// Gets a token for an identity (ACR audience, else ARM) to prove it works.
    async fn check_identity(&self, identity: &IdentityConfig) -> Result<AccessToken> {
        let mut last = None;
        for audience in [Audience::Acr, Audience::Arm] {
            match self.fetch_token(identity, audience).await {
                Ok(t) => return Ok(t),
                Err(e) if entra::is_unknown_resource(&e) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::invalid_input("no audience to try", "")))
    }

    /// A person signs in with the browser or a device code; the refresh token goes to the
    /// keyring (or a user-only file) and is replaced on every rotation.
    pub async fn login_user(
        &mut self,
        login: UserLogin,
        opener: &dyn BrowserOpener,
        prompt: &mut dyn LoginPrompt,
    ) -> Result<IdentityConfig> {
        let scope = self.cloud().arm_scope();
        let req = SignInRequest {
            tenant: &login.tenant,
            client_id: &login.client_id,
            scope: &scope,
        };
        let entra = self.clients()?.entra.clone();
        let tokens = match login.method {
            LoginMethod::DeviceCode => {
                interactive::device_code(&entra, req, |p| prompt.device_code(p)).await?
            }
            LoginMethod::Browser => {
                interactive::browser(&entra, req, opener, login.timeout, |u| {
                    prompt.browser_url(u)
                })
                .await?
            }
        };
        let refresh_token = tokens.refresh_token.ok_or_else(|| {
            Error::invalid_input(
                "Entra ID returned no refresh token, so the session cannot be kept",
                "make sure the app may use offline_access (the default Azure CLI client id can)",
            )
        })?;
        let claims = tokens.id.unwrap_or_default();
        let username = claims
            .username()
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| {
                Error::invalid_input("Entra ID returned no user name", "sign in again")
            })?;
        let tenant = claims
            .tid
            .clone()
            .or(tokens.access.tenant_id.clone())
            .unwrap_or_else(|| login.tenant.clone());
        let id = match self.settings().identity(&username) {
            // The same person at another tenant of their account: a sign-in to that tenant.
            Ok(
                existing @ IdentityConfig {
                    kind: IdentityKind::User { .. },
                    ..
                },
            ) if existing
                .kind
                .tenant()
                .is_some_and(|t| !t.eq_ignore_ascii_case(&tenant)) =>
            {
                let account = existing.clone();
                return self
                    .signed_in_to_tenant(account, &tenant, refresh_token)
                    .await;
            }
            Ok(existing) if existing.kind.tenant() != Some(tenant.as_str()) => {
                format!("{username}@{tenant}")
            }
            _ => username.clone(),
        };
        let store = match &login.token_file {
            Some(p) => {
                SecretSource::File(std::path::absolute(p).map_err(|e| Error::io("find", p, &e))?)
            }
            None => SecretSource::Keyring,
        };
        let key = secrets::refresh_token_key(&self.cloud().authority_id(), &id);
        self.write_secret(&store, &key, refresh_token).await?;
        let identity = IdentityConfig {
            id,
            kind: IdentityKind::User {
                tenant,
                client_id: login.client_id,
                username,
                object_id: claims.oid.unwrap_or_default(),
                refresh_token: store,
            },
            cloud: Some(CloudBinding::of(self.cloud())),
        };
        let identity = self.save_identity(identity)?;
        self.remember_tenants_after_sign_in(&identity, &tokens.access.token)
            .await;
        Ok(identity)
    }

    /// Signs in the machine's managed identity (system-assigned, or user-assigned by client id).
    pub async fn login_managed_identity(
        &mut self,
        client_id: Option<String>,
    ) -> Result<IdentityConfig> {
        let client_id = client_id.map(|c| c.to_ascii_lowercase());
        let id = match &client_id {
            Some(c) => format!("managed-identity/{c}"),
            None => "managed-identity".to_owned(),
        };
        let identity = IdentityConfig {
            id,
            kind: IdentityKind::ManagedIdentity { client_id },
            cloud: Some(CloudBinding::of(self.cloud())),
        };
        self.check_identity(&identity).await?;
        self.save_identity(identity)
    }

    /// Uses the Azure CLI's session (`az account get-access-token`).
    pub async fn login_azure_cli(&mut self, tenant: Option<String>) -> Result<IdentityConfig> {
        let id = match &tenant {
            Some(t) => format!("azure-cli/{t}"),
            None => "azure-cli".to_owned(),
        };
        let identity = IdentityConfig {
            id,
            kind: IdentityKind::AzureCli { tenant },
            cloud: Some(CloudBinding::of(self.cloud())),
        };
        self.check_identity(&identity).await?;
        self.save_identity(identity)
    }

    /// Workload identity federation: the federated token file from `AZURE_FEDERATED_TOKEN_FILE`
    /// (re-read on every use), the tenant and client id given or from the environment.
    pub async fn login_workload_identity(
        &mut self,
        tenant: Option<String>,
        client_id: Option<String>,
    ) -> Result<IdentityConfig> {
        let (_, resolved_client, _) = self.workload_settings(&tenant, &client_id, &None)?;
        let identity = IdentityConfig {
            id: format!("workload-identity/{}", resolved_client.to_ascii_lowercase()),
            kind: IdentityKind::WorkloadIdentity {
                tenant,
                client_id,
                token_file: None,
            },
            cloud: Some(CloudBinding::of(self.cloud())),
        };
        self.check_identity(&identity).await?;
        self.save_identity(identity)
    }

    fn save_identity(&mut self, identity: IdentityConfig) -> Result<IdentityConfig> {
        self.update_settings(|s| {
            s.identities
                .retain(|i| !i.id.eq_ignore_ascii_case(&identity.id));
            s.identities.push(identity.clone());
            Ok(())
        })?;
        self.forget_tokens(&identity.id);
        self.record_sign_in(&identity.id);
        Ok(identity)
    }

    /// Signs identities out (all when `id` is `None`): forgets their secrets, refresh tokens
    /// and cached tokens. Returns the identities removed. Registries that used them stay.
    pub fn logout(&mut self, id: Option<&str>) -> Result<Vec<IdentityConfig>> {
        let removed: Vec<IdentityConfig> = match id {
            Some(id) => vec![self.settings().identity(id)?.clone()],
            None => self.settings().identities.clone(),
        };
        for identity in &removed {
            let authority = match &identity.cloud {
                Some(bound) => bound.authority.clone(),
                None => self.cloud().authority_id(),
            };
            self.forget_tenant_sign_ins(identity, &authority);
            self.forget_secret(identity)?;
            self.forget_tokens(&identity.id);
        }
        self.update_settings(|s| {
            s.identities
                .retain(|i| !removed.iter().any(|r| r.id == i.id));
            Ok(())
        })?;
        Ok(removed)
    }

    /// Deletes an identity's stored secret or refresh token (the keyring entry, under its
    /// cloud's key and the key older versions used, or the user-only file).
    fn forget_secret(&self, identity: &IdentityConfig) -> Result<()> {
        let authority = match &identity.cloud {
            Some(bound) => bound.authority.clone(),
            None => self.cloud().authority_id(),
        };
        let (keys, source) = match &identity.kind {
            IdentityKind::ServicePrincipal {
                tenant,
                client_id,
                secret: Some(source),
                ..
            } => (
                [
                    secrets::client_secret_key(&authority, tenant, client_id),
                    secrets::legacy_client_secret_key(tenant, client_id),
                ],
                source,
            ),
            IdentityKind::User { refresh_token, .. } => (
                [
                    secrets::refresh_token_key(&authority, &identity.id),
                    secrets::legacy_refresh_token_key(&identity.id),
                ],
                refresh_token,
            ),
            _ => return Ok(()),
        };
        match source {
            SecretSource::Keyring => {
                for key in keys {
                    self.secret_store().delete(&key)?;
                }
            }
            SecretSource::File(path) => match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("delete", path, &e)),
            },
            SecretSource::Env => {}
        }
        Ok(())
    }

    /// Adds (or updates) a registry. A host outside the cloud's ACR suffix is refused unless
    /// `trust_custom_domain` is set. Admin accounts are checked before they are saved.
    pub async fn add_registry(
        &mut self,
        name_or_login_server: &str,
        sign_in: RegistrySignIn,
        trust_custom_domain: bool,
    ) -> Result<RegistryConfig> {
        let address = resolve_registry(
            name_or_login_server,
            &self.cloud().acr_suffix,
            trust_custom_domain,
        )?;
        let mut registry = RegistryConfig {
            name: address.name,
            login_server: address.login_server,
            identity: None,
            auth: RegistryAuth::Identity,
            admin_username: None,
            acr_token: None,
            acr_token_password: None,
            arm_id: None,
            trusted_custom_domain: address.custom_domain,
            tenant: None,
        };
        match sign_in {
            RegistrySignIn::Identity(id) => {
                registry.identity = Some(self.pick_identity(id.as_deref())?);
                registry.tenant = self.discovered_tenant(&registry);
            }
            RegistrySignIn::AdminArm(id) => {
                let id = self.pick_identity(id.as_deref())?;
                registry.identity = Some(id.clone());
                registry.auth = RegistryAuth::AdminArm;
                registry.tenant = self.discovered_tenant(&registry);
                let identity = self.settings().identity(&id)?.clone();
                let token = self
                    .entra_token_in(&identity, registry.tenant.as_deref(), Audience::Arm)
                    .await?;
                let http = &self.clients()?.http;
                let arm = Arm::new(http, &self.cloud().arm, &token.token, &identity.id);
                let found = arm.find_registry(&registry.login_server).await?.ok_or_else(|| Error::Registry {
                    registry: registry.login_server.to_string(),
                    message: format!("{id} cannot see this registry in ARM"),
                    kind: crate::error::ErrorKind::Permission,
                    hint: Hint::text("reading admin credentials needs Contributor or Owner on the registry; or give the admin password: ")
                        .run(Action::ChangeRegistrySignIn {
                            registry: registry.name.clone(),
                            to: SignInAs::Admin { username: registry.name.clone() },
                        }),
                })?;
                arm.list_credentials(&found.id).await?;
                registry.arm_id = Some(found.id);
            }
            RegistrySignIn::AdminPassword { username, password } => {
                self.allow_list_for(&registry)
                    .check(registry.login_server.host())?;
                let http = &self.clients()?.http;
                let challenge = acr::challenge(
                    http,
                    &registry.login_server,
                    &self.allow_list_for(&registry),
                )
                .await?;
                if !acr::basic_login_works(
                    http,
                    &challenge,
                    &username,
                    &password,
                    "checking the admin account",
                )
                .await?
                {
                    return Err(Error::invalid_input(
                        format!(
                            "{} refused the admin user name or password",
                            registry.login_server
                        ),
                        "copy them from the portal (Access keys) or `az acr credential show -n NAME`",
                    ));
                }
                let key = secrets::admin_password_key(&registry.login_server.to_string());
                self.write_secret(&SecretSource::Keyring, &key, password)
                    .await?;
                registry.auth = RegistryAuth::AdminPassword;
                registry.admin_username = Some(username);
            }
            RegistrySignIn::AcrToken(token) => self.sign_in_acr_token(&mut registry, token).await?,
        }
        let replaced: Vec<RegistryConfig> = self
            .settings()
            .registries
            .iter()
            .filter(|r| r.login_server == registry.login_server || r.name == registry.name)
            .cloned()
            .collect();
        self.update_settings(|s| {
            s.registries
                .retain(|r| r.login_server != registry.login_server && r.name != registry.name);
            s.registries.push(registry.clone());
            Ok(())
        })?;
        self.forget_replaced_token_passwords(&replaced, &registry);
        Ok(registry)
    }

    pub(crate) fn allow_list_for(
        &self,
        registry: &RegistryConfig,
    ) -> crate::azure::login_server::TokenAllowList {
        let mut trusted: Vec<String> = Vec::new();
        if registry.trusted_custom_domain {
            trusted.push(registry.login_server.host().to_owned());
        }
        crate::azure::login_server::TokenAllowList::new(self.cloud().acr_suffix.clone(), trusted)
    }

    pub(crate) fn pick_identity(&self, id: Option<&str>) -> Result<String> {
        match id {
            Some(id) => Ok(self.settings().identity(id)?.id.clone()),
            None => match self.settings().identities.as_slice() {
                [only] => Ok(only.id.clone()),
                [] => Err(Error::invalid_input(
                    "no identity is signed in",
                    Hint::text("sign in first with ")
                        .with(Action::sign_in_with(None, SignInMethod::Any)),
                )),
                many => {
                    let ids: Vec<&str> = many.iter().map(|i| i.id.as_str()).collect();
                    Err(Error::invalid_input(
                        "several identities are signed in",
                        Hint::text("choose one")
                            .cli_note(" with --identity")
                            .then(format!(" ({})", ids.join(", "))),
                    ))
                }
            },
        }
    }

    /// Removes a registry by name or login server (and its stored admin password). Docker's
    /// entry is left as it is.
    pub fn remove_registry(&mut self, name: &str) -> Result<RegistryConfig> {
        let registry = self.settings().registry(name)?.clone();
        if registry.auth == RegistryAuth::AdminPassword {
            self.secret_store().delete(&secrets::admin_password_key(
                &registry.login_server.to_string(),
            ))?;
        }
        if let Some(key) = self.acr_token_key(&registry) {
            self.secret_store().delete(&key)?;
        }
        crate::store::token_store::TokenStore::new(self.secret_store(), self.paths().token_file())
            .remove(&registry.login_server.to_string())?;
        self.update_settings(|s| {
            s.registries
                .retain(|r| r.login_server != registry.login_server);
            Ok(())
        })?;
        Ok(registry)
    }

    /// Lets `docker-credential-acr-tray` serve these registries (all when none is named):
    /// `credHelpers` entries after a backup of config.json, stale plaintext entries removed,
    /// and each registry's credential cached. Returns the backup.
    pub async fn use_helper(&self, names: &[String]) -> Result<Option<PathBuf>> {
        self.switch_helper(names, true).await
    }

    /// Undoes [`Engine::use_helper`]: the registries go back to config.json (refreshed now).
    pub async fn stop_helper(&self, names: &[String]) -> Result<Option<PathBuf>> {
        self.switch_helper(names, false).await
    }

    async fn switch_helper(&self, names: &[String], on: bool) -> Result<Option<PathBuf>> {
        let hosts: Vec<String> = if names.is_empty() {
            self.settings()
                .registries
                .iter()
                .map(|r| r.login_server.to_string())
                .collect()
        } else {
            names
                .iter()
                .map(|n| {
                    self.settings()
                        .registry(n)
                        .map(|r| r.login_server.to_string())
                })
                .collect::<Result<_>>()?
        };
        if hosts.is_empty() {
            return Err(Error::invalid_input(
                "no registry is configured",
                Hint::text("add one with ").with(Action::AddRegistry),
            ));
        }
        let path = self.docker_config_path()?;
        crate::docker::DockerConfig::load(&path)?;
        let backup = crate::docker::backup(&path)?;
        crate::docker::update(&path, |cfg| {
            let mut changed = false;
            for host in &hosts {
                if on {
                    changed |= cfg.set_cred_helper(host, Some(crate::docker::OUR_HELPER));
                    changed |= cfg.clear_secrets(host);
                } else if cfg
                    .cred_helpers()
                    .iter()
                    .any(|(r, h)| r == host && h == crate::docker::OUR_HELPER)
                {
                    changed |= cfg.set_cred_helper(host, None);
                }
            }
            changed
        })?;
        for outcome in self.refresh_on_demand(&hosts).await? {
            outcome.result?;
        }
        Ok(backup)
    }

    /// The identities that choosing this cloud signs out: those signed in to another cloud
    /// (their credentials are never used with this one). Checks the endpoints like
    /// [`Engine::set_cloud`].
    pub fn cloud_change_signs_out(&self, cloud: &CloudSettings) -> Result<Vec<IdentityConfig>> {
        let resolved = Cloud::from_settings(cloud)?;
        Ok(self
            .settings()
            .identities
            .iter()
            .filter(|i| !i.cloud.as_ref().is_some_and(|b| b.matches(&resolved)))
            .cloned()
            .collect())
    }

    /// Chooses the cloud. Fails (changing nothing) when the endpoints are not usable.
    /// Identities signed in to another cloud are signed out (see
    /// [`Engine::cloud_change_signs_out`]): their secrets and cached tokens are forgotten and
    /// they read "sign-in required" until they sign in to this cloud; they stay in the
    /// settings, as do the registries that use them.
    pub fn set_cloud(&mut self, cloud: CloudSettings) -> Result<Cloud> {
        let resolved = Cloud::from_settings(&cloud)?;
        if let Some(ca) = &cloud.ca_file {
            crate::http::build_client(
                self.env(),
                &crate::http::HttpOptions {
                    ca_file: Some(ca.clone()),
                    ..Default::default()
                },
            )?;
        }
        let signed_out = self.cloud_change_signs_out(&cloud)?;
        for identity in &signed_out {
            self.forget_secret(identity)?;
            self.forget_tokens(&identity.id);
        }
        self.update_settings(|s| {
            s.cloud = cloud.clone();
            Ok(())
        })?;
        for identity in &signed_out {
            if let Some(e) = self.cloud_mismatch(identity) {
                self.record_sign_in_required(&identity.id, &e);
            }
        }
        Ok(resolved)
    }

    fn update_settings(&mut self, change: impl FnOnce(&mut Settings) -> Result<()>) -> Result<()> {
        let path = self.paths().config_file();
        // Re-read so a change made elsewhere since this engine started is not lost.
        let mut settings = Settings::load(&path)?;
        change(&mut settings)?;
        settings.save(&path)?;
        self.replace_settings(settings)
    }
}

fn check_guid(what: &str, s: &str) -> Result<()> {
    let hex = |n: usize, part: Option<&str>| {
        part.is_some_and(|p| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
    };
    let mut parts = s.split('-');
    let ok = hex(8, parts.next())
        && hex(4, parts.next())
        && hex(4, parts.next())
        && hex(4, parts.next())
        && hex(12, parts.next())
        && parts.next().is_none();
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            format!("{what} {s:?} is not a GUID"),
            "use the application (client) id from the app registration, e.g. 00000000-0000-0000-0000-000000000000",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids() {
        assert!(check_guid("x", "04b07795-8ddb-461a-bbee-02f9e1bf7b46").is_ok());
        assert!(check_guid("x", "04b07795-8ddb-461a-bbee-02f9e1bf7b4").is_err());
        assert!(check_guid("x", "my-app").is_err());
    }
}
