//! Which certificate authorities `acr-tray-cli` trusts, as a process (the platform's store is
//! read from the process environment): the CA bundle first, the certificate folder only for a
//! chain the bundle cannot anchor.

use std::path::Path;
use std::process::Command;

use acr_tray_tests::World;
use fake_azure::Role;

const BIN: &str = env!("CARGO_BIN_EXE_acr-tray-cli-e2e");

/// A registry signed in with a secret in a file (while the fake's CA was the cloud's
/// `--ca-file`), then the cloud pointed at the fake without it: only the platform's store can
/// make the fake's certificates trusted.
fn world() -> (World, String) {
    let w = World::new();
    let sp = w.service_principal();
    let r = w.registry("trustreg", &sp, Role::AcrPull);
    w.login_secret_in_home(&sp).expect_code(0);
    w.cli(&["registry", "add", &r.name]).expect_code(0);
    w.point_at_fake(false);
    (w, r.login_server)
}

/// `acr-tray-cli refresh` with the CA bundle `bundle` and the certificate folder `folder`.
fn refresh(w: &World, bundle: &Path, folder: &Path) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .arg("refresh")
        .env_clear()
        .envs(w.env().vars())
        .env("PATH", "/usr/bin:/bin")
        .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
        .env("SSL_CERT_FILE", bundle)
        .env("SSL_CERT_DIR", folder)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn an_authority_only_the_certificate_folder_holds_is_trusted() {
    let (w, login_server) = world();
    let dir = tempfile::tempdir().unwrap();
    // A bundle without the fake's CA (another authority), and a folder with it.
    let other = World::new();
    let bundle = dir.path().join("bundle.pem");
    std::fs::write(&bundle, other.fake.ca_pem()).unwrap();
    let folder = dir.path().join("certs");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("fake-azure.pem"), w.fake.ca_pem()).unwrap();
    let (code, text) = refresh(&w, &bundle, &folder);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        w.docker_config()["auths"][&login_server]["auth"].is_string(),
        "{text}"
    );

    // Neither the bundle nor the folder holds it: refused, nothing written.
    let (w, login_server) = world();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, text) = refresh(&w, &bundle, &empty);
    assert_eq!(code, Some(1), "{text}");
    assert_message!(w, "untrusted_ca_refresh_output", text);
    assert!(
        !w.docker_config_path().exists() || w.docker_config()["auths"][&login_server].is_null(),
        "{text}"
    );
}
