//! The real `docker login` / `docker logout` and ACR Tray share one config.json: each keeps
//! the other's entry, and both entries keep working.

use acr_tray_tests::World;
use acr_tray_tests::real::clients::Clients;
use acr_tray_tests::real::oci::OciImage;
use acr_tray_tests::real::{PlainRegistry, RealRegistry};
use fake_azure::Role;
use serde_json::Value;

use crate::common::{ok, refresh_into_docker};

fn entry(w: &World, key: &str) -> Value {
    w.docker_config()["auths"][key].clone()
}

#[test]
fn docker_login_and_logout_keep_our_entry_and_theirs() {
    let w = World::new();
    let plain = PlainRegistry::start("dockeruser", "dockerpass");
    let reg = RealRegistry::start(&w, "realdock");
    let sp = w.service_principal();
    w.fake.assign_role(reg.name(), &sp.object_id, Role::AcrPush);
    let clients = Clients::new(&w);
    clients.add_host(&reg.login_server);
    let dc = w.home.docker_dir();
    let login = || clients.docker_login(dc, &plain.address, &plain.user, &plain.password);
    let theirs = serde_json::json!({"auth": plain.auth()});

    // Docker first, then ACR Tray: docker's entry survives our write.
    let first = login().expect_ok();
    assert!(first.stdout.contains("Login Succeeded"), "{first}");
    assert_eq!(entry(&w, &plain.address), theirs);
    refresh_into_docker(&w, &sp, &reg);
    let ours = entry(&w, &reg.login_server);
    assert!(ours["auth"].is_string(), "{:#}", w.docker_config());
    assert_eq!(entry(&w, &plain.address), theirs);

    // docker logout removes only its own entry; docker login adds it back; ours is untouched.
    clients
        .docker(dc, &["logout", &plain.address], None)
        .expect_ok();
    assert!(entry(&w, &plain.address).is_null());
    assert_eq!(entry(&w, &reg.login_server), ours);
    login().expect_ok();
    assert_eq!(entry(&w, &plain.address), theirs);
    assert_eq!(entry(&w, &reg.login_server), ours);

    // Our entry still works after docker rewrote the file, for a real client.
    let work = tempfile::tempdir().unwrap();
    let image = OciImage::build(&work.path().join("img"), "1", "f.txt", b"shared file\n");
    let remote = format!("docker://{}/shared/img:1", reg.login_server);
    ok(clients.skopeo_copy(dc, &image.reference(), &remote), &reg);

    // ACR Tray writes a new token after docker's login: docker's entry stays.
    w.cli(&["refresh"]).expect_code(0);
    let renewed = entry(&w, &reg.login_server);
    assert_ne!(renewed, ours, "a new token was written");
    assert_eq!(entry(&w, &plain.address), theirs);
    ok(clients.skopeo_inspect(dc, &remote, false), &reg);

    // And a final docker logout leaves exactly our entry.
    clients
        .docker(dc, &["logout", &plain.address], None)
        .expect_ok();
    let auths = w.docker_config()["auths"].as_object().unwrap().clone();
    assert_eq!(auths.keys().collect::<Vec<_>>(), [&reg.login_server]);
    assert_eq!(auths[&reg.login_server], renewed);
}
