//! A person's own Entra session: browser (authorization code + PKCE, loopback redirect) and
//! device code; the refresh token in the keyring, rotated; the session's end detected once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use acr_tray_engine::{CollectEvents, Event};
use acr_tray_engine::{Engine, EngineOptions};
use acr_tray_tests::{World, assert_contains};
use fake_azure::Role;

const UPN: &str = "dev@contoso.localhost";
/// How long the tests wait for something another thread or process does; only a hang reaches it.
const PATIENCE: Duration = Duration::from_secs(120);

fn refresh_token_in_keyring(w: &World, id: &str) -> String {
    let key = acr_tray_engine::refresh_token_key(&w.fake.authority_url(), id);
    acr_tray_engine::SecretStore::get(w.secrets.as_ref(), &key)
        .unwrap()
        .unwrap_or_else(|| panic!("no refresh token for {id}: {:?}", w.secrets.keys()))
        .expose()
        .to_owned()
}

/// The test browser's log once it has written it (it does when its last request is answered).
fn browser_log_when_done(path: &std::path::Path) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let log = World::browser_log(path);
        if log.ends_with('\n') || Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A world where the browser signs [`UPN`] in, through the test browser in `mode` (its log is
/// the returned path).
fn browser_world(mode: &str) -> (World, fake_azure::User, std::path::PathBuf) {
    let mut w = World::new();
    let user = w.user(UPN);
    w.fake.set_browser_user(Some(user.clone()));
    let log = w.use_test_browser(env!("CARGO_BIN_EXE_test-browser"), mode);
    (w, user, log)
}

#[test]
fn browser_sign_in_with_pkce_then_refresh() {
    let (w, user, log) = browser_world("intercept");
    let reg = w.registry_for("browserreg", &user.object_id, Role::AcrPush);
    let out = w.cli(&["login", "--browser"]).expect_code(0);
    assert_message!(
        w,
        "browser_login_stdout",
        out.stdout,
        vec![(user.tenant.to_string(), "[TENANT]")]
    );
    // A thief holding the redirect cannot redeem the code without the PKCE verifier. (The
    // browser writes its log once the app's answer reached it, which may be after the sign-in
    // has finished here.)
    let browser = browser_log_when_done(&log);
    assert!(
        browser.contains("intercepted: HTTP 400") && browser.contains("501481"),
        "{browser}"
    );
    assert_contains(&browser, "app answered HTTP 200");
    // The authorize request used S256 PKCE and a loopback redirect.
    let authorize = w
        .fake
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/authorize"))
        .expect("authorize request");
    assert_eq!(authorize.status, 302);

    w.cli(&["registry", "add", &reg.name]).expect_code(0);
    let before = refresh_token_in_keyring(&w, UPN);
    w.cli(&["refresh"]).expect_code(0);
    let (_, token) = w.docker_auth(&reg.login_server);
    assert_eq!(
        w.password_form_status(&reg.login_server, &token, "repository:a:push"),
        200
    );
    let after = refresh_token_in_keyring(&w, UPN);
    assert_ne!(
        before, after,
        "the rotated refresh token replaced the old one"
    );
    let accounts = w.cli(&["accounts", "--json"]).expect_code(0).json();
    assert_eq!(accounts[0]["id"], UPN);
    assert_eq!(accounts[0]["kind"], "user");
    assert!(accounts[0]["signInRequired"].is_null());
    for (path, text) in w.home_files() {
        acr_tray_tests::assert_no_secrets(
            &path.display().to_string(),
            &text,
            &[&before, &after, &token],
        );
    }
}

#[test]
fn forged_state_is_refused_and_the_real_redirect_still_signs_in() {
    let (w, _, log) = browser_world("tamper-state");
    w.cli(&["login", "--browser"]).expect_code(0);
    // The forged redirect got a 400 and did not end the sign-in; the real one finished it.
    let browser = browser_log_when_done(&log);
    assert_contains(&browser, "forged: HTTP 400; app answered HTTP 200");
    let token_requests: Vec<_> = w.token_requests("authorization_code");
    assert_eq!(
        token_requests.len(),
        1,
        "one code redeemed: {token_requests:?}"
    );
    let accounts = w.cli(&["accounts", "--json"]).expect_code(0).json();
    assert_eq!(accounts[0]["id"], UPN);
}

#[test]
fn the_redirect_may_come_to_the_ipv6_loopback() {
    if std::net::TcpListener::bind((std::net::Ipv6Addr::LOCALHOST, 0)).is_err() {
        eprintln!("SKIPPED: this machine has no IPv6 loopback ([::1])");
        return;
    }
    let (w, _, log) = browser_world("ipv6");
    w.cli(&["login", "--browser"]).expect_code(0);
    let browser = browser_log_when_done(&log);
    assert_contains(&browser, "redirected to [::1]; app answered HTTP 200");
    let accounts = w.cli(&["accounts", "--json"]).expect_code(0).json();
    assert_eq!(accounts[0]["id"], UPN);
}

#[test]
fn declined_browser_sign_in_is_explained() {
    let mut w = World::new();
    w.fake.set_browser_user(None);
    w.use_test_browser(env!("CARGO_BIN_EXE_test-browser"), "normal");
    let out = w.cli(&["login", "--browser"]).expect_code(3);
    assert_message!(w, "declined_browser_login_stderr", out.stderr);
}

#[test]
fn browser_sign_in_times_out() {
    let mut w = World::new();
    w.use_test_browser(env!("CARGO_BIN_EXE_test-browser"), "ignore");
    let out = w
        .cli(&["login", "--browser", "--timeout", "1"])
        .expect_code(3);
    assert_message!(w, "browser_login_timeout_stderr", out.stderr);
}

#[test]
fn device_code_shows_the_code_and_polls_at_the_interval() {
    let w = World::new();
    let user = w.device_code_user(UPN, 2);
    let reg = w.registry_for("devicereg", &user.object_id, Role::AcrPull);
    let out = w.cli(&["login", "--device-code"]).expect_code(0);
    let code = w.fake.last_device_code().expect("a device code").user_code;
    assert_message!(
        w,
        "device_code_login_stdout",
        out.stdout,
        vec![
            (code.to_string(), "[CODE]"),
            (user.tenant.to_string(), "[TENANT]")
        ]
    );
    let polls: Vec<_> = w.token_requests("urn:ietf:params:oauth:grant-type:device_code");
    assert!(polls.len() >= 3, "{polls:?}");
    for pair in polls.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= chrono::TimeDelta::milliseconds(950),
            "polled faster than the interval: {gap}"
        );
    }
    w.cli(&["registry", "add", &reg.name]).expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
}

