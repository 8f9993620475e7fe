//! Tests of `output`.

use super::*;

#[test]
fn when_says_in_or_ago() {
    let now = Utc::now();
    assert!(when(now + chrono::TimeDelta::minutes(179), now).ends_with("(in 2h 59m)"));
    assert!(when(now - chrono::TimeDelta::minutes(5), now).ends_with("(5m ago)"));
    assert!(when(now - chrono::TimeDelta::milliseconds(500), now).ends_with("(just now)"));
}

/// What a renderer wrote, with `--json`.
fn json_of(render: impl FnOnce(&mut Out)) -> String {
    let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out: Out = Box::new(Shared(buf.clone()));
    render(&mut out);
    let bytes = buf.lock().map(|b| b.clone()).unwrap_or_default();
    String::from_utf8(bytes).expect("utf-8")
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

// The `--json` shapes, whole and byte for byte (field names, order, null fields and value
// formats are what scripts and the README rely on).

#[test]
fn check_text_says_what_is_and_is_not_granted_and_nothing_granted_is_exit_code_1() {
    use acr_tray_engine::{CheckReport, CredentialSource, RepositoryAction};
    let mut report = CheckReport {
        name: "alpha".into(),
        login_server: "alpha.azurecr.io".into(),
        source: CredentialSource::ConfigFile,
        username: "alpha".into(),
        authenticated: true,
        repository: None,
        granted: vec![],
        expires_at: None,
        hint: None,
        advice: None,
    };
    let text = |r: &CheckReport| {
        let result = Ok(r.clone());
        json_of(|out| check(out, "alpha", r.repository.as_deref(), &result, false))
    };
    assert_eq!(
        text(&report),
        "Docker's credential for alpha (alpha.azurecr.io): user alpha and password in config.json \"auths\"\nok      authenticated: the registry issued a token and /v2/ accepted it\n"
    );
    assert_eq!(check_code(&report), crate::EXIT_OK);
    report.repository = Some("team/app".into());
    assert_eq!(
        text(&report),
        "Docker's credential for alpha (alpha.azurecr.io): user alpha and password in config.json \"auths\"\nDENIED  team/app: nothing granted (asked for pull, push, delete)\n        hint: the credential's role or scope map does not cover this repository; ask the registry's owner for one that does\n"
    );
    assert_eq!(check_code(&report), crate::EXIT_FAILED);
    report.granted = vec![RepositoryAction::Push];
    assert!(
        text(&report)
            .contains("ok      team/app: granted push\n        not granted: pull, delete\n")
    );
    assert_eq!(check_code(&report), crate::EXIT_OK);
}

#[test]
fn check_json() {
    use acr_tray_engine::{CheckReport, CredentialSource, RepositoryAction};
    let report: Result<CheckReport, acr_tray_engine::Error> = Ok(CheckReport {
        name: "alpha".into(),
        login_server: "alpha.azurecr.io".into(),
        source: CredentialSource::Helper {
            helper: "desktop".into(),
            key: "credsStore".into(),
        },
        username: acr_tray_engine::ZERO_GUID.into(),
        authenticated: true,
        repository: Some("team/app".into()),
        granted: vec![RepositoryAction::Pull, RepositoryAction::Push],
        expires_at: Some(at("2026-11-23T14:05:00Z")),
        hint: None,
        advice: None,
    });
    assert_eq!(
        json_of(|out| check(out, "alpha", Some("team/app"), &report, true)),
        r#"{
  "registry": "alpha",
  "loginServer": "alpha.azurecr.io",
  "source": {
    "kind": "helper",
    "helper": "desktop",
    "key": "credsStore"
  },
  "username": "00000000-0000-0000-0000-000000000000",
  "authenticated": true,
  "repository": "team/app",
  "granted": [
    "pull",
    "push"
  ],
  "expiresAt": "2026-11-23T14:05:00Z",
  "error": null
}
"#
    );
    let failed: Result<CheckReport, acr_tray_engine::Error> =
        Err(acr_tray_engine::Error::UnknownRegistry {
            name: "beta".into(),
        });
    assert_eq!(
        json_of(|out| check(out, "beta", None, &failed, true)),
        r#"{
  "registry": "beta",
  "loginServer": null,
  "source": null,
  "username": null,
  "authenticated": false,
  "repository": null,
  "granted": [],
  "expiresAt": null,
  "error": {
    "kind": "configuration",
    "message": "no registry named beta is configured",
    "hint": "see `acr-tray-cli registry list`"
  }
}
"#
    );
}

