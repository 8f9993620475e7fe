#![allow(clippy::cloned_ref_to_slice_refs)] // the tables read better with clones
use chrono::{TimeDelta, TimeZone, Utc};

use super::overview::{admin_view, tray_state};
use super::view::*;
use crate::store::state::AdminWatchState;

fn account(id: &str, health: AccountHealth, registries: u32) -> AccountView {
    AccountView {
        id: id.to_owned(),
        kind: IdentityKindName::User,
        label: id.to_owned(),
        tenant: None,
        health,
        sign_in_required: None,
        interactive: true,
        last_sign_in: None,
        expected_session_end: None,
        registry_count: registries,
        tenants: Vec::new(),
    }
}

fn registry(name: &str, health: RegistryHealth, left: Option<TimeDelta>) -> RegistryView {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    RegistryView {
        name: name.to_owned(),
        login_server: format!("{name}.azurecr.io"),
        sign_in: RegistrySignInView::Identity {
            identity: "dev".to_owned(),
        },
        health,
        last_refresh: None,
        expires_at: left.map(|d| now + d),
        next_refresh: None,
        last_error: None,
        audience: None,
        trusted_custom_domain: false,
        tenant: None,
        tenant_id: None,
        role: None,
        repository_permissions: false,
        role_name: None,
        admin_account: None,
    }
}

#[test]
fn the_tray_shows_the_most_urgent_state() {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    let ok = account("dev", AccountHealth::Ok, 1);
    let fresh = registry("alpha1", RegistryHealth::Ok, Some(TimeDelta::hours(2)));
    assert_eq!(tray_state(now, &[ok.clone()], &[], &[]), TrayState::Empty);
    assert_eq!(
        tray_state(now, &[ok.clone()], &[fresh.clone()], &[]),
        TrayState::Ok
    );
    // Less than an hour left means renewals have been failing.
    let low = registry("bravo1", RegistryHealth::Ok, Some(TimeDelta::minutes(59)));
    assert_eq!(
        tray_state(now, &[ok.clone()], &[fresh.clone(), low.clone()], &[]),
        TrayState::Attention
    );
    let failing = registry(
        "charlie",
        RegistryHealth::Failing,
        Some(TimeDelta::hours(2)),
    );
    assert_eq!(
        tray_state(now, &[ok.clone()], &[fresh.clone(), failing.clone()], &[]),
        TrayState::Attention
    );
    let refreshing = registry("delta1", RegistryHealth::Refreshing, None);
    assert_eq!(
        tray_state(now, &[ok.clone()], &[failing.clone(), refreshing], &[]),
        TrayState::Refreshing
    );
    // A session about to end asks for attention only when the identity is in use.
    let expiring = account("dev", AccountHealth::ExpiringSoon, 1);
    assert_eq!(
        tray_state(now, &[expiring], &[fresh.clone()], &[]),
        TrayState::Attention
    );
    let unused_expiring = account("old", AccountHealth::ExpiringSoon, 0);
    assert_eq!(
        tray_state(now, &[ok.clone(), unused_expiring], &[fresh.clone()], &[]),
        TrayState::Ok
    );
    // Sign-in required beats everything, but not for an identity no registry uses.
    let ended = account("dev", AccountHealth::SignInRequired, 1);
    assert_eq!(
        tray_state(now, &[ended], &[failing.clone()], &[]),
        TrayState::SignInRequired
    );
    let unused_ended = account("old", AccountHealth::SignInRequired, 0);
    assert_eq!(
        tray_state(now, &[ok, unused_ended], &[fresh], &[]),
        TrayState::Ok
    );
}

