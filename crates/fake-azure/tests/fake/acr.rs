use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fake_azure::{FakeAzure, RegistrySpec, Role};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use sha2::Digest;

use crate::common::*;

const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// One DER TLV: (tag, content, whole TLV, rest).
fn der(input: &[u8]) -> (u8, &[u8], &[u8], &[u8]) {
    let tag = input[0];
    let (len, header) = if input[1] < 0x80 {
        (usize::from(input[1]), 2)
    } else {
        let n = usize::from(input[1] & 0x7f);
        let len = input[2..2 + n]
            .iter()
            .fold(0usize, |a, &b| (a << 8) | usize::from(b));
        (len, 2 + n)
    };
    (
        tag,
        &input[header..header + len],
        &input[..header + len],
        &input[header + len..],
    )
}

/// The SubjectPublicKeyInfo TLV of an X.509 certificate.
fn spki_of(cert: &[u8]) -> Vec<u8> {
    let (_, cert_body, _, _) = der(cert);
    let (_, tbs, _, _) = der(cert_body);
    let mut rest = tbs;
    if rest[0] == 0xa0 {
        rest = der(rest).3; // version
    }
    for _ in 0..5 {
        rest = der(rest).3; // serial, signature, issuer, validity, subject
    }
    der(rest).2.to_vec()
}

/// libtrust key ID, computed independently of the fake.
fn libtrust(spki: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = sha2::Sha256::digest(spki);
    let mut bits = String::new();
    for byte in &digest[..30] {
        bits.push_str(&format!("{byte:08b}"));
    }
    let b32: String = bits
        .as_bytes()
        .chunks(5)
        .map(|c| {
            ALPHABET[usize::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap()] as char
        })
        .collect();
    assert_eq!(b32.len(), 48);
    b32.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(":")
}

struct Setup {
    fake: FakeAzure,
    http: reqwest::Client,
    sp: fake_azure::ServicePrincipal,
    login_server: String,
}

async fn setup(role: Role) -> Setup {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let sp = fake.add_service_principal(&fake.default_tenant());
    let reg = fake.add_registry(RegistrySpec::new("myreg"));
    fake.assign_role(&reg.name, &sp.object_id, role);
    assert_eq!(reg.login_server, fake.login_server("myreg"));
    Setup {
        fake,
        http,
        sp,
        login_server: reg.login_server,
    }
}

async fn acr_refresh_token(s: &Setup, scope: &str) -> String {
    let aad = sp_token(&s.fake, &s.http, &s.sp, scope).await;
    let response = exchange(&s.http, &s.login_server, &s.sp.tenant, &aad).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    body["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn v2_root_answers_the_bearer_challenge() {
    let s = setup(Role::AcrPull).await;
    let response = s
        .http
        .get(format!("https://{}/v2/", s.login_server))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        format!(
            "Bearer realm=\"https://{0}/oauth2/token\",service=\"{0}\"",
            s.login_server
        )
        .as_str()
    );
    assert_eq!(
        response.headers()["docker-distribution-api-version"],
        "registry/2.0"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");

    let repo = s
        .http
        .get(format!(
            "https://{}/v2/hello-world/manifests/latest",
            s.login_server
        ))
        .send()
        .await
        .unwrap();
    let header = repo.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        header.ends_with(",scope=\"repository:hello-world:pull\""),
        "{header}"
    );
}