#[test]
fn cloud_json() {
    let cloud = Cloud::from_settings(&Default::default()).expect("cloud");
    let json = json_of(|out| super::cloud(out, &cloud, true));
    assert_eq!(
        json,
        r#"{
  "name": "AzureCloud",
  "authority": "https://login.microsoftonline.com",
  "arm": "https://management.azure.com/",
  "armAudience": "https://management.core.windows.net/",
  "acrSuffix": "azurecr.io",
  "acrAudience": "https://containerregistry.azure.net",
  "caFile": null,
  "imdsEndpoint": null
}
"#
    );
}

#[test]
fn registries_json() {
    use acr_tray_engine::HostPort;
    use acr_tray_engine::{RegistryAuth, RegistryConfig};
    let mut settings = Settings {
        registries: vec![
            RegistryConfig {
                name: "alpha".into(),
                login_server: HostPort::parse("alpha.azurecr.io").expect("host"),
                identity: Some("app".into()),
                auth: RegistryAuth::Identity,
                admin_username: None,
                acr_token: None,
                acr_token_password: None,
                arm_id: None,
                trusted_custom_domain: false,
                tenant: None,
            },
            RegistryConfig {
                name: "beta".into(),
                login_server: HostPort::parse("registry.example.com:8443").expect("host"),
                identity: None,
                auth: RegistryAuth::AdminPassword,
                admin_username: Some("beta".into()),
                acr_token: None,
                acr_token_password: None,
                arm_id: None,
                trusted_custom_domain: true,
                tenant: None,
            },
        ],
        ..Default::default()
    };
    assert_eq!(
        json_of(|out| registries(out, &settings, true)),
        r#"[
  {
    "name": "alpha",
    "loginServer": "alpha.azurecr.io",
    "identity": "app",
    "auth": "identity",
    "adminUsername": null,
    "trustedCustomDomain": false
  },
  {
    "name": "beta",
    "loginServer": "registry.example.com:8443",
    "identity": null,
    "auth": "admin-password",
    "adminUsername": "beta",
    "trustedCustomDomain": true
  }
]
"#
    );
    settings.registries.clear();
    assert_eq!(json_of(|out| registries(out, &settings, true)), "[]\n");
}

#[test]
fn refresh_json() {
    use acr_tray_engine::Audience;
    use acr_tray_engine::Refreshed;
    let outcomes = [
        RegistryOutcome {
            name: "alpha".into(),
            login_server: "alpha.azurecr.io".into(),
            identity: "app".into(),
            result: Ok(Refreshed {
                audience: Some(Audience::Acr),
                expires_at: Some(at("2026-11-23T17:05:00Z")),
                role: None,
            }),
        },
        RegistryOutcome {
            name: "beta".into(),
            login_server: "beta.azurecr.io".into(),
            identity: "admin".into(),
            result: Ok(Refreshed {
                audience: None,
                expires_at: None,
                role: None,
            }),
        },
        RegistryOutcome {
            name: "gamma".into(),
            login_server: "gamma.azurecr.io".into(),
            identity: "app".into(),
            result: Err(acr_tray_engine::Error::invalid_input(
                "no such thing",
                "add it",
            )),
        },
    ];
    assert_eq!(
        json_of(|out| refresh(out, &outcomes, true)),
        r#"{
  "results": [
    {
      "name": "alpha",
      "loginServer": "alpha.azurecr.io",
      "identity": "app",
      "ok": true,
      "audience": "acr",
      "expiresAt": "2026-11-23T17:05:00Z"
    },
    {
      "name": "beta",
      "loginServer": "beta.azurecr.io",
      "identity": "admin",
      "ok": true,
      "audience": null,
      "expiresAt": null
    },
    {
      "name": "gamma",
      "loginServer": "gamma.azurecr.io",
      "identity": "app",
      "ok": false,
      "error": {
        "kind": "configuration",
        "message": "no such thing",
        "hint": "add it"
      }
    }
  ]
}
"#
    );
}

