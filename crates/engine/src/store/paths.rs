//! Where ACR Tray keeps its configuration, state and logs.

use std::path::{Path, PathBuf};

use crate::env::Env;
use crate::error::{Error, Result};

/// The folders ACR Tray uses. `ACR_TRAY_HOME` puts all of them under one folder (tests and
/// portable installs); otherwise they follow the platform's conventions (XDG on Linux,
/// `~/Library/Application Support` on macOS, `%APPDATA%` on Windows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Holds `config.toml` (settings; never a secret).
    pub config_dir: PathBuf,
    /// Holds `state.json` (last refresh, expiry, remembered audience, last error).
    pub state_dir: PathBuf,
    /// Holds the log files.
    pub log_dir: PathBuf,
}

impl Paths {
    /// Resolves the folders from the environment.
    pub fn from_env(env: &Env) -> Result<Self> {
        if let Some(home) = env.var("ACR_TRAY_HOME") {
            return Ok(Self::under(Path::new(home)));
        }
        let dirs =
            directories::ProjectDirs::from("dev", "acr-tray", "acr-tray").ok_or_else(|| {
                Error::invalid_input(
                    "cannot find the home directory to keep settings in",
                    "set ACR_TRAY_HOME to a folder ACR Tray may use",
                )
            })?;
        let state_dir = dirs
            .state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .to_path_buf();
        Ok(Self {
            config_dir: dirs.config_dir().to_path_buf(),
            log_dir: state_dir.join("logs"),
            state_dir,
        })
    }

    /// Every folder under one root.
    pub fn under(root: &Path) -> Self {
        Self {
            config_dir: root.to_path_buf(),
            state_dir: root.join("state"),
            log_dir: root.join("logs"),
        }
    }

    /// The settings file.
    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    /// The fallback cache of ACR credentials on machines without a keyring.
    pub fn token_file(&self) -> PathBuf {
        self.state_dir.join("acr-tokens.json")
    }

    /// The state file.
    pub fn state_file(&self) -> PathBuf {
        self.state_dir.join("state.json")
    }

    /// The lock a running engine (tray app or `acr-tray-cli run`) holds.
    pub fn engine_lock(&self) -> PathBuf {
        self.state_dir.join("engine.lock")
    }

    /// The notification incidents a running engine remembers.
    pub fn incidents_file(&self) -> PathBuf {
        self.state_dir.join("incidents.json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_tray_home_holds_everything() {
        let env = Env::from_pairs([("ACR_TRAY_HOME", "/tmp/x")]);
        let p = Paths::from_env(&env).expect("paths");
        assert_eq!(p.config_file(), PathBuf::from("/tmp/x/config.toml"));
        assert_eq!(p.state_file(), PathBuf::from("/tmp/x/state/state.json"));
        assert_eq!(p.log_dir, PathBuf::from("/tmp/x/logs"));
    }
}
