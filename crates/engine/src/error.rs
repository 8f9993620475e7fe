//! Errors of the engine: typed, cloneable (one failure may be reported for many registries), and
//! written for the user: each names the registry, identity, URL or file concerned, and
//! [`Error::hint`] says what to do about it.

use std::path::PathBuf;

use crate::hint::{Action, Hint};

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure this is; decides retries, exit codes and how the UI shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The user must sign in again (or supply new credentials); retrying will not help.
    SignInRequired,
    /// Something in the settings, the input or the Azure set-up is wrong; retrying will not help.
    Configuration,
    /// The identity lacks a role or access is denied.
    Permission,
    /// Docker's configuration cannot be used as it is.
    DockerConfig,
    /// A network fault, timeout, throttling or server error: retrying later should work.
    Transient,
}

/// An engine error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The user gave something that cannot work.
    #[error("{message}")]
    InvalidInput {
        /// What is wrong.
        message: String,
        /// What to do instead.
        hint: Hint,
    },
    /// A settings or state file cannot be read or written.
    #[error("{}: {message}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A login server outside the cloud's ACR suffix that the user has not trusted.
    #[error(
        "refusing to send Azure tokens to {host}: it is not a registry of this cloud (login servers end with .{suffix})"
    )]
    HostNotAllowed {
        /// The refused host.
        host: String,
        /// The cloud's ACR login-server suffix.
        suffix: String,
    },
    /// Entra ID refused to issue a token.
    #[error("Entra ID refused a token for {}: {}", .0.identity, .0.description)]
    Entra(Box<EntraError>),
    /// No usable answer from a server (connection, TLS, timeout, 5xx, malformed body).
    #[error("{what} at {url} failed: {detail}")]
    Network {
        /// What was being done ("token request to Entra ID", "token exchange").
        what: String,
        /// The URL, without query or user info.
        url: String,
        /// What went wrong.
        detail: String,
        /// `Retry-After` seconds, when the server sent one.
        retry_after: Option<u64>,
    },
    /// The registry's token exchange refused the identity.
    #[error("{}", no_role_message(.identity, .registry, .repository_permissions.is_some(), .tried_tenants))]
    NoRole {
        /// The identity.
        identity: String,
        /// The registry's login server.
        registry: String,
        /// Extra detail, e.g. which audiences were tried.
        detail: String,
        /// Set when the registry uses repository permissions (ABAC): AcrPull and AcrPush
        /// are not honoured there; holds the registry's ARM id when known.
        repository_permissions: Option<Option<String>>,
        /// The account's other tenants tried too, each with what it answered (empty when
        /// none was: the registry's tenant was known, or the account has one).
        tried_tenants: Vec<String>,
    },
    /// The registry answered something ACR Tray cannot use.
    #[error("registry {registry}: {message}")]
    Registry {
        /// The registry's login server.
        registry: String,
        /// What happened.
        message: String,
        /// How ACR Tray treats it.
        kind: ErrorKind,
        /// What to do about it.
        hint: Hint,
    },
    /// Docker's config.json is not valid JSON (or not an object); it was left untouched.
    #[error("{} is not valid: {detail}; ACR Tray left it untouched", path.display())]
    DockerConfigMalformed {
        /// The file.
        path: PathBuf,
        /// The parse error, with line and column.
        detail: String,
    },
    /// A Docker credential helper is missing or failed.
    #[error("{message}")]
    DockerHelperFailed {
        /// The helper's name.
        helper: String,
        /// What happened.
        message: String,
        /// What to do.
        hint: Hint,
    },
    /// A file operation failed.
    #[error("cannot {operation} {}: {detail}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done ("write", "read", ...).
        operation: String,
        /// The OS error.
        detail: String,
    },
    /// The OS keyring cannot be used.
    #[error("the OS keyring is not available: {detail}")]
    KeyringUnavailable {
        /// The keyring's error.
        detail: String,
    },
    /// An identity's secret cannot be found where its settings say it is.
    #[error("the secret of {identity} is not available: {detail}")]
    SecretUnavailable {
        /// The identity.
        identity: String,
        /// Why.
        detail: String,
        /// What to do.
        hint: Hint,
    },
    /// An identity whose session ended earlier; nothing is tried until the user signs in again.
    #[error("{identity} must sign in again: {reason}")]
    SignInRequired {
        /// The identity.
        identity: String,
        /// What Entra said when the session ended.
        reason: String,
        /// What to do.
        hint: Hint,
    },
    /// One tenant of a person's account demands an interactive sign-in there (MFA, a
    /// Conditional Access policy) or no longer takes the session; the account's other tenants
    /// keep working. Nothing is tried in that tenant until the user signs in to it.
    #[error("{identity} must sign in to tenant {tenant}: {reason}")]
    TenantSignInRequired {
        /// The identity (the account).
        identity: String,
        /// The tenant's GUID.
        tenant: String,
        /// What Entra said.
        reason: String,
        /// What to do.
        hint: Hint,
    },
    /// A person's sign-in (browser or device code) did not complete.
    #[error("sign-in failed: {message}")]
    SignIn {
        /// What happened.
        message: String,
        /// What to do.
        hint: Hint,
    },
    /// A registry name that is not configured.
    #[error("no registry named {name} is configured")]
    UnknownRegistry {
        /// The name asked for.
        name: String,
    },
    /// An identity that is not signed in.
    #[error("no identity {id} is signed in")]
    UnknownIdentity {
        /// The id asked for.
        id: String,
    },
    /// A lock ACR Tray's processes share was still held when the wait for it ended.
    #[error("{} is locked by {holder}; ACR Tray waited {waited_secs} s for it and gave up", path.display())]
    LockHeld {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, as far as it says.
        holder: String,
        /// How long ACR Tray waited.
        waited_secs: u64,
    },
    /// Another engine already keeps these registries refreshed.
    #[error("ACR Tray is already running for {}: {holder}", config.display())]
    AlreadyRunning {
        /// The settings file both would use.
        config: PathBuf,
        /// Who holds the lock (process id, program, since when).
        holder: String,
    },
}

