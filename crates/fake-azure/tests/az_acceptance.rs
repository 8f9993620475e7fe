//! The fake against a real client: Microsoft's Azure CLI (`az`). Ignored by default;
//! `scripts/az-check.sh` installs azure-cli into a venv, makes the fake's host names resolve to
//! 127.0.0.1 and runs it with `AZ_CLI` pointing at that `az`.
//!
//! The CLI is pointed at the fake the way it is pointed at any Azure cloud: `az cloud register
//! --endpoint-resource-manager` (which reads ARM's `/metadata/endpoints`), `az cloud set`, then
//! `az login` (a service principal with a certificate; a user by device code who is also a
//! guest in the registry's tenant) and `az acr login --expose-token`; the ACR refresh token it
//! prints must then open the registry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "fake/common.rs"]
#[allow(dead_code)]
mod common;

use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::Command;

use fake_azure::{
    AZURE_CLI_CLIENT_ID, FakeAzure, Registry, RegistrySpec, Role, Service, Subscription,
};
use serde_json::Value;
use tempfile::TempDir;

/// The registry az logs in to. `scripts/az-check.sh` maps [`HOSTS`] to 127.0.0.1 when the OS
/// does not; keep the two lists equal.
const REGISTRY: &str = "azcheck";
/// The names az resolves (the fake's default base domain `localhost`).
const HOSTS: [&str; 3] = [
    "login.localhost",
    "management.localhost",
    "azcheck.azurecr.localhost",
];
const CLOUD: &str = "FakeCloud";
const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// Panics, saying how to fix it, unless every host resolves (through the OS, as az resolves
/// them) to loopback, 127.0.0.1 among the answers (the fake listens there only).
fn assert_hosts_resolve() {
    for host in HOSTS {
        let addrs: Vec<IpAddr> = (host, 443)
            .to_socket_addrs()
            .map(|a| a.map(|a| a.ip()).collect())
            .unwrap_or_default();
        assert!(
            addrs.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST))
                && addrs.iter().all(IpAddr::is_loopback),
            "{host} resolves to {addrs:?}, not 127.0.0.1: run scripts/az-check.sh (on Linux it maps \
             the names in a private mount namespace) or add `127.0.0.1 {}` to the hosts file",
            HOSTS.join(" ")
        );
    }
}

/// The CLI with a configuration of its own: never the user's `~/.azure`.
struct Az {
    program: String,
    home: PathBuf,
    ca: PathBuf,
}

impl Az {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(args)
            .args(["--output", "json"])
            .env("HOME", &self.home)
            .env("AZURE_CONFIG_DIR", self.home.join(".azure"))
            // The test CA, for requests (az's HTTP stack, MSAL's too).
            .env("REQUESTS_CA_BUNDLE", &self.ca)
            // MSAL would otherwise validate the authority at login.microsoftonline.com, which
            // knows only Microsoft's own clouds (az's switch for Azure Stack, the same case).
            .env("AZURE_CORE_INSTANCE_DISCOVERY", "false")
            .env("AZURE_CORE_COLLECT_TELEMETRY", "false")
            .env("AZURE_CORE_NO_COLOR", "true");
        for proxy in [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            command.env_remove(proxy);
        }
        command
    }

    /// Runs `az ARGS --output json` to success and parses what it printed (null when nothing).
    async fn run(&self, args: &[&str]) -> Value {
        let mut command = self.command(args);
        let shown = format!("az {}", args.join(" "));
        // The fake keeps serving on the runtime while az runs on the blocking pool.
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("running {}: {e}", self.program));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{shown} failed ({}):\n{stdout}\n{stderr}",
            output.status
        );
        eprintln!(
            "{shown}: ok{}",
            if stderr.is_empty() { "" } else { "; it said:" }
        );
        eprint!("{stderr}");
        if stdout.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{shown}: {e}:\n{stdout}"))
        }
    }
}

fn trimmed(v: &Value) -> &str {
    v.as_str().unwrap_or_default().trim_end_matches('/')
}

/// Asserts that `accounts` holds `subscription` of its tenant, for a `user_type`
/// (`servicePrincipal`, `user`) in the fake cloud.
fn assert_account(accounts: &[Value], subscription: &Subscription, user_type: &str) {
    let account = accounts
        .iter()
        .find(|a| a["id"] == subscription.id.as_str())
        .unwrap_or_else(|| panic!("no {} in {accounts:#?}", subscription.id));
    assert_eq!(account["tenantId"], subscription.tenant.as_str());
    assert_eq!(account["cloudName"], CLOUD);
    assert_eq!(account["user"]["type"], user_type);
}

