//! A protocol-faithful fake of Entra ID, ARM and the ACR token server, served over HTTPS on
//! loopback, for tests. The contract is `API.md` next to `Cargo.toml`; the wire reference is
//! the repository's `docs/protocol.md`.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let fake = fake_azure::FakeAzure::builder().start().await?;
//! let sp = fake.add_service_principal(&fake.default_tenant());
//! let reg = fake.add_registry(fake_azure::RegistrySpec::new("myreg"));
//! fake.assign_role(&reg.name, &sp.object_id, fake_azure::Role::AcrPull);
//! // point a client at fake.authority_url(), trusting fake.ca_pem(), resolving
//! // login.localhost / management.localhost / myreg.azurecr.localhost to 127.0.0.1
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - `lib.rs` — [`FakeAzure`] and its builder: start/stop, URLs, directory and fault setters.
//! - `directory.rs` — the directory mutators behind [`FakeAzure`] (tenants, principals, roles).
//! - `app.rs` — state shared by handlers, host routing, Entra token verification.
//! - `server.rs` — TLS accept loop, hyper connections (so faults can reset them), per-request
//!   pipeline: route by `Host`, buffer body, fault, latency, router, log.
//! - `tls.rs` — the test CA, the default leaf and per-SNI leaves for custom domains.
//! - `state.rs` — public directory types and the internal directory + fake clock.
//! - `jwt.rs` — RSA signing keys (Entra JWKS; ACR `kid` libtrust fingerprint + `x5c`).
//! - `state_auth.rs` — flow/credential state (device codes, auth codes, guests, certificates,
//!   federated credentials, managed identities) and its public types.
//! - `controls.rs`, `identities.rs` — the test controls for flows, users, credentials, IMDS.
//! - `entra.rs` — discovery, JWKS, token-endpoint dispatch; `entra_tokens.rs` — minting;
//!   `entra_client.rs` — client authentication + client credentials; `assertion.rs`, `x509.rs` —
//!   certificate and federated assertions; `entra_refresh.rs` — refresh grant, session errors;
//!   `device_code.rs`; `authorize.rs` — authorization code + PKCE.
//! - `imds.rs` — managed identity endpoint (second, plain-HTTP listener).
//! - `acr.rs`, `acr_token.rs` — `/v2/` challenge, `/oauth2/exchange`, `/oauth2/token`.
//! - `arm_metadata.rs` — ARM's unauthenticated `/metadata/endpoints` and `/tenants`.
//! - `arm.rs` — subscriptions, registries list (paged); `arm_admin.rs` — get, listCredentials,
//!   regenerateCredential, PATCH (sync/async), operation status.
//! - `scope_maps.rs` — ACR scope maps and tokens: test controls, ARM reads, basic logins.
//! - `upstream.rs` — reverse proxy of `/v2/...` to a real registry (`RegistrySpec::upstream`).
//! - `faults.rs`, `log.rs`, `errors.rs`, `form.rs` — faults, request log, error bodies, forms.
//!
//! Seams: new Entra grants are arms of `entra::token`; ARM operations are arms of
//! `arm::handle`; registries with an upstream bypass `acr.rs`'s `/v2/...` in `server::handle`.

// Handlers return `Result<_, Response>` for early exits with a ready error response; a
// response is built once per request, so its size does not matter.
#![allow(clippy::result_large_err)]

mod acr;
mod acr_token;
mod app;
mod arm;
mod arm_admin;
mod arm_metadata;
mod arm_resources;
mod assertion;
mod authorize;
mod controls;
mod device_code;
mod directory;
mod entra;
mod entra_client;
mod entra_refresh;
mod entra_tokens;
mod errors;
mod faults;
mod form;
mod identities;
mod imds;
mod jwt;
mod log;
mod scope_maps;
mod server;
mod state;
mod state_auth;
mod tls;
mod upstream;
mod x509;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

pub use faults::{Fault, FaultAction, FaultTarget, Service};
pub use jwt::{TokenAlgorithm, libtrust_fingerprint};
pub use log::LoggedRequest;
pub use scope_maps::{AcrToken, PasswordName};
pub use state::{
    Registry, RegistrySpec, RepositoryCondition, Role, RoleAssignmentMode, ServicePrincipal,
    Subscription, Tenant, TimeSource, User,
};
pub use state_auth::{AZURE_CLI_CLIENT_ID, CertificateCredential, DeviceCodeInfo, ManagedIdentity};

use app::Shared;

/// Locks a mutex, ignoring poisoning (a panicking test must not cascade).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Options for [`FakeAzure`].
#[derive(Clone)]
pub struct FakeAzureBuilder {
    base_domain: String,
    port: u16,
    extra_sans: Vec<String>,
    acr_token_algorithm: TokenAlgorithm,
    time: Option<TimeSource>,
}

