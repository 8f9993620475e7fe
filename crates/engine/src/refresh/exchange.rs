//! One registry's credential by its sign-in mode: an Entra identity's token exchanged at
//! `/oauth2/exchange` with audience negotiation, or the admin account (through ARM or a stored
//! password).

use super::Refreshed;
use crate::azure::acr::{self, Exchange};
use crate::azure::arm::Arm;
use crate::azure::cloud::Audience;
use crate::docker::{DockerCredential, EntryForm, ZERO_GUID};
use crate::engine::tenants::has_other_tenants;
use crate::engine::{Engine, is_unknown_resource};
use crate::error::{Error, ErrorKind, Result};
use crate::hint::{Action, Hint, SignInAs};
use crate::store::config::{IdentityConfig, RegistryAuth, RegistryConfig};
use crate::store::secrets;

impl Engine {
    pub(crate) fn identity_of(&self, reg: &RegistryConfig) -> Result<&IdentityConfig> {
        let id = reg.identity.as_deref().unwrap_or_default();
        self.settings
            .identity(id)
            .map_err(|_| Error::SecretUnavailable {
                identity: id.to_owned(),
                detail: "it is not signed in".to_owned(),
                hint: Hint::text(format!("sign {id} in again with "))
                    .with(Action::sign_in(id))
                    .then(format!(", or give {} another identity with ", reg.name))
                    .with(Action::registry_to_identity(&reg.name)),
            })
    }

    /// One registry's credential, by its sign-in mode.
    pub(super) async fn refresh_one(
        &self,
        reg: &RegistryConfig,
        remembered: Option<Audience>,
    ) -> Result<(Refreshed, DockerCredential)> {
        // Checked before any request: a host outside the allow-list never sees a request.
        self.allow_list().check(reg.login_server.host())?;
        let admin = |username: String, secret| DockerCredential {
            username,
            secret,
            form: EntryForm::Password,
        };
        let no_expiry = Refreshed {
            audience: None,
            expires_at: None,
            role: None,
        };
        match reg.auth {
            RegistryAuth::Identity => self.exchange_for(reg, remembered).await,
            RegistryAuth::AdminArm => {
                let creds = self.admin_credentials(reg).await?;
                let (_, password) =
                    creds
                        .passwords
                        .into_iter()
                        .next()
                        .ok_or_else(|| Error::Registry {
                            registry: reg.login_server.to_string(),
                            message: "ARM returned no admin password".to_owned(),
                            kind: ErrorKind::Transient,
                            hint: Hint::none(),
                        })?;
                Ok((no_expiry, admin(creds.username, password)))
            }
            RegistryAuth::AdminPassword => {
                let username = reg.admin_username.clone().unwrap_or_default();
                let key = secrets::admin_password_key(&reg.login_server.to_string());
                let password = self
                    .read_secret(
                        &username,
                        &crate::store::config::SecretSource::Keyring,
                        &key,
                    )
                    .await
                    .map_err(|e| {
                        e.with_secret_hint(|| {
                            Hint::text("add it again with ").with(Action::ChangeRegistrySignIn {
                                registry: reg.name.clone(),
                                to: SignInAs::Admin {
                                    username: username.clone(),
                                },
                            })
                        })
                    })?;
                Ok((no_expiry, admin(username, password)))
            }
            RegistryAuth::AcrToken => {
                let (token, password) = self.acr_token_credential(reg).await?;
                Ok((no_expiry, admin(token, password)))
            }
        }
    }

    /// The admin account's credentials through ARM `listCredentials`.
    pub(crate) async fn admin_credentials(
        &self,
        reg: &RegistryConfig,
    ) -> Result<crate::azure::arm::AdminCredentials> {
        let identity = self.identity_of(reg)?;
        let tenant = self.registry_tenant(reg);
        let token = self
            .entra_token_in(identity, tenant.as_deref(), Audience::Arm)
            .await?;
        let http = &self.clients()?.http;
        let arm = Arm::new(http, &self.cloud.arm, &token.token, &identity.id);
        let id = match &reg.arm_id {
            Some(id) => id.clone(),
            None => {
                arm.find_registry(&reg.login_server)
                    .await?
                    .ok_or_else(|| not_visible(reg, &identity.id))?
                    .id
            }
        };
        arm.list_credentials(&id).await
    }

