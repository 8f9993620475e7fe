//! `acr-tray-cli service`: `acr-tray-cli run` as a systemd user service (Linux), or what to do
//! instead elsewhere.
//!
//! The unit is rendered here from the environment the command sees; `systemctl` and `loginctl`
//! are found on the injected `PATH` and run with the injected environment minus its secrets, so
//! tests put stubs there that record their arguments.

use std::io::Write;
use std::path::{Path, PathBuf};

use acr_tray_engine::{Env, Error};
use clap::Subcommand;

use crate::{EXIT_FAILED, EXIT_OK, Io, exit_code};

/// The unit's file name.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub const UNIT_NAME: &str = "acr-tray.service";

/// Seconds systemd waits before starting a failed engine again.
const RESTART_SEC: u32 = 30;

/// Variables `acr-tray-cli run` needs and a user manager does not have: the shell's values at
/// install time go into the unit, so the service writes the files the shell's Docker and Helm
/// read. The user manager gives the service `HOME` and `USER` itself.
const CARRIED_VARS: [&str; 4] = [
    "ACR_TRAY_HOME",
    "DOCKER_CONFIG",
    "HELM_CONFIG_HOME",
    "HELM_REGISTRY_CONFIG",
];

const LINGER_TEXT: &str = "\
A user service runs while you are logged in. On a VM or server nobody logs in to, let it start
at boot and keep running after you log out with `loginctl enable-linger $USER` (once, as that
user or with sudo); `service install` says whether it is needed.";

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Write a systemd user unit that runs `acr-tray-cli run` (this executable, after the
    /// network is up, restarted on failure) to $XDG_CONFIG_HOME/systemd/user/acr-tray.service,
    /// then enable and start it. ACR_TRAY_HOME, DOCKER_CONFIG, HELM_CONFIG_HOME and
    /// HELM_REGISTRY_CONFIG, when set, are written into the unit (a user manager does not see
    /// your shell's variables). Sign in first; the unit holds no secret.
    #[command(after_help = LINGER_TEXT)]
    Install {
        /// Print the unit without installing it.
        #[arg(long, alias = "print")]
        dry_run: bool,
    },
    /// Stop and disable the service, remove its unit and reload systemd.
    Uninstall,
    /// Say whether the unit is installed, enabled and active.
    #[command(
        after_help = "Exit codes: 0 installed, enabled and active; 1 otherwise, or no systemd here."
    )]
    Status,
}

/// Why a `service` command stopped.
enum Failure {
    /// The engine's error, with its own exit code.
    Engine(Error),
    /// systemd is missing or refused: exit code 1, with what to do.
    Said { message: String, hint: String },
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Engine(e)
    }
}

/// Runs a `service` command and returns the exit code.
pub async fn run(command: ServiceCommand, env: &Env, io: &mut Io) -> i32 {
    let result = match command {
        ServiceCommand::Install { dry_run: true } => unit_for(env)
            .map(|unit| {
                let _ = io.stdout.write_all(unit.as_bytes());
                EXIT_OK
            })
            .map_err(Failure::from),
        command => platform::run(command, env, io).await,
    };
    match result {
        Ok(code) => code,
        Err(Failure::Engine(e)) => {
            io.error(&e);
            exit_code(&e)
        }
        Err(Failure::Said { message, hint }) => {
            let _ = writeln!(io.stderr, "error: {message}\n  hint: {hint}");
            EXIT_FAILED
        }
    }
}

/// The unit for this executable and environment.
fn unit_for(env: &Env) -> Result<String, Error> {
    let exe =
        std::env::current_exe().map_err(|e| Error::io("find the path of", "acr-tray-cli", &e))?;
    let vars: Vec<(&str, String)> = CARRIED_VARS
        .iter()
        .filter_map(|name| Some((*name, absolute(env.var(name)?))))
        .collect();
    render_unit(&exe, &vars)
}

/// A path as the unit needs it: absolute (a relative one is taken from the current folder,
/// as the shell that ran `install` meant it).
fn absolute(value: &str) -> String {
    std::path::absolute(value)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| value.to_owned())
}

