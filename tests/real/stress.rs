//! 200 interleaved writes to one config.json: ACR Tray's writer in one thread (tokens for two
//! registries, alternating) and the real docker CLI in another (`docker login` / `docker
//! logout` of a plain registry, alternating). Each round both start together (a barrier), the
//! writer after a varying delay, so its write lands at different points of docker's
//! read-login-save; after each round the file is checked.
//!
//! Docker neither locks nor merges, so when ACR Tray writes while a docker command runs, docker
//! saves its stale copy and that ACR Tray token is lost until the next refresh: counted, not a
//! failure. The reverse (ACR Tray dropping what docker just saved) must never happen: ACR Tray
//! re-reads and compares right before its rename.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use acr_tray_engine::Env;
use acr_tray_engine::Secret;
use acr_tray_engine::{DockerCredential, EntryForm, ZERO_GUID, write_credentials};
use acr_tray_tests::World;
use acr_tray_tests::real::clients::Clients;
use acr_tray_tests::real::{PlainRegistry, have};
use base64::Engine as _;
use serde_json::{Value, json};

const ROUNDS: usize = 100;
/// The whole test takes about 10 s (minutes on a loaded machine); this long means something is
/// stuck.
const WATCHDOG: Duration = Duration::from_secs(600);
const REGISTRIES: [&str; 2] = [
    "alpha.azurecr.localhost:8443",
    "bravo.azurecr.localhost:8443",
];
const OTHER: (&str, &str) = ("ghcr.io", "dXNlcjpwYXNz");

fn registry_of(round: usize) -> &'static str {
    REGISTRIES[round % 2]
}

fn token_of(round: usize) -> String {
    format!(
        "token-{}-{round}",
        registry_of(round).split('.').next().unwrap_or_default()
    )
}

fn auth_of(token: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{ZERO_GUID}:{token}"))
}

/// Docker logs in on odd rounds, out on even ones (so it ends logged in).
fn docker_logs_in(round: usize) -> bool {
    round % 2 == 1
}

#[derive(Default)]
struct Tally {
    problems: Vec<String>,
    docker_entry_lost: usize,
    acr_token_lost: usize,
}

