//! The always-on engine on a paused clock: the scheduler keeps every token fresh for days,
//! notices a wall-clock jump, and answers "refresh now".

use std::sync::Arc;

use acr_tray_cli::CliWords;
use acr_tray_engine::Event;
use acr_tray_engine::Scheduler;
use acr_tray_tests::sim::Sim;
use chrono::TimeDelta;
use fake_azure::Role;

fn exchanges(sim: &Sim) -> usize {
    sim.fake
        .requests()
        .iter()
        .filter(|r| r.path == "/oauth2/exchange" && r.status == 200)
        .count()
}

#[tokio::test(start_paused = true)]
async fn keeps_every_token_fresh_for_a_day_with_hourly_refreshes() {
    // Time moves only when the test moves it.
    let (sim, _hold) = Sim::start_held().await;
    let sp = sim.signed_in_principal().await;
    let names = ["alpha", "bravo", "charlie"];
    for n in names {
        sim.pull_registry(n, &sp).await;
    }
    let scheduler = sim.scheduler();
    let start = sim.now();
    scheduler.settled(start).await;
    assert_eq!(
        sim.docker_token_expiry().len(),
        3,
        "{}",
        sim.docker_config()
    );

    let hours = 24;
    for minute in 1..=hours * 60 {
        sim.advance(TimeDelta::minutes(1)).await;
        let now = sim.now();
        scheduler.settled(now).await;
        for (host, exp) in sim.docker_token_expiry() {
            assert!(
                exp - now >= TimeDelta::minutes(75),
                "minute {minute}: {host} has only {} min left",
                (exp - now).num_minutes()
            );
        }
    }
    // One exchange per registry at start, then about one an hour (jitter brings each up to
    // 3 minutes early).
    let ideal = names.len() * (hours as usize + 1);
    let got = exchanges(&sim);
    assert!(
        got >= ideal && got <= ideal + ideal / 10,
        "{got} exchanges, ideal {ideal}"
    );
    let failed = sim.events_where(|e| matches!(e, Event::RefreshFailed { .. }));
    assert!(failed.is_empty(), "{failed:?}");
    scheduler.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_wall_clock_jump_refreshes_at_once() {
    // Time moves only when the test moves it.
    let (sim, _hold) = Sim::start_held().await;
    let sp = sim.signed_in_principal().await;
    let r = sim.pull_registry("delta", &sp).await;
    let scheduler = sim.settled_scheduler().await;
    let before = sim.docker_token_expiry()[&r.login_server];

    // The laptop sleeps for five hours: the wall clock moves, tokio's timers do not.
    sim.clock.jump(TimeDelta::hours(5));
    assert!(before < sim.now(), "the token ran out during the sleep");
    sim.wake_after(&scheduler, TimeDelta::seconds(61)).await;
    let after = sim.docker_token_expiry()[&r.login_server];
    assert!(
        after - sim.now() > TimeDelta::hours(2),
        "refreshed within a minute of waking: {after} vs {}",
        sim.now()
    );
    scheduler.stop().await;
}

#[tokio::test(start_paused = true)]
async fn refresh_now_ignores_the_schedule_and_a_second_engine_is_refused() {
    // Time moves only when the test moves it.
    let (sim, _hold) = Sim::start_held().await;
    let sp = sim.signed_in_principal().await;
    sim.pull_registry("echo1", &sp).await;
    let scheduler = sim.settled_scheduler().await;
    assert_eq!(exchanges(&sim), 1);
    let outcomes = scheduler.refresh_now(vec!["echo1".into()]).await.unwrap();
    assert!(outcomes[0].result.is_ok(), "{outcomes:?}");
    assert_eq!(exchanges(&sim), 2);

    let second = Scheduler::start(
        sim.options(),
        "second",
        sim.notifier.clone(),
        Arc::new(CliWords),
    )
    .err()
    .unwrap();
    assert!(
        second.to_string().contains("already running") && second.to_string().contains("(test)"),
        "{second}"
    );
    scheduler.stop().await;
    sim.scheduler_named("second").stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_entry_removed_from_docker_is_written_again_within_a_minute() {
    // Time moves only when the test moves it.
    let (sim, _hold) = Sim::start_held().await;
    let (_, [a, b]) = sim.signed_in_puller(["foxtrot", "golf1"]).await;
    let scheduler = sim.settled_scheduler().await;
    let path = sim.home.docker_dir().join("config.json");

    // `docker logout` of one registry, next to another tool's entry.
    let mut cfg = sim.docker_config();
    cfg["auths"]
        .as_object_mut()
        .unwrap()
        .remove(&a.login_server);
    cfg["auths"]["ghcr.io"] = serde_json::json!({"auth": "dXNlcjpwYXNz"});
    std::fs::write(&path, cfg.to_string()).unwrap();
    sim.wake_after(&scheduler, TimeDelta::seconds(61)).await;
    let tokens = sim.docker_token_expiry();
    assert!(
        tokens.contains_key(&a.login_server),
        "{}",
        sim.docker_config()
    );
    assert_eq!(
        sim.docker_config()["auths"]["ghcr.io"]["auth"],
        "dXNlcjpwYXNz"
    );

    // The whole file deleted.
    std::fs::remove_file(&path).unwrap();
    sim.wake_after(&scheduler, TimeDelta::seconds(61)).await;
    let tokens = sim.docker_token_expiry();
    assert!(
        tokens.contains_key(&a.login_server) && tokens.contains_key(&b.login_server),
        "{}",
        sim.docker_config()
    );
    scheduler.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_sign_in_from_another_process_refreshes_at_once() {
    // Time moves only when the test moves it.
    let (sim, _hold) = Sim::start_held().await;
    let user = sim.user("dev@contoso.example");
    sim.sign_in_with_device_code(&user).await;
    let reg = sim
        .fake
        .add_registry(fake_azure::RegistrySpec::new("india1"));
    sim.fake
        .assign_role(&reg.name, &user.object_id, Role::AcrPull);
    sim.cli(&["registry", "add", &reg.name])
        .await
        .expect_code(0);
    let scheduler = sim.settled_scheduler().await;
    let first = sim.docker_token_expiry()[&reg.login_server];

    // The session is revoked and "refresh now" finds out: the registry waits for a sign-in,
    // while Docker's credential still has hours left (so no schedule would refresh it soon).
    sim.fake.revoke_refresh_tokens(&user.object_id);
    let outcomes = scheduler.refresh_now(vec![]).await.unwrap();
    assert!(outcomes[0].result.is_err());
    sim.wake_after(&scheduler, TimeDelta::minutes(5)).await;
    let before = exchanges(&sim);

    // Signed in again in a terminal: the running engine refreshes the registry within a
    // minute, not at its next scheduled refresh an hour later.
    sim.cli(&["login", "--device-code"]).await.expect_code(0);
    sim.wake_after(&scheduler, TimeDelta::seconds(61)).await;
    assert_eq!(exchanges(&sim), before + 1);
    assert!(sim.docker_token_expiry()[&reg.login_server] > first);
    let status = sim.cli(&["status", "--json"]).await.expect_code(0).json();
    assert!(status[0]["lastError"].is_null(), "{status}");
    scheduler.stop().await;
}

#[tokio::test(start_paused = true)]
async fn refreshes_falling_due_together_share_a_pass() {
    // Time moves only when the test moves it.
    let (sim, _hold) = Sim::start_held().await;
    let sp = sim.signed_in_principal().await;
    let names: Vec<String> = (0..12).map(|i| format!("kilo{i:02}")).collect();
    for n in &names {
        sim.pull_registry(n, &sp).await;
    }
    let scheduler = sim.settled_scheduler().await;
    assert_eq!(scheduler.status().borrow().passes, 1);
    for _ in 0..65 {
        sim.wake_after(&scheduler, TimeDelta::minutes(1)).await;
    }
    // Each registry's hourly refresh comes up to 3 minutes early, differently per registry, so
    // alone they would make 12 passes (12 writes of config.json); those due within half a
    // minute of each other share one, so at most 7 spread over the 3 minutes.
    assert_eq!(exchanges(&sim), 24);
    let passes = scheduler.status().borrow().passes;
    assert!(passes <= 1 + 7, "{passes} passes");
    scheduler.stop().await;
}
