//! Entra tokens go only to the cloud's registries or to custom domains the user trusted.

use acr_tray_tests::World;
use fake_azure::{RegistrySpec, Role};

#[test]
fn hosts_outside_the_suffix_are_refused_before_any_request() {
    let w = World::new();
    let sp = w.service_principal();
    w.login(&sp).expect_code(0);
    w.fake.clear_requests();
    let suffix_host = w.fake.acr_suffix_host();
    let port = w.fake.port();
    let mut refused = String::new();
    for evil in [
        format!("evil.{suffix_host}.attacker.localhost:{port}"),
        format!("{suffix_host}.evil:{port}"),
        format!("{suffix_host}:{port}"),
    ] {
        let out = w.cli(&["registry", "add", &evil]).expect_code(2);
        refused.push_str(&format!(
            "$ acr-tray-cli registry add {evil}\n{}",
            out.stderr
        ));
    }
    assert_message!(w, "hosts_outside_the_suffix_registry_add_stderr", refused);
    // A hand-edited settings file cannot smuggle one in either: refresh refuses it.
    w.edit_settings(|text| {
        text + &format!(
            "\n[[registry]]\nname = \"evil\"\nlogin_server = \"evil.{suffix_host}.attacker.localhost:{port}\"\nidentity = \"{}\"\n",
            sp.client_id
        )
    });
    let out = w.cli(&["refresh"]).expect_code(2);
    assert_message!(w, "host_outside_the_suffix_refresh_stdout", out.stdout);
    assert!(
        w.fake.requests().is_empty(),
        "no request reached anyone: {:?}",
        w.fake.requests()
    );
}

#[test]
fn trusted_custom_domain_works_only_when_trusted() {
    let w = World::new();
    let sp = w.service_principal();
    w.fake.add_registry(
        RegistrySpec::new("quebec11").login_server_host("registry.contoso.localhost"),
    );
    w.fake.assign_role("quebec11", &sp.object_id, Role::AcrPull);
    w.login(&sp).expect_code(0);
    let host = format!("registry.contoso.localhost:{}", w.fake.port());
    w.cli(&["registry", "add", &host]).expect_code(2);
    w.cli(&["registry", "add", &host, "--trust-custom-domain"])
        .expect_code(0);
    let list = w.cli(&["registry", "list", "--json"]).expect_code(0).json();
    assert_eq!(list[0]["trustedCustomDomain"], true);
    w.cli(&["refresh"]).expect_code(0);
    let (_, token) = w.docker_auth(&host);
    assert_eq!(
        w.password_form_status(&host, &token, "repository:a:pull"),
        200
    );
}
