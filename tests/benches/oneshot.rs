//! One-shot commands as a user (or Docker) runs them: `acr-tray-cli refresh REG` and
//! `docker-credential-acr-tray get`, each a new process of the release build, against the fake
//! Azure on loopback. Prints the median wall time of each (spawn to exit, stdin given, output
//! read), next to `/bin/true` measured the same way.
//!
//! Run: `scripts/bench-oneshot.sh` (builds the release binaries, then runs this inside a
//! private D-Bus session with an unlocked gnome-keyring so the Secret Service figures are
//! measured too). Without a session bus only the file-store figures are printed.
//!
//! Targets: `refresh` with the secret in the Secret Service keyring <= 45 ms; the helper's
//! "credentials not found" for a host it does not serve <= 1.5 ms; its answer from a fresh
//! cached token with the file store <= 2 ms.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use acr_tray_tests::{World, argv};
use fake_azure::Role;

/// Runs per figure (after [`WARMUP`]); the median is printed.
const RUNS: usize = 21;
const WARMUP: usize = 3;

fn main() {
    let bin_dir = release_dir();
    let cli = bin_dir.join("acr-tray-cli");
    let helper = bin_dir.join("docker-credential-acr-tray");
    for b in [&cli, &helper] {
        assert!(
            b.is_file(),
            "{} is missing: run scripts/bench-oneshot.sh (or `cargo build --release -p acr-tray-cli` first)",
            b.display()
        );
    }
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").ok();
    println!(
        "one-shot commands, release build, fake Azure on loopback; median of {RUNS} runs (min, max) in ms"
    );
    let mut rows = Vec::new();
    let truth = measure(Path::new("/bin/true"), &[], "", &[]);
    rows.push(("/bin/true".to_owned(), truth));

    // The secret in a 0600 file and no session bus: the token cache is a 0600 file too.
    let file = Setup::new(&cli, None);
    rows.push((
        "acr-tray-cli refresh REG (secret file, file store)".to_owned(),
        file.run(&cli, &["refresh", &file.registry], ""),
    ));
    rows.push((
        "helper get, a host it does not serve".to_owned(),
        file.run(&helper, &["get"], "https://index.docker.io/v1/\n"),
    ));
    rows.push((
        "helper get, cached token (file store)".to_owned(),
        file.run(&helper, &["get"], &format!("{}\n", file.login_server)),
    ));
    match &bus {
        Some(bus) => {
            let keyring = Setup::new(&cli, Some(bus.clone()));
            rows.push((
                "acr-tray-cli refresh REG (Secret Service keyring)".to_owned(),
                keyring.run(&cli, &["refresh", &keyring.registry], ""),
            ));
            rows.push((
                "helper get, cached token (Secret Service keyring)".to_owned(),
                keyring.run(&helper, &["get"], &format!("{}\n", keyring.login_server)),
            ));
        }
        None => println!(
            "(no DBUS_SESSION_BUS_ADDRESS: the Secret Service figures are left out; run scripts/bench-oneshot.sh)"
        ),
    }
    let base = truth.median.as_secs_f64();
    for (name, t) in rows {
        println!(
            "{name:<52} {:>7.2}  ({:.2}, {:.2})  {:>5.1}x /bin/true",
            ms(t.median),
            ms(t.min),
            ms(t.max),
            t.median.as_secs_f64() / base
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `target/release` (this bench runs from `target/release/deps`), or `ACR_TRAY_BENCH_BIN`.
fn release_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ACR_TRAY_BENCH_BIN") {
        return dir.into();
    }
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

/// A fake with one registry and an ACR Tray home signed in to it with one service principal.
struct Setup {
    world: World,
    /// The session bus the measured processes get (`None`: no keyring, file store).
    bus: Option<String>,
    registry: String,
    login_server: String,
}

impl Setup {
    fn new(cli: &Path, bus: Option<String>) -> Self {
        let world = World::new();
        let sp = world.service_principal();
        let registry = "benchreg".to_owned();
        let reg = world.registry(&registry, &sp, Role::AcrPush);
        world
            .fake
            .assign_role(&reg.name, &sp.object_id, Role::Reader);
        let mut setup = Self {
            world,
            bus,
            registry,
            login_server: reg.login_server,
        };
        let secret_file = setup.world.home.path().join("sp-secret");
        let secret_file = secret_file.display().to_string();
        let login = if setup.bus.is_none() {
            argv::login_secret_file(&sp, &secret_file)
        } else {
            argv::login_service_principal(&sp, &["--secret-stdin"])
        };
        setup.once(cli, &argv::strs(&login), &format!("{}\n", sp.secret));
        setup.once(cli, &["registry", "add", &setup.registry.clone()], "");
        // The first refresh fills the token cache the helper answers from.
        setup.once(cli, &["refresh", &setup.registry.clone()], "");
        setup
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = self
            .world
            .env()
            .vars()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(path) = std::env::var_os("PATH") {
            env.push(("PATH".to_owned(), path.to_string_lossy().into_owned()));
        }
        if let Some(bus) = &self.bus {
            env.push(("DBUS_SESSION_BUS_ADDRESS".to_owned(), bus.clone()));
            if let Ok(run) = std::env::var("XDG_RUNTIME_DIR") {
                env.push(("XDG_RUNTIME_DIR".to_owned(), run));
            }
        }
        env
    }

    fn once(&mut self, program: &Path, args: &[&str], stdin: &str) {
        let (code, out, err) = spawn(program, args, stdin, &self.env());
        assert_eq!(
            code,
            0,
            "{} {}: exit {code}\n{out}\n{err}",
            program.display(),
            args.join(" ")
        );
    }

    fn run(&self, program: &Path, args: &[&str], stdin: &str) -> Timing {
        measure(program, args, stdin, &self.env())
    }
}

#[derive(Clone, Copy)]
struct Timing {
    median: Duration,
    min: Duration,
    max: Duration,
}

/// Runs the command [`WARMUP`] + [`RUNS`] times; every run must succeed the same way.
fn measure(program: &Path, args: &[&str], stdin: &str, env: &[(String, String)]) -> Timing {
    let mut times = Vec::with_capacity(RUNS);
    let mut expected = None;
    for i in 0..WARMUP + RUNS {
        let start = Instant::now();
        let code = spawn_quiet(program, args, stdin, env);
        let took = start.elapsed();
        let expected = *expected.get_or_insert(code);
        if code != expected {
            let (code, out, err) = spawn(program, args, stdin, env);
            panic!(
                "{} {}: exit {code} (the first run gave {expected})\n{out}\n{err}",
                program.display(),
                args.join(" ")
            );
        }
        if i >= WARMUP {
            times.push(took);
        }
    }
    times.sort();
    Timing {
        median: times[times.len() / 2],
        min: times[0],
        max: times[times.len() - 1],
    }
}

/// Starts the program with exactly `env`, stdout piped, stderr to `stderr`, and writes `stdin`
/// to it (then closes it).
fn started(
    program: &Path,
    args: &[&str],
    stdin: &str,
    env: &[(String, String)],
    stderr: Stdio,
) -> std::process::Child {
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let mut input = child.stdin.take().unwrap();
    // Ignoring a broken pipe: a program may exit without reading its input.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    child
}

/// [`spawn`] as timed: stdout read to the end, stderr discarded; the exit code.
fn spawn_quiet(program: &Path, args: &[&str], stdin: &str, env: &[(String, String)]) -> i32 {
    let mut child = started(program, args, stdin, env, Stdio::null());
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    child.wait().unwrap().code().unwrap_or(-1)
}

/// Spawns the program with exactly `env`, writes `stdin`, reads stdout and stderr to the end.
fn spawn(
    program: &Path,
    args: &[&str],
    stdin: &str,
    env: &[(String, String)],
) -> (i32, String, String) {
    let mut child = started(program, args, stdin, env, Stdio::piped());
    let mut err = String::new();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let _ = stderr.read_to_string(&mut err);
        err
    });
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let status = child.wait().unwrap();
    (status.code().unwrap_or(-1), out, reader.join().unwrap())
}
