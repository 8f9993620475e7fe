//! The fault matrix of the always-on engine (issue #5; the table is in docs/reliability.md):
//! each row injects one fault into a running scheduler on a paused clock and checks the same
//! things — the engine keeps running, the registry of another tenant and identity is not
//! affected, Docker's config.json stays valid with every entry and key that is not ours, the
//! right events, at most one notification for the incident, and recovery without the user
//! once the fault clears (sign-in required waits for the user, then recovers on sign-in).
//!
//! Each row lives a few simulated hours minute by minute, as a laptop would.

mod files;
mod network;
mod session;

use acr_tray_engine::ErrorKind;
use acr_tray_engine::Event;
use acr_tray_engine::Notification;
use acr_tray_engine::Scheduler;
use acr_tray_tests::sim::Sim;
use chrono::{DateTime, TimeDelta, Utc};
use fake_azure::{Registry, RegistrySpec, Role, User};
use serde_json::json;

/// Who signs in for the registry the fault hits.
#[derive(Clone, Copy, PartialEq)]
enum Who {
    /// A service principal whose secret is in the keyring.
    ServicePrincipal,
    /// A person, signed in with a device code (refresh token in the keyring).
    User,
}

/// What the fault touches, which decides what the per-minute checks may expect.
#[derive(Clone, Copy, PartialEq)]
enum Reach {
    /// One registry or one identity: the bystander must keep working throughout.
    One,
    /// Something every registry shares (the clock, Docker's file or folder).
    All,
}

/// The per-minute checks while a fault lasts.
#[derive(Clone, Copy)]
struct Checks {
    reach: Reach,
    /// config.json must parse and keep the foreign entry, the unknown key and our entries
    /// (false while the row itself broke or deleted the file).
    file_intact: bool,
}

impl Checks {
    fn one() -> Self {
        Self {
            reach: Reach::One,
            file_intact: true,
        }
    }
    fn all() -> Self {
        Self {
            reach: Reach::All,
            file_intact: true,
        }
    }
}

/// Another tool's login and a key Docker does not know: both must survive every row.
const GHCR_AUTH: &str = "dXNlcjpwYXNz";

fn foreign_config() -> serde_json::Value {
    json!({
        "auths": {"ghcr.io": {"auth": GHCR_AUTH}},
        "x-acme-tool": {"keep": [1, 2, 3]}
    })
}

struct Rig {
    sim: Sim,
    scheduler: Scheduler,
    /// The registry the fault hits.
    target: Registry,
    target_identity: String,
    target_tenant: String,
    target_object_id: String,
    /// The person, when [`Who::User`].
    user: Option<User>,
    /// A registry in another tenant with its own service principal, whose secret is in a file.
    bystander: Registry,
    /// Notifications shown before the fault.
    notes_before: usize,
    /// Events before the fault.
    events_before: usize,
}

impl Rig {
    /// The target registry's host, without the port (what the fake's faults and log match).
    fn target_host(&self) -> String {
        let ls = &self.target.login_server;
        ls.split(':').next().unwrap_or(ls).to_owned()
    }

