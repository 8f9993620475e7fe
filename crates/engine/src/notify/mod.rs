//! Which engine [`Event`]s become desktop notifications, and when: calm and exactly once, for a
//! developer who keeps Docker logged in all day.
//!
//! The policy is pure: it reads no clock (`now` is passed in) and does no I/O except
//! [`load_incidents`] / [`save_incidents`], which keep its state ([`Incidents`](incidents::Incidents)) across restarts.
//! The tray feeds it the events of each refresh pass (or burst) with
//! [`NotificationPolicy::on_events`], shows what comes back, and saves the state. Calling it with
//! no events is fine and is how deferred notifications and time-based rules catch up;
//! [`NotificationPolicy::next_check`] says when that is worth doing.
//!
//! # Incidents
//!
//! Something that is wrong is an *incident*, keyed `registry:<login server>` (a failed refresh),
//! `identity:<id>` (the session is over, sign-in required) or `session:<id>` (a sign-in-frequency
//! policy will end the session soon). While an incident is open it is announced **at most once**,
//! however many events repeat it.
//!
//! - **Transient failures** (offline, 5xx, throttling) are quiet while Docker still holds a
//!   credential that keeps working: they are announced only once the credential is *at risk*
//!   (`valid_until` unknown, or less than [`AT_RISK`](incidents::AT_RISK) = 30 minutes away, or past) or the
//!   incident has lasted more than [`QUIET_FOR`](policy::QUIET_FOR) = 2 hours. Other failures (permission,
//!   configuration, Docker's config, sign-in) are announced at once.
//! - A registry whose identity has an open sign-in incident is **covered** by it: the sign-in
//!   notification says all there is to do. When the identity signs in, the registry incidents it
//!   covered that were only about the ended session (kind sign-in-required, never announced) are
//!   dropped: their registries start afresh.
//! - **Sign-in required**: one notification, [`Urgency::Critical`], action
//!   [`NotificationAction::SignIn`], the body saying what to do (the event's hint). It also
//!   supersedes a pending "sign-in needed soon" warning for the same identity.
//! - **Session expiring soon**: one notification per identity and expected time (a time that
//!   moves by a minute or more is a new one), [`Urgency::Normal`], action `SignIn`:
//!   "Sign-in will be needed around 14:05 — sign in now?" (local time; with the weekday when
//!   it is 20 hours or more away). Signing in closes it silently; it is ignored while the
//!   identity already must sign in.
//! - **Another client's file** (`client-file:<file>`: podman's auth.json, Helm's registry
//!   config, an extra Docker config) that a pass could not write: announced at once, once,
//!   [`Urgency::Normal`] (Docker itself is logged in), with the error and what to do; it closes
//!   on `ClientFileWritten`, with a short "written again" if it was shown, and silently on
//!   `ClientFileDropped` (the user stopped keeping it in sync).
//!
//! # Admin-account changes
//!
//! `AdminEnabled`, `AdminDisabled` and `AdminPasswordRegenerated` are *announcements*: news,
//! not incidents; each is shown once (several in one call share one notification) within the
//! rate cap, and waits its turn when the cap is reached. "Enabled" is a security warning (the
//! ACR docs recommend keeping the admin account disabled). For a registry that signs in with
//! the admin account:
//! - disabled: [`Urgency::Critical`], "access is gone", action [`NotificationAction::OpenSettings`]
//!   to switch it to an Entra identity; the refresh failure the same change causes is covered by
//!   it (not announced again);
//! - enabled again: the "logged in again" of that registry is folded into it;
//! - password regenerated: says whether the new password was written into Docker's config.
//!
//! # ACR tokens
//!
//! `AcrTokenPasswordExpiring` and `AcrTokenDisabled` (from the ACR-token watch, which sends
//! each once per password, expiry and threshold) are announcements too, keyed
//! `acr-token:<login server>`, action [`NotificationAction::OpenSettings`]: a password expiring
//! within 14 days is [`Urgency::Normal`], within a day [`Urgency::Critical`]; a disabled token
//! is critical and covers the refresh failure it causes, as a disabled admin account in admin
//! mode does. Several in one call share one notification ("ACR tokens need attention: …").
//!
//! # Urgency
//!
//! [`Urgency::Critical`] when the user must act for Docker to keep working soon: sign-in
//! required, or a registry whose credential is at risk. Everything else is
//! [`Urgency::Normal`]: a failing registry whose Docker credential still works for a while, the
//! session warning, and "logged in again".
//!
//! # No storms
//!
//! - All incidents that become due in one call are **coalesced** into one notification
//!   ("3 registries could not refresh: acr-a, acr-b, acr-c." with their hint when they share
//!   one), and all recoveries into one more. At most two notifications per call.
//! - **Rate cap**: at most [`RATE_LIMIT`](policy::RATE_LIMIT) = 3 notifications in any [`RATE_WINDOW`](policy::RATE_WINDOW) = 10 minutes
//!   (sliding). What does not fit stays pending and comes, merged into one summary, on the first
//!   call after the window allows; with room for only one, problems and recoveries share it.
//!   A pending problem that is resolved before it was shown is never shown; a pending "logged in
//!   again" whose registry fails again is dropped, and the incident continues as already shown.
//!
//! # Closing
//!
//! A registry incident closes on `Refreshed` or `Recovered`, an identity incident on `SignedIn`.
//! If a notification was shown for it (and it is not snoozed), one short "logged in again"
//! notification follows ([`Urgency::Normal`], coalesced: "acr-a and acr-b are logged in
//! again."); otherwise it closes silently.
//!
//! # Snooze
//!
//! [`NotificationPolicy::snooze`] takes an incident key or the `incident` of a coalesced
//! notification (which snoozes everything it announced). A snoozed incident shows nothing until
//! `until` — not even "logged in again" — and, if still open then, may be announced once more.
//! Unknown keys are ignored.
//!
//! Events carry no secrets and neither do notifications: only registry names, login servers,
//! identity ids, the engine's messages and hints, and times.
//!
//! # Parts
//!
//! - this module: the notifications ([`Notification`], [`Urgency`], [`NotificationAction`]) and
//!   where they are shown ([`Notifier`], [`LogNotifier`]; `CollectNotifications` for tests,
//!   with the `test-support` feature);
//! - `incidents`: the persisted model ([`Incidents`](incidents::Incidents), [`Incident`], [`Subject`],
//!   [`Announcement`]), incident keys, urgency and click actions;
//! - `policy`: the state machine ([`NotificationPolicy`]);
//! - [`text`]: every sentence and time format.
//!
//! [`Event`]: crate::events::Event

