//! `acr-tray-cli run`: the scheduler in the foreground. Every event is printed as it happens
//! (a line, or a JSON object per line with `--json`); notifications go to the desktop when a
//! notification server is there, else to the log; SIGTERM and Ctrl+C stop it cleanly.

use std::io::Write;
use std::sync::{Arc, Mutex};

use acr_tray_engine::Scheduler;
use acr_tray_engine::{EngineOptions, Error};
use acr_tray_engine::{Event, EventSink};
use acr_tray_engine::{LogNotifier, Notification, Notifier, Urgency};
use chrono::{DateTime, Local, Utc};

use crate::{CliWords, EXIT_OK, Io, exit_code, pass_exit_code};

/// The program name a second engine is told about.
const PROGRAM: &str = "acr-tray-cli run";

/// Runs the engine until stopped (or for one pass with `once`).
pub async fn run(options: EngineOptions, once: bool, json: bool, io: &mut Io) -> i32 {
    let stdout = std::mem::replace(&mut io.stdout, Box::new(std::io::sink()));
    let printer = Arc::new(EventPrinter {
        out: Mutex::new(stdout),
        json,
    });
    let options = EngineOptions {
        events: printer.clone(),
        ..options
    };
    if once {
        return match Scheduler::once(options, PROGRAM, notifier(), Arc::new(CliWords)).await {
            Ok(outcomes) => pass_exit_code(&outcomes),
            Err(e) => fail(io, &e),
        };
    }
    let scheduler = match Scheduler::start(options, PROGRAM, notifier(), Arc::new(CliWords)) {
        Ok(s) => s,
        Err(e) => return fail(io, &e),
    };
    tracing::info!("running; stop with Ctrl+C or SIGTERM");
    stopped().await;
    tracing::info!("stopping");
    scheduler.stop().await;
    EXIT_OK
}

fn fail(io: &mut Io, e: &Error) -> i32 {
    io.error(e);
    exit_code(e)
}

/// The desktop's notifications when a notification server answers, else the log.
fn notifier() -> Arc<dyn Notifier> {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        match notify_rust::get_server_information() {
            Ok(server) => {
                tracing::info!(server = %server.name, "notifications go to the desktop");
                Arc::new(DesktopNotifier)
            }
            Err(e) => {
                tracing::info!(error = %e, "no notification server on the session bus: notifications go to the log");
                Arc::new(LogNotifier)
            }
        }
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        Arc::new(DesktopNotifier)
    }
}

/// Desktop notifications through notify-rust (D-Bus on Linux, the native centres elsewhere).
struct DesktopNotifier;

impl Notifier for DesktopNotifier {
    fn show(&self, n: &Notification) {
        let mut note = notify_rust::Notification::new();
        note.appname("ACR Tray")
            .summary(&n.title)
            .body(&body_for_server(&n.body));
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            note.urgency(match n.urgency {
                Urgency::Critical => notify_rust::Urgency::Critical,
                Urgency::Normal => notify_rust::Urgency::Normal,
            });
        }
        match note.show() {
            Ok(_) => tracing::info!(incident = %n.incident, title = %n.title, "notified"),
            Err(e) => {
                tracing::warn!(error = %e, "the desktop notification failed; logging it instead");
                LogNotifier.show(n);
            }
        }
    }
}

/// The body as the notification server will show it: escaped where it reads markup.
fn body_for_server(body: &str) -> String {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        static MARKUP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let markup = *MARKUP.get_or_init(|| {
            notify_rust::get_capabilities().is_ok_and(|c| c.iter().any(|c| c == "body-markup"))
        });
        if markup {
            return acr_tray_engine::escape_markup(body);
        }
    }
    body.to_owned()
}

/// Resolves on SIGTERM or Ctrl+C (SIGINT).
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl+C still stops");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Prints events as they happen.
struct EventPrinter {
    out: Mutex<Box<dyn Write + Send>>,
    json: bool,
}

