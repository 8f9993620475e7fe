use std::time::{Duration, Instant};

use fake_azure::{FakeAzure, Fault, FaultAction, FaultTarget, RegistrySpec, Role, Service};
use serde_json::Value;

use crate::common::*;

fn discovery_url(fake: &FakeAzure) -> String {
    format!(
        "{}/{}/v2.0/.well-known/openid-configuration",
        fake.authority_url(),
        fake.default_tenant().id
    )
}

#[tokio::test]
async fn status_fault_with_retry_after_counts_times() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let sp = fake.add_service_principal(&fake.default_tenant());
    fake.add_fault(
        Fault::new(
            FaultTarget::service(Service::Entra).grant_type("client_credentials"),
            FaultAction::Status {
                status: 429,
                body: None,
                retry_after: Some(7),
            },
        )
        .times(2),
    );
    // Other grants/paths are not hit.
    assert_eq!(
        http.get(discovery_url(&fake))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    for _ in 0..2 {
        let response = sp_token_response(&fake, &http, &sp, &sp.secret, ARM_SCOPE).await;
        assert_eq!(response.headers()["retry-after"], "7");
        assert_entra_error(response, 429, "temporarily_unavailable", 90033).await;
    }
    sp_token(&fake, &http, &sp, ARM_SCOPE).await;

    fake.add_fault(Fault::new(
        FaultTarget::service(Service::Arm),
        FaultAction::Status {
            status: 503,
            body: Some(r#"{"error":{"code":"ServiceUnavailable","message":"x"}}"#.into()),
            retry_after: None,
        },
    ));
    let arm = http
        .get(format!("{}subscriptions", fake.arm_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(arm.status(), 503);
    let body: Value = arm.json().await.unwrap();
    assert_eq!(body["error"]["code"], "ServiceUnavailable");
    fake.clear_faults();
    let arm = http
        .get(format!("{}subscriptions", fake.arm_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(arm.status(), 401);
}

#[tokio::test]
async fn delay_and_latency_do_not_block_other_requests() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let delayed = || FaultTarget::any().path_prefix(format!("/{}/v2.0/", fake.default_tenant().id));
    // Delayed for longer than the rest of the test takes, however slow the machine: another
    // request is answered meanwhile.
    fake.add_fault(Fault::new(delayed(), FaultAction::Delay(Duration::from_secs(3600))).times(1));
    let slow = tokio::spawn(http.get(discovery_url(&fake)).send());
    until("the delayed request arrived", || fake.faults().is_empty()).await;
    let jwks = http
        .get(format!(
            "{}/common/discovery/v2.0/keys",
            fake.authority_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);
    assert!(!slow.is_finished(), "answered while the other one waits");
    slow.abort();

    // A delay, then the normal answer.
    fake.add_fault(Fault::new(delayed(), FaultAction::Delay(Duration::from_millis(1500))).times(1));
    let start = Instant::now();
    let status = http
        .get(discovery_url(&fake))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    assert!(start.elapsed() >= Duration::from_millis(1500));

    fake.set_latency(Duration::from_millis(300));
    let start = Instant::now();
    assert_eq!(
        http.get(discovery_url(&fake))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn hang_reset_malformed_and_wrong_content_type() {
    let fake = FakeAzure::start().await.unwrap();
    // The time-out only bounds a fault that misbehaves.
    let http = client_with_timeout(&fake, PATIENCE);
    let url = discovery_url(&fake);
    let once = |action| Fault::new(FaultTarget::service(Service::Entra), action).times(1);

    fake.add_fault(once(FaultAction::Hang));
    let hung = tokio::spawn(http.get(&url).send());
    until("the hanging request arrived", || fake.faults().is_empty()).await;
    // Still unanswered a while after it arrived (a hang lasts an hour).
    let waited = tokio::time::timeout(Duration::from_millis(500), hung).await;
    assert!(waited.is_err(), "answered: {waited:?}");

    fake.add_fault(once(FaultAction::ResetConnection));
    let reset = http.get(&url).send().await.unwrap_err();
    assert!(!reset.is_timeout(), "{reset:?}");
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&reset);
    let mut saw_reset = false;
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            saw_reset |= io.kind() == std::io::ErrorKind::ConnectionReset;
        }
        source = err.source();
    }
    assert!(saw_reset, "{reset:?}");

    fake.add_fault(once(FaultAction::MalformedBody));
    let malformed = http.get(&url).send().await.unwrap();
    assert_eq!(malformed.status(), 200);
    assert!(
        malformed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert!(serde_json::from_slice::<Value>(&malformed.bytes().await.unwrap()).is_err());

    fake.add_fault(once(FaultAction::WrongContentType));
    let html = http.get(&url).send().await.unwrap();
    assert_eq!(html.status(), 200);
    assert!(
        html.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    // All used up: normal again.
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [0, 0, 200, 200, 200]);
}

#[tokio::test]
async fn request_log_records_calls_but_no_secrets() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let sp = fake.add_service_principal(&fake.default_tenant());
    let reg = fake.add_registry(RegistrySpec::new("myreg"));
    fake.assign_role("myreg", &sp.object_id, Role::AcrPull);
    let aad = sp_token(&fake, &http, &sp, ACR_SCOPE).await;
    let response = exchange(&http, &reg.login_server, &sp.tenant, &aad).await;
    let rt = response.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let at: Value = http
        .get(format!("https://{}/oauth2/token", reg.login_server))
        .query(&[
            ("service", reg.login_server.as_str()),
            ("scope", "repository:x:pull"),
        ])
        .basic_auth("00000000-0000-0000-0000-000000000000", Some(&rt))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let at = at["access_token"].as_str().unwrap();
    let unknown = http
        .get(format!("https://nothing.localhost:{}/", fake.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let log = fake.requests();
    assert_eq!(log.len(), 4);
    assert_eq!(log[0].service, Service::Entra);
    assert_eq!(log[0].grant_type.as_deref(), Some("client_credentials"));
    assert_eq!(log[0].client_id.as_deref(), Some(sp.client_id.as_str()));
    assert_eq!(log[0].scope.as_deref(), Some(ACR_SCOPE));
    assert_eq!(log[1].service, Service::Acr);
    assert_eq!(log[1].path, "/oauth2/exchange");
    assert_eq!(log[1].grant_type.as_deref(), Some("access_token"));
    assert_eq!(log[1].host, "myreg.azurecr.localhost");
    assert_eq!(log[2].path, "/oauth2/token");
    assert_eq!(log[2].scope.as_deref(), Some("repository:x:pull"));
    assert_eq!(log[3].service, Service::Unknown);
    assert!(log.iter().take(3).all(|r| r.status == 200));

    let dump = format!("{log:?}");
    for secret in [sp.secret.as_str(), aad.as_str(), rt.as_str(), at] {
        assert!(!dump.contains(secret));
    }
    assert!(!dump.contains('?'));
    fake.clear_requests();
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_server_and_delete_the_temp_dir() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let url = discovery_url(&fake);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    let ca = fake.ca_path().to_owned();
    assert!(ca.exists());
    let copy = fake.clone();
    drop(fake);
    assert!(ca.exists(), "a clone keeps it alive");
    copy.shutdown().await;
    assert!(!ca.exists());
    let fresh = client(&copy);
    assert!(fresh.get(&url).send().await.is_err());

    let other = FakeAzure::start().await.unwrap();
    let ca = other.ca_path().to_owned();
    drop(other);
    assert!(!ca.exists());
}
