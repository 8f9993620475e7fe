//! Simulated time: the fake Azure and the engine's scheduler on one paused tokio clock, so a
//! test lives through days in seconds. Build a [`Sim`] inside
//! `#[tokio::test(start_paused = true)]`; set-up commands run the real CLI on a blocking
//! thread (tokio does not move a paused clock while one runs).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use acr_tray_cli::CliWords;
use acr_tray_engine::CollectNotifications;
use acr_tray_engine::HttpOptions;
use acr_tray_engine::Notification;
use acr_tray_engine::Scheduler;
use acr_tray_engine::{Clock, FixedClock, TokioClock};
use acr_tray_engine::{CollectEvents, Event};
use acr_tray_engine::{EngineOptions, Env};
use acr_tray_engine::{MemoryStore, SecretStore};
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use fake_azure::{FakeAzure, ServicePrincipal};

use crate::{Home, Output, REQUEST_TIMEOUT, argv, run_cli_in};

/// A fake Azure and an ACR Tray home on a paused clock.
pub struct Sim {
    /// The fake, reading the time from [`Sim::clock`].
    pub fake: FakeAzure,
    /// The wall clock both read.
    pub clock: Arc<TokioClock>,
    /// `ACR_TRAY_HOME` and `DOCKER_CONFIG`.
    pub home: Home,
    /// The keyring.
    pub secrets: Arc<dyn SecretStore>,
    /// The same keyring, for switching it off ([`MemoryStore::set_unavailable`]).
    pub keyring: Arc<MemoryStore>,
    /// Every event the engine sent.
    pub events: Arc<CollectEvents>,
    /// Every notification the scheduler showed.
    pub notifier: Arc<CollectNotifications>,
}

impl Sim {
    /// Starts the fake on the current (paused) runtime and points a fresh home at it.
    pub async fn start() -> Self {
        Self::start_with(|b| b).await
    }

    /// [`Sim::start`] with the fake's builder adjusted (e.g. ES256 ACR tokens for soaks).
    pub async fn start_with(
        adjust: impl FnOnce(fake_azure::FakeAzureBuilder) -> fake_azure::FakeAzureBuilder,
    ) -> Self {
        let (clock, fake) = paused_fake_with(adjust).await;
        let keyring = Arc::new(MemoryStore::new());
        let sim = Self {
            fake,
            clock,
            home: Home::new(),
            secrets: keyring.clone(),
            keyring,
            events: Arc::new(CollectEvents::new()),
            notifier: Arc::new(CollectNotifications::default()),
        };
        sim.cli(&argv::strs(&argv::cloud_set_custom(&sim.fake, true)))
            .await
            .expect_code(0);
        sim
    }

    /// [`Sim::start`] with the clock held ([`Sim::hold_clock`]): time moves only when the test
    /// moves it, for as long as the returned hold lives.
    pub async fn start_held() -> (Self, ClockHold) {
        let sim = Self::start().await;
        let hold = sim.hold_clock();
        (sim, hold)
    }

    /// The environment the engine and the CLI see.
    pub fn env(&self) -> Env {
        self.home.env()
    }

    /// Runs the CLI on a blocking thread, at the simulated time (which stands still meanwhile:
    /// tokio does not move a paused clock while a blocking task runs).
    pub async fn cli(&self, args: &[&str]) -> Output {
        self.cli_stdin(args, "").await
    }

