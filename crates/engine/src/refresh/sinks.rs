//! Where a refreshed credential goes: Docker's config (its `auths` or a credential helper),
//! ACR Tray's own cache, podman's auth.json, Helm's registry config, and the extra Docker configs (`[docker] extra_configs`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::docker::{
    self, CredentialStore, DockerConfig, DockerCredential, EntryForm, helm_registry_config, helper,
};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::store::token_store::{CachedCredential, TokenStore};

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
    /// Says, by login server, whether each credential is where Docker reads it.
    pub(super) async fn store_credentials(
        &self,
        docker_path: &std::path::Path,
        read_only: Option<&DockerConfig>,
        fresh: &[Fresh<'_>],
    ) -> BTreeMap<String, Result<()>> {
        let to_write: Vec<(String, DockerCredential)> = fresh
            .iter()
            .map(|f| (f.login_server.clone(), f.credential.clone()))
            .collect();
        let written = if let Some(cfg) = read_only {
            Ok(to_write
                .iter()
                .map(|(registry, _)| (registry.clone(), Ok(cfg.store_for(registry, &self.env))))
                .collect())
        } else if to_write.is_empty() {
            Ok(BTreeMap::new())
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
                    for extra in &extras {
                        write_extra_config(extra, &creds, &env);
                    }
                    let plain: Vec<(String, DockerCredential)> = creds
                        .into_iter()
                        .map(|(r, c)| (r, DockerCredential { form: EntryForm::Password, ..c }))
                        .collect();
                    if let Some(podman) = podman
                        && let Err(e) = docker::write_credentials(&podman, &plain, &env)
                    {
                        tracing::warn!(path = %podman.display(), error = %e, "could not update podman's auth.json");
                    }
                    if let Some(helm) = helm
                        && let Err(e) = docker::write_credentials(&helm, &plain, &env)
                    {
                        tracing::warn!(path = %helm.display(), error = %e, "could not update Helm's registry config");
                    }
                    written
                })
            })
            .await
            .unwrap_or_else(|e| Err(Error::invalid_input(format!("writer task failed: {e}"), "")))
        };
        let cache = TokenStore::new(self.secrets.as_ref(), self.paths.token_file());
        fresh
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
            .collect()
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
/// (a malformed file, a missing helper) is this file's alone: it is logged, naming the file,
/// and the other configs are written as usual.
fn write_extra_config(
    configured: &std::path::Path,
    creds: &[(String, DockerCredential)],
    env: &crate::env::Env,
) {
    let file = match docker::extra_config_file(configured, env) {
        Ok(file) => file,
        Err(e) => {
            tracing::warn!(error = %e, "could not update an extra Docker config");
            return;
        }
    };
    let failed = match docker::write_credentials(&file, creds, env) {
        Ok(stores) => creds
            .iter()
            .zip(stores)
            .filter_map(|((registry, _), r)| r.err().map(|e| (Some(registry), e)))
            .collect(),
        Err(e) => vec![(None, e)],
    };
    for (registry, e) in failed {
        tracing::warn!(path = %file.display(), registry = registry.map(String::as_str), error = %e, "could not update this extra Docker config ([docker] extra_configs); the others are written as usual");
    }
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
