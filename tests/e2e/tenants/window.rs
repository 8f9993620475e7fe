//! The window's view of an account with several tenants (the app's service on a paused clock):
//! the account's tenants, discovery grouped by tenant, a registry card naming its tenant, a
//! tenant's demand on that tenant's registries only (and on discovery, with what to do), and a
//! sign-in to that tenant.

use std::time::Duration;

use acr_tray_engine::service::Service;
use acr_tray_engine::service::view::*;
use acr_tray_tests::sim::Sim;
use fake_azure::{RegistrySpec, Role};

fn device_code(tenant: Option<String>) -> UserSignIn {
    UserSignIn {
        method: SignInMethod::DeviceCode,
        tenant,
        client_id: None,
    }
}

/// Waits (in simulated time) until the overview satisfies `pick`.
async fn until(service: &Service, what: &str, pick: impl Fn(&Overview) -> bool) -> Overview {
    let mut rx = service.overview();
    match tokio::time::timeout(Duration::from_secs(600), rx.wait_for(|o| pick(o))).await {
        Ok(Ok(o)) => o.clone(),
        _ => panic!("never {what}: {:#?}", service.overview().borrow()),
    }
}

fn registry<'a>(o: &'a Overview, name: &str) -> &'a RegistryView {
    o.registries
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no {name}: {o:#?}"))
}

#[tokio::test(start_paused = true)]
async fn the_window_shows_one_account_with_its_tenants() {
    let sim = Sim::start().await;
    let user = sim.user("guest@contoso.example");
    let partner = sim.fake.add_tenant();
    let guest = sim.fake.add_guest(&user, &partner);
    sim.fake.set_device_code_timing(600, 1);
    sim.fake
        .set_device_code_auto_approve(Some((user.clone(), 0)));
    sim.fake.add_registry(RegistrySpec::new("homereg"));
    sim.fake
        .assign_role("homereg", &user.object_id, Role::AcrPull);
    let sub = sim.fake.default_subscription(&partner);
    sim.fake
        .add_registry(RegistrySpec::new("partnerreg").subscription(sub.id));
    for role in [Role::Reader, Role::AcrPull] {
        sim.fake.assign_role("partnerreg", &guest.object_id, role);
    }
    let service = Service::start(sim.options(), "test", sim.notifier.clone()).unwrap();

    let account = service
        .sign_in_user(device_code(None), Box::new(|_| {}))
        .await
        .unwrap();
    let names: Vec<(&str, bool)> = account
        .tenants
        .iter()
        .map(|t| (t.name.as_str(), t.home))
        .collect();
    assert_eq!(names, [("Fake tenant 1", true), ("Fake tenant 2", false)]);

    let found = service.discover_registries(&account.id).await.unwrap();
    assert_eq!(found.tenants.len(), 2, "{found:#?}");
    let listed: Vec<(&str, Option<&str>)> = found
        .registries
        .iter()
        .map(|r| (r.name.as_str(), r.tenant.as_deref()))
        .collect();
    assert_eq!(listed, [("partnerreg", Some(partner.id.as_str()))]);

    for name in ["homereg", "partnerreg"] {
        service
            .add_registry(AddRegistry {
                name_or_login_server: name.into(),
                sign_in: RegistrySignInInput::Identity {
                    identity: account.id.clone(),
                },
                trust_custom_domain: false,
            })
            .await
            .unwrap();
    }
    let o = until(&service, "logs both in", |o| {
        o.registries.len() == 2 && o.registries.iter().all(|r| r.health == RegistryHealth::Ok)
    })
    .await;
    assert_eq!(
        registry(&o, "partnerreg").tenant.as_deref(),
        Some("Fake tenant 2")
    );
    assert_eq!(
        registry(&o, "homereg").tenant.as_deref(),
        Some("Fake tenant 1")
    );

    // The partner tenant demands MFA: only its registry asks for a sign-in, to that tenant.
    sim.fake
        .require_interaction_in_tenant(&guest, &partner.id, Some(50076));
    service.refresh_now(vec![]).await.unwrap();
    let o = until(&service, "marks partnerreg", |o| {
        registry(o, "partnerreg").health == RegistryHealth::SignInRequired
    })
    .await;
    assert_eq!(registry(&o, "homereg").health, RegistryHealth::Ok);
    assert_eq!(o.accounts[0].health, AccountHealth::Ok);
    let demanding = &o.accounts[0].tenants[1];
    assert_eq!(demanding.id, partner.id);
    let hint = demanding
        .sign_in_required
        .as_ref()
        .and_then(|e| e.hint.clone())
        .unwrap_or_default();
    // Named as the user knows it (its display name), not by its GUID.
    assert_ne!(demanding.name, partner.id);
    let button = format!("“Sign in to tenant {}…”", demanding.name);
    assert!(hint.contains(&button), "{hint}");
    assert!(!hint.contains("acr-tray-cli"), "{hint}");
    // The card names the tenant by its id too, which finds it among the account's tenants.
    assert_eq!(
        registry(&o, "partnerreg").tenant_id.as_deref(),
        Some(partner.id.to_ascii_lowercase().as_str())
    );

    // Discovery names the demanding tenant with why and what to do, in the app's words.
    let found = service.discover_registries(&account.id).await.unwrap();
    let listed = &found.tenants[1];
    assert!(listed.sign_in_required, "{found:#?}");
    let error = listed.error.as_ref().expect("why the tenant is not listed");
    assert_eq!(error.code, ErrorCode::SignInRequired);
    let hint = error.hint.clone().unwrap_or_default();
    assert!(hint.contains(&button), "{hint}");
    assert!(found.tenants[0].error.is_none(), "{found:#?}");

    // A sign-in to that tenant (the window's sign-in naming it) clears it at once.
    service
        .sign_in_user(device_code(Some(partner.id.clone())), Box::new(|_| {}))
        .await
        .unwrap();
    let o = until(&service, "logs partnerreg in again", |o| {
        registry(o, "partnerreg").health == RegistryHealth::Ok
    })
    .await;
    assert_eq!(o.accounts.len(), 1);
    assert!(o.accounts[0].tenants[1].sign_in_required.is_none());
    service.stop().await;
}
