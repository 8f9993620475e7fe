//! The loop behind [`Scheduler`](super::Scheduler): what it remembers between wakes (backoff,
//! identities waiting for a sign-in, the files it watches) and what it does on each wake.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};

use super::plan;
use super::retries::Retries;
use super::{Buffer, Command, Planned, Status};
use crate::engine::{Engine, EngineOptions};
use crate::error::{Error, Result};
use crate::events::{Event, SubjectKey};
use crate::hint::HintWords;
use crate::notify::{self, NotificationPolicy, Notifier};
use crate::refresh::RegistryOutcome;
use crate::schedule::forecast;
use crate::schedule::policy::{self, Policy};
use crate::store::config::{RegistryConfig, Settings};
use crate::store::instance::InstanceLock;
use crate::store::state::State;

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
    retries: Retries,
    /// Identities waiting for the user to sign in again, and the registries waiting with them.
    blocked: BTreeSet<String>,
    watched: Watched,
    wakes: plan::Wakes,
    passes: u64,
    status: watch::Sender<Status>,
    notifier: Arc<dyn Notifier>,
    notifications: NotificationPolicy,
    incidents_file: PathBuf,
    /// Session warnings already sent: (identity, expected end).
    warned: HashSet<(String, DateTime<Utc>)>,
    /// How often `state.json` was read.
    #[cfg(test)]
    state_loads: u32,
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
            wakes: plan::Wakes::new(now, tokio::time::Instant::now()),
            engine,
            buffer,
            retries: Retries::default(),
            blocked: BTreeSet::new(),
            passes: 0,
            status: status_tx,
            notifier,
            notifications,
            incidents_file,
            warned: HashSet::new(),
            #[cfg(test)]
            state_loads: 0,
        };
        Ok((runner, status, lock))
    }

    pub(super) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        tracing::info!(
            registries = self.engine.settings().registries.len(),
            "scheduler started"
        );
        loop {
            let (next, state) = self.wake().await;
            let now = self.engine.now();
            let sleep = policy::sleep_for(now, next);
            self.publish(&state, now, now + sleep);
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
            self.retries.clear(&SubjectKey::Registry(ls.clone()));
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
        let mut state = self.load_state();
        let outcomes = self.pass(selected, &mut state).await;
        self.wake().await;
        outcomes
    }

    /// `state.json` as it is now.
    pub(super) fn load_state(&mut self) -> State {
        #[cfg(test)]
        {
            self.state_loads += 1;
        }
        State::load(&self.engine.paths().state_file())
    }

    /// Notices what changed, refreshes whatever is due, and says when the next thing is due.
    /// Reads `state.json` once; the pass records into that same state (and saves it), and the
    /// plan after it is made from it. Returns the state too, for the status.
    async fn wake(&mut self) -> (Option<DateTime<Utc>>, State) {
        let now = self.engine.now();
        if let Some(jump) = self.wakes.wake(now, tokio::time::Instant::now()) {
            tracing::info!(
                jumped_minutes = jump.num_minutes(),
                "the clock jumped (resumed from sleep?): checking every registry now"
            );
            // The network that failed before the sleep may be back: retry now.
            self.retries.after_clock_jump();
        }

        let watched = Watched::read(&self.engine);
        if watched.settings != self.watched.settings {
            self.reload();
        }
        let docker_changed = watched.docker != self.watched.docker;
        self.watched = watched;

        let mut state = self.load_state();
        let mut due = self.track_sign_ins(&state);
        if docker_changed {
            // Someone else changed config.json: a repaired file is worth a try at once, and a
            // registry whose entry vanished (deleted file, `docker logout`) is logged in again.
            self.retries.after_docker_config_changed();
            due.extend(self.missing_from_docker(&state));
        }
        let (scheduled, mut earliest) = plan::due_now(&self.plan(&state), &self.retries, now);
        due.extend(scheduled);
        if !due.is_empty() {
            due.sort();
            due.dedup();
            let _ = self.pass(due, &mut state).await;
            // Our own write is not someone else's change.
            self.watched = Watched::read(&self.engine);
            // What the pass changed (new expiry, backoff) decides the next wake.
            let now = self.engine.now();
            earliest = plan::earliest(&self.plan(&state), now);
        }
        let now = self.engine.now();
        let warning = self.forecast(&state, now);
        let check = self.deliver(now);
        (plan::next_wake(earliest, warning, check, now), state)
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
        plan::plan(
            &self.engine.settings().registries,
            state,
            &self.retries,
            &self.blocked,
            &self.policy,
            self.wakes.wall(),
        )
    }

    /// Identities whose session ended wait; one whose user signed in again (here or in another
    /// process) is released, and its registries are due at once.
    /// Returns the login servers of the identities signed in again, to refresh now.
    fn track_sign_ins(&mut self, state: &State) -> Vec<String> {
        let (now_blocked, released) = plan::sign_ins(&self.blocked, state);
        let mut due = Vec::new();
        for id in released {
            tracing::info!(identity = %id, "signed in again: refreshing its registries");
            self.retries.clear(&SubjectKey::Identity(id.clone()));
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
                self.retries.clear(&SubjectKey::Registry(ls.clone()));
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
        state: &mut State,
    ) -> Result<Vec<RegistryOutcome>> {
        self.passes += 1;
        self.status
            .send_modify(|s| s.refreshing.clone_from(&login_servers));
        let mut result = self.engine.refresh_with_state(&login_servers, state).await;
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
                .filter(|ls| !self.retries.waits_on_docker_config(ls))
                .collect();
            if !rest.is_empty()
                && let Ok(more) = self.engine.refresh_with_state(&rest, state).await
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
                    let key = SubjectKey::Registry(ls.clone());
                    self.retries.fail(key, now, e, &self.policy);
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
        self.retries
            .count_outcomes(outcomes, &identity_of, now, &self.policy);
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

    fn publish(&self, state: &State, now: DateTime<Utc>, next_wake: DateTime<Utc>) {
        let registries = self
            .plan(state)
            .into_iter()
            .map(|(reg, due_at)| Planned {
                name: reg.name.clone(),
                login_server: reg.login_server.to_string(),
                due_at,
                failures: self.retries.count(reg),
                waiting_for_sign_in: plan::waiting_for_sign_in(reg, &self.blocked)
                    .map(str::to_owned),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use crate::notify::LogNotifier;
    use crate::store::secrets::MemoryStore;

    /// A wake that makes a pass reads `state.json` once: the pass records into the state the
    /// wake read (and saves it), and the plan after it, the session warnings and the status
    /// are made from that same state, which is then what is on disk.
    #[tokio::test]
    async fn a_wake_reads_the_state_once() {
        let home = tempfile::tempdir().expect("tmp");
        // The identity is not signed in: the pass fails before any request.
        std::fs::write(
            home.path().join("config.toml"),
            "[[registry]]\nname = \"one\"\nlogin_server = \"one.azurecr.io\"\nidentity = \"app\"\n",
        )
        .expect("write");
        let options = EngineOptions {
            env: Env::from_pairs([
                ("ACR_TRAY_HOME", home.path().display().to_string()),
                (
                    "DOCKER_CONFIG",
                    home.path().join("docker").display().to_string(),
                ),
            ]),
            secrets: Arc::new(MemoryStore::new()),
            ..EngineOptions::from_process()
        };
        let (mut runner, _status, _lock) = Runner::prepare(
            options,
            "test",
            Arc::new(LogNotifier),
            Arc::new(crate::hint::PlainWords),
        )
        .expect("runner");

        let (next, state) = runner.wake().await;
        assert_eq!(runner.passes, 1);
        assert_eq!(runner.state_loads, 1);
        let recorded = state.registries.get("one.azurecr.io").expect("recorded");
        assert!(recorded.last_error.is_some());
        assert_eq!(state, State::load(&runner.engine.paths().state_file()));
        // The identity backs off; the next wake is when it may be tried again.
        let failing = &runner.engine.settings().registries[0];
        assert_eq!(next, runner.retries.retry_at(failing));
        assert!(next.is_some());
    }
}
