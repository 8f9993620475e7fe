//! Another client's file that a refresh cannot write (Helm's registry config, an extra Docker
//! config, podman's auth.json) is said, not only logged: `refresh` warns once per file and
//! still exits 0 (Docker's credential was written), `status` lists it with what to do,
//! `state.json` remembers it until the file is written again.

use acr_tray_tests::World;
use fake_azure::Role;

/// The world's `state.json`, as JSON.
fn state(w: &World) -> serde_json::Value {
    let path = w.home.path().join("state").join("state.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn a_malformed_helm_file_is_listed_by_status_until_it_is_written_again() {
    let (w, file) = super::helm::helm_world("helm-status.json");
    let r = w.signed_in_registry("helmstatus", Role::AcrPull).1;
    super::helm::with_helm(&w);
    let body = b"{\"auths\": ";
    std::fs::write(&file, body).unwrap();

    let refresh = w.cli(&["refresh"]).expect_code(0);
    assert_eq!(
        refresh.stderr.lines().count(),
        1,
        "one warning, not a log line besides it: {}",
        refresh.stderr
    );
    assert_eq!(std::fs::read(&file).unwrap(), body, "left byte for byte");
    assert!(w.docker_config()["auths"][&r.login_server]["auth"].is_string());
    let key = file.display().to_string();
    let remembered = &state(&w)["client_files"][&key];
    assert_eq!(remembered["client"], "helm", "{remembered:#}");
    assert_eq!(remembered["last_error"]["kind"], "docker-config");

    let status = w.cli(&["status"]).expect_code(0);
    assert_message!(w, "helm_malformed_status_stdout", status.stdout);
    let json = w.cli(&["status", "--json"]).expect_code(0).json();
    let listed = &json["failingClientFiles"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{json:#}");
    assert_eq!(listed[0]["file"], key.as_str());
    assert_eq!(listed[0]["client"], "helm");
    let hint = listed[0]["lastError"]["hint"].as_str().unwrap_or_default();
    assert!(hint.contains("[clients] helm = false"), "{hint}");

    // Moved away: the next refresh writes it anew, and nothing is listed any more.
    std::fs::remove_file(&file).unwrap();
    let refresh = w.cli(&["refresh"]).expect_code(0);
    assert_eq!(refresh.stderr, "");
    assert!(state(&w).get("client_files").is_none(), "{:#}", state(&w));
    let json = w.cli(&["status", "--json"]).expect_code(0).json();
    assert!(json.get("failingClientFiles").is_none(), "{json:#}");
    let status = w.cli(&["status"]).expect_code(0);
    assert!(!status.stdout.contains("not updated"), "{}", status.stdout);
}

#[test]
fn a_client_file_switched_off_is_no_longer_listed() {
    let (w, file) = super::helm::helm_world("helm-off.json");
    w.signed_in_registry("helmoff", Role::AcrPull);
    super::helm::with_helm(&w);
    std::fs::write(&file, b"[").unwrap();
    w.cli(&["refresh"]).expect_code(0);
    let listed = w.cli(&["status", "--json"]).expect_code(0).json();
    assert!(listed["failingClientFiles"].is_array(), "{listed:#}");
    w.edit_settings(|text| text.replace("helm = true", "helm = false"));
    let json = w.cli(&["status", "--json"]).expect_code(0).json();
    assert!(json.get("failingClientFiles").is_none(), "{json:#}");
    w.cli(&["refresh"]).expect_code(0);
    assert!(state(&w).get("client_files").is_none(), "{:#}", state(&w));
}

#[cfg(unix)]
#[test]
fn exec_warns_about_a_client_file_it_could_not_update_and_still_runs_the_command() {
    let (w, file) = super::helm::helm_world("helm-exec.json");
    w.signed_in_registry("helmexec", Role::AcrPull);
    super::helm::with_helm(&w);
    std::fs::write(&file, b"{").unwrap();
    let out = w.cli(&["exec", "--", "sh", "-c", "exit 4"]).expect_code(4);
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: Helm's registry config was not updated"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", out.stderr);
    assert!(
        warnings[0].contains(&file.display().to_string()),
        "{}",
        out.stderr
    );
}
