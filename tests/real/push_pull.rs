//! skopeo pushes and pulls through distribution with nothing but the entry ACR Tray wrote.

use acr_tray_tests::real::RealRegistry;
use acr_tray_tests::real::clients::Clients;
use acr_tray_tests::real::oci::OciImage;
use acr_tray_tests::{World, ZERO_GUID};
use fake_azure::Role;
use serde_json::json;

use crate::common::{
    Seeded, basic_auth_config, ok, pulled_files, refresh_into_docker, says_denied,
};

#[test]
fn acr_push_identity_pushes_and_pulls_with_skopeo() {
    let (w, sp, reg) = crate::common::pusher("realpush");
    refresh_into_docker(&w, &sp, &reg);
    let (user, token) = w.docker_auth(&reg.login_server);
    assert_eq!(user, ZERO_GUID);

    let clients = Clients::new(&w);
    clients.add_host(&reg.login_server);
    let work = tempfile::tempdir().unwrap();
    let image = OciImage::build(&work.path().join("src"), "1", "hello.txt", b"hello, ACR\n");
    let remote = format!("docker://{}/hello/world:1", reg.login_server);
    let docker = w.home.docker_dir();

    ok(
        clients.skopeo_copy(docker, &image.reference(), &remote),
        &reg,
    );
    let inspect = ok(clients.skopeo_inspect(docker, &remote, false), &reg).json();
    assert_eq!(inspect["Digest"], image.manifest_digest.as_str());
    assert_eq!(inspect["Layers"], json!([image.layer_digest]));

    assert_eq!(
        pulled_files(&clients, docker, &remote, work.path(), &reg),
        vec![("hello.txt".to_owned(), b"hello, ACR\n".to_vec())]
    );

    // The fake minted the tokens; distribution, not the fake, stored the manifest.
    let log = w.fake.requests();
    assert!(
        log.iter()
            .any(|r| r.path == "/oauth2/token" && r.status == 200)
    );
    assert!(
        log.iter().any(|r| r.method == "PUT"
            && r.path == "/v2/hello/world/manifests/1"
            && r.status == 201),
        "{log:#?}"
    );
    assert!(reg.log_text().contains("hello/world"));

    // Distribution accepts the fake's `registry:catalog:*` claim too.
    let client = w.client();
    let catalog = w.rt.block_on(async {
        let base = format!("https://{}", reg.login_server);
        let token: serde_json::Value = client
            .get(format!("{base}/oauth2/token"))
            .query(&[
                ("service", &reg.login_server),
                ("scope", &"registry:catalog:*".to_owned()),
            ])
            .basic_auth(ZERO_GUID, Some(&token))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let response = client
            .get(format!("{base}/v2/_catalog"))
            .bearer_auth(token["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json::<serde_json::Value>().await.unwrap()
    });
    assert_eq!(catalog, json!({"repositories": ["hello/world"]}));

    // Without ACR Tray's entry, the same client is turned away.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("config.json"), "{}").unwrap();
    let anonymous = clients
        .skopeo_inspect(empty.path(), &remote, false)
        .expect_failure();
    assert!(says_denied(&anonymous), "{anonymous}");
}

#[test]
fn acr_pull_identity_pulls_but_cannot_push() {
    let seeded = Seeded::new("realpull");
    let (w, reg) = (&seeded.w, &seeded.reg);

    // The puller goes through ACR Tray.
    let sp = w.service_principal();
    w.fake.assign_role(reg.name(), &sp.object_id, Role::AcrPull);
    refresh_into_docker(w, &sp, reg);
    seeded.pulls_but_cannot_push();
}

#[test]
fn admin_mode_pulls_with_a_regenerated_password() {
    let w = World::new();
    let reg = RealRegistry::start(&w, "realadmin");
    w.fake.set_admin_enabled(reg.name(), true);
    let sp = w.service_principal();
    w.fake
        .assign_role(reg.name(), &sp.object_id, Role::Contributor);
    w.login(&sp).expect_code(0);
    w.cli(&["registry", "add", reg.name(), "--admin"])
        .expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
    let (user, old_password) = w.docker_auth(&reg.login_server);
    assert_eq!(user, reg.name());

    let clients = Clients::new(&w);
    clients.add_host(&reg.login_server);
    let work = tempfile::tempdir().unwrap();
    let remote = format!("docker://{}/admin/app:1", reg.login_server);
    let image = OciImage::build(&work.path().join("src"), "1", "app.txt", b"admin\n");
    let docker = w.home.docker_dir();
    ok(
        clients.skopeo_copy(docker, &image.reference(), &remote),
        &reg,
    );

    // Someone regenerates the password: the old one stops working at once.
    w.fake.regenerate_admin_password(reg.name(), "password");
    let old = basic_auth_config(&reg.login_server, &user, &old_password);
    let refused = clients
        .skopeo_inspect(old.path(), &remote, false)
        .expect_failure();
    assert!(says_denied(&refused), "{refused}");

    // One poll later Docker's config holds the new password, and the event says so.
    let out = w.cli(&["run", "--once", "--json"]).expect_code(0);
    let regenerated: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "admin-password-regenerated")
        .collect();
    assert_eq!(regenerated.len(), 1, "{}", out.stdout);
    assert_eq!(regenerated[0]["writtenToDocker"], true);
    let (_, new_password) = w.docker_auth(&reg.login_server);
    assert_ne!(new_password, old_password);
    assert_eq!(
        pulled_files(&clients, docker, &remote, work.path(), &reg),
        vec![("app.txt".to_owned(), b"admin\n".to_vec())]
    );
}
