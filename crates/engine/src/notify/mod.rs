//! Which engine [`Event`]s become desktop notifications, and when: calm and exactly once, for a
//! developer who keeps Docker logged in all day.
//!
//! The policy is pure: it reads no clock (`now` is passed in) and does no I/O except
//! [`load_incidents`] / [`save_incidents`], which keep its state ([`Incidents`]) across restarts.
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
//!   (`valid_until` unknown, or less than [`AT_RISK`] = 30 minutes away, or past) or the
//!   incident has lasted more than [`QUIET_FOR`] = 2 hours. Other failures (permission,
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
//! - **Rate cap**: at most [`RATE_LIMIT`] = 3 notifications in any [`RATE_WINDOW`] = 10 minutes
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

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Local, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::fsutil;

/// A transient failure is announced once Docker's credential is less than this far from
/// running out.
pub const AT_RISK: TimeDelta = TimeDelta::minutes(30);

/// A transient failure that lasted longer than this is announced anyway.
pub const QUIET_FOR: TimeDelta = TimeDelta::hours(2);

/// At most [`RATE_LIMIT`] notifications in any window of this length.
pub const RATE_WINDOW: TimeDelta = TimeDelta::minutes(10);

/// How many notifications [`RATE_WINDOW`] allows.
pub const RATE_LIMIT: usize = 3;

/// A session warning whose expected time moves by at least this much is a new warning.
const NEW_EXPECTED_TIME: TimeDelta = TimeDelta::minutes(1);

/// Names listed in a coalesced notification before "and N more".
const MAX_NAMES: usize = 5;

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

/// Keeps every notification (tests).
#[derive(Debug, Default)]
pub struct CollectNotifications(std::sync::Mutex<Vec<Notification>>);

impl CollectNotifications {
    /// The notifications so far.
    pub fn notifications(&self) -> Vec<Notification> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

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
    pub hint: Option<String>,
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
    fn new(subject: Subject, seq: u64, since: DateTime<Utc>) -> Self {
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
    /// When notifications were shown within the last [`RATE_WINDOW`].
    #[serde(default)]
    pub shown: Vec<DateTime<Utc>>,
    /// The next incident sequence or batch number.
    #[serde(default)]
    pub next_seq: u64,
    /// Admin-account news not shown yet, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub announcements: Vec<Announcement>,
}

/// A piece of news to show once (an admin-account change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Announcement {
    /// `admin:<login server>`.
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

fn registry_key(login_server: &str) -> String {
    format!("registry:{login_server}")
}

fn identity_key(identity: &str) -> String {
    format!("identity:{identity}")
}

fn admin_key(login_server: &str) -> String {
    format!("admin:{login_server}")
}

fn session_key(identity: &str) -> String {
    format!("session:{identity}")
}

/// Docker's credential runs out soon, has run out, or is unknown.
fn at_risk(valid_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    valid_until.is_none_or(|v| v - now < AT_RISK)
}

/// Decides which events become notifications. See the module documentation for the rules.
#[derive(Debug, Clone, Default)]
pub struct NotificationPolicy {
    incidents: Incidents,
}

impl NotificationPolicy {
    /// A policy continuing from a saved state (or `Incidents::default()`).
    pub fn new(incidents: Incidents) -> Self {
        Self { incidents }
    }

    /// The state, to save.
    pub fn incidents(&self) -> &Incidents {
        &self.incidents
    }

    /// Takes the events of one refresh pass (or one burst), in the order they happened, and
    /// returns the notifications to show now (at most two, none when nothing is due).
    pub fn on_events(&mut self, now: DateTime<Utc>, events: &[Event]) -> Vec<Notification> {
        let window_start = now - RATE_WINDOW;
        self.incidents
            .shown
            .retain(|t| *t > window_start && *t <= now);
        for event in events {
            self.apply(now, event);
        }
        let problems = self.due(now);
        let recoveries = self.sorted_keys(&self.incidents.recovered);
        let news = !self.incidents.announcements.is_empty();
        let mut slots = RATE_LIMIT.saturating_sub(self.incidents.shown.len());
        let mut out = Vec::new();
        if slots == 0 || (problems.is_empty() && recoveries.is_empty() && !news) {
            return out;
        }
        // News that changes how Docker logs in goes first; otherwise problems do.
        let news_first = self
            .incidents
            .announcements
            .iter()
            .any(|a| a.urgency == Urgency::Critical);
        if news && news_first {
            out.push(self.announcement_notification());
            slots -= 1;
        }
        if slots > 0 {
            let merge = slots == 1 && !problems.is_empty() && !recoveries.is_empty();
            if merge {
                let mut problem = self.problem_notification(now, &problems);
                let recovery = self.recovery_notification(&recoveries);
                problem.body = format!("{}\n{}", problem.body, recovery.body);
                problem.covers.extend(recovery.covers);
                problem.incident = self.batch_key();
                out.push(problem);
                slots -= 1;
            } else {
                if !problems.is_empty() && slots > 0 {
                    out.push(self.problem_notification(now, &problems));
                    slots -= 1;
                }
                if !recoveries.is_empty() && slots > 0 {
                    out.push(self.recovery_notification(&recoveries));
                    slots -= 1;
                }
            }
        }
        if news && !news_first && slots > 0 {
            out.push(self.announcement_notification());
        }
        for notification in &out {
            self.incidents.shown.push(now);
            for key in &notification.covers {
                if let Some(incident) = self.incidents.open.get_mut(key) {
                    incident.shown = true;
                    incident.shown_as = Some(notification.incident.clone());
                    incident.snoozed_until = None;
                } else {
                    self.incidents.recovered.remove(key);
                }
            }
        }
        out
    }

    /// One notification for every pending announcement (they are then gone).
    fn announcement_notification(&mut self) -> Notification {
        let news = std::mem::take(&mut self.incidents.announcements);
        let urgency = news
            .iter()
            .map(|a| a.urgency)
            .max()
            .unwrap_or(Urgency::Normal);
        let (incident, title, body, action) = match news.as_slice() {
            [one] => (
                one.key.clone(),
                one.title.clone(),
                one.body.clone(),
                one.action.clone(),
            ),
            many => {
                let mut names: Vec<&str> = many.iter().map(|a| a.registry.as_str()).collect();
                names.dedup();
                (
                    self.batch_key(),
                    format!("Admin accounts changed: {}", comma_list(&names)),
                    many.iter()
                        .map(|a| a.title.clone() + ".")
                        .collect::<Vec<_>>()
                        .join("\n"),
                    Some(NotificationAction::OpenSettings),
                )
            }
        };
        Notification {
            incident,
            covers: Vec::new(),
            title,
            body,
            urgency,
            action,
        }
    }

    /// Shows nothing for an incident — or for everything a coalesced notification announced,
    /// given its `incident` — until `until`; if it is still open then, it may be announced once
    /// more. Unknown keys are ignored.
    pub fn snooze(&mut self, incident: &str, until: DateTime<Utc>) {
        for (key, open) in &mut self.incidents.open {
            if key == incident || open.shown_as.as_deref() == Some(incident) {
                open.snoozed_until = Some(until);
                open.shown = false;
            }
        }
    }

