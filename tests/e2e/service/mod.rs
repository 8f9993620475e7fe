//! `acr-tray-cli service`: the systemd user unit it writes, and the `systemctl`/`loginctl`
//! calls that install, remove and report it, through stubs on PATH that record their argv.
#![cfg(target_os = "linux")]

use std::path::PathBuf;

use acr_tray_tests::{World, write_program};

/// A world whose PATH holds only stub `systemctl` and `loginctl` scripts. The stubs append
/// each call's argv to `calls.log`; `systemctl enable`/`disable` flip a state file that
/// `is-enabled`/`is-active` report, as systemd would; with a `no-bus` file it fails as
/// systemctl does without a user manager.
struct ServiceWorld {
    world: World,
    stubs: tempfile::TempDir,
}

const SYSTEMCTL: &str = r#"#!/bin/sh
echo "systemctl $*" >> "STUBS/calls.log"
[ -n "$AZURE_CLIENT_SECRET" ] && echo "systemctl was given AZURE_CLIENT_SECRET" >> "STUBS/calls.log"
if [ -f "STUBS/no-bus" ]; then echo "Failed to connect to bus: No medium found" >&2; exit 1; fi
state=disabled
[ -f "STUBS/state" ] && read -r state < "STUBS/state"
case "$2" in
  enable) echo enabled > "STUBS/state" ;;
  disable) echo disabled > "STUBS/state" ;;
  is-enabled) echo "$state"; [ "$state" = enabled ] || exit 1 ;;
  is-active) if [ "$state" = enabled ]; then echo active; else echo inactive; exit 3; fi ;;
esac
exit 0
"#;

const LOGINCTL: &str = r#"#!/bin/sh
echo "loginctl $*" >> "STUBS/calls.log"
echo "Linger=LINGER"
"#;

impl ServiceWorld {
    /// `acr-tray-cli service ARGS…`, expecting exit code `code`.
    fn service(&self, args: &[&str], code: i32) -> acr_tray_tests::Output {
        let mut argv = vec!["service"];
        argv.extend_from_slice(args);
        self.world.cli(&argv).expect_code(code)
    }

    /// With `systemctl` (and `loginctl` answering `Linger=linger`), or with an empty PATH.
    fn new(systemd: bool, linger: &str) -> Self {
        let mut world = World::new();
        let stubs = tempfile::tempdir().unwrap();
        if systemd {
            let dir = stubs.path().display().to_string();
            write_program(
                &stubs.path().join("systemctl"),
                &SYSTEMCTL.replace("STUBS", &dir),
            );
            let loginctl = LOGINCTL.replace("STUBS", &dir).replace("LINGER", linger);
            write_program(&stubs.path().join("loginctl"), &loginctl);
        }
        world.extra_env.extend([
            ("PATH".into(), stubs.path().display().to_string()),
            ("USER".into(), "dev".into()),
            ("AZURE_CLIENT_SECRET".into(), "not-for-systemctl".into()),
        ]);
        Self { world, stubs }
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.stubs.path().join("calls.log")).unwrap_or_default()
    }

    fn unit_path(&self) -> PathBuf {
        self.world
            .home
            .path()
            .join("home/.config/systemd/user/acr-tray.service")
    }

    /// What varies in this test's output: the executable (this test binary) is `[EXE]`.
    fn names(&self) -> Vec<(String, &'static str)> {
        let exe = std::env::current_exe().unwrap().display().to_string();
        vec![(exe, "[EXE]")]
    }
}

#[test]
fn install_writes_the_unit_then_reloads_and_enables_it() {
    let sw = ServiceWorld::new(true, "no");
    let out = sw.service(&["install"], 0);
    let unit = std::fs::read_to_string(sw.unit_path()).unwrap();
    assert_message!(sw.world, "unit", unit, sw.names());
    assert_eq!(acr_tray_tests::file_mode(&sw.unit_path()), 0o600);
    assert_message!(sw.world, "install_stdout", out.stdout, sw.names());
    assert_eq!(
        sw.calls(),
        "systemctl --user daemon-reload\n\
         systemctl --user enable --now acr-tray.service\n\
         loginctl show-user dev -p Linger\n"
    );
    // No secret of the environment reaches the unit.
    assert!(!unit.contains("not-for-systemctl"));
}

#[test]
fn reinstalling_a_changed_unit_restarts_the_service() {
    let mut sw = ServiceWorld::new(true, "no");
    sw.service(&["install"], 0);
    // The same unit again: nothing to restart.
    sw.service(&["install"], 0);
    assert!(!sw.calls().contains("try-restart"), "{}", sw.calls());
    let other = sw.world.home.path().join("other-docker");
    sw.world
        .extra_env
        .push(("DOCKER_CONFIG".into(), other.display().to_string()));
    std::fs::remove_file(sw.stubs.path().join("calls.log")).unwrap();
    sw.service(&["install"], 0);
    assert!(
        std::fs::read_to_string(sw.unit_path())
            .unwrap()
            .contains(&format!(
                "Environment=\"DOCKER_CONFIG={}\"",
                other.display()
            ))
    );
    assert_eq!(
        sw.calls(),
        "systemctl --user daemon-reload\n\
         systemctl --user enable --now acr-tray.service\n\
         systemctl --user try-restart acr-tray.service\n\
         loginctl show-user dev -p Linger\n"
    );
}

