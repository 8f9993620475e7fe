//! The settings file (`config.toml`): cloud, identities, registries, refresh and Docker options.
//! It never holds a secret: secrets live in the OS keyring, in `AZURE_CLIENT_SECRET` at run time,
//! or in a user-only file the user named; the settings only say which.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::azure::cloud::{CloudBinding, CloudSettings};
use crate::azure::login_server::HostPort;
use crate::azure::resource_id::RegistryId;
pub use crate::azure::scope_map::{TokenPassword, valid_token_name};
use crate::docker::EntryForm;
use crate::error::{Error, Result};
use crate::fsutil;

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
    /// Other registry clients kept logged in.
    #[serde(default, skip_serializing_if = "is_default")]
    pub clients: ClientsSettings,
    /// The tray app's own settings.
    #[serde(default, skip_serializing_if = "is_default")]
    pub app: AppSettings,
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
    /// A token is refreshed no later than this many minutes before it runs out.
    #[serde(default = "default_min_remaining")]
    pub min_remaining_minutes: u32,
}

impl Default for RefreshSettings {
    fn default() -> Self {
        Self {
            interval_minutes: default_interval(),
            min_remaining_minutes: default_min_remaining(),
        }
    }
}

fn default_interval() -> u32 {
    60
}

fn default_min_remaining() -> u32 {
    75
}

/// The `[app]` table: the tray app's own settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AppSettings {
    /// Start the tray app when the user logs in.
    #[serde(default)]
    pub start_at_login: bool,
    /// How much the tray app logs.
    #[serde(default)]
    pub log_level: LogLevel,
}

/// Log verbosity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warn,
    /// What happens (the default).
    #[default]
    Info,
    /// Request by request.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// The `tracing` filter directive.
    pub fn directive(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Debug => "debug",
            Self::Trace => "trace",
        }
    }
}

/// The `[docker]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DockerSettings {
    /// `password` (default) or `identity-token`; see [`EntryForm`].
    #[serde(default)]
    pub entry_form: EntryForm,
    /// Also keep podman's (containers') auth.json in sync.
    #[serde(default)]
    pub podman: bool,
    /// Further Docker configs kept in sync like the main one: each a folder holding config.json
    /// (as `DOCKER_CONFIG` names one) or, ending in `.json`, the file itself; `~/` is the home
    /// folder. See [`crate::docker::extra_config_file`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_configs: Vec<PathBuf>,
}

/// The `[clients]` table: registry clients with their own credentials file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ClientsSettings {
    /// Also keep Helm's registry config (`$HELM_REGISTRY_CONFIG`) in sync.
    #[serde(default)]
    pub helm: bool,
}

/// One `[[identity]]`: who signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityConfig {
    /// The name registries use to refer to it (for a service principal, its client id).
    pub id: String,
    /// How it signs in.
    #[serde(flatten)]
    pub kind: IdentityKind,
    /// The cloud it signed in to. Its secrets and tokens are used only while that cloud is the
    /// configured one; `None` (settings written before this was recorded) is filled in with the
    /// configured cloud once, when the settings are first opened (see `Engine::open`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<CloudBinding>,
}

/// How an identity signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum IdentityKind {
    /// An app registration with a client secret (docs/protocol.md#entra-client-secret) or a
    /// certificate (docs/protocol.md#entra-client-assertion).
    ServicePrincipal {
        /// Tenant id or domain.
        tenant: String,
        /// Application (client) id.
        client_id: String,
        /// Where the client secret is kept (secret credentials).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<SecretSource>,
        /// PEM file with the certificate and its private key (certificate credentials).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate: Option<PathBuf>,
    },
    /// A person's own Entra session (browser or device code), renewed with its refresh token.
    User {
        /// The tenant GUID the session belongs to.
        tenant: String,
        /// The public client the session was started with (the Azure CLI's by default).
        client_id: String,
        /// The user's sign-in name.
        username: String,
        /// The user's object id.
        #[serde(default)]
        object_id: String,
        /// Where the refresh token is kept (the OS keyring, or a user-only file).
        refresh_token: SecretSource,
    },
    /// The Azure VM's (or other Azure host's) managed identity, through IMDS
    /// (docs/protocol.md#imds).
    ManagedIdentity {
        /// A user-assigned identity's client id; `None` for the system-assigned one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
    /// Tokens from `az account get-access-token`, for people already signed in to the Azure CLI.
    AzureCli {
        /// The tenant to ask `az` for; `None` for az's current one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tenant: Option<String>,
    },
    /// Workload identity federation: a federated token file (Kubernetes, GitHub Actions) used as
    /// a client assertion. Unset fields are read from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
    /// `AZURE_FEDERATED_TOKEN_FILE` at run time.
    WorkloadIdentity {
        /// Tenant id or domain.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tenant: Option<String>,
        /// Application (client) id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        /// The federated token file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_file: Option<PathBuf>,
    },
}

