//! Entra token minting: scope parsing, v1 access-token claims, id tokens and token responses.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use crate::app::{GRAPH_AUDIENCE, Shared, random_token};
use crate::errors;
use crate::form::Form;
use crate::lock;
use crate::state::{RtRec, ServicePrincipal, SignIn, User};

/// Access-token lifetime (`expires_in`).
pub(crate) const ACCESS_TOKEN_SECONDS: i64 = 3599;
const RESERVED_SCOPES: [&str; 4] = ["openid", "profile", "offline_access", "email"];

/// Who a token is for.
#[derive(Debug, Clone)]
pub(crate) enum Grant {
    /// A service principal (or managed identity); `appidacr` is "1" for a secret, "2" for a
    /// certificate, federated token or managed identity.
    App {
        principal: ServicePrincipal,
        appidacr: &'static str,
        /// `xms_mirid` of a managed identity.
        mi_resource_id: Option<String>,
    },
    /// A user signed in to a (public or confidential) client. `user` is the account in the
    /// token's tenant (a guest account has its own object ID); `home` is the home account.
    User {
        user: User,
        home: User,
        client_id: String,
    },
}

/// A parsed `scope` parameter.
#[derive(Debug, Clone)]
pub(crate) struct Scopes {
    /// The single resource (the token `aud`).
    pub(crate) resource: String,
    /// Every scope as requested, for the response's `scope`.
    pub(crate) requested: Vec<String>,
    pub(crate) openid: bool,
    /// `offline_access` was asked for (a refresh token is returned).
    pub(crate) offline: bool,
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

/// Parses `scope`. App-only grants need exactly one `<resource>/.default`; user grants may name
/// several resources and the first one wins (docs/protocol.md#entra-refresh).
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
        let other = resource.as_ref().is_some_and(|r| *r != res);
        if app_only && (!default || other) {
            return Err(invalid_scope(s, scope));
        }
        if resource.is_none() {
            resource = Some(res);
        }
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
        offline: requested.iter().any(|s| s == "offline_access"),
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

/// v1 access-token claims (docs/protocol.md#entra-token-claims).
fn access_claims(
    grant: &Grant,
    resource: &str,
    now: DateTime<Utc>,
    lifetime: i64,
) -> Map<String, Value> {
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
        "exp": iat + lifetime,
        "aio": random_token(24),
    });
    let extra = match grant {
        Grant::App {
            principal,
            appidacr,
            mi_resource_id,
        } => {
            let mut app = json!({
                "appid": principal.client_id,
                "appidacr": appidacr,
                "idp": iss,
                "idtyp": "app",
                "oid": oid,
                "sub": oid,
            });
            if let Some(id) = mi_resource_id {
                app["xms_mirid"] = json!(id);
            }
            app
        }
        Grant::User {
            user,
            home,
            client_id,
        } => {
            let mut user_claims = json!({
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
            });
            if home.tenant != user.tenant {
                user_claims["idp"] = json!(format!("https://sts.windows.net/{}/", home.tenant));
            }
            user_claims
        }
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
    nonce: Option<&str>,
    now: DateTime<Utc>,
) -> Map<String, Value> {
    let iat = now.timestamp();
    let mut claims = json!({
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
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
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

/// Signs an access token for `resource` living `lifetime` seconds; returns it and its `exp`.
pub(crate) fn mint_access_token(
    s: &Shared,
    grant: &Grant,
    resource: &str,
    lifetime: i64,
) -> anyhow::Result<(String, i64)> {
    let now = s.now();
    let token = s.sign_entra(&access_claims(grant, resource, now, lifetime))?;
    Ok((token, now.timestamp() + lifetime))
}

/// The token endpoint's success response. `nonce` goes into the id token (authorization code).
pub(crate) fn token_response(
    s: &Shared,
    grant: &Grant,
    scopes: &Scopes,
    refresh_token: Option<String>,
    form: &Form,
    nonce: Option<&str>,
) -> Response {
    let now = s.now();
    let access_token = match mint_access_token(s, grant, &scopes.resource, ACCESS_TOKEN_SECONDS) {
        Ok((token, _)) => token,
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
    if let Grant::User {
        user,
        home,
        client_id,
    } = grant
    {
        if scopes.openid {
            match s.sign_entra(&id_token_claims(s, user, client_id, nonce, now)) {
                Ok(id_token) => body.insert("id_token".into(), json!(id_token)),
                Err(e) => return server_error(s, &e),
            };
        }
        if form.get("client_info") == Some("1") {
            let info = json!({"uid": home.object_id, "utid": home.tenant}).to_string();
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

/// Records and returns a new opaque Entra refresh token for a user + client, starting a new
/// chain: an interactive sign-in happened now.
pub(crate) fn new_refresh_token(
    s: &Shared,
    object_id: &str,
    client_id: &str,
    tenant: &str,
) -> String {
    let chain = {
        let mut dir = lock(&s.dir);
        dir.sign_ins = dir.sign_ins.saturating_add(1);
        SignIn {
            seq: dir.sign_ins,
            tenant: tenant.to_ascii_lowercase(),
        }
    };
    rotated_refresh_token(s, object_id, client_id, s.now(), chain)
}

/// Records and returns a new opaque Entra refresh token for a user + client that continues the
/// chain of an interactive sign-in at `signed_in` (a rotation keeps its chain's sign-in time).
pub(crate) fn rotated_refresh_token(
    s: &Shared,
    object_id: &str,
    client_id: &str,
    signed_in: DateTime<Utc>,
    chain: SignIn,
) -> String {
    let token = format!(
        "1.A{}",
        random_token(if s.long_tokens() { 1500 } else { 300 })
    );
    lock(&s.dir).refresh_tokens.insert(
        token.clone(),
        RtRec {
            object_id: object_id.to_owned(),
            client_id: client_id.to_owned(),
            issued: s.now(),
            signed_in,
            chain,
            revoked: false,
        },
    );
    token
}
