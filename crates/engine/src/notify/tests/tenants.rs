//! A tenant of an account that demands a sign-in to it: its registries' failures say which
//! tenant, and are told once.

use super::*;

/// The failure each registry of the demanding tenant reports in a pass.
fn tenant_demand(registry: &str) -> Event {
    let e = crate::error::Error::TenantSignInRequired {
        identity: "alice".into(),
        tenant: "7c1e2d3f-0000-4000-8000-000000000002".into(),
        reason: "AADSTS50076: multi-factor authentication is required".into(),
        hint: Hint::text("sign alice in to tenant 7c1e2d3f-0000-4000-8000-000000000002"),
    };
    Event::RefreshFailed {
        registry: registry.into(),
        login_server: login_server(registry),
        identity: Some("alice".into()),
        kind: e.kind(),
        message: e.to_string(),
        hint: e.hint(),
        valid_until: Some(t0() + TimeDelta::hours(3)),
    }
}

#[test]
fn a_tenants_demand_is_told_once_naming_the_tenant() {
    let mut p = policy();
    let pass = [
        tenant_demand("one"),
        tenant_demand("two"),
        refreshed("home"),
    ];
    let shown = p.on_events(t0(), &pass);
    let [notification] = shown.as_slice() else {
        panic!("one notification: {shown:#?}");
    };
    let text = format!("{}\n{}", notification.title, notification.body);
    assert!(
        text.contains("tenant 7c1e2d3f-0000-4000-8000-000000000002"),
        "{text}"
    );
    assert!(!text.contains("home"), "{text}");
    // The next passes fail the same way (nothing is tried there): nothing new to say.
    for m in [60, 120, 180] {
        assert!(
            p.on_events(t0() + mins(m), &pass).is_empty(),
            "after {m} min"
        );
    }
}
