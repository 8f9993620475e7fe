//! Failures: each is reported clearly, and nothing good is lost.

use crate::snapshot::names_of;
use acr_tray_tests::{World, argv};
use fake_azure::{Fault, FaultAction, FaultTarget, Role, Service};

#[test]
fn wrong_client_secret_is_explained_and_nothing_is_written() {
    let w = World::new();
    let sp = w.service_principal();
    let settings_before = std::fs::read(w.home.path().join("config.toml")).unwrap();
    let out = w
        .cli_stdin(
            &argv::strs(&argv::login_service_principal(&sp, &["--secret-stdin"])),
            "not-the-secret\n",
        )
        .expect_code(3);
    assert_message!(w, "wrong_client_secret_stderr", out.stderr, names_of(&sp));
    assert!(!out.stderr.contains("not-the-secret"));
    assert_eq!(
        std::fs::read(w.home.path().join("config.toml")).unwrap(),
        settings_before
    );
    assert!(w.secrets.keys().is_empty(), "no secret stored");
    assert!(
        !w.docker_config_path().exists(),
        "Docker's config untouched"
    );
}

#[test]
fn rotated_secret_fails_refresh_without_touching_docker() {
    let w = World::new();
    let (sp, _) = w.signed_in_registry("echoreg", Role::AcrPull);
    w.cli(&["refresh"]).expect_code(0);
    let before = std::fs::read(w.docker_config_path()).unwrap();
    // The keyring now holds a secret Entra no longer accepts.
    let key =
        acr_tray_engine::client_secret_key(&w.fake.authority_url(), &sp.tenant, &sp.client_id);
    acr_tray_engine::SecretStore::set(
        w.secrets.as_ref(),
        &key,
        &acr_tray_engine::Secret::new("stale"),
    )
    .unwrap();
    let out = w.cli(&["refresh"]).expect_code(3);
    assert_message!(
        w,
        "rotated_secret_refresh_stdout",
        out.stdout,
        names_of(&sp)
    );
    assert_eq!(std::fs::read(w.docker_config_path()).unwrap(), before);
}

#[test]
fn registry_without_role_fails_alone_naming_the_roles() {
    let w = World::new();
    let (sp, [good1, good2, bad]) = w.signed_in_registries([
        ("foxtrot1", Role::AcrPull),
        ("golf2222", Role::Owner),
        ("hotel333", Role::None),
    ]);
    let out = w.cli(&["refresh", "--json"]).expect_code(1);
    let results = out.json()["results"].as_array().unwrap().clone();
    for res in &results {
        if res["name"] == "hotel333" {
            assert_eq!(res["ok"], false);
            let msg = res["error"]["message"].as_str().unwrap();
            assert!(msg.contains("AcrPull") && msg.contains("AcrPush"), "{msg}");
            assert!(
                msg.contains(&sp.client_id) && msg.contains(&bad.login_server),
                "{msg}"
            );
            assert_eq!(res["error"]["kind"], "permission");
        } else {
            assert_eq!(res["ok"], true, "{res}");
        }
    }
    let cfg = w.docker_config();
    assert!(cfg["auths"][&good1.login_server].is_object());
    assert!(cfg["auths"][&good2.login_server].is_object());
    assert!(cfg["auths"].get(&bad.login_server).is_none());
    let bad_status = w.registry_status("hotel333");
    assert!(
        bad_status["lastError"]["hint"]
            .as_str()
            .unwrap()
            .contains("AcrPull")
    );
}

