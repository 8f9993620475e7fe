//! `docker-credential-acr-tray`: Docker's credential-helper protocol
//! (docs/protocol.md#credential-helper) over
//! ACR Tray's own cache. `get` answers for configured registries — refreshing first when the
//! cached token has less than 75 minutes left, so a fresh cache costs no network — and gives
//! Docker's "credentials not found" for every other host.
//!
//! Docker runs the helper for every registry it names, on every pull, push and build, so
//! everything but a refresh is answered from the settings and the cache alone (`respond`),
//! before any logging, runtime or engine is set up. The product's binary ([`run_standalone`])
//! does not even contain the engine: the one refresh a `get` may need runs in `acr-tray-cli`
//! (`acr-tray-cli credential-helper get`, which is [`run`]), so the binary Docker starts
//! again and again loads no TLS, HTTP or async runtime code.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use acr_tray_engine::CREDENTIALS_NOT_FOUND;
use acr_tray_engine::Paths;
use acr_tray_engine::SecretStore;
use acr_tray_engine::Settings;
use acr_tray_engine::{CachedCredential, TokenStore};
use acr_tray_engine::{Engine, EngineOptions, Env, Error};
use acr_tray_engine::{EntryForm, ZERO_GUID};

use crate::Context;

/// How long a token must still be valid for `get` to answer from the cache.
const MIN_LEFT: chrono::TimeDelta = chrono::TimeDelta::minutes(75);

/// The program that refreshes for [`run_standalone`], next to it.
pub const CLI_PROGRAM: &str = "acr-tray-cli";

/// Runs one helper action in this process (the engine included, for a `get` that must
/// refresh) and returns the exit code.
pub fn run(args: Vec<String>, ctx: Context) -> i32 {
    let Context {
        env,
        mut stdin,
        mut stdout,
        stderr,
        secrets,
        http,
        retry_base,
        clock,
        terminal: _,
    } = ctx;
    let Some(action) = action(&args, &mut stdout) else {
        return 0;
    };
    let input = read_input(&action, &mut stdin);
    let server = match respond(&action, input.trim(), &env, secrets.as_ref(), clock.now()) {
        Response::Done { code, text } => return say(&mut stdout, code, &text),
        Response::Refresh { server } => server,
    };
    let stderr = crate::logging::SharedWriter::new(stderr);
    let log_dir = Paths::from_env(&env).ok().map(|p| p.log_dir);
    let _log = crate::logging::init(stderr, log_dir.as_deref(), 0, env.var("ACR_TRAY_LOG"));
    let options = EngineOptions {
        env,
        secrets,
        http,
        events: std::sync::Arc::new(acr_tray_engine::NoEvents),
        retry_base,
        clock,
    };
    let result = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(refresh_and_answer(&server, options)),
        Err(e) => Err(format!("acr-tray: cannot start: {e}")),
    };
    match result {
        Ok(answer) => say(&mut stdout, 0, &answer),
        // Errors go to stdout: that is where Docker reads a helper's message.
        Err(message) => say(&mut stdout, 1, &message),
    }
}

/// `docker-credential-acr-tray` itself: [`run`] without the engine. A `get` that must refresh
/// is handed, with its input, to `cli` (`acr-tray-cli credential-helper get`), whose answer and
/// exit code are Docker's.
pub fn run_standalone(args: Vec<String>, cli: &Path) -> i32 {
    let Context {
        env,
        mut stdin,
        mut stdout,
        secrets,
        clock,
        ..
    } = Context::from_process();
    let Some(action) = action(&args, &mut stdout) else {
        return 0;
    };
    let input = read_input(&action, &mut stdin);
    match respond(&action, input.trim(), &env, secrets.as_ref(), clock.now()) {
        Response::Done { code, text } => say(&mut stdout, code, &text),
        Response::Refresh { .. } => {
            let _ = stdout.flush();
            match delegate(cli, &action, &input) {
                Ok(code) => code,
                Err(e) => say(
                    &mut stdout,
                    1,
                    &format!(
                        "acr-tray: cannot refresh: {} cannot be started ({e}); it is installed with docker-credential-acr-tray",
                        cli.display()
                    ),
                ),
            }
        }
    }
}

