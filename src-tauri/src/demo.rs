//! `acr-tray --demo`: the fake Azure (the one the tests use) in-process, a throwaway home
//! folder and Docker config, a service principal and four registries — one of which the
//! principal has no role on, so the failure display can be seen too. Nothing of the user's
//! (settings, keyring, `~/.docker`) is touched; everything is deleted at Quit.

use std::sync::{Arc, Mutex};

use acr_tray_engine::cloud::{CloudName, CloudSettings};
use acr_tray_engine::ops::{RegistrySignIn, SecretStorage, ServicePrincipalLogin, SpCredential};
use acr_tray_engine::secrets::MemoryStore;
use acr_tray_engine::{Engine, EngineOptions, Env, Secret};
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
    let dir = tempfile::Builder::new()
        .prefix("acr-tray-demo-")
        .tempdir()
        .context("cannot create the demo's folder")?;
    let mut env = Env::from_process();
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
    for (name, _) in REGISTRIES {
        engine
            .add_registry(
                name,
                RegistrySignIn::Identity(Some(sp.client_id.clone())),
                false,
            )
            .await?;
    }
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
