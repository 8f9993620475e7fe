use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fake_azure::{CertificateCredential, FakeAzure, ServicePrincipal};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha1::Digest as _;

use crate::common::*;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const EXCHANGE_AUD: &str = "api://AzureADTokenExchange";

fn hex_to_b64url(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Claims as MSAL sends them, `exp` 10 minutes ahead on the fake clock.
fn claims(fake: &FakeAzure, sp: &ServicePrincipal, aud: &str) -> Value {
    let now = fake.now().timestamp();
    json!({"aud": aud, "iss": sp.client_id, "sub": sp.client_id,
           "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "nbf": now, "exp": now + 600})
}

fn sign(alg: Algorithm, cert: &CertificateCredential, key_pem: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.typ = Some("JWT".into());
    match alg {
        Algorithm::PS256 => header.x5t_s256 = Some(hex_to_b64url(&cert.thumbprint_sha256_hex)),
        _ => header.x5t = Some(hex_to_b64url(&cert.thumbprint_sha1_hex)),
    }
    let key = EncodingKey::from_rsa_pem(key_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

async fn with_assertion(
    fake: &FakeAzure,
    http: &reqwest::Client,
    tenant: &str,
    client_id: &str,
    assertion: &str,
) -> reqwest::Response {
    token_request(
        fake,
        http,
        tenant,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
            ("scope", ACR_SCOPE),
        ],
    )
    .await
}

#[tokio::test]
async fn certificate_assertions_rs256_and_ps256() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let tenant = fake.default_tenant();
    let (sp, cert) = fake.add_service_principal_with_certificate(&tenant);
    assert_eq!(
        cert.combined_pem,
        format!("{}{}", cert.cert_pem, cert.key_pem)
    );
    let aud = token_url(&fake, &tenant.id);
    for alg in [Algorithm::RS256, Algorithm::PS256] {
        let jwt = sign(alg, &cert, &cert.key_pem, &claims(&fake, &sp, &aud));
        let body = ok_json(with_assertion(&fake, &http, &tenant.id, &sp.client_id, &jwt).await);
        let access = jwt_claims(body.await["access_token"].as_str().unwrap());
        assert_eq!(access["appidacr"], "2");
        assert_eq!(access["oid"], sp.object_id);
    }
    // `aud` without the port is accepted as well.
    let portless = format!("https://login.localhost/{}/oauth2/v2.0/token", tenant.id);
    let jwt = sign(
        Algorithm::RS256,
        &cert,
        &cert.key_pem,
        &claims(&fake, &sp, &portless),
    );
    ok_json(with_assertion(&fake, &http, &tenant.id, &sp.client_id, &jwt).await).await;

    // As MSAL for Python signs: padded base64url thumbprint, fractional numeric dates.
    let mut header = Header::new(Algorithm::RS256);
    let sha1 = (0..cert.thumbprint_sha1_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&cert.thumbprint_sha1_hex[i..i + 2], 16).unwrap())
        .collect::<Vec<u8>>();
    header.x5t = Some(base64::engine::general_purpose::URL_SAFE.encode(sha1));
    assert!(header.x5t.as_ref().unwrap().ends_with('='));
    let mut float_claims = claims(&fake, &sp, &aud);
    let now = fake.now().timestamp() as f64;
    float_claims["iat"] = json!(now + 0.25);
    float_claims["exp"] = json!(now + 600.25);
    let signing = EncodingKey::from_rsa_pem(cert.key_pem.as_bytes()).unwrap();
    let jwt = jsonwebtoken::encode(&header, &float_claims, &signing).unwrap();
    ok_json(with_assertion(&fake, &http, &tenant.id, &sp.client_id, &jwt).await).await;

    // A certificate made by the test.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let own = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .self_signed(&key)
        .unwrap();
    fake.add_certificate(&sp.client_id, &own.pem()).unwrap();
    assert!(fake.add_certificate(&sp.client_id, "not a pem").is_err());
    let mut header = Header::new(Algorithm::RS256);
    header.x5t = Some(URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(own.der())));
    let signing = EncodingKey::from_rsa_pem(key.serialize_pem().as_bytes()).unwrap();
    let jwt = jsonwebtoken::encode(&header, &claims(&fake, &sp, &aud), &signing).unwrap();
    ok_json(with_assertion(&fake, &http, &tenant.id, &sp.client_id, &jwt).await).await;
}

#[tokio::test]
async fn certificate_assertion_failures() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let tenant = fake.default_tenant();
    let (sp, cert) = fake.add_service_principal_with_certificate(&tenant);
    let (_, other) = fake.add_service_principal_with_certificate(&tenant);
    let aud = token_url(&fake, &tenant.id);
    let send = |jwt: String| {
        let (fake, http, tid, id) = (&fake, &http, tenant.id.clone(), sp.client_id.clone());
        async move { with_assertion(fake, http, &tid, &id, &jwt).await }
    };

    // sp's thumbprint, another key.
    let wrong_key = sign(
        Algorithm::RS256,
        &cert,
        &other.key_pem,
        &claims(&fake, &sp, &aud),
    );
    let body = assert_entra_error(send(wrong_key).await, 401, "invalid_client", 700027).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("invalid signature")
    );
    // A certificate the app does not have.
    let unknown = sign(
        Algorithm::RS256,
        &other,
        &other.key_pem,
        &claims(&fake, &sp, &aud),
    );
    assert_entra_error(send(unknown).await, 401, "invalid_client", 700027).await;

    let mut expired = claims(&fake, &sp, &aud);
    expired["exp"] = json!(fake.now().timestamp() - 10);
    let expired = sign(Algorithm::RS256, &cert, &cert.key_pem, &expired);
    assert_entra_error(send(expired).await, 401, "invalid_client", 700024).await;
    let mut future = claims(&fake, &sp, &aud);
    future["nbf"] = json!(fake.now().timestamp() + 600);
    let future = sign(Algorithm::PS256, &cert, &cert.key_pem, &future);
    assert_entra_error(send(future).await, 401, "invalid_client", 700024).await;

    let wrong_aud = claims(
        &fake,
        &sp,
        "https://login.microsoftonline.com/x/oauth2/v2.0/token",
    );
    let wrong_aud = sign(Algorithm::RS256, &cert, &cert.key_pem, &wrong_aud);
    assert_entra_error(send(wrong_aud).await, 401, "invalid_client", 700023).await;
    let mut wrong_sub = claims(&fake, &sp, &aud);
    wrong_sub["sub"] = json!(uuid::Uuid::new_v4().to_string());
    let wrong_sub = sign(Algorithm::RS256, &cert, &cert.key_pem, &wrong_sub);
    assert_entra_error(send(wrong_sub).await, 401, "invalid_client", 700021).await;

    let bare = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims(&fake, &sp, &aud),
        &EncodingKey::from_rsa_pem(cert.key_pem.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_entra_error(send(bare).await, 401, "invalid_client", 50027).await;
}

