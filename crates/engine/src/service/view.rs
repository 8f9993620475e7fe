//! What the settings window and the tray see: plain serialisable views built from the
//! settings, the remembered state and the scheduler's status. They are the IPC contract with
//! the web UI; with the `ts` feature their TypeScript declarations are generated into
//! `ui/src/bindings.ts` (see `service::bindings`). None of them can hold a secret: the inputs
//! that carry one (`SpCredentialInput`, `RegistrySignInInput`) are deserialise-only.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

#[cfg(test)]
use ts_rs::TS;

pub use super::client_files::ClientFileView;
use super::words::AppWords;
use crate::error::{Error, ErrorKind};
use crate::store::state::StoredError;

/// The tray's state at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub enum TrayState {
    /// No registry configured yet.
    Empty,
    /// Every registry is logged in.
    Ok,
    /// A refresh is under way.
    Refreshing,
    /// Something is failing, or a session ends soon.
    Attention,
    /// An identity must sign in again.
    SignInRequired,
}

/// Everything the settings window shows; sent whole by `get_overview` and the `overview`
/// event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    /// The engine's clock when this was made (countdowns are computed from it).
    pub now: DateTime<Utc>,
    /// The state at a glance.
    pub state: TrayState,
    /// One line for the tray tooltip.
    pub summary: String,
    /// The soonest expiry of any Docker credential ACR Tray keeps.
    pub soonest_expiry: Option<DateTime<Utc>>,
    /// Every identity.
    pub accounts: Vec<AccountView>,
    /// Every registry.
    pub registries: Vec<RegistryView>,
    /// Other clients' files the last refresh could not write (each is attention).
    pub client_files: Vec<ClientFileView>,
    /// The cloud in use.
    pub cloud: CloudView,
    /// Refresh interval, start at login, log level, Helm.
    pub general: GeneralSettings,
}

/// What kind of identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub enum IdentityKindName {
    /// A person (browser or device code).
    User,
    /// A service principal with a client secret.
    ServicePrincipal,
    /// A service principal with a certificate.
    ServicePrincipalCertificate,
    /// A managed identity.
    ManagedIdentity,
    /// The Azure CLI's session.
    AzureCli,
    /// Workload identity federation.
    WorkloadIdentity,
}

/// An identity's session health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub enum AccountHealth {
    /// Signed in.
    Ok,
    /// A sign-in-frequency policy ends the session soon.
    ExpiringSoon,
    /// The session ended; the user must sign in again.
    SignInRequired,
}

/// One identity.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// The identity id registries refer to.
    pub id: String,
    /// What kind.
    pub kind: IdentityKindName,
    /// The user's sign-in name, or `service principal <client id>`, ...
    pub label: String,
    /// Its tenant, when known.
    pub tenant: Option<String>,
    /// Session health.
    pub health: AccountHealth,
    /// Why a sign-in is required (when it is).
    pub sign_in_required: Option<ErrorView>,
    /// Whether a person must act to sign in again (browser or device code).
    pub interactive: bool,
    /// When it last signed in.
    pub last_sign_in: Option<DateTime<Utc>>,
    /// When a sign-in-frequency policy is expected to end the session.
    pub expected_session_end: Option<DateTime<Utc>>,
    /// How many registries use it.
    pub registry_count: u32,
    /// The tenants of a person's account (home first; empty until ARM listed them), each
    /// with what it demands. Absent when none are known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(test, ts(as = "Option<Vec<TenantView>>", optional))]
    pub tenants: Vec<TenantView>,
}

/// One tenant of an account.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct TenantView {
    /// The tenant's GUID.
    pub id: String,
    /// Its display name, else its default domain, else its GUID.
    pub name: String,
    /// Its default domain, when known.
    pub domain: Option<String>,
    /// The account's home tenant.
    pub home: bool,
    /// Why this tenant demands a sign-in to it (MFA, Conditional Access), when it does; its
    /// registries wait for it, the other tenants keep working.
    pub sign_in_required: Option<ErrorView>,
}

