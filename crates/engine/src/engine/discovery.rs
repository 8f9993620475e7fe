//! Discovery: the registries an identity can read through ARM, in every subscription it sees
//! (following `nextLink`) — for a person, in every tenant of their account (ARM lists a
//! tenant's subscriptions with a token of that tenant), grouped by tenant, a tenant that
//! cannot be listed named with why — and, for the registries already configured for it that
//! ARM does not show, why (docs/protocol.md#roles: AcrPull and AcrPush do not show registries
//! in ARM; adding them by name keeps working).

use serde::Serialize;

#[cfg(test)]
use ts_rs::TS;

use crate::azure::arm::{Arm, ArmRegistry};
use crate::azure::cloud::Audience;
use crate::engine::Engine;
use crate::engine::tenants::has_other_tenants;
use crate::error::{Error, ErrorKind, Result};
use crate::hint::Hint;
use crate::store::config::IdentityConfig;
use crate::store::state::State;

/// A registry found through ARM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct DiscoveredRegistry {
    /// Short name.
    pub name: String,
    /// `properties.loginServer` (always read from ARM, never built from the name).
    pub login_server: String,
    /// Subscription id.
    pub subscription: String,
    /// Resource group.
    pub resource_group: String,
    /// SKU name.
    pub sku: Option<String>,
    /// Whether the admin account is enabled, where readable.
    pub admin_user_enabled: Option<bool>,
    /// Whether the registry takes ARM-audience Entra tokens (`azureADAuthenticationAsArmPolicy`),
    /// where readable.
    pub arm_audience_accepted: Option<bool>,
    /// Already configured in ACR Tray.
    pub added: bool,
    /// The registry uses repository permissions (ABAC, `roleAssignmentMode`
    /// `AbacRepositoryPermissions`): AcrPull and AcrPush are not honoured there; absent for
    /// legacy registry permissions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(test, ts(as = "Option<bool>", optional))]
    pub repository_permissions: bool,
    /// The tenant (GUID) it was listed in, when the account has several (see
    /// [`Discovery::tenants`]); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub tenant: Option<String>,
}

/// One tenant of the account as discovery saw it: listed (its registries name it), or why
/// not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct DiscoveredTenant {
    /// The tenant's GUID.
    pub id: String,
    /// Its display name, else its default domain, else its GUID.
    pub name: String,
    /// Its default domain, when known.
    pub domain: Option<String>,
    /// The account's home tenant.
    pub home: bool,
    /// Why its registries could not be listed (it demands a sign-in to it, ARM refused, ...);
    /// the other tenants are listed all the same.
    pub error: Option<String>,
    /// The tenant demands a sign-in to it (MFA, Conditional Access).
    pub sign_in_required: bool,
    /// What to do about the error, for a shell to say in its own words (not serialized: a
    /// view says it in the shell's words).
    #[serde(skip)]
    #[cfg_attr(test, ts(skip))]
    pub hint: Option<Hint>,
    /// What kind of failure the error is (not serialized: a view switches on it).
    #[serde(skip)]
    #[cfg_attr(test, ts(skip))]
    pub error_kind: Option<ErrorKind>,
}

/// A configured registry that discovery does not list, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct UnlistedRegistry {
    /// Short name.
    pub name: String,
    /// Login server.
    pub login_server: String,
    /// Why it is not listed, and that it keeps working.
    pub reason: String,
}

/// What discovery found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct Discovery {
    /// The identity that looked.
    pub identity: String,
    /// The registries the identity can read, by name (each naming its tenant when the
    /// account has several).
    pub registries: Vec<DiscoveredRegistry>,
    /// The tenants of a person's account, home first, each listed or with why not; empty for
    /// an identity of one tenant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(test, ts(as = "Option<Vec<DiscoveredTenant>>", optional))]
    pub tenants: Vec<DiscoveredTenant>,
    /// Registries configured for this identity that ARM does not show it.
    pub unlisted: Vec<UnlistedRegistry>,
    /// Why the list may be incomplete.
    pub notice: Option<String>,
}

