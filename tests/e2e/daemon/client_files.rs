//! Another client's file the always-on engine cannot write (here an `[docker] extra_configs`
//! entry with malformed JSON): announced once per incident however many passes fail, a short
//! note when it is written again, announced again only when it breaks again; the tray asks
//! for attention while it fails.

use std::path::PathBuf;

use acr_tray_engine::service::Service;
use acr_tray_engine::service::view::TrayState;
use acr_tray_engine::{Client, Event, Urgency};
use acr_tray_tests::sim::{Seen, Sim};
use chrono::TimeDelta;

use super::tray_service::until;

const MALFORMED: &[u8] = b"{\"auths\": {\"ghcr.io\": {\"auth\": \"abc\"},}\n";

/// A malformed config.json in `name` under the home, kept in sync as `[docker] extra_configs`;
/// returns the file.
fn malformed_extra_config(sim: &Sim, name: &str) -> PathBuf {
    let dir = sim.home.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config.json");
    std::fs::write(&file, MALFORMED).unwrap();
    let settings = sim.home.path().join("config.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    let list = serde_json::to_string(&dir.display().to_string()).unwrap();
    let text = text.replace(
        "podman = false",
        &format!("podman = false\nextra_configs = [{list}]"),
    );
    assert!(text.contains("extra_configs"), "{text}");
    std::fs::write(&settings, text).unwrap();
    file
}

fn failures(sim: &Sim) -> usize {
    sim.events_where(|e| matches!(e, Event::ClientFileFailed { .. }))
        .len()
}

/// Lets the scheduler run for `hours` in one-minute wakes.
async fn run_for(sim: &Sim, scheduler: &acr_tray_engine::Scheduler, hours: i64) {
    for _ in 0..hours * 60 {
        sim.wake_after(scheduler, TimeDelta::minutes(1)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_failing_extra_config_is_announced_once_per_incident() {
    // Time moves only when the test moves it.
    let (sim, _hold) = Sim::start_held().await;
    sim.signed_in_puller(["cfgfile1"]).await;
    let file = malformed_extra_config(&sim, "ci-docker");
    let scheduler = sim.settled_scheduler().await;
    let mut seen = Seen(0);
    run_for(&sim, &scheduler, 8).await;
    assert!(
        failures(&sim) >= 3,
        "several passes failed: {}",
        failures(&sim)
    );
    let note = seen.one(&sim);
    let path = file.display().to_string();
    assert_eq!(note.title, "An extra Docker config could not be updated");
    assert!(note.body.contains(&path), "{note:#?}");
    assert!(note.body.contains("fix the JSON by hand"), "{note:#?}");
    assert!(note.body.contains("[docker] extra_configs"), "{note:#?}");
    assert_eq!(note.urgency, Urgency::Normal);
    assert_eq!(std::fs::read(&file).unwrap(), MALFORMED, "left untouched");

    // Moved away: the next pass writes it anew; one short note says so.
    std::fs::remove_file(&file).unwrap();
    run_for(&sim, &scheduler, 4).await;
    let written = sim.events_where(|e| {
        matches!(e, Event::ClientFileWritten { client: Client::DockerExtra, file } if *file == path)
    });
    assert_eq!(written.len(), 1, "{written:?}");
    let note = seen.one(&sim);
    assert!(note.title.contains("written again"), "{note:#?}");
    run_for(&sim, &scheduler, 4).await;
    assert!(seen.take(&sim).is_empty(), "quiet while it is written");

    // Broken again: a new incident, announced once more.
    let before = failures(&sim);
    std::fs::write(&file, MALFORMED).unwrap();
    run_for(&sim, &scheduler, 8).await;
    assert!(failures(&sim) >= before + 3, "several passes failed again");
    let note = seen.one(&sim);
    assert!(note.body.contains(&path), "{note:#?}");
    scheduler.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_tray_asks_for_attention_while_a_client_file_fails() {
    let sim = Sim::start().await;
    sim.signed_in_puller(["cfgtray1"]).await;
    let file = malformed_extra_config(&sim, "devcontainer");
    let service = Service::start(sim.options(), "test", sim.notifier.clone()).unwrap();
    let outcomes = service.refresh_now(Vec::new()).await.unwrap();
    assert!(outcomes.iter().all(|o| o.ok), "{outcomes:?}");
    let failing = until(&service, "a failing file", |o| !o.client_files.is_empty()).await;
    assert_eq!(failing.state, TrayState::Attention);
    assert_eq!(
        failing.summary,
        "The extra Docker config could not be updated"
    );
    let shown = &failing.client_files[0];
    assert_eq!(shown.file, file.display().to_string());
    assert_eq!(shown.client, Client::DockerExtra);
    assert!(shown.message.contains("not valid"), "{shown:?}");
    assert!(
        shown
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("fix the JSON by hand")),
        "{shown:?}"
    );

    std::fs::remove_file(&file).unwrap();
    service.refresh_now(Vec::new()).await.unwrap();
    let ok = until(&service, "written again", |o| o.client_files.is_empty()).await;
    assert_eq!(ok.state, TrayState::Ok, "{ok:#?}");
}
