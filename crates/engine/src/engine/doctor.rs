//! The Docker config doctor: for every configured registry, where Docker will look for its
//! credentials and whether what is there is fresh; and the clashes users lose hours to
//! (peers.md): a helper that is not installed, stale plaintext entries a helper hides, a
//! config.json others can read, tokens too large for the Windows Credential Manager. `--fix`
//! repairs what it can, after a timestamped backup. Where `helm` is installed, which file that
//! Helm reads registry logins from, and whether ACR Tray keeps it.

use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::azure::jwt;
use crate::browser::which;
use crate::docker::helper::Helper;
use crate::docker::{self, CredentialStore, DockerConfig, HelmReads, OUR_HELPER};
use crate::engine::Engine;
use crate::error::Result;
use crate::store::token_store::TokenStore;

/// The Windows Credential Manager's limit on a stored secret (danieljoos/wincred#18).
pub const WINCRED_LIMIT: usize = 2560;
/// A token with less than this left gets a warning (an in-flight push may need it that long).
const FRESH_ENOUGH: TimeDelta = TimeDelta::minutes(75);

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Docker will fail (or already fails) for this registry.
    Problem,
    /// Works, but should be changed.
    Warning,
}

/// What the doctor found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// A stable code (`missing-helper`, `hidden-stale-entry`, ...).
    pub code: &'static str,
    /// How bad.
    pub severity: Severity,
    /// The registry concerned, if any.
    pub registry: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What `--fix` does about it (`None`: it needs a person).
    pub fix: Option<String>,
    #[serde(skip)]
    action: Option<Action>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    Chmod,
    RemoveCredsStore,
    RemoveCredHelper(String),
    UseOurHelper(String),
    ClearSecrets(String),
    Refresh(String),
}

/// Where Docker finds one registry's credentials, and how fresh they are.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryDocker {
    /// Short name.
    pub name: String,
    /// Login server.
    pub login_server: String,
    /// `config.json auths`, `docker-credential-<name> (credsStore)`, ...
    pub store: String,
    /// When what Docker has runs out (`None`: unknown, missing, or a password).
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether Docker has credentials for it at all.
    pub present: bool,
}

/// The doctor's report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorReport {
    /// Docker's config.json.
    pub config: PathBuf,
    /// Per registry.
    pub registries: Vec<RegistryDocker>,
    /// What is wrong.
    pub findings: Vec<Finding>,
    /// The `helm` on PATH (`None`: none is installed).
    pub helm: Option<HelmInstall>,
}

/// The `helm` installed here, and which file it reads registry logins from.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmInstall {
    /// The program on PATH.
    pub program: PathBuf,
    /// Its version as it printed it (`v3.18.4`); `None` when it could not be told.
    pub version: Option<String>,
    /// Why its version could not be told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_unknown: Option<String>,
    /// What it reads registry logins from (`None`: its version is unknown).
    pub reads: Option<HelmReads>,
    /// The registry config it reads: the file it names, else the one Helm's rules give (the
    /// one ACR Tray writes for Helm). `None`: unknown, or a Helm without registry logins.
    pub registry_config: Option<PathBuf>,
    /// Whether ACR Tray keeps that file.
    pub sync: HelmSync,
}

/// Whether ACR Tray keeps the file the installed Helm reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HelmSync {
    /// `[clients] helm` is off.
    Off,
    /// It keeps the file this Helm reads.
    On,
    /// It keeps Helm's registry config, but this Helm reads another file (a finding says which).
    OtherFile,
}

impl DoctorReport {
    /// Whether any problem or warning was found.
    pub fn is_healthy(&self) -> bool {
        self.findings.is_empty()
    }
}

fn finding(
    code: &'static str,
    severity: Severity,
    registry: Option<&str>,
    message: String,
    fix: Option<(&str, Action)>,
) -> Finding {
    let (fix, action) = match fix {
        Some((text, action)) => (Some(text.to_owned()), Some(action)),
        None => (None, None),
    };
    Finding {
        code,
        severity,
        registry: registry.map(str::to_owned),
        message,
        fix,
        action,
    }
}