    /// When calling [`Self::on_events`] again (with no events) could show something: a snooze
    /// ending, a quiet transient failure reaching its limit, or the rate window making room for
    /// what was deferred. `None` when only new events can.
    pub fn next_check(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut times = Vec::new();
        let second = TimeDelta::seconds(1);
        for incident in self.incidents.open.values() {
            if incident.shown {
                continue;
            }
            if let Some(until) = incident.snoozed_until
                && until > now
            {
                times.push(until);
                continue;
            }
            if let Subject::Registry { identity, .. } = &incident.subject
                && matches!(incident.kind, None | Some(ErrorKind::Transient))
                && !self.covered(identity.as_deref())
            {
                times.push(incident.since + QUIET_FOR + second);
                if let Some(valid_until) = incident.valid_until {
                    times.push(valid_until - AT_RISK + second);
                }
            }
        }
        let window_start = now - RATE_WINDOW;
        let in_window = self
            .incidents
            .shown
            .iter()
            .filter(|t| **t > window_start && **t <= now);
        let pending = !self.due(now).is_empty()
            || !self.incidents.recovered.is_empty()
            || !self.incidents.announcements.is_empty();
        if pending {
            if in_window.clone().count() >= RATE_LIMIT {
                times.extend(in_window.min().map(|t| *t + RATE_WINDOW));
            } else {
                times.push(now);
            }
        }
        times.into_iter().min().map(|t| t.max(now))
    }

    fn apply(&mut self, now: DateTime<Utc>, event: &Event) {
        match event {
            Event::RefreshFailed {
                registry,
                login_server,
                identity,
                kind,
                message,
                hint,
                valid_until,
            } => {
                let subject = Subject::Registry {
                    registry: registry.clone(),
                    login_server: login_server.clone(),
                    identity: identity.clone(),
                };
                let incident = self.open(now, registry_key(login_server), subject.clone());
                incident.subject = subject;
                incident.kind = Some(*kind);
                incident.message.clone_from(message);
                incident.hint.clone_from(hint);
                incident.valid_until = *valid_until;
            }
            Event::Refreshed { login_server, .. } | Event::Recovered { login_server, .. } => {
                self.close(&registry_key(login_server));
            }
            Event::SignInRequired {
                identity,
                message,
                hint,
            } => {
                let subject = Subject::Identity {
                    identity: identity.clone(),
                };
                let incident = self.open(now, identity_key(identity), subject);
                incident.kind = Some(ErrorKind::SignInRequired);
                incident.message.clone_from(message);
                incident.hint.clone_from(hint);
                self.incidents.open.remove(&session_key(identity));
            }
            Event::SignedIn { identity } => {
                self.close(&identity_key(identity));
                self.incidents.open.remove(&session_key(identity));
                self.incidents.open.retain(|_, incident| {
                    let ended_session = matches!(
                        &incident.subject,
                        Subject::Registry { identity: Some(i), .. } if i == identity
                    ) && incident.kind == Some(ErrorKind::SignInRequired);
                    !ended_session || incident.shown
                });
            }
            Event::SessionExpiringSoon { identity, at } => {
                if self.incidents.open.contains_key(&identity_key(identity)) {
                    return;
                }
                let key = session_key(identity);
                let moved = match self.incidents.open.get(&key).map(|i| &i.subject) {
                    Some(Subject::Session { at: known, .. }) => {
                        (*at - *known).abs() >= NEW_EXPECTED_TIME
                    }
                    _ => false,
                };
                if moved {
                    self.incidents.open.remove(&key);
                }
                let subject = Subject::Session {
                    identity: identity.clone(),
                    at: *at,
                };
                self.open(now, key, subject);
            }
            Event::AdminEnabled { .. }
            | Event::AdminDisabled { .. }
            | Event::AdminPasswordRegenerated { .. } => self.announce(event),
        }
    }

    /// Queues the announcement of an admin-account change.
    fn announce(&mut self, event: &Event) {
        let Some(news) = admin_announcement(event) else {
            return;
        };
        match event {
            // Access through the admin account is gone: this says it, with what to do; the
            // refresh failure it causes is not announced on its own.
            Event::AdminDisabled {
                login_server,
                admin_mode: true,
                ..
            } => {
                if let Some(incident) = self.incidents.open.get_mut(&registry_key(login_server))
                    && !incident.shown
                {
                    incident.shown = true;
                    incident.shown_as = Some(news.key.clone());
                }
            }
            // Logged in again with it: this says so; no separate "logged in again".
            Event::AdminEnabled {
                login_server,
                admin_mode: true,
                ..
            } => {
                self.incidents.recovered.remove(&registry_key(login_server));
            }
            _ => {}
        }
        self.incidents.announcements.push(news);
    }

    /// The open incident of `key`, opened now if it is not (a pending "logged in again" of the
    /// same key is taken back: the user still believes it is broken, and it is again).
    fn open(&mut self, now: DateTime<Utc>, key: String, subject: Subject) -> &mut Incident {
        let Incidents {
            open,
            recovered,
            next_seq,
            ..
        } = &mut self.incidents;
        let back = recovered.remove(&key);
        open.entry(key).or_insert_with(|| {
            back.unwrap_or_else(|| {
                let seq = *next_seq;
                *next_seq += 1;
                Incident::new(subject, seq, now)
            })
        })
    }

    /// Closes an incident; one that was announced (and is not snoozed) gets a "logged in
    /// again".
    fn close(&mut self, key: &str) {
        if let Some(incident) = self.incidents.open.remove(key)
            && incident.shown
        {
            self.incidents.recovered.insert(key.to_owned(), incident);
        }
    }

    fn next_seq(&mut self) -> u64 {
        let seq = self.incidents.next_seq;
        self.incidents.next_seq += 1;
        seq
    }

    fn batch_key(&mut self) -> String {
        format!("batch:{}", self.next_seq())
    }

    /// Whether the identity has an open sign-in incident.
    fn covered(&self, identity: Option<&str>) -> bool {
        identity.is_some_and(|i| self.incidents.open.contains_key(&identity_key(i)))
    }

    /// The open incidents to announce now, in opening order.
    fn due(&self, now: DateTime<Utc>) -> Vec<String> {
        let mut due: Vec<(&String, &Incident)> = self
            .incidents
            .open
            .iter()
            .filter(|(_, incident)| {
                if incident.shown || incident.snoozed_until.is_some_and(|until| now < until) {
                    return false;
                }
                match &incident.subject {
                    Subject::Registry { identity, .. } => {
                        if self.covered(identity.as_deref()) {
                            return false;
                        }
                        match incident.kind {
                            None | Some(ErrorKind::Transient) => {
                                at_risk(incident.valid_until, now)
                                    || now - incident.since > QUIET_FOR
                            }
                            Some(_) => true,
                        }
                    }
                    Subject::Identity { .. } | Subject::Session { .. } => true,
                }
            })
            .collect();
        due.sort_by_key(|(_, incident)| incident.seq);
        due.into_iter().map(|(key, _)| key.clone()).collect()
    }

    fn sorted_keys(&self, map: &BTreeMap<String, Incident>) -> Vec<String> {
        let mut keys: Vec<(&String, u64)> = map.iter().map(|(k, i)| (k, i.seq)).collect();
        keys.sort_by_key(|(_, seq)| *seq);
        keys.into_iter().map(|(k, _)| k.clone()).collect()
    }

