//! The settings window: one, labelled `main`, created on demand and destroyed when closed
//! (a hidden WebKit view would keep ~100 MiB alive all day; the tray app stays running). On
//! Linux WebKit's network process is ended too once the window is gone (`webkit.rs`).

use std::path::Path;
use std::time::Duration;

use acr_tray_engine::Env;
use acr_tray_engine::browser::{BrowserOpener, SystemBrowser};
use acr_tray_engine::service::view::Navigate;
use tauri::webview::{NewWindowResponse, PageLoadEvent};
use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewUrl, WebviewWindowBuilder, WindowEvent};

/// The settings window's label (the capability in `capabilities/main.json` names it).
pub const MAIN: &str = "main";

/// Shows the settings window (creating it if needed), focused, at `at` when given.
pub fn open<R: Runtime>(app: &AppHandle<R>, at: Option<Navigate>) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        if let Some(at) = at {
            let _ = app.emit_to(MAIN, "navigate", &at);
        }
        return;
    }
    let built = WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App("index.html".into()))
        .title("ACR Tray")
        .inner_size(960.0, 680.0)
        .min_inner_size(720.0, 480.0)
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
        .on_page_load(move |window, payload| {
            if payload.event() != PageLoadEvent::Finished {
                return;
            }
            if let Some(at) = at.clone() {
                // The page subscribes to `navigate` as it starts; give it a moment.
                let app = window.app_handle().clone();
                tauri::async_runtime::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    let _ = app.emit_to(MAIN, "navigate", &at);
                });
            }
        })
        .build();
    match built {
        Ok(window) => {
            let app = app.clone();
            window.on_window_event(move |event| match event {
                WindowEvent::CloseRequested { .. } => {
                    tracing::debug!("settings window: close requested");
                }
                WindowEvent::Destroyed => {
                    tracing::info!("settings window closed");
                    #[cfg(target_os = "linux")]
                    crate::webkit::last_webview_gone(&app);
                    #[cfg(not(target_os = "linux"))]
                    let _ = &app;
                }
                _ => {}
            });
            let _ = window.set_focus();
        }
        Err(e) => tracing::error!(error = %e, "cannot open the settings window"),
    }
}

/// Whether `url` is one of the app's own pages (`tauri://localhost` on Linux and macOS,
/// `http(s)://tauri.localhost` on Windows).
pub fn is_app_url(url: &url::Url) -> bool {
    url.scheme() == "tauri" || url.host_str() == Some("tauri.localhost")
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
    std::fs::create_dir_all(dir)?;
    #[cfg(target_os = "macos")]
    let program = "open";
    #[cfg(target_os = "windows")]
    let program = "explorer";
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    let program = "xdg-open";
    std::process::Command::new(program)
        .arg(dir)
        .spawn()
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_apps_own_pages_load_in_the_window() {
        for inside in ["tauri://localhost/index.html", "http://tauri.localhost/"] {
            assert!(is_app_url(&inside.parse().unwrap()), "{inside}");
        }
        for outside in [
            "https://microsoft.com/devicelogin",
            "https://tauri.localhost.attacker.example/",
            "file:///etc/passwd",
        ] {
            assert!(!is_app_url(&outside.parse().unwrap()), "{outside}");
        }
    }
}
