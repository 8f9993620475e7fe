//! The notification policy's state machine: events open, update and close incidents; what is due
//! is coalesced into at most two notifications a call, within the rate cap. The rules are in
//! the documentation of [`super`]; the words come from [`super::text`].

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::incidents::{
    AT_RISK, Announcement, Incident, Incidents, Subject, action_for, at_risk, batch_key,
    client_file_key, identity_key, registry_key, session_key, urgency,
};
use super::text;
use super::{Notification, NotificationAction, Urgency};
use crate::error::ErrorKind;
use crate::events::Event;
use crate::hint::HintWords;

/// A transient failure that lasted longer than this is announced anyway.
pub const QUIET_FOR: TimeDelta = TimeDelta::hours(2);

/// At most [`RATE_LIMIT`] notifications in any window of this length.
pub const RATE_WINDOW: TimeDelta = TimeDelta::minutes(10);

/// How many notifications [`RATE_WINDOW`] allows.
pub const RATE_LIMIT: usize = 3;

/// A session warning whose expected time moves by at least this much is a new warning.
const NEW_EXPECTED_TIME: TimeDelta = TimeDelta::minutes(1);

/// Decides which events become notifications; the rules are in the documentation of [`super`].
#[derive(Clone)]
pub struct NotificationPolicy {
    incidents: Incidents,
    /// How the shell that shows the notifications says the hints' actions.
    words: Arc<dyn HintWords>,
}

impl std::fmt::Debug for NotificationPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationPolicy")
            .field("incidents", &self.incidents)
            .finish_non_exhaustive()
    }
}

impl NotificationPolicy {
    /// A policy continuing from a saved state (or `Incidents::default()`), saying the hints'
    /// actions in `words` (the shell's that shows the notifications).
    pub fn new(incidents: Incidents, words: Arc<dyn HintWords>) -> Self {
        Self { incidents, words }
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
                let (title, body) = text::admin_changes(many);
                (
                    self.batch_key(),
                    title,
                    body,
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
            Event::ClientFileFailed {
                file,
                client,
                kind,
                message,
                hint,
            } => {
                let subject = Subject::ClientFile {
                    file: file.clone(),
                    client: *client,
                };
                let incident = self.open(now, client_file_key(file), subject);
                incident.kind = Some(*kind);
                incident.message.clone_from(message);
                incident.hint.clone_from(hint);
            }
            Event::ClientFileWritten { file, .. } => self.close(&client_file_key(file)),
            // Nothing to say: the user switched it off. A later failure is a new incident.
            Event::ClientFileDropped { file, .. } => {
                self.incidents.open.remove(&client_file_key(file));
            }
            Event::AdminEnabled { .. }
            | Event::AdminDisabled { .. }
            | Event::AdminPasswordRegenerated { .. }
            | Event::AcrTokenPasswordExpiring { .. }
            | Event::AcrTokenDisabled { .. } => self.announce(event),
        }
    }

    /// Queues the announcement of an admin-account change.
    fn announce(&mut self, event: &Event) {
        let Some(news) = Announcement::of(event) else {
            return;
        };
        match event {
            // Access through the admin account is gone: this says it, with what to do; the
            // refresh failure it causes is not announced on its own.
            Event::AdminDisabled {
                login_server,
                admin_mode: true,
                ..
            }
            | Event::AcrTokenDisabled { login_server, .. } => {
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
        batch_key(self.next_seq())
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
                    Subject::Identity { .. }
                    | Subject::Session { .. }
                    | Subject::ClientFile { .. } => true,
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
        let (title, body) = match incidents.as_slice() {
            [one] => text::single_problem(now, one, self.words.as_ref()),
            many => text::several_problems(now, many, self.words.as_ref()),
        };
        let urgency = incidents
            .iter()
            .map(|i| urgency(i, now))
            .max()
            .unwrap_or(Urgency::Normal);
        let action = Some(action_for(&incidents));
        self.covering(keys, title, body, urgency, action)
    }

    /// One "logged in again" for every incident in `keys` (recovered, in opening order).
    fn recovery_notification(&mut self, keys: &[String]) -> Notification {
        let incidents: Vec<&Incident> = keys
            .iter()
            .filter_map(|k| self.incidents.recovered.get(k))
            .collect();
        let (title, body) = text::recovery(&incidents);
        self.covering(keys, title, body, Urgency::Normal, None)
    }

    /// A notification about the incidents `keys`: under the one incident's key, or a new
    /// batch key for several.
    fn covering(
        &mut self,
        keys: &[String],
        title: String,
        body: String,
        urgency: Urgency,
        action: Option<NotificationAction>,
    ) -> Notification {
        let incident = match keys {
            [one] => one.clone(),
            _ => self.batch_key(),
        };
        Notification {
            incident,
            covers: keys.to_vec(),
            title,
            body,
            urgency,
            action,
        }
    }
}