impl Error {
    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid_input(message: impl Into<String>, hint: impl Into<Hint>) -> Self {
        Self::InvalidInput {
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(operation: &str, path: impl Into<PathBuf>, err: &std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            operation: operation.to_owned(),
            detail: err.to_string(),
        }
    }

    /// How ACR Tray treats this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidInput { .. }
            | Self::Config { .. }
            | Self::HostNotAllowed { .. }
            | Self::UnknownRegistry { .. }
            | Self::UnknownIdentity { .. }
            | Self::AlreadyRunning { .. } => ErrorKind::Configuration,
            Self::Entra(e) => e.kind,
            Self::Registry { kind, .. } => *kind,
            Self::Network { .. } => ErrorKind::Transient,
            Self::NoRole { .. } => ErrorKind::Permission,
            Self::DockerConfigMalformed { .. } | Self::DockerHelperFailed { .. } => {
                ErrorKind::DockerConfig
            }
            Self::Io { .. } | Self::LockHeld { .. } => ErrorKind::Transient,
            Self::KeyringUnavailable { .. }
            | Self::SecretUnavailable { .. }
            | Self::SignInRequired { .. }
            | Self::TenantSignInRequired { .. }
            | Self::SignIn { .. } => ErrorKind::SignInRequired,
        }
    }

    /// A secret that cannot be read, with `hint` as what to do about it (any other error as it
    /// is): the caller knows how the secret is given again.
    pub(crate) fn with_secret_hint(self, hint: impl FnOnce() -> Hint) -> Self {
        match self {
            Self::SecretUnavailable {
                identity, detail, ..
            } => Self::SecretUnavailable {
                identity,
                detail,
                hint: hint(),
            },
            other => other,
        }
    }

    /// Seconds the server asked us to wait before trying again.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Entra(e) => e.retry_after,
            Self::Network { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<Hint> {
        let hint = match self {
            Self::Entra(e) => e.hint.clone(),
            Self::InvalidInput { hint, .. }
            | Self::Registry { hint, .. }
            | Self::SecretUnavailable { hint, .. }
            | Self::SignInRequired { hint, .. }
            | Self::TenantSignInRequired { hint, .. }
            | Self::SignIn { hint, .. }
            | Self::DockerHelperFailed { hint, .. } => hint.clone(),
            Self::Config { .. } => {
                Hint::text("fix or remove the file; ACR Tray rewrites it on the next change")
            }
            Self::HostNotAllowed { host, .. } => Hint::text(
                "check the name; if this is your registry's custom domain, add it ",
            )
            .with(Action::TrustCustomDomain { host: host.clone() }),
            Self::Network { .. } => Hint::text(
                "check the network connection, proxy (HTTPS_PROXY) and CA settings (ca_file, SSL_CERT_FILE); ACR Tray retries on its next pass",
            ),
            Self::NoRole {
                identity,
                registry,
                repository_permissions: Some(registry_id),
                ..
            } => repository_role_hint(registry, identity, registry_id.as_deref()),
            Self::NoRole {
                identity, registry, ..
            } => Hint::text(format!(
                "assign AcrPull (pull) or AcrPush (push and pull) on {registry} to {identity}, e.g. "
            ))
            .with(Action::shell(format!(
                "az role assignment create --assignee {identity} --role AcrPull --scope <registry id>"
            ))),
            Self::DockerConfigMalformed { .. } => Hint::text(
                "fix the JSON by hand (or move the file away) and run the refresh again",
            ),
            Self::Io { .. } => Hint::text("check the folder's permissions and free space"),
            Self::KeyringUnavailable { .. } => Hint::text(
                "on a machine without a keyring, give the secret at run time in AZURE_CLIENT_SECRET",
            )
            .cli_note(" (login with --secret-from-env)")
            .then(" or keep it in a file only you can read")
            .cli_note(" (login with --secret-file PATH)"),
            Self::UnknownRegistry { .. } => Hint::text("see ").with(Action::ListRegistries),
            Self::UnknownIdentity { .. } => Hint::text("see ")
                .with(Action::Status)
                .then(", or sign in with ")
                .with(Action::sign_in_again()),
            Self::LockHeld { .. } => Hint::text("it is tried again on the next refresh; if the process named holds it for long, end it, and if no ACR Tray program is running, another program or user holds the file: delete it (ACR Tray makes a new one)"),
            Self::AlreadyRunning { .. } => Hint::text("one engine per settings file is enough: stop the other one first (quit the tray app, or ")
                .with(Action::shell("systemctl --user stop acr-tray"))
                .then("), or give this one its own ACR_TRAY_HOME; ")
                .with(Action::RefreshNow)
                .then(" still works beside it"),
        };
        hint.non_empty()
    }
}

