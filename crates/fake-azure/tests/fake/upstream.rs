//! A registry fronting an upstream (`RegistrySpec::upstream`): `/v2/...` is forwarded with
//! streamed bodies and hop-by-hop headers dropped; `/oauth2/*` stay the fake's.

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use fake_azure::{FakeAzure, RegistrySpec, Role};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{ACR_SCOPE, client, exchange, jwt_claims, jwt_header, sp_token};

const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// Size of the bodies sent both ways: larger than the fake's 1 MiB buffer limit.
const BIG: usize = 3 << 20;

/// A stand-in for distribution: echoes what it got as JSON, answers the `/v2/` challenge,
/// a relative upload `Location`, a big blob and a `HEAD` with a `Content-Length`.
async fn upstream(
    seen: Arc<Mutex<Vec<String>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    seen.lock().unwrap().push(format!("{method} {uri}"));
    let path = uri.path().to_owned();
    let builder = Response::builder().header("docker-distribution-api-version", "registry/2.0");
    if path == "/v2/" && !headers.contains_key("authorization") {
        return builder
            .status(StatusCode::UNAUTHORIZED)
            .header(
                "www-authenticate",
                "Bearer realm=\"https://r.example/token\",service=\"svc\"",
            )
            .header("connection", "close")
            .body(Body::from(
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"upstream says no"}]}"#,
            ))
            .unwrap();
    }
    if path.ends_with("/blobs/big") {
        if method == Method::HEAD {
            return builder
                .header("content-length", BIG.to_string())
                .body(Body::empty())
                .unwrap();
        }
        return builder.body(Body::from(vec![7u8; BIG])).unwrap();
    }
    if method == Method::POST && path.ends_with("/blobs/uploads/") {
        return builder
            .status(StatusCode::ACCEPTED)
            .header("location", "/v2/hello/world/blobs/uploads/u1?_state=abc")
            .header("range", "0-0")
            .header("docker-upload-uuid", "u1")
            .body(Body::empty())
            .unwrap();
    }
    let bytes = collect(body).await;
    let names: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
    let text = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let echo = json!({
        "method": method.as_str(),
        "uri": uri.to_string(),
        "headers": names,
        "authorization": text("authorization"),
        "content_type": text("content-type"),
        "content_length": text("content-length"),
        "host": text("host"),
        "len": bytes.len(),
        "sha256": format!("{:x}", Sha256::digest(&bytes)),
    });
    builder
        .status(StatusCode::CREATED)
        .header("docker-content-digest", "sha256:feed")
        .header("content-type", "application/json")
        .body(Body::from(echo.to_string()))
        .unwrap()
}

/// Reads a whole body (the upstream's side).
async fn collect(body: Body) -> Vec<u8> {
    axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap()
        .to_vec()
}

