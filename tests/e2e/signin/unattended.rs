//! Sign-ins without a person: service principal with a certificate, managed identity (IMDS),
//! the Azure CLI's session, and workload identity federation.

use crate::snapshot::names_of;
use std::path::{Path, PathBuf};

use acr_tray_tests::{ClosedPort, World, argv};
use fake_azure::{Fault, FaultAction, FaultTarget, Role, Service};

fn private_file(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    p
}

#[test]
fn certificate_service_principal_signs_in_and_pushes_without_its_key_in_settings() {
    let w = World::new();
    let (sp, cert) = w.certificate_principal();
    let reg = w.registry_for("certreg1", &sp.object_id, Role::AcrPush);
    let pem = private_file(w.home.path(), "sp.pem", &cert.combined_pem);
    w.login_certificate(&sp, &pem).expect_code(0);
    w.cli(&["registry", "add", &reg.name]).expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
    let (_, token) = w.docker_auth(&reg.login_server);
    assert_eq!(
        w.password_form_status(&reg.login_server, &token, "repository:x:push"),
        200
    );
    let accounts = w.cli(&["accounts", "--json"]).expect_code(0).json();
    assert_eq!(accounts[0]["kind"], "service principal (certificate)");
    let settings = std::fs::read_to_string(w.home.path().join("config.toml")).unwrap();
    assert!(!settings.contains("PRIVATE KEY"), "{settings}");
}

#[test]
fn certificate_with_the_wrong_key_is_explained() {
    let w = World::new();
    let (sp, cert) = w.certificate_principal();
    let (_, other) = w.certificate_principal();
    // sp's certificate, but another key: the assertion's signature cannot verify.
    let mixed = format!("{}{}", cert.cert_pem, other.key_pem);
    let pem = private_file(w.home.path(), "mixed.pem", &mixed);
    let out = w.login_certificate(&sp, &pem).expect_code(3);
    assert_message!(w, "wrong_key_login_stderr", out.stderr, names_of(&sp));
    assert_eq!(
        w.cli(&["accounts", "--json"]).expect_code(0).json(),
        serde_json::json!([])
    );
}

#[test]
fn certificate_file_readable_by_others_is_refused() {
    let w = World::new();
    let (sp, cert) = w.certificate_principal();
    let pem = private_file(w.home.path(), "sp.pem", &cert.combined_pem);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pem, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = w.login_certificate(&sp, &pem).expect_code(2);
        assert_message!(w, "shared_certificate_login_stderr", out.stderr);
    }
}

/// Points the commands at the fake's IMDS, with a dead proxy (kept dead while the value lives).
#[must_use]
fn with_imds(w: &mut World) -> ClosedPort {
    let url = w.fake.imds_url();
    w.extra_env.push(("ACR_TRAY_IMDS_ENDPOINT".into(), url));
    // IMDS is never reached through a proxy: a dead one must not matter.
    let dead = ClosedPort::new();
    w.extra_env.push(("http_proxy".into(), dead.url()));
    w.extra_env.push(("https_proxy".into(), dead.url()));
    dead
}

/// IMDS throttles with a `Retry-After` of three thousand years: the token request waits the
/// cap (a minute, on a paused clock), not the years, then gets its token.
#[tokio::test(start_paused = true)]
async fn imds_retry_after_of_millennia_waits_the_cap() {
    use acr_tray_engine::Clock;
    use acr_tray_engine::INLINE_RETRY_WAIT_MAX;
    use acr_tray_engine::build_imds_client;
    use acr_tray_engine::imds;
    use std::time::Duration;

    let (clock, fake) = acr_tray_tests::sim::paused_fake().await;
    let mi = fake.add_managed_identity(&fake.default_tenant());
    fake.set_system_assigned_identity(Some(mi));
    fake.add_fault(
        Fault::new(
            FaultTarget::service(Service::Imds),
            FaultAction::Status {
                status: 429,
                body: None,
                retry_after: Some(99_999_999_999),
            },
        )
        .times(1),
    );
    // Time-outs far beyond the wait: only the wait moves the paused clock.
    let http = build_imds_client(&acr_tray_tests::sim::patient_http()).unwrap();
    let endpoint = fake.imds_url();
    let start = tokio::time::Instant::now();
    let token = imds::token(
        &http,
        imds::ImdsRequest {
            endpoint: &endpoint,
            resource: "https://containerregistry.azure.net",
            client_id: None,
            retry_base: Duration::from_secs(1),
            now: clock.now(),
        },
    )
    .await
    .expect("a token after the wait");
    let waited = start.elapsed();
    assert!(
        (INLINE_RETRY_WAIT_MAX..INLINE_RETRY_WAIT_MAX * 2).contains(&waited),
        "waited {waited:?}"
    );
    assert!(token.expires_at > clock.now());
    let statuses: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.service == Service::Imds)
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![429, 200]);
}