impl IdentityKind {
    /// The tenant this identity signs in to, when known before a token is issued.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Self::ServicePrincipal { tenant, .. } | Self::User { tenant, .. } => Some(tenant),
            Self::AzureCli { tenant } | Self::WorkloadIdentity { tenant, .. } => tenant.as_deref(),
            Self::ManagedIdentity { .. } => None,
        }
    }

    /// A short description for listings.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::ServicePrincipal {
                certificate: Some(_),
                ..
            } => "service principal (certificate)",
            Self::ServicePrincipal { .. } => "service principal",
            Self::User { .. } => "user",
            Self::ManagedIdentity { client_id: None } => "managed identity (system-assigned)",
            Self::ManagedIdentity { .. } => "managed identity (user-assigned)",
            Self::AzureCli { .. } => "Azure CLI",
            Self::WorkloadIdentity { .. } => "workload identity",
        }
    }

    /// Whether a person must act to sign this identity in again (a browser or device code);
    /// the others sign in on their own.
    pub fn is_interactive(&self) -> bool {
        matches!(self, Self::User { .. })
    }
}

/// Where a secret is kept. Never the secret itself.
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

/// How a registry signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RegistryAuth {
    /// An Entra identity's token exchanged for an ACR refresh token (the default).
    #[default]
    Identity,
    /// The admin account, its password read through ARM `listCredentials` with the identity.
    AdminArm,
    /// The admin account with a password the user typed (kept in the OS keyring).
    AdminPassword,
    /// An ACR token (a scope map's repository permissions, `az acr token`): its name as the
    /// user name, a password the user gave (kept in the OS keyring). The identity, if any,
    /// only reads the token in ARM to watch its passwords' expiry and its status.
    AcrToken,
}

impl RegistryAuth {
    /// Docker's credential comes from an Entra identity's token (an exchange, or the admin
    /// password read through ARM): the registry waits while that identity must sign in again.
    pub fn needs_identity(self) -> bool {
        matches!(self, Self::Identity | Self::AdminArm)
    }

    /// The registry's admin account is watched with its identity (see the admin watch).
    pub fn watches_admin(self) -> bool {
        self.needs_identity()
    }
}

/// One `[[registry]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// Short name (`myreg`), used on the command line.
    pub name: String,
    /// Login server (`myreg.azurecr.io`), the key of Docker's `auths` entry.
    pub login_server: HostPort,
    /// The identity that signs in for it (for `admin-arm`, the one that reads the password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// How it signs in.
    #[serde(default, skip_serializing_if = "is_default")]
    pub auth: RegistryAuth,
    /// The admin user name (`admin-password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_username: Option<String>,
    /// The ACR token's name (`acr-token`): Docker's user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr_token: Option<String>,
    /// Which of the token's passwords ACR Tray holds (`acr-token`; `None`: not known, every
    /// password with an expiry is watched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr_token_password: Option<TokenPassword>,
    /// The registry's ARM resource id, when known. Only a well-formed registry id loads (it is
    /// put into ARM URLs that carry the ARM token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arm_id: Option<RegistryId>,
    /// The login server is outside the cloud's suffix and the user trusted it explicitly.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trusted_custom_domain: bool,
    /// The registry's tenant (a GUID) when it is not its identity's own: a tenant where the
    /// person is a guest, found by discovery or by trying the account's tenants once. Absent:
    /// the identity's own tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

impl RegistryConfig {
    /// Who signs in, for listings: the identity, or the admin account.
    pub fn signs_in_as(&self) -> String {
        match (self.auth, &self.identity, &self.admin_username) {
            (RegistryAuth::AdminPassword, _, Some(user)) => format!("admin account {user}"),
            (RegistryAuth::AdminArm, Some(id), _) => format!("admin account (read by {id})"),
            (RegistryAuth::AcrToken, _, _) => {
                format!("ACR token {}", self.acr_token.as_deref().unwrap_or("-"))
            }
            (_, Some(id), _) => id.clone(),
            _ => "-".to_owned(),
        }
    }
}

pub(super) const HEADER: &str = "# ACR Tray settings. Edited by `acr-tray-cli` and the settings window; safe to edit by hand.\n# No secret is ever stored here.\n\n";

