//! Logging for the tray app: a daily file in the log folder (0600 files in a 0700 folder,
//! seven kept) and stderr, at the level chosen in the settings (`ACR_TRAY_LOG` overrides it).
//! Nothing logged holds a secret.

use acr_tray_engine::DailyLog;
use acr_tray_engine::EngineOptions;
use acr_tray_engine::Paths;
use acr_tray_engine::Settings;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

/// Installs the global logger; keep the guard until exit (it flushes the file).
pub fn init(options: &EngineOptions) -> anyhow::Result<Option<WorkerGuard>> {
    let paths = Paths::from_env(&options.env)?;
    let level = Settings::load(&paths.config_file())
        .map(|s| s.app.log_level.directive())
        .unwrap_or("info");
    let filter = |default: &str| {
        options
            .env
            .var("ACR_TRAY_LOG")
            .and_then(|f| EnvFilter::try_new(f).ok())
            .unwrap_or_else(|| {
                EnvFilter::new(format!(
                    "warn,acr_tray_engine={default},acr_tray_app={default}"
                ))
            })
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(filter(level));
    let mut tightened = Vec::new();
    let (file, guard) = match DailyLog::open(&paths.log_dir, "acr-tray", 7) {
        Ok(mut log) => {
            tightened = log.take_tightened();
            let (writer, guard) = tracing_appender::non_blocking(log);
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false)
                .with_filter(filter(level));
            (Some(layer), Some(guard))
        }
        Err(e) => {
            eprintln!("acr-tray: cannot write logs: {e}");
            (None, None)
        }
    };
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init();
    for path in tightened {
        tracing::warn!(path = %path.display(), "other users could read this log; it is now private");
    }
    Ok(guard)
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use acr_tray_engine::Env;
    use std::os::unix::fs::PermissionsExt;

    /// The app's log folder and files are the user's alone, as the CLI's are: nothing in a
    /// fresh tree is readable by others, whatever the umask.
    #[test]
    fn the_apps_logs_are_private() {
        let dir = tempfile::tempdir().expect("tmp");
        let home = dir.path().join("home");
        let options = EngineOptions {
            env: Env::from_pairs([("ACR_TRAY_HOME", home.display().to_string())]),
            ..EngineOptions::from_process()
        };
        let guard = init(&options).expect("init");
        tracing::warn!("a line for the log file");
        drop(guard);
        let mut seen = Vec::new();
        let mut stack = vec![home.clone()];
        while let Some(d) = stack.pop() {
            seen.push((
                d.clone(),
                std::fs::metadata(&d).expect("meta").permissions().mode(),
            ));
            for entry in std::fs::read_dir(&d).expect("ls") {
                let p = entry.expect("entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    seen.push((
                        p.clone(),
                        std::fs::metadata(&p).expect("meta").permissions().mode(),
                    ));
                }
            }
        }
        assert!(
            seen.iter()
                .any(|(p, _)| p.extension().is_some_and(|e| e == "log")),
            "{seen:?}"
        );
        let open: Vec<_> = seen.iter().filter(|(_, m)| m & 0o077 != 0).collect();
        assert!(open.is_empty(), "readable by others: {open:?}");
    }
}
