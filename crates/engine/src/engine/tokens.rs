//! The token provider: an Entra access token for every kind of identity — a service
//! principal's secret or certificate, a user's refresh token, managed identity (IMDS), the
//! Azure CLI and federated (workload identity) tokens — and the secrets they are made from,
//! read once per refresh pass.

use std::path::PathBuf;
use std::time::Duration;

use super::Engine;
use crate::azure::cloud::Audience;
use crate::azure::credentials::certificate::{self, Certificate};
use crate::azure::credentials::{azure_cli, imds};
use crate::azure::entra::AccessToken;
use crate::error::{Error, ErrorKind, Result};
use crate::hint::{Action, Hint, SignInMethod};
use crate::http;
use crate::secret::Secret;
use crate::store::config::{IdentityConfig, IdentityKind, SecretSource};
use crate::store::secrets;

impl Engine {
    fn imds_client(&self) -> Result<&reqwest::Client> {
        self.imds
            .get_or_init(|| http::build_imds_client(&self.http_options))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// An Entra token for an identity and audience, from the cache or its source; transient
    /// failures are retried with backoff (honouring `Retry-After`).
    pub async fn entra_token(
        &self,
        identity: &IdentityConfig,
        audience: Audience,
    ) -> Result<AccessToken> {
        if let Some(e) = self.cloud_mismatch(identity) {
            return Err(e);
        }
        self.tokens
            .get_or_fetch(&identity.id, audience, self.clock.now(), || {
                self.fetch_with_retries(identity, audience)
            })
            .await
    }

    async fn fetch_with_retries(
        &self,
        identity: &IdentityConfig,
        audience: Audience,
    ) -> Result<AccessToken> {
        // IMDS and az retry on their own terms; client errors are not worth a retry.
        let attempts = match identity.kind {
            IdentityKind::ManagedIdentity { .. } | IdentityKind::AzureCli { .. } => 1,
            _ => 3,
        };
        let mut delay = self.retry_base;
        let mut attempt = 1;
        loop {
            match self.fetch_token(identity, audience).await {
                Err(e) if e.kind() == ErrorKind::Transient && attempt < attempts => {
                    let asked = e.retry_after().map(Duration::from_secs).unwrap_or_default();
                    let wait = asked.clamp(delay, delay.max(Duration::from_secs(30)));
                    tracing::info!(identity = %identity.id, attempt, wait_ms = wait.as_millis() as u64, error = %e, "transient failure, retrying");
                    tokio::time::sleep(wait).await;
                    delay *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// One token request from the identity's source.
    pub(crate) async fn fetch_token(
        &self,
        identity: &IdentityConfig,
        audience: Audience,
    ) -> Result<AccessToken> {
        // The one place every credential becomes a request: nothing is sent for an identity
        // bound to another cloud, whichever path asked.
        if let Some(e) = self.cloud_mismatch(identity) {
            return Err(e);
        }
        let scope = self.cloud.scope(audience);
        let resource = match audience {
            Audience::Acr => self.cloud.acr_audience.clone(),
            Audience::Arm => self.cloud.arm_audience.clone(),
        };
        let id = identity.id.as_str();
        match &identity.kind {
            IdentityKind::ServicePrincipal {
                tenant,
                client_id,
                secret: Some(source),
                ..
            } => {
                let key = secrets::client_secret_key(&self.cloud.authority_id(), tenant, client_id);
                let value = self.read_secret(id, source, &key).await?;
                self.clients()?
                    .entra
                    .client_credentials(id, tenant, client_id, &value, &scope)
                    .await
            }
            IdentityKind::ServicePrincipal {
                tenant,
                client_id,
                certificate: Some(path),
                ..
            } => {
                let entra = &self.clients()?.entra;
                let token_url = entra.token_url(tenant)?;
                let assertion = Certificate::load(path)?.assertion(
                    client_id,
                    token_url.as_str(),
                    self.clock.now(),
                )?;
                entra
                    .client_assertion(id, tenant, client_id, &assertion, &scope)
                    .await
            }
            IdentityKind::ServicePrincipal { .. } => Err(Error::invalid_input(
                format!("identity {id} has neither a secret nor a certificate"),
                Hint::text("sign it in again with ").with(Action::sign_in_with(
                    Some(id),
                    SignInMethod::ServicePrincipal,
                )),
            )),
            IdentityKind::User {
                tenant,
                client_id,
                refresh_token,
                ..
            } => {
                self.user_token(id, tenant, client_id, refresh_token, &scope)
                    .await
            }
            IdentityKind::ManagedIdentity { client_id } => {
                let endpoint = self.imds_endpoint();
                let req = imds::ImdsRequest {
                    endpoint: &endpoint,
                    resource: &resource,
                    client_id: client_id.as_deref(),
                    retry_base: self.retry_base * 2,
                    now: self.clock.now(),
                };
                imds::token(self.imds_client()?, req).await
            }
            IdentityKind::AzureCli { tenant } => {
                azure_cli::token(&self.env, &resource, tenant.as_deref(), self.clock.now()).await
            }
            IdentityKind::WorkloadIdentity {
                tenant,
                client_id,
                token_file,
            } => {
                let (tenant, client_id, file) =
                    self.workload_settings(tenant, client_id, token_file)?;
                let assertion = certificate::read_federated_token(&file)?;
                self.clients()?
                    .entra
                    .client_assertion(id, &tenant, &client_id, &assertion, &scope)
                    .await
            }
        }
    }

    /// A workload identity's tenant, client id and token file: from the settings, else from
    /// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_FEDERATED_TOKEN_FILE`.
    pub fn workload_settings(
        &self,
        tenant: &Option<String>,
        client_id: &Option<String>,
        token_file: &Option<PathBuf>,
    ) -> Result<(String, String, PathBuf)> {
        let pick = |configured: &Option<String>, var: &str| {
            configured
                .clone()
                .or_else(|| self.env.var(var).map(str::to_owned))
                .ok_or_else(|| Error::SecretUnavailable {
                    identity: "workload identity".to_owned(),
                    detail: format!("{var} is not set"),
                    hint: "run where the platform sets AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (AKS workload identity, GitHub OIDC), or give them at sign-in".into(),
                })
        };
        let tenant = pick(tenant, "AZURE_TENANT_ID")?;
        let client_id = pick(client_id, "AZURE_CLIENT_ID")?;
        let file = pick(
            &token_file.as_ref().map(|p| p.display().to_string()),
            "AZURE_FEDERATED_TOKEN_FILE",
        )?;
        Ok((tenant, client_id, PathBuf::from(file)))
    }

    /// A user's access token through the refresh-token grant; the rotated refresh token
    /// replaces the stored one.
    async fn user_token(
        &self,
        id: &str,
        tenant: &str,
        client_id: &str,
        store: &SecretSource,
        scope: &str,
    ) -> Result<AccessToken> {
        let key = secrets::refresh_token_key(&self.cloud.authority_id(), id);
        let rt = self.read_secret(id, store, &key).await?;
        let tokens = self
            .clients()?
            .entra
            .refresh(id, tenant, client_id, &rt, scope)
            .await?;
        if let Some(new_rt) = tokens.refresh_token.filter(|n| n != &rt) {
            self.write_secret(store, &key, new_rt).await?;
        }
        Ok(tokens.access)
    }

    /// Keeps every secret read or written until the returned guard is dropped (one refresh
    /// pass): each is read from the keyring or file once.
    pub(crate) fn remember_secrets(&self) -> PassSecrets<'_> {
        *self.pass_secrets.lock().unwrap_or_else(|e| e.into_inner()) = Some(Default::default());
        PassSecrets(self)
    }

    fn remembered_secret(&self, key: &str) -> Option<Secret> {
        self.pass_secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(|m| m.get(key).cloned())
    }

    fn remember_secret(&self, key: &str, value: &Secret) {
        if let Some(m) = self
            .pass_secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            m.insert(key.to_owned(), value.clone());
        }
    }

    /// Reads a secret where its settings say it is (keyring calls run off the async threads).
    pub(crate) async fn read_secret(
        &self,
        identity: &str,
        source: &SecretSource,
        key: &str,
    ) -> Result<Secret> {
        let memo_key = secret_location(source, key);
        if let Some(known) = self.remembered_secret(&memo_key) {
            return Ok(known);
        }
        let value = self.read_secret_now(identity, source, key).await?;
        self.remember_secret(&memo_key, &value);
        Ok(value)
    }

    async fn read_secret_now(
        &self,
        identity: &str,
        source: &SecretSource,
        key: &str,
    ) -> Result<Secret> {
        let store = self.secrets.clone();
        let (env, source, id, key) = (
            self.env.clone(),
            source.clone(),
            identity.to_owned(),
            key.to_owned(),
        );
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        tokio::task::spawn_blocking(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                secrets::read_secret(&id, &source, &key, store.as_ref(), &env)
            })
        })
        .await
        .map_err(|e| Error::invalid_input(format!("keyring task failed: {e}"), ""))?
    }

