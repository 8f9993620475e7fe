//! Notifications from the always-on engine, on a paused clock: one per incident, a short
//! "logged in again" when it ends, and the session forecast warning ahead of a sign-in-frequency
//! policy instead of failing in the middle of a build.

use acr_tray_engine::Backoff;
use acr_tray_engine::{Event, Secret};
use acr_tray_engine::{Notification, NotificationAction, Urgency};
use acr_tray_tests::sim::Sim;
use chrono::TimeDelta;
use fake_azure::Role;

fn shown(sim: &Sim) -> Vec<Notification> {
    sim.notifier.notifications()
}

#[tokio::test(start_paused = true)]
async fn a_removed_role_notifies_once_and_its_return_once() {
    // Time moves only when the test moves it.
    let (sim, _hold) = Sim::start_held().await;
    let (sp, [ok, broken]) = sim.signed_in_puller(["steady1", "broken1"]).await;
    let scheduler = sim.settled_scheduler().await;
    assert!(shown(&sim).is_empty(), "{:?}", shown(&sim));

    sim.fake
        .assign_role(&broken.name, &sp.object_id, Role::None);
    // Three hours of failures: the token Docker has runs out, the retries go on.
    for _ in 0..180 {
        sim.wake_after(&scheduler, TimeDelta::minutes(1)).await;
    }
    let failures = sim.events_where(|e| matches!(e, Event::RefreshFailed { .. }));
    assert!(failures.len() >= 3, "retried: {failures:?}");
    let notes = shown(&sim);
    assert_eq!(notes.len(), 1, "one notification per incident: {notes:#?}");
    assert!(notes[0].body.contains("broken1"), "{notes:#?}");
    assert!(
        notes[0].body.contains("AcrPull"),
        "says what to do: {notes:#?}"
    );
    assert!(!notes[0].body.contains("steady1"), "{notes:#?}");

    // The role comes back: within the needs-fix backoff (at most an hour, scaled by its
    // jitter, which depends on the registry's name and port) and one wake it is logged in
    // again, and one short notification says so.
    sim.fake
        .assign_role(&broken.name, &sp.object_id, Role::AcrPull);
    let backoff = Backoff::default();
    let longest_wait = backoff.permanent_cap.num_seconds() as f64 * (1.0 + backoff.jitter);
    let minutes = (longest_wait / 60.0).ceil() as i64 + 1;
    for _ in 0..minutes {
        sim.wake_after(&scheduler, TimeDelta::minutes(1)).await;
    }
    let notes = shown(&sim);
    assert_eq!(notes.len(), 2, "{notes:#?}");
    assert_eq!(notes[1].urgency, Urgency::Normal);
    assert!(notes[1].body.contains("broken1"), "{notes:#?}");
    let recovered = sim.events_where(|e| matches!(e, Event::Recovered { .. }));
    assert_eq!(recovered.len(), 1, "{recovered:?}");
    let tokens = sim.docker_token_expiry();
    for host in [&ok.login_server, &broken.login_server] {
        assert!(tokens[host] - sim.now() > TimeDelta::minutes(75), "{host}");
    }
    // The incidents survive a restart: nothing is shown again.
    scheduler.stop().await;
    let again = sim.scheduler();
    sim.wake_after(&again, TimeDelta::minutes(5)).await;
    assert_eq!(shown(&sim).len(), 2);
    again.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_session_forecast_warns_before_the_sign_in_frequency_ends_it() {
    // Time moves only when the test moves it.
    let (sim, _hold) = Sim::start_held().await;
    let user = sim.user("dev@contoso.example");
    sim.fake.set_sign_in_frequency(
        &user.tenant,
        Some(std::time::Duration::from_secs(10 * 3600)),
    );
    sim.sign_in_with_device_code(&user).await;
    let accounts = sim.cli(&["accounts", "--json"]).await.expect_code(0).json();
    let id = accounts[0]["id"].as_str().unwrap().to_owned();
    let reg = sim
        .fake
        .add_registry(fake_azure::RegistrySpec::new("builds1"));
    sim.fake
        .assign_role(&reg.name, &user.object_id, Role::AcrPush);
    sim.cli(&["registry", "add", &reg.name, "--identity", &id])
        .await
        .expect_code(0);

    let scheduler = sim.scheduler();
    let signed_in = sim.now();
    scheduler.settled(signed_in).await;
    // The first session: nothing is known of the policy until Entra answers AADSTS70043.
    while sim.now() - signed_in < TimeDelta::hours(11) {
        sim.wake_after(&scheduler, TimeDelta::minutes(1)).await;
    }
    let ended = sim.events_where(|e| matches!(e, Event::SignInRequired { .. }));
    assert_eq!(ended.len(), 1, "{ended:?}");
    let notes = shown(&sim);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert_eq!(
        notes[0].action,
        Some(NotificationAction::SignIn {
            identity: id.clone()
        })
    );
    let asked = sim.fake.requests().len();
    sim.wake_after(&scheduler, TimeDelta::hours(2)).await;
    assert_eq!(
        sim.fake.requests().len(),
        asked,
        "no attempts until the user signs in"
    );

    // The user signs in again: the registry is refreshed within a minute, and this time the
    // engine knows the limit (10 h) and warns two hours ahead.
    sim.fake
        .set_device_code_auto_approve(Some((user.clone(), 0)));
    sim.cli(&["login", "--device-code"]).await.expect_code(0);
    let second = sim.now();
    sim.wake_after(&scheduler, TimeDelta::minutes(1)).await;
    assert!(
        sim.docker_token_expiry()[&reg.login_server] - sim.now() > TimeDelta::hours(2),
        "refreshed after the sign-in"
    );
    assert!(
        sim.events_where(|e| matches!(e, Event::SignedIn { .. }))
            .len()
            == 1
    );
    let mut warned_at = None;
    while sim.now() - second < TimeDelta::hours(9) {
        sim.wake_after(&scheduler, TimeDelta::minutes(1)).await;
        if warned_at.is_none()
            && !sim
                .events_where(|e| matches!(e, Event::SessionExpiringSoon { .. }))
                .is_empty()
        {
            warned_at = Some(sim.now());
        }
    }
    let warned_at = warned_at.expect("warned ahead of the end");
    let lead = second + TimeDelta::hours(10) - warned_at;
    assert!(
        lead <= TimeDelta::hours(2) && lead >= TimeDelta::minutes(118),
        "warned {lead} ahead"
    );
    let warnings = sim.events_where(|e| matches!(e, Event::SessionExpiringSoon { .. }));
    assert_eq!(warnings.len(), 1, "once: {warnings:?}");
    let notes = shown(&sim);
    let warning = notes.last().unwrap();
    assert!(
        warning.body.contains("Sign-in will be needed around")
            || warning.title.contains("Sign-in will be needed around"),
        "{warning:#?}"
    );
    assert_eq!(
        warning.action,
        Some(NotificationAction::SignIn { identity: id })
    );
    // No secret reaches a notification.
    let rt = sim
        .secrets
        .get(&acr_tray_engine::refresh_token_key(
            &sim.fake.authority_url(),
            accounts[0]["id"].as_str().unwrap(),
        ))
        .ok()
        .flatten()
        .map(|s: Secret| s.expose().to_owned());
    if let Some(rt) = rt {
        for n in &notes {
            assert!(!n.body.contains(&rt) && !n.title.contains(&rt));
        }
    }
    scheduler.stop().await;
}
