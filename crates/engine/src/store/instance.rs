//! One engine per settings file: the tray app and `acr-tray-cli run` take an exclusive lock on
//! `engine.lock` in the state folder for as long as they run. The lock file says who holds it,
//! so a second engine can tell the user which process to stop. The OS releases the lock when
//! the holder exits, even if it crashed.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::store::paths::Paths;

/// Held while the engine runs; dropping it releases the lock.
#[derive(Debug)]
pub struct InstanceLock {
    _held: fsutil::HeldLock,
}

impl InstanceLock {
    /// Takes the lock for `program` at once, or says who holds it.
    pub fn acquire(paths: &Paths, program: &str) -> Result<Self> {
        let path = paths.engine_lock();
        // The engine's folders are ACR Tray's alone: private, even when an older version (or
        // the user) left them open to others.
        for dir in [&paths.config_dir, &paths.state_dir] {
            if fsutil::ensure_private_dir(dir)? {
                tracing::warn!(folder = %dir.display(), "other users could open this folder; it is now private (0700)");
            }
        }
        match fsutil::lock_file(&path, program, Duration::ZERO)? {
            Ok(held) => Ok(Self { _held: held }),
            Err(holder) => Err(Error::AlreadyRunning {
                config: paths.config_file(),
                holder,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_engine_is_told_who_runs() {
        let dir = tempfile::tempdir().expect("tmp");
        let paths = Paths::under(dir.path());
        let first = InstanceLock::acquire(&paths, "acr-tray-cli run").expect("first");
        let err = InstanceLock::acquire(&paths, "ACR Tray").expect_err("second");
        let text = err.to_string();
        assert!(
            text.contains(&format!(
                "process {} (acr-tray-cli run)",
                std::process::id()
            )),
            "{text}"
        );
        assert!(text.contains("config.toml"), "{text}");
        assert!(
            err.hint()
                .is_some_and(|h| h.plain().contains("stop the other"))
        );
        drop(first);
        let again = InstanceLock::acquire(&paths, "ACR Tray").expect("after release");
        drop(again);
    }

    /// The lock file and the folders the engine keeps its settings and state in are private,
    /// and ones an older version left open are tightened.
    #[cfg(unix)]
    #[test]
    fn the_lock_and_the_engines_folders_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        let dir = tempfile::tempdir().expect("tmp");
        let paths = Paths::under(&dir.path().join("home"));
        drop(InstanceLock::acquire(&paths, "ACR Tray").expect("fresh"));
        assert_eq!(mode(&paths.engine_lock()), 0o600);
        assert_eq!(mode(&paths.state_dir), 0o700);
        assert_eq!(mode(&paths.config_dir), 0o700);
        for (p, m) in [
            (&paths.engine_lock(), 0o644),
            (&paths.state_dir, 0o755),
            (&paths.config_dir, 0o755),
        ] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod");
        }
        drop(InstanceLock::acquire(&paths, "ACR Tray").expect("again"));
        assert_eq!(mode(&paths.engine_lock()), 0o600);
        assert_eq!(mode(&paths.state_dir), 0o700);
        assert_eq!(mode(&paths.config_dir), 0o700);
    }
}
