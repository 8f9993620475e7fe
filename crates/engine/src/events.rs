//! What happens in the engine, as events for whoever listens: the CLI prints them, the tray app
//! turns them into notifications and icon states. Events go through an injected [`EventSink`].

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ErrorKind;
use crate::hint::Hint;

/// An engine event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A registry's Docker credential was written.
    #[serde(rename_all = "camelCase")]
    Refreshed {
        /// Short name.
        registry: String,
        /// Login server.
        login_server: String,
        /// When the new credential runs out (`None` for admin passwords).
        expires_at: Option<DateTime<Utc>>,
    },
    /// A registry's refresh failed. The credential already in Docker's config is kept.
    #[serde(rename_all = "camelCase")]
    RefreshFailed {
        /// Short name.
        registry: String,
        /// Login server.
        login_server: String,
        /// Who signs in for it.
        identity: Option<String>,
        /// What kind of failure.
        kind: ErrorKind,
        /// The message.
        message: String,
        /// What to do.
        hint: Option<Hint>,
        /// Until when the credential Docker has keeps working (`None`: Docker has none that
        /// ACR Tray wrote, or it never expires).
        valid_until: Option<DateTime<Utc>>,
    },
    /// A registry refreshed again after failing.
    #[serde(rename_all = "camelCase")]
    Recovered {
        /// Short name.
        registry: String,
        /// Login server.
        login_server: String,
        /// When the failures began.
        failing_since: DateTime<Utc>,
    },
    /// An identity's session ended; it waits for the user to sign in again, with no further
    /// automatic attempts.
    SignInRequired {
        /// The identity.
        identity: String,
        /// Why.
        message: String,
        /// What to do.
        hint: Option<Hint>,
    },
    /// The user signed an identity in (again).
    SignedIn {
        /// The identity.
        identity: String,
    },
    /// An identity's session will need an interactive sign-in soon (a sign-in-frequency
    /// policy learned from Entra ID).
    SessionExpiringSoon {
        /// The identity.
        identity: String,
        /// When the session is expected to end.
        at: DateTime<Utc>,
    },
    /// A registry's admin account was enabled (the ACR docs recommend keeping it disabled:
    /// anyone with its password can push and pull).
    #[serde(rename_all = "camelCase")]
    AdminEnabled {
        /// Short name.
        registry: String,
        /// Login server.
        login_server: String,
        /// The registry signs in with the admin account (ACR Tray uses it again).
        admin_mode: bool,
    },
    /// A registry's admin account was disabled: its passwords no longer log in.
    #[serde(rename_all = "camelCase")]
    AdminDisabled {
        /// Short name.
        registry: String,
        /// Login server.
        login_server: String,
        /// The registry signs in with the admin account, so Docker's access through ACR Tray
        /// is gone.
        admin_mode: bool,
    },
    /// One of a registry's admin passwords was regenerated: the old one no longer logs in.
    #[serde(rename_all = "camelCase")]
    AdminPasswordRegenerated {
        /// Short name.
        registry: String,
        /// Login server.
        login_server: String,
        /// Which: `password` or `password2` (never its value).
        password: String,
        /// The registry signs in with the admin account.
        admin_mode: bool,
        /// The new password is the one ACR Tray uses, and it was written into Docker's config.
        written_to_docker: bool,
    },
    /// A password of the ACR token a registry signs in with expires within `within_days`
    /// (14, then 1): once each per expiry, from the token's ARM resource.
    #[serde(rename_all = "camelCase")]
    AcrTokenPasswordExpiring {
        /// Short name.
        registry: String,
        /// Login server.
        login_server: String,
        /// The token's name.
        token: String,
        /// Which password: `password1` or `password2` (never its value).
        password: String,
        /// When it expires.
        expires_at: DateTime<Utc>,
        /// The threshold crossed, in days.
        within_days: u32,
    },
    /// The ACR token a registry signs in with was disabled: none of its passwords logs in.
    #[serde(rename_all = "camelCase")]
    AcrTokenDisabled {
        /// Short name.
        registry: String,
        /// Login server.
        login_server: String,
        /// The token's name.
        token: String,
    },
    /// A file of another registry client (`client`) could not be written with this pass's
    /// credentials; Docker's own config was written as usual, and so were the other files.
    /// Sent on every pass while it fails.
    ClientFileFailed {
        /// The file (or the path as configured, when it names no usable file).
        file: String,
        /// Whose file it is.
        client: Client,
        /// What kind of failure.
        kind: ErrorKind,
        /// The message.
        message: String,
        /// What to do.
        hint: Option<Hint>,
    },
    /// A client file that had failed was written again.
    ClientFileWritten {
        /// The file.
        file: String,
        /// Whose file it is.
        client: Client,
    },
    /// A client file that had failed is no longer kept in sync (its switch turned off, or its
    /// `extra_configs` entry removed): its failure is forgotten, without a "written again".
    ClientFileDropped {
        /// The file.
        file: String,
        /// Whose file it was.
        client: Client,
    },
}

