//! Entra token minting: scope parsing, v1 access-token claims, token responses, and the
//! refresh-token grant.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use crate::app::{GRAPH_AUDIENCE, Shared, random_token};
use crate::entra::{TenantPath, authenticate_client, client_auth, missing_parameter};
use crate::errors;
use crate::form::Form;
use crate::lock;
use crate::state::{RtRec, ServicePrincipal, User};

/// Access-token lifetime (`expires_in`).
pub(crate) const ACCESS_TOKEN_SECONDS: i64 = 3599;
/// Refresh-token inactivity limit.
const REFRESH_TOKEN_DAYS: i64 = 90;
const RESERVED_SCOPES: [&str; 4] = ["openid", "profile", "offline_access", "email"];

/// Who a token is for.
#[derive(Debug, Clone)]
pub(crate) enum Grant {
    /// A service principal; `appidacr` is "1" for a secret, "2" for a certificate.
    App {
        principal: ServicePrincipal,
        appidacr: &'static str,
    },
    /// A user signed in to a (public or confidential) client.
    User { user: User, client_id: String },
}

/// A parsed `scope` parameter.
#[derive(Debug, Clone)]
pub(crate) struct Scopes {
    /// The single resource (the token `aud`).
    pub(crate) resource: String,
    /// Every scope as requested, for the response's `scope`.
    pub(crate) requested: Vec<String>,
    pub(crate) openid: bool,
}

fn invalid_scope(s: &Shared, scope: &str) -> Response {
    errors::entra(
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        70011,
        &format!(
            "The provided request must include a 'scope' input parameter. The provided value for \
             the input parameter 'scope' is not valid. The scope {scope} is not valid."
        ),
        s.now(),
    )
}

/// The resource of one scope: `<resource>/.default` or `<resource>/<permission>`; bare names
/// (`User.Read`) are Graph's.
fn scope_resource(scope: &str) -> Option<(String, bool)> {
    if let Some(resource) = scope.strip_suffix("/.default") {
        return (!resource.is_empty()).then(|| (resource.to_owned(), true));
    }
    match scope.rfind('/') {
        Some(i) if scope.contains("://") && i > scope.find("://").unwrap_or(0) + 2 => {
            Some((scope[..i].to_owned(), false))
        }
        Some(_) => None,
        None => Some((GRAPH_AUDIENCE.to_owned(), false)),
    }
}

/// Parses `scope`: exactly one resource; `app_only` grants need `<resource>/.default`.
pub(crate) fn parse_scopes(
    s: &Shared,
    raw: Option<&str>,
    tenant: &str,
    app_only: bool,
) -> Result<Scopes, Response> {
    let raw = raw.unwrap_or_default();
    let requested: Vec<String> = raw.split_whitespace().map(str::to_owned).collect();
    let mut resource: Option<String> = None;
    for scope in requested
        .iter()
        .filter(|s| !RESERVED_SCOPES.contains(&s.as_str()))
    {
        let Some((res, default)) = scope_resource(scope) else {
            return Err(invalid_scope(s, scope));
        };
        if (app_only && !default) || resource.as_ref().is_some_and(|r| *r != res) {
            return Err(invalid_scope(s, scope));
        }
        resource = Some(res);
    }
    let Some(resource) = resource else {
        return Err(invalid_scope(s, raw));
    };
    let refused =
        crate::app::Shared::is_acr_audience(&resource) && lock(&s.dir).refuse_acr_audience;
    if refused || !s.is_known_resource(&resource) {
        return Err(errors::entra(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
            &format!(
                "The resource principal named {resource} was not found in the tenant named \
                 {tenant}. This can happen if the application has not been installed by the \
                 administrator of the tenant or consented to by any user in the tenant. You might \
                 have sent your authentication request to the wrong tenant."
            ),
            s.now(),
        ));
    }
    Ok(Scopes {
        resource,
        openid: requested.iter().any(|s| s == "openid"),
        requested,
    })
}

pub(crate) fn unknown_client(s: &Shared, client_id: &str, tenant: &str) -> Response {
    errors::entra(
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700016,
        &format!(
            "Application with identifier '{client_id}' was not found in the directory '{tenant}'. \
             This can happen if the application has not been installed by the administrator of \
             the tenant or consented to by any user in the tenant. You may have sent your \
             authentication request to the wrong tenant."
        ),
        s.now(),
    )
}

