//! The ACR-token watch on the always-on scheduler, on a paused clock: a password's expiry is
//! announced 14 days and 1 day before, once each, and a disabled token once.

use acr_tray_engine::{Event, NotificationAction, Urgency};
use acr_tray_tests::argv;
use acr_tray_tests::sim::{Seen, Sim};
use chrono::TimeDelta;
use fake_azure::PasswordName;

use super::{TOKEN, token_registry};

/// Adds the registry with the token and `password`, watched by `identity`.
async fn add_token(sim: &Sim, registry: &str, identity: &str, password: &str) {
    sim.cli_stdin(
        &argv::strs(&argv::registry_add_acr_token(
            registry,
            TOKEN,
            Some(identity),
        )),
        &format!("{password}\n"),
    )
    .await
    .expect_code(0);
}

#[tokio::test(start_paused = true)]
async fn a_token_password_expiry_is_announced_14_days_and_1_day_before_once_each() {
    let sim = Sim::start().await;
    let sp = sim.signed_in_principal().await;
    let (reg, token) = token_registry(&sim.fake, "tokenwatch1", Some(&sp.object_id));
    let expiry = sim.now() + TimeDelta::days(14) + TimeDelta::minutes(30);
    sim.fake
        .set_acr_token_password_expiry(&reg.name, TOKEN, PasswordName::Password1, Some(expiry));
    add_token(&sim, &reg.name, &sp.client_id, &token.passwords[0]).await;

    let _hold = sim.hold_clock();
    let scheduler = sim.settled_scheduler().await;
    let mut seen = Seen(0);
    assert_eq!(seen.take(&sim), Vec::new(), "15 days ahead: nothing yet");
    let poll = async || sim.wake_after(&scheduler, TimeDelta::minutes(61)).await;

    // 14 days before: one notification, and not again at the next pass.
    poll().await;
    let shown = seen.one(&sim);
    assert_eq!(
        shown.title,
        "tokenwatch1: token pull-token's password1 expires within 14 days"
    );
    assert!(
        shown
            .body
            .contains("az acr token credential generate -r tokenwatch1 -n pull-token --password1"),
        "{}",
        shown.body
    );
    assert_eq!(shown.urgency, Urgency::Normal);
    assert_eq!(shown.action, Some(NotificationAction::OpenSettings));
    poll().await;
    assert_eq!(seen.take(&sim), Vec::new(), "a second pass at 14 days");
    // `status` names the token, its state and the soonest expiry, and who watches it.
    let status = sim.cli(&["status"]).await.expect_code(0).stdout;
    acr_tray_tests::assert_contains(
        &status,
        "acr token:     pull-token, enabled; password1 expires ",
    );
    acr_tray_tests::assert_contains(&status, &format!("(watched by {})", sp.client_id));

    // Days later, still more than a day ahead: nothing.
    sim.wake_after(&scheduler, TimeDelta::days(5)).await;
    assert_eq!(seen.take(&sim), Vec::new());

    // 1 day before: one more, critical; and not again.
    let to_one_day = expiry - sim.now() - TimeDelta::days(1) + TimeDelta::minutes(1);
    sim.wake_after(&scheduler, to_one_day).await;
    let shown = seen.one(&sim);
    assert_eq!(
        shown.title,
        "tokenwatch1: token pull-token's password1 expires within a day"
    );
    assert_eq!(shown.urgency, Urgency::Critical);
    poll().await;
    assert_eq!(seen.take(&sim), Vec::new(), "a second pass at 1 day");
    // Docker kept the token's name and password all along.
    assert_eq!(
        sim.events_where(|e| matches!(e, Event::RefreshFailed { .. })),
        Vec::new()
    );

    // Regenerated with a new expiry: the warnings start again for it.
    let later = sim.now() + TimeDelta::days(10);
    sim.fake
        .set_acr_token_password_expiry(&reg.name, TOKEN, PasswordName::Password1, Some(later));
    poll().await;
    let shown = seen.one(&sim);
    assert_eq!(
        shown.title,
        "tokenwatch1: token pull-token's password1 expires within 14 days"
    );
    scheduler.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_disabled_token_is_announced_once() {
    let sim = Sim::start().await;
    let sp = sim.signed_in_principal().await;
    let (reg, token) = token_registry(&sim.fake, "tokenoff1", Some(&sp.object_id));
    add_token(&sim, &reg.name, &sp.client_id, &token.passwords[1]).await;
    let _hold = sim.hold_clock();
    let scheduler = sim.settled_scheduler().await;
    let mut seen = Seen(0);
    assert_eq!(seen.take(&sim), Vec::new());
    let poll = async || sim.wake_after(&scheduler, TimeDelta::minutes(61)).await;

    sim.fake.set_acr_token_enabled(&reg.name, TOKEN, false);
    poll().await;
    // One notification: the refresh the same change makes fail is covered by it.
    let shown = seen.one(&sim);
    assert_eq!(shown.title, "tokenoff1: ACR token pull-token disabled");
    assert!(
        shown
            .body
            .contains("az acr token update -r tokenoff1 -n pull-token --status enabled"),
        "{}",
        shown.body
    );
    assert_eq!(shown.urgency, Urgency::Critical);
    assert!(sim.refresh_failed("tokenoff1"));
    for _ in 0..3 {
        poll().await;
    }
    assert_eq!(seen.take(&sim), Vec::new(), "still disabled: nothing more");
    scheduler.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_identity_that_cannot_read_the_token_is_named_and_asked_again_a_day_later() {
    let sim = Sim::start().await;
    let sp = sim.signed_in_principal().await;
    // AcrPull: data-plane only, ARM shows it no registry and no token.
    let (reg, token) = token_registry(&sim.fake, "tokenblind1", None);
    sim.fake
        .assign_role(&reg.name, &sp.object_id, fake_azure::Role::AcrPull);
    add_token(&sim, &reg.name, &sp.client_id, &token.passwords[0]).await;
    let _hold = sim.hold_clock();
    let scheduler = sim.settled_scheduler().await;
    let arm_requests = || {
        sim.fake
            .requests()
            .iter()
            .filter(|r| r.service == fake_azure::Service::Arm)
            .count()
    };
    let asked = arm_requests();
    assert!(asked > 0);
    let status = sim.cli(&["status", "--json"]).await.expect_code(0).json();
    let why = status["registries"][0]["acrToken"]["notWatched"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        why.starts_with(&format!(
            "{} cannot read the token pull-token in ARM (reading tokens needs Reader",
            sp.client_id
        )),
        "{status}"
    );
    // Docker is logged in all the same; ARM is not asked again within the day, then is.
    assert!(sim.docker_config()["auths"][&reg.login_server].is_object());
    sim.wake_after(&scheduler, TimeDelta::minutes(61)).await;
    assert_eq!(arm_requests(), asked, "not again within the day");
    sim.wake_after(&scheduler, TimeDelta::hours(24)).await;
    assert!(arm_requests() > asked, "asked again a day later");
    scheduler.stop().await;
}
