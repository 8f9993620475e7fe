use std::time::Duration;

use fake_azure::{FakeAzure, RegistrySpec, Role};
use serde_json::Value;

use crate::common::*;

const API: &str = "api-version=2025-04-01";

#[tokio::test]
async fn registries_list_is_paged_and_filtered_and_get_needs_read() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let tenant = fake.default_tenant();
    let sub = fake.default_subscription(&tenant);
    let sp = fake.add_service_principal(&tenant);
    for name in ["alpha", "bravo", "charlie"] {
        fake.add_registry(RegistrySpec::new(name));
        fake.assign_role(name, &sp.object_id, Role::Reader);
    }
    let hidden = fake.add_registry(RegistrySpec::new("delta").resource_group("rg-other"));
    fake.assign_role("delta", &sp.object_id, Role::AcrPull);
    fake.set_arm_page_size(2);
    let token = sp_token(&fake, &http, &sp, ARM_SCOPE).await;

    let subs = http
        .get(format!(
            "{}subscriptions?api-version=2022-12-01",
            fake.arm_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(subs.headers().contains_key("x-ms-request-id"));
    let subs: Value = subs.json().await.unwrap();
    assert_eq!(subs["value"][0]["subscriptionId"], sub.id);
    assert_eq!(subs["value"][0]["tenantId"], tenant.id);

    let mut url = format!(
        "{}subscriptions/{}/providers/Microsoft.ContainerRegistry/registries?{API}",
        fake.arm_url(),
        sub.id
    );
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let page: Value = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pages += 1;
        for reg in page["value"].as_array().unwrap() {
            names.push(reg["name"].as_str().unwrap().to_owned());
            assert_eq!(reg["type"], "Microsoft.ContainerRegistry/registries");
        }
        match page["nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(names, ["alpha", "bravo", "charlie"]);

    let get = http
        .get(format!(
            "{}subscriptions/{}/resourceGroups/RG-ACR/providers/Microsoft.ContainerRegistry/registries/alpha?{API}",
            fake.arm_url(),
            sub.id
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    let reg: Value = get.json().await.unwrap();
    assert_eq!(reg["properties"]["loginServer"], fake.login_server("alpha"));
    assert_eq!(reg["properties"]["adminUserEnabled"], false);

    let forbidden = http
        .get(format!(
            "{}{}?{API}",
            fake.arm_url(),
            hidden.id.trim_start_matches('/')
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);
    assert!(forbidden.headers().contains_key("x-ms-request-id"));
    let body: Value = forbidden.json().await.unwrap();
    assert_eq!(body["error"]["code"], "AuthorizationFailed");
    assert!(body["error"]["message"].is_string());
}

#[tokio::test]
async fn arm_authentication_errors() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let sp = fake.add_service_principal(&fake.default_tenant());
    let url = format!("{}subscriptions?api-version=2022-12-01", fake.arm_url());
    let code = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        (status, body["error"]["code"].as_str().unwrap().to_owned())
    };

    let missing = http.get(&url).send().await.unwrap();
    assert!(missing.headers().contains_key("www-authenticate"));
    assert_eq!(code(missing).await, (401, "AuthenticationFailed".into()));

    let acr = sp_token(&fake, &http, &sp, ACR_SCOPE).await;
    let wrong_aud = http.get(&url).bearer_auth(&acr).send().await.unwrap();
    assert_eq!(
        code(wrong_aud).await,
        (401, "InvalidAuthenticationTokenAudience".into())
    );

    let arm = sp_token(&fake, &http, &sp, "https://management.azure.com/.default").await;
    let no_version = http
        .get(format!("{}subscriptions", fake.arm_url()))
        .bearer_auth(&arm)
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(no_version).await,
        (400, "MissingApiVersionParameter".into())
    );

    fake.advance_clock(Duration::from_secs(3600));
    let expired = http.get(&url).bearer_auth(&arm).send().await.unwrap();
    assert_eq!(
        code(expired).await,
        (401, "ExpiredAuthenticationToken".into())
    );
}