    /// Challenge, then Entra token (at the registry's tenant) and exchange per audience until
    /// one works. A registry of a person's account whose tenant is not known, and that refuses
    /// the home tenant's tokens, is tried once in each other tenant of the account; the one
    /// that works is remembered.
    async fn exchange_for(
        &self,
        reg: &RegistryConfig,
        remembered: Option<Audience>,
    ) -> Result<(Refreshed, DockerCredential)> {
        let identity = self.identity_of(reg)?;
        let allow = self.allow_list();
        let http = &self.clients()?.http;
        let challenge = acr::challenge(http, &reg.login_server, &allow).await?;
        let tenant = self.registry_tenant(reg);
        let at_home = self
            .exchange_at(reg, identity, &challenge, tenant.as_deref(), remembered)
            .await;
        match at_home {
            Err(refused @ Error::NoRole { .. })
                if tenant.is_none() && has_other_tenants(identity) =>
            {
                self.find_tenant(reg, identity, &challenge, remembered, refused)
                    .await
            }
            other => other,
        }
    }

    /// Tries the registry once in each other tenant of the account (as ARM listed them at
    /// sign-in or discovery, else as it lists them now), after
    /// the home tenant's tokens were refused (`refused`): the first tenant whose token the
    /// registry takes is remembered and said in the log. Other failures stop the trial.
    async fn find_tenant(
        &self,
        reg: &RegistryConfig,
        identity: &IdentityConfig,
        challenge: &acr::Challenge,
        remembered: Option<Audience>,
        refused: Error,
    ) -> Result<(Refreshed, DockerCredential)> {
        let home = identity
            .kind
            .tenant()
            .unwrap_or_default()
            .to_ascii_lowercase();
        // The tenants as listed at sign-in or discovery; ARM is asked only when none are known.
        let state = crate::store::state::State::load(&self.paths.state_file());
        let mut tenants: Vec<(String, String)> = self
            .account_tenants(identity, &state)
            .into_iter()
            .map(|t| (t.name().to_owned(), t.id))
            .collect();
        if tenants.is_empty() {
            tenants = match self.list_account_tenants(identity).await {
                Ok(listed) => listed
                    .into_iter()
                    .map(|t| {
                        let name = t.display_name.unwrap_or_else(|| t.tenant_id.clone());
                        (name, t.tenant_id)
                    })
                    .collect(),
                Err(e) => {
                    tracing::warn!(registry = %reg.login_server, error = %e, "cannot list the account's tenants to find the registry's");
                    return Err(refused);
                }
            };
        }
        let mut tried: Vec<String> = Vec::new();
        for (name, id) in tenants.iter().filter(|(_, id)| *id != home) {
            match self
                .exchange_at(reg, identity, challenge, Some(id), remembered)
                .await
            {
                Ok(done) => {
                    tracing::info!(registry = %reg.login_server, tenant = %id, tenant_name = %name, "found the registry's tenant by trying the account's tenants; remembered");
                    self.remember_registry_tenant(reg, id);
                    return Ok(done);
                }
                Err(Error::NoRole { .. }) => tried.push(format!("{name} (refused)")),
                Err(e @ Error::TenantSignInRequired { .. }) => {
                    tried.push(format!("{name} (demands a sign-in to it: {e})"))
                }
                Err(e) => return Err(e),
            }
        }
        // The refusal, naming the tenants tried: still a refusal (what the identity may do
        // there is recorded, and a registry with repository permissions says so).
        let mut refused = refused;
        if let Error::NoRole { tried_tenants, .. } = &mut refused {
            *tried_tenants = tried;
        }
        Err(refused)
    }

