//! The engine as the tray app runs it (`acr_tray_engine::service`), against the fake Azure on a
//! paused clock: the settings window's operations and the live overview the tray and the
//! window show.

use std::time::Duration;

use acr_tray_engine::service::Service;
use acr_tray_engine::service::view::*;
use acr_tray_tests::{argv, assert_contains, sim::Sim};
use fake_azure::Role;

/// A new service principal in the fake's default tenant (not signed in yet) and the app's
/// service started on `sim`.
/// Adds a registry through the window's command, signing in as `identity`.
async fn add_with_identity(service: &Service, name: &str, identity: &str) {
    service
        .add_registry(AddRegistry {
            name_or_login_server: name.into(),
            sign_in: RegistrySignInInput::Identity {
                identity: identity.to_owned(),
            },
            trust_custom_domain: false,
        })
        .await
        .unwrap();
}

/// [`principal_and_service`], the principal signed in through the window.
async fn signed_in_service(
    sim: &Sim,
) -> (
    fake_azure::ServicePrincipal,
    Service,
    acr_tray_engine::service::view::AccountView,
) {
    let (sp, service) = principal_and_service(sim);
    let account = service
        .sign_in_service_principal(secret_sign_in(&sp, &sp.secret))
        .await
        .unwrap();
    (sp, service, account)
}

pub(super) fn principal_and_service(sim: &Sim) -> (fake_azure::ServicePrincipal, Service) {
    let sp = sim.fake.add_service_principal(&sim.fake.default_tenant());
    let service = Service::start(sim.options(), "test", sim.notifier.clone()).unwrap();
    (sp, service)
}

/// Signing `sp` in with `secret`.
fn secret_sign_in(sp: &fake_azure::ServicePrincipal, secret: &str) -> ServicePrincipalSignIn {
    ServicePrincipalSignIn {
        tenant: sp.tenant.clone(),
        client_id: sp.client_id.clone(),
        credential: SpCredentialInput::Secret {
            secret: secret.to_owned(),
        },
    }
}

/// Waits (in simulated time) until the overview satisfies `pick`.
pub(super) async fn until(
    service: &Service,
    what: &str,
    pick: impl Fn(&Overview) -> bool,
) -> Overview {
    within(service, Duration::from_secs(600), what, pick).await
}

/// Waits at most `limit` of simulated time until the overview satisfies `pick`.
async fn within(
    service: &Service,
    limit: Duration,
    what: &str,
    pick: impl Fn(&Overview) -> bool,
) -> Overview {
    let mut rx = service.overview();
    match tokio::time::timeout(limit, rx.wait_for(|o| pick(o))).await {
        Ok(Ok(o)) => o.clone(),
        _ => panic!("never {what}: {:#?}", service.overview().borrow()),
    }
}