#[tokio::test]
async fn federated_credentials() {
    let fake = FakeAzure::start().await.unwrap();
    let http = client(&fake);
    let tenant = fake.default_tenant();
    let sp = fake.add_service_principal(&tenant);
    let issuer = "https://oidc.cluster.localhost";
    let subject = "system:serviceaccount:ci:builder";
    fake.add_federated_credential(&sp.client_id, issuer, subject);
    let good = fake.issue_federated_token(issuer, subject, EXCHANGE_AUD);
    let claims_of = jwt_claims(&good);
    assert_eq!(claims_of["iss"], issuer);
    assert_eq!(claims_of["sub"], subject);
    let body = ok_json(with_assertion(&fake, &http, &tenant.id, &sp.client_id, &good).await);
    let access = jwt_claims(body.await["access_token"].as_str().unwrap());
    assert_eq!(access["appid"], sp.client_id);
    assert_eq!(access["appidacr"], "2");

    let other_subject =
        fake.issue_federated_token(issuer, "system:serviceaccount:ci:other", EXCHANGE_AUD);
    let response = with_assertion(&fake, &http, &tenant.id, &sp.client_id, &other_subject).await;
    assert_entra_error(response, 401, "invalid_client", 700213).await;
    let other_aud = fake.issue_federated_token(issuer, subject, "api://something-else");
    let response = with_assertion(&fake, &http, &tenant.id, &sp.client_id, &other_aud).await;
    assert_entra_error(response, 401, "invalid_client", 700212).await;
    let stranger =
        fake.issue_federated_token("https://other.issuer.localhost", subject, EXCHANGE_AUD);
    let response = with_assertion(&fake, &http, &tenant.id, &sp.client_id, &stranger).await;
    assert_entra_error(response, 401, "invalid_client", 700211).await;
    fake.advance_clock(std::time::Duration::from_secs(3700));
    let response = with_assertion(&fake, &http, &tenant.id, &sp.client_id, &good).await;
    assert_entra_error(response, 401, "invalid_client", 700024).await;

    // A user-assigned managed identity with a federated credential (workload identity on AKS).
    let mi = fake.add_managed_identity(&tenant);
    fake.add_federated_credential(&mi.client_id, issuer, subject);
    let fresh = fake.issue_federated_token(issuer, subject, EXCHANGE_AUD);
    let body = ok_json(with_assertion(&fake, &http, &tenant.id, &mi.client_id, &fresh).await);
    assert_eq!(
        jwt_claims(body.await["access_token"].as_str().unwrap())["oid"],
        mi.object_id
    );
}
