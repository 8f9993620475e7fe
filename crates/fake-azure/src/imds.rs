//! Managed identity via IMDS (docs/protocol.md#imds) on its own plain-HTTP listener:
//! `GET /metadata/identity/oauth2/token?api-version=..&resource=..[&client_id|object_id|msi_res_id]`
//! with `Metadata: true`. Numbers in the response are strings, as IMDS sends them.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::app::Shared;
use crate::entra_tokens::{Grant, mint_access_token};
use crate::form::Form;
use crate::state::ServicePrincipal;
use crate::state_auth::ManagedIdentity;
use crate::{errors, lock};

/// Managed-identity access tokens live 24 h.
const MI_TOKEN_SECONDS: i64 = 86399;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/metadata/identity/oauth2/token", get(token))
        .fallback(not_found)
        .with_state(shared)
}

/// An IMDS JSON response (`Server: IMDS/...`).
fn imds_json(status: StatusCode, body: Value) -> Response {
    let mut response = errors::json_status(status, body);
    response.headers_mut().insert(
        axum::http::header::SERVER,
        HeaderValue::from_static("IMDS/150.870.65.1854"),
    );
    response
}

fn imds_error(status: StatusCode, error: &str, description: &str) -> Response {
    imds_json(
        status,
        json!({"error": error, "error_description": description}),
    )
}

async fn not_found() -> Response {
    imds_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "The requested URL was not found on this server.",
    )
}

/// The body of a `Status` fault without a body, in IMDS's shape.
pub(crate) fn fault_error(status: StatusCode) -> Response {
    let (error, description) = match status.as_u16() {
        404 | 410 => (
            "not_found",
            "IMDS is being updated; retry the request later.",
        ),
        429 => ("too_many_requests", "Too many requests; retry later."),
        s if s >= 500 => (
            "unknown",
            "An unexpected error occurred while fetching the AAD token.",
        ),
        _ => ("invalid_request", "The request is not valid."),
    };
    imds_error(status, error, description)
}

fn missing_query(name: &str) -> Response {
    imds_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        &format!("Required query variable '{name}' is missing"),
    )
}

/// Picks the identity: by selector, else the system-assigned one, else the only user-assigned.
fn select(s: &Shared, q: &Form) -> Result<ManagedIdentity, Response> {
    let dir = lock(&s.dir);
    let auth = &dir.auth;
    let attached = || auth.system_identity.iter().chain(&auth.managed_identities);
    let selector = [
        ("client_id", q.get("client_id")),
        ("object_id", q.get("object_id")),
        (
            "msi_res_id",
            q.get("msi_res_id").or_else(|| q.get("mi_res_id")),
        ),
    ]
    .into_iter()
    .find_map(|(k, v)| v.map(|v| (k, v)));
    let found = match selector {
        Some((kind, value)) => attached()
            .find(|m| match kind {
                "client_id" => m.client_id.eq_ignore_ascii_case(value),
                "object_id" => m.object_id.eq_ignore_ascii_case(value),
                _ => m.resource_id.eq_ignore_ascii_case(value),
            })
            .cloned(),
        None => match (&auth.system_identity, auth.managed_identities.as_slice()) {
            (Some(system), _) => Some(system.clone()),
            (None, [only]) => Some(only.clone()),
            (None, []) => None,
            (None, _) => {
                return Err(imds_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Multiple user assigned identities exist, please specify the clientId / \
                     resourceId of the identity in the token request",
                ));
            }
        },
    };
    found.ok_or_else(|| {
        imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Identity not found",
        )
    })
}

async fn token(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let metadata = headers.get("metadata").and_then(|v| v.to_str().ok());
    if metadata != Some("true") {
        return imds_error(
            StatusCode::BAD_REQUEST,
            "bad_request_102",
            "Required metadata header not specified",
        );
    }
    let q = Form::parse(query.unwrap_or_default().as_bytes());
    if q.get("api-version").is_none() {
        return missing_query("api-version");
    }
    let Some(resource) = q.get("resource") else {
        return missing_query("resource");
    };
    let identity = match select(&s, &q) {
        Ok(identity) => identity,
        Err(response) => return response,
    };
    let refused = Shared::is_acr_audience(resource) && lock(&s.dir).refuse_acr_audience;
    if refused || !s.is_known_resource(resource) {
        let now = s.now();
        return imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            &format!(
                "AADSTS50001: The application named {resource} was not found in the tenant \
                 named {}. This can happen if the application has not been installed by \
                 the administrator of the tenant or consented to by any user in the tenant. You \
                 might have sent your authentication request to the wrong tenant.\r\nTrace ID: \
                 {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
                identity.tenant,
                uuid::Uuid::new_v4(),
                uuid::Uuid::new_v4(),
                errors::entra_timestamp(now)
            ),
        );
    }
    let grant = Grant::App {
        principal: ServicePrincipal {
            tenant: identity.tenant.clone(),
            client_id: identity.client_id.clone(),
            object_id: identity.object_id.clone(),
            secret: String::new(),
        },
        appidacr: "2",
        mi_resource_id: Some(identity.resource_id.clone()),
    };
    let now = s.now().timestamp();
    match mint_access_token(&s, &grant, resource, MI_TOKEN_SECONDS) {
        Ok((access_token, exp)) => imds_json(
            StatusCode::OK,
            json!({
                "access_token": access_token,
                "client_id": identity.client_id,
                "expires_in": MI_TOKEN_SECONDS.to_string(),
                "expires_on": exp.to_string(),
                "ext_expires_in": MI_TOKEN_SECONDS.to_string(),
                "not_before": now.to_string(),
                "refresh_token": "",
                "resource": resource,
                "token_type": "Bearer",
            }),
        ),
        Err(e) => imds_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unknown",
            &format!("An unexpected error occurred while fetching the AAD token: {e}"),
        ),
    }
}
