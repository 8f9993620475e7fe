//! The tenants of a person's account: listed through ARM (`/tenants`) with a home-tenant token
//! and remembered in the state (names and what each demands), so views name them without
//! asking ARM; a registry's tenant (configured, or found by trying the account's tenants) and
//! how it is remembered.

use serde::Serialize;

use super::Engine;
use crate::azure::arm::{Arm, ArmTenant};
use crate::azure::cloud::Audience;
use crate::azure::resource_id::is_tenant_id;
use crate::error::Result;
use crate::store::config::{IdentityConfig, IdentityKind, RegistryConfig, Settings};
use crate::store::secrets;
use crate::store::state::{State, StoredError, TenantState};

/// One tenant of an account, for views.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountTenant {
    /// The tenant's GUID.
    pub id: String,
    /// Its display name, as ARM said.
    pub display_name: Option<String>,
    /// Its default domain, as ARM said.
    pub default_domain: Option<String>,
    /// The account's own (home) tenant.
    pub home: bool,
    /// Set when this tenant demands a sign-in to it (MFA, Conditional Access).
    pub sign_in_required: Option<StoredError>,
}

impl AccountTenant {
    /// How the tenant is named to the user: its display name, else its domain, else its GUID.
    pub fn name(&self) -> &str {
        self.display_name
            .as_deref()
            .or(self.default_domain.as_deref())
            .unwrap_or(&self.id)
    }
}

impl Engine {
    /// The tenants of `identity`'s account as ARM lists them now (a person's home tenant and
    /// the tenants where they are a guest; an app's own tenant), remembered in the state: each
    /// tenant's names are updated and what it demands is kept.
    pub async fn list_account_tenants(&self, identity: &IdentityConfig) -> Result<Vec<ArmTenant>> {
        let token = self.entra_token(identity, Audience::Arm).await?;
        let http = &self.clients()?.http;
        let arm = Arm::new(http, &self.cloud.arm, &token.token, &identity.id);
        let listed = arm.list_tenants().await?;
        self.remember_tenants(identity, &listed);
        Ok(listed)
    }

    /// Keeps the tenants ARM listed in the state: names updated, each tenant's demand kept,
    /// tenants no longer listed dropped.
    fn remember_tenants(&self, identity: &IdentityConfig, listed: &[ArmTenant]) {
        let path = self.paths.state_file();
        let mut state = State::load(&path);
        let entry = state.identities.entry(identity.id.clone()).or_default();
        let mut kept = std::collections::BTreeMap::new();
        for t in listed {
            let mut s: TenantState = entry.tenants.remove(&t.tenant_id).unwrap_or_default();
            s.display_name.clone_from(&t.display_name);
            s.default_domain.clone_from(&t.default_domain);
            kept.insert(t.tenant_id.clone(), s);
        }
        entry.tenants = kept;
        if let Err(e) = state.save(&path) {
            tracing::warn!(error = %e, "could not save the state");
        }
    }

    /// How the user knows tenant `tenant` of `identity`'s account (display name or domain),
    /// when it was listed.
    pub(crate) fn tenant_name(&self, identity: &str, tenant: &str) -> Option<String> {
        let state = State::load(&self.paths.state_file());
        let t = state
            .identities
            .get(identity)?
            .tenants
            .get(&tenant.to_ascii_lowercase())?;
        t.display_name.clone().or_else(|| t.default_domain.clone())
    }