impl std::fmt::Debug for FakeAzureBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAzureBuilder")
            .field("base_domain", &self.base_domain)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Default for FakeAzureBuilder {
    fn default() -> Self {
        Self {
            base_domain: "localhost".into(),
            port: 0,
            extra_sans: Vec::new(),
            acr_token_algorithm: TokenAlgorithm::default(),
            time: None,
        }
    }
}

impl FakeAzureBuilder {
    /// The domain under which `login.`, `management.` and `*.azurecr.` live (default `localhost`).
    pub fn base_domain(mut self, domain: impl Into<String>) -> Self {
        self.base_domain = domain.into().to_ascii_lowercase();
        self
    }

    /// The port on 127.0.0.1 (default 0 = ephemeral).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Another name for the default certificate (other names get a leaf on first use anyway).
    pub fn extra_san(mut self, name: impl Into<String>) -> Self {
        self.extra_sans.push(name.into().to_ascii_lowercase());
        self
    }

    /// How ACR tokens are signed (default RS256, as ACR; see [`TokenAlgorithm`]).
    pub fn acr_token_algorithm(mut self, alg: TokenAlgorithm) -> Self {
        self.acr_token_algorithm = alg;
        self
    }

    /// Reads the time from `now` instead of the system clock (a test's virtual clock, shared
    /// with the program under test), for every `iat`, `exp` and expiry check.
    pub fn time_source(
        mut self,
        now: impl Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync + 'static,
    ) -> Self {
        self.time = Some(Arc::new(now));
        self
    }

    /// Generates the keys and certificates, binds and starts serving.
    pub async fn start(self) -> Result<FakeAzure> {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", self.port))?;
        let addr = listener.local_addr()?;
        let imds_listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding the IMDS listener")?;
        let imds_port = imds_listener.local_addr()?.port();
        let base = self.base_domain.clone();
        let mut names = vec![
            "localhost".to_owned(),
            format!("login.{base}"),
            format!("management.{base}"),
            format!("*.azurecr.{base}"),
            "127.0.0.1".to_owned(),
        ];
        names.extend(self.extra_sans);
        names.dedup();
        let acr_alg = self.acr_token_algorithm;
        let (entra_key, acr_key, tls) = tokio::task::spawn_blocking(move || -> Result<_> {
            Ok((
                jwt::SigningKey::generate(
                    "accounts.accesscontrol.windows.net",
                    TokenAlgorithm::Rs256,
                )?,
                jwt::SigningKey::generate("fake-azure ACR token signing", acr_alg)?,
                tls::Tls::new(names)?,
            ))
        })
        .await
        .context("key generation task")??;
        let temp = tempfile::Builder::new()
            .prefix("fake-azure-")
            .tempdir()
            .context("creating the temp dir")?;
        let ca_path = temp.path().join("ca.pem");
        std::fs::write(&ca_path, &tls.ca_pem).context("writing ca.pem")?;
        let acr_cert_path = temp.path().join("acr-token-signing.pem");
        std::fs::write(&acr_cert_path, &acr_key.cert_pem).context("writing the ACR cert")?;
        let shared = Arc::new(Shared {
            base_domain: self.base_domain,
            port: addr.port(),
            entra_key,
            acr_key,
            dir: Mutex::default(),
            clock: state::Clock::new(self.time),
            faults: Mutex::default(),
            log: Mutex::default(),
            latency: Mutex::default(),
            issuers: Mutex::default(),
            imds_port,
            long_tokens: std::sync::atomic::AtomicBool::new(false),
        });
        directory::init(&shared);
        let routers = server::Routers {
            entra: entra::router(shared.clone()),
            acr: acr::router(shared.clone()),
            arm: arm::router(shared.clone()),
            imds: imds::router(shared.clone()),
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let imds_task = tokio::spawn(server::serve(
            imds_listener,
            server::Mode::Plain(app::Route::Imds),
            shared.clone(),
            routers.clone(),
            shutdown_rx.clone(),
        ));
        let task = tokio::spawn(server::serve(
            listener,
            server::Mode::Tls(TlsAcceptor::from(tls.server_config.clone())),
            shared.clone(),
            routers,
            shutdown_rx,
        ));
        Ok(FakeAzure {
            inner: Arc::new(Inner {
                shared,
                shutdown,
                tasks: Mutex::new(vec![task, imds_task]),
                addr,
                ca_pem: tls.ca_pem,
                ca_path,
                acr_cert_path,
                temp: Mutex::new(Some(temp)),
            }),
        })
    }
}

struct Inner {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    addr: SocketAddr,
    ca_pem: String,
    ca_path: PathBuf,
    acr_cert_path: PathBuf,
    /// Deleted on drop or `shutdown`.
    temp: Mutex<Option<tempfile::TempDir>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}

/// A running fake. Cheap to clone; the last handle dropped stops it and deletes its temp dir.
#[derive(Clone)]
pub struct FakeAzure {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FakeAzure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAzure")
            .field("addr", &self.inner.addr)
            .field("base_domain", &self.inner.shared.base_domain)
            .finish_non_exhaustive()
    }
}

