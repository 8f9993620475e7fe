//! Entra ID v2 endpoints on `login.<base>`: discovery, JWKS and the token endpoint.
//!
//! The token endpoint dispatches on `grant_type`; each grant lives in its own module:
//! `entra_client` (client credentials, client authentication), `entra_refresh`, `device_code`,
//! `authorize` (authorization code + PKCE).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::json;

use crate::app::Shared;
use crate::errors;
use crate::form::Form;
use crate::{authorize, device_code, entra_client, entra_refresh, lock};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/common/discovery/instance", get(instance_discovery))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(keys))
        .route("/{tenant}/discovery/keys", get(keys))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/{tenant}/oauth2/token", post(token_v1))
        .route(
            "/{tenant}/oauth2/v2.0/devicecode",
            post(device_code::devicecode),
        )
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize::authorize))
        .route(
            "/device",
            get(device_code::device_page).post(device_code::device_submit),
        )
        .with_state(shared)
}

/// A token-endpoint request as the grants see it.
pub(crate) struct TokenReq<'a> {
    pub(crate) s: &'a Shared,
    pub(crate) tenant: TenantPath,
    /// The `{tenant}` path segment as sent (client assertions may name it in `aud`).
    pub(crate) segment: String,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) form: &'a Form,
}

/// How the `{tenant}` path segment resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TenantPath {
    /// A known tenant GUID.
    Id(String),
    /// `organizations` or `common`: the tenant comes from the credential.
    Multi,
    Unknown(String),
}

pub(crate) fn resolve_tenant(shared: &Shared, segment: &str) -> TenantPath {
    let lower = segment.to_ascii_lowercase();
    if lower == "organizations" || lower == "common" {
        return TenantPath::Multi;
    }
    if lock(&shared.dir).tenant_exists(&lower) {
        TenantPath::Id(lower)
    } else {
        TenantPath::Unknown(segment.to_owned())
    }
}

pub(crate) fn tenant_not_found(shared: &Shared, tenant: &str, error: &str) -> Response {
    errors::entra(
        StatusCode::BAD_REQUEST,
        error,
        90002,
        &format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are \
             signing into the correct cloud. Check with your subscription administrator, this may \
             happen if there are no active subscriptions for the tenant."
        ),
        shared.now(),
    )
}

