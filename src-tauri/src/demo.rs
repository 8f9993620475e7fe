//! `acr-tray --demo`: the fake Azure (the one the tests use) in-process, a throwaway home
//! folder and Docker config, a service principal and four registries — one of which the
//! principal has no role on, so the failure display can be seen too. Nothing of the user's
//! (settings, keyring, `~/.docker`, Docker's credential helper, the login item) is touched:
//! secrets stay in memory, and the demo's Docker config lists its registries in `auths`, so
//! Docker's rules pick that file, never the platform's default credential helper (which an
//! empty config would; on Linux that is the user's `pass` or Secret Service). Everything is
//! deleted at Quit.

use std::sync::{Arc, Mutex};

use acr_tray_engine::MemoryStore;
use acr_tray_engine::{CloudName, CloudSettings};
use acr_tray_engine::{Engine, EngineOptions, Env, Secret};
use acr_tray_engine::{RegistrySignIn, SecretStorage, ServicePrincipalLogin, SpCredential};
use anyhow::Context as _;
use fake_azure::{FakeAzure, RegistrySpec, Role};

/// What lives as long as the demo: the fake and the throwaway folder.
static KEEP: Mutex<Option<(tempfile::TempDir, Option<FakeAzure>)>> = Mutex::new(None);

/// The registries of the demo, and the role the demo identity has on each.
const REGISTRIES: [(&str, Role); 4] = [
    ("contosoapps", Role::AcrPush),
    ("contosobuilds", Role::AcrPush),
    ("contosomirror", Role::AcrPull),
    ("contosolegacy", Role::None),
];

/// Engine options pointing at a fresh throwaway home and Docker config, with an in-memory
/// keyring.
pub fn options() -> anyhow::Result<EngineOptions> {
    options_with(Env::from_process())
}

/// [`options`] on top of `env` (tests give it their own `PATH`).
fn options_with(mut env: Env) -> anyhow::Result<EngineOptions> {
    let dir = tempfile::Builder::new()
        .prefix("acr-tray-demo-")
        .tempdir()
        .context("cannot create the demo's folder")?;
    env.set(
        "ACR_TRAY_HOME",
        dir.path().join("home").display().to_string(),
    );
    env.set(
        "DOCKER_CONFIG",
        dir.path().join("docker").display().to_string(),
    );
    *lock() = Some((dir, None));
    Ok(EngineOptions {
        env,
        secrets: Arc::new(MemoryStore::new()),
        ..EngineOptions::from_process()
    })
}

/// Starts the fake Azure and signs the demo in (run on the app's tokio runtime).
pub async fn populate(options: EngineOptions) -> anyhow::Result<EngineOptions> {
    let fake = FakeAzure::builder()
        .start()
        .await
        .context("cannot start the demo's fake Azure")?;
    let mut engine = Engine::open(options.clone())?;
    engine.set_cloud(CloudSettings {
        name: CloudName::Custom,
        authority: Some(fake.authority_url()),
        arm: Some(fake.arm_url()),
        acr_suffix: Some(fake.acr_suffix()),
        acr_audience: None,
        ca_file: Some(fake.ca_path().to_path_buf()),
        imds_endpoint: None,
    })?;
    let sp = fake.add_service_principal(&fake.default_tenant());
    for (name, role) in REGISTRIES {
        fake.add_registry(RegistrySpec::new(name));
        fake.assign_role(name, &sp.object_id, role);
    }
    engine
        .login_service_principal(ServicePrincipalLogin {
            tenant: sp.tenant.clone(),
            client_id: sp.client_id.clone(),
            credential: SpCredential::Secret {
                secret: Secret::new(sp.secret.clone()),
                storage: SecretStorage::Keyring,
            },
        })
        .await?;
    let mut servers = Vec::new();
    for (name, _) in REGISTRIES {
        let added = engine
            .add_registry(
                name,
                RegistrySignIn::Identity(Some(sp.client_id.clone())),
                false,
            )
            .await?;
        servers.push(added.login_server.to_string());
    }
    // Entries (without credentials yet) make the config one "with auth information": Docker,
    // and ACR Tray choosing as Docker does, then keep the tokens in this file.
    acr_tray_engine::update_docker_config(&engine.docker_config_path()?, |cfg| {
        servers
            .iter()
            .fold(false, |changed, server| cfg.clear_secrets(server) | changed)
    })?;
    tracing::info!(
        home = %options.env.var("ACR_TRAY_HOME").unwrap_or_default(),
        docker = %options.env.var("DOCKER_CONFIG").unwrap_or_default(),
        "demo: fake Azure at {}", fake.authority_url()
    );
    if let Some(keep) = lock().as_mut() {
        keep.1 = Some(fake);
    }
    Ok(options)
}

/// Deletes the demo's folder (at Quit).
pub fn cleanup() {
    lock().take();
}

fn lock() -> std::sync::MutexGuard<'static, Option<(tempfile::TempDir, Option<FakeAzure>)>> {
    KEEP.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// With Docker's platform default helper installed (and `pass`, which Linux prefers), the
    /// demo's tokens land in its own config.json's `auths` and no helper is ever run.
    #[test]
    fn the_demo_touches_no_keyring_and_no_credential_helper() {
        let bin = tempfile::tempdir().expect("tmp");
        let calls = bin.path().join("calls.log");
        for name in [
            "pass",
            "docker-credential-pass",
            "docker-credential-secretservice",
            "docker-credential-osxkeychain",
        ] {
            let p = bin.path().join(name);
            std::fs::write(
                &p,
                format!("#!/bin/sh\necho \"$0 $*\" >> {}\n", calls.display()),
            )
            .expect("write");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let path = format!("{}:/usr/bin:/bin", bin.path().display());
        let options = options_with(Env::from_pairs([("PATH", path)])).expect("options");
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let options = rt.block_on(async {
            let options = populate(options).await.expect("populate");
            let engine = Engine::open(options.clone()).expect("open");
            engine.refresh_on_demand(&[]).await.expect("refresh");
            options
        });
        let docker = std::path::Path::new(options.env.var("DOCKER_CONFIG").expect("set"))
            .join("config.json");
        let cfg: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&docker).expect("read")).expect("json");
        assert!(cfg.get("credsStore").is_none(), "{cfg:#}");
        assert!(cfg.get("credHelpers").is_none(), "{cfg:#}");
        let auths = cfg["auths"].as_object().expect("auths");
        let with_token = auths.values().filter(|e| e.get("auth").is_some()).count();
        assert_eq!(with_token, 3, "the three registries with a role: {cfg:#}");
        assert!(
            !calls.exists(),
            "a credential helper ran: {}",
            std::fs::read_to_string(&calls).unwrap_or_default()
        );
        cleanup();
        assert!(!docker.exists(), "the demo's folder is deleted at Quit");
    }
}
