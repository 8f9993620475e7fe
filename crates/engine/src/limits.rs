//! Bounds on what servers send. Every number in an answer (`Retry-After`, `expires_in`,
//! `expires_on`, a device code's `interval`) and every body goes through here, so no server can
//! make the engine panic on overflow, wait for decades, poll in a tight loop or hold a body of
//! any size in memory.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// The longest `Retry-After` honoured (the scheduler's longest wait after throttling); a larger
/// one counts as this.
pub const RETRY_AFTER_MAX_SECS: u64 = 3600;

/// The longest a single request waits before it retries by itself (IMDS's documented retries).
/// Longer waits are the scheduler's business, between passes.
pub const INLINE_RETRY_WAIT_MAX: Duration = Duration::from_secs(60);

/// The longest token lifetime believed. Entra access tokens live 1 to 28 hours (managed
/// identities' up to a day and a bit), ACR refresh tokens 3 hours; a longer `expires_in` is cut
/// to this, so ACR Tray never trusts a token for longer than any real one lives.
pub const TOKEN_LIFETIME_MAX: TimeDelta = TimeDelta::hours(48);

/// The latest instant read from a server (the end of year 9999): far enough for any real
/// `exp` or `expires_on`, near enough that adding days or hours to it never overflows.
pub(crate) const LATEST_SECS: i64 = 253_402_300_799;

/// The longest device-code lifetime believed (Entra gives 15 minutes).
pub const DEVICE_CODE_LIFETIME_MAX: Duration = Duration::from_secs(3600);

/// The device-code polling interval used when the server gives none or zero (RFC 8628 §3.2).
pub const DEVICE_CODE_INTERVAL_DEFAULT: Duration = Duration::from_secs(5);

/// The longest device-code polling interval honoured (Entra asks for 5 seconds).
pub const DEVICE_CODE_INTERVAL_MAX: Duration = Duration::from_secs(60);

/// The most `[docker] extra_configs` entries a config.toml may list (each is written on every
/// refresh, and a failing one is remembered in `state.json`).
pub const MAX_EXTRA_CONFIGS: usize = 32;

/// The largest response body read (1 MiB); the biggest real answers (token responses, a page
/// of ARM registries) are a few KiB to a few hundred.
pub const MAX_BODY: usize = 1024 * 1024;

/// A `Retry-After` value in seconds, capped at [`RETRY_AFTER_MAX_SECS`]; a number too large
/// for any integer gives the cap. Anything else (an HTTP date, which Azure does not send and
/// which would need this machine's clock to agree with the server's) gives `None`: the usual
/// backoff then applies.
pub fn retry_after_secs(value: &str) -> Option<u64> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        value
            .parse::<u64>()
            .map_or(RETRY_AFTER_MAX_SECS, |s| s.min(RETRY_AFTER_MAX_SECS)),
    )
}

/// A `Retry-After` (seconds, from [`Error::retry_after`](crate::Error::retry_after)) as a
/// time span, at most [`RETRY_AFTER_MAX_SECS`] whatever the number.
pub fn retry_after_delta(secs: u64) -> TimeDelta {
    let secs = i64::try_from(secs.min(RETRY_AFTER_MAX_SECS)).unwrap_or(0);
    TimeDelta::try_seconds(secs).unwrap_or_default()
}

/// When a token given `secs` seconds to live at `now` expires: at most
/// [`TOKEN_LIFETIME_MAX`] away. `None` for zero or negative lifetimes, which no real token
/// has: callers then fall back as if the server had not said.
pub fn expiry_in(now: DateTime<Utc>, secs: i64) -> Option<DateTime<Utc>> {
    if secs <= 0 {
        return None;
    }
    let lifetime =
        TimeDelta::try_seconds(secs).map_or(TOKEN_LIFETIME_MAX, |d| d.min(TOKEN_LIFETIME_MAX));
    now.checked_add_signed(lifetime)
}

/// [`expiry_in`] for a lifetime as a [`Duration`].
pub fn expiry_after(now: DateTime<Utc>, lifetime: Duration) -> Option<DateTime<Utc>> {
    expiry_in(now, i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX))
}

/// An absolute expiry (Unix seconds) read from a server or a token: at most
/// [`TOKEN_LIFETIME_MAX`] after `now`. One in the past stays in the past (the token is
/// expired); one before 1970 is taken as 1970.
pub fn expiry_at(now: DateTime<Utc>, unix_secs: i64) -> DateTime<Utc> {
    let at = DateTime::from_timestamp(unix_secs.clamp(0, LATEST_SECS), 0).unwrap_or(now);
    match now.checked_add_signed(TOKEN_LIFETIME_MAX) {
        Some(latest) => at.min(latest),
        None => at,
    }
}