async fn instance_discovery(State(s): State<Arc<Shared>>) -> Response {
    let host = format!("{}:{}", s.login_host(), s.port);
    errors::json_ok(json!({
        "tenant_discovery_endpoint":
            format!("https://{host}/common/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": [{
            "preferred_network": host,
            "preferred_cache": host,
            "aliases": [host],
        }],
    }))
}

async fn openid_configuration(
    State(s): State<Arc<Shared>>,
    Path(tenant): Path<String>,
) -> Response {
    let tid = match resolve_tenant(&s, &tenant) {
        TenantPath::Id(id) => id,
        TenantPath::Multi => "{tenantid}".to_owned(),
        TenantPath::Unknown(t) => return tenant_not_found(&s, &t, "invalid_tenant"),
    };
    let base = s.authority();
    let path = format!("{base}/{tenant}");
    errors::json_ok(json!({
        "token_endpoint": format!("{path}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported":
            ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{path}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{tid}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{path}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{path}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{path}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
            "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
            "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{path}/kerberos"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": s.base_domain,
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }))
}

async fn keys(State(s): State<Arc<Shared>>, Path(tenant): Path<String>) -> Response {
    let issuer = match resolve_tenant(&s, &tenant) {
        TenantPath::Id(id) => format!("{}/{id}/v2.0", s.authority()),
        TenantPath::Multi => format!("{}/{{tenantid}}/v2.0", s.authority()),
        TenantPath::Unknown(t) => return tenant_not_found(&s, &t, "invalid_tenant"),
    };
    let k = &s.entra_key;
    errors::json_ok(json!({"keys": [{
        "kty": "RSA",
        "use": "sig",
        "kid": k.x5t,
        "x5t": k.x5t,
        "n": k.n,
        "e": k.e,
        "x5c": [k.x5c()],
        "issuer": issuer,
    }]}))
}

async fn token(
    State(s): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token_with(&s, tenant, &headers, &Form::parse(&body))
}

/// The most a v2 token answer is read back for the v1 endpoint.
const V1_BODY_LIMIT: usize = 1 << 20;

/// `POST /{tenant}/oauth2/token`, the v1 endpoint: one `resource` instead of `scope`, for the
/// `refresh_token` and `client_credentials` grants; the same checks and errors as v2 (a
/// refresh token serves both), and the v1 answer: `expires_in`, `ext_expires_in`,
/// `expires_on`, `not_before` as strings of seconds, `resource`, and `scope`
/// `user_impersonation` for a user.
async fn token_v1(
    State(s): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut form = Form::parse(&body);
    let grant = form.get("grant_type").unwrap_or_default().to_owned();
    if grant != "refresh_token" && grant != "client_credentials" {
        return match grant.as_str() {
            "" => missing_parameter(&s, "grant_type"),
            other => errors::entra(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'."),
                s.now(),
            ),
        };
    }
    let Some(resource) = form.get("resource").map(str::to_owned) else {
        return missing_parameter(&s, "resource");
    };
    let user = grant == "refresh_token";
    // `https://management.core.windows.net/` -> `https://management.core.windows.net//.default`,
    // as v2 spells a resource whose ID ends in a slash.
    let scope = format!("{resource}/.default");
    form.set("scope", scope);
    let now = s.now();
    let response = token_with(&s, tenant, &headers, &form);
    if response.status() != StatusCode::OK {
        return response;
    }
    let Ok(bytes) = axum::body::to_bytes(response.into_body(), V1_BODY_LIMIT).await else {
        return errors::json_status(StatusCode::INTERNAL_SERVER_ERROR, json!({}));
    };
    let Ok(serde_json::Value::Object(mut v1)) = serde_json::from_slice(&bytes) else {
        return errors::json_status(StatusCode::INTERNAL_SERVER_ERROR, json!({}));
    };
    let seconds =
        |v: Option<&serde_json::Value>| v.and_then(serde_json::Value::as_i64).unwrap_or(0);
    let expires_in = seconds(v1.get("expires_in"));
    let ext = seconds(v1.get("ext_expires_in"));
    let issued = now.timestamp();
    v1.insert("expires_in".into(), json!(expires_in.to_string()));
    v1.insert("ext_expires_in".into(), json!(ext.to_string()));
    v1.insert(
        "expires_on".into(),
        json!(issued.saturating_add(expires_in).to_string()),
    );
    v1.insert("not_before".into(), json!(issued.to_string()));
    v1.insert("resource".into(), json!(resource));
    if user {
        v1.insert("scope".into(), json!("user_impersonation"));
    }
    let mut response = errors::json_ok(serde_json::Value::Object(v1));
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store, no-cache"),
    );
    response
}

fn token_with(s: &Arc<Shared>, tenant: String, headers: &HeaderMap, form: &Form) -> Response {
    let s = s.as_ref();
    let now = s.now();
    let resolved = match resolve_tenant(s, &tenant) {
        TenantPath::Unknown(t) => return tenant_not_found(s, &t, "invalid_request"),
        other => other,
    };
    let Some(grant_type) = form.get("grant_type") else {
        return missing_parameter(s, "grant_type");
    };
    let req = TokenReq {
        s,
        tenant: resolved,
        segment: tenant,
        headers,
        form,
    };
    match grant_type {
        "client_credentials" => entra_client::client_credentials(&req),
        "refresh_token" => entra_refresh::refresh_grant(&req),
        "authorization_code" => authorize::authorization_code_grant(&req),
        device_code::GRANT_TYPE => device_code::device_code_grant(&req),
        other => errors::entra(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{other}'."),
            now,
        ),
    }
}

pub(crate) fn missing_parameter(s: &Shared, name: &str) -> Response {
    errors::entra(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
        &format!("The request body must contain the following parameter: '{name}'."),
        s.now(),
    )
}
