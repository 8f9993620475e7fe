//! ARM registry operations beyond reads (docs/protocol.md#arm, docs/protocol.md#arm-async,
//! docs/protocol.md#arm-errors): get (shared lookup), `listCredentials`, `regenerateCredential`,
//! `PATCH` (sync 200, or 201 + `Azure-AsyncOperation`) and the operation-status URL it points at.

use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::{EntraToken, Shared, random_token};
use crate::arm::{PROVIDER, registry_json, with_subscription};
use crate::state::{RegistryRec, Role};
use crate::state_auth::ArmOperation;
use crate::{errors, lock};

/// The registry a request names.
pub(crate) struct RegistryPath<'a> {
    pub(crate) sub: &'a str,
    pub(crate) rg: &'a str,
    pub(crate) name: &'a str,
    pub(crate) api_version: &'a str,
}

fn can_write(role: Role) -> bool {
    matches!(role, Role::Contributor | Role::Owner)
}

/// Runs `f` on the registry when it exists in the subscription and resource group and the
/// caller holds a role that `allowed` accepts; else the ARM 404/403 errors. `f` runs under the
/// directory lock.
pub(crate) fn with_registry(
    s: &Shared,
    token: &EntraToken,
    path: &RegistryPath<'_>,
    action: &str,
    allowed: fn(Role) -> bool,
    f: impl FnOnce(&mut RegistryRec) -> Response,
) -> Response {
    with_subscription(s, token, path.sub, |sub| {
        let mut dir = lock(&s.dir);
        let (rg, name) = (path.rg, path.name);
        let in_place = |r: &RegistryRec| {
            r.public.subscription.eq_ignore_ascii_case(&sub.id)
                && r.public.resource_group.eq_ignore_ascii_case(rg)
        };
        let rg_exists = dir.registries.values().any(in_place);
        let permitted = dir.roles(name, &token.oid).into_iter().any(allowed);
        match dir.registries.get_mut(&name.to_ascii_lowercase()) {
            Some(rec) if in_place(rec) && permitted => f(rec),
            Some(rec) if in_place(rec) => errors::arm(
                StatusCode::FORBIDDEN,
                "AuthorizationFailed",
                &format!(
                    "The client '{0}' with object id '{0}' does not have authorization to perform \
                     action '{PROVIDER}/registries/{action}' over scope '{1}' or the scope is \
                     invalid. If access was recently granted, please refresh your credentials.",
                    token.oid, rec.public.id
                ),
            ),
            _ if !rg_exists => errors::arm(
                StatusCode::NOT_FOUND,
                "ResourceGroupNotFound",
                &format!("Resource group '{rg}' could not be found."),
            ),
            _ => errors::arm(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                &format!(
                    "The Resource '{PROVIDER}/registries/{name}' under resource group '{rg}' was \
                     not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
                ),
            ),
        }
    })
}

/// `GET .../registries/{name}` (Reader, Contributor or Owner).
pub(crate) fn get(s: &Shared, token: &EntraToken, path: &RegistryPath<'_>) -> Response {
    with_registry(s, token, path, "read", Role::arm_read, |rec| {
        errors::json_ok(registry_json(rec, path.api_version))
    })
}

fn credentials_json(rec: &RegistryRec) -> Value {
    json!({
        "username": rec.spec.name,
        "passwords": [
            {"name": "password", "value": rec.passwords[0]},
            {"name": "password2", "value": rec.passwords[1]},
        ],
    })
}

fn admin_disabled(rec: &RegistryRec) -> Response {
    errors::arm(
        StatusCode::BAD_REQUEST,
        "UnAuthorizedForCredentialOperations",
        &format!(
            "Cannot perform credential operations for {} as admin user is disabled. Kindly enable \
             admin user as per docs: \
             https://docs.microsoft.com/en-us/azure/container-registry/container-registry-authentication#admin-account",
            rec.public.id
        ),
    )
}

fn invalid_content(detail: &str) -> Response {
    errors::arm(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContent",
        &format!("The request content was invalid and could not be deserialized: {detail}"),
    )
}

/// `POST .../listCredentials` (Contributor or Owner; admin user enabled).
pub(crate) fn list_credentials(
    s: &Shared,
    token: &EntraToken,
    path: &RegistryPath<'_>,
) -> Response {
    with_registry(s, token, path, "listCredentials/action", can_write, |rec| {
        if !rec.spec.admin_enabled {
            return admin_disabled(rec);
        }
        errors::json_ok(credentials_json(rec))
    })
}

/// Which admin password a name means (`password` / `password2`).
pub(crate) fn password_index(name: &str) -> Option<usize> {
    match name.to_ascii_lowercase().as_str() {
        "password" => Some(0),
        "password2" => Some(1),
        _ => None,
    }
}

