//! Tauri's build step: embeds the configuration and generates the permissions of the app's
//! own commands (granted to the settings window in `capabilities/main.json`).
//!
//! The settings UI (`ui/`) is embedded from `ui/dist`; on a clean checkout it is built here first
//! (`scripts/build-ui.sh`), so `cargo build -p acr-tray` works with cargo alone.

use std::path::Path;
use std::process::Command;

fn main() {
    build_ui_if_missing();
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        panic!("tauri build step failed: {e:#}");
    }
}

/// Builds the settings UI when `ui/dist` has no page yet (a clean checkout); otherwise the one
/// there is embedded, as `scripts/build-ui.sh` (run by `scripts/run.sh` and `scripts/test.sh`,
/// or by hand after changing `ui/`) left it.
fn build_ui_if_missing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let page = root.join("ui").join("dist").join("index.html");
    println!("cargo:rerun-if-changed={}", page.display());
    if page.is_file() {
        return;
    }
    let script = root.join("scripts").join("build-ui.sh");
    // Its output goes to stderr: cargo reads a build script's stdout as instructions.
    let built = Command::new("bash")
        .arg(&script)
        .stdout(std::io::stderr())
        .status();
    if !matches!(built, Ok(status) if status.success()) || !page.is_file() {
        let why = match built {
            Ok(status) => format!("it ended with {status}"),
            Err(e) => format!("it could not start: {e}"),
        };
        panic!(
            "the settings UI is not built (ui/dist/index.html is missing) and building it failed \
             ({why}): run scripts/build-ui.sh (it needs Node.js >= 18 and npm), then build again"
        );
    }
}

// `COMMANDS`: every command of `src/commands.rs`, listed once for the build and the app.
include!("src/command_names.rs");
