//! The fake against a real client: Microsoft's MSAL for Python (`tests/msal/msal_check.py`).
//! Ignored by default; `scripts/msal-check.sh` installs msal into a venv and runs it with
//! `MSAL_PYTHON` pointing at that interpreter.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use fake_azure::{AZURE_CLI_CLIENT_ID, FakeAzure};

#[tokio::test]
#[ignore = "needs python msal; scripts/msal-check.sh runs it"]
async fn msal_python_accepts_the_fake() {
    let fake = FakeAzure::start().await.unwrap();
    let tenant = fake.default_tenant();
    let sp = fake.add_service_principal(&tenant);
    let (cert_sp, cert) = fake.add_service_principal_with_certificate(&tenant);
    let user = fake.add_user(&tenant, "msal@contoso.localhost");
    let rt = fake.issue_user_refresh_token(&user, AZURE_CLI_CLIENT_ID);
    fake.set_device_code_timing(60, 1);
    fake.set_device_code_auto_approve(Some((user.clone(), 1)));
    fake.set_browser_user(Some(user.clone()));
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("cert-sp.pem");
    std::fs::write(&pem, &cert.combined_pem).unwrap();

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/msal/msal_check.py");
    let python = std::env::var("MSAL_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let mut command = Command::new(&python);
    command
        .arg(&script)
        .env(
            "MSAL_AUTHORITY",
            format!("{}/{}", fake.authority_url(), tenant.id),
        )
        .env("MSAL_TENANT", &tenant.id)
        .env("MSAL_PORT", fake.port().to_string())
        .env("MSAL_CA", fake.ca_path())
        .env("MSAL_SP_CLIENT_ID", &sp.client_id)
        .env("MSAL_SP_SECRET", &sp.secret)
        .env("MSAL_CERT_CLIENT_ID", &cert_sp.client_id)
        .env("MSAL_CERT_PEM", &pem)
        .env("MSAL_CERT_THUMBPRINT", &cert.thumbprint_sha1_hex)
        .env("MSAL_PUBLIC_CLIENT_ID", AZURE_CLI_CLIENT_ID)
        .env("MSAL_USER_RT", &rt);
    // The fake keeps serving on the runtime while the script runs on the blocking pool.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("running {python}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "msal_check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");

    // MSAL really talked to the fake: discovery, three client-credentials grants, one refresh,
    // a device flow (one pending poll first), an authorization code.
    let log = fake.requests();
    let grants = |g: &str| {
        log.iter()
            .filter(|r| r.grant_type.as_deref() == Some(g) && r.status == 200)
            .count()
    };
    assert_eq!(grants("client_credentials"), 3, "{log:#?}");
    assert_eq!(grants("refresh_token"), 1, "{log:#?}");
    assert_eq!(grants("authorization_code"), 1, "{log:#?}");
    let device_polls: Vec<u16> = log
        .iter()
        .filter(|r| r.grant_type.as_deref() == Some("urn:ietf:params:oauth:grant-type:device_code"))
        .map(|r| r.status)
        .collect();
    assert_eq!(device_polls, [400, 200], "{log:#?}");
    assert!(
        log.iter()
            .any(|r| r.path.ends_with("/v2.0/.well-known/openid-configuration"))
    );
}
