//! Where a refreshed credential goes: Docker's config (its `auths` or a credential helper),
//! ACR Tray's own cache, podman's auth.json, Helm's registry config, and the extra Docker configs (`[docker] extra_configs`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::client_files::ClientFileOutcome;
use crate::docker::{
    self, CredentialStore, DockerConfig, DockerCredential, EntryForm, helm_registry_config, helper,
};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::events::Client;
use crate::store::token_store::{CachedCredential, TokenStore};

/// By login server, whether each credential is where Docker reads it; and what writing each
/// other client's file did (`None`: no file was tried).
pub(super) type Stored = (BTreeMap<String, Result<()>>, Option<Vec<ClientFileOutcome>>);

impl Engine {
    /// Refuses early (before any token is fetched) a registry whose Docker store cannot work:
    /// a credential helper that is not installed.
    pub(super) fn check_store(&self, cfg: &DockerConfig, registry: &str) -> Result<()> {
        match cfg.store_for(registry, &self.env) {
            CredentialStore::Helper { helper, .. } => {
                helper::Helper::find(&helper, &self.env).map(|_| ())
            }
            _ => Ok(()),
        }
    }

    /// Puts every new credential where Docker reads it (and into ACR Tray's own cache, which
    /// `docker-credential-acr-tray` and `acr-tray-cli token` answer from; and into podman's
    /// auth.json when that is switched on). Blocking work runs off the async threads.
    /// With `read_only` (Docker's config as read) only the cache is written.
    /// Says, by login server, whether each credential is where Docker reads it, and what
    /// writing each other client's file did (each on its own: one failing leaves the others).
    pub(super) async fn store_credentials(
        &self,
        docker_path: &std::path::Path,
        read_only: Option<&DockerConfig>,
        fresh: &[Fresh<'_>],
    ) -> Stored {
        let to_write: Vec<(String, DockerCredential)> = fresh
            .iter()
            .map(|f| (f.login_server.clone(), f.credential.clone()))
            .collect();
        let (written, client_files) = if let Some(cfg) = read_only {
            let stores = to_write
                .iter()
                .map(|(registry, _)| (registry.clone(), Ok(cfg.store_for(registry, &self.env))))
                .collect();
            (Ok(stores), None)
        } else if to_write.is_empty() {
            (Ok(BTreeMap::new()), None)
        } else {
            let (path, creds, env) = (
                docker_path.to_path_buf(),
                to_write.clone(),
                self.env.clone(),
            );
            let podman = self
                .settings
                .docker
                .podman
                .then(|| podman_auth_file(&self.env))
                .flatten();
            let extras = self.settings.docker.extra_configs.clone();
            let helm = self
                .settings
                .clients
                .helm
                .then(|| helm_registry_config(&self.env))
                .flatten();
            let dispatch = tracing::dispatcher::get_default(Clone::clone);
            tokio::task::spawn_blocking(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    let written = docker::write_credentials(&path, &creds, &env)
                        .map(|stores| by_registry(&creds, stores));
                    let mut files: Vec<ClientFileOutcome> = extras
                        .iter()
                        .map(|extra| write_extra_config(extra, &creds, &env))
                        .collect();
                    let plain: Vec<(String, DockerCredential)> = creds
                        .into_iter()
                        .map(|(r, c)| {
                            (
                                r,
                                DockerCredential {
                                    form: EntryForm::Password,
                                    ..c
                                },
                            )
                        })
                        .collect();
                    for (client, file) in [(Client::Podman, podman), (Client::Helm, helm)] {
                        if let Some(file) = file {
                            let result = docker::write_credentials(&file, &plain, &env)
                                .and_then(first_failure);
                            files.push(ClientFileOutcome {
                                file: file.display().to_string(),
                                client,
                                result,
                            });
                        }
                    }
                    (written, Some(files))
                })
            })
            .await
            .unwrap_or_else(|e| {
                let failed = Error::invalid_input(format!("writer task failed: {e}"), "");
                (Err(failed), None)
            })
        };
        let cache = TokenStore::new(self.secrets.as_ref(), self.paths.token_file());
        let by_login_server = fresh
            .iter()
            .map(|f| {
                let store = match &written {
                    Err(e) => Err(e.clone()),
                    Ok(stores) => stores.get(&f.login_server).cloned().transpose(),
                };
                let r = store.and_then(|store| {
                    let cached = CachedCredential {
                        username: f.credential.username.clone(),
                        secret: f.credential.secret.clone(),
                        expires_at: f.expires_at,
                    };
                    match (cache.put(&f.login_server, &cached), store) {
                        (Err(e), Some(CredentialStore::AcrTray { .. })) => Err(e),
                        (Err(e), _) => {
                            tracing::warn!(registry = %f.login_server, error = %e, "could not cache the credential");
                            Ok(())
                        }
                        (Ok(()), _) => Ok(()),
                    }
                });
                (f.login_server.clone(), r)
            })
            .collect();
        (by_login_server, client_files)
    }
}

/// A new credential for one registry, for the sinks.
pub(super) struct Fresh<'a> {
    /// The registry's login server.
    pub(super) login_server: String,
    /// The credential.
    pub(super) credential: &'a DockerCredential,
    /// When it runs out.
    pub(super) expires_at: Option<DateTime<Utc>>,
}

/// Writes the credentials into one `[docker] extra_configs` entry, by the same rules (and the
/// same writer) as Docker's main config, each into the store that file chooses. A failure
/// (a bad path, a malformed file, a missing helper) is this file's alone: the other configs
/// are written as usual.
fn write_extra_config(
    configured: &std::path::Path,
    creds: &[(String, DockerCredential)],
    env: &crate::env::Env,
) -> ClientFileOutcome {
    let (file, result) = match docker::extra_config_file(configured, env) {
        Ok(file) => {
            let result = docker::write_credentials(&file, creds, env).and_then(first_failure);
            (file, result)
        }
        Err(e) => (configured.to_path_buf(), Err(e)),
    };
    ClientFileOutcome {
        file: file.display().to_string(),
        client: Client::DockerExtra,
        result,
    }
}

/// The first credential a file's writer could not store (through a credential helper the
/// file names), if any.
fn first_failure(stores: Vec<Result<CredentialStore>>) -> Result<()> {
    stores.into_iter().find_map(Result::err).map_or(Ok(()), Err)
}

/// Docker's writer's answers (one per credential, in the order given), by login server.
fn by_registry(
    creds: &[(String, DockerCredential)],
    stores: Vec<Result<CredentialStore>>,
) -> BTreeMap<String, Result<CredentialStore>> {
    creds
        .iter()
        .map(|(registry, _)| registry.clone())
        .zip(stores)
        .collect()
}

/// podman's auth.json: `REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json` on
/// Linux, else `~/.config/containers/auth.json` (containers-auth.json(5)).
pub fn podman_auth_file(env: &crate::env::Env) -> Option<std::path::PathBuf> {
    if let Some(f) = env.var("REGISTRY_AUTH_FILE") {
        return Some(f.into());
    }
    if cfg!(target_os = "linux")
        && let Some(run) = env.var("XDG_RUNTIME_DIR")
    {
        return Some(
            std::path::Path::new(run)
                .join("containers")
                .join("auth.json"),
        );
    }
    env.home()
        .map(|h| h.join(".config").join("containers").join("auth.json"))
}