#[test]
fn discovery_json() {
    use acr_tray_engine::{DiscoveredRegistry, UnlistedRegistry};
    let found = vec![
        (
            "app".to_owned(),
            Ok(Discovery {
                identity: "app".into(),
                registries: vec![DiscoveredRegistry {
                    name: "alpha".into(),
                    login_server: "alpha.azurecr.io".into(),
                    subscription: "sub".into(),
                    resource_group: "rg".into(),
                    sku: Some("Basic".into()),
                    admin_user_enabled: Some(false),
                    arm_audience_accepted: None,
                    added: true,
                    repository_permissions: false,
                    tenant: None,
                }],
                tenants: Vec::new(),
                unlisted: vec![UnlistedRegistry {
                    name: "beta".into(),
                    login_server: "beta.azurecr.io".into(),
                    reason: "not visible".into(),
                }],
                notice: None,
            }),
        ),
        (
            "user@example.com".to_owned(),
            Err(acr_tray_engine::Error::invalid_input(
                "cannot list",
                "sign in",
            )),
        ),
    ];
    let mut err = Vec::new();
    let json = json_of(|out| discovery(out, &mut err, &found, true));
    let ok = serde_json::to_string_pretty(&found[0].1.as_ref().expect("found")).expect("json");
    let indented = ok.replace('\n', "\n  ");
    assert_eq!(
        json,
        format!(
            r#"[
  {indented},
  {{
    "identity": "user@example.com",
    "error": {{
      "kind": "configuration",
      "message": "cannot list",
      "hint": "sign in"
    }}
  }}
]
"#
        )
    );
    assert!(err.is_empty());
}

#[test]
fn registry_status_json() {
    use acr_tray_engine::AdminWatchState;
    use acr_tray_engine::Audience;
    use acr_tray_engine::RegistryRole;
    use acr_tray_engine::RegistryStatus;
    use acr_tray_engine::StoredError;
    let full = RegistryStatus {
        name: "alpha".into(),
        login_server: "alpha.azurecr.io".into(),
        identity: "app".into(),
        audience: Some(Audience::Arm),
        last_refresh: Some(at("2026-11-23T14:05:00Z")),
        expires_at: Some(at("2026-11-23T17:05:00Z")),
        last_error: Some(StoredError {
            at: at("2026-11-23T15:00:00Z"),
            kind: acr_tray_engine::ErrorKind::Transient,
            message: "HTTP 503".into(),
            hint: None,
        }),
        role: Some(RegistryRole::AcrPush),
        admin: Some(AdminWatchState {
            enabled: Some(true),
            checked_at: Some(at("2026-11-23T14:00:00Z")),
            passwords_readable: Some(false),
            ..Default::default()
        }),
        tenant: Some("7c1e2d3f-0000-4000-8000-000000000002".into()),
        tenant_name: Some("Partner".into()),
        acr_token: None,
    };
    let bare = RegistryStatus {
        name: "beta".into(),
        login_server: "beta.azurecr.io".into(),
        identity: "app".into(),
        audience: None,
        last_refresh: None,
        expires_at: None,
        last_error: None,
        role: None,
        admin: None,
        tenant: None,
        tenant_name: None,
        acr_token: None,
    };
    let statuses = [full, bare];
    let list: Vec<json::RegistryStatusJson<'_>> = statuses.iter().map(Into::into).collect();
    assert_eq!(
        json_of(|out| print_json(out, &list)),
        r#"[
  {
    "name": "alpha",
    "loginServer": "alpha.azurecr.io",
    "identity": "app",
    "audience": "arm",
    "lastRefresh": "2026-11-23T14:05:00Z",
    "expiresAt": "2026-11-23T17:05:00Z",
    "role": "AcrPush",
    "can": "push",
    "adminAccount": {
      "enabled": true,
      "checkedAt": "2026-11-23T14:00:00Z",
      "passwordsWatched": false,
      "notWatched": null
    },
    "lastError": {
      "at": "2026-11-23T15:00:00Z",
      "kind": "transient",
      "message": "HTTP 503",
      "hint": null
    },
    "tenant": "7c1e2d3f-0000-4000-8000-000000000002",
    "tenantName": "Partner"
  },
  {
    "name": "beta",
    "loginServer": "beta.azurecr.io",
    "identity": "app",
    "audience": null,
    "lastRefresh": null,
    "expiresAt": null,
    "role": null,
    "can": null,
    "adminAccount": null,
    "lastError": null
  }
]
"#
    );
}

