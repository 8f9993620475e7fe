//! The fake directory: tenants, subscriptions, principals, registries, role assignments, Entra
//! refresh tokens, and the fake clock. Everything here is plain data behind one mutex in
//! [`crate::app::Shared`]; never held across an `.await`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::entra::TenantPath;
use crate::lock;
use crate::state_auth::AuthState;

/// An Entra tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tenant {
    /// Tenant GUID.
    pub id: String,
}

/// A service principal (app registration + enterprise app) with one client secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePrincipal {
    /// Tenant GUID.
    pub tenant: String,
    /// Application (client) ID.
    pub client_id: String,
    /// Object ID of the service principal (the `oid` in its tokens).
    pub object_id: String,
    /// The client secret (it is a fake).
    pub secret: String,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Tenant GUID.
    pub tenant: String,
    /// Object ID (the `oid` in the user's tokens).
    pub object_id: String,
    /// User principal name.
    pub upn: String,
}

/// An Azure subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Subscription GUID.
    pub id: String,
    /// Tenant GUID.
    pub tenant: String,
    /// Display name.
    pub display_name: String,
}

/// A role assignment on a registry. `Role::None` removes every role of the principal there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// No role (clears assignments).
    None,
    /// Pull.
    AcrPull,
    /// Pull + push.
    AcrPush,
    /// Everything.
    Owner,
    /// ARM read only in this fake (no data-plane access; see API.md).
    Reader,
    /// Everything but role assignment.
    Contributor,
    /// "Container Registry Repository Reader": pull and read metadata. Honoured on ABAC
    /// registries (scoped by a condition or registry-wide) and, without a condition, on legacy
    /// ones.
    RepositoryReader,
    /// "Container Registry Repository Writer": Reader plus push.
    RepositoryWriter,
    /// "Container Registry Repository Contributor": Writer plus delete.
    RepositoryContributor,
    /// "Container Registry Repository Catalog Lister": `registry:catalog:*` only (no
    /// repository condition applies to it).
    CatalogLister,
}

/// A registry's `roleAssignmentMode` (ARM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RoleAssignmentMode {
    /// "RBAC Registry Permissions": AcrPull/AcrPush/Owner/Contributor give data access.
    #[default]
    LegacyRegistryPermissions,
    /// "RBAC Registry + ABAC Repository Permissions": only the repository roles give data
    /// access, optionally scoped to repositories; AcrPull, AcrPush, Owner, Contributor and
    /// Reader give none.
    AbacRepositoryPermissions,
}

impl RoleAssignmentMode {
    /// The ARM value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LegacyRegistryPermissions => "LegacyRegistryPermissions",
            Self::AbacRepositoryPermissions => "AbacRepositoryPermissions",
        }
    }
}

/// The repository condition of an ABAC role assignment, on
/// `@Request[Microsoft.ContainerRegistry/registries/repositories:name]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RepositoryCondition {
    /// `StringEqualsIgnoreCase 'name'`: one repository.
    Equals(String),
    /// `StringStartsWithIgnoreCase 'prefix'`: every repository under a prefix (e.g. `team-a/`).
    StartsWith(String),
}

impl RepositoryCondition {
    /// Whether the condition lets `repository` through (case-insensitively, as the operators).
    pub(crate) fn matches(&self, repository: &str) -> bool {
        let repository = repository.to_ascii_lowercase();
        match self {
            Self::Equals(name) => repository == name.to_ascii_lowercase(),
            Self::StartsWith(prefix) => repository.starts_with(&prefix.to_ascii_lowercase()),
        }
    }
}

/// What a principal may do on an ABAC registry: per-repository rules and the catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RepositoryGrants {
    /// Repository actions (`pull`, `push`, `delete`, `metadata_read`, `metadata_write`), each
    /// set limited to the repositories its condition lets through (`None` = all).
    pub(crate) rules: Vec<(Vec<&'static str>, Option<RepositoryCondition>)>,
    pub(crate) catalog: bool,
}

impl RepositoryGrants {
    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty() && !self.catalog
    }

    /// The actions granted on `repository`.
    pub(crate) fn actions_on(&self, repository: &str) -> BTreeSet<&'static str> {
        self.rules
            .iter()
            .filter(|(_, condition)| condition.as_ref().is_none_or(|c| c.matches(repository)))
            .flat_map(|(actions, _)| actions.iter().copied())
            .collect()
    }
}