fn pairwise_sub(oid: &str, client_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(format!("{oid}|{client_id}")))
}

/// v1 access-token claims (protocol.md §2.9).
fn access_claims(grant: &Grant, resource: &str, now: DateTime<Utc>) -> Map<String, Value> {
    let iat = now.timestamp();
    let (tid, oid) = match grant {
        Grant::App { principal, .. } => (&principal.tenant, &principal.object_id),
        Grant::User { user, .. } => (&user.tenant, &user.object_id),
    };
    let iss = format!("https://sts.windows.net/{tid}/");
    let mut claims = json!({
        "aud": resource,
        "iss": iss,
        "iat": iat,
        "nbf": iat,
        "exp": iat + ACCESS_TOKEN_SECONDS,
        "aio": random_token(24),
    });
    let extra = match grant {
        Grant::App {
            principal,
            appidacr,
        } => json!({
            "appid": principal.client_id,
            "appidacr": appidacr,
            "idp": iss,
            "idtyp": "app",
            "oid": oid,
            "sub": oid,
        }),
        Grant::User { user, client_id } => json!({
            "acr": "1",
            "amr": ["pwd"],
            "appid": client_id,
            "appidacr": "0",
            "idtyp": "user",
            "name": user.upn,
            "oid": oid,
            "scp": "user_impersonation",
            "sub": pairwise_sub(oid, client_id),
            "unique_name": user.upn,
            "upn": user.upn,
        }),
    };
    if let (Some(map), Value::Object(extra)) = (claims.as_object_mut(), extra) {
        map.extend(extra);
        map.insert("rh".into(), json!(format!("0.{}", random_token(30))));
        map.insert("tid".into(), json!(tid));
        map.insert("uti".into(), json!(random_token(16)));
        map.insert("ver".into(), json!("1.0"));
    }
    match claims {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn id_token_claims(
    s: &Shared,
    user: &User,
    client_id: &str,
    now: DateTime<Utc>,
) -> Map<String, Value> {
    let iat = now.timestamp();
    let claims = json!({
        "aud": client_id,
        "iss": format!("{}/{}/v2.0", s.authority(), user.tenant),
        "iat": iat,
        "nbf": iat,
        "exp": iat + 3600,
        "name": user.upn,
        "oid": user.object_id,
        "preferred_username": user.upn,
        "sub": pairwise_sub(&user.object_id, client_id),
        "tid": user.tenant,
        "uti": random_token(16),
        "ver": "2.0",
    });
    match claims {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn server_error(s: &Shared, e: &anyhow::Error) -> Response {
    errors::entra(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        90033,
        &format!("A transient error has occurred: {e}"),
        s.now(),
    )
}

/// The token endpoint's success response.
pub(crate) fn token_response(
    s: &Shared,
    grant: &Grant,
    scopes: &Scopes,
    refresh_token: Option<String>,
    form: &Form,
) -> Response {
    let now = s.now();
    let access_token = match s.sign_entra(&access_claims(grant, &scopes.resource, now)) {
        Ok(token) => token,
        Err(e) => return server_error(s, &e),
    };
    let mut body = Map::new();
    body.insert("token_type".into(), json!("Bearer"));
    if let Grant::User { .. } = grant {
        body.insert("scope".into(), json!(scopes.requested.join(" ")));
    }
    body.insert("expires_in".into(), json!(ACCESS_TOKEN_SECONDS));
    body.insert("ext_expires_in".into(), json!(ACCESS_TOKEN_SECONDS));
    body.insert("access_token".into(), json!(access_token));
    if let Some(rt) = refresh_token {
        body.insert("refresh_token".into(), json!(rt));
    }
    if let Grant::User { user, client_id } = grant {
        if scopes.openid {
            match s.sign_entra(&id_token_claims(s, user, client_id, now)) {
                Ok(id_token) => body.insert("id_token".into(), json!(id_token)),
                Err(e) => return server_error(s, &e),
            };
        }
        if form.get("client_info") == Some("1") {
            let info = json!({"uid": user.object_id, "utid": user.tenant}).to_string();
            body.insert("client_info".into(), json!(URL_SAFE_NO_PAD.encode(info)));
        }
    }
    let mut response = errors::json_ok(Value::Object(body));
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store, no-cache"),
    );
    response
}

/// Records and returns a new opaque Entra refresh token for a user + client.
pub(crate) fn new_refresh_token(s: &Shared, object_id: &str, client_id: &str) -> String {
    let token = format!("1.A{}", random_token(300));
    lock(&s.dir).refresh_tokens.insert(
        token.clone(),
        RtRec {
            object_id: object_id.to_owned(),
            client_id: client_id.to_owned(),
            issued: s.now(),
            revoked: false,
        },
    );
    token
}

fn invalid_grant(s: &Shared, code: u32, message: &str) -> Response {
    errors::entra(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        code,
        message,
        s.now(),
    )
}

/// `grant_type=refresh_token`: rotates (the old token stays valid), refuses revoked and
/// inactive tokens.
pub(crate) fn refresh_grant(
    s: &Shared,
    tenant: &TenantPath,
    headers: &HeaderMap,
    form: &Form,
) -> Response {
    let Some(presented) = form.get("refresh_token") else {
        return missing_parameter(s, "refresh_token");
    };
    let (client_id, credential) = client_auth(headers, form);
    let Some(client_id) = client_id else {
        return missing_parameter(s, "client_id");
    };
    let now = s.now();
    let (record, user, confidential, revoked_at) = {
        let dir = lock(&s.dir);
        let record = dir.refresh_tokens.get(presented).cloned();
        let user = record
            .as_ref()
            .and_then(|r| dir.user(&r.object_id).cloned());
        let confidential = dir.principal(&client_id).map(|p| p.secret.clone());
        let revoked_at = record
            .as_ref()
            .and_then(|r| dir.revoked_at.get(&r.object_id).copied());
        (record, user, confidential, revoked_at)
    };
    let Some(record) = record else {
        return invalid_grant(
            s,
            9002313,
            "Invalid request. Request is malformed or invalid.",
        );
    };
    if !record.client_id.eq_ignore_ascii_case(&client_id) {
        return invalid_grant(s, 70000, "Provided grant is invalid or malformed.");
    }
    if record.revoked {
        let valid_from = revoked_at.unwrap_or(now);
        return invalid_grant(
            s,
            50173,
            &format!(
                "The provided grant has expired due to it being revoked, a fresh auth token is \
                 needed. The user might have changed or reset their password. The grant was \
                 issued on '{}' and the TokensValidFrom date (before which tokens are not valid) \
                 for this user is '{}'.",
                record.issued.to_rfc3339(),
                valid_from.to_rfc3339()
            ),
        );
    }
    if now - record.issued > TimeDelta::days(REFRESH_TOKEN_DAYS) {
        return invalid_grant(
            s,
            700082,
            &format!(
                "The refresh token has expired due to inactivity. The token was issued on {} and \
                 was inactive for 90.00:00:00.",
                record.issued.to_rfc3339()
            ),
        );
    }
    let Some(user) = user else {
        return invalid_grant(
            s,
            50034,
            "The user account does not exist in the directory.",
        );
    };
    if let TenantPath::Id(t) = tenant
        && !t.eq_ignore_ascii_case(&user.tenant)
    {
        return invalid_grant(
            s,
            50020,
            &format!(
                "User account '{}' from identity provider 'https://sts.windows.net/{}/' does not \
                 exist in tenant '{t}' and cannot access the application '{client_id}' in that \
                 tenant.",
                user.upn, user.tenant
            ),
        );
    }
    if let Some(secret) = confidential
        && let Err(response) = authenticate_client(s, &client_id, &secret, &credential)
    {
        return response;
    }
    let scopes = match parse_scopes(s, form.get("scope"), &user.tenant, false) {
        Ok(scopes) => scopes,
        Err(response) => return response,
    };
    let rotated = new_refresh_token(s, &user.object_id, &client_id);
    let grant = Grant::User {
        user,
        client_id: client_id.clone(),
    };
    token_response(s, &grant, &scopes, Some(rotated), form)
}
