//! The directory mutators of [`FakeAzure`] (all sync, `&self`).

use uuid::Uuid;

use crate::app::{Shared, random_token};
use crate::state::{RegistryRec, Subscription};
use crate::state_auth::AuthState;
use crate::{
    FakeAzure, Registry, RegistrySpec, RepositoryCondition, Role, RoleAssignmentMode,
    ServicePrincipal, Tenant, User, entra_tokens, lock,
};

/// The default tenant and its default subscription; ARM page size 50.
pub(crate) fn init(shared: &Shared) {
    let mut dir = lock(&shared.dir);
    dir.arm_page_size = 50;
    dir.auth = AuthState::new();
    let tenant = Uuid::new_v4().to_string();
    dir.tenants.push(Tenant { id: tenant.clone() });
    dir.subscriptions.push(Subscription {
        id: Uuid::new_v4().to_string(),
        tenant,
        display_name: "Fake subscription 1".into(),
    });
}

impl FakeAzure {
    /// A new tenant, with its own default subscription.
    pub fn add_tenant(&self) -> Tenant {
        let tenant = Tenant {
            id: Uuid::new_v4().to_string(),
        };
        let mut dir = lock(&self.inner.shared.dir);
        dir.tenants.push(tenant.clone());
        let n = dir.subscriptions.len() + 1;
        dir.subscriptions.push(Subscription {
            id: Uuid::new_v4().to_string(),
            tenant: tenant.id.clone(),
            display_name: format!("Fake subscription {n}"),
        });
        tenant
    }

    /// The tenant that exists from the start.
    pub fn default_tenant(&self) -> Tenant {
        lock(&self.inner.shared.dir)
            .tenants
            .first()
            .cloned()
            .unwrap_or(Tenant { id: String::new() })
    }

    /// The subscription created with a tenant.
    pub fn default_subscription(&self, tenant: &Tenant) -> Subscription {
        let dir = lock(&self.inner.shared.dir);
        dir.subscriptions
            .iter()
            .find(|s| s.tenant == tenant.id)
            .cloned()
            .unwrap_or_else(|| Subscription {
                id: String::new(),
                tenant: tenant.id.clone(),
                display_name: String::new(),
            })
    }

    /// Another subscription in `tenant`.
    pub fn add_subscription(&self, tenant: &Tenant, display_name: &str) -> Subscription {
        let sub = Subscription {
            id: Uuid::new_v4().to_string(),
            tenant: tenant.id.clone(),
            display_name: display_name.to_owned(),
        };
        lock(&self.inner.shared.dir).subscriptions.push(sub.clone());
        sub
    }

    /// A service principal with a client secret.
    pub fn add_service_principal(&self, tenant: &Tenant) -> ServicePrincipal {
        let sp = ServicePrincipal {
            tenant: tenant.id.clone(),
            client_id: Uuid::new_v4().to_string(),
            object_id: Uuid::new_v4().to_string(),
            secret: format!("fk8Q~{}", random_token(30)),
        };
        lock(&self.inner.shared.dir).principals.push(sp.clone());
        sp
    }

    /// A user.
    pub fn add_user(&self, tenant: &Tenant, upn: &str) -> User {
        let user = User {
            tenant: tenant.id.clone(),
            object_id: Uuid::new_v4().to_string(),
            upn: upn.to_owned(),
        };
        lock(&self.inner.shared.dir).users.push(user.clone());
        user
    }

    /// An Entra refresh token for `user` signed in to `client_id` (any client ID, e.g. a public
    /// client), as if an interactive flow had happened at `user.tenant`: pass the guest account
    /// ([`Self::add_guest`]) for a sign-in at the guest's tenant (the token is the home user's,
    /// as in Entra).
    pub fn issue_user_refresh_token(&self, user: &User, client_id: &str) -> String {
        let home = lock(&self.inner.shared.dir)
            .auth
            .home_of_guest(&user.object_id)
            .unwrap_or(&user.object_id)
            .to_owned();
        entra_tokens::new_refresh_token(&self.inner.shared, &home, client_id, &user.tenant)
    }

    /// Revokes every refresh token of a principal issued so far (`invalid_grant` AADSTS50173).
    pub fn revoke_refresh_tokens(&self, object_id: &str) {
        let now = self.inner.shared.now();
        let mut dir = lock(&self.inner.shared.dir);
        dir.revoked_at.insert(object_id.to_owned(), now);
        for rt in dir.refresh_tokens.values_mut() {
            if rt.object_id == object_id {
                rt.revoked = true;
            }
        }
    }

    /// Entra answers AADSTS500011 for the ACR audience.
    pub fn set_entra_refuses_acr_audience(&self, refuse: bool) {
        lock(&self.inner.shared.dir).refuse_acr_audience = refuse;
    }

    /// ARM list page size (`nextLink` paging).
    pub fn set_arm_page_size(&self, size: usize) {
        lock(&self.inner.shared.dir).arm_page_size = size.max(1);
    }

