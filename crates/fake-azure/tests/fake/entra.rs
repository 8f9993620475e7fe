use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fake_azure::FakeAzure;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn discovery_and_jwks() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let tid = fake.default_tenant().id;
    let config: Value = http
        .get(format!(
            "{}/{tid}/v2.0/.well-known/openid-configuration",
            fake.authority_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["token_endpoint"], token_url(&fake, &tid));
    assert_eq!(
        config["issuer"],
        format!("{}/{tid}/v2.0", fake.authority_url())
    );
    assert_eq!(
        config["device_authorization_endpoint"],
        format!("{}/{tid}/oauth2/v2.0/devicecode", fake.authority_url())
    );
    let jwks: Value = http
        .get(config["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    for field in ["kid", "x5t", "n", "e", "kty", "use"] {
        assert!(key[field].is_string(), "{field} missing: {key}");
    }
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["kid"], key["x5t"]);
    assert!(key["x5c"][0].is_string());

    let unknown = http
        .get(format!(
            "{}/{}/v2.0/.well-known/openid-configuration",
            fake.authority_url(),
            uuid::Uuid::new_v4()
        ))
        .send()
        .await
        .unwrap();
    assert_entra_error(unknown, 400, "invalid_tenant", 90002).await;
}

#[tokio::test]
async fn client_credentials_token_is_a_verifiable_v1_jwt() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let tenant = fake.default_tenant();
    let sp = fake.add_service_principal(&tenant);
    let response = sp_token_response(&fake, &http, &sp, &sp.secret, ARM_SCOPE).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert!(body["ext_expires_in"].is_u64());
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap();

    let jwks: Value = http
        .get(format!(
            "{}/{}/discovery/v2.0/keys",
            fake.authority_url(),
            tenant.id
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    let header = jwt_header(token);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], key["kid"]);
    assert_eq!(header["x5t"], key["x5t"]);
    let decoding =
        DecodingKey::from_rsa_components(key["n"].as_str().unwrap(), key["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["https://management.core.windows.net/"]);
    validation.set_issuer(&[format!("https://sts.windows.net/{}/", tenant.id)]);
    let claims = jsonwebtoken::decode::<Value>(token, &decoding, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["tid"], tenant.id);
    assert_eq!(claims["oid"], sp.object_id);
    assert_eq!(claims["sub"], sp.object_id);
    assert_eq!(claims["appid"], sp.client_id);
    assert_eq!(claims["appidacr"], "1");
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(claims["ver"], "1.0");
    assert!(claims["uti"].is_string());
    assert_eq!(claims["nbf"], claims["iat"]);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3599
    );

    // client_secret_basic works too, and the ACR audience has no trailing slash.
    let basic = http
        .post(token_url(&fake, &tenant.id))
        .basic_auth(&sp.client_id, Some(&sp.secret))
        .form(&[("grant_type", "client_credentials"), ("scope", ACR_SCOPE)])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
    let body: Value = basic.json().await.unwrap();
    let claims = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], "https://containerregistry.azure.net");
}

#[tokio::test]
async fn client_credentials_errors_have_the_entra_shape() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let tenant = fake.default_tenant();
    let sp = fake.add_service_principal(&tenant);

    let wrong = sp_token_response(&fake, &http, &sp, "not-the-secret", ARM_SCOPE).await;
    let body = assert_entra_error(wrong, 401, "invalid_client", 7000215).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains(&sp.client_id)
    );

    let mut stranger = sp.clone();
    stranger.client_id = uuid::Uuid::new_v4().to_string();
    let unknown = sp_token_response(&fake, &http, &stranger, &sp.secret, ARM_SCOPE).await;
    assert_entra_error(unknown, 400, "unauthorized_client", 700016).await;

    let mut lost = sp.clone();
    lost.tenant = uuid::Uuid::new_v4().to_string();
    let no_tenant = sp_token_response(&fake, &http, &lost, &sp.secret, ARM_SCOPE).await;
    assert_entra_error(no_tenant, 400, "invalid_request", 90002).await;

    let bad_scope = sp_token_response(
        &fake,
        &http,
        &sp,
        &sp.secret,
        "https://management.azure.com/x",
    )
    .await;
    assert_entra_error(bad_scope, 400, "invalid_scope", 70011).await;

    fake.set_entra_refuses_acr_audience(true);
    let refused = sp_token_response(&fake, &http, &sp, &sp.secret, ACR_SCOPE).await;
    assert_entra_error(refused, 400, "invalid_resource", 500011).await;
    // ARM still works.
    sp_token(&fake, &http, &sp, ARM_SCOPE).await;
}

async fn refresh(
    fake: &FakeAzure,
    http: &reqwest::Client,
    tenant: &str,
    rt: &str,
    client_id: &str,
) -> reqwest::Response {
    http.post(token_url(fake, tenant))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", rt),
            (
                "scope",
                "https://management.core.windows.net//.default offline_access openid profile",
            ),
            ("client_info", "1"),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn refresh_grant_rotates_and_revocation_is_invalid_grant() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let tenant = fake.default_tenant();
    let user = fake.add_user(&tenant, "alice@contoso.localhost");
    let client_id = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
    let rt = fake.issue_user_refresh_token(&user, client_id);

    let first = refresh(&fake, &http, "organizations", &rt, client_id).await;
    assert_eq!(first.status(), 200);
    let body: Value = first.json().await.unwrap();
    let rotated = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, rt);
    assert!(body["scope"].as_str().unwrap().contains("offline_access"));
    assert_eq!(body["expires_in"], 3599);
    let claims = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["oid"], user.object_id);
    assert_eq!(claims["upn"], user.upn);
    assert_eq!(claims["idtyp"], "user");
    let id_token = jwt_claims(body["id_token"].as_str().unwrap());
    assert_eq!(id_token["aud"], client_id);
    assert_eq!(id_token["preferred_username"], user.upn);
    let info: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(body["client_info"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(info["uid"], user.object_id);

    // The old token stays valid after rotation; the new one works too.
    assert_eq!(
        refresh(&fake, &http, &tenant.id, &rt, client_id)
            .await
            .status(),
        200
    );
    assert_eq!(
        refresh(&fake, &http, &tenant.id, &rotated, client_id)
            .await
            .status(),
        200
    );

    // Another client cannot use it.
    let other = refresh(
        &fake,
        &http,
        &tenant.id,
        &rt,
        "11111111-1111-1111-1111-111111111111",
    )
    .await;
    assert_entra_error(other, 400, "invalid_grant", 70000).await;

    fake.revoke_refresh_tokens(&user.object_id);
    for token in [&rt, &rotated] {
        let revoked = refresh(&fake, &http, &tenant.id, token, client_id).await;
        assert_entra_error(revoked, 400, "invalid_grant", 50173).await;
    }
    // A token issued after the revocation works.
    let fresh = fake.issue_user_refresh_token(&user, client_id);
    assert_eq!(
        refresh(&fake, &http, &tenant.id, &fresh, client_id)
            .await
            .status(),
        200
    );

    let garbage = refresh(&fake, &http, &tenant.id, "1.Anot-a-token", client_id).await;
    assert_entra_error(garbage, 400, "invalid_grant", 9002313).await;

    fake.advance_clock(std::time::Duration::from_secs(91 * 24 * 3600));
    let stale = refresh(&fake, &http, &tenant.id, &fresh, client_id).await;
    assert_entra_error(stale, 400, "invalid_grant", 700082).await;
}
