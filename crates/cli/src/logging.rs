//! Logging: warnings (or more with -v) on stderr, and a daily log file in the log folder
//! (0600 files in a 0700 folder, seven days kept).
//! Nothing logged ever holds a secret: secrets are [`acr_tray_engine::Secret`]s, which print
//! as a redaction marker.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use acr_tray_engine::DailyLog;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

/// A writer shared between the logger and the command's own error output.
#[derive(Clone)]
pub struct SharedWriter(pub Arc<Mutex<Box<dyn Write + Send>>>);

impl SharedWriter {
    pub fn new(w: Box<dyn Write + Send>) -> Self {
        Self(Arc::new(Mutex::new(w)))
    }
}

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

impl<'a> MakeWriter<'a> for SharedWriter {
    type Writer = SharedWriter;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs the logger for the current thread; dropped when the command ends.
pub fn init(
    stderr: SharedWriter,
    log_dir: Option<&Path>,
    verbose: u8,
    filter: Option<&str>,
) -> tracing::subscriber::DefaultGuard {
    let level = match verbose {
        0 => "warn",
        1 => "warn,acr_tray_engine=info,acr_tray_cli=info",
        _ => "info,acr_tray_engine=debug,acr_tray_cli=debug",
    };
    let stderr_filter = filter
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(level));
    let stderr_layer = tracing_subscriber::fmt::layer()
        .with_writer(stderr)
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_filter(stderr_filter);
    let mut tightened = Vec::new();
    let file_layer = log_dir.and_then(|dir| {
        let mut appender = DailyLog::open(dir, "acr-tray-cli", 7).ok()?;
        tightened = appender.take_tightened();
        Some(
            tracing_subscriber::fmt::layer()
                .with_writer(Mutex::new(appender))
                .with_ansi(false)
                .with_filter(EnvFilter::new(
                    "warn,acr_tray_engine=debug,acr_tray_cli=debug",
                )),
        )
    });
    let subscriber = tracing_subscriber::registry()
        .with(stderr_layer)
        .with(file_layer);
    let guard = tracing::subscriber::set_default(subscriber);
    for path in tightened {
        tracing::warn!(path = %path.display(), "other users could read this log; it is now private");
    }
    guard
}
