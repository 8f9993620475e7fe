//! The throwaway ACR Tray installation both harnesses ([`crate::World`], [`crate::sim::Sim`])
//! run in: a home folder, a Docker config folder and the environment that names them.

use std::path::{Path, PathBuf};

use acr_tray_engine::Env;

/// A fresh `ACR_TRAY_HOME` and `DOCKER_CONFIG`, removed when dropped.
pub struct Home {
    root: tempfile::TempDir,
    docker: tempfile::TempDir,
}

impl Home {
    /// Two new empty folders.
    pub fn new() -> Self {
        Self {
            root: tempfile::tempdir().unwrap(),
            docker: tempfile::tempdir().unwrap(),
        }
    }

    /// `ACR_TRAY_HOME` (`$HOME` is its `home` subfolder).
    pub fn path(&self) -> &Path {
        self.root.path()
    }

    /// `DOCKER_CONFIG`.
    pub fn docker_dir(&self) -> &Path {
        self.docker.path()
    }

    /// Docker's config.json path.
    pub fn docker_config_path(&self) -> PathBuf {
        self.docker_dir().join("config.json")
    }

    /// Docker's config.json, parsed (`None` when it can't be read).
    pub fn docker_config(&self) -> Option<serde_json::Value> {
        let bytes = std::fs::read(self.docker_config_path()).ok()?;
        Some(serde_json::from_slice(&bytes).unwrap())
    }

    /// The environment the engine and the CLI see: `ACR_TRAY_HOME`, `DOCKER_CONFIG`, `HOME`.
    pub fn env(&self) -> Env {
        Env::from_pairs([
            ("ACR_TRAY_HOME", self.path().display().to_string()),
            ("DOCKER_CONFIG", self.docker_dir().display().to_string()),
            ("HOME", self.path().join("home").display().to_string()),
        ])
    }
}

impl Default for Home {
    fn default() -> Self {
        Self::new()
    }
}
