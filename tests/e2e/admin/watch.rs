//! The admin-account watch, roles and discovery through ARM (issue #7), through the CLI:
//! `run --once --json` prints each change once; `status --json` shows what each identity may do
//! and whether its registry is watched; `registry discover` lists exactly what the identity can
//! read. Notifications on the always-on scheduler are in `admin::notifications`.

use acr_tray_engine::SecretStore;
use acr_tray_tests::World;
use fake_azure::{
    FaultAction, FaultTarget, Registry, RegistrySpec, Role, Service, ServicePrincipal,
};
use serde_json::Value;

/// A service principal signed in, with `role` on a new registry made from `spec`, which is
/// added to ACR Tray by name.
fn signed_in_with(w: &World, spec: RegistrySpec, role: Role) -> (ServicePrincipal, Registry) {
    let sp = w.service_principal();
    let reg = w.fake.add_registry(spec);
    w.fake.assign_role(&reg.name, &sp.object_id, role);
    w.login_and_add(&sp, &[&reg]);
    (sp, reg)
}

/// The events `run --once --json` printed.
fn run_once(w: &World) -> Vec<Value> {
    let out = w.cli(&["-vv", "run", "--once", "--json"]).expect_code(0);
    out.stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The admin events among them, without their times.
fn admin_events(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e["event"].as_str().is_some_and(|n| n.starts_with("admin-")))
        .map(|e| {
            let mut e = e.clone();
            e.as_object_mut().unwrap().remove("at");
            e
        })
        .collect()
}

/// The status of each ARM request the fake logged.
fn arm_statuses(w: &World) -> Vec<u16> {
    w.fake
        .requests()
        .iter()
        .filter(|r| r.service == Service::Arm)
        .map(|r| r.status)
        .collect()
}

/// ARM answering 429 with a `Retry-After` of `retry_after` seconds.
fn arm_throttled(retry_after: u64) -> fake_azure::Fault {
    fake_azure::Fault::new(
        FaultTarget::service(Service::Arm),
        FaultAction::Status {
            status: 429,
            body: None,
            retry_after: Some(retry_after),
        },
    )
}