#[test]
fn system_assigned_managed_identity_survives_imds_410() {
    let mut w = World::new();
    let _proxy = with_imds(&mut w);
    let mi = w.fake.add_managed_identity(&w.fake.default_tenant());
    w.fake.set_system_assigned_identity(Some(mi.clone()));
    let reg = w.registry_for("mireg111", &mi.object_id, Role::AcrPull);
    w.cli(&["login", "--managed-identity"]).expect_code(0);
    w.cli(&["registry", "add", &reg.name]).expect_code(0);
    w.fake.clear_requests();
    w.fake.add_fault(Fault {
        target: FaultTarget {
            service: Some(Service::Imds),
            host: None,
            path_prefix: None,
            grant_type: None,
        },
        action: FaultAction::Status {
            status: 410,
            body: None,
            retry_after: None,
        },
        times: Some(1),
    });
    w.cli(&["refresh"]).expect_code(0);
    let imds: Vec<u16> = w
        .fake
        .requests()
        .iter()
        .filter(|r| r.service == Service::Imds)
        .filter(|r| !r.scope.as_deref().is_some_and(|s| s.contains("management")))
        .map(|r| r.status)
        .collect();
    assert_eq!(imds, vec![410, 200], "410, then a retry that works");
}

#[test]
fn user_assigned_managed_identity_by_client_id() {
    let mut w = World::new();
    let _proxy = with_imds(&mut w);
    let system = w.fake.add_managed_identity(&w.fake.default_tenant());
    w.fake.set_system_assigned_identity(Some(system));
    let mi = w.fake.add_managed_identity(&w.fake.default_tenant());
    let reg = w.registry_for("mireg222", &mi.object_id, Role::AcrPull);
    w.cli(&["login", "--managed-identity", "--client-id", &mi.client_id])
        .expect_code(0);
    w.cli(&["registry", "add", &reg.name]).expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
    let out = w.cli(&[
        "login",
        "--managed-identity",
        "--client-id",
        "00000000-1111-2222-3333-444444444444",
    ]);
    assert_ne!(out.code, 0);
    assert_message!(
        w,
        "unknown_managed_identity_login_stderr",
        out.stderr,
        vec![(
            "00000000-1111-2222-3333-444444444444".to_string(),
            "[UNKNOWN-CLIENT-ID]"
        )]
    );
}

#[test]
fn imds_endpoint_from_the_cloud_settings() {
    let w = World::new();
    let mi = w.fake.add_managed_identity(&w.fake.default_tenant());
    w.fake.set_system_assigned_identity(Some(mi.clone()));
    let imds = w.fake.imds_url();
    let mut cloud = argv::cloud_set_custom(&w.fake, true);
    cloud.extend(["--imds-endpoint".to_owned(), imds.clone()]);
    w.cli(&argv::strs(&cloud)).expect_code(0);
    let shown = w.cli(&["cloud", "show", "--json"]).expect_code(0).json();
    assert_eq!(shown["imdsEndpoint"], imds);
    w.cli(&["login", "--managed-identity"]).expect_code(0);
    w.cli(&["cloud", "set", "AzureCloud", "--imds-endpoint", "ftp://x"])
        .expect_code(2);
}

#[test]
fn no_imds_is_explained() {
    let mut w = World::new();
    let nothing = ClosedPort::new();
    w.extra_env
        .push(("ACR_TRAY_IMDS_ENDPOINT".into(), nothing.url()));
    let out = w.cli(&["login", "--managed-identity"]).expect_code(1);
    assert_message!(w, "no_imds_login_stderr", out.stderr);
}

