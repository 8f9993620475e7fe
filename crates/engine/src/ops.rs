//! Changes to the settings that the CLI and the settings window both make: sign in and out,
//! add and remove registries, choose the cloud. Each validates first and saves atomically, so a
//! failed operation changes nothing.

use std::path::PathBuf;

use crate::cloud::{Cloud, CloudName, CloudSettings};
use crate::config::{IdentityConfig, IdentityKind, RegistryConfig, SecretSource, Settings};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::login_server::resolve_registry;
use crate::secret::Secret;
use crate::secrets;

/// Where `login --service-principal` keeps the client secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretStorage {
    /// The OS keyring (default).
    Keyring,
    /// Nowhere: `AZURE_CLIENT_SECRET` is read at run time.
    Env,
    /// A user-only file at this path.
    File(PathBuf),
}

/// A service principal sign-in request.
#[derive(Debug, Clone)]
pub struct ServicePrincipalLogin {
    /// Tenant GUID or domain.
    pub tenant: String,
    /// Application (client) id.
    pub client_id: String,
    /// The client secret.
    pub secret: Secret,
    /// Where to keep it.
    pub storage: SecretStorage,
}

impl Engine {
    /// Signs a service principal in: the secret is checked against Entra ID first, then stored,
    /// then the identity is saved. A wrong secret changes nothing.
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
                "give the tenant's GUID or domain with --tenant",
            ));
        }
        if login.secret.is_empty() {
            return Err(Error::invalid_input(
                "the client secret is empty",
                "pipe the secret into --secret-stdin, e.g. `printf %s \"$SECRET\" | acr-tray-cli login ...`",
            ));
        }
        let client_id = login.client_id.to_ascii_lowercase();
        self.check_client_secret(&tenant, &client_id, &login.secret)
            .await?;
        let source = match &login.storage {
            SecretStorage::Keyring => {
                let key = secrets::client_secret_key(&tenant, &client_id);
                self.secret_store().set(&key, &login.secret)?;
                SecretSource::Keyring
            }
            SecretStorage::Env => SecretSource::Env,
            SecretStorage::File(path) => {
                secrets::write_secret_file(path, &login.secret)?;
                SecretSource::File(path.clone())
            }
        };
        let identity = IdentityConfig {
            id: client_id.clone(),
            kind: IdentityKind::ServicePrincipal {
                tenant,
                client_id,
                secret: source,
            },
        };
        self.update_settings(|s| {
            s.identities
                .retain(|i| !i.id.eq_ignore_ascii_case(&identity.id));
            s.identities.push(identity.clone());
            Ok(())
        })?;
        Ok(identity)
    }

    /// Signs identities out (all when `id` is `None`): forgets their secrets and tokens. Returns
    /// the identities removed. Registries that used them stay configured.
    pub fn logout(&mut self, id: Option<&str>) -> Result<Vec<IdentityConfig>> {
        let removed: Vec<IdentityConfig> = match id {
            Some(id) => vec![self.settings().identity(id)?.clone()],
            None => self.settings().identities.clone(),
        };
        for identity in &removed {
            let IdentityKind::ServicePrincipal {
                tenant,
                client_id,
                secret,
            } = &identity.kind;
            if *secret == SecretSource::Keyring {
                self.secret_store()
                    .delete(&secrets::client_secret_key(tenant, client_id))?;
            }
            self.forget_tokens(&identity.id);
        }
        self.update_settings(|s| {
            s.identities
                .retain(|i| !removed.iter().any(|r| r.id == i.id));
            Ok(())
        })?;
        Ok(removed)
    }

    /// Adds (or updates) a registry. A host outside the cloud's ACR suffix is refused unless
    /// `trust_custom_domain` is set.
    pub fn add_registry(
        &mut self,
        name_or_login_server: &str,
        identity: Option<&str>,
        trust_custom_domain: bool,
    ) -> Result<RegistryConfig> {
        let address = resolve_registry(
            name_or_login_server,
            &self.cloud().acr_suffix,
            trust_custom_domain,
        )?;
        let identity = match identity {
            Some(id) => self.settings().identity(id)?.id.clone(),
            None => match self.settings().identities.as_slice() {
                [only] => only.id.clone(),
                [] => {
                    return Err(Error::invalid_input(
                        "no identity is signed in",
                        "sign in first with `acr-tray-cli login ...`",
                    ));
                }
                many => {
                    let ids: Vec<&str> = many.iter().map(|i| i.id.as_str()).collect();
                    return Err(Error::invalid_input(
                        "several identities are signed in",
                        format!("choose one with --identity ({})", ids.join(", ")),
                    ));
                }
            },
        };
        let registry = RegistryConfig {
            name: address.name,
            login_server: address.login_server,
            identity,
            trusted_custom_domain: address.custom_domain,
        };
        self.update_settings(|s| {
            s.registries
                .retain(|r| r.login_server != registry.login_server && r.name != registry.name);
            s.registries.push(registry.clone());
            Ok(())
        })?;
        Ok(registry)
    }

    /// Removes a registry by name or login server. Docker's entry is left as it is.
    pub fn remove_registry(&mut self, name: &str) -> Result<RegistryConfig> {
        let registry = self.settings().registry(name)?.clone();
        self.update_settings(|s| {
            s.registries
                .retain(|r| r.login_server != registry.login_server);
            Ok(())
        })?;
        Ok(registry)
    }

    /// Chooses the cloud. Fails (changing nothing) when the endpoints are not usable.
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
        self.update_settings(|s| {
            s.cloud = cloud.clone();
            Ok(())
        })?;
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

/// Whether a cloud name needs custom endpoints.
pub fn is_custom(name: CloudName) -> bool {
    name == CloudName::Custom
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
