//! # ACR Tray, the tray app
//!
//! A thin Tauri 2 shell over [`acr_tray_engine::service::Service`]: the engine (scheduler,
//! sign-ins, Docker writer) runs in the tray's process; the settings window runs in a process
//! of its own (`acr-tray --window`), which the tray starts when it is asked for and which ends
//! when it closes, so WebKit's memory goes with it.
//!
//! ## Layout
//!
//! - [`command_names`]: the settings window's commands (the engine's window channel answers
//!   them, `open_logs` the tray itself).
//! - [`tray`]: the tray icon, its tooltip and menu ([`tray::TrayItem`] ids).
//! - [`window_host`]: the window's process from the tray: started, shown, answered.
//! - [`window_process`]: `--window`, the window's process itself.
//! - [`window`]: the settings window (in its process): created, shown, its pages only.
//! - [`notifier`]: desktop notifications with their "Sign in" action.
//! - `webkit` (Linux): hands back the pages of WebKit's code the tray's process never runs.
//! - `demo` (the `demo` feature, which packages leave out): `--demo`, the fake Azure in-process.
//! - [`args`], [`logging`]: the command line and the log file.

pub mod args;
/// The names of the settings window's commands, listed once (the build step reads them too).
pub mod command_names;
#[cfg(feature = "demo")]
pub mod demo;
pub mod logging;
pub mod notifier;
pub mod tray;
#[cfg(target_os = "linux")]
pub mod webkit;
pub mod window;
pub mod window_host;
pub mod window_process;

use std::sync::Arc;

use acr_tray_engine::service::Service;
use acr_tray_engine::service::view::Overview;
use acr_tray_engine::service::words::AppWords;
use acr_tray_engine::{EngineOptions, Error};
use tauri::{Manager, RunEvent, Runtime};
use tauri_plugin_autostart::ManagerExt;

use crate::args::Args;

/// The name a second engine (`acr-tray-cli run`) is told holds the lock.
const PROGRAM: &str = "acr-tray";

/// What the tray, its menu and the window's channel share.
pub struct AppState {
    /// The engine.
    pub service: Service,
    /// The settings window's process.
    pub window: window_host::WindowHost,
}

/// The app's configuration and embedded pages (one copy for both processes).
pub fn context() -> tauri::Context<tauri::Wry> {
    tauri::generate_context!()
}

/// Runs the app until Quit; returns the process exit code.
/// Environment for the toolkit, set before anything else runs. On Linux: `GDK_GL=disable`
/// unless the user set `GDK_GL`. The app draws nothing with OpenGL itself (a tray icon, a menu,
/// and a settings page WebKit renders in its own process), but GTK's GL probe loads the Mesa
/// driver into every GTK process (with llvmpipe, 47 MiB of libLLVM) and the web process
/// inherits the setting: 54 MiB less for the tray alone and about 100 MiB less with the window
/// open (docs/benchmarks.md). Call it first in `main`, before any thread exists.
#[allow(unsafe_code)]
pub fn prepare_environment() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("GDK_GL").is_none() {
        // SAFETY: called at the top of `main`, before any other thread is started, so nothing
        // reads the environment concurrently.
        unsafe { std::env::set_var("GDK_GL", "disable") };
    }
}

pub fn run() -> i32 {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("acr-tray: {message}\n\n{}", args::USAGE);
            return 2;
        }
    };
    if args.help {
        println!("{}", args::USAGE);
        return 0;
    }
    if args.window {
        return match window_process::run(args.at) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("acr-tray --window: {e:#}");
                1
            }
        };
    }
    match try_run(args) {
        Ok(()) => 0,
        Err(e) => {
            report_failure(&e);
            1
        }
    }
}

/// Says why the app cannot start: on stderr, in the log and, since nobody reads stderr when it
/// is started from the applications menu or at login, as a notification (best effort).
fn report_failure(e: &anyhow::Error) {
    let message = format!("{e:#}");
    eprintln!("acr-tray: {message}");
    tracing::error!(error = %message, "ACR Tray could not start");
    notifier::show_once("ACR Tray could not start", &message);
}

fn try_run(args: Args) -> anyhow::Result<()> {
    let options = engine_options(&args)?;
    let _log = logging::init(&options)?;
    let app = build(tauri::Builder::default(), args, options)?.build(context())?;
    app.run(|_app, event| match event {
        // The last window closed: stay in the tray. Only Quit (an explicit exit code) ends.
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        RunEvent::Exit => {
            #[cfg(feature = "demo")]
            demo::cleanup();
        }
        _ => {}
    });
    Ok(())
}

fn engine_options(args: &Args) -> anyhow::Result<EngineOptions> {
    #[cfg(feature = "demo")]
    if args.demo {
        return demo::options();
    }
    let _ = args;
    Ok(EngineOptions::from_process())
}