#[test]
fn a_client_file_that_cannot_be_written_asks_for_attention() {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    let ok = account("dev", AccountHealth::Ok, 1);
    let fresh = registry("alpha1", RegistryHealth::Ok, Some(TimeDelta::hours(2)));
    let stored = crate::store::state::ClientFileState {
        client: crate::events::Client::Helm,
        last_error: crate::store::state::StoredError {
            at: now,
            kind: crate::error::ErrorKind::DockerConfig,
            message: "/h/helm.json is not valid".into(),
            hint: Some(crate::hint::Hint::text("fix the JSON by hand")),
        },
    };
    let failing = ClientFileView::from_state("/h/helm.json", &stored);
    assert_eq!(failing.what, "Helm's registry config");
    assert_eq!(failing.hint.as_deref(), Some("fix the JSON by hand"));
    assert_eq!(
        tray_state(now, &[ok.clone()], &[fresh.clone()], &[failing.clone()]),
        TrayState::Attention
    );
    assert_eq!(
        tray_state(now, &[ok.clone()], &[fresh.clone()], &[]),
        TrayState::Ok
    );
    // More urgent states still come first.
    let ended = account("dev", AccountHealth::SignInRequired, 1);
    assert_eq!(
        tray_state(now, &[ended], &[fresh], &[failing]),
        TrayState::SignInRequired
    );
}

#[test]
fn inputs_with_secrets_never_print_them() {
    let sp: ServicePrincipalSignIn = serde_json::from_str(
        r#"{"tenant":"t","clientId":"c","credential":{"kind":"secret","secret":"hunter2"}}"#,
    )
    .unwrap();
    assert!(!format!("{sp:?}").contains("hunter2"), "{sp:?}");
    let add: AddRegistry = serde_json::from_str(
        r#"{"nameOrLoginServer":"myreg1","trustCustomDomain":false,
            "signIn":{"kind":"adminPassword","username":"myreg1","password":"hunter2"}}"#,
    )
    .unwrap();
    assert!(!format!("{add:?}").contains("hunter2"), "{add:?}");
}

#[test]
fn cloud_inputs_parse_as_the_ui_sends_them() {
    let c: CloudInput = serde_json::from_str(r#"{"kind":"AzureUSGovernment"}"#).unwrap();
    assert_eq!(c, CloudInput::AzureUSGovernment);
    let c: CloudInput = serde_json::from_str(
        r#"{"kind":"custom","authority":"https://login.x","arm":"https://management.x/",
            "acrSuffix":"azurecr.x","acrAudience":null,"caFile":"/ca.pem"}"#,
    )
    .unwrap();
    assert!(matches!(
        c,
        CloudInput::Custom {
            ca_file: Some(_),
            ..
        }
    ));
}

#[test]
fn an_enabled_admin_account_carries_the_engines_warning() {
    let watched = |enabled| AdminWatchState {
        enabled,
        ..Default::default()
    };
    let on = admin_view(&watched(Some(true)));
    assert_eq!(
        on.warning.as_deref(),
        Some(super::words::ADMIN_ENABLED_WARNING)
    );
    assert!(
        on.warning
            .unwrap()
            .contains("recommend keeping the admin account disabled")
    );
    assert_eq!(admin_view(&watched(Some(false))).warning, None);
    assert_eq!(admin_view(&watched(None)).warning, None);
    // Not watched: nothing is known, so nothing is claimed.
    let unwatched = AdminWatchState {
        enabled: Some(true),
        not_watched: Some("needs Reader".into()),
        ..Default::default()
    };
    assert_eq!(admin_view(&unwatched).warning, None);
}

