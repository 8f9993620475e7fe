//! ACR `/oauth2/token`: `POST` (refresh_token / password grants, scopes repeated or
//! space-joined) and `GET` with Basic auth (zero GUID + ACR refresh token, admin user, service
//! principal). Access claims are limited by the caller's permissions.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::acr::{ISSUER, service_matches, unauthorized};
use crate::app::{AcrCtx, Shared};
use crate::errors;
use crate::form::{Form, basic_credentials};
use crate::lock;
use crate::state::RepositoryGrants;

/// The user name meaning "the password is an ACR token".
pub(crate) const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";
/// ACR access-token lifetime (75 min).
pub(crate) const ACCESS_TOKEN_SECONDS: i64 = 4500;
const AUTH_REQUIRED: &str =
    "authentication required, visit https://aka.ms/acr/authorization for more information.";

/// One `access` entry / one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Access {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) actions: Vec<String>,
}

impl Access {
    pub(crate) fn new(kind: &str, name: &str, actions: &[&str]) -> Self {
        Self {
            kind: kind.into(),
            name: name.into(),
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    /// `type:name:actions`; the name may itself contain `:` (host:port).
    pub(crate) fn parse(scope: &str) -> Option<Self> {
        let (kind, rest) = scope.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        if kind.is_empty() || name.is_empty() {
            return None;
        }
        Some(Self {
            kind: kind.into(),
            name: name.into(),
            actions: actions
                .split(',')
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }

    pub(crate) fn scope_string(&self) -> String {
        format!("{}:{}:{}", self.kind, self.name, self.actions.join(","))
    }

    /// Whether every action of `self` is granted by `granted`.
    pub(crate) fn is_covered_by(&self, granted: &[Access]) -> bool {
        self.actions.iter().all(|action| {
            granted.iter().any(|g| {
                g.kind == self.kind
                    && g.name == self.name
                    && g.actions.iter().any(|a| a == action || a == "*")
            })
        })
    }
}

/// Who is asking and what they may do.
#[derive(Debug, Clone)]
pub(crate) struct AcrGrant {
    pub(crate) sub: String,
    pub(crate) tenant: String,
    /// RT `permissions.actions` (`*`, `read`, `write`, `delete`).
    pub(crate) actions: Vec<String>,
    /// The refresh token to hand back for `offline_token=true` (zero-GUID logins).
    pub(crate) refresh_token: Option<String>,
    /// On an ABAC registry, the principal's per-repository grants (decided when the access
    /// token is minted, from the role assignments then); `None` on a legacy registry.
    pub(crate) repositories: Option<RepositoryGrants>,
}

/// Repository actions implied by RT permission actions.
fn repository_actions(permissions: &[String]) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for p in permissions {
        match p.as_str() {
            "*" => out.extend([
                "*",
                "pull",
                "push",
                "delete",
                "metadata_read",
                "metadata_write",
            ]),
            "read" => out.extend(["pull", "metadata_read"]),
            "write" => out.extend(["push", "metadata_write"]),
            "delete" => out.extend(["delete"]),
            _ => {}
        }
    }
    out
}

/// The `access` claim: requested scopes cut down to what the grant allows (on an ABAC
/// registry, per repository and the catalog only through Catalog Lister).
pub(crate) fn grant_access(grant: &AcrGrant, requested: Vec<Access>) -> Vec<Access> {
    let allowed = repository_actions(&grant.actions);
    requested
        .into_iter()
        .filter_map(|mut access| {
            match (access.kind.as_str(), &grant.repositories) {
                ("repository" | "artifact-repository", Some(grants)) => {
                    let allowed = grants.actions_on(&access.name);
                    access.actions.retain(|a| allowed.contains(a.as_str()));
                }
                ("registry", Some(grants)) if access.name == "catalog" => {
                    access.actions.retain(|a| a == "*" && grants.catalog);
                }
                ("repository" | "artifact-repository", None) => {
                    access.actions.retain(|a| allowed.contains(a.as_str()));
                }
                ("registry", None) if access.name == "catalog" => {
                    access.actions.retain(|a| a == "*" && !allowed.is_empty());
                }
                _ => return None,
            }
            Some(access)
        })
        .collect()
}

fn parse_scopes<'a>(values: impl Iterator<Item = &'a str>) -> Vec<Access> {
    values
        .flat_map(str::split_whitespace)
        .filter_map(Access::parse)
        .collect()
}

/// Verifies an ACR refresh token for this registry.
fn refresh_token_grant(s: &Shared, ctx: &AcrCtx, token: &str) -> Result<AcrGrant, Response> {
    let claims = s
        .acr_key
        .verify(token)
        .map_err(|_| unauthorized("invalid refresh token"))?;
    let text = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or_default();
    if text("grant_type") != "refresh_token" || !service_matches(ctx, text("aud")) {
        return Err(unauthorized("invalid refresh token"));
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= s.now().timestamp() {
        return Err(unauthorized("the refresh token has expired"));
    }
    let actions = claims
        .get("permissions")
        .and_then(|p| p.get("actions"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let repositories = {
        let dir = lock(&s.dir);
        match dir.acr_refresh_subjects.get(text("jti")) {
            Some(oid) => dir.repository_grants(&ctx.registry, oid),
            None => None,
        }
    };
    Ok(AcrGrant {
        sub: text("sub").to_owned(),
        tenant: text("tenant").to_owned(),
        actions,
        refresh_token: Some(token.to_owned()),
        repositories,
    })
}

/// Basic credentials: zero GUID + ACR refresh token, admin user, or service principal.
pub(crate) fn basic_grant(
    s: &Shared,
    ctx: &AcrCtx,
    user: &str,
    password: &str,
) -> Result<AcrGrant, Response> {
    if user == ZERO_GUID {
        return refresh_token_grant(s, ctx, password);
    }
    let dir = lock(&s.dir);
    let Some(reg) = dir.registry(&ctx.registry) else {
        return Err(unauthorized(AUTH_REQUIRED));
    };
    if reg.spec.admin_enabled
        && user.eq_ignore_ascii_case(&reg.spec.name)
        && reg.passwords.iter().any(|p| p == password)
    {
        return Ok(AcrGrant {
            sub: reg.spec.name.clone(),
            tenant: reg.tenant.clone(),
            actions: vec!["*".into()],
            refresh_token: None,
            repositories: None,
        });
    }
    if let Some(login) = crate::scope_maps::basic_login(reg, user, password, s.now()) {
        return match login {
            Ok(grants) => Ok(AcrGrant {
                sub: user.to_owned(),
                tenant: reg.tenant.clone(),
                actions: Vec::new(),
                refresh_token: None,
                repositories: Some(grants),
            }),
            Err(_) => Err(unauthorized(AUTH_REQUIRED)),
        };
    }
    if let Some(sp) = dir.principal(user)
        && sp.secret == password
        && sp.tenant.eq_ignore_ascii_case(&reg.tenant)
        && dir.has_data_access(&ctx.registry, &sp.object_id)
    {
        return Ok(AcrGrant {
            sub: sp.client_id.clone(),
            tenant: sp.tenant.clone(),
            actions: dir.data_actions(&ctx.registry, &sp.object_id),
            refresh_token: None,
            repositories: dir.repository_grants(&ctx.registry, &sp.object_id),
        });
    }
    Err(unauthorized(AUTH_REQUIRED))
}

fn mint_access_token(
    s: &Shared,
    ctx: &AcrCtx,
    grant: &AcrGrant,
    access: &[Access],
) -> Result<String, Response> {
    let now = s.now();
    let iat = now.timestamp();
    let claims = json!({
        "jti": Uuid::new_v4().to_string(),
        "sub": grant.sub,
        "nbf": iat,
        "exp": (now + TimeDelta::seconds(ACCESS_TOKEN_SECONDS)).timestamp(),
        "iat": iat,
        "iss": ISSUER,
        "aud": ctx.login_server,
        "version": "1.0",
        "rid": Uuid::new_v4().simple().to_string(),
        "access": access,
        "roles": [],
        "grant_type": "access_token",
        "tenant": grant.tenant,
    });
    s.acr_key
        .sign_acr(&claims)
        .map_err(|e| errors::acr(StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN", &e.to_string()))
}

/// The `access` of a valid ACR access token for this registry.
pub(crate) fn verify_access_token(s: &Shared, ctx: &AcrCtx, token: &str) -> Option<Vec<Access>> {
    let claims = s.acr_key.verify(token).ok()?;
    let text = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or_default();
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if text("grant_type") != "access_token"
        || !service_matches(ctx, text("aud"))
        || exp <= s.now().timestamp()
    {
        return None;
    }
    serde_json::from_value(claims.get("access").cloned().unwrap_or(Value::Null)).ok()
}

fn check_service(ctx: &AcrCtx, form: &Form) -> Result<(), Response> {
    match form.get("service") {
        Some(service) if !service_matches(ctx, service) => Err(errors::acr(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "the service does not match the registry",
        )),
        _ => Ok(()),
    }
}

/// `POST /oauth2/token`.
pub(crate) async fn token_post(
    State(s): State<Arc<Shared>>,
    Extension(ctx): Extension<AcrCtx>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if let Err(response) = check_service(&ctx, &form) {
        return response;
    }
    let grant = match form.get("grant_type") {
        Some("refresh_token") => match form.get("refresh_token") {
            Some(rt) => refresh_token_grant(&s, &ctx, rt),
            None => Err(errors::acr(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "missing required parameter 'refresh_token'",
            )),
        },
        Some("password") => basic_grant(
            &s,
            &ctx,
            form.get("username").unwrap_or_default(),
            form.get("password").unwrap_or_default(),
        ),
        other => Err(errors::acr(
            StatusCode::BAD_REQUEST,
            "UNSUPPORTED",
            &format!(
                "grant type '{}' is not supported",
                other.unwrap_or_default()
            ),
        )),
    };
    let result = grant.and_then(|grant| {
        let access = grant_access(&grant, parse_scopes(form.all("scope")));
        mint_access_token(&s, &ctx, &grant, &access)
    });
    match result {
        Ok(token) => errors::json_ok(json!({"access_token": token})),
        Err(response) => response,
    }
}

/// `GET /oauth2/token` with Basic auth.
pub(crate) async fn token_get(
    State(s): State<Arc<Shared>>,
    Extension(ctx): Extension<AcrCtx>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let query = Form::parse(uri.query().unwrap_or_default().as_bytes());
    if let Err(response) = check_service(&ctx, &query) {
        return response;
    }
    let Some((user, password)) = basic_credentials(&headers) else {
        return unauthorized(AUTH_REQUIRED);
    };
    let grant = match basic_grant(&s, &ctx, &user, &password) {
        Ok(grant) => grant,
        Err(response) => return response,
    };
    let access = grant_access(&grant, parse_scopes(query.all("scope")));
    let token = match mint_access_token(&s, &ctx, &grant, &access) {
        Ok(token) => token,
        Err(response) => return response,
    };
    match &grant.refresh_token {
        Some(rt) if query.get("offline_token") == Some("true") => {
            errors::json_ok(json!({"access_token": token, "refresh_token": rt}))
        }
        _ => errors::json_ok(json!({"access_token": token})),
    }
}
