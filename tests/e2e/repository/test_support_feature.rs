//! The engine's `test-support` feature (the recording notification sink) is for tests only:
//! the tests crate enables it, and neither the CLI nor the app does, so a build of either
//! (`cargo build --release -p acr-tray-cli`, the Tauri bundle) does not contain it.

use std::process::Command;

/// The engine's features in a build of `package` alone (its normal and build dependencies,
/// for this machine), as `cargo tree` lists them.
fn engine_features(package: &str) -> Vec<String> {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "--offline", "--manifest-path", manifest])
        .args(["--package", package, "--edges", "features,normal,build"])
        .args(["--invert", "acr-tray-engine", "--prefix", "none"])
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut features: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix("acr-tray-engine feature "))
        .map(|feature| feature.trim_matches('"').to_owned())
        .collect();
    features.sort();
    features.dedup();
    features
}

#[test]
fn only_the_tests_build_the_engine_with_its_test_sinks() {
    assert!(
        engine_features("acr-tray-tests").contains(&"test-support".to_owned()),
        "the tests use the engine's test sinks"
    );
    for product in ["acr-tray-cli", "acr-tray"] {
        assert_eq!(engine_features(product), ["default"], "{product}");
    }
}
