use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fake_azure::{AZURE_CLI_CLIENT_ID, FakeAzure, User};
use sha2::Digest as _;

use crate::common::*;

const REDIRECT: &str = "http://localhost:7071";
const SCOPE: &str = "https://management.core.windows.net//.default offline_access openid profile";
const VERIFIER: &str = "a-verifier-that-is-long-enough-for-pkce-0123456789_abcdefghijkl";
const STATE: &str = "st a+te/=&x";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn no_redirects(fake: &FakeAzure) -> reqwest::Client {
    client_builder(fake)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn authorize(
    fake: &FakeAzure,
    http: &reqwest::Client,
    tenant: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let challenge = challenge(VERIFIER);
    let mut query = vec![
        ("client_id", AZURE_CLI_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("response_mode", "query"),
        ("scope", SCOPE),
        ("state", STATE),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("nonce", "nonce-1"),
        ("prompt", "select_account"),
    ];
    for (k, v) in extra {
        query.retain(|(key, _)| key != k);
        query.push((k, v));
    }
    http.get(format!(
        "{}/{tenant}/oauth2/v2.0/authorize",
        fake.authority_url()
    ))
    .query(&query)
    .send()
    .await
    .unwrap()
}

/// The redirect's target and query parameters.
fn location(response: &reqwest::Response) -> (String, HashMap<String, String>) {
    assert_eq!(response.status(), 302);
    let url = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let params = url.query_pairs().into_owned().collect();
    let base = format!("{}://{}{}", url.scheme(), url.authority(), url.path());
    (base, params)
}

async fn get_code(fake: &FakeAzure, http: &reqwest::Client, tenant: &str) -> String {
    let (base, params) = location(&authorize(fake, http, tenant, &[]).await);
    assert_eq!(base, "http://localhost:7071/");
    assert_eq!(params["state"], STATE);
    params["code"].clone()
}

async fn redeem(
    fake: &FakeAzure,
    http: &reqwest::Client,
    code: &str,
    verifier: &str,
    redirect: &str,
) -> reqwest::Response {
    token_request(
        fake,
        http,
        "organizations",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", AZURE_CLI_CLIENT_ID),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
            ("scope", SCOPE),
        ],
    )
    .await
}

fn setup(fake: &FakeAzure) -> User {
    let user = fake.add_user(&fake.default_tenant(), "browser@contoso.localhost");
    fake.set_browser_user(Some(user.clone()));
    user
}

#[tokio::test]
async fn code_with_pkce_is_redeemed_once() {
    let fake = FakeAzure::start().await.unwrap();
    let http = no_redirects(&fake);
    let user = setup(&fake);
    let code = get_code(&fake, &http, "organizations").await;
    let body = ok_json(redeem(&fake, &http, &code, VERIFIER, REDIRECT).await).await;
    assert!(body["refresh_token"].is_string());
    let id = jwt_claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["nonce"], "nonce-1");
    assert_eq!(id["oid"], user.object_id);
    assert_eq!(id["tid"], user.tenant);
    let access = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["upn"], user.upn);
    assert_eq!(access["appid"], AZURE_CLI_CLIENT_ID);

    let reused = redeem(&fake, &http, &code, VERIFIER, REDIRECT).await;
    assert_entra_error(reused, 400, "invalid_grant", 54005).await;
    assert!(!format!("{:?}", fake.requests()).contains(&code));
}

#[tokio::test]
async fn pkce_redirect_and_client_checks() {
    let fake = FakeAzure::start().await.unwrap();
    let http = no_redirects(&fake);
    let user = setup(&fake);

    let code = get_code(&fake, &http, &user.tenant).await;
    let wrong = redeem(
        &fake,
        &http,
        &code,
        "another-verifier-0123456789-0123456789-xyz",
        REDIRECT,
    );
    assert_entra_error(wrong.await, 400, "invalid_grant", 501481).await;
    let moved = redeem(&fake, &http, &code, VERIFIER, "http://localhost:7072").await;
    assert_entra_error(moved, 400, "invalid_grant", 50011).await;
    let secret = token_request(
        &fake,
        &http,
        "organizations",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", AZURE_CLI_CLIENT_ID),
            ("client_secret", "s3cret"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_entra_error(secret, 401, "invalid_client", 700025).await;
    // Failed redemptions do not burn the code.
    ok_json(redeem(&fake, &http, &code, VERIFIER, REDIRECT).await).await;

    let late = get_code(&fake, &http, "organizations").await;
    fake.advance_clock(Duration::from_secs(11 * 60));
    let expired = redeem(&fake, &http, &late, VERIFIER, REDIRECT).await;
    assert_entra_error(expired, 400, "invalid_grant", 70008).await;
}

#[tokio::test]
async fn refusals_redirect_with_state_or_show_an_error_page() {
    let fake = FakeAzure::start().await.unwrap();
    let http = no_redirects(&fake);
    let user = setup(&fake);

    fake.set_browser_decline(true);
    let (_, declined) = location(&authorize(&fake, &http, "organizations", &[]).await);
    assert_eq!(declined["error"], "access_denied");
    assert!(declined["error_description"].starts_with("AADSTS65004:"));
    assert_eq!(declined["state"], STATE);
    fake.set_browser_decline(false);
    fake.set_browser_user(None);
    let (_, nobody) = location(&authorize(&fake, &http, "organizations", &[]).await);
    assert_eq!(nobody["error"], "access_denied");
    fake.set_browser_user(Some(user));

    let plain = authorize(
        &fake,
        &http,
        "organizations",
        &[("code_challenge_method", "plain")],
    );
    let (_, plain) = location(&plain.await);
    assert_eq!(plain["error"], "invalid_request");

    for bad in [
        "https://localhost:7071",
        "http://evil.example/cb",
        "not a url",
    ] {
        let page = authorize(&fake, &http, "organizations", &[("redirect_uri", bad)]).await;
        assert_eq!(page.status(), 400);
        assert!(page.text().await.unwrap().contains("AADSTS50011"));
    }
    // 127.0.0.1 with a path is a loopback redirect too.
    let loopback = "http://127.0.0.1:5000/callback";
    let (base, params) =
        location(&authorize(&fake, &http, "organizations", &[("redirect_uri", loopback)]).await);
    assert_eq!(base, loopback);
    assert!(params.contains_key("code"));

    let stranger = uuid::Uuid::new_v4().to_string();
    let unknown = authorize(&fake, &http, "organizations", &[("client_id", &stranger)]).await;
    assert_eq!(unknown.status(), 400);
    assert!(unknown.text().await.unwrap().contains("AADSTS700016"));

    // A registered public client of its own works as well.
    fake.add_public_client(&stranger);
    let own = authorize(&fake, &http, "organizations", &[("client_id", &stranger)]).await;
    assert!(location(&own).1.contains_key("code"));
}
