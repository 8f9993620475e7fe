//! What ACR Tray leaves on disk is the user's alone: `acr-tray-cli`, run as a process with a
//! fresh home (no `ACR_TRAY_HOME`, platform folders, Docker's default `~/.docker`) and the
//! usual umask, creates no file or folder another user could read.

use std::path::Path;
use std::process::Command;

use acr_tray_tests::{World, argv};
use fake_azure::Role;

const BIN: &str = env!("CARGO_BIN_EXE_acr-tray-cli-e2e");

/// Runs the CLI as a process in `home`, with nothing else of the environment but `PATH` (so no
/// keyring: tokens go to the user-only file, as on a server).
fn cli(home: &Path, args: &[&str], stdin: &str) -> String {
    let out = acr_tray_tests::run_process(
        Command::new(BIN)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home),
        stdin,
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "acr-tray-cli {args:?}:\n{text}");
    text
}

#[test]
fn a_fresh_tree_made_by_the_cli_is_private() {
    let w = World::new();
    let sp = w.service_principal();
    let reg = w.registry("privatefiles", &sp, Role::AcrPull);
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    std::fs::create_dir(&home).unwrap();
    cli(
        &home,
        &argv::strs(&argv::cloud_set_custom(&w.fake, true)),
        "",
    );
    let secret_file = home.join("sp-secret").display().to_string();
    cli(
        &home,
        &argv::strs(&argv::login_secret_file(&sp, &secret_file)),
        &sp.secret,
    );
    cli(&home, &["registry", "add", &reg.name], "");
    cli(&home, &["refresh"], "");
    cli(&home, &["run", "--once"], "");
    cli(&home, &["docker", "use-helper"], "");

    // What the commands above must have made: settings, state, the token file, logs,
    // engine.lock, Docker's config, its lock and a backup.
    acr_tray_tests::assert_private_tree(
        &home,
        &[
            "config.toml",
            "acr-tokens.json",
            "engine.lock",
            "acr-tray-cli.",
            ".docker/config.json",
            ".docker/.acr-tray.lock",
            ".docker/config.json.acr-tray-backup-",
        ],
    );
}
