//! Client assertions (docs/protocol.md#entra-client-assertion): certificate-signed JWTs (RS256 +
//! `x5t`, PS256 + `x5t#S256`) and federated tokens from an external OIDC issuer (workload
//! identity).
//!
//! An assertion whose `iss` is the client ID is a certificate assertion; any other `iss` is
//! looked up among the app's federated credentials.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::entra::{TenantPath, TokenReq};
use crate::x509::hex_upper;
use crate::{errors, lock};

/// The audience federated tokens must carry.
pub(crate) const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";
/// Allowed clock skew for `nbf`/`iat` in the future.
const SKEW_SECONDS: i64 = 300;
const CERT_DOCS: &str = "Review the documentation at \
    https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .";
const WIF_DOCS: &str = "Check your federated identity credential Subject, Audience and Issuer \
    against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

fn invalid_client(req: &TokenReq<'_>, code: u32, message: &str) -> Response {
    errors::entra(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        code,
        message,
        req.s.now(),
    )
}

fn malformed(req: &TokenReq<'_>, reason: &str) -> Response {
    invalid_client(
        req,
        50027,
        &format!("JWT token is invalid or malformed. [Reason - {reason}]"),
    )
}

/// Checks a `client_assertion` for `client_id`.
pub(crate) fn verify(req: &TokenReq<'_>, client_id: &str, jwt: &str) -> Result<(), Response> {
    let header = jsonwebtoken::decode_header(jwt)
        .map_err(|_| malformed(req, "The JWT header could not be decoded."))?;
    let claims: Map<String, Value> = jsonwebtoken::dangerous::insecure_decode_claims(jwt)
        .map_err(|_| malformed(req, "The JWT payload could not be decoded."))?;
    let text = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or_default();
    if text("iss").eq_ignore_ascii_case(client_id) {
        certificate(req, client_id, jwt, &header, &claims)
    } else {
        federated(req, client_id, jwt, &claims)
    }
}

fn certificate(
    req: &TokenReq<'_>,
    client_id: &str,
    jwt: &str,
    header: &jsonwebtoken::Header,
    claims: &Map<String, Value>,
) -> Result<(), Response> {
    // MSAL for Python pads its base64url thumbprints; Entra accepts both.
    let decode = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')).ok())
    };
    let (thumbprint, sha256) = match (decode(&header.x5t_s256), decode(&header.x5t)) {
        (Some(t), _) => (t, true),
        (None, Some(t)) => (t, false),
        (None, None) => {
            return Err(invalid_client(
                req,
                50027,
                "Invalid JWT token. No certificate thumbprint specified in token header.",
            ));
        }
    };
    let hex = hex_upper(&thumbprint);
    let key = lock(&req.s.dir)
        .auth
        .certificates
        .iter()
        .find(|c| {
            c.client_id.eq_ignore_ascii_case(client_id)
                && if sha256 {
                    c.sha256 == thumbprint
                } else {
                    c.sha1 == thumbprint
                }
        })
        .map(|c| (c.n.clone(), c.e.clone()));
    let Some((n, e)) = key else {
        return Err(invalid_client(
            req,
            700027,
            &format!(
                "Client assertion contains an invalid signature. [Reason - The key was not \
                 found., Thumbprint of key used by client: '{hex}', Please visit the Azure \
                 Portal, Graph Explorer or directly use MS Graph to see configured keys for app \
                 Id '{client_id}'. Review the documentation at \
                 https://docs.microsoft.com/en-us/graph/deployments to determine the \
                 corresponding service endpoint and \
                 https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http \
                 to build a query request URL, such as \
                 'https://graph.microsoft.com/beta/applications/{client_id}']."
            ),
        ));
    };
    let alg_ok = matches!(header.alg, Algorithm::RS256 | Algorithm::PS256);
    if !alg_ok
        || !signature_ok(
            jwt,
            header.alg,
            &DecodingKey::from_rsa_raw_components(&n, &e),
        )
    {
        return Err(invalid_client(
            req,
            700027,
            &format!(
                "Client assertion contains an invalid signature. [Reason - The provided \
                 signature value did not match the expected signature value., Thumbprint of key \
                 used by client: '{hex}', Found key 'Start=01/01/2020 00:00:00, \
                 End=12/31/2049 00:00:00']."
            ),
        ));
    }
    if !audience_matches(claims, &token_endpoints(req)) {
        return Err(invalid_client(
            req,
            700023,
            &format!("Client assertion audience claim does not match Realm issuer. {CERT_DOCS}"),
        ));
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !sub.eq_ignore_ascii_case(client_id) {
        return Err(invalid_client(
            req,
            700021,
            &format!(
                "Client assertion application identifier doesn't match 'client_id' parameter. \
                 {CERT_DOCS}"
            ),
        ));
    }
    time_window(req, claims)?;
    if claims
        .get("jti")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(malformed(req, "The 'jti' claim is missing."));
    }
    Ok(())
}

