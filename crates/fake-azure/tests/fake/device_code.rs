use std::time::Duration;

use fake_azure::{AZURE_CLI_CLIENT_ID, FakeAzure, User};
use serde_json::Value;

use crate::common::*;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const SCOPE: &str = "https://management.core.windows.net//.default offline_access openid profile";

async fn start_flow(fake: &FakeAzure, http: &reqwest::Client, tenant: &str) -> Value {
    let response = http
        .post(format!(
            "{}/{tenant}/oauth2/v2.0/devicecode",
            fake.authority_url()
        ))
        .form(&[("client_id", AZURE_CLI_CLIENT_ID), ("scope", SCOPE)])
        .send()
        .await
        .unwrap();
    ok_json(response).await
}

async fn poll(fake: &FakeAzure, http: &reqwest::Client, device_code: &str) -> reqwest::Response {
    token_request(
        fake,
        http,
        "organizations",
        &[
            ("grant_type", GRANT),
            ("client_id", AZURE_CLI_CLIENT_ID),
            ("device_code", device_code),
        ],
    )
    .await
}

fn setup_user(fake: &FakeAzure) -> User {
    fake.add_user(&fake.default_tenant(), "dev@contoso.localhost")
}

#[tokio::test]
async fn pending_then_approved_gives_access_refresh_and_id_tokens() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let user = setup_user(&fake);
    let flow = start_flow(&fake, &http, "organizations").await;
    let user_code = flow["user_code"].as_str().unwrap();
    let device_code = flow["device_code"].as_str().unwrap();
    assert_eq!(
        flow["verification_uri"],
        format!("{}/device", fake.authority_url())
    );
    assert_eq!(flow["expires_in"], 900);
    assert_eq!(flow["interval"], 5);
    assert!(flow["message"].as_str().unwrap().contains(user_code));
    assert!(flow.get("verification_uri_complete").is_none());
    let info = fake.last_device_code().unwrap();
    assert_eq!(info.user_code, user_code);
    assert_eq!(info.client_id, AZURE_CLI_CLIENT_ID);
    assert_eq!(info.interval, 5);

    let pending = poll(&fake, &http, device_code).await;
    assert_entra_error(pending, 400, "authorization_pending", 70016).await;
    assert!(fake.approve_device_code(user_code, &user));
    assert!(!fake.approve_device_code("NOSUCHCOD", &user));
    let body = ok_json(poll(&fake, &http, device_code).await).await;
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["scope"].as_str().unwrap().contains("offline_access"));
    let access = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["aud"], "https://management.core.windows.net/");
    assert_eq!(access["tid"], user.tenant);
    assert_eq!(access["oid"], user.object_id);
    assert_eq!(access["upn"], user.upn);
    assert_eq!(access["idtyp"], "user");
    assert!(access["scp"].is_string());
    let id = jwt_claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], AZURE_CLI_CLIENT_ID);
    assert_eq!(
        id["iss"],
        format!("{}/{}/v2.0", fake.authority_url(), user.tenant)
    );
    for claim in ["tid", "oid", "sub", "preferred_username", "name"] {
        assert!(id[claim].is_string(), "{claim} missing: {id}");
    }
    for claim in ["iat", "nbf", "exp"] {
        assert!(id[claim].is_i64(), "{claim} missing: {id}");
    }
    assert_eq!(
        jwt_header(body["id_token"].as_str().unwrap())["alg"],
        "RS256"
    );

    // The device code is single use; the refresh token works.
    let again = poll(&fake, &http, device_code).await;
    assert_entra_error(again, 400, "invalid_grant", 70000).await;
    let rt = body["refresh_token"].as_str().unwrap();
    let refreshed = refresh_request(&fake, &http, "organizations", rt, ACR_SCOPE).await;
    assert_eq!(ok_json(refreshed).await["token_type"], "Bearer");

    // Polls are logged with their time and without the code.
    let polls: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.grant_type.as_deref() == Some(GRANT))
        .collect();
    assert_eq!(polls.len(), 3);
    assert!(polls.windows(2).all(|p| p[0].at <= p[1].at));
    assert!(!format!("{:?}", fake.requests()).contains(device_code));
}

#[tokio::test]
async fn slow_down_auto_approve_decline_and_bad_codes() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let user = setup_user(&fake);
    fake.set_device_code_timing(60, 1);
    fake.set_device_code_slow_down(1);
    fake.set_device_code_auto_approve(Some((user.clone(), 1)));
    let flow = start_flow(&fake, &http, &user.tenant).await;
    assert_eq!(flow["interval"], 1);
    assert_eq!(flow["expires_in"], 60);
    let code = flow["device_code"].as_str().unwrap();
    assert_entra_error(poll(&fake, &http, code).await, 400, "slow_down", 70016).await;
    // The second poll is past the auto-approval threshold.
    ok_json(poll(&fake, &http, code).await).await;

    fake.set_device_code_auto_approve(None);
    let flow = start_flow(&fake, &http, "organizations").await;
    let code = flow["device_code"].as_str().unwrap();
    assert!(fake.decline_device_code(flow["user_code"].as_str().unwrap()));
    let declined = poll(&fake, &http, code).await;
    assert_entra_error(declined, 400, "authorization_declined", 65004).await;

    let bad = poll(&fake, &http, "not-a-device-code").await;
    assert_entra_error(bad, 400, "bad_verification_code", 70018).await;

    let unknown = http
        .post(format!(
            "{}/organizations/oauth2/v2.0/devicecode",
            fake.authority_url()
        ))
        .form(&[
            ("client_id", uuid::Uuid::new_v4().to_string().as_str()),
            ("scope", SCOPE),
        ])
        .send()
        .await
        .unwrap();
    assert_entra_error(unknown, 400, "unauthorized_client", 700016).await;
}

#[tokio::test]
async fn expiry_is_on_the_fake_clock() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let user = setup_user(&fake);
    fake.set_device_code_timing(30, 1);
    let flow = start_flow(&fake, &http, "organizations").await;
    let code = flow["device_code"].as_str().unwrap();
    fake.advance_clock(Duration::from_secs(31));
    fake.approve_device_code(flow["user_code"].as_str().unwrap(), &user);
    let expired = poll(&fake, &http, code).await;
    let body = assert_entra_error(expired, 400, "expired_token", 70020).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn device_page_signs_in_the_browser_user() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let user = setup_user(&fake);
    let flow = start_flow(&fake, &http, "organizations").await;
    let page = http
        .get(format!("{}/device", fake.authority_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    fake.set_browser_user(Some(user.clone()));
    let submit = http
        .post(format!("{}/device", fake.authority_url()))
        .form(&[("otc", flow["user_code"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(submit.status(), 200);
    let body = ok_json(poll(&fake, &http, flow["device_code"].as_str().unwrap()).await).await;
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap())["oid"],
        user.object_id
    );
}
