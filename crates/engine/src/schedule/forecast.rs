//! Session forecast: when will a user's Entra session need an interactive sign-in again?
//!
//! A Conditional-Access **sign-in frequency** policy ends a session a fixed time after the
//! interactive sign-in, however often its refresh token is used. Entra does not announce the limit;
//! it names it only when it refuses a token (AADSTS70043, docs/protocol.md#entra-errors: "...the
//! maximum allowed lifetime for this request is 43200."). ACR Tray learns it from that error
//! ([`sign_in_frequency`], kept as `IdentityState::sign_in_frequency_secs`), and from then on
//! forecasts the end of every session ([`expected_end`]) and warns ahead ([`should_warn`]).
//!
//! **When to warn.** Two hours before the expected end ([`warn_at`]), time to finish a build and
//! sign in at a convenient moment. A limit shorter than 8 hours gets the warning after 75% of
//! it instead, i.e. a quarter of the limit ahead (a 1-hour limit warns 15 minutes ahead), so a
//! short session is not announced as ending soon right after it began. The two rules meet at
//! 8 hours (2 h = 25% of 8 h): the lead is `min(2 h, limit / 4)` ([`warn_lead`]). No warning is
//! due once the expected end has passed: then the session is over, which Entra will say itself.
//!
//! Everything here is pure: the time is passed in.

use chrono::{DateTime, TimeDelta, Utc};

use crate::store::state::IdentityState;

use crate::error::Error;

/// The AADSTS code of a sign-in-frequency refusal.
pub const SIGN_IN_FREQUENCY_AADSTS: u32 = 70043;

/// How long before the expected end the warning comes, for limits of 8 hours and more.
pub const WARN_AHEAD: TimeDelta = TimeDelta::hours(2);

/// Limits shorter than this warn at 75% of the limit rather than [`WARN_AHEAD`].
pub const SHORT_LIMIT: TimeDelta = TimeDelta::hours(8);

/// The longest limit believed (Entra allows up to 365 days); larger numbers are not a limit.
const MAX_LIMIT_SECS: i64 = 366 * 24 * 3600;

/// The sentence that carries the limit in Entra's AADSTS70043 description.
const MARKER: &str = "maximum allowed lifetime for this request is";

/// The sign-in frequency an error reveals: for Entra's AADSTS70043 (as an [`Error::Entra`], or
/// remembered as the reason of an [`Error::SignInRequired`]) whose description says "...the
/// maximum allowed lifetime for this request is `<N>`", N seconds. `None` for every other
/// error, and when the number is missing, not a whole number of seconds, zero, or beyond a year.
pub fn sign_in_frequency(err: &Error) -> Option<TimeDelta> {
    match err {
        Error::Entra(e) if e.aadsts.contains(&SIGN_IN_FREQUENCY_AADSTS) => {
            max_lifetime(&e.description)
        }
        Error::SignInRequired { reason, .. } if reason.contains("AADSTS70043:") => {
            max_lifetime(reason)
        }
        _ => None,
    }
}

/// The N of "...the maximum allowed lifetime for this request is N" in a description (any
/// case; trailing punctuation, whitespace and further lines are ignored).
pub fn max_lifetime(description: &str) -> Option<TimeDelta> {
    let lower = description.to_ascii_lowercase();
    let start = lower.find(MARKER)? + MARKER.len();
    let rest = description.get(start..)?.trim_start();
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (digits, after) = rest.split_at(digits_end);
    // "43200." and "43200\r\nTrace ID" are fine; "1.5", "43200s" or "12abc" are not seconds.
    let mut after_chars = after.chars();
    let ok_end = match after_chars.next() {
        None => true,
        Some(c) if c.is_whitespace() => true,
        Some('.') => !after_chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric()),
        Some(',' | ';' | ')' | '"' | '\'') => true,
        Some(_) => false,
    };
    if digits.is_empty() || !ok_end {
        return None;
    }
    let secs: i64 = digits.parse().ok()?;
    if secs <= 0 || secs > MAX_LIMIT_SECS {
        return None;
    }
    TimeDelta::try_seconds(secs)
}

/// When the session is expected to end: the last interactive sign-in plus the limit; `None`
/// when either is unknown (or the sum overflows).
pub fn expected_end(
    last_sign_in: Option<DateTime<Utc>>,
    limit: Option<TimeDelta>,
) -> Option<DateTime<Utc>> {
    last_sign_in?.checked_add_signed(limit?)
}

/// When an identity's session is expected to end, from what is remembered of it: its last
/// interactive sign-in and the limit learned from Entra.
pub fn session_end(identity: &IdentityState) -> Option<DateTime<Utc>> {
    expected_end(identity.last_sign_in, identity.sign_in_frequency())
}

/// The warning time for a session of a long limit (8 hours or more): two hours before `end`.
/// Shorter limits warn later (see [`warn_lead`] and the module documentation).
pub fn warn_at(end: DateTime<Utc>) -> DateTime<Utc> {
    end.checked_sub_signed(WARN_AHEAD).unwrap_or(end)
}

