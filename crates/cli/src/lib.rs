//! # acr-tray-cli
//!
//! The headless shell over [`acr_tray_engine`]: for VMs, CI and anyone who prefers a terminal.
//! [`run`] takes the arguments and an injected [`Context`] (environment, stdin/stdout/stderr,
//! secret store) and returns the exit code, so tests drive the whole CLI in-process.
//!
//! ## Layout
//! - `args`: the clap definitions and the exit-code table.
//! - `commands`: one function per command, calling the engine.
//! - `output`: human and JSON rendering; `json`: the typed shapes of `--json` output.
//! - `logging`: stderr and log-file set-up.
//! - `exec`: `exec`, a command run with fresh tokens.
//! - `credential_helper`: `docker-credential-acr-tray`.
//! - `service`: `acr-tray-cli run` as a systemd user service.
//! - `words`: hints' actions as this CLI's commands ([`CliWords`]).

mod args;
mod commands;
pub mod credential_helper;
mod daemon;
mod exec;
mod json;
mod logging;
mod output;
mod service;
mod words;

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::sync::Arc;

use acr_tray_engine::HttpOptions;
use acr_tray_engine::{Env, Error, ErrorKind};
use acr_tray_engine::{KeyringStore, SecretStore};
use clap::Parser;

pub use args::EXIT_CODES;
pub use words::CliWords;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: the operation failed.
pub const EXIT_FAILED: i32 = 1;
/// Exit code: invalid usage or input.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: sign-in required.
pub const EXIT_SIGN_IN: i32 = 3;
/// Exit code: Docker's config cannot be used.
pub const EXIT_DOCKER_CONFIG: i32 = 4;

/// Everything the CLI reads and writes besides its arguments.
pub struct Context {
    /// The environment.
    pub env: Env,
    /// Standard input (secrets are read from it).
    pub stdin: Box<dyn Read + Send>,
    /// Standard output.
    pub stdout: Box<dyn Write + Send>,
    /// Standard error (logs and error messages).
    pub stderr: Box<dyn Write + Send>,
    /// Where secrets are kept; the OS keyring in the real program.
    pub secrets: Arc<dyn SecretStore>,
    /// HTTP options (tests shorten time-outs).
    pub http: HttpOptions,
    /// The first delay between retries (tests shorten it).
    pub retry_base: std::time::Duration,
    /// The wall clock (the system's; tests give their own).
    pub clock: Arc<dyn acr_tray_engine::Clock>,
    /// Standard input and error are a terminal, so a command may ask the user (a yes/no
    /// question); otherwise it must be told (`--yes`).
    pub terminal: bool,
}

impl Context {
    /// The real process: its environment, stdio and the OS keyring.
    pub fn from_process() -> Self {
        Self {
            env: Env::from_process(),
            stdin: Box::new(std::io::stdin()),
            stdout: Box::new(std::io::stdout()),
            stderr: Box::new(std::io::stderr()),
            secrets: Arc::new(KeyringStore::new()),
            http: HttpOptions::default(),
            retry_base: std::time::Duration::from_secs(1),
            clock: acr_tray_engine::system_clock(),
            terminal: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        }
    }
}

/// Runs the CLI and returns its exit code.
pub fn run<I, T>(args: I, ctx: Context) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let Context {
        env,
        stdin,
        mut stdout,
        stderr,
        secrets,
        http,
        retry_base,
        clock,
        terminal,
    } = ctx;
    let stderr = logging::SharedWriter::new(stderr);
    let cli = match args::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let text = e.render().to_string();
            let mut out: Box<dyn Write> = if e.use_stderr() {
                Box::new(stderr.clone())
            } else {
                Box::new(&mut stdout)
            };
            let _ = out.write_all(text.as_bytes());
            return code;
        }
    };
    if let args::Command::CredentialHelper { action } = cli.command {
        let ctx = Context {
            env,
            stdin,
            stdout,
            stderr: Box::new(stderr),
            secrets,
            http,
            retry_base,
            clock,
            terminal,
        };
        return credential_helper::run(vec!["docker-credential-acr-tray".to_owned(), action], ctx);
    }
    let log_dir = acr_tray_engine::Paths::from_env(&env)
        .ok()
        .map(|p| p.log_dir);
    // The engine in the foreground says what it does (info) unless told otherwise.
    let verbose = match cli.command {
        args::Command::Run { .. } => cli.verbose.max(1),
        _ => cli.verbose,
    };
    let _log = logging::init(
        stderr.clone(),
        log_dir.as_deref(),
        verbose,
        env.var("ACR_TRAY_LOG"),
    );
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let mut err = stderr.clone();
            let _ = writeln!(err, "error: cannot start: {e}");
            return EXIT_FAILED;
        }
    };
    let options = acr_tray_engine::EngineOptions {
        env,
        secrets,
        http,
        events: Arc::new(acr_tray_engine::NoEvents),
        retry_base,
        clock,
    };
    let mut io = Io {
        stdin,
        stdout,
        stderr: stderr.clone(),
        terminal,
    };
    let code = runtime.block_on(commands::dispatch(cli.command, options, &mut io));
    let _ = io.stdout.flush();
    code
}

/// The command's streams.
pub(crate) struct Io {
    pub(crate) stdin: Box<dyn Read + Send>,
    pub(crate) stdout: Box<dyn Write + Send>,
    pub(crate) stderr: logging::SharedWriter,
    /// stdin and stderr are a terminal: a command may ask the user.
    pub(crate) terminal: bool,
}

impl Io {
    /// Prints an error and its hint on stderr.
    pub(crate) fn error(&mut self, err: &Error) {
        let _ = writeln!(self.stderr, "error: {err}");
        if let Some(hint) = err.hint().map(|h| words::say(&h)) {
            let _ = writeln!(self.stderr, "  hint: {hint}");
        }
    }
}

/// The exit code of a pass: 0 when every registry refreshed, the failures' code when they
/// agree, else 1.
pub(crate) fn pass_exit_code(outcomes: &[acr_tray_engine::RegistryOutcome]) -> i32 {
    let codes: Vec<i32> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().err())
        .map(exit_code)
        .collect();
    match codes.as_slice() {
        [] => EXIT_OK,
        [first, rest @ ..] if rest.iter().all(|c| c == first) => *first,
        _ => EXIT_FAILED,
    }
}

/// The exit code for an error.
pub fn exit_code(err: &Error) -> i32 {
    match err {
        Error::InvalidInput { .. }
        | Error::Config { .. }
        | Error::HostNotAllowed { .. }
        | Error::UnknownRegistry { .. }
        | Error::UnknownIdentity { .. } => EXIT_USAGE,
        Error::Entra(e) if e.code == "invalid_client" || e.code == "unauthorized_client" => {
            EXIT_SIGN_IN
        }
        e => match e.kind() {
            ErrorKind::SignInRequired => EXIT_SIGN_IN,
            ErrorKind::DockerConfig => EXIT_DOCKER_CONFIG,
            _ => EXIT_FAILED,
        },
    }
}
