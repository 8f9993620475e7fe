//! Shared test support: a [`World`] with a running fake Azure, a throwaway ACR Tray home and
//! Docker config folder, an in-memory keyring, and the CLI run in-process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use acr_tray_cli::Context;
use acr_tray_engine::Env;
use acr_tray_engine::HttpOptions;
use acr_tray_engine::{KeyringStore, MemoryStore, SecretStore};
use base64::Engine as _;
use fake_azure::{FakeAzure, ServicePrincipal};

pub mod argv;
mod home;
#[cfg(test)]
mod manifests;
pub mod real;
pub mod sim;

pub use home::Home;

/// The zero GUID ACR uses as the user name for tokens.
pub const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// How long a request of an in-process CLI run may take: long enough that only a server that
/// never answers reaches it, however loaded the machine.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `acr-tray-cli` in-process (it builds its own runtime: call it outside one, or through
/// `spawn_blocking`) with the given wall clock and request time-out, saying whether stdin is a
/// terminal (where the CLI may ask yes/no questions).
pub fn run_cli_in(
    env: Env,
    secrets: Arc<dyn SecretStore>,
    clock: Arc<dyn acr_tray_engine::Clock>,
    request_timeout: Duration,
    args: &[&str],
    stdin: &str,
    terminal: bool,
) -> Output {
    let (out, err) = (Capture::default(), Capture::default());
    let ctx = Context {
        env,
        stdin: Box::new(std::io::Cursor::new(stdin.as_bytes().to_vec())),
        stdout: Box::new(out.clone()),
        stderr: Box::new(err.clone()),
        secrets,
        http: HttpOptions {
            request_timeout: Some(request_timeout),
            ..Default::default()
        },
        retry_base: Duration::from_millis(20),
        clock,
        terminal,
    };
    let mut argv = vec!["acr-tray-cli"];
    argv.extend_from_slice(args);
    let code = acr_tray_cli::run(argv, ctx);
    Output {
        code,
        stdout: out.text(),
        stderr: err.text(),
    }
}

/// A fake Azure plus an isolated ACR Tray installation.
pub struct World {
    /// Runs the fake's server tasks (the CLI builds its own runtime per command).
    pub rt: tokio::runtime::Runtime,
    /// The fake.
    pub fake: FakeAzure,
    /// `ACR_TRAY_HOME` and `DOCKER_CONFIG`.
    pub home: Home,
    /// The keyring (in memory unless [`World::real_keyring`] was called).
    pub secrets: Arc<MemoryStore>,
    /// Replaces the in-memory keyring for every command.
    pub store: Option<Arc<dyn SecretStore>>,
    /// Extra environment variables for every command.
    pub extra_env: Vec<(String, String)>,
    /// Each request's time-out in every command ([`REQUEST_TIMEOUT`]; tests of a server that
    /// never answers shorten it).
    pub request_timeout: Duration,
}

