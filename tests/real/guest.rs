//! A guest's credential from one home sign-in, used by skopeo at a registry in the guest tenant.

use acr_tray_tests::World;
use acr_tray_tests::real::RealRegistry;
use acr_tray_tests::real::clients::Clients;
use fake_azure::{RegistrySpec, Role};

use crate::common::{pulled_files, push_hello};

/// A person signs in once at home; the registry lives in a tenant where they are a guest (found
/// by trying the account's tenants). skopeo pushes and pulls there with the entry ACR Tray
/// wrote, and distribution accepts the guest tenant's tokens.
#[test]
fn a_guests_credential_from_one_sign_in_pulls_in_the_guest_tenant() {
    let w = World::new();
    let user = w.device_code_user("guest@contoso.localhost", 0);
    let partner = w.fake.add_tenant();
    let guest = w.fake.add_guest(&user, &partner);
    let sub = w.fake.default_subscription(&partner);
    let reg = RealRegistry::start_as(&w, RegistrySpec::new("guestpull").subscription(sub.id));
    w.fake
        .assign_role(reg.name(), &guest.object_id, Role::AcrPush);
    w.cli(&["login", "--device-code"]).expect_code(0);
    w.cli(&["registry", "add", reg.name()]).expect_code(0);
    w.cli(&["refresh"]).expect_code(0);

    let clients = Clients::new(&w);
    clients.add_host(&reg.login_server);
    let work = tempfile::tempdir().unwrap();
    let remote = format!("docker://{}/partner/app:1", reg.login_server);
    let docker = w.home.docker_dir();
    push_hello(
        &clients,
        docker,
        &reg,
        work.path(),
        &remote,
        b"hello, guest\n",
    );
    assert_eq!(
        pulled_files(&clients, docker, &remote, work.path(), &reg),
        vec![("hello.txt".to_owned(), b"hello, guest\n".to_vec())]
    );
    // The registry's token server issued the tokens distribution took, and the tenant found
    // by the trial is remembered.
    let minted = w
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/oauth2/token" && r.status == 200)
        .count();
    assert!(minted > 0);
    assert!(
        w.settings_text()
            .contains(&format!("tenant = \"{}\"", partner.id))
    );
}
