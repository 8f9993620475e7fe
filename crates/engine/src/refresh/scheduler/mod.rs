//! The always-on engine: a tokio task that keeps every registry's Docker credential fresh on
//! the schedule of [`crate::schedule::policy`]. It wakes at least once a minute to notice a wall clock
//! that jumped (resume from suspend), changed settings, a repaired config.json and a user who
//! signed in again; it backs off after failures (per registry, and per identity when the
//! identity's sign-in is what failed), waits for the user when a session ended, and hands every
//! event to the sink it was given and to the notification policy.
//!
//! It waits only on tokio's timers and reads the time only from the engine's
//! [`Clock`](crate::clock::Clock), so tests run it on a paused tokio clock.
//!
//! In parts: this file is the handle ([`Scheduler`]) and what it publishes; `runner.rs` the
//! loop, which reads `state.json` once a wake; `plan.rs` its decisions (what is due, what is
//! refreshed now, when to wake, whether the clock jumped) and `retries.rs` the backoff per
//! registry and identity, keyed by [`SubjectKey`](crate::events::SubjectKey) — both pure,
//! unit-tested in `tests.rs`.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::engine::EngineOptions;
use crate::error::{Error, Result};
use crate::events::{Event, EventSink};
use crate::hint::HintWords;
use crate::notify::Notifier;
use crate::refresh::RegistryOutcome;
use crate::store::instance::InstanceLock;

mod plan;
mod retries;
mod runner;
#[cfg(test)]
mod tests;
use runner::Runner;

/// What the scheduler is doing, published after every wake.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The wall time of the last wake.
    pub observed: DateTime<Utc>,
    /// Until when nothing is due: the next wake.
    pub next_wake: DateTime<Utc>,
    /// Refresh passes so far.
    pub passes: u64,
    /// Every registry's plan.
    pub registries: Vec<Planned>,
    /// Login servers of the pass in flight (empty between passes), so a shell can show
    /// "refreshing".
    pub refreshing: Vec<String>,
}

/// One registry's plan.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Planned {
    /// Short name.
    pub name: String,
    /// Login server.
    pub login_server: String,
    /// When it is next refreshed (`None`: not automatically; it waits for a sign-in).
    pub due_at: Option<DateTime<Utc>>,
    /// Failures in a row.
    pub failures: u32,
    /// The identity whose session ended, when the registry waits for its sign-in.
    pub waiting_for_sign_in: Option<String>,
}

enum Command {
    RefreshNow {
        names: Vec<String>,
        reply: oneshot::Sender<Result<Vec<RegistryOutcome>>>,
    },
    Reload,
    Snooze {
        incident: String,
        until: DateTime<Utc>,
    },
    Stop(oneshot::Sender<()>),
}

/// The running scheduler. Dropping it stops the task (a pass in flight is abandoned; Docker's
/// config is only ever replaced atomically, so nothing is left half-written).
pub struct Scheduler {
    commands: mpsc::UnboundedSender<Command>,
    status: watch::Receiver<Status>,
    task: Option<JoinHandle<()>>,
    _lock: InstanceLock,
}

impl Scheduler {
    /// Opens the engine, takes the single-engine lock and starts the task on the current tokio
    /// runtime. `program` names the holder for a second engine's error message; `words` say
    /// the hints in its notifications as the shell that shows them does.
    pub fn start(
        options: EngineOptions,
        program: &str,
        notifier: Arc<dyn Notifier>,
        words: Arc<dyn HintWords>,
    ) -> Result<Self> {
        let (runner, status, lock) = Runner::prepare(options, program, notifier, words)?;
        let (commands, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(runner.run(rx));
        Ok(Self {
            commands,
            status,
            task: Some(task),
            _lock: lock,
        })
    }

    /// One pass over every registry, as the running engine would make it (same lock, events
    /// and notifications), then stop: for cron jobs and `acr-tray-cli run --once`.
    pub async fn once(
        options: EngineOptions,
        program: &str,
        notifier: Arc<dyn Notifier>,
        words: Arc<dyn HintWords>,
    ) -> Result<Vec<RegistryOutcome>> {
        let (mut runner, _status, _lock) = Runner::prepare(options, program, notifier, words)?;
        let all = runner
            .engine
            .settings()
            .registries
            .iter()
            .map(|r| r.login_server.to_string())
            .collect();
        let mut state = runner.load_state();
        let outcomes = runner.pass(all, &mut state).await;
        let now = runner.engine.now();
        runner.deliver(now);
        outcomes
    }

    /// Quiets a notification's incident (or every incident of a coalesced one) until `until`.
    pub fn snooze(&self, incident: &str, until: DateTime<Utc>) {
        let _ = self.commands.send(Command::Snooze {
            incident: incident.to_owned(),
            until,
        });
    }

    /// Refreshes the named registries (all when empty) now, whatever their schedule or backoff
    /// (registries whose identity must sign in again are still skipped).
    pub async fn refresh_now(&self, names: Vec<String>) -> Result<Vec<RegistryOutcome>> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::RefreshNow { names, reply })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Like [`Scheduler::refresh_now`], without waiting for the outcome (events and the status
    /// tell it).
    pub fn refresh_soon(&self, names: Vec<String>) {
        let (reply, _) = oneshot::channel();
        let _ = self.commands.send(Command::RefreshNow { names, reply });
    }

    /// Reads the settings again now (they are also re-read when the file changes).
    pub fn reload(&self) {
        let _ = self.commands.send(Command::Reload);
    }

    /// The latest status, and changes to it.
    pub fn status(&self) -> watch::Receiver<Status> {
        self.status.clone()
    }

    /// Waits until the scheduler has handled everything due up to `at` (its next wake is
    /// later), or it stopped.
    pub async fn settled(&self, at: DateTime<Utc>) {
        let mut status = self.status.clone();
        let _ = status.wait_for(|s| s.next_wake > at).await;
    }

    /// Stops after the pass in flight, if any.
    pub async fn stop(mut self) {
        let (reply, done) = oneshot::channel();
        if self.commands.send(Command::Stop(reply)).is_ok() {
            let _ = done.await;
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn stopped() -> Error {
    Error::invalid_input("the scheduler has stopped", "start ACR Tray again")
}

/// Passes events on and keeps the current pass's for the notification policy.
struct Buffer {
    outer: Arc<dyn EventSink>,
    pass: Mutex<Vec<Event>>,
}

impl EventSink for Buffer {
    fn emit(&self, event: Event) {
        self.pass
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event.clone());
        self.outer.emit(event);
    }
}

impl Buffer {
    fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.pass.lock().unwrap_or_else(|e| e.into_inner()))
    }
}
