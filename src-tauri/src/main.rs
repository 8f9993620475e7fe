//! The `acr-tray` binary: everything is in the library, so the mock-runtime tests can build
//! the same app.
// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // First, while the process has one thread (see its documentation).
    acr_tray_app::prepare_environment();
    std::process::exit(acr_tray_app::run());
}
