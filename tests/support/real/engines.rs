//! Container engines that pull through Docker's credentials: the Docker daemon (`dockerd` from
//! Debian's `docker.io`, driven by the `docker` CLI), and podman and buildah (both rootful).
//! Each keeps everything it stores in a temp dir of its own and leaves the machine as it was.
//!
//! - [`DockerDaemon`]: `dockerd --iptables=false --ip6tables=false --bridge=none
//!   --storage-driver=vfs` with its own data root, exec root, pid file and socket, in a private
//!   mount namespace where `/etc/hosts` is the [`Clients`] hosts file (the daemon resolves the
//!   registry's name itself: the CLI only reads config.json or runs the credential helper and
//!   hands the daemon the credential). It is stopped on drop (SIGTERM, then SIGKILL if it
//!   outlives `STOP_TIMEOUT`), and also when the test process dies (a watchdog ends it when
//!   the test's end of a pipe closes). The daemon treats every
//!   registry that resolves to 127.0.0.0/8 as insecure, so it does not check the fake's
//!   certificate: what is tested is the credential, not TLS trust.
//! - [`ContainersStorage`]: `podman` / `buildah` with `--root`, `--runroot` and
//!   `--storage-driver vfs` in a temp dir, in the same kind of namespace, trusting only the
//!   fake's CA (`--cert-dir`). They find Docker's config the way they do on a developer's
//!   machine, through `DOCKER_CONFIG` (no `--authfile`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::clients::{Clients, Run};

/// Runs `"$@"` and stops it (SIGTERM) when our end of its stdin closes: on drop, and when the
/// test process dies without running destructors. (A background job's stdin is /dev/null,
/// hence the copy on fd 3.)
const WATCHDOG: &str = "exec 3<&0
\"$@\" </dev/null &
pid=$!
{ read -r _ <&3; kill \"$pid\" 2>/dev/null; } &
wait \"$pid\"";

/// How long the daemon may take to answer `/_ping` (a cold start takes a few seconds; only a
/// hang reaches this).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// How long the daemon may take to stop (it stops its containerd first).
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A `dockerd` of the test's own (see the module docs).
pub struct DockerDaemon {
    child: Child,
    dir: tempfile::TempDir,
}

impl DockerDaemon {
    /// Starts the daemon in `clients`' namespace and waits until its API answers.
    pub fn start(clients: &Clients) -> Self {
        assert!(
            super::clients::running_as_root(),
            "dockerd runs rootful here: run the real-client tests as root (as CI does)"
        );
        let dockerd = super::find_program("dockerd").expect(
            "dockerd is not installed (Debian's docker.io: scripts/install-deps.sh --test)",
        );
        let dir = tempfile::Builder::new()
            .prefix("acr-tray-dockerd-")
            .tempdir()
            .unwrap();
        // An empty daemon.json: nothing of the machine's /etc/docker/daemon.json applies.
        std::fs::write(dir.path().join("daemon.json"), "{}").unwrap();
        let log = std::fs::File::create(dir.path().join("dockerd.log")).unwrap();
        let path = |name: &str| dir.path().join(name).display().to_string();
        let mut cmd = clients.namespace_command();
        cmd.arg(dockerd).args([
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--storage-driver=vfs",
            "--data-root",
            &path("data"),
            "--exec-root",
            &path("exec"),
            "--pidfile",
            &path("dockerd.pid"),
            "--config-file",
            &path("daemon.json"),
            "-H",
            &format!("unix://{}", path("docker.sock")),
        ]);
        // `sh -c WATCHDOG sh unshare …`: the watchdog around the namespaced daemon.
        let mut watched = std::process::Command::new("sh");
        watched.args(["-c", WATCHDOG, "sh"]).arg(cmd.get_program());
        watched.args(cmd.get_args());
        for (key, value) in cmd.get_envs() {
            match value {
                Some(value) => watched.env(key, value),
                None => watched.env_remove(key),
            };
        }
        let child = watched
            .stdin(Stdio::piped())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting dockerd: {e}"));
        let mut daemon = Self { child, dir };
        daemon.wait_ready();
        daemon
    }

    /// `unix://…/docker.sock`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    /// The daemon's own log (for failure messages).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    /// `docker --config DOCKER_CONFIG --host THIS ARGS` (see [`Clients::docker`]).
    pub fn docker(&self, clients: &Clients, docker_config: &Path, args: &[&str]) -> Run {
        let host = self.host();
        let mut all = vec!["--host", host.as_str()];
        all.extend_from_slice(args);
        clients.docker(docker_config, &all, None)
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("dockerd exited ({status}); its log:\n{}", self.log_text());
            }
            if ping(&self.socket()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "dockerd did not answer within {START_TIMEOUT:?}; its log:\n{}",
            self.log_text()
        );
    }
}

