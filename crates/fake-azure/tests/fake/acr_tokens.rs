//! ACR tokens with scope maps: `TOKEN_NAME:password` logins limited to the scope map,
//! password expiry and disabled tokens, and ARM's reads of tokens and scope maps.

use std::time::Duration;

use fake_azure::{FakeAzure, PasswordName, RegistrySpec, Role};
use serde_json::{Value, json};

use crate::common::*;

const ACTIONS: [&str; 4] = [
    "repositories/app/content/read",
    "repositories/app/metadata/read",
    "repositories/team/*/content/read",
    "repositories/team/*/content/write",
];

/// `GET /oauth2/token` with Basic `user:password` for `scopes`: the status and the `access`.
async fn basic_token(
    http: &reqwest::Client,
    login_server: &str,
    user: &str,
    password: &str,
    scopes: &[&str],
) -> (u16, Value) {
    let mut query = vec![("service", login_server)];
    query.extend(scopes.iter().map(|s| ("scope", *s)));
    let response = http
        .get(format!("https://{login_server}/oauth2/token"))
        .query(&query)
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    let access = body["access_token"]
        .as_str()
        .map(|t| jwt_claims(t)["access"].clone())
        .unwrap_or(body);
    (status, access)
}

#[tokio::test]
async fn a_token_login_gets_only_its_scope_maps_actions() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let reg = fake.add_registry(RegistrySpec::new("tokreg"));
    fake.add_scope_map(&reg.name, "app-pull", &ACTIONS);
    let token = fake.add_acr_token(&reg.name, "ci-bot", "app-pull").unwrap();
    assert_ne!(token.passwords[0], token.passwords[1]);

    let scopes = [
        "repository:app:pull,push",
        "repository:team/web:pull,push,delete",
        "repository:other:pull",
        "registry:catalog:*",
    ];
    for password in &token.passwords {
        let (status, access) =
            basic_token(&http, &reg.login_server, "ci-bot", password, &scopes).await;
        assert_eq!(status, 200, "{access}");
        assert_eq!(
            access,
            json!([
                {"type": "repository", "name": "app", "actions": ["pull"]},
                {"type": "repository", "name": "team/web", "actions": ["pull", "push"]},
                {"type": "repository", "name": "other", "actions": []},
                {"type": "registry", "name": "catalog", "actions": []},
            ])
        );
    }
    // The password grant of POST /oauth2/token, too.
    let posted = http
        .post(format!("https://{}/oauth2/token", reg.login_server))
        .form(&[
            ("grant_type", "password"),
            ("service", reg.login_server.as_str()),
            ("username", "ci-bot"),
            ("password", token.passwords[0].as_str()),
            ("scope", "repository:app:pull,push"),
        ])
        .send()
        .await
        .unwrap();
    let body = ok_json(posted).await;
    let claims = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "ci-bot");
    assert_eq!(claims["access"][0]["actions"], json!(["pull"]));

    // `/v2/` with Basic credentials: the root answers, a pull passes, a push is refused.
    let v2 = |method: reqwest::Method, path: &str| {
        http.request(method, format!("https://{}/v2/{path}", reg.login_server))
            .basic_auth("ci-bot", Some(&token.passwords[0]))
            .send()
    };
    assert_eq!(v2(reqwest::Method::GET, "").await.unwrap().status(), 200);
    let pull = v2(reqwest::Method::GET, "app/manifests/latest")
        .await
        .unwrap();
    assert_eq!(
        pull.status(),
        404,
        "pull is allowed: the fake stores nothing"
    );
    let push = v2(reqwest::Method::PUT, "app/manifests/latest")
        .await
        .unwrap();
    assert_eq!(push.status(), 401);
    let challenge = push.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.contains("insufficient_scope"), "{challenge}");

    // A wrong password or an unknown token name is refused.
    let (status, _) = basic_token(&http, &reg.login_server, "ci-bot", "nope", &scopes).await;
    assert_eq!(status, 401);
    let (status, _) = basic_token(
        &http,
        &reg.login_server,
        "other-bot",
        &token.passwords[0],
        &scopes,
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn expired_passwords_and_disabled_tokens_are_refused() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let reg = fake.add_registry(RegistrySpec::new("expreg"));
    fake.add_scope_map(&reg.name, "pull", &ACTIONS[..1]);
    let token = fake.add_acr_token(&reg.name, "puller", "pull").unwrap();
    let scope = ["repository:app:pull"];
    let login = |password: &str| {
        let password = password.to_owned();
        let http = http.clone();
        let server = reg.login_server.clone();
        async move {
            basic_token(&http, &server, "puller", &password, &scope)
                .await
                .0
        }
    };

    let expiry = fake.now() + chrono::TimeDelta::days(1);
    fake.set_acr_token_password_expiry(&reg.name, "puller", PasswordName::Password1, Some(expiry));
    assert_eq!(login(&token.passwords[0]).await, 200);
    fake.advance_clock(Duration::from_secs(2 * 86400));
    assert_eq!(login(&token.passwords[0]).await, 401, "password1 expired");
    assert_eq!(
        login(&token.passwords[1]).await,
        200,
        "password2 has no expiry"
    );

    fake.set_acr_token_enabled(&reg.name, "puller", false);
    assert_eq!(login(&token.passwords[1]).await, 401, "disabled");
    let v2 = http
        .get(format!("https://{}/v2/", reg.login_server))
        .basic_auth("puller", Some(&token.passwords[1]))
        .send()
        .await
        .unwrap();
    assert_eq!(v2.status(), 401);
    fake.set_acr_token_enabled(&reg.name, "puller", true);
    assert_eq!(login(&token.passwords[1]).await, 200);
}

