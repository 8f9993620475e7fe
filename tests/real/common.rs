//! Helpers shared by the real-client tests.

use acr_tray_tests::World;
use acr_tray_tests::real::RealRegistry;
use acr_tray_tests::real::clients::Run;
use base64::Engine as _;
use fake_azure::ServicePrincipal;

/// A world with a new service principal that may push to a new real registry.
pub fn pusher(name: &str) -> (World, ServicePrincipal, RealRegistry) {
    let w = World::new();
    let sp = w.service_principal();
    let reg = RealRegistry::start(&w, name);
    w.fake
        .assign_role(reg.name(), &sp.object_id, fake_azure::Role::AcrPush);
    (w, sp, reg)
}

/// Signs `sp` in, adds the registry and refreshes: Docker's config then holds our entry.
pub fn refresh_into_docker(w: &World, sp: &ServicePrincipal, reg: &RealRegistry) {
    w.login(sp).expect_code(0);
    w.cli(&["registry", "add", reg.name()]).expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
}

/// Panics with the command's output and the registry's log unless the command succeeded.
#[track_caller]
pub fn ok(run: Run, reg: &RealRegistry) -> Run {
    assert!(
        run.ok(),
        "{run}\n--- distribution log ---\n{}",
        reg.log_text()
    );
    run
}

/// Pulls `remote` (tag `1`) with skopeo through Docker's config in `docker` into an OCI layout
/// under `work`, and returns the files of its one layer.
pub fn pulled_files(
    clients: &acr_tray_tests::real::clients::Clients,
    docker: &std::path::Path,
    remote: &str,
    work: &std::path::Path,
    reg: &RealRegistry,
) -> Vec<(String, Vec<u8>)> {
    let pulled = work.join("pulled");
    let dest = format!("oci:{}:1", pulled.display());
    ok(clients.skopeo_copy(docker, remote, &dest), reg);
    acr_tray_tests::real::oci::OciImage::read_files(&pulled, "1")
}

/// A Docker config folder whose config.json holds Basic credentials for one registry.
pub fn basic_auth_config(login_server: &str, user: &str, password: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let config = serde_json::json!({"auths": {login_server: {"auth": auth}}});
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    dir
}

/// Whether a client's failure output says "no permission".
pub fn says_denied(run: &Run) -> bool {
    let text = format!("{}{}", run.stdout, run.stderr).to_lowercase();
    ["denied", "unauthorized", "authentication required"]
        .iter()
        .any(|w| text.contains(w))
}