impl Drop for DockerDaemon {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // dockerd outlived the watchdog's SIGTERM. Killing the watchdog's shell alone would
        // leave it running on the data root that is about to be removed: end dockerd itself
        // (its pid file is there while it runs; no pid namespace, so the pid is ours).
        let pid = std::fs::read_to_string(self.dir.path().join("dockerd.pid"))
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok())
            .filter(|&pid| pid > 1);
        if let Some(pid) = pid {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the Docker API on `socket` answers `GET /_ping` with 200.
fn ping(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream
        .write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && &head[9..12] == b"200"
}

/// Which containers/storage engine: both take the same storage flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// `podman`.
    Podman,
    /// `buildah`.
    Buildah,
}

impl Engine {
    fn program(self) -> &'static str {
        match self {
            Self::Podman => "podman",
            Self::Buildah => "buildah",
        }
    }
}

/// A private image store for podman and buildah (see the module docs).
pub struct ContainersStorage {
    dir: tempfile::TempDir,
}

impl Default for ContainersStorage {
    fn default() -> Self {
        Self::new()
    }
}

impl ContainersStorage {
    /// An empty store.
    pub fn new() -> Self {
        assert!(
            super::clients::running_as_root(),
            "podman and buildah run rootful here: run the real-client tests as root (as CI does)"
        );
        let dir = tempfile::Builder::new()
            .prefix("acr-tray-containers-")
            .tempdir()
            .unwrap();
        for sub in ["root", "runroot", "tmp"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        Self { dir }
    }

    /// `ENGINE --root … --runroot … --storage-driver vfs ARGS` in `clients`' namespace.
    pub fn run(&self, clients: &Clients, engine: Engine, args: &[&str]) -> Run {
        let path = |name: &str| self.dir.path().join(name).display().to_string();
        let (root, runroot, tmp) = (path("root"), path("runroot"), path("tmp"));
        let mut all = vec![
            "--root",
            &root,
            "--runroot",
            &runroot,
            "--storage-driver",
            "vfs",
        ];
        if engine == Engine::Podman {
            // No systemd, journald or /run/libpod of the machine's.
            all.extend([
                "--tmpdir",
                &tmp,
                "--cgroup-manager",
                "cgroupfs",
                "--events-backend",
                "none",
            ]);
        }
        all.extend_from_slice(args);
        clients.in_namespace(engine.program(), &all)
    }

    /// `ENGINE pull` of `image` (`HOST/REPO:TAG`), trusting only the fake's CA, with the
    /// credentials the engine finds by itself (`DOCKER_CONFIG` set by the caller).
    pub fn pull(&self, clients: &Clients, engine: Engine, image: &str) -> Run {
        let certs = clients.cert_dir().display().to_string();
        let policy = clients.policy_path().display().to_string();
        let reference = format!("docker://{image}");
        self.run(
            clients,
            engine,
            &[
                "pull",
                "--cert-dir",
                &certs,
                "--signature-policy",
                &policy,
                &reference,
            ],
        )
    }

    /// The manifest digest of `image` as the store holds it.
    pub fn digest(&self, clients: &Clients, engine: Engine, image: &str) -> Run {
        let args: &[&str] = match engine {
            Engine::Podman => &["image", "inspect", "--format", "{{.Digest}}", image],
            Engine::Buildah => &[
                "inspect",
                "--type",
                "image",
                "--format",
                "{{.FromImageDigest}}",
                image,
            ],
        };
        self.run(clients, engine, args)
    }
}