/// Puts a stand-in `az` on PATH that prints what a signed-in Azure CLI would.
fn fake_az(w: &mut World, body: &str) {
    let bin = w.home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let az = bin.join("az");
    acr_tray_tests::write_program(&az, &format!("#!/bin/sh\n{body}\n"));
    w.extra_env.retain(|(k, _)| k != "PATH");
    w.extra_env
        .push(("PATH".into(), format!("{}:/usr/bin:/bin", bin.display())));
}

#[test]
fn azure_cli_session_is_reused() {
    let mut w = World::new();
    let user = w.user("az-user@contoso.localhost");
    let reg = w.registry_for("azclireg", &user.object_id, Role::AcrPull);
    let dir = w.home.path().join("az-tokens");
    std::fs::create_dir_all(&dir).unwrap();
    for (file, resource) in [
        ("acr.json", "https://containerregistry.azure.net"),
        ("arm.json", &w.fake.arm_url()),
    ] {
        let (token, expires) = w
            .fake
            .issue_access_token(&user.object_id, &user.tenant, resource);
        let json = serde_json::json!({
            "accessToken": token, "expiresOn": expires.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
            "expires_on": expires.timestamp(), "subscription": "s", "tenant": user.tenant, "tokenType": "Bearer"
        });
        std::fs::write(dir.join(file), json.to_string()).unwrap();
    }
    fake_az(
        &mut w,
        &format!(
            "case \"$*\" in *containerregistry*) cat {0}/acr.json;; *) cat {0}/arm.json;; esac",
            dir.display()
        ),
    );
    w.cli(&["login", "--azure-cli"]).expect_code(0);
    w.cli(&["registry", "add", &reg.name]).expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
    let accounts = w.cli(&["accounts", "--json"]).expect_code(0).json();
    assert_eq!(accounts[0]["id"], "azure-cli");
}

#[test]
fn azure_cli_missing_or_signed_out_is_explained() {
    let mut w = World::new();
    w.extra_env.push(("PATH".into(), "/nonexistent".into()));
    let out = w.cli(&["login", "--azure-cli"]).expect_code(3);
    assert_message!(w, "no_az_login_stderr", out.stderr);

    fake_az(
        &mut w,
        "echo \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1",
    );
    let out = w.cli(&["login", "--azure-cli"]).expect_code(3);
    assert_message!(w, "az_signed_out_login_stderr", out.stderr);
}

#[test]
fn workload_identity_uses_the_federated_token_file() {
    let mut w = World::new();
    let sp = w.service_principal();
    let issuer = "https://oidc.cluster.localhost";
    w.fake
        .add_federated_credential(&sp.client_id, issuer, "system:serviceaccount:ci:builder");
    let token = w.fake.issue_federated_token(
        issuer,
        "system:serviceaccount:ci:builder",
        "api://AzureADTokenExchange",
    );
    let file = private_file(w.home.path(), "federated-token", &token);
    let reg = w.registry_for("workload1", &sp.object_id, Role::AcrPush);
    w.extra_env.extend([
        ("AZURE_CLIENT_ID".to_owned(), sp.client_id.clone()),
        ("AZURE_TENANT_ID".to_owned(), sp.tenant.clone()),
        (
            "AZURE_FEDERATED_TOKEN_FILE".to_owned(),
            file.display().to_string(),
        ),
    ]);
    w.cli(&["login", "--workload-identity"]).expect_code(0);
    w.cli(&["registry", "add", &reg.name]).expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
    // The platform rotates the file; the new token is read on the next use.
    let rotated = w.fake.issue_federated_token(
        issuer,
        "system:serviceaccount:ci:other",
        "api://AzureADTokenExchange",
    );
    std::fs::write(&file, rotated).unwrap();
    let out = w.cli(&["refresh"]).expect_code(3);
    assert_message!(
        w,
        "unknown_federated_subject_refresh_stdout",
        out.stdout,
        names_of(&sp)
    );
}