/// A device code whose polling interval is `u64::MAX` seconds: polled again after the cap (a
/// minute, on a paused clock), not never, and the sign-in completes.
#[tokio::test(start_paused = true)]
async fn device_code_with_an_absurd_interval_is_polled_at_the_cap() {
    use acr_tray_engine::DEVICE_CODE_INTERVAL_MAX;
    use acr_tray_engine::build_client;
    use acr_tray_engine::{AZURE_CLI_CLIENT_ID, EntraClient, interactive};

    let (clock, fake) = acr_tray_tests::sim::paused_fake().await;
    let user = fake.add_user(&fake.default_tenant(), UPN);
    fake.set_device_code_timing(900, u64::MAX);
    fake.set_device_code_auto_approve(Some((user, 1)));
    // Time-outs far beyond the wait: only the polling interval moves the paused clock.
    let env =
        acr_tray_engine::Env::from_pairs([("SSL_CERT_FILE", fake.ca_path().display().to_string())]);
    let http = build_client(&env, &acr_tray_tests::sim::patient_http()).unwrap();
    let entra = EntraClient::new(http, url::Url::parse(&fake.authority_url()).unwrap())
        .with_clock(clock.clone());
    let scope = format!("{}/.default", fake.arm_url());
    let start = tokio::time::Instant::now();
    let mut shown = None;
    let tokens = interactive::device_code(
        &entra,
        interactive::SignInRequest {
            tenant: "organizations",
            client_id: AZURE_CLI_CLIENT_ID,
            scope: &scope,
        },
        |p| shown = Some(p.clone()),
    )
    .await
    .expect("signed in");
    let waited = start.elapsed();
    assert!(
        (DEVICE_CODE_INTERVAL_MAX..DEVICE_CODE_INTERVAL_MAX * 2).contains(&waited),
        "waited {waited:?}"
    );
    assert!(tokens.refresh_token.is_some());
    assert_eq!(
        shown.expect("the code was shown").expires_in,
        Duration::from_secs(900)
    );
}