/// The fake with the registry, and an `az` of its own (temp `HOME`) pointed at it.
struct Check {
    fake: FakeAzure,
    registry: Registry,
    az: Az,
    dir: TempDir,
}

/// Starts the fake with the registry `spec` makes and runs `az cloud register` (from ARM's own
/// description of the cloud), `az cloud show` (checked) and `az cloud set`.
async fn fake_cloud(spec: impl FnOnce(&FakeAzure) -> RegistrySpec) -> Check {
    assert_hosts_resolve();
    let fake = FakeAzure::start().await.unwrap();
    let registry = fake.add_registry(spec(&fake));
    let dir = tempfile::tempdir().unwrap();
    let az = Az {
        program: std::env::var("AZ_CLI").unwrap_or_else(|_| "az".to_owned()),
        home: dir.path().join("home"),
        ca: fake.ca_path().to_owned(),
    };
    std::fs::create_dir_all(&az.home).unwrap();
    let arm = fake.arm_url();
    az.run(&[
        "cloud",
        "register",
        "-n",
        CLOUD,
        "--endpoint-resource-manager",
        &arm,
    ])
    .await;
    let cloud = az.run(&["cloud", "show", "-n", CLOUD]).await;
    let endpoints = &cloud["endpoints"];
    assert_eq!(
        trimmed(&endpoints["resourceManager"]),
        arm.trim_end_matches('/')
    );
    assert_eq!(trimmed(&endpoints["activeDirectory"]), fake.authority_url());
    assert_eq!(
        endpoints["activeDirectoryResourceId"],
        "https://management.core.windows.net/"
    );
    assert_eq!(
        cloud["suffixes"]["acrLoginServerEndpoint"],
        format!(".{}", fake.acr_suffix_host())
    );
    az.run(&["cloud", "set", "-n", CLOUD]).await;
    Check {
        fake,
        registry,
        az,
        dir,
    }
}

impl Check {
    /// `az login ...`: the accounts (subscriptions) az lists.
    async fn login(&self, args: &[&str]) -> Vec<Value> {
        let accounts = self.az.run(args).await;
        accounts.as_array().cloned().unwrap_or_default()
    }