impl Engine {
    /// Examines Docker's config for every configured registry.
    pub fn doctor(&self) -> Result<DoctorReport> {
        let path = self.docker_config_path()?;
        let mut findings = Vec::new();
        let helm = self.helm_install(&mut findings);
        self.extra_config_findings(&mut findings);
        let mut registries = Vec::new();
        let config = match DockerConfig::load(&path) {
            Ok(c) => c,
            Err(e) => {
                findings.push(finding(
                    "malformed-config",
                    Severity::Problem,
                    None,
                    e.to_string(),
                    None,
                ));
                return Ok(DoctorReport {
                    config: path,
                    registries,
                    findings,
                    helm,
                });
            }
        };
        check_mode(&path, &mut findings);
        if let Some(name) = config.creds_store()
            && name != OUR_HELPER
            && Helper::find(name, &self.env).is_err()
        {
            findings.push(finding(
                "missing-helper",
                Severity::Problem,
                None,
                format!("\"credsStore\": \"{name}\" names docker-credential-{name}, which {}: Docker cannot read or store any credential", not_usable(name)),
                Some(("remove \"credsStore\" (Docker then uses config.json)", Action::RemoveCredsStore)),
            ));
        }
        if let Some(auth_env) = self.env.var("DOCKER_AUTH_CONFIG") {
            for r in &self.settings.registries {
                if auth_env.contains(&r.login_server.to_string()) {
                    findings.push(finding(
                        "docker-auth-config",
                        Severity::Warning,
                        Some(&r.login_server.to_string()),
                        "DOCKER_AUTH_CONFIG has an entry for this registry, and Docker reads it before anything ACR Tray writes".to_owned(),
                        None,
                    ));
                }
            }
        }
        let token_file = self.paths.token_file();
        if token_file.exists() {
            findings.push(finding(
                "token-file",
                Severity::Warning,
                None,
                format!(
                    "registry tokens are kept in {} (readable by you only), not in the OS keyring, because the keyring was not available when they were written; any program running as you can read them there",
                    token_file.display()
                ),
                None,
            ));
        }
        let cache = TokenStore::new(self.secrets.as_ref(), token_file);
        for reg in &self.settings.registries {
            let host = reg.login_server.to_string();
            let store = config.store_for(&host, &self.env);
            let (description, token) = match &store {
                CredentialStore::File => {
                    let token = config.entry(&host).and_then(|e| {
                        e.acr_token()
                            .cloned()
                            .or(Some(e.password.clone()).filter(|p| !p.is_empty()))
                    });
                    ("config.json \"auths\"".to_owned(), token)
                }
                CredentialStore::Helper { helper, key } => {
                    let description = format!("docker-credential-{helper} ({key})");
                    let token = match Helper::find(helper, &self.env) {
                        Err(_) => {
                            if *key == "credHelpers" {
                                findings.push(finding(
                                    "missing-helper",
                                    Severity::Problem,
                                    Some(&host),
                                    format!("\"credHelpers\" sends this registry to docker-credential-{helper}, which {}", not_usable(helper)),
                                    Some(("remove the \"credHelpers\" entry (Docker then uses config.json) and refresh", Action::RemoveCredHelper(host.clone()))),
                                ));
                            }
                            None
                        }
                        Ok(h) => match h.get(&host) {
                            Ok(c) => c.map(|c| c.secret()),
                            Err(e) => {
                                findings.push(finding(
                                    "helper-failed",
                                    Severity::Problem,
                                    Some(&host),
                                    e.to_string(),
                                    None,
                                ));
                                None
                            }
                        },
                    };
                    let too_big = token
                        .as_ref()
                        .is_some_and(|t| t.expose().len() > WINCRED_LIMIT);
                    if too_big && (helper == "wincred" || (cfg!(windows) && helper == "desktop")) {
                        let ours =
                            which(&self.env, &format!("docker-credential-{OUR_HELPER}")).is_some();
                        findings.push(finding(
                            "wincred-size",
                            Severity::Problem,
                            Some(&host),
                            format!(
                                "the token is larger than the Windows Credential Manager's {WINCRED_LIMIT} bytes (\"The stub received bad data\"){}",
                                if ours { "" } else { "; install docker-credential-acr-tray on PATH so it can serve this registry" }
                            ),
                            ours.then_some(("let docker-credential-acr-tray serve this registry (\"credHelpers\")", Action::UseOurHelper(host.clone()))),
                        ));
                    }
                    (description, token)
                }
                CredentialStore::AcrTray { key } => {
                    if which(&self.env, &format!("docker-credential-{OUR_HELPER}")).is_none() {
                        findings.push(finding(
                            "missing-helper",
                            Severity::Problem,
                            Some(&host),
                            format!("\"{key}\" sends this registry to docker-credential-acr-tray, which is not on PATH"),
                            Some(("remove the \"credHelpers\" entry (Docker then uses config.json) and refresh", Action::RemoveCredHelper(host.clone()))),
                        ));
                    }
                    let token = cache.get(&host).ok().flatten().map(|c| c.secret);
                    (format!("docker-credential-acr-tray ({key})"), token)
                }
            };
            if !matches!(store, CredentialStore::File) && config.has_secrets(&host) {
                findings.push(finding(
                    "hidden-stale-entry",
                    Severity::Warning,
                    Some(&host),
                    "config.json \"auths\" holds credentials Docker ignores for this registry (a stale secret in plain text)".to_owned(),
                    Some(("remove them from config.json", Action::ClearSecrets(host.clone()))),
                ));
            }
            let expires_at = token
                .as_ref()
                .and_then(|t| jwt::decode_claims(t.expose()))
                .and_then(|c| c.expires_at());
            freshness(&host, token.is_some(), expires_at, None, &mut findings);
            registries.push(RegistryDocker {
                name: reg.name.clone(),
                login_server: host,
                store: description,
                expires_at,
                present: token.is_some(),
            });
        }
        Ok(DoctorReport {
            config: path,
            registries,
            findings,
            helm,
        })
    }

