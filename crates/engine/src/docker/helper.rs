//! Docker credential helpers (`docker-credential-<name>`), spoken to as Docker does
//! (docs/protocol.md#credential-helper): one action as the only argument, JSON or the server URL on
//! stdin, the answer or an error message on stdout. Secrets only ever travel on stdin and stdout.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::browser::which;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::hint::{Action, Hint};
use crate::secret::Secret;
use crate::{limits, text};

/// Docker's "no credentials" answer from `get`.
pub const NOT_FOUND: &str = "credentials not found in native keychain";

/// How long a helper may take (Docker Desktop's helper through WSL can be slow, but must not
/// hang a refresh forever).
const TIMEOUT: Duration = Duration::from_secs(30);

/// A credential helper program.
#[derive(Debug, Clone)]
pub struct Helper {
    name: String,
    program: PathBuf,
    env: Env,
}

#[derive(Serialize)]
struct StoreRequest<'a> {
    #[serde(rename = "ServerURL")]
    server_url: &'a str,
    #[serde(rename = "Username")]
    username: &'a str,
    #[serde(rename = "Secret")]
    secret: &'a str,
}

/// What `get` returns.
#[derive(Deserialize)]
pub struct HelperCredential {
    /// The user name (`<token>` for identity tokens).
    #[serde(rename = "Username", default)]
    #[cfg_attr(not(test), allow(dead_code))]
    pub username: String,
    /// The secret.
    #[serde(rename = "Secret", default)]
    secret: String,
}

impl HelperCredential {
    /// The secret.
    pub fn secret(&self) -> Secret {
        Secret::new(self.secret.clone())
    }
}