/// How a registry signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RegistrySignInView {
    /// An Entra identity's token, exchanged at the registry.
    Identity {
        /// The identity.
        identity: String,
    },
    /// The admin account, its password read through ARM by an identity.
    AdminArm {
        /// The identity that reads the password.
        identity: String,
    },
    /// The admin account with a password the user typed.
    AdminPassword {
        /// The admin user name.
        username: String,
    },
    /// An ACR token (a scope map's repository permissions) with a password the user gave.
    #[serde(rename_all = "camelCase")]
    AcrToken {
        /// The token's name.
        token: String,
        /// The identity that reads the token in ARM to watch it (`None`: not watched).
        watched_by: Option<String>,
        /// Whether the token is enabled, as last read (`None`: not read).
        enabled: Option<bool>,
        /// The soonest expiry among the watched passwords (`None`: none expires, or not read).
        password_expiry: Option<DateTime<Utc>>,
        /// Which password that is (`password1` or `password2`).
        expiring_password: Option<String>,
        /// Why the expiry is not watched, and what would watch it (`None` when it is).
        not_watched: Option<String>,
    },
}

/// A registry's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub enum RegistryHealth {
    /// Not refreshed yet.
    Pending,
    /// Docker's credential is fresh.
    Ok,
    /// Being refreshed now.
    Refreshing,
    /// The last refresh failed (Docker keeps the last good credential).
    Failing,
    /// Its identity must sign in again.
    SignInRequired,
}

/// One registry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct RegistryView {
    /// Short name.
    pub name: String,
    /// Login server.
    pub login_server: String,
    /// How it signs in.
    pub sign_in: RegistrySignInView,
    /// Health.
    pub health: RegistryHealth,
    /// When Docker's credential was last written.
    pub last_refresh: Option<DateTime<Utc>>,
    /// When the credential in Docker's config runs out (`None` for admin passwords, unknown).
    pub expires_at: Option<DateTime<Utc>>,
    /// When the engine refreshes it next (`None`: it waits for a sign-in, or not scheduled).
    pub next_refresh: Option<DateTime<Utc>>,
    /// The last error, if the last attempt failed.
    pub last_error: Option<ErrorView>,
    /// `acr` or `arm` once known.
    pub audience: Option<String>,
    /// The login server is a custom domain the user trusted.
    pub trusted_custom_domain: bool,
    /// What its identity may do there (from the last ACR token), once known.
    pub role: Option<crate::azure::acr::RegistryRole>,
    /// The registry uses repository permissions (ABAC): roles are Entra's repository roles,
    /// per repository, and AcrPull/AcrPush are not honoured there.
    pub repository_permissions: bool,
    /// The role's name in the registry's terms (Entra's repository role on an ABAC registry),
    /// once known.
    pub role_name: Option<String>,
    /// The admin account, as the watch last saw it.
    pub admin_account: Option<AdminAccountView>,
    /// The registry's tenant (display name or domain, else its GUID), where it is worth
    /// naming: another tenant than its identity's own, or an account with several tenants.
    /// Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub tenant: Option<String>,
    /// That tenant's id (lower case), to find it among its account's tenants (display names
    /// repeat: "Default Directory"). Absent when [`Self::tenant`] is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub tenant_id: Option<String>,
}

/// The admin-account watch of a registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct AdminAccountView {
    /// Whether it is enabled (`None`: not read yet, or not readable).
    pub enabled: Option<bool>,
    /// Password regeneration is watched too (the identity may read the passwords).
    pub passwords_watched: bool,
    /// Why it is not watched, if it is not.
    pub not_watched: Option<String>,
    /// When it was last read.
    pub checked_at: Option<DateTime<Utc>>,
    /// Why it is worth a warning (enabled: anyone with its password can push and pull).
    pub warning: Option<String>,
}