#[tokio::test(start_paused = true)]
async fn sign_in_add_refresh_discover_and_remove() {
    let sim = Sim::start().await;
    let (sp, service) = principal_and_service(&sim);
    assert_eq!(service.overview().borrow().state, TrayState::Empty);

    // A wrong secret changes nothing and says what to do.
    let wrong = service
        .sign_in_service_principal(secret_sign_in(&sp, "not-the-secret"))
        .await
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::Config, "{wrong:?}");
    assert!(wrong.message.contains("AADSTS7000215"), "{wrong:?}");
    assert!(wrong.hint.unwrap().contains("client secret"));
    assert!(service.overview().borrow().accounts.is_empty());

    let account = service
        .sign_in_service_principal(secret_sign_in(&sp, &sp.secret))
        .await
        .unwrap();
    assert_eq!(account.kind, IdentityKindName::ServicePrincipal);
    assert_eq!(account.health, AccountHealth::Ok);
    until(&service, "shows the account", |o| o.accounts.len() == 1).await;

    // Registries: one the identity may push to, one it can also read through ARM (Owner).
    sim.fake
        .add_registry(fake_azure::RegistrySpec::new("alpha1"));
    sim.fake.assign_role("alpha1", &sp.object_id, Role::AcrPush);
    sim.fake
        .add_registry(fake_azure::RegistrySpec::new("bravo1"));
    sim.fake.assign_role("bravo1", &sp.object_id, Role::Owner);
    sim.fake
        .add_registry(fake_azure::RegistrySpec::new("hidden1"));

    let added = service
        .add_registry(AddRegistry {
            name_or_login_server: "alpha1".into(),
            sign_in: RegistrySignInInput::Identity {
                identity: account.id.clone(),
            },
            trust_custom_domain: false,
        })
        .await
        .unwrap();
    assert_eq!(added.login_server, sim.fake.login_server("alpha1"));
    let ok = until(&service, "logs alpha1 in", |o| o.state == TrayState::Ok).await;
    let alpha = &ok.registries[0];
    assert_eq!(alpha.health, RegistryHealth::Ok);
    assert!(alpha.expires_at.unwrap() - ok.now > chrono::TimeDelta::hours(2));
    assert!(alpha.next_refresh.is_some());
    assert!(
        ok.summary.starts_with("1 registry logged in"),
        "{}",
        ok.summary
    );
    assert_eq!(ok.soonest_expiry, alpha.expires_at);
    assert!(sim.docker_token_expiry().contains_key(&alpha.login_server));

    // Hosts outside the cloud are refused with a hint, before any request.
    let before = sim.fake.requests().len();
    let refused = service
        .add_registry(AddRegistry {
            name_or_login_server: format!("evil.{}.attacker.com", sim.fake.acr_suffix_host()),
            sign_in: RegistrySignInInput::Identity {
                identity: account.id.clone(),
            },
            trust_custom_domain: false,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::InvalidInput, "{refused:?}");
    assert!(
        refused
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("custom domain"),
        "{refused:?}"
    );
    assert_eq!(sim.fake.requests().len(), before);

    // Discovery lists exactly what ARM lets the identity read: bravo1 (Owner), not alpha1
    // (AcrPush is data-plane only) nor hidden1 (no role).
    let found = service.discover_registries(&account.id).await.unwrap();
    let names: Vec<&str> = found.registries.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["bravo1"], "{found:?}");
    assert!(!found.registries[0].added);
    assert!(found.notice.is_none());

    // Refresh now writes a new token.
    let outcomes = service.refresh_now(vec![]).await.unwrap();
    assert!(outcomes.iter().all(|o| o.ok), "{outcomes:?}");

    // Doctor sees config.json auths.
    let doctor = service.doctor().await.unwrap();
    assert_eq!(doctor.registries.len(), 1);
    assert!(doctor.registries[0].present, "{doctor:?}");

    // General settings are validated and saved.
    let bad = service
        .set_general(GeneralSettings {
            refresh_interval_minutes: 1,
            start_at_login: true,
            log_level: LogLevel::Debug,
            helm: false,
            helm_registry_config: None,
        })
        .unwrap_err();
    assert_eq!(bad.code, ErrorCode::InvalidInput);
    let general = service
        .set_general(GeneralSettings {
            refresh_interval_minutes: 30,
            start_at_login: true,
            log_level: LogLevel::Debug,
            helm: false,
            helm_registry_config: None,
        })
        .unwrap();
    assert_eq!(general.refresh_interval_minutes, 30);
    until(&service, "shows the new interval", |o| {
        o.general.refresh_interval_minutes == 30 && o.general.start_at_login
    })
    .await;

    // No secret in the settings file.
    let settings = std::fs::read_to_string(sim.home.path().join("config.toml")).unwrap();
    assert!(!settings.contains(&sp.secret), "{settings}");

    service.remove_registry("alpha1").unwrap();
    until(&service, "is empty again", |o| o.state == TrayState::Empty).await;
    service.sign_out(&account.id).unwrap();
    until(&service, "has no account", |o| o.accounts.is_empty()).await;
    service.stop().await;
}

