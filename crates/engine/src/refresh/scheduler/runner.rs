//! The loop behind [`Scheduler`](super::Scheduler): what it remembers between wakes (backoff,
//! identities waiting for a sign-in, the files it watches) and what it does on each wake.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::{mpsc, watch};

use super::{Buffer, Command, Planned, Status};
use crate::engine::{Engine, EngineOptions};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::hint::HintWords;
use crate::limits;
use crate::notify::{self, NotificationPolicy, Notifier};
use crate::refresh::RegistryOutcome;
use crate::schedule::forecast;
use crate::schedule::policy::{self, FailureClass, Policy};
use crate::store::config::{RegistryAuth, RegistryConfig, Settings};
use crate::store::instance::InstanceLock;
use crate::store::state::State;

/// Scheduled refreshes due within this window are made together (see `Runner::wake`).
const COALESCE: TimeDelta = TimeDelta::seconds(30);

/// Failures in a row of one registry (`registry:<login server>`) or one identity
/// (`identity:<id>`), and when to try again.
#[derive(Debug, Clone)]
struct Failures {
    count: u32,
    retry_at: DateTime<Utc>,
    class: FailureClass,
    kind: crate::error::ErrorKind,
}

/// The files whose change triggers work: the settings (reload) and Docker's config.json (a
/// repaired file is retried at once).
#[derive(Debug, Clone, PartialEq)]
struct Watched {
    settings: Option<SystemTime>,
    docker: Option<SystemTime>,
}

impl Watched {
    fn read(engine: &Engine) -> Self {
        let modified = |p: Option<PathBuf>| {
            p.and_then(|p| std::fs::metadata(p).ok())
                .and_then(|m| m.modified().ok())
        };
        Self {
            settings: modified(Some(engine.paths().config_file())),
            docker: modified(engine.docker_config_path().ok()),
        }
    }
}

pub(super) struct Runner {
    pub(super) engine: Engine,
    policy: Policy,
    buffer: Arc<Buffer>,
    failures: HashMap<String, Failures>,
    /// Identities waiting for the user to sign in again, and the registries waiting with them.
    blocked: BTreeMap<String, ()>,
    watched: Watched,
    last_wall: DateTime<Utc>,
    last_mono: tokio::time::Instant,
    first: bool,
    passes: u64,
    status: watch::Sender<Status>,
    notifier: Arc<dyn Notifier>,
    notifications: NotificationPolicy,
    incidents_file: PathBuf,
    /// Session warnings already sent: (identity, expected end).
    warned: HashSet<(String, DateTime<Utc>)>,
}

impl Runner {
    pub(super) fn prepare(
        options: EngineOptions,
        program: &str,
        notifier: Arc<dyn Notifier>,
        words: Arc<dyn HintWords>,
    ) -> Result<(Self, watch::Receiver<Status>, InstanceLock)> {
        let buffer = Arc::new(Buffer {
            outer: options.events.clone(),
            pass: Mutex::new(Vec::new()),
        });
        let engine = Engine::open(EngineOptions {
            events: buffer.clone(),
            ..options
        })?;
        let lock = InstanceLock::acquire(engine.paths(), program)?;
        let now = engine.now();
        let incidents_file = engine.paths().incidents_file();
        let notifications = NotificationPolicy::new(notify::load_incidents(&incidents_file), words);
        let (status_tx, status) = watch::channel(Status {
            observed: now,
            next_wake: now,
            passes: 0,
            registries: Vec::new(),
            refreshing: Vec::new(),
        });
        let runner = Self {
            policy: Policy::from_settings(&engine.settings().refresh),
            watched: Watched::read(&engine),
            last_wall: now,
            last_mono: tokio::time::Instant::now(),
            engine,
            buffer,
            failures: HashMap::new(),
            blocked: BTreeMap::new(),
            first: true,
            passes: 0,
            status: status_tx,
            notifier,
            notifications,
            incidents_file,
            warned: HashSet::new(),
        };
        Ok((runner, status, lock))
    }