    /// The `helm` on PATH, its version and the registry config it reads; a finding when ACR
    /// Tray keeps Helm's registry config but that Helm reads another file.
    fn helm_install(&self, findings: &mut Vec<Finding>) -> Option<HelmInstall> {
        let installed = docker::installed_helm(&self.env)?;
        let (version, reads) = match installed.version {
            Ok((printed, v)) => (printed, v.reads()),
            Err(why) => {
                return Some(HelmInstall {
                    program: installed.program,
                    version: None,
                    version_unknown: Some(why),
                    reads: None,
                    registry_config: None,
                    sync: HelmSync::Off,
                });
            }
        };
        let ours = docker::helm_registry_config(&self.env);
        let registry_config = match reads {
            HelmReads::NoRegistryLogins => None,
            _ => installed.registry_config.or_else(|| ours.clone()),
        };
        let sync = match (&registry_config, &ours) {
            _ if !self.settings.clients.helm => HelmSync::Off,
            (Some(theirs), Some(ours)) if !docker::same_file(theirs, ours) => {
                findings.push(finding(
                    "helm-reads-other-file",
                    if reads == HelmReads::OwnConfigOnly {
                        Severity::Problem
                    } else {
                        Severity::Warning
                    },
                    None,
                    format!(
                        "{} (Helm {version}) reads registry logins from {}, but ACR Tray keeps Helm's registry config at {}: set HELM_REGISTRY_CONFIG, where both Helm and ACR Tray see it, to the file Helm should read",
                        installed.program.display(),
                        theirs.display(),
                        ours.display()
                    ),
                    None,
                ));
                HelmSync::OtherFile
            }
            (Some(_), Some(_)) => HelmSync::On,
            _ => HelmSync::Off,
        };
        Some(HelmInstall {
            program: installed.program,
            version: Some(version),
            version_unknown: None,
            reads: Some(reads),
            registry_config,
            sync,
        })
    }