fn federated(
    req: &TokenReq<'_>,
    client_id: &str,
    jwt: &str,
    claims: &Map<String, Value>,
) -> Result<(), Response> {
    let text = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or_default();
    let issuer = text("iss");
    let subjects: Vec<String> = lock(&req.s.dir)
        .auth
        .federated
        .iter()
        .filter(|f| f.client_id.eq_ignore_ascii_case(client_id) && f.issuer == issuer)
        .map(|f| f.subject.clone())
        .collect();
    let key = crate::lock(&req.s.issuers).get(issuer).cloned();
    let (false, Some(key)) = (subjects.is_empty(), key) else {
        return Err(invalid_client(
            req,
            700211,
            &format!(
                "No matching federated identity record found for presented assertion issuer \
                 '{issuer}'. Please check your federated identity credential Subject, Audience \
                 and Issuer against the presented assertion. \
                 https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
            ),
        ));
    };
    if key.verify(jwt).is_err() {
        return Err(invalid_client(
            req,
            700027,
            "Client assertion contains an invalid signature. [Reason - The key was not found., \
             the signing key of the presented assertion is not published by its issuer.]",
        ));
    }
    time_window(req, claims)?;
    if !audience_matches(claims, &[TOKEN_EXCHANGE_AUDIENCE.to_owned()]) {
        let aud = claims.get("aud").map(Value::to_string).unwrap_or_default();
        return Err(invalid_client(
            req,
            700212,
            &format!(
                "No matching federated identity record found for presented assertion audience \
                 {aud}. {WIF_DOCS}"
            ),
        ));
    }
    let subject = text("sub");
    if !subjects.iter().any(|s| s == subject) {
        return Err(invalid_client(
            req,
            700213,
            &format!(
                "No matching federated identity record found for presented assertion subject \
                 '{subject}'. {WIF_DOCS}"
            ),
        ));
    }
    Ok(())
}

fn signature_ok(jwt: &str, alg: Algorithm, key: &DecodingKey) -> bool {
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Map<String, Value>>(jwt, key, &validation).is_ok()
}

/// The token endpoint URLs a certificate assertion may name: the tenant as GUID or as sent,
/// v2 or v1 endpoint, with or without the port.
fn token_endpoints(req: &TokenReq<'_>) -> Vec<String> {
    let s = req.s;
    let login = s.login_host();
    let hosts = [format!("{login}:{}", s.port), login];
    let mut tenants = vec![req.segment.clone()];
    if let TenantPath::Id(t) = &req.tenant {
        tenants.push(t.clone());
    }
    let mut out = Vec::new();
    for host in &hosts {
        for tenant in &tenants {
            out.push(format!("https://{host}/{tenant}/oauth2/v2.0/token"));
            out.push(format!("https://{host}/{tenant}/oauth2/token"));
        }
    }
    out
}

fn audience_matches(claims: &Map<String, Value>, accepted: &[String]) -> bool {
    let matches = |aud: &str| accepted.iter().any(|a| a.eq_ignore_ascii_case(aud));
    match claims.get("aud") {
        Some(Value::String(aud)) => matches(aud),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(matches),
        _ => false,
    }
}

fn assertion_time(t: Option<i64>) -> String {
    t.and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S.0000000Z").to_string())
        .unwrap_or_else(|| "(none)".to_owned())
}

/// `exp` in the future, `nbf`/`iat` not beyond the allowed skew (fake clock): else AADSTS700024.
fn time_window(req: &TokenReq<'_>, claims: &Map<String, Value>) -> Result<(), Response> {
    let now = req.s.now().timestamp();
    // Numeric dates may be fractional (MSAL for Python sends `time.time()` floats).
    let num = |k: &str| {
        let v = claims.get(k)?;
        v.as_i64().or_else(|| v.as_f64().map(|f| f.floor() as i64))
    };
    let (exp, nbf, iat) = (num("exp"), num("nbf"), num("iat"));
    let future = |t: Option<i64>| t.is_some_and(|t| t > now + SKEW_SECONDS);
    if exp.is_none_or(|exp| exp <= now) || future(nbf) || future(iat) {
        return Err(invalid_client(
            req,
            700024,
            &format!(
                "Client assertion is not within its valid time range. Current time: {}, \
                 assertion valid from {}, expiry time of assertion {}. {CERT_DOCS}",
                assertion_time(Some(now)),
                assertion_time(nbf.or(iat)),
                assertion_time(exp)
            ),
        ));
    }
    Ok(())
}