#[tokio::test(start_paused = true)]
async fn device_code_sign_in_and_an_ended_session() {
    let sim = Sim::start().await;
    let user = sim.user("dev@contoso.example");
    sim.fake.set_device_code_timing(600, 1);
    sim.fake
        .set_device_code_auto_approve(Some((user.clone(), 2)));
    sim.fake
        .add_registry(fake_azure::RegistrySpec::new("charlie1"));
    sim.fake
        .assign_role("charlie1", &user.object_id, Role::AcrPull);
    let service = Service::start(sim.options(), "test", sim.notifier.clone()).unwrap();

    let codes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = codes.clone();
    let account = service
        .sign_in_user(
            UserSignIn {
                method: SignInMethod::DeviceCode,
                tenant: None,
                client_id: None,
            },
            Box::new(move |p| seen.lock().unwrap().push(p)),
        )
        .await
        .unwrap();
    let codes = codes.lock().unwrap().clone();
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert_eq!(
        codes[0].user_code,
        sim.fake.last_device_code().unwrap().user_code
    );
    assert!(codes[0].verification_uri.starts_with("https://"));
    assert_eq!(account.label, "dev@contoso.example");
    assert!(account.interactive);

    add_with_identity(&service, "charlie1", &account.id).await;
    until(&service, "logs charlie1 in", |o| o.state == TrayState::Ok).await;

    // The session is revoked. The scheduled refreshes would find out when the access token in
    // memory runs out; "Refresh now" checks the sign-in too, so it shows at once.
    sim.fake.revoke_refresh_tokens(&user.object_id);
    let outcomes = service.refresh_now(vec![]).await.unwrap();
    assert!(!outcomes[0].ok, "{outcomes:?}");
    assert_eq!(
        outcomes[0].error.as_ref().unwrap().code,
        ErrorCode::SignInRequired
    );
    let ended = until(&service, "asks for a sign-in", |o| {
        o.state == TrayState::SignInRequired
    })
    .await;
    assert_eq!(ended.accounts[0].health, AccountHealth::SignInRequired);
    assert!(ended.accounts[0].sign_in_required.is_some());
    assert_eq!(ended.registries[0].health, RegistryHealth::SignInRequired);
    assert_contains(&ended.summary, "dev@contoso.example");
    // The app speaks of its own menu and window, not of `acr-tray-cli` commands: in the error
    // the window shows, and in the notification.
    let error = outcomes[0].error.as_ref().unwrap();
    let said = format!(
        "{} {}",
        error.message,
        error.hint.clone().unwrap_or_default()
    );
    assert!(!said.contains("acr-tray-cli"), "{said}");
    assert_contains(&said, "“Sign in again…” in the tray menu");
    let shown = sim.notifier.notifications();
    assert!(!shown.is_empty());
    for n in &shown {
        assert!(!n.body.contains("acr-tray-cli"), "{n:?}");
    }
    // What the window pre-fills for "Sign in again": the session's own tenant.
    assert_eq!(
        ended.accounts[0].tenant.as_deref(),
        Some(user.tenant.as_str())
    );

    // A sign-in can be cancelled while it waits for the code to be entered.
    sim.fake.set_device_code_auto_approve(None);
    let waiting = service.sign_in_user(
        UserSignIn {
            method: SignInMethod::DeviceCode,
            tenant: None,
            client_id: None,
        },
        Box::new(|_| {}),
    );
    let cancel = async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        service.cancel_sign_in();
    };
    let (result, ()) = tokio::join!(waiting, cancel);
    assert_eq!(result.unwrap_err().code, ErrorCode::Cancelled);

    // Signing in again logs the registry in at once, not at its next scheduled refresh (its
    // last one was minutes ago, so that would be about an hour of "failing").
    sim.fake
        .set_device_code_auto_approve(Some((user.clone(), 0)));
    let before = sim.docker_token_expiry()[&ended.registries[0].login_server];
    service
        .sign_in_user(
            UserSignIn {
                method: SignInMethod::DeviceCode,
                tenant: None,
                client_id: None,
            },
            Box::new(|_| {}),
        )
        .await
        .unwrap();
    let back = within(
        &service,
        Duration::from_secs(30),
        "logs charlie1 in again",
        |o| o.state == TrayState::Ok,
    )
    .await;
    assert_eq!(back.registries[0].health, RegistryHealth::Ok);
    assert!(back.registries[0].last_error.is_none());
    assert!(sim.docker_token_expiry()[&back.registries[0].login_server] > before);
    service.stop().await;
}

