//! Several tenants: guests, a tenant demanding interaction, ARM `/tenants`, per-tenant
//! subscriptions, and ARM's unauthenticated `/metadata/endpoints`.

use fake_azure::{AZURE_CLI_CLIENT_ID, FakeAzure};
use serde_json::Value;

use crate::common::*;

async fn arm_get(http: &reqwest::Client, url: String, token: &str) -> (u16, Value) {
    let response = http.get(url).bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn access_token(body: &Value) -> String {
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_tenant_demanding_interaction_refuses_only_there_until_a_sign_in_there() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let home = fake.default_tenant();
    let strict = fake.add_tenant();
    let relaxed = fake.add_tenant();
    let user = fake.add_user(&home, "guest@partner.localhost");
    let strict_guest = fake.add_guest(&user, &strict);
    fake.add_guest(&user, &relaxed);
    let rt = fake.issue_user_refresh_token(&user, AZURE_CLI_CLIENT_ID);

    fake.require_interaction_in_tenant(&strict_guest, &strict.id, Some(50076));
    let refused = refresh_request(&fake, &http, &strict.id, &rt, ACR_SCOPE).await;
    let body = assert_entra_error(refused, 400, "invalid_grant", 50076).await;
    assert_eq!(body["suberror"], "basic_action", "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.contains("you must use multi-factor authentication to access 'https://containerregistry.azure.net'"),
        "{description}"
    );
    // The other tenants keep issuing tokens with the same refresh token.
    for tenant in [&home.id, &relaxed.id] {
        let ok = ok_json(refresh_request(&fake, &http, tenant, &rt, ACR_SCOPE).await).await;
        assert_eq!(jwt_claims(&access_token(&ok))["tid"], *tenant);
    }
    let ok = ok_json(refresh_request(&fake, &http, "organizations", &rt, ACR_SCOPE).await).await;
    assert_eq!(jwt_claims(&access_token(&ok))["tid"], home.id);

    // A sign-in elsewhere does not meet the demand; a sign-in at that tenant does.
    let home_again = fake.issue_user_refresh_token(&user, AZURE_CLI_CLIENT_ID);
    let refused = refresh_request(&fake, &http, &strict.id, &home_again, ACR_SCOPE).await;
    assert_entra_error(refused, 400, "invalid_grant", 50076).await;
    let there = fake.issue_user_refresh_token(&strict_guest, AZURE_CLI_CLIENT_ID);
    let ok = ok_json(refresh_request(&fake, &http, &strict.id, &there, ACR_SCOPE).await).await;
    let claims = jwt_claims(&access_token(&ok));
    assert_eq!(claims["tid"], strict.id);
    assert_eq!(claims["oid"], strict_guest.object_id);
    // ...and its rotations keep meeting it.
    let rotated = ok["refresh_token"].as_str().unwrap();
    ok_json(refresh_request(&fake, &http, &strict.id, rotated, ACR_SCOPE).await).await;

    // Lifting the demand lets the old token through again.
    fake.require_interaction_in_tenant(&strict_guest, &strict.id, None);
    ok_json(refresh_request(&fake, &http, &strict.id, &rt, ACR_SCOPE).await).await;
}

#[tokio::test]
async fn interaction_demands_answer_in_entra_shapes() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let home = fake.default_tenant();
    let cases = [
        (
            50076,
            "basic_action",
            "must use multi-factor authentication",
        ),
        (
            50079,
            "basic_action",
            "must enroll in multi-factor authentication",
        ),
        (
            53003,
            "message_only",
            "blocked by Conditional Access policies",
        ),
    ];
    for (code, suberror, text) in cases {
        let user = fake.add_user(&home, &format!("u{code}@contoso.localhost"));
        let rt = fake.issue_user_refresh_token(&user, AZURE_CLI_CLIENT_ID);
        // The home tenant, by GUID or through `organizations`.
        fake.require_interaction_in_tenant(&user, &home.id, Some(code));
        for tenant in [home.id.as_str(), "organizations"] {
            let refused = refresh_request(&fake, &http, tenant, &rt, ARM_SCOPE).await;
            let body = assert_entra_error(refused, 400, "invalid_grant", u64::from(code)).await;
            assert_eq!(body["suberror"], suberror, "{code}: {body}");
            let description = body["error_description"].as_str().unwrap();
            assert!(description.contains(text), "{code}: {description}");
        }
    }
}

