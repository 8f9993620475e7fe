//! `docker-credential-acr-tray`: Docker's credential-helper protocol (protocol.md §6.5) over
//! ACR Tray's own cache. `get` answers for configured registries — refreshing first when the
//! cached token has less than 75 minutes left, so a fresh cache costs no network — and gives
//! Docker's "credentials not found" for every other host.

use std::io::{Read, Write};

use acr_tray_engine::docker::helper::NOT_FOUND;
use acr_tray_engine::docker::{EntryForm, ZERO_GUID};
use acr_tray_engine::token_store::TokenStore;
use acr_tray_engine::{Engine, EngineOptions, Error};

use crate::Context;

/// How long a token must still be valid for `get` to answer from the cache.
const MIN_LEFT: chrono::TimeDelta = chrono::TimeDelta::minutes(75);

/// Runs one helper action and returns the exit code.
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
    } = ctx;
    let action = args
        .get(1)
        .map(String::as_str)
        .unwrap_or_default()
        .to_owned();
    if matches!(action.as_str(), "version" | "--version" | "-v") {
        let _ = writeln!(
            stdout,
            "docker-credential-acr-tray (acr-tray) {}",
            env!("CARGO_PKG_VERSION")
        );
        return 0;
    }
    let stderr = crate::logging::SharedWriter::new(stderr);
    let log_dir = acr_tray_engine::paths::Paths::from_env(&env)
        .ok()
        .map(|p| p.log_dir);
    let _log = crate::logging::init(stderr, log_dir.as_deref(), 0, env.var("ACR_TRAY_LOG"));
    let mut input = String::new();
    if action != "list" {
        let _ = stdin.read_to_string(&mut input);
    }
    let options = EngineOptions {
        env,
        secrets,
        http,
        events: std::sync::Arc::new(acr_tray_engine::events::NoEvents),
        retry_base,
        clock,
    };
    let result = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(act(&action, input.trim(), options)),
        Err(e) => Err(Failure::Message(format!("acr-tray: cannot start: {e}"))),
    };
    match result {
        Ok(out) => {
            let _ = writeln!(stdout, "{out}");
            0
        }
        // Errors go to stdout: that is where Docker reads a helper's message.
        Err(Failure::NotFound) => {
            let _ = writeln!(stdout, "{NOT_FOUND}");
            1
        }
        Err(Failure::Message(m)) => {
            let _ = writeln!(stdout, "{m}");
            1
        }
    }
}

enum Failure {
    NotFound,
    Message(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let hint = e.hint().map(|h| format!(" ({h})")).unwrap_or_default();
        Failure::Message(format!("acr-tray: {e}{hint}"))
    }
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

async fn act(action: &str, input: &str, options: EngineOptions) -> Result<String, Failure> {
    let engine = Engine::open(options)?;
    let configured = |server: &str| {
        let host = host_of(server);
        engine
            .settings()
            .registries
            .iter()
            .find(|r| r.login_server.to_string() == host)
            .cloned()
    };
    match action {
        "get" => {
            let reg = configured(input).ok_or(Failure::NotFound)?;
            let (_, cred) = engine
                .credential(&reg.login_server.to_string(), MIN_LEFT)
                .await?;
            let token_form = engine.settings().docker.entry_form == EntryForm::IdentityToken;
            let username = if token_form && cred.username == ZERO_GUID {
                "<token>".to_owned()
            } else {
                cred.username
            };
            let answer = serde_json::json!({"ServerURL": input, "Username": username, "Secret": cred.secret.expose()});
            Ok(answer.to_string())
        }
        "store" => {
            let server = serde_json::from_str::<serde_json::Value>(input)
                .ok()
                .and_then(|v| v["ServerURL"].as_str().map(str::to_owned))
                .unwrap_or_default();
            Err(Failure::Message(match configured(&server) {
                Some(r) => format!(
                    "acr-tray: ACR Tray keeps {} logged in itself; `docker login` is not needed (see `acr-tray-cli status`)",
                    r.login_server
                ),
                None => format!(
                    "acr-tray: docker-credential-acr-tray only serves registries configured in ACR Tray, not {server}"
                ),
            }))
        }
        "erase" => {
            if let Some(reg) = configured(input) {
                TokenStore::new(engine.secret_store(), engine.paths().token_file())
                    .remove(&reg.login_server.to_string())?;
            }
            Ok(String::new())
        }
        "list" => {
            let cache = TokenStore::new(engine.secret_store(), engine.paths().token_file());
            let mut map = serde_json::Map::new();
            for r in &engine.settings().registries {
                if let Some(c) = cache.get(&r.login_server.to_string())? {
                    map.insert(
                        r.login_server.to_string(),
                        serde_json::Value::String(c.username),
                    );
                }
            }
            Ok(serde_json::Value::Object(map).to_string())
        }
        other => Err(Failure::Message(format!(
            "docker-credential-acr-tray: unknown action: {other}"
        ))),
    }
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
}
