//! ACR data-plane auth on each registry host: the `/v2/` challenge and `POST /oauth2/exchange`.
//! The `/oauth2/token` endpoints are in [`crate::acr_token`].
//!
//! `/v2/...` below the root answers 401 challenges or, when authorized, 404: there is no storage.
//! Registries with an upstream (`RegistrySpec::upstream`) never get here for `/v2/...`: the
//! server streams those to the real registry (`upstream.rs`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{any, get, post};
use chrono::TimeDelta;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::acr_token::{self, Access};
use crate::app::{AcrCtx, Shared, TokenProblem};
use crate::errors;
use crate::form::{Form, basic_credentials, bearer};
use crate::lock;

/// ACR refresh-token lifetime.
pub(crate) const REFRESH_TOKEN_SECONDS: i64 = 3 * 3600;
/// The issuer of every ACR token.
pub(crate) const ISSUER: &str = "Azure Container Registry";
const AUTH_REQUIRED: &str =
    "authentication required, visit https://aka.ms/acr/authorization for more information.";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/oauth2/exchange", post(exchange))
        .route(
            "/oauth2/token",
            get(acr_token::token_get).post(acr_token::token_post),
        )
        .route("/v2/", any(v2))
        .route("/v2", any(v2))
        .fallback(v2)
        .with_state(shared)
}

/// Whether `service` names this registry (with or without the port).
pub(crate) fn service_matches(ctx: &AcrCtx, service: &str) -> bool {
    let service = service.to_ascii_lowercase();
    let host = ctx
        .login_server
        .rsplit_once(':')
        .map_or(ctx.login_server.as_str(), |(h, _)| h);
    service == ctx.login_server || service == host
}