#[test]
fn acr_5xx_on_exchange_keeps_the_old_entry() {
    let w = World::new();
    let (_, [r, other]) =
        w.signed_in_registries([("india444", Role::AcrPush), ("juliet55", Role::AcrPush)]);
    w.cli(&["refresh"]).expect_code(0);
    let old_entry = w.docker_config()["auths"][&r.login_server].clone();
    let old_other = w.docker_config()["auths"][&other.login_server].clone();
    w.fake.add_fault(Fault {
        target: FaultTarget {
            service: Some(Service::Acr),
            host: Some(r.login_server.split(':').next().unwrap().to_owned()),
            path_prefix: Some("/oauth2/exchange".into()),
            grant_type: None,
        },
        action: FaultAction::Status {
            status: 503,
            body: None,
            retry_after: Some(30),
        },
        times: None,
    });
    let out = w.cli(&["refresh"]).expect_code(1);
    assert_message!(w, "acr_503_refresh_stdout", out.stdout);
    let cfg = w.docker_config();
    assert_eq!(cfg["auths"][&r.login_server], old_entry, "old entry kept");
    assert_ne!(
        cfg["auths"][&other.login_server], old_other,
        "the healthy registry was refreshed"
    );
    let s = w.registry_status("india444");
    assert_eq!(s["lastError"]["kind"], "transient");
    assert!(
        s["lastRefresh"].is_string(),
        "the last good refresh is still known"
    );
}

#[test]
fn unreachable_tls_without_trusted_ca_is_a_clear_error() {
    let w = World::new();
    let sp = w.service_principal();
    // Point at the fake without trusting its CA: TLS verification must fail, never be skipped.
    w.point_at_fake(false);
    let out = w.login(&sp).expect_code(1);
    assert_message!(w, "untrusted_ca_login_stderr", out.stderr);
    // SSL_CERT_FILE is honoured as an extra trust anchor.
    let mut w = w;
    w.extra_env.push((
        "SSL_CERT_FILE".into(),
        w.fake.ca_path().display().to_string(),
    ));
    w.login(&sp).expect_code(0);
}

#[test]
fn hanging_entra_times_out_with_a_clear_error() {
    let mut w = World::new();
    // The server never answers: any time-out is reached, a short one sooner.
    w.request_timeout = std::time::Duration::from_secs(5);
    let sp = w.service_principal();
    w.fake.add_fault(Fault {
        target: FaultTarget {
            service: Some(Service::Entra),
            host: None,
            path_prefix: None,
            grant_type: Some("client_credentials".into()),
        },
        action: FaultAction::Hang,
        times: Some(1),
    });
    let out = w.login(&sp).expect_code(1);
    assert_message!(w, "hanging_entra_login_stderr", out.stderr);
}

/// A server's words reach the terminal, the log and notifications: escape sequences, carriage
/// returns and bidirectional overrides in Entra's error description, and in a registry's
/// error message, are removed on the way.
#[test]
fn control_characters_from_servers_never_reach_the_terminal() {
    let w = World::new();
    let sp = w.service_principal();
    let r = w.registry("ctrlreg1", &sp, Role::AcrPull);
    w.fake.add_fault(
        Fault::new(
            FaultTarget::service(Service::Entra).path_prefix(format!("/{}/oauth2/", sp.tenant)),
            FaultAction::Status {
                status: 400,
                body: Some(
                    serde_json::json!({
                        "error": "invalid_client\u{1b}[2J",
                        "error_description": "AADSTS7000215: Invalid client secret\u{1b}]0;owned\u{7}\r\u{1b}[2K\u{202e}txt.exe provided.\r\nTrace ID: 1",
                        "error_codes": [7000215],
                    })
                    .to_string(),
                ),
                retry_after: None,
            },
        )
        .times(1),
    );
    let out = w.login(&sp).expect_code(1);
    assert_message!(
        w,
        "control_characters_login_stderr",
        out.stderr,
        names_of(&sp)
    );
    assert!(
        !out.stderr.contains(['\u{1b}', '\r', '\u{7}', '\u{202e}']),
        "{:?}",
        out.stderr
    );
    w.login_and_add(&sp, &[&r]);
    w.fake.add_fault(Fault::new(
        FaultTarget::service(Service::Acr).path_prefix("/oauth2/exchange"),
        FaultAction::Status {
            status: 400,
            body: Some(
                serde_json::json!({"errors": [{"code": "DENIED", "message": "no\u{1b}[31m way\u{9b}2J\u{200f}"}]})
                    .to_string(),
            ),
            retry_after: None,
        },
    ));
    let out = w.cli(&["refresh"]).expect_code(1);
    assert_message!(w, "control_characters_refresh_stderr", out.stderr);
    assert!(
        !out.stderr.contains(['\u{1b}', '\u{9b}', '\u{200f}']),
        "{:?}",
        out.stderr
    );
}