#[test]
fn a_refusing_systemctl_is_a_failure_that_says_what_to_check() {
    let sw = ServiceWorld::new(true, "no");
    std::fs::write(sw.stubs.path().join("no-bus"), "").unwrap();
    let out = sw.service(&["install"], 1);
    assert_message!(sw.world, "no_bus_stderr", out.stderr, sw.names());
}

#[test]
fn install_help_explains_lingering() {
    let sw = ServiceWorld::new(true, "no");
    let help = sw.service(&["install", "--help"], 0);
    assert!(
        help.stdout.contains("loginctl enable-linger $USER"),
        "{}",
        help.stdout
    );
    assert_eq!(sw.calls(), "");
}

#[test]
fn install_with_lingering_on_says_so() {
    let sw = ServiceWorld::new(true, "yes");
    let out = sw.service(&["install"], 0);
    assert!(
        out.stdout.contains(
            "Lingering is on for dev: the service starts at boot and keeps running after you log out."
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn dry_run_prints_the_unit_and_installs_nothing() {
    let sw = ServiceWorld::new(true, "no");
    let printed = sw.service(&["install", "--dry-run"], 0);
    let again = sw.service(&["install", "--print"], 0);
    assert_eq!(printed.stdout, again.stdout);
    assert!(!sw.unit_path().exists());
    assert_eq!(sw.calls(), "");
    sw.service(&["install"], 0);
    assert_eq!(
        std::fs::read_to_string(sw.unit_path()).unwrap(),
        printed.stdout
    );
}

#[test]
fn the_unit_carries_helm_s_registry_config_so_the_service_writes_the_file_helm_reads() {
    let mut sw = ServiceWorld::new(true, "no");
    let helm_home = sw.world.home.path().join("helm-home");
    let registry = sw.world.home.path().join("helm registry.json");
    sw.world.extra_env.extend([
        ("HELM_CONFIG_HOME".into(), helm_home.display().to_string()),
        (
            "HELM_REGISTRY_CONFIG".into(),
            registry.display().to_string(),
        ),
    ]);
    let unit = sw.service(&["install", "--dry-run"], 0).stdout;
    assert_message!(sw.world, "unit_with_helm", unit, sw.names());
    // The service's environment is the shell's for every variable Helm's file depends on.
    let service_env = acr_tray_engine::Env::from_pairs(
        unit.lines()
            .filter_map(|l| l.strip_prefix("Environment=\""))
            .filter_map(|l| l.strip_suffix('"')?.split_once('=')),
    );
    for name in ["HELM_CONFIG_HOME", "HELM_REGISTRY_CONFIG"] {
        assert_eq!(
            service_env.var(name),
            sw.world.env().var(name),
            "{name}: {unit}"
        );
    }
}

#[test]
fn status_reports_then_uninstall_reverses_install() {
    let sw = ServiceWorld::new(true, "no");
    let before = sw.service(&["status"], 1);
    assert_message!(sw.world, "status_before", before.stdout, sw.names());
    sw.service(&["install"], 0);
    let running = sw.service(&["status"], 0);
    assert_message!(sw.world, "status_installed", running.stdout, sw.names());

    std::fs::remove_file(sw.stubs.path().join("calls.log")).unwrap();
    let out = sw.service(&["uninstall"], 0);
    assert_message!(sw.world, "uninstall_stdout", out.stdout, sw.names());
    assert!(!sw.unit_path().exists());
    assert_eq!(
        sw.calls(),
        "systemctl --user disable --now acr-tray.service\n\
         systemctl --user daemon-reload\n"
    );
    sw.service(&["status"], 1);
}

#[test]
fn without_systemd_install_says_what_to_do() {
    let sw = ServiceWorld::new(false, "no");
    let out = sw.service(&["install"], 1);
    assert_message!(sw.world, "no_systemd_stderr", out.stderr, sw.names());
    assert!(!sw.unit_path().exists());
}

#[test]
fn systemd_analyze_accepts_the_unit() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let Some(analyze) = std::env::split_paths(&path)
        .map(|dir| dir.join("systemd-analyze"))
        .find(|p| p.is_file())
    else {
        println!("skipped: systemd-analyze is not installed");
        return;
    };
    let sw = ServiceWorld::new(true, "no");
    sw.service(&["install"], 0);
    // `--user` needs a runtime folder; a private one keeps the real user manager out of it.
    let runtime = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(analyze)
        .args(["--user", "verify"])
        .arg(sw.unit_path())
        .env("XDG_RUNTIME_DIR", runtime.path())
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "systemd-analyze verify: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
