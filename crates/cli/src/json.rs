//! The shapes of `--json` output: typed, camelCase, fields in the order they are printed.
//! Scripts read these (README's command table), so a field's name, place and value format
//! only change on purpose; `output::tests` pins each shape whole. Nothing here holds a secret
//! except [`Token`], which is what `acr-tray-cli token --json` is asked for.

use acr_tray_engine::Discovery;
use acr_tray_engine::RegistryRole;
use acr_tray_engine::StoredError;
use acr_tray_engine::{Audience, Cloud};
use acr_tray_engine::{CheckReport, CredentialSource, RepositoryAction};
use acr_tray_engine::{Error, ErrorKind, RegistryOutcome, RegistryStatus};
use acr_tray_engine::{RegistryAuth, RegistryConfig};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// An error: its kind (as in exit codes and `state.json`), message and what to do.
#[derive(Debug, Serialize)]
pub struct ErrorJson {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
}

impl From<&Error> for ErrorJson {
    fn from(e: &Error) -> Self {
        Self {
            kind: e.kind(),
            message: e.to_string(),
            hint: e.hint().map(|h| crate::words::say(&h)),
        }
    }
}

/// `cloud show --json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudJson<'a> {
    name: String,
    /// Without the trailing slash.
    authority: &'a str,
    arm: &'a str,
    arm_audience: &'a str,
    acr_suffix: String,
    acr_audience: &'a str,
    ca_file: Option<String>,
    imds_endpoint: Option<&'a str>,
}

impl<'a> From<&'a Cloud> for CloudJson<'a> {
    fn from(cloud: &'a Cloud) -> Self {
        Self {
            name: cloud.name.to_string(),
            authority: cloud.authority.as_str().trim_end_matches('/'),
            arm: cloud.arm.as_str(),
            arm_audience: &cloud.arm_audience,
            acr_suffix: cloud.acr_suffix.to_string(),
            acr_audience: &cloud.acr_audience,
            // Shown as the path reads (a path that is not UTF-8 is shown, not refused).
            ca_file: cloud.ca_file.as_ref().map(|p| p.display().to_string()),
            imds_endpoint: cloud.imds_endpoint.as_deref(),
        }
    }
}

/// One entry of `registry list --json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryJson<'a> {
    name: &'a str,
    login_server: String,
    identity: Option<&'a str>,
    auth: RegistryAuth,
    admin_username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acr_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acr_token_password: Option<&'static str>,
    trusted_custom_domain: bool,
}

impl<'a> From<&'a RegistryConfig> for RegistryJson<'a> {
    fn from(r: &'a RegistryConfig) -> Self {
        Self {
            name: &r.name,
            login_server: r.login_server.to_string(),
            identity: r.identity.as_deref(),
            auth: r.auth,
            admin_username: r.admin_username.as_deref(),
            acr_token: r.acr_token.as_deref(),
            acr_token_password: r.acr_token_password.map(|p| p.as_str()),
            trusted_custom_domain: r.trusted_custom_domain,
        }
    }
}

/// One entry of `registry discover --json`: what an identity can read, or why it could not
/// list.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum DiscoveryJson<'a> {
    /// The identity's registries.
    Found(&'a Discovery),
    /// Listing failed.
    Failed { identity: &'a str, error: ErrorJson },
}

impl<'a> From<&'a (String, acr_tray_engine::Result<Discovery>)> for DiscoveryJson<'a> {
    fn from((identity, result): &'a (String, acr_tray_engine::Result<Discovery>)) -> Self {
        match result {
            Ok(d) => Self::Found(d),
            Err(e) => Self::Failed {
                identity,
                error: e.into(),
            },
        }
    }
}

/// `refresh --json`.
#[derive(Debug, Serialize)]
pub struct RefreshJson<'a> {
    results: Vec<RefreshResultJson<'a>>,
}

