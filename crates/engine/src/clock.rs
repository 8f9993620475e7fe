//! Time, injected. The engine reads the wall clock only through a [`Clock`], and waits only on
//! tokio's timers, so tests run it on a paused tokio clock: 72 hours pass in seconds, and a
//! laptop's suspend is a [`TokioClock::jump`].

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

/// The wall clock the engine reads.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock: the product's.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// `t + d`, or the last representable time when that is out of range: for lifetimes servers
/// announce, which may be anything (a token "valid for 10^12 seconds" must not stop the engine).
pub fn later(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(if d < TimeDelta::zero() {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// `t - d`, or the first (last) representable time when that is out of range.
pub fn earlier(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_sub_signed(d).unwrap_or(if d < TimeDelta::zero() {
        DateTime::<Utc>::MAX_UTC
    } else {
        DateTime::<Utc>::MIN_UTC
    })
}

/// A number of seconds a server announced, as a duration (the longest or shortest one when
/// it is out of range).
#[cfg(test)]
pub fn seconds(secs: i64) -> TimeDelta {
    TimeDelta::try_seconds(secs).unwrap_or(if secs < 0 {
        TimeDelta::MIN
    } else {
        TimeDelta::MAX
    })
}

/// The system clock, shared.
pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// A clock that stands still (a test's instant, for work that takes no simulated time).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Wall time that moves with tokio's clock: the wall time at creation plus the tokio time
/// elapsed since, plus any [`jump`](Self::jump). On a paused tokio runtime it moves only when
/// tokio's time does. Read it from inside the runtime that drives it (tokio's clock is per
/// runtime).
#[derive(Debug)]
pub struct TokioClock {
    wall: DateTime<Utc>,
    start: tokio::time::Instant,
    jumped: Mutex<TimeDelta>,
}

impl TokioClock {
    /// Starts at `wall`, now.
    pub fn starting_at(wall: DateTime<Utc>) -> Arc<Self> {
        Arc::new(Self {
            wall,
            start: tokio::time::Instant::now(),
            jumped: Mutex::new(TimeDelta::zero()),
        })
    }

    /// Moves the wall clock without moving tokio's timers, as a resume from suspend does
    /// (monotonic time stands still while the machine sleeps; the wall clock does not).
    pub fn jump(&self, by: TimeDelta) {
        let mut jumped = self.jumped.lock().unwrap_or_else(|e| e.into_inner());
        *jumped += by;
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = TimeDelta::from_std(self.start.elapsed()).unwrap_or(TimeDelta::MAX);
        self.wall + elapsed + *self.jumped.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn follows_paused_tokio_time_and_jumps() {
        let start = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let clock = TokioClock::starting_at(start);
        assert_eq!(clock.now(), start);
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        assert_eq!(clock.now(), start + TimeDelta::hours(1));
        clock.jump(TimeDelta::hours(5));
        assert_eq!(clock.now(), start + TimeDelta::hours(6));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(crate::proptest_config(512))]

            #[test]
            fn sums_saturate(
                secs in (DateTime::<Utc>::MIN_UTC.timestamp()..=DateTime::<Utc>::MAX_UTC.timestamp()),
                delta in any::<i64>(),
            ) {
                let t = DateTime::from_timestamp(secs, 0).unwrap_or_default();
                let d = seconds(delta);
                let (l, e) = (later(t, d), earlier(t, d));
                if delta >= 0 {
                    prop_assert!(l >= t && e <= t);
                } else {
                    prop_assert!(l <= t && e >= t);
                }
                if let Some(exact) = t.checked_add_signed(d) {
                    prop_assert_eq!(l, exact);
                }
            }
        }
    }
}