    /// `az acr login --expose-token`, then the token opens the registry as Docker would use it:
    /// the zero GUID and the token for an access token (`pull` only: the principal holds
    /// AcrPull), which `/v2/` takes. Then what az asked: every call answered (nothing the fake
    /// lacks: no 404, no 5xx), through the cloud description, ARM's registry lookup and ACR's
    /// exchange.
    async fn acr_login_opens_the_registry(&self) {
        let registry = &self.registry;
        let login = self
            .az
            .run(&["acr", "login", "-n", REGISTRY, "--expose-token"])
            .await;
        assert_eq!(login["loginServer"], registry.login_server, "{login}");
        let acr_refresh = login["accessToken"].as_str().unwrap().to_owned();

        let http = common::client(&self.fake);
        let base = format!("https://{}", registry.login_server);
        let token: Value = http
            .get(format!("{base}/oauth2/token"))
            .query(&[
                ("service", registry.login_server.as_str()),
                ("scope", "repository:app:pull,push"),
            ])
            .basic_auth(ZERO_GUID, Some(&acr_refresh))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        let access = token["access_token"].as_str().unwrap();
        let claims = common::jwt_claims(access);
        assert_eq!(claims["access"][0]["actions"], serde_json::json!(["pull"]));
        let v2 = http
            .get(format!("{base}/v2/"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        assert_eq!(v2.status(), 200);

        let log = self.fake.requests();
        assert!(
            log.iter().all(|r| r.status != 404 && r.status < 500),
            "{log:#?}"
        );
        assert!(self.answered(Service::Arm, |p| p.trim_start_matches('/')
            == "metadata/endpoints"));
        assert!(self.answered(Service::Arm, |p| p.ends_with("/resources")));
        assert!(self.answered(Service::Arm, |p| p.eq_ignore_ascii_case(&registry.id)));
        assert!(self.answered(Service::Acr, |p| p == "/oauth2/exchange"));
    }

    /// Whether the fake answered a request to `service` whose path passes `what` with 200.
    fn answered(&self, service: Service, what: impl Fn(&str) -> bool) -> bool {
        self.fake
            .requests()
            .iter()
            .any(|r| r.service == service && r.status == 200 && what(&r.path))
    }

    /// Whether the fake answered a `grant_type` grant for `client_id` with 200.
    fn granted(&self, grant_type: &str, client_id: &str) -> bool {
        self.fake.requests().iter().any(|r| {
            r.grant_type.as_deref() == Some(grant_type)
                && r.client_id.as_deref() == Some(client_id)
                && r.status == 200
        })
    }
}

#[tokio::test]
#[ignore = "needs the Azure CLI and the fake's host names resolving; scripts/az-check.sh runs it"]
async fn azure_cli_service_principal_logs_in_to_the_fake() {
    let check = fake_cloud(|_| RegistrySpec::new(REGISTRY)).await;
    let fake = &check.fake;
    let tenant = fake.default_tenant();
    // A certificate, not a secret: az takes a client secret only on its command line (or a
    // terminal prompt), where other local users can read it.
    let (sp, cert) = fake.add_service_principal_with_certificate(&tenant);
    fake.assign_role(REGISTRY, &sp.object_id, Role::AcrPull);
    fake.assign_role(REGISTRY, &sp.object_id, Role::Reader);
    let pem = check.dir.path().join("sp.pem");
    std::fs::write(&pem, &cert.combined_pem).unwrap();

    let accounts = check
        .login(&[
            "login",
            "--service-principal",
            "-u",
            &sp.client_id,
            "--certificate",
            &pem.to_string_lossy(),
            "--tenant",
            &tenant.id,
        ])
        .await;
    let subscription = fake.default_subscription(&tenant);
    assert_account(&accounts, &subscription, "servicePrincipal");
    check.acr_login_opens_the_registry().await;
    // The certificate's assertion, at the tenant's v2 token endpoint (az never had the secret).
    assert!(check.granted("client_credentials", &sp.client_id));
}

/// A user of the home tenant who is a guest in another, where the registry is: one device-code
/// sign-in, and az redeems the same refresh token at the other tenant (ARM's `/tenants`, then
/// that tenant's subscriptions), as Entra lets it.
#[tokio::test]
#[ignore = "needs the Azure CLI and the fake's host names resolving; scripts/az-check.sh runs it"]
async fn azure_cli_user_signs_in_once_for_home_and_guest_tenants_at_the_fake() {
    let guest_tenant = std::sync::OnceLock::new();
    let check = fake_cloud(|fake| {
        let tenant = fake.add_tenant();
        let spec = RegistrySpec::new(REGISTRY).subscription(fake.default_subscription(&tenant).id);
        let _ = guest_tenant.set(tenant);
        spec
    })
    .await;
    let fake = &check.fake;
    let home = fake.default_tenant();
    let guest_tenant = guest_tenant.get().unwrap();
    let user = fake.add_user(&home, "az@contoso.localhost");
    let guest = fake.add_guest(&user, guest_tenant);
    fake.assign_role(REGISTRY, &guest.object_id, Role::AcrPull);
    fake.assign_role(REGISTRY, &guest.object_id, Role::Reader);
    // The user approves on the /device page at az's second poll; az polls every second.
    fake.set_device_code_timing(900, 1);
    fake.set_device_code_auto_approve(Some((user.clone(), 1)));

    let accounts = check.login(&["login", "--use-device-code"]).await;
    let code = fake.last_device_code().unwrap();
    assert_eq!(code.client_id, AZURE_CLI_CLIENT_ID);
    assert!(check.granted(
        "urn:ietf:params:oauth:grant-type:device_code",
        AZURE_CLI_CLIENT_ID
    ));
    let guest_subscription = fake.default_subscription(guest_tenant);
    assert_account(&accounts, &fake.default_subscription(&home), "user");
    assert_account(&accounts, &guest_subscription, "user");
    assert!(check.answered(Service::Arm, |p| p == "/tenants"));
    assert!(check.granted("refresh_token", AZURE_CLI_CLIENT_ID));

    check
        .az
        .run(&["account", "set", "-s", &guest_subscription.id])
        .await;
    check.acr_login_opens_the_registry().await;
}