#[test]
fn device_code_slow_down_adds_five_seconds() {
    let w = World::new();
    let user = w.user(UPN);
    w.fake.set_device_code_timing(60, 1);
    w.fake.set_device_code_slow_down(1);
    w.fake.set_device_code_auto_approve(Some((user, 1)));
    w.cli(&["login", "--device-code"]).expect_code(0);
    let polls: Vec<_> = w.token_requests("urn:ietf:params:oauth:grant-type:device_code");
    let gaps: Vec<_> = polls.windows(2).map(|p| p[1].at - p[0].at).collect();
    assert!(
        gaps.iter()
            .any(|g| *g >= chrono::TimeDelta::milliseconds(5900)),
        "{gaps:?}"
    );
}

#[test]
fn device_code_expiring_or_declined_is_explained() {
    let w = World::new();
    w.fake.set_device_code_timing(2, 1);
    let out = w.cli(&["login", "--device-code"]).expect_code(3);
    assert_message!(w, "expired_device_code_login_stderr", out.stderr);

    let w = World::new();
    w.fake.set_device_code_timing(60, 1);
    let code = std::thread::scope(|s| {
        let handle = s.spawn(|| w.cli(&["login", "--device-code"]));
        let deadline = Instant::now() + PATIENCE;
        let code = loop {
            if let Some(c) = w.fake.last_device_code() {
                break c.user_code;
            }
            assert!(
                Instant::now() < deadline && !handle.is_finished(),
                "no device code issued"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        w.fake.decline_device_code(&code);
        handle.join().unwrap()
    });
    let out = code.expect_code(3);
    assert_message!(w, "declined_device_code_login_stderr", out.stderr);
}

fn engine(w: &World, events: &Arc<CollectEvents>) -> Engine {
    Engine::open(EngineOptions {
        env: w.env(),
        secrets: w.secrets.clone(),
        http: Default::default(),
        events: events.clone(),
        retry_base: Duration::from_millis(10),
        clock: acr_tray_engine::system_clock(),
    })
    .unwrap()
}

#[test]
fn revoked_session_raises_one_event_and_stops_asking() {
    let w = World::new();
    let user = w.device_code_user(UPN, 0);
    let regs: Vec<_> = ["revoked1", "revoked2"]
        .iter()
        .map(|n| w.registry_for(n, &user.object_id, Role::AcrPull))
        .collect();
    w.cli(&["login", "--device-code"]).expect_code(0);
    for r in &regs {
        w.cli(&["registry", "add", &r.name]).expect_code(0);
    }
    let events = Arc::new(CollectEvents::new());
    let outcomes =
        w.rt.block_on(async { engine(&w, &events).refresh(&[]).await.unwrap() });
    assert!(outcomes.iter().all(|o| o.result.is_ok()));

    w.fake.revoke_refresh_tokens(&user.object_id);
    // Each pass is a new engine, as separate runs of the CLI or the daemon after a restart.
    let outcomes =
        w.rt.block_on(async { engine(&w, &events).refresh(&[]).await.unwrap() });
    for o in &outcomes {
        let err = o.result.as_ref().expect_err("sign-in required");
        assert_eq!(
            err.kind(),
            acr_tray_engine::ErrorKind::SignInRequired,
            "{err}"
        );
        assert!(err.to_string().contains("AADSTS50173"), "{err}");
    }
    w.fake.clear_requests();
    for _ in 0..3 {
        let outcomes =
            w.rt.block_on(async { engine(&w, &events).refresh(&[]).await.unwrap() });
        assert!(outcomes.iter().all(|o| o.result.is_err()));
    }
    assert!(
        w.fake.requests().is_empty(),
        "no further requests: {:?}",
        w.fake.requests()
    );
    let sign_in_events: Vec<_> = events
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::SignInRequired { .. }))
        .collect();
    assert_eq!(sign_in_events.len(), 1, "{sign_in_events:?}");
    let Event::SignInRequired { identity, hint, .. } = &sign_in_events[0] else {
        unreachable!()
    };
    assert_eq!(identity, UPN);
    assert!(
        hint.as_ref()
            .map(|h| h.render(&acr_tray_cli::CliWords))
            .unwrap_or_default()
            .contains("acr-tray-cli login")
    );

    let accounts = w.cli(&["accounts"]).expect_code(0).stdout;
    assert_message!(
        w,
        "revoked_session_accounts_stdout",
        accounts,
        vec![(user.tenant.to_string(), "[TENANT]")]
    );
    let out = w.cli(&["refresh"]).expect_code(3);
    assert_message!(w, "revoked_session_refresh_stdout", out.stdout);
    // Signing in again clears it.
    w.fake.set_device_code_auto_approve(Some((user, 0)));
    w.cli(&["login", "--device-code"]).expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
}