#[test]
fn each_admin_change_is_one_event_and_nothing_secret_is_kept() {
    let w = World::new();
    let (_, reg) = signed_in_with(&w, RegistrySpec::new("watched1"), Role::Owner);
    let mut passwords: Vec<String> = Vec::new();
    let mut remember = |w: &World| {
        let (_, p) = w.fake.admin_credentials(&reg.name).unwrap();
        passwords.extend(p);
    };
    remember(&w);

    // The first read only remembers.
    assert_eq!(admin_events(&run_once(&w)), Vec::<Value>::new());
    let status = w.registry_status(&reg.name);
    assert_eq!(status["adminAccount"]["enabled"], false);
    assert_eq!(status["role"], "Owner");
    assert_eq!(status["can"], "all");

    let expect = |event: &str, extra: Value| {
        let mut e = serde_json::json!({
            "event": event, "registry": reg.name, "loginServer": reg.login_server,
            "adminMode": false,
        });
        e.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        e
    };

    w.fake.set_admin_enabled(&reg.name, true);
    assert_eq!(
        admin_events(&run_once(&w)),
        vec![expect("admin-enabled", serde_json::json!({}))]
    );
    // Noticed once: the next poll is quiet (and learns the passwords).
    assert_eq!(admin_events(&run_once(&w)), Vec::<Value>::new());
    assert_eq!(
        w.registry_status(&reg.name)["adminAccount"]["passwordsWatched"],
        true
    );

    w.fake.regenerate_admin_password(&reg.name, "password2");
    remember(&w);
    assert_eq!(
        admin_events(&run_once(&w)),
        vec![expect(
            "admin-password-regenerated",
            serde_json::json!({"password": "password2", "writtenToDocker": false})
        )]
    );
    assert_eq!(admin_events(&run_once(&w)), Vec::<Value>::new());

    // Both at once: two events, one per password.
    w.fake.regenerate_admin_password(&reg.name, "password");
    w.fake.regenerate_admin_password(&reg.name, "password2");
    remember(&w);
    let events = admin_events(&run_once(&w));
    assert_eq!(events.len(), 2, "{events:#?}");

    w.fake.set_admin_enabled(&reg.name, false);
    let events = run_once(&w);
    assert_eq!(
        admin_events(&events),
        vec![expect("admin-disabled", serde_json::json!({}))]
    );
    // The registry signs in with its identity: Docker is not affected.
    assert!(events.iter().any(|e| e["event"] == "refreshed"));

    // A restart remembers the hashes: re-enabling with the same passwords is one event, not
    // a regeneration.
    w.fake.set_admin_enabled(&reg.name, true);
    assert_eq!(
        admin_events(&run_once(&w)),
        vec![expect("admin-enabled", serde_json::json!({}))]
    );

    // No password, and no hash of one, in the settings, the state or the logs; the hashes
    // are in the keyring only.
    let hashes = w
        .secrets
        .get(&format!("admin-watch/{}", reg.login_server))
        .unwrap()
        .expect("the hashes are kept in the keyring");
    let hashes: std::collections::BTreeMap<String, String> =
        serde_json::from_str(hashes.expose()).unwrap();
    assert_eq!(hashes.len(), 2);
    let mut secret: Vec<&str> = passwords.iter().map(String::as_str).collect();
    secret.extend(hashes.values().map(String::as_str));
    let files = w.home_files();
    assert!(files.iter().any(|(p, _)| p.ends_with("state.json")));
    assert!(
        files
            .iter()
            .any(|(p, _)| p.to_string_lossy().contains("log")),
        "the logs are checked too"
    );
    for (path, text) in files {
        for s in &secret {
            assert!(
                !text.contains(s),
                "{} holds a password or hash",
                path.display()
            );
        }
    }
}

#[test]
fn roles_show_what_each_identity_can_do() {
    let w = World::new();
    let sp = w.service_principal();
    for (name, role) in [("canpull", Role::AcrPull), ("canpush", Role::AcrPush)] {
        w.fake.add_registry(RegistrySpec::new(name));
        w.fake.assign_role(name, &sp.object_id, role);
    }
    w.login(&sp).expect_code(0);
    w.cli(&["registry", "add", "canpull"]).expect_code(0);
    w.cli(&["registry", "add", "canpush"]).expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
    let pull = w.registry_status("canpull");
    assert_eq!(
        (&pull["role"], &pull["can"]),
        (&"AcrPull".into(), &"pull".into())
    );
    let push = w.registry_status("canpush");
    assert_eq!(
        (&push["role"], &push["can"]),
        (&"AcrPush".into(), &"push".into())
    );
    let text = w.cli(&["status"]).expect_code(0).stdout;
    assert_message!(w, "roles_status_stdout", text);
    // A role taken away: the registry refuses the token, and the status says "none".
    w.fake.assign_role("canpush", &sp.object_id, Role::None);
    w.cli(&["refresh", "canpush"]).expect_code(1);
    let none = w.registry_status("canpush");
    assert_eq!(
        (&none["role"], &none["can"]),
        (&"None".into(), &"none".into())
    );
    // AcrPull alone cannot read the registry in ARM: not watched, and the status says why.
    assert!(
        pull["adminAccount"]["notWatched"]
            .as_str()
            .is_some_and(|s| s.contains("AcrPull")),
        "{pull:#}"
    );
}