/// How long before the end the warning comes for a given limit: `min(2 h, limit / 4)`, so
/// limits of 8 hours or more warn two hours ahead and shorter ones at 75% of the limit.
/// A zero or negative limit gives no lead.
pub fn warn_lead(limit: TimeDelta) -> TimeDelta {
    if limit <= TimeDelta::zero() {
        TimeDelta::zero()
    } else if limit >= SHORT_LIMIT {
        WARN_AHEAD
    } else {
        limit / 4
    }
}

/// When to warn for a session that began at `last_sign_in` with `limit`; `None` when either is
/// unknown.
pub fn warning_time(
    last_sign_in: Option<DateTime<Utc>>,
    limit: Option<TimeDelta>,
) -> Option<DateTime<Utc>> {
    let limit = limit?;
    let end = expected_end(last_sign_in, Some(limit))?;
    if limit >= SHORT_LIMIT {
        Some(warn_at(end))
    } else {
        end.checked_sub_signed(warn_lead(limit))
    }
}

/// The expected end of the session when a warning is due at `now`: from the warning time
/// (inclusive) until the expected end (exclusive). `None` before, after, or when the sign-in
/// time or the limit is unknown.
pub fn should_warn(
    now: DateTime<Utc>,
    last_sign_in: Option<DateTime<Utc>>,
    limit: Option<TimeDelta>,
) -> Option<DateTime<Utc>> {
    let end = expected_end(last_sign_in, limit)?;
    let from = warning_time(last_sign_in, limit)?;
    (from <= now && now < end).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{EntraError, ErrorKind};

    /// The fake's exact first line (crates/fake-azure/src/entra_refresh.rs).
    const FAKE_70043: &str = "AADSTS70043: The refresh token has expired or is invalid due to \
        sign-in frequency checks by conditional access. The token was issued on \
        2026-03-02T09:00:00Z and the maximum allowed lifetime for this request is 43200.";

    #[test]
    fn an_identity_s_session_ends_its_learned_limit_after_its_last_sign_in() {
        let signed_in: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().expect("time");
        let mut alice = IdentityState {
            last_sign_in: Some(signed_in),
            ..IdentityState::default()
        };
        // The limit is unknown until Entra names it.
        assert_eq!(session_end(&alice), None);
        alice.sign_in_frequency_secs = Some(43200);
        assert_eq!(session_end(&alice), Some(signed_in + TimeDelta::hours(12)));
        // Not a positive number of seconds: unknown.
        alice.sign_in_frequency_secs = Some(0);
        assert_eq!(session_end(&alice), None);
        // Never signed in interactively: no forecast.
        alice.sign_in_frequency_secs = Some(43200);
        alice.last_sign_in = None;
        assert_eq!(session_end(&alice), None);
    }

    fn entra(aadsts: &[u32], description: &str) -> Error {
        Error::Entra(Box::new(EntraError {
            identity: "alice".into(),
            code: "invalid_grant".into(),
            aadsts: aadsts.to_vec(),
            description: description.into(),
            kind: ErrorKind::SignInRequired,
            hint: "sign in again".into(),
            retry_after: None,
        }))
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn the_limit_is_read_from_aadsts70043_only() {
        let secs = |n: i64| Some(TimeDelta::seconds(n));
        let with_text = |end: &str| {
            format!(
                "AADSTS70043: The refresh token has expired or is invalid due to sign-in \
                 frequency checks by conditional access. The token was issued on \
                 2026-03-02T09:00:00Z and the maximum allowed lifetime for this request is{end}"
            )
        };
        let cases: Vec<(&str, Error, Option<TimeDelta>)> = vec![
            ("fake's text", entra(&[70043], FAKE_70043), secs(43200)),
            (
                "no period",
                entra(&[70043], &with_text(" 3600")),
                secs(3600),
            ),
            (
                "trailing spaces",
                entra(&[70043], &with_text(" 3600.  ")),
                secs(3600),
            ),
            (
                "full description",
                entra(
                    &[70043],
                    &with_text(" 3600.\r\nTrace ID: 1\r\nCorrelation ID: 2"),
                ),
                secs(3600),
            ),
            (
                "tab and newline",
                entra(&[70043], &with_text("\t86400\n")),
                secs(86400),
            ),
            ("one second", entra(&[70043], &with_text(" 1.")), secs(1)),
            (
                "a year",
                entra(&[70043], &with_text(" 31536000.")),
                secs(31_536_000),
            ),
            (
                "upper case",
                entra(&[70043], &FAKE_70043.to_uppercase()),
                secs(43200),
            ),
            (
                "several codes",
                entra(&[50000, 70043], FAKE_70043),
                secs(43200),
            ),
            ("other code", entra(&[700082], FAKE_70043), None),
            ("no code", entra(&[], FAKE_70043), None),
            ("no number", entra(&[70043], &with_text(".")), None),
            (
                "no marker",
                entra(&[70043], "AADSTS70043: The refresh token has expired"),
                None,
            ),
            ("zero", entra(&[70043], &with_text(" 0.")), None),
            ("fraction", entra(&[70043], &with_text(" 1.5")), None),
            ("unit", entra(&[70043], &with_text(" 3600s")), None),
            ("negative", entra(&[70043], &with_text(" -3600.")), None),
            (
                "more than a year",
                entra(&[70043], &with_text(" 99999999999.")),
                None,
            ),
            (
                "overflow",
                entra(&[70043], &with_text(" 99999999999999999999999.")),
                None,
            ),
            (
                "remembered reason",
                Error::SignInRequired {
                    identity: "alice".into(),
                    reason: format!("Entra ID refused a token for alice: {FAKE_70043}"),
                    hint: crate::hint::Hint::none(),
                },
                secs(43200),
            ),
            (
                "remembered other reason",
                Error::SignInRequired {
                    identity: "alice".into(),
                    reason: "AADSTS700082: ... maximum allowed lifetime for this request is 5"
                        .into(),
                    hint: crate::hint::Hint::none(),
                },
                None,
            ),
            (
                "not an Entra error",
                Error::invalid_input(FAKE_70043, "no"),
                None,
            ),
        ];
        for (name, err, want) in cases {
            assert_eq!(sign_in_frequency(&err), want, "{name}");
        }
    }

    #[test]
    fn the_end_is_sign_in_plus_limit() {
        let signed_in = t("2026-03-02T09:00:00Z");
        let hours = |h| Some(TimeDelta::hours(h));
        assert_eq!(
            expected_end(Some(signed_in), hours(12)),
            Some(t("2026-03-02T21:00:00Z"))
        );
        assert_eq!(expected_end(None, hours(12)), None);
        assert_eq!(expected_end(Some(signed_in), None), None);
        assert_eq!(expected_end(Some(signed_in), Some(TimeDelta::MAX)), None);
    }

    #[test]
    fn the_lead_is_two_hours_or_a_quarter_of_a_short_limit() {
        let cases = [
            (TimeDelta::zero(), TimeDelta::zero()),
            (TimeDelta::seconds(-5), TimeDelta::zero()),
            (TimeDelta::hours(1), TimeDelta::minutes(15)),
            (TimeDelta::hours(4), TimeDelta::hours(1)),
            (
                TimeDelta::hours(8) - TimeDelta::seconds(4),
                TimeDelta::hours(2) - TimeDelta::seconds(1),
            ),
            (TimeDelta::hours(8), TimeDelta::hours(2)),
            (TimeDelta::hours(12), TimeDelta::hours(2)),
            (TimeDelta::days(90), TimeDelta::hours(2)),
        ];
        for (limit, lead) in cases {
            assert_eq!(warn_lead(limit), lead, "{limit}");
        }
        assert_eq!(
            warn_at(t("2026-03-02T21:00:00Z")),
            t("2026-03-02T19:00:00Z")
        );
    }

    #[test]
    fn a_warning_is_due_from_the_warning_time_until_the_end() {
        let signed_in = t("2026-03-02T09:00:00Z");
        let s = |secs: i64| signed_in + TimeDelta::seconds(secs);
        let twelve = Some(TimeDelta::hours(12));
        let one = Some(TimeDelta::hours(1));
        let end12 = t("2026-03-02T21:00:00Z");
        let end1 = t("2026-03-02T10:00:00Z");
        let cases = [
            // 12 h: warn from 19:00 until 21:00.
            ("12h, long before", s(0), twelve, None),
            ("12h, just before", t("2026-03-02T18:59:59Z"), twelve, None),
            (
                "12h, at the warning time",
                t("2026-03-02T19:00:00Z"),
                twelve,
                Some(end12),
            ),
            (
                "12h, between",
                t("2026-03-02T20:30:00Z"),
                twelve,
                Some(end12),
            ),
            (
                "12h, last second",
                t("2026-03-02T20:59:59Z"),
                twelve,
                Some(end12),
            ),
            ("12h, at the end", end12, twelve, None),
            ("12h, after", t("2026-03-03T09:00:00Z"), twelve, None),
            // 1 h: 75% = 45 minutes in.
            ("1h, before 75%", s(45 * 60 - 1), one, None),
            ("1h, at 75%", s(45 * 60), one, Some(end1)),
            ("1h, at the end", end1, one, None),
            // 8 h: both rules agree (6 h in).
            (
                "8h, before",
                s(6 * 3600 - 1),
                Some(TimeDelta::hours(8)),
                None,
            ),
            (
                "8h, at 6h",
                s(6 * 3600),
                Some(TimeDelta::hours(8)),
                Some(s(8 * 3600)),
            ),
            ("unknown limit", s(11 * 3600), None, None),
        ];
        for (name, now, limit, want) in cases {
            assert_eq!(should_warn(now, Some(signed_in), limit), want, "{name}");
        }
        assert_eq!(should_warn(end12, None, twelve), None, "never signed in");
        assert_eq!(
            warning_time(Some(signed_in), Some(TimeDelta::hours(4))),
            Some(t("2026-03-02T12:00:00Z"))
        );
    }
}
