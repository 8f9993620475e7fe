//! Rows that every registry shares: the wall clock, Docker's config.json and its folder.

use acr_tray_engine::ErrorKind;
use acr_tray_engine::Event;
use chrono::TimeDelta;

use super::{Checks, Reach, Rig, Who};

#[tokio::test(start_paused = true)]
async fn wall_clock_jumps_5_hours() {
    let rig = Rig::start(Who::ServicePrincipal).await;
    rig.live(TimeDelta::minutes(30), Checks::one()).await;
    // The laptop slept: every token Docker has ran out meanwhile.
    rig.sim.clock.jump(TimeDelta::hours(5));
    assert!(
        rig.sim
            .docker_token_expiry()
            .values()
            .all(|exp| *exp < rig.now())
    );
    let took = rig
        .recovers_within(TimeDelta::minutes(2), Checks::all())
        .await;
    assert!(took <= TimeDelta::minutes(1), "{took}");
    let failed: Vec<_> = rig
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::RefreshFailed { .. }))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    rig.live(TimeDelta::minutes(70), Checks::one()).await;
    assert!(rig.finish(Reach::All).await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn config_json_malformed_mid_run() {
    let rig = Rig::start(Who::ServicePrincipal).await;
    let path = rig.sim.home.docker_dir().join("config.json");
    let good = std::fs::read(&path).unwrap();
    // Someone's editor saved half a file.
    let broken = &good[..good.len() / 2];
    std::fs::write(&path, broken).unwrap();
    let during = Checks {
        reach: Reach::All,
        file_intact: false,
    };
    for _ in 0..120 {
        rig.minute(during).await;
        assert_eq!(std::fs::read(&path).unwrap(), broken, "never overwritten");
    }
    let failures = rig.failures(Reach::All, ErrorKind::DockerConfig);
    assert!(
        failures.iter().all(|(m, _)| m.contains("not valid")),
        "{failures:?}"
    );
    assert!(failures.len() <= 12, "retried slowly: {}", failures.len());
    // Repaired by hand: picked up at the next wake.
    std::fs::write(&path, &good).unwrap();
    rig.recovers_within(TimeDelta::minutes(2), Checks::all())
        .await;
    rig.finish(Reach::All).await;
}

#[tokio::test(start_paused = true)]
async fn config_json_deleted() {
    let rig = Rig::start(Who::ServicePrincipal).await;
    let path = rig.sim.home.docker_dir().join("config.json");
    rig.live(TimeDelta::minutes(10), Checks::one()).await;
    std::fs::remove_file(&path).unwrap();
    // The foreign entries went with the file; ours come back at the next wake.
    let after = Checks {
        reach: Reach::One,
        file_intact: false,
    };
    rig.recovers_within(TimeDelta::minutes(2), after).await;
    let cfg = rig.sim.docker_config();
    for host in [&rig.target.login_server, &rig.bystander.login_server] {
        assert!(cfg["auths"][host.as_str()]["auth"].is_string(), "{cfg}");
    }
    assert!(rig.incident_notes().is_empty());
    rig.scheduler.stop().await;
}

/// Makes a folder read-only for the duration, even for root (which ignores mode bits): then
/// it is made immutable with `chattr +i` as well.
struct ReadOnly(std::path::PathBuf);

impl ReadOnly {
    fn new(dir: &std::path::Path) -> Self {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let guard = Self(dir.to_owned());
        let probe = dir.join(".probe");
        if std::fs::write(&probe, b"x").is_ok() {
            std::fs::remove_file(&probe).unwrap();
            let ok = std::process::Command::new("chattr")
                .arg("+i")
                .arg(dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(
                ok,
                "running as root: `chattr +i` is needed to make a folder read-only"
            );
            assert!(std::fs::write(&probe, b"x").is_err(), "read-only");
        }
        guard
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o700));
    }
}

#[tokio::test(start_paused = true)]
async fn docker_config_folder_read_only() {
    let rig = Rig::start(Who::ServicePrincipal).await;
    let read_only = ReadOnly::new(rig.sim.home.docker_dir());
    rig.live(TimeDelta::minutes(120), Checks::all()).await;
    let failures = rig.failures(Reach::All, ErrorKind::Transient);
    assert!(
        failures.iter().all(|(m, _)| m.contains(".docker")
            || m.contains(&rig.sim.home.docker_dir().display().to_string())),
        "names the folder: {failures:?}"
    );
    drop(read_only);
    rig.recovers_within(TimeDelta::minutes(4), Checks::all())
        .await;
    rig.finish(Reach::All).await;
}
