//! `registry add NAME --acr-token TOKEN --password-stdin`, end to end.

use acr_tray_tests::{World, argv, assert_no_secrets};
use chrono::{TimeDelta, Utc};
use fake_azure::PasswordName;

use super::{TOKEN, token_registry};

/// The keyring keys of ACR-token passwords.
fn token_keys(w: &World) -> Vec<String> {
    w.secrets
        .keys()
        .into_iter()
        .filter(|k| k.starts_with("acr-token-password/"))
        .collect()
}

#[test]
fn a_token_password_is_proven_kept_in_the_keyring_and_written_for_docker() {
    let w = World::new();
    let sp = w.service_principal();
    w.login(&sp).expect_code(0);
    let (reg, token) = token_registry(&w.fake, "tokenadd1", Some(&sp.object_id));
    let add = argv::registry_add_acr_token(&reg.name, TOKEN, Some(&sp.client_id));

    // A wrong password is refused by the registry before anything is kept.
    let out = w
        .cli_stdin(&argv::strs(&add), "not-the-password\n")
        .expect_code(2);
    assert_message!(w, "acr_token_wrong_password_stderr", out.stderr);
    assert_eq!(token_keys(&w), Vec::<String>::new());
    assert!(!w.settings_text().contains("tokenadd1"));

    let password = &token.passwords[1];
    let out = w
        .cli_stdin(&argv::strs(&add), &format!("{password}\n"))
        .expect_code(0);
    assert_message!(w, "acr_token_registry_add_stdout", out.stdout);
    let mut said = format!("{}{}", out.stdout, out.stderr);
    // Under a key naming the cloud's authority, the login server and the token.
    let keys = token_keys(&w);
    assert_eq!(keys.len(), 1, "{keys:?}");
    let authority = w.fake.authority_url();
    let authority = authority
        .trim_start_matches("https://")
        .trim_end_matches('/');
    assert_eq!(
        keys[0],
        format!(
            "acr-token-password/{authority}/{}/{TOKEN}",
            reg.login_server
        )
    );
    let settings = w.settings_text();
    assert!(settings.contains("auth = \"acr-token\""), "{settings}");
    assert!(
        settings.contains("acr_token = \"pull-token\""),
        "{settings}"
    );

    let out = w.cli(&["-vv", "refresh"]).expect_code(0);
    said.push_str(&out.stdout);
    said.push_str(&out.stderr);
    assert_eq!(
        w.docker_auth(&reg.login_server),
        (TOKEN.to_owned(), password.clone())
    );
    // `check` proves it the way `docker login` would, and the scope map's grants show.
    let check = w
        .cli(&["check", &reg.name, "--repository", "app", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(check["authenticated"], true, "{check}");
    assert_eq!(check["username"], TOKEN, "{check}");
    assert_eq!(check["granted"], serde_json::json!(["pull"]), "{check}");
    let list = w.cli(&["registry", "list"]).expect_code(0).stdout;
    assert_message!(w, "acr_token_registry_list_stdout", list);
    let status = w.registry_status(&reg.name);
    assert_eq!(status["acrToken"]["token"], TOKEN);
    assert_eq!(status["acrToken"]["watchedBy"], sp.client_id.as_str());
    assert_eq!(status["acrToken"]["enabled"], true);
    assert!(status["lastError"].is_null(), "{status}");

    // The password is nowhere but the keyring (and Docker's config): not in what the CLI
    // said, nor in any file of ACR Tray's (settings, state, logs).
    assert_no_secrets("the CLI's output", &said, &[password]);
    for (path, text) in w.home_files() {
        assert_no_secrets(&path.display().to_string(), &text, &[password]);
    }

    // Signing it in another way forgets the password; so does removing it.
    w.cli(&["registry", "add", &reg.name, "--identity", &sp.client_id])
        .expect_code(0);
    assert_eq!(
        token_keys(&w),
        Vec::<String>::new(),
        "forgotten when replaced"
    );
    w.cli_stdin(&argv::strs(&add), &format!("{password}\n"))
        .expect_code(0);
    assert_eq!(token_keys(&w).len(), 1);
    w.cli(&["registry", "remove", &reg.name]).expect_code(0);
    assert_eq!(
        token_keys(&w),
        Vec::<String>::new(),
        "forgotten with the registry"
    );
}

#[test]
fn an_expired_token_password_fails_the_refresh_saying_what_to_do() {
    let w = World::new();
    let (reg, token) = token_registry(&w.fake, "tokenexp1", None);
    let out = w
        .cli_stdin(
            &argv::strs(&argv::registry_add_acr_token(&reg.name, TOKEN, None)),
            &format!("{}\n", token.passwords[0]),
        )
        .expect_code(0);
    assert_message!(w, "acr_token_unwatched_registry_add_stderr", out.stderr);
    let status = w.cli(&["status"]).expect_code(0).stdout;
    assert!(
        status.contains("acr token:     pull-token (expiry not watched: add the registry again with --identity ID"),
        "{status}"
    );
    w.fake.set_acr_token_password_expiry(
        &reg.name,
        TOKEN,
        PasswordName::Password1,
        Some(Utc::now() - TimeDelta::hours(1)),
    );
    let out = w.cli(&["refresh"]).expect_code(1);
    assert_message!(w, "acr_token_expired_refresh_stdout", out.stdout);
}
