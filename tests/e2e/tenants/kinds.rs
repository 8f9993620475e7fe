//! Registries in a guest tenant that sign in another way than as the person: an ACR token,
//! whose watch reads the token in ARM at that tenant and whose refresh never waits for the
//! tenant's own demands (it needs no Entra token), and an admin account read through ARM there.

use acr_tray_tests::argv;
use fake_azure::{RegistrySpec, Role};

use super::{Guest, UPN};

#[test]
fn an_acr_token_in_a_guest_tenant_is_watched_there_and_never_waits_for_its_sign_in() {
    let g = Guest::new(1);
    let (tenant, guest) = &g.tenants[0];
    let sub = g.world.fake.default_subscription(tenant);
    let reg = g.world.registry_as(
        RegistrySpec::new("guesttoken").subscription(sub.id),
        &guest.object_id,
        Role::Reader,
    );
    let fake = &g.world.fake;
    fake.add_scope_map(&reg.name, "pull-app", &["repositories/app/content/read"]);
    let token = fake
        .add_acr_token(&reg.name, "pull-token", "pull-app")
        .unwrap();
    // Discovery lists the registry in the guest tenant; adding it records that tenant.
    g.world.cli(&["registry", "discover"]).expect_code(0);
    let add = argv::registry_add_acr_token(&reg.name, "pull-token", Some(UPN));
    g.world
        .cli_stdin(&argv::strs(&add), &format!("{}\n", token.passwords[0]))
        .expect_code(0);
    let remembered = format!("tenant = \"{}\"", g.tenant(0));
    assert!(
        g.world.settings_text().contains(&remembered),
        "{}",
        g.world.settings_text()
    );

    // The watch reads the token with an ARM token of the guest tenant (the home tenant's
    // would be refused there), so the token is watched.
    g.world.cli(&["refresh"]).expect_code(0);
    let status = g.world.registry_status(&reg.name);
    assert_eq!(status["acrToken"]["watchedBy"], UPN, "{status}");
    assert_eq!(status["acrToken"]["enabled"], true, "{status}");
    assert!(status["acrToken"]["notWatched"].is_null(), "{status}");

    // The guest tenant demands MFA, which a registry there that signs in as the person
    // records; the token's refresh goes on all the same, pass after pass.
    let pull = g.guest_registry(0, "guestpull", Role::AcrPull);
    g.add(&[&pull]);
    g.world.cli(&["refresh"]).expect_code(0);
    g.demand_mfa_in_first_tenant();
    for _ in 0..2 {
        let out = g.world.cli(&["refresh"]);
        assert_ne!(out.code, 0, "{}", out.stdout);
    }
    let waiting = g.world.registry_status("guestpull");
    assert_eq!(
        waiting["lastError"]["kind"], "sign-in-required",
        "{waiting}"
    );
    let status = g.world.registry_status(&reg.name);
    assert!(status["lastError"].is_null(), "{status}");
    assert_eq!(
        g.world.docker_auth(&reg.login_server),
        ("pull-token".to_owned(), token.passwords[0].clone())
    );
}

/// The admin account of a registry in a guest tenant: its password is read through ARM at
/// that tenant (the home tenant's ARM token would not see the registry).
#[test]
fn an_admin_account_in_a_guest_tenant_is_read_there() {
    let g = Guest::new(1);
    let reg = g.guest_registry(0, "guestadmin", Role::Contributor);
    g.world.fake.set_admin_enabled(&reg.name, true);
    g.world.cli(&["registry", "discover"]).expect_code(0);
    g.world
        .cli(&["registry", "add", &reg.name, "--admin"])
        .expect_code(0);
    g.world.cli(&["refresh"]).expect_code(0);
    let (user, _) = g.world.docker_auth(&reg.login_server);
    assert_eq!(user, reg.name);
}
