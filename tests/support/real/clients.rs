//! Running real clients (skopeo, docker) against the fake without changing the machine.
//!
//! The fake serves `login.localhost`, `management.localhost` and `<name>.azurecr.localhost` on
//! `127.0.0.1:PORT`, with a certificate from its own test CA. [`Clients`] prepares, in a temp
//! dir:
//! - `hosts`: a copy of the machine's `/etc/hosts` plus `127.0.0.1 <those names>`;
//! - `certs/ca.crt`: the fake's CA and nothing else (skopeo reads any `*.key`/`*.cert` in a cert
//!   dir as a client certificate);
//! - `policy.json` accepting anything (the test images are unsigned), a `HOME`, an
//!   `XDG_RUNTIME_DIR`, an empty `bin` dir.
//!
//! [`Clients::in_namespace`] runs a command in a private mount namespace with that hosts file
//! bind-mounted over `/etc/hosts`:
//! `unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' HOSTS PROGRAM ARGS...`
//! (as root; otherwise `unshare -r -m`, a user namespace in which we are root). The mount is
//! private to that process tree (unshare makes the namespace's mounts private) and vanishes with
//! it; `/etc/hosts` itself is never written. Trust is per command (`--cert-dir` /
//! `--src-cert-dir` / `--dest-cert-dir`), never `--tls-verify=false`.
//!
//! `docker` is only used with [`super::PlainRegistry`] on `127.0.0.1`, so it runs directly, with
//! `PATH` set to the empty `bin` dir: no `docker-credential-*` helper can become its default
//! store, and the entries stay in `config.json` where ACR Tray writes too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt;
use std::io::{Read as _, Write as _};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::World;

/// Longest any client command may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Environment variables that would send clients elsewhere (proxies, other configs).
const SCRUBBED_ENV: [&str; 14] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "DOCKER_CONFIG",
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_AUTH_CONFIG",
    "REGISTRY_AUTH_FILE",
    "CONTAINERS_REGISTRIES_CONF",
];

