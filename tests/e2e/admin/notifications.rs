//! Admin-account changes on the always-on scheduler: each noticed within one poll (one refresh
//! interval) with exactly one notification; a registry in admin mode gets a regenerated password
//! written into Docker's config, and is told when its access is gone.

use acr_tray_engine::{NotificationAction, Urgency};
use acr_tray_tests::sim::{Seen, Sim};
use base64::Engine as _;
use chrono::TimeDelta;
use fake_azure::{RegistrySpec, Role};

/// The user name and password Docker's config holds for a login server.
fn docker_basic(sim: &Sim, login_server: &str) -> (String, String) {
    let cfg = sim.docker_config();
    let auth = cfg["auths"][login_server]["auth"].as_str().unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .unwrap();
    let (u, p) = std::str::from_utf8(&raw).unwrap().split_once(':').unwrap();
    (u.to_owned(), p.to_owned())
}

#[tokio::test(start_paused = true)]
async fn each_admin_change_is_one_notification_within_one_poll() {
    let sim = Sim::start().await;
    let sp = sim.signed_in_principal().await;
    let admin = sim
        .fake
        .add_registry(RegistrySpec::new("adminmode1").admin_enabled(true));
    sim.fake
        .assign_role(&admin.name, &sp.object_id, Role::Contributor);
    sim.cli(&[
        "registry",
        "add",
        &admin.name,
        "--admin",
        "--identity",
        &sp.client_id,
    ])
    .await
    .expect_code(0);
    let plain = sim
        .registry("entra1", &sp.object_id, &sp.client_id, Role::Owner)
        .await;

    let _hold = sim.hold_clock();
    let scheduler = sim.settled_scheduler().await;
    let (_, first) = docker_basic(&sim, &admin.login_server);
    assert_eq!(first, sim.fake.admin_credentials(&admin.name).unwrap().1[0]);
    let mut seen = Seen(0);
    assert_eq!(seen.take(&sim), Vec::new(), "the first read only remembers");
    // One poll: the refresh interval (60 minutes, a few earlier with jitter).
    let poll = async || {
        sim.wake_after(&scheduler, TimeDelta::minutes(61)).await;
    };

    // Regenerated: the new password is in Docker's config, and the notification says so.
    sim.fake.regenerate_admin_password(&admin.name, "password");
    poll().await;
    let (_, now_in_docker) = docker_basic(&sim, &admin.login_server);
    assert_eq!(
        now_in_docker,
        sim.fake.admin_credentials(&admin.name).unwrap().1[0]
    );
    assert_ne!(now_in_docker, first);
    let shown = seen.one(&sim);
    assert_eq!(shown.title, "adminmode1: admin password regenerated");
    assert!(
        shown
            .body
            .contains("wrote the new password into Docker's config")
    );
    poll().await;
    assert_eq!(seen.take(&sim), Vec::new());

    // Disabled: access is gone; one critical notification offering the switch to an Entra
    // identity, and the refresh failure it causes is not announced on its own.
    sim.fake.set_admin_enabled(&admin.name, false);
    poll().await;
    let shown = seen.one(&sim);
    assert_eq!(shown.title, "adminmode1: admin account disabled");
    assert!(shown.body.contains("Switch it to an Entra identity"));
    assert_eq!(shown.urgency, Urgency::Critical);
    assert_eq!(shown.action, Some(NotificationAction::OpenSettings));
    assert!(sim.refresh_failed("adminmode1"));
    for _ in 0..3 {
        poll().await;
    }
    assert_eq!(seen.take(&sim), Vec::new(), "still disabled: nothing more");

    // Enabled again: Docker is logged in with it again; one notification says both.
    sim.fake.set_admin_enabled(&admin.name, true);
    poll().await;
    let shown = seen.one(&sim);
    assert_eq!(shown.title, "Admin account enabled on adminmode1");
    assert!(shown.body.contains("logged in to"));

    // A registry that signs in with Entra: enabling its admin account is a security warning.
    sim.fake.set_admin_enabled(&plain.name, true);
    poll().await;
    let shown = seen.one(&sim);
    assert_eq!(shown.title, "Admin account enabled on entra1");
    assert!(shown.body.contains("recommend keeping it disabled"));
    poll().await;
    assert_eq!(seen.take(&sim), Vec::new());
    scheduler.stop().await;
}
