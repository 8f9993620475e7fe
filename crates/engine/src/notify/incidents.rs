//! The policy's persisted model: incidents and what they are about ([`Subject`]), their keys,
//! the admin-account news still to show ([`Announcement`]), and what follows from an incident
//! alone: whether Docker's credential is at risk, how urgent it is and what a click does.
//! [`load_incidents`] / [`save_incidents`] keep it across restarts (`notifications.json`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::text;
use super::{NotificationAction, Urgency};
use crate::error::{Error, ErrorKind, Result};
use crate::events::{Client, Event, SubjectKey};
use crate::fsutil;
use crate::hint::Hint;

/// A transient failure is announced once Docker's credential is less than this far from
/// running out.
pub const AT_RISK: TimeDelta = TimeDelta::minutes(30);

/// What an incident is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Subject {
    /// A registry's refresh fails.
    #[serde(rename_all = "camelCase")]
    Registry {
        /// Short name.
        registry: String,
        /// Login server.
        login_server: String,
        /// Who signs in for it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity: Option<String>,
    },
    /// An identity must sign in again.
    Identity {
        /// The identity.
        identity: String,
    },
    /// An identity's session will end around `at`.
    Session {
        /// The identity.
        identity: String,
        /// When the session is expected to end.
        at: DateTime<Utc>,
    },
    /// Another registry client's file cannot be written (Docker's own config is).
    ClientFile {
        /// The file.
        file: String,
        /// Whose file it is.
        client: Client,
    },
}

/// One open (or just closed) incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Incident {
    /// What it is about.
    pub subject: Subject,
    /// Opening order.
    pub seq: u64,
    /// When the policy first saw it.
    pub since: DateTime<Utc>,
    /// What kind of failure (registries and identities).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ErrorKind>,
    /// The latest message.
    #[serde(default)]
    pub message: String,
    /// The latest hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Hint>,
    /// Until when Docker's credential keeps working (registries), as of the latest event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<DateTime<Utc>>,
    /// A notification was shown for it (since it opened, or since its last snooze).
    #[serde(default)]
    pub shown: bool,
    /// The `incident` of the notification that announced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown_as: Option<String>,
    /// Nothing is shown for it before this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<DateTime<Utc>>,
}

impl Incident {
    pub(super) fn new(subject: Subject, seq: u64, since: DateTime<Utc>) -> Self {
        Self {
            subject,
            seq,
            since,
            kind: None,
            message: String::new(),
            hint: None,
            valid_until: None,
            shown: false,
            shown_as: None,
            snoozed_until: None,
        }
    }
}

/// The policy's state, kept between runs with [`save_incidents`] (e.g. as `notifications.json`
/// in the state folder). Never a secret.
#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Incidents {
    /// Open incidents by key.
    #[serde(default)]
    pub open: BTreeMap<String, Incident>,
    /// Closed incidents that were announced, whose "logged in again" is still to be shown.
    #[serde(default)]
    pub recovered: BTreeMap<String, Incident>,
    /// When notifications were shown within the last [`RATE_WINDOW`](super::policy::RATE_WINDOW).
    #[serde(default)]
    pub shown: Vec<DateTime<Utc>>,
    /// The next incident sequence or batch number.
    #[serde(default)]
    pub next_seq: u64,
    /// Admin-account news not shown yet, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub announcements: Vec<Announcement>,
}

/// A piece of news to show once (an admin-account change, an ACR token's password expiring
/// or the token disabled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Announcement {
    /// `admin:<login server>` or `acr-token:<login server>`.
    pub key: String,
    /// The registry's short name.
    pub registry: String,
    /// The title.
    pub title: String,
    /// The text.
    pub body: String,
    /// How loudly.
    pub urgency: Urgency,
    /// What a click does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<NotificationAction>,
}

/// Reads the policy's state; a missing or unreadable file gives an empty state.
pub fn load_incidents(path: &Path) -> Incidents {
    let Ok(bytes) = std::fs::read(path) else {
        return Incidents::default();
    };
    serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        tracing::warn!(path = %path.display(), error = %e, "ignoring an unreadable notification state");
        Incidents::default()
    })
}

/// Writes the policy's state atomically.
pub fn save_incidents(path: &Path, incidents: &Incidents) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(incidents).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    fsutil::atomic_write(path, &bytes)
}

pub(super) fn registry_key(login_server: &str) -> String {
    SubjectKey::Registry(login_server.to_owned()).to_string()
}

pub(super) fn identity_key(identity: &str) -> String {
    SubjectKey::Identity(identity.to_owned()).to_string()
}

pub(super) fn admin_key(login_server: &str) -> String {
    SubjectKey::Admin(login_server.to_owned()).to_string()
}

pub(super) fn acr_token_key(login_server: &str) -> String {
    SubjectKey::AcrToken(login_server.to_owned()).to_string()
}

pub(super) fn session_key(identity: &str) -> String {
    SubjectKey::Session(identity.to_owned()).to_string()
}

