//! The settings file (`config.toml`): cloud, identities, registries, refresh and Docker options.
//! It never holds a secret: secrets live in the OS keyring, in `AZURE_CLIENT_SECRET` at run time,
//! or in a user-only file the user named; the settings only say which.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cloud::CloudSettings;
use crate::docker::EntryForm;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::login_server::HostPort;

/// Everything the user configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Which cloud and its endpoints.
    #[serde(default)]
    pub cloud: CloudSettings,
    /// Refresh schedule.
    #[serde(default)]
    pub refresh: RefreshSettings,
    /// How Docker's credentials are written.
    #[serde(default)]
    pub docker: DockerSettings,
    /// Signed-in identities.
    #[serde(default, rename = "identity", skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<IdentityConfig>,
    /// Registries kept logged in.
    #[serde(default, rename = "registry", skip_serializing_if = "Vec::is_empty")]
    pub registries: Vec<RegistryConfig>,
}

/// The `[refresh]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshSettings {
    /// Minutes between refreshes of a registry (a token is also refreshed whenever it has less
    /// than 75 minutes left).
    #[serde(default = "default_interval")]
    pub interval_minutes: u32,
}

impl Default for RefreshSettings {
    fn default() -> Self {
        Self {
            interval_minutes: default_interval(),
        }
    }
}

fn default_interval() -> u32 {
    60
}

/// The `[docker]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DockerSettings {
    /// `password` (default) or `identity-token`; see [`EntryForm`].
    #[serde(default)]
    pub entry_form: EntryForm,
}

/// One `[[identity]]`: who signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityConfig {
    /// The name registries use to refer to it (for a service principal, its client id).
    pub id: String,
    /// How it signs in.
    #[serde(flatten)]
    pub kind: IdentityKind,
}

/// How an identity signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum IdentityKind {
    /// An app registration with a client secret (protocol.md §2.5).
    ServicePrincipal {
        /// Tenant id or domain.
        tenant: String,
        /// Application (client) id.
        client_id: String,
        /// Where the client secret is kept.
        secret: SecretSource,
    },
}

impl IdentityKind {
    /// The tenant this identity signs in to.
    pub fn tenant(&self) -> &str {
        match self {
            Self::ServicePrincipal { tenant, .. } => tenant,
        }
    }

    /// A short description for listings.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::ServicePrincipal { .. } => "service principal",
        }
    }
}

/// Where a client secret is kept. Never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretSource {
    /// The OS keyring (Secret Service, Keychain, Credential Manager).
    Keyring,
    /// `AZURE_CLIENT_SECRET` in the environment at run time, as the Azure SDKs read it.
    Env,
    /// A file readable by the user only.
    File(PathBuf),
}

/// One `[[registry]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// Short name (`myreg`), used on the command line.
    pub name: String,
    /// Login server (`myreg.azurecr.io`), the key of Docker's `auths` entry.
    pub login_server: HostPort,
    /// The identity that signs in for it.
    pub identity: String,
    /// The login server is outside the cloud's suffix and the user trusted it explicitly.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trusted_custom_domain: bool,
}

const HEADER: &str = "# ACR Tray settings. Edited by `acr-tray-cli` and the settings window; safe to edit by hand.\n# No secret is ever stored here.\n\n";

impl Settings {
    /// Reads the settings; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(Error::io("read", path, &e)),
        };
        toml::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_owned(),
        })
    }

    /// Writes the settings atomically (user-only permissions for a new file).
    pub fn save(&self, path: &Path) -> Result<()> {
        let body = toml::to_string_pretty(self).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        fsutil::atomic_write(path, format!("{HEADER}{body}").as_bytes())
    }

    /// The identity with this id.
    pub fn identity(&self, id: &str) -> Result<&IdentityConfig> {
        self.identities
            .iter()
            .find(|i| i.id.eq_ignore_ascii_case(id))
            .ok_or_else(|| Error::UnknownIdentity { id: id.to_owned() })
    }

    /// The registry with this name or login server.
    pub fn registry(&self, name: &str) -> Result<&RegistryConfig> {
        let wanted = name.trim().to_ascii_lowercase();
        self.registries
            .iter()
            .find(|r| r.name == wanted || r.login_server.to_string() == wanted)
            .ok_or_else(|| Error::UnknownRegistry {
                name: name.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_toml_without_secrets() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("config.toml");
        let s = Settings {
            identities: vec![IdentityConfig {
                id: "app".into(),
                kind: IdentityKind::ServicePrincipal {
                    tenant: "t".into(),
                    client_id: "c".into(),
                    secret: SecretSource::File("/s".into()),
                },
            }],
            registries: vec![RegistryConfig {
                name: "myreg".into(),
                login_server: HostPort::parse("myreg.azurecr.io").expect("host"),
                identity: "app".into(),
                trusted_custom_domain: false,
            }],
            ..Default::default()
        };
        s.save(&path).expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains("kind = \"service-principal\""), "{text}");
        assert!(
            text.contains("secret = { file = \"/s\" }") || text.contains("[identity.secret]"),
            "{text}"
        );
        assert_eq!(Settings::load(&path).expect("load"), s);
        assert_eq!(
            s.registry("MYREG.azurecr.io").expect("by host").name,
            "myreg"
        );
    }

    #[test]
    fn typos_are_reported_with_the_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[refresh]\ninterval_minuts = 5\n").expect("write");
        let err = Settings::load(&path).expect_err("typo");
        assert!(err.to_string().contains("config.toml"), "{err}");
        assert!(err.to_string().contains("interval_minuts"), "{err}");
        assert_eq!(
            Settings::load(&dir.path().join("none")).expect("missing"),
            Settings::default()
        );
    }
}