/// What a client command did.
#[derive(Debug, Clone)]
pub struct Run {
    /// The command line, for messages.
    pub command: String,
    /// The exit code (`None`: killed by a signal or the timeout).
    pub code: Option<i32>,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl Run {
    /// Exit code 0.
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Panics with everything it printed unless it succeeded.
    #[track_caller]
    pub fn expect_ok(self) -> Self {
        assert!(self.ok(), "command failed: {self}");
        self
    }

    /// Panics unless it failed.
    #[track_caller]
    pub fn expect_failure(self) -> Self {
        assert!(!self.ok(), "command unexpectedly succeeded: {self}");
        self
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self}"))
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\nexit: {:?}\nstdout:\n{}\nstderr:\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// Hosts file, CA dir, policy and a private home for skopeo and docker (see the module docs).
pub struct Clients {
    dir: tempfile::TempDir,
    extra_env: Vec<(String, String)>,
}

impl Clients {
    /// Resolves the fake's Entra and ARM names; add registries with [`Clients::add_host`].
    pub fn new(world: &World) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("acr-tray-clients-")
            .tempdir()
            .unwrap();
        let clients = Self {
            dir,
            extra_env: Vec::new(),
        };
        let mut hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        if !hosts.is_empty() && !hosts.ends_with('\n') {
            hosts.push('\n');
        }
        hosts.push_str("# acr-tray tests: the fake's names\n");
        std::fs::write(clients.hosts_path(), hosts).unwrap();
        for host in world.fake.service_hosts() {
            clients.add_host(&host);
        }
        std::fs::create_dir_all(clients.cert_dir()).unwrap();
        std::fs::write(clients.cert_dir().join("ca.crt"), world.fake.ca_pem()).unwrap();
        std::fs::write(
            clients.policy_path(),
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .unwrap();
        for sub in ["home", "run", "bin"] {
            std::fs::create_dir_all(clients.dir.path().join(sub)).unwrap();
        }
        clients
    }

    /// Sets an environment variable for every client command (e.g. `PATH` with a helper).
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.extra_env.retain(|(k, _)| k != key);
        self.extra_env.push((key.to_owned(), value.to_owned()));
    }

    /// Resolves a host (a login server's port is dropped) to 127.0.0.1 inside the namespace.
    pub fn add_host(&self, host_or_login_server: &str) {
        let host = host_or_login_server
            .rsplit_once(':')
            .map_or(host_or_login_server, |(h, _)| h);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(self.hosts_path())
            .unwrap();
        writeln!(file, "127.0.0.1 {host}").unwrap();
    }

    /// The hosts file bind-mounted over `/etc/hosts`.
    pub fn hosts_path(&self) -> PathBuf {
        self.dir.path().join("hosts")
    }

    /// The cert dir holding only `ca.crt` (the fake's CA).
    pub fn cert_dir(&self) -> PathBuf {
        self.dir.path().join("certs")
    }

    /// The signature policy accepting anything (the test images are unsigned).
    pub fn policy_path(&self) -> PathBuf {
        self.dir.path().join("policy.json")
    }

    /// The only folder on the `docker` CLI's `PATH` (empty unless a test puts a helper there).
    pub fn bin_dir(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        for var in SCRUBBED_ENV {
            cmd.env_remove(var);
        }
        cmd.env("HOME", self.dir.path().join("home"))
            .env("XDG_RUNTIME_DIR", self.dir.path().join("run"))
            .env(
                "XDG_CONFIG_HOME",
                self.dir.path().join("home").join(".config"),
            );
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// `unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' HOSTS` with the clients'
    /// environment: append the program and its arguments (see the module docs).
    pub fn namespace_command(&self) -> Command {
        let mut cmd = self.command("unshare");
        if !running_as_root() {
            cmd.arg("-r");
        }
        cmd.args([
            "-m",
            "sh",
            "-c",
            "mount --bind \"$0\" /etc/hosts && exec \"$@\"",
        ])
        .arg(self.hosts_path());
        cmd
    }

    /// Runs `program args` in a private mount namespace where `/etc/hosts` is [`Self::hosts_path`].
    pub fn in_namespace(&self, program: &str, args: &[&str]) -> Run {
        let mut cmd = self.namespace_command();
        cmd.arg(program).args(args);
        let line = format!("[mount ns, own /etc/hosts] {program} {}", args.join(" "));
        run(cmd, &line, None)
    }

    /// `skopeo --policy P --command-timeout 120s ARGS` in the namespace.
    pub fn skopeo(&self, args: &[&str]) -> Run {
        let policy = self.policy_path().display().to_string();
        let mut all = vec!["--policy", &policy, "--command-timeout", "120s"];
        all.extend_from_slice(args);
        self.in_namespace("skopeo", &all)
    }

    /// `skopeo copy` with `DOCKER_CONFIG/config.json` as the only credentials and the CA dir
    /// for registry ends (`oci:DIR:TAG` and `docker://HOST/REPO:TAG` references).
    pub fn skopeo_copy(&self, docker_config: &Path, src: &str, dest: &str) -> Run {
        let authfile = docker_config.join("config.json").display().to_string();
        let certs = self.cert_dir().display().to_string();
        self.skopeo(&[
            "copy",
            "--authfile",
            &authfile,
            "--src-cert-dir",
            &certs,
            "--dest-cert-dir",
            &certs,
            src,
            dest,
        ])
    }

    /// `skopeo inspect` (`--raw` gives the manifest) with `DOCKER_CONFIG/config.json`.
    pub fn skopeo_inspect(&self, docker_config: &Path, image: &str, raw: bool) -> Run {
        let authfile = docker_config.join("config.json").display().to_string();
        let certs = self.cert_dir().display().to_string();
        let mut args = vec!["inspect", "--authfile", &authfile, "--cert-dir", &certs];
        if raw {
            args.push("--raw");
        }
        args.push(image);
        self.skopeo(&args)
    }

    /// `docker --config DOCKER_CONFIG ARGS` (client only, outside the namespace, `PATH` empty).
    pub fn docker(&self, docker_config: &Path, args: &[&str], stdin: Option<&str>) -> Run {
        let docker = super::find_program("docker").expect("the docker CLI is not installed");
        let mut cmd = self.command(&docker.display().to_string());
        cmd.env("PATH", self.bin_dir())
            .arg("--config")
            .arg(docker_config)
            .args(args);
        let line = format!(
            "docker --config {} {}",
            docker_config.display(),
            args.join(" ")
        );
        run(cmd, &line, stdin)
    }

    /// `docker login ADDRESS -u USER --password-stdin`.
    pub fn docker_login(
        &self,
        docker_config: &Path,
        address: &str,
        user: &str,
        password: &str,
    ) -> Run {
        self.docker(
            docker_config,
            &["login", address, "-u", user, "--password-stdin"],
            Some(&format!("{password}\n")),
        )
    }
}

/// Whether this process runs as root (then `unshare -m` needs no user namespace).
pub fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Runs a command to completion (or [`COMMAND_TIMEOUT`]), capturing its output.
fn run(mut cmd: Command, line: &str, stdin: Option<&str>) -> Run {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {line}: {e}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).unwrap();
    }
    let reader = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let out = reader(Box::new(child.stdout.take().unwrap()));
    let err = reader(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        command: line.to_owned(),
        code: status.and_then(|s| s.code()),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}