#[tokio::test]
async fn arm_shows_tokens_and_scope_maps_to_readers_only() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let tenant = fake.default_tenant();
    let reg = fake.add_registry(RegistrySpec::new("armtok"));
    let map_id = fake.add_scope_map(&reg.name, "app-pull", &ACTIONS);
    let token = fake.add_acr_token(&reg.name, "ci-bot", "app-pull").unwrap();
    assert_eq!(token.id, format!("{}/tokens/ci-bot", reg.id));
    assert_eq!(token.scope_map_id, map_id);
    let expiry = fake.now() + chrono::TimeDelta::days(30);
    fake.set_acr_token_password_expiry(&reg.name, "ci-bot", PasswordName::Password2, Some(expiry));
    fake.set_acr_token_enabled(&reg.name, "ci-bot", false);

    let reader = fake.add_service_principal(&tenant);
    fake.assign_role(&reg.name, &reader.object_id, Role::Reader);
    let arm = sp_token(&fake, &http, &reader, ARM_SCOPE).await;
    let get = |path: String, token: String| {
        let http = http.clone();
        let url = format!("{}{}?api-version=2025-04-01", fake.arm_url(), &path[1..]);
        async move {
            let response = http.get(url).bearer_auth(token).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };

    let (status, body) = get(token.id.clone(), arm.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "ci-bot");
    assert_eq!(
        body["type"],
        "Microsoft.ContainerRegistry/registries/tokens"
    );
    let props = &body["properties"];
    assert_eq!(props["status"], "disabled");
    assert_eq!(props["scopeMapId"], map_id);
    assert_eq!(props["provisioningState"], "Succeeded");
    let passwords = props["credentials"]["passwords"].as_array().unwrap();
    assert_eq!(passwords[0]["name"], "password1");
    assert!(passwords[0].get("expiry").is_none(), "{body}");
    assert_eq!(passwords[1]["name"], "password2");
    let shown: chrono::DateTime<chrono::Utc> =
        passwords[1]["expiry"].as_str().unwrap().parse().unwrap();
    assert_eq!(shown.timestamp(), expiry.timestamp());
    assert!(
        !body.to_string().contains(&token.passwords[0]),
        "no password values"
    );
    assert!(
        !body.to_string().contains(&token.passwords[1]),
        "no password values"
    );

    let (_, list) = get(format!("{}/tokens", reg.id), arm.clone()).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let (status, map) = get(map_id.clone(), arm.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(map["properties"]["actions"], json!(ACTIONS));
    let (_, maps) = get(format!("{}/scopeMaps", reg.id), arm.clone()).await;
    assert_eq!(maps["value"][0]["id"], map_id);
    let (status, missing) = get(format!("{}/tokens/nobody", reg.id), arm.clone()).await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"]["code"], "ResourceNotFound");

    // A data-plane role does not read tokens in ARM.
    let puller = fake.add_service_principal(&tenant);
    fake.assign_role(&reg.name, &puller.object_id, Role::AcrPull);
    let pull_arm = sp_token(&fake, &http, &puller, ARM_SCOPE).await;
    let (status, body) = get(token.id.clone(), pull_arm).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "AuthorizationFailed");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("registries/tokens/read"), "{message}");
}