/// The unit text: `exe run` after the network is up, restarted on failure, with `vars` set.
pub fn render_unit(exe: &Path, vars: &[(&str, String)]) -> Result<String, Error> {
    let exe_text = exe.to_str().ok_or_else(|| {
        Error::invalid_input(
            format!("the path of acr-tray-cli is not UTF-8: {}", exe.display()),
            "install acr-tray-cli in a folder whose path is UTF-8 text",
        )
    })?;
    let mut unit = String::from(
        "# Written by `acr-tray-cli service install`; `acr-tray-cli service uninstall` removes it.\n\
         [Unit]\n\
         Description=ACR Tray: keeps Docker logged in to Azure Container Registry\n\
         After=network-online.target\n\
         Wants=network-online.target\n\
         \n\
         [Service]\n\
         Type=exec\n",
    );
    unit.push_str(&format!("ExecStart={} run\n", quote(exe_text, true)?));
    for (name, value) in vars {
        unit.push_str(&format!(
            "Environment={}\n",
            quote(&format!("{name}={value}"), false)?
        ));
    }
    // Faults of Azure and the network are retried inside; systemd restarts only after a crash.
    // SIGTERM stops it cleanly (a pass in flight never leaves config.json half-written).
    unit.push_str(&format!(
        "Restart=on-failure\nRestartSec={RESTART_SEC}\nTimeoutStopSec=15\nNoNewPrivileges=true\n\n\
         [Install]\nWantedBy=default.target\n"
    ));
    Ok(unit)
}

/// One word of a unit file, double-quoted as systemd unquotes it: `\` and `"` escaped, `%`
/// (a specifier) doubled, and in a command line `$` (a variable) doubled too. Control
/// characters (a newline would end the setting) are refused.
pub fn quote(word: &str, command_line: bool) -> Result<String, Error> {
    if let Some(c) = word.chars().find(|c| c.is_control()) {
        return Err(Error::invalid_input(
            format!("{word:?} has a control character ({c:?}); it cannot go into a systemd unit"),
            "use a path without control characters (move the folder, or set ACR_TRAY_HOME, DOCKER_CONFIG, HELM_CONFIG_HOME or HELM_REGISTRY_CONFIG to another one)",
        ));
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('"');
    for c in word.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '%' => out.push_str("%%"),
            '$' if command_line => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(out)
}

/// Where the user manager reads units: `$XDG_CONFIG_HOME/systemd/user` (an absolute
/// `XDG_CONFIG_HOME` only, as the XDG spec says), else `~/.config/systemd/user`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub fn unit_dir(env: &Env) -> Option<PathBuf> {
    let config = env
        .var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| env.home().map(|h| h.join(".config")))?;
    Some(config.join("systemd").join("user"))
}

#[cfg(target_os = "linux")]
mod platform {
    use std::io::Write;
    use std::path::Path;
    use std::time::Duration;

    use acr_tray_engine::{Env, Error, find_program};
    use tokio::io::AsyncReadExt;

    use super::{Failure, LINGER_TEXT, ServiceCommand, UNIT_NAME, unit_dir, unit_for};
    use crate::{EXIT_FAILED, EXIT_OK, Io};

    /// How long a `systemctl` may take (`enable --now` waits for the start).
    const TIMEOUT: Duration = Duration::from_secs(120);
    /// How much of a tool's output is read.
    const OUTPUT_LIMIT: u64 = 16 * 1024;

    pub(super) async fn run(
        command: ServiceCommand,
        env: &Env,
        io: &mut Io,
    ) -> Result<i32, Failure> {
        let Some(systemctl) = find_program(env, "systemctl") else {
            return Err(Failure::Said {
                message: "systemd's `systemctl` is not on PATH: this machine does not run systemd"
                    .to_owned(),
                hint: "run `acr-tray-cli run` from your init system or a container's entrypoint \
                       instead (it stops cleanly on SIGTERM), or print a unit to adapt with \
                       `acr-tray-cli service install --dry-run`"
                    .to_owned(),
            });
        };
        let dir = unit_dir(env).ok_or_else(|| {
            Failure::from(Error::invalid_input(
                "neither XDG_CONFIG_HOME nor HOME is set: no folder for the systemd user unit",
                "set HOME (or an absolute XDG_CONFIG_HOME)",
            ))
        })?;
        let tools = Tools { systemctl, env };
        let path = dir.join(UNIT_NAME);
        match command {
            ServiceCommand::Install { .. } => install(&tools, &path, io).await,
            ServiceCommand::Uninstall => uninstall(&tools, &path, io).await,
            ServiceCommand::Status => status(&tools, &path, io).await,
        }
    }

