//! Child processes that are not ACR Tray — the browser, `az`, Docker credential helpers — get
//! an environment without `AZURE_CLIENT_SECRET` and the other secret-like variables; they
//! keep what they need (`PATH`, the display, `AZURE_CONFIG_DIR`). Each child here writes its
//! whole environment to a file before it does its job, and the command waits for that job.

use std::path::{Path, PathBuf};

use acr_tray_tests::{World, assert_contains};
use fake_azure::Role;

/// Secret-like variables put into every command's environment, and a value each must not leak.
const SECRETS: [(&str, &str); 5] = [
    ("AZURE_CLIENT_SECRET", "env-client-secret-value"),
    (
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "env-cert-password-value",
    ),
    ("AZURE_PASSWORD", "env-user-password-value"),
    ("GITHUB_TOKEN", "env-github-token-value"),
    ("AWS_SECRET_ACCESS_KEY", "env-aws-secret-value"),
];

/// Ordinary variables a child keeps.
const KEPT: [(&str, &str); 2] = [
    ("AZURE_CONFIG_DIR", "/tmp/az-config-kept"),
    ("PASSWORD_STORE_DIR", "/tmp/pass-store-kept"),
];

fn with_secrets_in_env(w: &mut World, bin: &Path) {
    for (k, v) in SECRETS.iter().chain(&KEPT) {
        w.extra_env.push(((*k).into(), (*v).into()));
    }
    w.extra_env.retain(|(k, _)| k != "PATH");
    w.extra_env
        .push(("PATH".into(), format!("{}:/usr/bin:/bin", bin.display())));
}

fn script(path: &Path, body: &str) {
    acr_tray_tests::write_program(path, &format!("#!/bin/sh\n{body}\n"));
}

/// The environment a child wrote, checked: no secret-like name or value, the ordinary ones kept.
#[track_caller]
fn assert_clean(dump: &Path) {
    let env = std::fs::read_to_string(dump)
        .unwrap_or_else(|e| panic!("the child wrote no environment to {}: {e}", dump.display()));
    for (name, value) in SECRETS {
        assert!(
            !env.contains(name) && !env.contains(value),
            "{name} reached the child:\n{env}"
        );
    }
    for (name, value) in KEPT {
        assert!(
            env.contains(&format!("{name}={value}")),
            "{name} was taken away:\n{env}"
        );
    }
    assert_contains(&env, "PATH=");
}

/// A world where `child` will run from a folder of scripts (returned), writing its environment
/// to the file returned last.
fn world_for(child: &str) -> (World, PathBuf, PathBuf) {
    let w = World::new();
    let bin = w.home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let dump = w.home.path().join(format!("{child}-env.txt"));
    (w, bin, dump)
}

#[cfg(unix)]
#[test]
fn a_credential_helper_gets_no_secret_variables() {
    let (mut w, bin, dump) = world_for("helper");
    script(
        &bin.join("docker-credential-dumper"),
        &format!(
            "env > {}\ncase \"$1\" in\n  get) cat > /dev/null; echo 'credentials not found in native keychain'; exit 1;;\n  *) cat > /dev/null;;\nesac",
            dump.display()
        ),
    );
    with_secrets_in_env(&mut w, &bin);
    std::fs::write(w.docker_config_path(), r#"{"credsStore":"dumper"}"#).unwrap();
    w.signed_in_registry("dumper01", Role::AcrPull);
    w.cli(&["refresh"]).expect_code(0);
    assert_clean(&dump);
}

#[cfg(unix)]
#[test]
fn az_gets_no_secret_variables() {
    let (mut w, bin, dump) = world_for("az");
    let user = w.user("az-env@contoso.localhost");
    let (token, expires) =
        w.fake
            .issue_access_token(&user.object_id, &user.tenant, &w.fake.arm_url());
    let answer = w.home.path().join("az-answer.json");
    let json = serde_json::json!({
        "accessToken": token, "expires_on": expires.timestamp(), "subscription": "s",
        "tenant": user.tenant, "tokenType": "Bearer"
    });
    std::fs::write(&answer, json.to_string()).unwrap();
    script(
        &bin.join("az"),
        &format!("env > {}\ncat {}", dump.display(), answer.display()),
    );
    with_secrets_in_env(&mut w, &bin);
    w.cli(&["login", "--azure-cli"]).expect_code(0);
    assert_clean(&dump);
}

#[cfg(unix)]
#[test]
fn the_browser_gets_no_secret_variables() {
    let (mut w, bin, dump) = world_for("browser");
    let user = w.user("browser-env@contoso.localhost");
    w.fake.set_browser_user(Some(user));
    // $BROWSER is a script that writes its environment, then hands over to the test browser,
    // which completes the sign-in (so `login` returns only after the environment was written).
    let log = w.use_test_browser(env!("CARGO_BIN_EXE_test-browser"), "normal");
    let test_browser = w
        .extra_env
        .iter()
        .find(|(k, _)| k == "BROWSER")
        .map(|(_, v)| v.clone())
        .unwrap();
    let wrapper = bin.join("browser-wrapper");
    script(
        &wrapper,
        &format!("env > {}\nexec {test_browser} \"$@\"", dump.display()),
    );
    w.extra_env.retain(|(k, _)| k != "BROWSER");
    w.extra_env
        .push(("BROWSER".into(), wrapper.display().to_string()));
    with_secrets_in_env(&mut w, &bin);
    w.cli(&["login", "--browser"]).expect_code(0);
    assert_clean(&dump);
    assert!(log.exists(), "the test browser ran");
}
