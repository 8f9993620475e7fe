//! Helpers shared by the fake's integration tests.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fake_azure::{FakeAzure, ServicePrincipal};
use serde_json::Value;

/// Resolves every name to 127.0.0.1 (the URL's port is used).
struct Loopback;

impl reqwest::dns::Resolve for Loopback {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async {
            let addrs: reqwest::dns::Addrs =
                Box::new(std::iter::once(SocketAddr::from(([127, 0, 0, 1], 0))));
            Ok(addrs)
        })
    }
}

pub fn client_builder(fake: &FakeAzure) -> reqwest::ClientBuilder {
    let ca = reqwest::Certificate::from_pem(fake.ca_pem().as_bytes()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .dns_resolver(Loopback)
        .no_proxy()
}

pub fn client(fake: &FakeAzure) -> reqwest::Client {
    client_builder(fake).build().unwrap()
}

pub fn client_with_timeout(fake: &FakeAzure, timeout: Duration) -> reqwest::Client {
    client_builder(fake).timeout(timeout).build().unwrap()
}

/// How long a test waits for something that must happen; only a hang reaches it.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Waits (polling) until `done`; panics after [`PATIENCE`].
pub async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn token_url(fake: &FakeAzure, tenant: &str) -> String {
    format!("{}/{tenant}/oauth2/v2.0/token", fake.authority_url())
}

pub const ARM_SCOPE: &str = "https://management.core.windows.net//.default";
pub const ACR_SCOPE: &str = "https://containerregistry.azure.net/.default";

/// Client-credentials request with the secret in the body.
pub async fn sp_token_response(
    fake: &FakeAzure,
    http: &reqwest::Client,
    sp: &ServicePrincipal,
    secret: &str,
    scope: &str,
) -> reqwest::Response {
    http.post(token_url(fake, &sp.tenant))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sp.client_id.as_str()),
            ("client_secret", secret),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap()
}

/// A successful client-credentials access token.
pub async fn sp_token(
    fake: &FakeAzure,
    http: &reqwest::Client,
    sp: &ServicePrincipal,
    scope: &str,
) -> String {
    let response = sp_token_response(fake, http, sp, &sp.secret, scope).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

fn decode_part(jwt: &str, index: usize) -> Value {
    let part = jwt.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

pub fn jwt_header(jwt: &str) -> Value {
    decode_part(jwt, 0)
}

pub fn jwt_claims(jwt: &str) -> Value {
    decode_part(jwt, 1)
}

/// Exchanges an Entra token for an ACR refresh token; returns the raw response.
pub async fn exchange(
    http: &reqwest::Client,
    login_server: &str,
    tenant: &str,
    aad_token: &str,
) -> reqwest::Response {
    http.post(format!("https://{login_server}/oauth2/exchange"))
        .form(&[
            ("grant_type", "access_token"),
            ("service", login_server),
            ("tenant", tenant),
            ("access_token", aad_token),
        ])
        .send()
        .await
        .unwrap()
}

/// Asserts the exact Entra error shape and returns the body.
pub async fn assert_entra_error(
    response: reqwest::Response,
    status: u16,
    error: &str,
    code: u64,
) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], serde_json::json!([code]), "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    assert!(description.contains("\r\nTrace ID: "));
    assert!(description.contains("\r\nCorrelation ID: "));
    assert!(description.contains("\r\nTimestamp: "));
    for key in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(body[key].is_string(), "{key} missing in {body}");
    }
    body
}

/// A form POST to the token endpoint of `tenant` (a GUID, `organizations`, `common`).
pub async fn token_request(
    fake: &FakeAzure,
    http: &reqwest::Client,
    tenant: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    http.post(token_url(fake, tenant))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// A successful token response's JSON.
pub async fn ok_json(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// The refresh grant with the usual public-client parameters.
pub async fn refresh_request(
    fake: &FakeAzure,
    http: &reqwest::Client,
    tenant: &str,
    rt: &str,
    scope: &str,
) -> reqwest::Response {
    token_request(
        fake,
        http,
        tenant,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", fake_azure::AZURE_CLI_CLIENT_ID),
            ("refresh_token", rt),
            ("scope", scope),
        ],
    )
    .await
}