#[test]
fn acr_tray_writer_and_docker_cli_interleave_on_one_config() {
    // A panic in a worker would leave the others waiting at the barrier: check the tool first.
    assert!(have("docker"), "the docker CLI is not installed");
    let w = World::new();
    let plain = PlainRegistry::start("stressuser", "stresspass");
    let clients = Arc::new(Clients::new(&w));
    let dir = w.home.docker_dir().to_owned();
    let path = w.docker_config_path();
    std::fs::write(
        &path,
        json!({"auths": {OTHER.0: {"auth": OTHER.1}}}).to_string(),
    )
    .unwrap();
    let env = Env::from_pairs([
        ("DOCKER_CONFIG", dir.display().to_string()),
        ("HOME", w.home.path().display().to_string()),
    ]);
    let theirs = json!({"auth": plain.auth()});
    let rounds = Arc::new(Rounds::new(3));

    let writer = rounds.spawn({
        let path = path.clone();
        move |round| {
            std::thread::sleep(Duration::from_millis((round as u64 * 37) % 120));
            let cred = DockerCredential {
                username: ZERO_GUID.to_owned(),
                secret: Secret::new(token_of(round)),
                form: EntryForm::Password,
            };
            let creds = [(registry_of(round).to_owned(), cred)];
            match write_credentials(&path, &creds, &env) {
                Ok(results) if results.iter().all(Result::is_ok) => None,
                other => Some(format!("round {round}: {other:?}")),
            }
        }
    });
    let docker = rounds.spawn({
        let clients = clients.clone();
        let (dir, address, user, password) = (
            dir.clone(),
            plain.address.clone(),
            plain.user.clone(),
            plain.password.clone(),
        );
        move |round| {
            let run = if docker_logs_in(round) {
                clients.docker_login(&dir, &address, &user, &password)
            } else {
                clients.docker(&dir, &["logout", &address], None)
            };
            (!run.ok()).then(|| format!("round {round}: {run}"))
        }
    });

    // A writer blocked for good (say, on a lock) would hang the run: give up loudly instead.
    let done = Arc::new(AtomicBool::new(false));
    {
        let done = done.clone();
        std::thread::spawn(move || {
            std::thread::sleep(WATCHDOG);
            if !done.load(Ordering::SeqCst) {
                eprintln!(
                    "stress test still running after {WATCHDOG:?}: a writer is stuck; exiting"
                );
                std::process::exit(101);
            }
        });
    }
    let begun = Instant::now();
    let mut tally = Tally::default();
    for round in 0..ROUNDS {
        rounds.started.wait();
        rounds.finished.wait();
        check_round(
            round,
            &std::fs::read(&path).unwrap(),
            &plain.address,
            &theirs,
            &mut tally,
        );
    }
    writer.join().unwrap();
    docker.join().unwrap();
    done.store(true, Ordering::SeqCst);
    eprintln!(
        "{ROUNDS} rounds in {:?}: {} ACR Tray tokens overwritten by docker's stale saves, {} docker \
         changes lost",
        begun.elapsed(),
        tally.acr_token_lost,
        tally.docker_entry_lost
    );

    let errors = rounds.errors.lock().unwrap().clone();
    assert!(errors.is_empty(), "writes failed:\n{}", errors.join("\n"));
    assert!(tally.problems.is_empty(), "{}", tally.problems.join("\n"));
    assert_eq!(
        tally.docker_entry_lost, 0,
        "ACR Tray's writer dropped what docker had just saved"
    );
    let cfg: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let auths = &cfg["auths"];
    assert_eq!(auths[OTHER.0]["auth"], OTHER.1, "{cfg:#}");
    assert_eq!(
        auths[&plain.address], theirs,
        "docker ended logged in: {cfg:#}"
    );
    for (i, registry) in REGISTRIES.iter().enumerate() {
        let written: Vec<String> = (i..ROUNDS)
            .step_by(2)
            .map(|r| auth_of(&token_of(r)))
            .collect();
        let auth = auths[registry]["auth"].as_str().unwrap_or_default();
        assert!(
            written.iter().any(|a| a == auth),
            "{registry} missing: {cfg:#}"
        );
    }
}

/// The rounds the writers and the checker go through together: every round starts when all
/// are ready and ends when all are done, and the writers' failures are collected.
struct Rounds {
    started: Barrier,
    finished: Barrier,
    errors: Mutex<Vec<String>>,
}

impl Rounds {
    fn new(parties: usize) -> Self {
        Self {
            started: Barrier::new(parties),
            finished: Barrier::new(parties),
            errors: Mutex::new(Vec::new()),
        }
    }

    /// A writer doing `write(round)` in each of the [`ROUNDS`]; what it returns is a failure.
    fn spawn(
        self: &Arc<Self>,
        mut write: impl FnMut(usize) -> Option<String> + Send + 'static,
    ) -> std::thread::JoinHandle<()> {
        let rounds = Arc::clone(self);
        std::thread::spawn(move || {
            for round in 0..ROUNDS {
                rounds.started.wait();
                if let Some(failed) = write(round) {
                    rounds.errors.lock().unwrap().push(failed);
                }
                rounds.finished.wait();
            }
        })
    }
}

/// Checks the file after both writers finished a round.
fn check_round(round: usize, bytes: &[u8], plain: &str, theirs: &Value, tally: &mut Tally) {
    let cfg: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            let text = String::from_utf8_lossy(bytes);
            tally
                .problems
                .push(format!("round {round}: invalid JSON ({e}):\n{text}"));
            return;
        }
    };
    let auths = &cfg["auths"];
    if auths[OTHER.0]["auth"] != OTHER.1 {
        tally
            .problems
            .push(format!("round {round}: {} lost: {cfg:#}", OTHER.0));
    }
    let docker_ok = if docker_logs_in(round) {
        auths[plain] == *theirs
    } else {
        auths.get(plain).is_none()
    };
    if !docker_ok {
        tally.docker_entry_lost += 1;
    }
    if auths[registry_of(round)]["auth"] != auth_of(&token_of(round)).as_str() {
        tally.acr_token_lost += 1;
    }
}