impl Role {
    /// ARM `registries/read` (list/get).
    pub(crate) fn arm_read(self) -> bool {
        matches!(self, Role::Reader | Role::Contributor | Role::Owner)
    }

    /// ACR RT `permissions.actions` granted by this role on a registry of `mode`.
    pub(crate) fn data_actions(self, mode: RoleAssignmentMode) -> &'static [&'static str] {
        let abac = mode == RoleAssignmentMode::AbacRepositoryPermissions;
        match self {
            Role::AcrPull if !abac => &["read"],
            Role::AcrPush if !abac => &["read", "write"],
            Role::Owner | Role::Contributor if !abac => &["*"],
            Role::RepositoryReader => &["read"],
            Role::RepositoryWriter => &["read", "write"],
            Role::RepositoryContributor => &["read", "write", "delete"],
            _ => &[],
        }
    }

    /// Repository actions of an ABAC repository role.
    pub(crate) fn repository_actions(self) -> &'static [&'static str] {
        match self {
            Role::RepositoryReader => &["pull", "metadata_read"],
            Role::RepositoryWriter => &["pull", "push", "metadata_read", "metadata_write"],
            Role::RepositoryContributor => {
                &["pull", "push", "delete", "metadata_read", "metadata_write"]
            }
            _ => &[],
        }
    }
}

/// What to create with [`crate::FakeAzure::add_registry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrySpec {
    /// Registry name (the login server is its lower-case form + the ACR suffix).
    pub name: String,
    /// Subscription GUID; `None` = the default tenant's default subscription.
    pub subscription: Option<String>,
    /// Resource group (default `rg-acr`).
    pub resource_group: String,
    /// SKU (default `Standard`).
    pub sku: String,
    /// `azureADAuthenticationAsArmPolicy` disabled: `/oauth2/exchange` refuses ARM-audience tokens.
    pub refuse_arm_audience: bool,
    /// Admin user enabled.
    pub admin_enabled: bool,
    /// Custom login-server host (no port), instead of `<name>.azurecr.<base>`.
    pub login_server_host: Option<String>,
    /// A real registry (`http://host:port`) that every `/v2/...` request is forwarded to;
    /// `None` = the fake's own storage-less `/v2/` (see API.md "Upstream registries").
    pub upstream: Option<String>,
    /// ARM `roleAssignmentMode` (default legacy registry permissions).
    pub role_assignment_mode: RoleAssignmentMode,
}

impl RegistrySpec {
    /// A Standard registry in `rg-acr` of the default subscription.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            subscription: None,
            resource_group: "rg-acr".into(),
            sku: "Standard".into(),
            refuse_arm_audience: false,
            admin_enabled: false,
            login_server_host: None,
            upstream: None,
            role_assignment_mode: RoleAssignmentMode::default(),
        }
    }
    /// Sets the role-assignment mode (ABAC repository permissions or legacy).
    pub fn role_assignment_mode(mut self, mode: RoleAssignmentMode) -> Self {
        self.role_assignment_mode = mode;
        self
    }
    /// Sets the subscription GUID.
    pub fn subscription(mut self, id: impl Into<String>) -> Self {
        self.subscription = Some(id.into());
        self
    }
    /// Sets the resource group.
    pub fn resource_group(mut self, rg: impl Into<String>) -> Self {
        self.resource_group = rg.into();
        self
    }
    /// Sets the SKU.
    pub fn sku(mut self, sku: impl Into<String>) -> Self {
        self.sku = sku.into();
        self
    }
    /// Refuses ARM-audience tokens at `/oauth2/exchange`.
    pub fn refuse_arm_audience(mut self, refuse: bool) -> Self {
        self.refuse_arm_audience = refuse;
        self
    }
    /// Enables the admin user.
    pub fn admin_enabled(mut self, enabled: bool) -> Self {
        self.admin_enabled = enabled;
        self
    }
    /// Serves the registry on a custom domain (host without port).
    pub fn login_server_host(mut self, host: impl Into<String>) -> Self {
        self.login_server_host = Some(host.into());
        self
    }
    /// Fronts a real registry: `/v2/...` is forwarded to `url` (`http://127.0.0.1:PORT`), while
    /// `/oauth2/*` stay the fake's. Its token auth must trust the fake's ACR signing cert.
    pub fn upstream(mut self, url: impl Into<String>) -> Self {
        self.upstream = Some(url.into());
        self
    }
}