impl FakeAzure {
    /// Options; `.start().await` runs it.
    pub fn builder() -> FakeAzureBuilder {
        FakeAzureBuilder::default()
    }

    /// Starts with the defaults (`localhost`, ephemeral port).
    pub async fn start() -> Result<Self> {
        Self::builder().start().await
    }

    /// Stops accepting, drops every open connection and deletes the temp dir (so
    /// [`Self::ca_path`] no longer exists). Handles stay usable for inspecting the log.
    pub async fn shutdown(&self) {
        let _ = self.inner.shutdown.send(true);
        let tasks: Vec<_> = lock(&self.inner.tasks).drain(..).collect();
        for task in tasks {
            let _ = task.await;
        }
        drop(lock(&self.inner.temp).take());
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.inner.addr.port()
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The base domain (`localhost` by default).
    pub fn base_domain(&self) -> &str {
        &self.shared().base_domain
    }

    /// `https://login.<base>:PORT` (no trailing slash).
    pub fn authority_url(&self) -> String {
        self.shared().authority()
    }

    /// `https://management.<base>:PORT/` (trailing slash).
    pub fn arm_url(&self) -> String {
        self.shared().arm_url()
    }

    /// `azurecr.<base>:PORT`.
    pub fn acr_suffix(&self) -> String {
        format!("{}:{}", self.acr_suffix_host(), self.port())
    }

    /// `azurecr.<base>`.
    pub fn acr_suffix_host(&self) -> String {
        self.shared().acr_suffix_host()
    }

    /// The host names to resolve to 127.0.0.1 besides registry hosts: `login.<base>`,
    /// `management.<base>`.
    pub fn service_hosts(&self) -> Vec<String> {
        vec![self.shared().login_host(), self.shared().arm_host()]
    }

    /// The test CA (PEM).
    pub fn ca_pem(&self) -> String {
        self.inner.ca_pem.clone()
    }

    /// The test CA's PEM file in the fake's temp dir.
    pub fn ca_path(&self) -> &Path {
        &self.inner.ca_path
    }

    /// The certificate whose key signs ACR tokens (a distribution `rootcertbundle`).
    pub fn acr_signing_cert_pem(&self) -> String {
        self.shared().acr_key.cert_pem.clone()
    }

    /// [`Self::acr_signing_cert_pem`] as a file in the fake's temp dir.
    pub fn acr_signing_cert_path(&self) -> &Path {
        &self.inner.acr_cert_path
    }

    /// `host:port` of a registry: its custom domain if it has one, else
    /// `<name>.azurecr.<base>:PORT` (also for names not added yet).
    pub fn login_server(&self, name: &str) -> String {
        let custom = lock(&self.shared().dir)
            .registry(name)
            .map(|r| r.public.login_server.clone());
        custom.unwrap_or_else(|| format!("{}.{}", name.to_ascii_lowercase(), self.acr_suffix()))
    }

    /// Issues refresh tokens as long as Entra's and ACR's can be (about 2,000 and 3,000
    /// characters), over the 1,280 characters a Windows Credential Manager entry holds; by
    /// default they are shorter (about 400 and 1,000).
    pub fn set_long_tokens(&self, long: bool) {
        self.shared()
            .long_tokens
            .store(long, std::sync::atomic::Ordering::Relaxed);
    }

    /// Adds this to every response's delay (benchmarks). Does not block other requests.
    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.shared().latency) = latency;
    }

    /// Adds a fault; the first matching fault (in insertion order) applies.
    pub fn add_fault(&self, fault: Fault) {
        lock(&self.shared().faults).add(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        lock(&self.shared().faults).clear();
    }

    /// The faults still active, with the uses left; one limited by [`Fault::times`] is gone
    /// once a request has taken its last use (when the request arrives, before any delay).
    pub fn faults(&self) -> Vec<Fault> {
        lock(&self.shared().faults).active()
    }

    /// Moves the fake's clock forward (token `iat`/`exp` and expiry checks).
    pub fn advance_clock(&self, by: Duration) {
        self.shared().clock.advance(by);
    }

    /// The fake's "now".
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.shared().now()
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared().log).clone()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        lock(&self.shared().log).clear();
    }
}