    /// Repairs what the doctor found, after a timestamped backup of config.json. Returns the
    /// backup (if config.json was changed) and the report afterwards.
    pub async fn doctor_fix(&self) -> Result<(Option<PathBuf>, Vec<String>, DoctorReport)> {
        let report = self.doctor()?;
        let actions: Vec<(Action, String)> = report
            .findings
            .iter()
            .filter_map(|f| Some((f.action.clone()?, f.fix.clone().unwrap_or_default())))
            .collect();
        let path = report.config.clone();
        let mut applied = Vec::new();
        let config_changes: Vec<&Action> = actions
            .iter()
            .map(|(a, _)| a)
            .filter(|a| !matches!(a, Action::Refresh(_) | Action::Chmod))
            .collect();
        let backup =
            if config_changes.is_empty() && !actions.iter().any(|(a, _)| *a == Action::Chmod) {
                None
            } else {
                docker::backup(&path)?
            };
        let mut refresh: Vec<String> = Vec::new();
        if !config_changes.is_empty() {
            docker::update(&path, |cfg| {
                let mut changed = false;
                for action in &config_changes {
                    changed |= match action {
                        Action::RemoveCredsStore => cfg.set_creds_store(None),
                        Action::RemoveCredHelper(r) => cfg.set_cred_helper(r, None),
                        Action::UseOurHelper(r) => cfg.set_cred_helper(r, Some(OUR_HELPER)),
                        Action::ClearSecrets(r) => cfg.clear_secrets(r),
                        Action::Refresh(_) | Action::Chmod => false,
                    };
                }
                changed
            })?;
        }
        for (action, text) in &actions {
            match action {
                Action::Chmod => set_private(&path)?,
                Action::Refresh(r) | Action::RemoveCredHelper(r) | Action::UseOurHelper(r) => {
                    refresh.push(r.clone())
                }
                Action::RemoveCredsStore => refresh.extend(
                    self.settings
                        .registries
                        .iter()
                        .map(|r| r.login_server.to_string()),
                ),
                Action::ClearSecrets(_) => {}
            }
            applied.push(text.clone());
        }
        refresh.sort();
        refresh.dedup();
        if !refresh.is_empty() {
            for outcome in self.refresh_on_demand(&refresh).await? {
                if let Err(e) = outcome.result {
                    tracing::warn!(registry = %outcome.login_server, error = %e, "refresh after the fix failed");
                }
            }
        }
        Ok((backup, applied, self.doctor()?))
    }
}

/// Findings about what a registry's credentials in a Docker config are: missing, expired or
/// expiring. `extra` is another file kept in sync (`None`: the main config).
fn freshness(
    host: &str,
    present: bool,
    expires_at: Option<DateTime<Utc>>,
    extra: Option<&OtherConfig>,
    findings: &mut Vec<Finding>,
) {
    let refresh = || Some(("refresh it", Action::Refresh(host.to_owned())));
    let (holder, code) = match extra {
        None => ("Docker".to_owned(), ["missing", "expired", "expiring"]),
        Some(other) => (
            other.holder(),
            [other.codes[1], other.codes[2], other.codes[3]],
        ),
    };
    if !present {
        findings.push(finding(
            code[0],
            Severity::Problem,
            Some(host),
            format!("{holder} has no credentials for this registry"),
            refresh(),
        ));
        return;
    }
    if let Some(exp) = expires_at {
        let left = exp - Utc::now();
        if left <= TimeDelta::zero() {
            findings.push(finding(
                code[1],
                Severity::Problem,
                Some(host),
                format!("{holder}'s token expired at {exp}"),
                refresh(),
            ));
        } else if left < FRESH_ENOUGH {
            findings.push(finding(
                code[2],
                Severity::Warning,
                Some(host),
                format!(
                    "{holder}'s token has only {} minutes left",
                    left.num_minutes()
                ),
                refresh(),
            ));
        }
    }
}

