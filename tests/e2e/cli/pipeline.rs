//! The whole pipeline: sign in a service principal, add three registries, refresh, and check
//! what Docker will read.

use crate::snapshot::names_of;
use acr_tray_tests::{World, ZERO_GUID, assert_no_secrets};
use fake_azure::Role;

#[test]
fn service_principal_keeps_three_registries_logged_in() {
    let w = World::new();
    let sp = w.service_principal();
    let regs: Vec<_> = ["alpha1", "bravo2", "charlie3"]
        .iter()
        .map(|n| w.registry(n, &sp, Role::AcrPush))
        .collect();
    // Another tool's entries, an unknown top-level key and an unknown key in an entry.
    std::fs::write(
        w.docker_config_path(),
        r#"{"auths":{"ghcr.io":{"auth":"dXNlcjpwYXNz"},"other.example":{"auth":"eDp5","x-extra":true}},"psFormat":"table {{.ID}}","newFeature":{"a":[1,2,3]}}"#,
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            w.docker_config_path(),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
    }

    w.login(&sp).expect_code(0);
    for r in &regs {
        w.cli(&["registry", "add", &r.name]).expect_code(0);
    }
    let out = w.cli(&["-vv", "refresh"]).expect_code(0);
    assert_message!(w, "refresh_stdout", out.stdout);

    let cfg = w.docker_config();
    assert_eq!(cfg["auths"]["ghcr.io"]["auth"], "dXNlcjpwYXNz");
    assert_eq!(cfg["auths"]["other.example"]["x-extra"], true);
    assert_eq!(cfg["psFormat"], "table {{.ID}}");
    assert_eq!(cfg["newFeature"]["a"], serde_json::json!([1, 2, 3]));
    #[cfg(unix)]
    {
        let mode = acr_tray_tests::file_mode(&w.docker_config_path());
        // Group-readable, and now holding tokens: made private as Docker makes it, said once.
        assert_eq!(mode, 0o600, "config.json readable by others");
        assert!(
            out.stderr
                .contains("config.json could be read by other users"),
            "{}",
            out.stderr
        );
    }

    let mut tokens = Vec::new();
    for r in &regs {
        let (user, token) = w.docker_auth(&r.login_server);
        assert_eq!(user, ZERO_GUID);
        assert!(cfg["auths"][&r.login_server].get("identitytoken").is_none());
        let (get, post) =
            w.acr_access_token(&r.login_server, &token, "repository:app/web:pull,push");
        assert_eq!(
            (get, post),
            (200, 200),
            "the fake's /oauth2/token accepts the written token"
        );
        tokens.push(token);
    }
    // The token of one registry is not accepted by another.
    let (get, _) = w.acr_access_token(&regs[1].login_server, &tokens[0], "repository:app/web:pull");
    assert_eq!(get, 401);

    // One Entra token for the tenant and audience, shared by all three registries.
    let entra_tokens = w
        .fake
        .requests()
        .iter()
        .filter(|r| r.grant_type.as_deref() == Some("client_credentials") && r.status == 200)
        .filter(|r| !is_arm_scope(r))
        .count();
    assert_eq!(
        entra_tokens, 2,
        "one at sign-in, one for the refresh of all three"
    );
    // And one ARM token for the admin watch of all three.
    let arm_tokens = w.fake.requests().iter().filter(|r| is_arm_scope(r)).count();
    assert_eq!(arm_tokens, 1);

    #[cfg(unix)]
    {
        let again = w.cli(&["-vv", "refresh"]).expect_code(0);
        assert!(
            !again.stderr.contains("could be read by other users"),
            "said once: {}",
            again.stderr
        );
    }

    let status = w.cli(&["status", "--json"]).expect_code(0).json();
    let regs_json = status["registries"].as_array().unwrap();
    assert_eq!(regs_json.len(), 3);
    for r in regs_json {
        assert_eq!(r["audience"], "acr");
        assert!(r["expiresAt"].is_string() && r["lastRefresh"].is_string());
        assert!(r["lastError"].is_null());
    }
    let human = w.cli(&["status"]).expect_code(0).stdout;
    assert_message!(w, "status_stdout", human, names_of(&sp));

    let mut secrets: Vec<&str> = tokens.iter().map(String::as_str).collect();
    secrets.push(&sp.secret);
    for (path, text) in w.home_files() {
        assert_no_secrets(&path.display().to_string(), &text, &secrets);
    }
    assert!(
        w.home_files()
            .iter()
            .any(|(p, t)| p.to_string_lossy().contains("logs") && t.contains("refreshed")),
        "the log file records the refresh"
    );
    assert_no_secrets("stderr", &out.stderr, &secrets);
    assert_no_secrets("stdout", &out.stdout, &secrets);
    let keys = w.secrets.keys();
    let count = |prefix: &str| keys.iter().filter(|k| k.starts_with(prefix)).count();
    assert_eq!(
        count("client-secret/"),
        1,
        "the client secret is in the keyring: {keys:?}"
    );
    assert_eq!(
        count("acr-token/"),
        3,
        "each registry's token is cached: {keys:?}"
    );
}

#[test]
fn identity_token_form_is_available_for_az_parity() {
    let w = World::new();
    let (_, r) = w.signed_in_registry("deltaa", Role::AcrPull);
    w.edit_settings(|text| {
        text.replace(
            "entry_form = \"password\"",
            "entry_form = \"identity-token\"",
        )
    });
    w.cli(&["refresh"]).expect_code(0);
    let (user, password) = w.docker_auth(&r.login_server);
    assert_eq!((user.as_str(), password.as_str()), (ZERO_GUID, ""));
    let token = w.docker_config()["auths"][&r.login_server]["identitytoken"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, post) = w.acr_access_token(&r.login_server, &token, "repository:x:pull");
    assert_eq!(post, 200);
}

/// A token request for the ARM audience (the admin watch's).
fn is_arm_scope(r: &fake_azure::LoggedRequest) -> bool {
    r.scope.as_deref().is_some_and(|s| s.contains("management"))
}