/// A new admin password (ACR passwords are 52 characters).
pub(crate) fn new_password() -> String {
    let mut p = random_token(39);
    p.retain(|c| c.is_ascii_alphanumeric());
    format!("{p}+ACR")
}

/// `POST .../regenerateCredential` with `{"name":"password"|"password2"}`.
pub(crate) fn regenerate(
    s: &Shared,
    token: &EntraToken,
    path: &RegistryPath<'_>,
    body: &[u8],
) -> Response {
    let which = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("name").and_then(Value::as_str).map(str::to_owned));
    let Some(index) = which.as_deref().and_then(password_index) else {
        return invalid_content("'name' must be one of 'password', 'password2' (Path 'name').");
    };
    with_registry(
        s,
        token,
        path,
        "regenerateCredential/action",
        can_write,
        |rec| {
            if !rec.spec.admin_enabled {
                return admin_disabled(rec);
            }
            rec.passwords[index] = new_password();
            errors::json_ok(credentials_json(rec))
        },
    )
}

/// `PATCH .../registries/{name}` with `properties.adminUserEnabled` (and `tags`).
pub(crate) fn patch(
    s: &Shared,
    token: &EntraToken,
    path: &RegistryPath<'_>,
    body: &[u8],
) -> Response {
    let Ok(Value::Object(update)) = serde_json::from_slice::<Value>(body) else {
        return invalid_content("the body is not a JSON object.");
    };
    let admin = update
        .get("properties")
        .and_then(|p| p.get("adminUserEnabled"));
    if admin.is_some_and(|v| !v.is_boolean()) {
        return invalid_content("'properties.adminUserEnabled' must be a boolean.");
    }
    let admin = admin.and_then(Value::as_bool);
    let tags = update.get("tags").and_then(Value::as_object).cloned();
    let now = s.now();
    let (asynchronous, link_base) = {
        let dir = lock(&s.dir);
        (dir.auth.arm_patch_async, dir.auth.arm_link_base.clone())
    };
    let op_id = format!("registries-{}", Uuid::new_v4());
    let response = with_registry(s, token, path, "write", can_write, |rec| {
        if let Some(enabled) = admin {
            rec.spec.admin_enabled = enabled;
        }
        if let Some(tags) = tags {
            rec.tags = tags;
        }
        rec.modified = now;
        if asynchronous {
            rec.updating_op = Some(op_id.clone());
            errors::json_status(StatusCode::CREATED, registry_json(rec, path.api_version))
        } else {
            errors::json_ok(registry_json(rec, path.api_version))
        }
    });
    if response.status() != StatusCode::CREATED {
        return response;
    }
    lock(&s.dir).auth.arm_operations.insert(
        op_id.clone(),
        ArmOperation {
            registry: path.name.to_ascii_lowercase(),
            started: now,
            polls: 0,
        },
    );
    let url = format!(
        "{}subscriptions/{}/resourceGroups/{}/providers/{PROVIDER}/registries/{}/operationStatuses/{op_id}?api-version={}",
        link_base.unwrap_or_else(|| s.arm_url()),
        path.sub,
        path.rg,
        path.name,
        path.api_version
    );
    let mut response = response;
    if let Ok(value) = HeaderValue::from_str(&url) {
        response.headers_mut().insert("azure-asyncoperation", value);
    }
    response
}

/// `GET .../operationStatuses/{id}`: `InProgress` on the first poll, then `Succeeded` (the
/// registry's `provisioningState` goes back to `Succeeded` then).
pub(crate) fn operation_status(
    s: &Shared,
    token: &EntraToken,
    path: &RegistryPath<'_>,
    op_id: &str,
) -> Response {
    let op = {
        let mut dir = lock(&s.dir);
        let op = dir.auth.arm_operations.get_mut(op_id).map(|op| {
            op.polls += 1;
            op.clone()
        });
        if let Some(op) = op.as_ref().filter(|op| op.polls > 1)
            && let Some(rec) = dir.registries.get_mut(&op.registry)
            && rec.updating_op.as_deref() == Some(op_id)
        {
            rec.updating_op = None;
        }
        op
    };
    let Some(op) = op.filter(|op| op.registry == path.name.to_ascii_lowercase()) else {
        return errors::arm(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("The operation '{op_id}' could not be found."),
        );
    };
    with_registry(s, token, path, "read", Role::arm_read, |_| {
        let status = if op.polls > 1 {
            "Succeeded"
        } else {
            "InProgress"
        };
        let mut body = json!({
            "id": format!("{}{}", s.arm_url(), op_id),
            "name": op_id,
            "status": status,
            "startTime": op.started.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        });
        if op.polls > 1 {
            body["endTime"] = json!(s.now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
        }
        errors::json_ok(body)
    })
}
