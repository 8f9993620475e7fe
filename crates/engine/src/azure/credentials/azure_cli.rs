//! Tokens from the Azure CLI: `az account get-access-token --resource R [--tenant T] -o json`,
//! for people who already sign in with `az` (its session, its MFA, its broker on Windows).

use std::time::Duration;

use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;

use crate::azure::entra::AccessToken;
use crate::browser::which;
use crate::env::Env;
use crate::error::{Error, ErrorKind, Result};
use crate::hint::{Action, Hint};
use crate::limits;
use crate::text;

const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AzToken {
    access_token: String,
    #[serde(default)]
    expires_on: Option<String>,
    /// Newer az versions add the POSIX timestamp.
    #[serde(default, rename = "expires_on")]
    expires_on_epoch: Option<i64>,
}

/// Runs az for a token for `resource` (a v1 resource, no `/.default`).
pub async fn token(
    env: &Env,
    resource: &str,
    tenant: Option<&str>,
    now: DateTime<Utc>,
) -> Result<AccessToken> {
    let az = which(env, "az").ok_or_else(|| Error::SecretUnavailable {
        identity: "azure-cli".to_owned(),
        detail: "the Azure CLI (az) is not installed or not on PATH".to_owned(),
        hint: Hint::text(
            "install the Azure CLI (https://aka.ms/InstallAzureCli), or sign in another way with ",
        )
        .with(Action::sign_in_again()),
    })?;
    let mut cmd = tokio::process::Command::new(&az);
    cmd.args([
        "account",
        "get-access-token",
        "--resource",
        resource,
        "--output",
        "json",
    ]);
    if let Some(t) = tenant {
        cmd.args(["--tenant", t]);
    }
    cmd.env_clear()
        .envs(env.child_vars())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(TIMEOUT, cmd.output())
        .await
        .map_err(|_| {
            failed(
                format!(
                    "`az account get-access-token` did not finish within {} s",
                    TIMEOUT.as_secs()
                ),
                ErrorKind::Transient,
            )
        })?
        .map_err(|e| {
            failed(
                format!("cannot run {}: {e}", az.display()),
                ErrorKind::Configuration,
            )
        })?;
    if !output.status.success() {
        // az's error text names what is wrong; it never holds a token.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = text::server_text(
            stderr
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("no error text")
                .trim_start_matches("ERROR: "),
        );
        let signed_out = stderr.contains("az login") || stderr.contains("AADSTS");
        return Err(Error::SecretUnavailable {
            identity: "azure-cli".to_owned(),
            detail: if signed_out {
                format!("the Azure CLI is not signed in (or its session expired): {first}")
            } else {
                format!("`az account get-access-token` failed: {first}")
            },
            hint: if signed_out {
                Hint::text("")
                    .run(Action::shell(format!(
                        "az login{}",
                        tenant.map(|t| format!(" --tenant {t}")).unwrap_or_default()
                    )))
                    .then(" and try again")
            } else {
                Hint::text("")
                    .run(Action::shell("az account get-access-token --resource ..."))
                    .then(" yourself to see what is wrong")
            },
        });
    }
    let parsed: AzToken = serde_json::from_slice(&output.stdout).map_err(|e| {
        failed(
            format!("unexpected output from az ({e})"),
            ErrorKind::Configuration,
        )
    })?;
    let expires_at = parsed
        .expires_on_epoch
        .or_else(|| {
            parsed
                .expires_on
                .as_deref()
                .and_then(parse_local)
                .map(|t| t.timestamp())
        })
        .map(|at| limits::expiry_at(now, at))
        .unwrap_or_else(|| now + chrono::TimeDelta::minutes(5));
    Ok(AccessToken::new(parsed.access_token, expires_at))
}

/// az's `expiresOn` is local time without a zone: `2026-11-23 10:00:00.000000`.
fn parse_local(s: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok()?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

fn failed(detail: String, kind: ErrorKind) -> Error {
    Error::Registry {
        registry: "Azure CLI".to_owned(),
        message: detail,
        kind,
        hint: "run `az account get-access-token` yourself to see what is wrong".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_expiry_forms_parse() {
        let t: AzToken = serde_json::from_str(r#"{"accessToken":"x","expiresOn":"2026-11-23 10:00:00.000000","expires_on":1795000000,"tenant":"t","tokenType":"Bearer"}"#).expect("json");
        assert_eq!(t.expires_on_epoch, Some(1_795_000_000));
        assert!(parse_local("2026-11-23 10:00:00.000000").is_some());
        assert!(parse_local("2026-11-23 10:00:00").is_some());
    }

    /// An `az` on a `PATH` of its own that prints `stdout` and `stderr` and exits with `code`.
    #[cfg(unix)]
    fn fake_az(dir: &std::path::Path, stdout: &str, stderr: &str, code: i32) -> Env {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(dir.join("out"), stdout).expect("write");
        std::fs::write(dir.join("err"), stderr).expect("write");
        let az = dir.join("az");
        std::fs::write(
            &az,
            format!(
                "#!/bin/sh\n/bin/cat '{0}/out'\n/bin/cat '{0}/err' >&2\nexit {code}\n",
                dir.display()
            ),
        )
        .expect("write");
        std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Env::from_pairs([("PATH", dir.display().to_string())])
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn az_output_is_bounded_and_shown_without_control_characters() {
        let dir = tempfile::tempdir().expect("tmp");
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("now");
        let env = fake_az(
            dir.path(),
            "",
            "\x1b[31mERROR: \x1b]0;owned\x07AADSTS70043: expired\r\x1b[2K run az login\n",
            1,
        );
        let err = token(&env, "https://management.core.windows.net/", None, now)
            .await
            .expect_err("signed out");
        let text = err.to_string();
        assert!(text.contains("AADSTS70043: expired"), "{text}");
        assert!(!text.chars().any(char::is_control), "{text:?}");

        let env = fake_az(
            dir.path(),
            r#"{"accessToken":"x","expiresOn":"9999-12-31 23:59:59.000000","expires_on":9223372036854775807}"#,
            "",
            0,
        );
        let t = token(&env, "https://management.core.windows.net/", None, now)
            .await
            .expect("token");
        assert_eq!(t.expires_at, now + limits::TOKEN_LIFETIME_MAX);
    }

    #[tokio::test]
    async fn missing_az_is_explained() {
        let env = Env::from_pairs([("PATH", "/nonexistent")]);
        let err = token(
            &env,
            "https://management.core.windows.net/",
            None,
            Utc::now(),
        )
        .await
        .expect_err("missing");
        assert!(err.to_string().contains("not installed"), "{err}");
        assert!(
            err.hint()
                .expect("hint")
                .plain()
                .contains("aka.ms/InstallAzureCli")
        );
    }
}