impl<'a> RefreshJson<'a> {
    pub fn new(outcomes: &'a [RegistryOutcome]) -> Self {
        let results = outcomes
            .iter()
            .map(|o| RefreshResultJson {
                name: &o.name,
                login_server: &o.login_server,
                identity: &o.identity,
                ok: o.result.is_ok(),
                result: match &o.result {
                    Ok(r) => RefreshResult::Refreshed {
                        audience: r.audience,
                        expires_at: r.expires_at,
                    },
                    Err(e) => RefreshResult::Failed { error: e.into() },
                },
            })
            .collect();
        Self { results }
    }
}

/// One registry's refresh.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RefreshResultJson<'a> {
    name: &'a str,
    login_server: &'a str,
    identity: &'a str,
    ok: bool,
    #[serde(flatten)]
    result: RefreshResult,
}

/// What follows `ok`: the new credential's audience and expiry, or the error.
#[derive(Debug, Serialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
enum RefreshResult {
    Refreshed {
        /// `None` for admin accounts.
        audience: Option<Audience>,
        /// `None` for admin passwords, which do not expire.
        expires_at: Option<DateTime<Utc>>,
    },
    Failed {
        error: ErrorJson,
    },
}

/// `status --json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusJson<'a> {
    pub cloud: String,
    /// Docker's config.json, or why it cannot be found.
    pub docker_config: String,
    pub identities: Vec<IdentityJson<'a>>,
    pub registries: Vec<RegistryStatusJson<'a>>,
    /// Other clients' files (podman's, Helm's, extra Docker configs) the last refresh could
    /// not write; absent when every one was written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failing_client_files: Vec<ClientFileJson<'a>>,
}

/// A client's file that could not be written.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientFileJson<'a> {
    file: &'a str,
    /// `podman`, `helm` or `docker-extra`.
    client: acr_tray_engine::Client,
    last_error: LastErrorJson<'a>,
}

impl<'a> From<(&'a String, &'a acr_tray_engine::ClientFileState)> for ClientFileJson<'a> {
    fn from((file, state): (&'a String, &'a acr_tray_engine::ClientFileState)) -> Self {
        Self {
            file,
            client: state.client,
            last_error: (&state.last_error).into(),
        }
    }
}

/// A signed-in identity.
#[derive(Debug, Serialize)]
pub struct IdentityJson<'a> {
    pub id: &'a str,
    /// In words (`service principal (secret)`, …).
    pub kind: &'static str,
    pub tenant: Option<&'a str>,
}

/// A registry's state in `status --json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryStatusJson<'a> {
    name: &'a str,
    login_server: &'a str,
    identity: &'a str,
    audience: Option<Audience>,
    last_refresh: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    role: Option<RegistryRole>,
    /// The role in a word: `pull`, `push`, `all` or `none`.
    can: Option<&'static str>,
    /// `AbacRepositoryPermissions` on a registry with repository permissions (ABAC); absent
    /// for legacy registry permissions or when not read yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    role_assignment_mode: Option<acr_tray_engine::RoleAssignmentMode>,
    /// On an ABAC registry, the Entra repository role that grants what `role` says (per
    /// repository).
    #[serde(skip_serializing_if = "Option::is_none")]
    role_name: Option<&'static str>,
    admin_account: Option<AdminAccountJson<'a>>,
    /// The ACR token it signs in with and what its watch saw (absent for other sign-ins).
    #[serde(skip_serializing_if = "Option::is_none")]
    acr_token: Option<AcrTokenJson<'a>>,
    last_error: Option<LastErrorJson<'a>>,
    /// The registry's tenant, where it is worth naming (another tenant than its identity's,
    /// or an account with several); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<&'a str>,
    /// That tenant's display name (or domain), when ARM listed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant_name: Option<&'a str>,
}

/// An ACR token as last seen.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AcrTokenJson<'a> {
    token: &'a str,
    watched_by: Option<&'a str>,
    enabled: Option<bool>,
    password_expiry: Option<DateTime<Utc>>,
    expiring_password: Option<&'static str>,
    checked_at: Option<DateTime<Utc>>,
    not_watched: Option<&'a str>,
}