#[tokio::test]
async fn exchange_returns_a_three_hour_distribution_compatible_refresh_token() {
    let s = setup(Role::AcrPull).await;
    let rt = acr_refresh_token(&s, ACR_SCOPE).await;

    let header = jwt_header(&rt);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    let x5c = STANDARD.decode(header["x5c"][0].as_str().unwrap()).unwrap();
    // x5c is the signing certificate: the same one as acr_signing_cert_pem, and it parses.
    let pem_body: String = s
        .fake
        .acr_signing_cert_pem()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert_eq!(STANDARD.decode(pem_body).unwrap(), x5c);
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(x5c.clone()))
        .unwrap();
    let spki = spki_of(&x5c);
    assert_eq!(header["kid"], libtrust(&spki));

    // Verify the signature with the certificate's key (PKCS#1 inside the SPKI bit string).
    let (_, spki_body, _, _) = der(&spki);
    let (_, bit_string, _, _) = der(der(spki_body).3);
    let key = DecodingKey::from_rsa_der(&bit_string[1..]);
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[s.login_server.as_str()]);
    validation.set_issuer(&["Azure Container Registry"]);
    let claims = jsonwebtoken::decode::<Value>(&rt, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3 * 3600
    );
    assert_eq!(claims["grant_type"], "refresh_token");
    assert_eq!(claims["tenant"], s.sp.tenant);
    assert_eq!(claims["version"], "1.0");
    assert_eq!(claims["sub"], s.sp.client_id);
    assert_eq!(claims["permissions"]["actions"], json!(["read"]));
    assert!(claims["jti"].is_string() && claims["nbf"].is_i64());

    // ARM audience is accepted by default.
    acr_refresh_token(&s, ARM_SCOPE).await;
    // The libtrust kid matches the key published by the fake.
    assert_eq!(
        fake_azure::libtrust_fingerprint(&spki),
        header["kid"].as_str().unwrap()
    );
}

#[tokio::test]
async fn exchange_refusals() {
    let s = setup(Role::None).await;
    let aad = sp_token(&s.fake, &s.http, &s.sp, ACR_SCOPE).await;
    // No role on the registry.
    let response = exchange(&s.http, &s.login_server, &s.sp.tenant, &aad).await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");

    // A registry refusing ARM-audience tokens.
    let strict = s
        .fake
        .add_registry(RegistrySpec::new("strict").refuse_arm_audience(true));
    s.fake.assign_role("strict", &s.sp.object_id, Role::AcrPull);
    let arm = sp_token(&s.fake, &s.http, &s.sp, ARM_SCOPE).await;
    let refused = exchange(&s.http, &strict.login_server, &s.sp.tenant, &arm).await;
    assert_eq!(refused.status(), 401);
    let acr = exchange(&s.http, &strict.login_server, &s.sp.tenant, &aad).await;
    assert_eq!(acr.status(), 200);
    s.fake.set_refuse_arm_audience("strict", false);
    let allowed = exchange(&s.http, &strict.login_server, &s.sp.tenant, &arm).await;
    assert_eq!(allowed.status(), 200);

    // Wrong tenant parameter, expired token, tampered token.
    let wrong_tenant = exchange(
        &s.http,
        &strict.login_server,
        &uuid::Uuid::new_v4().to_string(),
        &aad,
    )
    .await;
    assert_eq!(wrong_tenant.status(), 401);
    let tampered = format!("{aad}x");
    let bad = exchange(&s.http, &strict.login_server, &s.sp.tenant, &tampered).await;
    assert_eq!(bad.status(), 401);
    s.fake.advance_clock(Duration::from_secs(3600));
    let expired = exchange(&s.http, &strict.login_server, &s.sp.tenant, &aad).await;
    assert_eq!(expired.status(), 401);
}

fn access_of(body: &Value) -> Value {
    let claims = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["grant_type"], "access_token");
    claims["access"].clone()
}

