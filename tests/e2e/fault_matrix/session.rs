//! Rows that need someone: a session Entra ended (waits for the user, then recovers on
//! sign-in), a removed role and a deleted registry (retried slowly until fixed), and a keyring
//! that cannot be reached (retried like a network fault).

use acr_tray_engine::ErrorKind;
use acr_tray_engine::Event;
use acr_tray_engine::NotificationAction;
use chrono::TimeDelta;
use fake_azure::{RegistrySpec, Role, Service};

use super::{Checks, Reach, Rig, Who, sign_in_user};

/// Requests for the target: its identity's token requests and its registry.
fn target_requests(rig: &Rig) -> usize {
    let host = rig.target_host();
    rig.sim
        .fake
        .requests()
        .iter()
        .filter(|r| {
            r.host == host
                || (r.service == Service::Entra && r.grant_type.as_deref() == Some("refresh_token"))
        })
        .count()
}

/// The user's session ends in Entra: one "sign in" notification, no requests until the user
/// signs in again, then the registry is logged in again within a couple of minutes.
async fn session_row(end: fn(&Rig), says: &str) {
    let rig = Rig::start(Who::User).await;
    end(&rig);
    rig.live(TimeDelta::minutes(90), Checks::one()).await;
    let failures = rig.failures(Reach::One, ErrorKind::SignInRequired);
    assert!(
        failures.iter().all(|(m, _)| m.contains(says)),
        "{failures:?}"
    );
    let ended: Vec<_> = rig
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::SignInRequired { .. }))
        .collect();
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert!(
        matches!(&ended[0], Event::SignInRequired { identity, hint: Some(h), .. }
            if *identity == rig.target_identity && h.render(&acr_tray_cli::CliWords).contains("login")),
        "{ended:?}"
    );
    let status = rig.scheduler.status().borrow().clone();
    let planned = status
        .registries
        .iter()
        .find(|r| r.name == rig.target.name)
        .unwrap();
    assert_eq!(
        planned.waiting_for_sign_in.as_deref(),
        Some(rig.target_identity.as_str())
    );
    assert_eq!(planned.due_at, None);
    let notes = rig.incident_notes();
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert_eq!(
        notes[0].action,
        Some(NotificationAction::SignIn {
            identity: rig.target_identity.clone()
        })
    );

    // It waits for the user: an hour more without a single request for the target.
    let asked = target_requests(&rig);
    rig.live(TimeDelta::minutes(60), Checks::one()).await;
    assert_eq!(target_requests(&rig), asked, "nothing tried until sign-in");

    // The user signs in again (in another terminal): logged in again at once.
    sign_in_user(&rig.sim, rig.user.as_ref().unwrap()).await;
    rig.recovers_within(TimeDelta::minutes(2), Checks::one())
        .await;
    assert_eq!(
        rig.events()
            .iter()
            .filter(|e| matches!(e, Event::SignedIn { .. }))
            .count(),
        1
    );
    assert_eq!(rig.finish(Reach::One).await.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn invalid_grant_revoked_refresh_token() {
    session_row(
        |rig| rig.sim.fake.revoke_refresh_tokens(&rig.target_object_id),
        "AADSTS50173",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn interaction_required_sign_in_frequency() {
    session_row(
        |rig| rig.sim.fake.expire_sessions(&rig.target_object_id, 70043),
        "AADSTS70043",
    )
    .await;
}

/// Slow retries (5 min doubling to the refresh interval, ± 20 %) pick up the fix.
const NEEDS_FIX_RECOVERY: TimeDelta = TimeDelta::minutes(75);

#[tokio::test(start_paused = true)]
async fn acr_exchange_401_role_removed() {
    let rig = Rig::start(Who::ServicePrincipal).await;
    rig.sim
        .fake
        .assign_role(&rig.target.name, &rig.target_object_id, Role::None);
    rig.live(TimeDelta::minutes(120), Checks::one()).await;
    let failures = rig.failures(Reach::One, ErrorKind::Permission);
    assert!(
        failures
            .iter()
            .all(|(m, h)| m.contains("AcrPull") && h.as_deref().unwrap().contains("AcrPull")),
        "{failures:?}"
    );
    // Retried slowly, not every minute.
    assert!(failures.len() <= 6, "{}", failures.len());
    rig.sim
        .fake
        .assign_role(&rig.target.name, &rig.target_object_id, Role::AcrPush);
    rig.recovers_within(NEEDS_FIX_RECOVERY, Checks::one()).await;
    let notes = rig.finish(Reach::One).await;
    assert!(
        notes.iter().all(|n| n.body.contains("target1")),
        "{notes:#?}"
    );
}

#[tokio::test(start_paused = true)]
async fn unknown_host_for_one_registry() {
    let rig = Rig::start(Who::ServicePrincipal).await;
    // The registry is deleted: its host answers as no registry at all.
    rig.sim.fake.remove_registry(&rig.target.name);
    rig.live(TimeDelta::minutes(120), Checks::one()).await;
    let failures = rig.failures(Reach::One, ErrorKind::Configuration);
    assert!(
        failures.iter().all(|(m, _)| m.contains("404")),
        "{failures:?}"
    );
    assert!(failures.len() <= 6, "retried slowly: {}", failures.len());
    // Created again (same name, same role).
    rig.sim
        .fake
        .add_registry(RegistrySpec::new(&rig.target.name));
    rig.sim
        .fake
        .assign_role(&rig.target.name, &rig.target_object_id, Role::AcrPush);
    rig.recovers_within(NEEDS_FIX_RECOVERY, Checks::one()).await;
    rig.finish(Reach::One).await;
}

#[tokio::test(start_paused = true)]
async fn keyring_unavailable() {
    let rig = Rig::start(Who::ServicePrincipal).await;
    // The Secret Service goes away (the bystander's secret is in a file).
    rig.sim
        .keyring
        .set_unavailable(Some("org.freedesktop.secrets was not provided"));
    rig.live(TimeDelta::minutes(120), Checks::one()).await;
    // The event's kind is the error's (a missing secret, as for the CLI's exit code 3); the
    // scheduler still retries it like a network fault, and the session is not ended.
    let failures = rig.failures(Reach::One, ErrorKind::SignInRequired);
    assert!(
        failures
            .iter()
            .all(|(m, h)| m.contains("keyring") && h.as_deref().unwrap().contains("--secret-file")),
        "{failures:?}"
    );
    assert!(
        !rig.events()
            .iter()
            .any(|e| matches!(e, Event::SignInRequired { .. })),
        "a locked keyring is not an ended session"
    );
    rig.sim.keyring.set_unavailable(None);
    rig.recovers_within(TimeDelta::minutes(4), Checks::one())
        .await;
    rig.finish(Reach::One).await;
}