pub(crate) fn unauthorized(message: &str) -> Response {
    errors::acr(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
}

/// 401 with the Bearer challenge; `scope` is added for resource URLs.
fn challenge(ctx: &AcrCtx, scope: Option<&Access>, error: Option<&str>) -> Response {
    let mut value = format!(
        "Bearer realm=\"https://{0}/oauth2/token\",service=\"{0}\"",
        ctx.login_server
    );
    let mut detail = Value::Null;
    if let Some(access) = scope {
        value.push_str(&format!(",scope=\"{}\"", access.scope_string()));
        detail = json!([{
            "Type": access.kind,
            "Name": access.name,
            "Action": access.actions.join(","),
        }]);
    }
    if let Some(error) = error {
        value.push_str(&format!(",error=\"{error}\""));
    }
    let mut response = errors::acr_with_detail(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        AUTH_REQUIRED,
        detail,
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    with_api_version(response)
}

fn with_api_version(mut response: Response) -> Response {
    response.headers_mut().insert(
        "docker-distribution-api-version",
        HeaderValue::from_static("registry/2.0"),
    );
    response
}

/// What a `/v2/...` request needs: `None` for the root.
fn needed_access(method: &Method, path: &str) -> Option<Access> {
    let rest = path.strip_prefix("/v2/")?.trim_end_matches('/');
    if rest.is_empty() {
        return None;
    }
    if rest == "_catalog" {
        return Some(Access::new("registry", "catalog", &["*"]));
    }
    let repo = ["/manifests/", "/blobs/", "/tags/", "/referrers/"]
        .iter()
        .find_map(|marker| rest.find(marker).map(|i| &rest[..i]))
        .unwrap_or(rest);
    let actions: &[&str] = match *method {
        Method::GET | Method::HEAD => &["pull"],
        Method::DELETE => &["delete"],
        _ => &["pull", "push"],
    };
    Some(Access::new("repository", repo, actions))
}

/// `/v2/` and below.
async fn v2(
    State(s): State<Arc<Shared>>,
    Extension(ctx): Extension<AcrCtx>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    if path != "/v2" && !path.starts_with("/v2/") {
        return errors::acr(StatusCode::NOT_FOUND, "NOT_FOUND", "not found");
    }
    let needed = needed_access(&method, path);
    let granted: Option<Vec<Access>> = if let Some(token) = bearer(&headers) {
        acr_token::verify_access_token(&s, &ctx, token)
    } else if let Some((user, pass)) = basic_credentials(&headers) {
        acr_token::basic_grant(&s, &ctx, &user, &pass)
            .ok()
            .map(|g| acr_token::grant_access(&g, needed.iter().cloned().collect()))
    } else {
        None
    };
    let Some(granted) = granted else {
        let error = bearer(&headers).map(|_| "invalid_token");
        return challenge(&ctx, needed.as_ref(), error);
    };
    let Some(needed) = needed else {
        return with_api_version(errors::json_ok(json!({})));
    };
    if !needed.is_covered_by(&granted) {
        return challenge(&ctx, Some(&needed), Some("insufficient_scope"));
    }
    with_api_version(errors::acr(
        StatusCode::NOT_FOUND,
        "NAME_UNKNOWN",
        "repository name not known to registry",
    ))
}

/// `POST /oauth2/exchange`: Entra access token -> ACR refresh token (3 h).
async fn exchange(
    State(s): State<Arc<Shared>>,
    Extension(ctx): Extension<AcrCtx>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    for field in ["grant_type", "service"] {
        if form.get(field).is_none() {
            return errors::acr(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("missing required parameter '{field}'"),
            );
        }
    }
    match form.get("grant_type") {
        Some("access_token") => {}
        Some(other) => {
            return errors::acr(
                StatusCode::BAD_REQUEST,
                "UNSUPPORTED",
                &format!("grant type '{other}' is not supported"),
            );
        }
        None => {}
    }
    if !form
        .get("service")
        .is_some_and(|svc| service_matches(&ctx, svc))
    {
        return errors::acr(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "the service does not match the registry",
        );
    }
    let Some(aad_token) = form.get("access_token") else {
        return errors::acr(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "missing required parameter 'access_token'",
        );
    };
    let token = match s.verify_entra(aad_token) {
        Ok(token) => token,
        Err(TokenProblem::Invalid(e)) => return unauthorized(&format!("invalid token: {e}")),
        Err(TokenProblem::Expired { .. }) => return unauthorized("the access token has expired"),
    };
    if let Some(tenant) = form.get("tenant")
        && !tenant.eq_ignore_ascii_case(&token.tid)
    {
        return unauthorized("the tenant does not match the token's tenant");
    }
    let (refuses_arm, registry_tenant, actions, access) = {
        let dir = lock(&s.dir);
        let Some(reg) = dir.registry(&ctx.registry) else {
            return unauthorized("registry not found");
        };
        (
            reg.spec.refuse_arm_audience,
            reg.tenant.clone(),
            dir.data_actions(&ctx.registry, &token.oid),
            dir.has_data_access(&ctx.registry, &token.oid),
        )
    };
    if s.is_arm_audience(&token.aud) {
        if refuses_arm {
            return unauthorized(
                "Azure AD authentication-as-ARM is disabled for this registry; use a token for \
                 https://containerregistry.azure.net",
            );
        }
    } else if !Shared::is_acr_audience(&token.aud) {
        return unauthorized(&format!("the audience '{}' is not accepted", token.aud));
    }
    if !registry_tenant.eq_ignore_ascii_case(&token.tid) || !access {
        return unauthorized(AUTH_REQUIRED);
    }
    let now = s.now();
    let iat = now.timestamp();
    let jti = Uuid::new_v4().to_string();
    lock(&s.dir)
        .acr_refresh_subjects
        .insert(jti.clone(), token.oid.clone());
    let mut claims = json!({
        "jti": jti,
        "sub": token.subject_name,
        "nbf": iat,
        "exp": (now + TimeDelta::seconds(REFRESH_TOKEN_SECONDS)).timestamp(),
        "iat": iat,
        "iss": ISSUER,
        "aud": ctx.login_server,
        "version": "1.0",
        "rid": Uuid::new_v4().simple().to_string(),
        "grant_type": "refresh_token",
        "tenant": token.tid,
        "permissions": {"actions": actions, "notActions": []},
        "roles": [],
    });
    if s.long_tokens() {
        // Real ones carry more claims: about 3,000 characters in all.
        claims["padding"] = json!(crate::app::random_token(1100));
    }
    match s.acr_key.sign_acr(&claims) {
        Ok(rt) => errors::json_ok(json!({"refresh_token": rt})),
        Err(e) => errors::acr(StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN", &e.to_string()),
    }
}