#[tokio::test]
async fn token_endpoint_accepts_repeated_and_space_joined_scopes() {
    let s = setup(Role::AcrPull).await;
    let rt = acr_refresh_token(&s, ACR_SCOPE).await;
    let url = format!("https://{}/oauth2/token", s.login_server);
    let expected = json!([
        {"type": "repository", "name": "a", "actions": ["pull"]},
        {"type": "repository", "name": "b", "actions": ["pull"]},
    ]);

    let repeated: Value = s
        .http
        .post(&url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("service", s.login_server.as_str()),
            ("scope", "repository:a:pull"),
            ("scope", "repository:b:pull,push"),
            ("refresh_token", rt.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(access_of(&repeated), expected);

    let joined = s
        .http
        .post(&url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("service", s.login_server.as_str()),
            ("client_id", "docker"),
            ("scope", "repository:a:pull repository:b:pull,push"),
            ("refresh_token", rt.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 200);
    let joined: Value = joined.json().await.unwrap();
    assert_eq!(access_of(&joined), expected);

    // The access token opens /v2/.
    let at = joined["access_token"].as_str().unwrap();
    let ping = s
        .http
        .get(format!("https://{}/v2/", s.login_server))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);

    // GET with Basic zero GUID + RT; offline_token returns the refresh token.
    let get = |offline: bool| {
        let mut query = vec![
            ("service", s.login_server.clone()),
            ("scope", "repository:a:pull".to_owned()),
            ("scope", "registry:catalog:*".to_owned()),
            ("account", ZERO_GUID.to_owned()),
            ("client_id", "docker".to_owned()),
        ];
        if offline {
            query.push(("offline_token", "true".to_owned()));
        }
        s.http
            .get(&url)
            .query(&query)
            .basic_auth(ZERO_GUID, Some(&rt))
            .send()
    };
    let offline: Value = get(true).await.unwrap().json().await.unwrap();
    assert_eq!(offline["refresh_token"], rt.as_str());
    assert_eq!(
        access_of(&offline),
        json!([
            {"type": "repository", "name": "a", "actions": ["pull"]},
            {"type": "registry", "name": "catalog", "actions": ["*"]},
        ])
    );
    let online: Value = get(false).await.unwrap().json().await.unwrap();
    assert!(online.get("refresh_token").is_none());

    // Expired refresh token.
    s.fake.advance_clock(Duration::from_secs(3 * 3600 + 60));
    let stale = s
        .http
        .post(&url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("service", s.login_server.as_str()),
            ("scope", "repository:a:pull"),
            ("refresh_token", rt.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 401);
}

#[tokio::test]
async fn basic_auth_with_admin_and_service_principal() {
    let s = setup(Role::AcrPush).await;
    let url = format!("https://{}/oauth2/token", s.login_server);
    let get = |user: String, pass: String| {
        s.http
            .get(&url)
            .query(&[
                ("service", s.login_server.as_str()),
                ("scope", "repository:app:pull,push,delete"),
            ])
            .basic_auth(user, Some(pass))
            .send()
    };
    let sp: Value = get(s.sp.client_id.clone(), s.sp.secret.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        access_of(&sp),
        json!([{"type": "repository", "name": "app", "actions": ["pull", "push"]}])
    );
    let wrong = get(s.sp.client_id.clone(), "nope".into()).await.unwrap();
    assert_eq!(wrong.status(), 401);

    let (admin, passwords) = s.fake.admin_credentials("myreg").unwrap();
    let disabled = get(admin.clone(), passwords[0].clone()).await.unwrap();
    assert_eq!(disabled.status(), 401);
    s.fake.set_admin_enabled("myreg", true);
    let admin_body: Value = get(admin, passwords[1].clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        access_of(&admin_body),
        json!([{"type": "repository", "name": "app", "actions": ["pull", "push", "delete"]}])
    );
}

#[tokio::test]
async fn custom_domain_registry_gets_its_own_certificate() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let reg = fake
        .add_registry(RegistrySpec::new("corp").login_server_host("registry.contoso.localhost"));
    assert_eq!(
        reg.login_server,
        format!("registry.contoso.localhost:{}", fake.port())
    );
    assert_eq!(fake.login_server("corp"), reg.login_server);
    let response = http
        .get(format!("https://{}/v2/", reg.login_server))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("realm=\"https://registry.contoso.localhost:"));
}