    /// Creates (or replaces) a registry.
    pub fn add_registry(&self, spec: RegistrySpec) -> Registry {
        let shared = &self.inner.shared;
        let now = shared.now();
        let mut dir = lock(&shared.dir);
        let subscription = match &spec.subscription {
            Some(id) => dir.subscription(id).cloned().unwrap_or(Subscription {
                id: id.clone(),
                tenant: dir
                    .tenants
                    .first()
                    .map(|t| t.id.clone())
                    .unwrap_or_default(),
                display_name: String::new(),
            }),
            None => dir.subscriptions.first().cloned().unwrap_or(Subscription {
                id: Uuid::new_v4().to_string(),
                tenant: String::new(),
                display_name: String::new(),
            }),
        };
        let host = spec
            .login_server_host
            .clone()
            .unwrap_or_else(|| format!("{}.{}", spec.name, shared.acr_suffix_host()));
        let host = host.to_ascii_lowercase();
        let public = Registry {
            name: spec.name.clone(),
            login_server: format!("{host}:{}", shared.port),
            subscription: subscription.id.clone(),
            resource_group: spec.resource_group.clone(),
            id: format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerRegistry/registries/{}",
                subscription.id, spec.resource_group, spec.name
            ),
        };
        let rec = RegistryRec {
            spec: spec.clone(),
            public: public.clone(),
            host,
            tenant: subscription.tenant,
            created: now,
            passwords: [random_token(39), random_token(39)],
            tags: serde_json::Map::new(),
            modified: now,
            updating_op: None,
            scope_maps: std::collections::BTreeMap::new(),
            tokens: std::collections::BTreeMap::new(),
        };
        dir.registries.insert(spec.name.to_ascii_lowercase(), rec);
        public
    }

    /// Deletes a registry and its role assignments, as `az acr delete` does: its host is then
    /// unknown to the fake (plain 404 on every path, like a login server that no longer
    /// resolves to a registry). [`Self::add_registry`] with the same name creates it again.
    pub fn remove_registry(&self, registry_name: &str) {
        let name = registry_name.to_ascii_lowercase();
        let mut dir = lock(&self.inner.shared.dir);
        dir.registries.remove(&name);
        dir.roles.retain(|(registry, _), _| *registry != name);
        dir.scoped_roles
            .retain(|(registry, _), _| *registry != name);
    }

    /// Turns the registry's refusal of ARM-audience tokens on or off.
    pub fn set_refuse_arm_audience(&self, registry_name: &str, refuse: bool) {
        self.with_registry(registry_name, |r| r.spec.refuse_arm_audience = refuse);
    }

    /// Enables or disables the registry's admin user.
    pub fn set_admin_enabled(&self, registry_name: &str, enabled: bool) {
        self.with_registry(registry_name, |r| r.spec.admin_enabled = enabled);
    }

    /// The admin user name and its two passwords (valid only while the admin user is enabled).
    pub fn admin_credentials(&self, registry_name: &str) -> Option<(String, [String; 2])> {
        lock(&self.inner.shared.dir)
            .registry(registry_name)
            .map(|r| (r.spec.name.clone(), r.passwords.clone()))
    }

    fn with_registry(&self, name: &str, f: impl FnOnce(&mut RegistryRec)) {
        let mut dir = lock(&self.inner.shared.dir);
        if let Some(rec) = dir.registries.get_mut(&name.to_ascii_lowercase()) {
            f(rec);
        }
    }

    /// Adds a role of a principal on a registry; `Role::None` removes all of its roles there.
    pub fn assign_role(&self, registry_name: &str, principal_object_id: &str, role: Role) {
        let key = (
            registry_name.to_ascii_lowercase(),
            principal_object_id.to_owned(),
        );
        let mut dir = lock(&self.inner.shared.dir);
        if role == Role::None {
            dir.roles.remove(&key);
            dir.scoped_roles.remove(&key);
        } else {
            dir.roles.entry(key).or_default().insert(role);
        }
    }

    /// Adds a repository role (`RepositoryReader`, `RepositoryWriter`, `RepositoryContributor`)
    /// limited by an ABAC condition to the repositories it lets through. Only ABAC registries
    /// honour it (a legacy registry ignores conditioned assignments, as it supports no ABAC
    /// conditions); [`Self::assign_role`] gives the same roles registry-wide. `Role::None`
    /// through `assign_role` removes these too.
    pub fn assign_repository_role(
        &self,
        registry_name: &str,
        principal_object_id: &str,
        role: Role,
        condition: RepositoryCondition,
    ) {
        let key = (
            registry_name.to_ascii_lowercase(),
            principal_object_id.to_owned(),
        );
        lock(&self.inner.shared.dir)
            .scoped_roles
            .entry(key)
            .or_default()
            .insert((role, condition));
    }

    /// Changes a registry's role-assignment mode (as `az acr update --role-assignment-mode`).
    pub fn set_role_assignment_mode(&self, registry_name: &str, mode: RoleAssignmentMode) {
        self.with_registry(registry_name, |r| r.spec.role_assignment_mode = mode);
    }
}