/// The window's discovery gives a tenant that could not be listed as an error with its hint in
/// the app's words (the engine's keeps a bare string for the CLI's JSON).
#[test]
fn a_tenant_that_cannot_be_listed_says_why_and_what_to_do_in_the_app_s_words() {
    use crate::engine::discovery as engine;
    use crate::error::ErrorKind;
    use crate::hint::{Action, Hint, SignInMethod};
    let tenant = |id: &str, error: Option<(&str, ErrorKind, Hint)>, demands: bool| {
        let (error, error_kind, hint) = match error {
            Some((e, k, h)) => (Some(e.to_owned()), Some(k), Some(h)),
            None => (None, None, None),
        };
        engine::DiscoveredTenant {
            id: id.to_owned(),
            name: format!("Tenant {id}"),
            domain: None,
            home: id == "t1",
            error,
            sign_in_required: demands,
            hint,
            error_kind,
        }
    };
    let at_tenant = Hint::text("")
        .run(Action::sign_in_with(
            Some("dana"),
            SignInMethod::AtTenant {
                tenant: "Tenant t2".into(),
                name: None,
            },
        ))
        .then(" to answer it");
    let found: Discovery = engine::Discovery {
        identity: "dana".into(),
        registries: Vec::new(),
        tenants: vec![
            tenant("t1", None, false),
            tenant(
                "t2",
                Some((
                    "Tenant t2 requires MFA",
                    ErrorKind::SignInRequired,
                    at_tenant,
                )),
                true,
            ),
            tenant(
                "t3",
                Some(("ARM refused", ErrorKind::Permission, Hint::none())),
                false,
            ),
        ],
        unlisted: Vec::new(),
        notice: None,
    }
    .into();
    assert_eq!(found.tenants[0].error, None);
    let demanding = found.tenants[1].error.as_ref().expect("an error");
    assert_eq!(demanding.code, ErrorCode::SignInRequired);
    assert_eq!(demanding.message, "Tenant t2 requires MFA");
    assert_eq!(
        demanding.hint.as_deref(),
        Some("use “Sign in to tenant Tenant t2…” under Accounts in Settings to answer it")
    );
    assert!(found.tenants[1].sign_in_required);
    let refused = found.tenants[2].error.as_ref().expect("an error");
    assert_eq!(refused.code, ErrorCode::Permission);
    assert_eq!(refused.hint, None, "an empty hint is no hint");
    let json = serde_json::to_value(&found.tenants[1]).expect("serializes");
    assert_eq!(json["error"]["code"], "signInRequired");
}

/// The General page's Helm switch is `[clients] helm` in config.toml: saved there with the rest
/// of the file kept, and shown back, with the file each refresh then writes.
#[tokio::test]
async fn the_helm_switch_is_saved_to_config_toml_and_shown_with_helm_s_file() {
    use std::sync::Arc;

    use crate::engine::EngineOptions;
    use crate::env::Env;
    use crate::store::secrets::MemoryStore;

    let home = tempfile::tempdir().expect("tmp");
    let config = home.path().join("config.toml");
    let helm_file = home.path().join("helm-registry.json");
    let mine = "# Mine: CI's folder.\n[docker]\nextra_configs = [\"~/ci-docker\"] # keep\n";
    std::fs::write(&config, mine).expect("write");
    let options = EngineOptions {
        env: Env::from_pairs([
            ("ACR_TRAY_HOME", home.path().display().to_string()),
            ("HELM_REGISTRY_CONFIG", helm_file.display().to_string()),
        ]),
        secrets: Arc::new(MemoryStore::new()),
        ..EngineOptions::from_process()
    };
    let service = super::Service::start(options, "test", Arc::new(crate::notify::LogNotifier))
        .expect("service");
    let shown = service.overview().borrow().general.clone();
    assert!(!shown.helm);
    let helm_path = Some(helm_file.display().to_string());
    assert_eq!(shown.helm_registry_config, helm_path);

    let set = |helm| GeneralSettings {
        helm,
        // Shown only: what the window sends back here is not a setting.
        helm_registry_config: Some("/elsewhere.json".into()),
        ..shown.clone()
    };
    let saved = service.set_general(set(true)).expect("saved");
    assert!(saved.helm);
    assert_eq!(saved.helm_registry_config, helm_path);
    let settings = crate::store::config::Settings::load(&config).expect("load");
    assert!(settings.clients.helm);
    assert_eq!(
        settings.docker.extra_configs,
        [std::path::PathBuf::from("~/ci-docker")],
        "the rest of config.toml is kept"
    );
    let text = std::fs::read_to_string(&config).expect("read");
    assert!(text.starts_with(mine), "comments kept: {text}");
    assert!(text.contains("[clients]\nhelm = true"), "{text}");
    assert!(!text.contains("elsewhere"), "{text}");
    let mut overview = service.overview();
    overview
        .wait_for(|o| o.general.helm)
        .await
        .expect("the overview shows it");

    service.set_general(set(false)).expect("saved");
    let settings = crate::store::config::Settings::load(&config).expect("load");
    assert!(!settings.clients.helm);
    overview
        .wait_for(|o| !o.general.helm)
        .await
        .expect("the overview shows it");
    service.stop().await;
}