impl Engine {
    /// The registries `identity` can read through ARM.
    pub async fn discover(&self, identity: &str) -> Result<Discovery> {
        let config = self.settings().identity(identity)?.clone();
        let (listed, tenants) = if has_other_tenants(&config) {
            self.list_in_every_tenant(&config).await?
        } else {
            let listed = self.list_in_tenant(&config, None).await?;
            (listed.into_iter().map(|r| (None, r)).collect(), Vec::new())
        };
        let configured = &self.settings().registries;
        let is_added = |login_server: &str| {
            configured
                .iter()
                .any(|r| crate::azure::arm::same_login_server(login_server, &r.login_server))
        };
        let mut registries: Vec<DiscoveredRegistry> = listed
            .into_iter()
            .map(|(tenant, r)| {
                let (subscription, resource_group) = r.subscription_and_group();
                DiscoveredRegistry {
                    added: is_added(&r.properties.login_server),
                    repository_permissions: r.properties.role_assignment_mode().is_abac(),
                    arm_audience_accepted: r.properties.arm_audience_accepted(),
                    admin_user_enabled: Some(r.properties.admin_user_enabled),
                    name: r.name,
                    login_server: r.properties.login_server,
                    subscription,
                    resource_group,
                    sku: r.sku.map(|s| s.name),
                    tenant,
                }
            })
            .collect();
        registries.sort_by_key(|r| r.name.to_ascii_lowercase());

        let state = State::load(&self.paths.state_file());
        let unlisted: Vec<UnlistedRegistry> = configured
            .iter()
            .filter(|r| r.identity.as_deref() == Some(identity))
            .filter(|r| {
                !registries
                    .iter()
                    .any(|d| crate::azure::arm::same_login_server(&d.login_server, &r.login_server))
            })
            .map(|r| {
                let remembered = state.registries.get(&r.login_server.to_string());
                let role = remembered.and_then(|s| s.role);
                let mode = remembered
                    .and_then(|s| s.admin.as_ref())
                    .and_then(|a| a.role_assignment_mode);
                let can = match role {
                    Some(role) => format!(
                        "{identity} has {} there ({}), which does not show a registry in Azure Resource Manager",
                        role.name_in(mode),
                        role.can()
                    ),
                    None => format!("{identity} cannot read it in Azure Resource Manager"),
                };
                UnlistedRegistry {
                    name: r.name.clone(),
                    login_server: r.login_server.to_string(),
                    reason: format!(
                        "{can}; it was added by name and keeps working. Listing needs Reader (or more) on it."
                    ),
                }
            })
            .collect();
        let notice = registries.is_empty().then(|| no_arm_access(identity));
        Ok(Discovery {
            identity: identity.to_owned(),
            registries,
            tenants,
            unlisted,
            notice,
        })
    }
}

impl Engine {
    /// The registries `identity` reads through ARM in `tenant` (its own when `None`); none
    /// where it lacks the role to list.
    async fn list_in_tenant(
        &self,
        identity: &IdentityConfig,
        tenant: Option<&str>,
    ) -> Result<Vec<ArmRegistry>> {
        let token = self.entra_token_in(identity, tenant, Audience::Arm).await?;
        let http = &self.clients()?.http;
        let arm = Arm::new(http, &self.cloud().arm, &token.token, &identity.id);
        match arm.list_registries().await {
            Ok(listed) => Ok(listed),
            Err(e) if e.kind() == ErrorKind::Permission => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Every tenant of a person's account (listed anew: names and membership change), each
    /// listed with a token of that tenant, concurrently; a tenant that cannot be listed is
    /// named with why, the others are listed all the same. Each listed registry's tenant is
    /// remembered, so adding it later records it.
    async fn list_in_every_tenant(
        &self,
        identity: &IdentityConfig,
    ) -> Result<(Vec<(Option<String>, ArmRegistry)>, Vec<DiscoveredTenant>)> {
        self.list_account_tenants(identity).await?;
        let state = State::load(&self.paths.state_file());
        let known = self.account_tenants(identity, &state);
        let lists = futures::future::join_all(
            known
                .iter()
                .map(|t| self.list_in_tenant(identity, Some(&t.id))),
        )
        .await;
        let mut registries = Vec::new();
        let mut tenants = Vec::new();
        let mut seen = Vec::new();
        for (t, listed) in known.into_iter().zip(lists) {
            let (error, sign_in_required, hint, error_kind) = match listed {
                Ok(listed) => {
                    for r in listed {
                        seen.push((t.id.clone(), r.properties.login_server.clone()));
                        registries.push((Some(t.id.clone()), r));
                    }
                    (None, false, None, None)
                }
                Err(e) => {
                    tracing::warn!(identity = %identity.id, tenant = %t.id, error = %e, "cannot list the registries of a tenant");
                    let demands = matches!(e, Error::TenantSignInRequired { .. });
                    (Some(e.to_string()), demands, e.hint(), Some(e.kind()))
                }
            };
            tenants.push(DiscoveredTenant {
                name: t.name().to_owned(),
                domain: t.default_domain.clone(),
                home: t.home,
                id: t.id,
                error,
                sign_in_required,
                hint,
                error_kind,
            });
        }
        self.remember_discovered(identity, &seen);
        Ok((registries, tenants))
    }
}

fn no_arm_access(identity: &str) -> String {
    format!(
        "{identity} can list no registries through Azure Resource Manager. An identity with only \
         AcrPull or AcrPush can still use a registry: add it by name. Listing needs the Reader \
         role (or higher) on the registry, its resource group or subscription."
    )
}
