//! ARM on `management.<base>`: subscriptions and `Microsoft.ContainerRegistry/registries`
//! list (paged) and get; the generic resource list lives in `arm_resources`. Paths are matched case-insensitively, as ARM does.
//!
//! `dispatch` matches on (method, path shape); the write operations (`listCredentials`,
//! `regenerateCredential`, `PATCH`, `operationStatuses`) live in `arm_admin`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::{EntraToken, Shared, TokenProblem};
use crate::arm_admin::{self, RegistryPath};
use crate::errors;
use crate::form::{Form, bearer};
use crate::lock;
use crate::state::{RegistryRec, Subscription};

pub(crate) const PROVIDER: &str = "Microsoft.ContainerRegistry";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(dispatch).with_state(shared)
}

async fn dispatch(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut response = handle(&s, &method, &uri, &headers, &body);
    let h = response.headers_mut();
    let request_id = Uuid::new_v4().to_string();
    let routing = format!("WESTUS:{}:{request_id}", s.now().format("%Y%m%dT%H%M%SZ"));
    for (name, value) in [
        ("x-ms-request-id", request_id.clone()),
        ("x-ms-correlation-request-id", request_id),
        ("x-ms-routing-request-id", routing),
        if method == Method::GET {
            (
                "x-ms-ratelimit-remaining-subscription-reads",
                "249".to_owned(),
            )
        } else {
            (
                "x-ms-ratelimit-remaining-subscription-writes",
                "199".to_owned(),
            )
        },
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn handle(s: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Response {
    if method == Method::GET
        && uri
            .path()
            .trim_matches('/')
            .eq_ignore_ascii_case("metadata/endpoints")
    {
        return crate::arm_metadata::endpoints(s, uri);
    }
    let token = match authenticate(s, headers) {
        Ok(token) => token,
        Err(response) => return response,
    };
    let query = Form::parse(uri.query().unwrap_or_default().as_bytes());
    let Some(api_version) = query.get("api-version") else {
        return errors::arm(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        );
    };
    let skip = query
        .get("$skipToken")
        .or_else(|| query.get("$skiptoken"))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let lower: Vec<String> = segments.iter().map(|p| p.to_ascii_lowercase()).collect();
    let shape: Vec<&str> = lower.iter().map(String::as_str).collect();
    let page = Page { api_version, skip };
    match (method, shape.as_slice()) {
        (&Method::GET, ["tenants"]) => crate::arm_metadata::list_tenants(s, &token),
        (&Method::GET, ["subscriptions"]) => list_subscriptions(s, &token),
        (&Method::GET, ["subscriptions", _]) => with_subscription(s, &token, segments[1], |sub| {
            errors::json_ok(subscription_json(sub))
        }),
        (&Method::GET, ["subscriptions", _, "resources"]) => {
            crate::arm_resources::list(s, &token, segments[1], None, &query)
        }
        (&Method::GET, ["subscriptions", _, "resourcegroups", _, "resources"]) => {
            crate::arm_resources::list(s, &token, segments[1], Some(segments[3]), &query)
        }
        (
            &Method::GET,
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.containerregistry",
                "registries",
            ],
        ) => list_registries(s, &token, segments[1], None, &page),
        (
            &Method::GET,
            [
                "subscriptions",
                _,
                "resourcegroups",
                _,
                "providers",
                "microsoft.containerregistry",
                "registries",
            ],
        ) => list_registries(s, &token, segments[1], Some(segments[3]), &page),
        (
            &Method::GET,
            [
                "subscriptions",
                _,
                "resourcegroups",
                _,
                "providers",
                "microsoft.containerregistry",
                "registries",
                _,
            ],
        ) => arm_admin::get(
            s,
            &token,
            &RegistryPath {
                sub: segments[1],
                rg: segments[3],
                name: segments[7],
                api_version,
            },
        ),
        (
            m,
            [
                "subscriptions",
                _,
                "resourcegroups",
                _,
                "providers",
                "microsoft.containerregistry",
                "registries",
                _,
                rest @ ..,
            ],
        ) => {
            let path = RegistryPath {
                sub: segments[1],
                rg: segments[3],
                name: segments[7],
                api_version,
            };
            match (m, rest) {
                (&Method::PATCH, []) => arm_admin::patch(s, &token, &path, body),
                (&Method::POST, ["listcredentials"]) => {
                    arm_admin::list_credentials(s, &token, &path)
                }
                (&Method::POST, ["regeneratecredential"]) => {
                    arm_admin::regenerate(s, &token, &path, body)
                }
                (&Method::GET, [kind @ ("tokens" | "scopemaps")]) => {
                    crate::scope_maps::arm_get(s, &token, &path, kind, None)
                }
                (&Method::GET, [kind @ ("tokens" | "scopemaps"), _]) => {
                    crate::scope_maps::arm_get(s, &token, &path, kind, Some(segments[9]))
                }
                (&Method::GET, ["operationstatuses", _]) => {
                    arm_admin::operation_status(s, &token, &path, segments[9])
                }
                _ => no_route(method, uri),
            }
        }
        _ => no_route(method, uri),
    }
}

fn no_route(method: &Method, uri: &Uri) -> Response {
    errors::arm(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("No route for {method} {}.", uri.path()),
    )
}

fn arm_time(t: DateTime<Utc>) -> String {
    t.format("%-m/%-d/%Y %-I:%M:%S %p").to_string()
}

fn unauthenticated(s: &Shared, code: &str, message: &str) -> Response {
    let mut response = errors::arm(StatusCode::UNAUTHORIZED, code, message);
    let challenge = format!(
        "Bearer authorization_uri=\"{}/common\", error=\"invalid_token\", \
         error_description=\"{message}\"",
        s.authority()
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// A Bearer ARM-audience token, unexpired on the fake clock.
fn authenticate(s: &Shared, headers: &HeaderMap) -> Result<EntraToken, Response> {
    let Some(raw) = bearer(headers) else {
        return Err(unauthenticated(
            s,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    };
    let token = match s.verify_entra(raw) {
        Ok(token) => token,
        Err(TokenProblem::Invalid(_)) => {
            return Err(unauthenticated(
                s,
                "InvalidAuthenticationToken",
                "The access token is invalid.",
            ));
        }
        Err(TokenProblem::Expired { exp }) => {
            let exp = DateTime::from_timestamp(exp, 0).unwrap_or_default();
            return Err(unauthenticated(
                s,
                "ExpiredAuthenticationToken",
                &format!(
                    "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                    arm_time(exp),
                    arm_time(s.now())
                ),
            ));
        }
    };
    if !s.is_arm_audience(&token.aud) {
        return Err(unauthenticated(
            s,
            "InvalidAuthenticationTokenAudience",
            &format!(
                "The access token has been obtained for wrong audience or resource '{}'. It \
                 should exactly match with one of the allowed audiences \
                 'https://management.core.windows.net/','https://management.core.windows.net',\
                 'https://management.azure.com/','https://management.azure.com'.",
                token.aud
            ),
        ));
    }
    Ok(token)
}

fn subscription_json(sub: &Subscription) -> Value {
    json!({
        "id": format!("/subscriptions/{}", sub.id),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": sub.id,
        "tenantId": sub.tenant,
        "displayName": sub.display_name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    })
}

/// Every subscription of the token's tenant (the fake does not model subscription-scoped roles).
fn list_subscriptions(s: &Shared, token: &EntraToken) -> Response {
    let value: Vec<Value> = lock(&s.dir)
        .subscriptions
        .iter()
        .filter(|sub| sub.tenant.eq_ignore_ascii_case(&token.tid))
        .map(subscription_json)
        .collect();
    let count = value.len();
    errors::json_ok(json!({"value": value, "count": {"type": "Total", "value": count}}))
}

/// Runs `f` when the subscription exists and belongs to the token's tenant.
pub(crate) fn with_subscription(
    s: &Shared,
    token: &EntraToken,
    id: &str,
    f: impl FnOnce(&Subscription) -> Response,
) -> Response {
    let sub = lock(&s.dir).subscription(id).cloned();
    match sub {
        None => errors::arm(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            &format!("The subscription '{id}' could not be found."),
        ),
        Some(sub) if !sub.tenant.eq_ignore_ascii_case(&token.tid) => errors::arm(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationTokenTenant",
            &format!(
                "The access token is from the wrong issuer 'https://sts.windows.net/{}/'. It must \
                 match the tenant 'https://sts.windows.net/{}/' associated with this \
                 subscription. Please use the authority (URL) '{}/{}' to get the token.",
                token.tid,
                sub.tenant,
                s.authority(),
                sub.tenant
            ),
        ),
        Some(sub) => f(&sub),
    }
}

/// Whether a registry read with `api_version` carries `roleAssignmentMode`: the versions that
/// document it (from 2025-03-01-preview on), but not 2025-04-01, the stable version of that
/// time, whose examples lack it (docs/protocol.md#acr-abac). ACR Tray reads registries with the
/// stable version and asks for the mode with the preview one.
pub(crate) fn carries_role_assignment_mode(api_version: &str) -> bool {
    api_version >= "2025-03-01-preview" && api_version != "2025-04-01"
}

/// The Registry resource (SPEC-ARM `RegistryGet.json`), as `api_version` describes it.
pub(crate) fn registry_json(rec: &RegistryRec, api_version: &str) -> Value {
    let created = rec
        .created
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut body = json!({
        "id": rec.public.id,
        "name": rec.spec.name,
        "type": format!("{PROVIDER}/registries"),
        "location": "westus",
        "tags": rec.tags,
        "sku": {"name": rec.spec.sku, "tier": rec.spec.sku},
        "systemData": {
            "createdBy": "fake-azure",
            "createdByType": "User",
            "createdAt": created,
            "lastModifiedBy": "fake-azure",
            "lastModifiedByType": "User",
            "lastModifiedAt": rec.modified.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        },
        "properties": {
            "loginServer": rec.public.login_server,
            "creationDate": created,
            "provisioningState": if rec.updating_op.is_some() { "Updating" } else { "Succeeded" },
            "adminUserEnabled": rec.spec.admin_enabled,
            "networkRuleSet": {"defaultAction": "Allow", "ipRules": []},
            "policies": {
                "quarantinePolicy": {"status": "disabled"},
                "trustPolicy": {"type": "Notary", "status": "disabled"},
                "retentionPolicy": {"days": 7, "lastUpdatedTime": created, "status": "disabled"},
                "exportPolicy": {"status": "enabled"},
                "azureADAuthenticationAsArmPolicy": {
                    "status": if rec.spec.refuse_arm_audience { "disabled" } else { "enabled" },
                },
            },
            "encryption": {"status": "disabled"},
            "status": null,
            "dataEndpointEnabled": false,
            "dataEndpointHostNames": [],
            "privateEndpointConnections": [],
            "publicNetworkAccess": "Enabled",
            "networkRuleBypassOptions": "AzureServices",
            "zoneRedundancy": "Disabled",
        },
    });
    if carries_role_assignment_mode(api_version) {
        body["properties"]["roleAssignmentMode"] = rec.spec.role_assignment_mode.as_str().into();
    }
    body
}

struct Page<'a> {
    api_version: &'a str,
    skip: usize,
}

fn list_registries(
    s: &Shared,
    token: &EntraToken,
    sub_id: &str,
    rg: Option<&str>,
    page: &Page<'_>,
) -> Response {
    with_subscription(s, token, sub_id, |sub| {
        let dir = lock(&s.dir);
        let visible: Vec<Value> = dir
            .registries
            .values()
            .filter(|r| r.public.subscription.eq_ignore_ascii_case(&sub.id))
            .filter(|r| rg.is_none_or(|rg| r.public.resource_group.eq_ignore_ascii_case(rg)))
            .filter(|r| {
                dir.roles(&r.spec.name, &token.oid)
                    .iter()
                    .any(|role| role.arm_read())
            })
            .map(|rec| registry_json(rec, page.api_version))
            .collect();
        let size = dir.arm_page_size.max(1);
        let link_base = dir.auth.arm_link_base.clone();
        drop(dir);
        let end = page.skip.saturating_add(size).min(visible.len());
        let start = page.skip.min(end);
        let mut body = json!({"value": visible[start..end]});
        if end < visible.len() {
            let rg_part = rg
                .map(|rg| format!("resourceGroups/{rg}/"))
                .unwrap_or_default();
            body["nextLink"] = json!(format!(
                "{}subscriptions/{}/{rg_part}providers/{PROVIDER}/registries?api-version={}&$skipToken={end}",
                link_base.unwrap_or_else(|| s.arm_url()),
                sub.id,
                page.api_version
            ));
        }
        errors::json_ok(body)
    })
}
