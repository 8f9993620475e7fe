//! Discovery across the tenants of an account.

use acr_tray_tests::{assert_contains, element_where};
use fake_azure::Role;

use super::Guest;

/// A person who is a guest in two tenants, one of which demands MFA: discovery lists the
/// registries of the home tenant and the other guest tenant, grouped by tenant, and names the
/// tenant it could not list with why; adding a registry it listed records its tenant, so the
/// first refresh asks that tenant directly.
#[test]
fn discovery_lists_every_tenant_and_names_the_one_it_cannot_list() {
    let g = Guest::new(2);
    let home = g.home_registry("homereg");
    g.world
        .fake
        .assign_role(&home.name, &g.user.object_id, Role::Reader);
    let partner = g.guest_registry(0, "partnerreg", Role::Reader);
    let (_, guest0) = &g.tenants[0];
    g.world
        .fake
        .assign_role(&partner.name, &guest0.object_id, Role::AcrPull);
    g.guest_registry(1, "lockedreg", Role::Reader);
    // The second guest tenant demands MFA of the person.
    let (locked, guest1) = &g.tenants[1];
    g.world
        .fake
        .require_interaction_in_tenant(guest1, &locked.id, Some(50076));

    let found = g
        .world
        .cli(&["registry", "discover", "--json"])
        .expect_code(0)
        .json();
    let d = &found[0];
    let tenants = d["tenants"].as_array().cloned().unwrap_or_default();
    assert_eq!(tenants.len(), 3, "{d:#}");
    assert_eq!(tenants[0]["home"], true);
    let blocked = element_where(&d["tenants"], "id", &locked.id);
    assert_eq!(blocked["signInRequired"], true, "{blocked:#}");
    assert_contains(blocked["error"].as_str().unwrap_or_default(), "AADSTS50076");
    let listed = element_where(&d["registries"], "name", "partnerreg");
    assert_eq!(listed["tenant"], g.tenant(0), "{d:#}");
    let listed = element_where(&d["registries"], "name", "homereg");
    assert_eq!(listed["tenant"], g.user.tenant, "{d:#}");

    let text = g.world.cli(&["registry", "discover"]).expect_code(0).stdout;
    assert_message!(g.world, "tenants_discover_stdout", text, g.names());

    // Adding a registry discovery listed in a guest tenant records that tenant: no trial.
    g.world.add_registry("partnerreg").expect_code(0);
    assert_contains(
        &g.world.settings_text(),
        &format!("tenant = \"{}\"", g.tenant(0)),
    );
    g.world.fake.clear_requests();
    g.world.cli(&["refresh"]).expect_code(0);
    let refused = g
        .world
        .fake
        .requests()
        .iter()
        .filter(|r| r.path == "/oauth2/exchange" && r.status != 200)
        .count();
    assert_eq!(refused, 0, "the recorded tenant is asked directly");
}

/// ARM's tenant list is a server's word: a tenant id that is not a GUID (it would go into token
/// URLs and file names) is left out, and names are cleaned for display; no request goes to
/// such a tenant.
#[test]
fn a_hostile_tenant_list_is_cleaned() {
    use fake_azure::{Fault, FaultAction, FaultTarget, Service};
    let g = Guest::new(0);
    let hostile = serde_json::json!({"value": [
        {"id": "/tenants/x", "tenantId": "../../evil", "displayName": "Evil"},
        {"id": "/tenants/y", "tenantId": "organizations", "displayName": "Orgs"},
        {"id": format!("/tenants/{}", g.user.tenant), "tenantId": g.user.tenant,
         "displayName": format!("Home\u{1b}[31m{}", "x".repeat(500)),
         "defaultDomain": "home.example"},
    ]});
    g.world.fake.add_fault(Fault::new(
        FaultTarget::service(Service::Arm).path_prefix("/tenants"),
        FaultAction::Status {
            status: 200,
            body: Some(hostile.to_string()),
            retry_after: None,
        },
    ));
    g.world.fake.clear_requests();
    let found = g
        .world
        .cli(&["registry", "discover", "--json"])
        .expect_code(0)
        .json();
    let tenants = found[0]["tenants"].as_array().cloned().unwrap_or_default();
    assert_eq!(tenants.len(), 1, "{found:#}");
    let name = tenants[0]["name"].as_str().unwrap_or_default();
    assert!(
        name.starts_with("Home") && !name.contains('\u{1b}'),
        "{name}"
    );
    assert!(name.chars().count() <= 120, "{name}");
    let strays = g
        .world
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("evil") || r.path.starts_with("/organizations/"))
        .count();
    assert_eq!(strays, 0);
}