    /// Runs the CLI with stdin on a blocking thread.
    pub async fn cli_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let (env, secrets, stdin) = (self.env(), self.secrets.clone(), stdin.to_owned());
        let clock: Arc<dyn Clock> = Arc::new(FixedClock(self.now()));
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_cli_in(env, secrets, clock, REQUEST_TIMEOUT, &args, &stdin, false)
        })
        .await
        .unwrap()
    }

    /// Engine options on the simulated clock, sending events to [`Sim::events`].
    pub fn options(&self) -> EngineOptions {
        EngineOptions {
            env: self.env(),
            secrets: self.secrets.clone(),
            http: HttpOptions {
                request_timeout: Some(Duration::from_secs(30)),
                ..Default::default()
            },
            events: self.events.clone(),
            retry_base: Duration::from_secs(1),
            clock: self.clock.clone(),
        }
    }

    /// The scheduler on [`Sim::options`], showing notifications to [`Sim::notifier`].
    pub fn scheduler(&self) -> Scheduler {
        self.scheduler_named("test")
    }

    /// [`Sim::scheduler`] under another name (the one an "already running" error quotes).
    pub fn scheduler_named(&self, name: &str) -> Scheduler {
        Scheduler::start(
            self.options(),
            name,
            self.notifier.clone(),
            Arc::new(CliWords),
        )
        .unwrap()
    }

    /// [`Sim::scheduler`], once it has settled (its next wake is after the time it started).
    pub async fn settled_scheduler(&self) -> Scheduler {
        let scheduler = self.scheduler();
        scheduler.settled(self.now()).await;
        scheduler
    }

    /// The simulated time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A new service principal, signed in.
    pub async fn signed_in_principal(&self) -> ServicePrincipal {
        self.signed_in_principal_in(&self.fake.default_tenant())
            .await
    }

    /// A new service principal of `tenant`, signed in.
    pub async fn signed_in_principal_in(&self, tenant: &fake_azure::Tenant) -> ServicePrincipal {
        let sp = self.fake.add_service_principal(tenant);
        self.cli_stdin(
            &argv::strs(&argv::login_service_principal(&sp, &["--secret-stdin"])),
            &format!("{}\n", sp.secret),
        )
        .await
        .expect_code(0);
        sp
    }

    /// A user in the fake's default tenant with a role on nothing yet.
    pub fn user(&self, upn: &str) -> fake_azure::User {
        self.fake.add_user(&self.fake.default_tenant(), upn)
    }

    /// Signs `user` in with a device code, approved at once.
    pub async fn sign_in_with_device_code(&self, user: &fake_azure::User) {
        self.fake.set_device_code_timing(600, 1);
        self.fake
            .set_device_code_auto_approve(Some((user.clone(), 0)));
        self.cli(&["login", "--device-code"]).await.expect_code(0);
    }

    /// A registry in the fake where `object_id` has `role`, added to ACR Tray for `identity`.
    pub async fn registry(
        &self,
        name: &str,
        object_id: &str,
        identity: &str,
        role: fake_azure::Role,
    ) -> fake_azure::Registry {
        let r = self.fake.add_registry(fake_azure::RegistrySpec::new(name));
        self.fake.assign_role(name, object_id, role);
        self.cli(&argv::strs(&argv::registry_add(name, Some(identity))))
            .await
            .expect_code(0);
        r
    }

    /// A registry in the fake where `sp` may pull, added to ACR Tray for it.
    pub async fn pull_registry(&self, name: &str, sp: &ServicePrincipal) -> fake_azure::Registry {
        self.registry(
            name,
            &sp.object_id,
            &sp.client_id,
            fake_azure::Role::AcrPull,
        )
        .await
    }

    /// A new service principal, signed in, and a registry where it may pull for each of `names`,
    /// added to ACR Tray for it.
    pub async fn signed_in_puller<const N: usize>(
        &self,
        names: [&str; N],
    ) -> (ServicePrincipal, [fake_azure::Registry; N]) {
        let sp = self.signed_in_principal().await;
        let mut registries = Vec::with_capacity(N);
        for name in names {
            registries.push(self.pull_registry(name, &sp).await);
        }
        let registries = registries.try_into().unwrap_or_else(|_| unreachable!());
        (sp, registries)
    }

    /// Docker's config.json, parsed (`null` when missing).
    pub fn docker_config(&self) -> serde_json::Value {
        self.home.docker_config().unwrap_or(serde_json::Value::Null)
    }

    /// Each registry in Docker's `auths` with the `exp` of the ACR token it holds.
    pub fn docker_token_expiry(&self) -> BTreeMap<String, DateTime<Utc>> {
        let cfg = self.docker_config();
        let mut out = BTreeMap::new();
        let Some(auths) = cfg["auths"].as_object() else {
            return out;
        };
        for (host, entry) in auths {
            let Some(auth) = entry["auth"].as_str() else {
                continue;
            };
            let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(auth) else {
                continue;
            };
            let raw = String::from_utf8_lossy(&raw).into_owned();
            let Some((_, token)) = raw.split_once(':') else {
                continue;
            };
            if let Some(exp) = jwt_exp(token) {
                out.insert(host.clone(), exp);
            }
        }
        out
    }

    /// Events so far of the kind `pick` selects.
    pub fn events_where(&self, pick: impl Fn(&Event) -> bool) -> Vec<Event> {
        self.events
            .events()
            .into_iter()
            .filter(|e| pick(e))
            .collect()
    }

    /// Whether a refresh of `registry` (its name) has failed so far.
    pub fn refresh_failed(&self, registry: &str) -> bool {
        !self
            .events_where(
                |e| matches!(e, Event::RefreshFailed { registry: r, .. } if r == registry),
            )
            .is_empty()
    }

    /// Stops tokio from moving the paused clock on by itself until the guard is dropped; time
    /// then moves only by [`Sim::advance`]. Needed when many requests are in flight: tokio
    /// moves an idle paused clock to the next timer even while a loopback connect or a
    /// response is still on its way, which would fire time-outs and skip hours.
    pub fn hold_clock(&self) -> ClockHold {
        let (release, held) = std::sync::mpsc::channel::<()>();
        // A running blocking task keeps a paused current-thread runtime from auto-advancing.
        drop(tokio::task::spawn_blocking(move || {
            let _ = held.recv();
        }));
        ClockHold { _release: release }
    }

    /// Moves held time on by `d`, firing the timers due meanwhile.
    pub async fn advance(&self, d: TimeDelta) {
        tokio::time::advance(d.to_std().unwrap()).await;
    }

    /// Moves held time on by `d` and waits until `scheduler` has done what fell due meanwhile.
    pub async fn wake_after(&self, scheduler: &Scheduler, d: TimeDelta) {
        self.advance(d).await;
        scheduler.settled(self.now()).await;
    }

    /// Lets `d` of simulated time pass.
    pub async fn pass(&self, d: TimeDelta) {
        tokio::time::sleep(d.to_std().unwrap()).await;
    }
}

