//! The registry's admin account: read through ARM by an identity with Contributor/Owner, or
//! typed by the user; written to Docker's config as user name and password.

use crate::snapshot::names_of;
use acr_tray_tests::{World, argv};
use fake_azure::{RegistrySpec, Role};

#[test]
fn admin_password_is_read_through_arm_and_a_regenerated_one_is_picked_up() {
    let w = World::new();
    let sp = w.service_principal();
    let reg = w.registry_as(
        RegistrySpec::new("adminarm1").admin_enabled(true),
        &sp.object_id,
        Role::Contributor,
    );
    w.login(&sp).expect_code(0);
    let out = w
        .cli(&["registry", "add", &reg.name, "--admin"])
        .expect_code(0);
    assert_message!(w, "admin_registry_add_stderr", out.stderr);
    w.cli(&["refresh"]).expect_code(0);
    let (user, password) = w.docker_auth(&reg.login_server);
    let (admin_user, passwords) = w.fake.admin_credentials(&reg.name).unwrap();
    assert_eq!(user, admin_user);
    assert_eq!(password, passwords[0]);
    let settings = std::fs::read_to_string(w.home.path().join("config.toml")).unwrap();
    assert!(!settings.contains(&passwords[0]));

    // A regenerated password is picked up by the next refresh.
    w.fake.regenerate_admin_password(&reg.name, "password");
    w.cli(&["refresh"]).expect_code(0);
    let (_, new_password) = w.docker_auth(&reg.login_server);
    assert_eq!(
        new_password,
        w.fake.admin_credentials(&reg.name).unwrap().1[0]
    );
    assert_ne!(new_password, password);
}

#[test]
fn admin_disabled_or_not_allowed_is_explained() {
    let w = World::new();
    let sp = w.service_principal();
    let disabled = w.registry_as(RegistrySpec::new("adminoff1"), &sp.object_id, Role::Owner);
    let pull_only = w.registry_as(
        RegistrySpec::new("adminpull").admin_enabled(true),
        &sp.object_id,
        Role::AcrPull,
    );
    w.login(&sp).expect_code(0);
    let out = w.cli(&["registry", "add", &disabled.name, "--admin"]);
    assert_ne!(out.code, 0);
    assert_message!(w, "admin_disabled_registry_add_stderr", out.stderr);
    let out = w.cli(&["registry", "add", &pull_only.name, "--admin"]);
    assert_ne!(out.code, 0);
    assert_message!(
        w,
        "admin_not_allowed_registry_add_stderr",
        out.stderr,
        names_of(&sp)
    );
    assert_eq!(
        w.cli(&["registry", "list", "--json"]).expect_code(0).json(),
        serde_json::json!([])
    );
}

#[test]
fn typed_admin_password_goes_to_the_keyring() {
    let w = World::new();
    let (reg, user, passwords) = w.admin_registry("admintyped");
    let out = w
        .cli_stdin(
            &argv::strs(&argv::registry_add_admin(&reg.name, &user)),
            "wrong\n",
        )
        .expect_code(2);
    assert_message!(w, "wrong_admin_password_registry_add_stderr", out.stderr);
    w.cli_stdin(
        &argv::strs(&argv::registry_add_admin(&reg.name, &user)),
        &format!("{}\n", passwords[1]),
    )
    .expect_code(0);
    assert_eq!(
        w.secrets.keys(),
        vec![format!("admin-password/{}", reg.login_server)]
    );
    w.cli(&["refresh"]).expect_code(0);
    assert_eq!(
        w.docker_auth(&reg.login_server),
        (user, passwords[1].clone())
    );
    let list = w.cli(&["registry", "list"]).expect_code(0).stdout;
    assert_message!(w, "admin_registry_list_stdout", list);
    w.cli(&["registry", "remove", &reg.name]).expect_code(0);
    assert!(
        w.secrets.keys().is_empty(),
        "the password is forgotten with the registry"
    );
}
