//! Asking another program a question: run it directly (never through a shell) with the
//! environment minus its secrets, no stdin, and bounds on how long it may take and how much it
//! may print. A program that hangs, floods its output or cannot start is an answer too, never a
//! hang or a panic here.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::env::Env;

/// Why a program gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoAnswer {
    /// It could not be started (the system's words).
    NotStarted(String),
    /// It did not finish within the time allowed (it was stopped).
    TimedOut(Duration),
    /// It printed more than the bytes allowed (it was stopped).
    TooLong(usize),
    /// It exited unsuccessfully (`None`: killed by a signal).
    Failed(Option<i32>),
}

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotStarted(why) => write!(f, "it could not be started: {why}"),
            Self::TimedOut(after) => write!(f, "it did not answer within {} s", after.as_secs()),
            Self::TooLong(limit) => write!(f, "it printed more than {limit} bytes"),
            Self::Failed(Some(code)) => write!(f, "it exited with status {code}"),
            Self::Failed(None) => write!(f, "it was stopped by a signal"),
        }
    }
}

/// Runs `program ARGS…` and returns what it printed on stdout, if it exited successfully within
/// `timeout` having printed at most `max_out` bytes. Its stderr is discarded.
pub fn ask(
    program: &Path,
    args: &[&str],
    env: &Env,
    timeout: Duration,
    max_out: usize,
) -> Result<Vec<u8>, NoAnswer> {
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.child_vars())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| NoAnswer::NotStarted(e.to_string()))?;
    let Some(mut stdout) = child.stdout.take() else {
        stop(&mut child);
        return Err(NoAnswer::NotStarted("no stdout".to_owned()));
    };
    let (sender, received) = mpsc::channel();
    // The reader ends at the end of output or one byte past the limit; if the program hangs
    // holding its output open, the reader is left behind (it ends when the pipe closes).
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let limit = u64::try_from(max_out).unwrap_or(u64::MAX).saturating_add(1);
        let read = (&mut stdout).take(limit).read_to_end(&mut out);
        let _ = sender.send(read.map(|_| out));
    });
    let out = match received.recv_timeout(timeout) {
        Ok(Ok(out)) if out.len() <= max_out => out,
        Ok(Ok(_)) => {
            stop(&mut child);
            return Err(NoAnswer::TooLong(max_out));
        }
        Ok(Err(e)) => {
            stop(&mut child);
            return Err(NoAnswer::NotStarted(e.to_string()));
        }
        Err(_) => {
            stop(&mut child);
            return Err(NoAnswer::TimedOut(timeout));
        }
    };
    // Its output has ended; it has until the same deadline to exit.
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) | Err(_) => {
                stop(&mut child);
                return Err(NoAnswer::TimedOut(timeout));
            }
        }
    };
    if status.success() {
        Ok(out)
    } else {
        Err(NoAnswer::Failed(status.code()))
    }
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;

    fn script(dir: &Path, body: &str) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("program");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    fn env() -> Env {
        Env::from_pairs([
            ("PATH", "/usr/bin:/bin"),
            ("ANSWER", "forty-two"),
            ("AZURE_CLIENT_SECRET", "not-for-children"),
        ])
    }

    const LONG: Duration = Duration::from_secs(30);

    #[test]
    fn the_answer_is_its_stdout_with_the_environment_minus_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let p = script(
            dir.path(),
            "echo \"$1 $2 $ANSWER [$AZURE_CLIENT_SECRET]\"; echo noise >&2",
        );
        assert_eq!(
            ask(&p, &["a b", "{{.Version}}"], &env(), LONG, 100),
            Ok(b"a b {{.Version}} forty-two []\n".to_vec())
        );
    }

    #[test]
    fn failing_flooding_and_missing_programs_give_no_answer() {
        let dir = tempfile::tempdir().unwrap();
        let failing = script(dir.path(), "echo partial; exit 3");
        assert_eq!(
            ask(&failing, &[], &env(), LONG, 100),
            Err(NoAnswer::Failed(Some(3)))
        );
        let flooding = script(dir.path(), "exec yes");
        assert_eq!(
            ask(&flooding, &[], &env(), LONG, 1000),
            Err(NoAnswer::TooLong(1000))
        );
        let missing = dir.path().join("absent");
        assert!(matches!(
            ask(&missing, &[], &env(), LONG, 100),
            Err(NoAnswer::NotStarted(_))
        ));
    }

    #[test]
    fn a_program_that_never_answers_is_stopped_at_the_time_out() {
        let dir = tempfile::tempdir().unwrap();
        // A child that keeps the output open after its parent is stopped must not hold us
        // either (it goes away by itself later). Neither ever answers, so any time-out gives
        // the same result.
        let hanging = script(dir.path(), "sleep 30 & exec sleep 3600");
        let short = Duration::from_millis(200);
        assert_eq!(
            ask(&hanging, &[], &env(), short, 100),
            Err(NoAnswer::TimedOut(short))
        );
        // Output ended, but it does not exit.
        let lingering = script(dir.path(), "exec >&-; exec sleep 3600");
        assert_eq!(
            ask(&lingering, &[], &env(), short, 100),
            Err(NoAnswer::TimedOut(short))
        );
    }
}