impl EventSink for EventPrinter {
    fn emit(&self, event: Event) {
        let now = Utc::now();
        let line = if self.json {
            json_line(&event, now)
        } else {
            text_line(&event, now.with_timezone(&Local))
        };
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// One JSON object: the event's fields, its kind in `event`, and `at`.
fn json_line(event: &Event, now: DateTime<Utc>) -> String {
    let mut value = serde_json::to_value(event).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        // The hint as the CLI says it, not its parts.
        if let Event::RefreshFailed {
            hint: Some(hint), ..
        }
        | Event::SignInRequired {
            hint: Some(hint), ..
        }
        | Event::ClientFileFailed {
            hint: Some(hint), ..
        } = event
        {
            map.insert(
                "hint".to_owned(),
                serde_json::Value::String(crate::words::say(hint)),
            );
        }
        map.insert("at".to_owned(), serde_json::Value::String(now.to_rfc3339()));
    }
    value.to_string()
}

fn hhmm(t: &DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%H:%M").to_string()
}

/// One readable line, time first.
fn text_line(event: &Event, now: DateTime<Local>) -> String {
    let time = now.format("%H:%M:%S");
    let body = match event {
        Event::Refreshed {
            registry,
            login_server,
            expires_at,
        } => match expires_at {
            Some(exp) => format!(
                "refreshed {registry} ({login_server}), valid until {}",
                hhmm(exp)
            ),
            None => format!("refreshed {registry} ({login_server})"),
        },
        Event::RefreshFailed {
            registry,
            login_server,
            message,
            hint,
            valid_until,
            ..
        } => {
            let kept = match valid_until {
                Some(t) => format!("; Docker's credential still works until {}", hhmm(t)),
                None => String::new(),
            };
            let hint = hint_suffix(hint.as_ref());
            format!("failed {registry} ({login_server}): {message}{kept}{hint}")
        }
        Event::Recovered {
            registry,
            login_server,
            failing_since,
        } => format!(
            "recovered {registry} ({login_server}), failing since {}",
            hhmm(failing_since)
        ),
        Event::SignInRequired {
            identity,
            message,
            hint,
        } => format!(
            "sign-in required for {identity}: {message}{}",
            hint_suffix(hint.as_ref())
        ),
        Event::SignedIn { identity } => format!("signed in {identity}"),
        Event::ClientFileFailed {
            file,
            client,
            message,
            hint,
            ..
        } => format!(
            "not updated: {} {file}: {message}{}",
            client.file_name(),
            hint_suffix(hint.as_ref())
        ),
        Event::ClientFileWritten { file, client } => {
            format!("updated again: {} {file}", client.file_name())
        }
        Event::ClientFileDropped { file, client } => {
            format!("no longer kept in sync: {} {file}", client.file_name())
        }
        Event::SessionExpiringSoon { identity, at } => format!(
            "sign-in will be needed for {identity} around {}: sign in now with `acr-tray-cli login`",
            hhmm(at)
        ),
        Event::AdminEnabled {
            registry,
            login_server,
            admin_mode,
        } => {
            let advice = if *admin_mode {
                "Docker logs in with it again; consider an Entra identity instead (`acr-tray-cli registry add NAME --identity ID`)"
            } else {
                "the ACR docs recommend keeping it disabled (`az acr update -n NAME --admin-enabled false`)"
            };
            format!(
                "admin account enabled on {registry} ({login_server}): {}",
                advice.replace("NAME", registry)
            )
        }
        Event::AdminDisabled {
            registry,
            login_server,
            admin_mode: true,
        } => format!(
            "admin account disabled on {registry} ({login_server}): Docker can no longer log in; switch it to an Entra identity with `acr-tray-cli registry add {registry} --identity ID`"
        ),
        Event::AdminDisabled {
            registry,
            login_server,
            admin_mode: false,
        } => format!(
            "admin account disabled on {registry} ({login_server}); Docker signs in with an Entra identity and is not affected"
        ),
        Event::AdminPasswordRegenerated {
            registry,
            login_server,
            password,
            written_to_docker,
            ..
        } => {
            let effect = if *written_to_docker {
                "the new one was written into Docker's config"
            } else {
                "Docker does not use it"
            };
            format!("admin {password} of {registry} ({login_server}) regenerated; {effect}")
        }
        Event::AcrTokenPasswordExpiring {
            registry,
            login_server,
            token,
            password,
            expires_at,
            ..
        } => format!(
            "{password} of the ACR token {token} of {registry} ({login_server}) expires {}; generate a new one (`az acr token credential generate -r {registry} -n {token} --{password}`) and give it with `acr-tray-cli registry add {registry} --acr-token {token} --password-stdin`",
            expires_at.with_timezone(&Local).format("%Y-%m-%d %H:%M")
        ),
        Event::AcrTokenDisabled {
            registry,
            login_server,
            token,
        } => format!(
            "the ACR token {token} of {registry} ({login_server}) was disabled: Docker can no longer log in with it (`az acr token update -r {registry} -n {token} --status enabled`)"
        ),
    };
    format!("{time} {body}")
}

/// An event line's " (hint: …)" ending, in the CLI's words; empty without a hint.
fn hint_suffix(hint: Option<&acr_tray_engine::Hint>) -> String {
    hint.map(|h| format!(" (hint: {})", crate::words::say(h)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use acr_tray_engine::{Action, ErrorKind, Hint};

    #[test]
    fn events_print_as_lines_and_json_objects() {
        let at = DateTime::parse_from_rfc3339("2026-11-23T14:05:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let failed = Event::RefreshFailed {
            registry: "alpha".into(),
            login_server: "alpha.azurecr.io".into(),
            identity: Some("app".into()),
            kind: ErrorKind::Transient,
            message: "token exchange at https://alpha.azurecr.io failed: HTTP 503".into(),
            hint: Some("ACR Tray retries".into()),
            valid_until: Some(at),
        };
        let line = text_line(&failed, at.with_timezone(&Local));
        assert!(
            line.contains("failed alpha (alpha.azurecr.io): token exchange"),
            "{line}"
        );
        assert!(line.contains("still works until"), "{line}");
        let v: serde_json::Value = serde_json::from_str(&json_line(&failed, at)).expect("json");
        assert_eq!(v["event"], "refresh-failed");
        assert_eq!(v["loginServer"], "alpha.azurecr.io");
        assert_eq!(v["kind"], "transient");
        assert_eq!(v["at"], "2026-11-23T14:05:00+00:00");
    }

    #[test]
    fn hints_print_as_the_cli_says_them_in_lines_and_json() {
        let at = Utc::now();
        let ended = Event::SignInRequired {
            identity: "dev@contoso.example".into(),
            message: "the session ended".into(),
            hint: Some(
                Hint::text("sign dev@contoso.example in again with ")
                    .with(Action::sign_in("dev@contoso.example")),
            ),
        };
        let said = "sign dev@contoso.example in again with `acr-tray-cli login`";
        let line = text_line(&ended, at.with_timezone(&Local));
        assert!(line.ends_with(&format!("(hint: {said})")), "{line}");
        let v: serde_json::Value = serde_json::from_str(&json_line(&ended, at)).expect("json");
        assert_eq!(v["hint"], said);
        let failed = Event::RefreshFailed {
            registry: "alpha".into(),
            login_server: "alpha.azurecr.io".into(),
            identity: None,
            kind: ErrorKind::DockerConfig,
            message: "the helper is missing".into(),
            hint: Some(Hint::text("").run(Action::DoctorFix)),
            valid_until: None,
        };
        let v: serde_json::Value = serde_json::from_str(&json_line(&failed, at)).expect("json");
        assert_eq!(v["hint"], "run `acr-tray-cli doctor --fix`");
        let line = text_line(&failed, at.with_timezone(&Local));
        assert!(
            line.ends_with("(hint: run `acr-tray-cli doctor --fix`)"),
            "{line}"
        );
    }

    #[test]
    fn a_client_file_that_cannot_be_written_prints_the_file_and_what_to_do() {
        let at = Utc::now();
        let failed = Event::ClientFileFailed {
            file: "/home/dev/.config/helm/registry/config.json".into(),
            client: acr_tray_engine::Client::Helm,
            kind: ErrorKind::DockerConfig,
            message: "it is not valid".into(),
            hint: Some(Hint::text("fix the JSON by hand")),
        };
        let line = text_line(&failed, at.with_timezone(&Local));
        assert!(
            line.ends_with("not updated: Helm's registry config /home/dev/.config/helm/registry/config.json: it is not valid (hint: fix the JSON by hand)"),
            "{line}"
        );
        let v: serde_json::Value = serde_json::from_str(&json_line(&failed, at)).expect("json");
        assert_eq!(v["event"], "client-file-failed");
        assert_eq!(v["client"], "helm");
        assert_eq!(v["hint"], "fix the JSON by hand");
        let written = Event::ClientFileWritten {
            file: "/ci/config.json".into(),
            client: acr_tray_engine::Client::DockerExtra,
        };
        let line = text_line(&written, at.with_timezone(&Local));
        assert!(
            line.ends_with("updated again: the extra Docker config /ci/config.json"),
            "{line}"
        );
    }

    #[test]
    fn admin_account_events_print_what_changed_and_what_it_means() {
        let at = Utc::now();
        let local = at.with_timezone(&Local);
        let disabled = Event::AdminDisabled {
            registry: "beta".into(),
            login_server: "beta.azurecr.io".into(),
            admin_mode: true,
        };
        let line = text_line(&disabled, local);
        assert!(line.contains("admin account disabled on beta"), "{line}");
        assert!(line.contains("registry add beta --identity ID"), "{line}");
        let enabled = Event::AdminEnabled {
            registry: "beta".into(),
            login_server: "beta.azurecr.io".into(),
            admin_mode: false,
        };
        let line = text_line(&enabled, local);
        assert!(
            line.contains("az acr update -n beta --admin-enabled false"),
            "{line}"
        );
        let regenerated = Event::AdminPasswordRegenerated {
            registry: "beta".into(),
            login_server: "beta.azurecr.io".into(),
            password: "password2".into(),
            admin_mode: true,
            written_to_docker: true,
        };
        let line = text_line(&regenerated, local);
        assert!(line.contains("admin password2 of beta"), "{line}");
        assert!(line.contains("written into Docker's config"), "{line}");
        let v: serde_json::Value =
            serde_json::from_str(&json_line(&regenerated, at)).expect("json");
        assert_eq!(v["event"], "admin-password-regenerated");
        assert_eq!(v["password"], "password2");
        assert_eq!(v["writtenToDocker"], true);
    }
}
