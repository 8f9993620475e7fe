//! `acr-tray-cli exec`: fresh tokens, then a command (a long build or push) run as a child with
//! stdio inherited and signals passed through; its exit code is ours.
//!
//! The command reads Docker's config as usual: no token is put in its argv or environment, and
//! only the program's name is ever logged (its arguments may carry secrets).

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitStatus;

use acr_tray_engine::{Engine, Error, RegistryOutcome};
use chrono::{DateTime, Utc};

use crate::output;
use crate::{Io, pass_exit_code};

/// Exit code when the command cannot be found (as shells say it).
const EXIT_NOT_FOUND: i32 = 127;
/// Exit code when the command was found but cannot be run (as shells say it).
const EXIT_CANNOT_RUN: i32 = 126;

/// Refreshes `registries` (all when empty), then runs `command` and returns its exit code.
pub(crate) async fn run(
    engine: &Engine,
    registries: &[String],
    keep_going: bool,
    command: &[OsString],
    io: &mut Io,
) -> Result<i32, Error> {
    let Some((program, args)) = command.split_first() else {
        return Err(Error::invalid_input(
            "no command to run",
            "name it after `--`, e.g. `acr-tray-cli exec -- docker push IMAGE`",
        ));
    };
    let name = program_name(program);
    if engine.settings().registries.is_empty() {
        return Err(Error::invalid_input(
            "no registry is configured",
            "add one with `acr-tray-cli registry add NAME`",
        ));
    }
    let outcomes = engine.refresh_on_demand(registries).await?;
    // On stderr: the command's stdout is the caller's.
    let mut err: output::Out = Box::new(io.stderr.clone());
    output::refresh(&mut err, &outcomes, false);
    output::client_file_warnings(&mut err, engine);
    let refreshed = pass_exit_code(&outcomes);
    if refreshed != crate::EXIT_OK {
        if !keep_going {
            let _ = writeln!(
                io.stderr,
                "error: {name} was not run: a registry's credential could not be refreshed (see above), and it would start without a fresh token"
            );
            let _ = writeln!(
                io.stderr,
                "  hint: fix what the message says, or add --keep-going to run it anyway"
            );
            return Ok(refreshed);
        }
        let _ = writeln!(
            io.stderr,
            "warning: running {name} anyway (--keep-going), without a fresh token for every registry"
        );
    }
    let _ = io.stderr.flush();
    tracing::info!(program = %name, "running the command");
    // The environment the engine was given (the process's own, in the real program): the
    // command finds Docker's config where ACR Tray wrote it.
    let env: Vec<(&String, &String)> = engine.env().vars().collect();
    let status = match child::run(program, args, &env).await {
        Ok(status) => status,
        Err(e) => {
            let code = match e.kind() {
                std::io::ErrorKind::NotFound => EXIT_NOT_FOUND,
                _ => EXIT_CANNOT_RUN,
            };
            let _ = writeln!(io.stderr, "error: cannot run {name}: {e}");
            let _ = writeln!(
                io.stderr,
                "  hint: check the command's name and that it is on PATH and executable"
            );
            return Ok(code);
        }
    };
    let ended = engine.now();
    for (registry, expired) in outlived(&outcomes, ended) {
        let _ = writeln!(
            io.stderr,
            "warning: {name} ran past the expiry of {registry}'s token (it expired at {}); a push after that may have been refused. Run long builds in two steps, so that the push starts with fresh tokens: build, then `acr-tray-cli exec -- docker push IMAGE`.",
            output::when(expired, ended)
        );
    }
    Ok(exit_code(status))
}

/// The program's file name only: its path and arguments may say more than a log should.
fn program_name(program: &OsString) -> String {
    std::path::Path::new(program)
        .file_name()
        .unwrap_or(program.as_os_str())
        .to_string_lossy()
        .into_owned()
}

/// The refreshed registries whose new token expired before `ended`, with that expiry.
fn outlived(outcomes: &[RegistryOutcome], ended: DateTime<Utc>) -> Vec<(&str, DateTime<Utc>)> {
    outcomes
        .iter()
        .filter_map(|o| {
            let expires = o.result.as_ref().ok()?.expires_at?;
            (expires <= ended).then_some((o.name.as_str(), expires))
        })
        .collect()
}

/// The child's exit code; a death by signal is 128 + the signal's number, as shells say it.
fn exit_code(status: ExitStatus) -> i32 {
    if let Some(code) = status.code() {
        return code;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128_i32.saturating_add(signal);
        }
    }
    crate::EXIT_FAILED
}

#[cfg(unix)]
mod child {
    //! On Unix, SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to acr-tray-cli are passed to the
    //! child, and acr-tray-cli waits for it to end.

    use std::ffi::OsString;
    use std::process::ExitStatus;

    use rustix::process::{Pid, Signal, kill_process};
    use tokio::signal::unix::{SignalKind, signal};

    pub(super) async fn run(
        program: &OsString,
        args: &[OsString],
        env: &[(&String, &String)],
    ) -> std::io::Result<ExitStatus> {
        // Listening before the child starts: a signal in between is not lost (nor fatal).
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let mut hup = signal(SignalKind::hangup())?;
        let mut quit = signal(SignalKind::quit())?;
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .envs(env.iter().copied())
            .spawn()?;
        loop {
            let forward = tokio::select! {
                status = child.wait() => return status,
                _ = int.recv() => Signal::INT,
                _ = term.recv() => Signal::TERM,
                _ = hup.recv() => Signal::HUP,
                _ = quit.recv() => Signal::QUIT,
            };
            // `id()` is `None` once the child was reaped: never a signal to a reused pid.
            if let Some(pid) = child
                .id()
                .and_then(|id| i32::try_from(id).ok())
                .and_then(Pid::from_raw)
                && let Err(e) = kill_process(pid, forward)
            {
                tracing::warn!("cannot pass signal {forward:?} to the command: {e}");
            }
        }
    }
}

#[cfg(not(unix))]
mod child {
    //! On Windows, Ctrl+C and Ctrl+Break reach every process of the console, the child
    //! included: acr-tray-cli ignores them while it waits for the child to end.

    use std::ffi::OsString;
    use std::process::ExitStatus;

    pub(super) async fn run(
        program: &OsString,
        args: &[OsString],
        env: &[(&String, &String)],
    ) -> std::io::Result<ExitStatus> {
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .envs(env.iter().copied())
            .spawn()?;
        loop {
            tokio::select! {
                status = child.wait() => return status,
                _ = tokio::signal::ctrl_c() => {}
            }
        }
    }
}