/// A closed set of error kinds the UI may switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub enum ErrorCode {
    /// The identity must sign in again.
    SignInRequired,
    /// Network, time-out, throttling, server error: retried on its own.
    Network,
    /// A role or access is missing.
    Permission,
    /// Docker's config cannot be used as it is.
    DockerConfig,
    /// The input cannot work.
    InvalidInput,
    /// Settings, Azure set-up or files.
    Config,
    /// The user cancelled.
    Cancelled,
}

/// An error as the UI shows it: what happened and what to do. Every command rejects with one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ErrorView {
    /// What kind.
    pub code: ErrorCode,
    /// What happened.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
    /// When it happened (remembered errors).
    pub at: Option<DateTime<Utc>>,
}

impl ErrorView {
    /// A command's error.
    pub fn from_error(err: &Error) -> Self {
        let code = match err {
            Error::InvalidInput { .. }
            | Error::HostNotAllowed { .. }
            | Error::UnknownRegistry { .. }
            | Error::UnknownIdentity { .. } => ErrorCode::InvalidInput,
            other => code_of(other.kind()),
        };
        Self {
            code,
            message: err.to_string(),
            hint: err.hint().map(|h| h.render(&AppWords)),
            at: None,
        }
    }

    /// A remembered error.
    pub fn from_stored(err: &StoredError) -> Self {
        Self {
            code: code_of(err.kind),
            message: err.message.clone(),
            hint: err
                .hint
                .as_ref()
                .map(|h| h.render(&AppWords))
                .filter(|h| !h.is_empty()),
            at: Some(err.at),
        }
    }

    /// The user cancelled.
    pub fn cancelled(what: &str) -> Self {
        Self {
            code: ErrorCode::Cancelled,
            message: format!("{what} was cancelled"),
            hint: None,
            at: None,
        }
    }
}

impl From<Error> for ErrorView {
    fn from(err: Error) -> Self {
        Self::from_error(&err)
    }
}

fn code_of(kind: ErrorKind) -> ErrorCode {
    match kind {
        ErrorKind::SignInRequired => ErrorCode::SignInRequired,
        ErrorKind::Configuration => ErrorCode::Config,
        ErrorKind::Permission => ErrorCode::Permission,
        ErrorKind::DockerConfig => ErrorCode::DockerConfig,
        ErrorKind::Transient => ErrorCode::Network,
    }
}

/// The cloud in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct CloudView {
    /// `AzureCloud`, `AzureChinaCloud`, `AzureUSGovernment` or `custom`.
    pub name: String,
    /// Entra ID authority.
    pub authority: String,
    /// ARM endpoint.
    pub arm: String,
    /// ACR login-server suffix (no leading dot).
    pub acr_suffix: String,
    /// ACR token audience.
    pub acr_audience: String,
    /// Extra CA certificates trusted.
    pub ca_file: Option<String>,
}

/// Log verbosity (the `[app]` table's `log_level`), shown on the General page.
pub use crate::store::config::LogLevel;

/// The General page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct GeneralSettings {
    /// Minutes between refreshes of a registry.
    pub refresh_interval_minutes: u32,
    /// Start the tray app at login.
    pub start_at_login: bool,
    /// Log verbosity.
    pub log_level: LogLevel,
    /// Also keep Helm's registry config in sync (`[clients] helm`).
    pub helm: bool,
    /// Helm's registry config as the engine finds it (`HELM_REGISTRY_CONFIG`, else Helm's
    /// config folder), where each refresh writes when [`Self::helm`] is on; absent when no
    /// home folder is known. Shown only: [`crate::service::Service::set_general`] ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub helm_registry_config: Option<String>,
}

/// Shown large while a device-code sign-in waits (event `device-code`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct DeviceCodePrompt {
    /// The code to type.
    pub user_code: String,
    /// Where to type it.
    pub verification_uri: String,
    /// When the code stops working.
    pub expires_at: DateTime<Utc>,
    /// Entra's own sentence.
    pub message: String,
}