    /// The tenants of `identity`'s account as last listed (the home tenant first).
    pub fn account_tenants(&self, identity: &IdentityConfig, state: &State) -> Vec<AccountTenant> {
        let home = identity.kind.tenant().map(str::to_ascii_lowercase);
        let mut out: Vec<AccountTenant> = state
            .identities
            .get(&identity.id)
            .map(|s| {
                s.tenants
                    .iter()
                    // state.json is a file: only a GUID is taken as a tenant (it goes into
                    // token URLs and file names).
                    .filter(|(id, _)| is_tenant_id(id))
                    .map(|(id, t)| AccountTenant {
                        id: id.clone(),
                        display_name: t.display_name.clone(),
                        default_domain: t.default_domain.clone(),
                        home: home.as_deref() == Some(id.as_str()),
                        sign_in_required: t.sign_in_required.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by(|a, b| (!a.home, a.name()).cmp(&(!b.home, b.name())));
        out
    }

    /// Remembers where discovery listed each registry (`(tenant, login server)`), replacing
    /// what the listed tenants held before.
    pub(crate) fn remember_discovered(&self, identity: &IdentityConfig, seen: &[(String, String)]) {
        const MAX_PER_TENANT: usize = 2000;
        let path = self.paths.state_file();
        let mut state = State::load(&path);
        let entry = state.identities.entry(identity.id.clone()).or_default();
        for tenant in entry.tenants.values_mut() {
            tenant.registries.clear();
        }
        for (tenant, login_server) in seen {
            if let Some(t) = entry.tenants.get_mut(tenant)
                && t.registries.len() < MAX_PER_TENANT
            {
                t.registries.insert(login_server.to_ascii_lowercase());
            }
        }
        if let Err(e) = state.save(&path) {
            tracing::warn!(error = %e, "could not save the state");
        }
    }

    /// The tenant discovery last listed `reg` in, when it is not its identity's own.
    pub(crate) fn discovered_tenant(&self, reg: &RegistryConfig) -> Option<String> {
        let identity = self.settings.identity(reg.identity.as_deref()?).ok()?;
        let home = identity.kind.tenant().map(str::to_ascii_lowercase);
        let state = State::load(&self.paths.state_file());
        let login_server = reg.login_server.to_string().to_ascii_lowercase();
        state
            .identities
            .get(&identity.id)?
            .tenants
            .iter()
            .find(|(_, t)| t.registries.contains(&login_server))
            .map(|(id, _)| id.clone())
            .filter(|id| home.as_deref() != Some(id.as_str()))
    }

    /// A registry's tenant and its name, where it is worth naming: the registry is in another
    /// tenant than its identity's own, or the identity's account has several tenants.
    pub(crate) fn tenant_of(
        &self,
        reg: &RegistryConfig,
        state: &State,
    ) -> (Option<String>, Option<String>) {
        let Some(identity) = reg.identity.as_deref() else {
            return (None, None);
        };
        let home = self
            .settings
            .identity(identity)
            .ok()
            .and_then(|i| i.kind.tenant().map(str::to_ascii_lowercase));
        let known = state.identities.get(identity).map(|s| &s.tenants);
        let several = known.is_some_and(|t| t.len() > 1);
        let tenant = match self.registry_tenant(reg) {
            Some(t) => Some(t.to_ascii_lowercase()),
            None if several => home,
            None => None,
        };
        let name = tenant.as_ref().and_then(|t| {
            let s = known?.get(t)?;
            s.display_name.clone().or_else(|| s.default_domain.clone())
        });
        (tenant, name)
    }

    /// A registry's tenant when it is not its identity's own: configured, or found by trying
    /// the account's tenants in this run.
    pub(crate) fn registry_tenant(&self, reg: &RegistryConfig) -> Option<String> {
        reg.tenant.clone().or_else(|| {
            self.found_tenants
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&reg.login_server.to_string())
                .cloned()
        })
    }

    /// Remembers the tenant found for a registry: for this run, and in the settings (it is not
    /// a secret), so the next runs ask that tenant directly.
    pub(crate) fn remember_registry_tenant(&self, reg: &RegistryConfig, tenant: &str) {
        let key = reg.login_server.to_string();
        self.found_tenants
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, tenant.to_owned());
        let path = self.paths.config_file();
        let saved = Settings::load(&path).and_then(|mut settings| {
            for r in settings
                .registries
                .iter_mut()
                .filter(|r| r.login_server == reg.login_server && r.identity == reg.identity)
            {
                r.tenant = Some(tenant.to_owned());
            }
            settings.save(&path)
        });
        if let Err(e) = saved {
            tracing::warn!(registry = %reg.login_server, error = %e, "could not record the registry's tenant");
        }
    }
}

impl Engine {
    /// A person signed in at `tenant`, one tenant of their account (`account`, signed in at
    /// home): the refresh token of that sign-in is kept for that tenant (it meets what the
    /// tenant demands) and used there from now on; the tenant's "sign-in required" is cleared.
    pub(crate) async fn signed_in_to_tenant(
        &mut self,
        account: IdentityConfig,
        tenant: &str,
        refresh_token: crate::secret::Secret,
    ) -> Result<IdentityConfig> {
        let IdentityKind::User {
            refresh_token: store,
            ..
        } = &account.kind
        else {
            return Err(crate::error::Error::invalid_input(
                format!("{} is not a person's account", account.id),
                "",
            ));
        };
        if !is_tenant_id(tenant) {
            return Err(crate::error::Error::invalid_input(
                format!("Entra ID named the tenant {tenant:?}, which is not a tenant id"),
                "",
            ));
        }
        let tenant = tenant.to_ascii_lowercase();
        let key =
            secrets::tenant_refresh_token_key(&self.cloud.authority_id(), &account.id, &tenant);
        let store = secrets::tenant_refresh_token_source(store, &tenant);
        self.write_secret(&store, &key, refresh_token).await?;
        self.tokens.forget_tenant(&account.id, &tenant);
        let path = self.paths.state_file();
        let mut state = State::load(&path);
        let entry = state.identities.entry(account.id.clone()).or_default();
        entry
            .tenants
            .entry(tenant.clone())
            .or_default()
            .sign_in_required = None;
        if let Err(e) = state.save(&path) {
            tracing::warn!(error = %e, "could not save the state");
        }
        tracing::info!(identity = %account.id, tenant = %tenant, "signed in to one tenant of the account");
        self.emit(crate::events::Event::SignedIn {
            identity: account.id.clone(),
        });
        Ok(account)
    }

    /// After a person's sign-in: the account's tenants, listed with the sign-in's own ARM
    /// token (best effort: a failure is logged, the sign-in stands).
    pub(crate) async fn remember_tenants_after_sign_in(
        &self,
        identity: &IdentityConfig,
        arm_token: &crate::secret::Secret,
    ) {
        let Ok(clients) = self.clients() else {
            return;
        };
        let arm = Arm::new(&clients.http, &self.cloud.arm, arm_token, &identity.id);
        match arm.list_tenants().await {
            Ok(listed) => self.remember_tenants(identity, &listed),
            Err(e) => {
                tracing::info!(identity = %identity.id, error = %e, "could not list the account's tenants")
            }
        }
    }

    /// Deletes the refresh tokens of an account's sign-ins to single tenants.
    pub(crate) fn forget_tenant_sign_ins(&self, identity: &IdentityConfig, authority: &str) {
        let IdentityKind::User { refresh_token, .. } = &identity.kind else {
            return;
        };
        let state = State::load(&self.paths.state_file());
        let Some(known) = state.identities.get(&identity.id) else {
            return;
        };
        for tenant in known.tenants.keys().filter(|t| is_tenant_id(t)) {
            let forgotten = match secrets::tenant_refresh_token_source(refresh_token, tenant) {
                crate::store::config::SecretSource::Keyring => self.secrets.delete(
                    &secrets::tenant_refresh_token_key(authority, &identity.id, tenant),
                ),
                crate::store::config::SecretSource::File(path) => {
                    match std::fs::remove_file(&path) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            Err(crate::error::Error::io("delete", path, &e))
                        }
                        _ => Ok(()),
                    }
                }
                crate::store::config::SecretSource::Env => Ok(()),
            };
            if let Err(e) = forgotten {
                tracing::warn!(identity = %identity.id, tenant = %tenant, error = %e, "could not delete a tenant sign-in's refresh token");
            }
        }
    }
}

/// Whether a registry of this identity may be in another tenant of its account: a person's
/// (a guest elsewhere).
pub(crate) fn has_other_tenants(identity: &IdentityConfig) -> bool {
    matches!(identity.kind, IdentityKind::User { .. })
}