    /// One notification for every problem in `keys` (open incidents, in opening order).
    fn problem_notification(&mut self, now: DateTime<Utc>, keys: &[String]) -> Notification {
        let incidents: Vec<&Incident> = keys
            .iter()
            .filter_map(|k| self.incidents.open.get(k))
            .collect();
        let mut notification = match incidents.as_slice() {
            [one] => single_problem(now, one),
            many => several_problems(now, many),
        };
        notification.covers = keys.to_vec();
        notification.incident = match keys {
            [one] => one.clone(),
            _ => self.batch_key(),
        };
        notification
    }

    /// One "logged in again" for every incident in `keys` (recovered, in opening order).
    fn recovery_notification(&mut self, keys: &[String]) -> Notification {
        let incidents: Vec<&Incident> = keys
            .iter()
            .filter_map(|k| self.incidents.recovered.get(k))
            .collect();
        let (title, body) = match incidents.as_slice() {
            [one] => match &one.subject {
                Subject::Registry {
                    registry,
                    login_server,
                    ..
                } => (
                    format!("{registry} is logged in again"),
                    format!("Docker is logged in to {login_server} again."),
                ),
                Subject::Identity { identity } | Subject::Session { identity, .. } => (
                    format!("{identity} is signed in again"),
                    format!("ACR Tray keeps Docker logged in with {identity} again."),
                ),
            },
            many => ("Logged in again".to_owned(), recovery_sentences(many)),
        };
        let incident = match keys {
            [one] => one.clone(),
            _ => self.batch_key(),
        };
        Notification {
            incident,
            covers: keys.to_vec(),
            title,
            body,
            urgency: Urgency::Normal,
            action: None,
        }
    }
}

/// The body of a notification for a server that reads markup (the freedesktop
/// `body-markup` capability): `<`, `>` and `&` escaped, so a hint such as
/// "`--scope <registry id>`" is shown as written instead of being swallowed as a tag.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// "14:05" in local time, with the weekday ("Tue 14:05") when 20 hours or more from `now`.
pub fn local_time(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let local = at.with_timezone(&Local);
    if (at - now).abs() >= TimeDelta::hours(20) {
        local.format("%a %H:%M").to_string()
    } else {
        local.format("%H:%M").to_string()
    }
}

/// "a", "a and b", "a, b and c", "a, b, c, d, e and 2 more".
fn and_list(names: &[&str]) -> String {
    let shown = &names[..names.len().min(MAX_NAMES)];
    let more = names.len() - shown.len();
    match (shown, more) {
        ([], _) => String::new(),
        ([one], 0) => (*one).to_owned(),
        (_, 0) => {
            let (last, rest) = shown.split_last().unwrap_or((&"", &[]));
            format!("{} and {last}", rest.join(", "))
        }
        (_, more) => format!("{} and {more} more", shown.join(", ")),
    }
}

/// "a, b, c" (or "a, b, c, d, e and 2 more").
fn comma_list(names: &[&str]) -> String {
    let shown = &names[..names.len().min(MAX_NAMES)];
    let more = names.len() - shown.len();
    if more == 0 {
        shown.join(", ")
    } else {
        format!("{} and {more} more", shown.join(", "))
    }
}

fn registry_name(incident: &Incident) -> &str {
    match &incident.subject {
        Subject::Registry { registry, .. } => registry,
        Subject::Identity { identity } | Subject::Session { identity, .. } => identity,
    }
}

/// The identity a sign-in would fix this incident for.
fn sign_in_identity(incident: &Incident) -> Option<&str> {
    match &incident.subject {
        Subject::Identity { identity } | Subject::Session { identity, .. } => Some(identity),
        Subject::Registry { identity, .. } if incident.kind == Some(ErrorKind::SignInRequired) => {
            identity.as_deref()
        }
        Subject::Registry { .. } => None,
    }
}

fn urgency(incident: &Incident, now: DateTime<Utc>) -> Urgency {
    match &incident.subject {
        Subject::Identity { .. } => Urgency::Critical,
        Subject::Session { .. } => Urgency::Normal,
        Subject::Registry { .. } if at_risk(incident.valid_until, now) => Urgency::Critical,
        Subject::Registry { .. } => Urgency::Normal,
    }
}

/// What a click should do for these incidents: sign in when they name exactly one identity to
/// sign in, else the settings.
fn action_for(incidents: &[&Incident]) -> NotificationAction {
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

/// What Docker's credential does meanwhile, for a failing registry.
fn consequence(incident: &Incident, now: DateTime<Utc>) -> Option<String> {
    let valid_until = incident.valid_until?;
    Some(if valid_until > now {
        format!(
            "Docker's login still works until {}.",
            local_time(valid_until, now)
        )
    } else {
        "Docker's login has run out.".to_owned()
    })
}

fn session_sentence(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!(
        "Sign-in will be needed around {} — sign in now?",
        local_time(at, now)
    )
}

/// The announcement of an admin-account change (`None` for other events).
fn admin_announcement(event: &Event) -> Option<Announcement> {
    let (registry, login_server, title, body, urgency, action) = match event {
        Event::AdminEnabled {
            registry,
            login_server,
            admin_mode,
        } => (
            registry,
            login_server,
            format!("Admin account enabled on {registry}"),
            if *admin_mode {
                format!(
                    "Docker is logged in to {login_server} with the admin account again. The ACR docs recommend keeping it disabled: consider signing {registry} in with an Entra identity in Settings."
                )
            } else {
                format!(
                    "Anyone with its password can push to and pull from {login_server}. The ACR docs recommend keeping it disabled (az acr update -n {registry} --admin-enabled false)."
                )
            },
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
            format!("{registry}: admin account disabled"),
            format!(
                "Docker can no longer log in to {login_server}: {registry} signs in with the admin account. Switch it to an Entra identity in Settings."
            ),
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
            format!("Admin account disabled on {registry}"),
            format!(
                "Its passwords no longer log in to {login_server}. ACR Tray signs {registry} in with an Entra identity, so Docker is not affected."
            ),
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
            format!("{registry}: admin {password} regenerated"),
            match (admin_mode, written_to_docker) {
                (true, true) => format!(
                    "ACR Tray wrote the new {password} into Docker's config: Docker stays logged in to {login_server}. Anyone using the old one is locked out."
                ),
                (true, false) => format!(
                    "ACR Tray signs in with the other admin password, so Docker is not affected. Anyone using the old {password} of {login_server} is locked out."
                ),
                (false, _) => format!(
                    "Anyone logging in to {login_server} with the old {password} is locked out. ACR Tray signs {registry} in with an Entra identity, so Docker is not affected."
                ),
            },
            Urgency::Normal,
            None,
        ),
        _ => return None,
    };
    Some(Announcement {
        key: admin_key(login_server),
        registry: registry.clone(),
        title,
        body,
        urgency,
        action,
    })
}

fn single_problem(now: DateTime<Utc>, incident: &Incident) -> Notification {
    let (title, body) = match &incident.subject {
        Subject::Registry { registry, .. } => {
            let lines: Vec<String> = [
                Some(incident.message.clone()).filter(|m| !m.is_empty()),
                consequence(incident, now),
                incident.hint.clone(),
            ]
            .into_iter()
            .flatten()
            .collect();
            (format!("{registry} could not refresh"), lines.join("\n"))
        }
        Subject::Identity { identity } => (
            format!("{identity} must sign in again"),
            incident.hint.clone().unwrap_or_else(|| {
                format!("Sign in again as {identity} to keep Docker logged in.")
            }),
        ),
        Subject::Session { identity, at } => (
            format!("Sign-in needed soon for {identity}"),
            session_sentence(*at, now),
        ),
    };
    Notification {
        incident: String::new(),
        covers: Vec::new(),
        title,
        body,
        urgency: urgency(incident, now),
        action: Some(action_for(&[incident])),
    }
}

fn several_problems(now: DateTime<Utc>, incidents: &[&Incident]) -> Notification {
    let registries: Vec<&Incident> = incidents
        .iter()
        .copied()
        .filter(|i| matches!(i.subject, Subject::Registry { .. }))
        .collect();
    let names: Vec<&str> = registries.iter().map(|i| registry_name(i)).collect();
    let registries_line = match names.as_slice() {
        [] => None,
        [one] => Some(format!("{one} could not refresh.")),
        many => Some(format!(
            "{} registries could not refresh: {}.",
            many.len(),
            comma_list(many)
        )),
    };
    let hints: BTreeSet<Option<&str>> = incidents.iter().map(|i| i.hint.as_deref()).collect();
    let shared_hint = match hints.into_iter().collect::<Vec<_>>().as_slice() {
        [Some(hint)] => (*hint).to_owned(),
        _ => "Open ACR Tray for the details.".to_owned(),
    };
    let (title, body) = if registries.len() == incidents.len() {
        let title = format!("{} registries could not refresh", registries.len());
        let line = registries_line.unwrap_or_default();
        (title, format!("{line}\n{shared_hint}"))
    } else {
        let mut lines = Vec::new();
        for incident in incidents {
            match &incident.subject {
                Subject::Identity { identity } => {
                    lines.push(format!("{identity} must sign in again."));
                }
                Subject::Session { identity, at } => lines.push(format!(
                    "Sign-in as {identity} will be needed around {}.",
                    local_time(*at, now)
                )),
                Subject::Registry { .. } => {}
            }
        }
        lines.extend(registries_line);
        lines.push(shared_hint);
        ("ACR Tray needs attention".to_owned(), lines.join("\n"))
    };
    Notification {
        incident: String::new(),
        covers: Vec::new(),
        title,
        body,
        urgency: incidents
            .iter()
            .map(|i| urgency(i, now))
            .max()
            .unwrap_or(Urgency::Normal),
        action: Some(action_for(incidents)),
    }
}

/// "acr-a and acr-b are logged in again." and "alice is signed in again."
fn recovery_sentences(incidents: &[&Incident]) -> String {
    let mut registries = Vec::new();
    let mut identities = Vec::new();
    for incident in incidents {
        match &incident.subject {
            Subject::Registry { registry, .. } => registries.push(registry.as_str()),
            Subject::Identity { identity } | Subject::Session { identity, .. } => {
                if !identities.contains(&identity.as_str()) {
                    identities.push(identity.as_str());
                }
            }
        }
    }
    let verb = |names: &[&str]| if names.len() == 1 { "is" } else { "are" };
    let mut sentences = Vec::new();
    if !identities.is_empty() {
        sentences.push(format!(
            "{} {} signed in again.",
            and_list(&identities),
            verb(&identities)
        ));
    }
    if !registries.is_empty() {
        sentences.push(format!(
            "{} {} logged in again.",
            and_list(&registries),
            verb(&registries)
        ));
    }
    sentences.join(" ")
}

#[cfg(test)]
mod tests {

    #[test]
    fn markup_is_escaped_for_markup_servers() {
        assert_eq!(
            super::escape_markup("--scope <registry id> & more"),
            "--scope &lt;registry id&gt; &amp; more"
        );
    }

    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
            .expect("time")
            .with_timezone(&Utc)
    }

    fn mins(m: i64) -> TimeDelta {
        TimeDelta::minutes(m)
    }

    fn login_server(registry: &str) -> String {
        format!("{registry}.azurecr.io")
    }

    fn failed(
        registry: &str,
        identity: Option<&str>,
        kind: ErrorKind,
        hint: Option<&str>,
        valid_until: Option<DateTime<Utc>>,
    ) -> Event {
        Event::RefreshFailed {
            registry: registry.into(),
            login_server: login_server(registry),
            identity: identity.map(str::to_owned),
            kind,
            message: format!("refresh of {registry} failed"),
            hint: hint.map(str::to_owned),
            valid_until,
        }
    }

    /// A transient failure of a registry of "alice" with Docker's credential good until
    /// `valid_until`.
    fn offline(registry: &str, valid_until: Option<DateTime<Utc>>) -> Event {
        failed(
            registry,
            Some("alice"),
            ErrorKind::Transient,
            Some("check the network"),
            valid_until,
        )
    }

    fn denied(registry: &str) -> Event {
        failed(
            registry,
            Some("alice"),
            ErrorKind::Permission,
            Some("assign AcrPull"),
            Some(t0() + TimeDelta::hours(3)),
        )
    }

    fn refreshed(registry: &str) -> Event {
        Event::Refreshed {
            registry: registry.into(),
            login_server: login_server(registry),
            expires_at: Some(t0() + TimeDelta::hours(3)),
        }
    }

    fn sign_in_required(identity: &str) -> Event {
        Event::SignInRequired {
            identity: identity.into(),
            message: "AADSTS70043: the session is over".into(),
            hint: Some(format!("run `acr-tray-cli login` as {identity}")),
        }
    }

    fn signed_in(identity: &str) -> Event {
        Event::SignedIn {
            identity: identity.into(),
        }
    }

    fn expiring(identity: &str, at: DateTime<Utc>) -> Event {
        Event::SessionExpiringSoon {
            identity: identity.into(),
            at,
        }
    }

    fn policy() -> NotificationPolicy {
        NotificationPolicy::new(Incidents::default())
    }

    #[test]
    fn transient_failures_wait_until_docker_is_at_risk_or_two_hours_passed() {
        // (name, valid_until relative to the check, age of the incident at the check, notify?)
        let cases: [(&str, Option<TimeDelta>, TimeDelta, bool); 11] = [
            ("nothing in Docker", None, TimeDelta::zero(), true),
            (
                "credential long valid",
                Some(mins(120)),
                TimeDelta::zero(),
                false,
            ),
            ("31 minutes left", Some(mins(31)), TimeDelta::zero(), false),
            (
                "exactly 30 minutes left",
                Some(mins(30)),
                TimeDelta::zero(),
                false,
            ),
            (
                "a second under 30 minutes",
                Some(mins(30) - TimeDelta::seconds(1)),
                TimeDelta::zero(),
                true,
            ),
            ("expired", Some(mins(-5)), TimeDelta::zero(), true),
            ("one hour old", Some(mins(600)), mins(60), false),
            ("exactly two hours old", Some(mins(600)), mins(120), false),
            (
                "a second over two hours",
                Some(mins(600)),
                mins(120) + TimeDelta::seconds(1),
                true,
            ),
            ("old and nothing in Docker", None, mins(180), true),
            ("old and at risk", Some(mins(1)), mins(180), true),
        ];
        for (name, valid_for, age, notify) in cases {
            let mut p = policy();
            let check = t0() + age;
            let valid_until = valid_for.map(|d| check + d);
            let first = p.on_events(t0(), &[offline("acr-a", valid_until)]);
            let later = if age > TimeDelta::zero() {
                p.on_events(check, &[offline("acr-a", valid_until)])
            } else {
                Vec::new()
            };
            let shown: Vec<_> = first.into_iter().chain(later).collect();
            assert_eq!(shown.len(), usize::from(notify), "{name}: {shown:?}");
            if let Some(n) = shown.first() {
                assert_eq!(n.incident, "registry:acr-a.azurecr.io", "{name}");
                assert_eq!(n.title, "acr-a could not refresh", "{name}");
            }
        }
    }

    #[test]
    fn other_failures_notify_at_once_and_only_once() {
        let far = Some(t0() + TimeDelta::hours(3));
        for kind in [
            ErrorKind::Permission,
            ErrorKind::Configuration,
            ErrorKind::DockerConfig,
            ErrorKind::SignInRequired,
        ] {
            let mut p = policy();
            let event = failed("acr-a", Some("alice"), kind, Some("do this"), far);
            let shown = p.on_events(t0(), &[event.clone(), event.clone()]);
            assert_eq!(shown.len(), 1, "{kind:?}");
            let n = &shown[0];
            assert_eq!(n.covers, ["registry:acr-a.azurecr.io"]);
            assert_eq!(n.urgency, Urgency::Normal, "{kind:?}: Docker still works");
            assert!(n.body.contains("refresh of acr-a failed"), "{}", n.body);
            assert!(n.body.ends_with("do this"), "{}", n.body);
            let expected_action = if kind == ErrorKind::SignInRequired {
                NotificationAction::SignIn {
                    identity: "alice".into(),
                }
            } else {
                NotificationAction::OpenSettings
            };
            assert_eq!(n.action, Some(expected_action), "{kind:?}");
            // However many more failures arrive, over however long.
            for minutes in [1, 10, 60, 600, 6000] {
                let again = p.on_events(t0() + mins(minutes), std::slice::from_ref(&event));
                assert!(again.is_empty(), "{kind:?} after {minutes} min: {again:?}");
            }
        }
    }

    #[test]
    fn urgency_follows_what_docker_still_has() {
        let cases = [
            ("far", Some(t0() + mins(120)), Urgency::Normal),
            ("soon", Some(t0() + mins(29)), Urgency::Critical),
            ("gone", Some(t0() - mins(1)), Urgency::Critical),
            ("nothing", None, Urgency::Critical),
        ];
        for (name, valid_until, urgency) in cases {
            let mut p = policy();
            let event = failed("acr-a", None, ErrorKind::Configuration, None, valid_until);
            let shown = p.on_events(t0(), &[event]);
            assert_eq!(shown.len(), 1, "{name}");
            assert_eq!(shown[0].urgency, urgency, "{name}");
        }
    }

    #[test]
    fn the_body_says_how_long_docker_keeps_working() {
        let mut p = policy();
        let until = t0() + mins(20);
        let shown = p.on_events(t0(), &[offline("acr-a", Some(until))]);
        let local = until.with_timezone(&Local).format("%H:%M").to_string();
        assert_eq!(
            shown[0].body,
            format!(
                "refresh of acr-a failed\nDocker's login still works until {local}.\ncheck the network"
            )
        );
        let mut p = policy();
        let shown = p.on_events(t0(), &[offline("acr-a", Some(t0() - mins(1)))]);
        assert!(shown[0].body.contains("Docker's login has run out."));
    }

    #[test]
    fn a_sign_in_covers_the_registries_of_its_identity() {
        // Whatever the order within the batch.
        let orders = [
            vec![
                sign_in_required("alice"),
                denied("acr-a"),
                offline("acr-b", None),
            ],
            vec![
                denied("acr-a"),
                offline("acr-b", None),
                sign_in_required("alice"),
            ],
        ];
        for events in orders {
            let mut p = policy();
            let shown = p.on_events(t0(), &events);
            assert_eq!(shown.len(), 1, "{shown:?}");
            let n = &shown[0];
            assert_eq!(n.incident, "identity:alice");
            assert_eq!(n.covers, ["identity:alice"]);
            assert_eq!(n.title, "alice must sign in again");
            assert_eq!(n.body, "run `acr-tray-cli login` as alice");
            assert_eq!(n.urgency, Urgency::Critical);
            assert_eq!(
                n.action,
                Some(NotificationAction::SignIn {
                    identity: "alice".into()
                })
            );
            // More failures and repeated sign-in-required events stay covered.
            let later = p.on_events(
                t0() + TimeDelta::hours(5),
                &[
                    sign_in_required("alice"),
                    denied("acr-a"),
                    offline("acr-b", None),
                ],
            );
            assert!(later.is_empty(), "{later:?}");
        }
    }

    #[test]
    fn other_identities_are_not_covered() {
        let mut p = policy();
        let bobs = failed(
            "acr-b",
            Some("bob"),
            ErrorKind::Permission,
            None,
            Some(t0() + mins(120)),
        );
        let shown = p.on_events(t0(), &[sign_in_required("alice"), bobs]);
        assert_eq!(shown.len(), 1, "coalesced: {shown:?}");
        let n = &shown[0];
        assert_eq!(n.covers, ["identity:alice", "registry:acr-b.azurecr.io"]);
        assert!(n.incident.starts_with("batch:"), "{}", n.incident);
        assert_eq!(n.title, "ACR Tray needs attention");
        assert_eq!(
            n.body,
            "alice must sign in again.\nacr-b could not refresh.\nOpen ACR Tray for the details."
        );
        assert_eq!(n.urgency, Urgency::Critical);
        assert_eq!(
            n.action,
            Some(NotificationAction::SignIn {
                identity: "alice".into()
            })
        );
    }

    #[test]
    fn a_batch_of_new_incidents_is_one_notification() {
        let mut p = policy();
        let shown = p.on_events(t0(), &[denied("acr-a"), denied("acr-b"), denied("acr-c")]);
        assert_eq!(shown.len(), 1, "{shown:?}");
        let n = &shown[0];
        assert_eq!(n.title, "3 registries could not refresh");
        assert_eq!(
            n.body,
            "3 registries could not refresh: acr-a, acr-b, acr-c.\nassign AcrPull"
        );
        assert_eq!(n.urgency, Urgency::Normal);
        assert_eq!(n.action, Some(NotificationAction::OpenSettings));
        assert_eq!(
            n.covers,
            [
                "registry:acr-a.azurecr.io",
                "registry:acr-b.azurecr.io",
                "registry:acr-c.azurecr.io"
            ]
        );

        // Different hints: no hint is picked.
        let mut p = policy();
        let shown = p.on_events(t0(), &[denied("acr-a"), offline("acr-b", None)]);
        assert_eq!(shown.len(), 1);
        assert_eq!(
            shown[0].body,
            "2 registries could not refresh: acr-a, acr-b.\nOpen ACR Tray for the details."
        );
        assert_eq!(shown[0].urgency, Urgency::Critical, "acr-b has nothing");

        // Many: the list is cut short.
        let mut p = policy();
        let names = ["r1", "r2", "r3", "r4", "r5", "r6", "r7"];
        let events: Vec<Event> = names.iter().map(|n| denied(n)).collect();
        let shown = p.on_events(t0(), &events);
        assert_eq!(shown.len(), 1);
        assert_eq!(
            shown[0].body,
            "7 registries could not refresh: r1, r2, r3, r4, r5 and 2 more.\nassign AcrPull"
        );

        // Registries that all wait for the same sign-in (no sign-in incident known): sign in.
        let mut p = policy();
        let ended = |r: &str| {
            failed(
                r,
                Some("alice"),
                ErrorKind::SignInRequired,
                Some("sign in"),
                None,
            )
        };
        let shown = p.on_events(t0(), &[ended("acr-a"), ended("acr-b")]);
        assert_eq!(
            shown[0].action,
            Some(NotificationAction::SignIn {
                identity: "alice".into()
            })
        );
    }

    #[test]
    fn no_more_than_three_in_ten_minutes_then_a_summary() {
        let mut p = policy();
        let mut shown = Vec::new();
        for (i, registry) in ["r1", "r2", "r3", "r4", "r5"].iter().enumerate() {
            let minute = i64::try_from(i).expect("small");
            shown.push(p.on_events(t0() + mins(minute), &[denied(registry)]));
        }
        let counts: Vec<usize> = shown.iter().map(Vec::len).collect();
        assert_eq!(counts, [1, 1, 1, 0, 0]);
        // The window is sliding: the first notification (at t0) still counts a second before
        // t0 + 10 min.
        let almost = p.on_events(t0() + mins(10) - TimeDelta::seconds(1), &[]);
        assert!(almost.is_empty(), "{almost:?}");
        assert_eq!(p.next_check(t0() + mins(9)), Some(t0() + mins(10)));
        // At t0 + 10 min there is room for one: both deferred registries in one summary.
        let summary = p.on_events(t0() + mins(10), &[]);
        assert_eq!(summary.len(), 1, "{summary:?}");
        assert_eq!(
            summary[0].body,
            "2 registries could not refresh: r4, r5.\nassign AcrPull"
        );
        assert_eq!(
            summary[0].covers,
            ["registry:r4.azurecr.io", "registry:r5.azurecr.io"]
        );
        assert!(p.on_events(t0() + mins(30), &[]).is_empty(), "once only");
        assert_eq!(p.next_check(t0() + mins(30)), None);
    }

    #[test]
    fn a_deferred_problem_that_resolves_is_never_shown() {
        let mut p = policy();
        for (i, registry) in ["r1", "r2", "r3", "r4"].iter().enumerate() {
            let minute = i64::try_from(i).expect("small");
            p.on_events(t0() + mins(minute), &[denied(registry)]);
        }
        assert!(p.on_events(t0() + mins(5), &[refreshed("r4")]).is_empty());
        assert!(p.on_events(t0() + mins(20), &[]).is_empty(), "r4 is fine");
    }

    #[test]
    fn recovery_is_announced_only_after_a_failure_was() {
        let mut p = policy();
        // acr-a is announced, acr-b stays quiet (Docker's credential is good for hours).
        let shown = p.on_events(
            t0(),
            &[denied("acr-a"), offline("acr-b", Some(t0() + mins(180)))],
        );
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].covers, ["registry:acr-a.azurecr.io"]);
        let back = p.on_events(t0() + mins(30), &[refreshed("acr-a"), refreshed("acr-b")]);
        assert_eq!(back.len(), 1, "{back:?}");
        let n = &back[0];
        assert_eq!(
            n.incident, "registry:acr-a.azurecr.io",
            "replaces the failure's"
        );
        assert_eq!(n.title, "acr-a is logged in again");
        assert_eq!(n.body, "Docker is logged in to acr-a.azurecr.io again.");
        assert_eq!(n.urgency, Urgency::Normal);
        assert_eq!(n.action, None);
        assert!(p.incidents().open.is_empty());
        assert!(p.incidents().recovered.is_empty());
        // Recovered (with failing_since) closes just the same, and only once.
        assert!(
            p.on_events(
                t0() + mins(31),
                &[Event::Recovered {
                    registry: "acr-a".into(),
                    login_server: login_server("acr-a"),
                    failing_since: t0(),
                }]
            )
            .is_empty()
        );
    }

    #[test]
    fn recoveries_are_coalesced() {
        let mut p = policy();
        p.on_events(t0(), &[denied("acr-a"), denied("acr-b"), denied("acr-c")]);
        let back = p.on_events(
            t0() + mins(15),
            &[
                refreshed("acr-a"),
                Event::Recovered {
                    registry: "acr-b".into(),
                    login_server: login_server("acr-b"),
                    failing_since: t0(),
                },
            ],
        );
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].title, "Logged in again");
        assert_eq!(back[0].body, "acr-a and acr-b are logged in again.");
        assert!(back[0].incident.starts_with("batch:"));
        let back = p.on_events(t0() + mins(16), &[refreshed("acr-c")]);
        assert_eq!(back[0].title, "acr-c is logged in again");
    }

    #[test]
    fn signing_in_closes_the_identity_and_what_it_covered() {
        let mut p = policy();
        let ended = failed(
            "acr-a",
            Some("alice"),
            ErrorKind::SignInRequired,
            Some("sign in"),
            None,
        );
        let shown = p.on_events(t0(), &[sign_in_required("alice"), ended]);
        assert_eq!(shown.len(), 1);
        let back = p.on_events(t0() + mins(60), &[signed_in("alice")]);
        assert_eq!(back.len(), 1, "{back:?}");
        assert_eq!(back[0].incident, "identity:alice");
        assert_eq!(back[0].title, "alice is signed in again");
        assert!(p.incidents().open.is_empty(), "{:?}", p.incidents().open);
        // The registry then refreshes: nothing was shown for it, so nothing more.
        assert!(
            p.on_events(t0() + mins(61), &[refreshed("acr-a")])
                .is_empty()
        );
    }

    #[test]
    fn a_registry_announced_before_the_sign_in_incident_still_recovers() {
        let mut p = policy();
        assert_eq!(p.on_events(t0(), &[denied("acr-a")]).len(), 1);
        assert_eq!(
            p.on_events(t0() + mins(30), &[sign_in_required("alice")])
                .len(),
            1
        );
        let back = p.on_events(t0() + mins(60), &[signed_in("alice"), refreshed("acr-a")]);
        assert_eq!(back.len(), 1);
        assert_eq!(
            back[0].body,
            "alice is signed in again. acr-a is logged in again."
        );
    }

    #[test]
    fn a_deferred_recovery_is_taken_back_when_it_fails_again() {
        let mut p = policy();
        p.on_events(t0(), &[denied("r1")]);
        p.on_events(t0() + mins(1), &[denied("r2")]);
        p.on_events(t0() + mins(2), &[denied("r3")]);
        // r1 recovers while the cap is full, then fails again before the recovery was shown.
        assert!(p.on_events(t0() + mins(3), &[refreshed("r1")]).is_empty());
        assert!(
            p.incidents()
                .recovered
                .contains_key("registry:r1.azurecr.io")
        );
        assert!(p.on_events(t0() + mins(4), &[denied("r1")]).is_empty());
        assert!(p.incidents().recovered.is_empty());
        assert!(p.incidents().open["registry:r1.azurecr.io"].shown);
        assert_eq!(p.incidents().open["registry:r1.azurecr.io"].since, t0());
        // Nothing is owed: no flapping notifications later either.
        assert!(p.on_events(t0() + mins(30), &[]).is_empty());
    }

    #[test]
    fn with_room_for_one_problems_and_recoveries_share_a_summary() {
        let mut p = policy();
        p.on_events(t0(), &[denied("r1")]);
        p.on_events(t0() + mins(5), &[denied("r2")]);
        p.on_events(t0() + mins(6), &[denied("r3")]);
        assert!(
            p.on_events(t0() + mins(7), &[refreshed("r2"), denied("r4")])
                .is_empty()
        );
        // At t0 + 10 min only the first has left the window.
        let shown = p.on_events(t0() + mins(10), &[]);
        assert_eq!(shown.len(), 1, "{shown:?}");
        let n = &shown[0];
        assert!(n.incident.starts_with("batch:"));
        assert_eq!(n.title, "r4 could not refresh");
        assert!(
            n.body
                .ends_with("\nDocker is logged in to r2.azurecr.io again."),
            "{}",
            n.body
        );
        assert_eq!(
            n.covers,
            ["registry:r4.azurecr.io", "registry:r2.azurecr.io"]
        );
        assert!(p.incidents().recovered.is_empty());
        // With room for two, they come separately.
        let mut p = policy();
        p.on_events(t0(), &[denied("r1")]);
        let shown = p.on_events(t0() + mins(1), &[refreshed("r1"), denied("r2")]);
        assert_eq!(shown.len(), 2);
        assert_eq!(shown[0].title, "r2 could not refresh");
        assert_eq!(shown[1].title, "r1 is logged in again");
    }

    #[test]
    fn a_session_warning_comes_once_per_expected_time() {
        let mut p = policy();
        let at = t0() + mins(125);
        let shown = p.on_events(t0(), &[expiring("alice", at)]);
        assert_eq!(shown.len(), 1);
        let n = &shown[0];
        let local = at.with_timezone(&Local).format("%H:%M").to_string();
        assert_eq!(n.incident, "session:alice");
        assert_eq!(n.title, "Sign-in needed soon for alice");
        assert_eq!(
            n.body,
            format!("Sign-in will be needed around {local} — sign in now?")
        );
        assert_eq!(n.urgency, Urgency::Normal);
        assert_eq!(
            n.action,
            Some(NotificationAction::SignIn {
                identity: "alice".into()
            })
        );
        // The same expected time again (also a few seconds off): nothing.
        assert!(
            p.on_events(
                t0() + mins(10),
                &[
                    expiring("alice", at),
                    expiring("alice", at + TimeDelta::seconds(59))
                ]
            )
            .is_empty()
        );
        // A new expected time: a new warning.
        let later = at + mins(60);
        assert_eq!(
            p.on_events(t0() + mins(20), &[expiring("alice", later)])
                .len(),
            1
        );
        // Signing in closes it silently; the next session warns again.
        assert!(
            p.on_events(t0() + mins(30), &[signed_in("alice")])
                .is_empty()
        );
        assert!(p.incidents().open.is_empty());
        assert_eq!(
            p.on_events(t0() + mins(31), &[expiring("alice", later)])
                .len(),
            1
        );
    }

    #[test]
    fn a_session_that_ended_replaces_its_warning() {
        let mut p = policy();
        p.on_events(t0(), &[expiring("alice", t0() + mins(60))]);
        let shown = p.on_events(t0() + mins(61), &[sign_in_required("alice")]);
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].incident, "identity:alice");
        assert!(!p.incidents().open.contains_key("session:alice"));
        // While the sign-in is required, warnings about the old session mean nothing.
        assert!(
            p.on_events(t0() + mins(62), &[expiring("alice", t0() + mins(60))])
                .is_empty()
        );
        assert!(!p.incidents().open.contains_key("session:alice"));
    }

    #[test]
    fn times_far_away_name_the_day() {
        let now = t0();
        let soon = now + mins(125);
        let far = now + TimeDelta::hours(30);
        assert_eq!(
            local_time(soon, now),
            soon.with_timezone(&Local).format("%H:%M").to_string()
        );
        assert_eq!(
            local_time(far, now),
            far.with_timezone(&Local).format("%a %H:%M").to_string()
        );
        assert_ne!(
            local_time(far, now),
            local_time(far - TimeDelta::days(1), now)
        );
    }

    #[test]
    fn a_snoozed_incident_may_come_back_once_after_the_snooze() {
        let mut p = policy();
        let shown = p.on_events(t0(), &[sign_in_required("alice")]);
        p.snooze(&shown[0].incident, t0() + mins(60));
        for minute in [1, 30, 59] {
            let during = p.on_events(t0() + mins(minute), &[sign_in_required("alice")]);
            assert!(during.is_empty(), "{minute}: {during:?}");
        }
        assert_eq!(p.next_check(t0() + mins(59)), Some(t0() + mins(60)));
        let after = p.on_events(t0() + mins(60), &[]);
        assert_eq!(after.len(), 1, "once more");
        assert_eq!(after[0].incident, "identity:alice");
        assert!(
            p.on_events(t0() + mins(90), &[sign_in_required("alice")])
                .is_empty()
        );
    }

    #[test]
    fn snoozing_a_batch_snoozes_everything_it_announced() {
        let mut p = policy();
        let shown = p.on_events(t0(), &[denied("acr-a"), denied("acr-b")]);
        let batch = shown[0].incident.clone();
        p.snooze(&batch, t0() + mins(120));
        // Recovering while snoozed shows nothing.
        assert!(
            p.on_events(t0() + mins(30), &[refreshed("acr-a")])
                .is_empty()
        );
        assert!(p.on_events(t0() + mins(119), &[denied("acr-b")]).is_empty());
        let after = p.on_events(t0() + mins(120), &[]);
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].covers, ["registry:acr-b.azurecr.io"]);
    }

    #[test]
    fn snoozing_an_unknown_incident_is_harmless() {
        let mut p = policy();
        p.on_events(t0(), &[denied("acr-a")]);
        let before = p.incidents().clone();
        p.snooze("registry:nowhere.azurecr.io", t0() + mins(60));
        p.snooze("", t0() + mins(60));
        p.snooze("batch:999", t0() + mins(60));
        assert_eq!(p.incidents(), &before);
        let mut empty = policy();
        empty.snooze("identity:alice", t0() + mins(60));
        assert_eq!(empty.incidents(), &Incidents::default());
        assert_eq!(empty.on_events(t0(), &[sign_in_required("alice")]).len(), 1);
    }

    #[test]
    fn next_check_names_the_moment_a_quiet_failure_becomes_due() {
        let mut p = policy();
        assert_eq!(p.next_check(t0()), None);
        let valid_until = t0() + mins(100);
        assert!(
            p.on_events(t0(), &[offline("acr-a", Some(valid_until))])
                .is_empty()
        );
        let check = p.next_check(t0()).expect("a time");
        assert_eq!(check, valid_until - AT_RISK + TimeDelta::seconds(1));
        assert!(p.on_events(check - TimeDelta::seconds(1), &[]).is_empty());
        assert_eq!(p.on_events(check, &[]).len(), 1);
        assert_eq!(p.next_check(check), None);
        // Two hours of quiet come first when Docker's credential lasts longer.
        let mut p = policy();
        assert!(
            p.on_events(t0(), &[offline("acr-a", Some(t0() + mins(600)))])
                .is_empty()
        );
        assert_eq!(
            p.next_check(t0()),
            Some(t0() + QUIET_FOR + TimeDelta::seconds(1))
        );
    }

    #[test]
    fn the_state_survives_a_restart() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("state/notifications.json");
        assert_eq!(load_incidents(&path), Incidents::default(), "missing");
        let mut p = policy();
        p.on_events(t0(), &[denied("acr-a"), sign_in_required("bob")]);
        p.on_events(t0() + mins(1), &[offline("acr-c", Some(t0() + mins(300)))]);
        p.snooze("identity:bob", t0() + mins(60));
        save_incidents(&path, p.incidents()).expect("save");
        let loaded = load_incidents(&path);
        assert_eq!(&loaded, p.incidents());
        let mut again = NotificationPolicy::new(loaded);
        assert!(
            again
                .on_events(t0() + mins(2), &[denied("acr-a"), sign_in_required("bob")])
                .is_empty(),
            "nothing twice across a restart"
        );
        let back = again.on_events(t0() + mins(3), &[refreshed("acr-a")]);
        assert_eq!(back.len(), 1, "the recovery is still owed");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_garbage_state_file_starts_fresh() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("notifications.json");
        for garbage in ["{garbage", "[]", "", "{\"open\": 5}", "\u{0}\u{1}"] {
            std::fs::write(&path, garbage).expect("write");
            assert_eq!(load_incidents(&path), Incidents::default(), "{garbage:?}");
        }
        // A folder where the file should be: reading fails, still no panic.
        let folder = dir.path().join("folder");
        std::fs::create_dir(&folder).expect("mkdir");
        assert_eq!(load_incidents(&folder), Incidents::default());
        assert!(save_incidents(&folder, &Incidents::default()).is_err());
        // An older file with fewer fields loads.
        std::fs::write(&path, "{}").expect("write");
        assert_eq!(load_incidents(&path), Incidents::default());
    }

    #[test]
    fn list_helpers() {
        let cases: [(&[&str], &str, &str); 5] = [
            (&[], "", ""),
            (&["a"], "a", "a"),
            (&["a", "b"], "a and b", "a, b"),
            (&["a", "b", "c"], "a, b and c", "a, b, c"),
            (
                &["a", "b", "c", "d", "e", "f"],
                "a, b, c, d, e and 1 more",
                "a, b, c, d, e and 1 more",
            ),
        ];
        for (names, and, comma) in cases {
            assert_eq!(and_list(names), and);
            assert_eq!(comma_list(names), comma);
        }
    }

    fn admin_enabled(registry: &str, admin_mode: bool) -> Event {
        Event::AdminEnabled {
            registry: registry.into(),
            login_server: login_server(registry),
            admin_mode,
        }
    }

    fn admin_disabled(registry: &str, admin_mode: bool) -> Event {
        Event::AdminDisabled {
            registry: registry.into(),
            login_server: login_server(registry),
            admin_mode,
        }
    }

    fn regenerated(registry: &str, password: &str, written: bool) -> Event {
        Event::AdminPasswordRegenerated {
            registry: registry.into(),
            login_server: login_server(registry),
            password: password.into(),
            admin_mode: written,
            written_to_docker: written,
        }
    }

    #[test]
    fn each_admin_change_is_announced_once() {
        let mut p = NotificationPolicy::default();
        let shown = p.on_events(t0(), &[admin_enabled("acra", false)]);
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].title, "Admin account enabled on acra");
        assert!(shown[0].body.contains("recommend keeping it disabled"));
        assert_eq!(shown[0].urgency, Urgency::Normal);
        assert_eq!(shown[0].action, Some(NotificationAction::OpenSettings));
        // Announced: nothing more, however often the policy is asked.
        assert_eq!(p.on_events(t0() + mins(1), &[]), Vec::new());
        assert_eq!(p.next_check(t0() + mins(1)), None);

        let shown = p.on_events(t0() + mins(60), &[regenerated("acra", "password2", false)]);
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].title, "acra: admin password2 regenerated");
        assert!(shown[0].body.contains("Docker is not affected"));
        let shown = p.on_events(t0() + mins(120), &[regenerated("acrb", "password", true)]);
        assert!(
            shown[0]
                .body
                .contains("wrote the new password into Docker's config")
        );
    }

    #[test]
    fn admin_changes_in_one_pass_share_one_notification() {
        let mut p = NotificationPolicy::default();
        let shown = p.on_events(
            t0(),
            &[
                admin_enabled("acra", false),
                admin_disabled("acrb", false),
                regenerated("acrc", "password", false),
            ],
        );
        assert_eq!(shown.len(), 1, "{shown:#?}");
        assert_eq!(shown[0].title, "Admin accounts changed: acra, acrb, acrc");
        assert!(shown[0].body.contains("Admin account disabled on acrb."));
    }

    #[test]
    fn admin_disabled_in_admin_mode_covers_the_refresh_failure_it_causes() {
        let mut p = NotificationPolicy::default();
        let broken = failed(
            "acra",
            Some("alice"),
            ErrorKind::Configuration,
            Some("enable it"),
            None,
        );
        let shown = p.on_events(t0(), &[broken.clone(), admin_disabled("acra", true)]);
        assert_eq!(shown.len(), 1, "{shown:#?}");
        assert_eq!(shown[0].title, "acra: admin account disabled");
        assert!(shown[0].body.contains("Switch it to an Entra identity"));
        assert_eq!(shown[0].urgency, Urgency::Critical);
        assert_eq!(shown[0].action, Some(NotificationAction::OpenSettings));
        // Later passes fail the same way: nothing more.
        assert_eq!(p.on_events(t0() + mins(60), &[broken]), Vec::new());

        // Enabled again: one notification says both; no separate "logged in again".
        let shown = p.on_events(
            t0() + mins(120),
            &[refreshed("acra"), admin_enabled("acra", true)],
        );
        assert_eq!(shown.len(), 1, "{shown:#?}");
        assert_eq!(shown[0].title, "Admin account enabled on acra");
        assert!(
            shown[0]
                .body
                .contains("logged in to acra.azurecr.io with the admin account again")
        );
        assert_eq!(p.on_events(t0() + mins(121), &[]), Vec::new());
    }

    #[test]
    fn admin_news_waits_for_the_rate_cap_and_survives_a_restart() {
        let mut p = NotificationPolicy::default();
        for (i, r) in ["acra", "acrb", "acrc"].iter().enumerate() {
            let shown = p.on_events(t0() + mins(i as i64), &[denied(r)]);
            assert_eq!(shown.len(), 1);
        }
        // The cap (3 in 10 minutes) is reached: the news waits, and is kept across a restart.
        assert_eq!(
            p.on_events(t0() + mins(3), &[admin_enabled("acrd", false)]),
            Vec::new()
        );
        assert_eq!(p.next_check(t0() + mins(3)), Some(t0() + mins(10)));
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("notifications.json");
        save_incidents(&path, p.incidents()).expect("save");
        let mut p = NotificationPolicy::new(load_incidents(&path));
        let shown = p.on_events(t0() + mins(10), &[]);
        assert_eq!(shown.len(), 1, "{shown:#?}");
        assert_eq!(shown[0].title, "Admin account enabled on acrd");
    }
}
