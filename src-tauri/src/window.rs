//! The settings window itself, in its own process (`window_process`): one, labelled `main`,
//! created when the process starts; closing it ends the process, and with it every page of
//! WebKit's. The tray starts and talks to that process (`window_host`).

use std::path::Path;

use acr_tray_engine::Env;
use acr_tray_engine::service::view::Navigate;
use acr_tray_engine::{BrowserOpener, SystemBrowser};
use tauri::webview::{NewWindowResponse, PageLoadEvent};
use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

/// The settings window's label (the capability in `capabilities/main.json` names it).
pub const MAIN: &str = "main";

/// Creates the settings window (in the window's own process, once), at `at`: a start page
/// fragment ([`fragment`]) when given.
pub fn create<R: Runtime>(app: &AppHandle<R>, at: Option<&str>) -> tauri::Result<()> {
    let page = match at {
        Some(at) => format!("index.html#{at}"),
        None => "index.html".to_owned(),
    };
    let window = WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App(page.into()))
        .title("ACR Tray")
        .inner_size(960.0, 680.0)
        .min_inner_size(720.0, 480.0)
        .use_https_scheme(HTTPS_SCHEME)
        // The window shows the app's own pages only; a link out (the device-code page) opens
        // in the user's browser, never inside the app.
        .on_navigation(|url| {
            let inside = is_app_url(url);
            if !inside {
                open_external(url);
            }
            inside
        })
        .on_new_window(|url, _| {
            open_external(&url);
            NewWindowResponse::Deny
        })
        .on_page_load(|_, payload| {
            if matches!(payload.event(), PageLoadEvent::Finished) {
                tracing::info!("the settings page loaded");
            }
        })
        .build()?;
    let _ = window.set_focus();
    Ok(())
}

/// Shows the window (unminimised, focused) and takes its page to `at` (a [`Navigate`], as
/// the tray sent it).
pub fn show<R: Runtime>(app: &AppHandle<R>, at: Option<serde_json::Value>) {
    let Some(window) = app.get_webview_window(MAIN) else {
        return;
    };
    let _ = window.unminimize();
    let _ = window.show();
    let _ = window.set_focus();
    if let Some(at) = at {
        let _ = app.emit_to(MAIN, "navigate", &at);
    }
}

/// Where a new window should open, as its start page's fragment
/// (`view=accounts&identity=ID&signIn=1`), which the page reads as it starts, so no
/// `navigate` event can arrive before the page listens for it.
pub fn fragment(at: &Navigate) -> String {
    let view = serde_json::to_value(at.view)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut fragment = url::form_urlencoded::Serializer::new(String::new());
    fragment.append_pair("view", &view);
    if let Some(identity) = &at.identity {
        fragment.append_pair("identity", identity);
    }
    if at.sign_in {
        fragment.append_pair("signIn", "1");
    }
    fragment.finish()
}

/// Whether Windows serves the app as `https://tauri.localhost` rather than `http://` (the
/// window is built with this, and [`is_app_url`] accepts only that one).
const HTTPS_SCHEME: bool = false;

/// Whether `url` is one of the app's own pages: on the origin Tauri serves the app from on
/// this platform, and only that one — `tauri://localhost` on Linux and macOS,
/// `http://tauri.localhost` on Windows (tauri's `tauri_protocol_url`; no dev server is
/// configured). No port, no user name.
pub fn is_app_url(url: &url::Url) -> bool {
    let (scheme, host) = if cfg!(windows) {
        (
            if HTTPS_SCHEME { "https" } else { "http" },
            "tauri.localhost",
        )
    } else {
        ("tauri", "localhost")
    };
    url.scheme() == scheme
        && url.host_str() == Some(host)
        && url.port().is_none()
        && url.username().is_empty()
        && url.password().is_none()
}

/// Opens an https link in the user's browser (anything else is refused).
fn open_external(url: &url::Url) {
    if url.scheme() != "https" {
        tracing::warn!(scheme = url.scheme(), "refused to open a non-https link");
        return;
    }
    if let Err(e) = SystemBrowser::from_env(&Env::from_process()).open(url.as_str()) {
        tracing::warn!(error = %e, "cannot open the browser");
    }
}

/// Opens a folder in the platform's file manager.
pub fn open_folder(dir: &Path) -> std::io::Result<()> {
    // ACR Tray's own folder (the logs): made as private as the engine makes it.
    acr_tray_engine::ensure_private_dir(dir).map_err(|e| std::io::Error::other(e.to_string()))?;
    #[cfg(target_os = "macos")]
    let program = "open";
    #[cfg(target_os = "windows")]
    let program = "explorer";
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    let program = "xdg-open";
    // The file manager gets no secret-like variable (`AZURE_CLIENT_SECRET`, ...).
    std::process::Command::new(program)
        .arg(dir)
        .env_clear()
        .envs(Env::from_process().child_vars())
        .spawn()
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_apps_own_pages_load_in_the_window() {
        let (inside, other_platforms): (&[&str], &[&str]) = if cfg!(windows) {
            (
                &[
                    "http://tauri.localhost/",
                    "http://tauri.localhost/index.html#view=general",
                ],
                &["tauri://localhost/index.html", "https://tauri.localhost/"],
            )
        } else {
            (
                &[
                    "tauri://localhost/index.html",
                    "tauri://localhost",
                    "tauri://localhost/#view=general",
                ],
                &[
                    "http://tauri.localhost/",
                    "https://tauri.localhost/index.html",
                ],
            )
        };
        for url in inside {
            assert!(is_app_url(&url.parse().unwrap()), "{url}");
        }
        for url in other_platforms.iter().chain(&[
            "https://microsoft.com/devicelogin",
            "https://tauri.localhost.attacker.example/",
            "http://tauri.localhost:8080/",
            "tauri://attacker.example/index.html",
            "tauri://localhost.attacker.example/",
            "tauri://localhost:1234/",
            "tauri://user@localhost/",
            "http://user:pw@tauri.localhost/",
            "file:///etc/passwd",
        ]) {
            assert!(!is_app_url(&url.parse().unwrap()), "{url}");
        }
    }

    #[test]
    fn a_new_window_starts_where_it_was_asked_to() {
        use acr_tray_engine::service::view::View;
        let at = Navigate {
            view: View::Accounts,
            identity: Some("dev@contoso.example".to_owned()),
            sign_in: true,
        };
        assert_eq!(
            fragment(&at),
            "view=accounts&identity=dev%40contoso.example&signIn=1"
        );
        let at = Navigate {
            view: View::General,
            identity: None,
            sign_in: false,
        };
        assert_eq!(fragment(&at), "view=general");
    }
}
