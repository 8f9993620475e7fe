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
        self.entra_token_in(identity, None, audience).await
    }

    /// [`Engine::entra_token`] at one tenant of the identity's account (`None`, or its own
    /// tenant: the identity's own): a person's refresh token redeemed at that tenant, a
    /// service principal's credential asked there (multi-tenant apps).
    pub async fn entra_token_in(
        &self,
        identity: &IdentityConfig,
        tenant: Option<&str>,
        audience: Audience,
    ) -> Result<AccessToken> {
        if let Some(e) = self.cloud_mismatch(identity) {
            return Err(e);
        }
        let tenant = foreign_tenant(identity, tenant);
        self.tokens
            .get_or_fetch(&identity.id, tenant, audience, self.clock.now(), || {
                self.fetch_with_retries(identity, tenant, audience)
            })
            .await
    }

    async fn fetch_with_retries(
        &self,
        identity: &IdentityConfig,
        tenant: Option<&str>,
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
            match self.fetch_token_in(identity, tenant, audience).await {
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
        self.fetch_token_in(identity, None, audience).await
    }

    /// One token request from the identity's source, at `foreign` (another tenant of its
    /// account) when given.
    async fn fetch_token_in(
        &self,
        identity: &IdentityConfig,
        foreign: Option<&str>,
        audience: Audience,
    ) -> Result<AccessToken> {
        // The one place every credential becomes a request: nothing is sent for an identity
        // bound to another cloud, whichever path asked.
        if let Some(e) = self.cloud_mismatch(identity) {
            return Err(e);
        }
        if let Some(t) = foreign
            && !crate::azure::resource_id::is_tenant_id(t)
        {
            return Err(Error::invalid_input(
                format!("{t:?} is not a tenant id (a GUID); no token is asked for it"),
                "",
            ));
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
                let at = foreign.unwrap_or(tenant);
                self.clients()?
                    .entra
                    .client_credentials(id, at, client_id, &value, &scope)
                    .await
            }
            IdentityKind::ServicePrincipal {
                tenant,
                client_id,
                certificate: Some(path),
                ..
            } => {
                let entra = &self.clients()?.entra;
                let at = foreign.unwrap_or(tenant);
                let token_url = entra.token_url(at)?;
                let assertion = Certificate::load(path)?.assertion(
                    client_id,
                    token_url.as_str(),
                    self.clock.now(),
                )?;
                entra
                    .client_assertion(id, at, client_id, &assertion, &scope)
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
            } => match foreign {
                None => {
                    self.user_token(id, tenant, client_id, refresh_token, &scope)
                        .await
                }
                Some(at) => {
                    self.guest_token(id, at, client_id, refresh_token, &scope)
                        .await
                }
            },
            IdentityKind::ManagedIdentity { .. } | IdentityKind::WorkloadIdentity { .. }
                if foreign.is_some() =>
            {
                Err(own_tenant_only(id, foreign.unwrap_or_default()))
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
                let at = foreign.or(tenant.as_deref());
                azure_cli::token(&self.env, &resource, at, self.clock.now()).await
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

    /// A person's access token at another tenant of their account (`tenant`): the refresh
    /// token of their sign-in at that tenant when they made one, else the account's own,
    /// redeemed at that tenant's endpoint. What that tenant alone demands (MFA, Conditional
    /// Access, no account there) is a [`Error::TenantSignInRequired`]: the account's other
    /// tenants are not touched. A refresh token that is dead everywhere (revoked, expired)
    /// ends the account's session as at home.
    async fn guest_token(
        &self,
        id: &str,
        tenant: &str,
        client_id: &str,
        store: &SecretSource,
        scope: &str,
    ) -> Result<AccessToken> {
        let authority = self.cloud.authority_id();
        let own_key = secrets::tenant_refresh_token_key(&authority, id, tenant);
        let own_store = secrets::tenant_refresh_token_source(store, tenant);
        let (key, store, rt, tenant_signed_in) =
            match self.read_secret(id, &own_store, &own_key).await {
                Ok(rt) => (own_key, own_store, rt, true),
                Err(_) => {
                    let key = secrets::refresh_token_key(&authority, id);
                    let rt = self.read_secret(id, store, &key).await?;
                    (key, store.clone(), rt, false)
                }
            };
        let tokens = self
            .clients()?
            .entra
            .refresh(id, tenant, client_id, &rt, scope)
            .await
            .map_err(|e| {
                let name = self.tenant_name(id, tenant);
                tenant_demand(e, id, tenant, name.as_deref(), tenant_signed_in)
            })?;
        if let Some(new_rt) = tokens.refresh_token.filter(|n| n != &rt) {
            self.write_secret(&store, &key, new_rt).await?;
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

/// `tenant` when it is not the identity's own (compared without case).
fn foreign_tenant<'a>(identity: &IdentityConfig, tenant: Option<&'a str>) -> Option<&'a str> {
    tenant.filter(|t| {
        identity
            .kind
            .tenant()
            .is_none_or(|own| !own.eq_ignore_ascii_case(t))
    })
}

/// A managed or workload identity asked for a token at another tenant: it has only its own.
fn own_tenant_only(id: &str, tenant: &str) -> Error {
    Error::invalid_input(
        format!("{id} can get tokens only in its own tenant, not in tenant {tenant}"),
        Hint::text("give the registry an identity of its tenant: a person's account that is a member or guest there, or a service principal of that tenant (")
            .with(Action::registry_to_identity("NAME"))
            .then(")"),
    )
}

/// AADSTS codes that say the refresh token itself is dead (revoked, expired, unknown, another
/// client's): the whole account must sign in again, whichever tenant asked.
const DEAD_REFRESH_TOKEN: &[u32] = &[50173, 700082, 70008, 9002313, 70000, 700084, 50089];

/// What a tenant's refusal of the account's refresh token means: a demand of that tenant
/// alone ([`Error::TenantSignInRequired`]), unless the token is dead everywhere (and it was
/// the account's own token).
fn tenant_demand(
    e: Error,
    id: &str,
    tenant: &str,
    name: Option<&str>,
    tenant_signed_in: bool,
) -> Error {
    let Error::Entra(entra) = &e else {
        return e;
    };
    let demand = matches!(
        entra.kind,
        ErrorKind::SignInRequired | ErrorKind::Permission
    );
    let dead = entra.aadsts.iter().any(|c| DEAD_REFRESH_TOKEN.contains(c));
    if !demand || (dead && !tenant_signed_in) {
        return e;
    }
    Error::TenantSignInRequired {
        identity: id.to_owned(),
        tenant: tenant.to_ascii_lowercase(),
        reason: entra.description.clone(),
        hint: tenant_sign_in_hint(id, tenant, name),
    }
}

/// Sign in to one tenant of a person's account.
/// `name` is the tenant's display name (or domain) when known: the user knows it by that.
pub fn tenant_sign_in_hint(id: &str, tenant: &str, name: Option<&str>) -> Hint {
    let place = match name {
        Some(name) => name.to_owned(),
        None => format!("tenant {tenant}"),
    };
    Hint::text(format!("sign {id} in to {place} with "))
        .with(Action::sign_in_with(
            Some(id),
            SignInMethod::AtTenant {
                tenant: tenant.to_owned(),
                name: name.map(str::to_owned),
            },
        ))
        .cli_note(" (add --device-code without a browser)")
        .then("; the account's other tenants keep working")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::EntraError;

    const TENANT: &str = "7c1e2d3f-0000-4000-8000-000000000002";

    fn entra(code: &str, aadsts: u32, kind: ErrorKind) -> Error {
        Error::Entra(Box::new(EntraError {
            identity: "dev".into(),
            code: code.into(),
            aadsts: vec![aadsts],
            description: format!("AADSTS{aadsts}: ..."),
            kind,
            hint: Hint::none(),
            retry_after: None,
        }))
    }

    /// What a tenant demands stays with that tenant; a refresh token dead everywhere still
    /// ends the account (unless it was that tenant's own sign-in's); other failures pass.
    #[test]
    fn a_tenants_refusal_is_that_tenants_unless_the_token_is_dead() {
        let demands = [
            entra("invalid_grant", 50076, ErrorKind::SignInRequired),
            entra("invalid_grant", 50079, ErrorKind::SignInRequired),
            entra("invalid_grant", 53003, ErrorKind::Permission),
            entra("invalid_grant", 50020, ErrorKind::SignInRequired),
            entra("invalid_grant", 70043, ErrorKind::SignInRequired),
        ];
        for e in demands {
            let mapped = tenant_demand(e.clone(), "dev", TENANT, None, false);
            assert!(
                matches!(&mapped, Error::TenantSignInRequired { tenant, .. } if tenant == TENANT),
                "{e} -> {mapped:?}"
            );
            assert_eq!(crate::engine::ends_session(&mapped), None);
        }
        let dead = entra("invalid_grant", 50173, ErrorKind::SignInRequired);
        let mapped = tenant_demand(dead.clone(), "dev", TENANT, None, false);
        assert_eq!(
            crate::engine::ends_session(&mapped),
            Some("dev"),
            "{mapped}"
        );
        let own = tenant_demand(dead, "dev", TENANT, None, true);
        assert!(matches!(own, Error::TenantSignInRequired { .. }), "{own}");
        let busy = entra("temporarily_unavailable", 90033, ErrorKind::Transient);
        assert!(matches!(
            tenant_demand(busy, "dev", TENANT, None, false),
            Error::Entra(_)
        ));
    }

    #[test]
    fn the_identitys_own_tenant_is_not_foreign() {
        let user = IdentityConfig {
            id: "dev".into(),
            kind: IdentityKind::User {
                tenant: TENANT.to_ascii_uppercase(),
                client_id: "c".into(),
                username: "dev".into(),
                object_id: String::new(),
                refresh_token: SecretSource::Keyring,
            },
            cloud: None,
        };
        assert_eq!(foreign_tenant(&user, None), None);
        assert_eq!(foreign_tenant(&user, Some(TENANT)), None);
        let other = "7c1e2d3f-0000-4000-8000-000000000003";
        assert_eq!(foreign_tenant(&user, Some(other)), Some(other));
    }
}