/// A registry as created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// Name as given.
    pub name: String,
    /// `host:port`.
    pub login_server: String,
    /// Subscription GUID.
    pub subscription: String,
    /// Resource group.
    pub resource_group: String,
    /// ARM resource ID.
    pub id: String,
}

#[derive(Debug, Clone)]
pub(crate) struct RegistryRec {
    pub(crate) spec: RegistrySpec,
    pub(crate) public: Registry,
    /// Host without port, lower case.
    pub(crate) host: String,
    pub(crate) tenant: String,
    pub(crate) created: DateTime<Utc>,
    /// Admin passwords (`password`, `password2`).
    pub(crate) passwords: [String; 2],
    /// ARM `tags`.
    pub(crate) tags: serde_json::Map<String, serde_json::Value>,
    /// `systemData.lastModifiedAt`.
    pub(crate) modified: DateTime<Utc>,
    /// An ARM PATCH still "Updating" (its operation ID).
    pub(crate) updating_op: Option<String>,
    /// Scope maps by lower-case name.
    pub(crate) scope_maps: BTreeMap<String, crate::scope_maps::ScopeMapRec>,
    /// Tokens (`az acr token`) by lower-case name.
    pub(crate) tokens: BTreeMap<String, crate::scope_maps::TokenRec>,
}

/// An Entra refresh token's grant.
#[derive(Debug, Clone)]
pub(crate) struct RtRec {
    pub(crate) object_id: String,
    pub(crate) client_id: String,
    pub(crate) issued: DateTime<Utc>,
    /// The interactive sign-in (authorization code, device code) that began this token's
    /// chain; rotations keep it (Conditional Access sign-in frequency counts from it).
    pub(crate) signed_in: DateTime<Utc>,
    /// The interactive sign-in's number (increasing) and the tenant it was made at: a
    /// tenant's demand for interaction is met only by a later sign-in at that tenant.
    pub(crate) chain: SignIn,
    pub(crate) revoked: bool,
}

/// Which interactive sign-in began a refresh token's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignIn {
    /// Increasing number of the sign-in among every sign-in of the fake.
    pub(crate) seq: u64,
    /// Lower-case tenant GUID it was made at.
    pub(crate) tenant: String,
}

/// The directory.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    pub(crate) tenants: Vec<Tenant>,
    pub(crate) subscriptions: Vec<Subscription>,
    pub(crate) principals: Vec<ServicePrincipal>,
    pub(crate) users: Vec<User>,
    /// By lower-case name.
    pub(crate) registries: BTreeMap<String, RegistryRec>,
    /// (lower-case registry name, object id) -> roles.
    pub(crate) roles: HashMap<(String, String), BTreeSet<Role>>,
    /// (lower-case registry name, object id) -> repository roles scoped by a condition.
    pub(crate) scoped_roles: HashMap<(String, String), BTreeSet<(Role, RepositoryCondition)>>,
    /// ACR refresh token `jti` -> the object ID it was exchanged for (ABAC registries decide
    /// per repository when the token is redeemed).
    pub(crate) acr_refresh_subjects: HashMap<String, String>,
    pub(crate) refresh_tokens: HashMap<String, RtRec>,
    /// Interactive sign-ins so far (numbers [`SignIn::seq`]).
    pub(crate) sign_ins: u64,
    /// Tokens-valid-from per revoked principal (for the AADSTS50173 text).
    pub(crate) revoked_at: HashMap<String, DateTime<Utc>>,
    pub(crate) refuse_acr_audience: bool,
    pub(crate) arm_page_size: usize,
    /// Interactive flows, guests, sessions, certificates, identities.
    pub(crate) auth: AuthState,
}

impl Directory {
    pub(crate) fn tenant_exists(&self, id: &str) -> bool {
        self.tenants.iter().any(|t| t.id.eq_ignore_ascii_case(id))
    }

    pub(crate) fn principal(&self, client_id: &str) -> Option<&ServicePrincipal> {
        self.principals
            .iter()
            .find(|p| p.client_id.eq_ignore_ascii_case(client_id))
    }

    pub(crate) fn user(&self, oid: &str) -> Option<&User> {
        self.users.iter().find(|u| u.object_id == oid)
    }

    /// The home user behind a home or guest object ID.
    pub(crate) fn home_user(&self, oid: &str) -> Option<&User> {
        let home = self.auth.home_of_guest(oid).unwrap_or(oid);
        self.user(home)
    }