    /// Both registries logged in, the foreign entries planted, the scheduler settled.
    async fn start(who: Who) -> Self {
        let sim = Sim::start().await;
        let tenant = sim.fake.default_tenant();
        let (target_identity, target_object_id, user) = match who {
            Who::ServicePrincipal => {
                let sp = sim.signed_in_principal().await;
                (sp.client_id, sp.object_id, None)
            }
            Who::User => {
                let user = sim.fake.add_user(&tenant, "dev@contoso.example");
                let id = sign_in_user(&sim, &user).await;
                (id, user.object_id.clone(), Some(user))
            }
        };
        let target = sim
            .registry(
                "target1",
                &target_object_id,
                &target_identity,
                Role::AcrPush,
            )
            .await;

        let other = sim.fake.add_tenant();
        let sub = sim.fake.default_subscription(&other);
        let sp_b = sim.fake.add_service_principal(&other);
        let secret_file = sim.home.path().join("bystander-secret");
        sim.cli_stdin(
            &[
                "login",
                "--service-principal",
                "--tenant",
                &other.id,
                "--client-id",
                &sp_b.client_id,
                "--secret-stdin",
                "--secret-file",
                &secret_file.display().to_string(),
            ],
            &format!("{}\n", sp_b.secret),
        )
        .await
        .expect_code(0);
        let bystander = sim
            .fake
            .add_registry(RegistrySpec::new("bystander1").subscription(sub.id));
        sim.fake
            .assign_role(&bystander.name, &sp_b.object_id, Role::AcrPull);
        sim.cli(&[
            "registry",
            "add",
            &bystander.name,
            "--identity",
            &sp_b.client_id,
        ])
        .await
        .expect_code(0);

        std::fs::write(
            sim.home.docker_dir().join("config.json"),
            foreign_config().to_string(),
        )
        .unwrap();
        let scheduler = sim.settled_scheduler().await;
        let rig = Self {
            notes_before: sim.notifier.notifications().len(),
            events_before: 0,
            sim,
            scheduler,
            target,
            target_identity,
            target_tenant: tenant.id,
            target_object_id,
            user,
            bystander,
        };
        rig.check(Checks::one());
        for host in [&rig.target.login_server, &rig.bystander.login_server] {
            assert!(rig.left(host) > TimeDelta::hours(2), "{host} logged in");
        }
        assert_eq!(rig.notes_before, 0);
        Self {
            events_before: rig.sim.events.events().len(),
            ..rig
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.sim.now()
    }

    /// How long the token Docker has for `host` still lasts.
    fn left(&self, host: &str) -> TimeDelta {
        self.sim
            .docker_token_expiry()
            .get(host)
            .map_or(TimeDelta::MIN, |exp| *exp - self.now())
    }

    /// One simulated minute, then the checks.
    async fn minute(&self, checks: Checks) {
        self.sim.pass(TimeDelta::minutes(1)).await;
        self.scheduler.settled(self.now()).await;
        self.check(checks);
    }

    /// Lives through `d` minute by minute with the checks, asking the scheduler once, midway,
    /// for a refresh of the bystander (it must still answer).
    async fn live(&self, d: TimeDelta, checks: Checks) {
        let minutes = d.num_minutes();
        for m in 0..minutes {
            self.minute(checks).await;
            if m == minutes / 2 {
                let outcomes = self
                    .scheduler
                    .refresh_now(vec![self.bystander.name.clone()])
                    .await
                    .expect("the scheduler answers during the fault");
                assert_eq!(outcomes.len(), 1);
                if checks.reach == Reach::One {
                    assert!(outcomes[0].result.is_ok(), "{outcomes:?}");
                }
            }
        }
    }

    fn check(&self, checks: Checks) {
        let at = self.now();
        if checks.file_intact {
            let cfg = self.sim.docker_config();
            assert_eq!(
                cfg["auths"]["ghcr.io"]["auth"], GHCR_AUTH,
                "{at}: another tool's entry kept: {cfg}"
            );
            assert_eq!(
                cfg["x-acme-tool"],
                json!({"keep": [1, 2, 3]}),
                "{at}: {cfg}"
            );
            for host in [&self.target.login_server, &self.bystander.login_server] {
                assert!(
                    cfg["auths"][host.as_str()]["auth"].is_string(),
                    "{at}: a credential is never removed on failure: {cfg}"
                );
            }
        }
        if checks.reach == Reach::One {
            let left = self.left(&self.bystander.login_server);
            assert!(
                left >= TimeDelta::minutes(75),
                "{at}: the bystander has only {left} left"
            );
        }
    }

    /// Events since the fault began.
    fn events(&self) -> Vec<Event> {
        self.sim.events.events()[self.events_before..].to_vec()
    }

    /// The target's refresh failures since the fault began; asserts the bystander had none
    /// (for faults that reach one registry) and at least one failure of `kind`.
    fn failures(&self, reach: Reach, kind: ErrorKind) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        for e in self.events() {
            if let Event::RefreshFailed {
                login_server,
                kind: k,
                message,
                hint,
                ..
            } = e
            {
                if reach == Reach::One {
                    assert_eq!(login_server, self.target.login_server, "{message}");
                }
                if login_server == self.target.login_server {
                    assert_eq!(k, kind, "{message}");
                    assert!(hint.is_some(), "a hint for {message}");
                    out.push((message, hint.map(|h| h.render(&acr_tray_cli::CliWords))));
                }
            }
        }
        assert!(!out.is_empty(), "the fault was met: {:?}", self.events());
        out
    }

    /// Steps until the target (and the bystander, if the fault reached it) is refreshed again
    /// after the fault cleared, at most `within`; then every token Docker has lasts at least
    /// 75 minutes.
    async fn recovers_within(&self, within: TimeDelta, checks: Checks) -> TimeDelta {
        let cleared = self.now();
        let from = self.sim.events.events().len();
        loop {
            self.minute(checks).await;
            let events = self.sim.events.events();
            let refreshed = |host: &str| {
                events[from..].iter().any(
                    |e| matches!(e, Event::Refreshed { login_server, .. } if login_server == host),
                )
            };
            // The target must be refreshed again; the bystander too, unless its token never
            // ran short (a fault that reached it retries on its own backoff).
            let bystander = &self.bystander.login_server;
            if refreshed(&self.target.login_server)
                && (refreshed(bystander) || self.left(bystander) >= TimeDelta::minutes(75))
            {
                break;
            }
            assert!(
                self.now() - cleared <= within,
                "not recovered within {within}: {:?}",
                &self.sim.events.events()[from..]
            );
        }
        for (host, exp) in self.sim.docker_token_expiry() {
            assert!(
                exp - self.now() >= TimeDelta::minutes(75),
                "{host}: {exp} after recovery"
            );
        }
        let status = self.scheduler.status().borrow().clone();
        assert!(
            status.registries.iter().all(|r| r.failures == 0),
            "{status:?}"
        );
        self.now() - cleared
    }

    /// The notifications since the fault began that announce a problem (not "... again").
    fn incident_notes(&self) -> Vec<Notification> {
        self.sim.notifier.notifications()[self.notes_before..]
            .iter()
            .filter(|n| !is_recovery(n))
            .cloned()
            .collect()
    }

    /// At most one notification for the incident (none naming the bystander when the fault
    /// reached one registry), the config file valid with the foreign entries; stops the
    /// scheduler.
    async fn finish(self, reach: Reach) -> Vec<Notification> {
        let notes = self.incident_notes();
        assert!(
            notes.len() <= 1,
            "one notification per incident: {notes:#?}"
        );
        for n in notes.iter().filter(|_| reach == Reach::One) {
            assert!(
                !n.body.contains(&self.bystander.name),
                "the bystander is not part of it: {n:#?}"
            );
        }
        self.check(Checks::one());
        self.scheduler.stop().await;
        notes
    }
}

fn is_recovery(n: &Notification) -> bool {
    let t = n.title.to_ascii_lowercase();
    t.contains("logged in again") || t.contains("signed in again")
}

/// Signs a person in with a device code (approved at once); returns the identity id.
async fn sign_in_user(sim: &Sim, user: &User) -> String {
    sim.sign_in_with_device_code(user).await;
    let accounts = sim.cli(&["accounts", "--json"]).await.expect_code(0).json();
    accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"].as_str().is_some_and(|k| k.contains("user")))
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("a user account: {accounts}"))
}