/// The settings window's cloud change: the preview names the identities it signs out and
/// changes nothing; the change itself leaves them "sign-in required".
#[tokio::test(start_paused = true)]
async fn a_cloud_change_is_previewed_then_signs_out_the_other_clouds_identities() {
    let sim = Sim::start().await;
    let (_, service, account) = signed_in_service(&sim).await;
    let o = until(&service, "shows the account", |o| o.accounts.len() == 1).await;

    // The cloud in use again: nobody is signed out.
    let same = service
        .preview_cloud(CloudInput::Custom {
            authority: o.cloud.authority.clone(),
            arm: o.cloud.arm.clone(),
            acr_suffix: o.cloud.acr_suffix.clone(),
            acr_audience: None,
            ca_file: o.cloud.ca_file.clone(),
        })
        .unwrap();
    assert!(same.signs_out.is_empty(), "{same:#?}");

    let preview = service.preview_cloud(CloudInput::AzureChinaCloud).unwrap();
    assert_eq!(preview.cloud.name, "AzureChinaCloud");
    let ids: Vec<&str> = preview.signs_out.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, vec![account.id.as_str()]);
    assert_eq!(
        service.overview().borrow().cloud.name,
        "custom",
        "a preview changes nothing"
    );

    let cloud = service.set_cloud(CloudInput::AzureChinaCloud).unwrap();
    assert_eq!(cloud.name, "AzureChinaCloud");
    let o = until(&service, "reads sign-in required", |o| {
        o.accounts
            .iter()
            .any(|a| a.id == account.id && a.health == AccountHealth::SignInRequired)
    })
    .await;
    let why = o.accounts[0].sign_in_required.clone().unwrap();
    assert!(why.message.contains("AzureChinaCloud"), "{why:?}");
    service.stop().await;
}

/// The app speaks of its own menu and window, never of `acr-tray-cli` commands or the CLI's
/// flags: in every error a command returns, every error the overview remembers and every
/// notification, through failures whose hints name different actions.
#[tokio::test(start_paused = true)]
async fn the_app_never_names_a_cli_command() {
    let sim = Sim::start().await;
    let (sp, service) = principal_and_service(&sim);
    let mut said: Vec<String> = Vec::new();
    let mut error = |e: &ErrorView| {
        said.push(format!(
            "{} {}",
            e.message,
            e.hint.clone().unwrap_or_default()
        ));
    };

    // An empty secret: the app asks for it in its form; the CLI says how to pipe it.
    let empty = service
        .sign_in_service_principal(secret_sign_in(&sp, ""))
        .await
        .unwrap_err();
    assert_eq!(
        empty.hint.as_deref(),
        Some("enter the client secret under Accounts in Settings")
    );
    error(&empty);
    let cli = sim
        .cli_stdin(
            &argv::strs(&argv::login_service_principal(&sp, &["--secret-stdin"])),
            "",
        )
        .await;
    assert_contains(
        &cli.stderr,
        "pipe the secret into --secret-stdin, e.g. `printf %s \"$SECRET\" | acr-tray-cli login ...`",
    );
    // A wrong secret: sign the service principal in again with its secret.
    let wrong = service
        .sign_in_service_principal(secret_sign_in(&sp, "not-the-secret"))
        .await
        .unwrap_err();
    error(&wrong);
    let account = service
        .sign_in_service_principal(secret_sign_in(&sp, &sp.secret))
        .await
        .unwrap();
    // A registry that is not configured: see the list of registries.
    error(&service.remove_registry("nosuch1").unwrap_err());
    // A registry that signs in with its admin account: switch it to an identity first.
    sim.fake
        .add_registry(fake_azure::RegistrySpec::new("admin1").admin_enabled(true));
    let (username, passwords) = sim.fake.admin_credentials("admin1").unwrap();
    service
        .add_registry(AddRegistry {
            name_or_login_server: "admin1".into(),
            sign_in: RegistrySignInInput::AdminPassword {
                username,
                password: passwords[0].clone(),
            },
            trust_custom_domain: false,
        })
        .await
        .unwrap();
    error(
        &service
            .set_admin_account("admin1", false)
            .await
            .unwrap_err(),
    );
    // No role: another tool's command (`az role assignment create …`) stays as written.
    sim.fake
        .add_registry(fake_azure::RegistrySpec::new("norole1"));
    let identity = RegistrySignInInput::Identity {
        identity: account.id.clone(),
    };
    service
        .add_registry(AddRegistry {
            name_or_login_server: "norole1".into(),
            sign_in: identity.clone(),
            trust_custom_domain: false,
        })
        .await
        .unwrap();
    for outcome in service.refresh_now(vec!["norole1".into()]).await.unwrap() {
        error(outcome.error.as_ref().unwrap());
    }
    // Docker uses a credential helper that is not installed: the doctor's fix.
    std::fs::write(
        sim.home.docker_config_path(),
        r#"{"credsStore": "acrtraymissing"}"#,
    )
    .unwrap();
    for outcome in service.refresh_now(vec!["admin1".into()]).await.unwrap() {
        error(outcome.error.as_ref().unwrap());
    }
    let failing = until(&service, "shows both failures", |o| {
        o.registries
            .iter()
            .filter(|r| r.last_error.is_some())
            .count()
            == 2
    })
    .await;
    for r in &failing.registries {
        error(r.last_error.as_ref().unwrap());
    }
    sim.pass(chrono::TimeDelta::minutes(30)).await;
    let shown = sim.notifier.notifications();
    assert!(!shown.is_empty());
    for n in &shown {
        said.push(format!("{} {}", n.title, n.body));
    }

    for text in &said {
        for cli in [
            "acr-tray-cli",
            "--secret-stdin",
            "--device-code",
            "--identity ID",
        ] {
            assert!(!text.contains(cli), "{cli} in: {text}");
        }
    }
    let all = said.join("\n");
    for place in [
        "“Sign in again…” in the tray menu, or Accounts in Settings",
        "the Registries page in Settings",
        "“Change…” next to the registry's sign-in in Settings",
        "`az role assignment create --assignee",
        "“Fix” under Docker in Settings → General",
    ] {
        assert_contains(&all, place);
    }
}

