//! The `helm` installed here, as `doctor` reports it: its version, which file that version reads
//! registry logins from, and whether ACR Tray keeps that file. Fake `helm` programs on PATH
//! answer `helm version --template {{.Version}}` and `helm env HELM_REGISTRY_CONFIG`.
#![cfg(unix)]

use acr_tray_tests::{World, write_program};
use fake_azure::Role;

/// `helm env HELM_REGISTRY_CONFIG` as Helm answers it: `$HELM_REGISTRY_CONFIG`, else
/// `registry/config.json` in `$HELM_CONFIG_HOME`, else in `$XDG_CONFIG_HOME/helm`, else in
/// `~/.config/helm`.
const HELM_RULES: &str = r#"echo "${HELM_REGISTRY_CONFIG:-${HELM_CONFIG_HOME:-${XDG_CONFIG_HOME:-$HOME/.config}/helm}/registry/config.json}""#;

/// A world with a signed-in registry `name`, refreshed, and `PATH` holding only a folder for
/// a fake `helm` (put there by [`fake_helm`]).
fn helm_world(name: &str) -> World {
    let mut w = World::new();
    let bin = w.home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    w.extra_env.push(("PATH".into(), bin.display().to_string()));
    w.signed_in_registry(name, Role::AcrPull);
    w.cli(&["refresh"]).expect_code(0);
    w
}

/// Puts a fake `helm` on the world's PATH: `version` (asked exactly as the doctor must ask it)
/// runs `version`, `env HELM_REGISTRY_CONFIG` runs `env`; anything else fails.
fn fake_helm(w: &World, version: &str, env: &str) {
    write_program(
        &w.home.path().join("bin/helm"),
        &format!(
            "#!/bin/sh\n\
             if [ \"$*\" = 'version --template {{{{.Version}}}}' ]; then {version}\n\
             elif [ \"$*\" = 'env HELM_REGISTRY_CONFIG' ]; then {env}\n\
             else echo \"unexpected: $*\" >&2; exit 64; fi\n"
        ),
    );
}

/// A fake `helm` that prints `version` and finds its registry config by Helm's rules.
fn helm_release(w: &World, version: &str) {
    fake_helm(w, &format!("printf '%s' '{version}'"), HELM_RULES);
}

fn with_helm(w: &World) {
    w.edit_settings(|text| format!("{text}\n[clients]\nhelm = true\n"));
}

#[test]
fn doctor_says_which_file_each_helm_version_reads() {
    let w = helm_world("helmver");
    // Before 3.18 Helm falls back to Docker's config, which ACR Tray keeps: nothing to do.
    helm_release(&w, "v3.17.3");
    let out = w.cli(&["doctor"]).expect_code(0);
    assert_message!(w, "helm_3_17_stdout", out.stdout);
    // From 3.18 on it reads only its own file: the doctor says how to keep that one too.
    helm_release(&w, "v3.18.4");
    let out = w.cli(&["doctor"]).expect_code(0);
    assert_message!(w, "helm_3_18_off_stdout", out.stdout);
    // Switched on (and refreshed): the file that Helm reads is the one ACR Tray keeps.
    with_helm(&w);
    w.cli(&["refresh"]).expect_code(0);
    helm_release(&w, "v4.0.1");
    let out = w.cli(&["doctor"]).expect_code(0);
    assert_message!(w, "helm_4_on_stdout", out.stdout);
    let report = w.cli(&["doctor", "--json"]).expect_code(0).json();
    let file = w.home.path().join("home/.config/helm/registry/config.json");
    assert_eq!(
        report["helm"],
        serde_json::json!({
            "program": w.home.path().join("bin/helm"),
            "version": "v4.0.1",
            "reads": "own-config-only",
            "registryConfig": file,
            "sync": "on",
        })
    );
}

#[test]
fn doctor_goes_on_when_helm_fails_or_prints_garbage() {
    let w = helm_world("helmbad");
    fake_helm(
        &w,
        "echo 'Error: cannot load plugins' >&2; exit 1",
        HELM_RULES,
    );
    let out = w.cli(&["doctor"]).expect_code(0);
    assert_message!(w, "helm_failing_stdout", out.stdout);
    fake_helm(
        &w,
        r#"printf 'version.BuildInfo{Version:"v3.18.4"}\033[2J'"#,
        HELM_RULES,
    );
    let out = w.cli(&["doctor"]).expect_code(0);
    assert_message!(w, "helm_garbage_stdout", out.stdout);
    let report = w.cli(&["doctor", "--json"]).expect_code(0).json();
    assert_eq!(report["helm"]["version"], serde_json::Value::Null);
    assert_eq!(report["helm"]["reads"], serde_json::Value::Null);
}

#[test]
fn doctor_says_when_helm_reads_another_file_than_acr_tray_keeps() {
    let mut w = helm_world("helmother");
    with_helm(&w);
    w.cli(&["refresh"]).expect_code(0);
    // A packaged Helm with a config folder of its own, honouring HELM_REGISTRY_CONFIG.
    let own = r#"echo "${HELM_REGISTRY_CONFIG:-$HOME/snap/helm/registry/config.json}""#;
    fake_helm(&w, "printf v3.18.4", own);
    let out = w.cli(&["doctor"]).expect_code(1);
    assert_message!(w, "helm_other_file_stdout", out.stdout);
    // Before 3.18 Helm still finds the registry in Docker's config: a warning only.
    fake_helm(&w, "printf v3.17.3", own);
    let report = w.cli(&["doctor", "--json"]).expect_code(0).json();
    assert_eq!(report["helm"]["sync"], "other-file");
    assert_eq!(
        acr_tray_tests::element_where(&report["findings"], "code", "helm-reads-other-file")["severity"],
        "warning"
    );
    // The doctor's advice: one HELM_REGISTRY_CONFIG for both.
    let file = w.home.path().join("helm-registry.json");
    w.extra_env
        .push(("HELM_REGISTRY_CONFIG".into(), file.display().to_string()));
    w.cli(&["refresh"]).expect_code(0);
    fake_helm(&w, "printf v3.18.4", own);
    let report = w.cli(&["doctor", "--json"]).expect_code(0).json();
    assert_eq!(report["helm"]["sync"], "on");
    assert_eq!(report["helm"]["registryConfig"], file.display().to_string());
}