/// Where the product's helper finds `acr-tray-cli`: in its own folder (as installed), else on
/// `PATH`.
pub fn cli_next_to_this_program() -> std::path::PathBuf {
    let name = format!("{CLI_PROGRAM}{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&name)))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| name.into())
}

/// Runs `cli credential-helper ACTION` with `input` on its stdin, its output going straight
/// to Docker; returns its exit code.
fn delegate(cli: &Path, action: &str, input: &str) -> std::io::Result<i32> {
    let mut child = Command::new(cli)
        .args(["credential-helper", action])
        .stdin(Stdio::piped())
        .spawn()?;
    if let Some(mut pipe) = child.stdin.take() {
        // A program that exits without reading its input says why itself (its exit code).
        let _ = pipe.write_all(input.as_bytes());
    }
    let status = child.wait()?;
    Ok(status.code().unwrap_or(1))
}

/// The action (`get`, `store`, `erase`, `list`); `None` after answering `version`.
fn action(args: &[String], stdout: &mut dyn Write) -> Option<String> {
    let action = args.get(1).map(String::as_str).unwrap_or_default();
    if matches!(action, "version" | "--version" | "-v") {
        let _ = writeln!(
            stdout,
            "docker-credential-acr-tray (acr-tray) {}",
            env!("CARGO_PKG_VERSION")
        );
        return None;
    }
    Some(action.to_owned())
}

/// The action's input: a server URL (`get`, `erase`) or credentials (`store`), at most 64 KiB;
/// `list` has none.
fn read_input(action: &str, stdin: &mut dyn Read) -> String {
    let mut input = String::new();
    if action != "list" {
        let _ = stdin.take(64 * 1024).read_to_string(&mut input);
    }
    input
}

fn say(stdout: &mut dyn Write, code: i32, text: &str) -> i32 {
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
    code
}

/// What the settings and the cache alone can answer.
enum Response {
    /// The answer and the exit code.
    Done { code: i32, text: String },
    /// A `get` for a configured registry without a fresh cached token: the engine refreshes.
    Refresh { server: String },
}

impl Response {
    fn ok(text: String) -> Self {
        Self::Done { code: 0, text }
    }

    fn failed(text: String) -> Self {
        Self::Done { code: 1, text }
    }

    fn error(e: &Error) -> Self {
        Self::failed(describe(e))
    }
}

fn describe(e: &Error) -> String {
    let hint = e
        .hint()
        .map(|h| format!(" ({})", crate::words::say(&h)))
        .unwrap_or_default();
    format!("acr-tray: {e}{hint}")
}

/// The registry host Docker asks about: `https://host:port/...` → `host:port`.
fn host_of(server_url: &str) -> String {
    let s = server_url.trim();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    s.split('/').next().unwrap_or_default().to_ascii_lowercase()
}

/// Answers an action from the settings and ACR Tray's cache.
fn respond(
    action: &str,
    input: &str,
    env: &Env,
    secrets: &dyn SecretStore,
    now: chrono::DateTime<chrono::Utc>,
) -> Response {
    if !matches!(action, "get" | "store" | "erase" | "list") {
        return Response::failed(format!(
            "docker-credential-acr-tray: unknown action: {action}"
        ));
    }
    let paths = match Paths::from_env(env) {
        Ok(p) => p,
        Err(e) => return Response::error(&e),
    };
    let settings = match Settings::load(&paths.config_file()) {
        Ok(s) => s,
        Err(e) => return Response::error(&e),
    };
    let configured = |server: &str| {
        let host = host_of(server);
        settings
            .registries
            .iter()
            .find(|r| r.login_server.to_string() == host)
            .map(|r| r.login_server.to_string())
    };
    let cache = TokenStore::new(secrets, paths.token_file());
    match action {
        "get" => {
            let Some(login_server) = configured(input) else {
                return Response::failed(CREDENTIALS_NOT_FOUND.to_owned());
            };
            match cache.get(&login_server) {
                Ok(Some(cred)) if cred.expires_at.is_none_or(|exp| exp - now >= MIN_LEFT) => {
                    Response::ok(answer(input, cred, settings.docker.entry_form))
                }
                _ => Response::Refresh {
                    server: input.to_owned(),
                },
            }
        }
        "store" => {
            let server = serde_json::from_str::<serde_json::Value>(input)
                .ok()
                .and_then(|v| v["ServerURL"].as_str().map(str::to_owned))
                .unwrap_or_default();
            Response::failed(match configured(&server) {
                Some(login_server) => format!(
                    "acr-tray: ACR Tray keeps {login_server} logged in itself; `docker login` is not needed (see `acr-tray-cli status`)"
                ),
                None => format!(
                    "acr-tray: docker-credential-acr-tray only serves registries configured in ACR Tray, not {server}"
                ),
            })
        }
        "erase" => match configured(input).map(|ls| cache.remove(&ls)) {
            Some(Err(e)) => Response::error(&e),
            _ => Response::ok(String::new()),
        },
        _ => {
            let mut map = serde_json::Map::new();
            for r in &settings.registries {
                let login_server = r.login_server.to_string();
                match cache.get(&login_server) {
                    Ok(Some(c)) => {
                        map.insert(login_server, serde_json::Value::String(c.username));
                    }
                    Ok(None) => {}
                    Err(e) => return Response::error(&e),
                }
            }
            Response::ok(serde_json::Value::Object(map).to_string())
        }
    }
}

/// Docker's answer to `get`: the credential for `server`, as the settings' entry form says.
fn answer(server: &str, cred: CachedCredential, form: EntryForm) -> String {
    let username = if form == EntryForm::IdentityToken && cred.username == ZERO_GUID {
        "<token>".to_owned()
    } else {
        cred.username
    };
    serde_json::json!({"ServerURL": server, "Username": username, "Secret": cred.secret.expose()})
        .to_string()
}

/// A `get` that must refresh first: the engine refreshes ACR Tray's cache and answers from it.
async fn refresh_and_answer(server: &str, options: EngineOptions) -> Result<String, String> {
    let engine = Engine::open(options).map_err(|e| describe(&e))?;
    let host = host_of(server);
    let Some(reg) = engine
        .settings()
        .registries
        .iter()
        .find(|r| r.login_server.to_string() == host)
    else {
        return Err(CREDENTIALS_NOT_FOUND.to_owned());
    };
    let (_, cred) = engine
        .credential(&reg.login_server.to_string(), MIN_LEFT)
        .await
        .map_err(|e| describe(&e))?;
    Ok(answer(server, cred, engine.settings().docker.entry_form))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_become_hosts() {
        assert_eq!(host_of("https://MyReg.azurecr.io/v1/"), "myreg.azurecr.io");
        assert_eq!(
            host_of("myreg.azurecr.localhost:8443"),
            "myreg.azurecr.localhost:8443"
        );
    }

    mod properties {
        use super::*;
        use acr_tray_engine::MemoryStore;
        use acr_tray_engine::Secret;
        use proptest::prelude::*;

        const SERVER: &str = "myreg.azurecr.io";

        /// An ACR Tray home with one registry, whose cached entry in the keyring is `entry`.
        fn home(entry: Option<&str>) -> (tempfile::TempDir, Env, MemoryStore) {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            std::fs::write(
                dir.path().join("config.toml"),
                format!(
                    "[[registry]]\nname = \"myreg\"\nlogin_server = \"{SERVER}\"\nauth = \"admin-password\"\nadmin_username = \"u\"\n"
                ),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            let env = Env::from_pairs([("ACR_TRAY_HOME", dir.path().display().to_string())]);
            Settings::load(&dir.path().join("config.toml")).unwrap_or_else(|e| panic!("{e}"));
            let store = MemoryStore::new();
            if let Some(entry) = entry {
                store
                    .set(&format!("acr-token/{SERVER}"), &Secret::new(entry))
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            (dir, env, store)
        }

        fn now() -> chrono::DateTime<chrono::Utc> {
            chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
        }

        proptest! {
            // A fixed seed (as the engine's property tests): every run tests the same
            // inputs; `PROPTEST_RNG_SEED=N` explores others.
            #![proptest_config(proptest::test_runner::Config {
                cases: 128,
                failure_persistence: None,
                rng_seed: match proptest::test_runner::Config::default().rng_seed {
                    proptest::test_runner::RngSeed::Random => proptest::test_runner::RngSeed::Fixed(0x4143_5254_7261_7931),
                    chosen => chosen,
                },
                ..proptest::test_runner::Config::default()
            })]

            /// Whatever Docker (or anyone) writes to the helper's stdin, with any action, the
            /// helper answers: "not found" for hosts it does not serve, a JSON answer for the
            /// one it does.
            #[test]
            fn any_stdin_gets_an_answer(
                action in prop_oneof![Just("get".to_owned()), Just("store".to_owned()), Just("erase".to_owned()), Just("list".to_owned()), ".{0,8}"],
                stdin in prop_oneof![
                    proptest::collection::vec(any::<u8>(), 0..300),
                    "(https?://)?[a-zA-Z0-9.:-]{0,30}(/.{0,20})?".prop_map(String::into_bytes),
                    Just(format!("https://{SERVER}/v2/").into_bytes()),
                ],
                secret in "[A-Za-z0-9._-]{1,40}",
            ) {
                let entry = serde_json::json!({"username": "u", "secret": secret}).to_string();
                let (_dir, env, store) = home(Some(&entry));
                let input = read_input(&action, &mut stdin.as_slice());
                let input = input.trim();
                match respond(&action, input, &env, &store, now()) {
                    Response::Done { code, text } if action == "get" => {
                        if host_of(input) == SERVER {
                            prop_assert_eq!(code, 0);
                            let answer: serde_json::Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
                            prop_assert_eq!(answer["ServerURL"].as_str(), Some(input));
                            prop_assert_eq!(answer["Secret"].as_str(), Some(secret.as_str()));
                        } else {
                            prop_assert_eq!((code, text.as_str()), (1, CREDENTIALS_NOT_FOUND));
                        }
                    }
                    Response::Done { .. } => {}
                    Response::Refresh { server } => prop_assert_eq!(server.as_str(), input),
                }
            }

            /// A cached entry edited by hand or by malware gives an answer or a refresh.
            #[test]
            fn hostile_cache_entries(entry in prop_oneof![
                any::<String>(),
                (".{0,10}", ".{0,10}", prop_oneof![Just("null".to_owned()), Just("\"+262143-12-31T23:59:59Z\"".to_owned()), Just("\"-262143-01-01T00:00:00Z\"".to_owned()), ".{0,12}"])
                    .prop_map(|(u, s, e)| format!(r#"{{"username":{u:?},"secret":{s:?},"expires_at":{e}}}"#)),
            ]) {
                let (_dir, env, store) = home(Some(&entry));
                for action in ["get", "list", "erase"] {
                    let _ = respond(action, SERVER, &env, &store, now());
                }
            }
        }
    }
}
