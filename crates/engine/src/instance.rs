//! One engine per settings file: the tray app and `acr-tray-cli run` take an exclusive lock on
//! `engine.lock` in the state folder for as long as they run. The lock file says who holds it,
//! so a second engine can tell the user which process to stop. The OS releases the lock when
//! the holder exits, even if it crashed.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::Paths;

/// Held while the engine runs; dropping it releases the lock.
#[derive(Debug)]
pub struct InstanceLock {
    file: File,
}

impl InstanceLock {
    /// Takes the lock for `program`, or says who holds it.
    pub fn acquire(paths: &Paths, program: &str) -> Result<Self> {
        let path = paths.engine_lock();
        if let Some(dir) = path.parent() {
            fsutil::create_private_dir(dir)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("open", &path, &e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(Error::AlreadyRunning {
                    config: paths.config_file(),
                    holder: if holder.is_empty() {
                        "another process (it is starting)".to_owned()
                    } else {
                        holder.to_owned()
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io("lock", &path, &e)),
        }
        let who = format!(
            "process {} ({program}) since {}",
            std::process::id(),
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S")
        );
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(who.as_bytes()))
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io("write", &path, &e))?;
        Ok(Self { file })
    }
}

impl Drop for InstanceLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
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
        assert!(err.hint().is_some_and(|h| h.contains("stop the other")));
        drop(first);
        let again = InstanceLock::acquire(&paths, "ACR Tray").expect("after release");
        drop(again);
    }
}