use serde::{Deserialize, Serialize};

mod incidents;
mod policy;
pub mod text;

pub use incidents::{Announcement, Incident, Subject, load_incidents, save_incidents};
pub use policy::NotificationPolicy;
#[cfg(test)]
use {
    incidents::{AT_RISK, Incidents},
    policy::QUIET_FOR,
};

/// How loudly to notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Urgency {
    /// Worth knowing; nothing breaks soon.
    Normal,
    /// The user must act for Docker to keep working.
    Critical,
}

/// What clicking the notification does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum NotificationAction {
    /// Start the sign-in of this identity.
    SignIn {
        /// The identity.
        identity: String,
    },
    /// Open the settings window (registries, their status and errors).
    OpenSettings,
}

/// Shows notifications: the desktop's, the tray app's, or the log.
pub trait Notifier: Send + Sync {
    /// Shows one; failures are the notifier's to log (a notification is never worth a crash).
    fn show(&self, notification: &Notification);
}

/// Writes notifications to the log (headless machines, no notification server).
#[derive(Debug, Default)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    fn show(&self, n: &Notification) {
        tracing::warn!(incident = %n.incident, "{}: {}", n.title, n.body);
    }
}

/// Keeps every notification (tests; with the `test-support` feature only).
#[cfg(feature = "test-support")]
#[derive(Debug, Default)]
pub struct CollectNotifications(std::sync::Mutex<Vec<Notification>>);

#[cfg(feature = "test-support")]
impl CollectNotifications {
    /// The notifications so far.
    pub fn notifications(&self) -> Vec<Notification> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(feature = "test-support")]
impl Notifier for CollectNotifications {
    fn show(&self, n: &Notification) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(n.clone());
    }
}

/// A notification to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// The incident key (`registry:<login server>`, `identity:<id>`, `session:<id>`), or for a
    /// notification about several, a `batch:<n>` key. Pass it to
    /// [`NotificationPolicy::snooze`]; a "logged in again" notification about one incident
    /// carries that incident's key, so it can replace the failure's notification.
    pub incident: String,
    /// The incident keys it is about, in the order they opened.
    pub covers: Vec<String>,
    /// The title.
    pub title: String,
    /// The text: what happened and what to do.
    pub body: String,
    /// How loudly.
    pub urgency: Urgency,
    /// What a click does (`None`: nothing to do).
    pub action: Option<NotificationAction>,
}

#[cfg(test)]
mod tests;