/// Notifications shown since the last call.
pub struct Seen(pub usize);

impl Seen {
    /// The one notification shown since the last call (panics unless exactly one was).
    #[track_caller]
    pub fn one(&mut self, sim: &Sim) -> Notification {
        let shown = self.take(sim);
        assert_eq!(shown.len(), 1, "{shown:#?}");
        shown.into_iter().next().unwrap()
    }

    /// Every notification shown since the last call.
    pub fn take(&mut self, sim: &Sim) -> Vec<Notification> {
        let all = sim.notifier.notifications();
        let fresh = all[self.0..].to_vec();
        self.0 = all.len();
        fresh
    }
}

/// A fake Azure reading its time from a [`TokioClock`] that starts now (on a paused runtime it
/// moves only as tokio's clock does).
pub async fn paused_fake() -> (Arc<TokioClock>, FakeAzure) {
    paused_fake_with(|b| b).await
}

/// [`paused_fake`] with the fake's builder adjusted.
pub async fn paused_fake_with(
    adjust: impl FnOnce(fake_azure::FakeAzureBuilder) -> fake_azure::FakeAzureBuilder,
) -> (Arc<TokioClock>, FakeAzure) {
    let clock = TokioClock::starting_at(Utc::now());
    let time = clock.clone();
    let fake = adjust(FakeAzure::builder().time_source(move || time.now()))
        .start()
        .await
        .unwrap();
    (clock, fake)
}

/// HTTP options whose time-outs (a day) are far beyond any wait a test makes on a paused
/// clock, so only the wait under test moves it.
pub fn patient_http() -> HttpOptions {
    HttpOptions {
        request_timeout: Some(Duration::from_secs(86_400)),
        connect_timeout: Some(Duration::from_secs(86_400)),
        ..Default::default()
    }
}

/// Holds the paused clock (see [`Sim::hold_clock`]) while it lives.
pub struct ClockHold {
    _release: std::sync::mpsc::Sender<()>,
}

/// A JWT's `exp`, unverified.
pub fn jwt_exp(token: &str) -> Option<DateTime<Utc>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    DateTime::from_timestamp(claims["exp"].as_i64()?, 0)
}