    /// Entra token at `tenant` (the identity's own when `None`) and exchange, per audience
    /// until one works.
    async fn exchange_at(
        &self,
        reg: &RegistryConfig,
        identity: &IdentityConfig,
        challenge: &acr::Challenge,
        tenant: Option<&str>,
        remembered: Option<Audience>,
    ) -> Result<(Refreshed, DockerCredential)> {
        let http = &self.clients()?.http;
        let first = remembered.unwrap_or(Audience::Acr);
        let audiences: &[Audience] = if self.acr_audience_only(reg) {
            &[Audience::Acr]
        } else {
            &[first, first.other()]
        };
        let mut unmintable: Option<Error> = None;
        let mut refused: Vec<(Audience, String)> = Vec::new();
        for &audience in audiences {
            let token = match self.entra_token_in(identity, tenant, audience).await {
                Ok(t) => t,
                Err(e) if is_unknown_resource(&e) => {
                    unmintable = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            // The exchange names the tenant of the token (ACR takes only its own tenant's).
            let token_tenant = token
                .tenant_id
                .clone()
                .or_else(|| tenant.map(str::to_owned))
                .or_else(|| identity.kind.tenant().map(str::to_owned))
                .unwrap_or_default();
            let registry = reg.login_server.to_string();
            match acr::exchange(http, &registry, challenge, &token_tenant, &token.token).await? {
                Exchange::Issued(rt) => {
                    let cred = DockerCredential {
                        username: ZERO_GUID.to_owned(),
                        secret: rt.token,
                        form: self.settings.docker.entry_form,
                    };
                    let refreshed = Refreshed {
                        audience: Some(audience),
                        expires_at: rt.expires_at,
                        role: rt.role,
                    };
                    return Ok((refreshed, cred));
                }
                Exchange::Refused { message } => refused.push((audience, message)),
            }
        }
        Err(explain_refusal(reg, identity, unmintable, &refused))
    }

    /// Whether a registry gets ACR-audience tokens only: one outside the cloud's ACR suffix (a
    /// custom domain the user trusted). An ARM-audience token is good at Azure Resource
    /// Manager too, as the identity; a host that is not the cloud's own must never hold one.
    pub(crate) fn acr_audience_only(&self, reg: &RegistryConfig) -> bool {
        reg.trusted_custom_domain || !reg.login_server.is_under(&self.cloud.acr_suffix)
    }
}

fn not_visible(reg: &RegistryConfig, identity: &str) -> Error {
    Error::Registry {
        registry: reg.login_server.to_string(),
        message: format!(
            "{identity} cannot see this registry in ARM (it needs Reader or more on it; AcrPull alone does not show registries)"
        ),
        kind: ErrorKind::Permission,
        hint: "reading admin credentials needs Contributor or Owner on the registry".into(),
    }
}

/// Why no audience worked, in the user's terms.
fn explain_refusal(
    reg: &RegistryConfig,
    identity: &IdentityConfig,
    unmintable: Option<Error>,
    refused: &[(Audience, String)],
) -> Error {
    let registry = reg.login_server.to_string();
    match (unmintable, refused) {
        (Some(entra_err), [(Audience::Arm, _)]) => Error::Registry {
            registry,
            message: format!(
                "the registry refused the ARM-audience token, and Entra ID cannot issue ACR-audience tokens here ({entra_err}); either {} has no role on it, or it accepts only ACR-audience tokens (authentication-as-arm disabled)",
                identity.id
            ),
            kind: ErrorKind::Permission,
            hint: Hint::text(format!(
                "assign AcrPull or AcrPush on the registry to {}; if that is done, enable ARM-audience tokens with ",
                identity.id
            ))
            .with(Action::shell(format!(
                "az acr config authentication-as-arm update -r {} --status enabled",
                reg.name
            ))),
        },
        (Some(entra_err), []) if reg.trusted_custom_domain => Error::Registry {
            registry,
            message: format!(
                "Entra ID cannot issue ACR-audience tokens here ({entra_err}), and a registry on a custom domain is never sent an ARM-audience token (it is good at Azure Resource Manager too)"
            ),
            kind: ErrorKind::Configuration,
            hint: Hint::text("add the registry by its own login server (under the cloud's ACR suffix, see ")
                .with(Action::ShowCloud)
                .then(") instead of the custom domain"),
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
                repository_permissions: None,
                tried_tenants: Vec::new(),
            }
        }
    }
}
