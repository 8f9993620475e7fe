//! Managed identity through the Azure Instance Metadata Service (docs/protocol.md#imds): plain
//! HTTP to a link-local address, never through a proxy, `Metadata: true`, numbers as strings,
//! and the documented retries on 404, 410, 429 and 5xx.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;

use crate::azure::entra::AccessToken;
use crate::error::{Error, ErrorKind, Result};
use crate::hint::{Action, Hint};
use crate::http;
use crate::limits;
use crate::text;

/// IMDS's address on every Azure VM.
pub const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";

#[derive(Deserialize)]
struct ImdsToken {
    access_token: String,
    #[serde(default)]
    expires_on: Option<String>,
    #[serde(default)]
    expires_in: Option<String>,
}

#[derive(Deserialize)]
struct ImdsError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Which identity to ask for.
#[derive(Debug, Clone, Copy)]
pub struct ImdsRequest<'a> {
    /// `http://169.254.169.254` or an override.
    pub endpoint: &'a str,
    /// A v1 resource (no `/.default`).
    pub resource: &'a str,
    /// A user-assigned identity's client id.
    pub client_id: Option<&'a str>,
    /// The first retry delay; later ones double (2, 4, 8, 16, 32 s by default: about a minute,
    /// long enough for a 410 while IMDS updates).
    pub retry_base: Duration,
    /// The current time (for an answer that gives only `expires_in`).
    pub now: DateTime<Utc>,
}

/// Gets a token from IMDS.
pub async fn token(client: &reqwest::Client, req: ImdsRequest<'_>) -> Result<AccessToken> {
    let url = format!(
        "{}/metadata/identity/oauth2/token",
        req.endpoint.trim_end_matches('/')
    );
    let mut query = vec![("api-version", "2018-02-01"), ("resource", req.resource)];
    if let Some(id) = req.client_id {
        query.push(("client_id", id));
    }
    let mut delay = req.retry_base;
    let mut attempt = 1;
    loop {
        let sent = client
            .get(&url)
            .query(&query)
            .header("Metadata", "true")
            .send()
            .await;
        let outcome = match sent {
            // No answer at all: not an Azure host (or IMDS is blocked); retrying will not help.
            Err(e) => Err(Final(Error::Network {
                what: "managed identity token request (IMDS)".to_owned(),
                url: url.clone(),
                detail: format!(
                    "{} — is this an Azure VM (or another host with a managed identity)?",
                    http::describe(e)
                ),
                retry_after: None,
            })),
            Ok(resp) => answer(resp, &url, req.client_id, req.now).await,
        };
        match outcome {
            Ok(token) => return Ok(token),
            Err(Retry(retry_after, err)) if attempt < 6 => {
                let wait = retry_wait(retry_after, delay);
                tracing::info!(attempt, wait_ms = wait.as_millis() as u64, error = %err, "IMDS not ready, retrying");
                tokio::time::sleep(wait).await;
                delay = delay.saturating_mul(2);
                attempt += 1;
            }
            Err(Retry(_, err)) | Err(Final(err)) => return Err(err),
        }
    }
}

enum Failure {
    /// Worth retrying (404, 410, 429, 5xx), with `Retry-After` when sent.
    Retry(Option<u64>, Error),
    /// Not worth retrying.
    Final(Error),
}
use Failure::{Final, Retry};

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Final(e)
    }
}

async fn answer(
    resp: reqwest::Response,
    url: &str,
    client_id: Option<&str>,
    now: DateTime<Utc>,
) -> std::result::Result<AccessToken, Failure> {
    let status = resp.status().as_u16();
    let retry_after = http::retry_after(resp.headers());
    let body = http::read_body(resp)
        .await
        .map_err(|e| Retry(None, network(url, e.to_string(), None)))?;
    if status == 200 {
        let parsed: ImdsToken = serde_json::from_slice(&body)
            .map_err(|e| Final(network(url, format!("malformed answer ({e})"), None)))?;
        let expires_at = expiry(&parsed, now).unwrap_or_else(|| now + TimeDelta::minutes(5));
        return Ok(AccessToken::new(parsed.access_token, expires_at));
    }
    let err: ImdsError = serde_json::from_slice(&body).unwrap_or(ImdsError {
        error: String::new(),
        error_description: String::from_utf8_lossy(&body).chars().take(200).collect(),
    });
    let detail = text::server_text(&format!(
        "HTTP {status}: {} {}",
        err.error,
        err.error_description.lines().next().unwrap_or_default()
    ));
    match status {
        404 | 410 | 429 | 500..=599 => Err(Retry(retry_after, network(url, detail, retry_after))),
        _ => {
            let which = client_id.map_or("the system-assigned identity".to_owned(), |c| {
                format!("user-assigned identity {c}")
            });
            Err(Final(Error::Registry {
                registry: "IMDS".to_owned(),
                message: format!(
                    "the managed identity endpoint refused a token for {which}: {detail}"
                ),
                kind: ErrorKind::Configuration,
                hint: Hint::text("check that the identity is assigned to this VM (")
                    .with(Action::shell("az vm identity show"))
                    .then("), and give its client ID")
                    .cli_note(" (--client-id)")
                    .then(" when it has several"),
            }))
        }
    }
}

