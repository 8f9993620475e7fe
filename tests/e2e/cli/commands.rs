//! The command line itself: secrets handling, listings, exit codes.

use crate::snapshot::names_of;
use acr_tray_tests::{World, argv, assert_contains, assert_no_secrets};
use fake_azure::Role;

#[test]
fn without_a_keyring_login_offers_the_alternatives() {
    let w = World::new();
    let sp = w.service_principal();
    w.secrets
        .set_unavailable(Some("org.freedesktop.DBus.Error.ServiceUnknown"));
    let out = w.login(&sp).expect_code(3);
    assert_message!(w, "no_keyring_login_stderr", out.stderr, names_of(&sp));
    let settings = std::fs::read_to_string(w.home.path().join("config.toml")).unwrap();
    assert!(!settings.contains("[[identity]]"), "no half-done sign-in");

    // A user-only file named by the user.
    let secret_file = w.home.path().join("sp-secret");
    let path = secret_file.display().to_string();
    w.login_secret_file(&sp, &path).expect_code(0);
    #[cfg(unix)]
    assert_eq!(acr_tray_tests::file_mode(&secret_file), 0o600);
    let r = w.registry("sierra11", &sp, Role::AcrPull);
    w.cli(&["registry", "add", &r.name]).expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
    let settings = std::fs::read_to_string(w.home.path().join("config.toml")).unwrap();
    assert_contains(&settings, "sp-secret");
    assert_no_secrets("settings", &settings, &[&sp.secret]);
}

#[test]
fn secret_from_env_is_read_at_run_time_only() {
    let mut w = World::new();
    let sp = w.service_principal();
    w.extra_env
        .push(("AZURE_CLIENT_SECRET".into(), sp.secret.clone()));
    w.cli(&argv::strs(&argv::login_service_principal(
        &sp,
        &["--secret-from-env"],
    )))
    .expect_code(0);
    assert!(w.secrets.keys().is_empty());
    let r = w.registry("tango111", &sp, Role::AcrPull);
    w.cli(&["registry", "add", &r.name]).expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
    w.extra_env.clear();
    let out = w.cli(&["refresh"]).expect_code(3);
    assert_message!(
        w,
        "secret_env_unset_refresh_stdout",
        out.stdout,
        names_of(&sp)
    );
}

#[test]
fn secrets_are_never_taken_from_the_command_line() {
    let w = World::new();
    let out = w.cli(&[
        "login",
        "--service-principal",
        "--tenant",
        "t",
        "--client-id",
        "c",
        "--secret",
        "x",
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_message!(w, "secret_on_command_line_stderr", out.stderr);
    let out = w
        .cli(&[
            "login",
            "--service-principal",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--client-id",
            "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        ])
        .expect_code(2);
    assert_message!(w, "no_secret_source_stderr", out.stderr);
}

#[test]
fn registries_are_added_listed_and_removed_and_logout_leaves_them_asking_for_a_sign_in() {
    let w = World::new();
    let sp = w.service_principal();
    w.cli(&["registry", "add", "uniform1"]).expect_code(2);
    w.login(&sp).expect_code(0);
    let out = w.cli(&["registry", "add", "UniForm1"]).expect_code(0);
    assert_message!(w, "upper_case_registry_add_stderr", out.stderr);
    let out = w.cli(&["registry", "add", "bad_name"]).expect_code(2);
    assert_message!(w, "bad_name_registry_add_stderr", out.stderr);
    w.cli(&["registry", "add", "abc"]).expect_code(2);
    let out = w.cli(&["registry", "list"]).expect_code(0);
    assert_message!(
        w,
        "registry_list_stdout",
        out.stdout,
        vec![(sp.client_id.to_string(), "[CLIENT-ID]")]
    );
    let list = w.cli(&["registry", "list", "--json"]).expect_code(0).json();
    assert_eq!(list[0]["name"], "uniform1");
    assert_eq!(list[0]["loginServer"], w.fake.login_server("uniform1"));
    assert_eq!(list[0]["identity"], sp.client_id);
    w.cli(&["refresh", "nosuchreg"]).expect_code(2);
    // After sign-out the registry stays configured and asks for a sign-in.
    let out = w.cli(&["logout", &sp.client_id]).expect_code(0);
    assert_message!(
        w,
        "logout_one_stdout",
        out.stdout,
        vec![(sp.client_id.to_string(), "[CLIENT-ID]")]
    );
    let out = w.cli(&["refresh"]).expect_code(3);
    assert_message!(w, "signed_out_refresh_stdout", out.stdout, names_of(&sp));
    let out = w.cli(&["status"]).expect_code(0);
    assert_message!(w, "signed_out_status_stdout", out.stdout, names_of(&sp));
    w.login(&sp).expect_code(0);
    w.cli(&["registry", "remove", "uniform1"]).expect_code(0);
    w.cli(&["registry", "remove", "uniform1"]).expect_code(2);
    assert_eq!(
        w.cli(&["registry", "list", "--json"]).expect_code(0).json(),
        serde_json::json!([])
    );
    let out = w.cli(&["logout"]).expect_code(0);
    assert_message!(
        w,
        "logout_all_stdout",
        out.stdout,
        vec![(sp.client_id.to_string(), "[CLIENT-ID]")]
    );
    assert!(w.secrets.keys().is_empty(), "secret forgotten");
    let status = w.cli(&["status", "--json"]).expect_code(0).json();
    assert_eq!(status["identities"], serde_json::json!([]));
}

#[test]
fn a_cloud_is_set_by_name_or_https_endpoints_and_a_failed_change_changes_nothing() {
    let w = World::new();
    let shown = w.cli(&["cloud", "show", "--json"]).expect_code(0).json();
    assert_eq!(shown["name"], "custom");
    assert_eq!(shown["acrSuffix"], w.fake.acr_suffix());
    assert_eq!(shown["acrAudience"], "https://containerregistry.azure.net");
    w.cli(&["cloud", "set", "AzureUSGovernment"]).expect_code(0);
    let shown = w.cli(&["cloud", "show", "--json"]).expect_code(0).json();
    assert_eq!(shown["acrSuffix"], "azurecr.us");
    assert_eq!(shown["authority"], "https://login.microsoftonline.us");
    let out = w
        .cli(&[
            "cloud",
            "set",
            "custom",
            "--authority",
            "http://insecure.example",
            "--arm",
            "https://a.example",
            "--acr-suffix",
            "x.example",
        ])
        .expect_code(2);
    assert_message!(w, "plain_http_cloud_set_stderr", out.stderr);
    let out = w.cli(&["cloud", "set", "Mars"]).expect_code(2);
    assert_message!(w, "unknown_cloud_set_stderr", out.stderr);
    let shown = w.cli(&["cloud", "show", "--json"]).expect_code(0).json();
    assert_eq!(
        shown["name"], "AzureUSGovernment",
        "failed changes change nothing"
    );
}

#[test]
fn help_documents_exit_codes() {
    let w = World::new();
    // Help is wrapped to the terminal that runs the tests (up to 100 columns): compared word by
    // word, one line a paragraph.
    let words = |text: &str| {
        text.split("\n\n")
            .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let out = w.cli(&["--help"]).expect_code(0);
    assert_message!(w, "help_words", words(&out.stdout));
    let out = w.cli(&["refresh", "--help"]).expect_code(0);
    assert_message!(w, "refresh_help_words", words(&out.stdout));
}
