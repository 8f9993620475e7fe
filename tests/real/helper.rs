//! skopeo through ACR Tray's own credential helper: config.json holds no token, and
//! `docker-credential-acr-tray get` (run by skopeo as a real subprocess) answers.

use acr_tray_tests::real::clients::Clients;

use crate::common::{ok, push_hello};

#[test]
fn skopeo_pushes_with_docker_credential_acr_tray() {
    let (w, sp, reg) = crate::common::pusher("realhelper");
    // The helper runs as its own process, without the tests' in-memory keyring: the secret
    // lives in a user-only file, and the token cache falls back to the state folder.
    w.login_secret_in_home(&sp).expect_code(0);
    w.cli(&["registry", "add", reg.name()]).expect_code(0);
    w.cli(&["docker", "use-helper"]).expect_code(0);
    let cfg = w.docker_config();
    assert_eq!(cfg["credHelpers"][&reg.login_server], "acr-tray");
    assert_eq!(
        cfg["auths"][&reg.login_server],
        serde_json::json!({}),
        "no token in config.json"
    );

    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_acr-tray-credential-helper"),
        bin.path().join("docker-credential-acr-tray"),
    )
    .unwrap();
    let mut clients = Clients::new(&w);
    clients.add_host(&reg.login_server);
    clients.set_env(
        "PATH",
        &format!(
            "{}:{}",
            bin.path().display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    clients.set_env("ACR_TRAY_HOME", &w.home.path().display().to_string());
    // No session bus: the helper must not reach a developer's real keyring from a test.
    clients.set_env("DBUS_SESSION_BUS_ADDRESS", "disabled:");

    let work = tempfile::tempdir().unwrap();
    let remote = format!("docker://{}/helper/image:1", reg.login_server);
    w.fake.clear_requests();
    let image = push_hello(
        &clients,
        w.home.docker_dir(),
        &reg,
        work.path(),
        &remote,
        b"through the helper\n",
    );
    let inspect = ok(
        clients.skopeo_inspect(w.home.docker_dir(), &remote, false),
        &reg,
    )
    .json();
    assert_eq!(inspect["Digest"], image.manifest_digest.as_str());
    let exchanges = w.exchange_count();
    assert_eq!(
        exchanges, 1,
        "the helper refreshed once, then answered from its cache"
    );
    let cache = w.home.path().join("state/acr-tokens.json");
    assert!(
        cache.exists(),
        "the token cache fell back to a user-only file"
    );
    // Without the helper on PATH, skopeo cannot authenticate: the token really came from it.
    clients.set_env("PATH", "/usr/bin:/bin");
    let denied = clients.skopeo_inspect(w.home.docker_dir(), &remote, false);
    assert!(!denied.ok(), "{denied}");
}
