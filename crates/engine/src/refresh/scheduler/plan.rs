//! The loop's decisions, as pure functions of what it knows at a wake: when each registry is
//! due, which are refreshed now, which identities signed in again, and when to wake next.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};

use super::retries::Retries;
use crate::schedule::policy::{self, Policy};
use crate::store::config::RegistryConfig;
use crate::store::state::State;

/// The wall and monotonic times of the last wake, to notice a wall clock that jumped (the
/// machine slept, or the clock was set) between two wakes.
#[derive(Debug, Clone)]
pub(super) struct Wakes {
    wall: DateTime<Utc>,
    mono: tokio::time::Instant,
    first: bool,
}

impl Wakes {
    /// Before the first wake, at `wall` and `mono`.
    pub(super) fn new(wall: DateTime<Utc>, mono: tokio::time::Instant) -> Self {
        Self {
            wall,
            mono,
            first: true,
        }
    }

    /// The wall time of the last wake.
    pub(super) fn wall(&self) -> DateTime<Utc> {
        self.wall
    }

    /// Records a wake at `wall` and `mono`, and says by how much the wall clock ran ahead of
    /// the monotonic one since the last wake when that was a jump (never on the first wake).
    pub(super) fn wake(
        &mut self,
        wall: DateTime<Utc>,
        mono: tokio::time::Instant,
    ) -> Option<TimeDelta> {
        let wall_elapsed = wall - self.wall;
        let mono_elapsed = TimeDelta::from_std(mono.saturating_duration_since(self.mono))
            .unwrap_or(TimeDelta::MAX);
        let jumped = !self.first && policy::clock_jumped(wall_elapsed, mono_elapsed);
        *self = Self {
            wall,
            mono,
            first: false,
        };
        jumped.then(|| wall_elapsed - mono_elapsed)
    }
}

/// Scheduled refreshes due within this window are made together (see [`due_now`]).
pub(super) const COALESCE: TimeDelta = TimeDelta::seconds(30);

/// Each registry with when it is due (`None`: waiting for a sign-in): when it may be tried
/// again after a failure (of its own or its identity's), else when the policy says its
/// credential needs refreshing; a registry never refreshed is due at `wake`.
pub(super) fn plan<'r>(
    registries: &'r [RegistryConfig],
    state: &State,
    retries: &Retries,
    blocked: &BTreeSet<String>,
    policy: &Policy,
    wake: DateTime<Utc>,
) -> Vec<(&'r RegistryConfig, Option<DateTime<Utc>>)> {
    registries
        .iter()
        .map(|reg| {
            if waiting_for_sign_in(reg, blocked).is_some() {
                return (reg, None);
            }
            let at = retries.retry_at(reg).or_else(|| {
                let ls = reg.login_server.to_string();
                let s = state.registries.get(&ls);
                policy.due_at(
                    &ls,
                    s.and_then(|s| s.last_refresh),
                    s.and_then(|s| s.expires_at),
                )
            });
            // `None` from the policy means "never refreshed": due now.
            (reg, Some(at.unwrap_or(wake)))
        })
        .collect()
}

/// The identity whose sign-in the registry waits for, if its session ended (an admin
/// password needs no identity).
pub(super) fn waiting_for_sign_in<'r>(
    reg: &'r RegistryConfig,
    blocked: &BTreeSet<String>,
) -> Option<&'r str> {
    if !reg.auth.needs_identity() {
        return None;
    }
    let id = reg.identity.as_deref()?;
    blocked.contains(id).then_some(id)
}

/// Which planned registries to refresh now (login servers), and when the earliest of the
/// others is due. Scheduled refreshes falling due within [`COALESCE`] join this pass: one
/// write of config.json and state.json instead of one per registry. Retries keep their own
/// time (a server's `Retry-After` is honoured to the second).
pub(super) fn due_now(
    plan: &[(&RegistryConfig, Option<DateTime<Utc>>)],
    retries: &Retries,
    now: DateTime<Utc>,
) -> (Vec<String>, Option<DateTime<Utc>>) {
    let mut due = Vec::new();
    let mut earliest: Option<DateTime<Utc>> = None;
    for (reg, at) in plan {
        let Some(at) = *at else { continue };
        let window = if retries.is_retrying(reg) {
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
    (due, earliest)
}

/// The earliest planned time, none before `now` (after a pass, for the next wake).
pub(super) fn earliest(
    plan: &[(&RegistryConfig, Option<DateTime<Utc>>)],
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    plan.iter()
        .filter_map(|(_, at)| *at)
        .map(|at| at.max(now))
        .min()
}

/// The identities waiting for a sign-in now (per `state`), and those of `before` no longer
/// waiting: signed in again, here or in another process.
pub(super) fn sign_ins(
    before: &BTreeSet<String>,
    state: &State,
) -> (BTreeSet<String>, Vec<String>) {
    let now_blocked: BTreeSet<String> = state
        .identities
        .iter()
        .filter(|(_, s)| s.sign_in_required.is_some())
        .map(|(id, _)| id.clone())
        .collect();
    let released = before.difference(&now_blocked).cloned().collect();
    (now_blocked, released)
}

/// When to wake next: the earliest of the next refresh, the next session warning and the
/// notification policy's next look (only if after `now`).
pub(super) fn next_wake(
    refresh: Option<DateTime<Utc>>,
    warning: Option<DateTime<Utc>>,
    notifications: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    [refresh, warning, notifications.filter(|at| *at > now)]
        .into_iter()
        .flatten()
        .min()
}
