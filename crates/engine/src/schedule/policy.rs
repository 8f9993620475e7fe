//! The refresh schedule's decisions, as pure functions of the time they are given: when a
//! registry is due, how long to wait after a failure, and how long the scheduler may sleep.
//! [`crate::refresh::scheduler`] only carries them out.

use std::hash::{Hash, Hasher};

use chrono::{DateTime, TimeDelta, Utc};

use crate::clock::{earlier, later};
use crate::error::ErrorKind;
use crate::store::config::RefreshSettings;

/// The scheduler wakes at least this often, so it notices a wall clock that jumped (resume
/// from suspend), changed settings, and a user who signed in again.
pub const MAX_SLEEP: TimeDelta = TimeDelta::seconds(60);

/// A wall clock that ran this much further than the monotonic clock between two wakes means
/// the machine slept (or the clock was set).
pub const JUMP_THRESHOLD: TimeDelta = TimeDelta::minutes(2);

/// The refresh policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// How often a registry is refreshed.
    pub interval: TimeDelta,
    /// A token is refreshed no later than this long before its `exp`.
    pub min_remaining: TimeDelta,
    /// Each refresh comes up to this much early (deterministically per registry and cycle), so
    /// registries added together do not all ask in the same second for ever after.
    pub jitter: TimeDelta,
    /// After a failure.
    pub backoff: Backoff,
}

impl Default for Policy {
    fn default() -> Self {
        Self::from_settings(&RefreshSettings::default())
    }
}

impl Policy {
    /// The policy the `[refresh]` settings ask for.
    pub fn from_settings(settings: &RefreshSettings) -> Self {
        let interval = TimeDelta::minutes(i64::from(settings.interval_minutes));
        Self {
            interval,
            min_remaining: TimeDelta::minutes(i64::from(settings.min_remaining_minutes)),
            jitter: interval / 20,
            backoff: Backoff {
                permanent_cap: interval,
                ..Backoff::default()
            },
        }
    }

    /// When a registry is next due, given its last successful refresh and the `exp` of the
    /// token it got (`None`: never refreshed, due now): the earlier of "the interval has
    /// passed" and "`min_remaining` before `exp`". A token too short-lived for that margin
    /// (due less than [`MIN_GAP`] after it was issued) is renewed at half-life instead, never
    /// in a loop.
    pub fn due_at(
        &self,
        key: &str,
        last_refresh: Option<DateTime<Utc>>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Option<DateTime<Utc>> {
        let last = last_refresh?;
        let early = scale(self.jitter, unit(key, last.timestamp()));
        // `exp` comes from the token: any time at all, so every sum saturates.
        let by_interval = earlier(later(last, self.interval), early);
        let Some(exp) = expires_at else {
            return Some(by_interval);
        };
        let due = by_interval.min(earlier(exp, self.min_remaining));
        if due >= later(last, MIN_GAP) {
            Some(due)
        } else {
            Some(later(last, ((exp - last) / 2).max(TimeDelta::minutes(1))))
        }
    }
}

/// The shortest time between two refreshes the margin alone may ask for.
pub const MIN_GAP: TimeDelta = TimeDelta::minutes(5);

/// Waiting after failures.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    /// The first wait after a transient failure; each further failure doubles it.
    pub base: TimeDelta,
    /// The longest wait after transient failures (network down, 5xx, throttling): short, so a
    /// laptop back on Wi-Fi is logged in again within a couple of minutes.
    pub transient_cap: TimeDelta,
    /// The first wait after a failure that needs someone to fix something (a removed role, a
    /// broken config.json); doubles up to `permanent_cap`.
    pub permanent_base: TimeDelta,
    /// The longest wait after such failures.
    pub permanent_cap: TimeDelta,
    /// The longest `Retry-After` honoured.
    pub max_retry_after: TimeDelta,
    /// Each wait is scaled by a factor in `1 ± jitter`.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: TimeDelta::seconds(15),
            transient_cap: TimeDelta::minutes(2),
            permanent_base: TimeDelta::minutes(5),
            permanent_cap: TimeDelta::minutes(60),
            max_retry_after: TimeDelta::hours(1),
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// When to try again after the `failures`-th failure in a row (1 for the first), at
    /// `now`, with the server's `Retry-After` if it sent one.
    pub fn retry_at(
        &self,
        key: &str,
        now: DateTime<Utc>,
        failures: u32,
        class: FailureClass,
        retry_after: Option<TimeDelta>,
    ) -> DateTime<Utc> {
        let (base, cap) = match class {
            FailureClass::Transient => (self.base, self.transient_cap),
            FailureClass::NeedsFix => (self.permanent_base, self.permanent_cap),
        };
        let doublings = failures.saturating_sub(1).min(20);
        let raw = base.checked_mul(1_i32 << doublings).unwrap_or(cap).min(cap);
        let factor = 1.0 + self.jitter * (2.0 * unit(key, i64::from(failures)) - 1.0);
        let wait = scale(raw, factor);
        let asked = retry_after
            .unwrap_or_default()
            .clamp(TimeDelta::zero(), self.max_retry_after);
        later(now, wait.max(asked))
    }
}

