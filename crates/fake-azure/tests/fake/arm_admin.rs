use fake_azure::{
    FakeAzure, Fault, FaultAction, FaultTarget, Registry, RegistrySpec, Role, Service,
};
use serde_json::{Value, json};

use crate::common::*;

const API: &str = "api-version=2025-04-01";

fn url(fake: &FakeAzure, reg: &Registry, op: &str) -> String {
    let op = if op.is_empty() {
        String::new()
    } else {
        format!("/{op}")
    };
    format!(
        "{}{}{op}?{API}",
        fake.arm_url(),
        reg.id.trim_start_matches('/')
    )
}

async fn send(
    request: reqwest::RequestBuilder,
    token: &str,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = request.bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.json().await.unwrap(), headers)
}

/// ACR `GET /oauth2/token` with Basic admin credentials.
async fn admin_login(http: &reqwest::Client, reg: &Registry, user: &str, password: &str) -> u16 {
    http.get(format!("https://{}/oauth2/token", reg.login_server))
        .query(&[
            ("service", reg.login_server.as_str()),
            ("scope", "repository:app:pull"),
        ])
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn credentials_need_contributor_and_admin() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let tenant = fake.default_tenant();
    let reg = fake.add_registry(RegistrySpec::new("adminreg"));
    let owner = fake.add_service_principal(&tenant);
    let reader = fake.add_service_principal(&tenant);
    fake.assign_role(&reg.name, &owner.object_id, Role::Contributor);
    fake.assign_role(&reg.name, &reader.object_id, Role::Reader);
    let owner_token = sp_token(&fake, &http, &owner, ARM_SCOPE).await;
    let reader_token = sp_token(&fake, &http, &reader, ARM_SCOPE).await;

    let (status, body, _) =
        send(http.post(url(&fake, &reg, "listCredentials")), &owner_token).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "UnAuthorizedForCredentialOperations");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with(&format!(
        "Cannot perform credential operations for {} as admin user is disabled.",
        reg.id
    )));
    let (status, body, _) = send(
        http.post(url(&fake, &reg, "listCredentials")),
        &reader_token,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("AuthorizationFailed"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("listCredentials/action")
    );

    let enable = json!({"properties": {"adminUserEnabled": true}});
    let (status, _, _) = send(
        http.patch(url(&fake, &reg, "")).json(&enable),
        &reader_token,
    )
    .await;
    assert_eq!(status, 403);
    let (status, body, _) =
        send(http.patch(url(&fake, &reg, "")).json(&enable), &owner_token).await;
    assert_eq!(status, 200);
    assert_eq!(body["properties"]["adminUserEnabled"], true);
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");

    let (status, creds, _) =
        send(http.post(url(&fake, &reg, "listCredentials")), &owner_token).await;
    assert_eq!(status, 200);
    assert_eq!(creds["username"], reg.name);
    let (user, passwords) = fake.admin_credentials(&reg.name).unwrap();
    assert_eq!(
        creds["passwords"][0],
        json!({"name": "password", "value": passwords[0]})
    );
    assert_eq!(creds["passwords"][1]["name"], "password2");
    assert_eq!(admin_login(&http, &reg, &user, &passwords[0]).await, 200);

    let regen = http
        .post(url(&fake, &reg, "regenerateCredential"))
        .json(&json!({"name": "password"}));
    let (status, after, _) = send(regen, &owner_token).await;
    assert_eq!(status, 200);
    let new = after["passwords"][0]["value"].as_str().unwrap();
    assert_ne!(new, passwords[0]);
    assert_eq!(after["passwords"][1]["value"], passwords[1].as_str());
    assert_eq!(admin_login(&http, &reg, &user, &passwords[0]).await, 401);
    assert_eq!(admin_login(&http, &reg, &user, new).await, 200);
    let bad = http
        .post(url(&fake, &reg, "regenerateCredential"))
        .json(&json!({"name": "password3"}));
    assert_eq!(send(bad, &owner_token).await.0, 400);

    let second = fake
        .regenerate_admin_password(&reg.name, "password2")
        .unwrap();
    assert_eq!(fake.admin_credentials(&reg.name).unwrap().1[1], second);
    assert_eq!(admin_login(&http, &reg, &user, &second).await, 200);
    assert!(fake.regenerate_admin_password(&reg.name, "nope").is_none());
}

#[tokio::test]
async fn async_patch_and_throttling() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let reg = fake.add_registry(RegistrySpec::new("asyncreg").admin_enabled(true));
    let sp = fake.add_service_principal(&fake.default_tenant());
    fake.assign_role(&reg.name, &sp.object_id, Role::Owner);
    let token = sp_token(&fake, &http, &sp, ARM_SCOPE).await;
    fake.set_arm_patch_async(true);

    let disable = json!({"properties": {"adminUserEnabled": false}, "tags": {"team": "x"}});
    let (status, body, headers) =
        send(http.patch(url(&fake, &reg, "")).json(&disable), &token).await;
    assert_eq!(status, 201);
    assert_eq!(body["properties"]["provisioningState"], "Updating");
    assert_eq!(body["tags"]["team"], "x");
    let operation = headers["azure-asyncoperation"].to_str().unwrap().to_owned();
    assert!(operation.starts_with(&fake.arm_url()), "{operation}");
    assert!(operation.contains("/operationStatuses/registries-"));
    let (_, first, _) = send(http.get(&operation), &token).await;
    assert_eq!(first["status"], "InProgress");
    let (_, during, _) = send(http.get(url(&fake, &reg, "")), &token).await;
    assert_eq!(during["properties"]["provisioningState"], "Updating");
    let (_, second, _) = send(http.get(&operation), &token).await;
    assert_eq!(second["status"], "Succeeded");
    let (_, after, _) = send(http.get(url(&fake, &reg, "")), &token).await;
    assert_eq!(after["properties"]["provisioningState"], "Succeeded");
    assert_eq!(after["properties"]["adminUserEnabled"], false);
    let (status, _, _) = send(http.post(url(&fake, &reg, "listCredentials")), &token).await;
    assert_eq!(status, 400);

    fake.add_fault(
        Fault::new(
            FaultTarget::service(Service::Arm),
            FaultAction::Status {
                status: 429,
                body: None,
                retry_after: Some(10),
            },
        )
        .times(1),
    );
    let (status, body, headers) = send(http.get(url(&fake, &reg, "")), &token).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "10");
    assert_eq!(body["error"]["code"], "SubscriptionRequestsThrottled");
    assert_eq!(fake.requests().last().unwrap().service, Service::Arm);
}