async fn start_upstream() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = seen.clone();
    let app = axum::Router::new().fallback(move |m: Method, u: Uri, h: HeaderMap, b: Body| {
        upstream(state.clone(), m, u, h, b)
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn v2_is_forwarded_to_the_upstream_and_oauth2_stays_the_fakes() {
    let (url, seen) = start_upstream().await;
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let sp = fake.add_service_principal(&fake.default_tenant());
    let reg = fake.add_registry(RegistrySpec::new("proxied").upstream(url));
    fake.assign_role(&reg.name, &sp.object_id, Role::AcrPush);
    let base = format!("https://{}", reg.login_server);

    // The upstream's own challenge comes back unchanged, minus hop-by-hop headers.
    let root = http.get(format!("{base}/v2/")).send().await.unwrap();
    assert_eq!(root.status(), 401);
    assert_eq!(
        root.headers()["www-authenticate"],
        "Bearer realm=\"https://r.example/token\",service=\"svc\""
    );
    assert!(
        root.headers()
            .get("connection")
            .is_none_or(|v| v != "close")
    );
    assert!(root.text().await.unwrap().contains("upstream says no"));

    // A relative upload Location and Range pass through.
    let start = http
        .post(format!("{base}/v2/hello/world/blobs/uploads/"))
        .bearer_auth("t0")
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 202);
    assert_eq!(
        start.headers()["location"],
        "/v2/hello/world/blobs/uploads/u1?_state=abc"
    );
    assert_eq!(start.headers()["range"], "0-0");

    // A big upload streams through with its headers; hop-by-hop ones are dropped.
    let body = vec![42u8; BIG];
    let put = http
        .put(format!(
            "{base}/v2/hello/world/blobs/uploads/u1?_state=abc&digest=sha256:x"
        ))
        .bearer_auth("t1")
        .header("content-type", "application/octet-stream")
        .header("connection", "keep-alive, x-secret-hop")
        .header("x-secret-hop", "1")
        .header("x-end-to-end", "1")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    assert_eq!(put.headers()["docker-content-digest"], "sha256:feed");
    let echo: Value = put.json().await.unwrap();
    assert_eq!(echo["method"], "PUT");
    assert_eq!(
        echo["uri"],
        "/v2/hello/world/blobs/uploads/u1?_state=abc&digest=sha256:x"
    );
    assert_eq!(echo["authorization"], "Bearer t1");
    assert_eq!(echo["content_type"], "application/octet-stream");
    assert_eq!(echo["content_length"], BIG.to_string());
    assert_eq!(echo["host"], reg.login_server, "the client's Host is kept");
    assert_eq!(echo["len"], BIG);
    assert_eq!(echo["sha256"], format!("{:x}", Sha256::digest(&body)));
    let names: Vec<&str> = echo["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(names.contains(&"x-end-to-end"), "{names:?}");
    assert!(
        !names.contains(&"x-secret-hop") && !names.contains(&"connection"),
        "{names:?}"
    );

    // A big download streams back; HEAD keeps the upstream's Content-Length.
    let blob = http
        .get(format!("{base}/v2/hello/world/blobs/big"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(blob.status(), 200);
    assert_eq!(blob.bytes().await.unwrap(), Bytes::from(vec![7u8; BIG]));
    let head = http
        .head(format!("{base}/v2/hello/world/blobs/big"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], BIG.to_string());

    // /oauth2/* are the fake's: a token for distribution (aud = login server, as a string).
    let aad = sp_token(&fake, &http, &sp, ACR_SCOPE).await;
    let rt: Value = exchange(&http, &reg.login_server, &sp.tenant, &aad)
        .await
        .json()
        .await
        .unwrap();
    let token: Value = http
        .get(format!("{base}/oauth2/token"))
        .query(&[
            ("service", reg.login_server.as_str()),
            ("scope", "repository:hello/world:pull,push"),
            ("scope", "registry:catalog:*"),
        ])
        .basic_auth(ZERO_GUID, rt["refresh_token"].as_str())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let at = token["access_token"].as_str().unwrap();
    let claims = jwt_claims(at);
    assert_eq!(claims["aud"], json!(reg.login_server));
    assert_eq!(claims["iss"], "Azure Container Registry");
    assert_eq!(
        claims["access"],
        json!([
            {"type": "repository", "name": "hello/world", "actions": ["pull", "push"]},
            {"type": "registry", "name": "catalog", "actions": ["*"]},
        ])
    );
    let header = jwt_header(at);
    assert!(
        header["x5c"][0].is_string() && header["kid"].is_string(),
        "{header}"
    );

    let forwarded = seen.lock().unwrap().clone();
    assert!(
        forwarded.iter().all(|line| line.contains(" /v2")),
        "{forwarded:?}"
    );
    assert_eq!(forwarded.len(), 5, "{forwarded:?}");
    let log = fake.requests();
    assert!(
        log.iter()
            .any(|r| r.method == "PUT" && r.path.starts_with("/v2/hello") && r.status == 201)
    );
}

#[tokio::test]
async fn an_unreachable_upstream_answers_502() {
    // Bound and never listened on, for the whole test: connections are refused, and no other
    // server (another test's, or this fake's own listeners) can take the port meanwhile.
    let closed = tokio::net::TcpSocket::new_v4().unwrap();
    closed.bind(([127, 0, 0, 1], 0).into()).unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    let fake = FakeAzure::start().await.unwrap();
    let reg = fake.add_registry(RegistrySpec::new("gone").upstream(url));
    let response = client(&fake)
        .get(format!("https://{}/v2/", reg.login_server))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "UNAVAILABLE");
}