/// How a failure is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// Network down, timeouts, 5xx, throttling, a keyring not yet unlocked: soon, and again.
    Transient,
    /// Something someone must fix (a removed role, a broken config.json, a missing secret):
    /// slowly, so the fix is picked up without hammering.
    NeedsFix,
}

impl FailureClass {
    /// The class of an error kind. (A session that ended is not retried at all; the
    /// scheduler waits for the user instead.)
    pub fn of(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::Transient => Self::Transient,
            ErrorKind::SignInRequired
            | ErrorKind::Configuration
            | ErrorKind::Permission
            | ErrorKind::DockerConfig => Self::NeedsFix,
        }
    }
}

/// How long the scheduler may sleep: until the earliest due time, at most [`MAX_SLEEP`], and
/// not at all when something is already due.
pub fn sleep_for(now: DateTime<Utc>, earliest_due: Option<DateTime<Utc>>) -> TimeDelta {
    match earliest_due {
        Some(due) => (due - now).clamp(TimeDelta::zero(), MAX_SLEEP),
        None => MAX_SLEEP,
    }
}

/// Whether the wall clock ran ahead of the monotonic one by more than [`JUMP_THRESHOLD`].
pub fn clock_jumped(wall_elapsed: TimeDelta, monotonic_elapsed: TimeDelta) -> bool {
    wall_elapsed - monotonic_elapsed > JUMP_THRESHOLD
}

/// A number in [0, 1) fixed by `key` and `salt`.
fn unit(key: &str, salt: i64) -> f64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    salt.hash(&mut h);
    (h.finish() >> 11) as f64 / (1_u64 << 53) as f64
}