/// Browser or device code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub enum SignInMethod {
    /// The system browser, authorization code + PKCE.
    Browser,
    /// A code typed on any device.
    DeviceCode,
}

/// A person signs in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct UserSignIn {
    /// Browser or device code.
    pub method: SignInMethod,
    /// `organizations` when `None`.
    pub tenant: Option<String>,
    /// The Azure CLI's public client when `None`.
    pub client_id: Option<String>,
}

/// How a service principal proves itself. Deserialise-only: it may carry a secret.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SpCredentialInput {
    /// A client secret (kept in the OS keyring).
    Secret {
        /// The secret.
        secret: String,
    },
    /// A PEM file with the certificate and its private key.
    Certificate {
        /// The file.
        path: String,
    },
}

impl std::fmt::Debug for SpCredentialInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Secret { .. } => f.write_str("Secret(<redacted>)"),
            Self::Certificate { path } => f.debug_tuple("Certificate").field(path).finish(),
        }
    }
}

/// A service principal signs in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipalSignIn {
    /// Tenant GUID or domain.
    pub tenant: String,
    /// Application (client) id.
    pub client_id: String,
    /// Secret or certificate.
    pub credential: SpCredentialInput,
}

/// How a new registry signs in. Deserialise-only: it may carry a password.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RegistrySignInInput {
    /// With an Entra identity.
    Identity {
        /// The identity.
        identity: String,
    },
    /// With the admin account, read through ARM by an identity.
    AdminArm {
        /// The identity.
        identity: String,
    },
    /// With the admin account and a typed password (kept in the OS keyring).
    AdminPassword {
        /// The admin user name.
        username: String,
        /// The password.
        password: String,
    },
    /// With an ACR token and one of its passwords (kept in the OS keyring).
    #[serde(rename_all = "camelCase")]
    AcrToken {
        /// The token's name.
        token: String,
        /// The password.
        password: String,
        /// The identity that reads the token in Azure to watch its expiry and status (none:
        /// not watched).
        watched_by: Option<String>,
    },
}

impl std::fmt::Debug for RegistrySignInInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Identity { identity } => f
                .debug_struct("Identity")
                .field("identity", identity)
                .finish(),
            Self::AdminArm { identity } => f
                .debug_struct("AdminArm")
                .field("identity", identity)
                .finish(),
            Self::AdminPassword { username, .. } => f
                .debug_struct("AdminPassword")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Self::AcrToken {
                token, watched_by, ..
            } => f
                .debug_struct("AcrToken")
                .field("token", token)
                .field("password", &"<redacted>")
                .field("watched_by", watched_by)
                .finish(),
        }
    }
}

/// Add a registry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct AddRegistry {
    /// `myregistry` or `myregistry.azurecr.io` (or a trusted custom domain).
    pub name_or_login_server: String,
    /// How it signs in.
    pub sign_in: RegistrySignInInput,
    /// The host is outside the cloud's suffix and the user trusts it.
    pub trust_custom_domain: bool,
}

/// One registry's result of "refresh now".
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct RefreshOutcomeView {
    /// Short name.
    pub name: String,
    /// Whether Docker's credential was written.
    pub ok: bool,
    /// Why not.
    pub error: Option<ErrorView>,
}

pub use crate::engine::discovery::{DiscoveredRegistry, UnlistedRegistry};

/// What discovery found, as the window shows it: the engine's
/// [`Discovery`](crate::engine::discovery::Discovery) with each tenant's error an
/// [`ErrorView`] (its hint in the app's words). The CLI serializes the engine's own.
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

/// One tenant of the account as discovery saw it: listed (its registries name it), or why not
/// and what to do.
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
    /// Why its registries could not be listed (it demands a sign-in to it, ARM refused, ...),
    /// and what to do; the other tenants are listed all the same.
    pub error: Option<ErrorView>,
    /// The tenant demands a sign-in to it (MFA, Conditional Access).
    pub sign_in_required: bool,
}

