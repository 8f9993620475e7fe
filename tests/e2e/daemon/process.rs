//! `acr-tray-cli run` as a process, the way a systemd user unit runs it: events on stdout as
//! they happen, notifications in the log without a notification server, one engine per
//! settings file, a clean stop on SIGTERM; and `run --once` for cron jobs.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use acr_tray_tests::World;
use fake_azure::Role;

const BIN: &str = env!("CARGO_BIN_EXE_acr-tray-cli-e2e");
/// The longest anything here may take before the test gives up on it.
const PATIENCE: Duration = Duration::from_secs(120);

/// A world with a service principal whose secret is in a file (a process has no in-memory
/// keyring), a registry it can pull from and one it has no role on.
fn world() -> (World, String, String) {
    let w = World::new();
    let sp = w.service_principal();
    w.login_secret_in_home(&sp).expect_code(0);
    let good = w.registry("daemon1", &sp, Role::AcrPull);
    let bad = w.registry("daemon2", &sp, Role::None);
    w.cli(&["registry", "add", &good.name]).expect_code(0);
    w.cli(&["registry", "add", &bad.name]).expect_code(0);
    (w, good.login_server, bad.login_server)
}

/// The real `acr-tray-cli` with `args`, in `w`'s environment only, its output piped.
pub(crate) fn command(w: &World, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in w.env().vars() {
        cmd.env(k, v);
    }
    cmd
}

/// Lines of a child's stream, as they come.
fn lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Collects lines into `seen` until one of them (an earlier one too: the order of what one pass
/// prints is not the point) satisfies `pick`. The deadline only bounds a hang: a loaded machine
/// may take a while to start the process and make its first pass.
fn wait_for(rx: &mpsc::Receiver<String>, seen: &mut Vec<String>, pick: impl Fn(&str) -> bool) {
    if seen.iter().any(|l| pick(l)) {
        return;
    }
    let deadline = Instant::now() + PATIENCE;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let hit = pick(&line);
                seen.push(line);
                if hit {
                    return;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    panic!("not seen; got:\n{}", seen.join("\n"));
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for the process to exit; kills it and fails after [`PATIENCE`].
fn exit_status(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running {PATIENCE:?} after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn run_prints_events_holds_the_lock_and_stops_on_sigterm() {
    let (w, good, bad) = world();
    let mut child = command(&w, &["run", "--json"]).spawn().unwrap();
    let out = lines(child.stdout.take().unwrap());
    let err = lines(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    wait_for(&out, &mut seen, |l| {
        l.contains("\"refreshed\"") && l.contains(&good)
    });
    wait_for(&out, &mut seen, |l| {
        l.contains("\"refresh-failed\"") && l.contains(&bad)
    });
    for line in &seen {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["event"].is_string() && v["at"].is_string(), "{line}");
    }
    let (_, token) = w.docker_auth(&good);
    // No notification server here: the notification goes to the log, once.
    let mut logged = Vec::new();
    wait_for(&err, &mut logged, |l| {
        l.contains("daemon2") && l.contains("AcrPull")
    });

    // A second engine for the same settings is refused and says who runs.
    let second = command(&w, &["run"]).output().unwrap();
    assert_eq!(second.status.code(), Some(1), "{second:?}");
    let text = String::from_utf8_lossy(&second.stderr);
    assert!(
        text.contains("already running") && text.contains(&format!("process {}", child.id())),
        "{text}"
    );

    terminate(&child);
    // It stops now, not after its next scheduled pass (an hour away).
    let status = exit_status(&mut child);
    assert_eq!(status.code(), Some(0), "clean exit on SIGTERM");
    // Nothing secret on either stream: everything it printed, read to the end (the streams close
    // when it exits).
    let all: Vec<String> = seen
        .into_iter()
        .chain(out.iter())
        .chain(logged)
        .chain(err.iter())
        .collect();
    let joined = all.join("\n");
    assert!(!joined.contains(&token), "a token was printed");
    // The lock went with it.
    let again = command(&w, &["run", "--once"]).output().unwrap();
    assert_eq!(again.status.code(), Some(1), "{again:?}");
}

#[test]
fn run_once_makes_one_pass_and_exits_with_its_code() {
    let (w, _, _) = world();
    let out = w.cli(&["run", "--once"]);
    assert_eq!(out.code, 1, "one registry has no role: {out:?}");
    // One line an event (its time of day first), in the order the registries finished: sorted
    // by what follows the time to compare.
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort_unstable_by_key(|line| line.split_once(' ').map_or(*line, |(_, event)| event));
    assert_message!(w, "run_once_stdout_sorted", lines.join("\n"));
}
