//! The settings window's process, seen from the tray: started (`acr-tray --window`) when the
//! window is asked for, told to show itself when it runs already, and answered over its stdin
//! and stdout by the engine's window channel (`service::channel::serve`). It ends when the
//! window closes; the tray stays. A window process that dies is said once, and the next click
//! starts a new one.

use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use acr_tray_engine::Env;
use acr_tray_engine::service::ViewResult;
use acr_tray_engine::service::channel::{ShellCommands, ToWindow, serve};
use acr_tray_engine::service::view::{ErrorCode, ErrorView, Navigate};
use serde_json::Value;
use tauri::{AppHandle, Manager, Runtime};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};
use tokio::sync::mpsc;

use crate::{AppState, window};

/// How long a window process may take to exit once its end of the channel closed.
const EXIT_GRACE: Duration = Duration::from_secs(10);

/// The longest line of the window process's log relayed as one (a longer one is split).
const MAX_LOG_LINE: usize = 4096;

/// The running window process, if any.
#[derive(Default)]
pub struct WindowHost {
    running: Mutex<Option<Running>>,
    started: AtomicU64,
}

struct Running {
    /// The requests to show the window, to it.
    control: mpsc::UnboundedSender<ToWindow>,
    /// Which start it is (a later one replaces it).
    number: u64,
}

/// Shows the settings window: the running window process shows itself (at `at`), or a new
/// one starts there.
pub fn open<R: Runtime>(app: &AppHandle<R>, at: Option<Navigate>) {
    let host = &app.state::<AppState>().window;
    let Ok(mut running) = host.running.lock() else {
        return;
    };
    if let Some(current) = running.as_ref() {
        let to = at.as_ref().and_then(|at| serde_json::to_value(at).ok());
        if current.control.send(ToWindow::Show { at: to }).is_ok() {
            return;
        }
    }
    let number = host.started.fetch_add(1, Ordering::Relaxed) + 1;
    let (control, control_rx) = mpsc::unbounded_channel();
    *running = Some(Running { control, number });
    drop(running);
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let ended = run(&app, at, control_rx).await;
        #[cfg(target_os = "linux")]
        crate::webkit::window_process_ended();
        let host = &app.state::<AppState>().window;
        if let Ok(mut running) = host.running.lock()
            && running.as_ref().is_some_and(|r| r.number == number)
        {
            *running = None;
        }
        match ended {
            Ok(status) if status.success() => tracing::info!("settings window closed"),
            Ok(status) => {
                tracing::error!(%status, "the settings window's process ended unexpectedly");
                crate::notifier::show_once(
                    "The settings window closed unexpectedly",
                    "ACR Tray keeps running. Open the settings again from the tray icon.",
                );
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "the settings window could not run");
                crate::notifier::show_once("The settings window could not open", &format!("{e:#}"));
            }
        }
    });
}

/// Starts the window process at `at`, answers it until its end of the channel closes, and
/// returns how it exited.
async fn run<R: Runtime>(
    app: &AppHandle<R>,
    at: Option<Navigate>,
    control: mpsc::UnboundedReceiver<ToWindow>,
) -> anyhow::Result<ExitStatus> {
    let exe = std::env::current_exe()?;
    let mut command = tokio::process::Command::new(exe);
    command.arg("--window");
    if let Some(at) = &at {
        command.arg("--at").arg(window::fragment(at));
    }
    // It gets no secret-like variable (`AZURE_CLIENT_SECRET`, ...): it needs none.
    let mut child = command
        .env_clear()
        .envs(Env::from_process().child_vars())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    tracing::debug!(pid = child.id(), "settings window process started");
    let (Some(to_window), Some(from_window), Some(log)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        anyhow::bail!("the settings window's process has no channel");
    };
    tauri::async_runtime::spawn(relay_log(log));
    let service = &app.state::<AppState>().service;
    let shell = Shell { app: app.clone() };
    if let Err(e) = serve(
        service,
        &shell,
        BufReader::new(from_window),
        to_window,
        control,
    )
    .await
    {
        tracing::warn!(error = %e, "ending the settings window");
        let _ = child.start_kill();
    }
    match tokio::time::timeout(EXIT_GRACE, child.wait()).await {
        Ok(status) => Ok(status?),
        Err(_) => {
            tracing::warn!("the settings window did not exit; ending it");
            let _ = child.start_kill();
            Ok(child.wait().await?)
        }
    }
}

/// The window process's log lines, into the tray's log (split at [`MAX_LOG_LINE`], control
/// characters dropped).
async fn relay_log(log: tokio::process::ChildStderr) {
    let mut lines = BufReader::new(log);
    let mut line = Vec::new();
    loop {
        line.clear();
        let limit = u64::try_from(MAX_LOG_LINE).unwrap_or(u64::MAX);
        match (&mut lines).take(limit).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text: String = String::from_utf8_lossy(&line)
                    .chars()
                    .filter(|c| !c.is_control())
                    .collect();
                if !text.trim().is_empty() {
                    tracing::info!("window: {}", text.trim());
                }
            }
        }
    }
}

/// The window's commands the tray answers itself (the engine's channel answers the others).
pub const SHELL_COMMANDS: &[&str] = &["open_logs"];

/// The window's commands the tray answers itself.
struct Shell<R: Runtime> {
    app: AppHandle<R>,
}

impl<R: Runtime> ShellCommands for Shell<R> {
    fn names(&self) -> &[&'static str] {
        SHELL_COMMANDS
    }

    fn call(&self, command: &str, _: &Value) -> ViewResult<Value> {
        match command {
            "open_logs" => open_logs(&self.app).map(|()| Value::Null),
            _ => Err(ErrorView {
                code: ErrorCode::InvalidInput,
                message: "not a command of the tray".to_owned(),
                hint: None,
                at: None,
            }),
        }
    }
}

/// Opens the log folder in the file manager.
fn open_logs<R: Runtime>(app: &AppHandle<R>) -> ViewResult<()> {
    let dir = app.state::<AppState>().service.log_dir()?;
    window::open_folder(&dir).map_err(|e| ErrorView {
        code: ErrorCode::Config,
        message: format!("cannot open {}: {e}", dir.display()),
        hint: Some("open the folder yourself".to_owned()),
        at: None,
    })
}