impl From<crate::engine::discovery::Discovery> for Discovery {
    fn from(d: crate::engine::discovery::Discovery) -> Self {
        Self {
            identity: d.identity,
            registries: d.registries,
            tenants: d.tenants.into_iter().map(DiscoveredTenant::from).collect(),
            unlisted: d.unlisted,
            notice: d.notice,
        }
    }
}

impl From<crate::engine::discovery::DiscoveredTenant> for DiscoveredTenant {
    fn from(t: crate::engine::discovery::DiscoveredTenant) -> Self {
        let code = if t.sign_in_required {
            ErrorCode::SignInRequired
        } else {
            t.error_kind.map_or(ErrorCode::Config, code_of)
        };
        Self {
            error: t.error.map(|message| ErrorView {
                code,
                message,
                hint: t
                    .hint
                    .as_ref()
                    .map(|h| h.render(&AppWords))
                    .filter(|h| !h.is_empty()),
                at: None,
            }),
            id: t.id,
            name: t.name,
            domain: t.domain,
            home: t.home,
            sign_in_required: t.sign_in_required,
        }
    }
}

/// What the window's "Check" found: the credential Docker holds for a registry, used as Docker
/// would use it (`check_registry`).
pub use crate::engine::check::{CheckReport, CredentialSource, RepositoryAction};

/// How bad a doctor's finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub enum FindingSeverity {
    /// Docker will fail for this registry.
    Problem,
    /// Works, but should be changed.
    Warning,
}

/// One finding of the doctor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct FindingView {
    /// A stable code (`missing-helper`, ...).
    pub code: String,
    /// How bad.
    pub severity: FindingSeverity,
    /// The registry concerned.
    pub registry: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What "Fix" does about it (`None`: it needs a person).
    pub fix: Option<String>,
}

/// Where Docker finds one registry's credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct DockerStoreView {
    /// Short name.
    pub name: String,
    /// Login server.
    pub login_server: String,
    /// `config.json auths`, `docker-credential-desktop (credsStore)`, ...
    pub store: String,
    /// Whether Docker has credentials for it.
    pub present: bool,
    /// When they run out.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The doctor's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct DoctorView {
    /// Docker's config.json.
    pub config_path: String,
    /// Per registry.
    pub registries: Vec<DockerStoreView>,
    /// What is wrong.
    pub findings: Vec<FindingView>,
    /// The backup `Fix` made.
    pub backup: Option<String>,
}

/// Choose a cloud.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(tag = "kind")]
pub enum CloudInput {
    /// Azure.
    AzureCloud,
    /// Azure operated by 21Vianet.
    AzureChinaCloud,
    /// Azure Government.
    AzureUSGovernment,
    /// Azure Stack, private clouds.
    #[serde(rename = "custom", rename_all = "camelCase")]
    Custom {
        /// Entra ID authority.
        authority: String,
        /// ARM endpoint.
        arm: String,
        /// ACR login-server suffix.
        acr_suffix: String,
        /// ACR token audience.
        acr_audience: Option<String>,
        /// Extra CA certificates.
        ca_file: Option<String>,
    },
}

/// What choosing a cloud would do, asked before it is chosen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct CloudChangePreview {
    /// The cloud it would be (as [`CloudView`] shows it).
    pub cloud: CloudView,
    /// The identities it signs out: they signed in to another cloud, and their credentials are
    /// never sent to this one. They stay listed as "sign-in required".
    pub signs_out: Vec<AccountView>,
}

/// Which page of the settings window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub enum View {
    /// Registries.
    Registries,
    /// Accounts.
    Accounts,
    /// General.
    General,
}

/// Where the window should open (event `navigate`: the tray, a notification).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct Navigate {
    /// The page.
    pub view: View,
    /// The identity concerned.
    pub identity: Option<String>,
    /// Open its sign-in.
    pub sign_in: bool,
}

/// How long before a session's expected end the account shows "expiring soon".
pub const EXPIRING_SOON: TimeDelta = TimeDelta::hours(2);
