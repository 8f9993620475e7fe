//! Real clients through a real registry: Debian's `docker-registry` (distribution 2.8) behind
//! the fake ACR, `skopeo`, the `docker` CLI, and container engines the tests start (`dockerd`,
//! podman, buildah: [`engines`]). Used by the `real` test target (`cargo test -p
//! acr-tray-tests --test real`), which needs those tools installed (`scripts/install-deps.sh
//! --test`) and root for the engines.
//!
//! - [`RealRegistry`]: distribution with token auth trusting the fake's ACR signing cert,
//!   registered in the fake as the upstream of a registry: `/v2/...` on the login server goes to
//!   distribution, `/oauth2/*` stay the fake's. Distribution's `service` is the login server
//!   *with* the fake's port (`<name>.azurecr.localhost:PORT`): that is the `aud` of the fake's
//!   tokens and the `service` clients echo from the challenge.
//! - [`PlainRegistry`]: distribution with htpasswd over plain http on loopback, "another tool's"
//!   registry for `docker login`.
//! - [`clients::Clients`]: how skopeo and docker reach the fake's names and trust its CA.
//! - [`engines`]: a Docker daemon of the test's own, and a private podman/buildah store.
//! - [`oci`]: a tiny OCI image built offline.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod clients;
pub mod engines;
pub mod oci;

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_azure::RegistrySpec;

use crate::World;

/// The distribution binary (Debian package `docker-registry`).
pub const REGISTRY_BIN: &str = "docker-registry";

