//! ARM's cloud description `GET /metadata/endpoints` (unauthenticated, as at Azure: what
//! `az cloud register --endpoint-resource-manager` reads) and `GET /tenants` (the tenants the
//! token's user belongs to, home and guest).

use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use crate::app::{ARM_AUDIENCES, EntraToken, GRAPH_AUDIENCE, Shared};
use crate::form::Form;
use crate::{errors, lock};

/// The cloud's name in the description (never `AzureCloud`: the Azure CLI replaces that cloud's
/// login endpoint with the public one).
pub(crate) const CLOUD_NAME: &str = "FakeAzure";

/// The first api-version answering a list of clouds instead of the legacy object.
const CLOUD_LIST_SINCE: &str = "2019-05-01";
/// The first api-version answering one cloud object.
const ONE_CLOUD_SINCE: &str = "2022-09-01";

/// `GET /metadata/endpoints?api-version=V`: before 2019-05-01 the legacy object
/// (`galleryEndpoint`, `graphEndpoint`, `portalEndpoint`, `authentication`), from 2019-05-01 a
/// list of clouds, from 2022-09-01 one cloud object; every shape names the fake's own login
/// endpoint, ARM URL and registry suffix.
pub(crate) fn endpoints(s: &Shared, uri: &Uri) -> Response {
    let query = Form::parse(uri.query().unwrap_or_default().as_bytes());
    let Some(version) = query.get("api-version") else {
        return errors::arm(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        );
    };
    // YYYY-MM-DD[-preview] compares in date order as text; `1.0` sorts before every date.
    if version < CLOUD_LIST_SINCE {
        return errors::json_ok(legacy(s));
    }
    if version < ONE_CLOUD_SINCE {
        return errors::json_ok(json!([cloud(s)]));
    }
    errors::json_ok(cloud(s))
}

fn audiences(s: &Shared) -> Value {
    json!([ARM_AUDIENCES[0], s.arm_url()])
}

fn legacy(s: &Shared) -> Value {
    json!({
        "galleryEndpoint": "",
        "graphEndpoint": "https://graph.windows.net/",
        "portalEndpoint": "",
        "authentication": {
            "loginEndpoint": format!("{}/", s.authority()),
            "audiences": audiences(s),
        },
    })
}

fn cloud(s: &Shared) -> Value {
    json!({
        "name": CLOUD_NAME,
        "resourceManager": s.arm_url(),
        "authentication": {
            "loginEndpoint": s.authority(),
            "audiences": audiences(s),
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "microsoftGraphResourceId": format!("{GRAPH_AUDIENCE}/"),
        "suffixes": {
            "acrLoginServer": s.acr_suffix_host(),
        },
    })
}

/// A tenant's display name and default domain in ARM and the directory (its place, from 1).
pub(crate) fn tenant_names(s: &Shared, index: usize) -> (String, String) {
    (
        format!("Fake tenant {index}"),
        format!("fake{index}.onmicrosoft.{}", s.base_domain),
    )
}

/// `GET /tenants`: the tenants of the token's principal — for a user (home or guest account)
/// the home tenant then every tenant where the user is a guest, each `tenantCategory: Home`
/// (the category of a tenant the account belongs to); for an application or managed identity
/// its own tenant.
pub(crate) fn list_tenants(s: &Shared, token: &EntraToken) -> Response {
    let dir = lock(&s.dir);
    let mut ids: Vec<String> = Vec::new();
    match dir.home_user(&token.oid) {
        Some(home) => {
            ids.push(home.tenant.clone());
            ids.extend(
                dir.auth
                    .guests
                    .iter()
                    .filter(|g| g.home_oid == home.object_id)
                    .map(|g| g.tenant.clone()),
            );
        }
        None => ids.push(token.tid.clone()),
    }
    let value: Vec<Value> = ids
        .iter()
        .filter_map(|id| {
            let index = dir
                .tenants
                .iter()
                .position(|t| t.id.eq_ignore_ascii_case(id))?;
            let (display_name, domain) = tenant_names(s, index.saturating_add(1));
            Some(json!({
                "id": format!("/tenants/{id}"),
                "tenantId": id,
                "countryCode": "US",
                "displayName": display_name,
                "domains": [domain],
                "tenantCategory": "Home",
                "defaultDomain": domain,
                "tenantType": "AAD",
            }))
        })
        .collect();
    errors::json_ok(json!({"value": value}))
}
