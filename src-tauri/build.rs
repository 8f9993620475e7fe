//! Tauri's build step: embeds the configuration and generates the permissions of the app's
//! own commands (granted to the settings window in `capabilities/main.json`).

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(acr_tray_commands());
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        panic!("tauri build step failed: {e:#}");
    }
}

/// Every `#[tauri::command]` of `src/commands.rs`.
fn acr_tray_commands() -> &'static [&'static str] {
    &[
        "get_overview",
        "sign_in_user",
        "cancel_sign_in",
        "sign_in_service_principal",
        "sign_in_managed_identity",
        "sign_in_azure_cli",
        "sign_out",
        "add_registry",
        "remove_registry",
        "set_admin_account",
        "refresh_now",
        "discover_registries",
        "doctor",
        "doctor_fix",
        "set_general",
        "set_cloud",
        "open_logs",
    ]
}