/// Runs `$0 serve $1` and stops it when our end of its stdin closes: on drop, and also when the
/// test process dies without running destructors (a killed or timed-out test), so no registry
/// outlives its test. (A background job's stdin is /dev/null, hence the copy on fd 3.)
const WATCHDOG: &str = "exec 3<&0
\"$0\" serve \"$1\" </dev/null &
pid=$!
{ read -r _ <&3; kill \"$pid\" 2>/dev/null; } &
wait \"$pid\"";

/// A running `docker-registry serve CONFIG` (under `WATCHDOG`); stopped on drop. Its output
/// goes to `log`.
pub struct RegistryProcess {
    child: Child,
    /// Port on 127.0.0.1.
    pub port: u16,
    /// The registry's own output (config, requests, errors).
    pub log: PathBuf,
    /// Holds the config, storage and log.
    pub dir: tempfile::TempDir,
}

impl RegistryProcess {
    /// Writes `files` into the registry's dir, then starts distribution with
    /// `auth_yaml(that dir)` (YAML lines under `auth:`, indented by 2) on a port the system
    /// picks, which it names in its log, and waits until `GET /v2/` answers 401.
    pub fn start(files: &[(&str, &[u8])], auth_yaml: impl Fn(&Path) -> String) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("acr-tray-registry-")
            .tempdir()
            .unwrap();
        for (name, contents) in files {
            std::fs::write(dir.path().join(name), contents).unwrap();
        }
        let auth_yaml = auth_yaml(dir.path());
        let config = dir.path().join("config.yml");
        let log = dir.path().join("registry.log");
        let text = format!(
            "version: 0.1\n\
             log:\n  level: info\n  formatter: text\n\
             storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:0\n  secret: s{secret:x}\n  relativeurls: true\n\
             auth:\n{auth_yaml}",
            data = dir.path().join("data").display(),
            secret = rand_u64(),
        );
        std::fs::write(&config, text).unwrap();
        let out = File::create(&log).unwrap();
        let mut child = Command::new("sh")
            .args(["-c", WATCHDOG, REGISTRY_BIN])
            .arg(&config)
            .stdin(Stdio::piped())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {REGISTRY_BIN}: {e}"));
        match wait_ready(&mut child, &log) {
            Some(port) => Self {
                child,
                port,
                log,
                dir,
            },
            None => {
                stop(&mut child);
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("{REGISTRY_BIN} did not start; its log:\n{text}");
            }
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The registry's output so far (for failure messages).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for RegistryProcess {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Closes the watchdog's stdin (it then stops the registry) and waits; kills it after 5 s.
fn stop(child: &mut Child) {
    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Distribution behind the fake ACR: the fake forwards `/v2/...` of the registry to it.
pub struct RealRegistry {
    /// The fake's registry (name, login server, ARM id).
    pub registry: fake_azure::Registry,
    /// `<name>.azurecr.localhost:PORT` (the fake's port): what clients use, and distribution's
    /// `service` (= the `aud` of the fake's ACR tokens).
    pub login_server: String,
    /// The distribution process.
    pub process: RegistryProcess,
}

impl RealRegistry {
    /// Starts distribution with token auth (`realm` = the fake's `/oauth2/token` on the login
    /// server, `service` = the login server, `issuer` = "Azure Container Registry",
    /// `rootcertbundle` = a copy of the fake's ACR signing cert) and adds registry `name` to the
    /// fake with distribution as its upstream. Roles are the caller's business.
    pub fn start(world: &World, name: &str) -> Self {
        Self::start_as(world, RegistrySpec::new(name))
    }

    /// [`RealRegistry::start`] with the fake's registry made as `spec` says (another tenant's
    /// subscription, ...), distribution as its upstream.
    pub fn start_as(world: &World, spec: RegistrySpec) -> Self {
        let name = spec.name.clone();
        let login_server = world.fake.login_server(&name);
        let bundle = world.fake.acr_signing_cert_pem();
        let process =
            RegistryProcess::start(&[("acr-token-signing.pem", bundle.as_bytes())], |dir| {
                format!(
                    "  token:\n    realm: https://{login_server}/oauth2/token\n    \
                     service: {login_server}\n    issuer: \"Azure Container Registry\"\n    \
                     rootcertbundle: {}\n",
                    dir.join("acr-token-signing.pem").display()
                )
            });
        let registry = world.fake.add_registry(spec.upstream(process.url()));
        assert_eq!(registry.login_server, login_server);
        Self {
            registry,
            login_server,
            process,
        }
    }

    /// The registry name in the fake.
    pub fn name(&self) -> &str {
        &self.registry.name
    }

    /// Distribution's log, for failure messages.
    pub fn log_text(&self) -> String {
        self.process.log_text()
    }
}

/// Distribution with htpasswd (bcrypt) over plain http on 127.0.0.1: Docker treats loopback
/// registries as insecure, so `docker login 127.0.0.1:PORT` works without TLS or a daemon.
pub struct PlainRegistry {
    /// `127.0.0.1:PORT` (the `auths` key Docker writes).
    pub address: String,
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
    /// The distribution process.
    pub process: RegistryProcess,
}

impl PlainRegistry {
    /// Starts it with one user (`htpasswd -Bbn user password`).
    pub fn start(user: &str, password: &str) -> Self {
        let out = Command::new("htpasswd")
            .args(["-Bbn", user, password])
            .output()
            .unwrap_or_else(|e| panic!("htpasswd (apache2-utils) missing? {e}"));
        assert!(out.status.success(), "htpasswd: {out:?}");
        let process = RegistryProcess::start(&[("htpasswd", &out.stdout)], |dir| {
            format!(
                "  htpasswd:\n    realm: basic-realm\n    path: {}\n",
                dir.join("htpasswd").display()
            )
        });
        Self {
            address: format!("127.0.0.1:{}", process.port),
            user: user.to_owned(),
            password: password.to_owned(),
            process,
        }
    }

    /// The `auth` value Docker stores for this user.
    pub fn auth(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", self.user, self.password))
    }
}

/// How long distribution may take to start; only a hang reaches it.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Waits for distribution's "listening on 127.0.0.1:PORT" in its log, then until `GET /v2/`
/// answers 401; the port, or `None` if the process exits or [`START_TIMEOUT`] passes.
fn wait_ready(child: &mut Child, log: &Path) -> Option<u16> {
    let deadline = Instant::now() + START_TIMEOUT;
    let mut port = None;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return None;
        }
        port = port.or_else(|| listening_port(&std::fs::read_to_string(log).unwrap_or_default()));
        if let Some(port) = port
            && http_status(port, "/v2/") == Some(401)
        {
            return Some(port);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// The port of distribution's `msg="listening on 127.0.0.1:PORT"` log line, once the line is
/// written out to its closing quote.
fn listening_port(log: &str) -> Option<u16> {
    let (_, rest) = log.split_once("listening on 127.0.0.1:")?;
    let (digits, _) = rest.split_once('"')?;
    digits.parse().ok()
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish()
}

/// The status of a plain `GET path` on 127.0.0.1:port (HTTP/1.0), `None` if it fails.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// Whether a program is on `PATH` (to skip with a clear message when tools are missing).
pub fn have(program: &str) -> bool {
    find_program(program).is_some()
}

/// The full path of a program on `PATH`.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