#[test]
fn discovery_lists_exactly_what_the_identity_can_read() {
    let w = World::new();
    let tenant = w.fake.default_tenant();
    let sp = w.service_principal();
    let second = w.fake.add_subscription(&tenant, "Second");
    // Two pages per subscription.
    w.fake.set_arm_page_size(1);
    let readable = [
        ("disco1", None, Role::Reader),
        ("disco2", None, Role::Owner),
        ("disco3", Some(second.id.clone()), Role::Contributor),
    ];
    for (name, sub, role) in &readable {
        let mut spec = RegistrySpec::new(*name);
        if let Some(sub) = sub {
            spec = spec.subscription(sub);
        }
        if *name == "disco2" {
            spec = spec.admin_enabled(true).refuse_arm_audience(true);
        }
        w.fake.add_registry(spec);
        w.fake.assign_role(name, &sp.object_id, *role);
    }
    // Not readable: a data-plane role only, and none at all.
    w.fake.add_registry(RegistrySpec::new("pullonly1"));
    w.fake
        .assign_role("pullonly1", &sp.object_id, Role::AcrPull);
    w.fake.add_registry(RegistrySpec::new("stranger1"));
    w.login(&sp).expect_code(0);
    w.cli(&["registry", "add", "pullonly1"]).expect_code(0);
    w.cli(&["refresh"]).expect_code(0);

    let found = w
        .cli(&["registry", "discover", "--json"])
        .expect_code(0)
        .json();
    let found = &found[0];
    let names: Vec<&str> = found["registries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["disco1", "disco2", "disco3"]);
    let disco2 = &found["registries"][1];
    assert_eq!(disco2["loginServer"], w.fake.login_server("disco2"));
    assert_eq!(disco2["resourceGroup"], "rg-acr");
    assert_eq!(disco2["sku"], "Standard");
    assert_eq!(disco2["adminUserEnabled"], true);
    assert_eq!(disco2["armAudienceAccepted"], false);
    assert_eq!(found["registries"][2]["subscription"], second.id);
    // The configured AcrPull-only registry is not listed, and discovery says why.
    let unlisted = found["unlisted"].as_array().unwrap();
    assert_eq!(unlisted.len(), 1);
    assert_eq!(unlisted[0]["name"], "pullonly1");
    let reason = unlisted[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("AcrPull") && reason.contains("keeps working"),
        "{reason}"
    );

    let text = w.cli(&["registry", "discover"]).expect_code(0).stdout;
    assert_message!(w, "discover_stdout", text);
    assert!(!text.contains("stranger1"), "{text}");
}

#[test]
fn an_acr_pull_only_identity_is_told_why_nothing_is_listed() {
    let w = World::new();
    // Adding by name keeps working.
    signed_in_with(&w, RegistrySpec::new("onlypull"), Role::AcrPull);
    w.cli(&["refresh"]).expect_code(0);
    let out = w.cli(&["registry", "discover"]).expect_code(0).stdout;
    assert_message!(w, "pull_only_discover_stdout", out);
}

#[test]
fn arm_throttling_is_waited_out_as_asked() {
    let w = World::new();
    let sp = w.service_principal();
    w.fake.add_registry(RegistrySpec::new("throttled1"));
    w.fake
        .assign_role("throttled1", &sp.object_id, Role::Reader);
    w.login(&sp).expect_code(0);
    w.fake.clear_requests();
    w.fake.add_fault(arm_throttled(1).times(2));
    let started = std::time::Instant::now();
    let found = w
        .cli(&["registry", "discover", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(found[0]["registries"][0]["name"], "throttled1");
    // Two 429s, each waited out (Retry-After: 1), then the answer.
    assert!(started.elapsed() >= std::time::Duration::from_secs(2));
    let arm: Vec<u16> = arm_statuses(&w);
    assert_eq!(&arm[..3], [429, 429, 200]);

    // A long Retry-After is not slept on in the command: it fails with a clear error.
    w.fake.add_fault(arm_throttled(3600).times(1));
    let out = w.cli(&["registry", "discover"]);
    assert_ne!(out.code, 0);
    assert_message!(w, "long_throttling_discover_stderr", out.stderr);
}

#[test]
fn disabling_the_admin_account_follows_the_long_running_operation() {
    let w = World::new();
    let (sp, reg) = signed_in_with(
        &w,
        RegistrySpec::new("patched1").admin_enabled(true),
        Role::Owner,
    );
    run_once(&w);
    // ARM answers 201 + Azure-AsyncOperation; the status says InProgress once, then Succeeded.
    w.fake.set_arm_patch_async(true);
    w.fake.clear_requests();
    let out = w
        .cli(&["registry", "admin-account", &reg.name, "--disable"])
        .expect_code(0);
    assert_message!(w, "disable_admin_account_stdout", out.stdout);
    let arm: Vec<(String, u16)> = w
        .fake
        .requests()
        .iter()
        .filter(|r| r.service == Service::Arm)
        .map(|r| (r.method.clone(), r.status))
        .collect();
    let polls = arm.iter().filter(|(m, _)| m == "GET").count();
    assert!(arm.contains(&("PATCH".to_owned(), 201)), "{arm:?}");
    assert_eq!(polls, 2, "followed until Succeeded: {arm:?}");
    let found = w
        .cli(&["registry", "discover", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(
        found[0]["registries"][0]["adminUserEnabled"], false,
        "disabled in Azure"
    );
    // The user's own change is not announced back to them.
    assert_eq!(admin_events(&run_once(&w)), Vec::<Value>::new());
    assert_eq!(
        w.registry_status(&reg.name)["adminAccount"]["enabled"],
        false
    );

    // A registry that signs in with the admin account is not cut off by accident.
    let admin = w.registry_as(
        RegistrySpec::new("adminuse1").admin_enabled(true),
        &sp.object_id,
        Role::Owner,
    );
    w.cli(&["registry", "add", &admin.name, "--admin"])
        .expect_code(0);
    let out = w.cli(&["registry", "admin-account", &admin.name, "--disable"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_message!(w, "disable_admin_in_use_stderr", out.stderr);
    let found = w
        .cli(&["registry", "discover", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(found[0]["registries"][0]["name"], "adminuse1");
    assert_eq!(found[0]["registries"][0]["adminUserEnabled"], true);
}

#[test]
fn answering_docker_does_not_wait_for_arm() {
    let w = World::new();
    let (_, reg) = signed_in_with(&w, RegistrySpec::new("quick1"), Role::Owner);
    w.fake.clear_requests();
    // `token` (and docker-credential-acr-tray) refreshes a missing credential on the spot:
    // the exchange only, no admin watch.
    w.cli(&["token", &reg.name]).expect_code(0);
    let log = w.fake.requests();
    assert!(log.iter().any(|r| r.path == "/oauth2/exchange"), "{log:#?}");
    assert!(!log.iter().any(|r| r.service == Service::Arm), "{log:#?}");
}

#[test]
fn losing_arm_read_access_is_explained_not_announced() {
    let w = World::new();
    let (sp, reg) = signed_in_with(&w, RegistrySpec::new("lost1"), Role::AcrPull);
    w.fake.assign_role(&reg.name, &sp.object_id, Role::Reader);
    run_once(&w);
    assert_eq!(
        w.registry_status(&reg.name)["adminAccount"]["enabled"],
        false
    );

    // Reader is taken away: ARM answers the registry's GET with 403 AuthorizationFailed.
    w.fake.assign_role(&reg.name, &sp.object_id, Role::None);
    w.fake.assign_role(&reg.name, &sp.object_id, Role::AcrPull);
    w.fake.clear_requests();
    let events = run_once(&w);
    assert_eq!(admin_events(&events), Vec::<Value>::new());
    assert!(events.iter().any(|e| e["event"] == "refreshed"));
    let got: Vec<u16> = arm_statuses(&w);
    assert_eq!(got, [403]);
    let status = w.registry_status(&reg.name);
    assert!(
        status["adminAccount"]["notWatched"]
            .as_str()
            .is_some_and(|s| s.contains("cannot read this registry")),
        "{status:#}"
    );
    // Not asked again within the day.
    w.fake.clear_requests();
    run_once(&w);
    assert!(
        !w.fake.requests().iter().any(|r| r.service == Service::Arm),
        "{:#?}",
        w.fake.requests()
    );
}

#[test]
fn a_refresh_by_hand_reads_the_admin_account_at_most_every_half_interval() {
    let w = World::new();
    let (_, reg) = signed_in_with(&w, RegistrySpec::new("handwatch"), Role::Owner);
    let arm_requests = |w: &World| {
        w.fake
            .requests()
            .iter()
            .filter(|r| r.service == Service::Arm)
            .count()
    };
    w.cli(&["refresh"]).expect_code(0);
    assert!(
        arm_requests(&w) > 0,
        "the first refresh reads the admin account"
    );
    assert_eq!(
        w.registry_status(&reg.name)["adminAccount"]["enabled"],
        false
    );

    // Right after: the credential is refreshed, ARM is not asked again.
    w.fake.clear_requests();
    w.cli(&["refresh"]).expect_code(0);
    let exchanges = w.exchange_count();
    assert_eq!(exchanges, 1, "{:#?}", w.fake.requests());
    assert_eq!(arm_requests(&w), 0, "{:#?}", w.fake.requests());

    // Half the refresh interval (60 minutes) later it is read again, and sees the change.
    w.fake.set_admin_enabled(&reg.name, true);
    w.fake.clear_requests();
    let later = chrono::Utc::now() + chrono::TimeDelta::minutes(31);
    acr_tray_tests::run_cli_in(
        w.env(),
        w.secrets.clone(),
        std::sync::Arc::new(acr_tray_engine::FixedClock(later)),
        acr_tray_tests::REQUEST_TIMEOUT,
        &["refresh"],
        "",
        false,
    )
    .expect_code(0);
    assert!(arm_requests(&w) > 0, "read again half an interval later");
    assert_eq!(
        w.registry_status(&reg.name)["adminAccount"]["enabled"],
        true
    );

    // The refresh cycle (`run --once`) reads it whenever it runs.
    w.fake.clear_requests();
    run_once(&w);
    assert!(arm_requests(&w) > 0, "the cycle reads it every time");
}

/// The secret store the tests use, counting reads per key.
struct CountingStore {
    inner: std::sync::Arc<acr_tray_engine::MemoryStore>,
    reads: std::sync::Mutex<std::collections::BTreeMap<String, usize>>,
}

impl SecretStore for CountingStore {
    fn get(&self, key: &str) -> acr_tray_engine::Result<Option<acr_tray_engine::Secret>> {
        *self
            .reads
            .lock()
            .unwrap()
            .entry(key.to_owned())
            .or_default() += 1;
        self.inner.get(key)
    }
    fn set(&self, key: &str, secret: &acr_tray_engine::Secret) -> acr_tray_engine::Result<()> {
        self.inner.set(key, secret)
    }
    fn delete(&self, key: &str) -> acr_tray_engine::Result<()> {
        self.inner.delete(key)
    }
}

#[test]
fn a_refresh_pass_reads_each_secret_once() {
    // The identity needs an ACR-audience token (the exchange) and an ARM-audience one (the
    // admin watch): one read of its client secret for both.
    let mut w = World::new();
    let (sp, _) = signed_in_with(&w, RegistrySpec::new("readonce"), Role::Owner);
    let counting = std::sync::Arc::new(CountingStore {
        inner: w.secrets.clone(),
        reads: Default::default(),
    });
    w.store = Some(counting.clone());
    let events = run_once(&w);
    assert!(
        events.iter().any(|e| e["event"] == "refreshed"),
        "{events:#?}"
    );
    assert!(
        w.fake.requests().iter().any(|r| r.service == Service::Arm),
        "the admin watch ran"
    );
    let key =
        acr_tray_engine::client_secret_key(&w.fake.authority_url(), &sp.tenant, &sp.client_id);
    assert_eq!(
        counting.reads.lock().unwrap().get(&key),
        Some(&1),
        "{:?}",
        counting.reads.lock().unwrap()
    );
}
