use fake_azure::{FakeAzure, Fault, FaultAction, FaultTarget, RegistrySpec, Role, Service};
use serde_json::Value;

use crate::common::*;

const ACR: &str = "https://containerregistry.azure.net";

fn plain() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn imds(fake: &FakeAzure, query: &str, metadata: Option<&str>) -> (u16, Value) {
    let mut request = plain().get(format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&{query}",
        fake.imds_url()
    ));
    if let Some(value) = metadata {
        request = request.header("Metadata", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn metadata_header_string_numbers_and_acr_exchange() {
    let fake = FakeAzure::start().await.unwrap();
    assert!(fake.imds_url().starts_with("http://127.0.0.1:"));
    let tenant = fake.default_tenant();
    let query = format!("resource={ACR}");
    let (status, body) = imds(&fake, &query, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("bad_request_102"))
    );
    assert_eq!(imds(&fake, &query, Some("false")).await.0, 400);
    let (status, body) = imds(&fake, &query, Some("true")).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("Identity not found"))
    );

    let mi = fake.add_managed_identity(&tenant);
    let (status, body) = imds(&fake, &query, Some("true")).await;
    assert_eq!(status, 200, "{body}");
    for key in ["expires_in", "expires_on", "not_before"] {
        let text = body[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} not a string: {body}"));
        assert!(text.parse::<i64>().is_ok());
    }
    assert_eq!(body["refresh_token"], "");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["resource"], ACR);
    let token = body["access_token"].as_str().unwrap();
    let claims = jwt_claims(token);
    assert_eq!(claims["aud"], ACR);
    assert_eq!(claims["oid"], mi.object_id);
    assert_eq!(claims["tid"], tenant.id);
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(
        claims["exp"].as_i64().unwrap(),
        body["expires_on"].as_str().unwrap().parse::<i64>().unwrap()
    );

    let reg = fake.add_registry(RegistrySpec::new("mireg"));
    fake.assign_role(&reg.name, &mi.object_id, Role::AcrPull);
    let http = client(&fake);
    assert_eq!(
        exchange(&http, &reg.login_server, &tenant.id, token)
            .await
            .status(),
        200
    );

    let arm = "https://management.azure.com/";
    let (_, body) = imds(&fake, &format!("resource={arm}"), Some("true")).await;
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap())["aud"],
        arm
    );
    let (status, body) = imds(&fake, "resource=https://vault.azure.net", Some("true")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_resource"))
    );
}

#[tokio::test]
async fn user_assigned_selection_and_system_assigned() {
    let fake = FakeAzure::start().await.unwrap();
    let tenant = fake.default_tenant();
    let one = fake.add_managed_identity(&tenant);
    let two = fake.add_managed_identity(&tenant);
    let query = format!("resource={ACR}");
    let (status, body) = imds(&fake, &query, Some("true")).await;
    assert_eq!(status, 400);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("Multiple user assigned identities exist")
    );
    let oid = |body: &Value| jwt_claims(body["access_token"].as_str().unwrap())["oid"].clone();
    for selector in [
        format!("client_id={}", two.client_id),
        format!("object_id={}", two.object_id),
        format!("msi_res_id={}", two.resource_id),
    ] {
        let (status, body) = imds(&fake, &format!("{query}&{selector}"), Some("true")).await;
        assert_eq!(status, 200, "{selector}: {body}");
        assert_eq!(oid(&body), two.object_id.as_str());
    }
    let (status, body) = imds(
        &fake,
        &format!("{query}&client_id={}", uuid::Uuid::new_v4()),
        Some("true"),
    )
    .await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("Identity not found"))
    );

    fake.set_system_assigned_identity(Some(one.clone()));
    let (_, body) = imds(&fake, &query, Some("true")).await;
    assert_eq!(oid(&body), one.object_id.as_str());
    let (_, body) = imds(
        &fake,
        &format!("{query}&client_id={}", two.client_id),
        Some("true"),
    )
    .await;
    assert_eq!(oid(&body), two.object_id.as_str());
}

#[tokio::test]
async fn faults_apply_to_imds() {
    let fake = FakeAzure::start().await.unwrap();
    fake.add_managed_identity(&fake.default_tenant());
    fake.add_fault(
        Fault::new(
            FaultTarget::service(Service::Imds),
            FaultAction::Status {
                status: 410,
                body: None,
                retry_after: None,
            },
        )
        .times(1),
    );
    let query = format!("resource={ACR}");
    assert_eq!(imds(&fake, &query, Some("true")).await.0, 410);
    assert_eq!(imds(&fake, &query, Some("true")).await.0, 200);
    fake.add_fault(
        Fault::new(
            FaultTarget::service(Service::Imds),
            FaultAction::Status {
                status: 429,
                body: None,
                retry_after: Some(2),
            },
        )
        .times(1),
    );
    let response = plain()
        .get(format!(
            "{}/metadata/identity/oauth2/token?api-version=2018-02-01&{query}",
            fake.imds_url()
        ))
        .header("Metadata", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "2");
    let log: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.service == Service::Imds)
        .collect();
    let statuses: Vec<u16> = log.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [410, 200, 429]);
    assert_eq!(log[0].scope.as_deref(), Some(ACR));
    assert_eq!(log[0].path, "/metadata/identity/oauth2/token");
}
