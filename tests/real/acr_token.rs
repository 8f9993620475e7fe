//! A registry signed in with an ACR token (scope map): skopeo pulls with the token's name and
//! password that ACR Tray wrote, and distribution refuses its push.

use acr_tray_tests::argv;

use crate::common::Seeded;

#[test]
fn a_pull_only_scope_map_token_pulls_and_is_refused_a_push() {
    let seeded = Seeded::new("realtoken");
    let (w, reg) = (&seeded.w, &seeded.reg);

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
    seeded.pulls_but_cannot_push();
}
