//! The scheduler's backoff: failures in a row of one registry or one identity, keyed by
//! [`SubjectKey`] (the notification policy's incident keys), and when each is tried again.
//! Decisions only: no I/O, no clock of its own.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::engine::ends_session;
use crate::error::{Error, ErrorKind};
use crate::events::SubjectKey;
use crate::limits;
use crate::refresh::RegistryOutcome;
use crate::schedule::policy::{FailureClass, Policy};
use crate::store::config::RegistryConfig;

/// Failures in a row of one subject, and when to try again.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Failure {
    pub(super) count: u32,
    pub(super) retry_at: DateTime<Utc>,
    pub(super) class: FailureClass,
    pub(super) kind: ErrorKind,
}

/// Every subject backing off after a failure.
#[derive(Debug, Default)]
pub(super) struct Retries {
    failures: HashMap<SubjectKey, Failure>,
}

impl Retries {
    /// The failure a subject is backing off from.
    pub(super) fn get(&self, key: &SubjectKey) -> Option<&Failure> {
        self.failures.get(key)
    }

    /// Forgets a subject's failures (it worked, or is to be tried now).
    pub(super) fn clear(&mut self, key: &SubjectKey) {
        self.failures.remove(key);
    }

    /// When a registry may be tried again: after its own backoff and its identity's (the
    /// later of the two); `None` when neither is backing off.
    pub(super) fn retry_at(&self, reg: &RegistryConfig) -> Option<DateTime<Utc>> {
        let own = self.get(&registry(reg)).map(|f| f.retry_at);
        let identity = identity(reg).and_then(|k| self.get(&k)).map(|f| f.retry_at);
        own.max(identity)
    }

    /// Whether the registry (or its identity) is backing off after a failure.
    pub(super) fn is_retrying(&self, reg: &RegistryConfig) -> bool {
        self.retry_at(reg).is_some()
    }

    /// Failures in a row of the registry, else of its identity.
    pub(super) fn count(&self, reg: &RegistryConfig) -> u32 {
        self.get(&registry(reg))
            .or_else(|| identity(reg).and_then(|k| self.get(&k)))
            .map_or(0, |f| f.count)
    }

    /// The wall clock jumped (resumed from sleep): the network that failed before may be
    /// back, so transient failures are tried again now.
    pub(super) fn after_clock_jump(&mut self) {
        self.failures
            .retain(|_, f| f.class != FailureClass::Transient);
    }

    /// Someone changed Docker's config.json: a repaired file is worth a try at once.
    pub(super) fn after_docker_config_changed(&mut self) {
        self.failures
            .retain(|_, f| f.kind != ErrorKind::DockerConfig);
    }

    /// Whether the registry is already backing off from a Docker config failure.
    pub(super) fn waits_on_docker_config(&self, login_server: &str) -> bool {
        self.get(&SubjectKey::Registry(login_server.to_owned()))
            .is_some_and(|f| f.kind == ErrorKind::DockerConfig)
    }

    /// Counts a pass's outcomes: a success clears the registry and its identity; a session
    /// that ended is not retried at all (the scheduler waits for a sign-in); a failure to get
    /// the identity's token backs the identity off (every registry of it waits on one
    /// backoff); any other failure backs the registry off. `identity_of` maps login servers
    /// to the identity that signs in for them.
    pub(super) fn count_outcomes(
        &mut self,
        outcomes: &[RegistryOutcome],
        identity_of: &HashMap<String, String>,
        now: DateTime<Utc>,
        policy: &Policy,
    ) {
        let mut identities_failed: HashMap<String, Error> = HashMap::new();
        let mut identities_ok: HashSet<String> = HashSet::new();
        for o in outcomes {
            let key = SubjectKey::Registry(o.login_server.clone());
            let identity = identity_of.get(&o.login_server);
            match (&o.result, identity) {
                (Ok(_), _) => {
                    self.clear(&key);
                    identities_ok.extend(identity.cloned());
                }
                (Err(e), _) if ends_session(e).is_some() => {
                    self.clear(&key);
                }
                (Err(e), Some(id)) if identity_level(e) => {
                    self.clear(&key);
                    identities_failed.insert(id.clone(), e.clone());
                }
                (Err(e), _) => self.fail(key, now, e, policy),
            }
        }
        for id in identities_ok {
            self.clear(&SubjectKey::Identity(id));
        }
        for (id, e) in identities_failed {
            self.fail(SubjectKey::Identity(id), now, &e, policy);
        }
    }

    /// One more failure of `key` at `now`: when it is tried again follows the policy's
    /// backoff for its class and count, and the server's `Retry-After`.
    pub(super) fn fail(&mut self, key: SubjectKey, now: DateTime<Utc>, e: &Error, policy: &Policy) {
        let class = match e {
            Error::KeyringUnavailable { .. } | Error::Io { .. } => FailureClass::Transient,
            e => FailureClass::of(e.kind()),
        };
        let count = self.get(&key).map_or(0, |f| f.count) + 1;
        let retry_after = e.retry_after().map(limits::retry_after_delta);
        let what = key.to_string();
        let retry_at = policy
            .backoff
            .retry_at(&what, now, count, class, retry_after);
        tracing::info!(
            what = %what,
            failures = count,
            retry_in_s = (retry_at - now).num_seconds(),
            "will retry"
        );
        self.failures.insert(
            key,
            Failure {
                count,
                retry_at,
                class,
                kind: e.kind(),
            },
        );
    }
}

/// The key of a registry's own backoff.
pub(super) fn registry(reg: &RegistryConfig) -> SubjectKey {
    SubjectKey::Registry(reg.login_server.to_string())
}

/// The key of the backoff of the identity that signs in for a registry.
fn identity(reg: &RegistryConfig) -> Option<SubjectKey> {
    reg.identity.clone().map(SubjectKey::Identity)
}

/// Whether a failure is the identity's (its token could not be had) rather than the
/// registry's: then every registry of the identity waits on one backoff.
fn identity_level(e: &Error) -> bool {
    matches!(
        e,
        Error::Entra(_) | Error::SecretUnavailable { .. } | Error::KeyringUnavailable { .. }
    )
}