    /// Stores a secret where its settings say (the keyring or a user-only file).
    pub(crate) async fn write_secret(
        &self,
        source: &SecretSource,
        key: &str,
        value: Secret,
    ) -> Result<()> {
        self.remember_secret(&secret_location(source, key), &value);
        let store = self.secrets.clone();
        let (source, key) = (source.clone(), key.to_owned());
        tokio::task::spawn_blocking(move || match source {
            SecretSource::Keyring => store.set(&key, &value),
            SecretSource::File(path) => secrets::write_secret_file(&path, &value),
            SecretSource::Env => Ok(()),
        })
        .await
        .map_err(|e| Error::invalid_input(format!("keyring task failed: {e}"), ""))?
    }
}

/// Where a secret lives, as a key of [`Engine::remember_secrets`]'s memo.
fn secret_location(source: &SecretSource, key: &str) -> String {
    match source {
        SecretSource::Keyring => format!("keyring:{key}"),
        SecretSource::Env => "env:AZURE_CLIENT_SECRET".to_owned(),
        SecretSource::File(path) => format!("file:{}", path.display()),
    }
}

/// Ends [`Engine::remember_secrets`] when dropped.
pub(crate) struct PassSecrets<'a>(&'a Engine);

impl Drop for PassSecrets<'_> {
    fn drop(&mut self) {
        *self
            .0
            .pass_secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
    }
}
