//! `acr-tray --window`: the settings window's own process. The tray starts it when the window
//! is asked for and talks to it over its stdin and stdout (`service::channel`); closing the
//! window ends it, and with it all of WebKit's memory. It holds no engine, no tray icon and no
//! secret of its own: each command of the page goes to the tray as the page sent it, and the
//! tray's answer comes back as the command's result.

use std::sync::Arc;

use acr_tray_engine::service::channel::{Link, TrayMessage};
use tauri::ipc::{Invoke, InvokeBody, InvokeError};
use tauri::{Emitter, Manager, Runtime};
use tracing_subscriber::EnvFilter;

use crate::window;

/// Runs the window until it is closed, the tray says close, or the tray is gone.
pub fn run(at: Option<String>) -> anyhow::Result<()> {
    // Its log goes to stderr, which the tray writes into its own log.
    let filter = std::env::var("ACR_TRAY_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("warn,acr_tray_app=info,acr_tray_engine=info"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .with_env_filter(filter)
        .try_init();
    let app = tauri::Builder::default()
        .invoke_handler(forward)
        .setup(move |app| {
            let (link, mut messages) = tauri::async_runtime::block_on(async {
                Link::start(
                    tokio::io::BufReader::new(tokio::io::stdin()),
                    tokio::io::stdout(),
                )
            });
            app.manage(Arc::new(link));
            window::create(app.handle(), at.as_deref())?;
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                while let Some(message) = messages.recv().await {
                    match message {
                        TrayMessage::Event { name, payload } => {
                            if let Err(e) = handle.emit_to(window::MAIN, &name, payload) {
                                tracing::debug!(error = %e, "an event did not reach the page");
                            }
                        }
                        TrayMessage::Show { at } => {
                            let shown = handle.clone();
                            let _ = handle.run_on_main_thread(move || window::show(&shown, at));
                        }
                        TrayMessage::Close => break,
                    }
                }
                handle.exit(0);
            });
            Ok(())
        })
        .build(crate::context())?;
    app.run(|_, _| {});
    Ok(())
}

/// Every command of the page (Tauri has checked it against the window's capability) goes to
/// the tray as the page sent it; its answer is the command's result.
fn forward<R: Runtime>(invoke: Invoke<R>) -> bool {
    let Invoke {
        message, resolver, ..
    } = invoke;
    let command = message.command().to_owned();
    let args = match message.payload() {
        InvokeBody::Json(args) => args.clone(),
        InvokeBody::Raw(_) => {
            resolver.reject("the settings window's commands take JSON arguments");
            return true;
        }
    };
    let link = message.webview_ref().state::<Arc<Link>>().inner().clone();
    resolver.respond_async(async move { link.call(&command, args).await.map_err(InvokeError) });
    true
}