pub(super) fn client_file_key(file: &str) -> String {
    SubjectKey::ClientFile(file.to_owned()).to_string()
}

/// The key of a notification about several incidents or announcements.
pub(super) fn batch_key(seq: u64) -> String {
    format!("batch:{seq}")
}

/// Docker's credential runs out soon, has run out, or is unknown.
pub(super) fn at_risk(valid_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    valid_until.is_none_or(|v| v - now < AT_RISK)
}

/// The identity a sign-in would fix this incident for.
fn sign_in_identity(incident: &Incident) -> Option<&str> {
    match &incident.subject {
        Subject::Identity { identity } | Subject::Session { identity, .. } => Some(identity),
        Subject::Registry { identity, .. } if incident.kind == Some(ErrorKind::SignInRequired) => {
            identity.as_deref()
        }
        Subject::Registry { .. } | Subject::ClientFile { .. } => None,
    }
}

/// How loudly to announce an incident (see the module documentation of [`super`]).
pub(super) fn urgency(incident: &Incident, now: DateTime<Utc>) -> Urgency {
    match &incident.subject {
        Subject::Identity { .. } => Urgency::Critical,
        // Docker keeps working; the other client's login runs out with its last token.
        Subject::Session { .. } | Subject::ClientFile { .. } => Urgency::Normal,
        Subject::Registry { .. } if at_risk(incident.valid_until, now) => Urgency::Critical,
        Subject::Registry { .. } => Urgency::Normal,
    }
}

/// What a click should do for these incidents: sign in when they name exactly one identity to
/// sign in, else the settings.
pub(super) fn action_for(incidents: &[&Incident]) -> NotificationAction {
    let identities: BTreeSet<&str> = incidents
        .iter()
        .filter_map(|i| sign_in_identity(i))
        .collect();
    let only_sign_in = incidents.iter().all(|i| sign_in_identity(i).is_some())
        || incidents
            .iter()
            .any(|i| !matches!(i.subject, Subject::Registry { .. }));
    match identities.into_iter().collect::<Vec<_>>().as_slice() {
        [one] if only_sign_in => NotificationAction::SignIn {
            identity: (*one).to_owned(),
        },
        _ => NotificationAction::OpenSettings,
    }
}

impl Announcement {
    /// The announcement of an admin-account change (`None` for other events): its words from
    /// [`text`], how loudly, and what a click does.
    pub(super) fn of(event: &Event) -> Option<Self> {
        let (registry, login_server, (title, body), urgency, action) = match event {
            Event::AdminEnabled {
                registry,
                login_server,
                admin_mode,
            } => (
                registry,
                login_server,
                text::admin_enabled(registry, login_server, *admin_mode),
                Urgency::Normal,
                Some(NotificationAction::OpenSettings),
            ),
            Event::AdminDisabled {
                registry,
                login_server,
                admin_mode: true,
            } => (
                registry,
                login_server,
                text::admin_disabled(registry, login_server, true),
                Urgency::Critical,
                Some(NotificationAction::OpenSettings),
            ),
            Event::AdminDisabled {
                registry,
                login_server,
                admin_mode: false,
            } => (
                registry,
                login_server,
                text::admin_disabled(registry, login_server, false),
                Urgency::Normal,
                None,
            ),
            Event::AdminPasswordRegenerated {
                registry,
                login_server,
                password,
                admin_mode,
                written_to_docker,
            } => (
                registry,
                login_server,
                text::admin_password_regenerated(
                    registry,
                    login_server,
                    password,
                    *admin_mode,
                    *written_to_docker,
                ),
                Urgency::Normal,
                None,
            ),
            Event::AcrTokenPasswordExpiring {
                registry,
                login_server,
                token,
                password,
                expires_at,
                within_days,
            } => {
                let urgency = if *within_days <= 1 {
                    Urgency::Critical
                } else {
                    Urgency::Normal
                };
                let words = text::acr_token_expiring(
                    registry,
                    login_server,
                    token,
                    password,
                    *expires_at,
                    *within_days,
                );
                return Some(Self::acr_token(registry, login_server, words, urgency));
            }
            Event::AcrTokenDisabled {
                registry,
                login_server,
                token,
            } => {
                let words = text::acr_token_disabled(registry, login_server, token);
                return Some(Self::acr_token(
                    registry,
                    login_server,
                    words,
                    Urgency::Critical,
                ));
            }
            _ => return None,
        };
        Some(Self {
            key: admin_key(login_server),
            registry: registry.clone(),
            title,
            body,
            urgency,
            action,
        })
    }
}

impl Announcement {
    /// An ACR-token announcement (`acr-token:<login server>`); a click opens the settings,
    /// where the token's password is given again.
    fn acr_token(
        registry: &str,
        login_server: &str,
        (title, body): (String, String),
        urgency: Urgency,
    ) -> Self {
        Self {
            key: acr_token_key(login_server),
            registry: registry.to_owned(),
            title,
            body,
            urgency,
            action: Some(NotificationAction::OpenSettings),
        }
    }
}