#[test]
fn sign_in_frequency_policy_is_explained() {
    let w = World::new();
    let (user, _) = w.device_code_signed_in(UPN, "frequency");
    w.fake.expire_sessions(&user.object_id, 70043);
    let out = w.cli(&["refresh"]).expect_code(3);
    assert_message!(
        w,
        "sign_in_frequency_refresh_stdout",
        out.stdout,
        vec![(user.tenant.to_string(), "[TENANT]")]
    );
}

#[test]
fn transient_entra_failure_is_retried() {
    let w = World::new();
    w.device_code_signed_in(UPN, "transient");
    w.fake.clear_requests();
    w.fake.add_fault(fake_azure::Fault {
        target: fake_azure::FaultTarget {
            service: Some(fake_azure::Service::Entra),
            host: None,
            path_prefix: None,
            grant_type: Some("refresh_token".into()),
        },
        action: fake_azure::FaultAction::Status {
            status: 503,
            body: None,
            retry_after: Some(0),
        },
        times: Some(1),
    });
    w.cli(&["refresh"]).expect_code(0);
    let attempts = w
        .fake
        .requests()
        .iter()
        .filter(|r| r.grant_type.as_deref() == Some("refresh_token"))
        .filter(|r| !r.scope.as_deref().is_some_and(|s| s.contains("management")))
        .count();
    assert_eq!(attempts, 2, "one 503, one retry");
}

#[test]
fn two_identities_in_two_tenants_each_refresh_the_registry_added_for_it() {
    let w = World::new();
    let user = w.device_code_user(UPN, 0);
    let other_tenant = w.fake.add_tenant();
    let sp = w.fake.add_service_principal(&other_tenant);
    let mine = w.registry_for("mineaaaa", &user.object_id, Role::AcrPull);
    // A registry of the other tenant (in one of its subscriptions).
    let sub = w.fake.default_subscription(&other_tenant);
    let theirs = w
        .fake
        .add_registry(fake_azure::RegistrySpec::new("theirsbb").subscription(sub.id));
    w.fake
        .assign_role(&theirs.name, &sp.object_id, Role::AcrPush);
    w.cli(&["login", "--device-code"]).expect_code(0);
    w.login(&sp).expect_code(0);
    w.cli(&["registry", "add", &mine.name]).expect_code(2);
    w.cli(&["registry", "add", &mine.name, "--identity", UPN])
        .expect_code(0);
    w.cli(&["registry", "add", &theirs.name, "--identity", &sp.client_id])
        .expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
    let accounts = w.cli(&["accounts", "--json"]).expect_code(0).json();
    assert_eq!(accounts.as_array().unwrap().len(), 2);
}