/// Whether a helper name from config.json (`credsStore`, `credHelpers`) may be run as
/// `docker-credential-NAME`: letters, digits, `.`, `_` and `-` only (no path separator, no
/// `..`), and not `.` or `..` themselves. Anything else could name a program elsewhere.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl Helper {
    /// Finds `docker-credential-<name>` on the `PATH`; a name that is not a plain helper name
    /// ([`is_valid_name`]) is refused before any program is looked for.
    pub fn find(name: &str, env: &Env) -> Result<Self> {
        if !is_valid_name(name) {
            let shown: String = name.chars().take(100).collect();
            return Err(Error::DockerHelperFailed {
                helper: shown.clone(),
                message: format!(
                    "Docker's config.json names the credential helper {shown:?}, which is not a helper name (letters, digits, `.`, `_` and `-` only); ACR Tray runs no program for it and left config.json untouched"
                ),
                hint: Hint::text(
                    "correct \"credsStore\" or \"credHelpers\" in Docker's config.json (e.g. \"desktop\", \"osxkeychain\", \"wincred\", \"secretservice\", \"pass\")",
                ),
            });
        }
        let program_name = format!("docker-credential-{name}");
        let program = which(env, &program_name).ok_or_else(|| Error::DockerHelperFailed {
            helper: name.to_owned(),
            message: format!("{program_name} is not installed (or not on PATH)"),
            hint: Hint::text(format!(
                "install {program_name}, or stop Docker from using it ("
            ))
            .with(Action::DoctorFix)
            .then(" can do that, with a backup)"),
        })?;
        Ok(Self {
            name: name.to_owned(),
            program,
            env: env.clone(),
        })
    }

    /// `store`: the credentials go in as JSON on stdin.
    pub fn store(&self, server_url: &str, username: &str, secret: &Secret) -> Result<()> {
        let request = StoreRequest {
            server_url,
            username,
            secret: secret.expose(),
        };
        let input = serde_json::to_vec(&request).map_err(|e| self.failed(&e.to_string()))?;
        let (ok, out) = self.run("store", &input)?;
        if ok {
            Ok(())
        } else {
            Err(self.failed(&redact(&out, secret)))
        }
    }

    /// `get`: `Ok(None)` for Docker's "credentials not found".
    pub fn get(&self, server_url: &str) -> Result<Option<HelperCredential>> {
        let (ok, out) = self.run("get", server_url.as_bytes())?;
        if !ok {
            if out.contains(NOT_FOUND) {
                return Ok(None);
            }
            return Err(self.failed(&out));
        }
        serde_json::from_str(&out)
            .map(Some)
            .map_err(|_| self.failed("its answer to `get` is not the JSON Docker expects"))
    }

    /// `erase`.
    #[cfg(test)]
    pub fn erase(&self, server_url: &str) -> Result<()> {
        let (ok, out) = self.run("erase", server_url.as_bytes())?;
        if ok || out.contains(NOT_FOUND) {
            Ok(())
        } else {
            Err(self.failed(&out))
        }
    }

    fn run(&self, action: &str, input: &[u8]) -> Result<(bool, String)> {
        let mut child = Command::new(&self.program)
            .arg(action)
            .env_clear()
            .envs(self.env.child_vars())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| self.failed(&format!("cannot start {}: {e}", self.program.display())))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading its input is reported by its exit status.
            let _ = stdin.write_all(input);
        }
        let mut stdout = child.stdout.take();
        let reader = std::thread::spawn(move || {
            let mut out = String::new();
            // A credential is a few KiB; more is not read (the helper then sees a closed pipe).
            if let Some(s) = stdout.as_mut() {
                let _ = s
                    .take(u64::try_from(limits::MAX_BODY).unwrap_or(u64::MAX))
                    .read_to_string(&mut out);
            }
            out
        });
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() < TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(None) | Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(self.failed(&format!(
                        "it did not answer `{action}` within {} s",
                        TIMEOUT.as_secs()
                    )));
                }
            }
        };
        let out = reader.join().unwrap_or_default();
        Ok((status.success(), out.trim().to_owned()))
    }

    fn failed(&self, message: &str) -> Error {
        Error::DockerHelperFailed {
            helper: self.name.clone(),
            // The helper's words, shown to the user: one line, without control characters.
            message: format!(
                "docker-credential-{}: {}",
                self.name,
                text::server_text(first_line(message))
            ),
            hint: Hint::text("check the helper (e.g. is its keyring unlocked?), or ")
                .run(Action::Doctor),
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("failed without a message")
}

/// A helper should never echo a secret, but if one does it must not reach our messages.
fn redact(message: &str, secret: &Secret) -> String {
    if secret.is_empty() {
        message.to_owned()
    } else {
        message.replace(secret.expose(), "<redacted>")
    }
}

/// The credential store Docker picks for a config without any auth information
/// (docs/protocol.md#docker-store): `osxkeychain` on macOS, `wincred` on Windows, on Linux `pass`
/// when the `pass` program exists, else `secretservice` — each only when its helper is installed.
pub fn default_store(env: &Env) -> Option<String> {
    let candidate = if cfg!(target_os = "macos") {
        "osxkeychain"
    } else if cfg!(windows) {
        "wincred"
    } else if which(env, "pass").is_some() {
        "pass"
    } else {
        "secretservice"
    };
    which(env, &format!("docker-credential-{candidate}")).map(|_| candidate.to_owned())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &std::path::Path, name: &str, body: &str) {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    #[test]
    fn store_get_erase_through_stdin() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = format!("{}:/usr/bin:/bin", dir.path().display());
        let log = dir.path().join("log");
        script(
            dir.path(),
            "docker-credential-rec",
            &format!(
                "echo \"$@\" >> {log}; case \"$1\" in store) cat > {store};; get) cat > /dev/null; if [ -f {store} ]; then cat {store}; else echo '{NOT_FOUND}'; exit 1; fi;; erase) rm -f {store};; esac",
                log = log.display(),
                store = dir.path().join("stored").display()
            ),
        );
        let env = Env::from_pairs([("PATH", path)]);
        let h = Helper::find("rec", &env).expect("found");
        assert!(h.get("r.azurecr.io").expect("get").is_none());
        h.store("r.azurecr.io", "<token>", &Secret::new("s3cret"))
            .expect("store");
        let got = h.get("r.azurecr.io").expect("get").expect("some");
        assert_eq!(
            (got.username.as_str(), got.secret().expose()),
            ("<token>", "s3cret")
        );
        h.erase("r.azurecr.io").expect("erase");
        let argv = std::fs::read_to_string(&log).expect("log");
        assert!(!argv.contains("s3cret"), "secrets never on argv: {argv}");
        assert_eq!(
            argv.lines().collect::<Vec<_>>(),
            ["get", "store", "get", "erase"]
        );
    }

    #[test]
    fn missing_and_failing_helpers_are_explained() {
        let dir = tempfile::tempdir().expect("tmp");
        let env = Env::from_pairs([("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))]);
        let err = Helper::find("desktop", &env).expect_err("missing");
        assert!(
            err.to_string()
                .contains("docker-credential-desktop is not installed"),
            "{err}"
        );
        script(
            dir.path(),
            "docker-credential-broken",
            "cat > /dev/null; echo 'keyring locked: s3cret'; exit 1",
        );
        let h = Helper::find("broken", &env).expect("found");
        let err = h
            .store("r", "u", &Secret::new("s3cret"))
            .expect_err("fails");
        assert!(
            err.to_string().contains("keyring locked: <redacted>"),
            "{err}"
        );
        script(
            dir.path(),
            "docker-credential-loud",
            r"cat > /dev/null; printf '\033]0;owned\007\033[2Jlocked\r\033[2Kfine\n'; exit 1",
        );
        let err = Helper::find("loud", &env)
            .expect("found")
            .store("r", "u", &Secret::new("s3cret"))
            .expect_err("fails");
        let shown = err.to_string();
        assert!(shown.contains("]0;owned[2Jlocked [2Kfine"), "{shown:?}");
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
    }

    #[test]
    fn default_store_needs_the_helper_installed() {
        let dir = tempfile::tempdir().expect("tmp");
        let env = Env::from_pairs([("PATH", dir.path().display().to_string())]);
        assert_eq!(default_store(&env), None);
        script(dir.path(), "docker-credential-secretservice", "exit 0");
        if cfg!(target_os = "linux") {
            assert_eq!(default_store(&env).as_deref(), Some("secretservice"));
            script(dir.path(), "pass", "exit 0");
            assert_eq!(
                default_store(&env),
                None,
                "pass chosen, but its helper is missing"
            );
            script(dir.path(), "docker-credential-pass", "exit 0");
            assert_eq!(default_store(&env).as_deref(), Some("pass"));
        }
    }
}
