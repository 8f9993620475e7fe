//! Desktop notifications for the tray app: the engine's notification policy decides what to
//! say (once per incident); this shows it through notify-rust and acts on a click — "Sign in"
//! for an ended session opens the sign-in, anything else opens the settings.

use acr_tray_engine::service::view::{Navigate, View};
use acr_tray_engine::{LogNotifier, Notification, NotificationAction, Notifier, Urgency};
use tauri::{AppHandle, Runtime};

use crate::window_host;

/// Shows notifications on the desktop (the log when no notification server answers).
pub struct DesktopNotifier<R: Runtime> {
    app: AppHandle<R>,
    /// The server reads markup in bodies (freedesktop `body-markup`): escape it.
    markup: bool,
}

impl<R: Runtime> DesktopNotifier<R> {
    /// A notifier that opens `app`'s window on a click.
    pub fn new(app: AppHandle<R>) -> Self {
        Self {
            app,
            markup: reads_markup(),
        }
    }
}

/// Whether the notification server reads markup in bodies (freedesktop `body-markup`).
pub fn reads_markup() -> bool {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        notify_rust::get_capabilities().is_ok_and(|c| c.iter().any(|c| c == "body-markup"))
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        false
    }
}

/// A one-off notification outside the engine's policy (e.g. the app could not start).
pub fn show_once(summary: &str, body: &str) {
    let body = if reads_markup() {
        acr_tray_engine::escape_markup(body)
    } else {
        body.to_owned()
    };
    if let Err(e) = notify_rust::Notification::new()
        .appname("ACR Tray")
        .summary(summary)
        .body(&body)
        .show()
    {
        tracing::warn!(error = %e, "cannot show the notification");
    }
}

/// Where a click on the notification leads.
pub fn destination(n: &Notification) -> Option<Navigate> {
    match &n.action {
        Some(NotificationAction::SignIn { identity }) => Some(Navigate {
            view: View::Accounts,
            identity: Some(identity.clone()),
            sign_in: true,
        }),
        Some(NotificationAction::OpenSettings) => Some(Navigate {
            view: View::Registries,
            identity: None,
            sign_in: false,
        }),
        None => None,
    }
}

impl<R: Runtime> Notifier for DesktopNotifier<R> {
    fn show(&self, n: &Notification) {
        let body = if self.markup {
            acr_tray_engine::escape_markup(&n.body)
        } else {
            n.body.clone()
        };
        let mut note = notify_rust::Notification::new();
        note.appname("ACR Tray")
            .summary(&n.title)
            .body(&body)
            .icon("acr-tray");
        let target = destination(n);
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            note.urgency(match n.urgency {
                Urgency::Critical => notify_rust::Urgency::Critical,
                Urgency::Normal => notify_rust::Urgency::Normal,
            });
            if let Some(to) = &target {
                // "default" is a click on the notification itself.
                note.action("default", "Open");
                if to.sign_in {
                    note.action("sign-in", "Sign in…");
                }
            }
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        let _ = (Urgency::Normal, &target);
        match note.show() {
            Ok(handle) => {
                tracing::info!(incident = %n.incident, title = %n.title, "notified");
                #[cfg(all(unix, not(target_os = "macos")))]
                if let Some(to) = target {
                    let app = self.app.clone();
                    // Waiting for the click blocks: on a thread of its own, which ends when the
                    // notification is closed.
                    std::thread::spawn(move || {
                        handle.wait_for_action(|action| {
                            if action == "default" || action == "sign-in" {
                                window_host::open(&app, Some(to));
                            }
                        });
                    });
                }
                #[cfg(not(all(unix, not(target_os = "macos"))))]
                let _ = (handle, &self.app);
            }
            Err(e) => {
                tracing::warn!(error = %e, "the desktop notification failed; logging it instead");
                LogNotifier.show(n);
            }
        }
    }
}