/// How long to wait before the next try: the doubling delay, or longer when IMDS asks, but
/// never more than [`limits::INLINE_RETRY_WAIT_MAX`].
fn retry_wait(retry_after: Option<u64>, delay: Duration) -> Duration {
    retry_after
        .map(Duration::from_secs)
        .unwrap_or(delay)
        .max(delay)
        .min(limits::INLINE_RETRY_WAIT_MAX)
}

/// The expiry IMDS gives, `expires_on` first, bounded ([`limits`]); `None` when it gives
/// neither (or nonsense).
fn expiry(t: &ImdsToken, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Some(on) = t
        .expires_on
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok())
    {
        return Some(limits::expiry_at(now, on));
    }
    let secs = t.expires_in.as_deref()?.trim().parse::<i64>().ok()?;
    limits::expiry_in(now, secs)
}

fn network(url: &str, detail: String, retry_after: Option<u64>) -> Error {
    Error::Network {
        what: "managed identity token request (IMDS)".to_owned(),
        url: url.to_owned(),
        detail,
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_numbers_give_the_expiry() {
        let t: ImdsToken = serde_json::from_str(
            r#"{"access_token":"x","expires_in":"3599","expires_on":"1900000000","not_before":"1","resource":"r","token_type":"Bearer","refresh_token":""}"#,
        )
        .expect("json");
        let now = DateTime::from_timestamp(1_899_996_401, 0).expect("now");
        assert_eq!(expiry(&t, now).map(|d| d.timestamp()), Some(1_900_000_000));
    }

    #[test]
    fn absurd_numbers_from_imds_are_bounded() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("now");
        let token = |json: &str| serde_json::from_str::<ImdsToken>(json).expect("json");
        for absurd in [
            r#"{"access_token":"x","expires_on":"9223372036854775807"}"#,
            r#"{"access_token":"x","expires_in":"9223372036854775807"}"#,
            r#"{"access_token":"x","expires_in":"1000000000000000"}"#,
        ] {
            assert_eq!(
                expiry(&token(absurd), now),
                Some(now + limits::TOKEN_LIFETIME_MAX),
                "{absurd}"
            );
        }
        assert_eq!(
            expiry(&token(r#"{"access_token":"x","expires_in":"-5"}"#), now),
            None
        );
        // Retry-After of millennia (already capped to an hour by the header's reader): the
        // wait is the inline cap; the doubling delay never overflows.
        let base = Duration::from_secs(1);
        assert_eq!(retry_wait(None, base), base);
        assert_eq!(retry_wait(Some(3), base), Duration::from_secs(3));
        assert_eq!(
            retry_wait(Some(u64::MAX), base),
            limits::INLINE_RETRY_WAIT_MAX
        );
        assert_eq!(
            retry_wait(None, Duration::MAX.saturating_mul(2)),
            limits::INLINE_RETRY_WAIT_MAX
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn now() -> DateTime<Utc> {
            DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
        }

        proptest! {
            #![proptest_config(crate::proptest_config(512))]

            /// IMDS's string numbers, whatever they hold: out-of-range lifetimes such as
            /// `"expires_in": "9223372036854775807"` used to panic on the way to a time.
            #[test]
            fn any_lifetime_gives_a_time_or_none(
                expires_in in prop_oneof![any::<i64>().prop_map(|n| n.to_string()), ".{0,24}"],
                expires_on in proptest::option::of(prop_oneof![any::<i64>().prop_map(|n| n.to_string()), ".{0,24}"]),
            ) {
                let body = serde_json::json!({"access_token": "x", "expires_in": expires_in, "expires_on": expires_on});
                let t: ImdsToken = serde_json::from_value(body).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let at = expiry(&t, now());
                if let (None, Ok(secs)) = (&expires_on, expires_in.trim().parse::<i64>()) {
                    let at = at.unwrap_or_default();
                    prop_assert!((secs >= 0) == (at >= now()), "{} -> {}", secs, at);
                }
            }

            #[test]
            fn any_body_is_read_or_refused(body in proptest::collection::vec(any::<u8>(), 0..200)) {
                if let Ok(t) = serde_json::from_slice::<ImdsToken>(&body) {
                    let _ = expiry(&t, now());
                }
                let _ = serde_json::from_slice::<ImdsError>(&body);
            }
        }
    }
}
