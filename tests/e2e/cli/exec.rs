//! `exec`: a command run with tokens issued just before it starts, its exit code passed back,
//! signals passed on, and a warning when it outlived a token it started with.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use acr_tray_tests::sim::jwt_exp;
use acr_tray_tests::{REQUEST_TIMEOUT, World, run_cli_in};
use chrono::{DateTime, TimeDelta, Utc};
use fake_azure::Role;

#[test]
fn the_command_s_exit_code_is_returned() {
    let w = World::new();
    w.signed_in_registry("exec1", Role::AcrPull);
    let out = w.cli(&["exec", "--", "sh", "-c", "exit 7"]).expect_code(7);
    assert_message!(w, "exec_exit_code_stderr", out.stderr);
    assert_eq!(out.stdout, "", "the command's stdout is the caller's");
}

#[test]
fn the_command_starts_with_a_token_issued_after_it_was_asked_for() {
    let w = World::new();
    let (_, r) = w.signed_in_registry("exec2", Role::AcrPull);
    w.cli(&["refresh"]).expect_code(0);
    // Ten minutes on, the token is far from due: `exec` issues a new one all the same.
    w.fake.advance_clock(Duration::from_secs(600));
    // JWT times are whole seconds.
    let asked = DateTime::from_timestamp(w.fake.now().timestamp(), 0).unwrap();
    // The command copies Docker's config as it finds it when it starts.
    let seen = w.home.path().join("seen.json");
    let script = format!("cp \"$DOCKER_CONFIG/config.json\" '{}'", seen.display());
    w.cli(&["exec", "--registry", &r.name, "--", "sh", "-c", &script])
        .expect_code(0);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&seen).unwrap()).unwrap();
    let (_, token) = acr_tray_tests::config_auth(&config, &r.login_server);
    // The fake issues ACR refresh tokens for 3 hours from its clock's now.
    let exp = jwt_exp(&token).unwrap();
    assert!(
        exp >= asked + TimeDelta::hours(3),
        "the token the command started with was issued before exec was asked for: expires {exp}, asked {asked}"
    );
}

#[test]
fn a_failed_refresh_stops_the_command_unless_told_to_keep_going() {
    let w = World::new();
    let (sp, [_good, bad]) =
        w.signed_in_registries([("exec4", Role::AcrPull), ("exec5", Role::None)]);
    let marker = w.home.path().join("ran");
    let script = format!("touch '{}'", marker.display());
    let out = w.cli(&["exec", "--", "sh", "-c", &script]).expect_code(1);
    assert!(!marker.exists(), "the command ran without a fresh token");
    assert_message!(
        w,
        "exec_refresh_failed_stderr",
        out.stderr,
        crate::snapshot::names_of(&sp)
    );
    // Only the registries asked for count.
    let good_only = ["exec", "--registry", "exec4", "--", "sh", "-c", &script];
    w.cli(&good_only).expect_code(0);
    assert!(marker.exists());
    std::fs::remove_file(&marker).unwrap();
    let out = w
        .cli(&[
            "exec",
            "--keep-going",
            "--registry",
            &bad.name,
            "--",
            "sh",
            "-c",
            &script,
        ])
        .expect_code(0);
    assert!(marker.exists(), "--keep-going runs it anyway");
    assert!(out.stderr.contains("--keep-going"), "{}", out.stderr);
}

#[test]
fn a_command_that_is_not_found_exits_127() {
    let w = World::new();
    w.signed_in_registry("exec6", Role::AcrPull);
    let missing = w.home.path().join("no-such-program");
    let secret_arg = "--password=s3cr3t-argument";
    let out = w
        .cli(&["exec", "--", &missing.display().to_string(), secret_arg])
        .expect_code(127);
    assert!(
        out.stderr.contains("cannot run no-such-program"),
        "{}",
        out.stderr
    );
    acr_tray_tests::assert_no_secrets("exec's stderr", &out.stderr, &[secret_arg]);
}

/// The system's clock moved on by what the test says.
#[derive(Default)]
struct Shifted(Mutex<TimeDelta>);

impl acr_tray_engine::Clock for Shifted {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.0.lock().unwrap()
    }
}

#[cfg(unix)]
#[test]
fn a_command_that_outlived_its_token_is_told_so() {
    use std::io::Write;
    let w = World::new();
    w.signed_in_registry("exec3", Role::AcrPull);
    let fifo = w.home.path().join("go");
    mkfifo(&fifo);
    let clock = Arc::new(Shifted::default());
    // The command waits for a line on the FIFO: the test moves the clock while it runs.
    let script = format!("read line < '{}'", fifo.display());
    let run = {
        let (env, secrets, clock, fifo) = (w.env(), w.secrets.clone(), clock.clone(), fifo.clone());
        std::thread::spawn(move || {
            let args = ["exec", "--", "sh", "-c", &script];
            let out = run_cli_in(env, secrets, clock, REQUEST_TIMEOUT, &args, "", false);
            // Had the command not run, the test's open below would wait for ever.
            let _ = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&fifo);
            out
        })
    };
    // Opening the FIFO returns once the command opened it: it runs, on its fresh token.
    let mut go = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    *clock.0.lock().unwrap() = TimeDelta::hours(4);
    let _ = writeln!(go, "done");
    drop(go);
    let out = run.join().unwrap().expect_code(0);
    assert_message!(w, "exec_outlived_stderr", out.stderr);

    // A command that ends in time is not warned about.
    let out = w.cli(&["exec", "--", "true"]).expect_code(0);
    assert!(!out.stderr.contains("ran past"), "{}", out.stderr);
}

#[cfg(unix)]
#[test]
fn signals_reach_the_command() {
    use std::process::Command;
    let w = World::new();
    let sp = w.service_principal();
    // A process has no in-memory keyring: the secret is in a file.
    w.login_secret_in_home(&sp).expect_code(0);
    let r = w.registry("exec7", &sp, Role::AcrPull);
    w.cli(&["registry", "add", &r.name]).expect_code(0);
    let fifo = w.home.path().join("ready");
    mkfifo(&fifo);
    let got = w.home.path().join("got");
    let script = format!(
        "trap 'echo TERM > \"{got}\"; kill $pid; exit 42' TERM; sleep 1000 >/dev/null 2>&1 & pid=$!; echo ready > '{fifo}'; wait $pid",
        got = got.display(),
        fifo = fifo.display()
    );
    let child = crate::daemon::process::command(&w, &["exec", "--", "sh", "-c", &script])
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let waited = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let out = child.wait_with_output().unwrap();
            // Had the command not run, the test's read below would wait for ever.
            let _ = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&fifo);
            out
        })
    };
    // The command says it is ready (its trap is set) through the FIFO.
    let ready = std::fs::read_to_string(&fifo).unwrap();
    assert_eq!(ready.trim(), "ready");
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    let out = waited.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(42), "{stderr}");
    assert_eq!(std::fs::read_to_string(&got).unwrap().trim(), "TERM");
}

#[cfg(unix)]
fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}