    struct Tools<'a> {
        systemctl: std::path::PathBuf,
        env: &'a Env,
    }

    /// What a tool said.
    struct Ran {
        ok: bool,
        stdout: String,
        stderr: String,
    }

    impl Tools<'_> {
        async fn systemctl(&self, args: &[&str]) -> Result<Ran, Error> {
            let mut argv = vec!["--user"];
            argv.extend_from_slice(args);
            run_tool(&self.systemctl, &argv, self.env).await
        }

        /// `systemctl --user ARGS`, which must succeed.
        async fn must(&self, args: &[&str]) -> Result<(), Failure> {
            let ran = self.systemctl(args).await?;
            if ran.ok {
                return Ok(());
            }
            Err(Failure::Said {
                message: format!(
                    "`systemctl --user {}` failed: {}",
                    args.join(" "),
                    ran.stderr.trim()
                ),
                hint: "check that a systemd user manager runs for you (`systemctl --user \
                       status`; over SSH or sudo, log in as the user or set XDG_RUNTIME_DIR)"
                    .to_owned(),
            })
        }
    }

    /// Runs a tool with the environment minus its secrets, reading a bounded amount of its
    /// output, and shows that output without control characters.
    async fn run_tool(program: &Path, args: &[&str], env: &Env) -> Result<Ran, Error> {
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .env_clear()
            .envs(env.child_vars())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let name = program.display().to_string();
        let mut child = cmd.spawn().map_err(|e| Error::io("run", &name, &e))?;
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let work = async {
            // Both streams at once: a tool filling one pipe while the other is read would
            // otherwise wait until the time-out.
            let read_out = async {
                if let Some(s) = stdout {
                    let _ = s.take(OUTPUT_LIMIT).read_to_end(&mut out).await;
                }
            };
            let read_err = async {
                if let Some(s) = stderr {
                    let _ = s.take(OUTPUT_LIMIT).read_to_end(&mut err).await;
                }
            };
            tokio::join!(read_out, read_err);
            child.wait().await
        };
        let status = tokio::time::timeout(TIMEOUT, work)
            .await
            .map_err(|_| {
                Error::invalid_input(
                    format!("{name} did not finish within {} s", TIMEOUT.as_secs()),
                    "check `systemctl --user status` and try again",
                )
            })?
            .map_err(|e| Error::io("run", &name, &e))?;
        Ok(Ran {
            ok: status.success(),
            stdout: printable(&out),
            stderr: printable(&err),
        })
    }

    /// A tool's output as text fit for a terminal: its lines, without the characters the
    /// engine never shows (controls, bidirectional overrides, zero-width characters).
    fn printable(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes)
            .chars()
            .filter(|c| *c == '\n' || !acr_tray_engine::unsafe_to_show(*c))
            .collect()
    }

    async fn install(tools: &Tools<'_>, path: &Path, io: &mut Io) -> Result<i32, Failure> {
        let unit = unit_for(tools.env)?;
        // A running service keeps the unit it started with: a changed one is restarted below.
        let changed = std::fs::read_to_string(path).is_ok_and(|old| old != unit);
        // Atomic, and private like every file ACR Tray makes (a new folder too); systemd reads
        // a user unit as that user.
        acr_tray_engine::atomic_write(path, unit.as_bytes())?;
        let _ = writeln!(io.stdout, "Wrote {}.", path.display());
        tools.must(&["daemon-reload"]).await?;
        tools.must(&["enable", "--now", UNIT_NAME]).await?;
        if changed {
            tools.must(&["try-restart", UNIT_NAME]).await?;
        }
        let _ = writeln!(
            io.stdout,
            "Enabled and started {UNIT_NAME}: it runs `acr-tray-cli run` now and whenever you log in.\n\
             Its log: journalctl --user -u {UNIT_NAME} -f"
        );
        let _ = writeln!(io.stdout, "{}", linger(tools.env).await);
        Ok(EXIT_OK)
    }

    /// Whether the user manager outlives the user's sessions, as a sentence.
    async fn linger(env: &Env) -> String {
        let user = env.first_var(&["USER", "LOGNAME"]);
        let said = match (find_program(env, "loginctl"), user) {
            (Some(loginctl), Some(user)) => {
                run_tool(&loginctl, &["show-user", user, "-p", "Linger"], env)
                    .await
                    .ok()
                    .filter(|ran| ran.ok)
                    .map(|ran| ran.stdout)
            }
            _ => None,
        };
        let user = user.unwrap_or("$USER");
        match said.as_deref().map(str::trim) {
            Some("Linger=yes") => format!(
                "Lingering is on for {user}: the service starts at boot and keeps running after you log out."
            ),
            Some("Linger=no") => format!(
                "Lingering is off for {user}: the service stops when your last session ends. On a \
                 VM or server nobody logs in to, run `loginctl enable-linger {user}` (as {user} or \
                 with sudo) so it starts at boot."
            ),
            _ => format!(
                "Could not ask loginctl whether {user} lingers. {}",
                LINGER_TEXT.replace('\n', " ")
            ),
        }
    }

    async fn uninstall(tools: &Tools<'_>, path: &Path, io: &mut Io) -> Result<i32, Failure> {
        if !path.exists() {
            let _ = writeln!(
                io.stdout,
                "{UNIT_NAME} is not installed (no {}).",
                path.display()
            );
            return Ok(EXIT_OK);
        }
        let stopped = tools.systemctl(&["disable", "--now", UNIT_NAME]).await?;
        if !stopped.ok {
            let _ = writeln!(
                io.stderr,
                "warning: `systemctl --user disable --now {UNIT_NAME}` failed: {}",
                stopped.stderr.trim()
            );
        }
        std::fs::remove_file(path).map_err(|e| Error::io("remove", path, &e))?;
        tools.must(&["daemon-reload"]).await?;
        let _ = writeln!(
            io.stdout,
            "Stopped and disabled {UNIT_NAME}, and removed {}.",
            path.display()
        );
        Ok(EXIT_OK)
    }

    async fn status(tools: &Tools<'_>, path: &Path, io: &mut Io) -> Result<i32, Failure> {
        let installed = path.exists();
        let enabled = tools.systemctl(&["is-enabled", UNIT_NAME]).await?;
        let active = tools.systemctl(&["is-active", UNIT_NAME]).await?;
        // systemctl's own word (enabled, static, masked; active, failed, activating…), or
        // yes/no where it printed none (a unit it does not know).
        let word = |ran: &Ran| match ran.stdout.lines().next().map(str::trim) {
            Some(w) if !w.is_empty() => w.to_owned(),
            _ if ran.ok => "yes".to_owned(),
            _ => "no".to_owned(),
        };
        let _ = writeln!(
            io.stdout,
            "Installed: {}\nEnabled:   {}\nActive:    {}",
            if installed {
                format!("yes ({})", path.display())
            } else {
                format!("no (no {})", path.display())
            },
            word(&enabled),
            word(&active),
        );
        if !installed {
            let _ = writeln!(io.stdout, "Install it with: acr-tray-cli service install");
        } else if !active.ok {
            let _ = writeln!(io.stdout, "Its log: journalctl --user -u {UNIT_NAME}");
        }
        Ok(if installed && enabled.ok && active.ok {
            EXIT_OK
        } else {
            EXIT_FAILED
        })
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn a_tool_s_output_keeps_its_lines_and_loses_what_could_trick_a_terminal() {
            assert_eq!(
                super::printable(
                    "enabled\r\n\x1b[2Jactive\u{202E}fdp.exe\u{202C}\u{200B}\n".as_bytes()
                ),
                "enabled\n[2Jactivefdp.exe\n"
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use acr_tray_engine::Env;

    use super::{Failure, ServiceCommand};
    use crate::Io;

    #[cfg(target_os = "macos")]
    const INSTEAD: &str = "on macOS, run `acr-tray-cli run` as a launchd agent: a plist in \
        ~/Library/LaunchAgents with ProgramArguments [the path of acr-tray-cli, run], RunAtLoad \
        and KeepAlive, loaded with `launchctl bootstrap gui/$(id -u) PLIST` (or use the tray \
        app, which starts at login)";
    #[cfg(windows)]
    const INSTEAD: &str = "on Windows, run `acr-tray-cli run` at logon with Task Scheduler: \
        schtasks /Create /SC ONLOGON /TN \"ACR Tray\" /TR \"\\\"PATH\\acr-tray-cli.exe\\\" run\" \
        (or use the tray app, which starts at login)";
    #[cfg(not(any(target_os = "macos", windows)))]
    const INSTEAD: &str = "run `acr-tray-cli run` from your init system (it stops cleanly on \
        SIGTERM)";

    pub(super) async fn run(
        _command: ServiceCommand,
        _env: &Env,
        _io: &mut Io,
    ) -> Result<i32, Failure> {
        Err(Failure::Said {
            message: "`acr-tray-cli service` installs a systemd user unit, and this system has \
                      no systemd"
                .to_owned(),
            hint: INSTEAD.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_as_systemd_unquotes_them() {
        assert_eq!(
            quote("/opt/acr tray/bin", true).unwrap(),
            "\"/opt/acr tray/bin\""
        );
        assert_eq!(quote(r#"/a"b\c%d$e"#, true).unwrap(), r#""/a\"b\\c%%d$$e""#);
        // Environment= expands specifiers but no variables.
        assert_eq!(quote("X=/a%b$c", false).unwrap(), "\"X=/a%%b$c\"");
    }

    #[test]
    fn control_characters_never_reach_a_unit() {
        assert!(quote("/tmp/a\nExecStartPre=/bin/evil", true).is_err());
        assert!(
            render_unit(
                Path::new("/usr/bin/x"),
                &[("ACR_TRAY_HOME", "/a\rb".into())]
            )
            .is_err()
        );
    }

    #[test]
    fn relative_xdg_config_home_is_ignored() {
        let env = Env::from_pairs([("HOME", "/home/u"), ("XDG_CONFIG_HOME", "rel")]);
        assert_eq!(
            unit_dir(&env).unwrap(),
            PathBuf::from("/home/u/.config/systemd/user")
        );
        let env = Env::from_pairs([("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/x")]);
        assert_eq!(unit_dir(&env).unwrap(), PathBuf::from("/x/systemd/user"));
    }
}