/// A CA file whose path is not UTF-8 is shown as it reads (the JSON built with `json!`
/// panicked on it).
#[cfg(unix)]
#[test]
fn cloud_json_shows_a_ca_file_path_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let mut cloud = Cloud::from_settings(&Default::default()).expect("cloud");
    cloud.ca_file = Some(std::ffi::OsStr::from_bytes(b"/etc/ca-\xff.pem").into());
    let json = json_of(|out| super::cloud(out, &cloud, true));
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(value["caFile"], "/etc/ca-\u{fffd}.pem");
}

#[test]
fn an_acr_token_line_says_its_state_or_why_it_is_not_watched() {
    use acr_tray_engine::{AcrTokenStatus, AcrTokenWatchState, TokenPassword, WatchedPassword};
    let now = at("2026-11-23T14:00:00Z");
    let status = |watched_by: Option<&str>, watch: Option<AcrTokenWatchState>| AcrTokenStatus {
        token: "pull-token".into(),
        watched_by: watched_by.map(str::to_owned),
        watch,
    };
    let watched = AcrTokenWatchState {
        token: Some("pull-token".into()),
        enabled: Some(true),
        passwords: [
            (
                TokenPassword::Password1,
                WatchedPassword {
                    expiry: Some(at("2026-12-23T14:00:00Z")),
                    notified_within_days: None,
                },
            ),
            (
                TokenPassword::Password2,
                WatchedPassword {
                    expiry: Some(at("2026-12-01T14:00:00Z")),
                    notified_within_days: Some(14),
                },
            ),
        ]
        .into(),
        ..Default::default()
    };
    let line = acr_token_line(&status(Some("app"), Some(watched.clone())), now);
    assert!(
        line.starts_with("pull-token, enabled; password2 expires ")
            && line.ends_with("(watched by app)"),
        "{line}"
    );
    let disabled = AcrTokenWatchState {
        enabled: Some(false),
        passwords: Default::default(),
        ..watched
    };
    assert_eq!(
        acr_token_line(&status(Some("app"), Some(disabled)), now),
        "pull-token, disabled; no password expires (watched by app)"
    );
    let refused = AcrTokenWatchState {
        not_watched: Some("app cannot read the token pull-token in ARM".into()),
        ..Default::default()
    };
    assert_eq!(
        acr_token_line(&status(Some("app"), Some(refused)), now),
        "pull-token (not watched: app cannot read the token pull-token in ARM)"
    );
    assert_eq!(
        acr_token_line(&status(Some("app"), None), now),
        "pull-token (watched by app; not read yet)"
    );
    assert!(
        acr_token_line(&status(None, None), now)
            .contains("expiry not watched: add the registry again with --identity ID")
    );
}