/// A Unix time read from a token (a JWT's `exp`), kept between 1970 and the end of year 9999
/// so that the arithmetic done on it cannot overflow.
pub fn instant(unix_secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(unix_secs.clamp(0, LATEST_SECS), 0)
}

/// A device code's lifetime, at most [`DEVICE_CODE_LIFETIME_MAX`].
pub fn device_code_lifetime(server: Duration) -> Duration {
    server.min(DEVICE_CODE_LIFETIME_MAX)
}

/// A device code's polling interval: [`DEVICE_CODE_INTERVAL_DEFAULT`] for zero, at most
/// [`DEVICE_CODE_INTERVAL_MAX`].
pub fn device_code_interval(server: Duration) -> Duration {
    if server.is_zero() {
        DEVICE_CODE_INTERVAL_DEFAULT
    } else {
        server.min(DEVICE_CODE_INTERVAL_MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("t0")
    }

    #[test]
    fn retry_after_is_capped() {
        assert_eq!(retry_after_secs("7"), Some(7));
        assert_eq!(retry_after_secs(" 120 "), Some(120));
        assert_eq!(retry_after_secs("99999999999"), Some(RETRY_AFTER_MAX_SECS));
        assert_eq!(
            retry_after_secs("999999999999999999999999999"),
            Some(RETRY_AFTER_MAX_SECS)
        );
        assert_eq!(retry_after_secs("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(retry_after_secs("-5"), None);
        assert_eq!(retry_after_delta(30), TimeDelta::seconds(30));
        for absurd in [u64::MAX, 1 << 63, 100_000_000_000_000_000, 99_999_999_999] {
            assert_eq!(retry_after_delta(absurd), TimeDelta::hours(1), "{absurd}");
        }
        assert_eq!(retry_after_secs("soon"), None);
        assert_eq!(retry_after_secs(""), None);
    }

    #[test]
    fn lifetimes_are_capped_and_never_overflow() {
        assert_eq!(expiry_in(t0(), 3599), Some(t0() + TimeDelta::seconds(3599)));
        for absurd in [
            i64::MAX,
            i64::MAX / 1000,
            1_000_000_000_000_000,
            99_999_999_999,
        ] {
            assert_eq!(
                expiry_in(t0(), absurd),
                Some(t0() + TOKEN_LIFETIME_MAX),
                "{absurd}"
            );
        }
        assert_eq!(expiry_in(t0(), 0), None);
        assert_eq!(expiry_in(t0(), -1), None);
        assert_eq!(expiry_in(t0(), i64::MIN), None);
        assert_eq!(
            expiry_after(t0(), Duration::from_secs(u64::MAX)),
            Some(t0() + TOKEN_LIFETIME_MAX)
        );
        assert_eq!(expiry_in(DateTime::<Utc>::MAX_UTC, 60), None);
    }

    #[test]
    fn absolute_expiries_are_capped() {
        assert_eq!(expiry_at(t0(), 1_800_003_600), t0() + TimeDelta::hours(1));
        assert_eq!(expiry_at(t0(), i64::MAX), t0() + TOKEN_LIFETIME_MAX);
        assert_eq!(
            expiry_at(t0(), 1_799_999_000),
            t0() - TimeDelta::seconds(1000)
        );
        assert_eq!(expiry_at(t0(), i64::MIN).timestamp(), 0);
        let far = instant(i64::MAX).expect("far");
        // Far, yet with room for the scheduler's arithmetic.
        assert!(far.checked_add_signed(TimeDelta::days(365)).is_some());
        assert!(
            instant(i64::MIN)
                .expect("early")
                .checked_sub_signed(TimeDelta::days(365))
                .is_some()
        );
    }

    #[test]
    fn device_code_timing_is_bounded() {
        assert_eq!(
            device_code_interval(Duration::ZERO),
            DEVICE_CODE_INTERVAL_DEFAULT
        );
        assert_eq!(
            device_code_interval(Duration::from_secs(5)),
            Duration::from_secs(5)
        );
        assert_eq!(
            device_code_interval(Duration::from_secs(u64::MAX)),
            DEVICE_CODE_INTERVAL_MAX
        );
        assert_eq!(
            device_code_lifetime(Duration::from_secs(900)),
            Duration::from_secs(900)
        );
        assert_eq!(
            device_code_lifetime(Duration::from_secs(u64::MAX)),
            DEVICE_CODE_LIFETIME_MAX
        );
    }
}