    pub(super) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        tracing::info!(
            registries = self.engine.settings().registries.len(),
            "scheduler started"
        );
        loop {
            let next = self.wake(Vec::new()).await;
            let now = self.engine.now();
            let sleep = policy::sleep_for(now, next);
            self.publish(now, now + sleep);
            let command = tokio::select! {
                () = tokio::time::sleep(sleep.to_std().unwrap_or_default()) => None,
                command = commands.recv() => match command {
                    Some(c) => Some(c),
                    None => return,
                },
            };
            match command {
                None => {}
                Some(Command::Reload) => self.reload(),
                Some(Command::Snooze { incident, until }) => {
                    self.notifications.snooze(&incident, until);
                    self.save_incidents();
                }
                Some(Command::Stop(reply)) => {
                    tracing::info!("scheduler stopped");
                    let _ = reply.send(());
                    return;
                }
                Some(Command::RefreshNow { names, reply }) => {
                    let result = self.forced(names).await;
                    let _ = reply.send(result);
                }
            }
        }
    }

    /// Registries asked for by name, refreshed now.
    async fn forced(&mut self, names: Vec<String>) -> Result<Vec<RegistryOutcome>> {
        let selected: Vec<String> = if names.is_empty() {
            self.engine
                .settings()
                .registries
                .iter()
                .map(|r| r.login_server.to_string())
                .collect()
        } else {
            let mut out = Vec::new();
            for n in &names {
                out.push(self.engine.settings().registry(n)?.login_server.to_string());
            }
            out
        };
        for ls in &selected {
            self.failures.remove(&registry_key(ls));
        }
        // Asked for by a person: check the whole chain again, Entra sign-in included, so a
        // session that ended since the cached access token was issued shows now, not up to an
        // hour later. One Entra request per identity; the scheduled passes keep the cache.
        let identities: HashSet<String> = self
            .engine
            .settings()
            .registries
            .iter()
            .filter(|r| selected.contains(&r.login_server.to_string()))
            .filter_map(|r| r.identity.clone())
            .collect();
        for id in &identities {
            self.engine.forget_tokens(id);
        }
        let outcomes = self.pass(selected).await;
        self.wake(Vec::new()).await;
        outcomes
    }

    /// Notices what changed, refreshes whatever is due, and says when the next thing is due.
    async fn wake(&mut self, extra: Vec<String>) -> Option<DateTime<Utc>> {
        let now = self.engine.now();
        let mono = tokio::time::Instant::now();
        let wall_elapsed = now - self.last_wall;
        let mono_elapsed = TimeDelta::from_std(mono - self.last_mono).unwrap_or(TimeDelta::MAX);
        if !self.first && policy::clock_jumped(wall_elapsed, mono_elapsed) {
            tracing::info!(
                jumped_minutes = (wall_elapsed - mono_elapsed).num_minutes(),
                "the clock jumped (resumed from sleep?): checking every registry now"
            );
            // The network that failed before the sleep may be back: retry now.
            self.failures
                .retain(|_, f| f.class != FailureClass::Transient);
        }
        self.first = false;
        self.last_wall = now;
        self.last_mono = mono;

        let watched = Watched::read(&self.engine);
        if watched.settings != self.watched.settings {
            self.reload();
        }
        let docker_changed = watched.docker != self.watched.docker;
        self.watched = watched;

        let state = State::load(&self.engine.paths().state_file());
        let signed_in_again = self.track_sign_ins(&state);

        let mut due: Vec<String> = extra;
        due.extend(signed_in_again);
        if docker_changed {
            // Someone else changed config.json: a repaired file is worth a try at once, and a
            // registry whose entry vanished (deleted file, `docker logout`) is logged in again.
            self.failures
                .retain(|_, f| f.kind != crate::error::ErrorKind::DockerConfig);
            due.extend(self.missing_from_docker(&state));
        }
        let mut earliest: Option<DateTime<Utc>> = None;
        for (reg, at) in self.plan(&state) {
            let Some(at) = at else { continue };
            // Scheduled refreshes falling due within the next half minute join this pass:
            // one write of config.json and state.json instead of one per registry. Retries
            // keep their own time (a server's Retry-After is honoured to the second).
            let window = if self.is_retrying(reg) {
                TimeDelta::zero()
            } else {
                COALESCE
            };
            if at <= now + window {
                due.push(reg.login_server.to_string());
            } else {
                earliest = Some(earliest.map_or(at, |e| e.min(at)));
            }
        }
        if !due.is_empty() {
            due.sort();
            due.dedup();
            let _ = self.pass(due).await;
            // Our own write is not someone else's change.
            self.watched = Watched::read(&self.engine);
            // What the pass changed (new expiry, backoff) decides the next wake.
            let state = State::load(&self.engine.paths().state_file());
            let now = self.engine.now();
            earliest = self
                .plan(&state)
                .into_iter()
                .filter_map(|(_, at)| at)
                .map(|at| at.max(now))
                .min();
        }
        let state = State::load(&self.engine.paths().state_file());
        let now = self.engine.now();
        let warning = self.forecast(&state, now);
        let check = self.deliver(now);
        [earliest, warning, check.filter(|at| *at > now)]
            .into_iter()
            .flatten()
            .min()
    }

    /// Registries ACR Tray has written to config.json's `auths` before whose entry is gone.
    fn missing_from_docker(&self, state: &State) -> Vec<String> {
        let Ok(path) = self.engine.docker_config_path() else {
            return Vec::new();
        };
        let Ok(config) = crate::docker::DockerConfig::load(&path) else {
            return Vec::new();
        };
        self.engine
            .settings()
            .registries
            .iter()
            .map(|r| r.login_server.to_string())
            .filter(|ls| {
                state
                    .registries
                    .get(ls)
                    .is_some_and(|s| s.last_refresh.is_some())
            })
            .filter(|ls| {
                config.store_for(ls, self.engine.env()) == crate::docker::CredentialStore::File
                    && !config.has_secrets(ls)
            })
            .inspect(
                |ls| tracing::info!(registry = %ls, "its Docker entry is gone: writing it again"),
            )
            .collect()
    }

    /// Each registry with when it is due (`None`: waiting for a sign-in).
    fn plan<'s>(&'s self, state: &State) -> Vec<(&'s RegistryConfig, Option<DateTime<Utc>>)> {
        self.engine
            .settings()
            .registries
            .iter()
            .map(|reg| {
                if self.waiting_for_sign_in(reg).is_some() {
                    return (reg, None);
                }
                let ls = reg.login_server.to_string();
                let own = self.failures.get(&registry_key(&ls)).map(|f| f.retry_at);
                let identity = reg
                    .identity
                    .as_deref()
                    .and_then(|id| self.failures.get(&identity_key(id)))
                    .map(|f| f.retry_at);
                let at = match (own, identity) {
                    (None, None) => {
                        let s = state.registries.get(&ls);
                        self.policy.due_at(
                            &ls,
                            s.and_then(|s| s.last_refresh),
                            s.and_then(|s| s.expires_at),
                        )
                    }
                    (a, b) => a.max(b),
                };
                // `None` from the policy means "never refreshed": due now.
                (reg, Some(at.unwrap_or(self.last_wall)))
            })
            .collect()
    }

    /// Whether the registry (or its identity) is backing off after a failure.
    fn is_retrying(&self, reg: &RegistryConfig) -> bool {
        self.failures
            .contains_key(&registry_key(&reg.login_server.to_string()))
            || reg
                .identity
                .as_deref()
                .is_some_and(|id| self.failures.contains_key(&identity_key(id)))
    }

    fn waiting_for_sign_in<'r>(&self, reg: &'r RegistryConfig) -> Option<&'r str> {
        if reg.auth == RegistryAuth::AdminPassword {
            return None;
        }
        let id = reg.identity.as_deref()?;
        self.blocked.contains_key(id).then_some(id)
    }

    /// Identities whose session ended wait; one whose user signed in again (here or in another
    /// process) is released, and its registries are due at once.
    /// Returns the login servers of the identities signed in again, to refresh now.
    fn track_sign_ins(&mut self, state: &State) -> Vec<String> {
        let now_blocked: BTreeMap<String, ()> = state
            .identities
            .iter()
            .filter(|(_, s)| s.sign_in_required.is_some())
            .map(|(id, _)| (id.clone(), ()))
            .collect();
        let released: Vec<String> = self
            .blocked
            .keys()
            .filter(|id| !now_blocked.contains_key(*id))
            .cloned()
            .collect();
        let mut due = Vec::new();
        for id in released {
            tracing::info!(identity = %id, "signed in again: refreshing its registries");
            self.failures.remove(&identity_key(&id));
            // The failure this engine remembers for the old session must not stand in for the
            // new one.
            self.engine.forget_tokens(&id);
            let registries: Vec<String> = self
                .engine
                .settings()
                .registries
                .iter()
                .filter(|r| r.identity.as_deref() == Some(id.as_str()))
                .map(|r| r.login_server.to_string())
                .collect();
            for ls in registries {
                self.failures.remove(&registry_key(&ls));
                due.push(ls);
            }
            if state
                .identities
                .get(&id)
                .and_then(|s| s.last_sign_in)
                .is_some()
            {
                self.engine.emit(Event::SignedIn { identity: id });
            }
        }
        self.blocked = now_blocked;
        due
    }

    /// One refresh of `login_servers`, then the backoff bookkeeping.
    pub(super) async fn pass(
        &mut self,
        login_servers: Vec<String>,
    ) -> Result<Vec<RegistryOutcome>> {
        self.passes += 1;
        self.status
            .send_modify(|s| s.refreshing.clone_from(&login_servers));
        let mut result = self.engine.refresh(&login_servers).await;
        if let Ok(outcomes) = &mut result
            && outcomes
                .iter()
                .any(|o| matches!(o.result, Err(Error::DockerConfigMalformed { .. })))
        {
            // A config.json that does not parse fails every registry alike (the pre-flight
            // refuses before any request is made): fail the others in this same pass, so the
            // broken file is one incident told once, not one per registry as each falls due.
            // Registries already waiting on the file are left to their backoff.
            let rest: Vec<String> = self
                .engine
                .settings()
                .registries
                .iter()
                .map(|r| r.login_server.to_string())
                .filter(|ls| !login_servers.contains(ls))
                .filter(|ls| {
                    self.failures
                        .get(&registry_key(ls))
                        .is_none_or(|f| f.kind != crate::error::ErrorKind::DockerConfig)
                })
                .collect();
            if !rest.is_empty()
                && let Ok(more) = self.engine.refresh(&rest).await
            {
                outcomes.extend(more);
            }
        }
        self.status.send_modify(|s| s.refreshing.clear());
        let now = self.engine.now();
        match &result {
            Ok(outcomes) => self.count(outcomes, now),
            Err(e) => {
                // The pass could not start (settings or Docker location unusable).
                tracing::warn!(error = %e, "refresh pass failed");
                for ls in &login_servers {
                    self.fail(registry_key(ls), now, e);
                }
            }
        }
        result
    }

    /// Warns of sessions a learned sign-in-frequency policy will end soon (once per expected
    /// end); says when the next warning falls due.
    fn forecast(&mut self, state: &State, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut next: Option<DateTime<Utc>> = None;
        for (id, s) in &state.identities {
            if s.sign_in_required.is_some() {
                continue;
            }
            let limit = s.sign_in_frequency();
            if let Some(end) = forecast::should_warn(now, s.last_sign_in, limit) {
                if self.warned.insert((id.clone(), end)) {
                    tracing::info!(identity = %id, %end, "the session ends soon");
                    self.engine.emit(Event::SessionExpiringSoon {
                        identity: id.clone(),
                        at: end,
                    });
                }
            } else if let Some(at) =
                forecast::warning_time(s.last_sign_in, limit).filter(|at| *at > now)
            {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        next
    }

    /// Hands the events since the last call to the notification policy and shows what it
    /// decides; says when the policy wants to look again.
    pub(super) fn deliver(&mut self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let events = self.buffer.take();
        let due = self
            .notifications
            .next_check(now)
            .is_some_and(|at| at <= now);
        if !events.is_empty() || due {
            let before = self.notifications.incidents().clone();
            for n in self.notifications.on_events(now, &events) {
                self.notifier.show(&n);
            }
            if *self.notifications.incidents() != before {
                self.save_incidents();
            }
        }
        self.notifications.next_check(now)
    }

    fn save_incidents(&self) {
        if let Err(e) = notify::save_incidents(&self.incidents_file, self.notifications.incidents())
        {
            tracing::warn!(error = %e, "could not save the notification state");
        }
    }

    fn count(&mut self, outcomes: &[RegistryOutcome], now: DateTime<Utc>) {
        let identity_of: HashMap<String, String> = self
            .engine
            .settings()
            .registries
            .iter()
            .filter_map(|r| Some((r.login_server.to_string(), r.identity.clone()?)))
            .collect();
        let mut identities_failed: HashMap<String, Error> = HashMap::new();
        let mut identities_ok: HashSet<String> = HashSet::new();
        for o in outcomes {
            let key = registry_key(&o.login_server);
            let identity = identity_of.get(&o.login_server);
            match (&o.result, identity) {
                (Ok(_), _) => {
                    self.failures.remove(&key);
                    identities_ok.extend(identity.cloned());
                }
                (Err(e), _) if crate::engine::ends_session(e).is_some() => {
                    self.failures.remove(&key);
                }
                (Err(e), Some(id)) if identity_level(e) => {
                    self.failures.remove(&key);
                    identities_failed.insert(id.clone(), e.clone());
                }
                (Err(e), _) => self.fail(key, now, e),
            }
        }
        for id in identities_ok {
            self.failures.remove(&identity_key(&id));
        }
        for (id, e) in identities_failed {
            self.fail(identity_key(&id), now, &e);
        }
    }

    fn fail(&mut self, key: String, now: DateTime<Utc>, e: &Error) {
        let class = match e {
            Error::KeyringUnavailable { .. } | Error::Io { .. } => FailureClass::Transient,
            e => FailureClass::of(e.kind()),
        };
        let count = self.failures.get(&key).map_or(0, |f| f.count) + 1;
        let retry_after = e.retry_after().map(limits::retry_after_delta);
        let retry_at = self
            .policy
            .backoff
            .retry_at(&key, now, count, class, retry_after);
        tracing::info!(
            what = %key,
            failures = count,
            retry_in_s = (retry_at - now).num_seconds(),
            "will retry"
        );
        self.failures.insert(
            key,
            Failures {
                count,
                retry_at,
                class,
                kind: e.kind(),
            },
        );
    }

    fn reload(&mut self) {
        let path = self.engine.paths().config_file();
        match Settings::load(&path) {
            Ok(settings) => {
                if &settings == self.engine.settings() {
                    return;
                }
                match self.engine.replace_settings(settings) {
                    Ok(()) => {
                        self.policy = Policy::from_settings(&self.engine.settings().refresh);
                        tracing::info!(
                            registries = self.engine.settings().registries.len(),
                            "settings reloaded"
                        );
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "the new settings cannot be used; keeping the old ones");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the settings file cannot be read; keeping the old settings");
            }
        }
    }

    fn publish(&self, now: DateTime<Utc>, next_wake: DateTime<Utc>) {
        let state = State::load(&self.engine.paths().state_file());
        let registries = self
            .plan(&state)
            .into_iter()
            .map(|(reg, due_at)| {
                let ls = reg.login_server.to_string();
                Planned {
                    name: reg.name.clone(),
                    login_server: ls.clone(),
                    due_at,
                    failures: self
                        .failures
                        .get(&registry_key(&ls))
                        .or_else(|| {
                            reg.identity
                                .as_deref()
                                .and_then(|id| self.failures.get(&identity_key(id)))
                        })
                        .map_or(0, |f| f.count),
                    waiting_for_sign_in: self.waiting_for_sign_in(reg).map(str::to_owned),
                }
            })
            .collect();
        self.status.send_replace(Status {
            observed: now,
            next_wake,
            passes: self.passes,
            registries,
            refreshing: Vec::new(),
        });
    }
}

fn registry_key(login_server: &str) -> String {
    format!("registry:{login_server}")
}

fn identity_key(identity: &str) -> String {
    format!("identity:{identity}")
}

/// Whether a failure is the identity's (its token could not be had) rather than the
/// registry's: then every registry of the identity waits on one backoff.
fn identity_level(e: &Error) -> bool {
    matches!(
        e,
        Error::Entra(_) | Error::SecretUnavailable { .. } | Error::KeyringUnavailable { .. }
    )
}
