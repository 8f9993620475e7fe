//! A registry signed in with an ACR token (scope map): skopeo pulls with the token's name and
//! password that ACR Tray wrote, and distribution refuses its push.

use acr_tray_tests::real::RealRegistry;
use acr_tray_tests::real::clients::Clients;
use acr_tray_tests::{World, argv};

use crate::common::{ok, pulled_files, push_is_refused, seed_image};

#[test]
fn a_pull_only_scope_map_token_pulls_and_is_refused_a_push() {
    let w = World::new();
    let reg = RealRegistry::start(&w, "realtoken");
    let clients = Clients::new(&w);
    clients.add_host(&reg.login_server);
    let work = tempfile::tempdir().unwrap();
    let remote = |tag: &str| format!("docker://{}/team/app:{tag}", reg.login_server);
    let (seed, image) = seed_image(&w, &clients, &reg, work.path(), &remote("1"));

    w.fake.add_scope_map(
        reg.name(),
        "pull-team-app",
        &[
            "repositories/team/app/content/read",
            "repositories/team/app/metadata/read",
        ],
    );
    let token = w
        .fake
        .add_acr_token(reg.name(), "pull-token", "pull-team-app")
        .unwrap();
    w.cli_stdin(
        &argv::strs(&argv::registry_add_acr_token(
            reg.name(),
            "pull-token",
            None,
        )),
        &format!("{}\n", token.passwords[0]),
    )
    .expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
    assert_eq!(
        w.docker_auth(&reg.login_server),
        ("pull-token".to_owned(), token.passwords[0].clone())
    );
    let docker = w.home.docker_dir();

    let inspect = ok(clients.skopeo_inspect(docker, &remote("1"), false), &reg).json();
    assert_eq!(inspect["Digest"], image.manifest_digest.as_str());
    assert_eq!(
        pulled_files(&clients, docker, &remote("1"), work.path(), &reg),
        vec![("app.txt".to_owned(), b"v1\n".to_vec())]
    );
    push_is_refused(&clients, docker, seed.path(), &remote("2"), work.path());
}