/// A file besides Docker's main config that refreshes keep in sync: an `[docker]
/// extra_configs` entry or Helm's registry config.
struct OtherConfig {
    /// What it is called in findings, before its path.
    what: &'static str,
    /// Its file (or why it has none).
    file: Result<PathBuf>,
    /// Finding codes: unusable, missing, expired, expiring, missing helper.
    codes: [&'static str; 5],
}

impl OtherConfig {
    fn holder(&self) -> String {
        match &self.file {
            Ok(path) => format!("{} {}", self.what, path.display()),
            Err(_) => self.what.to_owned(),
        }
    }
}

impl Engine {
    /// The files besides Docker's main config that refreshes keep in sync.
    fn other_configs(&self) -> Vec<OtherConfig> {
        let mut others: Vec<OtherConfig> = self
            .settings
            .docker
            .extra_configs
            .iter()
            .map(|configured| OtherConfig {
                what: "the extra Docker config",
                file: docker::extra_config_file(configured, &self.env),
                codes: [
                    "extra-config-unusable",
                    "extra-config-missing",
                    "extra-config-expired",
                    "extra-config-expiring",
                    "extra-config-missing-helper",
                ],
            })
            .collect();
        if self.settings.clients.helm {
            others.push(OtherConfig {
                what: "Helm's registry config",
                file: docker::helm_registry_config(&self.env).ok_or_else(|| {
                    crate::error::Error::invalid_input(
                        "cannot find Helm's registry config: no home directory",
                        "set HELM_REGISTRY_CONFIG to the file Helm reads registry credentials from",
                    )
                }),
                codes: [
                    "helm-config-unusable",
                    "helm-missing",
                    "helm-expired",
                    "helm-expiring",
                    "helm-missing-helper",
                ],
            });
        }
        others
    }

    /// What the doctor finds in each file besides Docker's main config that refreshes keep in
    /// sync (`[docker] extra_configs`, Helm's registry config): one it cannot read (a bad path,
    /// malformed JSON), a credential helper it names that cannot run, and, for entries kept in
    /// its `auths`, what is missing or stale.
    fn extra_config_findings(&self, findings: &mut Vec<Finding>) {
        for other in self.other_configs() {
            let config = match other
                .file
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|p| DockerConfig::load(p))
            {
                Ok(config) => config,
                Err(e) => {
                    findings.push(finding(
                        other.codes[0],
                        Severity::Problem,
                        None,
                        e.to_string(),
                        None,
                    ));
                    continue;
                }
            };
            for reg in &self.settings.registries {
                let host = reg.login_server.to_string();
                match config.store_for(&host, &self.env) {
                    CredentialStore::File => {
                        let token = config.entry(&host).and_then(|e| {
                            e.acr_token()
                                .cloned()
                                .or(Some(e.password.clone()).filter(|p| !p.is_empty()))
                        });
                        let expires_at = token
                            .as_ref()
                            .and_then(|t| jwt::decode_claims(t.expose()))
                            .and_then(|c| c.expires_at());
                        freshness(&host, token.is_some(), expires_at, Some(&other), findings);
                    }
                    CredentialStore::Helper { helper, key } => {
                        if Helper::find(&helper, &self.env).is_err() {
                            findings.push(finding(
                                other.codes[4],
                                Severity::Problem,
                                Some(&host),
                                format!(
                                    "{} sends this registry to docker-credential-{helper} ({key}), which {}",
                                    other.holder(),
                                    not_usable(&helper)
                                ),
                                None,
                            ));
                        }
                    }
                    CredentialStore::AcrTray { .. } => {}
                }
            }
        }
    }
}

#[cfg(unix)]
fn check_mode(path: &std::path::Path, findings: &mut Vec<Finding>) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            findings.push(finding(
                "config-mode",
                Severity::Warning,
                None,
                format!(
                    "{} can be read by other users (mode {mode:o}); it may hold credentials",
                    path.display()
                ),
                Some(("chmod 600", Action::Chmod)),
            ));
        }
    }
}

#[cfg(not(unix))]
fn check_mode(_path: &std::path::Path, _findings: &mut Vec<Finding>) {}

#[cfg(unix)]
fn set_private(path: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let target = crate::fsutil::resolve_symlinks(path)?;
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| crate::error::Error::io("set permissions on", &target, &e))
}

#[cfg(not(unix))]
fn set_private(_path: &std::path::Path) -> Result<()> {
    Ok(())
}

/// Why a helper named in config.json cannot be used: a name that is not a helper name is never
/// run ([`crate::docker::helper::is_valid_name`]); else it is not installed.
fn not_usable(name: &str) -> &'static str {
    if crate::docker::helper::is_valid_name(name) {
        "is not installed"
    } else {
        "is not a valid helper name (letters, digits, `.`, `_` and `-` only) and is never run"
    }
}