    /// The user as seen in a tenant: the home account, or the guest account (its own object
    /// ID) where the user was invited; `None` when the user does not exist there.
    pub(crate) fn user_in_tenant(&self, home: &User, tenant: &TenantPath) -> Option<User> {
        match tenant {
            TenantPath::Multi => Some(home.clone()),
            TenantPath::Id(t) if t.eq_ignore_ascii_case(&home.tenant) => Some(home.clone()),
            TenantPath::Id(t) => self.auth.guest(&home.object_id, t).map(|g| User {
                tenant: g.tenant.clone(),
                object_id: g.guest_oid.clone(),
                upn: home.upn.clone(),
            }),
            TenantPath::Unknown(_) => None,
        }
    }

    pub(crate) fn registry(&self, name: &str) -> Option<&RegistryRec> {
        self.registries.get(&name.to_ascii_lowercase())
    }

    pub(crate) fn registry_by_host(&self, host: &str) -> Option<&RegistryRec> {
        self.registries.values().find(|r| r.host == host)
    }

    pub(crate) fn subscription(&self, id: &str) -> Option<&Subscription> {
        self.subscriptions
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(id))
    }

    pub(crate) fn roles(&self, registry: &str, oid: &str) -> BTreeSet<Role> {
        self.roles
            .get(&(registry.to_ascii_lowercase(), oid.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    fn mode(&self, registry: &str) -> RoleAssignmentMode {
        self.registry(registry)
            .map(|r| r.spec.role_assignment_mode)
            .unwrap_or_default()
    }

    fn scoped_roles(&self, registry: &str, oid: &str) -> BTreeSet<(Role, RepositoryCondition)> {
        self.scoped_roles
            .get(&(registry.to_ascii_lowercase(), oid.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// On an ABAC registry, what the principal may do per repository; `None` on a legacy one.
    pub(crate) fn repository_grants(&self, registry: &str, oid: &str) -> Option<RepositoryGrants> {
        if self.mode(registry) != RoleAssignmentMode::AbacRepositoryPermissions {
            return None;
        }
        let roles = self.roles(registry, oid);
        let mut grants = RepositoryGrants {
            catalog: roles.contains(&Role::CatalogLister),
            ..RepositoryGrants::default()
        };
        for role in roles {
            if !role.repository_actions().is_empty() {
                grants
                    .rules
                    .push((role.repository_actions().to_vec(), None));
            }
        }
        for (role, condition) in self.scoped_roles(registry, oid) {
            if !role.repository_actions().is_empty() {
                grants
                    .rules
                    .push((role.repository_actions().to_vec(), Some(condition)));
            }
        }
        Some(grants)
    }

    /// Whether the principal has any data access to the registry (the exchange's test).
    pub(crate) fn has_data_access(&self, registry: &str, oid: &str) -> bool {
        match self.repository_grants(registry, oid) {
            Some(grants) => !grants.is_empty(),
            None => !self.data_actions(registry, oid).is_empty(),
        }
    }

    /// ACR RT `permissions.actions` of a principal on a registry (empty = no data access):
    /// on an ABAC registry the union over its repository roles, whatever their conditions.
    pub(crate) fn data_actions(&self, registry: &str, oid: &str) -> Vec<String> {
        let mode = self.mode(registry);
        let mut actions: BTreeSet<&str> = BTreeSet::new();
        for role in self.roles(registry, oid) {
            actions.extend(role.data_actions(mode));
        }
        if mode == RoleAssignmentMode::AbacRepositoryPermissions {
            for (role, _) in self.scoped_roles(registry, oid) {
                actions.extend(role.data_actions(mode));
            }
        }
        if actions.contains("*") {
            return vec!["*".into()];
        }
        actions.into_iter().map(str::to_owned).collect()
    }
}

/// Where the fake reads the time: the system clock unless a test gives its own.
pub type TimeSource = std::sync::Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The fake's notion of "now": its time source plus an offset moved by `advance_clock`.
#[derive(Default)]
pub(crate) struct Clock {
    source: Option<TimeSource>,
    offset: Mutex<TimeDelta>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock").field("now", &self.now()).finish()
    }
}

impl Clock {
    pub(crate) fn new(source: Option<TimeSource>) -> Self {
        Self {
            source,
            offset: Mutex::default(),
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        let base = match &self.source {
            Some(source) => source(),
            None => Utc::now(),
        };
        base + *lock(&self.offset)
    }

    pub(crate) fn advance(&self, by: Duration) {
        let delta = TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
        let mut offset = lock(&self.offset);
        *offset = offset.checked_add(&delta).unwrap_or(*offset);
    }
}