fn scale(d: TimeDelta, factor: f64) -> TimeDelta {
    // `as` saturates; the one value a TimeDelta cannot hold, i64::MIN ms, becomes the shortest.
    let ms = (d.num_milliseconds() as f64 * factor).round() as i64;
    TimeDelta::try_milliseconds(ms).unwrap_or(TimeDelta::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("time") + TimeDelta::minutes(minutes)
    }

    fn no_jitter() -> Policy {
        Policy {
            jitter: TimeDelta::zero(),
            ..Policy::default()
        }
    }

    #[test]
    fn due_times_at_their_boundaries() {
        let p = no_jitter();
        // (last refresh, exp) in minutes → due, in minutes.
        type Minutes = Option<i64>;
        let cases: &[(Minutes, Minutes, Minutes, &str)] = &[
            (None, None, None, "never refreshed: due now"),
            (None, Some(180), None, "never refreshed, whatever the exp"),
            (
                Some(0),
                Some(180),
                Some(60),
                "3 h token: the interval decides",
            ),
            (
                Some(0),
                Some(136),
                Some(60),
                "exp - 75 min a minute after the interval",
            ),
            (Some(0), Some(134), Some(59), "exp - 75 min comes first"),
            (Some(0), Some(120), Some(45), "2 h token: 75 min before exp"),
            (
                Some(0),
                Some(60),
                Some(30),
                "1 h token: half-life, not a loop",
            ),
            (
                Some(0),
                Some(80),
                Some(5),
                "80 min token: 75 min before exp",
            ),
            (Some(0), Some(78), Some(39), "78 min token: half-life"),
            (Some(0), Some(4), Some(2), "4 min token: half-life"),
            (Some(0), Some(1), Some(1), "at least a minute apart"),
            (
                Some(0),
                Some(-10),
                Some(1),
                "exp in the past: a minute later",
            ),
            (Some(0), None, Some(60), "admin password: the interval"),
            (
                Some(30),
                Some(24 * 60),
                Some(90),
                "a day-long token: the interval",
            ),
        ];
        for (last, exp, want, why) in cases {
            let got = p.due_at("r.azurecr.io", last.map(t), exp.map(t));
            assert_eq!(got, want.map(t), "{why}");
        }
    }

    #[test]
    fn jitter_only_brings_refreshes_forward_and_spreads_registries() {
        let p = Policy::default();
        assert_eq!(p.jitter, TimeDelta::minutes(3));
        let dues: Vec<DateTime<Utc>> = (0..50)
            .map(|i| {
                p.due_at(&format!("r{i}.azurecr.io"), Some(t(0)), Some(t(180)))
                    .expect("due")
            })
            .collect();
        assert!(dues.iter().all(|d| *d > t(57) && *d <= t(60)), "{dues:?}");
        let distinct: std::collections::HashSet<_> = dues.iter().collect();
        assert!(distinct.len() > 40, "spread: {}", distinct.len());
        // Deterministic: the same inputs give the same answer.
        assert_eq!(
            p.due_at("r1.azurecr.io", Some(t(0)), Some(t(180))),
            p.due_at("r1.azurecr.io", Some(t(0)), Some(t(180)))
        );
        // Never past exp - 75 min, jitter or not.
        for i in 0..50 {
            let due = p
                .due_at(&format!("r{i}"), Some(t(0)), Some(t(100)))
                .expect("due");
            assert!(due <= t(25), "{due}");
        }
    }

    #[test]
    fn settings_shape_the_policy() {
        let p = Policy::from_settings(&RefreshSettings {
            interval_minutes: 30,
            min_remaining_minutes: 90,
        });
        assert_eq!(p.interval, TimeDelta::minutes(30));
        assert_eq!(p.min_remaining, TimeDelta::minutes(90));
        assert_eq!(p.backoff.permanent_cap, TimeDelta::minutes(30));
    }

    #[test]
    fn backoff_doubles_to_its_cap_with_jitter_and_honours_retry_after() {
        let b = Backoff {
            jitter: 0.0,
            ..Backoff::default()
        };
        let now = t(0);
        let wait = |failures, kind, ra: Option<i64>| {
            let at = b.retry_at(
                "k",
                now,
                failures,
                FailureClass::of(kind),
                ra.map(TimeDelta::seconds),
            );
            Some((at - now).num_seconds())
        };
        use ErrorKind::*;
        let cases: &[(u32, ErrorKind, Option<i64>, Option<i64>)] = &[
            (1, Transient, None, Some(15)),
            (2, Transient, None, Some(30)),
            (3, Transient, None, Some(60)),
            (4, Transient, None, Some(120)),
            (5, Transient, None, Some(120)),
            (60, Transient, None, Some(120)),
            (1, Transient, Some(300), Some(300)),
            (4, Transient, Some(5), Some(120)),
            (1, Transient, Some(86_400), Some(3600)),
            (1, Transient, Some(-5), Some(15)),
            (1, Permission, None, Some(300)),
            (2, Permission, None, Some(600)),
            (5, Configuration, None, Some(3600)),
            (9, DockerConfig, None, Some(3600)),
            (1, SignInRequired, None, Some(300)),
        ];
        for (failures, kind, ra, want) in cases {
            assert_eq!(
                wait(*failures, *kind, *ra),
                *want,
                "{failures} × {kind:?}, Retry-After {ra:?}"
            );
        }
        let jittered = Backoff::default();
        let waits: Vec<i64> = (0..40)
            .map(|i| {
                (jittered.retry_at(&format!("k{i}"), now, 3, FailureClass::Transient, None) - now)
                    .num_milliseconds()
            })
            .collect();
        assert!(
            waits.iter().all(|w| (48_000..=72_000).contains(w)),
            "{waits:?}"
        );
        assert!(waits.iter().collect::<std::collections::HashSet<_>>().len() > 30);
    }

    #[test]
    fn sleeps_until_due_but_never_longer_than_a_minute() {
        let cases: &[(Option<i64>, i64)] = &[
            (None, 60),
            (Some(-5), 0),
            (Some(0), 0),
            (Some(1), 60),
            (Some(600), 60),
        ];
        for (due, want) in cases {
            let got = sleep_for(t(0), due.map(t));
            assert_eq!(got.num_seconds(), *want, "due in {due:?} min");
        }
        assert_eq!(
            sleep_for(t(0), Some(t(0) + TimeDelta::seconds(20))).num_seconds(),
            20
        );
    }

    #[test]
    fn clock_jumps_are_told_from_drift() {
        let s = TimeDelta::seconds;
        assert!(!clock_jumped(s(60), s(60)));
        assert!(!clock_jumped(s(180), s(60)), "two minutes of slack");
        assert!(clock_jumped(s(181), s(60)));
        assert!(clock_jumped(TimeDelta::hours(5), s(60)));
        assert!(
            !clock_jumped(s(-3600), s(60)),
            "set back: not a jump forward"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Any time, with the ends of the range (where sums overflow) as likely as the rest.
        fn any_time() -> impl Strategy<Value = DateTime<Utc>> {
            let (min, max) = (
                DateTime::<Utc>::MIN_UTC.timestamp(),
                DateTime::<Utc>::MAX_UTC.timestamp(),
            );
            let week: i64 = 7 * 24 * 3600;
            prop_oneof![
                min..=max,
                min..=min + 7200,
                max - 7200..=max,
                1_700_000_000_i64..=1_700_000_000 + week,
            ]
            .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap_or_default())
        }

        proptest! {
            #![proptest_config(crate::proptest_config(512))]

            /// The `exp` of a registry's token is whatever the server put in it: a token that
            /// "expires" in year -262,000 made `exp - 75 min` panic.
            #[test]
            fn due_at_takes_any_expiry(
                last in any_time(),
                exp in proptest::option::of(any_time()),
                key in ".{0,12}",
            ) {
                let policy = Policy::default();
                let due = policy.due_at(&key, Some(last), exp);
                prop_assert!(due.is_some());
                if let (Some(due), Some(exp)) = (due, exp)
                    && exp > later(last, TimeDelta::days(1))
                {
                    // A token that outlives the interval changes nothing.
                    prop_assert_eq!(Some(due), policy.due_at(&key, Some(last), None));
                }
            }

            /// `Retry-After` is whatever a server or proxy sent.
            #[test]
            fn retry_at_takes_any_wait(
                now in any_time(),
                failures in any::<u32>(),
                retry_after in proptest::option::of(any::<u64>()),
                needs_fix in any::<bool>(),
            ) {
                let class = if needs_fix { FailureClass::NeedsFix } else { FailureClass::Transient };
                let asked = retry_after.map(|s| crate::clock::seconds(i64::try_from(s).unwrap_or(i64::MAX)));
                let at = Backoff::default().retry_at("k", now, failures, class, asked);
                prop_assert!(at >= now);
            }
        }
    }
}
