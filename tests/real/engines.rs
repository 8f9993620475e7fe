//! Container engines pull with what ACR Tray wrote: the Docker daemon (both through the
//! config.json entry, in each of its forms, and through `docker-credential-acr-tray`), podman
//! and buildah (which find Docker's config themselves). Harness: `tests/support/real/engines.rs`.

use acr_tray_tests::ZERO_GUID;
use acr_tray_tests::real::clients::Run;
use acr_tray_tests::real::engines::{ContainersStorage, DockerDaemon, Engine};
use fake_azure::Role;

use crate::common::Seeded;

/// `team/app:1` on the seeded registry, as engines name it.
fn image(s: &Seeded) -> String {
    format!("{}/team/app:1", s.reg.login_server)
}

/// A puller (AcrPull) signed in, its registry added and refreshed: Docker's config holds our
/// entry for the seeded registry.
fn pull_identity(s: &Seeded) {
    let sp = s.w.service_principal();
    s.w.fake
        .assign_role(s.reg.name(), &sp.object_id, Role::AcrPull);
    crate::common::refresh_into_docker(&s.w, &sp, &s.reg);
}

/// Panics with the command, the daemon's and the registry's logs unless it succeeded.
#[track_caller]
fn daemon_ok(run: Run, daemon: &DockerDaemon, s: &Seeded) -> Run {
    assert!(
        run.ok(),
        "{run}\n--- dockerd log ---\n{}\n--- distribution log ---\n{}",
        daemon.log_text(),
        s.reg.log_text()
    );
    run
}

/// The daemon pulls `team/app:1` with the credential the docker CLI finds in `s`'s Docker
/// config, and holds the seeded manifest; then forgets it again.
#[track_caller]
fn daemon_pulls(daemon: &DockerDaemon, s: &Seeded) {
    let (docker, image) = (s.w.home.docker_dir(), image(s));
    daemon_ok(
        daemon.docker(&s.clients, docker, &["pull", &image]),
        daemon,
        s,
    );
    let digests = daemon_ok(
        daemon.docker(
            &s.clients,
            docker,
            &[
                "image",
                "inspect",
                "--format",
                "{{json .RepoDigests}}",
                &image,
            ],
        ),
        daemon,
        s,
    )
    .json();
    let expected = format!("{}/team/app@{}", s.reg.login_server, s.manifest_digest());
    assert_eq!(digests, serde_json::json!([expected]));
    daemon_ok(
        daemon.docker(&s.clients, docker, &["rmi", &image]),
        daemon,
        s,
    );
}

#[test]
fn the_docker_daemon_pulls_with_the_config_json_entry_in_either_form() {
    let s = Seeded::new("realdockerd");
    pull_identity(&s);
    let daemon = DockerDaemon::start(&s.clients);
    // The default form: `auth` = base64(00000000-…:refresh token), sent by the daemon to the
    // token endpoint as Basic credentials.
    daemon_pulls(&daemon, &s);
    // The identity-token form (`identitytoken`, as `az acr login` writes): the daemon redeems it
    // with an OAuth refresh-token grant.
    s.w.edit_settings(|text| {
        text.replace(
            "entry_form = \"password\"",
            "entry_form = \"identity-token\"",
        )
    });
    s.w.cli(&["refresh"]).expect_code(0);
    let config = s.w.docker_config();
    let entry = &config["auths"][&s.reg.login_server];
    assert!(entry["identitytoken"].is_string(), "{entry}");
    // `auth` holds no password: the pull can only work through the identity token.
    let (user, password) = acr_tray_tests::config_auth(&config, &s.reg.login_server);
    assert_eq!(
        (user.as_str(), password.as_str()),
        (ZERO_GUID, ""),
        "{entry}"
    );
    daemon_pulls(&daemon, &s);
    // Without the entry the daemon is refused: the pull really used it.
    let mut config = s.w.docker_config();
    config["auths"]
        .as_object_mut()
        .unwrap()
        .remove(&s.reg.login_server);
    std::fs::write(s.w.home.docker_config_path(), config.to_string()).unwrap();
    let refused = daemon.docker(&s.clients, s.w.home.docker_dir(), &["pull", &image(&s)]);
    assert!(crate::common::says_denied(&refused), "{refused}");
}

#[test]
fn the_docker_daemon_pulls_through_docker_credential_acr_tray() {
    let mut s = Seeded::new("realdockerhelper");
    let sp = s.w.service_principal();
    s.w.fake
        .assign_role(s.reg.name(), &sp.object_id, Role::AcrPull);
    // The helper runs as its own process (started by the docker CLI), without the tests'
    // in-memory keyring: the secret lives in a user-only file.
    s.w.login_secret_in_home(&sp).expect_code(0);
    s.w.cli(&["registry", "add", s.reg.name()]).expect_code(0);
    s.w.cli(&["docker", "use-helper"]).expect_code(0);
    let config = s.w.docker_config();
    assert_eq!(config["credHelpers"][&s.reg.login_server], "acr-tray");
    assert_eq!(config["auths"][&s.reg.login_server], serde_json::json!({}));

    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_acr-tray-credential-helper"),
        s.clients.bin_dir().join("docker-credential-acr-tray"),
    )
    .unwrap();
    s.clients
        .set_env("ACR_TRAY_HOME", &s.w.home.path().display().to_string());
    // No session bus: the helper must not reach a developer's real keyring from a test.
    s.clients.set_env("DBUS_SESSION_BUS_ADDRESS", "disabled:");
    let daemon = DockerDaemon::start(&s.clients);
    s.w.fake.clear_requests();
    daemon_pulls(&daemon, &s);
    assert_eq!(
        s.w.exchange_count(),
        1,
        "the helper exchanged a token for the pull"
    );
    // Without the helper the docker CLI has no credential, and the daemon is refused.
    std::fs::remove_file(s.clients.bin_dir().join("docker-credential-acr-tray")).unwrap();
    let refused = daemon.docker(&s.clients, s.w.home.docker_dir(), &["pull", &image(&s)]);
    assert!(crate::common::says_denied(&refused), "{refused}");
}

#[test]
fn podman_and_buildah_pull_with_dockers_config() {
    let mut s = Seeded::new("realpodman");
    pull_identity(&s);
    // As on a developer's machine: they look for Docker's config themselves (no --authfile).
    s.clients.set_env(
        "DOCKER_CONFIG",
        &s.w.home.docker_dir().display().to_string(),
    );
    let store = ContainersStorage::new();
    for engine in [Engine::Podman, Engine::Buildah] {
        crate::common::ok(store.pull(&s.clients, engine, &image(&s)), &s.reg);
        let digest = crate::common::ok(store.digest(&s.clients, engine, &image(&s)), &s.reg);
        assert_eq!(digest.stdout.trim(), s.manifest_digest(), "{engine:?}");
        crate::common::ok(store.run(&s.clients, engine, &["rmi", &image(&s)]), &s.reg);
    }
    // With an empty Docker config they are refused: the pulls really used ours.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("config.json"), "{}").unwrap();
    s.clients
        .set_env("DOCKER_CONFIG", &empty.path().display().to_string());
    for engine in [Engine::Podman, Engine::Buildah] {
        let refused = store.pull(&s.clients, engine, &image(&s));
        assert!(
            crate::common::says_denied(&refused),
            "{engine:?}: {refused}"
        );
    }
}