/// A registry client besides Docker whose own credentials file each refresh also writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Client {
    /// podman (and buildah, skopeo): the containers auth.json (`[docker] podman = true`).
    Podman,
    /// Helm's registry config (`[clients] helm = true`).
    Helm,
    /// A further Docker config (`[docker] extra_configs`).
    DockerExtra,
}

impl Client {
    /// What the file is called in sentences: "Helm's registry config".
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Podman => "podman's auth.json",
            Self::Helm => "Helm's registry config",
            Self::DockerExtra => "the extra Docker config",
        }
    }

    /// [`Client::file_name`] to start a sentence or a heading: "Podman's auth.json".
    pub fn file_title(self) -> &'static str {
        match self {
            Self::Podman => "Podman's auth.json",
            Self::Helm => "Helm's registry config",
            Self::DockerExtra => "The extra Docker config",
        }
    }

    /// How to stop ACR Tray writing such a file (in config.toml).
    pub fn how_to_stop(self) -> &'static str {
        match self {
            Self::Podman => "set [docker] podman = false to stop keeping it in sync",
            Self::Helm => "set [clients] helm = false to stop keeping it in sync",
            Self::DockerExtra => "remove it from [docker] extra_configs",
        }
    }
}

impl Event {
    /// The registry (login server) or identity the event is about, for logs and filters.
    pub fn subject(&self) -> &str {
        match self {
            Self::Refreshed { login_server, .. }
            | Self::RefreshFailed { login_server, .. }
            | Self::Recovered { login_server, .. }
            | Self::AdminEnabled { login_server, .. }
            | Self::AdminDisabled { login_server, .. }
            | Self::AdminPasswordRegenerated { login_server, .. }
            | Self::AcrTokenPasswordExpiring { login_server, .. }
            | Self::AcrTokenDisabled { login_server, .. } => login_server,
            Self::SignInRequired { identity, .. }
            | Self::SignedIn { identity }
            | Self::SessionExpiringSoon { identity, .. } => identity,
            Self::ClientFileFailed { file, .. }
            | Self::ClientFileWritten { file, .. }
            | Self::ClientFileDropped { file, .. } => file,
        }
    }
}

/// What a backoff or a notification incident is about, as a key: the scheduler backs off per
/// registry and per identity, and the notification policy keeps its incidents (and
/// `notifications.json`) under the same keys. Its text — `registry:<login server>`,
/// `identity:<id>`, `admin:<login server>`, `acr-token:<login server>`, `session:<id>`,
/// `client-file:<file>` — is the stored form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectKey {
    /// A registry, by login server: its refresh fails.
    Registry(String),
    /// An identity: its token cannot be had, or it must sign in again.
    Identity(String),
    /// A registry's admin account, by login server.
    Admin(String),
    /// The ACR token a registry signs in with, by login server.
    AcrToken(String),
    /// An identity's session, which a sign-in-frequency policy will end.
    Session(String),
    /// Another registry client's file, by path: it cannot be written.
    ClientFile(String),
}

impl std::fmt::Display for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Registry(login_server) => write!(f, "registry:{login_server}"),
            Self::Identity(id) => write!(f, "identity:{id}"),
            Self::Admin(login_server) => write!(f, "admin:{login_server}"),
            Self::AcrToken(login_server) => write!(f, "acr-token:{login_server}"),
            Self::Session(id) => write!(f, "session:{id}"),
            Self::ClientFile(file) => write!(f, "client-file:{file}"),
        }
    }
}

/// Receives events.
pub trait EventSink: Send + Sync {
    /// Handles one event; must not block for long.
    fn emit(&self, event: Event);
}

/// Drops every event.
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _event: Event) {}
}

/// Keeps every event (tests, and the CLI, which prints them at the end).
#[derive(Default)]
pub struct CollectEvents(Mutex<Vec<Event>>);

impl CollectEvents {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events so far.
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl EventSink for CollectEvents {
    fn emit(&self, event: Event) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(event);
    }
}

#[cfg(test)]
mod tests {
    use super::Client;

    #[test]
    fn a_file_title_is_its_file_name_capitalised() {
        for client in [Client::Podman, Client::Helm, Client::DockerExtra] {
            let name = client.file_name();
            let title = client.file_title();
            let mut first = name.chars();
            let capitalised: String = first
                .next()
                .map(|c| c.to_uppercase().chain(first).collect())
                .unwrap_or_default();
            assert_eq!(title, capitalised, "{client:?}");
            assert_ne!(title, name.to_lowercase(), "{client:?}");
        }
    }
}
