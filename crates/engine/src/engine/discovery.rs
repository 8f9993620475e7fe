//! Discovery: the registries an identity can read through ARM, in every subscription it sees
//! (following `nextLink`), and — for the registries already configured for it that ARM does not
//! show — why (docs/protocol.md#roles: AcrPull and AcrPush do not show registries in ARM;
//! adding them by name keeps working).

use serde::Serialize;

#[cfg(test)]
use ts_rs::TS;

use crate::azure::arm::Arm;
use crate::azure::cloud::Audience;
use crate::engine::Engine;
use crate::error::{ErrorKind, Result};
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
    /// The registries the identity can read, by name.
    pub registries: Vec<DiscoveredRegistry>,
    /// Registries configured for this identity that ARM does not show it.
    pub unlisted: Vec<UnlistedRegistry>,
    /// Why the list may be incomplete.
    pub notice: Option<String>,
}

impl Engine {
    /// The registries `identity` can read through ARM.
    pub async fn discover(&self, identity: &str) -> Result<Discovery> {
        let config = self.settings().identity(identity)?.clone();
        let token = self.entra_token(&config, Audience::Arm).await?;
        let http = &self.clients()?.http;
        let arm = Arm::new(http, &self.cloud().arm, &token.token, &config.id);
        let listed = match arm.list_registries().await {
            Ok(listed) => listed,
            Err(e) if e.kind() == ErrorKind::Permission => Vec::new(),
            Err(e) => return Err(e),
        };
        let configured = &self.settings().registries;
        let is_added = |login_server: &str| {
            configured
                .iter()
                .any(|r| crate::azure::arm::same_login_server(login_server, &r.login_server))
        };
        let mut registries: Vec<DiscoveredRegistry> = listed
            .into_iter()
            .map(|r| {
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
            unlisted,
            notice,
        })
    }
}

fn no_arm_access(identity: &str) -> String {
    format!(
        "{identity} can list no registries through Azure Resource Manager. An identity with only \
         AcrPull or AcrPush can still use a registry: add it by name. Listing needs the Reader \
         role (or higher) on the registry, its resource group or subscription."
    )
}
