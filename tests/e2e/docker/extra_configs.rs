//! `[docker] extra_configs`: further Docker configs (a dev container's mounted folder, a CI
//! script's own `DOCKER_CONFIG`) kept in sync by the same rules as the main config.

use std::path::{Path, PathBuf};

use acr_tray_tests::World;
use fake_azure::Role;

use super::credential_stores::{recording_helper, with_path};

const FOREIGN: &str = r#"{"auths":{"quay.io":{"auth":"eDp5"}},"psFormat":"table {{.ID}}"}"#;

/// Lists `entries` (as written in config.toml) as the world's `[docker] extra_configs`.
fn with_extra_configs(w: &World, entries: &[&str]) {
    let list: Vec<String> = entries
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    w.edit_settings(|text| {
        text.replace(
            "podman = false",
            &format!("podman = false\nextra_configs = [{}]", list.join(", ")),
        )
    });
}

/// A folder `name` in the world's home holding a config.json with `body`; returns the file.
fn folder_with_config(w: &World, name: &str, body: &[u8]) -> PathBuf {
    let dir = w.home.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config.json");
    std::fs::write(&file, body).unwrap();
    file
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn extra_configs_get_our_entry_and_keep_foreign_ones() {
    let w = World::new();
    let r = w.signed_in_registry("extrareg", Role::AcrPull).1;
    let folder = folder_with_config(&w, "ci-docker", FOREIGN.as_bytes());
    let dir = folder.parent().unwrap().display().to_string();
    // A `.json` path is the file itself; `~/` is the home folder; a missing file is created.
    with_extra_configs(&w, &[&dir, "~/devcontainer/auth.json"]);
    std::fs::create_dir_all(w.home.path().join("home/devcontainer")).unwrap();
    w.cli(&["refresh"]).expect_code(0);
    let ours = w.docker_config()["auths"][&r.login_server].clone();
    assert!(ours["auth"].is_string(), "{ours}");
    let extra = json(&folder);
    assert_eq!(extra["auths"][&r.login_server], ours);
    assert_eq!(extra["auths"]["quay.io"]["auth"], "eDp5");
    assert_eq!(extra["psFormat"], "table {{.ID}}");
    let created = w.home.path().join("home/devcontainer/auth.json");
    assert_eq!(json(&created)["auths"][&r.login_server], ours);
    #[cfg(unix)]
    for file in [&folder, &created] {
        assert_eq!(acr_tray_tests::file_mode(file), 0o600, "{}", file.display());
    }
}

#[test]
fn a_malformed_extra_config_is_left_untouched_and_named_while_the_others_are_written() {
    let w = World::new();
    let r = w.signed_in_registry("extrabad", Role::AcrPull).1;
    let body = b"{\"auths\": {\"ghcr.io\": {\"auth\": \"abc\"},}\n";
    let bad = folder_with_config(&w, "broken", body);
    let good = folder_with_config(&w, "fine", FOREIGN.as_bytes());
    let dirs = [&bad, &good].map(|f| f.parent().unwrap().display().to_string());
    with_extra_configs(&w, &[&dirs[0], &dirs[1]]);
    let out = w.cli(&["refresh"]).expect_code(0);
    assert_eq!(std::fs::read(&bad).unwrap(), body);
    assert_message!(w, "malformed_extra_config_stderr", out.stderr);
    let ours = w.docker_config()["auths"][&r.login_server].clone();
    assert!(ours["auth"].is_string(), "the main config is still written");
    assert_eq!(json(&good)["auths"][&r.login_server], ours);
}

#[test]
fn an_extra_config_with_its_own_creds_store_gets_the_entry_through_that_helper() {
    let mut w = World::new();
    let dir = w.home.path().join("helper");
    let bin = recording_helper(&dir, "extrastore");
    with_path(&mut w, &bin);
    let r = w.signed_in_registry("extrahelp", Role::AcrPull).1;
    let extra = folder_with_config(&w, "ci-helper", br#"{"credsStore":"extrastore"}"#);
    with_extra_configs(&w, &[&extra.display().to_string()]);
    w.cli(&["refresh"]).expect_code(0);
    let stored = json(&dir.join("store.json"));
    assert_eq!(stored["ServerURL"], r.login_server.as_str());
    assert_eq!(stored["Username"], acr_tray_tests::ZERO_GUID);
    assert!(
        stored["Secret"].as_str().is_some_and(|s| !s.is_empty()),
        "{stored}"
    );
    let cfg = json(&extra);
    assert_eq!(cfg["credsStore"], "extrastore");
    assert_eq!(
        cfg["auths"][&r.login_server],
        serde_json::json!({}),
        "no secret next to the helper"
    );
    // The main config (no helper of its own) still holds the entry in `auths`.
    assert!(w.docker_config()["auths"][&r.login_server]["auth"].is_string());
}

/// Two writers at once, each refreshing its own registry again and again: every file both
/// write must end up with both entries, whatever the interleaving.
pub(super) fn refresh_concurrently(w: &World, names: [&str; 2]) {
    std::thread::scope(|s| {
        for name in names {
            s.spawn(move || {
                for _ in 0..5 {
                    w.cli(&["refresh", name]).expect_code(0);
                }
            });
        }
    });
}

#[test]
fn concurrent_writers_of_one_extra_config_lose_nothing() {
    let w = World::new();
    let (_, [a, b]) =
        w.signed_in_registries([("extraconca", Role::AcrPull), ("extraconcb", Role::AcrPull)]);
    let extra = folder_with_config(&w, "shared", FOREIGN.as_bytes());
    with_extra_configs(&w, &[&extra.display().to_string()]);
    refresh_concurrently(&w, ["extraconca", "extraconcb"]);
    let cfg = json(&extra);
    for r in [&a, &b] {
        assert!(cfg["auths"][&r.login_server]["auth"].is_string(), "{cfg:#}");
    }
    assert_eq!(cfg["auths"]["quay.io"]["auth"], "eDp5");
}

#[test]
fn doctor_names_a_missing_entry_and_an_unreadable_file_among_the_extra_configs() {
    let w = World::new();
    let r = w.signed_in_registry("extradoc", Role::AcrPull).1;
    let stale = folder_with_config(&w, "stale", FOREIGN.as_bytes());
    let body = b"[1,";
    let bad = folder_with_config(&w, "bad", body);
    let dirs = [&stale, &bad].map(|f| f.parent().unwrap().display().to_string());
    w.cli(&["refresh"]).expect_code(0);
    // Listed after the refresh: the main config is fresh, the extra ones are not.
    with_extra_configs(&w, &[&dirs[0], &dirs[1]]);
    let out = w.cli(&["doctor"]).expect_code(1);
    assert_message!(w, "doctor_extra_configs_stdout", out.stdout);
    let report = w.cli(&["doctor", "--json"]).expect_code(1).json();
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, ["extra-config-missing", "extra-config-unusable"]);
    // `--fix` refreshes, which writes the extra config; the malformed one stays as it was.
    w.cli(&["doctor", "--fix"]).expect_code(1);
    assert!(json(&stale)["auths"][&r.login_server]["auth"].is_string());
    assert_eq!(std::fs::read(&bad).unwrap(), body);
    std::fs::write(&bad, FOREIGN).unwrap();
    w.cli(&["refresh"]).expect_code(0);
    w.cli(&["doctor"]).expect_code(0);
}