/// The app, generic over the runtime so tests build it on the mock runtime.
pub fn build<R: Runtime>(
    builder: tauri::Builder<R>,
    args: Args,
    options: EngineOptions,
) -> anyhow::Result<tauri::Builder<R>> {
    Ok(builder
        // A second launch focuses the first instead of starting another engine.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            window_host::open(app, None);
        }))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--hidden"]),
        ))
        .setup(move |app| {
            // An error returned from here makes Tauri panic; say it properly and exit instead.
            if let Err(e) = setup(app.handle(), &args, options) {
                report_failure(&e);
                app.handle().exit(1);
            }
            Ok(())
        }))
}

fn setup<R: Runtime>(
    app: &tauri::AppHandle<R>,
    args: &Args,
    options: EngineOptions,
) -> anyhow::Result<()> {
    let notifier = Arc::new(notifier::DesktopNotifier::new(app.clone()));
    let service = tauri::async_runtime::block_on(async {
        #[cfg(feature = "demo")]
        let options = if args.demo {
            demo::populate(options).await?
        } else {
            options
        };
        Service::start(options, PROGRAM, notifier).map_err(describe)
    })?;
    let overview = service.overview();
    app.manage(AppState {
        service,
        window: window_host::WindowHost::default(),
    });
    tray::create(app)?;
    {
        let now = overview.borrow();
        tracing::info!(state = ?now.state, registries = now.registries.len(), "tray ready");
    }
    let login_item = manages_login_item(args);
    follow(app.clone(), overview.clone(), login_item);
    let first = overview.borrow().clone();
    if login_item {
        sync_autostart(app, &first);
    }
    // The window is in its own process: this one never runs WebKit.
    #[cfg(target_os = "linux")]
    webkit::tray_started();
    if !args.hidden && (args.settings || first.registries.is_empty() || args.demo) {
        window_host::open(app, None);
    }
    Ok(())
}

/// A startup failure the user can act on: the engine's own words, with its hint.
fn describe(e: Error) -> anyhow::Error {
    match e.hint().map(|h| h.render(&AppWords)) {
        Some(hint) if !hint.is_empty() => anyhow::anyhow!("{e}\n  hint: {hint}"),
        _ => anyhow::anyhow!("{e}"),
    }
}

/// Whether the app keeps the OS login item in line with the "start at login" setting: not in
/// `--demo`, whose throwaway settings must not remove (or add) the user's real login item.
fn manages_login_item(args: &Args) -> bool {
    !args.demo
}

/// Every overview change goes to the tray (and, with `login_item`, to the login item); the
/// window's channel sends it to the window.
fn follow<R: Runtime>(
    app: tauri::AppHandle<R>,
    mut overview: tokio::sync::watch::Receiver<Overview>,
    login_item: bool,
) {
    tauri::async_runtime::spawn(async move {
        loop {
            let current = overview.borrow_and_update().clone();
            tray::update(&app, &current);
            if login_item {
                sync_autostart(&app, &current);
            }
            if overview.changed().await.is_err() {
                return;
            }
        }
    });
}

/// Makes the login item match the "start at login" setting.
fn sync_autostart<R: Runtime>(app: &tauri::AppHandle<R>, overview: &Overview) {
    let launcher = app.autolaunch();
    let want = overview.general.start_at_login;
    match launcher.is_enabled() {
        Ok(on) if on == want => {}
        _ => {
            let result = if want {
                launcher.enable()
            } else {
                launcher.disable()
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "could not change the start-at-login item");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_leaves_the_login_item_alone() {
        let parse = |a: &[&str]| Args::parse(a.iter().map(|s| (*s).to_owned())).expect("args");
        assert!(!manages_login_item(&parse(&["--demo"])));
        assert!(manages_login_item(&parse(&[])));
        assert!(manages_login_item(&parse(&["--hidden"])));
    }

    /// A package (`cargo build --release -p acr-tray`, `cargo tauri build`) has no fake Azure
    /// inside: it comes only with the `demo` feature, which no default feature turns on; the
    /// tests turn it on (a dev-dependency on this crate), so the demo is still tested.
    #[test]
    fn packages_leave_the_fake_azure_out() {
        let text = include_str!("../Cargo.toml");
        let manifest: toml::Table = toml::from_str(text).expect("Cargo.toml");
        let fake = &manifest["dependencies"]["fake-azure"];
        assert_eq!(fake.get("optional").and_then(|o| o.as_bool()), Some(true));
        let features = manifest["features"].as_table().expect("features");
        // Every feature a default build turns on, following features that name others.
        let mut on: Vec<String> = vec!["default".to_owned()];
        let mut seen = 0;
        while seen < on.len() {
            let turned = features
                .get(&on[seen])
                .and_then(|f| f.as_array())
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str())
                .map(|f| f.strip_prefix("dep:").unwrap_or(f).to_owned());
            for f in turned.collect::<Vec<_>>() {
                if !on.contains(&f) {
                    on.push(f);
                }
            }
            seen += 1;
        }
        assert!(
            !on.iter()
                .any(|f| f == "demo" || f.starts_with("fake-azure")),
            "a default build turns on {on:?}"
        );
        let itself = &manifest["dev-dependencies"]["acr-tray"]["features"];
        assert!(
            itself
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f.as_str() == Some("demo"))),
            "the tests no longer build the demo: {itself}"
        );
    }
}
