//! Test controls for non-secret credentials and tokens without a flow: certificates, federated
//! credentials, managed identities (IMDS), `issue_access_token`, and the ARM admin controls.

use std::sync::Arc;

use anyhow::Result;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::arm_admin::{new_password, password_index};
use crate::entra_tokens::{ACCESS_TOKEN_SECONDS, Grant, mint_access_token};
use crate::jwt::SigningKey;
use crate::state_auth::{CertificateCredential, FederatedRec, ManagedIdentity};
use crate::{FakeAzure, ServicePrincipal, Tenant, TokenAlgorithm, User, lock, x509};

/// Federated tokens from [`FakeAzure::issue_federated_token`] live one hour.
const FEDERATED_TOKEN_SECONDS: i64 = 3600;

/// Key generation and signing with a freshly generated key do not fail in practice; the test
/// controls return plain values and panic with the cause if they ever do.
fn infallible<T>(result: Result<T>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("fake-azure: {what}: {e:#}"),
    }
}

impl FakeAzure {
    /// A service principal (with a secret too) and a new RSA-2048 certificate credential.
    pub fn add_service_principal_with_certificate(
        &self,
        tenant: &Tenant,
    ) -> (ServicePrincipal, CertificateCredential) {
        let sp = self.add_service_principal(tenant);
        let (credential, record) = infallible(
            x509::generate_client_certificate(&sp.client_id),
            "generating a client certificate",
        );
        lock(&self.inner.shared.dir).auth.certificates.push(record);
        (sp, credential)
    }

    /// Registers a certificate (PEM; RSA key) the test made for an app (service principal).
    pub fn add_certificate(&self, client_id: &str, cert_pem: &str) -> Result<()> {
        let record = x509::cert_record(client_id, cert_pem)?;
        lock(&self.inner.shared.dir).auth.certificates.push(record);
        Ok(())
    }

    /// A federated identity credential: the app (or managed identity) `client_id` trusts tokens
    /// of `issuer` (exact string) with subject `subject` (case-sensitive) and audience
    /// `api://AzureADTokenExchange`.
    pub fn add_federated_credential(&self, client_id: &str, issuer: &str, subject: &str) {
        lock(&self.inner.shared.dir)
            .auth
            .federated
            .push(FederatedRec {
                client_id: client_id.to_owned(),
                issuer: issuer.to_owned(),
                subject: subject.to_owned(),
            });
    }

    /// A JWT from the external OIDC issuer `issuer` (e.g. a Kubernetes service-account issuer),
    /// signed by a key the fake holds for it: `iss`, `sub`, `aud`, `iat`, `nbf`, `exp` (+1 h on
    /// the fake clock), `jti`.
    pub fn issue_federated_token(&self, issuer: &str, subject: &str, audience: &str) -> String {
        let shared = &self.inner.shared;
        let existing = lock(&shared.issuers).get(issuer).cloned();
        let key = match existing {
            Some(key) => key,
            None => {
                let key = infallible(
                    SigningKey::generate(issuer, TokenAlgorithm::Rs256),
                    "generating an issuer key",
                );
                let key = Arc::new(key);
                lock(&shared.issuers)
                    .entry(issuer.to_owned())
                    .or_insert(key)
                    .clone()
            }
        };
        let iat = shared.now().timestamp();
        let claims = json!({
            "aud": [audience],
            "exp": iat + FEDERATED_TOKEN_SECONDS,
            "iat": iat,
            "iss": issuer,
            "jti": Uuid::new_v4().to_string(),
            "nbf": iat,
            "sub": subject,
        });
        infallible(key.sign_entra(&claims), "signing a federated token")
    }

    /// A new user-assigned managed identity attached to the "VM" that IMDS serves.
    pub fn add_managed_identity(&self, tenant: &Tenant) -> ManagedIdentity {
        let sub = self.default_subscription(tenant);
        let mut dir = lock(&self.inner.shared.dir);
        let n = dir.auth.all_identities.len() + 1;
        let mi = ManagedIdentity {
            tenant: tenant.id.clone(),
            client_id: Uuid::new_v4().to_string(),
            object_id: Uuid::new_v4().to_string(),
            resource_id: format!(
                "/subscriptions/{}/resourcegroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi-{n}",
                sub.id
            ),
        };
        dir.auth.managed_identities.push(mi.clone());
        dir.auth.all_identities.push(mi.clone());
        mi
    }