/// What a CLI run printed and returned.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Panics with the output unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl World {
    /// Starts a fake and points a fresh ACR Tray home at it (custom cloud, the fake's CA).
    pub fn new() -> Self {
        Self::with_fake(|b| b)
    }

    /// Like [`World::new`] with a customised fake.
    pub fn with_fake(
        configure: impl FnOnce(fake_azure::FakeAzureBuilder) -> fake_azure::FakeAzureBuilder,
    ) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let fake = rt
            .block_on(configure(FakeAzure::builder()).start())
            .unwrap();
        let world = Self {
            rt,
            fake,
            home: Home::new(),
            secrets: Arc::new(MemoryStore::new()),
            store: None,
            extra_env: Vec::new(),
            request_timeout: REQUEST_TIMEOUT,
        };
        world.point_at_fake(true);
        world
    }

    /// `cloud set custom` at the fake, trusting its CA through `--ca-file` (or not).
    pub fn point_at_fake(&self, with_ca_file: bool) {
        self.cli(&argv::strs(&argv::cloud_set_custom(
            &self.fake,
            with_ca_file,
        )))
        .expect_code(0);
    }

    /// Uses the OS keyring, as the real program does.
    pub fn real_keyring(&mut self) {
        self.store = Some(Arc::new(KeyringStore::new()));
    }

    /// The environment every command sees.
    pub fn env(&self) -> Env {
        let mut env = self.home.env();
        for (k, v) in &self.extra_env {
            env.set(k.clone(), v.clone());
        }
        env
    }

    /// Runs the CLI in-process with empty stdin.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_stdin(args, "")
    }

    /// Runs the CLI in-process with the given stdin.
    pub fn cli_stdin(&self, args: &[&str], stdin: &str) -> Output {
        self.run_cli(args, stdin, false)
    }

    /// Runs the CLI in-process as if typed in a terminal, answering its questions with `stdin`.
    pub fn cli_terminal(&self, args: &[&str], stdin: &str) -> Output {
        self.run_cli(args, stdin, true)
    }

    fn run_cli(&self, args: &[&str], stdin: &str, terminal: bool) -> Output {
        let secrets: Arc<dyn SecretStore> = match &self.store {
            Some(store) => store.clone(),
            None => self.secrets.clone(),
        };
        run_cli_in(
            self.env(),
            secrets,
            acr_tray_engine::system_clock(),
            self.request_timeout,
            args,
            stdin,
            terminal,
        )
    }

    /// A new service principal in the fake's default tenant.
    pub fn service_principal(&self) -> ServicePrincipal {
        self.fake.add_service_principal(&self.fake.default_tenant())
    }

    /// A new service principal in the fake's default tenant that signs in with a certificate.
    pub fn certificate_principal(&self) -> (ServicePrincipal, fake_azure::CertificateCredential) {
        self.fake
            .add_service_principal_with_certificate(&self.fake.default_tenant())
    }

    /// Signs a service principal in through the CLI.
    pub fn login(&self, sp: &ServicePrincipal) -> Output {
        self.cli_stdin(
            &argv::strs(&argv::login_service_principal(sp, &["--secret-stdin"])),
            &format!("{}\n", sp.secret),
        )
    }

    /// Signs a service principal in through the CLI with its secret (from stdin) kept in the
    /// user-only `secret_file`, as CLI processes (no in-memory keyring) need.
    pub fn login_secret_file(&self, sp: &ServicePrincipal, secret_file: &str) -> Output {
        self.cli_stdin(
            &argv::strs(&argv::login_secret_file(sp, secret_file)),
            &sp.secret,
        )
    }

    /// Signs a service principal in through the CLI with the certificate (and key) in `pem`.
    pub fn login_certificate(&self, sp: &ServicePrincipal, pem: &Path) -> Output {
        let pem = pem.display().to_string();
        self.cli(&argv::strs(&argv::login_service_principal(
            sp,
            &["--certificate", &pem],
        )))
    }

    /// [`World::login_secret_file`] with the secret kept in `sp-secret` in the ACR Tray home.
    pub fn login_secret_in_home(&self, sp: &ServicePrincipal) -> Output {
        let file = self.home.path().join("sp-secret");
        self.login_secret_file(sp, &file.display().to_string())
    }

    /// `registry add NAME` through the CLI (the default identity).
    pub fn add_registry(&self, name: &str) -> Output {
        self.cli(&argv::strs(&argv::registry_add(name, None)))
    }

    /// Adds a registry to the fake and gives `principal` a role on it.
    pub fn registry(
        &self,
        name: &str,
        principal: &ServicePrincipal,
        role: fake_azure::Role,
    ) -> fake_azure::Registry {
        self.registry_for(name, &principal.object_id, role)
    }

    /// How many token exchanges (`/oauth2/exchange`) the fake logged since its log was cleared.
    pub fn exchange_count(&self) -> usize {
        self.fake
            .requests()
            .iter()
            .filter(|r| r.path == "/oauth2/exchange")
            .count()
    }

    /// The requests to the fake's token endpoints with this `grant_type`.
    pub fn token_requests(&self, grant_type: &str) -> Vec<fake_azure::LoggedRequest> {
        self.fake
            .requests()
            .into_iter()
            .filter(|r| r.grant_type.as_deref() == Some(grant_type))
            .collect()
    }

    /// The registry called `name` in `status --json`.
    pub fn registry_status(&self, name: &str) -> serde_json::Value {
        let status = self.cli(&["status", "--json"]).expect_code(0).json();
        element_where(&status["registries"], "name", name)
    }

    /// Signs `sp` in and adds each of `registries` to ACR Tray (the default identity), each
    /// step expected to succeed.
    pub fn login_and_add(&self, sp: &ServicePrincipal, registries: &[&fake_azure::Registry]) {
        self.login(sp).expect_code(0);
        for r in registries {
            self.add_registry(&r.name).expect_code(0);
        }
    }

    /// The settings file, `config.toml` in the ACR Tray home.
    pub fn settings_path(&self) -> PathBuf {
        self.home.path().join("config.toml")
    }

    /// The settings file's text.
    pub fn settings_text(&self) -> String {
        std::fs::read_to_string(self.settings_path()).unwrap()
    }

    /// Rewrites the settings file by hand, as someone editing it would: `edit` gets its text
    /// and returns the new one.
    pub fn edit_settings(&self, edit: impl FnOnce(String) -> String) {
        std::fs::write(self.settings_path(), edit(self.settings_text())).unwrap();
    }

    /// A new service principal signed in, and a new registry where it has `role`, added to ACR
    /// Tray.
    pub fn signed_in_registry(
        &self,
        name: &str,
        role: fake_azure::Role,
    ) -> (ServicePrincipal, fake_azure::Registry) {
        let (sp, [r]) = self.signed_in_registries([(name, role)]);
        (sp, r)
    }

    /// A new service principal signed in, and a new registry for each `(name, role)` where it
    /// has that role, each added to ACR Tray.
    pub fn signed_in_registries<const N: usize>(
        &self,
        registries: [(&str, fake_azure::Role); N],
    ) -> (ServicePrincipal, [fake_azure::Registry; N]) {
        let sp = self.service_principal();
        let registries = registries.map(|(name, role)| self.registry(name, &sp, role));
        self.login_and_add(&sp, &registries.iter().collect::<Vec<_>>());
        (sp, registries)
    }

    /// Docker's config.json path.
    pub fn docker_config_path(&self) -> PathBuf {
        self.home.docker_config_path()
    }

    /// Docker's config.json, parsed.
    pub fn docker_config(&self) -> serde_json::Value {
        self.home
            .docker_config()
            .unwrap_or_else(|| panic!("no {}", self.docker_config_path().display()))
    }

    /// The (user, password) in a registry's `auth` entry.
    pub fn docker_auth(&self, login_server: &str) -> (String, String) {
        config_auth(&self.docker_config(), login_server)
    }

    /// Every file under the ACR Tray home (settings, state, logs) as text.
    pub fn home_files(&self) -> Vec<(PathBuf, String)> {
        let mut out = Vec::new();
        walk(self.home.path(), &mut out);
        out
    }

    /// An HTTPS client that trusts the fake and reaches its names.
    pub fn client(&self) -> reqwest::Client {
        let port = self.fake.port();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut b = reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.fake.ca_pem().as_bytes()).unwrap(),
            )
            .no_proxy();
        for host in ["login.localhost", "management.localhost"] {
            b = b.resolve(host, addr);
        }
        b.dns_resolver(LoopbackResolver).build().unwrap()
    }

    /// Makes `$BROWSER` the test browser (`bin/test_browser.rs`) in the given mode, logging what
    /// it did to the returned file.
    /// `binary` is `env!("CARGO_BIN_EXE_test-browser")` (only tests know it).
    pub fn use_test_browser(&mut self, binary: &str, mode: &str) -> PathBuf {
        let log = self.home.path().join(format!("browser-{mode}.log"));
        let browser = format!(
            "{} --ca {} --mode {mode} --log {}",
            binary,
            self.fake.ca_path().display(),
            log.display()
        );
        self.extra_env.retain(|(k, _)| k != "BROWSER");
        self.extra_env.push(("BROWSER".into(), browser));
        log
    }

    /// A user in the fake's default tenant with a role on nothing yet.
    pub fn user(&self, upn: &str) -> fake_azure::User {
        self.fake.add_user(&self.fake.default_tenant(), upn)
    }

    /// A user in the fake's default tenant who approves the next device code after
    /// `pending_polls` polls (which it asks for every second, the code lasting a minute).
    pub fn device_code_user(&self, upn: &str, pending_polls: u32) -> fake_azure::User {
        let user = self.user(upn);
        self.fake.set_device_code_timing(60, 1);
        self.fake
            .set_device_code_auto_approve(Some((user.clone(), pending_polls)));
        user
    }

    /// A user signed in with a device code (approved at once) and `registry`, where they may
    /// pull, added to ACR Tray.
    pub fn device_code_signed_in(
        &self,
        upn: &str,
        registry: &str,
    ) -> (fake_azure::User, fake_azure::Registry) {
        let user = self.device_code_user(upn, 0);
        let reg = self.registry_for(registry, &user.object_id, fake_azure::Role::AcrPull);
        self.cli(&["login", "--device-code"]).expect_code(0);
        self.add_registry(&reg.name).expect_code(0);
        (user, reg)
    }

    /// Gives a principal a role on a new registry.
    pub fn registry_for(
        &self,
        name: &str,
        object_id: &str,
        role: fake_azure::Role,
    ) -> fake_azure::Registry {
        self.registry_as(fake_azure::RegistrySpec::new(name), object_id, role)
    }

    /// A new registry with its admin account enabled, and the admin's user name and passwords.
    pub fn admin_registry(&self, name: &str) -> (fake_azure::Registry, String, [String; 2]) {
        let reg = self
            .fake
            .add_registry(fake_azure::RegistrySpec::new(name).admin_enabled(true));
        let (user, passwords) = self.fake.admin_credentials(&reg.name).unwrap();
        (reg, user, passwords)
    }

    /// Gives a principal a role on a new registry made as `spec` says.
    pub fn registry_as(
        &self,
        spec: fake_azure::RegistrySpec,
        object_id: &str,
        role: fake_azure::Role,
    ) -> fake_azure::Registry {
        let r = self.fake.add_registry(spec);
        self.fake.assign_role(&r.name, object_id, role);
        r
    }

    /// Reads back the test browser's log.
    pub fn browser_log(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_default()
    }

    /// The status of the first request of [`World::acr_access_token`]: Docker's password form
    /// (GET + Basic, zero GUID).
    pub fn password_form_status(
        &self,
        login_server: &str,
        refresh_token: &str,
        scope: &str,
    ) -> u16 {
        self.acr_access_token(login_server, refresh_token, scope).0
    }

    /// Asks the fake registry for an access token with an ACR refresh token, the way Docker does
    /// with the password form (GET + Basic, zero GUID) and the identity-token form (POST).
    pub fn acr_access_token(
        &self,
        login_server: &str,
        refresh_token: &str,
        scope: &str,
    ) -> (u16, u16) {
        let client = self.client();
        self.rt.block_on(async {
            let get = client
                .get(format!("https://{login_server}/oauth2/token"))
                .query(&[("service", login_server), ("scope", scope)])
                .basic_auth(ZERO_GUID, Some(refresh_token))
                .send()
                .await
                .unwrap();
            let post = client
                .post(format!("https://{login_server}/oauth2/token"))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("service", login_server),
                    ("scope", scope),
                    ("refresh_token", refresh_token),
                    ("client_id", "docker"),
                ])
                .send()
                .await
                .unwrap();
            let ok = |r: &reqwest::Response| r.status().as_u16();
            (ok(&get), ok(&post))
        })
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `command` as a process with piped stdio, writes `stdin` to it and waits for it to exit.
pub fn run_process(command: &mut std::process::Command, stdin: &str) -> std::process::Output {
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A loopback port where nothing listens, for as long as the value lives: bound, never listened
/// on, so every connection is refused and nothing else can take the port meanwhile.
pub struct ClosedPort {
    _socket: tokio::net::TcpSocket,
    port: u16,
}

impl ClosedPort {
    /// Reserves one.
    pub fn new() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .unwrap();
        let port = socket.local_addr().unwrap().port();
        Self {
            _socket: socket,
            port,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Default for ClosedPort {
    fn default() -> Self {
        Self::new()
    }
}

/// Resolves every name to 127.0.0.1 (the fake serves them all).
pub struct LoopbackResolver;

impl reqwest::dns::Resolve for LoopbackResolver {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async {
            let addrs: Vec<std::net::SocketAddr> =
                vec![std::net::SocketAddr::from(([127, 0, 0, 1], 0))];
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if let Ok(bytes) = std::fs::read(&p) {
            out.push((p, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
}

/// The element of the JSON array `list` whose `key` is `value`; panics showing the list when
/// there is none.
pub fn element_where(list: &serde_json::Value, key: &str, value: &str) -> serde_json::Value {
    list.as_array()
        .and_then(|items| items.iter().find(|item| item[key] == value))
        .cloned()
        .unwrap_or_else(|| panic!("no {key} = {value} in {list:#}"))
}

/// Asserts that `text` contains `fragment`, showing the whole text when it does not.
#[track_caller]
pub fn assert_contains(text: &str, fragment: &str) {
    assert!(text.contains(fragment), "expected {fragment:?} in:\n{text}");
}

/// Asserts that no text holds any of the secrets, nor anything shaped like a JWT.
#[track_caller]
pub fn assert_no_secrets(what: &str, text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !s.is_empty() && !text.contains(s),
            "{what} holds a secret:\n{text}"
        );
    }
    assert!(
        !text.contains("eyJ"),
        "{what} holds something shaped like a JWT:\n{text}"
    );
}

/// A file's permission bits (`mode & 0o777`).
#[cfg(unix)]
pub fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Writes `text` to `path` as a program (mode 0755 on Unix), e.g. a `#!/bin/sh` stand-in for
/// a tool a test puts on `PATH`.
pub fn write_program(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// Every file and folder under `dir` with its permission bits, as paths relative to `dir`
/// (symlinks not followed).
#[cfg(unix)]
pub fn tree_modes(dir: &Path) -> Vec<(PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, u32)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            out.push((
                path.strip_prefix(root).unwrap().to_path_buf(),
                meta.permissions().mode() & 0o777,
            ));
            if meta.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// Asserts that everything under `dir` is the user's alone (no permission bit for group or
/// others), and that each of `expected` names part of some path there (so an empty tree does
/// not pass).
#[cfg(unix)]
#[track_caller]
pub fn assert_private_tree(dir: &Path, expected: &[&str]) {
    let found = tree_modes(dir);
    let names: Vec<String> = found.iter().map(|(p, _)| p.display().to_string()).collect();
    for e in expected {
        assert!(
            names.iter().any(|n| n.contains(e)),
            "{e} not made under {}: {names:#?}",
            dir.display()
        );
    }
    let open: Vec<String> = found
        .iter()
        .filter(|(_, mode)| mode & 0o077 != 0)
        .map(|(p, mode)| format!("{mode:o} {}", dir.join(p).display()))
        .collect();
    assert!(open.is_empty(), "readable by others:\n{}", open.join("\n"));
}

/// The user name and password of `login_server`'s `auths` entry in a Docker config.
pub fn config_auth(cfg: &serde_json::Value, login_server: &str) -> (String, String) {
    let auth = cfg["auths"][login_server]["auth"]
        .as_str()
        .unwrap_or_else(|| panic!("no auth for {login_server} in {cfg:#}"));
    let raw = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(auth)
            .unwrap(),
    )
    .unwrap();
    let (u, p) = raw.split_once(':').unwrap();
    (u.to_owned(), p.to_owned())
}
