//! `[clients] helm = true`: Helm's registry config kept in sync by Docker's config's rules.

use acr_tray_tests::World;
use fake_azure::Role;

pub(super) fn with_helm(w: &World) {
    w.edit_settings(|text| format!("{text}\n[clients]\nhelm = true\n"));
}

fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn helm_registry_config_gets_our_entry_and_keeps_foreign_ones() {
    let w = World::new();
    let r = w.signed_in_registry("helmreg", Role::AcrPull).1;
    with_helm(&w);
    // Helm's default place: `helm/registry/config.json` in the user's config folder.
    let file = w.home.path().join("home/.config/helm/registry/config.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        r#"{"auths":{"quay.io":{"auth":"eDp5"}},"helmOwn":{"keep":true}}"#,
    )
    .unwrap();
    w.cli(&["refresh"]).expect_code(0);
    let helm = json(&file);
    assert_eq!(helm["auths"]["quay.io"]["auth"], "eDp5");
    assert_eq!(helm["helmOwn"]["keep"], true);
    assert_eq!(
        helm["auths"][&r.login_server],
        w.docker_config()["auths"][&r.login_server]
    );
    assert!(helm["auths"][&r.login_server]["auth"].is_string());
    #[cfg(unix)]
    assert_eq!(acr_tray_tests::file_mode(&file), 0o600);
}

#[test]
fn helm_registry_config_env_is_honoured_and_a_malformed_one_left_untouched() {
    let (w, file) = helm_world("helm-registry.json");
    let r = w.signed_in_registry("helmenv", Role::AcrPull).1;
    with_helm(&w);
    let body = b"{\"auths\": ";
    std::fs::write(&file, body).unwrap();
    let out = w.cli(&["refresh"]).expect_code(0);
    assert_eq!(std::fs::read(&file).unwrap(), body);
    assert_message!(w, "helm_malformed_stderr", out.stderr);
    assert!(w.docker_config()["auths"][&r.login_server]["auth"].is_string());
    std::fs::remove_file(&file).unwrap();
    w.cli(&["refresh"]).expect_code(0);
    assert!(json(&file)["auths"][&r.login_server]["auth"].is_string());
}

#[test]
fn doctor_reports_a_missing_helm_entry_and_fix_writes_it() {
    let mut w = World::new();
    let file = w.home.path().join("helm/registry/config.json");
    w.extra_env.push((
        "HELM_CONFIG_HOME".into(),
        w.home.path().join("helm").display().to_string(),
    ));
    let r = w.signed_in_registry("helmdoc", Role::AcrPull).1;
    w.cli(&["refresh"]).expect_code(0);
    // Switched on after the refresh: Docker's config is fresh, Helm's has nothing yet.
    with_helm(&w);
    let out = w.cli(&["doctor"]).expect_code(1);
    assert_message!(w, "helm_doctor_missing_stdout", out.stdout);
    w.cli(&["doctor", "--fix"]).expect_code(0);
    assert!(json(&file)["auths"][&r.login_server]["auth"].is_string());
    w.cli(&["doctor"]).expect_code(0);
}

#[test]
fn concurrent_writers_of_helm_registry_config_lose_nothing() {
    let (w, file) = helm_world("helm-concurrent.json");
    let (_, [a, b]) =
        w.signed_in_registries([("helmconca", Role::AcrPull), ("helmconcb", Role::AcrPull)]);
    with_helm(&w);
    std::fs::write(&file, r#"{"auths":{"quay.io":{"auth":"eDp5"}}}"#).unwrap();
    super::extra_configs::refresh_concurrently(&w, ["helmconca", "helmconcb"]);
    let helm = json(&file);
    for r in [&a, &b] {
        assert!(
            helm["auths"][&r.login_server]["auth"].is_string(),
            "{helm:#}"
        );
    }
    assert_eq!(helm["auths"]["quay.io"]["auth"], "eDp5");
}

/// A world whose `HELM_REGISTRY_CONFIG` names `name` in its home folder.
pub(super) fn helm_world(name: &str) -> (World, std::path::PathBuf) {
    let mut w = World::new();
    let file = w.home.path().join(name);
    w.extra_env
        .push(("HELM_REGISTRY_CONFIG".into(), file.display().to_string()));
    (w, file)
}