/// The window's "Check": the credential Docker holds, used as Docker would, with the errors
/// and hints the window shows.
#[tokio::test(start_paused = true)]
async fn check_registry_uses_the_credential_docker_holds() {
    let sim = Sim::start().await;
    let (sp, service, account) = signed_in_service(&sim).await;
    sim.fake
        .add_registry(fake_azure::RegistrySpec::new("checked1"));
    sim.fake
        .assign_role("checked1", &sp.object_id, Role::AcrPush);
    add_with_identity(&service, "checked1", &account.id).await;
    until(&service, "logs checked1 in", |o| o.state == TrayState::Ok).await;

    let signs_in = service.check_registry("checked1", None).await.unwrap();
    assert!(signs_in.authenticated);
    assert_eq!(signs_in.source, CredentialSource::ConfigFile);
    assert!(signs_in.granted.is_empty());
    // An empty repository field is no repository.
    let blank = service
        .check_registry("checked1", Some("  ".into()))
        .await
        .unwrap();
    assert_eq!(blank.repository, None);
    let repo = service
        .check_registry("checked1", Some("team/app".into()))
        .await
        .unwrap();
    assert_eq!(
        repo.granted,
        [RepositoryAction::Pull, RepositoryAction::Push]
    );
    assert_eq!(repo.repository.as_deref(), Some("team/app"));

    // Docker lost the credential: the window says so, and what to do, in its own words.
    std::fs::write(sim.home.docker_config_path(), "{}").unwrap();
    let missing = service.check_registry("checked1", None).await.unwrap_err();
    assert_eq!(missing.code, ErrorCode::SignInRequired, "{missing:?}");
    assert_contains(&missing.message, "Docker holds no credential for it");
    assert_contains(&missing.hint.unwrap_or_default(), "Fresh tokens now");
    let unknown = service.check_registry("nosuch1", None).await.unwrap_err();
    assert_eq!(unknown.code, ErrorCode::InvalidInput, "{unknown:?}");
    service.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_acr_token_added_in_the_window_is_watched_and_shown() {
    use crate::acr_token::{TOKEN, token_registry};
    let sim = Sim::start().await;
    let (sp, service, account) = signed_in_service(&sim).await;
    let (reg, token) = token_registry(&sim.fake, "tokenapp1", Some(&sp.object_id));
    let expiry = chrono::DateTime::from_timestamp(sim.now().timestamp() + 30 * 86_400, 0).unwrap();
    sim.fake.set_acr_token_password_expiry(
        &reg.name,
        TOKEN,
        fake_azure::PasswordName::Password2,
        Some(expiry),
    );
    let added = service
        .add_registry(AddRegistry {
            name_or_login_server: reg.name.clone(),
            sign_in: RegistrySignInInput::AcrToken {
                token: TOKEN.into(),
                password: token.passwords[1].clone(),
                watched_by: Some(account.id.clone()),
            },
            trust_custom_domain: false,
        })
        .await
        .unwrap();
    assert!(matches!(added.sign_in, RegistrySignInView::AcrToken { .. }));
    let shown = until(&service, "the token's expiry is shown", |o| {
        o.registries.iter().any(|r| {
            r.health == RegistryHealth::Ok
                && matches!(
                    &r.sign_in,
                    RegistrySignInView::AcrToken {
                        password_expiry: Some(_),
                        ..
                    }
                )
        })
    })
    .await;
    assert_eq!(
        shown.registries[0].sign_in,
        RegistrySignInView::AcrToken {
            token: TOKEN.into(),
            watched_by: Some(account.id),
            enabled: Some(true),
            password_expiry: Some(expiry),
            expiring_password: Some("password2".into()),
            not_watched: None,
        }
    );
}

/// The General page's Helm switch, through the app's service: on, the next refresh writes the
/// registry's entry into Helm's registry config (the file the page names); off, refreshes leave
/// that file as it is.
#[tokio::test(start_paused = true)]
async fn the_helm_switch_writes_helm_s_registry_config_at_once_and_stops_when_off() {
    let sim = Sim::start().await;
    // Helm's config folder named, so its registry config is in the same place on every platform.
    let helm_home = sim.home.path().join("helm-config");
    let mut options = sim.options();
    options
        .env
        .set("HELM_CONFIG_HOME", helm_home.display().to_string());
    let sp = sim.fake.add_service_principal(&sim.fake.default_tenant());
    let service = Service::start(options, "test", sim.notifier.clone()).unwrap();
    let account = service
        .sign_in_service_principal(secret_sign_in(&sp, &sp.secret))
        .await
        .unwrap();
    sim.fake
        .add_registry(fake_azure::RegistrySpec::new("helmui1"));
    sim.fake
        .assign_role("helmui1", &sp.object_id, Role::AcrPull);
    add_with_identity(&service, "helmui1", &account.id).await;
    let ok = until(&service, "logs helmui1 in", |o| o.state == TrayState::Ok).await;
    let host = ok.registries[0].login_server.clone();
    let general = ok.general.clone();
    assert!(!general.helm);
    let helm_file = helm_home.join("registry").join("config.json");
    let named = general.helm_registry_config.clone();
    assert_eq!(named, Some(helm_file.display().to_string()));
    assert!(!helm_file.exists(), "switched off, no refresh writes it");

    let on = GeneralSettings {
        helm: true,
        ..general.clone()
    };
    assert!(service.set_general(on).unwrap().helm);
    until(&service, "shows Helm on", |o| o.general.helm).await;
    // Turning it on writes Helm's file at once, not an hour later at the next scheduled pass.
    until(&service, "writes Helm's file", |o| {
        helm_file.exists() && o.state == TrayState::Ok
    })
    .await;
    let entry = |file: &std::path::Path| -> serde_json::Value {
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(file).unwrap()).unwrap()["auths"]
            [&host]
            .clone()
    };
    let written = entry(&helm_file);
    assert!(written["auth"].is_string(), "{written:#}");
    assert_eq!(written, sim.docker_config()["auths"][&host]);

    // Off: the next refresh renews Docker's entry and leaves Helm's file as it was.
    let off = GeneralSettings {
        helm: false,
        ..general
    };
    assert!(!service.set_general(off).unwrap().helm);
    let outcomes = service.refresh_now(vec![]).await.unwrap();
    assert!(outcomes.iter().all(|o| o.ok), "{outcomes:?}");
    assert_ne!(sim.docker_config()["auths"][&host], written, "refreshed");
    assert_eq!(entry(&helm_file), written);
    service.stop().await;
}
