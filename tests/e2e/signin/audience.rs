//! Audience negotiation (docs/protocol.md#acr-audience): ACR audience first, ARM where Entra cannot
//! mint ACR tokens, back to ACR where a registry refuses ARM tokens; the working choice is
//! remembered.

use crate::snapshot::names_of;
use acr_tray_tests::World;
use fake_azure::Role;

fn scopes(w: &World) -> Vec<String> {
    w.fake
        .requests()
        .iter()
        .filter(|r| r.grant_type.as_deref() == Some("client_credentials"))
        .filter_map(|r| r.scope.clone())
        .collect()
}

fn audience_of(w: &World, name: &str) -> String {
    let reg = w.registry_status(name);
    reg["audience"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn cloud_without_acr_audience_falls_back_to_arm_once_per_tenant() {
    let w = World::new();
    w.fake.set_entra_refuses_acr_audience(true);
    let sp = w.service_principal();
    let regs: Vec<_> = ["kilo1111", "lima2222", "mike3333"]
        .iter()
        .map(|n| w.registry(n, &sp, Role::AcrPull))
        .collect();
    w.login_and_add(&sp, &regs.iter().collect::<Vec<_>>());
    w.fake.clear_requests();
    w.cli(&["refresh"]).expect_code(0);
    let s = scopes(&w);
    let acr = s.iter().filter(|x| x.contains("containerregistry")).count();
    let arm = s.iter().filter(|x| x.contains("management")).count();
    assert_eq!(
        (acr, arm),
        (1, 1),
        "one refused ACR request and one ARM token for all three: {s:?}"
    );
    for r in &regs {
        assert_eq!(audience_of(&w, &r.name), "arm");
    }
    // The choice is remembered: the next pass asks for ARM straight away.
    w.fake.clear_requests();
    w.cli(&["refresh"]).expect_code(0);
    let s = scopes(&w);
    assert!(s.iter().all(|x| x.contains("management")), "{s:?}");
}

#[test]
fn registry_refusing_arm_tokens_gets_acr_tokens_again() {
    let w = World::new();
    w.fake.set_entra_refuses_acr_audience(true);
    let (_, [strict, lax]) =
        w.signed_in_registries([("novemberr", Role::AcrPull), ("oscarrr1", Role::AcrPull)]);
    w.cli(&["refresh"]).expect_code(0);
    assert_eq!(audience_of(&w, &strict.name), "arm");

    // Entra can mint ACR tokens again, and one registry disables authentication-as-arm.
    w.fake.set_entra_refuses_acr_audience(false);
    w.fake.set_refuse_arm_audience(&strict.name, true);
    w.cli(&["refresh"]).expect_code(0);
    assert_eq!(audience_of(&w, &strict.name), "acr");
    assert_eq!(
        audience_of(&w, &lax.name),
        "arm",
        "the other registry keeps what works"
    );
    let (_, token) = w.docker_auth(&strict.login_server);
    assert_eq!(
        w.password_form_status(&strict.login_server, &token, "repository:a:pull"),
        200
    );
}

#[test]
fn registry_refusing_arm_where_entra_cannot_mint_acr_explains_both() {
    let w = World::new();
    w.fake.set_entra_refuses_acr_audience(true);
    let sp = w.service_principal();
    let r = w.registry("papaaaa1", &sp, Role::AcrPull);
    w.fake.set_refuse_arm_audience(&r.name, true);
    w.login_and_add(&sp, &[&r]);
    let out = w.cli(&["refresh"]).expect_code(1);
    assert_message!(
        w,
        "no_audience_left_refresh_stdout",
        out.stdout,
        names_of(&sp)
    );
}

/// The `/oauth2/exchange` requests that reached `host`.
fn exchanges_at(w: &World, host: &str) -> usize {
    w.fake
        .requests()
        .iter()
        .filter(|r| r.host == host && r.path == "/oauth2/exchange")
        .count()
}

#[test]
fn a_registry_on_a_trusted_custom_domain_gets_only_acr_audience_tokens() {
    let w = World::new();
    let sp = w.service_principal();
    let ids = names_of(&sp);
    let (custom, no_role) = ("registry.fabrikam.localhost", "other.fabrikam.localhost");
    w.fake
        .add_registry(fake_azure::RegistrySpec::new("romeo111").login_server_host(custom));
    w.fake.assign_role("romeo111", &sp.object_id, Role::AcrPull);
    w.fake
        .add_registry(fake_azure::RegistrySpec::new("sierra11").login_server_host(no_role));
    w.login(&sp).expect_code(0);
    let host = format!("{custom}:{}", w.fake.port());
    let other = format!("{no_role}:{}", w.fake.port());
    for h in [&host, &other] {
        w.cli(&["registry", "add", h, "--trust-custom-domain"])
            .expect_code(0);
    }

    // Where Entra cannot mint ACR-audience tokens, a custom domain gets no token at all: an
    // ARM-audience one would let its operator act in Azure Resource Manager as the identity.
    w.fake.set_entra_refuses_acr_audience(true);
    w.fake.clear_requests();
    let out = w.cli(&["refresh", &host]).expect_code(1);
    assert_message!(w, "custom_domain_arm_only_stdout", out.stdout, ids.clone());
    assert_eq!(exchanges_at(&w, custom), 0, "{:?}", w.fake.requests());

    // With ACR-audience tokens it works.
    w.fake.set_entra_refuses_acr_audience(false);
    w.cli(&["refresh", &host]).expect_code(0);
    let status = w.cli(&["status", "--json"]).expect_code(0).json();
    let entry = status["registries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["login_server"] == host.as_str() || r["loginServer"] == host.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["audience"], "acr", "{entry:#}");

    // A refused ACR-audience token is not followed by an ARM-audience one.
    w.fake.clear_requests();
    let out = w.cli(&["refresh", &other]).expect_code(1);
    assert_message!(w, "custom_domain_no_role_stdout", out.stdout, ids.clone());
    assert_eq!(exchanges_at(&w, no_role), 1, "{:?}", w.fake.requests());
}