#[tokio::test]
async fn arm_lists_the_users_tenants_and_each_tenants_subscriptions_to_its_own_tokens() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let home = fake.default_tenant();
    let other = fake.add_tenant();
    let unrelated = fake.add_tenant();
    let user = fake.add_user(&home, "consultant@contoso.localhost");
    fake.add_guest(&user, &other);
    let rt = fake.issue_user_refresh_token(&user, AZURE_CLI_CLIENT_ID);
    let home_token = access_token(
        &ok_json(refresh_request(&fake, &http, "organizations", &rt, ARM_SCOPE).await).await,
    );
    let other_token = access_token(
        &ok_json(refresh_request(&fake, &http, &other.id, &rt, ARM_SCOPE).await).await,
    );
    let tenants_url = format!("{}tenants?api-version=2022-12-01", fake.arm_url());

    // The same list whichever tenant the token is from: home first, then the guest tenants.
    for token in [&home_token, &other_token] {
        let (status, body) = arm_get(&http, tenants_url.clone(), token).await;
        assert_eq!(status, 200, "{body}");
        let ids: Vec<&str> = body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["tenantId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [home.id.as_str(), other.id.as_str()]);
        let first = &body["value"][0];
        assert_eq!(first["id"], format!("/tenants/{}", home.id));
        assert_eq!(first["tenantCategory"], "Home");
        assert_eq!(first["tenantType"], "AAD");
        assert!(first["displayName"].is_string());
        assert_eq!(first["domains"][0], first["defaultDomain"]);
    }
    // An application sees its own tenant only.
    let sp = fake.add_service_principal(&unrelated);
    let sp_arm = sp_token(&fake, &http, &sp, ARM_SCOPE).await;
    let (_, body) = arm_get(&http, tenants_url.clone(), &sp_arm).await;
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
    assert_eq!(body["value"][0]["tenantId"], unrelated.id);
    // ARM wants a token.
    let anonymous = http.get(&tenants_url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);

    // Subscriptions: each token sees its own tenant's only; another tenant's is refused by name.
    let home_sub = fake.default_subscription(&home);
    let other_sub = fake.default_subscription(&other);
    let subs_url = format!("{}subscriptions?api-version=2022-12-01", fake.arm_url());
    for (token, sub) in [(&home_token, &home_sub), (&other_token, &other_sub)] {
        let (_, body) = arm_get(&http, subs_url.clone(), token).await;
        let ids: Vec<&str> = body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["subscriptionId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [sub.id.as_str()]);
    }
    let cross = format!(
        "{}subscriptions/{}?api-version=2022-12-01",
        fake.arm_url(),
        other_sub.id
    );
    let (status, body) = arm_get(&http, cross, &home_token).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationTokenTenant");
}

#[tokio::test]
async fn metadata_endpoints_describe_the_fake_without_a_token() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let get = |version: &str| {
        let url = format!("{}metadata/endpoints?api-version={version}", fake.arm_url());
        let http = http.clone();
        async move {
            let response = http.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let audiences = serde_json::json!(["https://management.core.windows.net/", fake.arm_url()]);

    // What `az cloud register --endpoint-resource-manager` reads (2022-09-01): one cloud.
    let cloud = get("2022-09-01").await;
    assert_eq!(cloud["name"], "FakeAzure");
    assert_eq!(cloud["resourceManager"], fake.arm_url());
    assert_eq!(
        cloud["authentication"]["loginEndpoint"],
        fake.authority_url()
    );
    assert_eq!(cloud["authentication"]["audiences"], audiences);
    assert_eq!(cloud["authentication"]["tenant"], "common");
    assert_eq!(cloud["suffixes"]["acrLoginServer"], fake.acr_suffix_host());
    assert_eq!(
        cloud["microsoftGraphResourceId"],
        "https://graph.microsoft.com/"
    );
    // 2019-05-01 .. 2022-08: a list of clouds.
    let list = get("2020-06-01").await;
    assert_eq!(list, serde_json::json!([cloud]));
    // Older: the legacy object.
    let legacy = get("2015-01-01").await;
    assert_eq!(
        legacy["authentication"]["loginEndpoint"],
        format!("{}/", fake.authority_url())
    );
    assert_eq!(legacy["authentication"]["audiences"], audiences);
    assert!(legacy["graphEndpoint"].is_string());

    // The audience it names is one Entra mints for and ARM accepts.
    let sp = fake.add_service_principal(&fake.default_tenant());
    let scope = format!("{}/.default", fake.arm_url());
    let token = sp_token(&fake, &http, &sp, &scope).await;
    let (status, _) = arm_get(
        &http,
        format!("{}subscriptions?api-version=2022-12-01", fake.arm_url()),
        &token,
    )
    .await;
    assert_eq!(status, 200);

    let missing = http
        .get(format!("{}metadata/endpoints", fake.arm_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
}

#[tokio::test]
async fn the_v1_endpoint_redeems_the_same_refresh_token_per_tenant() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let home = fake.default_tenant();
    let other = fake.add_tenant();
    let stranger = fake.add_tenant();
    let user = fake.add_user(&home, "v1@contoso.localhost");
    let guest = fake.add_guest(&user, &other);
    let rt = fake.issue_user_refresh_token(&user, AZURE_CLI_CLIENT_ID);
    let v1 = |tenant: &str, resource: &str| {
        let url = format!("{}/{tenant}/oauth2/token", fake.authority_url());
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", AZURE_CLI_CLIENT_ID),
            ("refresh_token", rt.as_str()),
            ("resource", resource),
        ];
        http.post(url).form(&form).send()
    };

    let body = ok_json(
        v1(&other.id, "https://management.core.windows.net/")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["resource"], "https://management.core.windows.net/");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "user_impersonation");
    let expires_in: i64 = body["expires_in"].as_str().unwrap().parse().unwrap();
    let expires_on: i64 = body["expires_on"].as_str().unwrap().parse().unwrap();
    let not_before: i64 = body["not_before"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires_on - not_before, expires_in);
    assert!(body["refresh_token"].is_string());
    let claims = jwt_claims(&access_token(&body));
    assert_eq!(claims["tid"], other.id);
    assert_eq!(claims["oid"], guest.object_id);
    assert_eq!(claims["aud"], "https://management.core.windows.net/");

    let acr = ok_json(
        v1(&home.id, "https://containerregistry.azure.net")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        jwt_claims(&access_token(&acr))["aud"],
        "https://containerregistry.azure.net"
    );

    let refused = v1(&stranger.id, "https://management.core.windows.net/")
        .await
        .unwrap();
    assert_entra_error(refused, 400, "invalid_grant", 50020).await;
    fake.require_interaction_in_tenant(&guest, &other.id, Some(50076));
    let refused = v1(&other.id, "https://management.core.windows.net/")
        .await
        .unwrap();
    let body = assert_entra_error(refused, 400, "invalid_grant", 50076).await;
    assert_eq!(body["suberror"], "basic_action");

    // An application's client credentials, v1 style.
    let sp = fake.add_service_principal(&home);
    let response = http
        .post(format!("{}/{}/oauth2/token", fake.authority_url(), home.id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sp.client_id.as_str()),
            ("client_secret", sp.secret.as_str()),
            ("resource", "https://management.core.windows.net/"),
        ])
        .send()
        .await
        .unwrap();
    let body = ok_json(response).await;
    assert!(body["expires_in"].is_string());
    assert!(body.get("scope").is_none(), "{body}");
    assert_eq!(jwt_claims(&access_token(&body))["appid"], sp.client_id);
}