impl Settings {
    /// Reads the settings; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(Error::io("read", path, &e)),
        };
        Self::parse(path, &text)
    }

    /// Settings from config.toml's text (`path` names it in errors), validated.
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let settings: Self = toml::from_str(text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        settings.validate().map_err(|message| Error::Config {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(settings)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        let refresh = &self.refresh;
        if !(5..=1440).contains(&refresh.interval_minutes) {
            return Err(format!(
                "[refresh] interval_minutes = {} is outside 5..=1440; the default is 60",
                refresh.interval_minutes
            ));
        }
        if !(10..=1440).contains(&refresh.min_remaining_minutes) {
            return Err(format!(
                "[refresh] min_remaining_minutes = {} is outside 10..=1440; the default is 75",
                refresh.min_remaining_minutes
            ));
        }
        let extra = self.docker.extra_configs.len();
        if extra > crate::limits::MAX_EXTRA_CONFIGS {
            return Err(format!(
                "[docker] extra_configs lists {extra} files; at most {} are kept in sync",
                crate::limits::MAX_EXTRA_CONFIGS
            ));
        }
        for i in &self.identities {
            match &i.kind {
                IdentityKind::ServicePrincipal {
                    secret,
                    certificate,
                    ..
                } if secret.is_some() == certificate.is_some() => {
                    return Err(format!(
                        "identity {} needs exactly one of `secret` and `certificate`",
                        i.id
                    ));
                }
                IdentityKind::User {
                    refresh_token: SecretSource::Env,
                    ..
                } => {
                    return Err(format!(
                        "identity {}: a refresh token is kept in the keyring or a file, not the environment",
                        i.id
                    ));
                }
                _ => {}
            }
        }
        for r in &self.registries {
            let needs = match r.auth {
                RegistryAuth::Identity | RegistryAuth::AdminArm => {
                    r.identity.is_none().then_some("`identity`")
                }
                RegistryAuth::AdminPassword => {
                    r.admin_username.is_none().then_some("`admin_username`")
                }
                RegistryAuth::AcrToken => (!r.acr_token.as_deref().is_some_and(valid_token_name))
                    .then_some(
                        "`acr_token`, the ACR token's name (5 to 50 letters, digits and hyphens)",
                    ),
            };
            if let Some(t) = &r.tenant
                && !crate::azure::resource_id::is_tenant_id(t)
            {
                return Err(format!(
                    "registry {}: tenant = {t:?} is not a tenant id (a GUID)",
                    r.name
                ));
            }
            if let Some(needs) = needs {
                return Err(format!("registry {} needs {needs}", r.name));
            }
            if r.auth != RegistryAuth::AcrToken
                && (r.acr_token.is_some() || r.acr_token_password.is_some())
            {
                return Err(format!(
                    "registry {}: `acr_token` and `acr_token_password` go with auth = \"acr-token\"",
                    r.name
                ));
            }
        }
        Ok(())
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
                    secret: Some(SecretSource::File("/s".into())),
                    certificate: None,
                },
                cloud: Some(CloudBinding {
                    name: crate::azure::cloud::CloudName::Custom,
                    authority: "https://login.localhost:8443".into(),
                    arm: "https://management.localhost:8443/".into(),
                }),
            }],
            registries: vec![RegistryConfig {
                name: "myreg".into(),
                login_server: HostPort::parse("myreg.azurecr.io").expect("host"),
                identity: Some("app".into()),
                auth: RegistryAuth::Identity,
                admin_username: None,
                acr_token: None,
                acr_token_password: None,
                arm_id: None,
                trusted_custom_domain: false,
                tenant: None,
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
    fn inconsistent_entries_are_reported() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[[identity]]\nid = \"a\"\nkind = \"service-principal\"\ntenant = \"t\"\nclient_id = \"c\"\n",
        )
        .expect("write");
        let err = Settings::load(&path).expect_err("no credential");
        assert!(err.to_string().contains("exactly one of"), "{err}");
        std::fs::write(
            &path,
            "[[registry]]\nname = \"r\"\nlogin_server = \"r.azurecr.io\"\nauth = \"admin-password\"\n",
        )
        .expect("write");
        let err = Settings::load(&path).expect_err("no admin user");
        assert!(err.to_string().contains("admin_username"), "{err}");
    }

    /// A registry's tenant goes into token URLs and file names: only a GUID loads. A file
    /// without it (every older one) loads as before, and a found tenant is kept on save.
    #[test]
    fn a_registry_tenant_must_be_a_guid() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("config.toml");
        let with = |tenant: &str| {
            format!(
                "[[registry]]\nname = \"r\"\nlogin_server = \"r.azurecr.io\"\nidentity = \"a\"\n{tenant}"
            )
        };
        for hostile in [
            "../../etc",
            "organizations",
            "7c1e2d3f-0000-4000-8000-00000000000/",
        ] {
            std::fs::write(&path, with(&format!("tenant = \"{hostile}\"\n"))).expect("write");
            let err = Settings::load(&path).expect_err(hostile);
            assert!(err.to_string().contains("is not a tenant id"), "{err}");
        }
        std::fs::write(&path, with("")).expect("write");
        let old = Settings::load(&path).expect("an older file");
        assert_eq!(old.registries[0].tenant, None);
        let guid = "7c1e2d3f-0000-4000-8000-000000000002";
        std::fs::write(&path, with(&format!("tenant = \"{guid}\"\n"))).expect("write");
        let found = Settings::load(&path).expect("a GUID");
        assert_eq!(found.registries[0].tenant.as_deref(), Some(guid));
        found.save(&path).expect("save");
        assert_eq!(Settings::load(&path).expect("again"), found);
    }

    #[test]
    fn an_acr_token_entry_needs_a_well_formed_token_name() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("config.toml");
        let entry = |extra: &str| {
            format!(
                "[[registry]]\nname = \"r\"\nlogin_server = \"r.azurecr.io\"\nauth = \"acr-token\"\n{extra}"
            )
        };
        std::fs::write(
            &path,
            entry("acr_token = \"pull-token\"\nacr_token_password = \"password2\"\n"),
        )
        .expect("write");
        let loaded = Settings::load(&path).expect("a token entry loads");
        assert_eq!(
            loaded.registries[0].acr_token.as_deref(),
            Some("pull-token")
        );
        assert_eq!(
            loaded.registries[0].acr_token_password,
            Some(TokenPassword::Password2)
        );
        assert_eq!(loaded.registries[0].signs_in_as(), "ACR token pull-token");
        for bad in [
            "",
            "acr_token = \"a:b/../c\"\n",
            "acr_token = \"abc\"\n",
            "acr_token = \"pull-token\"\nacr_token_password = \"password3\"\n",
        ] {
            std::fs::write(&path, entry(bad)).expect("write");
            let err = Settings::load(&path).expect_err(bad).to_string();
            assert!(err.contains("acr_token"), "{bad}: {err}");
        }
        // A token name on another kind of registry is a mistake, said as such.
        std::fs::write(
            &path,
            "[[registry]]\nname = \"r\"\nlogin_server = \"r.azurecr.io\"\nidentity = \"a\"\nacr_token = \"pull-token\"\n",
        )
        .expect("write");
        let err = Settings::load(&path).expect_err("stray token").to_string();
        assert!(err.contains("auth = \"acr-token\""), "{err}");
    }

    #[test]
    fn a_malformed_resource_id_names_the_field_and_a_valid_one() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("config.toml");
        let good = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/myreg";
        let entry = |id: &str| {
            format!(
                "[[registry]]\nname = \"myreg\"\nlogin_server = \"myreg.azurecr.io\"\nidentity = \"app\"\narm_id = \"{id}\"\n"
            )
        };
        std::fs::write(&path, entry(good)).expect("write");
        let loaded = Settings::load(&path).expect("a valid id loads");
        assert_eq!(
            loaded.registries[0].arm_id.as_ref().map(RegistryId::as_str),
            Some(good)
        );
        for bad in [
            format!("https://elsewhere.example{good}"),
            format!("{good}/../../other"),
            "/subscriptions/x".to_owned(),
        ] {
            std::fs::write(&path, entry(&bad)).expect("write");
            let err = Settings::load(&path).expect_err("malformed id").to_string();
            for expected in [
                "config.toml",
                "arm_id",
                "is not a registry's ARM resource id",
                crate::azure::resource_id::EXAMPLE,
            ] {
                assert!(err.contains(expected), "{expected}: {err}");
            }
        }
    }

    #[test]
    fn the_extra_configs_list_is_bounded() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("config.toml");
        let list = |n: usize| {
            let entries: Vec<String> = (0..n).map(|i| format!("\"/ci/{i}\"")).collect();
            format!("[docker]\nextra_configs = [{}]\n", entries.join(", "))
        };
        let max = crate::limits::MAX_EXTRA_CONFIGS;
        std::fs::write(&path, list(max)).expect("write");
        let loaded = Settings::load(&path).expect("the limit loads");
        assert_eq!(loaded.docker.extra_configs.len(), max);
        std::fs::write(&path, list(max + 1)).expect("write");
        let err = Settings::load(&path).expect_err("too many").to_string();
        assert!(err.contains("config.toml"), "{err}");
        assert!(err.contains(&format!("at most {max}")), "{err}");
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