/// [`Error::NoRole`]'s message: on an ABAC registry, that the registry roles do not count.
fn no_role_message(
    identity: &str,
    registry: &str,
    repository_permissions: bool,
    tried_tenants: &[String],
) -> String {
    let refusal = no_role_refusal(identity, registry, repository_permissions);
    if tried_tenants.is_empty() {
        return refusal;
    }
    format!(
        "{refusal}; the account's other tenants were tried too: {}",
        tried_tenants.join(", ")
    )
}

fn no_role_refusal(identity: &str, registry: &str, repository_permissions: bool) -> String {
    if repository_permissions {
        format!(
            "identity {identity} has no repository role on registry {registry}: it uses repository permissions (ABAC), where AcrPull and AcrPush are not honoured"
        )
    } else {
        format!("identity {identity} has no role on registry {registry}: assign AcrPull or AcrPush")
    }
}

/// What to ask for on a registry with repository permissions (ABAC): the Entra repository
/// role, with the command that assigns it registry-wide (a condition on the repository name
/// limits it).
pub(crate) fn repository_role_hint(
    registry: &str,
    identity: &str,
    registry_id: Option<&str>,
) -> Hint {
    use crate::hint::{ROLE_CATALOG_LISTER, ROLE_REPOSITORY_READER, ROLE_REPOSITORY_WRITER};
    let scope = registry_id.unwrap_or("<registry id>");
    Hint::text(format!(
        "{registry} uses repository permissions (ABAC): AcrPull and AcrPush are not honoured there. Ask for {ROLE_REPOSITORY_READER} (pull) or {ROLE_REPOSITORY_WRITER} (push and pull) for {identity}, e.g. "
    ))
    .with(Action::shell(format!(
        "az role assignment create --assignee {identity} --role \"{ROLE_REPOSITORY_READER}\" --scope {scope}"
    )))
    .then(format!(
        " (a condition on @Request[Microsoft.ContainerRegistry/registries/repositories:name] limits it to some repositories); listing repositories needs {ROLE_CATALOG_LISTER}"
    ))
}

/// Why Entra ID refused a token (docs/protocol.md#entra-errors).
#[derive(Debug, Clone)]
pub struct EntraError {
    /// The identity that asked.
    pub identity: String,
    /// The OAuth `error` code (`invalid_client`, `invalid_grant`, ...).
    pub code: String,
    /// The `AADSTS` numbers from `error_codes`.
    pub aadsts: Vec<u32>,
    /// The first line of `error_description` (it starts with `AADSTS<n>:`).
    pub description: String,
    /// How ACR Tray treats it.
    pub kind: ErrorKind,
    /// What to do about it.
    pub hint: Hint,
    /// `Retry-After` seconds, when the server sent one.
    pub retry_after: Option<u64>,
}
