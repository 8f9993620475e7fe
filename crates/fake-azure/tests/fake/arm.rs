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

/// `GET {path}resources?{query}` with the token; the status and the JSON body.
async fn list_resources(
    fake: &FakeAzure,
    http: &reqwest::Client,
    token: &str,
    path: &str,
    query: &str,
) -> (u16, Value) {
    let response = http
        .get(format!("{}{path}resources?{query}", fake.arm_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn names(page: &Value) -> Vec<&str> {
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect()
}

/// ARM's generic "Resources - List", as `az acr login -n NAME` asks it to find the registry's
/// resource group: `$filter` on type and name, only what the caller may read, paged.
#[tokio::test]
async fn resources_list_filters_pages_and_hides_unreadable_registries() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let tenant = fake.default_tenant();
    let sub = fake.default_subscription(&tenant);
    let sp = fake.add_service_principal(&tenant);
    for (name, rg) in [
        ("alpha", "rg-acr"),
        ("bravo", "rg-b"),
        ("charlie", "rg-acr"),
    ] {
        fake.add_registry(RegistrySpec::new(name).resource_group(rg));
        fake.assign_role(name, &sp.object_id, Role::Reader);
    }
    fake.add_registry(RegistrySpec::new("delta"));
    fake.assign_role("delta", &sp.object_id, Role::AcrPull);
    fake.set_arm_page_size(2);
    let token = sp_token(&fake, &http, &sp, ARM_SCOPE).await;
    let sub_path = format!("subscriptions/{}/", sub.id);
    // What az 2.91 sends, then a name filter as the docs spell it.
    let az_query = "$filter=resourceType%20eq%20%27Microsoft.ContainerRegistry%2Fregistries%27&api-version=2024-11-01";

    let (status, first) = list_resources(&fake, &http, &token, &sub_path, az_query).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(names(&first), ["alpha", "bravo"]);
    let alpha = &first["value"][0];
    assert_eq!(alpha["type"], "Microsoft.ContainerRegistry/registries");
    assert_eq!(
        alpha["id"],
        format!(
            "/subscriptions/{}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/alpha",
            sub.id
        )
    );
    assert_eq!(alpha["sku"]["name"], "Standard");
    assert!(alpha.get("properties").is_none() && alpha.get("createdTime").is_none());
    let next = first["nextLink"].as_str().unwrap();
    let second: Value = http
        .get(next)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(names(&second), ["charlie"], "{next}");
    assert!(second.get("nextLink").is_none());

    for (query, expected) in [
        (
            "$filter=name eq 'BRAVO'&api-version=2021-04-01",
            vec!["bravo"],
        ),
        (
            "$filter=resourceType eq 'Microsoft.Compute/virtualMachines'&api-version=2021-04-01",
            vec![],
        ),
        (
            "$filter=resourceGroup eq 'rg-acr' and name ne 'alpha'&api-version=2021-04-01",
            vec!["charlie"],
        ),
    ] {
        let (status, page) = list_resources(&fake, &http, &token, &sub_path, query).await;
        assert_eq!((status, names(&page)), (200, expected), "{query}");
    }
    let (_, expanded) = list_resources(
        &fake,
        &http,
        &token,
        &format!("{sub_path}resourceGroups/RG-B/"),
        "$expand=createdTime,provisioningState&api-version=2021-04-01",
    )
    .await;
    assert_eq!(names(&expanded), ["bravo"]);
    assert_eq!(expanded["value"][0]["provisioningState"], "Succeeded");
    assert!(expanded["value"][0]["createdTime"].is_string());

    let (status, refused) = list_resources(
        &fake,
        &http,
        &token,
        &sub_path,
        "$filter=tagName eq 'env'&api-version=2021-04-01",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(refused["error"]["code"], "InvalidFilterInQueryString");
    assert_eq!(
        refused["error"]["message"],
        "Invalid $filter 'tagName eq 'env'' specified in the query string."
    );
    let (status, _) = list_resources(&fake, &http, "not-a-token", &sub_path, az_query).await;
    assert_eq!(status, 401);
}