    /// The VM's system-assigned identity (IMDS uses it when no selector is given); an identity
    /// from [`Self::add_managed_identity`] stops being user-assigned. `None` removes it.
    pub fn set_system_assigned_identity(&self, identity: Option<ManagedIdentity>) {
        let mut dir = lock(&self.inner.shared.dir);
        if let Some(mi) = &identity {
            dir.auth
                .managed_identities
                .retain(|m| m.object_id != mi.object_id);
            if !dir
                .auth
                .all_identities
                .iter()
                .any(|m| m.object_id == mi.object_id)
            {
                dir.auth.all_identities.push(mi.clone());
            }
        }
        dir.auth.system_identity = identity;
    }

    /// `http://127.0.0.1:PORT` of the IMDS listener (plain HTTP; no trailing slash).
    pub fn imds_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.inner.shared.imds_port)
    }

    /// A valid Entra v1 access token for any principal (user, guest account, service principal,
    /// managed identity; else an app token with `oid` = `object_id`) in tenant `tenant` (GUID),
    /// for `resource`
    /// (a `/.default` suffix is dropped), living 3599 s — what `az account get-access-token`
    /// hands out. Returns the JWT and its expiry.
    pub fn issue_access_token(
        &self,
        object_id: &str,
        tenant: &str,
        resource: &str,
    ) -> (String, DateTime<Utc>) {
        let shared = &self.inner.shared;
        let grant = {
            let dir = lock(&shared.dir);
            let app =
                |client_id: &str, mi: Option<&ManagedIdentity>, acr: &'static str| Grant::App {
                    principal: ServicePrincipal {
                        tenant: tenant.to_owned(),
                        client_id: client_id.to_owned(),
                        object_id: object_id.to_owned(),
                        secret: String::new(),
                    },
                    appidacr: acr,
                    mi_resource_id: mi.map(|m| m.resource_id.clone()),
                };
            if let Some(home) = dir.home_user(object_id).cloned() {
                let path = crate::entra::TenantPath::Id(tenant.to_owned());
                let user = dir.user_in_tenant(&home, &path).unwrap_or_else(|| User {
                    tenant: tenant.to_owned(),
                    ..home.clone()
                });
                Grant::User {
                    user,
                    home,
                    client_id: crate::AZURE_CLI_CLIENT_ID.to_owned(),
                }
            } else if let Some(sp) = dir.principals.iter().find(|p| p.object_id == object_id) {
                app(&sp.client_id, None, "1")
            } else if let Some(mi) = dir
                .auth
                .all_identities
                .iter()
                .find(|m| m.object_id == object_id)
            {
                app(&mi.client_id, Some(mi), "2")
            } else {
                app(object_id, None, "1")
            }
        };
        let resource = resource.strip_suffix("/.default").unwrap_or(resource);
        let (token, exp) = infallible(
            mint_access_token(shared, &grant, resource, ACCESS_TOKEN_SECONDS),
            "signing an access token",
        );
        let expires = DateTime::<Utc>::from_timestamp(exp, 0)
            .unwrap_or_else(|| shared.now() + TimeDelta::seconds(ACCESS_TOKEN_SECONDS));
        (token, expires)
    }

    /// PATCH of a registry answers 201 + `Azure-AsyncOperation` (polled: `InProgress`, then
    /// `Succeeded`) instead of 200.
    pub fn set_arm_patch_async(&self, asynchronous: bool) {
        lock(&self.inner.shared.dir).auth.arm_patch_async = asynchronous;
    }

    /// Makes ARM's `nextLink`s and `Azure-AsyncOperation` URLs point at `base` (e.g.
    /// `https://elsewhere.localhost:PORT/`) instead of the ARM endpoint, as a misbehaving or
    /// hostile ARM would; `None` restores them.
    pub fn set_arm_link_base(&self, base: Option<&str>) {
        lock(&self.inner.shared.dir).auth.arm_link_base = base.map(str::to_owned);
    }

    /// Regenerates admin password `which` (`"password"` or `"password2"`) as ARM
    /// `regenerateCredential` does; returns the new value (`None`: no such registry/name).
    pub fn regenerate_admin_password(&self, registry_name: &str, which: &str) -> Option<String> {
        let index = password_index(which)?;
        let mut dir = lock(&self.inner.shared.dir);
        let rec = dir
            .registries
            .get_mut(&registry_name.to_ascii_lowercase())?;
        rec.passwords[index] = new_password();
        Some(rec.passwords[index].clone())
    }
}
