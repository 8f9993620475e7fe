//! Docker's config.json: malformed files, symlinks, credential helpers.

use acr_tray_tests::World;
use fake_azure::Role;

fn one_registry(w: &World) -> fake_azure::Registry {
    let (_, r) = w.signed_in_registry("romeo111", Role::AcrPull);
    r
}

#[test]
fn malformed_config_stays_byte_identical() {
    let w = World::new();
    one_registry(&w);
    let body = b"{\n\t\"auths\": {\n\t\t\"ghcr.io\": {\"auth\": \"abc\"}\n\t,\n}\n";
    std::fs::write(w.docker_config_path(), body).unwrap();
    w.fake.clear_requests();
    let out = w.cli(&["refresh"]).expect_code(4);
    assert_message!(w, "malformed_config_refresh_stdout", out.stdout);
    assert_eq!(std::fs::read(w.docker_config_path()).unwrap(), body);
    assert!(
        w.fake.requests().is_empty(),
        "no tokens fetched for a file we cannot write"
    );
}

#[cfg(unix)]
#[test]
fn symlinked_config_is_followed_and_the_link_kept() {
    let w = World::new();
    let r = one_registry(&w);
    let dotfiles = w.home.path().join("dotfiles");
    std::fs::create_dir_all(&dotfiles).unwrap();
    let real = dotfiles.join("docker-config.json");
    std::fs::write(&real, r#"{"auths":{"ghcr.io":{"auth":"abc"}}}"#).unwrap();
    std::os::unix::fs::symlink(&real, w.docker_config_path()).unwrap();
    w.cli(&["refresh"]).expect_code(0);
    assert!(
        std::fs::symlink_metadata(w.docker_config_path())
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let cfg: serde_json::Value = serde_json::from_slice(&std::fs::read(&real).unwrap()).unwrap();
    assert_eq!(cfg["auths"]["ghcr.io"]["auth"], "abc");
    assert!(cfg["auths"][&r.login_server]["auth"].is_string());
}

#[test]
fn new_config_is_private() {
    let w = World::new();
    one_registry(&w);
    w.cli(&["refresh"]).expect_code(0);
    #[cfg(unix)]
    {
        let mode = acr_tray_tests::file_mode(&w.docker_config_path());
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn a_missing_credential_helper_is_reported_before_any_request() {
    let w = World::new();
    let r = one_registry(&w);
    let body = r#"{"credsStore":"desktop","auths":{"ghcr.io":{}}}"#;
    std::fs::write(w.docker_config_path(), body).unwrap();
    w.fake.clear_requests();
    let out = w.cli(&["refresh"]).expect_code(4);
    assert_message!(w, "missing_helper_refresh_stdout", out.stdout);
    assert_eq!(
        std::fs::read_to_string(w.docker_config_path()).unwrap(),
        body
    );
    assert!(
        w.fake.requests().is_empty(),
        "nothing fetched for a store that cannot work"
    );
    // A per-registry helper for another registry does not matter.
    std::fs::write(
        w.docker_config_path(),
        r#"{"credHelpers":{"gcr.io":"gcloud"}}"#,
    )
    .unwrap();
    w.cli(&["refresh"]).expect_code(0);
    assert!(w.docker_config()["auths"][&r.login_server].is_object());
    assert_eq!(w.docker_config()["credHelpers"]["gcr.io"], "gcloud");
}