/// The admin account as last seen.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AdminAccountJson<'a> {
    enabled: Option<bool>,
    checked_at: Option<DateTime<Utc>>,
    passwords_watched: Option<bool>,
    not_watched: Option<&'a str>,
}

/// The last refresh's error.
#[derive(Debug, Serialize)]
struct LastErrorJson<'a> {
    at: DateTime<Utc>,
    kind: ErrorKind,
    message: &'a str,
    hint: Option<String>,
}

impl<'a> From<&'a StoredError> for LastErrorJson<'a> {
    fn from(e: &'a StoredError) -> Self {
        Self {
            at: e.at,
            kind: e.kind,
            message: &e.message,
            hint: e.hint.as_ref().map(crate::words::say),
        }
    }
}

impl<'a> From<&'a RegistryStatus> for RegistryStatusJson<'a> {
    fn from(s: &'a RegistryStatus) -> Self {
        Self {
            name: &s.name,
            login_server: &s.login_server,
            identity: &s.identity,
            audience: s.audience,
            last_refresh: s.last_refresh,
            expires_at: s.expires_at,
            role: s.role,
            can: s.role.map(RegistryRole::can),
            role_assignment_mode: s.role_assignment_mode().filter(|m| m.is_abac()),
            role_name: s.role_name().filter(|_| s.repository_permissions()),
            admin_account: s.admin.as_ref().map(|a| AdminAccountJson {
                enabled: a.enabled,
                checked_at: a.checked_at,
                passwords_watched: a.passwords_readable,
                not_watched: a.not_watched.as_deref(),
            }),
            acr_token: s.acr_token.as_ref().map(|t| {
                let watch = t.watch.as_ref();
                let soonest = watch.and_then(|w| w.soonest_expiry());
                AcrTokenJson {
                    token: &t.token,
                    watched_by: t.watched_by.as_deref(),
                    enabled: watch.and_then(|w| w.enabled),
                    password_expiry: soonest.map(|(_, at)| at),
                    expiring_password: soonest.map(|(p, _)| p.as_str()),
                    checked_at: watch.and_then(|w| w.checked_at),
                    not_watched: watch.and_then(|w| w.not_watched.as_deref()),
                }
            }),
            last_error: s.last_error.as_ref().map(LastErrorJson::from),
            tenant: s.tenant.as_deref(),
            tenant_name: s.tenant_name.as_deref(),
        }
    }
}

/// `token NAME --json`: the registry's current credential (a secret, asked for; no `Debug`,
/// so it is never logged).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Token<'a> {
    pub login_server: String,
    pub username: &'a str,
    pub access_token: &'a str,
    pub expires_on: Option<DateTime<Utc>>,
}

/// `check --json`: the report, or the error with `authenticated: false`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckJson<'a> {
    registry: &'a str,
    login_server: Option<&'a str>,
    /// `config-file`, `helper` (with `helper` and `key`) or `acr-tray` (with `key`).
    source: Option<&'a CredentialSource>,
    username: Option<&'a str>,
    authenticated: bool,
    repository: Option<&'a str>,
    granted: &'a [RepositoryAction],
    expires_at: Option<DateTime<Utc>>,
    /// What to do about what was not granted (on a registry with repository permissions);
    /// absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
    error: Option<ErrorJson>,
}

impl<'a> CheckJson<'a> {
    pub fn new(
        registry: &'a str,
        repository: Option<&'a str>,
        result: &'a Result<CheckReport, Error>,
    ) -> Self {
        match result {
            Ok(r) => Self {
                registry: &r.name,
                login_server: Some(&r.login_server),
                source: Some(&r.source),
                username: Some(&r.username),
                authenticated: r.authenticated,
                repository: r.repository.as_deref(),
                granted: &r.granted,
                expires_at: r.expires_at,
                hint: r.advice.as_ref().map(crate::words::say),
                error: None,
            },
            Err(e) => Self {
                registry,
                login_server: None,
                source: None,
                username: None,
                authenticated: false,
                repository,
                granted: &[],
                expires_at: None,
                hint: None,
                error: Some(e.into()),
            },
        }
    }
}
